import * as OtelLogger from "@effect/opentelemetry/Logger"
import { assert, describe, it } from "@effect/vitest"
import { diag, DiagLogLevel } from "@opentelemetry/api"
import { InMemoryLogRecordExporter, type ReadableLogRecord, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Deferred, Effect, Layer, Schedule } from "effect"
import { botanuWorkflow, emitOutcome, TrackingTest, trackLlmCall } from "../src/index.js"
import { spanNamed } from "./utils/spans.js"

/**
 * `TrackingTest.layer` plus what an app that exports Effect logs to OpenTelemetry adds (the library's own layers
 * export no logs): @effect/opentelemetry's logger over a real SDK log pipeline into an in-memory exporter, fresh per
 * test. Every OpenTelemetry diag message of the test is collected too, so that an attempt to write to an ended span
 * (which the SDK reports only there) fails it.
 */
const withTrackingAndLogs = <A, E>(
  body: (
    logs: InMemoryLogRecordExporter,
    diagMessages: ReadonlyArray<string>
  ) => Effect.Effect<A, E, TrackingTest.TrackingTest>
) =>
  Effect.gen(function*() {
    const logs = new InMemoryLogRecordExporter()
    const diagMessages: Array<string> = []
    const collect = (...args: Array<unknown>) => {
      diagMessages.push(args.map(String).join(" "))
    }
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        diag.setLogger({ error: collect, warn: collect, info: collect, debug: collect, verbose: collect }, {
          logLevel: DiagLogLevel.ALL,
          suppressOverrideMessage: true
        })
      ),
      () => Effect.sync(() => diag.disable())
    )
    const layer = OtelLogger.layerLoggerAdd.pipe(
      Layer.provide(OtelLogger.layerLoggerProvider(new SimpleLogRecordProcessor({ exporter: logs }))),
      Layer.provideMerge(TrackingTest.layer)
    )
    // Read inside the layer: a shut-down in-memory exporter forgets what it held.
    return yield* Effect.provide(body(logs, diagMessages), layer)
  }).pipe(Effect.scoped)

/** The log records whose body starts with `prefix`, once there are `count` of them (the SDK exports them async). */
const recordsStartingWith = (logs: InMemoryLogRecordExporter, prefix: string, count = 1) =>
  Effect.sync(() => logs.getFinishedLogRecords().filter((record) => String(record.body).startsWith(prefix))).pipe(
    Effect.filterOrFail((records) => records.length >= count),
    Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 100 }),
    Effect.orElse(() =>
      Effect.sync(() => logs.getFinishedLogRecords().filter((record) => String(record.body).startsWith(prefix)))
    )
  )

const lateRecords = (logs: InMemoryLogRecordExporter, count = 1) =>
  recordsStartingWith(logs, "botanu: late outcome", count)

const outcomeAttributes = (span: ReadableSpan) =>
  Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith("botanu.outcome.")))

/** What a span holds, as plain data: to compare it before and after a late outcome. */
const snapshot = (span: ReadableSpan) => ({
  attributes: { ...span.attributes },
  events: span.events.map((event) => ({ name: event.name, attributes: { ...event.attributes } }))
})

const endedSpanMessages = (diagMessages: ReadonlyArray<string>) =>
  diagMessages.filter((message) => message.includes("ended Span"))

/** Forks a daemon fiber that emits `emit` once `gate` opens, and completes `done` when it has. */
const emitLater = <E>(emit: Effect.Effect<void, E>) =>
  Effect.gen(function*() {
    const gate = yield* Deferred.make<void>()
    const done = yield* Deferred.make<void, E>()
    const fork = Effect.forkDaemon(Deferred.await(gate).pipe(Effect.zipRight(emit), Effect.intoDeferred(done)))
    const release = Deferred.succeed(gate, undefined).pipe(Effect.zipRight(Deferred.await(done)))
    return { fork, release }
  })

const recordAttributes = (record: ReadableLogRecord) => record.attributes as Record<string, unknown>

