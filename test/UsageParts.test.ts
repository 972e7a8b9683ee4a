import type Anthropic from "@anthropic-ai/sdk"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import type * as Scope from "effect/Scope"
import type OpenAI from "openai"
import { llmInstrumented, LlmTracker, TrackingTest, trackLlmCall, Usage } from "../src/index.js"
import type { UsageFrom } from "../src/Usage.js"
import { anthropicClient, type FakeProvider, fakeProvider, fixture, openaiClient } from "./utils/fakeProvider.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

// Every payload here is a provider's response as recorded by another project's test suite, trimmed (long content,
// signatures and search results cut): pydantic-ai's VCR cassettes (tests/models/cassettes/...), and genai-prices'
// own Gemini test case (tests/test_extract_usage.py, `gemini_response_data_caching`). Each fixture names its source
// in the describe block that reads it. Expected dollars are worked out by hand from the rates of the catalogue the
// library ships (@pydantic/genai-prices 0.1.8), quoted per million tokens (/M) or per thousand uses (/k).

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

/** The span's usage, service tier and cost attributes: what these tests are about, compared whole. */
const usageOf = (span: ReadableSpan): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(span.attributes)) {
    if (key.includes(".usage.") || key.endsWith("service_tier")) out[key] = value
  }
  return out
}

const costOf = (span: ReadableSpan): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(span.attributes)) {
    if (key.startsWith("botanu.cost.") && key !== "botanu.cost.pricing_source") out[key] = value
  }
  return out
}

/** A tracked call whose success value is `response`, read with `usageFrom`. */
const tracked = (response: unknown, provider: string, model: string, usageFrom: UsageFrom = "auto") =>
  Effect.succeed(response).pipe(trackLlmCall({ provider, model, usageFrom }))

describe("Anthropic usage.iterations (pydantic-ai test_anthropic_compaction_usage_with_cache.yaml)", () => {
  const response = fixture("anthropic-compaction")

  it("Usage.extract hands on every iteration beside the top level, which leaves the compaction out", () => {
    assert.deepStrictEqual(Usage.extract(response), {
      inputTokens: 180,
      outputTokens: 8,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      webSearches: 0,
      serviceTier: "standard",
      iterations: [
        {
          type: "compaction",
          inputTokens: 100,
          outputTokens: 82,
          cacheReadTokens: 0,
          cacheWriteTokens: 55096,
          cacheWrite1hTokens: 0
        },
        {
          type: "message",
          inputTokens: 180,
          outputTokens: 8,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          cacheWrite1hTokens: 0
        }
      ],
      inputIncludesCache: false,
      responseId: "msg_01WhrmimdvExAsAeWRBgMmaF",
      responseModel: "claude-sonnet-4-6",
      finishReasons: ["end_turn"],
      warnings: []
    })
  })

  it.effect("a tracked call records the billed totals, the compaction's cache write included, and prices both", () =>
    withTracking(Effect.gen(function*() {
      yield* tracked(response, "anthropic", "claude-sonnet-4-6")
      const span = yield* spanNamed("chat claude-sonnet-4-6")
      // Input: (100 + 55,096 written) + 180 = 55,376; output 82 + 8 = 90. The top level alone said 180 and 8.
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 55376,
        "gen_ai.usage.output_tokens": 90,
        "gen_ai.usage.cache_creation.input_tokens": 55096,
        "botanu.usage.cache_write_tokens": 55096,
        "botanu.usage.iterations": 2,
        "botanu.request.service_tier": "standard"
      })
      // claude-sonnet-4-6: input $3/M, 5-minute cache writes $3.75/M, output $15/M.
      // compaction: 100 x $3/M = $0.0003, 55,096 x $3.75/M = $0.20661, output 82 x $15/M = $0.00123
      // message: 180 x $3/M = $0.00054, output 8 x $15/M = $0.00012
      // input = $0.20745 (of which cache writes $0.20661), output = $0.00135, total = $0.2088 (the top level alone:
      // $0.00066)
      const cost = costOf(span)
      assert.strictEqual(cost["botanu.cost.status"], "priced")
      assert.strictEqual(cost["botanu.cost.input_usd"], 0.20745)
      assert.strictEqual(cost["botanu.cost.cache_write_usd"], 0.20661)
      assert.strictEqual(cost["botanu.cost.output_usd"], 0.00135)
      assert.strictEqual(cost["botanu.cost.total_usd"], 0.2088)
      assert.deepStrictEqual(warningsOf(span), [])
    })))

  it.live("through the real @anthropic-ai/sdk client: the same totals", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        fake.next("/v1/messages", 200, response)
        const message = yield* anthropicMessages(fake)({
          model: "claude-sonnet-4-6",
          max_tokens: 4096,
          messages: [{ role: "user", content: "Now say hello." }]
        })
        assert.strictEqual(message.usage.input_tokens, 180)
        const a = (yield* spanNamed("chat claude-sonnet-4-6")).attributes
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 55376)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 90)
        assert.strictEqual(a["botanu.usage.iterations"], 2)
        assert.strictEqual(a["botanu.cost.total_usd"], 0.2088)
      })
    ))
})

