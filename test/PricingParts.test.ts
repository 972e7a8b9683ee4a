/**
 * Everything the provider bills (issue 17): 1-hour cache writes, audio and image tokens (input, cached input,
 * output), per-request and web-search fees, service tiers, and calls billed in iterations on more than one model.
 *
 * Amounts are attodollars (1e-18 USD): $p per million tokens is p × 1e12 attodollars a token, $f per thousand
 * requests or searches is f × 1e15 attodollars each. Every expected amount is worked out by hand from the catalogue's
 * rates (read through the package itself first, so that a catalogue update that changes a rate fails clearly), and
 * checked against the catalogue's own `calcPrice`.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import type { ModelInfo, ModelPrice, Provider, Usage } from "@pydantic/genai-prices"
import { calcPrice, findProvider } from "@pydantic/genai-prices"
import { Effect, Layer } from "effect"
import { LlmTracker, Pricing, TrackingTest, trackLlmCall } from "../src/index.js"
import { catalogueSource } from "../src/internal/catalogue.js"
import { buildCustom, recordable } from "../src/internal/pricing.js"
import type { Cost, PricedUsage } from "../src/Pricing.js"
import { catalogue, makeCustom, toUsd } from "../src/Pricing.js"
import { uniqueName } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const source = catalogueSource

const julyFirst = Date.parse("2025-07-01T12:00:00Z")

const usage = (counts: Partial<PricedUsage>): PricedUsage => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  ...counts
})

const price = (
  provider: string,
  model: string,
  counts: Partial<PricedUsage>,
  service: Pricing.Pricing.Service = catalogue,
  timestamp = julyFirst
): Cost => service.price({ provider, model, usage: usage(counts), timestamp })

const cataloguePrices = (providerId: string, model: string, timestamp = julyFirst): ModelPrice => {
  const found = calcPrice({}, model, { providerId, timestamp: new Date(timestamp) })
  assert.isNotNull(found, `${providerId}/${model} is in the catalogue`)
  return found!.model_price
}

/** The catalogue's own usage keys for ours. */
const theirUsage = (counts: Partial<PricedUsage>): Usage => {
  const u = usage(counts)
  return {
    input_tokens: u.input,
    cache_read_tokens: u.cacheRead,
    cache_write_tokens: u.cacheWrite,
    cache_write_1h_tokens: u.cacheWrite1h ?? 0,
    input_audio_tokens: u.inputAudio ?? 0,
    cache_audio_read_tokens: u.cacheReadAudio ?? 0,
    input_image_tokens: u.inputImage ?? 0,
    cache_image_read_tokens: u.cacheReadImage ?? 0,
    output_tokens: u.output,
    output_reasoning_tokens: u.reasoning,
    output_audio_tokens: u.outputAudio ?? 0,
    output_image_tokens: u.outputImage ?? 0,
    web_searches: u.webSearches ?? 0
  }
}

/** Our exact amounts agree with the catalogue's own (floating-point) `calcPrice`, part by part. */
const assertAgreesWithCatalogue = (cost: Cost, providerId: string, model: string, counts: Partial<PricedUsage>) => {
  const theirs = calcPrice(theirUsage(counts), model, { providerId, timestamp: new Date(julyFirst) })!
  assert.closeTo(toUsd(cost.input), theirs.input_price, theirs.input_price * 1e-12, "input")
  assert.closeTo(toUsd(cost.output), theirs.output_price, theirs.output_price * 1e-12, "output")
  assert.closeTo(toUsd(cost.total), theirs.total_price, theirs.total_price * 1e-12, "total")
}

