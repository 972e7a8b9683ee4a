import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { Cause, Data, Effect, Exit, Fiber, Option, TestClock, Tracer } from "effect"
import {
  LlmTracker,
  ModelOperation,
  Pricing,
  setLlmAttributes,
  setTokenUsage,
  TrackingTest,
  trackLlmCall,
  trackToolCall
} from "../src/index.js"
import { exceptionEvents, spanNamed, warningsOf } from "./utils/spans.js"

class RateLimitError extends Data.TaggedError("RateLimitError")<{ readonly message: string }> {}
class ProviderDown extends Error {}

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

describe("trackLlmCall", () => {
  it.effect("opens one CLIENT span named after operation and model, with the start attributes", () =>
    withTracking(Effect.gen(function*() {
      const result = yield* Effect.succeed("answer").pipe(
        trackLlmCall({
          provider: "  OpenAI ",
          model: "gpt-4",
          clientRequestId: "client-1",
          attributes: {
            deployment_id: "d-7",
            "botanu.team": "search",
            "gen_ai.conversation.id": "conv-1",
            tags: ["a", "b"],
            priority: 2,
            beta: true
          }
        })
      )
      assert.strictEqual(result, "answer")
      const span = yield* spanNamed("chat gpt-4")
      assert.strictEqual(span.kind, SpanKind.CLIENT)
      assert.strictEqual(span.status.code, SpanStatusCode.OK)
      assert.deepStrictEqual(span.attributes, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4",
        "botanu.vendor": "openai",
        "botanu.request.attempt": 1,
        "botanu.provider.client_request_id": "client-1",
        "botanu.deployment_id": "d-7",
        "botanu.team": "search",
        "gen_ai.conversation.id": "conv-1",
        "botanu.tags": ["a", "b"],
        "botanu.priority": 2,
        "botanu.beta": true,
        // No tokens were reported: nothing to price, but the model is known to the catalogue.
        "botanu.cost.status": "no_usage",
        "botanu.cost.pricing_source": Pricing.catalogueSource
      })
    })))

  it.effect("is dual: data-first and data-last record the same span", () =>
    withTracking(Effect.gen(function*() {
      const options = { provider: "anthropic", model: "claude-3-opus", operation: ModelOperation.TEXT_COMPLETION }
      yield* trackLlmCall(Effect.succeed(1), options)
      yield* Effect.succeed(2).pipe(trackLlmCall(options))
      const spans = yield* TrackingTest.finishedSpans
      assert.deepStrictEqual(spans.map((span) => span.name), [
        "text_completion claude-3-opus",
        "text_completion claude-3-opus"
      ])
      assert.deepStrictEqual(spans[0].attributes, spans[1].attributes)
    })))

  it.effect("is the parent of everything the wrapped effect does", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* Effect.void.pipe(Effect.withSpan("http.request"))
        yield* Effect.succeed([]).pipe(trackToolCall({ toolName: "lookup" }))
      }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }), Effect.withSpan("workflow"))
      const workflow = yield* spanNamed("workflow")
      const llm = yield* spanNamed("chat gpt-4o")
      const http = yield* spanNamed("http.request")
      const tool = yield* spanNamed("execute_tool lookup")
      assert.strictEqual(llm.parentSpanContext?.spanId, workflow.spanContext().spanId)
      assert.strictEqual(http.parentSpanContext?.spanId, llm.spanContext().spanId)
      assert.strictEqual(tool.parentSpanContext?.spanId, llm.spanContext().spanId)
      assert.strictEqual(new Set([workflow, llm, http, tool].map((s) => s.spanContext().traceId)).size, 1)
    })))

  it.effect("removes LlmTracker from the requirements and keeps success and error types", () =>
    withTracking(Effect.gen(function*() {
      const call: Effect.Effect<number, RateLimitError, LlmTracker> = Effect.flatMap(
        LlmTracker,
        () => Effect.succeed(1)
      )
      const tracked: Effect.Effect<number, RateLimitError, never> = trackLlmCall(call, { provider: "x", model: "m" })
      assert.strictEqual(yield* tracked, 1)
    })))

  it.effect("works with no tracking layer at all", () =>
    Effect.gen(function*() {
      const untracked = Effect.succeed({ text: "hi" })
      const value = yield* untracked.pipe(
        Effect.tap(() => Effect.flatMap(LlmTracker, (t) => t.setTokens({ inputTokens: 1, outputTokens: 1 }))),
        trackLlmCall({ provider: "openai", model: "gpt-4" })
      )
      assert.deepStrictEqual(value, { text: "hi" })
      const failure = yield* Effect.exit(trackLlmCall(Effect.fail("boom"), { provider: "openai", model: "gpt-4" }))
      assert.deepStrictEqual(failure, Exit.fail("boom"))
    }))
})

