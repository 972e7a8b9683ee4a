import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Chunk, Effect, Stream } from "effect"
import { readFileSync } from "node:fs"
import type { ExtractedUsage } from "../src/index.js"
import { LlmStream, TrackingTest, trackLlmStream } from "../src/index.js"
import { resolve as resolveStream } from "../src/internal/streamUsage.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

// Streams recorded by other projects' test suites, trimmed (text, search results and tool input shortened; counts,
// ids and field names as recorded), one event per item, as the SDKs hand them to the app:
// - bedrock-converse-stream: vercel/ai packages/amazon-bedrock/src/__fixtures__/bedrock-text.chunks.txt (the AWS
//   SDK v3's `ConverseStreamOutput` members; the wire events also carry a `p` padding field, which the SDK drops).
// - bedrock-converse-stream-cache: the same events with the cache fields of the AWS SDK's `TokenUsage`
//   (`cacheReadInputTokens`, `cacheWriteInputTokens`, `cacheDetails` by TTL) and `ConverseStreamMetadataEvent`'s
//   `serviceTier`, as @aws-sdk/client-bedrock-runtime 3.1164.0 types them; the counts are those of
//   fixtures/bedrock-converse.json.
// - cohere-chat-stream: vercel/ai packages/cohere/src/__fixtures__/cohere-text.chunks.txt (Cohere v2 chat SSE).
// - cohere-chat-stream-sdk: the same events as the cohere-ai SDK hands them (its serializers camel-case every field,
//   src/serialization/types/Usage.ts and ChatMessageEndEventDelta.ts in cohere-ai/cohere-typescript).
// - anthropic-messages-stream-web-search, -cache, -compaction: vercel/ai packages/anthropic/src/__fixtures__/
//   anthropic-web-search-tool.1, anthropic-code-execution-20260120-prompt-cache.1 and anthropic-compaction.1
//   (.chunks.txt).
// - openai-responses-stream-web-search: vercel/ai packages/openai/src/responses/__fixtures__/
//   openai-web-search-tool.1.chunks.txt (response objects cut to the fields that bear on usage).
const fixture = (name: string): Array<any> =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"))

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

/** Runs `chunks` as one tracked stream to its end and hands back its span (the spans before it are forgotten). */
const streamed = (chunks: ReadonlyArray<unknown>, options: LlmStream.LlmStreamOptions) =>
  Effect.gen(function*() {
    yield* TrackingTest.reset
    yield* Stream.runDrain(trackLlmStream(Stream.fromIterable(chunks), options))
    return yield* spanNamed(`chat ${options.model}`)
  })

/** The same, with the consumer taking only the first `n` chunks (one chunk per pull, as an SDK's stream arrives). */
const abandoned = (chunks: ReadonlyArray<unknown>, n: number, options: LlmStream.LlmStreamOptions) =>
  Effect.gen(function*() {
    yield* TrackingTest.reset
    const taken = yield* Stream.fromIterable(chunks).pipe(
      Stream.rechunk(1),
      trackLlmStream(options),
      Stream.take(n),
      Stream.runCollect
    )
    assert.strictEqual(Chunk.size(taken), n)
    return yield* spanNamed(`chat ${options.model}`)
  })

const usd = (span: ReadableSpan, key: string) => span.attributes[`botanu.cost.${key}`]

/** What a stream extractor reads from `chunks`, without a span. */
const read = (from: LlmStream.StreamUsageFrom, chunks: ReadonlyArray<unknown>, complete = true): ExtractedUsage => {
  const make = resolveStream(from, (line) => assert.fail(line))!
  const usage = make()
  for (const chunk of chunks) usage.observe(chunk)
  return usage.result(complete)
}

