import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import { TrackingTest } from "../../src/index.js"

/** The one finished span with this name; fails the test when there is not exactly one. */
export const spanNamed = (name: string): Effect.Effect<ReadableSpan, never, TrackingTest.TrackingTest> =>
  Effect.map(TrackingTest.finishedSpans, (spans) => {
    const matching = spans.filter((span) => span.name === name)
    if (matching.length !== 1) {
      throw new Error(`expected one span named ${name}, found ${matching.length} among ${spans.map((s) => s.name)}`)
    }
    return matching[0]
  })

export const exceptionEvents = (span: ReadableSpan) => span.events.filter((event) => event.name === "exception")

export const warningsOf = (span: ReadableSpan): Array<string> =>
  (span.attributes["botanu.tracking.warnings"] as Array<string> | undefined) ?? []

/** The span's parent among `spans`, or `undefined` for a root (or a parent not among them). */
export const parentOf = (spans: ReadonlyArray<ReadableSpan>, span: ReadableSpan): ReadableSpan | undefined =>
  spans.find((candidate) => candidate.spanContext().spanId === span.parentSpanContext?.spanId)

/** The names of the span's children among `spans`, in the order they ended. */
export const childNames = (spans: ReadonlyArray<ReadableSpan>, span: ReadableSpan): Array<string> =>
  spans.filter((child) => child.parentSpanContext?.spanId === span.spanContext().spanId).map((child) => child.name)
