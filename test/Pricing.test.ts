import { assert, describe, it } from "@effect/vitest"
import type { ModelPrice, Usage } from "@pydantic/genai-prices"
import { calcPrice, findProvider } from "@pydantic/genai-prices"
import { Effect } from "effect"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import { catalogueProviderIds, catalogueSource } from "../src/internal/catalogue.js"
import { attoPerToken } from "../src/internal/money.js"
import type { Cost, PricedUsage } from "../src/Pricing.js"
import { catalogue, layerCustom, makeCustom, Pricing, toUsd } from "../src/Pricing.js"

// Amounts are attodollars (1e-18 USD). 1 USD per million tokens = 1e12 attodollars per token, so a price of
// $p/Mtok is p × 1e12 attodollars per token: $2.5/Mtok = 2_500_000_000_000 (2.5e12).

const source = catalogueSource

const usage = (counts: Partial<PricedUsage>): PricedUsage => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  ...counts
})

const julyFirst = Date.parse("2025-07-01T12:00:00Z")

const price = (
  provider: string,
  model: string,
  counts: Partial<PricedUsage>,
  timestamp = julyFirst,
  service = catalogue
): Cost => service.price({ provider, model, usage: usage(counts), timestamp })

// The prices the catalogue holds for a model at a time, read through the package itself, so that a catalogue update
// that changes a price this file assumes fails here, clearly, before the arithmetic below does.
const cataloguePrices = (providerId: string, model: string, timestamp = julyFirst): ModelPrice => {
  const found = calcPrice({}, model, { providerId, timestamp: new Date(timestamp) })
  assert.isNotNull(found, `${providerId}/${model} is in the catalogue`)
  return found!.model_price
}

// The catalogue's own (float) price for the same usage: our exact amounts must agree with its semantics.
const catalogueUsd = (
  providerId: string,
  model: string,
  counts: Partial<PricedUsage>,
  timestamp = julyFirst
): number => {
  const { cacheRead = 0, cacheWrite = 0, input = 0, output = 0, reasoning = 0 } = counts
  const catalogueUsage: Usage = {
    input_tokens: input,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    output_tokens: output,
    output_reasoning_tokens: reasoning
  }
  return calcPrice(catalogueUsage, model, { providerId, timestamp: new Date(timestamp) })!.total_price
}

const assertAgreesWithCatalogue = (cost: Cost, expectedUsd: number) =>
  assert.closeTo(toUsd(cost.total), expectedUsd, expectedUsd * 1e-12)

