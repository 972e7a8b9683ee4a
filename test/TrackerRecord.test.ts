import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { LlmTracker, TrackingTest, trackLlmCall } from "../src/index.js"
import { metricNamed } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const bad = (value: unknown): any => value

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

/** One call with `body`, under its own model name; its span and the token and cost points of that model. */
const call = <A, E>(model: string, body: (tracker: LlmTracker.Service) => Effect.Effect<A, E>, usageFrom?: "auto") =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(
      Effect.flatMap(LlmTracker, body).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom }))
    ).pipe(Effect.withSpan(model))
    const span = yield* spanNamed("chat gpt-4o")
    yield* TrackingTest.reset
    return { exit, span }
  })

/** The span's attributes that do not change from one call to the next. */
const stable = (attributes: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(attributes).filter(([key]) => key !== "botanu.request.attempt"))

const tokens = { inputTokens: 1200, outputTokens: 340, cachedTokens: 200, reasoningTokens: 40 }

describe("LlmTracker.record", () => {
  it.effect("records what the four setters record, span and metrics alike", () =>
    withTracking(Effect.gen(function*() {
      const bySetters = yield* call("setters", (tracker) =>
        Effect.all([
          tracker.setTokens(tokens),
          tracker.setRequestId({ providerRequestId: "chatcmpl-9", clientRequestId: "req-1" }),
          tracker.setResponseModel("gpt-4o-2024-08-06"),
          tracker.setFinishReason(["stop", "length"])
        ]))
      const byRecord = yield* call("record", (tracker) =>
        tracker.record({
          tokens,
          requestId: { providerRequestId: "chatcmpl-9", clientRequestId: "req-1" },
          responseModel: "gpt-4o-2024-08-06",
          finishReasons: ["stop", "length"]
        }))
      assert.deepStrictEqual(stable(byRecord.span.attributes), stable(bySetters.span.attributes))
      assert.strictEqual(byRecord.span.attributes["gen_ai.usage.input_tokens"], 1200)
      assert.strictEqual(byRecord.span.attributes["gen_ai.response.model"], "gpt-4o-2024-08-06")
      assert.deepStrictEqual(byRecord.span.attributes["gen_ai.response.finish_reasons"], ["stop", "length"])
      assert.strictEqual(byRecord.span.attributes["botanu.cost.status"], "priced")
      assert.deepStrictEqual(warningsOf(byRecord.span), [])
    })))

  it.effect("the metrics of a recorded call: its tokens and the response model as the series", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.flatMap(
        LlmTracker,
        (tracker) => tracker.record({ tokens: { inputTokens: 7, outputTokens: 3 }, responseModel: "gpt-4o-rec-2025" })
      ).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))
      const usage = metricNamed(yield* TrackingTest.collectMetrics, "gen_ai.client.token.usage")
      const points = usage.dataPoints
        .filter((point) => point.attributes["gen_ai.response.model"] === "gpt-4o-rec-2025")
        .map((point) => [point.attributes["gen_ai.token.type"], (point.value as { sum: number }).sum])
      assert.deepStrictEqual(points.sort(), [["input", 7], ["output", 3]])
    })))

  it.effect("a request id given alone is the provider's", () =>
    withTracking(Effect.gen(function*() {
      const { span } = yield* call("id", (tracker) => tracker.record({ requestId: "msg_01" }))
      assert.strictEqual(span.attributes["gen_ai.response.id"], "msg_01")
      assert.strictEqual(span.attributes["botanu.provider.request_id"], "msg_01")
      assert.isUndefined(span.attributes["botanu.provider.client_request_id"])
      assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
    })))

  it.effect("what is set by hand wins over what usageFrom reads, as with the setters", () =>
    withTracking(Effect.gen(function*() {
      const response = {
        id: "chatcmpl-read",
        model: "gpt-4o-read",
        choices: [{ finish_reason: "length" }],
        usage: { prompt_tokens: 1, completion_tokens: 1 }
      }
      const { span } = yield* call(
        "hand",
        (tracker) =>
          Effect.as(
            tracker.record({ tokens: { inputTokens: 50, outputTokens: 5 }, requestId: "hand", finishReasons: "stop" }),
            response
          ),
        "auto"
      )
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 50)
      assert.strictEqual(span.attributes["gen_ai.response.id"], "hand")
      assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["stop"])
      // Not given by hand: read from the response.
      assert.strictEqual(span.attributes["gen_ai.response.model"], "gpt-4o-read")
    })))

  it.effect("bad facts: each field is checked as its setter checks it, the good ones kept, the call untouched", () =>
    withTracking(Effect.gen(function*() {
      const { exit, span } = yield* call("bad", (tracker) =>
        Effect.as(
          tracker.record({
            tokens: { inputTokens: -1, outputTokens: 4 },
            requestId: bad(12),
            responseModel: bad({}),
            finishReasons: bad([1, "stop"])
          }),
          "kept"
        ))
      assert.deepStrictEqual(exit, Exit.succeed("kept"))
      assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 4)
      assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
      assert.isUndefined(span.attributes["gen_ai.response.id"])
      assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["stop"])
      assert.deepStrictEqual(warningsOf(span), [
        "inputTokens: -1 is negative; dropped",
        "record.requestId: 12 is not a record; dropped",
        "responseModel: an object is not a string; dropped",
        "finishReasons[0]: 1 is not a string; dropped"
      ])
    })))

  it.effect("facts that are not a record, or that throw when read, are warnings; the rest is recorded", () =>
    withTracking(Effect.gen(function*() {
      const { exit, span } = yield* call("hostile", (tracker) =>
        Effect.zipRight(
          tracker.record(bad(null)),
          tracker.record(bad({
            get tokens() {
              throw new Error("getter says no")
            },
            requestId: "chatcmpl-ok",
            get finishReasons(): never {
              throw "not even an Error"
            }
          }))
        ))
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(span.attributes["gen_ai.response.id"], "chatcmpl-ok")
      assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
      assert.deepStrictEqual(warningsOf(span), [
        "record: null is not a record; dropped",
        "record.tokens: failed (getter says no); ignored",
        "record.finishReasons: failed (not even an Error); ignored"
      ])
    })))
})