describe("LlmTracker.setTokens", () => {
  const tokensOf = (provider: string, usage: Parameters<LlmTracker.Service["setTokens"]>[0]) =>
    Effect.gen(function*() {
      yield* Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens(usage)).pipe(
        trackLlmCall({ provider, model: "m" })
      )
      const span = yield* spanNamed("chat m")
      const picked: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(span.attributes)) {
        if (key.includes("usage")) picked[key] = value
      }
      return picked
    }).pipe(withTracking)

  it.effect("OpenAI: input already includes cached tokens", () =>
    Effect.gen(function*() {
      const attributes = yield* tokensOf("openai", {
        inputTokens: 1000,
        outputTokens: 200,
        cachedTokens: 800,
        reasoningTokens: 50
      })
      assert.deepStrictEqual(attributes, {
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
        "gen_ai.usage.cache_read.input_tokens": 800,
        "botanu.usage.cache_read_tokens": 800,
        "botanu.usage.cached_tokens": 800,
        "gen_ai.usage.reasoning.output_tokens": 50
      })
    }))

  it.effect("Anthropic: cache reads and writes are added to the reported input", () =>
    Effect.gen(function*() {
      const attributes = yield* tokensOf("anthropic", {
        inputTokens: 200,
        outputTokens: 40,
        cacheReadTokens: 800,
        cacheWriteTokens: 100
      })
      assert.deepStrictEqual(attributes, {
        "gen_ai.usage.input_tokens": 1100,
        "gen_ai.usage.output_tokens": 40,
        "gen_ai.usage.cache_read.input_tokens": 800,
        "botanu.usage.cache_read_tokens": 800,
        "gen_ai.usage.cache_creation.input_tokens": 100,
        "botanu.usage.cache_write_tokens": 100,
        "botanu.usage.cached_tokens": 800
      })
    }))

  it.effect("Bedrock (any spelling) adds the cache too; inputIncludesCache overrides the provider default", () =>
    Effect.gen(function*() {
      const bedrock = yield* tokensOf("Amazon_Bedrock", { inputTokens: 10, cacheReadTokens: 5 })
      assert.strictEqual(bedrock["gen_ai.usage.input_tokens"], 15)
      const overridden = yield* tokensOf("anthropic", { inputTokens: 10, cacheReadTokens: 5, inputIncludesCache: true })
      assert.strictEqual(overridden["gen_ai.usage.input_tokens"], 10)
      const forced = yield* tokensOf("openai", { inputTokens: 10, cacheWriteTokens: 5, inputIncludesCache: false })
      assert.strictEqual(forced["gen_ai.usage.input_tokens"], 15)
    }))

  it.effect("writes input and output 0, but not zero cache or reasoning counts", () =>
    Effect.gen(function*() {
      const attributes = yield* tokensOf("openai", {
        inputTokens: 0,
        outputTokens: 0,
        cachedTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0
      })
      assert.deepStrictEqual(attributes, { "gen_ai.usage.input_tokens": 0, "gen_ai.usage.output_tokens": 0 })
    }))

  it.effect("cachedTokens wins for botanu.usage.cached_tokens, cacheReadTokens for cache reads", () =>
    Effect.gen(function*() {
      const attributes = yield* tokensOf("openai", { inputTokens: 100, cachedTokens: 30, cacheReadTokens: 20 })
      assert.strictEqual(attributes["botanu.usage.cached_tokens"], 30)
      assert.strictEqual(attributes["gen_ai.usage.cache_read.input_tokens"], 20)
      assert.strictEqual(attributes["botanu.usage.cache_read_tokens"], 20)
    }))

  it.effect("absent fields are not written", () =>
    Effect.gen(function*() {
      const attributes = yield* tokensOf("openai", { outputTokens: 7 })
      assert.deepStrictEqual(attributes, { "gen_ai.usage.output_tokens": 7 })
    }))
})