describe("catalogue", () => {
  it("OpenAI gpt-4o with cached input: input includes the cache, cache reads at their own rate", () => {
    assert.deepInclude(cataloguePrices("openai", "gpt-4o"), { input_mtok: 2.5, cache_read_mtok: 1.25, output_mtok: 10 })
    // usage.prompt_tokens 1000, of which prompt_tokens_details.cached_tokens 800; completion_tokens 12.
    const counts = { input: 1000, cacheRead: 800, output: 12 }
    const cost = price("openai", "gpt-4o-2024-08-06", counts)
    // uncached: (1000 - 800) × 2.5e12 = 200 × 2_500_000_000_000 =   500_000_000_000_000
    // cache:           800 × 1.25e12 = 800 × 1_250_000_000_000 = 1_000_000_000_000_000
    // input:                                                      1_500_000_000_000_000  ($0.0015)
    // output:           12 × 1e13    =  12 × 10_000_000_000_000 =   120_000_000_000_000  ($0.00012)
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 1_500_000_000_000_000n,
      output: 120_000_000_000_000n,
      total: 1_620_000_000_000_000n,
      cacheRead: 1_000_000_000_000_000n,
      cacheWrite: undefined,
      reasoning: undefined
    })
    assert.strictEqual(toUsd(cost.total), 0.00162)
    assertAgreesWithCatalogue(cost, catalogueUsd("openai", "gpt-4o", counts))
  })

  it("Anthropic claude with a cache read and a 5-minute cache write, input reported without the cache", () => {
    assert.deepInclude(cataloguePrices("anthropic", "claude-sonnet-4-20250514"), {
      input_mtok: 3,
      cache_read_mtok: 0.3,
      cache_write_mtok: 3.75,
      output_mtok: 15
    })
    // Anthropic's input_tokens 200, cache_read_input_tokens 800, cache_creation_input_tokens 100, output_tokens 50:
    // tracking records input = 200 + 800 + 100 = 1100.
    const counts = { input: 1100, cacheRead: 800, cacheWrite: 100, output: 50 }
    const cost = price("anthropic", "claude-sonnet-4-20250514", counts)
    // uncached: 200 × 3e12    = 200 × 3_000_000_000_000 = 600_000_000_000_000
    // read:     800 × 0.3e12  = 800 ×   300_000_000_000 = 240_000_000_000_000
    // write:    100 × 3.75e12 = 100 × 3_750_000_000_000 = 375_000_000_000_000
    // input:                                         1_215_000_000_000_000  ($0.001215)
    // output:    50 × 15e12   =  50 × 15_000_000_000_000 = 750_000_000_000_000 ($0.00075)
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 1_215_000_000_000_000n,
      output: 750_000_000_000_000n,
      total: 1_965_000_000_000_000n,
      cacheRead: 240_000_000_000_000n,
      cacheWrite: 375_000_000_000_000n,
      reasoning: undefined
    })
    assertAgreesWithCatalogue(cost, catalogueUsd("anthropic", "claude-sonnet-4-20250514", counts))
  })

  it("Gemini with thinking tokens: reasoning is part of output, priced once", () => {
    assert.deepInclude(cataloguePrices("google", "gemini-2.5-flash"), { input_mtok: 0.3, output_mtok: 2.5 })
    // promptTokenCount 1200; candidatesTokenCount 300 + thoughtsTokenCount 700 = output 1000, of which 700 reasoning.
    const counts = { input: 1200, output: 1000, reasoning: 700 }
    const cost = price("gcp.vertex_ai", "gemini-2.5-flash", counts)
    // input:     1200 × 0.3e12 = 1200 ×   300_000_000_000 =   360_000_000_000_000
    // output:    1000 × 2.5e12 = 1000 × 2_500_000_000_000 = 2_500_000_000_000_000
    // reasoning:  700 × 2.5e12 =  700 × 2_500_000_000_000 = 1_750_000_000_000_000 (inside output, not added)
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 360_000_000_000_000n,
      output: 2_500_000_000_000_000n,
      total: 2_860_000_000_000_000n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: 1_750_000_000_000_000n
    })
    assert.strictEqual(cost.total, cost.input + cost.output)
    assertAgreesWithCatalogue(cost, catalogueUsd("google", "gemini-2.5-flash", { input: 1200, output: 1000 }))
  })

  it("reasoning at its own rate where the catalogue has one (Perplexity sonar-deep-research)", () => {
    assert.deepInclude(cataloguePrices("perplexity", "sonar-deep-research"), {
      input_mtok: 2,
      output_mtok: 8,
      output_reasoning_mtok: 3
    })
    const counts = { input: 100, output: 1000, reasoning: 600 }
    const cost = price("perplexity", "sonar-deep-research", counts)
    // input:      100 × 2e12 = 200_000_000_000_000
    // reasoning:  600 × 3e12 = 1_800_000_000_000_000
    // output: (1000 - 600) × 8e12 + reasoning = 3_200_000_000_000_000 + 1_800_000_000_000_000 = 5_000_000_000_000_000
    assert.deepInclude(cost, {
      status: "priced",
      input: 200_000_000_000_000n,
      output: 5_000_000_000_000_000n,
      total: 5_200_000_000_000_000n,
      reasoning: 1_800_000_000_000_000n
    })
    assertAgreesWithCatalogue(cost, catalogueUsd("perplexity", "sonar-deep-research", counts))
  })

  describe("long-context tier (gemini-2.5-pro, tiers from 200,000 input tokens)", () => {
    const tiers = {
      input_mtok: { base: 1.25, tiers: [{ start: 200_000, price: 2.5 }] },
      cache_read_mtok: { base: 0.125, tiers: [{ start: 200_000, price: 0.25 }] },
      output_mtok: { base: 10, tiers: [{ start: 200_000, price: 15 }] }
    }

    it("the catalogue holds the tiers assumed here", () => {
      assert.deepInclude(cataloguePrices("google", "gemini-2.5-pro"), tiers)
    })

    it("at the threshold (200,000 input, cache included): base prices", () => {
      const counts = { input: 200_000, cacheRead: 50_000, output: 1_000 }
      const cost = price("gcp.vertex_ai", "gemini-2.5-pro", counts)
      // uncached: 150_000 × 1.25e12  = 150_000 × 1_250_000_000_000 = 187_500_000_000_000_000
      // read:      50_000 × 0.125e12 =  50_000 ×   125_000_000_000 =   6_250_000_000_000_000
      // input:                                                       193_750_000_000_000_000
      // output:     1_000 × 10e12    =   1_000 × 10_000_000_000_000 =  10_000_000_000_000_000
      assert.deepInclude(cost, {
        status: "priced",
        input: 193_750_000_000_000_000n,
        output: 10_000_000_000_000_000n,
        total: 203_750_000_000_000_000n,
        cacheRead: 6_250_000_000_000_000n
      })
      assertAgreesWithCatalogue(cost, catalogueUsd("google", "gemini-2.5-pro", counts))
    })

    it("one token past it: the tier reprices the whole request, cache and output included", () => {
      const counts = { input: 200_001, cacheRead: 50_000, output: 1_000 }
      const cost = price("gcp.vertex_ai", "gemini-2.5-pro", counts)
      // uncached: 150_001 × 2.5e12  = 150_001 × 2_500_000_000_000 = 375_002_500_000_000_000
      // read:      50_000 × 0.25e12 =  50_000 ×   250_000_000_000 =  12_500_000_000_000_000
      // input:                                                      387_502_500_000_000_000
      // output:     1_000 × 15e12   =   1_000 × 15_000_000_000_000 = 15_000_000_000_000_000
      assert.deepInclude(cost, {
        status: "priced",
        input: 387_502_500_000_000_000n,
        output: 15_000_000_000_000_000n,
        total: 402_502_500_000_000_000n,
        cacheRead: 12_500_000_000_000_000n
      })
      assertAgreesWithCatalogue(cost, catalogueUsd("google", "gemini-2.5-pro", counts))
    })
  })

  describe("dated prices", () => {
    const justBefore = Date.parse("2025-06-09T23:59:59.999Z")
    const from = Date.parse("2025-06-10T00:00:00.000Z")

    it("OpenAI o3 before and from its 2025-06-10 price cut", () => {
      assert.deepInclude(cataloguePrices("openai", "o3", justBefore), { input_mtok: 10, output_mtok: 40 })
      assert.deepInclude(cataloguePrices("openai", "o3", from), { input_mtok: 2, output_mtok: 8 })
      const counts = { input: 1000, output: 100 }
      // before: 1000 × 10e12 = 10_000_000_000_000_000; 100 × 40e12 = 4_000_000_000_000_000
      assert.deepInclude(price("openai", "o3", counts, justBefore), {
        input: 10_000_000_000_000_000n,
        output: 4_000_000_000_000_000n,
        total: 14_000_000_000_000_000n
      })
      // from:   1000 × 2e12  =  2_000_000_000_000_000; 100 × 8e12  =   800_000_000_000_000
      assert.deepInclude(price("openai", "o3", counts, from), {
        input: 2_000_000_000_000_000n,
        output: 800_000_000_000_000n,
        total: 2_800_000_000_000_000n
      })
    })

    it("a tier that a later price list drops (claude-opus-4-6 from 2026-03-13)", () => {
      const before = Date.parse("2026-03-12T12:00:00Z")
      const after = Date.parse("2026-03-13T12:00:00Z")
      assert.deepInclude(cataloguePrices("anthropic", "claude-opus-4-6", before), {
        input_mtok: { base: 5, tiers: [{ start: 200_000, price: 10 }] }
      })
      assert.deepInclude(cataloguePrices("anthropic", "claude-opus-4-6", after), { input_mtok: 5 })
      // 300_000 input tokens: past the tier before (10e12 a token), flat after (5e12 a token).
      // before: 300_000 × 10_000_000_000_000 = 3_000_000_000_000_000_000 ($3)
      // after:  300_000 ×  5_000_000_000_000 = 1_500_000_000_000_000_000 ($1.5)
      assert.strictEqual(price("anthropic", "claude-opus-4-6", { input: 300_000 }, before).total, 3n * 10n ** 18n)
      assert.strictEqual(price("anthropic", "claude-opus-4-6", { input: 300_000 }, after).total, 15n * 10n ** 17n)
    })

    it("time of day in UTC: DeepSeek standard hours 00:30-16:30, off-peak otherwise", () => {
      const at = (time: string) => Date.parse(`2025-07-01T${time}Z`)
      assert.deepInclude(cataloguePrices("deepseek", "deepseek-chat", at("12:00:00")), {
        input_mtok: 0.27,
        cache_read_mtok: 0.07,
        output_mtok: 1.1
      })
      assert.deepInclude(cataloguePrices("deepseek", "deepseek-chat", at("20:00:00")), {
        input_mtok: 0.135,
        cache_read_mtok: 0.035,
        output_mtok: 0.55
      })
      const counts = { input: 10_000, cacheRead: 4_000, output: 1_000 }
      // standard: 6_000 × 0.27e12 + 4_000 × 0.07e12 + 1_000 × 1.1e12
      //         = 1_620_000_000_000_000 + 280_000_000_000_000 + 1_100_000_000_000_000 = 3_000_000_000_000_000
      // off-peak: 6_000 × 0.135e12 + 4_000 × 0.035e12 + 1_000 × 0.55e12
      //         =   810_000_000_000_000 + 140_000_000_000_000 +   550_000_000_000_000 = 1_500_000_000_000_000
      const standard = 3_000_000_000_000_000n
      const offPeak = 1_500_000_000_000_000n
      assert.strictEqual(price("deepseek", "deepseek-chat", counts, at("12:00:00")).total, standard)
      assert.strictEqual(price("deepseek", "deepseek-chat", counts, at("00:30:00")).total, standard)
      assert.strictEqual(price("deepseek", "deepseek-chat", counts, at("16:29:59.999")).total, standard)
      assert.strictEqual(price("deepseek", "deepseek-chat", counts, at("16:30:00")).total, offPeak)
      assert.strictEqual(price("deepseek", "deepseek-chat", counts, at("20:00:00")).total, offPeak)
      assert.strictEqual(price("deepseek", "deepseek-chat", counts, at("00:29:59")).total, offPeak)
    })
  })

  it("an unknown model: unknown_model, zero amounts, no source (never $0 as if priced)", () => {
    assert.deepStrictEqual(price("openai", "gpt-does-not-exist-9", { input: 10, output: 5 }), {
      status: "unknown_model",
      source: undefined,
      input: 0n,
      output: 0n,
      total: 0n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: undefined
    })
    assert.strictEqual(price("openai", "gpt-does-not-exist-9", {}).status, "no_usage")
    assert.strictEqual(price("openai", "gpt-does-not-exist-9", {}).source, undefined)
  })

  it("no usage: no_usage with zero amounts; the source is kept for a known model", () => {
    assert.deepStrictEqual(price("openai", "gpt-4o", {}), {
      status: "no_usage",
      source,
      input: 0n,
      output: 0n,
      total: 0n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: undefined
    })
  })

  it("a free model (every price 0): free", () => {
    // OpenAI's moderation models have no price at all in the catalogue.
    assert.deepStrictEqual(cataloguePrices("openai", "omni-moderation-latest"), {})
    assert.deepInclude(price("openai", "omni-moderation-latest", { input: 500 }), {
      status: "free",
      source,
      input: 0n,
      output: 0n,
      total: 0n
    })
  })

  it("maps our providers to catalogue ids that exist", () => {
    for (const [ours, id] of catalogueProviderIds) {
      assert.strictEqual(findProvider({ providerId: id })?.id, id, `${ours} -> ${id}`)
    }
    // azure.openai is priced from the azure provider, not openai (which the catalogue's own matching would pick).
    assert.strictEqual(findProvider({ providerId: "azure.openai" })?.id, "openai")
    assert.strictEqual(price("azure.openai", "gpt-4o", { input: 1 }).status, "priced")
    assert.strictEqual(price("aws.bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", { input: 1 }).status, "priced")
    assert.strictEqual(price("x_ai", "grok-3", { input: 1 }).status, "priced")
  })

  it("an unknown provider, or a model not under its provider: the catalogue infers the provider from the model", () => {
    // claude-3-5-sonnet: $3/Mtok input → 1000 × 3e12 = 3_000_000_000_000_000
    assert.deepInclude(cataloguePrices("anthropic", "claude-3-5-sonnet-20241022"), { input_mtok: 3 })
    assert.strictEqual(price("mylab-proxy", "claude-3-5-sonnet-20241022", { input: 1000 }).total, 3n * 10n ** 15n)
    assert.strictEqual(price("unknown", "claude-3-5-sonnet-20241022", { input: 1000 }).total, 3n * 10n ** 15n)
    assert.strictEqual(price("openai", "claude-3-5-sonnet-20241022", { input: 1000 }).total, 3n * 10n ** 15n)
  })

  it("a local provider is not priced as a cloud API by inference", () => {
    assert.isNotNull(calcPrice({}, "deepseek-r1:7b"), "the catalogue alone would infer deepseek")
    assert.strictEqual(price("ollama", "deepseek-r1:7b", { input: 1000 }).status, "unknown_model")
  })

  it("names its source with the installed catalogue's version", () => {
    const require = createRequire(import.meta.url)
    const packageJson = Fs.readFileSync(
      require.resolve("@pydantic/genai-prices").replace(/dist\/index\.cjs$/, "package.json"),
      "utf8"
    )
    assert.strictEqual(source, `genai-prices@${JSON.parse(packageJson).version}`)
  })

  it("is memoized but answers the same for every call, at any time", () => {
    const first = price("openai", "o3", { input: 1000 }, Date.parse("2025-01-01T00:00:00Z"))
    const later = price("openai", "o3", { input: 1000 }, Date.parse("2025-07-01T00:00:00Z"))
    assert.deepStrictEqual(price("openai", "o3", { input: 1000 }, Date.parse("2025-01-01T00:00:00Z")), first)
    assert.notStrictEqual(first.total, later.total)
  })
})