describe("Anthropic advisor iterations on another model (pydantic-ai test_anthropic_advisor_tool.yaml)", () => {
  const response = fixture("anthropic-advisor")

  it("Usage.extract: the advisor's model, and thinking tokens as reasoning", () => {
    const usage = Usage.extract(response, "anthropic.messages")
    assert.strictEqual(usage.reasoningTokens, 28)
    assert.deepStrictEqual(usage.iterations?.map((step) => [step.type, step.model, step.inputTokens]), [
      ["message", undefined, 1128],
      ["advisor_message", "claude-opus-4-8", 2518],
      ["message", undefined, 1262]
    ])
    assert.deepStrictEqual(usage.warnings, [])
  })

  it.effect("each iteration is priced at its own model and the costs are added up", () =>
    withTracking(Effect.gen(function*() {
      yield* tracked(response, "anthropic", "claude-sonnet-5", "anthropic.messages")
      const span = yield* spanNamed("chat claude-sonnet-5")
      // Input 1,128 + 2,518 + 1,262 = 4,908 (the top level: 2,390, the advisor left out); output 110 + 22 + 11 = 143,
      // of which 28 thinking tokens (reported at the top level only, part of the summed output).
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 4908,
        "gen_ai.usage.output_tokens": 143,
        "gen_ai.usage.reasoning.output_tokens": 28,
        "botanu.usage.iterations": 3,
        "botanu.request.service_tier": "standard"
      })
      // claude-sonnet-5: $2/M in, $10/M out; claude-opus-4-8 (the advisor): $5/M in, $25/M out.
      // 1,128 x $2/M = $0.002256, 110 x $10/M = $0.0011; 2,518 x $5/M = $0.01259, 22 x $25/M = $0.00055;
      // 1,262 x $2/M = $0.002524, 11 x $10/M = $0.00011
      // input = $0.01737, output = $0.00176, total = $0.01913
      const cost = costOf(span)
      assert.strictEqual(cost["botanu.cost.status"], "priced")
      assert.strictEqual(cost["botanu.cost.input_usd"], 0.01737)
      assert.strictEqual(cost["botanu.cost.output_usd"], 0.00176)
      assert.strictEqual(cost["botanu.cost.total_usd"], 0.01913)
    })))
})

