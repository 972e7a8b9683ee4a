/**
 * What an @effect/ai call said, in the GenAI semantic conventions' message shapes: its prompt as system
 * instructions and input messages, its response parts (whole or streamed) as output messages. Pure functions over
 * @effect/ai's values, read guarded: a prompt may be an app's raw input (any iterable, any object), so a field that
 * cannot be read is skipped, never a failure. Bounded while reading (strings, messages, parts), so that a huge
 * prompt costs no more than what the capture can keep; the capture's own pipeline bounds and cleans the rest.
 *
 * @internal
 */
import type { InputMessage, OutputMessage, Part } from "../Content.js"
import { cut } from "./limits.js"

/** A string read from a prompt or a response is cut here: the capture keeps far less, this bounds memory. */
export const maxReadChars = 262_144

/** Messages read from a prompt: the most recent ones are kept. */
export const maxMessages = 1_024

/** Parts read from one message (or one response), in order. */
export const maxParts = 256

/** What replaces inline bytes (images, audio, files): they are never copied. */
export const omitted = "[omitted]"

// --- guarded reading ---------------------------------------------------------------------------------------------

/** A field of `value`, `undefined` when it is not an object or reading throws (a getter, a Proxy). */
const get = (value: unknown, key: string): unknown => {
  if (typeof value !== "object" || value === null) return undefined
  try {
    return (value as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

const text = (value: unknown): string | undefined => typeof value === "string" ? cut(value, maxReadChars) : undefined

/** An id or a name: a string (cut), else absent. */
const name = (value: unknown): string | undefined => text(value)

/**
 * The last `max` items of `items` (an array is sliced; any other iterable is read to its end, at most
 * `maxReads` items, keeping the last `max`), or `undefined` when it is not iterable or reading it throws.
 */
const lastItems = (items: unknown, max: number, maxReads: number): ReadonlyArray<unknown> | undefined => {
  try {
    if (Array.isArray(items)) return items.length <= max ? items : items.slice(items.length - max)
    if (typeof items !== "object" || items === null || typeof (items as any)[Symbol.iterator] !== "function") {
      return undefined
    }
    const ring: Array<unknown> = []
    let read = 0
    for (const item of items as Iterable<unknown>) {
      ring[read % max] = item
      if (++read >= maxReads) break
    }
    if (read <= max) return ring
    const start = read % max
    return [...ring.slice(start), ...ring.slice(0, start)]
  } catch {
    return undefined
  }
}

/** The first `max` items of `items` (an array or any iterable), or `undefined` when it cannot be read. */
const firstItems = (items: unknown, max: number): ReadonlyArray<unknown> | undefined => {
  try {
    if (Array.isArray(items)) return items.length <= max ? items : items.slice(0, max)
    if (typeof items !== "object" || items === null || typeof (items as any)[Symbol.iterator] !== "function") {
      return undefined
    }
    const kept: Array<unknown> = []
    for (const item of items as Iterable<unknown>) {
      if (kept.length >= max) break
      kept.push(item)
    }
    return kept
  } catch {
    return undefined
  }
}

// --- parts -------------------------------------------------------------------------------------------------------

/** The conventions' modality of a media type: `image`, `audio`, `video`, else `document` (a PDF, a text file). */
const modality = (mediaType: string | undefined): string => {
  const top = mediaType === undefined ? "" : mediaType.slice(0, mediaType.indexOf("/")).toLowerCase()
  return top === "image" || top === "audio" || top === "video" ? top : "document"
}

const isWebUrl = (url: string): boolean => /^https?:\/\//i.test(url)

/** The URL of `data` when it is a web address (a `URL` or an http(s) string); inline data otherwise. */
const webUrl = (data: unknown): string | undefined => {
  try {
    const href = data instanceof URL ? data.href : data
    return typeof href === "string" && isWebUrl(href) ? cut(href, maxReadChars) : undefined
  } catch {
    return undefined
  }
}

/**
 * A file part: a `uri` part for a web address, a `blob` part without its bytes for inline data (bytes, base64,
 * a `data:` URL). The media type is the one @effect/ai was given.
 */
const filePart = (mediaType: unknown, data: unknown): Part => {
  const mime = name(mediaType)
  const uri = webUrl(data)
  const common = { modality: modality(mime), ...(mime === undefined ? {} : { mime_type: mime }) }
  return uri === undefined
    ? { type: "blob", ...common, content: omitted }
    : { type: "uri", ...common, uri }
}

const toolCall = (part: unknown): Part | undefined => {
  const id = name(get(part, "id"))
  const toolName = name(get(part, "name"))
  if (toolName === undefined) return undefined
  return { type: "tool_call", ...(id === undefined ? {} : { id }), name: toolName, arguments: get(part, "params") }
}

/** A tool's result: the encoded one when there is one (what the model is sent), else the result as it is. */
const toolResult = (part: unknown): Part => {
  const encoded = get(part, "encodedResult")
  const id = name(get(part, "id"))
  return {
    type: "tool_call_response",
    ...(id === undefined ? {} : { id }),
    response: encoded !== undefined ? encoded : get(part, "result")
  }
}

/** A part of a prompt's message or of a response, in the conventions' shape; `undefined` for what carries no content. */
const part = (value: unknown): Part | undefined => {
  switch (get(value, "type")) {
    case "text": {
      const content = text(get(value, "text"))
      return content === undefined ? undefined : { type: "text", content }
    }
    case "reasoning": {
      const content = text(get(value, "text"))
      return content === undefined ? undefined : { type: "reasoning", content }
    }
    case "file":
      return filePart(get(value, "mediaType"), get(value, "data"))
    case "tool-call":
      return toolCall(value)
    case "tool-result":
      return toolResult(value)
    default:
      // Sources (citations), metadata, finish and error parts say nothing the model was sent or wrote.
      return undefined
  }
}

const parts = (values: unknown): Array<Part> => {
  const kept: Array<Part> = []
  for (const value of firstItems(values, maxParts) ?? []) {
    const mapped = part(value)
    if (mapped !== undefined) kept.push(mapped)
  }
  return kept
}

// --- prompts -----------------------------------------------------------------------------------------------------

/** @internal */
export interface PromptContent {
  /** The system messages' text, in order (`gen_ai.system_instructions`); `undefined` when there is none. */
  readonly system: ReadonlyArray<Part> | undefined
  /** The other messages, in order (`gen_ai.input.messages`). */
  readonly input: ReadonlyArray<InputMessage>
}

/**
 * A prompt as @effect/ai takes it (`Prompt.RawInput`: a string, an iterable of encoded messages, or a `Prompt`),
 * read as the conventions' system instructions and input messages. System messages, wherever they are, become the
 * system instructions, as the providers send them (Anthropic's `system`, OpenAI's instructions); a message's
 * string content (the encoded form) is one text part. `undefined` when the value is no prompt.
 *
 * @internal
 */
export const fromPrompt = (prompt: unknown): PromptContent | undefined => {
  try {
    return readPrompt(prompt)
  } catch {
    return undefined
  }
}

/**
 * The prompt of a call's options (`generateText`'s, `generateObject`'s, `streamText`'s), read as `fromPrompt` does.
 *
 * @internal
 */
export const fromOptions = (options: unknown): PromptContent | undefined => fromPrompt(get(options, "prompt"))

const readPrompt = (prompt: unknown): PromptContent | undefined => {
  if (typeof prompt === "string") {
    return {
      system: undefined,
      input: [{ role: "user", parts: [{ type: "text", content: cut(prompt, maxReadChars) }] }]
    }
  }
  // A `Prompt` holds its messages in `content`; raw input is the messages themselves.
  const content = get(prompt, "content")
  const messages = lastItems(Array.isArray(content) ? content : prompt, maxMessages, maxMessages * 64)
  if (messages === undefined) return undefined
  const system: Array<Part> = []
  const input: Array<InputMessage> = []
  for (const message of messages) {
    const role = get(message, "role")
    if (typeof role !== "string") continue
    const body = get(message, "content")
    if (role === "system") {
      const instructions = text(body)
      if (instructions !== undefined && system.length < maxParts) system.push({ type: "text", content: instructions })
      continue
    }
    const content = typeof body === "string"
      ? [{ type: "text", content: cut(body, maxReadChars) } as const]
      : parts(body)
    input.push({ role: cut(role, maxReadChars), parts: content })
  }
  return { system: system.length === 0 ? undefined : system, input }
}

// --- responses ---------------------------------------------------------------------------------------------------

/** @effect/ai's finish reasons as the conventions name them; others (`pause`, `other`, `unknown`) as they are. */
const finishReasons: ReadonlyMap<string, string> = new Map([
  ["stop", "stop"],
  ["length", "length"],
  ["content-filter", "content_filter"],
  ["tool-calls", "tool_call"],
  ["error", "error"]
])

/**
 * A finish part's reason in the conventions' terms.
 *
 * @internal
 */
export const finishReason = (reason: unknown): string | undefined => {
  const given = name(reason)
  return given === undefined ? undefined : finishReasons.get(given) ?? given
}

/** When a response says no finish reason, which @effect/ai's providers always do: theirs for "not said". */
const unknownFinish = "unknown"

/**
 * A whole response's parts (`GenerateTextResponse.content`) as the one output message the model answered with:
 * its text, reasoning, tool calls and, when @effect/ai ran the tools inside the call, their results, in order, with
 * the finish part's reason. `undefined` when the value is no list of parts.
 *
 * @internal
 */
export const fromResponse = (content: unknown): ReadonlyArray<OutputMessage> | undefined => {
  try {
    return readResponse(content)
  } catch {
    return undefined
  }
}

const readResponse = (content: unknown): ReadonlyArray<OutputMessage> | undefined => {
  const values = firstItems(content, maxParts * 4)
  if (values === undefined) return undefined
  const kept: Array<Part> = []
  let finish: string | undefined
  for (const value of values) {
    if (get(value, "type") === "finish") {
      finish = finishReason(get(value, "reason")) ?? finish
      continue
    }
    const mapped = kept.length < maxParts ? part(value) : undefined
    if (mapped !== undefined) kept.push(mapped)
  }
  return [{ role: "assistant", parts: kept, finish_reason: finish ?? unknownFinish }]
}

// --- streams -----------------------------------------------------------------------------------------------------

/** How a stream ended: read to its end, abandoned or interrupted, or failed. */
export type StreamEnd = "complete" | "interrupted" | "error"

/** A part being streamed: text or reasoning deltas, or a tool call's parameter deltas (JSON text). */
interface Slot {
  readonly kind: "text" | "reasoning" | "tool"
  readonly id: string | undefined
  toolName: string | undefined
  chunks: Array<string>
  length: number
  /** Whether deltas were dropped past `maxReadChars`. */
  truncated: boolean
  /** Set once the whole part is known (a `tool-call` after its deltas, or a complete part). */
  done: Part | undefined
}

/** Past `maxReadChars` characters a part's deltas are dropped: the capture keeps far less. */
const append = (slot: Slot, delta: unknown): void => {
  if (typeof delta !== "string" || delta.length === 0) return
  const room = maxReadChars - slot.length
  if (delta.length > room) slot.truncated = true
  if (room <= 0) return
  const kept = delta.length <= room ? delta : delta.slice(0, room)
  slot.chunks.push(kept)
  slot.length += kept.length
}

/** Tool parameters streamed as JSON text: the object when the text is JSON, else the text as it came. */
const parseParams = (json: string): unknown => {
  try {
    return JSON.parse(json)
  } catch {
    return json
  }
}

const slotPart = (slot: Slot): Part => {
  if (slot.done !== undefined) return slot.done
  const joined = slot.chunks.join("")
  // Cut one short of what was kept, so that the marker says it.
  const content = slot.truncated ? cut(joined, joined.length - 1) : joined
  switch (slot.kind) {
    case "text":
      return { type: "text", content }
    case "reasoning":
      return { type: "reasoning", content }
    case "tool":
      return {
        type: "tool_call",
        ...(slot.id === undefined ? {} : { id: slot.id }),
        name: slot.toolName ?? "unknown",
        arguments: slot.truncated ? content : parseParams(content)
      }
  }
}

/**
 * The output of a streamed call, accumulated part by part (`text-delta`, `reasoning-delta`, `tool-params-delta`,
 * then `tool-call`, `tool-result`, complete parts, `finish`), bounded: at most `maxParts` parts, each at most
 * `maxReadChars` characters. Its `result` is the one output message so far; a stream that did not end says
 * `interrupted` (or `error` when it failed) unless a finish part came.
 *
 * @internal
 */
export class StreamOutput {
  private readonly slots: Array<Slot> = []
  private readonly open = new Map<string, Slot>()
  private finish: string | undefined = undefined
  private seen = false

  /** Sees one part; never throws. */
  observe(value: unknown): void {
    try {
      this.read(value)
    } catch {
      // A part that cannot be read adds nothing.
    }
  }

  private slot(kind: Slot["kind"], id: unknown): Slot | undefined {
    const key = typeof id === "string" ? `${kind}:${id}` : undefined
    const found = key === undefined ? undefined : this.open.get(key)
    if (found !== undefined) return found
    if (this.slots.length >= maxParts) return undefined
    const slot: Slot = {
      kind,
      id: typeof id === "string" ? cut(id, maxReadChars) : undefined,
      toolName: undefined,
      chunks: [],
      length: 0,
      truncated: false,
      done: undefined
    }
    this.slots.push(slot)
    if (key !== undefined) this.open.set(key, slot)
    return slot
  }

  private complete(value: Part | undefined): void {
    if (value === undefined || this.slots.length >= maxParts) return
    this.slots.push({
      kind: "text",
      id: undefined,
      toolName: undefined,
      chunks: [],
      length: 0,
      truncated: false,
      done: value
    })
  }

  private read(value: unknown): void {
    const type = get(value, "type")
    switch (type) {
      case "text-start":
      case "text-delta":
      case "reasoning-start":
      case "reasoning-delta": {
        this.seen = true
        const slot = this.slot(type.startsWith("text") ? "text" : "reasoning", get(value, "id"))
        if (slot !== undefined && type.endsWith("delta")) append(slot, get(value, "delta"))
        return
      }
      case "tool-params-start":
      case "tool-params-delta": {
        this.seen = true
        const slot = this.slot("tool", get(value, "id"))
        if (slot === undefined) return
        if (type === "tool-params-start") slot.toolName = name(get(value, "name"))
        else append(slot, get(value, "delta"))
        return
      }
      case "tool-call": {
        this.seen = true
        const whole = toolCall(value)
        const id = get(value, "id")
        const streamed = typeof id === "string" ? this.open.get(`tool:${id}`) : undefined
        if (streamed !== undefined) streamed.done = whole ?? slotPart(streamed)
        else this.complete(whole)
        return
      }
      case "finish": {
        this.seen = true
        this.finish = finishReason(get(value, "reason")) ?? this.finish
        return
      }
      default: {
        const mapped = part(value)
        if (mapped !== undefined) {
          this.seen = true
          this.complete(mapped)
        }
      }
    }
  }

  /** The output message so far, or `undefined` when the stream said nothing. */
  result(end: StreamEnd): ReadonlyArray<OutputMessage> | undefined {
    if (!this.seen) return undefined
    const finish = this.finish ?? (end === "complete" ? unknownFinish : end)
    try {
      return [{ role: "assistant", parts: this.slots.map(slotPart), finish_reason: finish }]
    } catch {
      return undefined
    }
  }
}
