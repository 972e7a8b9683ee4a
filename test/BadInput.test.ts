import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import { Effect, Exit } from "effect"
import { LlmTracker, ToolTracker, TrackingTest, trackLlmCall, trackToolCall } from "../src/index.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

// Values a JavaScript caller, or a provider response with a surprise in it, can hand the trackers.
const bad = (value: unknown): any => value

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

const llmSpan = <A, E>(body: (tracker: LlmTracker.Service) => Effect.Effect<A, E>, model = "m") =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Effect.flatMap(LlmTracker, body).pipe(trackLlmCall({ provider: "openai", model })))
    return { exit, span: yield* spanNamed(`chat ${model}`) }
  })

describe("bad token counts", () => {
  it.effect("negative, NaN, infinite, huge and non-numbers are dropped; fractions rounded; each is a warning", () =>
    withTracking(Effect.gen(function*() {
      const { exit, span } = yield* llmSpan((tracker) =>
        Effect.zipRight(
          tracker.setTokens({
            inputTokens: -5,
            outputTokens: Number.NaN,
            cachedTokens: Number.POSITIVE_INFINITY,
            cacheWriteTokens: 1e300,
            reasoningTokens: bad("12")
          }),
          Effect.succeed("kept")
        )
      )
      assert.deepStrictEqual(exit, Exit.succeed("kept"))
      for (const key of Object.keys(span.attributes)) assert.notInclude(key, "usage", key)
      assert.deepStrictEqual(warningsOf(span), [
        "inputTokens: -5 is negative; dropped",
        "outputTokens: NaN is not a number; dropped",
        "cachedTokens: Infinity is too large; dropped",
        "cacheWriteTokens: 1e+300 is too large; dropped",
        "reasoningTokens: a string of 2 chars is not a number; dropped"
      ])
    })))

  it.effect("a fractional count is rounded and recorded", () =>
    withTracking(Effect.gen(function*() {
      const { span } = yield* llmSpan((tracker) => tracker.setTokens({ inputTokens: 12.6, outputTokens: 3 }))
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 13)
      assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 3)
      assert.deepStrictEqual(warningsOf(span), ["inputTokens: 12.6 is not an integer; rounded to 13"])
    })))

  it.effect("a usage that is not a record is dropped", () =>
    withTracking(Effect.gen(function*() {
      const { exit, span } = yield* llmSpan((tracker) => tracker.setTokens(bad(null)))
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(warningsOf(span), ["setTokens: null is not a record; dropped"])
    })))

  it.effect("reasoning tokens above output tokens are clamped to them with a warning", () =>
    withTracking(Effect.gen(function*() {
      const { span } = yield* llmSpan((tracker) => tracker.setTokens({ outputTokens: 10, reasoningTokens: 50 }))
      assert.strictEqual(span.attributes["gen_ai.usage.reasoning.output_tokens"], 10)
      assert.deepStrictEqual(warningsOf(span), [
        "reasoningTokens: 50 exceeds outputTokens 10, of which they are a part; recorded as 10"
      ])
    })))
})

describe("bad names", () => {
  it.effect("an empty model is recorded as unknown, an empty provider too", () =>
    withTracking(Effect.gen(function*() {
      yield* trackLlmCall(Effect.void, { provider: "  ", model: "" })
      const span = yield* spanNamed("chat unknown")
      assert.strictEqual(span.attributes["gen_ai.request.model"], "unknown")
      assert.strictEqual(span.attributes["gen_ai.provider.name"], "unknown")
      assert.deepStrictEqual(warningsOf(span), [
        "provider: empty; recorded as \"unknown\"",
        "model: empty; recorded as \"unknown\""
      ])
    })))

  it.effect("a model or operation that is not a string is replaced, the call still runs", () =>
    withTracking(Effect.gen(function*() {
      const value = yield* trackLlmCall(Effect.succeed(7), {
        provider: "openai",
        model: bad(undefined),
        operation: bad(42)
      })
      assert.strictEqual(value, 7)
      const span = yield* spanNamed("chat unknown")
      assert.deepStrictEqual(warningsOf(span), [
        "model: undefined is not a string; recorded as \"unknown\"",
        "operation: 42 is not a string; recorded as \"chat\""
      ])
    })))

  it.effect("an empty tool name is recorded as unknown", () =>
    withTracking(Effect.gen(function*() {
      yield* trackToolCall(Effect.void, { toolName: "" })
      const span = yield* spanNamed("execute_tool unknown")
      assert.strictEqual(span.attributes["gen_ai.tool.name"], "unknown")
      assert.deepStrictEqual(warningsOf(span), ["toolName: empty; recorded as \"unknown\""])
    })))
})

