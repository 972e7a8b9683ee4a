/**
 * The service a tracked LLM call reads to record what only the call itself knows: tokens, ids, the model that
 * answered, request parameters, finish reasons.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { InputMessage, OutputMessage, Part, TextMessage } from "./Content.js"

/**
 * The token counts of one billed step: the whole input and output, and the parts of them that are billed at other
 * rates. Each part is a part of its whole, never added to it; a part larger than its whole is clamped to the whole
 * (with a warning in `botanu.tracking.warnings`), so that no cache read is ever recorded larger than the input it
 * belongs to.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenCounts {
  /**
   * All input: text, audio, image, cache reads and writes (`gen_ai.usage.input_tokens`). An API that reports input
   * without the cache has it added (see `TokenUsage.inputIncludesCache`).
   */
  readonly inputTokens?: number | undefined
  /** All output: text, audio, image and reasoning (`gen_ai.usage.output_tokens`). */
  readonly outputTokens?: number | undefined
  /** Cache reads of every modality, part of the input. */
  readonly cacheReadTokens?: number | undefined
  /** Cache writes, 5-minute and 1-hour, part of the input. */
  readonly cacheWriteTokens?: number | undefined
  /**
   * The part of `cacheWriteTokens` written to a 1-hour cache (Anthropic `cache_creation.ephemeral_1h_input_tokens`),
   * billed at its own rate; the rest of the writes are 5-minute writes, and a write with no split is a 5-minute write.
   */
  readonly cacheWrite1hTokens?: number | undefined
  /** The audio part of the input, its cache reads included. */
  readonly inputAudioTokens?: number | undefined
  /** The audio part of `cacheReadTokens`, and so of `inputAudioTokens`. */
  readonly cacheReadAudioTokens?: number | undefined
  /** The image part of the input, its cache reads included. */
  readonly inputImageTokens?: number | undefined
  /** The image part of `cacheReadTokens`, and so of `inputImageTokens`. */
  readonly cacheReadImageTokens?: number | undefined
  /** Part of the output tokens, never added to them. */
  readonly reasoningTokens?: number | undefined
  /** The audio part of the output. */
  readonly outputAudioTokens?: number | undefined
  /** The image part of the output. */
  readonly outputImageTokens?: number | undefined
}

/**
 * One billed step of a call that a provider reports apart (Anthropic `usage.iterations`: a context compaction, an
 * advisor's answer, each sampling turn of a server-side tool loop). Its counts have the call's input semantics.
 *
 * @since 0.1.0
 * @category models
 */
export interface UsageIteration extends TokenCounts {
  /** What the step was, as the provider names it (`compaction`, `message`, `advisor_message`). */
  readonly type?: string | undefined
  /** The model that ran the step, when not the call's own (an advisor); it is priced at this model's rates. */
  readonly model?: string | undefined
}

/**
 * Token counts as a provider reports them.
 *
 * `inputTokens` is recorded as `gen_ai.usage.input_tokens`, which by the semantic conventions INCLUDES cached
 * tokens. Providers whose APIs report input without the cache (normalized `anthropic` and `aws.bedrock`) get cache
 * reads and writes added to it; `inputIncludesCache` overrides that provider default.
 *
 * With `iterations`, the call's billed totals are the sums of its iterations (recorded as the call's
 * `gen_ai.usage.*`, with `botanu.usage.iterations` saying how many there were), and the top-level counts are not
 * added to them: a provider that reports iterations reports only some of the steps at the top level. A part that no
 * iteration reports (Anthropic's thinking tokens) is the top level's.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenUsage extends TokenCounts {
  /** Cached input tokens as OpenAI reports them (`prompt_tokens_details.cached_tokens`): cache reads. */
  readonly cachedTokens?: number | undefined
  /**
   * Web-search tool uses billed on this call (Anthropic `server_tool_use.web_search_requests`, the `web_search_call`
   * output items of an OpenAI Responses answer): `botanu.usage.web_searches`.
   */
  readonly webSearches?: number | undefined
  /**
   * The service tier the provider answered with, as given (OpenAI `service_tier`, Anthropic `usage.service_tier`):
   * `botanu.request.service_tier`, and for OpenAI and Azure OpenAI also `openai.response.service_tier`.
   */
  readonly serviceTier?: string | undefined
  /** The call's billed steps, when the provider reports them apart; the call's totals are then their sums. */
  readonly iterations?: ReadonlyArray<UsageIteration> | undefined
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
 * What a response says, for `LlmTracker.record`: each field as its own setter takes it (`setTokens`,
 * `setRequestId`, `setResponseModel`, `setFinishReason`); `requestId` may also be the provider's request id alone.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponseFacts {
  readonly tokens?: TokenUsage | undefined
  readonly requestId?: string | RequestIds | undefined
  readonly responseModel?: string | undefined
  readonly finishReasons?: string | ReadonlyArray<string> | undefined
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
     * `setTokens`, `setRequestId`, `setResponseModel` and `setFinishReason` in one step, for the fields given: what
     * a response says, recorded with one Effect operation instead of one per setter.
     */
    readonly record: (facts: ResponseFacts) => Effect.Effect<void>
    /**
     * Records `error.type`, `error.message` and one `exception` event without failing the call; the span's status
     * follows the call's own outcome.
     */
    readonly setError: (error: unknown) => Effect.Effect<void>
    /** Extra attributes: keys that do not start with `botanu.` or `gen_ai.` get the prefix `botanu.`. */
    readonly addMetadata: (metadata: Readonly<Record<string, AttributeValue>>) => Effect.Effect<void>
    /**
     * `gen_ai.input.messages`: the messages sent, in order (`{ role, content }` for one text part). Recorded only
     * when content capture is on (see `Content`), and then instead of what is read from the request; otherwise
     * a no-op that costs nothing.
     */
    readonly setInputMessages: (messages: ReadonlyArray<InputMessage | TextMessage>) => Effect.Effect<void>
    /**
     * `gen_ai.output.messages`: the answer, one message per choice, each with its `finish_reason` (`unknown` when
     * left out). Recorded only when content capture is on, instead of what is read from the response or stream.
     */
    readonly setOutputMessages: (messages: ReadonlyArray<OutputMessage | TextMessage>) => Effect.Effect<void>
    /**
     * `gen_ai.system_instructions`: a string (one text part) or parts. Recorded only when content capture is on,
     * instead of what is read from the request.
     */
    readonly setSystemInstructions: (instructions: string | ReadonlyArray<Part>) => Effect.Effect<void>
  }
}
