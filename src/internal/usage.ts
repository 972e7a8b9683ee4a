import type { ExtractedUsage, ExtractorName } from "../Usage.js"
import { errorMessage } from "./errors.js"
import { cut, maxListItems, maxValueChars, maxWarnings } from "./limits.js"
import { boolean, count, describe, optionalString, strings, type Warn } from "./sanitize.js"

/** What reading a field of a response threw (a getter, a Proxy's trap): already a warning, and read as absent. */
const unreadable: unique symbol = Symbol("unreadable")

/**
 * Reading one response: fields are read leniently and guarded, and whatever is missing, of the wrong type or
 * throws when read becomes a warning line rather than an exception, since a response is outside our control. Every
 * count it hands back is a non-negative safe integer (`count` of `sanitize.ts`), every string is bounded.
 */
class Reader {
  private readonly lines: Array<string> = []
  private moreWarnings = 0
  constructor(readonly api: string) {}

  readonly warn: Warn = (line) => this.note(`usage (${this.api}): ${line}`)

  /** A warning line as it is. */
  note(line: string): void {
    // Cut to a span warning's final bound only once redacted (see `SpanRecorder.addWarning`).
    if (this.lines.length < maxWarnings) this.lines.push(cut(line, 4 * maxValueChars))
    else this.moreWarnings++
  }

  /** The warnings, bounded: `maxWarnings` lines and a count of the rest. */
  get warnings(): Array<string> {
    return this.moreWarnings > 0
      ? [...this.lines, `usage (${this.api}): ${this.moreWarnings} more warnings dropped`]
      : this.lines
  }

  /** `record[key]`, guarded. */
  get(record: Record<string, unknown> | undefined, key: string, path: string): unknown {
    if (record === undefined) return undefined
    try {
      return record[key]
    } catch (e) {
      this.warn(`${path}: failed to read (${errorMessage(e)}); ignored`)
      return unreadable
    }
  }

  /** Whether `record` has `key`, guarded (a Proxy's `has` trap may throw: then it has not). */
  has(record: Record<string, unknown> | undefined, key: string): boolean {
    if (record === undefined) return false
    try {
      return key in record
    } catch {
      return false
    }
  }

  /** A nested record, or undefined (with a warning when `required` and absent or not a record). */
  record(value: unknown, path: string, required = false): Record<string, unknown> | undefined {
    if (value === unreadable) return undefined
    if (isRecord(value)) return value
    if (value !== undefined && value !== null) {
      this.warn(`${path}: ${describe(value)} is not a record; ignored`)
    } else if (required) {
      this.warn(`${path} is missing`)
    }
    return undefined
  }

  /** A count (see `count`). `null` reads as absent (some OpenAI-compatible APIs send it). */
  count(value: unknown, path: string, required = false): number | undefined {
    if (value === unreadable) return undefined
    if (value === undefined || value === null) {
      if (required) this.warn(`${path} is missing`)
      return undefined
    }
    return count(path, value, this.warn)
  }

  /** `a + b + ...` of counts, or undefined (with a warning) when the sum is no longer a safe integer. */
  sum(path: string, ...values: Array<number | undefined>): number | undefined {
    let total: number | undefined
    for (const value of values) if (value !== undefined) total = (total ?? 0) + value
    if (total !== undefined && total > Number.MAX_SAFE_INTEGER) {
      this.warn(`${path}: ${values.filter((value) => value !== undefined).join(" + ")} is too large; dropped`)
      return undefined
    }
    return total
  }

  /** An id or a model: `null` and empty strings read as absent. */
  string(value: unknown, path: string): string | undefined {
    if (value === unreadable || value === null) return undefined
    return optionalString(path, value, this.warn)
  }

  /** A finish reason, bounded as an attribute value. */
  reason(value: unknown, path: string): string | undefined {
    if (value === unreadable || value === null) return undefined
    return optionalString(path, value, this.warn, maxValueChars)
  }

