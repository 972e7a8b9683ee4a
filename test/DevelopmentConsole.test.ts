/**
 * `Tracking.layerDevelopment`'s console: real spans through the layer, the printed blocks read back with `write`.
 * Durations come from the TestClock (`it.effect`), so the blocks are exact.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, TestClock, Tracer } from "effect"
import { Tracking, trackLlmCall } from "../src/index.js"

/** A layer that records what it prints, and the records. */
const recorded = (options: Omit<Tracking.DevelopmentOptions, "write"> = {}) => {
  const written: Array<string> = []
  return { written, layer: Tracking.layerDevelopment({ ...options, write: (text) => written.push(text) }) }
}

const step =
  (name: string, millis: number, attributes: Record<string, unknown> = {}) => (effect: Effect.Effect<void>) =>
    Effect.zipRight(effect, TestClock.adjust(`${millis} millis`)).pipe(
      Effect.withSpan(name, { attributes, captureStackTrace: false })
    )

const span = (name: string) => Effect.withSpan(name, { captureStackTrace: false })

// A workflow as an application would run it: two calls started in order, the first with a tool call nested in it,
// each ending before the workflow; enough attributes to wrap, one of them longer than a line.
const workflow = Effect.void.pipe(
  step("execute_tool lookup_orders", 2, { "gen_ai.tool.name": "lookup_orders", "botanu.tool.items_returned": 2 }),
  step("chat gpt-4o-mini", 5, {
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 12,
    "gen_ai.response.id": "chatcmpl-123"
  }),
  Effect.zipRight(
    Effect.void.pipe(
      step("chat claude-3-5-sonnet", 3, {
        "gen_ai.prompt": "Summarise the customer's last three orders and say which of them shipped late, and why, " +
          "in two sentences at most, without naming the carrier; the customer is on the phone and in a hurry."
      })
    )
  ),
  step("botanu.run/support_ticket", 1, {
    "botanu.workflow": "support_ticket",
    "botanu.customer_id": "acme-corp",
    "botanu.event_id": "T-1001",
    "botanu.outcome.reason": "replied\n(131 chars)",
    "botanu.run_id": "019a2f0e-7c1b-7d3e-9b8f-2a1c3d4e5f60"
  })
)

const ansi = /\x1b\[/

const stripAnsi = (text: string) => text.replace(/\x1b\[\d+m/g, "")

const assertWidth = (text: string, columns: number) => {
  for (const line of text.split("\n")) assert.isAtMost(line.length, columns, `longer than ${columns}: ${line}`)
}

const withNoColor = <A, E, R>(value: string | undefined, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const saved = process.env.NO_COLOR
      if (value === undefined) delete process.env.NO_COLOR
      else process.env.NO_COLOR = value
      return saved
    }),
    () => effect,
    (saved) =>
      Effect.sync(() => {
        if (saved === undefined) delete process.env.NO_COLOR
        else process.env.NO_COLOR = saved
      })
  )

