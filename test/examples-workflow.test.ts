import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import { Effect } from "effect"
import * as workflowAndOutcomes from "../examples/workflow-and-outcomes.js"
import { TrackingTest } from "../src/index.js"
import { onlySpanNamed, runExample } from "./utils/examples.js"

describe("examples/workflow-and-outcomes.ts", () => {
  it.effect("one run: two LLM calls and a tool call carrying its ids, and the outcome on the run span", () =>
    Effect.gen(function*() {
      const reply = yield* workflowAndOutcomes.program
      assert.strictEqual(reply, "Order A-1002 is shipped.")
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 4)
      const run = onlySpanNamed(spans, "botanu.run/support_ticket")
      assert.strictEqual(run.kind, SpanKind.SERVER)
      const ids = {
        "botanu.run_id": run.attributes["botanu.run_id"],
        "botanu.workflow": "support_ticket",
        "botanu.event_id": "T-1001",
        "botanu.customer_id": "acme-corp"
      }
      for (const name of ["chat gpt-4o-mini", "execute_tool lookup_orders", "chat claude-3-5-sonnet-20241022"]) {
        const span = onlySpanNamed(spans, name)
        assert.strictEqual(span.parentSpanContext?.spanId, run.spanContext().spanId, name)
        for (const [key, value] of Object.entries(ids)) {
          assert.strictEqual(span.attributes[key], value, `${name} ${key}`)
        }
      }
      for (const [key, value] of Object.entries(ids)) assert.strictEqual(run.attributes[key], value, key)
      assert.strictEqual(run.attributes["botanu.outcome.status"], "success")
      assert.strictEqual(run.attributes["botanu.outcome.value_type"], "ticket_resolved")
      assert.strictEqual(run.attributes["botanu.outcome.value_amount"], 1)
      assert.strictEqual(run.attributes["botanu.outcome.confidence"], 0.92)
      assert.strictEqual(run.attributes["botanu.outcome.metadata.intent"], "order_status")
      assert.strictEqual(run.attributes["botanu.outcome.metadata.orders_found"], 2)
      assert.deepStrictEqual(run.events.map((event) => event.name), [
        "botanu.run.started",
        "botanu.outcome_emitted",
        "botanu.run.completed"
      ])
      // Anthropic reports input without cache reads: 640 + 512.
      const replySpan = onlySpanNamed(spans, "chat claude-3-5-sonnet-20241022")
      assert.strictEqual(replySpan.attributes["gen_ai.usage.input_tokens"], 1152)
      assert.strictEqual(onlySpanNamed(spans, "execute_tool lookup_orders").attributes["botanu.tool.items_returned"], 2)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a ticket that is not about an order is abandoned after one LLM call", () =>
    Effect.gen(function*() {
      const reply = yield* workflowAndOutcomes.handleTicket({ id: "T-2", customerId: "globex", text: "Hello!" })
      assert.strictEqual(reply, "Forwarded to a human agent.")
      const spans = yield* TrackingTest.finishedSpans
      assert.deepStrictEqual(spans.map((span) => span.name), ["chat gpt-4o-mini", "botanu.run/support_ticket"])
      const run = onlySpanNamed(spans, "botanu.run/support_ticket")
      assert.strictEqual(run.attributes["botanu.customer_id"], "globex")
      assert.strictEqual(run.attributes["botanu.outcome.status"], "abandoned")
      assert.strictEqual(run.attributes["botanu.outcome.reason"], "not an order question")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script, exits 0 and prints the calls indented under the run span with its events", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/workflow-and-outcomes.ts")
      assert.strictEqual(code, 0, stderr)
      // The run span first, then its calls in the order they started, each under a tree guide.
      const positions = [
        /^▸ botanu\.run\/support_ticket /m,
        /^├─▸ chat gpt-4o-mini /m,
        /^├─▸ execute_tool lookup_orders /m,
        /^└─▸ chat claude-3-5-sonnet-20241022 /m
      ].map((pattern) => stdout.search(pattern))
      assert.isAtLeast(positions[0], 0, stdout)
      for (let i = 1; i < positions.length; i++) assert.isAbove(positions[i], positions[i - 1], stdout)
      assert.match(stdout, /botanu\.customer_id=acme-corp/)
      assert.match(stdout, /botanu\.outcome\.status=success/)
      assert.match(stdout, /• botanu\.outcome_emitted/)
      assert.include(stdout, "reply: Order A-1002 is shipped.")
    }))
})
