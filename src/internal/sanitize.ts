import type * as OtelApi from "@opentelemetry/api"
import { errorMessage } from "./errors.js"
import { cut, maxKeyChars, maxListItems, maxNameChars, maxValueChars } from "./limits.js"
import { isCredentialKey, Redacted } from "./redact.js"

/** Whether `value` is a record (an object, not a list), guarded: a revoked Proxy is none. */
export const isRecord = (value: unknown): value is Record<string, unknown> => {
  try {
    return typeof value === "object" && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

/** Whether `value` is a list, guarded (see `isRecord`). */
export const isList = (value: unknown): value is ReadonlyArray<unknown> => {
  try {
    return Array.isArray(value)
  } catch {
    return false
  }
}

/** @internal */
export type Warn = (line: string) => void

const describeUnguarded = (value: unknown): string => {
  switch (typeof value) {
    case "number":
      return String(value)
    case "string":
      return value.length === 0
        ? "an empty string"
        : value.length === 1
        ? "a string of 1 char"
        : `a string of ${value.length} chars`
    case "object":
      return value === null ? "null" : Array.isArray(value) ? "an array" : "an object"
    case "undefined":
      return "undefined"
    default:
      return `a ${typeof value}`
  }
}

/**
 * A bad value in a warning, by its type and size, never its text: a string may be a secret put in the wrong field
 * (`inputTokens: "sk-..."`). Numbers are shown: a count or a temperature cannot hold a credential, and the number is
 * what explains the warning.
 *
 * @internal
 */
export const describe = (value: unknown): string => {
  try {
    return describeUnguarded(value)
  } catch {
    // A revoked Proxy throws even on `Array.isArray`.
    return "an unreadable value"
  }
}

/**
 * A token count: a safe, non-negative integer. Fractions are rounded; anything else is dropped.
 *
 * @internal
 */
export const count = (field: string, value: unknown, warn: Warn): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== "number" || Number.isNaN(value)) {
    warn(`${field}: ${describe(value)} is not a number; dropped`)
    return undefined
  }
  if (value < 0) {
    warn(`${field}: ${describe(value)} is negative; dropped`)
    return undefined
  }
  if (value > Number.MAX_SAFE_INTEGER) {
    warn(`${field}: ${describe(value)} is too large; dropped`)
    return undefined
  }
  if (!Number.isInteger(value)) {
    const rounded = Math.round(value)
    warn(`${field}: ${value} is not an integer; rounded to ${rounded}`)
    return rounded
  }
  return value
}

/**
 * A finite number of any sign (temperature, penalties).
 *
 * @internal
 */
export const finite = (field: string, value: unknown, warn: Warn): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== "number" || !Number.isFinite(value)) {
    warn(`${field}: ${describe(value)} is not a finite number; dropped`)
    return undefined
  }
  return value
}

/**
 * A safe integer of any sign (seeds).
 *
 * @internal
 */
export const integer = (field: string, value: unknown, warn: Warn): number | undefined => {
  const n = finite(field, value, warn)
  if (n === undefined) return undefined
  if (!Number.isSafeInteger(n)) {
    if (Math.abs(n) > Number.MAX_SAFE_INTEGER) {
      warn(`${field}: ${n} is too large; dropped`)
      return undefined
    }
    const rounded = Math.round(n)
    warn(`${field}: ${n} is not an integer; rounded to ${rounded}`)
    return rounded
  }
  return n
}

/** @internal */
export const boolean = (field: string, value: unknown, warn: Warn): boolean | undefined => {
  if (typeof value === "boolean") return value
  warn(`${field}: ${describe(value)} is not a boolean; dropped`)
  return undefined
}

/**
 * A string cut to `max` characters with the marker, and a warning when it was longer.
 *
 * @internal
 */
export const bounded = (field: string, value: string, max: number, warn: Warn): string => {
  if (value.length <= max) return value
  warn(`${field}: ${describe(value)}; cut to ${max}`)
  return cut(value, max)
}

/**
 * An optional identifier: empty strings are ignored without a warning, non-strings are dropped with one, long ones
 * are cut to `max` (a name's bound unless said otherwise).
 *
 * @internal
 */
export const optionalString = (
  field: string,
  value: unknown,
  warn: Warn,
  max: number = maxNameChars
): string | undefined => {
  if (value === undefined || value === "") return undefined
  if (typeof value !== "string") {
    warn(`${field}: ${describe(value)} is not a string; dropped`)
    return undefined
  }
  return bounded(field, value, max, warn)
}

/**
 * A name that must be present (model, provider, tool): a missing or blank one becomes `fallback`, a long one is
 * cut to a name's bound.
 *
 * @internal
 */
export const requiredName = (field: string, value: unknown, fallback: string, warn: Warn): string => {
  if (typeof value === "string") {
    const trimmed = value.trim()
    if (trimmed.length > 0) return bounded(field, trimmed, maxNameChars, warn)
    warn(`${field}: empty; recorded as "${fallback}"`)
    return fallback
  }
  warn(`${field}: ${describe(value)} is not a string; recorded as "${fallback}"`)
  return fallback
}

/**
 * One string or a list of strings: non-strings in a list are dropped, a list is cut to `maxListItems`, each item to
 * a value's bound.
 *
 * @internal
 */
