import type { TokenCounts, UsageIteration } from "../LlmTracker.js"
import type { ExtractedUsage, ExtractorName } from "../Usage.js"
import { errorMessage } from "./errors.js"
import { cut, maxListItems, maxNameChars, maxValueChars, maxWarnings } from "./limits.js"
import { boolean, count, describe, isList, isRecord, optionalString, strings, type Warn } from "./sanitize.js"

/** What reading a field of a response threw (a getter, a Proxy's trap): already a warning, and read as absent. */
const unreadable: unique symbol = Symbol("unreadable")

/**
 * Reading one response: fields are read leniently and guarded, and whatever is missing, of the wrong type or
 * throws when read becomes a warning line rather than an exception, since a response is outside our control. Every
 * count it hands back is a non-negative safe integer (`count` of `sanitize.ts`), every string is bounded.
 */
class Reader {
  // Made on the first warning: most responses have none, and a reader is made for every response read.
  private lines: Array<string> | undefined = undefined
  private moreWarnings = 0
  private warnLine: Warn | undefined = undefined
  constructor(readonly api: string) {}

  get warn(): Warn {
    return this.warnLine ??= (line) => this.note(`usage (${this.api}): ${line}`)
  }

  /** A warning line as it is. */
  note(line: string): void {
    const lines = this.lines ??= []
    // Cut to a span warning's final bound only once redacted (see `SpanRecorder.addWarning`).
    if (lines.length < maxWarnings) lines.push(cut(line, 4 * maxValueChars))
    else this.moreWarnings++
  }

  /** The warnings, bounded: `maxWarnings` lines and a count of the rest. */
  get warnings(): Array<string> {
    const lines = this.lines ?? []
    return this.moreWarnings > 0 ? [...lines, `usage (${this.api}): ${this.moreWarnings} more warnings dropped`] : lines
  }

  /** `record[key]`, guarded. */
  get(record: Record<string, unknown> | undefined, key: string, path: string): unknown {
    if (record === undefined) return undefined
    try {
      return record[key]
    } catch (e) {
      return this.unreadable(path, e)
    }
  }

  /** What a field that threw when read at `path` reads as, with a warning. */
  private unreadable(path: string, e: unknown): typeof unreadable {
    this.warn(`${path}: failed to read (${errorMessage(e)}); ignored`)
    return unreadable
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
    // A count as it should be is `count`'s answer already, with nothing to warn about.
    if (typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) {
      return value
    }
    if (value === unreadable) return undefined
    if (value === undefined || value === null) {
      if (required) this.warn(`${path} is missing`)
      return undefined
    }
    return count(path, value, this.warn)
  }

  /** The count at `record[key]` (see `count`). */
  at(record: Record<string, unknown> | undefined, key: string, path: string): number | undefined {
    return this.count(this.get(record, key, path), path)
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
    if (value === undefined || value === unreadable || value === null) return undefined
    // Within its bound, a string is `optionalString`'s answer already.
    if (typeof value === "string" && value.length > 0 && value.length <= maxNameChars) return value
    return optionalString(path, value, this.warn)
  }

  /** A finish reason, bounded as an attribute value. */
  reason(value: unknown, path: string): string | undefined {
    if (value === undefined || value === unreadable || value === null) return undefined
    if (typeof value === "string" && value.length > 0 && value.length <= maxValueChars) return value
    return optionalString(path, value, this.warn, maxValueChars)
  }

  /**
   * The token counts of a Gemini `*TokensDetails` list (`[{ modality, tokenCount }]`) whose modality is one of
   * `modalities`, added up; `undefined` when the list has none of them. An entry without a count (Gemini leaves
   * out zero counts: `{ modality: "AUDIO" }`) counts nothing.
   */
  modality(list: unknown, modalities: ReadonlyArray<string>, path: string): number | undefined {
    if (list === undefined || list === null || list === unreadable) return undefined
    if (!isList(list)) {
      this.warn(`${path}: ${describe(list)} is not a list; ignored`)
      return undefined
    }
    let total: number | undefined
    // Gemini lists one entry per modality (five at most); the bound only keeps a hostile list cheap.
    for (let i = 0; i < Math.min(list.length, maxListItems); i++) {
      const item = this.get(list as unknown as Record<string, unknown>, String(i), `${path}[${i}]`)
      if (!isRecord(item)) continue
      const modality = this.get(item, "modality", `${path}[${i}].modality`)
      if (typeof modality !== "string" || !modalities.includes(modality)) continue
      const tokens = this.count(this.get(item, "tokenCount", `${path}[${i}].tokenCount`), `${path}[${i}].tokenCount`)
      if (tokens !== undefined) total = this.sum(path, total, tokens)
    }
    return total
  }

