import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import { GenAiRequestStream, RequestStreaming } from "../Attributes.js"
import type { InstrumentedOptions } from "../Instrumented.js"
import type { LlmTracker } from "../LlmTracker.js"
import { type LlmCallPlan, plan, track } from "./llmCall.js"

// Plans are cached per (model, streaming) so that repeated calls do not redo the work; the bound keeps a caller
// that sends ever-new model names from growing the cache without end.
const maxCachedPlans = 256

const streamingAttributes = { [RequestStreaming]: true, [GenAiRequestStream]: true }

/**
 * Works out the plan of one call from its first argument: the model from `modelParam`, streaming from `stream`.
 *
 * @internal
 */
export const planner = (options: InstrumentedOptions): (args: ReadonlyArray<unknown>) => LlmCallPlan => {
  const modelParam = options.modelParam ?? "model"
  const readUsage = options.tokensFromResponse ?? true
  const cache = new Map<string, LlmCallPlan>()
  return (args) => {
    const first = args[0]
    let model = "unknown"
    let streaming = false
    if (typeof first === "object" && first !== null) {
      const value = (first as Record<string, unknown>)[modelParam]
      if (typeof value === "string" && value.trim().length > 0) model = value
      streaming = (first as Record<string, unknown>).stream === true
    }
    const key = `${streaming ? "s" : "n"}${model}`
    const cached = cache.get(key)
    if (cached !== undefined) return cached
    const made = plan({
      provider: options.provider,
      model,
      operation: options.operation,
      serverAddress: options.serverAddress,
      serverPort: options.serverPort,
      client: options.client,
      ...(streaming ? { attributes: streamingAttributes } : {}),
      // A stream's usage arrives in its last chunks, which only the consumer sees: it is recorded by hand.
      ...(readUsage && !streaming ? { usageFrom: options.usageFrom ?? "auto" } : {})
    })
    if (cache.size < maxCachedPlans) cache.set(key, made)
    return made
  }
}

/** @internal */
export const wrapEffect = <This, Args extends ReadonlyArray<any>, A, E, R>(
  planFor: (args: ReadonlyArray<unknown>) => LlmCallPlan,
  fn: (this: This, ...args: Args) => Effect.Effect<A, E, R>
): (this: This, ...args: Args) => Effect.Effect<A, E, Exclude<R, LlmTracker>> =>
  function(this: This, ...args: Args) {
    // Suspended, so that a function that throws instead of failing is recorded as a defect of the call.
    return track(Effect.suspend(() => fn.call(this, ...args)), planFor(args))
  }

/** @internal */
export const wrapPromise = <This, Args extends ReadonlyArray<any>, A>(
  planFor: (args: ReadonlyArray<unknown>) => LlmCallPlan,
  fn: (this: This, ...args: Args) => PromiseLike<A>
): (this: This, ...args: Args) => Effect.Effect<A, unknown> =>
  function(this: This, ...args: Args) {
    // The rejection (or a synchronous throw) is the failure as it is, not wrapped in an UnknownException.
    return track(Effect.tryPromise({ try: () => fn.call(this, ...args), catch: identity }), planFor(args))
  }