describe("Anthropic server_tool_use.web_search_requests (pydantic-ai test_anthropic_web_search_tool.yaml)", () => {
  const response = fixture("anthropic-web-search")

  it.effect("the web search is recorded and priced as a tool fee", () =>
    withTracking(Effect.gen(function*() {
      assert.strictEqual(Usage.extract(response).webSearches, 1)
      yield* tracked(response, "anthropic", "claude-sonnet-4-0")
      const span = yield* spanNamed("chat claude-sonnet-4-0")
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 8984,
        "gen_ai.usage.output_tokens": 520,
        "botanu.usage.web_searches": 1,
        "botanu.request.service_tier": "standard"
      })
      // claude-sonnet-4-0: 8,984 x $3/M = $0.026952, 520 x $15/M = $0.0078, 1 search x $10/k = $0.01
      // total = $0.044752 (genai-prices' own figure for this payload)
      const cost = costOf(span)
      assert.strictEqual(cost["botanu.cost.input_usd"], 0.026952)
      assert.strictEqual(cost["botanu.cost.output_usd"], 0.0078)
      assert.strictEqual(cost["botanu.cost.tool_fees_usd"], 0.01)
      assert.strictEqual(cost["botanu.cost.total_usd"], 0.044752)
    })))
})

describe("Anthropic 1-hour cache writes (test/fixtures/anthropic-messages-cache.json)", () => {
  it.effect("the 1-hour part of the writes is recorded beside the total", () =>
    withTracking(Effect.gen(function*() {
      yield* tracked(fixture("anthropic-messages-cache"), "anthropic", "claude-3-5-sonnet-20241022")
      const span = yield* spanNamed("chat claude-3-5-sonnet-20241022")
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 1300,
        "gen_ai.usage.output_tokens": 50,
        "gen_ai.usage.cache_read.input_tokens": 800,
        "botanu.usage.cache_read_tokens": 800,
        "botanu.usage.cached_tokens": 800,
        "gen_ai.usage.cache_creation.input_tokens": 300,
        "botanu.usage.cache_write_tokens": 300,
        "botanu.usage.cache_write_1h_tokens": 100,
        "botanu.request.service_tier": "standard"
      })
      // claude-3-5-sonnet: input 200 x $3/M = $0.0006, reads 800 x $0.30/M = $0.00024, 5-minute writes
      // 200 x $3.75/M = $0.00075, 1-hour writes 100 x $6/M = $0.0006; input = $0.00219; output 50 x $15/M = $0.00075
      const cost = costOf(span)
      assert.strictEqual(cost["botanu.cost.cache_write_1h_usd"], 0.0006)
      assert.strictEqual(cost["botanu.cost.cache_write_usd"], 0.00135)
      assert.strictEqual(cost["botanu.cost.input_usd"], 0.00219)
      assert.strictEqual(cost["botanu.cost.total_usd"], 0.00294)
    })))
})

describe("Cohere v2 chat with cached tokens (pydantic-ai test_cohere/test_request_usage_with_cached_tokens.yaml)", () => {
  const response = fixture("cohere-chat-v2-cached")

  it("Usage.extract takes the billed units, and no cache read larger than them", () => {
    assert.deepStrictEqual(Usage.extract(response), {
      inputTokens: 2406,
      outputTokens: 2,
      inputIncludesCache: true,
      responseId: "0bf8e1a5-2af6-4014-a539-c12363a043a3",
      finishReasons: ["COMPLETE"],
      warnings: []
    })
    // Without billed units, the prompt's token count is the input, and its cached tokens are part of it.
    const { billed_units: _, ...usage } = response.usage
    const tokensOnly = Usage.extract({ ...response, usage }, "cohere.chat")
    assert.strictEqual(tokensOnly.inputTokens, 2935)
    assert.strictEqual(tokensOnly.cacheReadTokens, 2928)
  })

  it.effect("a tracked call prices what Cohere bills", () =>
    withTracking(Effect.gen(function*() {
      yield* tracked(response, "cohere", "command-r7b-12-2024")
      const span = yield* spanNamed("chat command-r7b-12-2024")
      // Before: cache reads 2,928 recorded beside 2,406 billed input tokens, larger than the input they belong to.
      assert.deepStrictEqual(usageOf(span), { "gen_ai.usage.input_tokens": 2406, "gen_ai.usage.output_tokens": 2 })
      // command-r7b: 2,406 x $0.0375/M = $0.000090225, 2 x $0.15/M = $0.0000003, total $0.000090525
      const cost = costOf(span)
      assert.strictEqual(cost["botanu.cost.input_usd"], 0.000090225)
      assert.strictEqual(cost["botanu.cost.output_usd"], 0.0000003)
      assert.strictEqual(cost["botanu.cost.total_usd"], 0.000090525)
    })))
})

