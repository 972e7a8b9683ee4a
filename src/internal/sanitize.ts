import type * as OtelApi from "@opentelemetry/api"
import { isCredentialKey, Redacted } from "./redact.js"

/** @internal */
export type Warn = (line: string) => void

/**
 * A bad value in a warning, by its type and size, never its text: a string may be a secret put in the wrong field
 * (`inputTokens: "sk-..."`). Numbers are shown: a count or a temperature cannot hold a credential, and the number is
 * what explains the warning.
 *
 * @internal
 */
export const describe = (value: unknown): string => {
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
 * An optional identifier: empty strings are ignored without a warning, non-strings are dropped with one.
 *
 * @internal
 */
export const optionalString = (field: string, value: unknown, warn: Warn): string | undefined => {
  if (value === undefined || value === "") return undefined
  if (typeof value !== "string") {
    warn(`${field}: ${describe(value)} is not a string; dropped`)
    return undefined
  }
  return value
}

/**
 * A name that must be present (model, provider, tool): a missing or blank one becomes `fallback`.
 *
 * @internal
 */
export const requiredName = (field: string, value: unknown, fallback: string, warn: Warn): string => {
  if (typeof value === "string") {
    const trimmed = value.trim()
    if (trimmed.length > 0) return trimmed
    warn(`${field}: empty; recorded as "${fallback}"`)
    return fallback
  }
  warn(`${field}: ${describe(value)} is not a string; recorded as "${fallback}"`)
  return fallback
}

/**
 * One string or a list of strings; non-strings in a list are dropped.
 *
 * @internal
 */
export const strings = (field: string, value: unknown, warn: Warn): Array<string> | undefined => {
  if (value === undefined) return undefined
  if (typeof value === "string") return [value]
  if (!Array.isArray(value)) {
    warn(`${field}: ${describe(value)} is not a string or a list of strings; dropped`)
    return undefined
  }
  let out: Array<string> | undefined
  for (let i = 0; i < value.length; i++) {
    const item = value[i]
    if (typeof item === "string") {
      if (out !== undefined) out.push(item)
    } else {
      warn(`${field}[${i}]: ${describe(item)} is not a string; dropped`)
      out ??= value.slice(0, i) as Array<string>
    }
  }
  return out ?? (value as Array<string>).slice()
}

const isPrimitive = (u: unknown): u is string | number | boolean =>
  typeof u === "string" || typeof u === "boolean" || (typeof u === "number" && Number.isFinite(u))

/**
 * An attribute value that an OpenTelemetry span can hold: a string, a finite number, a boolean, or a list of one
 * of those. A list that mixes them is recorded as strings; anything else is dropped.
 *
 * `field` ends with the user's key (`metadata.x-api-key`): a key that names a credential (see `isCredentialKey`)
 * is recorded as `[REDACTED]` whatever its value, with no warning.
 *
 * @internal
 */
export const attributeValue = (field: string, value: unknown, warn: Warn): OtelApi.AttributeValue | undefined => {
  if (isCredentialKey(field)) return Redacted
  if (isPrimitive(value)) return value
  if (Array.isArray(value)) {
    if (value.length === 0) return []
    const first = typeof value[0]
    let homogeneous = true
    for (const item of value) {
      if (!isPrimitive(item)) {
        warn(`${field}: a list holding ${describe(item)}; dropped`)
        return undefined
      }
      if (typeof item !== first) homogeneous = false
    }
    if (homogeneous) return value.slice() as OtelApi.AttributeValue
    warn(`${field}: a list of mixed types; recorded as strings`)
    return value.map(String)
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
 * Writes each valid entry of a user record through `set`, with the prefix rule applied to its key; an entry whose
 * key names a credential is written as `[REDACTED]` (see `attributeValue`).
 *
 * @internal
 */
export const forEachAttribute = (
  field: string,
  record: unknown,
  prefix: string,
  warn: Warn,
  set: (key: string, value: OtelApi.AttributeValue) => void
): void => {
  if (record === undefined) return
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    warn(`${field}: ${describe(record)} is not a record; dropped`)
    return
  }
  for (const key of Object.keys(record)) {
    if (key.trim().length === 0) {
      warn(`${field}: an empty key; dropped`)
      continue
    }
    const value = attributeValue(`${field}.${key}`, (record as Record<string, unknown>)[key], warn)
    if (value !== undefined) set(prefixedKey(key, prefix), value)
  }
}
