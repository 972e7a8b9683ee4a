/**
 * What a call costs: the `Pricing` service prices recorded token usage, by default from the maintained catalogue
 * of `@pydantic/genai-prices`, with custom prices and aliases taking precedence where the app provides them.
 *
 * Money is exact: every amount is a `bigint` of attodollars (1e-18 USD), the exact product of a token count and a
 * per-million-token price with up to 12 decimals, so sums never drift. It is converted to a JS number of USD
 * once, when it is recorded.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as catalogueData from "./internal/catalogue.js"
import * as internal from "./internal/pricing.js"

/**
 * `priced` from the catalogue, `custom` from the app's own prices, `free` when every price that applies is 0,
 * `no_usage` when the call reported no tokens, `unknown_model` when no price is known (never recorded as $0).
 *
 * Two say why a call with usage could not be priced, with the reason in the span's `botanu.tracking.warnings`:
 * `invalid_price` when the app's custom price (or alias) for the model is invalid (see `makeCustom`), and
 * `invalid_cost` when the pricing service threw or answered something that is not a cost (see `Cost`). Like
 * `unknown_model`, neither writes an amount or adds to any total: the call counts as unpriced.
 *
 * @since 0.1.0
 * @category models
 */
export type CostStatus = "priced" | "unknown_model" | "no_usage" | "custom" | "free" | "invalid_price" | "invalid_cost"

/**
 * Token usage as recorded on the span: `input` includes cache reads and writes, `reasoning` is part of `output`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PricedUsage {
  readonly input: number
  readonly output: number
  readonly cacheRead: number
  readonly cacheWrite: number
  readonly reasoning: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PriceRequest {
  /** Normalized (see `normalizeProvider`). */
  readonly provider: string
  /** The response model when known, else the request model. */
  readonly model: string
  readonly usage: PricedUsage
  /** When the call started, in epoch milliseconds: dated prices in force then apply. */
  readonly timestamp: number
}

/**
 * A call's cost in attodollars (1e-18 USD). `total = input + output`; `input` includes the cache reads and writes,
 * `output` includes the reasoning tokens; the breakdowns are parts of those, present where they apply. The amounts
 * are 0 for every status but `priced`, `custom` and `free`.
 *
 * A service of the app's own is held to that: a cost whose status is not a `CostStatus`, whose amounts are not
 * non-negative bigints, whose total is not `input + output` (or, for `free`, not 0), whose part is larger than its
 * whole, or whose total is above the most one call can cost under prices of at most $10,000 per million tokens
 * (about $2.7e14, every token count at its bound), is recorded as `invalid_cost`, with no amounts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cost {
  readonly status: CostStatus
  /** `"genai-prices@<version>"` for the catalogue, `"custom"` for the app's prices; absent when not priced. */
  readonly source: string | undefined
  readonly input: bigint
  readonly output: bigint
  readonly total: bigint
  readonly cacheRead: bigint | undefined
  readonly cacheWrite: bigint | undefined
  readonly reasoning: bigint | undefined
  /** Why the call is not priced, for `invalid_price` and `invalid_cost`: written to the span's warnings. */
  readonly reason?: string | undefined
}

/**
 * Prices in USD per million tokens, for custom prices: each a finite number from 0 to 10,000 ($0.01 a token, about
 * 16 times the dearest price in the catalogue), so that a unit slip or a garbage number is refused rather than
 * recorded (see `makeCustom`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelPrices {
  readonly inputPerMillion: number
  readonly outputPerMillion: number
  /** Defaults to the input price. */
  readonly cacheReadPerMillion?: number | undefined
  /** Defaults to the input price. */
  readonly cacheWritePerMillion?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CustomPrice {
  /** Any spelling; normalized. Omitted: the price applies to the model on every provider. */
  readonly provider?: string | undefined
  readonly model: string
  readonly prices: ModelPrices
}

/**
 * Prices `model` (on `provider`, when given) as another model: a deployment name priced as the model it runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface PriceAlias {
  readonly provider?: string | undefined
  readonly model: string
  readonly as: { readonly provider?: string | undefined; readonly model: string }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CustomOptions {
  readonly prices?: ReadonlyArray<CustomPrice> | undefined
  readonly aliases?: ReadonlyArray<PriceAlias> | undefined
}

/**
 * The pricing every tracked LLM call uses. Without a layer it is the catalogue (`catalogue`); provide
 * `layerCustom` to add your own prices and aliases in front of it.
 *
 * @since 0.1.0
 * @category tags
 */
export class Pricing extends Context.Reference<Pricing>()("@botanu/effect/Pricing", {
  defaultValue: (): Pricing.Service => internal.catalogue
}) {}

/**
 * @since 0.1.0
 */
export declare namespace Pricing {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** Never throws. Memoized per (provider, model): a repeated model costs a map lookup and some arithmetic. */
    readonly price: (request: PriceRequest) => Cost
  }
}

/**
 * The catalogue of `@pydantic/genai-prices`, bundled with the package (no network).
 *
 * @since 0.1.0
 * @category constructors
 */
export const catalogue: Pricing.Service = internal.catalogue

/**
 * Custom prices and aliases in front of `fallback` (the catalogue by default).
 *
 * Never throws, whatever the options hold (wrong types, throwing getters, Proxies). An entry whose `model` is not a
 * non-blank string (or whose `provider` is given and not a string) is ignored. An entry that names its model but
 * cannot be used — a price figure that is not a finite number from 0 to 10,000, `prices` or an alias's `as` that
 * is not a record — still claims its (provider, model): the calls to that model with usage get
 * `botanu.cost.status = invalid_price`, no amounts, and the reason in `botanu.tracking.warnings`, rather than a
 * catalogue price the app meant to override. `layerCustom` also logs each invalid entry when the layer is built.
 * Later entries for the same (provider, model) replace earlier ones, invalid or not.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeCustom: (options: CustomOptions, fallback?: Pricing.Service) => Pricing.Service = internal.makeCustom

/**
 * The `botanu.cost.pricing_source` of catalogue prices: the package and version of the bundled price data.
 *
 * @since 0.1.0
 * @category constants
 */
export const catalogueSource: string = catalogueData.catalogueSource

/**
 * The catalogue, explicitly (it is also what tracked calls use when no pricing is provided).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Pricing> = Layer.sync(Pricing, () => internal.catalogue)

/**
 * Custom prices and aliases in front of the catalogue (see `makeCustom`). Building the layer never fails: each
 * invalid entry is logged as a warning through Effect's logger, once (at most 32 lines and a count), and its
 * model's calls are `invalid_price`.
 *
 * @example
 * ```ts
 * import { Pricing } from "@botanu/effect"
 *
 * const PricingLive = Pricing.layerCustom({
 *   prices: [{ provider: "mylab", model: "mylab-7b", prices: { inputPerMillion: 0.2, outputPerMillion: 0.6 } }],
 *   aliases: [{ provider: "azure", model: "my-gpt4-deployment", as: { provider: "openai", model: "gpt-4o" } }]
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCustom = (options: CustomOptions): Layer.Layer<Pricing> =>
  Layer.effect(
    Pricing,
    Effect.suspend(() => {
      const { problems, service } = internal.buildCustom(options)
      return Effect.as(
        Effect.forEach(problems, (line) => Effect.logWarning(`botanu: Pricing.layerCustom: ${line}`), {
          discard: true
        }),
        service
      )
    })
  )

/**
 * USD as a JS number, from attodollars: the one place money becomes a float.
 *
 * @since 0.1.0
 * @category utils
 */
export const toUsd: (attodollars: bigint) => number = internal.toUsd
