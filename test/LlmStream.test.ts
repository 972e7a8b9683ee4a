import Anthropic from "@anthropic-ai/sdk"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import {
  Cause,
  Chunk,
  ConfigProvider,
  Context,
  Data,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Schedule,
  Stream,
  TestClock,
  Tracer
} from "effect"
import type * as Scope from "effect/Scope"
import type OpenAI from "openai"
import { botanuWorkflow, LlmStream, LlmTracker, retryTracked, TrackingTest, trackLlmStream } from "../src/index.js"
import {
  anthropicClient,
  anthropicStreamEvents,
  type FakeProvider,
  fakeProvider,
  openaiChatChunks,
  openaiClient,
  sse
} from "./utils/fakeProvider.js"
import { attemptsByStatus, metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"
import { exceptionEvents, spanNamed, warningsOf } from "./utils/spans.js"

class Overloaded extends Data.TaggedError("Overloaded")<{ readonly message: string }> {}

/**
 * Runs `self` with a tracer that remembers every span it starts (the tracking layer's tracer underneath), and fails
 * the test when any of them is still open once `self` is done: no span may leak, whatever ended the stream.
 */
const noOpenSpans = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.tracer, (base) => {
    const started: Array<Tracer.Span> = []
    const tracer = Tracer.make({
      span: (...args: Parameters<Tracer.Tracer["span"]>) => {
        const span = base.span(...args)
        started.push(span)
        return span
      },
      context: base.context
    })
    return Effect.withTracer(self, tracer).pipe(Effect.ensuring(Effect.sync(() => {
      const open = started.filter((span) => span.status._tag === "Started").map((span) => span.name)
      assert.deepStrictEqual(open, [], "spans left open")
    })))
  })

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(noOpenSpans(self), TrackingTest.layer)

const withProvider = <A, E>(
  f: (fake: FakeProvider) => Effect.Effect<A, E, TrackingTest.TrackingTest | HttpClient.HttpClient | Scope.Scope>
) =>
  noOpenSpans(Effect.flatMap(fakeProvider, f)).pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))
  )

const assertPriced = (span: ReadableSpan) => {
  const a = span.attributes
  assert.strictEqual(a["botanu.cost.status"], "priced")
  assert.isAbove(a["botanu.cost.total_usd"] as number, 0)
}

const anthropicEvents = () => anthropicStreamEvents("claude-3-5-sonnet-20241022").map(([, data]) => data as any)

/** Emits `items` one at a time, `gaps[i]` after the previous one (TestClock time). */
const paced = <A>(items: ReadonlyArray<A>, gaps: ReadonlyArray<Duration.DurationInput>) =>
  Stream.fromIterable(items.map((item, i) => [item, gaps[i] ?? 0] as const)).pipe(
    Stream.mapEffect(([item, gap]) => Effect.as(Effect.sleep(gap), item))
  )

/** Runs an effect whose streams sleep, moving the TestClock until it is done. */
const runWithClock = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.exit(effect))
    for (let i = 0; i < 10; i++) yield* TestClock.adjust(Duration.seconds(1))
    return yield* Fiber.join(fiber)
  })

const failureOf = <A, E>(exit: Exit.Exit<A, E>): unknown =>
  Exit.isFailure(exit) ? Cause.originalError(Option.getOrThrow(Cause.failureOption(exit.cause))) : undefined