describe("every unit the catalogue prices", () => {
  it("Anthropic 1-hour cache writes at cache_write_1h_mtok, 5-minute writes at cache_write_mtok (claude-sonnet-4)", () => {
    assert.deepInclude(cataloguePrices("anthropic", "claude-sonnet-4-20250514"), {
      input_mtok: 3,
      cache_read_mtok: 0.3,
      cache_write_mtok: 3.75,
      cache_write_1h_mtok: 6,
      output_mtok: 15
    })
    // input_tokens 200, cache_read_input_tokens 800, cache_creation_input_tokens 1000 of which
    // cache_creation.ephemeral_1h_input_tokens 600, output_tokens 50: input recorded as 200 + 800 + 1000 = 2000.
    const counts = { input: 2000, cacheRead: 800, cacheWrite: 1000, cacheWrite1h: 600, output: 50 }
    const cost = price("anthropic", "claude-sonnet-4-20250514", counts)
    // uncached:    200 × 3e12    =   600_000_000_000_000
    // read:        800 × 0.3e12  =   240_000_000_000_000
    // 5-min write: 400 × 3.75e12 = 1_500_000_000_000_000
    // 1-h write:   600 × 6e12    = 3_600_000_000_000_000 (at the 5-minute rate it would be 2_250_000_000_000_000)
    // cache writes: 1_500_000_000_000_000 + 3_600_000_000_000_000 = 5_100_000_000_000_000
    // input: 600 + 240 + 1_500 + 3_600 (× 1e12) = 5_940_000_000_000_000 ($0.00594)
    // output:      50 × 15e12    =   750_000_000_000_000 ($0.00075)
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 5_940_000_000_000_000n,
      output: 750_000_000_000_000n,
      total: 6_690_000_000_000_000n,
      cacheRead: 240_000_000_000_000n,
      cacheWrite: 5_100_000_000_000_000n,
      reasoning: undefined,
      cacheWrite1h: 3_600_000_000_000_000n
    })
    assertAgreesWithCatalogue(cost, "anthropic", "claude-sonnet-4-20250514", counts)
  })

  it("web searches on an Anthropic model, per thousand, beside input and output (claude-sonnet-4-5)", () => {
    assert.deepInclude(cataloguePrices("anthropic", "claude-sonnet-4-5"), { web_searches_kcount: 10 })
    // server_tool_use.web_search_requests 3; input 1000, output 200 (below the 200,000-token tier: base rates).
    const counts = { input: 1000, output: 200, webSearches: 3 }
    const cost = price("anthropic", "claude-sonnet-4-5", counts)
    // input:   1000 × 3e12  =  3_000_000_000_000_000
    // output:   200 × 15e12 =  3_000_000_000_000_000
    // searches:   3 × 10e15 = 30_000_000_000_000_000 ($10 per thousand: $0.03)
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 3_000_000_000_000_000n,
      output: 3_000_000_000_000_000n,
      total: 36_000_000_000_000_000n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: undefined,
      toolFees: 30_000_000_000_000_000n
    })
    assertAgreesWithCatalogue(cost, "anthropic", "claude-sonnet-4-5", counts)
  })

  it("OpenAI gpt-realtime: audio and image input, cached audio and images, audio output, each at its own rate", () => {
    assert.deepInclude(cataloguePrices("openai", "gpt-realtime"), {
      input_mtok: 4,
      cache_read_mtok: 0.4,
      input_audio_mtok: 32,
      cache_audio_read_mtok: 0.4,
      input_image_mtok: 5,
      cache_image_read_mtok: 0.5,
      output_mtok: 16,
      output_audio_mtok: 64
    })
    // input_tokens 1400: text 200, audio 1000, image 200; cached_tokens 700: text 100, audio 500, image 100.
    // output_tokens 500: text 100, audio 400.
    const counts = {
      input: 1400,
      cacheRead: 700,
      inputAudio: 1000,
      cacheReadAudio: 500,
      inputImage: 200,
      cacheReadImage: 100,
      output: 500,
      outputAudio: 400
    }
    const cost = price("openai", "gpt-realtime", counts)
    // text:          100 × 4e12   =    400_000_000_000_000
    // text cached:   100 × 0.4e12 =     40_000_000_000_000
    // audio:         500 × 32e12  = 16_000_000_000_000_000
    // audio cached:  500 × 0.4e12 =    200_000_000_000_000
    // image:         100 × 5e12   =    500_000_000_000_000
    // image cached:  100 × 0.5e12 =     50_000_000_000_000
    // input: 17_190_000_000_000_000 ($0.01719); cache reads 40 + 200 + 50 (× 1e12) = 290_000_000_000_000
    // output text:   100 × 16e12  =  1_600_000_000_000_000
    // output audio:  400 × 64e12  = 25_600_000_000_000_000; output 27_200_000_000_000_000 ($0.0272)
    // audio: 16_000 + 200 + 25_600 (× 1e12 × 1e3) = 41_800_000_000_000_000; image: 500 + 50 = 550_000_000_000_000
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 17_190_000_000_000_000n,
      output: 27_200_000_000_000_000n,
      total: 44_390_000_000_000_000n,
      cacheRead: 290_000_000_000_000n,
      cacheWrite: undefined,
      reasoning: undefined,
      audio: 41_800_000_000_000_000n,
      image: 550_000_000_000_000n
    })
    assertAgreesWithCatalogue(cost, "openai", "gpt-realtime", counts)
  })

  it("OpenAI audio models: gpt-audio at its audio rates; gpt-4o-audio-preview has none in 0.1.8, so text rates", () => {
    assert.deepInclude(cataloguePrices("openai", "gpt-audio"), {
      input_mtok: 2.5,
      input_audio_mtok: 32,
      output_mtok: 10,
      output_audio_mtok: 64
    })
    assert.deepStrictEqual(cataloguePrices("openai", "gpt-4o-audio-preview"), { input_mtok: 2.5, output_mtok: 10 })
    // prompt_tokens 1100 with prompt_tokens_details.audio_tokens 1000; completion_tokens 400 with
    // completion_tokens_details.audio_tokens 300.
    const counts = { input: 1100, inputAudio: 1000, output: 400, outputAudio: 300 }
    // gpt-audio: text in 100 × 2.5e12 = 250_000_000_000_000; audio in 1000 × 32e12 = 32_000_000_000_000_000
    //            text out 100 × 10e12 = 1_000_000_000_000_000; audio out 300 × 64e12 = 19_200_000_000_000_000
    const audio = price("openai", "gpt-audio", counts)
    assert.deepInclude(audio, {
      status: "priced",
      input: 32_250_000_000_000_000n,
      output: 20_200_000_000_000_000n,
      total: 52_450_000_000_000_000n,
      audio: 51_200_000_000_000_000n
    })
    assertAgreesWithCatalogue(audio, "openai", "gpt-audio", counts)
    // gpt-4o-audio-preview: 1100 × 2.5e12 = 2_750_000_000_000_000; 400 × 10e12 = 4_000_000_000_000_000;
    // of which audio: 1000 × 2.5e12 + 300 × 10e12 = 2_500_000_000_000_000 + 3_000_000_000_000_000
    const preview = price("openai", "gpt-4o-audio-preview", counts)
    assert.deepInclude(preview, {
      status: "priced",
      input: 2_750_000_000_000_000n,
      output: 4_000_000_000_000_000n,
      total: 6_750_000_000_000_000n,
      audio: 5_500_000_000_000_000n
    })
    assertAgreesWithCatalogue(preview, "openai", "gpt-4o-audio-preview", counts)
  })

  it("Gemini with cached audio: genai-prices' own case (tests/test_extract_usage.py test_google_caching), $0.0012873", () => {
    assert.deepInclude(cataloguePrices("google", "gemini-2.5-flash"), {
      input_mtok: 0.3,
      cache_read_mtok: 0.03,
      input_audio_mtok: 1,
      cache_audio_read_mtok: 0.1,
      output_mtok: 2.5
    })
    // usageMetadata: promptTokenCount 14152 (promptTokensDetails TEXT 14002, AUDIO 150), cachedContentTokenCount
    // 12239 (cacheTokensDetails AUDIO 129, TEXT 12110), candidatesTokenCount 60 (candidatesTokensDetails TEXT 50,
    // AUDIO 10) + thoughtsTokenCount 69 = output 129.
    const counts = {
      input: 14152,
      cacheRead: 12239,
      inputAudio: 150,
      cacheReadAudio: 129,
      output: 129,
      reasoning: 69,
      outputAudio: 10
    }
    const cost = price("gcp.vertex_ai", "gemini-2.5-flash", counts)
    // text:          14152 - 150 - 12110 = 1892 × 0.3e12  = 567_600_000_000_000
    // audio:                   150 - 129 =   21 × 1e12    =  21_000_000_000_000
    // text cached:                        12110 × 0.03e12 = 363_300_000_000_000
    // audio cached:                         129 × 0.1e12  =  12_900_000_000_000
    // input: 964_800_000_000_000; cache reads: 363_300 + 12_900 (× 1e9) = 376_200_000_000_000
    // output: 129 × 2.5e12 = 322_500_000_000_000 (no audio or reasoning rate: all at the output rate), of which
    // reasoning 69 × 2.5e12 = 172_500_000_000_000 and audio 10 × 2.5e12 = 25_000_000_000_000
    // audio: 21_000 + 12_900 + 25_000 (× 1e9) = 58_900_000_000_000
    // total: 964_800 + 322_500 (× 1e9) = 1_287_300_000_000_000 = $0.0012873 (before: $0.00126357, audio at text rates)
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 964_800_000_000_000n,
      output: 322_500_000_000_000n,
      total: 1_287_300_000_000_000n,
      cacheRead: 376_200_000_000_000n,
      cacheWrite: undefined,
      reasoning: 172_500_000_000_000n,
      audio: 58_900_000_000_000n
    })
    assert.strictEqual(toUsd(cost.total), 0.0012873)
    assertAgreesWithCatalogue(cost, "google", "gemini-2.5-flash", counts)
  })

  it("image tokens: gpt-image-1 image input and cached images; gemini-2.5-flash-image image output", () => {
    assert.deepInclude(cataloguePrices("openai", "gpt-image-1"), {
      input_mtok: 5,
      cache_read_mtok: 1.25,
      input_image_mtok: 10,
      cache_image_read_mtok: 2.5,
      output_mtok: 40
    })
    // input_tokens 1500 (input_tokens_details: text 500, image 1000), cached 800 (image 600, text 200);
    // output_tokens 4160, all image.
    const counts = {
      input: 1500,
      inputImage: 1000,
      cacheRead: 800,
      cacheReadImage: 600,
      output: 4160,
      outputImage: 4160
    }
    const cost = price("openai", "gpt-image-1", counts)
    // text:          300 × 5e12    = 1_500_000_000_000_000
    // text cached:   200 × 1.25e12 =   250_000_000_000_000
    // image:         400 × 10e12   = 4_000_000_000_000_000
    // image cached:  600 × 2.5e12  = 1_500_000_000_000_000
    // input: 7_250_000_000_000_000; cache reads 250 + 1_500 (× 1e12) = 1_750_000_000_000_000
    // output: 4160 × 40e12 = 166_400_000_000_000_000 (no output image rate: the output rate)
    // image: 4_000 + 1_500 + 166_400 (× 1e15) = 171_900_000_000_000_000
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 7_250_000_000_000_000n,
      output: 166_400_000_000_000_000n,
      total: 173_650_000_000_000_000n,
      cacheRead: 1_750_000_000_000_000n,
      cacheWrite: undefined,
      reasoning: undefined,
      image: 171_900_000_000_000_000n
    })
    assertAgreesWithCatalogue(cost, "openai", "gpt-image-1", counts)

    assert.deepInclude(cataloguePrices("google", "gemini-2.5-flash-image"), {
      input_mtok: 0.3,
      output_mtok: 2.5,
      output_image_mtok: 30
    })
    // candidatesTokenCount 1300: IMAGE 1290, TEXT 10; promptTokenCount 100.
    const drawn = { input: 100, output: 1300, outputImage: 1290 }
    const image = price("gcp.vertex_ai", "gemini-2.5-flash-image", drawn)
    // input 100 × 0.3e12 = 30_000_000_000_000; text out 10 × 2.5e12 = 25_000_000_000_000;
    // image out 1290 × 30e12 = 38_700_000_000_000_000
    assert.deepInclude(image, {
      input: 30_000_000_000_000n,
      output: 38_725_000_000_000_000n,
      total: 38_755_000_000_000_000n,
      image: 38_700_000_000_000_000n
    })
    assertAgreesWithCatalogue(image, "google", "gemini-2.5-flash-image", drawn)
  })

  it("a per-request fee (Perplexity sonar, requests_kcount), once per call", () => {
    assert.deepInclude(cataloguePrices("perplexity", "sonar"), { input_mtok: 1, output_mtok: 1, requests_kcount: 12 })
    const counts = { input: 100, output: 200 }
    const cost = price("perplexity", "sonar", counts)
    // input 100 × 1e12 = 100_000_000_000_000; output 200 × 1e12 = 200_000_000_000_000;
    // one request at $12 per thousand: 12 × 1e15 = 12_000_000_000_000_000 ($0.012)
    assert.deepStrictEqual(cost, {
      status: "priced",
      source,
      input: 100_000_000_000_000n,
      output: 200_000_000_000_000n,
      total: 12_300_000_000_000_000n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: undefined,
      requestFees: 12_000_000_000_000_000n
    })
    assertAgreesWithCatalogue(cost, "perplexity", "sonar", counts)
    // A usage for no request (an iteration whose call's fee is charged with another one) has no fee.
    const noRequest = price("perplexity", "sonar", { ...counts, requests: 0 })
    assert.strictEqual(noRequest.total, 300_000_000_000_000n)
    assert.notProperty(noRequest, "requestFees")
  })

  it("uncountable units (storage searches on gpt-4o) are ignored beside token prices; a model priced only by them is not priceable", () => {
    assert.deepInclude(cataloguePrices("openai", "gpt-4o"), { storage_searches_kcount: 2.5, web_searches_kcount: 10 })
    // 1000 × 2.5e12 + 100 × 10e12 = 3_500_000_000_000_000: no storage-search fee, none counted.
    assert.strictEqual(price("openai", "gpt-4o", { input: 1000, output: 100 }).total, 3_500_000_000_000_000n)
    assert.containsAllKeys(cataloguePrices("openai", "whisper-1"), ["input_audio_hours"])
    assert.strictEqual(price("openai", "whisper-1", { input: 1000, output: 100 }).status, "unknown_model")
  })

  it("a part larger than its whole is read as a larger whole, so that every token is priced once", () => {
    // cached audio 300 of audio 100 of input 50 (gpt-realtime): audio read as 300, input as 300, all of it cached
    // audio: 300 × 0.4e12 = 120_000_000_000_000
    assert.deepInclude(price("openai", "gpt-realtime", { input: 50, inputAudio: 100, cacheReadAudio: 300 }), {
      input: 120_000_000_000_000n,
      cacheRead: 120_000_000_000_000n,
      audio: 120_000_000_000_000n
    })
    // 1-hour writes 500 of writes 100 (claude-sonnet-4): writes read as 500, all 1-hour: 500 × 6e12
    assert.deepInclude(price("anthropic", "claude-sonnet-4-20250514", { cacheWrite: 100, cacheWrite1h: 500 }), {
      input: 3_000_000_000_000_000n,
      cacheWrite: 3_000_000_000_000_000n,
      cacheWrite1h: 3_000_000_000_000_000n
    })
  })
})

