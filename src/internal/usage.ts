import type { ExtractedUsage, ExtractorName } from "../Usage.js"
import { describe } from "./sanitize.js"

/**
 * Reading one response: fields are read leniently, and whatever is missing or of the wrong type becomes a warning
 * line rather than an exception, since a response is outside our control.
 */
class Reader {
  readonly warnings: Array<string> = []
  constructor(readonly api: string) {}

  warn(line: string): void {
    this.warnings.push(`usage (${this.api}): ${line}`)
  }

  /** A nested record, or undefined (with a warning when `required` and absent or not a record). */
  record(value: unknown, path: string, required = false): Record<string, unknown> | undefined {
    if (isRecord(value)) return value
    if (value !== undefined && value !== null) {
      this.warn(`${path} is ${describe(value)}, not a record`)
    } else if (required) {
      this.warn(`${path} is missing`)
    }
    return undefined
  }

  /** A count: a non-negative finite number. `null` reads as absent (some OpenAI-compatible APIs send it). */
  count(value: unknown, path: string, required = false): number | undefined {
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value
    if (value !== undefined && value !== null) {
      this.warn(`${path} is ${describe(value)}, not a token count`)
    } else if (required) {
      this.warn(`${path} is missing`)
    }
    return undefined
  }

  string(value: unknown, path: string): string | undefined {
    if (typeof value === "string" && value.length > 0) return value
    if (value !== undefined && value !== null && value !== "") this.warn(`${path} is ${describe(value)}, not a string`)
    return undefined
  }

