import type * as OtelApi from "@opentelemetry/api"
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import { globalValue } from "effect/GlobalValue"
import { describeValue } from "./errors.js"
import { cut, maxTextChars } from "./limits.js"

/** @internal */
export const Redacted = "[REDACTED]"

/** @internal */
export const RedactionFailed = "[REDACTION FAILED]"

/** @internal */
export interface Redactor {
  readonly redact: (text: string) => string
}

/** @internal */
export interface RedactorOptions {
  readonly patterns?: ReadonlyArray<RegExp> | undefined
  readonly redact?: ((text: string) => string) | undefined
}

type Replacer = (match: string, ...groups: Array<any>) => string

interface Rule {
  readonly pattern: RegExp
  readonly replace: string | Replacer
}

// Every pattern is linear in the length of the text: each starts with a literal or a boundary, holds no nested or
// overlapping quantifiers, and ends either unconditionally (a run of a character class) or at a character its run
// cannot contain, so a failed attempt costs at most the run it scanned and runs do not overlap. The hostile-input
// test runs them over a megabyte.

/** Names of query, form or `name=value` parameters that carry a credential. */
const parameterNames = "api[-_]?key|apikey|key|access[-_]?token|refresh[-_]?token|id[-_]?token|auth[-_]?token|" +
  "token|client[-_]?secret|secret|password|passwd|pwd|sig|signature|credential|security[-_]?token"

/** Names of headers and fields (`Name: value`, `"name": "value"`, `name='value'`) that carry a credential. */
const fieldNames = "authorization|api[-_]?key|apikey|auth[-_]?token|access[-_]?token|refresh[-_]?token|" +
  "client[-_]?secret|password|passwd|secret"

const quoted = (value: string): string =>
  value.startsWith("\"") ? `"${Redacted}"` : value.startsWith("'") ? `'${Redacted}'` : Redacted