describe("LlmTracker: the other methods", () => {
  it.effect("records ids, response model, finish reasons, params, streaming, cache hit, attempt and metadata", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setRequestId({ providerRequestId: "chatcmpl-1", clientRequestId: "req-9" })
        yield* tracker.setResponseModel("gpt-4-0613")
        yield* tracker.setFinishReason(["stop", "length"])
        yield* tracker.setRequestParams({
          temperature: 0,
          topP: 0.9,
          topK: 40,
          maxTokens: 256,
          stopSequences: ["\n\n", "END"],
          frequencyPenalty: -0.5,
          presencePenalty: 0,
          seed: 42
        })
        yield* tracker.setStreaming()
        yield* tracker.setCacheHit(false)
        yield* tracker.setAttempt(3)
        yield* tracker.addMetadata({ customer_tier: "gold", "botanu.flag": true, "gen_ai.agent.name": "helper" })
      }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4" }))
      const span = yield* spanNamed("chat gpt-4")
      const attributes = span.attributes
      assert.strictEqual(attributes["gen_ai.response.id"], "chatcmpl-1")
      assert.strictEqual(attributes["botanu.provider.request_id"], "chatcmpl-1")
      assert.strictEqual(attributes["botanu.provider.client_request_id"], "req-9")
      assert.strictEqual(attributes["gen_ai.response.model"], "gpt-4-0613")
      assert.deepStrictEqual(attributes["gen_ai.response.finish_reasons"], ["stop", "length"])
      assert.isTrue(Array.isArray(attributes["gen_ai.response.finish_reasons"]))
      assert.strictEqual(attributes["gen_ai.request.temperature"], 0)
      assert.strictEqual(attributes["gen_ai.request.top_p"], 0.9)
      assert.strictEqual(attributes["gen_ai.request.top_k"], 40)
      assert.strictEqual(attributes["gen_ai.request.max_tokens"], 256)
      assert.deepStrictEqual(attributes["gen_ai.request.stop_sequences"], ["\n\n", "END"])
      assert.strictEqual(attributes["gen_ai.request.frequency_penalty"], -0.5)
      assert.strictEqual(attributes["gen_ai.request.presence_penalty"], 0)
      assert.strictEqual(attributes["gen_ai.request.seed"], 42)
      assert.strictEqual(attributes["botanu.request.streaming"], true)
      assert.strictEqual(attributes["gen_ai.request.stream"], true)
      assert.strictEqual(attributes["botanu.request.cache_hit"], false)
      assert.strictEqual(attributes["botanu.request.attempt"], 3)
      assert.strictEqual(attributes["botanu.customer_tier"], "gold")
      assert.strictEqual(attributes["botanu.flag"], true)
      assert.strictEqual(attributes["gen_ai.agent.name"], "helper")
      assert.isUndefined(attributes["botanu.tracking.warnings"])
    })))

  it.effect("a single finish reason becomes a one-element array; absent params and empty ids are not written", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setFinishReason("end_turn")
        yield* tracker.setRequestParams({ maxTokens: 100 })
        yield* tracker.setRequestId({ providerRequestId: "", clientRequestId: "" })
        yield* tracker.setCacheHit()
        yield* tracker.setStreaming(false)
      }).pipe(trackLlmCall({ provider: "anthropic", model: "claude-3-haiku" }))
      const { attributes } = yield* spanNamed("chat claude-3-haiku")
      assert.deepStrictEqual(attributes["gen_ai.response.finish_reasons"], ["end_turn"])
      assert.strictEqual(attributes["gen_ai.request.max_tokens"], 100)
      for (const key of ["temperature", "top_p", "top_k", "stop_sequences", "seed", "frequency_penalty"]) {
        assert.isUndefined(attributes[`gen_ai.request.${key}`], key)
      }
      assert.isUndefined(attributes["gen_ai.response.id"])
      assert.isUndefined(attributes["botanu.provider.client_request_id"])
      assert.strictEqual(attributes["botanu.request.cache_hit"], true)
      assert.strictEqual(attributes["botanu.request.streaming"], false)
      assert.strictEqual(attributes["gen_ai.request.stream"], false)
      assert.deepStrictEqual(warningsOf({ attributes } as never), [])
    })))

  it.effect("the tracker keeps working when destructured", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const { setResponseModel, setTokens } = yield* LlmTracker
        yield* setTokens({ inputTokens: 3, outputTokens: 4 })
        yield* setResponseModel("gpt-4o-2024")
      }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))
      const { attributes } = yield* spanNamed("chat gpt-4o")
      assert.strictEqual(attributes["gen_ai.usage.input_tokens"], 3)
      assert.strictEqual(attributes["gen_ai.response.model"], "gpt-4o-2024")
    })))
})