describe("Gemini audio and image by modality", () => {
  // genai-prices tests/test_extract_usage.py, `gemini_response_data_caching` (expected $0.0012873 there).
  const cachedAudio = fixture("gemini-cached-audio")
  // pydantic-ai test_google/test_google_vertexai_image_generation.yaml (usage as recorded, the image stubbed).
  const imageOutput = fixture("gemini-image-output")

  it("Usage.extract reads the prompt, cache and candidates details", () => {
    assert.deepStrictEqual(Usage.extract(cachedAudio), {
      inputTokens: 14152,
      outputTokens: 129,
      cacheReadTokens: 12239,
      inputAudioTokens: 150,
      cacheReadAudioTokens: 129,
      reasoningTokens: 69,
      outputAudioTokens: 10,
      inputIncludesCache: true,
      responseModel: "gemini-2.5-flash",
      warnings: []
    })
    assert.strictEqual(Usage.extract(imageOutput).outputImageTokens, 1290)
    // A modality without a count (Gemini leaves out zeros), PDF pages as images, and the tool-use prompt's details.
    const usage = Usage.extract({
      usageMetadata: {
        promptTokenCount: 268,
        toolUsePromptTokenCount: 30,
        promptTokensDetails: [{ modality: "AUDIO" }, { modality: "TEXT", tokenCount: 10 }, {
          modality: "DOCUMENT",
          tokenCount: 258
        }],
        toolUsePromptTokensDetails: [{ modality: "IMAGE", tokenCount: 30 }],
        candidatesTokenCount: 5
      }
    }, "gemini")
    assert.isUndefined(usage.inputAudioTokens)
    assert.strictEqual(usage.inputImageTokens, 288)
    assert.deepStrictEqual(usage.warnings, [])
  })

  it.effect("cached audio is priced at the audio cache rate: genai-prices' own $0.0012873", () =>
    withTracking(Effect.gen(function*() {
      yield* tracked(cachedAudio, "gemini", "gemini-2.5-flash")
      const span = yield* spanNamed("chat gemini-2.5-flash")
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 14152,
        "gen_ai.usage.output_tokens": 129,
        "gen_ai.usage.cache_read.input_tokens": 12239,
        "botanu.usage.cache_read_tokens": 12239,
        "botanu.usage.cached_tokens": 12239,
        "botanu.usage.input_audio_tokens": 150,
        "botanu.usage.cache_read_audio_tokens": 129,
        "gen_ai.usage.reasoning.output_tokens": 69,
        "botanu.usage.output_audio_tokens": 10
      })
      // gemini-2.5-flash: input $0.30/M, cache reads $0.03/M, audio input $1/M, audio cache reads $0.10/M, output
      // $2.50/M (no audio output rate). Each token once, at its most specific rate:
      // cached audio 129 x $0.10/M = $0.0000129; other audio 150 - 129 = 21 x $1/M = $0.000021
      // other cache reads 12,239 - 129 = 12,110 x $0.03/M = $0.0003633
      // other input 14,152 - 12,239 - 21 = 1,892 x $0.30/M = $0.0005676; input = $0.0009648
      // output 129 x $2.50/M = $0.0003225; total = $0.0012873
      const cost = costOf(span)
      assert.strictEqual(cost["botanu.cost.input_usd"], 0.0009648)
      assert.strictEqual(cost["botanu.cost.output_usd"], 0.0003225)
      assert.strictEqual(cost["botanu.cost.total_usd"], 0.0012873)
    })))

  it.effect("image output is priced at the image rate", () =>
    withTracking(Effect.gen(function*() {
      yield* tracked(imageOutput, "gemini", "gemini-2.5-flash-image")
      const span = yield* spanNamed("chat gemini-2.5-flash-image")
      assert.strictEqual(span.attributes["botanu.usage.output_image_tokens"], 1290)
      // gemini-2.5-flash-image: input 9 x $0.30/M = $0.0000027; image output 1,290 x $30/M = $0.0387, the other
      // 5 x $2.50/M = $0.0000125; output = $0.0387125; total = $0.0387152
      const cost = costOf(span)
      assert.strictEqual(cost["botanu.cost.output_usd"], 0.0387125)
      assert.strictEqual(cost["botanu.cost.total_usd"], 0.0387152)
    })))
})