  /**
   * The string fields `key` of the items of a list (finish reasons of choices or candidates), of its first
   * `maxListItems` items.
   */
  stringsOf(list: unknown, key: string, path: string): Array<string> | undefined {
    if (list === undefined || list === null || list === unreadable) return undefined
    if (!isList(list)) {
      this.warn(`${path}: ${describe(list)} is not a list; ignored`)
      return undefined
    }
    const length = list.length
    if (length > maxListItems) this.warn(`${path}: a list of ${length} items; the first ${maxListItems} are read`)
    const out: Array<string> = []
    for (let i = 0; i < Math.min(length, maxListItems); i++) {
      const item = this.get(list as unknown as Record<string, unknown>, String(i), `${path}[${i}]`)
      // A choice still streaming, or cut short, has a null finish reason: nothing to record, nothing wrong.
      const value = isRecord(item) ? this.get(item, key, `${path}[${i}].${key}`) : undefined
      const reason = this.reason(value, `${path}[${i}].${key}`)
      if (reason !== undefined) out.push(reason)
    }
    return out.length > 0 ? out : undefined
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => {
  try {
    return typeof value === "object" && value !== null && !Array.isArray(value)
  } catch {
    // a revoked Proxy
    return false
  }
}

const isList = (value: unknown): value is ReadonlyArray<unknown> => {
  try {
    return Array.isArray(value)
  } catch {
    return false
  }
}

const single = (value: string | undefined): Array<string> | undefined => value === undefined ? undefined : [value]

/** Builds the result without `undefined` fields, so that it reads cleanly and spreads cleanly. */
const result = (reader: Reader, fields: Omit<ExtractedUsage, "warnings">): ExtractedUsage => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(fields) as Array<keyof typeof fields>) {
    if (fields[key] !== undefined) out[key] = fields[key]
  }
  out.warnings = reader.warnings
  return out as unknown as ExtractedUsage
}

const root = (reader: Reader, response: unknown): Record<string, unknown> | undefined => {
  if (isRecord(response)) return response
  reader.warn(`the response is ${describe(response)}, not a record; nothing recorded`)
  return undefined
}

/**
 * OpenAI Chat Completions and the many APIs that copy it (Groq, Together, DeepSeek, xAI, Fireworks, Ollama,
 * Mistral). `prompt_tokens` includes cached tokens.
 */
const openaiChat = (response: unknown, api = "openai.chat"): ExtractedUsage => {
  const r = new Reader(api)
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  const at = (record: Record<string, unknown> | undefined, key: string, path: string) =>
    r.count(r.get(record, key, path), path)
  const promptDetails = r.record(
    r.get(usage, "prompt_tokens_details", "usage.prompt_tokens_details"),
    "usage.prompt_tokens_details"
  )
  const completionDetails = r.record(
    r.get(usage, "completion_tokens_details", "usage.completion_tokens_details"),
    "usage.completion_tokens_details"
  )
  const cacheRead = at(promptDetails, "cached_tokens", "usage.prompt_tokens_details.cached_tokens") ??
    // DeepSeek reports its cache hits at the top level; some OpenAI-compatible servers put `cached_tokens` there.
    at(usage, "prompt_cache_hit_tokens", "usage.prompt_cache_hit_tokens") ??
    at(usage, "cached_tokens", "usage.cached_tokens")
  const cacheWrite = at(promptDetails, "cache_write_tokens", "usage.prompt_tokens_details.cache_write_tokens") ??
    at(usage, "cache_write_tokens", "usage.cache_write_tokens")
  const prompt = usage === undefined
    ? undefined
    : r.count(r.get(usage, "prompt_tokens", "usage.prompt_tokens"), "usage.prompt_tokens", true)
  // Embeddings-like answers from compatible servers have no completion count: not a malformed chat answer.
  const completion = usage === undefined ? undefined : r.count(
    r.get(usage, "completion_tokens", "usage.completion_tokens"),
    "usage.completion_tokens",
    !r.has(usage, "total_tokens")
  )
  const reasoning = at(completionDetails, "reasoning_tokens", "usage.completion_tokens_details.reasoning_tokens")
  const total = at(usage, "total_tokens", "usage.total_tokens")
  // xAI reports reasoning tokens beside the completion tokens rather than in them, which its total shows
  // (prompt + completion + reasoning); reasoning is billed as output, so it is added back.
  const reasoningApart = prompt !== undefined && completion !== undefined && reasoning !== undefined &&
    reasoning > 0 && total === prompt + completion + reasoning
  return result(r, {
    inputTokens: prompt,
    outputTokens: reasoningApart
      ? r.sum("usage.completion_tokens + reasoning_tokens", completion, reasoning)
      : completion,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: reasoning,
    inputIncludesCache: true,
    responseId: r.string(r.get(body, "id", "id"), "id"),
    responseModel: r.string(r.get(body, "model", "model"), "model"),
    finishReasons: r.stringsOf(r.get(body, "choices", "choices"), "finish_reason", "choices")
  })
}

