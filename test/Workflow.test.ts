import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import {
  Cause,
  ConfigProvider,
  Data,
  Deferred,
  Effect,
  Exit,
  Fiber,
  Option,
  Random,
  Ref,
  TestClock,
  Tracer
} from "effect"
import {
  botanuWorkflow,
  currentRun,
  emitOutcome,
  InvalidWorkflowOptions,
  LlmTracker,
  ToolTracker,
  TrackingTest,
  trackLlmCall,
  trackToolCall,
  Workflow
} from "../src/index.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

class TicketNotFound extends Data.TaggedError("TicketNotFound")<{ readonly id: string }> {}

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

const noEnvironment = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const idsOf = (span: ReadableSpan) => ({
  runId: span.attributes["botanu.run_id"],
  workflow: span.attributes["botanu.workflow"],
  eventId: span.attributes["botanu.event_id"],
  customerId: span.attributes["botanu.customer_id"]
})

const eventNamed = (span: ReadableSpan, name: string) => {
  const events = span.events.filter((event) => event.name === name)
  assert.strictEqual(events.length, 1, `one ${name} event among ${span.events.map((e) => e.name)}`)
  return events[0]
}

const llmCall = (model: string) =>
  Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: 10, outputTokens: 2 })).pipe(
    trackLlmCall({ provider: "openai", model })
  )

const toolCall = (toolName: string) =>
  Effect.flatMap(ToolTracker, (tracker) => tracker.setResult({ success: true })).pipe(trackToolCall({ toolName }))