describe("OpenAI audio tokens and service tier (pydantic-ai test_openai/test_openai_audio_url_input.yaml)", () => {
  const response = fixture("openai-chat-audio")

  it("Usage.extract reads the details' audio and image tokens and the tier", () => {
    const usage = Usage.extract(response)
    assert.deepInclude(usage, {
      inputTokens: 81,
      outputTokens: 72,
      inputAudioTokens: 69,
      inputImageTokens: 0,
      outputAudioTokens: 0,
      serviceTier: "default"
    })
  })

  it.live("through the real openai client: audio input and the tier under both names", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        fake.next("/v1/chat/completions", 200, response)
        const chat = llmInstrumented({ provider: "openai" }).promise(
          (params: OpenAI.ChatCompletionCreateParamsNonStreaming) => openaiClient(fake).chat.completions.create(params)
        )
        yield* chat({ model: "gpt-4o-audio-preview", messages: [{ role: "user", content: "What is this?" }] })
        const span = yield* spanNamed("chat gpt-4o-audio-preview")
        assert.deepStrictEqual(usageOf(span), {
          "gen_ai.usage.input_tokens": 81,
          "gen_ai.usage.output_tokens": 72,
          "botanu.usage.input_audio_tokens": 69,
          "botanu.request.service_tier": "default",
          "openai.response.service_tier": "default"
        })
        // gpt-4o-audio-preview has no audio rates in the catalogue: 81 x $2.50/M = $0.0002025, 72 x $10/M =
        // $0.00072, total $0.0009225
        assert.strictEqual(span.attributes["botanu.cost.total_usd"], 0.0009225)
      })
    ))
})

describe("OpenAI Responses web_search_call items (pydantic-ai test_openai_responses_model_web_search_tool.yaml)", () => {
  const response = fixture("openai-responses-web-search")

  it.live("through the real openai client: one web search, priced as a tool fee", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        assert.strictEqual(Usage.extract(response).webSearches, 1)
        fake.next("/v1/responses", 200, response)
        const client = openaiClient(fake)
        yield* Effect.promise(() => client.responses.create({ model: "gpt-4o", input: "Latest news in Iceland?" }))
          .pipe(trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom: "openai.responses" }))
        const span = yield* spanNamed("chat gpt-4o")
        assert.deepStrictEqual(usageOf(span), {
          "gen_ai.usage.input_tokens": 319,
          "gen_ai.usage.output_tokens": 556,
          "botanu.usage.web_searches": 1,
          "botanu.request.service_tier": "default",
          "openai.response.service_tier": "default"
        })
        // gpt-4o: 319 x $2.50/M = $0.0007975, 556 x $10/M = $0.00556, 1 search x $10/k = $0.01; total $0.0163575
        const cost = costOf(span)
        assert.strictEqual(cost["botanu.cost.tool_fees_usd"], 0.01)
        assert.strictEqual(cost["botanu.cost.total_usd"], 0.0163575)
      })
    ))
})