/** Mistral's REST API is OpenAI-shaped; its TypeScript SDK hands back the same fields in camelCase. */
const mistralChat = (response: unknown): ExtractedUsage => {
  const r = new Reader("mistral.chat")
  const body = isRecord(response) ? response : undefined
  const usage = body === undefined ? undefined : r.get(body, "usage", "usage")
  if (body !== undefined && isRecord(usage) && r.has(usage, "promptTokens")) {
    return result(r, {
      inputTokens: r.count(r.get(usage, "promptTokens", "usage.promptTokens"), "usage.promptTokens", true),
      outputTokens: r.count(
        r.get(usage, "completionTokens", "usage.completionTokens"),
        "usage.completionTokens",
        true
      ),
      inputIncludesCache: true,
      responseId: r.string(r.get(body, "id", "id"), "id"),
      responseModel: r.string(r.get(body, "model", "model"), "model"),
      finishReasons: r.stringsOf(r.get(body, "choices", "choices"), "finishReason", "choices")
    })
  }
  // A field that failed to read above is read again, and reported, by the OpenAI reader.
  return openaiChat(response, "mistral.chat")
}

/** OpenAI Responses API: `input_tokens` includes cached tokens; the finish is the response's status. */
const openaiResponses = (response: unknown): ExtractedUsage => {
  const r = new Reader("openai.responses")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  const at = (record: Record<string, unknown> | undefined, key: string, path: string, required = false) =>
    r.count(r.get(record, key, path), path, required)
  const inputDetails = r.record(
    r.get(usage, "input_tokens_details", "usage.input_tokens_details"),
    "usage.input_tokens_details"
  )
  const outputDetails = r.record(
    r.get(usage, "output_tokens_details", "usage.output_tokens_details"),
    "usage.output_tokens_details"
  )
  const status = r.reason(r.get(body, "status", "status"), "status")
  const incomplete = r.record(r.get(body, "incomplete_details", "incomplete_details"), "incomplete_details")
  // An incomplete response says why (`max_output_tokens`, `content_filter`): that is the useful finish reason.
  const reason = status === "incomplete"
    ? r.reason(r.get(incomplete, "reason", "incomplete_details.reason"), "incomplete_details.reason") ?? status
    : status
  return result(r, {
    inputTokens: usage === undefined ? undefined : at(usage, "input_tokens", "usage.input_tokens", true),
    outputTokens: usage === undefined ? undefined : at(usage, "output_tokens", "usage.output_tokens", true),
    cacheReadTokens: at(inputDetails, "cached_tokens", "usage.input_tokens_details.cached_tokens"),
    cacheWriteTokens: at(inputDetails, "cache_write_tokens", "usage.input_tokens_details.cache_write_tokens"),
    reasoningTokens: at(outputDetails, "reasoning_tokens", "usage.output_tokens_details.reasoning_tokens"),
    inputIncludesCache: true,
    responseId: r.string(r.get(body, "id", "id"), "id"),
    responseModel: r.string(r.get(body, "model", "model"), "model"),
    finishReasons: single(reason)
  })
}

/** OpenAI embeddings: input only; the list has no id and no finish. */
const openaiEmbeddings = (response: unknown): ExtractedUsage => {
  const r = new Reader("openai.embeddings")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  return result(r, {
    inputTokens: usage === undefined
      ? undefined
      : r.count(r.get(usage, "prompt_tokens", "usage.prompt_tokens"), "usage.prompt_tokens", true),
    inputIncludesCache: true,
    responseModel: r.string(r.get(body, "model", "model"), "model")
  })
}

