import { errorMessage } from "./errors.js"
import {
  cut,
  maxContentDepth,
  maxContentItems,
  maxContentMessages,
  maxContentParts,
  maxContentReadChars,
  maxContentReadTotalChars,
  maxContentValues,
  maxKeyChars,
  maxNameChars,
  maxValueChars,
  truncatedMarker
} from "./limits.js"
import { describe, isList, isRecord, type Warn } from "./sanitize.js"

/** A value JSON can hold as it is: what every captured value becomes before anything else touches it. */
export type Json = null | boolean | number | string | JsonArray | JsonObject

/** @internal */
export interface JsonObject {
  [key: string]: Json
}

/** @internal */
export interface JsonArray extends Array<Json> {}

/** A part of a message or of the system instructions, in the conventions' shape, with JSON-safe fields. */
export interface Part extends JsonObject {
  type: string
}

/** A message in the conventions' shape: `role`, `parts`, then `name` and (output) `finish_reason` when known. */
export interface Message extends JsonObject {
  role: string
  parts: Array<Part>
}

/**
 * What a call captured, normalized: fresh plain data that no caller holds a reference to, so the steps after this
 * (scrubbers, bounds) may rewrite it in place.
 */
export interface Normalized {
  system?: Array<Part>
  input?: Array<Message>
  output?: Array<Message>
  args?: Json
  result?: Json
}

/** The raw values as set by hand or read from a provider's payload, not yet looked at. */
export interface Raw {
  readonly system?: unknown
  readonly input?: unknown
  readonly output?: unknown
  readonly args?: unknown
  readonly result?: unknown
}

/** What a getter or a Proxy trap that threw is recorded as. */
export const Unreadable = "[Unreadable]"
/** What a reference back to an enclosing object is recorded as. */
export const Circular = "[Circular]"

/** The finish reason of an output message that gave none: the conventions require one. */
export const unknownFinishReason = "unknown"

const unreadable: unique symbol = Symbol("unreadable")

/**
 * One call's normalization: its warnings, whether anything was cut, and the budget of values it may copy (a DAG
 * that shares objects is copied as a tree, so each path counts).
 */
export class Reader {
  truncated = false
  private values = 0
  private chars = maxContentReadTotalChars

  constructor(readonly warn: Warn) {}

  /**
   * A string as read: cut to `maxContentReadChars`, and to what is left of the call's `maxContentReadTotalChars`,
   * so that nothing after this (the scrubbers, the app's hook) costs more than that whatever a call holds.
   */
  text(value: string): string {
    const allowed = Math.min(maxContentReadChars, Math.max(this.chars, truncatedMarker.length))
    const out = value.length <= allowed ? value : cut(value, allowed)
    if (out !== value) this.truncated = true
    this.chars -= out.length
    return out
  }

  /** Counts one value copied; false once the budget is spent (the value is then recorded as the marker). */
  spend(): boolean {
    if (++this.values <= maxContentValues) return true
    this.truncated = true
    return false
  }
}

const read = (holder: object, key: string): unknown => {
  try {
    return (holder as Record<string, unknown>)[key]
  } catch {
    return unreadable
  }
}

// --- JSON-safe copy ----------------------------------------------------------------------------------------------

/**
 * A JSON-safe copy of any value: depth at most `maxContentDepth`, at most `maxContentItems` items or keys per level,
 * cycles as `[Circular]`, bigints as strings, Dates as ISO strings, binary data described, `toJSON` honoured,
 * functions, symbols and `undefined` dropped (`undefined` is returned for them), and whatever throws when read as
 * `[Unreadable]`. Strings are cut as `Reader.text` cuts them.
 *
 * @internal
 */
export const jsonValue = (r: Reader, value: unknown): Json | undefined => copy(r, value, 0, [], false)

const copy = (r: Reader, value: unknown, depth: number, path: Array<object>, json: boolean): Json | undefined => {
  switch (typeof value) {
    case "string":
      return r.spend() ? r.text(value) : truncatedMarker
    case "number":
      // As JSON.stringify writes them.
      return Number.isFinite(value) ? value : null
    case "boolean":
      return value
    case "bigint":
      return value.toString()
    case "object":
      if (value === null) return null
      return copyObject(r, value, depth, path, json)
    default:
      return undefined
  }
}

