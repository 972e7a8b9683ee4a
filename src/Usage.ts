/**
 * Usage from provider responses: token counts, ids, the model that answered and finish reasons, read from what a
 * provider's API (or its SDK) returns, with each API's own input semantics.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/usage.js"
import { resolveUsageFrom } from "./internal/usageFrom.js"
import type { TokenCounts, UsageIteration } from "./LlmTracker.js"

/**
 * What one response says about a call, in the fields of `LlmTracker` (its `TokenUsage`): the counts of
 * `LlmTracker.TokenCounts`, and the web searches, service tier and billed steps beside them. Counts are the API's,
 * with its input semantics: `inputIncludesCache` says whether `inputTokens` already includes cache reads and writes
 * (tracking adds them when it does not). `warnings` lists what could not be read.
 *
 * What the extractors of this module (and of tracked streams) hand back is clean: every count is a non-negative
 * safe integer (a fraction is rounded; a negative, NaN, infinite or too large count, or a non-number, is dropped;
 * a sum of counts that is too large is dropped), ids, the model and the service tier are strings of at most 256
 * characters, finish reasons at most 64 strings of at most 1,024 characters, iterations at most 64, and `warnings`
 * at most 32 lines and a count, each with what was wrong (a bad string by its size only, never its text). Counts are
 * as the response gives them, zeros included; a part larger than its whole is clamped when it is recorded.
 *
 * What each API's counts become:
 *
 * - `openai.chat`: `prompt_tokens_details.audio_tokens` / `image_tokens` are the audio / image input,
 *   `completion_tokens_details.audio_tokens` / `image_tokens` the audio / image output, `service_tier` the tier.
 * - `openai.responses`: each `web_search_call` item of `output` is one web search; `service_tier` the tier.
 * - `anthropic.messages`: `cache_creation.ephemeral_1h_input_tokens` is the 1-hour part of the cache writes,
 *   `server_tool_use.web_search_requests` the web searches, `output_tokens_details.thinking_tokens` the reasoning
 *   tokens (part of the output, as OpenAI's are), `usage.service_tier` the tier, and `usage.iterations` the billed
 *   steps (compaction, advisor, sampling turns), each with its counts and, where given, its model: the call's
 *   totals are their sums, since the top-level counts leave the compaction and advisor steps out.
 * - `gemini`: `promptTokensDetails` (and `toolUsePromptTokensDetails`), `cacheTokensDetails` and
 *   `candidatesTokensDetails` by modality: `AUDIO` and `IMAGE` are the audio and image parts of the input, the cache
 *   reads and the output; `DOCUMENT` (PDF pages) counts as image, as the genai-prices catalogue's own extractor does;
 *   `VIDEO` tokens are priced as plain input, since no video rate is priced.
 * - `cohere.chat`: what Cohere bills, `usage.billed_units`: input and output are the billed units, and no cache reads
 *   are recorded beside them. `usage.cached_tokens` counts tokens of `usage.tokens`, the whole prompt template, not
 *   of the billed units (a recorded response has 2,928 cached tokens beside 2,406 billed input tokens), and the
 *   catalogue has no cache rate for Cohere: recorded as reads of the billed input, they would be cache reads larger
 *   than the input they belong to, and billed as input. Only when a response has no billed units are
 *   `usage.tokens` and, as part of them, `usage.cached_tokens` read.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExtractedUsage extends TokenCounts {
  /** Web-search tool uses billed on this call. */
  readonly webSearches?: number | undefined
  /** The service tier the provider answered with, as given. */
  readonly serviceTier?: string | undefined
  /** The call's billed steps, when the API reports them apart (Anthropic `usage.iterations`). */
  readonly iterations?: ReadonlyArray<UsageIteration> | undefined
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