  /**
   * How many items of a list have `type` equal to `type` (the web searches of an OpenAI Responses answer), or
   * `undefined` when there is no list or none of them. Every item is looked at: the answer is in memory already, so
   * reading it costs what parsing it did, and a count cut at a bound would under-bill.
   */
  itemsOfType(list: unknown, type: string, path: string): number | undefined {
    if (list === undefined || list === null || list === unreadable) return undefined
    if (!isList(list)) {
      this.warn(`${path}: ${describe(list)} is not a list; ignored`)
      return undefined
    }
    let n = 0
    for (let i = 0; i < list.length; i++) {
      const item = this.get(list as unknown as Record<string, unknown>, String(i), `${path}[${i}]`)
      if (isRecord(item) && this.get(item, "type", `${path}[${i}].type`) === type) n++
    }
    return n > 0 ? n : undefined
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
    let out: Array<string> | undefined
    for (let i = 0; i < Math.min(length, maxListItems); i++) {
      const item = this.itemAt(list, i, path)
      // A choice still streaming, or cut short, has a null finish reason: nothing to record, nothing wrong.
      const value = isRecord(item) ? this.fieldAt(item, key, path, i) : undefined
      // The path of a warning is built only for a value that needs one.
      const reason = typeof value === "string" && value.length > 0 && value.length <= maxValueChars
        ? value
        : this.reason(value, `${path}[${i}].${key}`)
      if (reason !== undefined) (out ??= []).push(reason)
    }
    return out
  }

  /** `list[i]`, guarded, its path (`path[i]`) built only if reading it throws. */
  private itemAt(list: ReadonlyArray<unknown>, i: number, path: string): unknown {
    try {
      return list[i]
    } catch (e) {
      return this.unreadable(`${path}[${i}]`, e)
    }
  }

  /** `item[key]` of the `i`th item of the list at `path`, guarded, its path built only if reading it throws. */
  private fieldAt(item: Record<string, unknown>, key: string, path: string, i: number): unknown {
    try {
      return item[key]
    } catch (e) {
      return this.unreadable(`${path}[${i}].${key}`, e)
    }
  }
}

const single = (value: string | undefined): Array<string> | undefined => value === undefined ? undefined : [value]

/**
 * `fields` without its `undefined` fields, so that it reads cleanly and spreads cleanly. A `for...in` over an object
 * literal: no entry arrays, no spread (this runs on every call that reads its response).
 */
const defined = <A extends object>(fields: A): A => {
  const out: Record<string, unknown> = {}
  for (const key in fields) {
    const value = fields[key]
    if (value !== undefined) out[key] = value
  }
  return out as A
}

type Fields = { -readonly [K in keyof ExtractedUsage]: ExtractedUsage[K] }

