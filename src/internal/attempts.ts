import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Schedule from "effect/Schedule"

/**
 * Attempt numbering for the tracked calls inside `retryTracked` and `fallbackTracked`. Scopes nest (a retry inside
 * a fallback step); `last` travels up so that the next step of a chain continues after every attempt made.
 *
 * @internal
 */
export interface AttemptScope {
  readonly parent: AttemptScope | undefined
  readonly fallbackIndex: number | undefined
  /** The number a tracked call in this scope gets when no retry of its own numbers it. */
  attempt: number
  /** The highest attempt number started in this scope so far. */
  last: number
}

/** @internal */
export class CurrentAttemptScope extends Context.Reference<CurrentAttemptScope>()(
  "@botanu/effect/internal/CurrentAttemptScope",
  { defaultValue: (): AttemptScope | undefined => undefined }
) {}

/** @internal */
export const childScope = (parent: AttemptScope | undefined, fallbackIndex?: number): AttemptScope => {
  const last = parent === undefined ? 0 : parent.attempt - 1
  return {
    parent,
    fallbackIndex: fallbackIndex ?? parent?.fallbackIndex,
    attempt: last + 1,
    last
  }
}

// Keyed by the error a tracked call failed with, so that the next run of a plain `Effect.retry` (which hands the
// previous error to the effect as `Schedule.CurrentIterationMetadata.input`) can tell it is a retry of that call,
// and not a `repeat` (whose input is the previous value). Weak, so errors are never kept alive by tracking.
const failedAttempts = new WeakMap<object, number>()

// How far to follow `error.cause` from an error that replaced the tracked call's error.
const maxCauseDepth = 8

const registeredAttempt = (input: unknown): number | undefined => {
  try {
    let current = input
    for (let depth = 0; depth < maxCauseDepth && typeof current === "object" && current !== null; depth++) {
      const original = Cause.originalError(current)
      const attempt = failedAttempts.get(original as object)
      if (attempt !== undefined) return attempt
      current = (original as { readonly cause?: unknown }).cause
    }
  } catch {
    // an error with a hostile getter is simply not recognised
  }
  return undefined
}

/**
 * The attempt number of a tracked call starting with `iteration` (its context's `Schedule.CurrentIterationMetadata`)
 * in `scope`: the larger of the next one after a failed attempt
 * that a retry is repeating and its scope's number (a fallback step inside a retried chain is both), else 1.
 *
 * @internal
 */
export const resolve = (iteration: Schedule.IterationMetadata, scope: AttemptScope | undefined): number => {
  const fromScope = scope === undefined ? 1 : scope.attempt
  const input = iteration.input
  if (input === undefined) return fromScope
  const previous = registeredAttempt(input)
  return previous === undefined ? fromScope : Math.max(previous + 1, fromScope)
}

/** @internal */
export const started = (scope: AttemptScope | undefined, attempt: number): void => {
  for (let current = scope; current !== undefined; current = current.parent) {
    if (attempt > current.last) current.last = attempt
  }
}

/** @internal */
export const failed = (error: unknown, attempt: number): void => {
  if (typeof error === "object" && error !== null) failedAttempts.set(Cause.originalError(error) as object, attempt)
}

/**
 * The failure of a wrapper (a tracked LLM call with tracked LLM calls inside): usually the error of a call inside
 * it, which that call registered with its own number, higher than the wrapper's when it was retried or fell back
 * inside the wrapper. The number kept is never lowered, so that the next run continues after every attempt made;
 * an error of the wrapper's own (its code failed after the calls inside succeeded) is registered as usual.
 *
 * @internal
 */
export const failedWrapping = (error: unknown, attempt: number): void => {
  const inner = registeredAttempt(error)
  failed(error, inner === undefined || inner < attempt ? attempt : inner)
}