export const strings = (field: string, value: unknown, warn: Warn): Array<string> | undefined => {
  if (value === undefined) return undefined
  if (typeof value === "string") return [bounded(field, value, maxValueChars, warn)]
  if (!Array.isArray(value)) {
    warn(`${field}: ${describe(value)} is not a string or a list of strings; dropped`)
    return undefined
  }
  const length = listLength(field, value, warn)
  const out: Array<string> = []
  let dropped = 0
  for (let i = 0; i < length; i++) {
    const item: unknown = value[i]
    if (typeof item === "string") out.push(bounded(`${field}[${i}]`, item, maxValueChars, warn))
    else if (dropped++ === 0) warn(`${field}[${i}]: ${describe(item)} is not a string; dropped`)
  }
  if (dropped > 1) warn(`${field}: ${dropped - 1} more items that are not strings; dropped`)
  return out
}

/** How many items of a list are read: all of them, up to `maxListItems`. */
const listLength = (field: string, list: ReadonlyArray<unknown>, warn: Warn): number => {
  if (list.length <= maxListItems) return list.length
  warn(`${field}: a list of ${list.length} items; cut to ${maxListItems}`)
  return maxListItems
}

const isPrimitive = (u: unknown): u is string | number | boolean =>
  typeof u === "string" || typeof u === "boolean" || (typeof u === "number" && Number.isFinite(u))

/**
 * An attribute value that an OpenTelemetry span can hold: a string, a finite number, a boolean, or a list of one
 * of those. A list that mixes them is recorded as strings; anything else is dropped. Strings are cut to a value's
 * bound, lists to `maxListItems`.
 *
 * `field` ends with the user's key (`metadata.x-api-key`): a key that names a credential (see `isCredentialKey`)
 * is recorded as `[REDACTED]` whatever its value, with no warning.
 *
 * @internal
 */
export const attributeValue = (field: string, value: unknown, warn: Warn): OtelApi.AttributeValue | undefined => {
  if (isCredentialKey(field)) return Redacted
  if (typeof value === "string") return bounded(field, value, maxValueChars, warn)
  if (isPrimitive(value)) return value
  if (Array.isArray(value)) {
    const length = listLength(field, value, warn)
    if (length === 0) return []
    const items: Array<string | number | boolean> = new Array(length)
    const first = typeof value[0]
    let homogeneous = true
    for (let i = 0; i < length; i++) {
      const item: unknown = value[i]
      if (!isPrimitive(item)) {
        warn(`${field}: a list holding ${describe(item)}; dropped`)
        return undefined
      }
      if (typeof item !== first) homogeneous = false
      items[i] = typeof item === "string" ? bounded(`${field}[${i}]`, item, maxValueChars, warn) : item
    }
    if (homogeneous) return items as OtelApi.AttributeValue
    warn(`${field}: a list of mixed types; recorded as strings`)
    return items.map(String)
  }
  warn(`${field}: ${describe(value)} is not a valid attribute value; dropped`)
  return undefined
}

/**
 * Keys that already belong to the `botanu.`, `gen_ai.` or `server.` namespaces keep their name (`server.address`
 * and `server.port` are the conventions' own keys for the GenAI server); others get `prefix`.
 *
 * @internal
 */
export const prefixedKey = (key: string, prefix: string): string =>
  key.startsWith("botanu.") || key.startsWith("gen_ai.") || key.startsWith("server.") ? key : prefix + key

/**
 * Writes each valid entry of a user record through `set`, with the prefix rule applied to its key (or the prefix
 * put before every key, with `alwaysPrefix`); an entry whose
 * key names a credential is written as `[REDACTED]` (see `attributeValue`). The record is read guarded (a Proxy, a
 * throwing getter): what fails to read is dropped with a warning, the rest is kept. A key longer than
 * `maxKeyChars` is dropped rather than cut, since a cut key could land on another one.
 *
 * @internal
 */
export const forEachAttribute = (
  field: string,
  record: unknown,
  prefix: string,
  warn: Warn,
  set: (key: string, value: OtelApi.AttributeValue) => void,
  alwaysPrefix: boolean = false
): void => {
  if (record === undefined) return
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    warn(`${field}: ${describe(record)} is not a record; dropped`)
    return
  }
  let keys: Array<string>
  try {
    keys = Object.keys(record)
  } catch (e) {
    warn(`${field}: failed to read (${errorMessage(e)}); dropped`)
    return
  }
  for (const key of keys) {
    if (key.trim().length === 0) {
      warn(`${field}: an empty key; dropped`)
      continue
    }
    if (key.length > maxKeyChars) {
      warn(`${field}: a key of ${key.length} chars (at most ${maxKeyChars}); dropped`)
      continue
    }
    let value: OtelApi.AttributeValue | undefined
    try {
      value = attributeValue(`${field}.${key}`, (record as Record<string, unknown>)[key], warn)
    } catch (e) {
      warn(`${field}.${key}: failed to read (${errorMessage(e)}); dropped`)
      continue
    }
    if (value !== undefined) set(alwaysPrefix ? prefix + key : prefixedKey(key, prefix), value)
  }
}

/**
 * The options a caller gave, copied field by field into a plain record: a field whose getter throws (or a Proxy's
 * trap) is left out with a warning, so that bad options cost those options only, never the call. Anything that is
 * not an object reads as no options.
 *
 * @internal
 */
export const readOptions = <K extends string>(
  options: unknown,
  keys: ReadonlyArray<K>,
  warn: Warn
): { readonly [k in K]?: unknown } => {
  const out: { [k in K]?: unknown } = {}
  if (typeof options !== "object" || options === null) {
    if (options !== undefined) warn(`options: ${describe(options)} is not a record; ignored`)
    return out
  }
  for (const key of keys) {
    try {
      const value = (options as Record<string, unknown>)[key]
      if (value !== undefined) out[key] = value
    } catch (e) {
      warn(`${key}: failed to read (${errorMessage(e)}); ignored`)
    }
  }
  return out
}