/** Builds the result without `undefined` fields, the reader's warnings last. */
const result = (reader: Reader, fields: Omit<ExtractedUsage, "warnings">): ExtractedUsage => {
  const out: Fields = defined(fields)
  out.warnings = reader.warnings
  return out
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
  const promptDetails = r.record(
    r.get(usage, "prompt_tokens_details", "usage.prompt_tokens_details"),
    "usage.prompt_tokens_details"
  )
  const completionDetails = r.record(
    r.get(usage, "completion_tokens_details", "usage.completion_tokens_details"),
    "usage.completion_tokens_details"
  )
  const cacheRead = r.at(promptDetails, "cached_tokens", "usage.prompt_tokens_details.cached_tokens") ??
    // DeepSeek reports its cache hits at the top level; some OpenAI-compatible servers put `cached_tokens` there.
    r.at(usage, "prompt_cache_hit_tokens", "usage.prompt_cache_hit_tokens") ??
    r.at(usage, "cached_tokens", "usage.cached_tokens")
  const cacheWrite = r.at(promptDetails, "cache_write_tokens", "usage.prompt_tokens_details.cache_write_tokens") ??
    r.at(usage, "cache_write_tokens", "usage.cache_write_tokens")
  const prompt = usage === undefined
    ? undefined
    : r.count(r.get(usage, "prompt_tokens", "usage.prompt_tokens"), "usage.prompt_tokens", true)
  // Embeddings-like answers from compatible servers have no completion count: not a malformed chat answer.
  const completion = usage === undefined ? undefined : r.count(
    r.get(usage, "completion_tokens", "usage.completion_tokens"),
    "usage.completion_tokens",
    !r.has(usage, "total_tokens")
  )
  const reasoning = r.at(completionDetails, "reasoning_tokens", "usage.completion_tokens_details.reasoning_tokens")
  const total = r.at(usage, "total_tokens", "usage.total_tokens")
  // xAI reports reasoning tokens beside the completion tokens rather than in them, which its total shows
  // (prompt + completion + reasoning); reasoning is billed as output, so it is added back.
  const reasoningApart = prompt !== undefined && completion !== undefined && reasoning !== undefined &&
    reasoning > 0 && total === prompt + completion + reasoning
  const output = reasoningApart
    ? r.sum("usage.completion_tokens + reasoning_tokens", completion, reasoning)
    : completion
  const inputAudio = r.at(promptDetails, "audio_tokens", "usage.prompt_tokens_details.audio_tokens")
  const inputImage = r.at(promptDetails, "image_tokens", "usage.prompt_tokens_details.image_tokens")
  const outputAudio = r.at(completionDetails, "audio_tokens", "usage.completion_tokens_details.audio_tokens")
  const outputImage = r.at(completionDetails, "image_tokens", "usage.completion_tokens_details.image_tokens")
  const serviceTier = r.string(r.get(body, "service_tier", "service_tier"), "service_tier")
  const responseId = r.string(r.get(body, "id", "id"), "id")
  const responseModel = r.string(r.get(body, "model", "model"), "model")
  const finishReasons = r.stringsOf(r.get(body, "choices", "choices"), "finish_reason", "choices")
  // Built field by field, as `result` would (no `undefined` fields, warnings last), without the literal it copies:
  // this is the reader of the most common response of all.
  const out: Fields = {}
  if (prompt !== undefined) out.inputTokens = prompt
  if (output !== undefined) out.outputTokens = output
  if (cacheRead !== undefined) out.cacheReadTokens = cacheRead
  if (cacheWrite !== undefined) out.cacheWriteTokens = cacheWrite
  if (inputAudio !== undefined) out.inputAudioTokens = inputAudio
  if (inputImage !== undefined) out.inputImageTokens = inputImage
  if (reasoning !== undefined) out.reasoningTokens = reasoning
  if (outputAudio !== undefined) out.outputAudioTokens = outputAudio
  if (outputImage !== undefined) out.outputImageTokens = outputImage
  if (serviceTier !== undefined) out.serviceTier = serviceTier
  out.inputIncludesCache = true
  if (responseId !== undefined) out.responseId = responseId
  if (responseModel !== undefined) out.responseModel = responseModel
  if (finishReasons !== undefined) out.finishReasons = finishReasons
  out.warnings = r.warnings
  return out
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

/**
 * OpenAI Responses API: `input_tokens` includes cached tokens; the finish is the response's status; each
 * `web_search_call` item of `output` is a web search, billed per call.
 */
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
    webSearches: r.itemsOfType(r.get(body, "output", "output"), "web_search_call", "output"),
    serviceTier: r.string(r.get(body, "service_tier", "service_tier"), "service_tier"),
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
 * The counts of one Anthropic usage record (the response's or one of its `usage.iterations`): cache writes as one
 * total, of which `cache_creation.ephemeral_1h_input_tokens` is the 1-hour part; the 5-minute / 1-hour split stands
 * in for the total when only the split is given.
 */
const anthropicCounts = (r: Reader, usage: Record<string, unknown>, path: string): TokenCounts => {
  const at = (record: Record<string, unknown> | undefined, key: string, where: string, required = false) =>
    r.count(r.get(record, key, `${where}.${key}`), `${where}.${key}`, required)
  const split = r.record(r.get(usage, "cache_creation", `${path}.cache_creation`), `${path}.cache_creation`)
  const oneHour = at(split, "ephemeral_1h_input_tokens", `${path}.cache_creation`)
  const splitTotal = r.sum(
    `${path}.cache_creation`,
    at(split, "ephemeral_5m_input_tokens", `${path}.cache_creation`),
    oneHour
  )
  const cacheWrite = at(usage, "cache_creation_input_tokens", path)
  if (cacheWrite !== undefined && splitTotal !== undefined && cacheWrite !== splitTotal) {
    r.warn(`${path}.cache_creation adds up to ${splitTotal}, not cache_creation_input_tokens ${cacheWrite}`)
  }
  return {
    inputTokens: at(usage, "input_tokens", path, true),
    outputTokens: at(usage, "output_tokens", path, true),
    cacheReadTokens: at(usage, "cache_read_input_tokens", path),
    cacheWriteTokens: cacheWrite ?? splitTotal,
    cacheWrite1hTokens: oneHour
  }
}

/**
 * Anthropic's `usage.iterations` (compaction, advisor and sampling steps), each with its type, its model where given
 * and its counts; `undefined` when there are none. At most `maxListItems` are read: a response has a handful.
 */
const anthropicIterations = (r: Reader, list: unknown): Array<UsageIteration> | undefined => {
  if (list === undefined || list === null || list === unreadable) return undefined
  if (!isList(list)) {
    r.warn(`usage.iterations: ${describe(list)} is not a list; ignored`)
    return undefined
  }
  if (list.length > maxListItems) {
    r.warn(`usage.iterations: a list of ${list.length} items; the first ${maxListItems} are read`)
  }
  const out: Array<UsageIteration> = []
  for (let i = 0; i < Math.min(list.length, maxListItems); i++) {
    const path = `usage.iterations[${i}]`
    const item = r.record(r.get(list as unknown as Record<string, unknown>, String(i), path), path, true)
    if (item === undefined) continue
    out.push(defined({
      type: r.reason(r.get(item, "type", `${path}.type`), `${path}.type`),
      model: r.string(r.get(item, "model", `${path}.model`), `${path}.model`),
      ...anthropicCounts(r, item, path)
    }))
  }
  return out.length > 0 ? out : undefined
}

/**
 * Anthropic Messages: `input_tokens` EXCLUDES cache reads and writes. Thinking tokens
 * (`output_tokens_details.thinking_tokens`) are the reasoning part of the output. With `usage.iterations`, the
 * top-level counts leave out the compaction and advisor steps, which are billed too: the iterations are handed on,
 * and the call's totals are their sums (see `LlmTracker.TokenUsage`).
 */
const anthropicMessages = (response: unknown): ExtractedUsage => {
  const r = new Reader("anthropic.messages")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  const at = (record: Record<string, unknown> | undefined, key: string, path: string) =>
    r.count(r.get(record, key, path), path)
  const tools = r.record(r.get(usage, "server_tool_use", "usage.server_tool_use"), "usage.server_tool_use")
  const outputDetails = r.record(
    r.get(usage, "output_tokens_details", "usage.output_tokens_details"),
    "usage.output_tokens_details"
  )
  return result(r, {
    ...(usage === undefined ? {} : anthropicCounts(r, usage, "usage")),
    reasoningTokens: at(outputDetails, "thinking_tokens", "usage.output_tokens_details.thinking_tokens"),
    webSearches: at(tools, "web_search_requests", "usage.server_tool_use.web_search_requests"),
    serviceTier: r.string(r.get(usage, "service_tier", "usage.service_tier"), "usage.service_tier"),
    iterations: anthropicIterations(r, r.get(usage, "iterations", "usage.iterations")),
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

// Gemini's modalities, as its `*TokensDetails` name them. A PDF's pages are billed as images (and reported as
// `DOCUMENT`): counted as image, as the genai-prices catalogue does. Video has no rate of its own here.
const audio: ReadonlyArray<string> = ["AUDIO"]
const image: ReadonlyArray<string> = ["IMAGE", "DOCUMENT"]

/**
 * Gemini API and Vertex AI `generateContent`: `promptTokenCount` includes `cachedContentTokenCount`; thoughts are
 * billed as output but reported beside `candidatesTokenCount`, so output = candidates + thoughts; tokens of
 * tool-use prompts (grounding results fed back to the model) are billed as input and reported beside the prompt.
 * The audio and image parts come from the details by modality: the prompt's (its cached tokens included), the
 * cache's and the candidates'.
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
  const byModality = (key: string, modalities: ReadonlyArray<string>) =>
    r.modality(r.get(usage, key, `usageMetadata.${key}`), modalities, `usageMetadata.${key}`)
  // The tool-use prompt is input too, so its audio and images are the input's.
  const inputOf = (modalities: ReadonlyArray<string>) => {
    const inPrompt = byModality("promptTokensDetails", modalities)
    const inToolUse = byModality("toolUsePromptTokensDetails", modalities)
    return inPrompt === undefined && inToolUse === undefined
      ? undefined
      : r.sum("usageMetadata.promptTokensDetails + toolUsePromptTokensDetails", inPrompt, inToolUse)
  }
  return result(r, {
    inputTokens: prompt === undefined
      ? undefined
      : r.sum("usageMetadata.promptTokenCount + toolUsePromptTokenCount", prompt, toolUse),
    outputTokens: output,
    cacheReadTokens: at("cachedContentTokenCount"),
    inputAudioTokens: inputOf(audio),
    cacheReadAudioTokens: byModality("cacheTokensDetails", audio),
    inputImageTokens: inputOf(image),
    cacheReadImageTokens: byModality("cacheTokensDetails", image),
    reasoningTokens: thoughts,
    outputAudioTokens: byModality("candidatesTokensDetails", audio),
    outputImageTokens: byModality("candidatesTokensDetails", image),
    inputIncludesCache: true,
    responseId: r.string(r.get(body, "responseId", "responseId"), "responseId"),
    responseModel: r.string(r.get(body, "modelVersion", "modelVersion"), "modelVersion"),
    finishReasons: r.stringsOf(r.get(body, "candidates", "candidates"), "finishReason", "candidates")
  })
}

/**
 * Cohere v2 chat: `usage.billed_units` is what is billed, and what is priced: no cache reads are recorded beside
 * it, since `usage.cached_tokens` counts tokens of `usage.tokens` (the whole prompt template, often several times
 * the billed input) and would otherwise be a cache read larger than the input it belongs to. `usage.tokens`, and
 * its cached tokens, are read only when billed units are absent. The response does not name the model.
 */
const cohereChat = (response: unknown): ExtractedUsage => {
  const r = new Reader("cohere.chat")
  const body = root(r, response)
  if (body === undefined) return result(r, {})
  const usage = r.record(r.get(body, "usage", "usage"), "usage", true)
  const billed = r.record(r.get(usage, "billed_units", "usage.billed_units"), "usage.billed_units")
  const tokens = billed === undefined ? r.record(r.get(usage, "tokens", "usage.tokens"), "usage.tokens") : undefined
  const source = billed ?? tokens
  const path = billed !== undefined ? "usage.billed_units" : "usage.tokens"
  const at = (key: string, required = false) =>
    r.count(r.get(source, key, `${path}.${key}`), `${path}.${key}`, required)
  if (usage !== undefined && source === undefined) r.warn("usage has neither billed_units nor tokens")
  return result(r, {
    inputTokens: source === undefined ? undefined : at("input_tokens", true),
    outputTokens: source === undefined ? undefined : at("output_tokens"),
    cacheReadTokens: tokens === undefined
      ? undefined
      : r.count(r.get(usage, "cached_tokens", "usage.cached_tokens"), "usage.cached_tokens"),
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

/** The counts of `TokenCounts`, which a usage record and each of its iterations may carry. */
const tokenFields = [
  "inputTokens",
  "outputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "cacheWrite1hTokens",
  "inputAudioTokens",
  "cacheReadAudioTokens",
  "inputImageTokens",
  "cacheReadImageTokens",
  "reasoningTokens",
  "outputAudioTokens",
  "outputImageTokens"
] as const satisfies ReadonlyArray<keyof TokenCounts>

/** The iterations an extractor of the app's returned, each made clean like the counts beside them. */
const cleanIterations = (r: Reader, list: unknown): Array<UsageIteration> | undefined => {
  if (list === undefined || list === null || list === unreadable) return undefined
  if (!isList(list)) {
    r.warn(`iterations: ${describe(list)} is not a list; dropped`)
    return undefined
  }
  if (list.length > maxListItems) {
    r.warn(`iterations: a list of ${list.length} items; the first ${maxListItems} are read`)
  }
  const out: Array<UsageIteration> = []
  for (let i = 0; i < Math.min(list.length, maxListItems); i++) {
    const path = `iterations[${i}]`
    const item = r.record(r.get(list as unknown as Record<string, unknown>, String(i), path), path, true)
    if (item === undefined) continue
    const fields: { -readonly [K in keyof UsageIteration]: UsageIteration[K] } = {
      type: r.reason(r.get(item, "type", `${path}.type`), `${path}.type`),
      model: r.string(r.get(item, "model", `${path}.model`), `${path}.model`)
    }
    for (const field of tokenFields) {
      fields[field] = r.count(r.get(item, field, `${path}.${field}`), `${path}.${field}`)
    }
    out.push(defined(fields))
  }
  return out.length > 0 ? out : undefined
}

/**
 * What an extractor of the app's returned, made as clean as what the built-in ones return: each field read guarded,
 * counts through `count` (a fraction rounded, anything else dropped), ids, the model and the service tier through
 * `optionalString`, finish reasons through `strings`, iterations each like the counts (at most `maxListItems`), each
 * with a warning prefixed `usage (<name>)`; its own warning lines are kept (strings only), first, and all of them
 * are bounded.
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
  for (const field of tokenFields) fields[field] = r.count(r.get(extracted, field, field), field)
  fields.webSearches = r.count(r.get(extracted, "webSearches", "webSearches"), "webSearches")
  fields.serviceTier = r.string(r.get(extracted, "serviceTier", "serviceTier"), "serviceTier")
  fields.iterations = cleanIterations(r, r.get(extracted, "iterations", "iterations"))
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
