import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { Chunk, Effect, Layer, Schedule, Stream } from "effect"
import * as EffectAi from "../src/EffectAi.js"
import { botanuWorkflow, TrackingTest } from "../src/index.js"
import {
  anthropicEvents,
  clients,
  expectedCost,
  type FakeAi,
  fakeAi,
  openAi429,
  openAiEvents,
  TestPrices
} from "./utils/fakeEffectAi.js"
import { metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"
import { childNames, parentOf } from "./utils/spans.js"

const mini = "gpt-4o-mini-2024-07-18"
const claude = "claude-sonnet-4-5-20250929"

const withFake = <A, E, R>(f: (fake: FakeAi) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(fakeAi, (fake) => f(fake).pipe(Effect.provide(clients(fake)))).pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(TrackingTest.layer, TestPrices))
  )

const gpt = (model = "gpt-4o-mini") => EffectAi.model(OpenAiLanguageModel.model("gpt-4o-mini"), { model })
const sonnet = EffectAi.model(AnthropicLanguageModel.model("claude-sonnet-4-5"), { model: "claude-sonnet-4-5" })
const untrackedGpt = OpenAiLanguageModel.model("gpt-4o-mini")

const openAiStream = {
  id: "resp_s1",
  model: mini,
  items: [{ type: "message", id: "msg_s1", text: "Paris is the capital of France." }],
  usage: { input: 100, cached: 40, output: 12 }
} as const

const claudeStream = {
  id: "msg_s1",
  model: claude,
  content: [{ type: "text", text: "Hello there, I am Claude." }],
  stopReason: "end_turn",
  usage: { input: 50, cacheRead: 800, cacheWrite: 100, output: 20 }
} as const

const spansNamed = (name: string) =>
  Effect.map(TrackingTest.finishedSpans, (spans) => spans.filter((span) => span.name === name))

/** A part as the consumer sees it, without the identity of the objects. */
const plain = (part: Response.AnyPart) => JSON.parse(JSON.stringify(part))

const collect = <E, R>(stream: Stream.Stream<Response.AnyPart, E, R>) =>
  Effect.map(Stream.runCollect(stream), (parts) => Chunk.toArray(parts).map(plain))

