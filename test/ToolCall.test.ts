import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { Cause, Data, Duration, Effect, Exit, Fiber, Option, TestClock } from "effect"
import { ToolTracker, TrackingTest, trackToolCall } from "../src/index.js"
import { exceptionEvents, spanNamed } from "./utils/spans.js"

class SearchFailed extends Data.TaggedError("SearchFailed")<{ readonly message: string }> {}

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

describe("trackToolCall", () => {
  it.effect("opens an INTERNAL execute_tool span with the tool's attributes and its duration", () =>
    withTracking(Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.gen(function*() {
          const tracker = yield* ToolTracker
          yield* Effect.sleep(Duration.millis(250))
          yield* tracker.setResult({ success: true, itemsReturned: 3, bytesProcessed: 2048 })
          yield* tracker.addMetadata({ index: "docs", "botanu.region": "eu", "gen_ai.tool.type": "function" })
          return ["a", "b", "c"]
        }).pipe(trackToolCall({
          toolName: "web_search",
          toolCallId: "call_1",
          provider: "OpenAI",
          attributes: { source: "kb" }
        }))
      )
      yield* TestClock.adjust(Duration.millis(250))
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result, ["a", "b", "c"])
      const span = yield* spanNamed("execute_tool web_search")
      assert.strictEqual(span.kind, SpanKind.INTERNAL)
      assert.strictEqual(span.status.code, SpanStatusCode.OK)
      assert.deepStrictEqual(span.attributes, {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "web_search",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.provider.name": "openai",
        "botanu.vendor": "openai",
        "botanu.tool.source": "kb",
        "botanu.tool.success": true,
        "botanu.tool.items_returned": 3,
        "botanu.tool.bytes_processed": 2048,
        "botanu.tool.index": "docs",
        "botanu.region": "eu",
        "gen_ai.tool.type": "function",
        "botanu.tool.duration_ms": 250
      })
    })))

  it.effect("is dual, and setToolCallId / zero counts behave as documented", () =>
    withTracking(Effect.gen(function*() {
      yield* trackToolCall(
        Effect.gen(function*() {
          const tracker = yield* ToolTracker
          yield* tracker.setToolCallId("toolu_9")
          yield* tracker.setResult({ success: false, itemsReturned: 0, bytesProcessed: 0 })
        }),
        { toolName: "calculator" }
      )
      const span = yield* spanNamed("execute_tool calculator")
      assert.strictEqual(span.attributes["gen_ai.tool.call.id"], "toolu_9")
      assert.strictEqual(span.attributes["botanu.tool.success"], false)
      assert.isUndefined(span.attributes["botanu.tool.items_returned"])
      assert.isUndefined(span.attributes["botanu.tool.bytes_processed"])
      assert.isUndefined(span.attributes["gen_ai.provider.name"])
      assert.strictEqual(span.attributes["botanu.tool.duration_ms"], 0)
    })))

  it.effect("a failing tool: ERROR, one exception event, error.type, duration, the same error", () =>
    withTracking(Effect.gen(function*() {
      const error = new SearchFailed({ message: "index offline" })
      const fiber = yield* Effect.fork(Effect.exit(
        Effect.sleep(Duration.seconds(2)).pipe(
          Effect.zipRight(Effect.fail(error)),
          trackToolCall({ toolName: "search" })
        )
      ))
      yield* TestClock.adjust(Duration.seconds(2))
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        assert.strictEqual(Cause.originalError(Option.getOrThrow(Cause.failureOption(exit.cause))), error)
      }
      const span = yield* spanNamed("execute_tool search")
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(span.status.message, "index offline")
      assert.strictEqual(span.attributes["error.type"], "SearchFailed")
      assert.strictEqual(span.attributes["botanu.tool.duration_ms"], 2000)
      assert.strictEqual(exceptionEvents(span).length, 1)
    })))

  it.effect("an interrupted tool call ends its span with error.type interrupted and its duration", () =>
    withTracking(Effect.gen(function*() {
      const fiber = yield* Effect.fork(trackToolCall(Effect.never, { toolName: "slow" }))
      yield* TestClock.adjust(Duration.millis(40))
      yield* Fiber.interrupt(fiber)
      const span = yield* spanNamed("execute_tool slow")
      assert.strictEqual(span.attributes["error.type"], "interrupted")
      assert.deepStrictEqual(span.status, { code: SpanStatusCode.ERROR, message: "interrupted" })
      assert.strictEqual(span.attributes["status.interrupted"], true)
      assert.strictEqual(span.attributes["botanu.tool.duration_ms"], 40)
      assert.strictEqual(exceptionEvents(span).length, 0)
    })))

  it.effect("setError on a tool that then succeeds records one event and keeps status OK", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* ToolTracker
        yield* tracker.setError(new SearchFailed({ message: "partial results" }))
        yield* tracker.setResult({ success: true, itemsReturned: 1 })
      }).pipe(trackToolCall({ toolName: "search" }))
      const span = yield* spanNamed("execute_tool search")
      assert.strictEqual(span.status.code, SpanStatusCode.OK)
      assert.strictEqual(span.attributes["error.type"], "SearchFailed")
      assert.strictEqual(exceptionEvents(span).length, 1)
    })))
})
