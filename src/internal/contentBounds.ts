import {
  GenAiInputMessages,
  GenAiOutputMessages,
  GenAiSystemInstructions,
  GenAiToolCallArguments,
  GenAiToolCallResult
} from "../Attributes.js"
import type { Json, JsonArray, JsonObject, Normalized, Part } from "./contentNormalize.js"
import { cut, truncatedMarker } from "./limits.js"
import type { Warn } from "./sanitize.js"

// --- where the text is -------------------------------------------------------------------------------------------

/** A string of content, where it sits: rewritten in place by the scrubbers, the hook helper and the bounds. */
export interface Slot {
  readonly holder: JsonObject | JsonArray | Normalized
  readonly key: string | number
  /** A tool's arguments or result that is a string: recorded as it is, not as JSON. */
  readonly raw: boolean
}

const valueOf = (slot: Slot): string => (slot.holder as Record<string | number, string>)[slot.key]
const setValue = (slot: Slot, value: string): void => {
  ;(slot.holder as Record<string | number, string>)[slot.key] = value
}

/** Every string under `holder[key]`: the value itself when it is one, else the string leaves of its JSON. */
const leaves = (
  holder: JsonObject | JsonArray | Normalized,
  key: string | number,
  out: Array<Slot>,
  raw: boolean = false
): void => {
  const value = (holder as Record<string | number, Json | undefined>)[key]
  if (typeof value === "string") {
    out.push({ holder, key, raw })
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) leaves(value, i, out)
  } else if (value !== null && typeof value === "object") {
    for (const k of Object.keys(value)) leaves(value, k, out)
  }
}

/**
 * The strings of content of a part: text and reasoning, a tool call's arguments, a tool response, every field of a
 * part of another type but its `type`. Not the identifiers (a tool call's `id` and `name`), which are bounded when
 * read and name nothing personal.
 */
const partSlots = (part: Part, out: Array<Slot>): void => {
  switch (part.type) {
    case "text":
    case "reasoning":
      if (typeof part.content === "string") out.push({ holder: part, key: "content", raw: false })
      return
    case "tool_call":
      if (part.arguments !== undefined) leaves(part, "arguments", out)
      return
    case "tool_call_response":
      leaves(part, "response", out)
      return
    default:
      for (const key of Object.keys(part)) if (key !== "type") leaves(part, key, out)
  }
}

const partsSlots = (parts: ReadonlyArray<Part>, out: Array<Slot>): Array<Slot> => {
  for (const part of parts) partSlots(part, out)
  return out
}

/**
 * Every string of content of a capture, in order: what the scrubbers and `Content.redactText` rewrite. With
 * `names`, also the messages' `name`s (a participant's name is personal data; it is bounded when read, so the
 * bounds leave it out).
 *
 * @internal
 */
export const slots = (n: Normalized, names: boolean = false): Array<Slot> => {
  const out: Array<Slot> = []
  if (n.system !== undefined) partsSlots(n.system, out)
  for (const list of [n.input, n.output]) {
    if (list === undefined) continue
    for (const message of list) {
      if (names && typeof message.name === "string") out.push({ holder: message, key: "name", raw: false })
      partsSlots(message.parts, out)
    }
  }
  if (n.args !== undefined) leaves(n, "args", out, true)
  if (n.result !== undefined) leaves(n, "result", out, true)
  return out
}

/** Rewrites every string of content (and the messages' names) with `f`. @internal */
export const mapStrings = (n: Normalized, f: (text: string) => string): void => {
  for (const slot of slots(n, true)) setValue(slot, f(valueOf(slot)))
}

// --- bounds ------------------------------------------------------------------------------------------------------

/** `text` within `max` characters: cut with the marker, which is as short as a cut string gets. */
const cutTo = (text: string, max: number): string =>
  text.length <= max ? text : cut(text, Math.max(max, truncatedMarker.length))

/** How many characters of JSON one character (or surrogate pair) at `i` takes, as `JSON.stringify` writes it. */
const escapedWidth = (text: string, i: number): number => {
  const code = text.charCodeAt(i)
  if (code === 0x22 || code === 0x5c) return 2
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6
  if (code >= 0xd800 && code <= 0xdfff) {
    const paired = code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    // A pair is written as it is (two characters); a lone surrogate as `\uXXXX`.
    return paired ? 2 : 6
  }
  return 1
}

/** `text` cut so that its JSON (quotes included) takes at most `max` characters: the marker at least. */
const cutToJson = (text: string, max: number): string => {
  if (JSON.stringify(text).length <= max) return text
  const room = max - 2 - truncatedMarker.length
  let used = 0
  let end = 0
  while (end < text.length) {
    const width = escapedWidth(text, end)
    if (used + width > room) break
    used += width
    const code = text.charCodeAt(end)
    end += code >= 0xd800 && code <= 0xdbff && width === 2 ? 2 : 1
  }
  return text.slice(0, end) + truncatedMarker
}

/** How a bound measures a string, and cuts it to a measure. */
interface Measure {
  readonly size: (slot: Slot, value: string) => number
  readonly cut: (slot: Slot, value: string, max: number) => string
}

/** Characters of the strings themselves: a message's bound. */
const characters: Measure = {
  size: (_, value) => value.length,
  cut: (_, value, max) => cutTo(value, max)
}