describe("bad usage", () => {
  it("non-finite, negative and non-number counts are 0; fractions are rounded; nothing throws", () => {
    const bad = (value: unknown): number => value as number
    // 3 input tokens of gpt-4o: 3 × 2.5e12 = 7_500_000_000_000
    assert.deepInclude(
      price("openai", "gpt-4o", {
        input: 2.6,
        output: Number.NaN,
        cacheRead: -5,
        cacheWrite: Number.POSITIVE_INFINITY,
        reasoning: bad("12")
      }),
      { status: "priced", input: 7_500_000_000_000n, output: 0n, total: 7_500_000_000_000n }
    )
    const hostile = (request: unknown) => catalogue.price(request as never)
    assert.strictEqual(
      hostile({ provider: "openai", model: "gpt-4o", usage: null, timestamp: 0 }).status,
      "unknown_model"
    )
    assert.strictEqual(hostile({ provider: 1, model: {}, usage: usage({ input: 1 }) }).status, "unknown_model")
    assert.strictEqual(hostile(undefined).status, "unknown_model")
  })

  it("cache larger than the input that includes it: the cache is still priced, uncached input is 0", () => {
    // 100 input reported, 300 cache reads: read as 300 input, all of it cached: 300 × 1.25e12 = 375_000_000_000_000
    assert.deepInclude(price("openai", "gpt-4o", { input: 100, cacheRead: 300 }), {
      input: 375_000_000_000_000n,
      cacheRead: 375_000_000_000_000n
    })
  })
})