describe("botanuWorkflow: the run span", () => {
  it.effect("records a SERVER span botanu.run/{name} with ids, environment, start time, duration and events", () =>
    withTracking(Effect.gen(function*() {
      const start = Date.parse("2025-03-01T10:00:00.000Z")
      yield* TestClock.setTime(start)
      const result = yield* Effect.gen(function*() {
        yield* TestClock.adjust("1500 millis")
        return "answered"
      }).pipe(botanuWorkflow("support_ticket", { eventId: "T-1001", customerId: "acme" }), noEnvironment)
      assert.strictEqual(result, "answered")

      const span = yield* spanNamed("botanu.run/support_ticket")
      assert.strictEqual(span.kind, SpanKind.SERVER)
      assert.strictEqual(span.status.code, SpanStatusCode.OK)
      assert.isUndefined(span.parentSpanContext)
      const runId = span.attributes["botanu.run_id"] as string
      assert.match(runId, uuidV7)
      // UUIDv7: the first 48 bits are the Unix milliseconds at the start of the run.
      assert.strictEqual(parseInt(runId.replace(/-/g, "").slice(0, 12), 16), start)
      assert.deepStrictEqual(span.attributes, {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "support_ticket",
        "botanu.run_id": runId,
        "botanu.workflow": "support_ticket",
        "botanu.event_id": "T-1001",
        "botanu.customer_id": "acme",
        "botanu.environment": "production",
        "botanu.root_run_id": runId,
        "botanu.run.start_time": "2025-03-01T10:00:00.000Z",
        "botanu.outcome.status": "success",
        "botanu.run.duration_ms": 1500,
        "botanu.run.cost_usd": 0,
        "botanu.run.input_tokens": 0,
        "botanu.run.output_tokens": 0,
        "botanu.run.llm_calls": 0,
        "botanu.run.tool_calls": 0
      })
      assert.deepStrictEqual(eventNamed(span, "botanu.run.started").attributes, {
        run_id: runId,
        workflow: "support_ticket"
      })
      const completed = eventNamed(span, "botanu.run.completed")
      assert.deepStrictEqual(completed.attributes, {
        run_id: runId,
        workflow: "support_ticket",
        status: "success",
        duration_ms: 1500
      })
      assert.deepStrictEqual(span.events.map((event) => event.name), ["botanu.run.started", "botanu.run.completed"])
    })))

  it.effect("is dual, and every run gets a fresh run id", () =>
    withTracking(Effect.gen(function*() {
      const options = { eventId: "e-1", customerId: "c-1" }
      const program = Effect.succeed(1)
      yield* program.pipe(botanuWorkflow("wf", options))
      yield* botanuWorkflow(program, "wf", options)
      const reused = program.pipe(botanuWorkflow("wf", options))
      yield* reused
      yield* reused
      const spans = yield* TrackingTest.finishedSpans
      assert.deepStrictEqual(spans.map((span) => span.name), Array(4).fill("botanu.run/wf"))
      const runIds = spans.map((span) => span.attributes["botanu.run_id"] as string)
      assert.strictEqual(new Set(runIds).size, 4)
      for (const id of runIds) assert.match(id, uuidV7)
      const { "botanu.run_id": _a, "botanu.root_run_id": _b, "botanu.run.start_time": _c, ...first } =
        spans[0].attributes
      const { "botanu.run_id": _d, "botanu.root_run_id": _e, "botanu.run.start_time": _f, ...second } =
        spans[1].attributes
      assert.deepStrictEqual(first, second)
    })))

  it.effect("takes spanKind, tenantId and environment options", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.void.pipe(
        botanuWorkflow("batch", {
          eventId: "e",
          customerId: "c",
          spanKind: "consumer",
          tenantId: "tenant-9",
          environment: "staging"
        })
      )
      const span = yield* spanNamed("botanu.run/batch")
      assert.strictEqual(span.kind, SpanKind.CONSUMER)
      assert.strictEqual(span.attributes["botanu.tenant_id"], "tenant-9")
      assert.strictEqual(span.attributes["botanu.environment"], "staging")
    })))

  it.effect("reads the environment from BOTANU_ENVIRONMENT, else DEPLOYMENT_ENVIRONMENT, else production", () =>
    withTracking(Effect.gen(function*() {
      const environmentWith = (entries: Array<[string, string]>, option?: string) =>
        Effect.gen(function*() {
          yield* TrackingTest.reset
          yield* Effect.void.pipe(
            botanuWorkflow("env", { eventId: "e", customerId: "c", environment: option }),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))
          )
          return (yield* spanNamed("botanu.run/env")).attributes["botanu.environment"]
        })
      const both: Array<[string, string]> = [["BOTANU_ENVIRONMENT", "staging"], ["DEPLOYMENT_ENVIRONMENT", "qa"]]
      assert.strictEqual(yield* environmentWith(both), "staging")
      assert.strictEqual(yield* environmentWith([["DEPLOYMENT_ENVIRONMENT", "qa"]]), "qa")
      assert.strictEqual(yield* environmentWith([]), "production")
      assert.strictEqual(yield* environmentWith(both, "dev"), "dev")
    })))

  it.effect("a run inside a span is its child", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.void.pipe(botanuWorkflow("child", { eventId: "e", customerId: "c" }), Effect.withSpan("request"))
      const request = yield* spanNamed("request")
      const run = yield* spanNamed("botanu.run/child")
      assert.strictEqual(run.parentSpanContext?.spanId, request.spanContext().spanId)
      // The enclosing span was made outside the run: it carries no run ids.
      assert.isUndefined(request.attributes["botanu.run_id"])
    })))
})