const builtInRules: ReadonlyArray<Rule> = [
  // https://user:password@host
  { pattern: /(\/\/)[^\s/?#@:]+:[^\s/?#@]+@/g, replace: `$1${Redacted}@` },
  // ?key=..., &api_key=..., token=...
  { pattern: new RegExp(`\\b((?:${parameterNames})=)[^&\\s#"'<>),;]+`, "gi"), replace: `$1${Redacted}` },
  // Authorization: Bearer ..., "x-api-key": "...", password='...'
  {
    pattern: new RegExp(
      `\\b((?:${fieldNames})["']?\\s*[:=]\\s*)("[^"\\r\\n]*"|'[^'\\r\\n]*'|[^\\s"',;}&][^\\r\\n"',;}&]*)`,
      "gi"
    ),
    replace: (_match: string, name: string, value: string) => name + quoted(value)
  },
  // Cookie and Set-Cookie: the whole value, `;`-separated pairs included.
  {
    pattern: /\b(cookie["']?\s*[:=]\s*)("[^"\r\n]*"|'[^'\r\n]*'|[^\s"'][^\r\n"']*)/gi,
    replace: (_match: string, name: string, value: string) => name + quoted(value)
  },
  { pattern: /\b(Bearer\s+)[A-Za-z0-9._~+/-]{6,}=*/gi, replace: `$1${Redacted}` },
  // Base64 of `user:password`; a word after "Basic" (authentication) is not one: the lookahead wants an upper-case
  // letter, a digit, `+`, `/` or `=` after the first character.
  {
    pattern: /\b([Bb]asic\s+)(?=[A-Za-z0-9+/][a-z]*[A-Z0-9+/=])[A-Za-z0-9+/]{6,}={0,2}/g,
    replace: `$1${Redacted}`
  },
  // OpenAI (sk-..., sk-proj-..., also masked as sk-proj-****abcd), Anthropic (sk-ant-...)
  { pattern: /\bsk-[A-Za-z0-9_*-]{8,}/g, replace: Redacted },
  // Google API keys
  { pattern: /\bAIza[A-Za-z0-9_-]{30,}/g, replace: Redacted },
  // AWS access key ids
  { pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, replace: Redacted },
  // GitHub, Slack and Stripe tokens, JSON web tokens
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/g, replace: Redacted },
  { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replace: Redacted },
  { pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/g, replace: Redacted },
  { pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, replace: Redacted }
]

const applyRules = (text: string, rules: ReadonlyArray<Rule>): string => {
  let out = text
  // `replace` with a global pattern starts at index 0 whatever `lastIndex` says, so sharing the patterns is safe.
  for (const rule of rules) {
    const replace = rule.replace
    out = typeof replace === "string" ? out.replace(rule.pattern, replace) : out.replace(rule.pattern, replace)
  }
  return out
}

// Every match, anywhere: global, and not sticky (a sticky pattern would stop at the first gap between matches).
const globalCopy = (pattern: RegExp): RegExp => {
  const flags = pattern.flags.replace("y", "")
  return new RegExp(pattern.source, flags.includes("g") ? flags : flags + "g")
}

/**
 * The built-in redactor, then the app's patterns (each match replaced by `[REDACTED]`), then the app's function.
 * Whatever of the app's throws (or returns something other than a string) makes the text `[REDACTION FAILED]`.
 *
 * @internal
 */
export const make = (options: RedactorOptions = {}): Redactor => {
  const custom = (options.patterns ?? []).map((pattern) => ({ pattern: globalCopy(pattern), replace: Redacted }))
  const f = options.redact
  if (custom.length === 0 && f === undefined) return defaultRedactor
  return {
    redact: (text) => {
      const builtIn = applyRules(text, builtInRules)
      try {
        const patterned = applyRules(builtIn, custom)
        if (f === undefined) return patterned
        const out = f(patterned)
        return typeof out === "string" ? out : RedactionFailed
      } catch {
        return RedactionFailed
      }
    }
  }
}

/** @internal */
export const defaultRedactor: Redactor = { redact: (text) => applyRules(text, builtInRules) }

/**
 * `redactor.redact(text)`, for a redactor the app may have provided itself: one that throws makes the text
 * `[REDACTION FAILED]`.
 *
 * @internal
 */
export const redactWith = (redactor: Redactor, text: string): string => {
  try {
    const out = redactor.redact(text)
    return typeof out === "string" ? out : RedactionFailed
  } catch {
    return RedactionFailed
  }
}

// --- keys that name a credential --------------------------------------------------------------------------------

// At the end of a key: `x-api-key`, `botanu.auth.token`, `llm.openai_api_key`, `accessToken`. `tokens` (a count,
// `gen_ai.usage.input_tokens`, `max_tokens`) is not `token`.
const credentialTail =
  /(?:authorization|api[-_.]?key|apikey|passw(?:or)?d|secret|token|cookies?|credentials?|(?:private|secret|access)[-_.]?key)$/i

const isAlphanumeric = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
const isUpper = (code: number) => code >= 65 && code <= 90

/**
 * Whether a key names a credential: it ends with one of the names, which starts the key, follows a separator
 * (`.`, `_`, `-`, ...) or starts a camel-case word (`accessToken`). Case-insensitive.
 *
 * @internal
 */
export const isCredentialKey = (key: string): boolean => {
  const match = credentialTail.exec(key)
  if (match === null) return false
  const index = match.index
  if (index === 0) return true
  const before = key.charCodeAt(index - 1)
  return !isAlphanumeric(before) || (isUpper(key.charCodeAt(index)) && !isUpper(before))
}

// --- what the bridge records itself ------------------------------------------------------------------------------

/** What the library knows about a failed span of its own, for the span processor. */
interface FailureMark {
  readonly redactor: Redactor
  /** The bridge's text for a non-Error value (its JSON), and the description that replaces it. */
  readonly replacements: ReadonlyArray<readonly [dump: string, description: string]>
}

const marks = globalValue("@botanu/effect/Redaction/marks", () => new WeakMap<object, FailureMark>())

const maxDescribedValues = 8

/**
 * Called where the library records a failure of its own span: hands the span processor the fiber's redactor and,
 * for each non-Error value in the cause, the text the @effect/opentelemetry bridge will write for it (the message
 * that `Cause.prettyErrors` makes, JSON of the whole value) and the description that replaces it.
 *
 * @internal
 */
export const markFailure = (span: object, redactor: Redactor, cause: Cause.Cause<unknown>): void => {
  const replacements: Array<readonly [string, string]> = []
  try {
    const values = [...Cause.failures(cause), ...Cause.defects(cause)]
    for (let i = 0; i < values.length && i < maxDescribedValues; i++) {
      const value = values[i]
      if (value instanceof Error) continue
      const dump = Cause.prettyErrors(Cause.fail(value))[0]?.message
      const description = describeValue(value)
      if (dump !== undefined && dump.length > 0 && dump !== description) replacements.push([dump, description])
    }
  } catch {
    // a hostile value: redaction of the bridge's text still applies
  }
  marks.set(span, { redactor, replacements })
}

const StatusCodeError = 2
const ExceptionEvent = "exception"
const exceptionKeys = ["exception.message", "exception.stacktrace", "exception.type"] as const
/** Attributes other instrumentations (an HTTP client's span) fill with text that may hold a credential. */
const textAttributes = ["error.message", "url.full", "url.query", "http.url", "http.target"] as const

const isText = (value: unknown): boolean => typeof value === "string" && value.length > 0

/**
 * Whether one of `textAttributes` holds text. Read by name, not in a loop over the keys: a span's attributes are
 * many, and a read by a key held in a variable costs several times as much there, on every span that ends.
 */
const hasTextAttribute = (attributes: OtelApi.Attributes): boolean =>
  isText(attributes["error.message"]) || isText(attributes["url.full"]) || isText(attributes["url.query"]) ||
  isText(attributes["http.url"]) || isText(attributes["http.target"])

const replaceAll = (text: string, replacements: ReadonlyArray<readonly [string, string]>): string => {
  let out = text
  for (const [dump, description] of replacements) if (out.includes(dump)) out = out.split(dump).join(description)
  return out
}

/**
 * A failure the library did not mark: a message that is a JSON object is the bridge's dump of a non-Error value
 * (`Cause.prettyErrors` writes `JSON.stringify` of it), described instead.
 */
const jsonReplacement = (message: unknown): ReadonlyArray<readonly [string, string]> => {
  if (typeof message !== "string" || !message.startsWith("{") || !message.endsWith("}")) return []
  try {
    const parsed: unknown = JSON.parse(message)
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return []
    return [[message, describeValue(parsed)]]
  } catch {
    return []
  }
}

const firstExceptionMessage = (events: ReadableSpan["events"]): unknown => {
  for (const event of events) if (event.name === ExceptionEvent) return event.attributes?.["exception.message"]
  return undefined
}

/**
 * Rewrites in place what may carry a secret on an ending span: the status description, the attributes of its
 * `exception` events, and a few text attributes (`error.message`, URLs). Spans with none of these (a success with
 * no events and no URL) cost a few property reads.
 *
 * @internal
 */
export const redactSpan = (span: ReadableSpan, fallback: Redactor): void => {
  const status = span.status
  const events = span.events
  const attributes = span.attributes as OtelApi.Attributes
  const failed = status.code === StatusCodeError && typeof status.message === "string" && status.message.length > 0
  if (!failed && events.length === 0 && !hasTextAttribute(attributes)) return
  let text: Array<string> | undefined
  for (const key of textAttributes) if (isText(attributes[key])) (text ??= []).push(key)
  const mark = marks.get(span)
  const redactor = mark?.redactor ?? fallback
  const replacements = mark?.replacements ?? jsonReplacement(failed ? status.message : firstExceptionMessage(events))
  // Cut before redacting too, so that a huge message costs bounded time, and after, so that the result is in bounds.
  const clean = (value: string) =>
    cut(
      redactWith(redactor, cut(replacements.length === 0 ? value : replaceAll(value, replacements), 4 * maxTextChars)),
      maxTextChars
    )
  if (failed) (span as { status: OtelApi.SpanStatus }).status = { code: status.code, message: clean(status.message!) }
  for (const event of events) {
    const eventAttributes = event.attributes
    if (event.name !== ExceptionEvent || eventAttributes === undefined) continue
    for (const key of exceptionKeys) {
      const value = eventAttributes[key]
      if (typeof value === "string") eventAttributes[key] = clean(value)
    }
  }
  if (text !== undefined) {
    for (const key of text) {
      const value = attributes[key] as string
      // A URL without a query or credentials has nothing to redact: most HTTP spans stop here.
      if (key.startsWith("url.") || key.startsWith("http.")) {
        if (!value.includes("=") && !value.includes("@")) continue
      }
      attributes[key] = clean(value)
    }
  }
}

/**
 * A span processor that redacts what the @effect/opentelemetry bridge (and any other instrumentation) recorded as
 * error text before `inner` sees the span: the status description and the `exception` events that the bridge writes
 * itself when a span fails, which no code of the library runs between.
 *
 * The work is done in `onEnding`, which the OpenTelemetry SDK 2.x calls on every processor before any `onEnd`
 * (`MultiSpanProcessor`), while the span can still be changed: so every exporter sees the redacted span, whatever
 * order the app's processors are in. An SDK that does not call `onEnding` gets the same rewrite in `onEnd`, before
 * `inner`.
 *
 * @internal
 */
export class RedactingSpanProcessor implements SpanProcessor {
  private sawOnEnding = false

  constructor(readonly inner: SpanProcessor, private readonly redactor: Redactor) {}

  onStart(span: Span, parentContext: OtelApi.Context): void {
    this.inner.onStart(span, parentContext)
  }

  onEnding(span: Span): void {
    this.sawOnEnding = true
    redactSpan(span, this.redactor)
    this.inner.onEnding?.(span)
  }

  onEnd(span: ReadableSpan): void {
    if (!this.sawOnEnding) redactSpan(span, this.redactor)
    this.inner.onEnd(span)
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }
}
