/**
 * Tracked streaming LLM calls: a streamed call is a `Stream` of chunks, and `trackLlmStream` records each run of it
 * as one LLM call, with its time to first chunk and the usage its chunks report.
 *
 * @since 0.1.0
 */
import { dual } from "effect/Function"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/llmStream.js"
import * as streamUsage from "./internal/streamUsage.js"
import type { LlmCallOptions } from "./LlmCall.js"
import type { LlmTracker } from "./LlmTracker.js"
import type { ExtractedUsage } from "./Usage.js"

/**
 * The streaming APIs whose chunks this module reads:
 *
 * - `"openai.chat"`: Chat Completions chunks; the usage (with its audio and image parts) is on the last chunk
 *   (`choices: []`) when the request sets `stream_options: { include_usage: true }`; `service_tier` on every chunk.
 *   OpenAI-compatible APIs use it too.
 * - `"openai.responses"`: Responses API events; `response.completed` (or `.incomplete`, `.failed`) carries the usage,
 *   the service tier and the web searches (`web_search_call` items); before it, each `response.output_item.done` of
 *   a web search counts one (the terminal event's count replaces them), since a search is billed once it has run.
 * - `"anthropic.messages"`: Messages stream events; `message_start` carries the input and cache counts (the 1-hour
 *   part of the cache writes, `cache_creation.ephemeral_1h_input_tokens`) and `service_tier`, `message_delta` the
 *   cumulative output count (it replaces the earlier one, never adds to it), its thinking part
 *   (`output_tokens_details.thinking_tokens`, recorded as reasoning) and the web searches
 *   (`server_tool_use.web_search_requests`); a `message_delta` that lists the call's `iterations` is read whole, as
 *   a response's usage.
 * - `"gemini"`: streamed `generateContent` chunks; `usageMetadata` on the last chunk, with its parts by modality.
 * - `"bedrock.converse"`: Bedrock ConverseStream events as the AWS SDK hands them (`{ messageStart }`,
 *   `{ contentBlockDelta }`, ..., `{ messageStop }`, `{ metadata }`); `messageStop.stopReason` is the finish reason,
 *   `metadata.usage` the usage (`inputTokens` excludes cache reads and writes; `cacheDetails` gives the 1-hour
 *   writes) and `metadata.serviceTier.type` the tier. No event carries an id: the request id is the command
 *   output's `$metadata.requestId`, which the app can set by hand.
 * - `"cohere.chat"`: Cohere v2 chat stream events (REST names, or the `cohere-ai` SDK's camel-cased ones);
 *   `message-start` carries the id, `message-end` the finish reason and the usage. What is recorded and priced is
 *   what Cohere bills, `billed_units`; `cached_tokens` counts cache hits over the whole prompt, template included,
 *   which the billed input leaves out, so beside billed units it is not recorded. Only without billed units is
 *   `tokens` the usage, with `cached_tokens` as the cache read (clamped to that input when recorded). The events do
 *   not name the model.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamExtractorName =
  | "openai.chat"
  | "openai.responses"
  | "anthropic.messages"
  | "gemini"
  | "bedrock.converse"
  | "cohere.chat"

/**
 * Where a tracked stream reads its usage from: `"auto"` detects the API from the first chunk that shows it, a name
 * picks one API, a function reads one chunk at a time. Every API above reports totals so far, so what a later chunk
 * says replaces what an earlier one said, field by field; a function is read the same way (return `undefined` for a
 * chunk that says nothing; it may throw: that becomes a warning).
 *
 * @since 0.1.0
 * @category models
 */
export type StreamUsageFrom = "auto" | StreamExtractorName | ((chunk: any) => ExtractedUsage | undefined)

/**
 * The options of `trackLlmCall`, with `usageFrom` reading chunks.
 *
 * @since 0.1.0
 * @category models
 */
export interface LlmStreamOptions extends Omit<LlmCallOptions, "usageFrom"> {
  /**
   * Reads tokens, response id, response model and finish reasons from the chunks as they pass (see
   * `StreamUsageFrom`). What the stream's effects set by hand through the `LlmTracker` wins, per group.
   */
  readonly usageFrom?: StreamUsageFrom | undefined
}