describe("bedrock.converse: ConverseStream events as the AWS SDK hands them", () => {
  const model = "anthropic.claude-3-5-sonnet-20240620-v1:0"

  it.effect("a recorded stream, by name and through auto: the usage of `metadata`, the stop reason, the cost", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("bedrock-converse-stream")
      assert.strictEqual(LlmStream.detect(events[0]), "bedrock.converse")
      for (const event of events) assert.strictEqual(LlmStream.detect(event), "bedrock.converse")
      for (const usageFrom of ["bedrock.converse", "auto"] as const) {
        const span = yield* streamed(events, { provider: "aws.bedrock", model, usageFrom })
        const a = span.attributes
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 22, usageFrom)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 55)
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["end_turn"])
        assert.isUndefined(a["gen_ai.response.id"])
        assert.isUndefined(a["botanu.usage.partial"])
        assert.deepStrictEqual(warningsOf(span), [])
        // Catalogue (aws, regional.anthropic.claude-3-5-sonnet-20240620-v1:0): $3 / $15 per million input / output.
        // 22 x $3/M = $0.000066; 55 x $15/M = $0.000825; total $0.000891.
        assert.strictEqual(a["botanu.cost.status"], "priced")
        assert.strictEqual(usd(span, "input_usd"), 0.000066)
        assert.strictEqual(usd(span, "output_usd"), 0.000825)
        assert.strictEqual(usd(span, "total_usd"), 0.000891)
      }
    })))

  it.effect("cache reads, cache writes by TTL and the service tier; `inputTokens` excludes the cache", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("bedrock-converse-stream-cache")
      assert.deepStrictEqual(read("bedrock.converse", events), {
        inputTokens: 120,
        outputTokens: 9,
        cacheReadTokens: 1536,
        cacheWriteTokens: 512,
        cacheWrite1hTokens: 384,
        inputIncludesCache: false,
        serviceTier: "default",
        finishReasons: ["end_turn"]
      })
      const span = yield* streamed(events, { provider: "aws.bedrock", model, usageFrom: "auto" })
      const a = span.attributes
      // 120 uncached + 1,536 cache reads + 512 cache writes, as `totalTokens` (2,177 with the 9 output) says.
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 2168)
      assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 1536)
      assert.strictEqual(a["gen_ai.usage.cache_creation.input_tokens"], 512)
      assert.strictEqual(a["botanu.usage.cache_write_1h_tokens"], 384)
      assert.strictEqual(a["botanu.request.service_tier"], "default")
      assert.deepStrictEqual(warningsOf(span), [])
    })))

  it("cache details alone give the writes; a TTL of another name is a 5-minute write, with a warning", () => {
    const metadata = (usage: Record<string, unknown>) => [{ metadata: { metrics: { latencyMs: 1 }, usage } }]
    const alone = read(
      "bedrock.converse",
      metadata({
        inputTokens: 10,
        outputTokens: 2,
        cacheDetails: [{ inputTokens: 1000, ttl: "1h" }, { inputTokens: 500, ttl: "5m" }]
      })
    )
    assert.strictEqual(alone.cacheWriteTokens, 1500)
    assert.strictEqual(alone.cacheWrite1hTokens, 1000)
    assert.isUndefined(alone.warnings)
    const odd = read(
      "bedrock.converse",
      metadata({
        inputTokens: 10,
        outputTokens: 2,
        cacheWriteInputTokens: 40,
        cacheDetails: [{ inputTokens: 40, ttl: "24h" }]
      })
    )
    assert.strictEqual(odd.cacheWriteTokens, 40)
    assert.strictEqual(odd.cacheWrite1hTokens, 0)
    assert.deepStrictEqual(odd.warnings, [
      "usage (bedrock.converse, stream): metadata.usage.cacheDetails[0].ttl: a string of 3 chars is not 1h or 5m; " +
      "a 5-minute write"
    ])
    const mismatch = read(
      "bedrock.converse",
      metadata({
        inputTokens: 10,
        outputTokens: 2,
        cacheWriteInputTokens: 40,
        cacheDetails: [{ inputTokens: 30, ttl: "1h" }]
      })
    )
    assert.strictEqual(mismatch.cacheWriteTokens, 40)
    assert.strictEqual(mismatch.cacheWrite1hTokens, 30)
    assert.deepStrictEqual(mismatch.warnings, [
      "usage (bedrock.converse, stream): metadata.usage.cacheDetails adds up to 30, not cacheWriteInputTokens 40"
    ])
  })

  it.effect("abandoned before `metadata`: partial, the stop reason seen, no usage and no warning for it", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("bedrock-converse-stream")
      const span = yield* abandoned(events, 6, { provider: "aws.bedrock", model, usageFrom: "auto" })
      const a = span.attributes
      assert.strictEqual(a["botanu.usage.partial"], true)
      assert.strictEqual(a["botanu.stream.chunks"], 6)
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["end_turn"])
      assert.isUndefined(a["gen_ai.usage.input_tokens"])
      assert.strictEqual(a["botanu.cost.status"], "no_usage")
      assert.deepStrictEqual(warningsOf(span), [])
    })))

  it.effect("a completed stream that lost its `metadata` says so", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("bedrock-converse-stream").slice(0, -1)
      const span = yield* streamed(events, { provider: "aws.bedrock", model, usageFrom: "bedrock.converse" })
      assert.deepStrictEqual(warningsOf(span), ["usage (bedrock.converse, stream): no chunk carried usage"])
      assert.strictEqual(span.attributes["botanu.cost.status"], "no_usage")
    })))
})

