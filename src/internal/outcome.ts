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
  OutcomeMetadataPrefix,
  OutcomeReason,
  OutcomeStatus,
  OutcomeValueAmount,
  OutcomeValueType,
  RunId,
  WorkflowName
} from "../Attributes.js"
import { LlmTracker } from "../LlmTracker.js"
import type { OutcomeStatus as OutcomeStatusValue } from "../Outcome.js"
import { ToolTracker } from "../ToolTracker.js"
import { currentRunState, type RunState } from "./runState.js"
import { attributeValue, describe, finite, optionalString, type Warn } from "./sanitize.js"
import { SpanRecorder } from "./spanRecorder.js"

/**
 * The recorder of the current span outside a run. A tracked call's own recorder when the current span is that
 * call's, so that our warnings join its list instead of being overwritten when it ends.
 */
const currentSpanRecorder = (context: Context.Context<never>): SpanRecorder | undefined => {
  const span = context.unsafeMap.get(Tracer.ParentSpan.key) as Tracer.AnySpan | undefined
  if (span === undefined || span._tag !== "Span") return undefined
  for (const key of [LlmTracker.key, ToolTracker.key]) {
    const tracker: unknown = context.unsafeMap.get(key)
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
  const o = options as Record<string, unknown>
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
  const reason = optionalString("reason", o.reason, warn)
  if (reason !== undefined) fields.reason = reason
  const errorType = optionalString("errorType", o.errorType, warn)
  if (errorType !== undefined) fields.errorType = errorType
  const metadata = o.metadata
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      warn(`metadata: ${describe(metadata)} is not a record; dropped`)
    } else {
      for (const key of Object.keys(metadata)) {
        if (key.trim().length === 0) {
          warn("metadata: an empty key; dropped")
          continue
        }
        const value = attributeValue(`metadata.${key}`, (metadata as Record<string, unknown>)[key], warn)
        // Always prefixed, unlike tracker metadata: a key such as `botanu.run_id` must not rewrite the run.
        if (value !== undefined) setMetadata(OutcomeMetadataPrefix + key, value)
      }
    }
  }
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
 * Records an outcome whose status is already validated: on the run span inside a local run, else on the current
 * span; then logs it. Bad option values are dropped with a warning on the span they were meant for.
 *
 * @internal
 */
export const emit = (status: OutcomeStatusValue, options: unknown): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const context = fiber.currentContext
    const run = currentRunState(context)
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
      recorder.guard("emitOutcome", () => readFields(options, fields, recorder.warn, (k, v) => recorder.set(k, v)))
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