describe("custom prices", () => {
  const custom = makeCustom({
    prices: [
      {
        provider: "MyLab",
        model: "house-model-v1",
        prices: { inputPerMillion: 0.4, outputPerMillion: 1.6, cacheReadPerMillion: 0.1 }
      },
      { provider: "openai", model: "gpt-4o", prices: { inputPerMillion: 2, outputPerMillion: 8 } },
      { model: "zero-model", prices: { inputPerMillion: 0, outputPerMillion: 0 } }
    ],
    aliases: [
      { provider: "azure", model: "my-gpt4-deployment", as: { model: "gpt-4o" } },
      { model: "house-latest", as: { provider: "mylab", model: "house-model-v1" } },
      { model: "loop-a", as: { model: "loop-b" } },
      { model: "loop-b", as: { model: "loop-a" } }
    ]
  })

  it("a model priced by the app: custom, cache write defaulting to the input price", () => {
    const cost = price(
      "mylab",
      "house-model-v1",
      { input: 2000, cacheRead: 500, cacheWrite: 100, output: 300 },
      0,
      custom
    )
    // uncached: 1400 × 0.4e12 = 560_000_000_000_000
    // read:      500 × 0.1e12 =  50_000_000_000_000
    // write:     100 × 0.4e12 =  40_000_000_000_000 (the input price: no cache write price given)
    // input:                    650_000_000_000_000
    // output:    300 × 1.6e12 = 480_000_000_000_000
    assert.deepStrictEqual(cost, {
      status: "custom",
      source: "custom",
      input: 650_000_000_000_000n,
      output: 480_000_000_000_000n,
      total: 1_130_000_000_000_000n,
      cacheRead: 50_000_000_000_000n,
      cacheWrite: 40_000_000_000_000n,
      reasoning: undefined
    })
  })

  it("custom prices take precedence over the catalogue, on their provider only", () => {
    // negotiated gpt-4o on openai: 1000 × 2e12 = 2_000_000_000_000_000
    assert.deepInclude(price("openai", "gpt-4o", { input: 1000 }, julyFirst, custom), {
      status: "custom",
      total: 2_000_000_000_000_000n
    })
    // on azure the catalogue's: 1000 × 2.5e12 = 2_500_000_000_000_000
    assert.deepInclude(price("azure.openai", "gpt-4o", { input: 1000 }, julyFirst, custom), {
      status: "priced",
      source,
      total: 2_500_000_000_000_000n
    })
    assert.strictEqual(price("openai", "Zero-Model", { input: 1000 }, julyFirst, custom).status, "free")
  })

  it("an alias to a catalogue model is priced by the catalogue", () => {
    assert.deepInclude(cataloguePrices("azure", "gpt-4o"), { input_mtok: 2.5, output_mtok: 10 })
    // 1000 × 2.5e12 + 100 × 10e12 = 2_500_000_000_000_000 + 1_000_000_000_000_000
    assert.deepInclude(price("azure.openai", "my-gpt4-deployment", { input: 1000, output: 100 }, julyFirst, custom), {
      status: "priced",
      source,
      total: 3_500_000_000_000_000n
    })
    // The alias is for azure only.
    assert.strictEqual(price("openai", "my-gpt4-deployment", { input: 1 }, julyFirst, custom).status, "unknown_model")
  })

  it("an alias to a custom model is priced by the custom price", () => {
    // 1000 × 0.4e12 = 400_000_000_000_000
    assert.deepInclude(price("anything", "house-latest", { input: 1000 }, julyFirst, custom), {
      status: "custom",
      total: 400_000_000_000_000n
    })
  })

  it("aliases that loop are unknown, not an endless loop", () => {
    assert.strictEqual(price("openai", "loop-a", { input: 1 }, julyFirst, custom).status, "unknown_model")
  })

  it("an invalid custom price never throws: its model's calls are invalid_price, with the reason", () => {
    const invalid = makeCustom({ prices: [{ model: "m", prices: { inputPerMillion: -1, outputPerMillion: 1 } }] })
    assert.deepStrictEqual(price("p", "m", { input: 1 }, 0, invalid), {
      status: "invalid_price",
      source: "custom",
      input: 0n,
      output: 0n,
      total: 0n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: undefined,
      reason: "the custom price is invalid: inputPerMillion: -1 is negative (USD per million tokens, from 0 to 10000)"
    })
  })

  it.effect("is the Pricing service when provided; the catalogue when not", () =>
    Effect.gen(function*() {
      const request = { provider: "mylab", model: "house-model-v1", usage: usage({ input: 1 }), timestamp: 0 }
      assert.strictEqual((yield* Pricing).price(request).status, "unknown_model")
      const provided = yield* Effect.provideService(Pricing, custom)(Pricing)
      assert.strictEqual(provided.price(request).status, "custom")
      const layered = yield* Effect.provide(
        Pricing,
        layerCustom({ aliases: [{ model: "house-model-v1", as: { model: "gpt-4o" } }] })
      )
      assert.strictEqual(layered.price(request).status, "priced")
    }))
})

