import type * as OtelApi from "@opentelemetry/api"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Attributes from "../Attributes.js"
import {
  ErrorMessage,
  ErrorType,
  ErrorTypeInterrupted,
  ExceptionEvent,
  ExceptionMessage,
  ExceptionStacktrace,
  ExceptionType,
  TrackingWarnings
} from "../Attributes.js"
import { CurrentRedactor } from "../Redaction.js"
import { causeError, errorMessage, errorStack, errorType } from "./errors.js"
import { cut, maxTextChars, maxUserAttributes, maxValueChars, maxWarnings } from "./limits.js"
import { markFailure, type Redactor, redactWith } from "./redact.js"
import type { Warn } from "./sanitize.js"

// The @effect/opentelemetry bridge marks its spans with this registered symbol and keeps the SDK span in `span`.
// Writing to the SDK span directly is what keeps array attributes arrays: the bridge's own `attribute` turns
// them into JSON strings.
const OtelSpanTypeId = Symbol.for("@effect/opentelemetry/Tracer/OtelSpan")

const bigint1e9 = BigInt(1_000_000_000)

/** @internal */
export const otelSpanOf = (span: Tracer.Span): OtelApi.Span | undefined =>
  OtelSpanTypeId in span ? (span as unknown as { readonly span: OtelApi.Span }).span : undefined

// `SpanStatusCode.ERROR` of @opentelemetry/api, inlined so that this module needs the API only for types.
const interruptedStatus: OtelApi.SpanStatus = { code: 2, message: ErrorTypeInterrupted }

/**
 * Ends a span the library made, once: what `span.end(endTime, exit)` does, except that an interrupted call gets
 * status ERROR with description `interrupted`, as its `error.type` and the attempts metric say.
 *
 * The @effect/opentelemetry bridge sets OK (plus `status.interrupted` and `span.label`) for an interruption, and the
 * OpenTelemetry SDK treats OK as final: an ERROR set before would be replaced by the bridge's OK, and nothing can
 * be set after it ends the SDK span. So the bridge still ends the span (its `Ended` status, its attributes, the SDK
 * span's end), and the one status it sets on the SDK span becomes ours. A success or a failure is ended as before,
 * with nothing added; under other tracers (Effect's own) an interruption is ended as before too.
 *
 * @internal
 */
export const endSpan = (span: Tracer.Span, endTime: bigint, exit: Exit.Exit<unknown, unknown>): void => {
  if (span.status._tag !== "Started") return
  try {
    if (exit._tag === "Failure" && Cause.isInterruptedOnly(exit.cause)) {
      const otel = otelSpanOf(span)
      if (otel !== undefined) return endInterrupted(span, otel, endTime, exit)
    }
    span.end(endTime, exit)
  } catch {
    endUnrecordable(span, endTime)
  }
}

const unrecordableStatus: OtelApi.SpanStatus = { code: 2, message: "the failure could not be recorded" }

/**
 * The bridge could not record the outcome (a failure whose value throws when printed: a Date subclass, a bigint in
 * its JSON, a hostile getter): the span must still end, so that it is exported and nothing stays open, and the call's
 * own outcome must stay as it is. `error.type` is already on the span (the recorder writes it first).
 */
const endUnrecordable = (span: Tracer.Span, endTime: bigint): void => {
  try {
    const otel = otelSpanOf(span)
    if (otel === undefined || !otel.isRecording()) return
    otel.setStatus(unrecordableStatus)
    otel.end([Number(endTime / bigint1e9), Number(endTime % bigint1e9)])
  } catch {
    // Nothing more can be done for this span; the call's outcome is untouched.
  }
}

const endInterrupted = (
  span: Tracer.Span,
  otel: OtelApi.Span,
  endTime: bigint,
  exit: Exit.Exit<unknown, unknown>
): void => {
  // An own property shadows the SDK's method for the bridge's one call, then is gone again (delete restores the
  // inherited method, an own one is put back): nothing else can run in between.
  const own = Object.getOwnPropertyDescriptor(otel, "setStatus")
  const restore = () => {
    if (own === undefined) delete (otel as { setStatus?: unknown }).setStatus
    else Object.defineProperty(otel, "setStatus", own)
  }
  const setStatus = otel.setStatus
  let shadowed = true
  otel.setStatus = () => {
    shadowed = false
    restore()
    return setStatus.call(otel, interruptedStatus)
  }
  try {
    span.end(endTime, exit)
  } finally {
    if (shadowed) restore()
  }
}