describe("trackLlmStream over a synthetic Stream (TestClock)", () => {
  it.effect("the call ends when the stream ends, not when the consumer's scope closes", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("ends-early")
      yield* Effect.scoped(Effect.gen(function*() {
        const pull = yield* Stream.toPull(
          trackLlmStream(paced(["a", "b"], [Duration.millis(20), Duration.millis(20)]), { provider: "openai", model })
        )
        const pulling = yield* Effect.fork(Effect.forever(pull).pipe(Effect.either))
        yield* TestClock.adjust(Duration.millis(40))
        const ended = yield* Fiber.join(pulling)
        assert.isTrue(ended._tag === "Left" && Option.isNone(ended.left), "the stream reached its end")
        // The consumer keeps its scope open, doing its own work: that is not the call's time.
        yield* TestClock.adjust(Duration.millis(100))
      }))
      const span = yield* spanNamed(`chat ${model}`)
      assert.strictEqual(Number(span.duration[0]) * 1000 + span.duration[1] / 1e6, 40)
      assert.isUndefined(span.attributes["botanu.usage.partial"])
      const metrics = yield* TrackingTest.collectMetrics
      const durations = pointsWhere(
        metricNamed(metrics, "gen_ai.client.operation.duration"),
        "gen_ai.request.model",
        model
      )
      assert.strictEqual(durations.length, 1)
      assert.strictEqual((durations[0] as any).value.sum, 0.04)
    })))

  it.effect("chunks pass through as they are; span, usage, ids, cost, time to first chunk and per chunk", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("gpt-4o-stream")
      const chunks = openaiChatChunks("gpt-4o-2024-08-06")
      const tracked = paced(chunks, ["250 millis", "100 millis", "100 millis", "100 millis"]).pipe(
        trackLlmStream({ provider: "openai", model, usageFrom: "openai.chat" })
      )
      const exit = yield* runWithClock(Stream.runCollect(tracked))
      const out = Chunk.toReadonlyArray(Exit.getOrElse(exit, () => Chunk.empty()))
      assert.strictEqual(out.length, 4)
      out.forEach((chunk, i) => assert.strictEqual(chunk, chunks[i]))
      const span = yield* spanNamed(`chat ${model}`)
      const a = span.attributes
      assert.strictEqual(a["gen_ai.request.stream"], true)
      assert.strictEqual(a["botanu.request.streaming"], true)
      assert.strictEqual(a["gen_ai.response.time_to_first_chunk"], 0.25)
      assert.strictEqual(a["botanu.stream.chunks"], 4)
      assert.isUndefined(a["botanu.usage.partial"])
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 1117)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 46)
      assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 1024)
      assert.strictEqual(a["gen_ai.response.id"], "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
      assert.strictEqual(a["gen_ai.response.model"], "gpt-4o-2024-08-06")
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
      assert.deepStrictEqual(warningsOf(span), [])
      assertPriced(span)
      assert.strictEqual(span.kind, 2) // CLIENT
      const durationMs = Number(span.duration[0]) * 1000 + span.duration[1] / 1e6
      assert.strictEqual(durationMs, 550)

      const metrics = yield* TrackingTest.collectMetrics
      const ttft = pointsWhere(
        metricNamed(metrics, "gen_ai.client.operation.time_to_first_chunk"),
        "gen_ai.request.model",
        model
      )
      assert.strictEqual(ttft.length, 1)
      assert.strictEqual((ttft[0].value as any).count, 1)
      assert.closeTo((ttft[0].value as any).sum, 0.25, 1e-9)
      assert.strictEqual(ttft[0].attributes["gen_ai.response.model"], "gpt-4o-2024-08-06")
      const perChunk = pointsWhere(
        metricNamed(metrics, "gen_ai.client.operation.time_per_output_chunk"),
        "gen_ai.request.model",
        model
      )
      assert.strictEqual(perChunk.length, 1)
      assert.strictEqual((perChunk[0].value as any).count, 3)
      assert.closeTo((perChunk[0].value as any).sum, 0.3, 1e-9)
      const units = metrics.scopeMetrics.flatMap((scope) => scope.metrics)
        .filter((m) => m.descriptor.name.includes("_chunk"))
        .map((m) => m.descriptor.unit)
      assert.deepStrictEqual(units, ["s", "s"])
      const durations = pointsWhere(
        metricNamed(metrics, "gen_ai.client.operation.duration"),
        "gen_ai.request.model",
        model
      )
      assert.closeTo((durations[0].value as any).sum, 0.55, 1e-9)
      assert.deepStrictEqual(yield* attemptsByStatus(model), { success: 1 })
    })))

  it.effect("the span opens when the stream runs, not when it is built: one span per run", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("runs")
      const tracked = trackLlmStream(Stream.fromIterable(anthropicEvents()), {
        provider: "anthropic",
        model,
        usageFrom: "anthropic.messages"
      })
      assert.deepStrictEqual(yield* TrackingTest.finishedSpans, [])
      yield* Stream.runDrain(tracked)
      yield* Stream.runDrain(tracked)
      const spans = (yield* TrackingTest.finishedSpans).filter((span) => span.name === `chat ${model}`)
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        // message_delta's output count is cumulative: it replaces message_start's 1, it is not added to it.
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 2095)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 503)
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["end_turn"])
        assert.strictEqual(span.attributes["gen_ai.response.id"], "msg_013Zva2CMHLNnXjNJJKqJ2EF")
        assert.strictEqual(span.attributes["gen_ai.response.time_to_first_chunk"], 0)
      }
    })))

  it.effect("abandoned by its consumer (Stream.take): ended once, the usage seen so far, marked partial", () =>
    withTracking(Effect.gen(function*() {
      const model = "claude-3-5-sonnet"
      // One event per Effect chunk, as an SDK's stream arrives: what came from upstream is what was received.
      const taken = yield* Stream.fromIterable(anthropicEvents()).pipe(
        Stream.rechunk(1),
        trackLlmStream({ provider: "anthropic", model, usageFrom: "anthropic.messages" }),
        Stream.take(2),
        Stream.runCollect
      )
      assert.strictEqual(Chunk.size(taken), 2)
      const span = yield* spanNamed(`chat ${model}`)
      const a = span.attributes
      assert.strictEqual(a["botanu.usage.partial"], true)
      assert.strictEqual(a["botanu.stream.chunks"], 2)
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 2095)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 1)
      assert.isUndefined(a["gen_ai.response.finish_reasons"])
      assert.strictEqual(span.status.code, SpanStatusCode.OK)
      assert.isUndefined(a["error.type"])
      // Spend is not lost: the partial usage is priced.
      assertPriced(span)
      assert.deepStrictEqual(warningsOf(span), [])
    })))

  it.effect("a failure midway: the stream's error as it is, the span in error once, partial usage", () =>
    withTracking(Effect.gen(function*() {
      const model = "claude-3-5-sonnet"
      const error = new Overloaded({ message: "Overloaded" })
      const source = Stream.concat(Stream.fromIterable(anthropicEvents().slice(0, 4)), Stream.fail(error))
      const seen: Array<unknown> = []
      const exit = yield* source.pipe(
        trackLlmStream({ provider: "anthropic", model, usageFrom: "anthropic.messages" }),
        Stream.runForEach((chunk) => Effect.sync(() => seen.push(chunk))),
        Effect.exit
      )
      assert.strictEqual(seen.length, 4)
      assert.strictEqual(failureOf(exit), error)
      const span = yield* spanNamed(`chat ${model}`)
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(span.attributes["error.type"], "Overloaded")
      assert.strictEqual(span.attributes["botanu.usage.partial"], true)
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 2095)
      assert.strictEqual(exceptionEvents(span).length, 1)
      assertPriced(span)
    })))

  it.effect("interrupted midway: ended once as interrupted, partial usage", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("interrupted")
      const source = Stream.concat(Stream.fromIterable(anthropicEvents().slice(0, 2)), Stream.never)
      const fiber = yield* source.pipe(
        trackLlmStream({ provider: "anthropic", model, usageFrom: "anthropic.messages" }),
        Stream.runDrain,
        Effect.fork
      )
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.interrupt(fiber)
      const span = yield* spanNamed(`chat ${model}`)
      assert.strictEqual(span.attributes["error.type"], "interrupted")
      assert.deepStrictEqual(span.status, { code: SpanStatusCode.ERROR, message: "interrupted" })
      assert.strictEqual(span.attributes["status.interrupted"], true)
      assert.strictEqual(exceptionEvents(span).length, 0)
      assert.strictEqual(span.attributes["botanu.usage.partial"], true)
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 2095)
      assert.strictEqual(span.attributes["botanu.stream.chunks"], 2)
    })))

  it.effect("Gemini chunks, Responses API events, auto and a function of one's own", () =>
    withTracking(Effect.gen(function*() {
      const gemini = [
        { candidates: [{ content: { parts: [{ text: "Par" }] }, index: 0 }], modelVersion: "gemini-2.0-flash-001" },
        {
          candidates: [{ content: { parts: [{ text: "is" }] }, finishReason: "STOP", index: 0 }],
          usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 },
          modelVersion: "gemini-2.0-flash-001",
          responseId: "gem-1"
        }
      ]
      const response = { id: "resp_1", object: "response", model: "gpt-4o-2024-08-06", status: "in_progress" }
      const responses = [
        { type: "response.created", sequence_number: 0, response },
        { type: "response.output_text.delta", sequence_number: 1, delta: "Paris" },
        {
          type: "response.completed",
          sequence_number: 2,
          response: {
            ...response,
            status: "completed",
            usage: {
              input_tokens: 36,
              input_tokens_details: { cached_tokens: 0 },
              output_tokens: 87,
              output_tokens_details: { reasoning_tokens: 0 },
              total_tokens: 123
            }
          }
        }
      ]
      const run = (
        name: string,
        chunks: ReadonlyArray<unknown>,
        provider: string,
        usageFrom: LlmStream.StreamUsageFrom
      ) => Stream.runDrain(trackLlmStream(Stream.fromIterable(chunks), { provider, model: name, usageFrom }))
      for (const from of ["gemini", "auto"] as const) {
        const model = uniqueName(`gemini-${from}`)
        yield* run(model, gemini, "gcp.gemini", from)
        const span = yield* spanNamed(`chat ${model}`)
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 12)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 3)
        assert.strictEqual(span.attributes["gen_ai.response.model"], "gemini-2.0-flash-001")
        assert.strictEqual(span.attributes["gen_ai.response.id"], "gem-1")
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["STOP"])
      }
      for (const from of ["openai.responses", "auto"] as const) {
        const model = uniqueName(`responses-${from}`)
        yield* run(model, responses, "openai", from)
        const span = yield* spanNamed(`chat ${model}`)
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 36)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 87)
        assert.strictEqual(span.attributes["gen_ai.response.id"], "resp_1")
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["completed"])
        assert.deepStrictEqual(warningsOf(span), [])
      }
      const custom = uniqueName("custom")
      yield* run(custom, [{ n: 1 }, { n: 5 }, "boom"], "openai", (chunk) => {
        if (chunk === "boom") throw new Error("not a chunk")
        return { inputTokens: 10, outputTokens: chunk.n }
      })
      const span = yield* spanNamed(`chat ${custom}`)
      assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 5)
      assert.deepStrictEqual(warningsOf(span), [
        "usage (custom, stream): reading a chunk failed (not a chunk); ignored"
      ])
      assert.deepStrictEqual(LlmStream.detect(gemini[0]), "gemini")
      assert.deepStrictEqual(LlmStream.extractorNames, [
        "openai.chat",
        "openai.responses",
        "anthropic.messages",
        "gemini",
        "bedrock.converse",
        "cohere.chat"
      ])
    })))

  it.effect("a completed stream that never reported usage says so; an unknown extractor is a warning", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("no-usage")
      yield* Stream.runDrain(
        trackLlmStream(Stream.fromIterable(openaiChatChunks("gpt-4o").slice(0, 3)), {
          provider: "openai",
          model,
          usageFrom: "openai.chat"
        })
      )
      const span = yield* spanNamed(`chat ${model}`)
      assert.deepStrictEqual(warningsOf(span), ["usage (openai.chat, stream): no chunk carried usage"])
      assert.strictEqual(span.attributes["botanu.cost.status"], "no_usage")
      const other = uniqueName("bad-from")
      yield* Stream.runDrain(
        trackLlmStream(Stream.make(1), { provider: "openai", model: other, usageFrom: "mistral.xyz" as any })
      )
      assert.deepStrictEqual(warningsOf(yield* spanNamed(`chat ${other}`)), [
        "usageFrom: a string of 11 chars is not a known stream extractor; usage is not read from the chunks"
      ])
    })))

  it.effect("the stream's effects run inside the span, with the LlmTracker; what they set by hand wins", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("hand")
      const source = Stream.fromEffect(Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: 7, outputTokens: 8 })
        yield* tracker.setRequestParams({ temperature: 0.5 })
        yield* Effect.void.pipe(Effect.withSpan("inner"))
        return openaiChatChunks("gpt-4o")[3]
      }))
      yield* Stream.runDrain(trackLlmStream(source, { provider: "openai", model, usageFrom: "openai.chat" }))
      const span = yield* spanNamed(`chat ${model}`)
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 7)
      assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 8)
      assert.strictEqual(span.attributes["gen_ai.request.temperature"], 0.5)
      const inner = yield* spanNamed("inner")
      assert.strictEqual(inner.parentSpanContext?.spanId, span.spanContext().spanId)
    })))

  it.effect("services given around the tracked stream reach its effects; after it, neither span nor tracker", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("services")
      class Region extends Context.Tag("test/Region")<Region, string>() {}
      const source = Stream.fromIterable(openaiChatChunks("gpt-4o")).pipe(
        Stream.mapEffect((chunk) => Effect.as(Region, chunk)),
        Stream.tap(() =>
          Effect.flatMap(
            Effect.all([Region, Effect.currentSpan]),
            ([region, span]) => Effect.sync(() => seen.push([region, span.name]))
          )
        )
      )
      const seen: Array<[string, string]> = []
      const after: Array<boolean> = []
      yield* trackLlmStream(source, { provider: "openai", model, usageFrom: "openai.chat" }).pipe(
        Stream.tap(() =>
          Effect.flatMap(
            Effect.context<never>(),
            (context) => Effect.sync(() => after.push(Context.getOption(context, LlmTracker)._tag === "Some"))
          )
        ),
        Stream.provideService(Region, "eu-west"),
        Stream.runDrain
      )
      assert.isAbove(seen.length, 0)
      assert.deepStrictEqual(
        new Set(seen.map(([region, span]) => `${region} ${span}`)),
        new Set([`eu-west chat ${model}`])
      )
      // The consumer's own effects are outside the call: no tracker there.
      assert.deepStrictEqual(new Set(after), new Set([false]))
      const span = yield* spanNamed(`chat ${model}`)
      assert.isUndefined(span.attributes["botanu.usage.partial"])
    })))

  it.effect("retried with retryTracked: each run is an attempt; the failed one is partial", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("retried")
      let runs = 0
      const source = Stream.suspend(() =>
        runs++ === 0
          ? Stream.concat(
            Stream.fromIterable(anthropicEvents().slice(0, 1)),
            Stream.fail(new Overloaded({ message: "" }))
          )
          : Stream.fromIterable(anthropicEvents())
      )
      const exit = yield* runWithClock(
        source.pipe(
          trackLlmStream({ provider: "anthropic", model, usageFrom: "anthropic.messages" }),
          Stream.runDrain,
          retryTracked(Schedule.spaced("1 second"))
        )
      )
      assert.isTrue(Exit.isSuccess(exit))
      const spans = (yield* TrackingTest.finishedSpans).filter((span) => span.name === `chat ${model}`)
      assert.deepStrictEqual(spans.map((span) => span.attributes["botanu.request.attempt"]), [1, 2])
      assert.deepStrictEqual(spans.map((span) => span.attributes["botanu.usage.partial"]), [true, undefined])
    })))

  it.effect("inside botanuWorkflow: the stream rolls up into the run's totals", () =>
    withTracking(Effect.gen(function*() {
      yield* Stream.fromIterable(anthropicEvents()).pipe(
        trackLlmStream({ provider: "anthropic", model: "claude-3-5-sonnet", usageFrom: "anthropic.messages" }),
        Stream.runDrain,
        botanuWorkflow("streaming", { eventId: "E-1", customerId: "acme" }),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
      )
      const spans = yield* TrackingTest.finishedSpans
      const run = spans.find((span) => span.attributes["botanu.run.llm_calls"] !== undefined)!
      const call = spans.find((span) => span.name === "chat claude-3-5-sonnet")!
      assert.strictEqual(run.attributes["botanu.run.llm_calls"], 1)
      assert.strictEqual(run.attributes["botanu.run.input_tokens"], 2095)
      assert.strictEqual(run.attributes["botanu.run.output_tokens"], 503)
      assert.closeTo(
        run.attributes["botanu.run.cost_usd"] as number,
        call.attributes["botanu.cost.total_usd"] as number,
        1e-12
      )
      assert.strictEqual(call.parentSpanContext?.spanId, run.spanContext().spanId)
      assert.strictEqual(call.attributes["botanu.customer_id"], "acme")
    })))
})