/**
 * Tracks a stream as an LLM call: each run of the stream is one CLIENT span `"{operation} {model}"`, opened when the
 * stream starts running (not when it is built) and ended exactly once when it completes, fails, is interrupted or
 * is abandoned by its consumer (`Stream.take`, `Stream.runHead`). The span carries `gen_ai.request.stream`,
 * `botanu.request.streaming`, `gen_ai.response.time_to_first_chunk`, the usage read from the chunks and the cost,
 * computed at the end like a non-streamed call's; a stream that ended early is marked `botanu.usage.partial` with
 * the usage seen so far. It counts as an LLM call everywhere a call does: attempts (`retryTracked` around the
 * effect that runs it), workflow runs and their totals, the cost ledger, and the metrics, plus
 * `gen_ai.client.operation.time_to_first_chunk` and `gen_ai.client.operation.time_per_output_chunk`.
 *
 * Chunks pass through unchanged and unbuffered: tracking holds counters, never chunk content. The stream's own
 * effects run inside the span with the `LlmTracker` provided, so what they set by hand is recorded too.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { trackLlmStream } from "@botanu/effect"
 *
 * declare const chunks: Stream.Stream<{ readonly object: "chat.completion.chunk" }>
 *
 * const tracked = chunks.pipe(trackLlmStream({ provider: "openai", model: "gpt-4o", usageFrom: "openai.chat" }))
 * const same = trackLlmStream(chunks, { provider: "openai", model: "gpt-4o", usageFrom: "openai.chat" })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const trackLlmStream: {
  (options: LlmStreamOptions): <A, E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<A, E, Exclude<R, LlmTracker>>
  <A, E, R>(self: Stream.Stream<A, E, R>, options: LlmStreamOptions): Stream.Stream<A, E, Exclude<R, LlmTracker>>
} = dual(
  2,
  <A, E, R>(self: Stream.Stream<A, E, R>, options: LlmStreamOptions): Stream.Stream<A, E, Exclude<R, LlmTracker>> =>
    internal.track(self, internal.plan(options))
)

/**
 * A streaming SDK call as a tracked `Stream`: `evaluate` returns the SDK's async iterable (or a promise of one, as
 * `client.chat.completions.create({ stream: true })` and `client.messages.create({ stream: true })` do) and is
 * called each time the stream runs, inside its span. It gets an `AbortSignal` to hand to the SDK, aborted when the
 * stream is interrupted before the SDK answers; after that, ending the stream early ends the iteration, which the
 * SDKs answer by closing the connection. A rejection, a synchronous throw or a failure while iterating is the
 * stream's failure as it is. The `LlmTracker` is not available to the SDK's code (it is not an Effect); use
 * `trackLlmStream` over a `Stream` of your own to set things by hand. Name the SDK client in `client` to have
 * `server.address` and `server.port` read from its base URL.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import OpenAI from "openai"
 * import { LlmStream } from "@botanu/effect"
 *
 * // Retries are the app's (Effect.retry, retryTracked), so that each attempt is tracked.
 * const client = new OpenAI({ maxRetries: 0 })
 *
 * const chunks = LlmStream.fromAsyncIterable(
 *   (signal) =>
 *     client.chat.completions.create({
 *       model: "gpt-4o",
 *       messages: [{ role: "user", content: "Capital of France?" }],
 *       stream: true,
 *       stream_options: { include_usage: true }
 *     }, { signal }),
 *   { provider: "openai", model: "gpt-4o", usageFrom: "openai.chat", client }
 * )
 * const text = chunks.pipe(Stream.map((chunk) => chunk.choices[0]?.delta.content ?? ""), Stream.mkString)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromAsyncIterable = <A>(
  evaluate: (signal: AbortSignal) => AsyncIterable<A> | PromiseLike<AsyncIterable<A>>,
  options: LlmStreamOptions
): Stream.Stream<A, unknown> => internal.fromAsyncIterable(evaluate, internal.plan(options))

/**
 * The API a chunk belongs to, judged by its shape, or `undefined` when no known streaming API sends that shape.
 *
 * @since 0.1.0
 * @category extraction
 */
export const detect: (chunk: unknown) => StreamExtractorName | undefined = streamUsage.detect

/**
 * Every stream extractor name.
 *
 * @since 0.1.0
 * @category constants
 */
export const extractorNames: ReadonlyArray<StreamExtractorName> = streamUsage.names