  /** The string fields `key` of the items of a list (finish reasons of choices or candidates). */
  stringsOf(list: unknown, key: string, path: string): Array<string> | undefined {
    if (list === undefined || list === null) return undefined
    if (!Array.isArray(list)) {
      this.warn(`${path} is ${describe(list)}, not a list`)
      return undefined
    }
    const out: Array<string> = []
    for (let i = 0; i < list.length; i++) {
      const item = list[i]
      // A choice still streaming, or cut short, has a null finish reason: nothing to record, nothing wrong.
      const value = isRecord(item) ? item[key] : undefined
      if (typeof value === "string" && value.length > 0) out.push(value)
      else if (value !== undefined && value !== null) this.warn(`${path}[${i}].${key} is ${describe(value)}`)
    }
    return out.length > 0 ? out : undefined
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const sum = (...values: Array<number | undefined>): number | undefined => {
  let total: number | undefined
  for (const value of values) if (value !== undefined) total = (total ?? 0) + value
  return total
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
  const usage = r.record(body.usage, "usage", true)
  const promptDetails = r.record(usage?.prompt_tokens_details, "usage.prompt_tokens_details")
  const completionDetails = r.record(usage?.completion_tokens_details, "usage.completion_tokens_details")
  const cacheRead = r.count(promptDetails?.cached_tokens, "usage.prompt_tokens_details.cached_tokens") ??
    // DeepSeek reports its cache hits at the top level; some OpenAI-compatible servers put `cached_tokens` there.
    r.count(usage?.prompt_cache_hit_tokens, "usage.prompt_cache_hit_tokens") ??
    r.count(usage?.cached_tokens, "usage.cached_tokens")
  const cacheWrite = r.count(promptDetails?.cache_write_tokens, "usage.prompt_tokens_details.cache_write_tokens") ??
    r.count(usage?.cache_write_tokens, "usage.cache_write_tokens")
  const prompt = usage === undefined ? undefined : r.count(usage.prompt_tokens, "usage.prompt_tokens", true)
  // Embeddings-like answers from compatible servers have no completion count: not a malformed chat answer.
  const completion = usage === undefined
    ? undefined
    : r.count(usage.completion_tokens, "usage.completion_tokens", !("total_tokens" in usage))
  const reasoning = r.count(completionDetails?.reasoning_tokens, "usage.completion_tokens_details.reasoning_tokens")
  const total = r.count(usage?.total_tokens, "usage.total_tokens")
  // xAI reports reasoning tokens beside the completion tokens rather than in them, which its total shows
  // (prompt + completion + reasoning); reasoning is billed as output, so it is added back.
  const reasoningApart = prompt !== undefined && completion !== undefined && reasoning !== undefined &&
    reasoning > 0 && total === prompt + completion + reasoning
  return result(r, {
    inputTokens: prompt,
    outputTokens: reasoningApart ? completion! + reasoning! : completion,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: reasoning,
    inputIncludesCache: true,
    responseId: r.string(body.id, "id"),
    responseModel: r.string(body.model, "model"),
    finishReasons: r.stringsOf(body.choices, "finish_reason", "choices")
  })
}

/** Mistral's REST API is OpenAI-shaped; its TypeScript SDK hands back the same fields in camelCase. */
const mistralChat = (response: unknown): ExtractedUsage => {
  if (isRecord(response) && isRecord(response.usage) && "promptTokens" in response.usage) {
    const r = new Reader("mistral.chat")
    const usage = response.usage
    return result(r, {
      inputTokens: r.count(usage.promptTokens, "usage.promptTokens", true),
      outputTokens: r.count(usage.completionTokens, "usage.completionTokens", true),
      inputIncludesCache: true,
      responseId: r.string(response.id, "id"),
      responseModel: r.string(response.model, "model"),
      finishReasons: r.stringsOf(response.choices, "finishReason", "choices")
    })
  }
  return openaiChat(response, "mistral.chat")
}

/** OpenAI Responses API: `input_tokens` includes cached tokens; the finish is the response's status. */
const openaiResponses = (response: unknown): ExtractedUsage => {
  const r = new Reader("openai.responses")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(body.usage, "usage", true)
  const inputDetails = r.record(usage?.input_tokens_details, "usage.input_tokens_details")
  const outputDetails = r.record(usage?.output_tokens_details, "usage.output_tokens_details")
  const status = r.string(body.status, "status")
  const incomplete = r.record(body.incomplete_details, "incomplete_details")
  // An incomplete response says why (`max_output_tokens`, `content_filter`): that is the useful finish reason.
  const reason = status === "incomplete" ? r.string(incomplete?.reason, "incomplete_details.reason") ?? status : status
  return result(r, {
    inputTokens: usage === undefined ? undefined : r.count(usage.input_tokens, "usage.input_tokens", true),
    outputTokens: usage === undefined ? undefined : r.count(usage.output_tokens, "usage.output_tokens", true),
    cacheReadTokens: r.count(inputDetails?.cached_tokens, "usage.input_tokens_details.cached_tokens"),
    cacheWriteTokens: r.count(inputDetails?.cache_write_tokens, "usage.input_tokens_details.cache_write_tokens"),
    reasoningTokens: r.count(outputDetails?.reasoning_tokens, "usage.output_tokens_details.reasoning_tokens"),
    inputIncludesCache: true,
    responseId: r.string(body.id, "id"),
    responseModel: r.string(body.model, "model"),
    finishReasons: single(reason)
  })
}

/** OpenAI embeddings: input only; the list has no id and no finish. */
const openaiEmbeddings = (response: unknown): ExtractedUsage => {
  const r = new Reader("openai.embeddings")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(body.usage, "usage", true)
  return result(r, {
    inputTokens: usage === undefined ? undefined : r.count(usage.prompt_tokens, "usage.prompt_tokens", true),
    inputIncludesCache: true,
    responseModel: r.string(body.model, "model")
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
  const usage = r.record(body.usage, "usage", true)
  const split = r.record(usage?.cache_creation, "usage.cache_creation")
  const splitTotal = sum(
    r.count(split?.ephemeral_5m_input_tokens, "usage.cache_creation.ephemeral_5m_input_tokens"),
    r.count(split?.ephemeral_1h_input_tokens, "usage.cache_creation.ephemeral_1h_input_tokens")
  )
  const cacheWrite = r.count(usage?.cache_creation_input_tokens, "usage.cache_creation_input_tokens")
  if (cacheWrite !== undefined && splitTotal !== undefined && cacheWrite !== splitTotal) {
    r.warn(`usage.cache_creation adds up to ${splitTotal}, not cache_creation_input_tokens ${cacheWrite}`)
  }
  return result(r, {
    inputTokens: usage === undefined ? undefined : r.count(usage.input_tokens, "usage.input_tokens", true),
    outputTokens: usage === undefined ? undefined : r.count(usage.output_tokens, "usage.output_tokens", true),
    cacheReadTokens: r.count(usage?.cache_read_input_tokens, "usage.cache_read_input_tokens"),
    cacheWriteTokens: cacheWrite ?? splitTotal,
    inputIncludesCache: false,
    responseId: r.string(body.id, "id"),
    responseModel: r.string(body.model, "model"),
    finishReasons: single(r.string(body.stop_reason, "stop_reason"))
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
  const usage = r.record(body.usage, "usage", true)
  const metadata = isRecord(body.$metadata) ? body.$metadata : undefined
  return result(r, {
    inputTokens: usage === undefined ? undefined : r.count(usage.inputTokens, "usage.inputTokens", true),
    outputTokens: usage === undefined ? undefined : r.count(usage.outputTokens, "usage.outputTokens", true),
    cacheReadTokens: r.count(usage?.cacheReadInputTokens, "usage.cacheReadInputTokens"),
    cacheWriteTokens: r.count(usage?.cacheWriteInputTokens, "usage.cacheWriteInputTokens"),
    inputIncludesCache: false,
    responseId: r.string(metadata?.requestId, "$metadata.requestId"),
    finishReasons: single(r.string(body.stopReason, "stopReason"))
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
  const usage = r.record(body.usageMetadata, "usageMetadata", true)
  const prompt = usage === undefined ? undefined : r.count(usage.promptTokenCount, "usageMetadata.promptTokenCount")
  const toolUse = r.count(usage?.toolUsePromptTokenCount, "usageMetadata.toolUsePromptTokenCount")
  const candidates = r.count(usage?.candidatesTokenCount, "usageMetadata.candidatesTokenCount")
  const thoughts = r.count(usage?.thoughtsTokenCount, "usageMetadata.thoughtsTokenCount")
  // Gemini leaves out zero counts (an empty answer has no `candidatesTokenCount`): with a prompt count present,
  // a missing output count means 0.
  const output = sum(candidates, thoughts) ?? (prompt !== undefined ? 0 : undefined)
  if (usage !== undefined && prompt === undefined) r.warn("usageMetadata.promptTokenCount is missing")
  return result(r, {
    inputTokens: prompt === undefined ? undefined : prompt + (toolUse ?? 0),
    outputTokens: output,
    cacheReadTokens: r.count(usage?.cachedContentTokenCount, "usageMetadata.cachedContentTokenCount"),
    reasoningTokens: thoughts,
    inputIncludesCache: true,
    responseId: r.string(body.responseId, "responseId"),
    responseModel: r.string(body.modelVersion, "modelVersion"),
    finishReasons: r.stringsOf(body.candidates, "finishReason", "candidates")
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
  const usage = r.record(body.usage, "usage", true)
  const billed = r.record(usage?.billed_units, "usage.billed_units")
  const tokens = r.record(usage?.tokens, "usage.tokens")
  const source = billed ?? tokens
  const path = billed !== undefined ? "usage.billed_units" : "usage.tokens"
  if (usage !== undefined && source === undefined) r.warn("usage has neither billed_units nor tokens")
  return result(r, {
    inputTokens: source === undefined ? undefined : r.count(source.input_tokens, `${path}.input_tokens`, true),
    outputTokens: source === undefined ? undefined : r.count(source.output_tokens, `${path}.output_tokens`),
    cacheReadTokens: r.count(usage?.cached_tokens, "usage.cached_tokens"),
    inputIncludesCache: true,
    responseId: r.string(body.id, "id"),
    finishReasons: single(r.string(body.finish_reason, "finish_reason"))
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
 * Which API a response came from, by the fields that only that API's responses carry.
 *
 * @internal
 */
export const detect = (response: unknown): ExtractorName | undefined => {
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

const isAsyncIterable = (value: unknown): boolean =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value

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

/**
 * Runs an extractor of the user's so that a throw becomes a warning, never the call's problem.
 *
 * @internal
 */
export const safely = (
  name: string,
  extractor: (response: unknown) => ExtractedUsage,
  response: unknown
): ExtractedUsage => {
  try {
    const extracted = extractor(response)
    if (typeof extracted !== "object" || extracted === null) {
      return { warnings: [`usage (${name}): the extractor returned ${describe(extracted)}; nothing recorded`] }
    }
    return extracted
  } catch (e) {
    return {
      warnings: [`usage (${name}): the extractor failed (${e instanceof Error ? e.message : describe(e)}); ignored`]
    }
  }
}
