/**
 * A tracked span is made in the step that opens the call, not through `Effect.makeSpan` (see
 * `trackedSpan.unsafeMakeSpan`): these check, against spans Effect makes itself in the same place, that it has the
 * same parent, links and fiber annotations, and that tracing turned off still runs the call; each both with the
 * fiber's own `setFiberRef` and with the operations a fiber without it gets.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Context, Effect, Exit, Fiber, Stream, Tracer } from "effect"
import {
  botanuWorkflow,
  LlmTracker,
  ToolTracker,
  trackAgent,
  TrackingTest,
  trackLlmCall,
  trackLlmStream,
  trackToolCall
} from "../src/index.js"
import { fiberAccess } from "../src/internal/trackedSpan.js"

/** Each way the library opens a span, around `body`; the name of the span it makes. */
const contenders: ReadonlyArray<
  readonly [string, <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>, string]
> = [
  [
    "trackLlmCall",
    (body) => trackLlmCall(body, { provider: "openai", model: "gpt-4o" }) as never,
    "chat gpt-4o"
  ],
  ["trackToolCall", (body) => trackToolCall(body, { toolName: "lookup" }) as never, "execute_tool lookup"],
  ["trackAgent", (body) => trackAgent(body, { name: "helper" }), "invoke_agent helper"],
  [
    "botanuWorkflow",
    (body) => botanuWorkflow(body, "support", { eventId: "E-1", customerId: "acme" }),
    "botanu.run/support"
  ],
  [
    "trackLlmStream",
    <A, E, R>(body: Effect.Effect<A, E, R>) =>
      Stream.runHead(
        trackLlmStream(Stream.fromEffect(body), { provider: "openai", model: "gpt-4o" }) as Stream.Stream<A, E, R>
      ).pipe(Effect.flatten) as unknown as Effect.Effect<A, E, R>,
    "chat gpt-4o"
  ]
]

const byName = (spans: ReadonlyArray<ReadableSpan>, name: string): ReadableSpan => {
  const found = spans.filter((span) => span.name === name)
  assert.strictEqual(found.length, 1, `one span named ${name}`)
  return found[0]
}

const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId

/** Runs `f` once with the fiber's `setFiberRef`, once with the operations. */
const bothWays = (name: string, f: () => Effect.Effect<void, unknown, TrackingTest.TrackingTest>) => {
  for (const direct of [true, false]) {
    it.effect(`${name} (${direct ? "setFiberRef" : "FiberRef operations"})`, () =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          fiberAccess.direct = direct
        }),
        () => f().pipe(Effect.provide(TrackingTest.layer)),
        () =>
          Effect.sync(() => {
            fiberAccess.direct = true
          })
      ))
  }
}

describe("the span of a tracked call, made as Effect makes a span", () => {
  for (const [label, track, spanName] of contenders) {
    bothWays(
      `${label}: parent, links and annotations as Effect.withSpan's in the same place`,
      () =>
        Effect.gen(function*() {
          const linked = Tracer.externalSpan({
            traceId: "0af7651916cd43dd8448eb211c80319c",
            spanId: "b7ad6b7169203331"
          })
          // A span that does not propagate is skipped: both spans' parent is "outer".
          const inner = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
            effect.pipe(
              Effect.withSpan("hidden", { context: Context.make(Tracer.DisablePropagation, true) }),
              Effect.linkSpans(linked, { "link.kind": "cause" }),
              Effect.annotateSpans("app.tenant", "t-7")
            )
          const value = yield* Effect.gen(function*() {
            yield* inner(Effect.void.pipe(Effect.withSpan("reference")))
            return yield* inner(track(Effect.succeed(42)))
          }).pipe(Effect.withSpan("outer"))
          assert.strictEqual(value, 42)

          const spans = yield* TrackingTest.finishedSpans
          const outer = byName(spans, "outer")
          const reference = byName(spans, "reference")
          const tracked = byName(spans, spanName)
          assert.strictEqual(parentId(reference), outer.spanContext().spanId)
          assert.strictEqual(parentId(tracked), parentId(reference))
          assert.strictEqual(tracked.spanContext().traceId, outer.spanContext().traceId)
          assert.deepStrictEqual(
            tracked.links.map((link) => [link.context.spanId, link.attributes]),
            reference.links.map((link) => [link.context.spanId, link.attributes])
          )
          assert.deepStrictEqual(tracked.links.map((link) => link.context.spanId), ["b7ad6b7169203331"])
          assert.strictEqual(tracked.attributes["app.tenant"], reference.attributes["app.tenant"])
          assert.strictEqual(tracked.attributes["app.tenant"], "t-7")
          assert.isAtLeast(tracked.startTime[0], reference.startTime[0])
        })
    )

    bothWays(`${label}: a root call under no span, and the span current inside the call`, () =>
      Effect.gen(function*() {
        const seen = yield* track(Effect.map(Effect.currentSpan, (span) => span.spanId))
        const spans = yield* TrackingTest.finishedSpans
        const tracked = byName(spans, spanName)
        assert.strictEqual(parentId(tracked), undefined)
        // Inside a stream, the effect runs inside the call's span too.
        assert.strictEqual(seen, tracked.spanContext().spanId)
        // Outside, the context is the one before the call: no span.
        assert.isTrue(Exit.isFailure(yield* Effect.exit(Effect.currentSpan)))
      }))

    bothWays(
      `${label}: with tracing turned off, the call runs, nothing is exported, the context is restored`,
      () =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(track(Effect.fail("boom")).pipe(Effect.withTracerEnabled(false)))
          assert.deepStrictEqual(exit, Exit.fail("boom"))
          const value = yield* track(Effect.succeed("ok")).pipe(Effect.withTracerEnabled(false))
          assert.strictEqual(value, "ok")
          assert.deepStrictEqual((yield* TrackingTest.finishedSpans).map((span) => span.name), [])
          assert.isTrue(Exit.isFailure(yield* Effect.exit(Effect.currentSpan)))
        })
    )
  }

  bothWays("an interrupted call ends its span once and restores the context", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.never.pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }), Effect.fork)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      const spans = yield* TrackingTest.finishedSpans
      assert.deepStrictEqual(spans.map((span) => [span.name, span.attributes["error.type"]]), [[
        "chat gpt-4o",
        "interrupted"
      ]])
      assert.isTrue(Exit.isFailure(yield* Effect.exit(Effect.currentSpan)))
    }))

  bothWays("the trackers are provided inside and gone after", () =>
    Effect.gen(function*() {
      yield* Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: 3, outputTokens: 1 })).pipe(
        trackLlmCall({ provider: "openai", model: "gpt-4o" })
      )
      yield* Effect.flatMap(ToolTracker, (tracker) => tracker.setResult({ success: true })).pipe(
        trackToolCall({ toolName: "lookup" })
      )
      const after = yield* Effect.context<never>()
      assert.isFalse(Context.getOption(after, LlmTracker)._tag === "Some")
      assert.isFalse(Context.getOption(after, ToolTracker)._tag === "Some")
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(byName(spans, "chat gpt-4o").attributes["gen_ai.usage.input_tokens"], 3)
    }))
})
