/**
 * Workflow runs and outcomes: a support handler serves a customer's ticket with two LLM calls and a tool call,
 * then records what it achieved. Each call's span carries the run's ids (`botanu.run_id`, `botanu.workflow`,
 * `botanu.event_id`, `botanu.customer_id`), and the outcome lands on the run span, so the cost of the calls can be
 * set against the value of the run.
 *
 * The provider responses are plain objects so that it runs without a network.
 *
 * Run it: `npx tsx examples/workflow-and-outcomes.ts`
 */
import { Effect } from "effect"
import { pathToFileURL } from "node:url"
import { emitOutcome, LlmTracker, ToolTracker, Tracking, trackLlmCall, trackToolCall, Workflow } from "../src/index.js"

export interface Ticket {
  readonly id: string
  readonly customerId: string
  readonly text: string
}

interface Order {
  readonly id: string
  readonly status: string
}

// First LLM call: what is the ticket about?
const classify = (ticket: Ticket) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens: 182, outputTokens: 3 })
    yield* tracker.setFinishReason("stop")
    return ticket.text.toLowerCase().includes("order") ? "order_status" : "other"
  }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

// The tool: the customer's orders. In memory here; your database or API in your app.
const lookupOrders = (customerId: string) =>
  Effect.gen(function*() {
    const tracker = yield* ToolTracker
    const orders: Array<Order> = customerId === "acme-corp"
      ? [{ id: "A-1001", status: "delivered" }, { id: "A-1002", status: "shipped" }]
      : []
    yield* tracker.setResult({ success: true, itemsReturned: orders.length })
    return orders
  }).pipe(trackToolCall({ toolName: "lookup_orders", toolCallId: "call_7f3a" }))

// Second LLM call: the reply, written from the orders.
const draftReply = (ticket: Ticket, orders: ReadonlyArray<Order>) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens: 640, outputTokens: 85, cacheReadTokens: 512 })
    yield* tracker.setFinishReason("end_turn")
    const asked = orders.find((order) => ticket.text.includes(order.id))
    return asked === undefined
      ? `You have ${orders.length} orders; none matches your question.`
      : `Order ${asked.id} is ${asked.status}.`
  }).pipe(trackLlmCall({ provider: "anthropic", model: "claude-3-5-sonnet-20241022" }))

/** One run per ticket: the ticket is the business event, its customer the one the cost is attributed to. */
export const handleTicket = Workflow.fn("support_ticket", {
  eventId: (ticket: Ticket) => ticket.id,
  customerId: (ticket) => ticket.customerId
})(function*(ticket: Ticket) {
  const intent = yield* classify(ticket)
  if (intent !== "order_status") {
    yield* emitOutcome("abandoned", { reason: "not an order question" })
    return "Forwarded to a human agent."
  }
  const orders = yield* lookupOrders(ticket.customerId)
  const reply = yield* draftReply(ticket, orders)
  yield* emitOutcome("success", {
    valueType: "ticket_resolved",
    valueAmount: 1,
    confidence: 0.92,
    metadata: { intent, orders_found: orders.length }
  })
  return reply
})

export const program = handleTicket({ id: "T-1001", customerId: "acme-corp", text: "Where is my order A-1002?" })

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap((reply) => Effect.log(`reply: ${reply}`)),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
