/**
 * The W3C `baggage` header (https://www.w3.org/TR/baggage/), as far as runs need it: reading list members
 * defensively and writing the run's entries percent-encoded.
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

// key = token (RFC 7230); value = *baggage-octet: printable ASCII without space, DQUOTE, comma, semicolon, backslash.
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const valuePattern = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/
const owsPattern = /^[ \t]+|[ \t]+$/g

const controlPattern = /[\x00-\x1F\x7F]/

const trimOws = (s: string) => s.replace(owsPattern, "")

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8")

/**
 * The list members of a baggage header, decoded, in order; properties are dropped. A member that breaks the
 * grammar or whose value does not decode is skipped on its own; a header beyond the spec's limits yields nothing.
 *
 * @internal
 */
export const parse = (header: string): Array<readonly [string, string]> => {
  if (utf8Bytes(header) > maxHeaderBytes) return []
  const members = header.split(",")
  if (members.length > maxMembers) return []
  const entries: Array<readonly [string, string]> = []
  for (const member of members) {
    const semicolon = member.indexOf(";")
    const pair = semicolon === -1 ? member : member.slice(0, semicolon)
    const equals = pair.indexOf("=")
    if (equals === -1) continue
    const key = trimOws(pair.slice(0, equals))
    const raw = trimOws(pair.slice(equals + 1))
    if (!tokenPattern.test(key) || !valuePattern.test(raw)) continue
    let value: string
    try {
      value = decodeURIComponent(raw)
    } catch {
      continue
    }
    entries.push([key, value])
  }
  return entries
}

/**
 * A run id as read from baggage: present, not blank, without control characters (which have no business in an
 * id and would let a caller forge log lines downstream).
 *
 * @internal
 */
export const isValidValue = (value: string | undefined): value is string =>
  value !== undefined && value.trim().length > 0 && !controlPattern.test(value)

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
