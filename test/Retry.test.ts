import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Cause, Data, Duration, Effect, Exit, Fiber, Option, Schedule, TestClock } from "effect"
import { fallbackTracked, LlmTracker, retryTracked, TrackingTest, trackLlmCall } from "../src/index.js"
import { attemptsByStatus, uniqueName } from "./utils/metrics.js"

class RateLimitError extends Data.TaggedError("RateLimitError")<{ readonly message: string }> {}
class AuthError extends Data.TaggedError("AuthError")<{ readonly message: string }> {}
class StepFailed extends Data.TaggedError("StepFailed")<{ readonly message: string; readonly cause?: unknown }> {}

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

/** A provider call that fails with `failures[i]` on its i-th run and succeeds once they are used up. */
const flakyCall = (failures: ReadonlyArray<RateLimitError | AuthError>) => {
  let runs = 0
  return Effect.suspend(() => {
    const failure = failures[runs++]
    return failure === undefined ? Effect.succeed(`ok after ${runs}`) : Effect.fail(failure)
  })
}

const limited = (n: number) => Array.from({ length: n }, (_, i) => new RateLimitError({ message: `429 #${i + 1}` }))

const backoff = Schedule.exponential(Duration.seconds(1)).pipe(Schedule.intersect(Schedule.recurs(4)))

/** Runs an effect whose retries sleep, moving the TestClock until it is done. */
const runWithClock = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.exit(effect))
    for (let i = 0; i < 10; i++) {
      yield* TestClock.adjust(Duration.seconds(30))
    }
    return yield* Fiber.join(fiber)
  })

