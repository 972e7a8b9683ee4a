import type * as OtelApi from "@opentelemetry/api"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Logger from "effect/Logger"
import * as Tracer from "effect/Tracer"
import {
  CustomerId,
  EventErrorType,
  EventId,
  EventRunId,
  EventStatus,
  EventValueAmount,
  EventValueType,
  OutcomeConfidence,
  OutcomeEmittedEvent,
  OutcomeErrorType,
  OutcomeLate,
  OutcomeMetadataPrefix,
  OutcomeReason,
  OutcomeStatus,
  OutcomeValueAmount,
  OutcomeValueType,
  RunId,
  TrackingWarnings,
  WorkflowName
} from "../Attributes.js"
import { LlmTracker } from "../LlmTracker.js"
import * as Metrics from "../Metrics.js"
import type { OutcomeOptions, OutcomeStatus as OutcomeStatusValue } from "../Outcome.js"
import { CurrentRedactor } from "../Redaction.js"
import { ToolTracker } from "../ToolTracker.js"
import { errorMessage } from "./errors.js"
import { cut, maxTextChars, maxValueChars, maxWarnings } from "./limits.js"
import * as MetricLabels from "./metricLabels.js"
import { redactWith } from "./redact.js"
import { currentRunState, type RunState } from "./runState.js"
import { describe, finite, forEachAttribute, optionalString, readOptions, type Warn } from "./sanitize.js"
import { serviceOption } from "./services.js"
import { SpanRecorder } from "./spanRecorder.js"

/**
 * The recorder of the current span outside a run. A tracked call's own recorder when the current span is that
 * call's, so that our warnings join its list instead of being overwritten when it ends.
 */
const currentSpanRecorder = (context: Context.Context<never>): SpanRecorder | undefined => {
  const span = serviceOption(context, Tracer.ParentSpan)
  if (span === undefined || span._tag !== "Span") return undefined
  for (const tracker of [serviceOption(context, LlmTracker), serviceOption(context, ToolTracker)]) {
    if (tracker instanceof SpanRecorder && tracker.span === span) return tracker
  }
  return new SpanRecorder(span)
}

interface Fields {
  valueType?: string
  valueAmount?: number
  confidence?: number
  reason?: string
  errorType?: string
}

const optionKeys = [
  "valueType",
  "valueAmount",
  "confidence",
  "reason",
  "errorType",
  "metadata"
] as const satisfies ReadonlyArray<keyof OutcomeOptions>

/** Fills `fields` as it goes, so that what was read before a hostile getter threw is kept. */
const readFields = (
  options: unknown,
  fields: Fields,
  warn: Warn,
  setMetadata: (key: string, value: OtelApi.AttributeValue) => void
): void => {
  if (options === undefined) return
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    warn(`emitOutcome: ${describe(options)} is not a record; dropped`)
    return
  }
  const o = readOptions(options, optionKeys, warn)
  const valueType = optionalString("valueType", o.valueType, warn)
  if (valueType !== undefined) fields.valueType = valueType
  const valueAmount = finite("valueAmount", o.valueAmount, warn)
  if (valueAmount !== undefined) fields.valueAmount = valueAmount
  const confidence = finite("confidence", o.confidence, warn)
  if (confidence !== undefined) {
    if (confidence < 0 || confidence > 1) {
      warn(`confidence: ${confidence} is not between 0 and 1; dropped`)
    } else {
      fields.confidence = confidence
    }
  }
  const reason = optionalString("reason", o.reason, warn, maxTextChars)
  if (reason !== undefined) fields.reason = reason
  const errorType = optionalString("errorType", o.errorType, warn)
  if (errorType !== undefined) fields.errorType = errorType
  // Always prefixed, unlike tracker metadata: a key such as `botanu.run_id` must not rewrite the run.
  forEachAttribute("metadata", o.metadata, OutcomeMetadataPrefix, warn, setMetadata, true)
}

const writeFields = (recorder: SpanRecorder, fields: Fields) => {
  if (fields.valueType !== undefined) recorder.set(OutcomeValueType, fields.valueType)
  if (fields.valueAmount !== undefined) recorder.set(OutcomeValueAmount, fields.valueAmount)
  if (fields.confidence !== undefined) recorder.set(OutcomeConfidence, fields.confidence)
  if (fields.reason !== undefined) recorder.set(OutcomeReason, fields.reason)
  if (fields.errorType !== undefined) recorder.set(OutcomeErrorType, fields.errorType)
}

const eventAttributes = (status: OutcomeStatusValue, fields: Fields, run: RunState | undefined) => {
  const attributes: Record<string, unknown> = { [EventStatus]: status }
  if (run !== undefined) attributes[EventRunId] = run.context.runId
  if (fields.valueType !== undefined) attributes[EventValueType] = fields.valueType
  if (fields.valueAmount !== undefined) attributes[EventValueAmount] = fields.valueAmount
  if (fields.errorType !== undefined) attributes[EventErrorType] = fields.errorType
  return attributes
}

