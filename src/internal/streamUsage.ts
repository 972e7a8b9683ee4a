import type { StreamExtractorName, StreamUsageFrom } from "../LlmStream.js"
import type { ExtractedUsage } from "../Usage.js"
import { errorMessage } from "./errors.js"
import { maxListItems, maxValueChars } from "./limits.js"
import { count, describe, isRecord, optionalString, type Warn } from "./sanitize.js"
import * as usage from "./usage.js"

/**
 * Folds the chunks of one stream into what its provider reports about the call. It holds counters, ids and finish
 * reasons only, never chunk content, so memory stays flat however long the stream runs.
 *
 * Every API this reads reports totals so far, not increments (OpenAI, Gemini, Bedrock and Cohere in their last
 * chunk, Anthropic's `message_delta` carries the cumulative output count), so a later count replaces an earlier
 * one: nothing is ever added twice. The one count kept by counting is that of the Responses API's web searches
 * before its terminal event, one per search item that ends (each ends once), and the terminal event's own count
 * replaces it.
 *
 * What it hands back is as clean as `Usage.extract`'s: counts are non-negative safe integers (a fraction rounded,
 * anything else dropped, with a warning), ids, the model and finish reasons are bounded strings, and at most
 * `maxListItems` choices keep a finish reason, whatever indices a stream sends.
 *
 * @internal
 */
export interface StreamUsage {
  readonly observe: (chunk: unknown) => void
  /** The response model read so far, for the labels of per-chunk metrics. */
  readonly responseModel: () => string | undefined
  /**
   * `complete`: the stream ended on its own, so usage that never came is worth a warning. Asked once, when the run
   * ends: what it hands back is the accumulator's own record, not a copy.
   */
  readonly result: (complete: boolean) => ExtractedUsage
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const isIndex = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0

// A malformed stream repeats the same problem on every chunk: distinct lines only, and a bounded number of them.
const maxWarnings = 8

/** The counts of `ExtractedUsage`: a later one replaces an earlier one. */
const countKeys = [
  "inputTokens",
  "outputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "cacheWrite1hTokens",
  "inputAudioTokens",
  "cacheReadAudioTokens",
  "inputImageTokens",
  "cacheReadImageTokens",
  "outputAudioTokens",
  "outputImageTokens",
  "reasoningTokens",
  "webSearches"
] as const

type CountKey = typeof countKeys[number]

// A count of tool uses says nothing of the tokens: a stream that reported only those still never carried usage.
const isTokenCount = (key: CountKey): boolean => key !== "webSearches"

class Accumulator implements StreamUsage {
  private readonly fields: Mutable<ExtractedUsage> = {}
  // Finish reasons by choice (candidate) index, so that each choice of a multi-choice stream keeps its own.
  private readonly reasons = new Map<number, string>()
  private readonly warnings = new Set<string>()
  private sawUsage = false
  private webSearchItems = 0

  constructor(readonly api: string, private readonly read: (self: Accumulator, chunk: unknown) => void) {}

  readonly observe = (chunk: unknown): void => {
    try {
      this.read(this, chunk)
    } catch (e) {
      this.warn(`reading a chunk failed (${errorMessage(e)}); ignored`)
    }
  }

  readonly responseModel = (): string | undefined => this.fields.responseModel

  readonly result = (complete: boolean): ExtractedUsage => {
    if (complete && !this.sawUsage) this.warn("no chunk carried usage")
    // Not a copy: adding the finish reasons to a spread copy would make an object of a shape of its own on every
    // run (slow to build and to read).
    const out = this.fields
    if (this.reasons.size > 0) {
      out.finishReasons = [...this.reasons.entries()].sort(([a], [b]) => a - b).map(([, reason]) => reason)
    }
    if (this.warnings.size > 0) out.warnings = [...this.warnings]
    return out
  }

  readonly warn: Warn = (line) => {
    if (this.warnings.size < maxWarnings) this.warnings.add(`usage (${this.api}, stream): ${line}`)
  }