describe("service tiers", () => {
  // gpt-4o at the standard rates: 1000 × 2.5e12 + 100 × 10e12 = 2_500_000_000_000_000 + 1_000_000_000_000_000
  const standard = { input: 2_500_000_000_000_000n, output: 1_000_000_000_000_000n, total: 3_500_000_000_000_000n }
  const counts = { input: 1000, output: 100 }

  it("the catalogue (0.1.8) has no tier prices: a flex, priority or batch answer is estimated at the standard rate", () => {
    for (const tier of [undefined, "default", "auto", "Standard"]) {
      const cost = price("openai", "gpt-4o", { ...counts, serviceTier: tier })
      assert.deepInclude(cost, { status: "priced", ...standard }, String(tier))
      assert.isUndefined(cost.reason)
    }
    assert.deepInclude(price("openai", "gpt-4o", { ...counts, serviceTier: "flex" }), {
      status: "estimated",
      source,
      ...standard,
      reason: `no price known for service tier "flex"; priced at the standard rate`
    })
    // claude-sonnet-4: 1000 × 3e12 + 100 × 15e12 = 4_500_000_000_000_000
    assert.deepInclude(price("anthropic", "claude-sonnet-4-20250514", { ...counts, serviceTier: "standard" }), {
      status: "priced",
      total: 4_500_000_000_000_000n
    })
    for (const tier of ["priority", "batch"]) {
      assert.deepInclude(price("anthropic", "claude-sonnet-4-20250514", { ...counts, serviceTier: tier }), {
        status: "estimated",
        total: 4_500_000_000_000_000n,
        reason: `no price known for service tier "${tier}"; priced at the standard rate`
      })
    }
  })

  it("a custom price for a tier applies to the calls answered with it (any case, through aliases); other tiers are estimated", () => {
    const pricing = makeCustom({
      prices: [
        {
          provider: "openai",
          model: "gpt-4o",
          serviceTier: "flex",
          prices: { inputPerMillion: 1.25, outputPerMillion: 5 }
        },
        { model: "house", prices: { inputPerMillion: 1, outputPerMillion: 2 } },
        { model: "house", serviceTier: "default", prices: { inputPerMillion: 0.5, outputPerMillion: 1 } },
        { model: "house", serviceTier: "priority", prices: { inputPerMillion: -1, outputPerMillion: 1 } }
      ],
      aliases: [{ provider: "azure", model: "my-deployment", as: { provider: "openai", model: "gpt-4o" } }]
    })
    // flex: 1000 × 1.25e12 + 100 × 5e12 = 1_250_000_000_000_000 + 500_000_000_000_000
    const flex: Partial<Cost> = { status: "custom", source: "custom", total: 1_750_000_000_000_000n }
    assert.deepInclude(price("openai", "gpt-4o", { ...counts, serviceTier: "flex" }, pricing), flex)
    assert.deepInclude(price("openai", "gpt-4o", { ...counts, serviceTier: " FLEX " }, pricing), flex)
    assert.isUndefined(price("openai", "gpt-4o", { ...counts, serviceTier: "flex" }, pricing).reason)
    assert.deepInclude(price("azure.openai", "my-deployment", { ...counts, serviceTier: "flex" }, pricing), flex)
    // The tier price is for openai: gpt-4o on azure, answered flex, is the catalogue's estimate.
    assert.deepInclude(price("azure.openai", "gpt-4o", { ...counts, serviceTier: "flex" }, pricing), {
      status: "estimated",
      source,
      ...standard
    })
    assert.deepInclude(price("openai", "gpt-4o", { ...counts, serviceTier: "priority" }, pricing), {
      status: "estimated",
      source,
      ...standard
    })
    assert.deepInclude(price("openai", "gpt-4o", counts, pricing), { status: "priced", ...standard })
    // A standard tier's price is the model's price (the later entry replaces the earlier one):
    // 1000 × 0.5e12 + 100 × 1e12 = 600_000_000_000_000
    assert.deepInclude(price("p", "house", counts, pricing), { status: "custom", total: 600_000_000_000_000n })
    assert.deepInclude(price("p", "house", { ...counts, serviceTier: "flex" }, pricing), {
      status: "estimated",
      source: "custom",
      total: 600_000_000_000_000n,
      reason: `no price known for service tier "flex"; priced at the standard rate`
    })
    // An invalid tier price claims its tier only.
    assert.deepInclude(price("p", "house", { ...counts, serviceTier: "priority" }, pricing), {
      status: "invalid_price",
      reason: "the custom price is invalid: inputPerMillion: -1 is negative (USD per million tokens, from 0 to 10000)"
    })
  })
})