/**
 * Anthropic Messages: `input_tokens` EXCLUDES cache reads and writes. Cache writes are recorded as one total; the
 * 5-minute / 1-hour split stands in for the total when only the split is given.
 */
const anthropicMessages = (response: unknown): ExtractedUsage => {
  const r = new Reader("anthropic.messages")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  const at = (record: Record<string, unknown> | undefined, key: string, path: string, required = false) =>
    r.count(r.get(record, key, path), path, required)
  const split = r.record(r.get(usage, "cache_creation", "usage.cache_creation"), "usage.cache_creation")
  const splitTotal = r.sum(
    "usage.cache_creation",
    at(split, "ephemeral_5m_input_tokens", "usage.cache_creation.ephemeral_5m_input_tokens"),
    at(split, "ephemeral_1h_input_tokens", "usage.cache_creation.ephemeral_1h_input_tokens")
  )
  const cacheWrite = at(usage, "cache_creation_input_tokens", "usage.cache_creation_input_tokens")
  if (cacheWrite !== undefined && splitTotal !== undefined && cacheWrite !== splitTotal) {
    r.warn(`usage.cache_creation adds up to ${splitTotal}, not cache_creation_input_tokens ${cacheWrite}`)
  }
  return result(r, {
    inputTokens: usage === undefined ? undefined : at(usage, "input_tokens", "usage.input_tokens", true),
    outputTokens: usage === undefined ? undefined : at(usage, "output_tokens", "usage.output_tokens", true),
    cacheReadTokens: at(usage, "cache_read_input_tokens", "usage.cache_read_input_tokens"),
    cacheWriteTokens: cacheWrite ?? splitTotal,
    inputIncludesCache: false,
    responseId: r.string(r.get(body, "id", "id"), "id"),
    responseModel: r.string(r.get(body, "model", "model"), "model"),
    finishReasons: single(r.reason(r.get(body, "stop_reason", "stop_reason"), "stop_reason"))
  })
}

/**
 * AWS Bedrock Converse (the AWS SDK's `ConverseCommandOutput` or the REST body): `inputTokens` excludes cache reads
 * and writes. The body has no id; the AWS SDK's `$metadata.requestId` is used when present.
 */
const bedrockConverse = (response: unknown): ExtractedUsage => {
  const r = new Reader("bedrock.converse")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  const at = (key: string, required = false) => r.count(r.get(usage, key, `usage.${key}`), `usage.${key}`, required)
  const metadata = r.get(body, "$metadata", "$metadata")
  return result(r, {
    inputTokens: usage === undefined ? undefined : at("inputTokens", true),
    outputTokens: usage === undefined ? undefined : at("outputTokens", true),
    cacheReadTokens: at("cacheReadInputTokens"),
    cacheWriteTokens: at("cacheWriteInputTokens"),
    inputIncludesCache: false,
    responseId: isRecord(metadata)
      ? r.string(r.get(metadata, "requestId", "$metadata.requestId"), "$metadata.requestId")
      : undefined,
    finishReasons: single(r.reason(r.get(body, "stopReason", "stopReason"), "stopReason"))
  })
}

/**
 * Gemini API and Vertex AI `generateContent`: `promptTokenCount` includes `cachedContentTokenCount`; thoughts are
 * billed as output but reported beside `candidatesTokenCount`, so output = candidates + thoughts; tokens of
 * tool-use prompts (grounding results fed back to the model) are billed as input and reported beside the prompt.
 */
