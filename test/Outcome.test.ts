import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Cause, Effect, Exit, Option, Schedule } from "effect"
import {
  botanuWorkflow,
  emitOutcome,
  InvalidOutcomeStatus,
  LlmTracker,
  Outcome,
  OutcomeStatus,
  TrackingTest,
  trackLlmCall,
  trackToolCall
} from "../src/index.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

const outcomeAttributes = (span: ReadableSpan) =>
  Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith("botanu.outcome.")))

const eventsNamed = (span: ReadableSpan, name: string) => span.events.filter((event) => event.name === name)

describe("emitOutcome inside a run", () => {
  it.effect("records on the run span, not on the LLM or tool span that is current", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* emitOutcome("partial", {
          valueType: "tickets_resolved",
          valueAmount: 2.5,
          confidence: 0.75,
          reason: "one of three questions left open",
          errorType: "missing_order",
          metadata: { channel: "email", attempts: 2, escalated: false, tags: ["vip", "eu"] }
        }).pipe(trackToolCall({ toolName: "close_ticket" }))
      }).pipe(
        trackLlmCall({ provider: "openai", model: "gpt-4o" }),
        botanuWorkflow("support", { eventId: "T-1", customerId: "acme" })
      )
      const run = yield* spanNamed("botanu.run/support")
      assert.deepStrictEqual(outcomeAttributes(run), {
        "botanu.outcome.status": "partial",
        "botanu.outcome.value_type": "tickets_resolved",
        "botanu.outcome.value_amount": 2.5,
        "botanu.outcome.confidence": 0.75,
        "botanu.outcome.reason": "one of three questions left open",
        "botanu.outcome.error_type": "missing_order",
        "botanu.outcome.metadata.channel": "email",
        "botanu.outcome.metadata.attempts": 2,
        "botanu.outcome.metadata.escalated": false,
        "botanu.outcome.metadata.tags": ["vip", "eu"]
      })
      const [event] = eventsNamed(run, "botanu.outcome_emitted")
      assert.deepStrictEqual(event.attributes, {
        status: "partial",
        run_id: run.attributes["botanu.run_id"],
        value_type: "tickets_resolved",
        value_amount: 2.5,
        error_type: "missing_order"
      })
      for (const name of ["chat gpt-4o", "execute_tool close_ticket"]) {
        const span = yield* spanNamed(name)
        assert.deepStrictEqual(outcomeAttributes(span), {}, name)
        assert.deepStrictEqual(span.events, [], name)
      }
      assert.isUndefined(run.attributes["botanu.tracking.warnings"])
    })))

  it.effect("a later outcome overwrites the status and the fields it gives; each emits its event", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* emitOutcome("partial", { valueType: "drafts", valueAmount: 1, reason: "first pass" })
        yield* emitOutcome(OutcomeStatus.SUCCESS, { valueAmount: 3 })
      }).pipe(botanuWorkflow("two", { eventId: "e", customerId: "c" }))
      const run = yield* spanNamed("botanu.run/two")
      assert.strictEqual(run.attributes["botanu.outcome.status"], "success")
      assert.strictEqual(run.attributes["botanu.outcome.value_amount"], 3)
      assert.strictEqual(run.attributes["botanu.outcome.value_type"], "drafts")
      assert.deepStrictEqual(eventsNamed(run, "botanu.outcome_emitted").map((event) => event.attributes?.status), [
        "partial",
        "success"
      ])
      const completed = eventsNamed(run, "botanu.run.completed")[0]
      assert.strictEqual(completed.attributes?.value_amount, 3)
    })))

  it.effect("an outcome emitted in a forked fiber of the run still goes to the run span", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.all([
        emitOutcome("abandoned").pipe(Effect.withSpan("worker")),
        Effect.void.pipe(Effect.withSpan("other"))
      ], { concurrency: 2 }).pipe(botanuWorkflow("forked", { eventId: "e", customerId: "c" }))
      const run = yield* spanNamed("botanu.run/forked")
      assert.strictEqual(run.attributes["botanu.outcome.status"], "abandoned")
      assert.deepStrictEqual(outcomeAttributes(yield* spanNamed("worker")), {})
    })))

  it.effect("metadata keys are always prefixed: a metadata key cannot rewrite a run attribute", () =>
    withTracking(Effect.gen(function*() {
      yield* emitOutcome("success", { metadata: { "botanu.run_id": "forged", "gen_ai.x": 1 } }).pipe(
        botanuWorkflow("meta", { eventId: "e", customerId: "c" })
      )
      const run = yield* spanNamed("botanu.run/meta")
      assert.notStrictEqual(run.attributes["botanu.run_id"], "forged")
      assert.strictEqual(run.attributes["botanu.outcome.metadata.botanu.run_id"], "forged")
      assert.strictEqual(run.attributes["botanu.outcome.metadata.gen_ai.x"], 1)
      assert.isUndefined(run.attributes["gen_ai.x"])
    })))
})