/**
 * Facts the library only passes on, never works out: the run's ids (which a span may set for itself, see
 * `runState.stampSpan`) and what a caller says about an agent or a tool.
 */
const passedOn: ReadonlySet<string> = new Set([
  Attributes.RunId,
  Attributes.WorkflowName,
  Attributes.EventId,
  Attributes.CustomerId,
  Attributes.GenAiAgentName,
  Attributes.GenAiAgentId,
  Attributes.GenAiAgentDescription,
  Attributes.GenAiToolCallId,
  Attributes.GenAiToolType,
  Attributes.GenAiToolDescription
])

/**
 * The attributes whose values the library works out itself (every name in `Attributes` but its prefixes, event
 * attribute keys and the facts it passes on): a caller's attribute of one of these names is dropped, so that what
 * the library records is never replaced by a value of the caller's (a `gen_ai.request.model` of `false`, a cost).
 * `server.address` and `server.port` are the call's options (`serverAddress`, `serverPort`), validated there.
 */
const reservedKeys: ReadonlySet<string> = new Set(
  (Object.values(Attributes) as ReadonlyArray<unknown>).filter((value): value is string =>
    typeof value === "string" && value.includes(".") && !value.endsWith(".") && !value.includes("/") &&
    !passedOn.has(value)
  )
)

/** Error text as recorded: redacted while whole, then cut to its bound. */
const redactedText = (redactor: Redactor, text: string): string => cut(redactWith(redactor, text), maxTextChars)

/**
 * The redactor of the fiber that records error text: read from its context when there is error text to record, so
 * that the success path pays nothing for it (the recorder runs inside the fiber, in `Effect.sync` or an exit handler).
 */
const currentRedactor = (): Redactor => {
  const fiber = Fiber.getCurrentFiber()
  return Option.isSome(fiber)
    ? Context.get(fiber.value.currentContext, CurrentRedactor)
    : CurrentRedactor.defaultValue()
}

/**
 * What a tracked call writes to its span, whichever tracer made it: attributes, warnings about bad input, and the
 * outcome. Owned by the one fiber that runs the call.
 *
 * @internal
 */
export class SpanRecorder {
  readonly otel: OtelApi.Span | undefined
  warnings: Array<string> | undefined = undefined
  private droppedWarnings = 0
  /** The keys of the attributes the caller added (`attributes` options, `addMetadata`), up to `maxUserAttributes`. */
  private userKeys: Set<string> | undefined = undefined
  private droppedUserAttributes = 0
  private reportedError:
    | { readonly error: unknown; readonly time: bigint; readonly redactor: Redactor }
    | undefined = undefined
  readonly warn: Warn

  constructor(readonly span: Tracer.Span) {
    this.otel = otelSpanOf(span)
    this.warn = (line) => this.addWarning(line)
  }

  set(key: string, value: OtelApi.AttributeValue): void {
    if (this.otel !== undefined) {
      this.otel.setAttribute(key, value)
    } else {
      this.span.attribute(key, value)
    }
  }

  /**
   * An attribute the caller chose: written while the span has fewer than `maxUserAttributes` of them (a key set
   * again counts once), else counted and reported in one warning, so that the library's own attributes always fit
   * under the SDK's attribute count limit.
   */
  setUser(key: string, value: OtelApi.AttributeValue): void {
    if (reservedKeys.has(key)) {
      return this.addWarning(`attributes: ${key} is an attribute of the library's own; dropped`)
    }
    const keys = this.userKeys ??= new Set()
    if (!keys.has(key)) {
      if (keys.size >= maxUserAttributes) {
        this.droppedUserAttributes++
        return
      }
      keys.add(key)
    }
    this.set(key, value)
  }

  /** `setUser` for a callback, made when one is needed. */
  get userSetter(): (key: string, value: OtelApi.AttributeValue) => void {
    return (key, value) => this.setUser(key, value)
  }

