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
