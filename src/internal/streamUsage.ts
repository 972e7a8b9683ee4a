import type { StreamExtractorName, StreamUsageFrom } from "../LlmStream.js"
import type { ExtractedUsage } from "../Usage.js"
import { errorMessage } from "./errors.js"
import { maxListItems, maxValueChars } from "./limits.js"
import { count, describe, optionalString, type Warn } from "./sanitize.js"
import * as usage from "./usage.js"

/**
 * Folds the chunks of one stream into what its provider reports about the call. It holds counters, ids and finish
 * reasons only, never chunk content, so memory stays flat however long the stream runs.
 *
 * Every API this reads reports totals so far, not increments (OpenAI and Gemini in their last chunk, Anthropic's
 * `message_delta` carries the cumulative output count), so a later count replaces an earlier one: nothing is ever
 * added twice.
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
  /** `complete`: the stream ended on its own, so usage that never came is worth a warning. */
  readonly result: (complete: boolean) => ExtractedUsage
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const isRecord = (value: unknown): value is Record<string, unknown> => {
  try {
    return typeof value === "object" && value !== null && !Array.isArray(value)
  } catch {
    // a revoked Proxy
    return false
  }
}

const isIndex = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0

// A malformed stream repeats the same problem on every chunk: distinct lines only, and a bounded number of them.
const maxWarnings = 8

const countKeys = [
  "inputTokens",
  "outputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "reasoningTokens",
  "inputIncludesCache"
] as const

class Accumulator implements StreamUsage {
  private readonly fields: Mutable<ExtractedUsage> = {}
  // Finish reasons by choice (candidate) index, so that each choice of a multi-choice stream keeps its own.
  private readonly reasons = new Map<number, string>()
  private readonly warnings = new Set<string>()
  private sawUsage = false

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
    const out: Mutable<ExtractedUsage> = { ...this.fields }
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
   * later count replaces an earlier one (see above).
   */
  merge(extracted: ExtractedUsage): void {
    const fields = this.fields as Record<string, unknown>
    for (const key of countKeys) {
      const value = extracted[key]
      if (value !== undefined) {
        fields[key] = value
        if (key !== "inputIncludesCache") this.sawUsage = true
      }
    }
    this.id(extracted.responseId, "responseId")
    this.model(extracted.responseModel, "responseModel")
    if (Array.isArray(extracted.finishReasons)) {
      extracted.finishReasons.forEach((reason, index) => this.reason(index, reason, `finishReasons[${index}]`))
    }
    if (Array.isArray(extracted.warnings)) {
      for (const line of extracted.warnings) {
        if (typeof line === "string" && this.warnings.size < maxWarnings) this.warnings.add(line)
      }
    }
  }

  /** A count of the chunk (see `count`); `null` reads as absent. */
  set(
    key: "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens",
    value: unknown,
    path: string
  ): void {
    if (value === null) return
    const clean = count(path, value, this.warn)
    if (clean !== undefined) {
      this.fields[key] = clean
      this.sawUsage = true
    }
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
      const index = item.index
      this.reason(isIndex(index) ? index : position, item[key], `${path}[${position}].${key}`)
    }
  }
}

/** Chat Completions chunks: ids and model on every chunk, the usage on the last one (`include_usage`). */
const openaiChat = (self: Accumulator, chunk: unknown): void => {
  if (!isRecord(chunk)) return self.warn(`a chunk is ${describe(chunk)}, not a record`)
  self.id(chunk.id, "id")
  self.model(chunk.model, "model")
  self.reasonsOf(chunk.choices, "finish_reason", "choices")
  if (isRecord(chunk.usage)) {
    const extracted = usage.extractors["openai.chat"]({ ...chunk, choices: undefined })
    self.merge({ ...extracted, finishReasons: undefined })
  }
}

/** Responses API events: the response's id and model come first, its usage with the terminal event. */
const openaiResponses = (self: Accumulator, event: unknown): void => {
  if (!isRecord(event)) return self.warn(`an event is ${describe(event)}, not a record`)
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
 * Messages stream events: `message_start` carries the input and cache counts (and an output count of 1 or so),
 * `message_delta` the cumulative output count (and, on newer API versions, cumulative input and cache counts).
 */
const anthropicMessages = (self: Accumulator, event: unknown): void => {
  if (!isRecord(event)) return self.warn(`an event is ${describe(event)}, not a record`)
  if (event.type === "message_start" && isRecord(event.message)) {
    const extracted = usage.extractors["anthropic.messages"](event.message)
    return self.merge({ ...extracted, finishReasons: undefined })
  }
  if (event.type === "message_delta") {
    const delta = isRecord(event.delta) ? event.delta : undefined
    self.reason(0, delta?.stop_reason, "delta.stop_reason")
    const counts = isRecord(event.usage) ? event.usage : undefined
    if (counts === undefined) return
    self.set("outputTokens", counts.output_tokens, "usage.output_tokens")
    self.set("inputTokens", counts.input_tokens, "usage.input_tokens")
    self.set("cacheReadTokens", counts.cache_read_input_tokens, "usage.cache_read_input_tokens")
    self.set("cacheWriteTokens", counts.cache_creation_input_tokens, "usage.cache_creation_input_tokens")
  }
}

/** Streamed `generateContent` chunks: `usageMetadata` (totals so far) on the last chunk, often on others too. */
const gemini = (self: Accumulator, chunk: unknown): void => {
  if (!isRecord(chunk)) return self.warn(`a chunk is ${describe(chunk)}, not a record`)
  self.id(chunk.responseId, "responseId")
  self.model(chunk.modelVersion, "modelVersion")
  self.reasonsOf(chunk.candidates, "finishReason", "candidates")
  if (isRecord(chunk.usageMetadata)) {
    const extracted = usage.extractors.gemini({ ...chunk, candidates: undefined })
    self.merge({ ...extracted, finishReasons: undefined })
  }
}

const readers: Readonly<Record<StreamExtractorName, (self: Accumulator, chunk: unknown) => void>> = {
  "openai.chat": openaiChat,
  "openai.responses": openaiResponses,
  "anthropic.messages": anthropicMessages,
  "gemini": gemini
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
  }
  if ("usageMetadata" in chunk || "modelVersion" in chunk || Array.isArray(chunk.candidates)) return "gemini"
  return undefined
}

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