describe("botanuWorkflow: every span inside the run carries the run's ids", () => {
  it.effect("LLM, tool and plain Effect spans, in forked fibers too, and none outside the run", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.void.pipe(Effect.withSpan("before"))
      yield* Effect.gen(function*() {
        yield* Effect.gen(function*() {
          yield* toolCall("lookup")
          yield* Effect.void.pipe(Effect.withSpan("http.request"))
        }).pipe(Effect.zipRight(llmCall("gpt-4o")), Effect.asVoid, trackLlmCall({ provider: "anthropic", model: "m" }))
        const fiber = yield* Effect.fork(Effect.void.pipe(Effect.withSpan("forked")))
        yield* Fiber.join(fiber)
        yield* Effect.all([llmCall("a"), llmCall("b")], { concurrency: 2 })
      }).pipe(botanuWorkflow("ids", { eventId: "evt-7", customerId: "cust-7" }))
      yield* Effect.void.pipe(Effect.withSpan("after"))
      yield* llmCall("outside")

      const run = yield* spanNamed("botanu.run/ids")
      const expected = idsOf(run)
      assert.match(expected.runId as string, uuidV7)
      assert.strictEqual(expected.eventId, "evt-7")
      const spans = yield* TrackingTest.finishedSpans
      const inside = ["execute_tool lookup", "http.request", "chat gpt-4o", "chat m", "forked", "chat a", "chat b"]
      for (const name of inside) {
        assert.deepStrictEqual(idsOf(yield* spanNamed(name)), expected, name)
      }
      for (const name of ["before", "after", "chat outside"]) {
        assert.isFalse(Object.keys((yield* spanNamed(name)).attributes).some((key) => key.startsWith("botanu.run")))
        assert.deepStrictEqual(idsOf(yield* spanNamed(name)), {
          runId: undefined,
          workflow: undefined,
          eventId: undefined,
          customerId: undefined
        })
      }
      assert.strictEqual(spans.length, inside.length + 4)
      // The run's own attributes stay on the run span: inner spans get the four ids only.
      assert.isUndefined((yield* spanNamed("chat gpt-4o")).attributes["botanu.environment"])
    })))

  it.effect("a value the span sets itself wins", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* Effect.void.pipe(Effect.withSpan("explicit", { attributes: { "botanu.customer_id": "other" } }))
        yield* Effect.void.pipe(trackLlmCall({
          provider: "openai",
          model: "m",
          attributes: { "botanu.event_id": "per-call-event" }
        }))
        yield* Effect.void.pipe(Effect.withSpan("annotated"), Effect.annotateSpans("botanu.workflow", "sub-flow"))
      }).pipe(botanuWorkflow("wins", { eventId: "e", customerId: "c" }))
      const runId = (yield* spanNamed("botanu.run/wins")).attributes["botanu.run_id"]
      assert.deepStrictEqual(idsOf(yield* spanNamed("explicit")), {
        runId,
        workflow: "wins",
        eventId: "e",
        customerId: "other"
      })
      assert.deepStrictEqual(idsOf(yield* spanNamed("chat m")), {
        runId,
        workflow: "wins",
        eventId: "per-call-event",
        customerId: "c"
      })
      assert.deepStrictEqual(idsOf(yield* spanNamed("annotated")), {
        runId,
        workflow: "sub-flow",
        eventId: "e",
        customerId: "c"
      })
    })))

  it.effect("a value the app's own tracer gives a span at creation is kept", () =>
    withTracking(Effect.gen(function*() {
      const otel = yield* Effect.tracer
      const tenantTracer = Tracer.make({
        span(name, parent, context, links, startTime, kind, options) {
          const span = otel.span(name, parent, context, links, startTime, kind, options)
          span.attribute("botanu.customer_id", "from-app-tracer")
          return span
        },
        context: (execution, fiber) => otel.context(execution, fiber)
      })
      yield* Effect.void.pipe(
        Effect.withSpan("inner"),
        botanuWorkflow("own_tracer", { eventId: "e", customerId: "c" }),
        Effect.withTracer(tenantTracer)
      )
      const run = yield* spanNamed("botanu.run/own_tracer")
      assert.strictEqual(run.attributes["botanu.customer_id"], "c", "the run span records the run's own ids")
      assert.deepStrictEqual(idsOf(yield* spanNamed("inner")), {
        runId: run.attributes["botanu.run_id"],
        workflow: "own_tracer",
        eventId: "e",
        customerId: "from-app-tracer"
      })
    })))

  it.live("200 concurrent runs for distinct customers: every LLM and tool span carries its own run's ids", () =>
    withTracking(Effect.gen(function*() {
      const runs = 200
      const handle = (i: number) =>
        Effect.gen(function*() {
          // Interleave the runs: each yields and sleeps a random few milliseconds between its calls.
          const pause = Effect.flatMap(Random.nextIntBetween(0, 4), (ms) => Effect.sleep(`${ms} millis`))
          yield* pause
          yield* Effect.gen(function*() {
            yield* pause
            yield* toolCall("lookup")
            yield* Effect.yieldNow()
          }).pipe(Effect.zipRight(llmCall("classify")), trackLlmCall({ provider: "openai", model: "plan" }))
          yield* pause
          yield* Effect.all([llmCall("draft"), toolCall("send")], { concurrency: 2 })
          const run = yield* currentRun
          return Option.getOrThrow(run).customerId
        }).pipe(botanuWorkflow("concurrent", { eventId: `ticket-${i}`, customerId: `customer-${i}` }))
      const customers = yield* Effect.forEach(Array.from({ length: runs }, (_, i) => i), handle, {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(customers, Array.from({ length: runs }, (_, i) => `customer-${i}`))

      const spans = yield* TrackingTest.finishedSpans
      const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]))
      const runSpanOf = (span: ReadableSpan): ReadableSpan => {
        let current = span
        while (!current.name.startsWith("botanu.run/")) {
          const parent = byId.get(current.parentSpanContext?.spanId ?? "")
          assert.isDefined(parent, `${span.name} has a run span among its ancestors`)
          current = parent!
        }
        return current
      }
      const runSpans = spans.filter((span) => span.name === "botanu.run/concurrent")
      assert.strictEqual(runSpans.length, runs)
      assert.strictEqual(new Set(runSpans.map((span) => span.attributes["botanu.run_id"])).size, runs)
      assert.strictEqual(new Set(runSpans.map((span) => span.attributes["botanu.customer_id"])).size, runs)
      const calls = spans.filter((span) => span.name.startsWith("chat ") || span.name.startsWith("execute_tool "))
      assert.strictEqual(calls.length, runs * 5)
      for (const call of calls) {
        const run = runSpanOf(call)
        assert.deepStrictEqual(idsOf(call), idsOf(run))
        // The event id was derived from the same index as the customer: a mix-up would break the pair.
        assert.strictEqual(
          (call.attributes["botanu.event_id"] as string).slice("ticket-".length),
          (call.attributes["botanu.customer_id"] as string).slice("customer-".length)
        )
      }
    })))
})