describe("bad attribute values", () => {
  it.effect("objects, undefined, null, NaN and lists of objects are dropped; mixed lists become strings", () =>
    withTracking(Effect.gen(function*() {
      yield* trackLlmCall(Effect.void, {
        provider: "openai",
        model: "m",
        attributes: bad({
          good: "yes",
          nested: { a: 1 },
          missing: undefined,
          nothing: null,
          notANumber: Number.NaN,
          objects: [{ a: 1 }],
          mixed: ["a", 1, true],
          numbers: [1, 2],
          fn: () => 1,
          "": "empty key"
        })
      })
      const span = yield* spanNamed("chat m")
      assert.strictEqual(span.attributes["botanu.good"], "yes")
      assert.deepStrictEqual(span.attributes["botanu.mixed"], ["a", "1", "true"])
      assert.deepStrictEqual(span.attributes["botanu.numbers"], [1, 2])
      for (const key of ["nested", "missing", "nothing", "notANumber", "objects", "fn"]) {
        assert.isUndefined(span.attributes[`botanu.${key}`], key)
      }
      assert.deepStrictEqual(warningsOf(span), [
        "attributes.nested: an object is not a valid attribute value; dropped",
        "attributes.missing: undefined is not a valid attribute value; dropped",
        "attributes.nothing: null is not a valid attribute value; dropped",
        "attributes.notANumber: NaN is not a valid attribute value; dropped",
        "attributes.objects: a list holding an object; dropped",
        "attributes.mixed: a list of mixed types; recorded as strings",
        "attributes.fn: a function is not a valid attribute value; dropped",
        "attributes: an empty key; dropped"
      ])
    })))

  it.effect("addMetadata on a tool with a non-record is dropped; setResult coerces a non-boolean success", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* ToolTracker
        yield* tracker.addMetadata(bad("not a record"))
        yield* tracker.setResult({ success: bad(1), itemsReturned: -1, bytesProcessed: Number.NaN })
        yield* tracker.setToolCallId(bad(5))
      }).pipe(trackToolCall({ toolName: "t" }))
      const span = yield* spanNamed("execute_tool t")
      assert.strictEqual(span.attributes["botanu.tool.success"], true)
      assert.isUndefined(span.attributes["botanu.tool.items_returned"])
      assert.deepStrictEqual(warningsOf(span), [
        "metadata: a string of 12 chars is not a record; dropped",
        "success: 1 is not a boolean; recorded as true",
        "itemsReturned: -1 is negative; dropped",
        "bytesProcessed: NaN is not a number; dropped",
        "toolCallId: 5 is not a string; dropped"
      ])
    })))
})