/** Characters of the attributes' JSON that each string takes: the call's bound. */
const jsonCharacters: Measure = {
  size: (slot, value) => contribution(slot, value),
  cut: (slot, value, max) => slot.raw ? cutTo(value, max) : cutToJson(value, max)
}

/**
 * Shares `budget` fairly among the strings, as `measure` counts them: the smallest keep theirs, the rest get equal
 * shares (at least the marker each). True when anything was cut.
 */
const waterFill = (strings: ReadonlyArray<Slot>, budget: number, measure: Measure): boolean => {
  const sizes = strings.map((slot) => measure.size(slot, valueOf(slot)))
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[a] - sizes[b])
  let remaining = Math.max(0, budget)
  for (let k = 0; k < order.length; k++) {
    const share = Math.floor(remaining / (order.length - k))
    if (sizes[order[k]] <= share) {
      remaining -= sizes[order[k]]
      continue
    }
    for (let j = k; j < order.length; j++) {
      const slot = strings[order[j]]
      setValue(slot, measure.cut(slot, valueOf(slot), share))
    }
    return true
  }
  return false
}

const total = (strings: ReadonlyArray<Slot>, measure: Measure): number => {
  let sum = 0
  for (const slot of strings) sum += measure.size(slot, valueOf(slot))
  return sum
}

/** A tool's arguments or result that is a string is recorded as it is; everything else as its JSON. */
const serialize = (value: Json, raw: boolean): string =>
  raw && typeof value === "string" ? value : JSON.stringify(value)

/** The attributes of a capture, in the order they are written. */
export const attributes = (n: Normalized): Array<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  if (n.system !== undefined) out.push([GenAiSystemInstructions, JSON.stringify(n.system)])
  if (n.input !== undefined) out.push([GenAiInputMessages, JSON.stringify(n.input)])
  if (n.output !== undefined) out.push([GenAiOutputMessages, JSON.stringify(n.output)])
  if (n.args !== undefined) out.push([GenAiToolCallArguments, serialize(n.args, true)])
  if (n.result !== undefined) out.push([GenAiToolCallResult, serialize(n.result, true)])
  return out
}

const size = (n: Normalized): number => {
  let sum = 0
  for (const [, value] of attributes(n)) sum += value.length
  return sum
}

/** What a string adds to its attribute's length, as it is and cut as far as it goes. */
const contribution = (slot: Slot, value: string): number => slot.raw ? value.length : JSON.stringify(value).length

/** How much `strings` could shrink the JSON at most: each cut down to the marker. */
const savings = (strings: ReadonlyArray<Slot>): number => {
  let sum = 0
  for (const slot of strings) {
    const value = valueOf(slot)
    if (value.length > truncatedMarker.length) {
      sum += contribution(slot, value) - contribution(slot, truncatedMarker)
    }
  }
  return sum
}

/** The outcome of bounding a capture. */
export interface Bounded {
  readonly attributes: ReadonlyArray<readonly [string, string]>
  /** Something was cut or left out. */
  readonly cut: boolean
}

/**
 * Bounds a capture in place and serializes it: each message's strings (and the system instructions') to
 * `maxMessage` characters together, then all the attributes' JSON to `maxCall`, strings shrunk fairly
 * (water-filling); when even the structure does not fit, the oldest input messages are left out first (with a
 * warning that says how many). JSON structure is kept: only strings are cut, and each cut one ends in the marker.
 *
 * @internal
 */
export const bound = (n: Normalized, maxMessage: number, maxCall: number, warn: Warn): Bounded => {
  let wasCut = false
  if (n.system !== undefined) wasCut = boundParts(n.system, maxMessage) || wasCut
  for (const list of [n.input, n.output]) {
    if (list === undefined) continue
    for (const message of list) wasCut = boundParts(message.parts, maxMessage) || wasCut
  }
  let length = size(n)
  if (length <= maxCall) return { attributes: attributes(n), cut: wasCut }
  wasCut = true

  // What the attributes would take with every string cut to the marker: past `maxCall`, strings alone cannot fit.
  let smallest = length - savings(slots(n))
  if (smallest > maxCall && n.input !== undefined) {
    let dropped = 0
    while (smallest > maxCall && dropped < n.input.length) {
      const message = n.input[dropped]
      smallest -= JSON.stringify(message).length + 1 - savings(partsSlots(message.parts, []))
      dropped++
    }
    n.input = n.input.slice(dropped)
    if (n.input.length === 0) delete n.input
    warn(`content: ${dropped} oldest input message(s) left out to fit maxCallChars (${maxCall})`)
    length = size(n)
    smallest = length - savings(slots(n))
  }
  if (smallest > maxCall) {
    warn(`content: does not fit in maxCallChars (${maxCall}) even cut; dropped`)
    return { attributes: [], cut: true }
  }

  const strings = slots(n)
  // Shares of the JSON the strings may take; a second round only if rounding left the total a little over.
  for (let round = 0; round < 4 && length > maxCall; round++) {
    waterFill(strings, total(strings, jsonCharacters) - (length - maxCall), jsonCharacters)
    length = size(n)
  }
  if (length > maxCall) {
    for (const slot of strings) setValue(slot, cutTo(valueOf(slot), truncatedMarker.length))
  }
  return { attributes: attributes(n), cut: true }
}

const boundParts = (parts: ReadonlyArray<Part>, max: number): boolean => {
  const strings = partsSlots(parts, [])
  return total(strings, characters) > max && waterFill(strings, max, characters)
}
