/**
 * The W3C `baggage` header (https://www.w3.org/TR/baggage/), as far as runs need it: reading list members
 * defensively, checking what a caller sent before anything is taken from it, and writing the run's entries
 * percent-encoded.
 */

/**
 * The spec's limits: a header beyond either is not read at all, and the run's entries are not added to an
 * outgoing header that they would push beyond them.
 *
 * @internal
 */
export const maxHeaderBytes = 8192
/** @internal */
export const maxMembers = 180
/**
 * The longest value (in Unicode code points) taken from a request for anything but a run id.
 *
 * @internal
 */
export const maxValueChars = 256

// key = token (RFC 7230); value = *baggage-octet: printable ASCII without space, DQUOTE, comma, semicolon, backslash.
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const valuePattern = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
const owsPattern = /^[ \t]+|[ \t]+$/g

// C0, DEL and C1 controls; the line and paragraph separators.
const controlPattern = /[\x00-\x1F\x7F-\x9F\u2028\u2029]/
// Bidirectional controls (embeddings, overrides, isolates, marks): they make a value read differently from what it is.
const bidiPattern = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/
// Zero-width characters: two values that look the same would be different customers.
const zeroWidthPattern = /[\u200B-\u200D\u2060\uFEFF]/
// Any version, canonical 8-4-4-4-12 form.
const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

const trimOws = (s: string) => s.replace(owsPattern, "")

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8")

/**
 * Why a header is not read at all, or `undefined` when it is within the spec's limits.
 *
 * @internal
 */
export const limitProblem = (header: string): string | undefined => {
  const bytes = utf8Bytes(header)
  if (bytes > maxHeaderBytes) return `a header of ${bytes} bytes, over ${maxHeaderBytes}`
  let members = 1
  for (let i = 0; i < header.length; i++) if (header.charCodeAt(i) === 44) members++
  if (members > maxMembers) return `a header of ${members} members, over ${maxMembers}`
  return undefined
}

/**
 * The list members of a baggage header, decoded, in order; properties are dropped. A member that breaks the
 * grammar or whose value does not decode is skipped on its own (`onInvalid` is told its key, when the key itself is
 * a valid token); a header beyond the spec's limits yields nothing.
 *
 * @internal
 */
export const parse = (
  header: string,
  onInvalid?: (key: string) => void
): Array<readonly [string, string]> => {
  if (limitProblem(header) !== undefined) return []
  const entries: Array<readonly [string, string]> = []
  for (const member of header.split(",")) {
    const semicolon = member.indexOf(";")
    const pair = semicolon === -1 ? member : member.slice(0, semicolon)
    const equals = pair.indexOf("=")
    if (equals === -1) continue
    const key = trimOws(pair.slice(0, equals))
    if (!tokenPattern.test(key)) continue
    const raw = trimOws(pair.slice(equals + 1))
    let value: string | undefined
    if (valuePattern.test(raw)) {
      try {
        value = decodeURIComponent(raw)
      } catch {
        value = undefined
      }
    }
    if (value === undefined) onInvalid?.(key)
    else entries.push([key, value])
  }
  return entries
}

const codePoints = (value: string): number => {
  let n = 0
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    // A high surrogate followed by a low one is one code point. decodeURIComponent never yields a lone surrogate.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) i++
    n++
  }
  return n
}

/**
 * What is wrong with a value taken from a request, said by its size and the kind of character found (never by
 * the value, which may be hostile), or `undefined` when it is at most `maxValueChars` code points of printable,
 * non-blank text.
 *
 * @internal
 */
export const textProblem = (value: string): string | undefined => {
  const chars = codePoints(value)
  const size = `a value of ${chars} characters`
  if (chars > maxValueChars) return `${size}, over ${maxValueChars}`
  if (value.trim().length === 0) return chars === 0 ? "an empty value" : `${size}, blank`
  if (controlPattern.test(value)) return `${size} with a control character`
  if (bidiPattern.test(value)) return `${size} with a bidirectional control character`
  if (zeroWidthPattern.test(value)) return `${size} with a zero-width character`
  return undefined
}

/**
 * What is wrong with a run id taken from a request (see `textProblem`), or `undefined` when it is a UUID.
 *
 * @internal
 */
export const uuidProblem = (value: string): string | undefined =>
  uuidPattern.test(value) ? undefined : `a value of ${codePoints(value)} characters that is not a UUID`

/** @internal */
export const encodeMember = (key: string, value: string): string => `${key}=${encodeURIComponent(value)}`

/**
 * `existing` with the members whose key is in `entries` replaced by `entries`, or `existing` unchanged when the
 * result would break the spec's limits (a receiver would drop the whole header).
 *
 * @internal
 */
export const merge = (
  existing: string | undefined,
  entries: ReadonlyArray<readonly [string, string]>
): string | undefined => {
  const keys = new Set(entries.map(([key]) => key))
  const kept: Array<string> = []
  if (existing !== undefined) {
    for (const member of existing.split(",")) {
      const trimmed = trimOws(member)
      if (trimmed.length === 0) continue
      const equals = trimmed.indexOf("=")
      const key = trimOws(equals === -1 ? trimmed : trimmed.slice(0, equals))
      if (!keys.has(key)) kept.push(trimmed)
    }
  }
  const members = [...kept, ...entries.map(([key, value]) => encodeMember(key, value))]
  const header = members.join(",")
  if (members.length > maxMembers || utf8Bytes(header) > maxHeaderBytes) return existing
  return header
}