describe("bad input to the other LlmTracker methods", () => {
  it.effect("each bad value is dropped with one warning line, good values beside it are kept", () =>
    withTracking(Effect.gen(function*() {
      const { exit, span } = yield* llmSpan((tracker) =>
        Effect.all([
          tracker.setRequestParams({
            temperature: Number.NaN,
            topP: 0.5,
            topK: -1,
            maxTokens: 10.5,
            stopSequences: bad(["ok", 3]),
            seed: bad("s")
          }),
          tracker.setRequestId(bad({ providerRequestId: 12, clientRequestId: "c" })),
          tracker.setResponseModel(bad({})),
          tracker.setFinishReason(bad([1, "stop"])),
          tracker.setStreaming(bad("yes")),
          tracker.setCacheHit(bad(null)),
          tracker.setAttempt(0),
          tracker.setAttempt(Number.NaN),
          tracker.setRequestParams(bad(undefined))
        ]).pipe(Effect.as("result"))
      )
      assert.deepStrictEqual(exit, Exit.succeed("result"))
      const a = span.attributes
      assert.strictEqual(a["gen_ai.request.top_p"], 0.5)
      assert.strictEqual(a["gen_ai.request.max_tokens"], 11)
      assert.deepStrictEqual(a["gen_ai.request.stop_sequences"], ["ok"])
      assert.strictEqual(a["botanu.provider.client_request_id"], "c")
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
      for (const key of ["gen_ai.request.temperature", "gen_ai.request.top_k", "gen_ai.request.seed"]) {
        assert.isUndefined(a[key], key)
      }
      for (const key of ["gen_ai.response.id", "gen_ai.response.model", "botanu.request.streaming"]) {
        assert.isUndefined(a[key], key)
      }
      assert.isUndefined(a["botanu.request.cache_hit"])
      // The automatic number stays when the hand-set ones are rejected.
      assert.strictEqual(a["botanu.request.attempt"], 1)
      assert.deepStrictEqual(warningsOf(span), [
        "temperature: NaN is not a finite number; dropped",
        "topK: -1 is negative; dropped",
        "maxTokens: 10.5 is not an integer; rounded to 11",
        "seed: a string of 1 char is not a finite number; dropped",
        "stopSequences[1]: 3 is not a string; dropped",
        "providerRequestId: 12 is not a string; dropped",
        "responseModel: an object is not a string; dropped",
        "finishReason[0]: 1 is not a string; dropped",
        "streaming: a string of 3 chars is not a boolean; dropped",
        "cacheHit: null is not a boolean; dropped",
        "attempt: 0 is below 1; dropped",
        "attempt: NaN is not a number; dropped",
        "setRequestParams: undefined is not a record; dropped"
      ])
    })))

  it.effect("a getter that throws inside the input becomes a warning, never the caller's failure", () =>
    withTracking(Effect.gen(function*() {
      const hostile = new Proxy({}, {
        get() {
          throw new Error("gotcha")
        }
      })
      const { exit, span } = yield* llmSpan((tracker) =>
        Effect.zipRight(tracker.setTokens(bad(hostile)), Effect.fail("the call's own error" as const))
      )
      assert.deepStrictEqual(exit, Exit.fail("the call's own error"))
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.deepStrictEqual(warningsOf(span), ["setTokens: failed (gotcha); ignored"])
    })))

  it.effect("setError with a hostile error keeps the call's success", () =>
    withTracking(Effect.gen(function*() {
      const hostile = new Proxy({}, {
        get() {
          throw new Error("no")
        }
      })
      const { exit, span } = yield* llmSpan((tracker) => Effect.zipRight(tracker.setError(hostile), Effect.succeed(1)))
      assert.deepStrictEqual(exit, Exit.succeed(1))
      assert.strictEqual(span.attributes["error.type"], "_OTHER")
      assert.strictEqual(span.status.code, SpanStatusCode.OK)
    })))

  it.effect("warnings are bounded: at most 32 lines and a count of the rest", () =>
    withTracking(Effect.gen(function*() {
      const { span } = yield* llmSpan((tracker) =>
        Effect.forEach(Array.from({ length: 100 }, (_, i) => i), () => tracker.setAttempt(-1), { discard: true })
      )
      const warnings = warningsOf(span)
      assert.strictEqual(warnings.length, 33)
      assert.strictEqual(warnings[32], "68 more warnings dropped")
    })))
})