describe("botanuWorkflow: nested runs", () => {
  it.effect("a run inside a run records parent and root run ids; its spans carry its own ids", () =>
    withTracking(Effect.gen(function*() {
      const seen: Array<Option.Option<Workflow.RunContext>> = []
      const record = Effect.flatMap(currentRun, (run) => Effect.sync(() => seen.push(run)))
      yield* Effect.gen(function*() {
        yield* record
        yield* llmCall("outer-before")
        yield* Effect.gen(function*() {
          yield* record
          yield* llmCall("middle")
          yield* Effect.gen(function*() {
            yield* record
            yield* toolCall("innermost-tool")
          }).pipe(botanuWorkflow("inner", { eventId: "e-3", customerId: "c-3" }))
        }).pipe(botanuWorkflow("middle", { eventId: "e-2", customerId: "c-2", tenantId: "t-2" }))
        yield* record
        yield* llmCall("outer-after")
      }).pipe(botanuWorkflow("outer", { eventId: "e-1", customerId: "c-1" }))
      yield* record

      const outer = yield* spanNamed("botanu.run/outer")
      const middle = yield* spanNamed("botanu.run/middle")
      const inner = yield* spanNamed("botanu.run/inner")
      const outerId = outer.attributes["botanu.run_id"]
      const middleId = middle.attributes["botanu.run_id"]
      const innerId = inner.attributes["botanu.run_id"]
      assert.strictEqual(new Set([outerId, middleId, innerId]).size, 3)

      assert.isUndefined(outer.attributes["botanu.parent_run_id"])
      assert.strictEqual(outer.attributes["botanu.root_run_id"], outerId)
      assert.strictEqual(middle.attributes["botanu.parent_run_id"], outerId)
      assert.strictEqual(middle.attributes["botanu.root_run_id"], outerId)
      assert.strictEqual(inner.attributes["botanu.parent_run_id"], middleId)
      assert.strictEqual(inner.attributes["botanu.root_run_id"], outerId)
      assert.strictEqual(middle.parentSpanContext?.spanId, outer.spanContext().spanId)
      assert.strictEqual(inner.parentSpanContext?.spanId, middle.spanContext().spanId)
      // A nested run span is the nested run's: the enclosing run's ids do not leak onto it.
      assert.deepStrictEqual(idsOf(middle), { runId: middleId, workflow: "middle", eventId: "e-2", customerId: "c-2" })
      assert.deepStrictEqual(idsOf(inner), { runId: innerId, workflow: "inner", eventId: "e-3", customerId: "c-3" })
      assert.isUndefined(inner.attributes["botanu.tenant_id"])

      assert.deepStrictEqual(idsOf(yield* spanNamed("chat outer-before")), idsOf(outer))
      assert.deepStrictEqual(idsOf(yield* spanNamed("chat middle")), idsOf(middle))
      assert.deepStrictEqual(idsOf(yield* spanNamed("execute_tool innermost-tool")), idsOf(inner))
      assert.deepStrictEqual(idsOf(yield* spanNamed("chat outer-after")), idsOf(outer))

      const runIds = seen.map((run) => Option.map(run, (context) => context.runId))
      assert.deepStrictEqual(runIds, [
        Option.some(outerId),
        Option.some(middleId),
        Option.some(innerId),
        Option.some(outerId),
        Option.none()
      ])
      const innerContext = Option.getOrThrow(seen[2])
      assert.strictEqual(innerContext.parentRunId, middleId)
      assert.strictEqual(innerContext.rootRunId, outerId)
      assert.isFalse(innerContext.remote)
    })))
})

