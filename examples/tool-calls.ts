/**
 * Tool calls: a tool call made while an LLM call runs is recorded as a child span of that call.
 *
 * Run it: `npx tsx examples/tool-calls.ts`
 */
import { Effect } from "effect"
import { pathToFileURL } from "node:url"
import { LlmTracker, ToolTracker, Tracking, trackLlmCall, trackToolCall } from "../src/index.js"

interface Order {
  readonly id: string
  readonly status: string
}

// A tool the model asked for. The lookup is in memory so that the example runs anywhere.
const lookupOrders = (customerId: string) =>
  Effect.gen(function*() {
    const tracker = yield* ToolTracker
    const orders: Array<Order> = [{ id: "A-1001", status: "shipped" }, { id: "A-1002", status: "processing" }]
    yield* tracker.setResult({
      success: true,
      itemsReturned: orders.length,
      bytesProcessed: JSON.stringify(orders).length
    })
    yield* tracker.addMetadata({ customer_id: customerId })
    return orders
  }).pipe(trackToolCall({ toolName: "lookup_orders", toolCallId: "call_abc123", provider: "anthropic" }))

const answerWithTools = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  // The model's first turn asked for `lookup_orders`; run it, then record the usage of the whole call.
  const orders = yield* lookupOrders("cust-42")
  yield* tracker.setTokens({ inputTokens: 320, outputTokens: 45, cacheReadTokens: 200 })
  yield* tracker.setFinishReason("tool_use")
  return `You have ${orders.length} orders; ${orders.filter((order) => order.status === "shipped").length} shipped.`
})

export const program = answerWithTools.pipe(
  trackLlmCall({ provider: "anthropic", model: "claude-3-5-sonnet-20241022" })
)

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap((answer) => Effect.log(answer)),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
