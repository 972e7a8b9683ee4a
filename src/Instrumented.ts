/**
 * Instrumented functions: every call of a function that calls a provider becomes a tracked LLM call, with the
 * model read from its arguments and the usage read from its response.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/instrumented.js"
import type { ServerClient } from "./LlmCall.js"
import type { LlmTracker } from "./LlmTracker.js"
import type { UsageFrom } from "./Usage.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface InstrumentedOptions {
  /** Any spelling; recorded normalized (see `Provider.providerNames`). */
  readonly provider: string
  /**
   * Read usage, ids, response model and finish reasons from each call's response (default `true`). Not done for a
   * streaming call (`stream: true`): its usage is in the stream's last chunks; record it with the `LlmTracker`.
   */
  readonly tokensFromResponse?: boolean | undefined
  /** The field of the first argument that names the model (default `"model"`); `"unknown"` when it is absent. */
  readonly modelParam?: string | undefined
  /** `gen_ai.operation.name`; defaults to `"chat"` (see `ModelOperation`). */
  readonly operation?: string | undefined
  /** How usage is read when `tokensFromResponse` is on; default `"auto"` (see `Usage.UsageFrom`). */
  readonly usageFrom?: UsageFrom | undefined
  /** `server.address` of every call (see `LlmCallOptions.serverAddress`); wins over `client`. */
  readonly serverAddress?: string | undefined
  /** `server.port` of every call (see `LlmCallOptions.serverPort`); wins over `client`. */
  readonly serverPort?: number | undefined
  /**
   * The SDK client the function calls (an `openai` or `@anthropic-ai/sdk` client): `server.address` and
   * `server.port` are read from its `baseURL`. The wrapped function's body is not visible to tracking, so the
   * client must be named here.
   */
  readonly client?: ServerClient | undefined
}

/**
 * What `llmInstrumented(options)` returns: a wrapper for functions returning an `Effect`, also usable as a
 * standard (TC39) method decorator, and `promise`, a wrapper for functions returning a `Promise`.
 *
 * @since 0.1.0
 * @category models
 */
export interface LlmInstrument {
  /** Wraps a function returning an `Effect`: each call runs inside `trackLlmCall`. */
  <Args extends ReadonlyArray<any>, A, E, R>(
    fn: (...args: Args) => Effect.Effect<A, E, R>
  ): (...args: Args) => Effect.Effect<A, E, Exclude<R, LlmTracker>>
  /** As a standard method decorator on a method returning an `Effect` (`this` is kept). */
  <This, Args extends ReadonlyArray<any>, A, E, R>(
    method: (this: This, ...args: Args) => Effect.Effect<A, E, R>,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Effect.Effect<A, E, R>>
  ): (this: This, ...args: Args) => Effect.Effect<A, E, Exclude<R, LlmTracker>>
  /**
   * Wraps a function returning a `Promise` (an SDK call) into one returning an `Effect`, so that the call runs
   * with your app's tracking layer. A rejection, or a synchronous throw, is recorded and becomes the effect's
   * failure as it is.
   */
  readonly promise: <This, Args extends ReadonlyArray<any>, A>(
    fn: (this: This, ...args: Args) => PromiseLike<A>
  ) => (this: This, ...args: Args) => Effect.Effect<A, unknown>
}

/**
 * Makes every call of a function a tracked LLM call (see `trackLlmCall`): the model from the first argument's
 * `modelParam` field (else `"unknown"`), streaming when that argument has `stream: true`, and usage, response id,
 * response model and finish reasons read from the response (`usageFrom: "auto"`) unless `tokensFromResponse` is
 * `false`. The wrapped effect can still use the `LlmTracker`; what it sets by hand wins. With content capture on
 * (see `Content`), the input messages and system instructions are read from the first argument when the call starts,
 * and the output messages from the response when usage is read from it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import OpenAI from "openai"
 * import { llmInstrumented } from "@botanu/effect"
 *
 * // Retries are the app's (Effect.retry, retryTracked), so that each attempt is tracked.
 * const client = new OpenAI({ maxRetries: 0 })
 *
 * // A function returning a Promise, made into one returning a tracked Effect; `client` gives `server.address`.
 * const chat = llmInstrumented({ provider: "openai", client }).promise(
 *   (params: OpenAI.ChatCompletionCreateParamsNonStreaming) => client.chat.completions.create(params)
 * )
 *
 * // A method returning an Effect, decorated.
 * class Embedder {
 *   @llmInstrumented({ provider: "openai", operation: "embeddings" })
 *   embed(params: { model: string; input: string }) {
 *     return Effect.tryPromise(() => client.embeddings.create(params))
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const llmInstrumented = (options: InstrumentedOptions): LlmInstrument => {
  const planFor = internal.planner(options)
  const instrument = (fn: (...args: ReadonlyArray<any>) => Effect.Effect<any, any, any>, _context?: unknown) =>
    internal.wrapEffect(planFor, fn)
  return Object.assign(instrument, {
    promise: <This, Args extends ReadonlyArray<any>, A>(fn: (this: This, ...args: Args) => PromiseLike<A>) =>
      internal.wrapPromise(planFor, fn)
  }) as LlmInstrument
}