  /**
   * Takes what one extraction read, clean already (a built-in extractor's, or a function's through `usage.clean`): a
   * later count replaces an earlier one (see above). `withReasons: false` for an extraction from a chunk whose
   * finish reasons were read already, per choice index.
   */
  merge(extracted: ExtractedUsage, withReasons: boolean = true): void {
    for (const key of countKeys) {
      const value = extracted[key]
      if (value !== undefined) {
        this.fields[key] = value
        if (isTokenCount(key)) this.sawUsage = true
      }
    }
    if (extracted.inputIncludesCache !== undefined) this.fields.inputIncludesCache = extracted.inputIncludesCache
    if (extracted.serviceTier !== undefined) this.fields.serviceTier = extracted.serviceTier
    if (extracted.iterations !== undefined) this.fields.iterations = extracted.iterations
    this.id(extracted.responseId, "responseId")
    this.model(extracted.responseModel, "responseModel")
    if (withReasons && Array.isArray(extracted.finishReasons)) {
      extracted.finishReasons.forEach((reason, index) => this.reason(index, reason, `finishReasons[${index}]`))
    }
    if (Array.isArray(extracted.warnings)) {
      for (const line of extracted.warnings) {
        if (typeof line === "string" && this.warnings.size < maxWarnings) this.warnings.add(line)
      }
    }
  }

  /** A count of the chunk (see `count`), or `undefined` when absent or dropped; `null` reads as absent. */
  set(key: CountKey, value: unknown, path: string): number | undefined {
    if (value === null) return undefined
    const clean = count(path, value, this.warn)
    if (clean !== undefined) {
      this.fields[key] = clean
      if (isTokenCount(key)) this.sawUsage = true
    }
    return clean
  }

  includesCache(value: boolean): void {
    this.fields.inputIncludesCache = value
  }

  /** One more web search finished (see `openaiResponses`). */
  webSearchDone(): void {
    this.fields.webSearches = ++this.webSearchItems
  }

  /** The service tier the provider answered with; a later one replaces an earlier one, `null` reads as absent. */
  tier(value: unknown, path: string): void {
    if (value === null) return
    const tier = optionalString(path, value, this.warn)
    if (tier !== undefined) this.fields.serviceTier = tier
  }

  id(value: unknown, path: string): void {
    if (this.fields.responseId !== undefined || value === null) return
    const id = optionalString(path, value, this.warn)
    if (id !== undefined) this.fields.responseId = id
  }

  model(value: unknown, path: string): void {
    if (this.fields.responseModel !== undefined || value === null) return
    const model = optionalString(path, value, this.warn)
    if (model !== undefined) this.fields.responseModel = model
  }

  /** The finish reason of choice `index`: at most `maxListItems` choices keep one, so that memory stays flat. */
  reason(index: number, value: unknown, path: string): void {
    if (value === null || value === undefined) return
    const reason = optionalString(path, value, this.warn, maxValueChars)
    if (reason === undefined) return
    if (this.reasons.size >= maxListItems && !this.reasons.has(index)) {
      return this.warn(`${path}: more than ${maxListItems} choices; the finish reasons of the others are ignored`)
    }
    this.reasons.set(index, reason)
  }