  addWarning(line: string): void {
    // Cut to its bound only once redacted (see `flushWarnings`), so that no credential in it is cut in half first.
    line = cut(line, 4 * maxValueChars)
    if (this.warnings === undefined) {
      this.warnings = [line]
    } else if (this.warnings.length < maxWarnings) {
      this.warnings.push(line)
    } else {
      this.droppedWarnings++
    }
  }

  /** Runs tracker work so that a throwing getter or a bug of ours becomes a warning, never the caller's problem. */
  guard(method: string, f: () => void): void {
    try {
      f()
    } catch (e) {
      this.addWarning(`${method}: failed (${errorMessage(e)}); ignored`)
    }
  }

  /** A tracker method's effect: `f` run through `guard` when the effect runs. */
  guarded(method: string, f: () => void): Effect.Effect<void> {
    return Effect.sync(() => this.guard(method, f))
  }

  /**
   * A tracker method that hands its argument to the call's captured content: nothing at all, not even a guarded
   * step, when the call captures none (capture off, or not sampled).
   */
  feeding<C, A>(
    content: C | undefined,
    method: string,
    feed: (content: C, value: A) => void
  ): (value: A) => Effect.Effect<void> {
    return (value) => content === undefined ? Effect.void : this.guarded(method, () => feed(content, value))
  }

  /**
   * `setError`: the type now, the exception event once the outcome is known, so that there is exactly one. The
   * redactor is the one of the fiber that reported it.
   */
  reportError(error: unknown, time: bigint): void {
    const redactor = currentRedactor()
    this.set(ErrorType, errorType(error))
    this.set(ErrorMessage, redactedText(redactor, errorMessage(error)))
    this.reportedError = { error, time, redactor }
  }

  /**
   * Records the outcome. The @effect/opentelemetry bridge itself sets the status and records one exception event
   * for a failure or defect, so a reported error only gets its event when the call did not fail; the span is marked
   * for the redacting span processor, which rewrites what the bridge records with this fiber's redactor.
   */
  finish(exit: Exit.Exit<unknown, unknown>): string | undefined {
    let type: string | undefined
    if (exit._tag === "Failure") {
      if (Cause.isInterruptedOnly(exit.cause)) {
        type = ErrorTypeInterrupted
        this.writeReportedError()
      } else {
        const error = causeError(exit.cause)
        type = errorType(error)
        const redactor = currentRedactor()
        // A message noted by setError must not stand beside the type of a different, final error.
        if (this.reportedError !== undefined) this.set(ErrorMessage, redactedText(redactor, errorMessage(error)))
        if (this.otel !== undefined) markFailure(this.otel, redactor, exit.cause)
      }
      this.set(ErrorType, type)
    } else {
      this.writeReportedError()
    }
    this.flushWarnings()
    return type
  }

  /** Warnings may quote error text (a tracker method that threw): they pass through the redactor too. */
  flushWarnings(): void {
    if (this.droppedUserAttributes > 0) {
      this.addWarning(
        `attributes: ${this.droppedUserAttributes} more attribute(s) dropped (at most ${maxUserAttributes} per span)`
      )
      this.droppedUserAttributes = 0
    }
    if (this.warnings === undefined) return
    const redactor = currentRedactor()
    const lines = this.warnings.map((line) => cut(redactWith(redactor, line), maxValueChars))
    if (this.droppedWarnings > 0) lines.push(`${this.droppedWarnings} more warnings dropped`)
    this.set(TrackingWarnings, lines)
  }

  private writeReportedError(): void {
    const reported = this.reportedError
    if (reported === undefined) return
    const redactor = reported.redactor
    const attributes: OtelApi.Attributes = {
      [ExceptionType]: errorType(reported.error),
      [ExceptionMessage]: redactedText(redactor, errorMessage(reported.error))
    }
    const stack = errorStack(reported.error)
    if (stack !== undefined) attributes[ExceptionStacktrace] = redactedText(redactor, stack)
    if (this.otel !== undefined) {
      this.otel.addEvent(ExceptionEvent, attributes, [
        Number(reported.time / bigint1e9),
        Number(reported.time % bigint1e9)
      ])
    } else {
      this.span.event(ExceptionEvent, reported.time, attributes)
    }
  }
}