describe("errors, defects and interruption", () => {
  it.effect("a typed failure: ERROR status with its message, one exception event, error.type = _tag, same error", () =>
    withTracking(Effect.gen(function*() {
      const error = new RateLimitError({ message: "slow down" })
      const exit = yield* Effect.exit(trackLlmCall(Effect.fail(error), { provider: "anthropic", model: "claude" }))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const failure = Cause.failureOption(exit.cause)
        assert.isTrue(Option.isSome(failure))
        assert.strictEqual(Cause.originalError(Option.getOrThrow(failure)), error)
      }
      const span = yield* spanNamed("chat claude")
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(span.status.message, "slow down")
      assert.strictEqual(span.attributes["error.type"], "RateLimitError")
      const events = exceptionEvents(span)
      assert.strictEqual(events.length, 1)
      assert.strictEqual(events[0].attributes?.["exception.message"], "slow down")
    })))

  it.effect("the caller can still catch the failure by tag", () =>
    withTracking(Effect.gen(function*() {
      const recovered = yield* trackLlmCall(Effect.fail(new RateLimitError({ message: "429" })), {
        provider: "openai",
        model: "gpt-4"
      }).pipe(Effect.catchTag("RateLimitError", (e) => Effect.succeed(`caught ${e.message}`)))
      assert.strictEqual(recovered, "caught 429")
    })))

  it.effect("error.type is the class name of an Error without a tag, _OTHER for anything else", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.exit(trackLlmCall(Effect.fail(new ProviderDown("down")), { provider: "p", model: "error-class" }))
      yield* Effect.exit(trackLlmCall(Effect.fail("just a string"), { provider: "p", model: "error-string" }))
      yield* Effect.exit(trackLlmCall(Effect.fail({ code: 500 }), { provider: "p", model: "error-object" }))
      assert.strictEqual((yield* spanNamed("chat error-class")).attributes["error.type"], "ProviderDown")
      assert.strictEqual((yield* spanNamed("chat error-string")).attributes["error.type"], "_OTHER")
      const objectSpan = yield* spanNamed("chat error-object")
      assert.strictEqual(objectSpan.attributes["error.type"], "_OTHER")
      assert.strictEqual(objectSpan.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(exceptionEvents(objectSpan).length, 1)
    })))

  it.effect("a defect is recorded like a failure and stays a defect", () =>
    withTracking(Effect.gen(function*() {
      const defect = new TypeError("undefined is not a function")
      const exit = yield* Effect.exit(trackLlmCall(Effect.die(defect), { provider: "openai", model: "gpt-4" }))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      if (Exit.isFailure(exit)) {
        assert.strictEqual(Cause.originalError(Option.getOrThrow(Cause.dieOption(exit.cause))), defect)
      }
      const span = yield* spanNamed("chat gpt-4")
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(span.status.message, "undefined is not a function")
      assert.strictEqual(span.attributes["error.type"], "TypeError")
      assert.strictEqual(exceptionEvents(span).length, 1)
    })))

  it.effect("an interrupted call ends its span, marked interrupted, status ERROR interrupted", () =>
    withTracking(Effect.gen(function*() {
      let effectSpan: Tracer.Span | undefined
      const fiber = yield* Effect.fork(trackLlmCall(
        Effect.zipRight(Effect.tap(Effect.currentSpan, (span) => (effectSpan = span)), Effect.never),
        { provider: "openai", model: "gpt-4" }
      ))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      const span = yield* spanNamed("chat gpt-4")
      assert.strictEqual(span.attributes["error.type"], "interrupted")
      assert.strictEqual(span.attributes["status.interrupted"], true)
      assert.deepStrictEqual(span.status, { code: SpanStatusCode.ERROR, message: "interrupted" })
      assert.strictEqual(exceptionEvents(span).length, 0)
      assert.isTrue(span.ended)
      // The SDK span keeps its own setStatus, and the bridge span its bookkeeping: ended, with the interruption.
      assert.isFalse(Object.prototype.hasOwnProperty.call(span, "setStatus"))
      const status = effectSpan!.status
      assert.isTrue(status._tag === "Ended" && Exit.isInterrupted(status.exit))
    })))

  it.effect("a call cut by Effect.timeout: status ERROR interrupted, error.type interrupted, no exception event", () =>
    withTracking(Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.never.pipe(trackLlmCall({ provider: "openai", model: "gpt-4-timeout" }), Effect.timeout("1 second"))
      )
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit) && Cause.isFailType(exit.cause) && Cause.isTimeoutException(exit.cause.error))
      const span = yield* spanNamed("chat gpt-4-timeout")
      assert.strictEqual(span.attributes["error.type"], "interrupted")
      assert.strictEqual(span.attributes["status.interrupted"], true)
      assert.deepStrictEqual(span.status, { code: SpanStatusCode.ERROR, message: "interrupted" })
      assert.strictEqual(exceptionEvents(span).length, 0)
      assert.isTrue(span.ended)
    })))

  it.effect("under Effect's own tracer (no OpenTelemetry layer) an interrupted call ends its span once", () =>
    Effect.gen(function*() {
      const native = yield* Effect.tracer
      const spans: Array<Tracer.Span> = []
      const tracer = Tracer.make({
        span(...args) {
          const span = native.span(...args)
          spans.push(span)
          return span
        },
        context: (f, fiber) => native.context(f, fiber)
      })
      const fiber = yield* Effect.fork(
        Effect.withTracer(trackLlmCall(Effect.never, { provider: "openai", model: "gpt-4" }), tracer)
      )
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(spans.length, 1)
      const status = spans[0].status
      assert.strictEqual(status._tag, "Ended")
      assert.isTrue(status._tag === "Ended" && Exit.isInterrupted(status.exit))
      assert.strictEqual(spans[0].attributes.get("error.type"), "interrupted")
    }))

  it.effect("setError on a call that succeeds: error.type, message and one event, status OK", () =>
    withTracking(Effect.gen(function*() {
      const value = yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setError(new RateLimitError({ message: "first try throttled" }))
        return "recovered"
      }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4" }))
      assert.strictEqual(value, "recovered")
      const span = yield* spanNamed("chat gpt-4")
      assert.strictEqual(span.status.code, SpanStatusCode.OK)
      assert.strictEqual(span.attributes["error.type"], "RateLimitError")
      assert.strictEqual(span.attributes["error.message"], "first try throttled")
      const events = exceptionEvents(span)
      assert.strictEqual(events.length, 1)
      assert.strictEqual(events[0].attributes?.["exception.type"], "RateLimitError")
      assert.strictEqual(events[0].attributes?.["exception.message"], "first try throttled")
    })))

  it.effect("setError and then a failure: still exactly one exception event, of the failure", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.exit(
        Effect.gen(function*() {
          const tracker = yield* LlmTracker
          yield* tracker.setError(new Error("noted"))
          return yield* Effect.fail(new ProviderDown("final"))
        }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4" }))
      )
      const span = yield* spanNamed("chat gpt-4")
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(span.attributes["error.type"], "ProviderDown")
      assert.strictEqual(span.attributes["error.message"], "final")
      const events = exceptionEvents(span)
      assert.strictEqual(events.length, 1)
      assert.strictEqual(events[0].attributes?.["exception.message"], "final")
    })))
})