describe("setTokens with the new parts", () => {
  const setTokens = (usage: Parameters<LlmTracker.Service["setTokens"]>[0], provider = "openai", model = "m") =>
    Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens(usage)).pipe(trackLlmCall({ provider, model }))

  it.effect("every part is recorded under its name; a tier other than OpenAI's is botanu's only", () =>
    withTracking(Effect.gen(function*() {
      yield* setTokens({
        inputTokens: 1000,
        outputTokens: 300,
        cacheReadTokens: 400,
        cacheWriteTokens: 200,
        cacheWrite1hTokens: 50,
        inputAudioTokens: 120,
        cacheReadAudioTokens: 20,
        inputImageTokens: 80,
        cacheReadImageTokens: 10,
        reasoningTokens: 100,
        outputAudioTokens: 60,
        outputImageTokens: 40,
        webSearches: 2,
        serviceTier: "priority"
      }, "anthropic")
      const span = yield* spanNamed("chat m")
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 1600,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.cache_read.input_tokens": 400,
        "botanu.usage.cache_read_tokens": 400,
        "botanu.usage.cached_tokens": 400,
        "gen_ai.usage.cache_creation.input_tokens": 200,
        "botanu.usage.cache_write_tokens": 200,
        "botanu.usage.cache_write_1h_tokens": 50,
        "botanu.usage.input_audio_tokens": 120,
        "botanu.usage.cache_read_audio_tokens": 20,
        "botanu.usage.input_image_tokens": 80,
        "botanu.usage.cache_read_image_tokens": 10,
        "gen_ai.usage.reasoning.output_tokens": 100,
        "botanu.usage.output_audio_tokens": 60,
        "botanu.usage.output_image_tokens": 40,
        "botanu.usage.web_searches": 2,
        "botanu.request.service_tier": "priority"
      })
      assert.deepStrictEqual(warningsOf(span), [])
    })))

  it.effect("a part larger than its whole is clamped to what the whole leaves, with a warning", () =>
    withTracking(Effect.gen(function*() {
      yield* setTokens({
        inputTokens: 8,
        outputTokens: 10,
        cachedTokens: 1344,
        cacheWriteTokens: 5,
        cacheWrite1hTokens: 9,
        inputAudioTokens: 6,
        inputImageTokens: 6,
        cacheReadAudioTokens: 7,
        reasoningTokens: 6,
        outputAudioTokens: 6
      })
      const span = yield* spanNamed("chat m")
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 8,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 8,
        "botanu.usage.cache_read_tokens": 8,
        "botanu.usage.cached_tokens": 8,
        "botanu.usage.input_audio_tokens": 6,
        "botanu.usage.input_image_tokens": 2,
        "botanu.usage.cache_read_audio_tokens": 6,
        "gen_ai.usage.reasoning.output_tokens": 6,
        "botanu.usage.output_audio_tokens": 4
      })
      assert.deepStrictEqual(warningsOf(span), [
        "cachedTokens: 1344 exceeds inputTokens 8, of which they are a part; recorded as 8",
        "cacheWriteTokens: 5 exceeds inputTokens 8 less cachedTokens 8, of which they are a part; recorded as 0",
        "cacheWrite1hTokens: 9 exceeds cacheWriteTokens 0, of which they are a part; recorded as 0",
        "inputImageTokens: 6 exceeds inputTokens 8 less inputAudioTokens 6, of which they are a part; recorded as 2",
        "cacheReadAudioTokens: 7 exceeds inputAudioTokens 6, of which they are a part; recorded as 6",
        "outputAudioTokens: 6 exceeds outputTokens 10 less reasoningTokens 6, of which they are a part; recorded as 4"
      ])
    })))

  it.effect("iterations: each validated, summed into the call's totals with the call's input semantics", () =>
    withTracking(Effect.gen(function*() {
      yield* setTokens({
        inputTokens: 10,
        outputTokens: 1,
        reasoningTokens: 3,
        iterations: [
          { type: "compaction", inputTokens: 100, cacheWriteTokens: 50, outputTokens: 20 },
          "not an iteration" as never,
          { type: "advisor_message", model: "big-model", inputTokens: -1, outputTokens: 4, cacheReadTokens: 30 },
          { inputTokens: 10, outputTokens: 1 }
        ]
      }, "anthropic")
      const span = yield* spanNamed("chat m")
      // Anthropic semantics: each iteration's input gets its own cache added (100 + 50 written); the advisor step's
      // input is dropped, so its cache reads have no input to join: 150 + 10 = 160.
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 160,
        "gen_ai.usage.output_tokens": 25,
        "gen_ai.usage.cache_read.input_tokens": 30,
        "botanu.usage.cache_read_tokens": 30,
        "botanu.usage.cached_tokens": 30,
        "gen_ai.usage.cache_creation.input_tokens": 50,
        "botanu.usage.cache_write_tokens": 50,
        "gen_ai.usage.reasoning.output_tokens": 3,
        "botanu.usage.iterations": 3
      })
      assert.deepStrictEqual(warningsOf(span), [
        "iterations[1]: a string of 16 chars is not a record; dropped",
        "iterations[2].inputTokens: -1 is negative; dropped"
      ])
    })))

  it.effect("a top level above the sum of its iterations is noted; an empty list is no iterations", () =>
    withTracking(Effect.gen(function*() {
      yield* setTokens(
        { inputTokens: 500, outputTokens: 5, iterations: [{ inputTokens: 100, outputTokens: 5 }] },
        "x",
        "a"
      )
      yield* setTokens({ inputTokens: 500, outputTokens: 5, iterations: [] }, "x", "b")
      const summed = yield* spanNamed("chat a")
      assert.strictEqual(summed.attributes["gen_ai.usage.input_tokens"], 100)
      assert.deepStrictEqual(warningsOf(summed), [
        "inputTokens: 500 exceeds the sum of the iterations 100; the sum is recorded"
      ])
      const none = yield* spanNamed("chat b")
      assert.strictEqual(none.attributes["gen_ai.usage.input_tokens"], 500)
      assert.isUndefined(none.attributes["botanu.usage.iterations"])
      assert.deepStrictEqual(warningsOf(none), [])
    })))
})

