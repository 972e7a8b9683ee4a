/**
 * Tracked LLM calls: an LLM call is an `Effect`, and `trackLlmCall` records it as an OpenTelemetry GenAI span.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import {
  GenAiOperationName,
  GenAiProviderName,
  GenAiRequestModel,
  GenAiRequestStream,
  GenAiResponseId,
  ProviderRequestId,
  RequestStreaming,
  Vendor
} from "./Attributes.js"
import * as internal from "./internal/llmCall.js"
import { resolve as resolveProvider } from "./internal/provider.js"
import { boolean, optionalString, requiredName } from "./internal/sanitize.js"
import { SpanRecorder } from "./internal/spanRecorder.js"
import { emptyTokens, writeTokens } from "./internal/tokens.js"
import type { AttributeValue, LlmTracker } from "./LlmTracker.js"
import { ModelOperation } from "./ModelOperation.js"
import { inputExcludesCache } from "./Provider.js"
import type { UsageFrom } from "./Usage.js"

/**
 * An SDK client whose base URL names the server it talks to: an `openai` or `@anthropic-ai/sdk` client, or any
 * object with a string `baseURL`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerClient {
  readonly baseURL?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface LlmCallOptions {
  /**
   * Any spelling: `gen_ai.provider.name` gets the semantic conventions' well-known value where one exists,
   * `botanu.vendor` the normalized name (see `Provider.providerNames`).
   */
  readonly provider: string
  /** The requested model, as given. An empty one is recorded as `unknown`. */
  readonly model: string
  /** `gen_ai.operation.name`; defaults to `"chat"` (see `ModelOperation`). */
  readonly operation?: string | undefined
  readonly clientRequestId?: string | undefined
  /**
   * `server.address` on the span (at start) and on the `gen_ai.client.*` metrics: the GenAI server's host name or
   * address, a non-blank string of at most 255 characters. Wins over `client`.
   */
  readonly serverAddress?: string | undefined
  /** `server.port`, likewise: an integer from 1 to 65535. Wins over `client`. */
  readonly serverPort?: number | undefined
  /**
   * The SDK client making the call: `server.address` and `server.port` are read from its `baseURL` (the port from
   * the URL, else 443 for https and 80 for http) where `serverAddress` / `serverPort` do not say.
   */
  readonly client?: ServerClient | undefined
  /**
   * Extra span attributes: keys that do not start with `botanu.`, `gen_ai.` or `server.` get the prefix `botanu.`.
   * `server.address` and `server.port` here count as `serverAddress` and `serverPort` (the options win).
   */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
  /**
   * Reads tokens, response id, response model and finish reasons from the effect's success value, before the span
   * ends: `"auto"` (detect the API), an API's name (see `Usage.ExtractorName`), or a function. What the effect set
   * by hand through the `LlmTracker` wins, per group (tokens, response id, response model, finish reasons).
   * What cannot be read is noted in `botanu.tracking.warnings`; the call's outcome never changes. With content
   * capture on (see `Content`), the output messages are read from the success value too (OpenAI Chat Completions
   * and Responses, Anthropic Messages), whatever `usageFrom` is.
   */
  readonly usageFrom?: UsageFrom | undefined
}

/**
 * Runs an effect as a tracked LLM call: a CLIENT span `"{operation} {model}"` that is the parent of everything the
 * effect does, an `LlmTracker` provided to it, and its outcome (success, failure, defect or interruption) recorded.
 * The effect's success and error pass through unchanged (effect 3 hands a failure raised inside a span back in a
 * span-carrying wrapper, as `Effect.withSpan` does: `Cause.originalError` gives the very instance).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LlmTracker, trackLlmCall } from "@botanu/effect"
 *
 * const answer = Effect.gen(function*() {
 *   const tracker = yield* LlmTracker
 *   yield* tracker.setTokens({ inputTokens: 12, outputTokens: 3 })
 *   return "Paris"
 * })
 *
 * const tracked = answer.pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))
 * const same = trackLlmCall(answer, { provider: "openai", model: "gpt-4o" })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const trackLlmCall: {
  (options: LlmCallOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, Exclude<R, LlmTracker>>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: LlmCallOptions): Effect.Effect<A, E, Exclude<R, LlmTracker>>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, options: LlmCallOptions): Effect.Effect<A, E, Exclude<R, LlmTracker>> =>
    internal.track(self, internal.plan(options))
)

/**
 * @since 0.1.0
 * @category models
 */
export interface LlmAttributes {
  readonly provider: string
  readonly model: string
  readonly operation?: string | undefined
  readonly inputTokens?: number | undefined
  readonly outputTokens?: number | undefined
  readonly cachedTokens?: number | undefined
  readonly streaming?: boolean | undefined
  readonly providerRequestId?: string | undefined
}

const annotateCurrentSpan = (method: string, f: (recorder: SpanRecorder) => void): Effect.Effect<void> =>
  Effect.map(Effect.option(Effect.currentSpan), (span) => {
    if (Option.isNone(span)) return
    const recorder = new SpanRecorder(span.value)
    recorder.guard(method, () => f(recorder))
    recorder.flushWarnings()
  })

/**
 * Writes the LLM attributes of a call onto the current span, for code that makes its own spans. Does nothing
 * outside a span. Token counts follow the same rules as `LlmTracker.setTokens`.
 *
 * @since 0.1.0
 * @category annotations
 */
export const setLlmAttributes = (attributes: LlmAttributes): Effect.Effect<void> =>
  annotateCurrentSpan("setLlmAttributes", (recorder) => {
    const warn = recorder.warn
    const names = resolveProvider(requiredName("provider", attributes.provider, "unknown", warn), warn)
    const provider = names.vendor
    const operation = attributes.operation === undefined
      ? ModelOperation.CHAT
      : requiredName("operation", attributes.operation, ModelOperation.CHAT, warn)
    recorder.set(GenAiOperationName, operation)
    recorder.set(GenAiProviderName, names.semconv)
    recorder.set(Vendor, provider)
    recorder.set(GenAiRequestModel, requiredName("model", attributes.model, "unknown", warn))
    writeTokens(
      recorder,
      {
        inputTokens: attributes.inputTokens,
        outputTokens: attributes.outputTokens,
        cachedTokens: attributes.cachedTokens
      },
      inputExcludesCache.has(provider),
      emptyTokens(),
      provider
    )
    if (attributes.streaming !== undefined) {
      const streaming = boolean("streaming", attributes.streaming, warn)
      if (streaming !== undefined) {
        recorder.set(RequestStreaming, streaming)
        recorder.set(GenAiRequestStream, streaming)
      }
    }
    const requestId = optionalString("providerRequestId", attributes.providerRequestId, warn)
    if (requestId !== undefined) {
      recorder.set(GenAiResponseId, requestId)
      recorder.set(ProviderRequestId, requestId)
    }
  })

/**
 * Writes token usage onto the current span, as reported (input is taken to include cached tokens). Does nothing
 * outside a span.
 *
 * @since 0.1.0
 * @category annotations
 */
export const setTokenUsage = (usage: {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedTokens?: number | undefined
}): Effect.Effect<void> =>
  annotateCurrentSpan("setTokenUsage", (recorder) => writeTokens(recorder, usage, false, emptyTokens()))