describe("custom prices for every unit", () => {
  // input 10,000: text 7000, cache reads 1300 (text 1000, audio 100, image 200), cache writes 1000 (600 of them
  // 1-hour), audio 500 (100 cached), image 500 (200 cached); output 2000: text 1000, reasoning 500, audio 300,
  // image 200; 2 web searches; one request.
  const counts = {
    input: 10_000,
    cacheRead: 1300,
    cacheWrite: 1000,
    cacheWrite1h: 600,
    inputAudio: 500,
    cacheReadAudio: 100,
    inputImage: 500,
    cacheReadImage: 200,
    output: 2000,
    reasoning: 500,
    outputAudio: 300,
    outputImage: 200,
    webSearches: 2
  }

  it("each rate on its own tokens, fees per thousand", () => {
    const pricing = makeCustom({
      prices: [{
        model: "every-rate",
        prices: {
          inputPerMillion: 1,
          outputPerMillion: 4,
          cacheReadPerMillion: 0.1,
          cacheWritePerMillion: 1.25,
          cacheWrite1hPerMillion: 2,
          inputAudioPerMillion: 10,
          cacheReadAudioPerMillion: 0.5,
          inputImagePerMillion: 3,
          cacheReadImagePerMillion: 0.3,
          reasoningPerMillion: 6,
          outputAudioPerMillion: 20,
          outputImagePerMillion: 30,
          perThousandRequests: 5,
          perThousandWebSearches: 25
        }
      }]
    })
    // text          7000 × $1/M    = $0.007
    // text cached   1000 × $0.1/M  = $0.0001
    // 5-min writes   400 × $1.25/M = $0.0005
    // 1-h writes     600 × $2/M    = $0.0012
    // audio          400 × $10/M   = $0.004
    // audio cached   100 × $0.5/M  = $0.00005
    // image          300 × $3/M    = $0.0009
    // image cached   200 × $0.3/M  = $0.00006
    // input $0.01381; cache reads $0.00021; cache writes $0.0017 (1-hour $0.0012)
    // output text 1000 × $4/M = $0.004; reasoning 500 × $6/M = $0.003; audio 300 × $20/M = $0.006;
    // image 200 × $30/M = $0.006: output $0.019
    // audio $0.004 + $0.00005 + $0.006 = $0.01005; image $0.0009 + $0.00006 + $0.006 = $0.00696
    // request $5/1000 = $0.005; web searches 2 × $25/1000 = $0.05; total $0.01381 + $0.019 + $0.005 + $0.05
    assert.deepStrictEqual(price("p", "every-rate", counts, pricing), {
      status: "custom",
      source: "custom",
      input: 13_810_000_000_000_000n,
      output: 19_000_000_000_000_000n,
      total: 87_810_000_000_000_000n,
      cacheRead: 210_000_000_000_000n,
      cacheWrite: 1_700_000_000_000_000n,
      reasoning: 3_000_000_000_000_000n,
      cacheWrite1h: 1_200_000_000_000_000n,
      audio: 10_050_000_000_000_000n,
      image: 6_960_000_000_000_000n,
      requestFees: 5_000_000_000_000_000n,
      toolFees: 50_000_000_000_000_000n
    })
  })

  it("a rate not given is the rate of the nearest kind that holds it; a fee not given is not charged", () => {
    const pricing = makeCustom({
      prices: [{
        model: "few-rates",
        prices: { inputPerMillion: 1, outputPerMillion: 4, cacheReadPerMillion: 0.1, inputAudioPerMillion: 10 }
      }]
    })
    // text 7000 × $1/M = $0.007; text cached 1000 × $0.1/M = $0.0001; writes (both) 1000 × $1/M = $0.001;
    // audio 400 × $10/M = $0.004; cached audio at the audio price: 100 × $10/M = $0.001;
    // image at the input price 300 × $1/M = $0.0003; cached images at the cache read price 200 × $0.1/M = $0.00002
    // input $0.01342; output 2000 × $4/M = $0.008; no fees
    const cost = price("p", "few-rates", counts, pricing)
    assert.deepInclude(cost, {
      status: "custom",
      input: 13_420_000_000_000_000n,
      output: 8_000_000_000_000_000n,
      total: 21_420_000_000_000_000n,
      cacheWrite1h: 600_000_000_000_000n
    })
    assert.notProperty(cost, "requestFees")
    assert.notProperty(cost, "toolFees")
  })

  it("every new figure is checked: a fee above $1,000 per thousand, a rate that is not a number, a tier that is not a name", () => {
    const { problems, service } = buildCustom({
      prices: [
        {
          model: "dear-fee",
          prices: {
            inputPerMillion: 1,
            outputPerMillion: 1,
            perThousandWebSearches: 1_000.01,
            reasoningPerMillion: Number.NaN
          }
        },
        { model: "fine-fee", prices: { inputPerMillion: 1, outputPerMillion: 1, perThousandRequests: 1_000 } },
        {
          model: "tierless",
          serviceTier: 42 as unknown as string,
          prices: { inputPerMillion: 1, outputPerMillion: 1 }
        },
        { model: "tiered-bad", serviceTier: "Priority", prices: { inputPerMillion: -1, outputPerMillion: 1 } }
      ]
    })
    assert.deepStrictEqual(problems, [
      `prices[0] ("dear-fee"): reasoningPerMillion: NaN is not a number (USD per million tokens, from 0 to 10000); ` +
      `perThousandWebSearches: 1000.01 is above the maximum (USD per thousand requests or web searches, from 0 to ` +
      `1000); its calls get botanu.cost.status = invalid_price, not a price from elsewhere`,
      "prices[2].serviceTier: 42 is not a service tier name; ignored",
      `prices[3] ("tiered-bad" for service tier "Priority"): inputPerMillion: -1 is negative (USD per million ` +
      `tokens, from 0 to 10000); its calls get botanu.cost.status = invalid_price, not a price from elsewhere`
    ])
    // The invalid tier price claims that tier only: the model's other calls are unknown, as before.
    assert.strictEqual(price("p", "tiered-bad", { input: 1, serviceTier: "priority" }, service).status, "invalid_price")
    assert.strictEqual(price("p", "tiered-bad", { input: 1 }, service).status, "unknown_model")
    assert.deepInclude(price("p", "dear-fee", { input: 1 }, service), {
      status: "invalid_price",
      reason:
        "the custom price is invalid: reasoningPerMillion: NaN is not a number (USD per million tokens, from 0 to " +
        "10000); perThousandWebSearches: 1000.01 is above the maximum (USD per thousand requests or web searches, " +
        "from 0 to 1000)"
    })
    // $1,000 per thousand requests is a fee: $1 a call = 1e18 attodollars, beside 1 token at $1/M (1e12).
    assert.deepInclude(price("p", "fine-fee", { input: 1 }, service), {
      status: "custom",
      total: 1_000_001_000_000_000_000n,
      requestFees: 1_000_000_000_000_000_000n
    })
    // An entry whose tier is not a name is ignored: the model is unknown.
    assert.strictEqual(price("p", "tierless", { input: 1 }, service).status, "unknown_model")
  })
})