describe("a late outcome: its run had completed", () => {
  it.live("a daemon fiber emitting after the run: the run span is unchanged, a warning record has the outcome", () =>
    withTrackingAndLogs((logs, diagMessages) =>
      Effect.gen(function*() {
        const later = yield* emitLater(emitOutcome("success", {
          valueType: "refund",
          valueAmount: 12,
          confidence: 0.9,
          reason: "the refund went through after the reply",
          errorType: "none",
          metadata: { channel: "email", attempts: 2 }
        }))
        yield* Effect.gen(function*() {
          yield* emitOutcome("partial", { valueType: "refund", valueAmount: 0 })
          yield* later.fork
        }).pipe(botanuWorkflow("late_refund", { eventId: "evt-late", customerId: "cust-late" }))
        const run = yield* spanNamed("botanu.run/late_refund")
        const before = snapshot(run)
        yield* later.release

        assert.deepStrictEqual(snapshot(run), before)
        assert.deepStrictEqual(outcomeAttributes(run), {
          "botanu.outcome.status": "partial",
          "botanu.outcome.value_type": "refund",
          "botanu.outcome.value_amount": 0
        })
        assert.deepStrictEqual(run.events.map((event) => event.name), [
          "botanu.run.started",
          "botanu.outcome_emitted",
          "botanu.run.completed"
        ])
        // Nothing else was made or changed: no span for the late fiber, no second copy of the run.
        assert.deepStrictEqual((yield* TrackingTest.finishedSpans).map((span) => span.name), [
          "botanu.run/late_refund"
        ])

        const records = yield* lateRecords(logs)
        assert.strictEqual(records.length, 1)
        const [record] = records
        const runId = run.attributes["botanu.run_id"]
        assert.strictEqual(
          record.body,
          `botanu: late outcome success for run ${runId}: the run had completed; recorded in this log only`
        )
        assert.strictEqual(record.severityText, "WARN")
        const { fiberId: _fiberId, ...attributes } = recordAttributes(record)
        assert.deepStrictEqual(attributes, {
          "botanu.run_id": runId,
          "botanu.workflow": "late_refund",
          "botanu.event_id": "evt-late",
          "botanu.customer_id": "cust-late",
          "botanu.outcome.status": "success",
          "botanu.outcome.value_type": "refund",
          "botanu.outcome.value_amount": 12,
          "botanu.outcome.confidence": 0.9,
          "botanu.outcome.reason": "the refund went through after the reply",
          "botanu.outcome.error_type": "none",
          "botanu.outcome.metadata.channel": "email",
          "botanu.outcome.metadata.attempts": 2,
          "botanu.outcome.late": true,
          // Correlated with the run's trace, though the run span had ended.
          spanId: run.spanContext().spanId,
          traceId: run.spanContext().traceId
        })
        // The in-time outcome logged as before, and only once; the late one is not logged as an in-time one.
        const inTime = yield* recordsStartingWith(logs, "botanu outcome")
        assert.deepStrictEqual(inTime.map((r) => [r.body, r.severityText]), [["botanu outcome: partial", "INFO"]])
        assert.deepStrictEqual(endedSpanMessages(diagMessages), [])
      })
    ))

  it.live("a late outcome of a nested run goes to neither run span, though the outer run is still open", () =>
    withTrackingAndLogs((logs, diagMessages) =>
      Effect.gen(function*() {
        const later = yield* emitLater(emitOutcome("failed", { reason: "chargeback" }))
        yield* Effect.gen(function*() {
          yield* later.fork.pipe(botanuWorkflow("inner", { eventId: "e-in", customerId: "c" }))
          yield* later.release
        }).pipe(botanuWorkflow("outer", { eventId: "e-out", customerId: "c" }))
        const inner = yield* spanNamed("botanu.run/inner")
        const outer = yield* spanNamed("botanu.run/outer")
        // Each run keeps the outcome its own completion gave it.
        assert.deepStrictEqual(outcomeAttributes(inner), { "botanu.outcome.status": "success" })
        assert.deepStrictEqual(outcomeAttributes(outer), { "botanu.outcome.status": "success" })
        for (const span of [inner, outer]) {
          assert.deepStrictEqual(span.events.map((event) => event.name), ["botanu.run.started", "botanu.run.completed"])
        }
        const [record] = yield* lateRecords(logs)
        const attributes = recordAttributes(record)
        assert.strictEqual(attributes["botanu.run_id"], inner.attributes["botanu.run_id"])
        assert.strictEqual(attributes["botanu.workflow"], "inner")
        assert.strictEqual(attributes["botanu.event_id"], "e-in")
        assert.strictEqual(attributes["botanu.outcome.status"], "failed")
        assert.strictEqual(attributes["botanu.outcome.reason"], "chargeback")
        assert.strictEqual(attributes["botanu.outcome.late"], true)
        assert.strictEqual(attributes.spanId, inner.spanContext().spanId)
        assert.deepStrictEqual(endedSpanMessages(diagMessages), [])
      })
    ))

  it.live("bad options of a late outcome: the valid fields are kept, the warnings go into the record", () =>
    withTrackingAndLogs((logs, diagMessages) =>
      Effect.gen(function*() {
        const hostile = Object.defineProperty({ valueType: "kept", confidence: Number.NaN }, "valueAmount", {
          enumerable: true,
          get() {
            throw new Error("boom")
          }
        })
        const later = yield* emitLater(emitOutcome("abandoned", hostile))
        yield* later.fork.pipe(botanuWorkflow("late_bad", { eventId: "e", customerId: "c" }))
        yield* later.release
        const run = yield* spanNamed("botanu.run/late_bad")
        assert.isUndefined(run.attributes["botanu.tracking.warnings"])
        const [record] = yield* lateRecords(logs)
        const attributes = recordAttributes(record)
        assert.strictEqual(attributes["botanu.outcome.status"], "abandoned")
        assert.strictEqual(attributes["botanu.outcome.value_type"], "kept")
        assert.isUndefined(attributes["botanu.outcome.value_amount"])
        // An array annotation reaches OpenTelemetry as its JSON text (the @effect/opentelemetry logger's way).
        // The fields after the one that threw are read too.
        assert.deepStrictEqual(JSON.parse(String(attributes["botanu.tracking.warnings"])), [
          "valueAmount: failed to read (boom); ignored",
          "confidence: NaN is not a finite number; dropped"
        ])
        assert.deepStrictEqual(endedSpanMessages(diagMessages), [])
      })
    ))
})