describe("cohere.chat: Cohere v2 chat stream events", () => {
  const model = "command-a-03-2025"

  it.effect("a recorded stream with cached tokens, by name and through auto: billed units, not cache hits", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("cohere-chat-stream")
      for (const event of events) assert.strictEqual(LlmStream.detect(event), "cohere.chat")
      for (const usageFrom of ["cohere.chat", "auto"] as const) {
        const span = yield* streamed(events, { provider: "cohere", model, usageFrom })
        const a = span.attributes
        // Billed: 12 input, 7 output. `tokens` (507 / 10) counts the whole prompt template, and its 448 cached
        // tokens are hits within those 507: beside the 12 billed input tokens they are no cache read.
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 12, usageFrom)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 7)
        assert.isUndefined(a["gen_ai.usage.cache_read.input_tokens"])
        assert.strictEqual(a["gen_ai.response.id"], "321d178c-2c12-44d3-ae42-2f5510f6b1cc")
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["COMPLETE"])
        assert.deepStrictEqual(warningsOf(span), [])
        // Catalogue (cohere, command-a-03-2025): $2.50 / $10 per million input / output.
        // 12 x $2.50/M = $0.00003; 7 x $10/M = $0.00007; total $0.0001. Had the 448 cache hits been recorded as
        // reads of the input, 448 input tokens would be billed ($0.00112 + $0.00007 = $0.00119, 11.9 times).
        assert.strictEqual(a["botanu.cost.status"], "priced")
        assert.strictEqual(usd(span, "input_usd"), 0.00003)
        assert.strictEqual(usd(span, "output_usd"), 0.00007)
        assert.strictEqual(usd(span, "total_usd"), 0.0001)
        assert.isUndefined(usd(span, "cache_read_usd"))
      }
    })))

  it.effect("the cohere-ai SDK's camel-cased events read the same", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("cohere-chat-stream-sdk")
      assert.deepStrictEqual(read("auto", events), read("cohere.chat", fixture("cohere-chat-stream")))
      assert.deepStrictEqual(read("cohere.chat", events), {
        inputTokens: 12,
        outputTokens: 7,
        inputIncludesCache: true,
        responseId: "321d178c-2c12-44d3-ae42-2f5510f6b1cc",
        finishReasons: ["COMPLETE"]
      })
      const span = yield* streamed(events, { provider: "cohere", model, usageFrom: "auto" })
      assert.strictEqual(usd(span, "total_usd"), 0.0001)
    })))

  it.effect("without billed units, `tokens` is the usage and `cached_tokens` its cache read, never more than it", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("cohere-chat-stream")
      const end = (
        usage: unknown
      ) => [...events.slice(0, -1), { type: "message-end", delta: { finish_reason: "COMPLETE", usage } }]
      const tokensOnly = end({ tokens: { input_tokens: 507, output_tokens: 10 }, cached_tokens: 448 })
      assert.deepStrictEqual(read("cohere.chat", tokensOnly), {
        inputTokens: 507,
        outputTokens: 10,
        cacheReadTokens: 448,
        inputIncludesCache: true,
        responseId: "321d178c-2c12-44d3-ae42-2f5510f6b1cc",
        finishReasons: ["COMPLETE"]
      })
      const span = yield* streamed(tokensOnly, { provider: "cohere", model, usageFrom: "cohere.chat" })
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 507)
      assert.strictEqual(span.attributes["gen_ai.usage.cache_read.input_tokens"], 448)
      // More cache hits than input, as the recorded response has them beside its billed units: recorded as
      // the whole input, with a warning, never as more.
      const over = yield* streamed(
        end({ tokens: { input_tokens: 8, output_tokens: 3 }, cached_tokens: 1344 }),
        { provider: "cohere", model, usageFrom: "cohere.chat" }
      )
      assert.strictEqual(over.attributes["gen_ai.usage.input_tokens"], 8)
      assert.isAtMost(over.attributes["gen_ai.usage.cache_read.input_tokens"] as number, 8)
      assert.isAbove(warningsOf(over).length, 0)
      // 8 x $2.50/M + 3 x $10/M = $0.00002 + $0.00003 = $0.00005, whatever share of the 8 was cached (no cache rate).
      assert.strictEqual(usd(over, "total_usd"), 0.00005)
      const neither = read("cohere.chat", end({ cached_tokens: 3 }))
      assert.deepStrictEqual(neither.warnings, [
        "usage (cohere.chat, stream): delta.usage has neither billed_units nor tokens",
        "usage (cohere.chat, stream): no chunk carried usage"
      ])
    })))

  it.effect("abandoned before `message-end`: partial, the id seen, no usage", () =>
    withTracking(Effect.gen(function*() {
      const span = yield* abandoned(fixture("cohere-chat-stream"), 3, { provider: "cohere", model, usageFrom: "auto" })
      const a = span.attributes
      assert.strictEqual(a["botanu.usage.partial"], true)
      assert.strictEqual(a["gen_ai.response.id"], "321d178c-2c12-44d3-ae42-2f5510f6b1cc")
      assert.isUndefined(a["gen_ai.usage.input_tokens"])
      assert.isUndefined(a["gen_ai.response.finish_reasons"])
      assert.strictEqual(a["botanu.cost.status"], "no_usage")
      assert.deepStrictEqual(warningsOf(span), [])
    })))
})