describe("a pricing service of the app's own", () => {
  const cost = (fields: Record<string, unknown>): Cost => ({
    status: "priced",
    source: "mine",
    input: 1n,
    output: 1n,
    total: 2n,
    cacheRead: undefined,
    cacheWrite: undefined,
    reasoning: undefined,
    ...fields
  } as Cost)
  const notACost = "the pricing's answer is not a cost:"

  it("a cost of the first five amounts is recorded as it was; fees count in the total, parts must fit their wholes", () => {
    assert.deepStrictEqual(recordable(cost({})), cost({}))
    assert.deepStrictEqual(
      recordable(cost({ total: 7n, requestFees: 2n, toolFees: 3n, audio: 2n, image: 0n })),
      cost({ total: 7n, requestFees: 2n, toolFees: 3n, audio: 2n, image: 0n })
    )
    const reasons: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
      [{ total: 4n, requestFees: 3n }, "total: 4 is not input + output + requestFees + toolFees (5)"],
      [{ toolFees: -1n, total: 1n }, "toolFees: -1 is negative"],
      [{ requestFees: 1 }, "requestFees: 1 is not a bigint of attodollars"],
      [{ input: 3n, total: 4n, cacheWrite: 1n, cacheWrite1h: 2n }, "cacheWrite1h: 2 is more than cacheWrite (1)"],
      [{ cacheWrite1h: 1n }, "cacheWrite1h: 1 is more than cacheWrite (0)"],
      [{ audio: 3n }, "audio: 3 is more than input + output (2)"],
      [{ image: -1n }, "image: -1 is negative"]
    ]
    for (const [fields, reason] of reasons) {
      assert.deepStrictEqual(recordable(cost(fields)), {
        status: "invalid_cost",
        source: undefined,
        input: 0n,
        output: 0n,
        total: 0n,
        cacheRead: undefined,
        cacheWrite: undefined,
        reasoning: undefined,
        reason: `${notACost} ${reason}`
      }, reason)
    }
  })

  it("estimated keeps its amounts and its reason; another status with amounts drops a reason", () => {
    assert.deepStrictEqual(
      recordable(cost({ status: "estimated", reason: "my tier table has no batch rate" })),
      cost({ status: "estimated", reason: "my tier table has no batch rate" })
    )
    assert.deepStrictEqual(recordable(cost({ reason: "ignored" })), cost({}))
  })
})