describe("emitOutcome outside a run", () => {
  it.effect("records on the current span", () =>
    withTracking(Effect.gen(function*() {
      yield* emitOutcome("failed", { reason: "upstream down" }).pipe(Effect.withSpan("job"))
      const job = yield* spanNamed("job")
      assert.deepStrictEqual(outcomeAttributes(job), {
        "botanu.outcome.status": "failed",
        "botanu.outcome.reason": "upstream down"
      })
      assert.deepStrictEqual(eventsNamed(job, "botanu.outcome_emitted").map((event) => event.attributes), [{
        status: "failed"
      }])
    })))

  it.effect("inside a tracked call, its warnings join the call's own warnings", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: -1 })
        yield* emitOutcome("success", { confidence: Number.NaN })
      }).pipe(trackLlmCall({ provider: "openai", model: "m" }))
      const span = yield* spanNamed("chat m")
      assert.strictEqual(span.attributes["botanu.outcome.status"], "success")
      assert.deepStrictEqual(warningsOf(span), [
        "inputTokens: -1 is negative; dropped",
        "confidence: NaN is not a finite number; dropped"
      ])
    })))

  it.effect("with no span at all it does nothing but log, and never fails", () =>
    withTracking(Effect.gen(function*() {
      yield* emitOutcome("success", { valueAmount: 1 })
      assert.deepStrictEqual(yield* TrackingTest.finishedSpans, [])
    })))
})

describe("emitOutcome: invalid input", () => {
  it.effect("a status that is not an OutcomeStatus fails with InvalidOutcomeStatus and records nothing", () =>
    withTracking(Effect.gen(function*() {
      const fromModel: string = "done"
      const error = yield* Effect.flip(emitOutcome(fromModel)).pipe(
        botanuWorkflow("bad_status", { eventId: "e", customerId: "c" })
      )
      assert.instanceOf(error, InvalidOutcomeStatus)
      assert.strictEqual(error._tag, "InvalidOutcomeStatus")
      assert.strictEqual(error.status, "done")
      assert.strictEqual(
        error.message,
        "Invalid outcome status \"done\": expected one of success, partial, failed, timeout, canceled, abandoned"
      )
      const run = yield* spanNamed("botanu.run/bad_status")
      // Nothing was emitted, so the run's own completion decides the outcome.
      assert.strictEqual(run.attributes["botanu.outcome.status"], "success")
      assert.deepStrictEqual(eventsNamed(run, "botanu.outcome_emitted"), [])
    })))

  it.effect("a valid status typed string succeeds; the statuses are exactly the six of the contract", () =>
    withTracking(Effect.gen(function*() {
      const statuses: ReadonlyArray<string> = ["success", "partial", "failed", "timeout", "canceled", "abandoned"]
      for (const status of statuses) {
        assert.isTrue(Outcome.isOutcomeStatus(status), status)
        yield* emitOutcome(status).pipe(Effect.withSpan(`s-${status}`))
        assert.strictEqual((yield* spanNamed(`s-${status}`)).attributes["botanu.outcome.status"], status)
      }
      assert.deepStrictEqual(Object.values(OutcomeStatus), statuses)
      for (const invalid of ["Success", "", " success", "failure", null, 1]) {
        assert.isFalse(Outcome.isOutcomeStatus(invalid), String(invalid))
        const exit = yield* Effect.exit(emitOutcome(invalid as string))
        assert.isTrue(Exit.isFailure(exit) && Option.isSome(Cause.failureOption(exit.cause)), String(invalid))
      }
    })))

  it.effect("bad option values are dropped with warnings on the run span; the rest is recorded", () =>
    withTracking(Effect.gen(function*() {
      const result = yield* emitOutcome("success", {
        valueType: 42 as any,
        valueAmount: Number.POSITIVE_INFINITY,
        confidence: 1.5,
        reason: "",
        errorType: "ok_type",
        metadata: { nested: { a: 1 } as any, "": "x", mixed: [1, "a"] as any, good: "yes" }
      }).pipe(Effect.as("program result"), botanuWorkflow("bad_options", { eventId: "e", customerId: "c" }))
      assert.strictEqual(result, "program result")
      const run = yield* spanNamed("botanu.run/bad_options")
      assert.deepStrictEqual(outcomeAttributes(run), {
        "botanu.outcome.status": "success",
        "botanu.outcome.error_type": "ok_type",
        "botanu.outcome.metadata.mixed": ["1", "a"],
        "botanu.outcome.metadata.good": "yes"
      })
      assert.deepStrictEqual(warningsOf(run), [
        "valueType: 42 is not a string; dropped",
        "valueAmount: Infinity is not a finite number; dropped",
        "confidence: 1.5 is not between 0 and 1; dropped",
        "metadata.nested: an object is not a valid attribute value; dropped",
        "metadata: an empty key; dropped",
        "metadata.mixed: a list of mixed types; recorded as strings"
      ])
    })))

  it.effect("options that are not a record, or a hostile getter, are warnings too; the outcome still counts", () =>
    withTracking(Effect.gen(function*() {
      const hostile = () =>
        Object.defineProperty({ valueType: "kept" }, "valueAmount", {
          enumerable: true,
          get() {
            throw new Error("boom")
          }
        })
      yield* Effect.gen(function*() {
        yield* emitOutcome("partial", "fast" as any)
        yield* emitOutcome("partial", { metadata: [1, 2] as any })
        yield* emitOutcome("abandoned", hostile())
      }).pipe(botanuWorkflow("odd_options", { eventId: "e", customerId: "c" }))
      // Outside any span, nothing to write to: the program goes on all the same.
      yield* emitOutcome("failed", hostile())
      const run = yield* spanNamed("botanu.run/odd_options")
      assert.strictEqual(run.attributes["botanu.outcome.status"], "abandoned")
      assert.strictEqual(run.attributes["botanu.outcome.value_type"], "kept")
      assert.deepStrictEqual(eventsNamed(run, "botanu.outcome_emitted").map((event) => event.attributes?.status), [
        "partial",
        "partial",
        "abandoned"
      ])
      assert.deepStrictEqual(warningsOf(run), [
        "emitOutcome: a string of 4 chars is not a record; dropped",
        "metadata: an array is not a record; dropped",
        "valueAmount: failed to read (boom); ignored"
      ])
    })))
})