const copyObject = (r: Reader, value: object, depth: number, path: Array<object>, json: boolean): Json => {
  try {
    if (path.includes(value)) return Circular
    if (depth >= maxContentDepth || !r.spend()) {
      r.truncated = true
      return truncatedMarker
    }
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`
    path.push(value)
    try {
      if (Array.isArray(value)) return copyList(r, value, depth, path)
      if (value instanceof Map) {
        const entries = take(value.entries()).map(([k, v]): readonly [string, unknown] => [String(k), v])
        return copyEntries(r, entries, depth, path)
      }
      if (value instanceof Set) return copyList(r, take(value.values()), depth, path)
      if (value instanceof Error) {
        return copyEntries(r, [["name", read(value, "name")], ["message", read(value, "message")]], depth, path)
      }
      const toJSON = read(value, "toJSON")
      if (!json && typeof toJSON === "function") {
        const out = copy(r, toJSON.call(value), depth, path, true)
        return out === undefined ? null : out
      }
      return copyEntries(r, Object.keys(value).map((key) => [key, undefined]), depth, path, value)
    } finally {
      path.pop()
    }
  } catch {
    return Unreadable
  }
}

/** At most one item more than a level keeps, so that a huge Map or Set is not copied whole to be cut. */
const take = <A>(iterator: Iterator<A>): Array<A> => {
  const out: Array<A> = []
  for (let next = iterator.next(); next.done !== true && out.length <= maxContentItems; next = iterator.next()) {
    out.push(next.value)
  }
  return out
}

const copyList = (r: Reader, list: ReadonlyArray<unknown>, depth: number, path: Array<object>): JsonArray => {
  const length = Math.min(list.length, maxContentItems)
  if (list.length > length) r.truncated = true
  const out: JsonArray = []
  for (let i = 0; i < length; i++) {
    const item = copyRead(r, list, String(i), depth, path)
    if (item !== undefined) out.push(item)
  }
  return out
}

/** Entries given with their values, or (with `holder`) keys whose values are read from it, each guarded. */
const copyEntries = (
  r: Reader,
  entries: ReadonlyArray<readonly [string, unknown]>,
  depth: number,
  path: Array<object>,
  holder?: object
): JsonObject => {
  const length = Math.min(entries.length, maxContentItems)
  if (entries.length > length) r.truncated = true
  const out: JsonObject = {}
  for (let i = 0; i < length; i++) {
    const [rawKey, given] = entries[i]
    const key = rawKey.length > maxKeyChars ? cut(rawKey, maxKeyChars) : rawKey
    const item = holder === undefined
      ? copy(r, given, depth + 1, path, false)
      : copyRead(r, holder, rawKey, depth, path)
    if (item !== undefined) out[key] = item
  }
  return out
}

const copyRead = (r: Reader, holder: object, key: string, depth: number, path: Array<object>): Json | undefined => {
  const value = read(holder, key)
  return value === unreadable ? Unreadable : copy(r, value, depth + 1, path, false)
}

/**
 * A value that may be JSON text (tool-call arguments, as providers send them): parsed when it looks like a JSON
 * object or array and is not too long to read, else kept as the string.
 *
 * @internal
 */
export const jsonOrText = (r: Reader, value: unknown): Json | undefined => {
  if (typeof value === "string") {
    if (value.length <= maxContentReadChars) {
      const first = value.trimStart().charAt(0)
      if (first === "{" || first === "[") {
        try {
          return jsonValue(r, JSON.parse(value))
        } catch {
          // Not JSON after all: recorded as the text it is.
        }
      }
    }
    return jsonValue(r, value)
  }
  return jsonValue(r, value)
}

// --- messages and parts ------------------------------------------------------------------------------------------

/** A short identifier of a message or a part (role, name, id, tool name): a string cut to a name's bound. */
const name = (r: Reader, field: string, value: unknown, max: number = maxNameChars): string | undefined => {
  if (value === undefined || value === null || value === "") return undefined
  if (value === unreadable) {
    r.warn(`${field}: failed to read; dropped`)
    return undefined
  }
  if (typeof value !== "string") {
    r.warn(`${field}: ${describe(value)} is not a string; dropped`)
    return undefined
  }
  if (value.length > max) {
    r.truncated = true
    return cut(value, max)
  }
  return value
}

const textPart = (r: Reader, text: string): Part => ({
  type: "text",
  content: r.spend() ? r.text(text) : truncatedMarker
})

/**
 * One part: a string is a text part; an object needs a string `type`. `text` and `reasoning` need a string
 * `content`; `tool_call` keeps `id`, `name` and `arguments` (parsed when JSON text); `tool_call_response` keeps `id`
 * and `response`; any other type is copied field by field.
 */
const part = (r: Reader, field: string, value: unknown): Part | undefined => {
  if (typeof value === "string") return textPart(r, value)
  if (!isRecord(value)) {
    r.warn(`${field}: ${describe(value)} is not a part; dropped`)
    return undefined
  }
  const type = read(value, "type")
  if (typeof type !== "string" || type.length === 0) {
    r.warn(`${field}.type: ${type === unreadable ? "unreadable" : describe(type)}, not a part type; part dropped`)
    return undefined
  }
  const partType = type.length > maxNameChars ? cut(type, maxNameChars) : type
  switch (type) {
    case "text":
    case "reasoning": {
      const content = read(value, "content")
      if (typeof content !== "string") {
        r.warn(
          `${field}.content: ${content === unreadable ? "unreadable" : describe(content)}, not a string; part dropped`
        )
        return undefined
      }
      return { type, content: r.spend() ? r.text(content) : truncatedMarker }
    }
    case "tool_call": {
      const out: Part = { type }
      const id = name(r, `${field}.id`, read(value, "id"))
      if (id !== undefined) out.id = id
      out.name = name(r, `${field}.name`, read(value, "name")) ?? "unknown"
      const args = read(value, "arguments")
      const copied = args === unreadable ? Unreadable : jsonOrText(r, args)
      if (copied !== undefined) out.arguments = copied
      return out
    }
    case "tool_call_response": {
      const out: Part = { type }
      const id = name(r, `${field}.id`, read(value, "id"))
      if (id !== undefined) out.id = id
      const response = read(value, "response")
      const copied = response === unreadable ? Unreadable : jsonValue(r, response)
      out.response = copied === undefined ? null : copied
      return out
    }
    default: {
      const copied = jsonValue(r, value)
      if (copied === null || typeof copied !== "object" || Array.isArray(copied)) {
        r.warn(`${field}: failed to read; part dropped`)
        return undefined
      }
      // `type` first, as in the conventions' examples.
      return { type: partType, ...withoutType(copied) }
    }
  }
}

const withoutType = (object: JsonObject): JsonObject => {
  const { type: _type, ...rest } = object
  return rest
}

/** A list of parts (or one part, or a string), at most `maxContentParts`. */
const parts = (r: Reader, field: string, value: unknown): Array<Part> => {
  if (typeof value === "string") return [textPart(r, value)]
  if (!isList(value)) {
    if (isRecord(value)) {
      const one = part(r, field, value)
      return one === undefined ? [] : [one]
    }
    r.warn(`${field}: ${describe(value)} is not a list of parts; dropped`)
    return []
  }
  let length: number
  try {
    length = value.length
  } catch {
    r.warn(`${field}: failed to read; dropped`)
    return []
  }
  if (length > maxContentParts) {
    r.truncated = true
    r.warn(`${field}: ${length} parts; the first ${maxContentParts} kept`)
    length = maxContentParts
  }
  const out: Array<Part> = []
  for (let i = 0; i < length; i++) {
    const item = read(value, String(i))
    if (item === unreadable) {
      r.warn(`${field}[${i}]: failed to read; dropped`)
      continue
    }
    const one = part(r, `${field}[${i}]`, item)
    if (one !== undefined) out.push(one)
  }
  return out
}

/**
 * One message: `role` (a missing one is `unknown`), `parts` (or `content`: a string is one text part, a list is
 * parts), `name`, and for an output message `finish_reason` (`unknown` when missing: the conventions require one).
 */
const message = (r: Reader, field: string, value: unknown, output: boolean): Message | undefined => {
  if (!isRecord(value)) {
    r.warn(`${field}: ${describe(value)} is not a message; dropped`)
    return undefined
  }
  let role = name(r, `${field}.role`, read(value, "role"))
  if (role === undefined) {
    r.warn(`${field}.role: missing; recorded as "unknown"`)
    role = "unknown"
  }
  const given = read(value, "parts")
  let list: Array<Part>
  if (given !== undefined && given !== unreadable) {
    list = parts(r, `${field}.parts`, given)
  } else {
    const content = read(value, "content")
    if (given === unreadable || content === unreadable) {
      r.warn(`${field}: failed to read its parts; recorded without`)
      list = []
    } else {
      list = content === undefined || content === null ? [] : parts(r, `${field}.content`, content)
    }
  }
  const out: Message = { role, parts: list }
  const participant = name(r, `${field}.name`, read(value, "name"))
  if (participant !== undefined) out.name = participant
  if (output) {
    out.finish_reason = name(r, `${field}.finish_reason`, read(value, "finish_reason"), maxValueChars) ??
      unknownFinishReason
  }
  return out
}

/**
 * A list of messages. Past `maxContentMessages`, input keeps the latest ones (the oldest matter least to why a call
 * answered as it did) and output the first ones (choices in order).
 *
 * @internal
 */
export const messages = (r: Reader, field: string, value: unknown, output: boolean): Array<Message> | undefined => {
  if (value === undefined) return undefined
  if (!isList(value)) {
    r.warn(`${field}: ${value === unreadable ? "unreadable" : describe(value)}, not a list of messages; dropped`)
    return undefined
  }
  let length: number
  try {
    length = value.length
  } catch (e) {
    r.warn(`${field}: failed to read (${errorMessage(e)}); dropped`)
    return undefined
  }
  let start = 0
  if (length > maxContentMessages) {
    r.truncated = true
    if (output) {
      r.warn(`${field}: ${length} messages; the first ${maxContentMessages} kept`)
      length = maxContentMessages
    } else {
      r.warn(`${field}: ${length} messages; the latest ${maxContentMessages} kept`)
      start = length - maxContentMessages
    }
  }
  const out: Array<Message> = []
  // Input is read newest first, so that the call's read budget goes to the latest messages: the ones the bounds
  // keep. Output is read in order.
  for (let k = 0; k < length - start; k++) {
    const i = output ? start + k : length - 1 - k
    const item = read(value, String(i))
    if (item === unreadable) {
      r.warn(`${field}[${i}]: failed to read; dropped`)
      continue
    }
    const one = message(r, `${field}[${i}]`, item, output)
    if (one !== undefined) out.push(one)
  }
  return output ? out : out.reverse()
}

/** System instructions: a string (one text part), a part or a list of parts. */
const system = (r: Reader, field: string, value: unknown): Array<Part> | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== "string" && !isList(value) && !isRecord(value)) {
    r.warn(`${field}: ${value === unreadable ? "unreadable" : describe(value)}, not text or parts; dropped`)
    return undefined
  }
  return parts(r, field, value)
}

const toolValue = (r: Reader, value: unknown): Json | undefined =>
  value === undefined ? undefined : value === unreadable ? Unreadable : jsonOrText(r, value)

/**
 * Every value of a capture, normalized, each guarded on its own: what cannot be read costs that value (or that
 * item) only, with a warning.
 *
 * @internal
 */
export const normalize = (r: Reader, raw: Raw): Normalized => {
  const out: Normalized = {}
  const step = (field: string, f: () => void) => {
    try {
      f()
    } catch (e) {
      r.warn(`${field}: failed (${errorMessage(e)}); dropped`)
    }
  }
  step("systemInstructions", () => {
    const value = system(r, "systemInstructions", raw.system)
    if (value !== undefined) out.system = value
  })
  // The answer before the history, for the read budget: it says most about why a call went as it did.
  step("outputMessages", () => {
    const value = messages(r, "outputMessages", raw.output, true)
    if (value !== undefined) out.output = value
  })
  step("inputMessages", () => {
    const value = messages(r, "inputMessages", raw.input, false)
    if (value !== undefined) out.input = value
  })
  step("toolArguments", () => {
    const value = toolValue(r, raw.args)
    if (value !== undefined) out.args = value
  })
  step("toolResult", () => {
    const value = toolValue(r, raw.result)
    if (value !== undefined) out.result = value
  })
  return out
}

/** Whether a capture holds anything to record. */
export const isEmpty = (n: Normalized): boolean =>
  n.system === undefined && n.input === undefined && n.output === undefined && n.args === undefined &&
  n.result === undefined

/**
 * Reads a hook's answer as a capture, guarded: undefined when it is not a record (the hook's answer is then
 * malformed). Its fields are validated by `normalize` as hand input is.
 *
 * @internal
 */
export const fromCaptured = (answer: unknown): Raw | undefined => {
  if (!isRecord(answer)) return undefined
  const field = (key: string) => read(answer, key)
  return {
    system: field("systemInstructions"),
    input: field("inputMessages"),
    output: field("outputMessages"),
    args: field("toolArguments"),
    result: field("toolResult")
  }
}