describe("annotating the current span", () => {
  it.effect("setLlmAttributes and setTokenUsage write onto a span the app made", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* setLlmAttributes({
          provider: "Claude",
          model: "claude-3-5-sonnet",
          inputTokens: 100,
          outputTokens: 20,
          cachedTokens: 50,
          streaming: true,
          providerRequestId: "msg_1"
        })
      }).pipe(Effect.withSpan("my-span"))
      yield* setTokenUsage({ inputTokens: 9, outputTokens: 1, cachedTokens: 4 }).pipe(Effect.withSpan("other"))
      yield* setTokenUsage({ inputTokens: 9, outputTokens: 1 })
      const mine = yield* spanNamed("my-span")
      assert.deepStrictEqual(mine.attributes, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "botanu.vendor": "anthropic",
        "gen_ai.request.model": "claude-3-5-sonnet",
        "gen_ai.usage.input_tokens": 150,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 50,
        "botanu.usage.cache_read_tokens": 50,
        "botanu.usage.cached_tokens": 50,
        "botanu.request.streaming": true,
        "gen_ai.request.stream": true,
        "gen_ai.response.id": "msg_1",
        "botanu.provider.request_id": "msg_1"
      })
      const other = yield* spanNamed("other")
      assert.strictEqual(other.attributes["gen_ai.usage.input_tokens"], 9)
      assert.strictEqual(other.attributes["botanu.usage.cached_tokens"], 4)
      assert.strictEqual((yield* TrackingTest.finishedSpans).length, 2)
    })))
})

