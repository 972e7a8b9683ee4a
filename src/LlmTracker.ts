/**
 * The service a tracked LLM call reads to record what only the call itself knows: tokens, ids, the model that
 * answered, request parameters, finish reasons.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

/**
 * Token counts as a provider reports them.
 *
 * `inputTokens` is recorded as `gen_ai.usage.input_tokens`, which by the semantic conventions INCLUDES cached
 * tokens. Providers whose APIs report input without the cache (normalized `anthropic` and `aws.bedrock`) get cache
 * reads and writes added to it; `inputIncludesCache` overrides that provider default.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenUsage {
  readonly inputTokens?: number | undefined
  readonly outputTokens?: number | undefined
  /** Cached input tokens as OpenAI reports them (`prompt_tokens_details.cached_tokens`): cache reads. */
  readonly cachedTokens?: number | undefined
  readonly cacheReadTokens?: number | undefined
  readonly cacheWriteTokens?: number | undefined
  /** Part of the output tokens, never added to them. */
  readonly reasoningTokens?: number | undefined
  /** Whether `inputTokens` already includes cache reads and writes; defaults by provider. */
  readonly inputIncludesCache?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RequestIds {
  readonly providerRequestId?: string | undefined
  readonly clientRequestId?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RequestParams {
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  readonly topK?: number | undefined
  readonly maxTokens?: number | undefined
  readonly stopSequences?: ReadonlyArray<string> | string | undefined
  readonly frequencyPenalty?: number | undefined
  readonly presencePenalty?: number | undefined
  readonly seed?: number | undefined
}

/**
 * Values accepted as extra span attributes and metadata.
 *
 * @since 0.1.0
 * @category models
 */
export type AttributeValue = string | number | boolean | ReadonlyArray<string>

/**
 * Provided by `trackLlmCall` to the effect it wraps. Every method returns `Effect<void>` and never fails: a value
 * that cannot be recorded is dropped or sanitized and noted in `botanu.tracking.warnings`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LlmTracker, trackLlmCall } from "@botanu/effect"
 *
 * const call = Effect.gen(function*() {
 *   const tracker = yield* LlmTracker
 *   yield* tracker.setTokens({ inputTokens: 120, outputTokens: 48 })
 *   return "hello"
 * }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class LlmTracker extends Context.Tag("@botanu/effect/LlmTracker")<LlmTracker, LlmTracker.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace LlmTracker {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** `gen_ai.usage.*` and `botanu.usage.*`; input and output are written whenever given, 0 included. */
    readonly setTokens: (usage: TokenUsage) => Effect.Effect<void>
    /** `gen_ai.response.id`, `botanu.provider.request_id`, `botanu.provider.client_request_id`. */
    readonly setRequestId: (ids: RequestIds) => Effect.Effect<void>
    /** `gen_ai.response.model`. */
    readonly setResponseModel: (model: string) => Effect.Effect<void>
    /** `gen_ai.request.*`; 0 is recorded, an absent field is not. */
    readonly setRequestParams: (params: RequestParams) => Effect.Effect<void>
    /** `botanu.request.streaming` and `gen_ai.request.stream`. */
    readonly setStreaming: (streaming?: boolean) => Effect.Effect<void>
    /** `botanu.request.cache_hit`. */
    readonly setCacheHit: (hit?: boolean) => Effect.Effect<void>
    /** `botanu.request.attempt` (1-based). */
    readonly setAttempt: (attempt: number) => Effect.Effect<void>
    /** `gen_ai.response.finish_reasons`, a string array. */
    readonly setFinishReason: (reason: string | ReadonlyArray<string>) => Effect.Effect<void>
    /**
     * Records `error.type`, `error.message` and one `exception` event without failing the call; the span's status
     * follows the call's own outcome.
     */
    readonly setError: (error: unknown) => Effect.Effect<void>
    /** Extra attributes: keys that do not start with `botanu.` or `gen_ai.` get the prefix `botanu.`. */
    readonly addMetadata: (metadata: Readonly<Record<string, AttributeValue>>) => Effect.Effect<void>
  }
}