describe("botanuWorkflow: outcomes at completion", () => {
  it.effect("a failure passes through; the run records failure, its error class and outcome failed", () =>
    withTracking(Effect.gen(function*() {
      const error = new TicketNotFound({ id: "T-404" })
      const exit = yield* Effect.exit(
        Effect.fail(error).pipe(botanuWorkflow("failing", { eventId: "e", customerId: "c" }))
      )
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const failure = Cause.failureOption(exit.cause)
        assert.isTrue(Option.isSome(failure))
        assert.strictEqual(Cause.originalError(Option.getOrThrow(failure)), error)
      }
      const span = yield* spanNamed("botanu.run/failing")
      assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(span.attributes["botanu.outcome.status"], "failed")
      assert.strictEqual(span.attributes["error.type"], "TicketNotFound")
      const completed = eventNamed(span, "botanu.run.completed")
      assert.strictEqual(completed.attributes?.status, "failure")
      assert.strictEqual(completed.attributes?.error_class, "TicketNotFound")
      assert.isNumber(completed.attributes?.duration_ms)
      assert.isNumber(span.attributes["botanu.run.duration_ms"])
    })))

  it.effect("a defect counts as a failure with the defect's class", () =>
    withTracking(Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.die(new RangeError("bad index")).pipe(botanuWorkflow("dying", { eventId: "e", customerId: "c" }))
      )
      assert.isTrue(Exit.isFailure(exit))
      const span = yield* spanNamed("botanu.run/dying")
      assert.strictEqual(span.attributes["botanu.outcome.status"], "failed")
      assert.strictEqual(eventNamed(span, "botanu.run.completed").attributes?.error_class, "RangeError")
    })))

  it.effect("an interrupted run records failure with error class interrupted and outcome canceled", () =>
    withTracking(Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          botanuWorkflow("interrupted", { eventId: "e", customerId: "c" })
        )
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      const span = yield* spanNamed("botanu.run/interrupted")
      assert.deepStrictEqual(span.status, { code: SpanStatusCode.ERROR, message: "interrupted" })
      assert.strictEqual(span.attributes["status.interrupted"], true)
      assert.isTrue(span.ended)
      assert.strictEqual(span.events.filter((event) => event.name === "exception").length, 0)
      assert.strictEqual(span.attributes["botanu.outcome.status"], "canceled")
      const completed = eventNamed(span, "botanu.run.completed")
      assert.strictEqual(completed.attributes?.status, "failure")
      assert.strictEqual(completed.attributes?.error_class, "interrupted")
    })))

  it.effect("an outcome the program emitted survives completion, success or failure", () =>
    withTracking(Effect.gen(function*() {
      yield* emitOutcome("partial", { valueType: "tickets", valueAmount: 3 }).pipe(
        botanuWorkflow("partial", { eventId: "e", customerId: "c" })
      )
      const partial = yield* spanNamed("botanu.run/partial")
      assert.strictEqual(partial.attributes["botanu.outcome.status"], "partial")
      const completed = eventNamed(partial, "botanu.run.completed")
      assert.strictEqual(completed.attributes?.status, "success")
      assert.strictEqual(completed.attributes?.value_type, "tickets")
      assert.strictEqual(completed.attributes?.value_amount, 3)

      yield* Effect.exit(
        emitOutcome("timeout").pipe(
          Effect.zipRight(Effect.fail("late")),
          botanuWorkflow("timed_out", { eventId: "e", customerId: "c" })
        )
      )
      const timedOut = yield* spanNamed("botanu.run/timed_out")
      assert.strictEqual(timedOut.attributes["botanu.outcome.status"], "timeout")
      assert.strictEqual(eventNamed(timedOut, "botanu.run.completed").attributes?.status, "failure")
    })))
})