describe("emitOutcome: logging", () => {
  it.live("logs one record through effect's Logger, annotated with the run ids and tied to the run span", () =>
    Effect.gen(function*() {
      const spanExporter = new InMemorySpanExporter()
      const logExporter = new InMemoryLogRecordExporter()
      const layer = NodeSdk.layer(() => ({
        resource: { serviceName: "outcome-logs" },
        spanProcessor: new SimpleSpanProcessor(spanExporter),
        logRecordProcessor: new SimpleLogRecordProcessor({ exporter: logExporter })
      }))
      // Read before the layer shuts down: a shut-down in-memory exporter forgets what it held.
      const { records, spans } = yield* emitOutcome("partial", { valueType: "refund", valueAmount: 12 }).pipe(
        trackLlmCall({ provider: "openai", model: "gpt-4o" }),
        botanuWorkflow("logged", { eventId: "evt-log", customerId: "cust-log" }),
        // The SDK's simple log processor exports asynchronously: wait for the record (at most a second).
        Effect.zipRight(
          Effect.sync(() => ({
            spans: spanExporter.getFinishedSpans(),
            records: logExporter.getFinishedLogRecords().filter((record) =>
              String(record.body).startsWith("botanu outcome")
            )
          })).pipe(
            Effect.filterOrFail(({ records }) => records.length > 0),
            Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 100 }),
            Effect.orElse(() => Effect.succeed({ spans: spanExporter.getFinishedSpans(), records: [] }))
          )
        ),
        Effect.provide(layer)
      )
      const run = spans.find((span) => span.name === "botanu.run/logged")!
      const llm = spans.find((span) => span.name === "chat gpt-4o")!
      assert.strictEqual(records.length, 1)
      const [record] = records
      assert.strictEqual(record.body, "botanu outcome: partial")
      assert.strictEqual(record.severityText, "INFO")
      const attributes = record.attributes
      assert.strictEqual(attributes["botanu.run_id"], run.attributes["botanu.run_id"])
      assert.strictEqual(attributes["botanu.workflow"], "logged")
      assert.strictEqual(attributes["botanu.event_id"], "evt-log")
      assert.strictEqual(attributes["botanu.customer_id"], "cust-log")
      assert.strictEqual(attributes["botanu.outcome.status"], "partial")
      assert.strictEqual(attributes["botanu.outcome.value_type"], "refund")
      assert.strictEqual(attributes["botanu.outcome.value_amount"], 12)
      // Tied to the run span, though the LLM span was current when the outcome was emitted.
      assert.strictEqual(attributes.spanId, run.spanContext().spanId)
      assert.strictEqual(attributes.traceId, run.spanContext().traceId)
      // The log did not also become a span event: the run span has its outcome event only once.
      assert.deepStrictEqual(run.events.map((event) => event.name), [
        "botanu.run.started",
        "botanu.outcome_emitted",
        "botanu.run.completed"
      ])
      assert.deepStrictEqual(llm.events, [])
    }))
})