describe("a function extractor's new fields are made clean", () => {
  it.effect("counts, the tier and iterations through the same checks as the built-in extractors'", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.succeed(null).pipe(trackLlmCall({
        provider: "openai",
        model: "m",
        usageFrom: () => ({
          inputTokens: 10,
          outputTokens: 2,
          inputAudioTokens: 4.4,
          webSearches: -2,
          serviceTier: 7 as unknown as string,
          iterations: [{ inputTokens: 10, outputTokens: 2, model: "m2" }, 5 as never]
        })
      }))
      const span = yield* spanNamed("chat m")
      assert.deepStrictEqual(usageOf(span), {
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2,
        "botanu.usage.input_audio_tokens": 4,
        "botanu.usage.iterations": 1
      })
      // (The models are not in the catalogue: the cost warning beside these is not what this test is about.)
      assert.deepStrictEqual(warningsOf(span).filter((line) => line.startsWith("usage")), [
        "usage (custom): inputAudioTokens: 4.4 is not an integer; rounded to 4",
        "usage (custom): webSearches: -2 is negative; dropped",
        "usage (custom): serviceTier: 7 is not a string; dropped",
        "usage (custom): iterations[1]: 5 is not a record; ignored"
      ])
    })))
})

/** Runs a test against a fresh fake provider, with a fresh tracking layer (as test/RealClients.test.ts does). */
const withProvider = <A, E>(
  f: (fake: FakeProvider) => Effect.Effect<A, E, TrackingTest.TrackingTest | HttpClient.HttpClient | Scope.Scope>
) =>
  Effect.flatMap(fakeProvider, f).pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))
  )

const anthropicMessages = (fake: FakeProvider) =>
  llmInstrumented({ provider: "anthropic" }).promise((params: Anthropic.MessageCreateParamsNonStreaming) =>
    anthropicClient(fake).messages.create(params)
  )