describe("concurrency", () => {
  it.effect("1,000 concurrent calls on separate fibers keep their own attributes", () =>
    withTracking(Effect.gen(function*() {
      const calls = Array.from({ length: 1000 }, (_, i) =>
        Effect.gen(function*() {
          const tracker = yield* LlmTracker
          yield* Effect.yieldNow()
          yield* tracker.setTokens({ inputTokens: i, outputTokens: i * 2 })
          yield* Effect.yieldNow()
          yield* tracker.setRequestId({ providerRequestId: `req-${i}` })
          if (i % 7 === 0) yield* tracker.addMetadata({ index: i })
          if (i % 10 === 0) return yield* Effect.fail(new RateLimitError({ message: `limited ${i}` }))
          return i
        }).pipe(trackLlmCall({ provider: i % 2 === 0 ? "openai" : "anthropic", model: `model-${i}` }), Effect.either))
      const results = yield* Effect.all(calls, { concurrency: "unbounded" })
      assert.strictEqual(results.length, 1000)
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 1000)
      for (const span of spans) {
        const i = Number(span.name.slice("chat model-".length))
        const a = span.attributes
        assert.strictEqual(a["gen_ai.request.model"], `model-${i}`)
        assert.strictEqual(a["gen_ai.provider.name"], i % 2 === 0 ? "openai" : "anthropic")
        assert.strictEqual(a["gen_ai.usage.input_tokens"], i)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], i * 2)
        assert.strictEqual(a["gen_ai.response.id"], `req-${i}`)
        assert.strictEqual(a["botanu.index"], i % 7 === 0 ? i : undefined)
        assert.strictEqual(a["error.type"], i % 10 === 0 ? "RateLimitError" : undefined)
        assert.strictEqual(span.status.code, i % 10 === 0 ? SpanStatusCode.ERROR : SpanStatusCode.OK)
        assert.strictEqual(span.status.message, i % 10 === 0 ? `limited ${i}` : undefined)
        assert.isUndefined(span.parentSpanContext)
      }
    })))
})