describe("botanuWorkflow: programmer errors and bad input", () => {
  const invalidRun = (eventId: unknown, customerId: unknown) =>
    Effect.gen(function*() {
      const ran = yield* Ref.make(false)
      const exit = yield* Effect.exit(
        Ref.set(ran, true).pipe(
          botanuWorkflow("checked", { eventId, customerId } as { eventId: string; customerId: string })
        )
      )
      assert.isFalse(yield* Ref.get(ran), "the program does not run")
      assert.deepStrictEqual(yield* TrackingTest.finishedSpans, [], "no run span is recorded")
      assert.isTrue(Exit.isFailure(exit))
      const defect = Exit.isFailure(exit) ? Cause.dieOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(defect), "a defect, not a typed failure")
      const error = Option.getOrThrow(defect)
      assert.instanceOf(error, InvalidWorkflowOptions)
      return error as InvalidWorkflowOptions
    }).pipe(withTracking)

  it.effect("an empty eventId is a defect with a clear message; the program does not run", () =>
    Effect.gen(function*() {
      const error = yield* invalidRun("", "acme")
      assert.strictEqual(error._tag, "InvalidWorkflowOptions")
      assert.strictEqual(error.field, "eventId")
      assert.strictEqual(error.workflow, "checked")
      assert.strictEqual(
        error.message,
        "workflow \"checked\": eventId is empty; a run needs a non-empty eventId to attribute its cost"
      )
    }))

  it.effect("a blank or missing customerId, or a non-string id, is the same defect", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* invalidRun("e", "   ")).field, "customerId")
      const missing = yield* invalidRun("e", undefined)
      assert.strictEqual(missing.field, "customerId")
      assert.include(missing.message, "customerId is undefined, not a string")
      const numeric = yield* invalidRun(42, "c")
      assert.strictEqual(numeric.field, "eventId")
      assert.include(numeric.message, "eventId is 42, not a string")
    }))

  it.effect("a blank name, an unknown span kind and a non-string environment are sanitized with warnings", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.void.pipe(
        botanuWorkflow(" ", {
          eventId: "e",
          customerId: "c",
          spanKind: "sideways" as any,
          environment: 7 as any,
          tenantId: ""
        }),
        noEnvironment
      )
      const span = yield* spanNamed("botanu.run/unknown")
      assert.strictEqual(span.kind, SpanKind.SERVER)
      assert.strictEqual(span.attributes["botanu.workflow"], "unknown")
      assert.strictEqual(span.attributes["botanu.environment"], "production")
      assert.isUndefined(span.attributes["botanu.tenant_id"])
      assert.deepStrictEqual(warningsOf(span), [
        "name: empty; recorded as \"unknown\"",
        "spanKind: a string of 8 chars is not a span kind; recorded as \"server\"",
        "environment: 7 is not a string; dropped"
      ])
    })))

  it.effect("works with no tracking layer: the run's value, error and context are all there", () =>
    Effect.gen(function*() {
      const value = yield* Effect.gen(function*() {
        yield* llmCall("m")
        const run = Option.getOrThrow(yield* currentRun)
        return `${run.workflow}/${run.customerId}`
      }).pipe(botanuWorkflow("bare", { eventId: "e", customerId: "c" }))
      assert.strictEqual(value, "bare/c")
      const exit = yield* Effect.exit(Effect.fail("no").pipe(botanuWorkflow("bare", { eventId: "e", customerId: "c" })))
      assert.deepStrictEqual(exit, Exit.fail("no"))
    }))
})