describe("EffectAi streamText", () => {
  it.live("OpenAI SSE, complete: one streamed call with time to first part, usage, id, model, finish, exact cost", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const model = uniqueName("gpt-4o-mini")
        fake.reply("/v1/responses", { events: openAiEvents(openAiStream) }, { events: openAiEvents(openAiStream) })
        const tracked = yield* collect(
          LanguageModel.streamText({ prompt: "Capital?" }).pipe(Stream.provideLayer(gpt(model)))
        )
        const untracked = yield* collect(
          LanguageModel.streamText({ prompt: "Capital?" }).pipe(Stream.provideLayer(untrackedGpt))
        )
        // The parts pass through as they are (timestamps aside, none of these carries one).
        assert.deepStrictEqual(
          tracked.map((part) => part.type),
          ["response-metadata", "text-start", "text-delta", "text-delta", "text-end", "finish"]
        )
        assert.deepStrictEqual(tracked, untracked)
        assert.isTrue(fake.requests.every((request) => request.body.stream === true))

        const spans = yield* TrackingTest.finishedSpans
        const [chat] = yield* spansNamed(`chat ${model}`)
        assert.strictEqual(chat.kind, SpanKind.CLIENT)
        assert.isUndefined(parentOf(spans, chat))
        // The provider's request runs in the stream, inside the chat span.
        assert.sameMembers(childNames(spans, chat), ["LanguageModel.streamText", "http.client POST"])
        const a = chat.attributes
        assert.strictEqual(a["gen_ai.request.stream"], true)
        assert.strictEqual(a["botanu.request.streaming"], true)
        assert.strictEqual(a["botanu.stream.chunks"], 6)
        assert.isAbove(a["gen_ai.response.time_to_first_chunk"] as number, 0)
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 100)
        assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 40)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 12)
        assert.strictEqual(a["gen_ai.response.id"], "resp_s1")
        assert.strictEqual(a["gen_ai.response.model"], mini)
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
        assert.isUndefined(a["botanu.usage.partial"])
        assert.isUndefined(a["botanu.tracking.warnings"])
        assert.strictEqual(a["botanu.cost.total_usd"], expectedCost(mini, { uncached: 60, cacheRead: 40, output: 12 }))

        const metrics = yield* TrackingTest.collectMetrics
        const first = pointsWhere(
          metricNamed(metrics, "gen_ai.client.operation.time_to_first_chunk"),
          "gen_ai.request.model",
          model
        )
        assert.strictEqual((first[0].value as { count: number }).count, 1)
        const perChunk = pointsWhere(
          metricNamed(metrics, "gen_ai.client.operation.time_per_output_chunk"),
          "gen_ai.request.model",
          model
        )
        assert.strictEqual(perChunk.reduce((sum, point) => sum + (point.value as { count: number }).count, 0), 5)
      })
    ))

  it.live("Anthropic SSE, complete: input and cache counts from message_start, output from message_delta", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/messages", { events: anthropicEvents(claudeStream) })
        const parts = yield* collect(LanguageModel.streamText({ prompt: "Hello" }).pipe(Stream.provideLayer(sonnet)))
        assert.strictEqual(
          parts.filter((part) => part.type === "text-delta").map((part) => part.delta).join(""),
          "Hello there, I am Claude."
        )
        assert.strictEqual(fake.requests[0].path, "/v1/messages")
        assert.strictEqual(fake.requests[0].body.stream, true)
        const [chat] = yield* spansNamed("chat claude-sonnet-4-5")
        const a = chat.attributes
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 950)
        assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 800)
        assert.strictEqual(a["gen_ai.usage.cache_creation.input_tokens"], 100)
        // message_start says 1; message_delta's cumulative 20 replaces it.
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 20)
        assert.strictEqual(a["gen_ai.response.id"], "msg_s1")
        assert.strictEqual(a["gen_ai.response.model"], claude)
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
        assert.strictEqual(
          a["botanu.cost.total_usd"],
          expectedCost(claude, { uncached: 50, cacheRead: 800, cacheWrite: 100, output: 20 })
        )
      })
    ))

  it.live("abandoned by its consumer: the span ends, partial, with what the parts said so far; the connection closes", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", { events: openAiEvents(openAiStream), pauseMs: 40 })
        fake.reply("/v1/messages", { events: anthropicEvents(claudeStream), pauseMs: 40 })
        const firstDelta = <R>(layer: Layer.Layer<LanguageModel.LanguageModel, never, R>) =>
          LanguageModel.streamText({ prompt: "Hello" }).pipe(
            Stream.provideLayer(layer),
            Stream.filter((part) => part.type === "text-delta"),
            Stream.runHead
          )
        const gptDelta = yield* firstDelta(gpt())
        const claudeDelta = yield* firstDelta(sonnet)
        assert.strictEqual(
          gptDelta._tag === "Some" && gptDelta.value.type === "text-delta" && gptDelta.value.delta,
          "Paris "
        )
        assert.strictEqual(
          claudeDelta._tag === "Some" && claudeDelta.value.type === "text-delta" && claudeDelta.value.delta,
          "Hello "
        )

        const [openAi] = yield* spansNamed("chat gpt-4o-mini")
        const [anthropic] = yield* spansNamed("chat claude-sonnet-4-5")
        for (const span of [openAi, anthropic]) {
          assert.strictEqual(span.status.code, SpanStatusCode.OK)
          assert.strictEqual(span.attributes["botanu.usage.partial"], true)
          // @effect/ai's providers report usage in the finish part only: none was seen.
          assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
          assert.isUndefined(span.attributes["gen_ai.response.finish_reasons"])
          assert.strictEqual(span.attributes["botanu.cost.status"], "no_usage")
        }
        assert.strictEqual(openAi.attributes["gen_ai.response.id"], "resp_s1")
        assert.strictEqual(openAi.attributes["gen_ai.response.model"], mini)
        assert.strictEqual(anthropic.attributes["gen_ai.response.id"], "msg_s1")
        // Abandoning the stream closed the connection before the provider was done.
        yield* Effect.sleep("100 millis")
        assert.deepStrictEqual(fake.streams.map((stream) => stream.closedEarly), [true, true])
      })
    ))

  it.live("a stream that fails (429): the span's error type, status and request id; a retry is attempt 2", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAi429("req_stream_429"), { events: openAiEvents(openAiStream) })
        const parts = yield* LanguageModel.streamText({ prompt: "Capital?" }).pipe(
          Stream.provideLayer(gpt()),
          Stream.runCollect,
          Effect.retry(Schedule.recurs(1))
        )
        assert.strictEqual(Chunk.size(parts), 6)
        const [failed, succeeded] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(failed.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(failed.attributes["error.type"], "HttpResponseError")
        assert.strictEqual(failed.attributes["http.response.status_code"], 429)
        assert.strictEqual(failed.attributes["botanu.provider.request_id"], "req_stream_429")
        assert.strictEqual(failed.attributes["botanu.request.attempt"], 1)
        assert.strictEqual(succeeded.attributes["botanu.request.attempt"], 2)
        assert.strictEqual(succeeded.attributes["gen_ai.usage.output_tokens"], 12)
      })
    ))

  it.live("a per-request model override and a workflow run apply to streams too", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/messages", { events: anthropicEvents(claudeStream) })
        yield* LanguageModel.streamText({ prompt: "Hello" }).pipe(
          Stream.provideLayer(sonnet),
          Stream.runDrain,
          AnthropicLanguageModel.withConfigOverride({ model: "claude-opus-4-1" }),
          botanuWorkflow("greeting", { eventId: "E-1", customerId: "acme" })
        )
        assert.strictEqual(fake.requests[0].body.model, "claude-opus-4-1")
        const [chat] = yield* spansNamed("chat claude-opus-4-1")
        assert.strictEqual(chat.attributes["gen_ai.request.model"], "claude-opus-4-1")
        const [run] = yield* spansNamed("botanu.run/greeting")
        assert.strictEqual(run.attributes["botanu.run.llm_calls"], 1)
        assert.strictEqual(run.attributes["botanu.run.input_tokens"], 950)
        assert.strictEqual(chat.parentSpanContext?.spanId, run.spanContext().spanId)
      })
    ))
})
