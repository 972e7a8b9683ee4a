import type * as OtelApi from "@opentelemetry/api"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import { GenAiRequestStream, RequestStreaming } from "../Attributes.js"
import type { InstrumentedOptions } from "../Instrumented.js"
import type { ServerClient } from "../LlmCall.js"
import type { LlmTracker } from "../LlmTracker.js"
import type { UsageFrom } from "../Usage.js"
import { maxNameChars } from "./limits.js"
import { type LlmCallPlan, plan, track } from "./llmCall.js"
import { readOptions } from "./sanitize.js"

// Plans are cached per (model, streaming) so that repeated calls do not redo the work; the bound keeps a caller
// that sends ever-new model names from growing the cache without end.
const maxCachedPlans = 256

const optionKeys = [
  "provider",
  "tokensFromResponse",
  "modelParam",
  "operation",
  "usageFrom",
  "serverAddress",
  "serverPort",
  "client"
] as const satisfies ReadonlyArray<keyof InstrumentedOptions>

const streamingAttributes: ReadonlyArray<readonly [string, OtelApi.AttributeValue]> = [
  [RequestStreaming, true],
  [GenAiRequestStream, true]
]

/**
 * Works out the plan of one call from its first argument: the model from `modelParam`, streaming from `stream`.
 *
 * @internal
 */
export const planner = (given: InstrumentedOptions): (args: ReadonlyArray<unknown>) => LlmCallPlan => {
  // Read once and guarded: options that throw cost those options only, on every call's span, never a call.
  const readWarnings: Array<string> = []
  const options = readOptions(given, optionKeys, (line) => readWarnings.push(line))
  const modelParam = typeof options.modelParam === "string" ? options.modelParam : "model"
  const readUsage = options.tokensFromResponse ?? true
  const cache = new Map<string, LlmCallPlan>()
  return (args) => {
    let model = "unknown"
    let streaming = false
    try {
      const first = args[0]
      if (typeof first === "object" && first !== null) {
        const value = (first as Record<string, unknown>)[modelParam]
        // Cut here already, so that a huge model name does not become a huge cache key.
        if (typeof value === "string" && value.trim().length > 0) model = value.slice(0, maxNameChars + 1)
        streaming = (first as Record<string, unknown>).stream === true
      }
    } catch {
      // A request whose getters throw is the SDK's to reject: the call is tracked with what could be read.
    }
    const key = `${streaming ? "s" : "n"}${model}`
    const cached = cache.get(key)
    if (cached !== undefined) return cached
    const made = plan({
      provider: options.provider as string,
      model,
      operation: options.operation as string | undefined,
      serverAddress: options.serverAddress as string | undefined,
      serverPort: options.serverPort as number | undefined,
      client: options.client as ServerClient | undefined,
      // A stream's usage arrives in its last chunks, which only the consumer sees: it is recorded by hand.
      ...(readUsage && !streaming ? { usageFrom: (options.usageFrom ?? "auto") as UsageFrom } : {})
    })
    // The library's own facts of the call: the caller's attributes could not set them.
    const planned = readWarnings.length === 0 && !streaming ? made : {
      ...made,
      startAttributes: streaming ? [...made.startAttributes, ...streamingAttributes] : made.startAttributes,
      warnings: [...readWarnings, ...made.warnings]
    }
    if (cache.size < maxCachedPlans) cache.set(key, planned)
    return planned
  }
}

/** @internal */
export const wrapEffect = <This, Args extends ReadonlyArray<any>, A, E, R>(
  planFor: (args: ReadonlyArray<unknown>) => LlmCallPlan,
  fn: (this: This, ...args: Args) => Effect.Effect<A, E, R>
): (this: This, ...args: Args) => Effect.Effect<A, E, Exclude<R, LlmTracker>> =>
  function(this: This, ...args: Args) {
    // Suspended, so that a function that throws instead of failing is recorded as a defect of the call. The
    // request goes along for content capture, which reads it when the call starts (and only when capture is on).
    return track(Effect.suspend(() => fn.call(this, ...args)), planFor(args), args[0])
  }

/** @internal */
export const wrapPromise = <This, Args extends ReadonlyArray<any>, A>(
  planFor: (args: ReadonlyArray<unknown>) => LlmCallPlan,
  fn: (this: This, ...args: Args) => PromiseLike<A>
): (this: This, ...args: Args) => Effect.Effect<A, unknown> =>
  function(this: This, ...args: Args) {
    // The rejection (or a synchronous throw) is the failure as it is, not wrapped in an UnknownException.
    return track(Effect.tryPromise({ try: () => fn.call(this, ...args), catch: identity }), planFor(args), args[0])
  }