const gemini = (response: unknown): ExtractedUsage => {
  const r = new Reader("gemini")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usageMetadata", "usageMetadata"), "usageMetadata", true)
  const at = (key: string) => r.count(r.get(usage, key, `usageMetadata.${key}`), `usageMetadata.${key}`)
  const prompt = usage === undefined ? undefined : at("promptTokenCount")
  const toolUse = at("toolUsePromptTokenCount")
  const candidates = at("candidatesTokenCount")
  const thoughts = at("thoughtsTokenCount")
  // Gemini leaves out zero counts (an empty answer has no `candidatesTokenCount`): with a prompt count present,
  // a missing output count means 0.
  const output = candidates === undefined && thoughts === undefined
    ? (prompt !== undefined ? 0 : undefined)
    : r.sum("usageMetadata.candidatesTokenCount + thoughtsTokenCount", candidates, thoughts)
  if (usage !== undefined && prompt === undefined) r.warn("usageMetadata.promptTokenCount is missing")
  return result(r, {
    inputTokens: prompt === undefined
      ? undefined
      : r.sum("usageMetadata.promptTokenCount + toolUsePromptTokenCount", prompt, toolUse),
    outputTokens: output,
    cacheReadTokens: at("cachedContentTokenCount"),
    reasoningTokens: thoughts,
    inputIncludesCache: true,
    responseId: r.string(r.get(body, "responseId", "responseId"), "responseId"),
    responseModel: r.string(r.get(body, "modelVersion", "modelVersion"), "modelVersion"),
    finishReasons: r.stringsOf(r.get(body, "candidates", "candidates"), "finishReason", "candidates")
  })
}

/**
 * Cohere v2 chat: `usage.billed_units` is what is billed (and priced); `usage.tokens` counts the whole prompt
 * template too and is used only when billed units are absent. The response does not name the model.
 */
const cohereChat = (response: unknown): ExtractedUsage => {
  const r = new Reader("cohere.chat")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  const billed = r.record(r.get(usage, "billed_units", "usage.billed_units"), "usage.billed_units")
  const tokens = r.record(r.get(usage, "tokens", "usage.tokens"), "usage.tokens")
  const source = billed ?? tokens
  const path = billed !== undefined ? "usage.billed_units" : "usage.tokens"
  const at = (key: string, required = false) =>
    r.count(r.get(source, key, `${path}.${key}`), `${path}.${key}`, required)
  if (usage !== undefined && source === undefined) r.warn("usage has neither billed_units nor tokens")
  return result(r, {
    inputTokens: source === undefined ? undefined : at("input_tokens", true),
    outputTokens: source === undefined ? undefined : at("output_tokens"),
    cacheReadTokens: r.count(r.get(usage, "cached_tokens", "usage.cached_tokens"), "usage.cached_tokens"),
    inputIncludesCache: true,
    responseId: r.string(r.get(body, "id", "id"), "id"),
    finishReasons: single(r.reason(r.get(body, "finish_reason", "finish_reason"), "finish_reason"))
  })
}

/** @internal */
export const extractors: Readonly<Record<ExtractorName, (response: unknown) => ExtractedUsage>> = {
  "openai.chat": (response) => openaiChat(response),
  "openai.responses": openaiResponses,
  "openai.embeddings": openaiEmbeddings,
  "anthropic.messages": anthropicMessages,
  "bedrock.converse": bedrockConverse,
  "gemini": gemini,
  "cohere.chat": cohereChat,
  "mistral.chat": mistralChat
}

/**
 * Which API a response came from, by the fields that only that API's responses carry; `undefined` for a response
 * that throws when looked at (a Proxy's trap, a getter).
 *
 * @internal
 */
export const detect = (response: unknown): ExtractorName | undefined => {
  try {
    return detectShape(response)
  } catch {
    return undefined
  }
}

