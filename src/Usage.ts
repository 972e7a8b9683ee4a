/**
 * Usage from provider responses: token counts, ids, the model that answered and finish reasons, read from what a
 * provider's API (or its SDK) returns, with each API's own input semantics.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/usage.js"
import { resolveUsageFrom } from "./internal/usageFrom.js"

/**
 * What one response says about a call, in the fields of `LlmTracker`. Counts are the API's, with its input
 * semantics: `inputIncludesCache` says whether `inputTokens` already includes cache reads and writes (tracking adds
 * them when it does not). `warnings` lists what could not be read.
 *
 * What the extractors of this module (and of tracked streams) hand back is clean: every count is a non-negative
 * safe integer (a fraction is rounded; a negative, NaN, infinite or too large count, or a non-number, is dropped;
 * a sum of counts that is too large is dropped), ids and the model are strings of at most 256 characters, finish
 * reasons at most 64 strings of at most 1,024 characters, and `warnings` at most 32 lines and a count, each with what
 * was wrong (a bad string by its size only, never its text).
 *
 * @since 0.1.0
 * @category models
 */
export interface ExtractedUsage {
  readonly inputTokens?: number | undefined
  readonly outputTokens?: number | undefined
  readonly cacheReadTokens?: number | undefined
  readonly cacheWriteTokens?: number | undefined
  /** Part of the output tokens, never added to them. */
  readonly reasoningTokens?: number | undefined
  readonly inputIncludesCache?: boolean | undefined
  readonly responseId?: string | undefined
  readonly responseModel?: string | undefined
  readonly finishReasons?: ReadonlyArray<string> | undefined
  readonly warnings?: ReadonlyArray<string> | undefined
}

/**
 * The APIs whose responses this module reads. OpenAI-compatible APIs (Groq, Together, DeepSeek, xAI, Fireworks,
 * Ollama's `/v1`) use `"openai.chat"`.
 *
 * @since 0.1.0
 * @category models
 */
export type ExtractorName =
  | "openai.chat"
  | "openai.responses"
  | "openai.embeddings"
  | "anthropic.messages"
  | "bedrock.converse"
  | "gemini"
  | "cohere.chat"
  | "mistral.chat"

/**
 * Where `trackLlmCall` reads usage from on success: `"auto"` detects the API from the response's shape, a name
 * picks one API, a function reads the response itself (it may throw: that becomes a warning).
 *
 * @since 0.1.0
 * @category models
 */
export type UsageFrom = "auto" | ExtractorName | ((response: any) => ExtractedUsage)

/**
 * Every extractor name, for validation and documentation.
 *
 * @since 0.1.0
 * @category constants
 */
export const extractorNames: ReadonlyArray<ExtractorName> = Object.keys(internal.extractors) as Array<ExtractorName>

/**
 * The API a response came from, judged by its shape, or `undefined` when no known API returns that shape.
 *
 * @example
 * ```ts
 * import { Usage } from "@botanu/effect"
 *
 * Usage.detect({ type: "message", usage: { input_tokens: 10, output_tokens: 2 } }) // "anthropic.messages"
 * ```
 *
 * @since 0.1.0
 * @category extraction
 */
export const detect: (response: unknown) => ExtractorName | undefined = internal.detect

/**
 * Reads a response. Never throws: a malformed or unknown response gives what could be read, and a warning for each
 * field that could not. Each field is read on its own, so a getter or a Proxy trap that throws costs that field
 * only (with a warning). What a function extractor returns is made as clean as a built-in one's (see
 * `ExtractedUsage`), its warnings prefixed `usage (custom)`.
 *
 * @example
 * ```ts
 * import { Usage } from "@botanu/effect"
 *
 * const usage = Usage.extract({
 *   id: "msg_1",
 *   type: "message",
 *   model: "claude-3-5-sonnet-20241022",
 *   stop_reason: "end_turn",
 *   usage: { input_tokens: 200, output_tokens: 50, cache_read_input_tokens: 800 }
 * }, "anthropic.messages")
 * // { inputTokens: 200, outputTokens: 50, cacheReadTokens: 800, inputIncludesCache: false, ... }
 * ```
 *
 * @since 0.1.0
 * @category extraction
 */
export const extract = (response: unknown, from: UsageFrom = "auto"): ExtractedUsage => {
  const warnings: Array<string> = []
  const extractor = resolveUsageFrom(from, (line) => warnings.push(line))
  return extractor === undefined ? { warnings } : extractor(response)
}