const logAnnotations = (status: OutcomeStatusValue, fields: Fields, run: RunState | undefined) => {
  const annotations: Record<string, unknown> = { [OutcomeStatus]: status }
  if (run !== undefined) {
    annotations[RunId] = run.context.runId
    annotations[WorkflowName] = run.context.workflow
    annotations[EventId] = run.context.eventId
    annotations[CustomerId] = run.context.customerId
  }
  if (fields.valueType !== undefined) annotations[OutcomeValueType] = fields.valueType
  if (fields.valueAmount !== undefined) annotations[OutcomeValueAmount] = fields.valueAmount
  if (fields.confidence !== undefined) annotations[OutcomeConfidence] = fields.confidence
  if (fields.reason !== undefined) annotations[OutcomeReason] = fields.reason
  if (fields.errorType !== undefined) annotations[OutcomeErrorType] = fields.errorType
  return annotations
}

const withoutTracerLogger = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.locallyWith(self, FiberRef.currentLoggers, HashSet.remove(Logger.tracerLogger))

/**
 * Whether the span the outcome belongs to has ended: the run span inside a local run (a fiber that outlived the run
 * still sees the run), else the current span (a fiber forked in a tracked call that outlived the call). Writing to
 * an ended span loses the value, and the OpenTelemetry SDK says so only through its diag logger.
 */
const isLate = (context: Context.Context<never>, run: RunState | undefined): boolean => {
  if (run?.recorder !== undefined) return run.ended || run.recorder.span.status._tag === "Ended"
  const span = serviceOption(context, Tracer.ParentSpan)
  return span !== undefined && span._tag === "Span" && span.status._tag === "Ended"
}

/**
 * A late outcome: everything the span would have had (status, fields, metadata, warnings) goes into one warning
 * log record instead, with the run's ids and `botanu.outcome.late`, so that it can still be read and set against
 * the run. Nothing is written to any span: the run's is ended, and a span still open in the late fiber is not the
 * one the outcome is about.
 */
const emitLate = (
  status: OutcomeStatusValue,
  options: unknown,
  run: RunState | undefined,
  context: Context.Context<never>
): Effect.Effect<void> => {
  const fields: Fields = {}
  const metadata: Record<string, OtelApi.AttributeValue> = {}
  const warnings: Array<string> = []
  const warn = (line: string) => {
    if (warnings.length < maxWarnings) warnings.push(line)
  }
  try {
    readFields(options, fields, warn, (key, value) => {
      metadata[key] = value
    })
  } catch (e) {
    warn(`emitOutcome: failed (${errorMessage(e)}); ignored`)
  }
  const annotations: Record<string, unknown> = {
    ...metadata,
    ...logAnnotations(status, fields, run),
    [OutcomeLate]: true
  }
  if (warnings.length > 0) {
    // Warnings may quote error text (a getter that threw), as on a span.
    const redactor = Context.get(context, CurrentRedactor)
    annotations[TrackingWarnings] = warnings.map((line) => cut(redactWith(redactor, line), maxValueChars))
  }
  const message = run?.recorder !== undefined
    ? `botanu: late outcome ${status} for run ${run.context.runId}: the run had completed; recorded in this log only`
    : run !== undefined
    ? `botanu: late outcome ${status} for run ${run.context.runId}: its span had ended; recorded in this log only`
    : `botanu: late outcome ${status}: its span had ended; recorded in this log only`
  // Without the tracer logger, which would add the record to the ended span as an event; the ended run span is
  // still the parent, so that an OpenTelemetry log exporter correlates the record with the run's trace.
  Metrics.lateOutcomes.unsafeUpdate(1, MetricLabels.lateOutcome(run?.context.workflow, status))
  const log = withoutTracerLogger(Effect.annotateLogs(Effect.logWarning(message), annotations))
  return run?.recorder === undefined ? log : Effect.withParentSpan(log, run.recorder.span)
}

/**
 * Records an outcome whose status is already validated: on the run span inside a local run, else on the current
 * span; then logs it. Bad option values are dropped with a warning on the span they were meant for. When that span
 * has ended, see `emitLate`.
 *
 * @internal
 */
export const emit = (status: OutcomeStatusValue, options: unknown): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const context = fiber.currentContext
    const run = currentRunState(context)
    if (isLate(context, run)) return emitLate(status, options, run, context)
    const recorder = run?.recorder ?? currentSpanRecorder(context)
    const fields: Fields = {}
    if (recorder === undefined) {
      // No span to write to: the log still gets what is valid.
      try {
        readFields(options, fields, () => {}, () => {})
      } catch {
        // a hostile getter: the outcome itself still counts
      }
    } else {
      recorder.set(OutcomeStatus, status)
      recorder.guard("emitOutcome", () => readFields(options, fields, recorder.warn, recorder.userSetter))
      recorder.guard("emitOutcome", () => {
        writeFields(recorder, fields)
        const now = Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeNanos()
        recorder.span.event(OutcomeEmittedEvent, now, eventAttributes(status, fields, run))
      })
      recorder.flushWarnings()
    }
    if (run !== undefined) {
      run.outcomeEmitted = true
      if (fields.valueType !== undefined) run.valueType = fields.valueType
      if (fields.valueAmount !== undefined) run.valueAmount = fields.valueAmount
    }
    // The span already has its event: the tracer logger would add a second one. With the run span as the parent,
    // an OpenTelemetry log exporter correlates the record with the run.
    const log = withoutTracerLogger(
      Effect.annotateLogs(Effect.logInfo(`botanu outcome: ${status}`), logAnnotations(status, fields, run))
    )
    return run?.recorder === undefined ? log : Effect.withParentSpan(log, run.recorder.span)
  })