/** The error a failed exit carries, unwrapped from effect's span-carrying proxy. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): unknown =>
  Exit.isFailure(exit) ? Cause.originalError(Option.getOrThrow(Cause.failureOption(exit.cause))) : undefined

const spansOf = (model: string) =>
  Effect.map(
    TrackingTest.finishedSpans,
    (spans) => spans.filter((span) => span.attributes["gen_ai.request.model"] === model)
  )

const attemptsOf = (spans: ReadonlyArray<ReadableSpan>) =>
  spans.map((span) => span.attributes["botanu.request.attempt"])

describe("attempt numbering under retries", () => {
  it.effect("success on the first try: one span, attempt 1, one success", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("first-try")
      const exit = yield* runWithClock(
        flakyCall([]).pipe(trackLlmCall({ provider: "anthropic", model }), retryTracked(backoff))
      )
      assert.deepStrictEqual(exit, Exit.succeed("ok after 1"))
      const spans = yield* spansOf(model)
      assert.deepStrictEqual(attemptsOf(spans), [1])
      assert.deepStrictEqual(yield* attemptsByStatus(model), { success: 1 })
    })))

  for (
    const [label, retry] of [
      ["plain Effect.retry", <A, E>(self: Effect.Effect<A, E>) => Effect.retry(self, backoff)],
      ["retryTracked", <A, E>(self: Effect.Effect<A, E>) => retryTracked(self, backoff)]
    ] as const
  ) {
    it.effect(`success on the third try with ${label}: attempts 1, 2, 3 with their own outcomes`, () =>
      withTracking(Effect.gen(function*() {
        const model = uniqueName("third-try")
        const exit = yield* runWithClock(
          flakyCall(limited(2)).pipe(trackLlmCall({ provider: "anthropic", model }), retry)
        )
        assert.deepStrictEqual(exit, Exit.succeed("ok after 3"))
        const spans = yield* spansOf(model)
        assert.deepStrictEqual(attemptsOf(spans), [1, 2, 3])
        assert.deepStrictEqual(spans.map((s) => s.status.code), [
          SpanStatusCode.ERROR,
          SpanStatusCode.ERROR,
          SpanStatusCode.OK
        ])
        assert.deepStrictEqual(spans.map((s) => s.attributes["error.type"]), [
          "RateLimitError",
          "RateLimitError",
          undefined
        ])
        assert.deepStrictEqual(spans.map((s) => s.status.message), ["429 #1", "429 #2", undefined])
        // Backoff sleeps happen between attempts, not inside them: each span lasts no time on the TestClock.
        assert.deepStrictEqual(spans.map((s) => s.duration), [[0, 0], [0, 0], [0, 0]])
        assert.deepStrictEqual(yield* attemptsByStatus(model), { error: 2, success: 1 })
      })))
  }

  it.effect("exhausted retries: every attempt recorded, the last error passes through", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("exhausted")
      const failures = limited(5)
      const exit = yield* runWithClock(
        flakyCall(failures).pipe(trackLlmCall({ provider: "openai", model }), Effect.retry(Schedule.recurs(2)))
      )
      assert.strictEqual(failureOf(exit), failures[2])
      const spans = yield* spansOf(model)
      assert.deepStrictEqual(attemptsOf(spans), [1, 2, 3])
      assert.isTrue(spans.every((s) => s.attributes["error.type"] === "RateLimitError"))
      assert.deepStrictEqual(yield* attemptsByStatus(model), { error: 3 })
    })))

  it.effect("several tracked calls in the retried effect are all numbered by the run they belong to", () =>
    withTracking(Effect.gen(function*() {
      const first = uniqueName("first-of-two")
      const second = uniqueName("second-of-two")
      const flaky = flakyCall(limited(2))
      const step = Effect.gen(function*() {
        yield* Effect.succeed("context").pipe(trackLlmCall({ provider: "openai", model: first }))
        return yield* flaky.pipe(trackLlmCall({ provider: "openai", model: second }))
      })
      yield* runWithClock(Effect.retry(step, backoff))
      assert.deepStrictEqual(attemptsOf(yield* spansOf(first)), [1, 2, 3])
      assert.deepStrictEqual(attemptsOf(yield* spansOf(second)), [1, 2, 3])
    })))

  it.effect("tracked calls nested in a retried workflow step; an error that keeps its cause is followed", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("nested")
      const step = flakyCall(limited(1)).pipe(
        trackLlmCall({ provider: "anthropic", model }),
        Effect.withSpan("classify"),
        Effect.mapError((cause) => new StepFailed({ message: "classification failed", cause }))
      )
      yield* runWithClock(Effect.retry(Effect.withSpan(step, "workflow.step"), backoff))
      assert.deepStrictEqual(attemptsOf(yield* spansOf(model)), [1, 2])
    })))

  it.effect("only retryTracked numbers runs that failed in untracked code or lost the call's error", () =>
    withTracking(Effect.gen(function*() {
      const untrackedFailure = (model: string) => {
        let runs = 0
        return Effect.gen(function*() {
          yield* Effect.succeed("draft").pipe(trackLlmCall({ provider: "openai", model }))
          if (runs++ === 0) return yield* Effect.fail(new StepFailed({ message: "validation failed" }))
        })
      }
      const plain = uniqueName("plain-untracked")
      yield* runWithClock(Effect.retry(untrackedFailure(plain), backoff))
      assert.deepStrictEqual(attemptsOf(yield* spansOf(plain)), [1, 1])
      const numbered = uniqueName("numbered-untracked")
      yield* runWithClock(retryTracked(untrackedFailure(numbered), backoff))
      assert.deepStrictEqual(attemptsOf(yield* spansOf(numbered)), [1, 2])

      const replaced = uniqueName("replaced")
      const lost = flakyCall(limited(1)).pipe(
        trackLlmCall({ provider: "openai", model: replaced }),
        Effect.mapError(() => new StepFailed({ message: "cause dropped" }))
      )
      yield* runWithClock(retryTracked(lost, backoff))
      assert.deepStrictEqual(attemptsOf(yield* spansOf(replaced)), [1, 2])
    })))

  it.effect("a repeat loop never raises the number", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("polling")
      yield* runWithClock(
        Effect.succeed("status: pending").pipe(
          trackLlmCall({ provider: "openai", model }),
          Effect.repeat(Schedule.spaced(Duration.seconds(5)).pipe(Schedule.intersect(Schedule.recurs(3))))
        )
      )
      assert.deepStrictEqual(attemptsOf(yield* spansOf(model)), [1, 1, 1, 1])
      assert.deepStrictEqual(yield* attemptsByStatus(model), { success: 4 })
    })))

  it.effect("a retry inside a repeat numbers each repetition from 1", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("repeat-of-retries")
      let round = 0
      const call = Effect.suspend(() => round++ % 2 === 0 ? Effect.fail(limited(1)[0]) : Effect.succeed("ok"))
      yield* runWithClock(
        call.pipe(trackLlmCall({ provider: "openai", model }), Effect.retry(backoff), Effect.repeat(Schedule.recurs(1)))
      )
      assert.deepStrictEqual(attemptsOf(yield* spansOf(model)), [1, 2, 1, 2])
    })))

  it.effect("setAttempt by hand wins over the automatic number", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("by-hand")
      const failures = limited(1)
      let runs = 0
      const call = Effect.flatMap(LlmTracker, (tracker) =>
        Effect.zipRight(
          tracker.setAttempt(runs === 0 ? 10 : 20),
          Effect.suspend(() => runs++ === 0 ? Effect.fail(failures[0]) : Effect.succeed("ok"))
        ))
      yield* runWithClock(call.pipe(trackLlmCall({ provider: "openai", model }), Effect.retry(backoff)))
      // The automatic number of the second run would be 11, after the hand-set 10.
      assert.deepStrictEqual(attemptsOf(yield* spansOf(model)), [10, 20])
    })))

  it.effect("interruption during a backoff sleep: the failed attempt is recorded, nothing more", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("interrupted-backoff")
      const fiber = yield* Effect.fork(
        flakyCall(limited(5)).pipe(
          trackLlmCall({ provider: "anthropic", model }),
          Effect.retry(Schedule.spaced(Duration.seconds(10)))
        )
      )
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust(Duration.seconds(60))
      const spans = yield* spansOf(model)
      assert.deepStrictEqual(attemptsOf(spans), [1])
      assert.strictEqual(spans[0].attributes["error.type"], "RateLimitError")
      assert.deepStrictEqual(yield* attemptsByStatus(model), { error: 1 })
    })))

  it.effect("interruption during an attempt ends that attempt's span as interrupted", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("interrupted-attempt")
      let runs = 0
      const call = Effect.suspend(() => runs++ === 0 ? Effect.fail(limited(1)[0]) : Effect.never)
      const fiber = yield* Effect.fork(
        call.pipe(trackLlmCall({ provider: "anthropic", model }), Effect.retry(Schedule.spaced(Duration.seconds(1))))
      )
      yield* TestClock.adjust(Duration.seconds(2))
      yield* Fiber.interrupt(fiber)
      const spans = yield* spansOf(model)
      assert.deepStrictEqual(attemptsOf(spans), [1, 2])
      assert.deepStrictEqual(spans.map((s) => s.attributes["error.type"]), ["RateLimitError", "interrupted"])
      assert.deepStrictEqual(spans.map((s) => s.status.code), [SpanStatusCode.ERROR, SpanStatusCode.ERROR])
      assert.strictEqual(spans[1].status.message, "interrupted")
    })))
})

describe("fallbackTracked", () => {
  it.effect("a rate-limited call falls back to the next provider, numbering continued, indexes marked", () =>
    withTracking(Effect.gen(function*() {
      const claude = uniqueName("claude-3-opus")
      const gpt = uniqueName("gpt-4")
      const exit = yield* runWithClock(fallbackTracked([
        flakyCall(limited(9)).pipe(
          trackLlmCall({ provider: "anthropic", model: claude }),
          retryTracked(Schedule.recurs(1))
        ),
        flakyCall([]).pipe(trackLlmCall({ provider: "openai", model: gpt }))
      ], { while: (error) => error._tag === "RateLimitError" }))
      assert.deepStrictEqual(exit, Exit.succeed("ok after 1"))
      const claudeSpans = yield* spansOf(claude)
      const gptSpans = yield* spansOf(gpt)
      assert.deepStrictEqual(attemptsOf(claudeSpans), [1, 2])
      assert.deepStrictEqual(claudeSpans.map((s) => s.attributes["botanu.request.fallback_index"]), [0, 0])
      assert.deepStrictEqual(attemptsOf(gptSpans), [3])
      assert.strictEqual(gptSpans[0].attributes["botanu.request.fallback_index"], 1)
      assert.strictEqual(gptSpans[0].status.code, SpanStatusCode.OK)
      assert.deepStrictEqual(yield* attemptsByStatus(claude), { error: 2 })
      assert.deepStrictEqual(yield* attemptsByStatus(gpt), { success: 1 })
    })))

  it.effect("an error the predicate does not accept fails at once, without falling back", () =>
    withTracking(Effect.gen(function*() {
      const first = uniqueName("auth-fails")
      const second = uniqueName("never-called")
      const denied = new AuthError({ message: "invalid key" })
      const exit = yield* runWithClock(fallbackTracked([
        (Effect.fail(denied) as Effect.Effect<never, AuthError | RateLimitError>).pipe(
          trackLlmCall({ provider: "anthropic", model: first })
        ),
        Effect.succeed("unused").pipe(trackLlmCall({ provider: "openai", model: second }))
      ], { while: (error) => error._tag === "RateLimitError" }))
      assert.strictEqual(failureOf(exit), denied)
      assert.deepStrictEqual(attemptsOf(yield* spansOf(first)), [1])
      assert.strictEqual((yield* spansOf(second)).length, 0)
    })))

  it.effect("when every step fails, the last error passes through and every step is recorded", () =>
    withTracking(Effect.gen(function*() {
      const models = [uniqueName("a"), uniqueName("b"), uniqueName("c")]
      const failures = limited(3)
      const exit = yield* runWithClock(
        fallbackTracked([
          Effect.fail(failures[0]).pipe(trackLlmCall({ provider: "anthropic", model: models[0] })),
          Effect.fail(failures[1]).pipe(trackLlmCall({ provider: "openai", model: models[1] })),
          Effect.fail(failures[2]).pipe(trackLlmCall({ provider: "groq", model: models[2] }))
        ])
      )
      assert.strictEqual(failureOf(exit), failures[2])
      for (const [index, model] of models.entries()) {
        const [span] = yield* spansOf(model)
        assert.strictEqual(span.attributes["botanu.request.attempt"], index + 1)
        assert.strictEqual(span.attributes["botanu.request.fallback_index"], index)
      }
    })))

  it.effect("a fallback chain retried as a whole keeps counting", () =>
    withTracking(Effect.gen(function*() {
      const a = uniqueName("chain-a")
      const b = uniqueName("chain-b")
      let runs = 0
      const chain = fallbackTracked([
        Effect.fail(limited(1)[0]).pipe(trackLlmCall({ provider: "anthropic", model: a })),
        Effect.suspend(() => runs++ === 0 ? Effect.fail(limited(1)[0]) : Effect.succeed("ok")).pipe(
          trackLlmCall({ provider: "openai", model: b })
        )
      ])
      const exit = yield* runWithClock(retryTracked(chain, backoff))
      assert.deepStrictEqual(exit, Exit.succeed("ok"))
      assert.deepStrictEqual(attemptsOf(yield* spansOf(a)), [1, 3])
      assert.deepStrictEqual(attemptsOf(yield* spansOf(b)), [2, 4])
    })))
})