  /** Finish reasons of a list of choices or candidates, each at its own `index` when it has one. */
  reasonsOf(list: unknown, key: string, path: string): void {
    if (!Array.isArray(list)) return
    const length = Math.min(list.length, maxListItems)
    for (let position = 0; position < length; position++) {
      const item: unknown = list[position]
      if (!isRecord(item)) continue
      const value = item[key]
      // Most chunks carry no finish reason: the path, for a warning, is made only for one that does.
      if (value === null || value === undefined) continue
      const index = item.index
      this.reason(isIndex(index) ? index : position, value, `${path}[${position}].${key}`)
    }
  }
}

/**
 * Chat Completions chunks: ids, model and the service tier on every chunk, the usage on the last one
 * (`include_usage`).
 */
const openaiChat = (self: Accumulator, chunk: unknown): void => {
  if (!isRecord(chunk)) return self.warn(`a chunk is ${describe(chunk)}, not a record`)
  const { id, model, service_tier } = chunk
  self.id(id, "id")
  self.model(model, "model")
  self.tier(service_tier, "service_tier")
  self.reasonsOf(chunk.choices, "finish_reason", "choices")
  const counts = chunk.usage
  if (isRecord(counts)) {
    // The fields the extractor reads but `choices`, read above: an object of one shape, where a copy of the chunk
    // would be an object of a shape of its own on every usage chunk, and slow to build and to read.
    self.merge(usage.extractors["openai.chat"]({ id, model, service_tier, usage: counts }), false)
  }
}

/**
 * Responses API events: the response's id and model come first, its usage (and its whole output, web searches
 * included) with the terminal event. Each web search is billed when it runs, so the searches finished so far are
 * counted as their items end: the usage of a stream abandoned before its terminal event still has them.
 */
const openaiResponses = (self: Accumulator, event: unknown): void => {
  if (!isRecord(event)) return self.warn(`an event is ${describe(event)}, not a record`)
  if (event.type === "response.output_item.done") {
    if (isRecord(event.item) && event.item.type === "web_search_call") self.webSearchDone()
    return
  }
  const response = isRecord(event.response) ? event.response : undefined
  if (response === undefined) return
  switch (event.type) {
    case "response.completed":
    case "response.incomplete":
    case "response.failed":
      if (response.usage !== undefined && response.usage !== null) {
        return self.merge(usage.extractors["openai.responses"](response))
      }
      self.reason(0, response.status, "response.status")
      break
  }
  self.id(response.id, "response.id")
  self.model(response.model, "response.model")
}

/**
 * Messages stream events: `message_start` carries the input and cache counts (with the 1-hour split of the cache
 * writes and the service tier; and an output count of 1 or so), `message_delta` the cumulative output count, its
 * thinking part and the web searches so far (and, on newer API versions, cumulative input and cache counts).
 */
const anthropicMessages = (self: Accumulator, event: unknown): void => {
  if (!isRecord(event)) return self.warn(`an event is ${describe(event)}, not a record`)
  if (event.type === "message_start" && isRecord(event.message)) {
    const extracted = usage.extractors["anthropic.messages"](event.message)
    return self.merge(extracted, false)
  }
  if (event.type === "message_delta") {
    const delta = isRecord(event.delta) ? event.delta : undefined
    self.reason(0, delta?.stop_reason, "delta.stop_reason")
    const counts = isRecord(event.usage) ? event.usage : undefined
    if (counts === undefined) return
    if (Array.isArray(counts.iterations)) {
      // The API versions that report the steps of a call (compaction, advisor) send its whole cumulative usage
      // here: it is read as a response's, so that the steps are read, and priced, as a response's are.
      return self.merge(usage.extractors["anthropic.messages"]({ usage: counts }), false)
    }
    self.set("outputTokens", counts.output_tokens, "usage.output_tokens")
    self.set("inputTokens", counts.input_tokens, "usage.input_tokens")
    self.set("cacheReadTokens", counts.cache_read_input_tokens, "usage.cache_read_input_tokens")
    self.set("cacheWriteTokens", counts.cache_creation_input_tokens, "usage.cache_creation_input_tokens")
    if (isRecord(counts.output_tokens_details)) {
      self.set(
        "reasoningTokens",
        counts.output_tokens_details.thinking_tokens,
        "usage.output_tokens_details.thinking_tokens"
      )
    }
    if (isRecord(counts.server_tool_use)) {
      self.set("webSearches", counts.server_tool_use.web_search_requests, "usage.server_tool_use.web_search_requests")
    }
  }
}

/**
 * Streamed `generateContent` chunks: `usageMetadata` (totals so far, with their details by modality) on the last
 * chunk, often on others too.
 */
const gemini = (self: Accumulator, chunk: unknown): void => {
  if (!isRecord(chunk)) return self.warn(`a chunk is ${describe(chunk)}, not a record`)
  const { modelVersion, responseId } = chunk
  self.id(responseId, "responseId")
  self.model(modelVersion, "modelVersion")
  self.reasonsOf(chunk.candidates, "finishReason", "candidates")
  const usageMetadata = chunk.usageMetadata
  if (isRecord(usageMetadata)) {
    // As for OpenAI's chunks: the fields the extractor reads but `candidates`, in an object of one shape.
    self.merge(usage.extractors.gemini({ responseId, modelVersion, usageMetadata }), false)
  }
}

/** The members of a ConverseStream event (the AWS SDK hands each event as an object with one of them). */
const bedrockMembers = [
  "messageStart",
  "contentBlockStart",
  "contentBlockDelta",
  "contentBlockStop",
  "messageStop",
  "metadata"
] as const

/**
 * Bedrock ConverseStream events: `messageStop` carries the stop reason, `metadata` (the last event) the usage, as
 * `Converse` reports it (`inputTokens` excludes cache reads and writes), the cache writes by TTL and the service
 * tier. No event carries an id: the request id is on the command's output (`$metadata.requestId`), beside the
 * stream.
 */
const bedrockConverse = (self: Accumulator, event: unknown): void => {
  if (!isRecord(event)) return self.warn(`an event is ${describe(event)}, not a record`)
  if (isRecord(event.messageStop)) self.reason(0, event.messageStop.stopReason, "messageStop.stopReason")
  const metadata = isRecord(event.metadata) ? event.metadata : undefined
  if (metadata === undefined) return
  const counts = isRecord(metadata.usage) ? metadata.usage : undefined
  if (counts !== undefined) {
    self.includesCache(false)
    self.set("inputTokens", counts.inputTokens, "metadata.usage.inputTokens")
    self.set("outputTokens", counts.outputTokens, "metadata.usage.outputTokens")
    self.set("cacheReadTokens", counts.cacheReadInputTokens, "metadata.usage.cacheReadInputTokens")
    const cacheWrite = self.set(
      "cacheWriteTokens",
      counts.cacheWriteInputTokens,
      "metadata.usage.cacheWriteInputTokens"
    )
    bedrockCacheDetails(self, counts.cacheDetails, cacheWrite)
  }
  if (isRecord(metadata.serviceTier)) self.tier(metadata.serviceTier.type, "metadata.serviceTier.type")
}

/**
 * `usage.cacheDetails`, the cache writes by TTL (`"1h"`, `"5m"`): the 1-hour part of the writes, and the writes
 * themselves when only the details give them. A TTL of another name is counted as a 5-minute write (the catalogue
 * has no other rate), with a warning.
 */
const bedrockCacheDetails = (self: Accumulator, details: unknown, cacheWrite: number | undefined): void => {
  if (!Array.isArray(details) || details.length === 0) return
  const path = "metadata.usage.cacheDetails"
  let oneHour = 0
  let total = 0
  let read = 0
  const length = Math.min(details.length, maxListItems)
  if (details.length > maxListItems) {
    self.warn(`${path}: a list of ${details.length} items; the first ${length} are read`)
  }
  for (let i = 0; i < length; i++) {
    const detail: unknown = details[i]
    if (!isRecord(detail)) continue
    const tokens = count(`${path}[${i}].inputTokens`, detail.inputTokens ?? undefined, self.warn)
    if (tokens === undefined) continue
    read++
    if (detail.ttl === "1h") oneHour += tokens
    else if (detail.ttl !== "5m") {
      self.warn(`${path}[${i}].ttl: ${describe(detail.ttl)} is not 1h or 5m; a 5-minute write`)
    }
    total += tokens
  }
  if (read === 0) return
  if (total > Number.MAX_SAFE_INTEGER) return self.warn(`${path}: the writes add up to ${total}, too large; dropped`)
  if (cacheWrite === undefined) self.set("cacheWriteTokens", total, path)
  else if (total !== cacheWrite) self.warn(`${path} adds up to ${total}, not cacheWriteInputTokens ${cacheWrite}`)
  self.set("cacheWrite1hTokens", oneHour, path)
}

/** A field of a Cohere record by its REST name or by the Cohere SDK's (`cohere-ai` camel-cases every field). */
const cohereField = (record: Record<string, unknown>, name: string, sdkName: string): readonly [unknown, string] =>
  record[name] !== undefined ? [record[name], name] : [record[sdkName], sdkName]

/**
 * Cohere v2 chat stream events: `message-start` carries the id, `message-end` the finish reason and the usage, in
 * the shape of a response's (REST names, or the `cohere-ai` SDK's camel-cased ones).
 *
 * What is billed is `billed_units`, so that is what is recorded and priced. `cached_tokens` counts the cache hits
 * of the whole prompt, template included (`tokens.input_tokens`), which the billed input leaves out: beside billed
 * units it is part of no count that is recorded, so it is not recorded (a cache read larger than the input it
 * belongs to would be billed as input that was never billed). Only when billed units are absent is `tokens` the
 * usage, and then `cached_tokens`, part of its input, is the cache read (a larger one is clamped to the input when
 * it is recorded, as every part is). The same rule as the non-stream `"cohere.chat"` extractor's.
 */
const cohereChat = (self: Accumulator, event: unknown): void => {
  if (!isRecord(event)) return self.warn(`an event is ${describe(event)}, not a record`)
  if (event.type !== "message-start" && event.type !== "message-end") return
  self.id(event.id, "id")
  if (event.type === "message-start" || !isRecord(event.delta)) return
  const delta = event.delta
  const [reason, reasonKey] = cohereField(delta, "finish_reason", "finishReason")
  self.reason(0, reason, `delta.${reasonKey}`)
  const counts = isRecord(delta.usage) ? delta.usage : undefined
  if (counts === undefined) return
  const [billed, billedKey] = cohereField(counts, "billed_units", "billedUnits")
  if (billed !== undefined && billed !== null && !isRecord(billed)) {
    self.warn(`delta.usage.${billedKey}: ${describe(billed)} is not a record; ignored`)
  }
  const source = isRecord(billed) ? billed : isRecord(counts.tokens) ? counts.tokens : undefined
  if (source === undefined) return self.warn("delta.usage has neither billed_units nor tokens")
  const path = `delta.usage.${source === billed ? billedKey : "tokens"}`
  self.includesCache(true)
  const [input, inputKey] = cohereField(source, "input_tokens", "inputTokens")
  const [output, outputKey] = cohereField(source, "output_tokens", "outputTokens")
  self.set("inputTokens", input, `${path}.${inputKey}`)
  self.set("outputTokens", output, `${path}.${outputKey}`)
  if (source === billed) return
  const [cached, cachedKey] = cohereField(counts, "cached_tokens", "cachedTokens")
  self.set("cacheReadTokens", cached, `delta.usage.${cachedKey}`)
}

const readers: Readonly<Record<StreamExtractorName, (self: Accumulator, chunk: unknown) => void>> = {
  "openai.chat": openaiChat,
  "openai.responses": openaiResponses,
  "anthropic.messages": anthropicMessages,
  "gemini": gemini,
  "bedrock.converse": bedrockConverse,
  "cohere.chat": cohereChat
}

const anthropicEvents = new Set([
  "message_start",
  "message_delta",
  "message_stop",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "ping"
])

// Cohere v2 event types are hyphenated, Anthropic's underscored: the two never meet.
const cohereEvents = new Set([
  "message-start",
  "content-start",
  "content-delta",
  "content-end",
  "tool-plan-delta",
  "tool-call-start",
  "tool-call-delta",
  "tool-call-end",
  "citation-start",
  "citation-end",
  "message-end",
  "debug"
])

/**
 * The API a chunk belongs to, by the fields only that API's chunks carry; `undefined` for a chunk that throws when
 * looked at (a Proxy's trap, a getter).
 *
 * @internal
 */
export const detect = (chunk: unknown): StreamExtractorName | undefined => {
  try {
    return detectShape(chunk)
  } catch {
    return undefined
  }
}

const detectShape = (chunk: unknown): StreamExtractorName | undefined => {
  if (!isRecord(chunk)) return undefined
  if (chunk.object === "chat.completion.chunk" || Array.isArray(chunk.choices)) return "openai.chat"
  if (typeof chunk.type === "string") {
    if (chunk.type.startsWith("response.")) return "openai.responses"
    if (anthropicEvents.has(chunk.type)) return "anthropic.messages"
    if (cohereEvents.has(chunk.type)) return "cohere.chat"
  }
  if ("usageMetadata" in chunk || "modelVersion" in chunk || Array.isArray(chunk.candidates)) return "gemini"
  if (isBedrockEvent(chunk)) return "bedrock.converse"
  return undefined
}

/** One ConverseStream member, a record; `metadata`, a common word, only with the usage or metrics it carries. */
const isBedrockEvent = (chunk: Record<string, unknown>): boolean =>
  bedrockMembers.some((member) => {
    const value = chunk[member]
    if (!isRecord(value)) return false
    return member !== "metadata" || "usage" in value || "metrics" in value
  })

/** `"auto"`: detects the API on the first chunk that shows it, then reads every chunk as that API's. */
const auto = (): (self: Accumulator, chunk: unknown) => void => {
  let reader: ((self: Accumulator, chunk: unknown) => void) | undefined
  return (self, chunk) => {
    if (reader === undefined) {
      const name = detect(chunk)
      if (name === undefined) return
      reader = readers[name]
    }
    reader(self, chunk)
  }
}

/** A function of the user's: it reads one chunk; what it returns replaces what earlier chunks said, field by field. */
const custom = (f: (chunk: any) => ExtractedUsage | undefined) => (self: Accumulator, chunk: unknown): void => {
  const extracted = f(chunk)
  if (extracted !== undefined) self.merge(usage.clean(extracted, "custom, stream"))
}

/**
 * Resolves a `usageFrom` option of a stream once, when the tracked stream is built; each run gets a fresh
 * accumulator from the returned function.
 *
 * @internal
 */
export const resolve = (from: StreamUsageFrom, warn: Warn): (() => StreamUsage) | undefined => {
  if (typeof from === "function") return () => new Accumulator("custom", custom(from))
  if (from === "auto") return () => new Accumulator("auto", auto())
  if (typeof from === "string" && Object.prototype.hasOwnProperty.call(readers, from)) {
    const reader = readers[from]
    return () => new Accumulator(from, reader)
  }
  warn(`usageFrom: ${describe(from)} is not a known stream extractor; usage is not read from the chunks`)
  return undefined
}

/**
 * Every stream extractor name.
 *
 * @internal
 */
export const names: ReadonlyArray<StreamExtractorName> = Object.keys(readers) as Array<StreamExtractorName>