describe("money", () => {
  it("is exact: a million calls of 10 tokens at $0.02/Mtok sum to exactly $0.2", () => {
    assert.deepInclude(cataloguePrices("openai", "text-embedding-3-small"), { input_mtok: 0.02 })
    // 10 × 0.02e12 = 10 × 20_000_000_000 = 200_000_000_000 attodollars ($0.0000002) a call
    let sum = 0n
    for (let i = 0; i < 1_000_000; i++) sum += price("openai", "text-embedding-3-small", { input: 10 }).total
    // 1_000_000 × 200_000_000_000 = 200_000_000_000_000_000 = 0.2 × 1e18
    assert.strictEqual(sum, 200_000_000_000_000_000n)
    assert.strictEqual(toUsd(sum), 0.2)
  })

  it("reads prices from their decimal digits, not as float products", () => {
    // $0.0375/Mtok = 0.0375 × 1e12 = 37_500_000_000 attodollars (37.5 nano-dollars) a token
    assert.strictEqual(attoPerToken(0.0375), 37_500_000_000n)
    const oneToken = makeCustom({ prices: [{ model: "m", prices: { inputPerMillion: 0.0375, outputPerMillion: 0 } }] })
    assert.strictEqual(price("p", "m", { input: 1 }, 0, oneToken).total, 37_500_000_000n)
    // exponent forms: 1.1e-7 × 1e12 = 110_000
    assert.strictEqual(String(1.1e-7), "1.1e-7")
    assert.strictEqual(attoPerToken(1.1e-7), 110_000n)
    assert.strictEqual(attoPerToken(1e21), 10n ** 33n)
    // a float artefact in the catalogue rounds to the nearest attodollar a token
    assert.strictEqual(attoPerToken(0.18000000000000002), 180_000_000_000n)
    assert.strictEqual(attoPerToken(0.08333333333333334), 83_333_333_333n)
    assert.strictEqual(attoPerToken(-1), undefined)
    assert.strictEqual(attoPerToken(Number.NaN), undefined)
  })
})