describe("the issue's new parts, read from the streams that carry them", () => {
  it.effect("anthropic: web searches of `message_delta`, the service tier of `message_start`, cumulative input", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("anthropic-messages-stream-web-search")
      const model = "claude-sonnet-4-20250514"
      const span = yield* streamed(events, { provider: "anthropic", model, usageFrom: "auto" })
      const a = span.attributes
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 15665)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 795)
      assert.strictEqual(a["botanu.usage.web_searches"], 1)
      assert.strictEqual(a["botanu.request.service_tier"], "standard")
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["end_turn"])
      assert.deepStrictEqual(warningsOf(span), [])
      // Catalogue (anthropic, claude-sonnet-4-0): $3 / $15 per million input / output, $10 per thousand searches.
      // 15,665 x $3/M = $0.046995; 795 x $15/M = $0.011925; 1 search = $0.01; total $0.06892.
      assert.strictEqual(a["botanu.cost.status"], "priced")
      assert.strictEqual(usd(span, "input_usd"), 0.046995)
      assert.strictEqual(usd(span, "output_usd"), 0.011925)
      assert.strictEqual(usd(span, "tool_fees_usd"), 0.01)
      assert.strictEqual(usd(span, "total_usd"), 0.06892)
    })))

  it.effect("anthropic: the 1-hour cache writes of `message_start`, thinking tokens of `message_delta`", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("anthropic-messages-stream-cache")
      // The recorded stream wrote its cache for 5 minutes, on a model the catalogue does not list yet: here 2,000 of
      // the 3,068 writes are 1-hour writes, 150 of the output is thinking, and the model is claude-sonnet-4-0.
      const model = "claude-sonnet-4-20250514"
      const start = events[0]
      start.message.model = model
      start.message.usage.cache_creation = { ephemeral_5m_input_tokens: 1068, ephemeral_1h_input_tokens: 2000 }
      events[events.length - 2].usage.output_tokens_details.thinking_tokens = 150
      const span = yield* streamed(events, { provider: "anthropic", model, usageFrom: "anthropic.messages" })
      const a = span.attributes
      // Cumulative counts of `message_delta`: 6 uncached + 6,289 cache reads + 3,337 cache writes.
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 9632)
      assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 6289)
      assert.strictEqual(a["gen_ai.usage.cache_creation.input_tokens"], 3337)
      assert.strictEqual(a["botanu.usage.cache_write_1h_tokens"], 2000)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 198)
      assert.strictEqual(a["gen_ai.usage.reasoning.output_tokens"], 150)
      // Catalogue (claude-sonnet-4-0): input $3, cache reads $0.30, 5-minute writes $3.75, 1-hour writes $6, output
      // $15 per million. 6 x $3 = $18; 6,289 x $0.30 = $1,886.70; 1,337 x $3.75 = $5,013.75; 2,000 x $6 = $12,000;
      // input $18,918.45 per million = $0.01891845. 198 x $15 = $2,970 per million = $0.00297. Total $0.02188845.
      assert.strictEqual(usd(span, "cache_write_1h_usd"), 0.012)
      assert.strictEqual(usd(span, "input_usd"), 0.01891845)
      assert.strictEqual(usd(span, "output_usd"), 0.00297)
      assert.strictEqual(usd(span, "total_usd"), 0.02188845)
    })))

  it.effect("anthropic: a `message_delta` that lists the call's iterations is read whole, each step billed", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("anthropic-messages-stream-compaction")
      const model = "claude-opus-4-6"
      const span = yield* streamed(events, { provider: "anthropic", model, usageFrom: "auto" })
      const a = span.attributes
      // The compaction step read the whole conversation: 60,385 + 612 input, 522 + 2,819 output.
      assert.strictEqual(a["botanu.usage.iterations"], 2)
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 60997)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 3341)
      // Catalogue (claude-opus-4-6, under 200k tokens): $5 / $25 per million input / output.
      // 60,997 x $5/M = $0.304985; 3,341 x $25/M = $0.083525; total $0.38851.
      assert.strictEqual(usd(span, "input_usd"), 0.304985)
      assert.strictEqual(usd(span, "output_usd"), 0.083525)
      assert.strictEqual(usd(span, "total_usd"), 0.38851)
      assert.deepStrictEqual(warningsOf(span), [])
    })))

  it.effect("openai.responses: each finished web search counts, also when the stream is abandoned midway", () =>
    withTracking(Effect.gen(function*() {
      const events = fixture("openai-responses-stream-web-search")
      const model = "gpt-5-nano"
      const span = yield* streamed(events, { provider: "openai", model, usageFrom: "openai.responses" })
      const a = span.attributes
      assert.strictEqual(a["botanu.usage.web_searches"], 4)
      // `response.created` says the tier asked for (`auto`), `response.completed` the tier that answered.
      assert.strictEqual(a["botanu.request.service_tier"], "default")
      assert.strictEqual(a["openai.response.service_tier"], "default")
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 60093)
      assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 34560)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 4080)
      assert.deepStrictEqual(warningsOf(span), [])
      // Catalogue (openai, gpt-5-nano): input $0.05, cache reads $0.005, output $0.40 per million, $10 per
      // thousand web searches. 25,533 x $0.05 + 34,560 x $0.005 = $1,276.65 + $172.80 = $1,449.45 per million;
      // 4,080 x $0.40 = $1,632 per million; 4 searches = $0.04; total $0.00144945 + $0.001632 + $0.04 = $0.04308145.
      assert.strictEqual(usd(span, "input_usd"), 0.00144945)
      assert.strictEqual(usd(span, "output_usd"), 0.001632)
      assert.strictEqual(usd(span, "tool_fees_usd"), 0.04)
      assert.strictEqual(usd(span, "total_usd"), 0.04308145)
      // Two searches had finished when the consumer stopped: they were billed, so the stream's usage has them.
      const second = events.findIndex((event, i) =>
        event.type === "response.output_item.done" && event.item.type === "web_search_call" &&
        events.slice(0, i).some((e) => e.type === "response.output_item.done" && e.item.type === "web_search_call")
      )
      const partial = read("auto", events.slice(0, second + 1), false)
      assert.strictEqual(partial.webSearches, 2)
      assert.isUndefined(partial.inputTokens)
      assert.isUndefined(partial.warnings)
      // The completed response's own count replaces the one kept while streaming: never added twice.
      assert.strictEqual(read("auto", events).webSearches, 4)
    })))

  it.effect("openai.chat: audio parts of the last chunk's usage, the service tier of every chunk", () =>
    withTracking(Effect.gen(function*() {
      // The shape of a gpt-4o-audio-preview stream (`modalities: ["text", "audio"]`), as the openai SDK types it.
      const model = "gpt-4o-audio-preview"
      const base = {
        id: "chatcmpl-AwRqDZoTBvRHSo4yXUI8D7FxQdwlX",
        object: "chat.completion.chunk",
        created: 1738591725,
        model: "gpt-4o-audio-preview-2024-12-17",
        service_tier: "default",
        system_fingerprint: "fp_58887f9c5a"
      }
      const chunks = [
        { ...base, choices: [{ index: 0, delta: { role: "assistant", audio: { id: "audio_1", transcript: "" } } }] },
        { ...base, choices: [{ index: 0, delta: { audio: { transcript: "Paris." } }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        {
          ...base,
          choices: [],
          usage: {
            prompt_tokens: 47,
            completion_tokens: 96,
            total_tokens: 143,
            prompt_tokens_details: { cached_tokens: 0, audio_tokens: 35 },
            completion_tokens_details: {
              reasoning_tokens: 0,
              audio_tokens: 80,
              accepted_prediction_tokens: 0,
              rejected_prediction_tokens: 0
            }
          }
        }
      ]
      const span = yield* streamed(chunks, { provider: "openai", model, usageFrom: "auto" })
      const a = span.attributes
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 47)
      assert.strictEqual(a["botanu.usage.input_audio_tokens"], 35)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 96)
      assert.strictEqual(a["botanu.usage.output_audio_tokens"], 80)
      assert.strictEqual(a["botanu.request.service_tier"], "default")
      assert.deepStrictEqual(warningsOf(span), [])
      // Abandoned before the usage chunk: the tier is known already.
      const partial = read("openai.chat", chunks.slice(0, 2), false)
      assert.strictEqual(partial.serviceTier, "default")
      assert.isUndefined(partial.inputAudioTokens)
    })))

  it.effect("gemini: the audio parts of `usageMetadata`'s details by modality, cache reads included", () =>
    withTracking(Effect.gen(function*() {
      const model = "gemini-2.5-flash"
      const usageMetadata = {
        promptTokenCount: 1000,
        candidatesTokenCount: 20,
        totalTokenCount: 1020,
        cachedContentTokenCount: 800,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 100 }, { modality: "AUDIO", tokenCount: 900 }],
        cacheTokensDetails: [{ modality: "TEXT", tokenCount: 50 }, { modality: "AUDIO", tokenCount: 750 }],
        candidatesTokensDetails: [{ modality: "TEXT", tokenCount: 20 }]
      }
      const chunks = [
        { candidates: [{ content: { parts: [{ text: "The" }], role: "model" }, index: 0 }], modelVersion: model },
        {
          candidates: [{
            content: { parts: [{ text: " speaker asks for directions." }], role: "model" },
            finishReason: "STOP",
            index: 0
          }],
          usageMetadata,
          modelVersion: model,
          responseId: "VkH2aIbVB7_l1e8P4rrl0A4"
        }
      ]
      const span = yield* streamed(chunks, { provider: "gcp.gemini", model, usageFrom: "auto" })
      const a = span.attributes
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 1000)
      assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 800)
      assert.strictEqual(a["botanu.usage.input_audio_tokens"], 900)
      assert.strictEqual(a["botanu.usage.cache_read_audio_tokens"], 750)
      assert.deepStrictEqual(warningsOf(span), [])
      // Catalogue (google, gemini-2.5-flash): text input $0.30, text cache reads $0.03, audio input $1, audio cache
      // reads $0.10, output $2.50 per million. Text: 50 uncached x $0.30 + 50 cached x $0.03 = $16.50; audio: 150
      // uncached x $1 + 750 cached x $0.10 = $225; input $241.50 per million = $0.0002415; output 20 x $2.50 = $50
      // per million = $0.00005; total $0.0002915.
      assert.strictEqual(usd(span, "input_usd"), 0.0002415)
      assert.strictEqual(usd(span, "output_usd"), 0.00005)
      assert.strictEqual(usd(span, "total_usd"), 0.0002915)
    })))
})