describe("the real SDK clients' streams against a fake server", () => {
  const chatParams = {
    model: "gpt-4o",
    stream: true as const,
    stream_options: { include_usage: true },
    messages: [{ role: "user" as const, content: "Capital of France?" }]
  }

  it.live("openai chat completions with include_usage: text through, usage, ids, finish, cost, TTFT", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const text = yield* LlmStream.fromAsyncIterable(
          (signal) => client.chat.completions.create(chatParams, { signal }),
          { provider: "openai", model: "gpt-4o", usageFrom: "openai.chat" }
        ).pipe(Stream.map((chunk) => chunk.choices[0]?.delta.content ?? ""), Stream.mkString)
        assert.strictEqual(text, "Paris.")
        assert.deepStrictEqual(fake.requests[0].body.stream_options, { include_usage: true })
        const span = yield* spanNamed("chat gpt-4o")
        const a = span.attributes
        assert.strictEqual(a["gen_ai.request.stream"], true)
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 1117)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 46)
        assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 1024)
        assert.strictEqual(a["gen_ai.response.id"], "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
        assert.isAbove(a["gen_ai.response.time_to_first_chunk"] as number, 0)
        assert.isUndefined(a["botanu.usage.partial"])
        assert.deepStrictEqual(warningsOf(span), [])
        assertPriced(span)
      })
    ))

  it.live("openai: abandoned after two chunks is partial with no usage yet; a malformed chunk fails it midway", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const stream = (model: string) =>
          LlmStream.fromAsyncIterable(
            (signal) => client.chat.completions.create({ ...chatParams, model }, { signal }),
            { provider: "openai", model, usageFrom: "openai.chat" }
          )
        const two = yield* Stream.runCollect(Stream.take(stream("gpt-4o"), 2))
        assert.strictEqual(Chunk.size(two), 2)
        const abandoned = yield* spanNamed("chat gpt-4o")
        assert.strictEqual(abandoned.attributes["botanu.usage.partial"], true)
        assert.isUndefined(abandoned.attributes["gen_ai.usage.input_tokens"])
        assert.strictEqual(abandoned.attributes["botanu.cost.status"], "no_usage")
        assert.deepStrictEqual(warningsOf(abandoned), [])

        fake.nextSse("/v1/chat/completions", sse([...openaiChatChunks("gpt-4o-mini").slice(0, 2), "{not json"]))
        const exit = yield* Effect.exit(Stream.runDrain(stream("gpt-4o-mini")))
        assert.isTrue(Exit.isFailure(exit))
        const failed = yield* spanNamed("chat gpt-4o-mini")
        assert.strictEqual(failed.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(failed.attributes["botanu.usage.partial"], true)
        assert.strictEqual(failed.attributes["botanu.stream.chunks"], 2)
        assert.strictEqual(failed.attributes["gen_ai.response.model"], "gpt-4o-mini")
      })
    ))

  it.live("openai: interrupted while its consumer works on the first chunk: ended once as interrupted, partial", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const model = uniqueName("gpt-4o-interrupted")
        const first = yield* Deferred.make<void>()
        const fiber = yield* LlmStream.fromAsyncIterable(
          (signal) => client.chat.completions.create({ ...chatParams, model }, { signal }),
          { provider: "openai", model, usageFrom: "openai.chat" }
        ).pipe(
          Stream.runForEach(() => Effect.zipRight(Deferred.succeed(first, undefined), Effect.never)),
          Effect.fork
        )
        yield* Deferred.await(first)
        yield* Fiber.interrupt(fiber)
        const span = yield* spanNamed(`chat ${model}`)
        assert.strictEqual(span.attributes["error.type"], "interrupted")
        assert.deepStrictEqual(span.status, { code: SpanStatusCode.ERROR, message: "interrupted" })
        assert.strictEqual(span.attributes["botanu.usage.partial"], true)
        assert.strictEqual(span.attributes["gen_ai.response.model"], model)
        assert.deepStrictEqual(yield* attemptsByStatus(model), { error: 1 })
      })
    ))

  it.live("anthropic messages stream: input and cache from message_start, cumulative output once, cost", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = anthropicClient(fake)
        const events = yield* LlmStream.fromAsyncIterable(
          (signal) =>
            client.messages.create({
              model: "claude-3-5-sonnet",
              max_tokens: 1024,
              stream: true,
              messages: [{ role: "user", content: "Hello" }]
            }, { signal }),
          { provider: "anthropic", model: "claude-3-5-sonnet", usageFrom: "auto" }
        ).pipe(Stream.runCollect)
        assert.deepStrictEqual(
          Chunk.toReadonlyArray(events).map((event) => event.type),
          // The SDK drops `ping` events.
          anthropicEvents().map((event) => event.type).filter((type) => type !== "ping")
        )
        assert.strictEqual(fake.requests[0].body.stream, true)
        const span = yield* spanNamed("chat claude-3-5-sonnet")
        const a = span.attributes
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 2095)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 503)
        assert.strictEqual(a["gen_ai.response.model"], "claude-3-5-sonnet-20241022")
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["end_turn"])
        assert.deepStrictEqual(warningsOf(span), [])
        assertPriced(span)
      })
    ))

  it.live("anthropic: an error event midway is the SDK's error; the input seen so far is recorded, partial", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const events = anthropicStreamEvents("claude-3-5-sonnet-20241022").slice(0, 4)
        fake.nextSse(
          "/v1/messages",
          sse([...events, ["error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }]])
        )
        const client = anthropicClient(fake)
        const exit = yield* LlmStream.fromAsyncIterable(
          (signal) =>
            client.messages.create({
              model: "claude-3-5-sonnet",
              max_tokens: 1024,
              stream: true,
              messages: [{ role: "user", content: "Hello" }]
            }, { signal }),
          { provider: "anthropic", model: "claude-3-5-sonnet", usageFrom: "anthropic.messages" }
        ).pipe(Stream.runDrain, Effect.exit)
        assert.instanceOf(failureOf(exit), Anthropic.APIError)
        const span = yield* spanNamed("chat claude-3-5-sonnet")
        assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(span.attributes["botanu.usage.partial"], true)
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 2095)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 1)
        assert.strictEqual(exceptionEvents(span).length, 1)
      })
    ))

  it.live("@effect/platform HttpClient SSE parsed with Stream ops; the HTTP span is a child of the call", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const chunks = HttpClientRequest.post(`${fake.url}/v1/chat/completions`).pipe(
          HttpClientRequest.bodyUnsafeJson(chatParams),
          client.execute,
          Effect.map((response) => response.stream),
          Stream.unwrap,
          Stream.decodeText(),
          Stream.splitLines,
          Stream.filter((line) => line.startsWith("data: ")),
          Stream.map((line) => line.slice("data: ".length)),
          Stream.takeWhile((data) => data !== "[DONE]"),
          Stream.map((data) => JSON.parse(data) as OpenAI.ChatCompletionChunk),
          trackLlmStream({ provider: "openai", model: "gpt-4o", usageFrom: "auto" })
        )
        const all = yield* Stream.runCollect(chunks)
        assert.strictEqual(Chunk.size(all), 4)
        const span = yield* spanNamed("chat gpt-4o")
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 1117)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 46)
        assert.isUndefined(span.attributes["botanu.usage.partial"])
        assertPriced(span)
        const http = (yield* TrackingTest.finishedSpans).filter((s) => s.name.startsWith("http.client"))
        assert.strictEqual(http.length, 1)
        assert.strictEqual(http[0].parentSpanContext?.spanId, span.spanContext().spanId)
      })
    ))
})
