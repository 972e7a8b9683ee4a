/**
 * Retries and fallbacks of tracked calls, with every attempt numbered.
 *
 * Each attempt of a tracked LLM call is its own span with `botanu.request.attempt` (1-based) and its own
 * `botanu.gen_ai.attempts` count. Plain `Effect.retry` around tracked calls is numbered too: when a run of the
 * retried effect starts after a tracked call failed, its tracked calls continue from that call's number. Only
 * `retryTracked` numbers the runs whose previous run failed in a way no tracked call saw:
 *
 * - a failure raised by untracked code (after the tracked call succeeded, or before it ran);
 * - an error that replaced the tracked call's error without keeping it as its `cause` (`Effect.mapError(() => new
 *   Other())`; `new Other({ cause: e })` is followed);
 * - a tracked call that failed with a value that is not an object (a string, a number).
 *
 * `Effect.repeat` and other schedules that are not retries never raise the number: a polling loop that repeats a
 * successful call is attempt 1 each time. A number set by hand with `LlmTracker.setAttempt` always wins.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type * as Schedule from "effect/Schedule"
import type { NoInfer } from "effect/Types"
import * as Attempts from "./internal/attempts.js"

/**
 * `Effect.retry` for effects that contain tracked calls: every tracked call in run n of the effect is attempt n
 * (continuing after the attempts already made when it runs inside `fallbackTracked` or another `retryTracked`).
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { retryTracked, trackLlmCall } from "@botanu/effect"
 *
 * declare const callClaude: Effect.Effect<string, Error>
 *
 * const answer = callClaude.pipe(
 *   trackLlmCall({ provider: "anthropic", model: "claude-3-opus" }),
 *   retryTracked(Schedule.exponential("200 millis").pipe(Schedule.intersect(Schedule.recurs(3))))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retryTracked: {
  <B, E, R1>(
    policy: Schedule.Schedule<B, NoInfer<E>, R1>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R | R1>
  <A, E, R, B, R1>(
    self: Effect.Effect<A, E, R>,
    policy: Schedule.Schedule<B, NoInfer<E>, R1>
  ): Effect.Effect<A, E, R | R1>
} = dual(
  2,
  <A, E, R, B, R1>(
    self: Effect.Effect<A, E, R>,
    policy: Schedule.Schedule<B, NoInfer<E>, R1>
  ): Effect.Effect<A, E, R | R1> =>
    Effect.flatMap(Attempts.CurrentAttemptScope, (outer) => {
      const scope = Attempts.childScope(outer)
      const base = scope.last
      let run = 0
      const attempt = Effect.suspend(() => {
        run++
        // A nested retry may have made more attempts than this one has runs.
        scope.attempt = Math.max(base + run, scope.last + 1)
        return self
      })
      return Effect.retry(Effect.provideService(attempt, Attempts.CurrentAttemptScope, scope), policy)
    })
)

/**
 * @since 0.1.0
 * @category models
 */
export interface FallbackOptions<E> {
  /** Fall back only for failures this accepts (say, a tagged `RateLimitError`); others fail at once. */
  readonly while?: ((error: E) => boolean) | undefined
}

/**
 * Tries each effect in turn until one succeeds: on a typed failure (one accepted by `while`, when given) the next
 * one runs; the last one's failure is the result. Defects and interruptions never fall back. The tracked calls of
 * step i carry `botanu.request.fallback_index` = i, and attempt numbers continue across the chain (a step retried
 * twice makes the next step attempt 4).
 *
 * @example
 * ```ts
 * import { Data, Effect } from "effect"
 * import { fallbackTracked, trackLlmCall } from "@botanu/effect"
 *
 * class RateLimitError extends Data.TaggedError("RateLimitError") {}
 * declare const askClaude: Effect.Effect<string, RateLimitError>
 * declare const askGpt: Effect.Effect<string, RateLimitError>
 *
 * const answer = fallbackTracked([
 *   trackLlmCall(askClaude, { provider: "anthropic", model: "claude-3-opus" }),
 *   trackLlmCall(askGpt, { provider: "openai", model: "gpt-4" })
 * ], { while: (error) => error._tag === "RateLimitError" })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const fallbackTracked = <
  const Calls extends readonly [Effect.Effect<any, any, any>, ...Array<Effect.Effect<any, any, any>>]
>(
  calls: Calls,
  options?: FallbackOptions<Effect.Effect.Error<Calls[number]>>
): Effect.Effect<
  Effect.Effect.Success<Calls[number]>,
  Effect.Effect.Error<Calls[number]>,
  Effect.Effect.Context<Calls[number]>
> =>
  Effect.flatMap(Attempts.CurrentAttemptScope, (outer) => {
    const chain = Attempts.childScope(outer)
    const shouldFallBack = options?.while
    const step = (index: number): Effect.Effect<any, any, any> => {
      const attempt = Effect.suspend(() =>
        Effect.provideService(calls[index], Attempts.CurrentAttemptScope, {
          parent: chain,
          fallbackIndex: index,
          attempt: chain.last + 1,
          last: chain.last
        })
      )
      if (index === calls.length - 1) return attempt
      return Effect.catchAll(
        attempt,
        (error) => shouldFallBack === undefined || shouldFallBack(error) ? step(index + 1) : Effect.fail(error)
      )
    }
    return step(0)
  })