describe("Tracking.layerDevelopment console", () => {
  it.effect("prints a trace as one tree when its root ends: parent first, children in start order, wrapped", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded({ columns: 60 })
      yield* Effect.provide(workflow, layer)
      // One write for the whole trace, when the run span ends.
      assert.deepStrictEqual(written, [
        [
          "▸ botanu.run/support_ticket  11.0ms  OK",
          "│ botanu.customer_id=acme-corp  botanu.event_id=T-1001",
          // A value never moves the cursor: control characters are escaped.
          "│ botanu.outcome.reason=replied\\n(131 chars)",
          "│ botanu.run_id=019a2f0e-7c1b-7d3e-9b8f-2a1c3d4e5f60",
          "│ botanu.workflow=support_ticket",
          "├─▸ chat gpt-4o-mini  7.0ms  OK",
          "│ │ gen_ai.request.model=gpt-4o-mini",
          "│ │ gen_ai.response.id=chatcmpl-123",
          "│ │ gen_ai.usage.input_tokens=1000",
          "│ │ gen_ai.usage.output_tokens=12",
          "│ └─▸ execute_tool lookup_orders  2.0ms  OK",
          "│     botanu.tool.items_returned=2",
          "│     gen_ai.tool.name=lookup_orders",
          "└─▸ chat claude-3-5-sonnet  3.0ms  OK",
          // Longer than a line: lines of its own, broken at spaces, continuation lines indented.
          "    gen_ai.prompt=Summarise the customer's last three orders",
          "      and say which of them shipped late, and why, in two",
          "      sentences at most, without naming the carrier; the",
          "      customer is on the phone and in a hurry."
        ].join("\n")
      ])
      assertWidth(written[0], 60)
    }))

  it.effect("wraps between pairs at 80 columns by default; a pair longer than 4 lines is cut with …", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded()
      const attributes: Record<string, unknown> = { "botanu.payload": "x".repeat(400) }
      for (let i = 0; i < 12; i++) attributes[`botanu.key_${String(i).padStart(2, "0")}`] = `value-${i}`
      yield* Effect.provide(Effect.void.pipe(step("chat gpt-4o-mini", 1, attributes)), layer)
      assert.deepStrictEqual(written[0].split("\n"), [
        "▸ chat gpt-4o-mini  1.0ms  OK",
        "  botanu.key_00=value-0  botanu.key_01=value-1  botanu.key_02=value-2",
        "  botanu.key_03=value-3  botanu.key_04=value-4  botanu.key_05=value-5",
        "  botanu.key_06=value-6  botanu.key_07=value-7  botanu.key_08=value-8",
        "  botanu.key_09=value-9  botanu.key_10=value-10  botanu.key_11=value-11",
        `  botanu.payload=${"x".repeat(63)}`,
        `    ${"x".repeat(76)}`,
        `    ${"x".repeat(76)}`,
        `    ${"x".repeat(75)}…`
      ])
      assertWidth(written[0], 80)
    }))

  const outcomes = (layer: ReturnType<typeof recorded>["layer"]) =>
    Effect.gen(function*() {
      yield* Effect.either(Effect.fail(new Error("quota exceeded")).pipe(span("execute_tool issue_refund")))
      const waiting = yield* Effect.fork(Effect.never.pipe(span("chat claude-3-5-sonnet")))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("4 millis")
      yield* Fiber.interrupt(waiting)
    }).pipe(
      Effect.withSpan("botanu.run/refund_request", {
        attributes: { "botanu.customer_id": "acme-corp" },
        captureStackTrace: false
      }),
      Effect.provide(layer)
    )

  const outcomesPrinted = [
    "▸ botanu.run/refund_request  4.0ms  OK",
    "│ botanu.customer_id=acme-corp",
    "├─▸ execute_tool issue_refund  0.0ms  ERROR quota exceeded",
    "│   • exception: quota exceeded",
    // The bridge's status.interrupted and span.label attributes say what the status says: not repeated.
    "└─▸ chat claude-3-5-sonnet  4.0ms  INTERRUPTED"
  ].join("\n")

  it.effect("shows a failed span's ERROR and message, its exception event, and an interrupted span", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded()
      yield* outcomes(layer)
      assert.deepStrictEqual(written, [outcomesPrinted])
    }))

  it.effect("no colours when write is given, colours when colors: true, never with NO_COLOR", () =>
    Effect.gen(function*() {
      const plain = recorded()
      yield* withNoColor(undefined, outcomes(plain.layer))
      assert.notMatch(plain.written[0], ansi)

      const colored = recorded({ colors: true })
      yield* withNoColor(undefined, outcomes(colored.layer))
      const text = colored.written[0]
      assert.strictEqual(stripAnsi(text), outcomesPrinted)
      assert.include(text, "\x1b[2m├─▸ \x1b[22m\x1b[1mexecute_tool issue_refund\x1b[22m  \x1b[2m0.0ms\x1b[22m")
      assert.include(text, "\x1b[31mERROR\x1b[39m \x1b[31mquota exceeded\x1b[39m")
      assert.include(text, "\x1b[33mINTERRUPTED\x1b[39m")
      assert.include(text, "\x1b[32mOK\x1b[39m")
      assert.include(text, "\x1b[2mbotanu.customer_id=\x1b[22macme-corp")

      // https://no-color.org: set and not empty wins over the option; empty counts as not set.
      const noColor = recorded({ colors: true })
      yield* withNoColor("1", outcomes(noColor.layer))
      assert.deepStrictEqual(noColor.written, [outcomesPrinted])
      const emptyNoColor = recorded({ colors: true })
      yield* withNoColor("", outcomes(emptyNoColor.layer))
      assert.match(emptyNoColor.written[0], ansi)
    }))

  it.effect("a tracked call cut by a timeout (status ERROR interrupted) prints INTERRUPTED, not ERROR", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded()
      yield* Effect.gen(function*() {
        const fiber = yield* Effect.fork(
          Effect.never.pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }), Effect.timeout("3 millis"))
        )
        yield* TestClock.adjust("3 millis")
        yield* Fiber.await(fiber)
      }).pipe(Effect.provide(layer))
      const [header, ...rest] = written[0].split("\n")
      assert.strictEqual(header, "▸ chat gpt-4o  3.0ms  INTERRUPTED")
      assert.include(rest.join("\n"), "error.type=interrupted")
      assert.notInclude(written[0], "status.interrupted")
    }))

  it.effect("a server span continuing a remote trace is the root of what this process prints", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded()
      yield* Effect.void.pipe(
        span("db query"),
        Effect.withSpan("http.server POST /tickets", { kind: "server", captureStackTrace: false }),
        Effect.withParentSpan(
          Tracer.externalSpan({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" })
        ),
        Effect.provide(layer)
      )
      assert.deepStrictEqual(written, ["▸ http.server POST /tickets  0.0ms  OK\n└─▸ db query  0.0ms  OK"])
    }))

  it.effect("a child that ends after its root was printed is printed on its own, naming its parent", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded()
      yield* Effect.gen(function*() {
        const release = yield* Deferred.make<void>()
        const fibers = yield* Effect.gen(function*() {
          yield* Effect.void.pipe(span("chat gpt-4o-mini"))
          // Forked fibers that outlive the run: one in a span that is running when the run ends, one that starts a
          // span under the run after the run was printed.
          const followUp = yield* Deferred.await(release).pipe(
            Effect.zipRight(Effect.void.pipe(span("execute_tool notify"))),
            span("send_follow_up"),
            Effect.forkDaemon
          )
          const audit = yield* Deferred.await(release).pipe(
            Effect.zipRight(Effect.void.pipe(span("audit_log"))),
            Effect.forkDaemon
          )
          yield* Effect.yieldNow()
          return [followUp, audit]
        }).pipe(span("botanu.run/support_ticket"))
        assert.deepStrictEqual(written, [
          [
            "▸ botanu.run/support_ticket  0.0ms  OK",
            "├─▸ chat gpt-4o-mini  0.0ms  OK",
            "└─▸ send_follow_up  running…  (printed when it ends)"
          ].join("\n")
        ])
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.joinAll(fibers)
      }).pipe(Effect.provide(layer))
      assert.sameMembers(written.slice(1), [
        [
          "▸ send_follow_up  0.0ms  OK",
          "│ (child of botanu.run/support_ticket, printed earlier)",
          "└─▸ execute_tool notify  0.0ms  OK"
        ].join("\n"),
        "▸ audit_log  0.0ms  OK  (child of botanu.run/support_ticket, printed earlier)"
      ])
    }))

  it.effect("holds at most 10,000 spans: past that the oldest trace is printed as it is, with a note", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded()
      // A long-lived server span whose children end while it runs.
      yield* Effect.forEach(
        Array.from({ length: 10_000 }, (_, i) => i),
        (i) => Effect.void.pipe(span(`step ${i}`)),
        { discard: true }
      ).pipe(span("http.server GET /events"), Effect.provide(layer))
      assert.strictEqual(written.length, 3)
      // When the 10,000th child starts, the server span and 9,999 children are held: they are printed.
      const early = written[0].split("\n")
      assert.strictEqual(early.length, 10_000)
      assert.deepStrictEqual(early.slice(0, 3), [
        "▸ http.server GET /events  running…  (printed early: more than 10000 spans held)",
        "├─▸ step 0  0.0ms  OK",
        "├─▸ step 1  0.0ms  OK"
      ])
      assert.strictEqual(early[9_999], "└─▸ step 9998  0.0ms  OK")
      assert.deepStrictEqual(written.slice(1), [
        "▸ step 9999  0.0ms  OK  (child of http.server GET /events, printed earlier)",
        "▸ http.server GET /events  0.0ms  OK  (printed earlier while running)"
      ])
    }))

  it.effect("prints what is held when the layer shuts down before a root ended", () =>
    Effect.gen(function*() {
      const { layer, written } = recorded()
      const server = yield* Effect.gen(function*() {
        const ready = yield* Deferred.make<void>()
        const server = yield* Effect.gen(function*() {
          yield* Effect.void.pipe(span("http.server GET /health"))
          yield* Deferred.succeed(ready, undefined)
          yield* Effect.never
        }).pipe(
          Effect.withSpan("http.server", { attributes: { "server.port": 8080 }, captureStackTrace: false }),
          Effect.forkDaemon
        )
        yield* Deferred.await(ready)
        assert.deepStrictEqual(written, [])
        return server
      }).pipe(Effect.provide(layer))
      // The SDK flushes, then shuts down: printed once.
      assert.deepStrictEqual(written, [
        [
          "▸ http.server  running…  (printed at flush)",
          "│ server.port=8080",
          "└─▸ http.server GET /health  0.0ms  OK"
        ].join("\n")
      ])
      // After shutdown, nothing more.
      yield* Fiber.interrupt(server)
      assert.strictEqual(written.length, 1)
    }))
})
