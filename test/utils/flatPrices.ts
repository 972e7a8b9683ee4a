import { Layer } from "effect"
import { Pricing } from "../../src/index.js"

// $2.50 / $10.00 per million input / output tokens (no cache prices: cached input is input), so that each expected
// amount in a test is worked out by hand: 2.5e12 and 1e13 attodollars a token.

/** What `input` and `output` tokens cost at the flat prices, in attodollars. */
export const atto = (input: number, output: number) =>
  BigInt(input) * BigInt(2_500_000_000_000) + BigInt(output) * BigInt(10_000_000_000_000)

/** The flat prices for these OpenAI models. */
export const flatPrices = (models: ReadonlyArray<string>) =>
  Layer.succeed(
    Pricing.Pricing,
    Pricing.makeCustom({
      prices: models.map((model) => ({
        provider: "openai",
        model,
        prices: { inputPerMillion: 2.5, outputPerMillion: 10 }
      }))
    })
  )