describe("a late outcome outside a run: its span had ended", () => {
  it.live("a fiber forked in a tracked LLM call that outlives it: nothing on the call span, a record instead", () =>
    withTrackingAndLogs((logs, diagMessages) =>
      Effect.gen(function*() {
        const later = yield* emitLater(emitOutcome("failed", { reason: "the user never replied", valueAmount: 3 }))
        yield* later.fork.pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))
        const call = yield* spanNamed("chat gpt-4o")
        const before = snapshot(call)
        yield* later.release

        assert.deepStrictEqual(snapshot(call), before)
        assert.deepStrictEqual(outcomeAttributes(call), {})
        assert.deepStrictEqual(call.events, [])
        assert.isUndefined(call.attributes["botanu.tracking.warnings"])

        const records = yield* lateRecords(logs)
        assert.strictEqual(records.length, 1)
        const [record] = records
        assert.strictEqual(record.body, "botanu: late outcome failed: its span had ended; recorded in this log only")
        assert.strictEqual(record.severityText, "WARN")
        const { fiberId: _fiberId, ...attributes } = recordAttributes(record)
        assert.deepStrictEqual(attributes, {
          "botanu.outcome.status": "failed",
          "botanu.outcome.reason": "the user never replied",
          "botanu.outcome.value_amount": 3,
          "botanu.outcome.late": true,
          spanId: call.spanContext().spanId,
          traceId: call.spanContext().traceId
        })
        assert.deepStrictEqual(endedSpanMessages(diagMessages), [])
      })
    ))

  it.live("the same fiber emitting before the call ends still records on the call span", () =>
    withTrackingAndLogs((logs, diagMessages) =>
      Effect.gen(function*() {
        yield* Effect.gen(function*() {
          const later = yield* emitLater(emitOutcome("success"))
          yield* later.fork
          yield* later.release
        }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))
        const call = yield* spanNamed("chat gpt-4o")
        assert.deepStrictEqual(outcomeAttributes(call), { "botanu.outcome.status": "success" })
        assert.deepStrictEqual(call.events.map((event) => event.name), ["botanu.outcome_emitted"])
        const inTime = yield* recordsStartingWith(logs, "botanu outcome")
        assert.strictEqual(inTime.length, 1)
        assert.deepStrictEqual(
          logs.getFinishedLogRecords().filter((r) => String(r.body).startsWith("botanu: late")),
          []
        )
        assert.deepStrictEqual(endedSpanMessages(diagMessages), [])
      })
    ))
})