// --- on the span -------------------------------------------------------------------------------------------------

type TokenUsage = Parameters<LlmTracker.Service["setTokens"]>[0]

const call = (provider: string, model: string, tokens: TokenUsage) =>
  Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens(tokens)).pipe(trackLlmCall({ provider, model }))

/** The `botanu.cost.*` attributes of a span, all of them, so that a missing or an extra line fails. */
const costLines = (span: ReadableSpan) =>
  Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith("botanu.cost.")))

describe("on the span", () => {
  it.effect("Anthropic 1-hour cache writes and web searches: a line each; total = input + output + tool fees", () =>
    Effect.gen(function*() {
      // Anthropic's usage: input_tokens 200, cache_read_input_tokens 800, cache_creation_input_tokens 1000
      // (cache_creation.ephemeral_1h_input_tokens 600), output_tokens 50, server_tool_use.web_search_requests 2.
      yield* call("anthropic", "claude-sonnet-4-20250514", {
        inputTokens: 200,
        cacheReadTokens: 800,
        cacheWriteTokens: 1000,
        cacheWrite1hTokens: 600,
        outputTokens: 50,
        webSearches: 2
      })
      const span = yield* spanNamed("chat claude-sonnet-4-20250514")
      // input $0.00594 (uncached 200 × $3/M = $0.0006, reads 800 × $0.3/M = $0.00024, 5-minute writes
      // 400 × $3.75/M = $0.0015, 1-hour writes 600 × $6/M = $0.0036); output 50 × $15/M = $0.00075;
      // web searches 2 × $10/1000 = $0.02; total $0.00594 + $0.00075 + $0.02 = $0.02669
      assert.deepStrictEqual(costLines(span), {
        "botanu.cost.status": "priced",
        "botanu.cost.pricing_source": source,
        "botanu.cost.input_usd": 0.00594,
        "botanu.cost.output_usd": 0.00075,
        "botanu.cost.total_usd": 0.02669,
        "botanu.cost.cache_read_usd": 0.00024,
        "botanu.cost.cache_write_usd": 0.0051,
        "botanu.cost.cache_write_1h_usd": 0.0036,
        "botanu.cost.tool_fees_usd": 0.02
      })
      assert.deepStrictEqual(warningsOf(span), [])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("OpenAI gpt-realtime audio and images: audio and image lines, shares of input + output", () =>
    Effect.gen(function*() {
      yield* call("openai", "gpt-realtime", {
        inputTokens: 1400,
        cacheReadTokens: 700,
        inputAudioTokens: 1000,
        cacheReadAudioTokens: 500,
        inputImageTokens: 200,
        cacheReadImageTokens: 100,
        outputTokens: 500,
        outputAudioTokens: 400
      })
      const span = yield* spanNamed("chat gpt-realtime")
      // As priced above: input $0.01719, output $0.0272, cache reads $0.00029, audio $0.0418, image $0.00055.
      assert.deepStrictEqual(costLines(span), {
        "botanu.cost.status": "priced",
        "botanu.cost.pricing_source": source,
        "botanu.cost.input_usd": 0.01719,
        "botanu.cost.output_usd": 0.0272,
        "botanu.cost.total_usd": 0.04439,
        "botanu.cost.cache_read_usd": 0.00029,
        "botanu.cost.audio_usd": 0.0418,
        "botanu.cost.image_usd": 0.00055
      })
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("Perplexity sonar: the request fee line, and the run counts it", () =>
    Effect.gen(function*() {
      yield* call("perplexity", "sonar", { inputTokens: 100, outputTokens: 200 })
      const span = yield* spanNamed("chat sonar")
      // $0.0001 + $0.0002 + one request at $12/1000 = $0.012: $0.0123
      assert.deepStrictEqual(costLines(span), {
        "botanu.cost.status": "priced",
        "botanu.cost.pricing_source": source,
        "botanu.cost.input_usd": 0.0001,
        "botanu.cost.output_usd": 0.0002,
        "botanu.cost.total_usd": 0.0123,
        "botanu.cost.request_fees_usd": 0.012
      })
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a flex answer with no flex price: estimated at the standard rate, with the warning; a flex price: custom", () =>
    Effect.gen(function*() {
      yield* call("openai", "gpt-4o", { inputTokens: 1000, outputTokens: 100, serviceTier: "flex" })
      const span = yield* spanNamed("chat gpt-4o")
      // standard rates: 1000 × $2.5/M + 100 × $10/M = $0.0025 + $0.001 = $0.0035
      assert.deepStrictEqual(costLines(span), {
        "botanu.cost.status": "estimated",
        "botanu.cost.pricing_source": source,
        "botanu.cost.input_usd": 0.0025,
        "botanu.cost.output_usd": 0.001,
        "botanu.cost.total_usd": 0.0035
      })
      assert.deepStrictEqual(warningsOf(span), [
        `cost: no price known for service tier "flex"; priced at the standard rate`
      ])
      const model = uniqueName("flex-model")
      yield* call("openai", model, { inputTokens: 1000, outputTokens: 100, serviceTier: "flex" }).pipe(
        Effect.provideService(
          Pricing.Pricing,
          makeCustom({
            prices: [
              { model, prices: { inputPerMillion: 2.5, outputPerMillion: 10 } },
              { model, serviceTier: "flex", prices: { inputPerMillion: 1.25, outputPerMillion: 5 } }
            ]
          })
        )
      )
      const flex = yield* spanNamed(`chat ${model}`)
      // flex rates: 1000 × $1.25/M + 100 × $5/M = $0.00125 + $0.0005 = $0.00175
      assert.deepInclude(flex.attributes, { "botanu.cost.status": "custom", "botanu.cost.total_usd": 0.00175 })
      assert.deepStrictEqual(warningsOf(flex), [])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("web searches on a model with no price for them: said in a warning, not silently left out", () => {
    const model = uniqueName("no-search-price")
    return Effect.gen(function*() {
      yield* call("openai", model, { inputTokens: 1000, outputTokens: 0, webSearches: 2 })
      const span = yield* spanNamed(`chat ${model}`)
      assert.deepInclude(span.attributes, { "botanu.cost.status": "custom", "botanu.cost.total_usd": 0.001 })
      assert.isUndefined(span.attributes["botanu.cost.tool_fees_usd"])
      assert.deepStrictEqual(warningsOf(span), ["cost: no price known for web searches on this model; 2 not priced"])
    }).pipe(Effect.provide(Layer.merge(
      TrackingTest.layer,
      Layer.succeed(
        Pricing.Pricing,
        makeCustom({ prices: [{ model, prices: { inputPerMillion: 1, outputPerMillion: 1 } }] })
      )
    )))
  })
})

describe("iterations", () => {
  // A compaction on the call's model, an advisor on another, then the message: Anthropic's usage.iterations, input
  // without the cache as Anthropic reports it. claude-sonnet-4: $3 / $0.3 (cache reads) / $15 per million;
  // claude-opus-4-1: $15 / $75.
  const iterations = [
    { type: "compaction", inputTokens: 60_385, outputTokens: 1_500 },
    { type: "advisor_message", model: "claude-opus-4-1", inputTokens: 2_000, outputTokens: 300 },
    { type: "message", inputTokens: 5_000, cacheReadTokens: 1_000, outputTokens: 400 }
  ]
  const tokens = {
    inputTokens: 5_000,
    cacheReadTokens: 1_000,
    outputTokens: 400,
    webSearches: 1,
    iterations
  }

  it.effect("each iteration at its own model, added up part by part; the call's web search charged once", () =>
    Effect.gen(function*() {
      assert.deepInclude(cataloguePrices("anthropic", "claude-opus-4-1"), { input_mtok: 15, output_mtok: 75 })
      yield* call("anthropic", "claude-sonnet-4-20250514", tokens)
      const span = yield* spanNamed("chat claude-sonnet-4-20250514")
      // compaction: 60_385 × $3/M = $0.181155 in, 1_500 × $15/M = $0.0225 out
      // advisor:     2_000 × $15/M = $0.03 in,      300 × $75/M = $0.0225 out
      // message:     5_000 × $3/M = $0.015 + 1_000 cache reads × $0.3/M = $0.0003 in, 400 × $15/M = $0.006 out
      // input $0.226455, output $0.051, cache reads $0.0003, one web search $10/1000 = $0.01: total $0.287455
      assert.deepStrictEqual(costLines(span), {
        "botanu.cost.status": "priced",
        "botanu.cost.pricing_source": source,
        "botanu.cost.input_usd": 0.226455,
        "botanu.cost.output_usd": 0.051,
        "botanu.cost.total_usd": 0.287455,
        "botanu.cost.cache_read_usd": 0.0003,
        "botanu.cost.tool_fees_usd": 0.01
      })
      // The span records the billed totals (the other half of the issue): 60_385 + 2_000 + 6_000 input.
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 68_385)
      assert.deepStrictEqual(warningsOf(span), [])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("an advisor at a model with a custom price: custom, the sources joined", () => {
    const advisor = uniqueName("house-advisor")
    return Effect.gen(function*() {
      yield* call("anthropic", "claude-sonnet-4-20250514", {
        ...tokens,
        iterations: [iterations[0], { ...iterations[1], model: advisor }, iterations[2]]
      })
      const span = yield* spanNamed("chat claude-sonnet-4-20250514")
      // the advisor at $1 / $2 per million: 2_000 × $1/M = $0.002 in, 300 × $2/M = $0.0006 out
      // input $0.181155 + $0.002 + $0.0153 = $0.198455; output $0.0225 + $0.0006 + $0.006 = $0.0291
      assert.deepInclude(span.attributes, {
        "botanu.cost.status": "custom",
        "botanu.cost.pricing_source": `${source} + custom`,
        "botanu.cost.input_usd": 0.198455,
        "botanu.cost.output_usd": 0.0291
      })
    }).pipe(Effect.provide(Layer.merge(
      TrackingTest.layer,
      Layer.succeed(
        Pricing.Pricing,
        makeCustom({ prices: [{ model: advisor, prices: { inputPerMillion: 1, outputPerMillion: 2 } }] })
      )
    )))
  })

  it.effect("an iteration at a model with no price: the whole call is unpriced, the warning names the iteration", () =>
    Effect.gen(function*() {
      yield* call("anthropic", "claude-sonnet-4-20250514", {
        ...tokens,
        iterations: [iterations[0], { ...iterations[1], model: "claude-advisor-does-not-exist" }, iterations[2]]
      })
      const span = yield* spanNamed("chat claude-sonnet-4-20250514")
      assert.deepStrictEqual(costLines(span), { "botanu.cost.status": "unknown_model" })
      assert.deepStrictEqual(warningsOf(span), [
        `cost: no price known for iteration 2 of 3 ("claude-advisor-does-not-exist"); not priced`
      ])
      const run = yield* TrackingTest.finishedSpans
      assert.isTrue(run.length > 0)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("an iteration answered at a tier with no price of its own makes the call estimated", () =>
    Effect.gen(function*() {
      yield* call("anthropic", "claude-sonnet-4-20250514", { ...tokens, serviceTier: "batch" })
      const span = yield* spanNamed("chat claude-sonnet-4-20250514")
      assert.deepInclude(span.attributes, { "botanu.cost.status": "estimated", "botanu.cost.total_usd": 0.287455 })
      assert.deepStrictEqual(warningsOf(span), [
        `cost: no price known for service tier "batch"; priced at the standard rate`
      ])
    }).pipe(Effect.provide(TrackingTest.layer)))
})

// --- the cross-check ---------------------------------------------------------------------------------------------

// The catalogue's provider ids (genai-prices 0.1.8); each is checked to exist.
const providerIds = [
  "anthropic",
  "arcee",
  "avian",
  "aws",
  "azure",
  "baseten",
  "cerebras",
  "cloudflare",
  "cohere",
  "cursor",
  "deepseek",
  "doubleword",
  "fireworks",
  "github-copilot",
  "google",
  "groq",
  "huggingface_cerebras",
  "huggingface_fireworks-ai",
  "huggingface_groq",
  "huggingface_hyperbolic",
  "huggingface_nebius",
  "huggingface_novita",
  "huggingface_nscale",
  "huggingface_ovhcloud",
  "huggingface_publicai",
  "huggingface_sambanova",
  "huggingface_together",
  "minimax",
  "mistral",
  "modal",
  "moonshotai",
  "novita",
  "openai",
  "openrouter",
  "ovhcloud",
  "perplexity",
  "quicksilverpro",
  "together",
  "typesafe",
  "voyageai",
  "x-ai",
  "zai",
  "zhipuai"
]

/** A seeded generator (mulberry32), so that a failure is repeatable. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("cross-check with the catalogue's own calcPrice", () => {
  it("every catalogue model, random usage over every unit we count and random times: equal within 1e-9", () => {
    const next = seeded(20_250_701)
    // About 40% of the counts 0, so that models are priced with and without each part; 30% of the usages large
    // enough to pass the 200,000-token long-context tiers.
    const some = (max: number) => (next() < 0.4 ? 0 : Math.floor(next() * max))
    const from = Date.parse("2024-01-01T00:00:00Z")
    let checked = 0
    let unpriceable = 0
    const wrong: Array<string> = []
    for (const id of providerIds) {
      const found = findProvider({ providerId: id })
      assert.strictEqual(found?.id, id)
      const provider: Provider = found!
      for (const model of provider.models as ReadonlyArray<ModelInfo>) {
        const max = next() < 0.3 ? 150_000 : 5_000
        const cachedAudio = some(max)
        const cachedImage = some(max)
        const audio = some(max)
        const image = some(max)
        const cachedOther = some(max)
        const write1h = some(max)
        const write5m = some(max)
        const reasoning = some(max)
        const outputAudio = some(max)
        const outputImage = some(max)
        const counts: PricedUsage = {
          input: some(max) + audio + cachedAudio + image + cachedImage + cachedOther + write1h + write5m,
          cacheRead: cachedAudio + cachedImage + cachedOther,
          cacheWrite: write1h + write5m,
          cacheWrite1h: write1h,
          inputAudio: audio + cachedAudio,
          cacheReadAudio: cachedAudio,
          inputImage: image + cachedImage,
          cacheReadImage: cachedImage,
          output: some(max) + reasoning + outputAudio + outputImage,
          reasoning,
          outputAudio,
          outputImage,
          webSearches: next() < 0.5 ? 0 : Math.floor(next() * 5)
        }
        const timestamp = from + Math.floor(next() * 3 * 365 * 86_400_000)
        // The catalogue's own match of the model's id under its provider; a few ids do not match their own
        // patterns (Bedrock's `regional.` ids), and are skipped, as `calcPrice` cannot price them either.
        const theirs = calcPrice(theirUsage(counts), model.id, { provider, timestamp: new Date(timestamp) })
        if (theirs === null) continue
        const cost = catalogue.price({ provider: id, model: model.id, usage: counts, timestamp })
        if (cost.status === "unknown_model") {
          // Priced only by units the usage cannot count (audio hours, pages): the catalogue charges them nothing.
          assert.strictEqual(theirs.total_price, 0, `${id}/${model.id}`)
          unpriceable++
          continue
        }
        checked++
        const agree = (ours: bigint, expected: number) => Math.abs(toUsd(ours) - expected) <= 1e-9 * Math.abs(expected)
        if (
          !agree(cost.input, theirs.input_price) || !agree(cost.output, theirs.output_price) ||
          !agree(cost.total, theirs.total_price)
        ) {
          wrong.push(`${id}/${model.id}: ${toUsd(cost.total)} vs ${theirs.total_price}`)
        }
      }
    }
    assert.deepStrictEqual(wrong, [])
    assert.isAbove(checked, 1_500)
    assert.isBelow(unpriceable, 30)
  })
})