const detectShape = (response: unknown): ExtractorName | undefined => {
  if (!isRecord(response)) return undefined
  if ("usageMetadata" in response || "modelVersion" in response || Array.isArray(response.candidates)) {
    return "gemini"
  }
  if (response.object === "response") return "openai.responses"
  if (response.type === "message") return "anthropic.messages"
  const usage = isRecord(response.usage) ? response.usage : undefined
  // Mistral's SDK keeps OpenAI's `object` but camel-cases the usage fields.
  if (usage !== undefined && "promptTokens" in usage) return "mistral.chat"
  if (response.object === "chat.completion") return "openai.chat"
  if (usage !== undefined) {
    if ("billed_units" in usage || "tokens" in usage) return "cohere.chat"
    if ("inputTokens" in usage || "stopReason" in response) return "bedrock.converse"
    if ("cache_creation_input_tokens" in usage || "cache_read_input_tokens" in usage) return "anthropic.messages"
    if ("input_tokens" in usage && "output_tokens" in usage) {
      return "input_tokens_details" in usage || "output_tokens_details" in usage || Array.isArray(response.output)
        ? "openai.responses"
        : "anthropic.messages"
    }
    if ("prompt_tokens" in usage) {
      return response.object === "list" && !("completion_tokens" in usage) ? "openai.embeddings" : "openai.chat"
    }
  }
  if ("stopReason" in response) return "bedrock.converse"
  if (response.object === "list" && Array.isArray(response.data)) return "openai.embeddings"
  return undefined
}

const isAsyncIterable = (value: unknown): boolean => {
  try {
    return typeof value === "object" && value !== null && Symbol.asyncIterator in value
  } catch {
    return false
  }
}

/**
 * Detects the API, then extracts.
 *
 * @internal
 */
export const auto = (response: unknown): ExtractedUsage => {
  const name = detect(response)
  if (name !== undefined) return extractors[name](response)
  if (isAsyncIterable(response)) {
    // A stream carries its usage in its last chunks, which only the code that consumes it sees.
    return { warnings: ["usage (auto): the response is a stream; record its usage with the LlmTracker"] }
  }
  return {
    warnings: [`usage (auto): ${describe(response)} is not a response shape this library knows; nothing recorded`]
  }
}

const countFields = ["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"] as const

/**
 * What an extractor of the app's returned, made as clean as what the built-in ones return: each field read guarded,
 * counts through `count` (a fraction rounded, anything else dropped), ids and the model through `optionalString`,
 * finish reasons through `strings`, each with a warning prefixed `usage (<name>)`; its own warning lines are kept
 * (strings only), first, and all of them are bounded.
 *
 * @internal
 */
export const clean = (extracted: unknown, name: string): ExtractedUsage => {
  const r = new Reader(name)
  if (!isRecord(extracted)) {
    r.warn(`the extractor returned ${describe(extracted)}; nothing recorded`)
    return result(r, {})
  }
  const own = r.get(extracted, "warnings", "warnings")
  if (isList(own)) {
    for (let i = 0; i < Math.min(own.length, maxWarnings); i++) {
      const line = r.get(own as unknown as Record<string, unknown>, String(i), `warnings[${i}]`)
      if (typeof line === "string") r.note(line)
    }
  }
  const fields: { -readonly [K in keyof ExtractedUsage]: ExtractedUsage[K] } = {}
  for (const field of countFields) fields[field] = r.count(r.get(extracted, field, field), field)
  const includesCache = r.get(extracted, "inputIncludesCache", "inputIncludesCache")
  if (includesCache !== undefined && includesCache !== null && includesCache !== unreadable) {
    fields.inputIncludesCache = boolean("inputIncludesCache", includesCache, r.warn)
  }
  fields.responseId = r.string(r.get(extracted, "responseId", "responseId"), "responseId")
  fields.responseModel = r.string(r.get(extracted, "responseModel", "responseModel"), "responseModel")
  const reasons = r.get(extracted, "finishReasons", "finishReasons")
  if (reasons !== null && reasons !== unreadable) {
    const list = strings("finishReasons", reasons, r.warn)
    if (list !== undefined && list.length > 0) fields.finishReasons = list
  }
  return result(r, fields)
}

/**
 * Runs an extractor so that a throw becomes a warning, never the call's problem; what an extractor of the app's
 * (`trusted` false) returns is made clean (see `clean`).
 *
 * @internal
 */
export const safely = (
  name: string,
  extractor: (response: unknown) => ExtractedUsage,
  response: unknown,
  trusted = false
): ExtractedUsage => {
  try {
    const extracted = extractor(response)
    return trusted ? extracted : clean(extracted, name)
  } catch (e) {
    return { warnings: [`usage (${name}): the extractor failed (${errorMessage(e)}); ignored`] }
  }
}