/** A recorded stream's events with every count of its usage set to `v`. */
const dirtyStreams = {
  "bedrock.converse": (v: unknown) => [
    { messageStart: { role: "assistant" } },
    { messageStop: { stopReason: "end_turn" } },
    {
      metadata: {
        metrics: { latencyMs: 1 },
        usage: {
          inputTokens: v,
          outputTokens: v,
          cacheReadInputTokens: v,
          cacheWriteInputTokens: v,
          cacheDetails: [{ inputTokens: v, ttl: "1h" }]
        }
      }
    }
  ],
  "cohere.chat": (v: unknown) => [
    { id: "c-1", type: "message-start", delta: { message: { role: "assistant" } } },
    {
      type: "message-end",
      delta: {
        finish_reason: "COMPLETE",
        usage: { billed_units: { input_tokens: v, output_tokens: v }, cached_tokens: v }
      }
    }
  ]
} as const

const countKeys = ["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "cacheWrite1hTokens"] as const

describe("the new stream extractors: clean counts only", () => {
  for (const name of ["bedrock.converse", "cohere.chat"] as const) {
    it(`${name}: every bad count is dropped with a warning, fractions are rounded, warnings are bounded`, () => {
      const chunks = dirtyStreams[name]
      assert.strictEqual(LlmStream.detect(chunks(1)[0]), name)
      assert.include(LlmStream.extractorNames, name)
      const clean = read(name, chunks(7))
      assert.isUndefined(clean.warnings)
      assert.strictEqual(clean.inputTokens, 7)
      for (const value of [1e300, 2 ** 53, Infinity, -1, Number.NaN, "12", {}]) {
        for (const from of [name, "auto" as const]) {
          const usage = read(from, chunks(value))
          for (const key of countKeys) assert.isUndefined(usage[key], `${from} ${String(value)} ${key}`)
          assert.isAbove(usage.warnings!.length, 0)
          assert.isAtMost(usage.warnings!.length, 8)
          for (const line of usage.warnings!) assert.isTrue(line.startsWith(`usage (${from}, stream): `), line)
        }
      }
      const rounded = read(name, chunks(2.6))
      assert.strictEqual(rounded.inputTokens, 3)
      assert.strictEqual(rounded.outputTokens, 3)
    })
  }

  it("a malformed event is one warning however often it comes; a chunk that throws when read costs that chunk", () => {
    const bedrock = read("bedrock.converse", [
      { messageStart: { role: "assistant" } },
      "not an event",
      "not an event",
      { metadata: { usage: { inputTokens: 3, outputTokens: 1 } } }
    ])
    assert.deepStrictEqual(bedrock.warnings, [
      "usage (bedrock.converse, stream): an event is a string of 12 chars, not a record"
    ])
    assert.strictEqual(bedrock.inputTokens, 3)
    const hostile = new Proxy({}, {
      get: () => {
        throw new Error("trap")
      }
    })
    const cohere = read("cohere.chat", [
      { id: "c-1", type: "message-start" },
      { type: "message-end", delta: hostile },
      {
        type: "message-end",
        delta: { finish_reason: "COMPLETE", usage: { billed_units: { input_tokens: 4, output_tokens: 2 } } }
      }
    ])
    assert.strictEqual(cohere.inputTokens, 4)
    assert.deepStrictEqual(cohere.warnings, ["usage (cohere.chat, stream): reading a chunk failed (trap); ignored"])
    // Neither shape is taken for another API's.
    assert.isUndefined(LlmStream.detect({ metadata: { requestId: "r-1" } }))
    assert.isUndefined(LlmStream.detect({ type: "message" }))
    assert.strictEqual(LlmStream.detect({ type: "message_start", message: {} }), "anthropic.messages")
  })
})

describe("chunks read as they are handed over", () => {
  /** `fields` as an instance whose fields are getters on its prototype, as an SDK's own chunk class would have them. */
  const asInstance = (fields: Record<string, unknown>): unknown => {
    const proto = {}
    for (const key of Object.keys(fields)) Object.defineProperty(proto, key, { get: () => fields[key] })
    return Object.create(proto)
  }

  const openaiChunks = [
    {
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      model: "gpt-4o-2024-08-06",
      service_tier: "default",
      choices: [{ index: 0, delta: { role: "assistant", content: "Par" }, finish_reason: null }]
    },
    // A compatible server's last chunk: its usage beside the finish reason.
    {
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      model: "gpt-4o-2024-08-06",
      service_tier: "default",
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 } }
    }
  ]
  const geminiChunks = [
    { responseId: "r-1", modelVersion: "gemini-2.5-flash", candidates: [{ index: 0, content: { parts: [] } }] },
    {
      responseId: "r-1",
      modelVersion: "gemini-2.5-flash",
      candidates: [{ index: 0, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 }
    }
  ]

  for (
    const [name, chunks] of [["openai.chat", openaiChunks], ["gemini", geminiChunks]] as const
  ) {
    it(`${name}: fields that are getters of the chunk's class read as own fields do; a finish reason counts once`, () => {
      const plain = read("auto", chunks)
      assert.deepStrictEqual(read("auto", chunks.map(asInstance)), plain)
      assert.deepStrictEqual(read(name, chunks.map(asInstance)), plain)
      assert.strictEqual(plain.inputTokens, 12)
      assert.strictEqual(plain.outputTokens, 3)
      assert.deepStrictEqual(plain.finishReasons, [name === "gemini" ? "STOP" : "stop"])
      assert.isUndefined(plain.warnings)
    })
  }
})
