import type { Scrubber } from "../Content.js"
import { defaultRedactor } from "./redact.js"

/** A built-in scrubber, ready to run: the text with what it finds replaced. */
export type Scrub = (text: string) => string

// Every pattern is linear in the length of the text: each can start only at a boundary (a lookbehind that rejects
// a start inside a run of the characters it begins with, in constant time), and its quantifiers are either bounded
// or over a class the next token cannot match, so one start scans at most one run. The content test runs them
// over a hostile megabyte.

/** Local part, `@`, labels separated by dots, an alphabetic top-level label. */
const emailPattern =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g

/**
 * An international number (`+` and 7 to 15 digits, with spaces, dots, dashes or parentheses between them), or a
 * North American one (`(555) 123-4567`, `555-123-4567`, `555.123.4567`). Dates (`2024-01-15`) and plain runs of
 * digits (ids, amounts) are neither.
 */
const phonePattern =
  /(?<![\w+])\+\d(?:[ ().-]{0,2}\d){6,14}(?![\d])|(?<![\w.+-])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w-])/g

/** 13 to 19 digits, optionally grouped by spaces or dashes; replaced only when the Luhn check holds. */
const cardPattern = /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w])/g

/** @internal */
export const EmailMarker = "[EMAIL]"
/** @internal */
export const PhoneMarker = "[PHONE]"
/** @internal */
export const CardMarker = "[CARD]"

/**
 * The Luhn checksum of the digits in `text` (separators skipped): true for card numbers as issued, false for 9 in
 * 10 other runs of digits.
 *
 * @internal
 */
export const luhn = (text: string): boolean => {
  let sum = 0
  let double = false
  for (let i = text.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(i)
    if (code < 48 || code > 57) continue
    let digit = code - 48
    if (double) {
      digit *= 2
      if (digit > 9) digit -= 9
    }
    sum += digit
    double = !double
  }
  return sum % 10 === 0
}

const card: Scrub = (text) => text.replace(cardPattern, (match) => luhn(match) ? CardMarker : match)
const email: Scrub = (text) => text.replace(emailPattern, EmailMarker)
const phone: Scrub = (text) => text.replace(phonePattern, PhoneMarker)
// The credential patterns of `Redaction` (API keys, bearer tokens, password fields, credentials in URLs).
const credentials: Scrub = (text) => defaultRedactor.redact(text)

/** In the order they run: credentials first (a key may hold digits), cards before phones (both are digits). */
const scrubbers: ReadonlyArray<readonly [Scrubber, Scrub]> = [
  ["credentials", credentials],
  ["card", card],
  ["email", email],
  ["phone", phone]
]

/** @internal */
export const names: ReadonlySet<string> = new Set(scrubbers.map(([name]) => name))

/**
 * The scrubbers named, as one function in the built-in order (whatever order they were named in); `undefined` for
 * none, so that content without scrubbers costs nothing for them.
 *
 * @internal
 */
export const compile = (named: ReadonlySet<Scrubber>): Scrub | undefined => {
  const chosen = scrubbers.filter(([name]) => named.has(name)).map(([, scrub]) => scrub)
  if (chosen.length === 0) return undefined
  return (text) => {
    let out = text
    for (const scrub of chosen) out = scrub(out)
    return out
  }
}