describe("Workflow.fn", () => {
  interface Ticket {
    readonly id: string
    readonly customerId: string
    readonly text: string
  }

  it.effect("takes the ids from the handler's arguments, for generator and effect bodies", () =>
    withTracking(Effect.gen(function*() {
      const answer = Workflow.fn("support", {
        eventId: (ticket: Ticket) => ticket.id,
        customerId: (ticket) => ticket.customerId,
        tenantId: "t"
      })(function*(ticket: Ticket, prefix: string) {
        yield* llmCall("gpt-4o")
        const run = Option.getOrThrow(yield* currentRun)
        return `${prefix}${ticket.text.length}:${run.eventId}`
      })
      const classify = Workflow.fn("classify", { eventId: (n: number) => `n-${n}`, customerId: "fixed" })(
        (n: number) => Effect.succeed(n * 2).pipe(Effect.tap(() => llmCall("small")))
      )

      assert.strictEqual(yield* answer({ id: "T-1", customerId: "acme", text: "hello" }, "len="), "len=5:T-1")
      assert.strictEqual(yield* answer({ id: "T-2", customerId: "globex", text: "hi" }, ""), "2:T-2")
      assert.strictEqual(yield* classify(21), 42)

      const spans = yield* TrackingTest.finishedSpans
      const runs = spans.filter((span) => span.name === "botanu.run/support")
      assert.deepStrictEqual(
        runs.map((span) => [span.attributes["botanu.event_id"], span.attributes["botanu.customer_id"]]),
        [["T-1", "acme"], ["T-2", "globex"]]
      )
      assert.strictEqual(runs[0].attributes["botanu.tenant_id"], "t")
      const classifyRun = yield* spanNamed("botanu.run/classify")
      assert.strictEqual(classifyRun.attributes["botanu.event_id"], "n-21")
      assert.strictEqual(classifyRun.attributes["botanu.customer_id"], "fixed")
      assert.deepStrictEqual(idsOf(yield* spanNamed("chat small")), idsOf(classifyRun))
    })))

  it.effect("an id function that returns a blank id or throws is a defect; the body does not run", () =>
    withTracking(Effect.gen(function*() {
      let calls = 0
      const handle = Workflow.fn("strict", {
        eventId: (id: string) => id,
        customerId: (id) => {
          if (id === "throw") throw new Error("no customer")
          return "c"
        }
      })((_id: string) => Effect.sync(() => calls++))
      const blank = yield* Effect.exit(handle(""))
      const thrown = yield* Effect.exit(handle("throw"))
      assert.strictEqual(calls, 0)
      const blankDefect = Exit.isFailure(blank) ? Option.getOrThrow(Cause.dieOption(blank.cause)) : undefined
      assert.instanceOf(blankDefect, InvalidWorkflowOptions)
      assert.strictEqual((blankDefect as InvalidWorkflowOptions).field, "eventId")
      const thrownDefect = Exit.isFailure(thrown) ? Option.getOrThrow(Cause.dieOption(thrown.cause)) : undefined
      assert.instanceOf(thrownDefect, InvalidWorkflowOptions)
      assert.strictEqual((thrownDefect as InvalidWorkflowOptions).field, "customerId")
      assert.strictEqual(((thrownDefect as InvalidWorkflowOptions).cause as Error).message, "no customer")
      assert.deepStrictEqual(yield* TrackingTest.finishedSpans, [])
      assert.strictEqual(yield* handle("ok"), 0)
      assert.strictEqual(calls, 1)
    })))
})
