/**
 * Agents and the tool loop: the model asks for a tool, the app runs it, the model answers with its result. The
 * OpenTelemetry GenAI conventions lay this out as siblings under one agent span, which `trackAgent` opens:
 *
 *   invoke_agent order_assistant      botanu.agent.cost_usd, .input_tokens, .output_tokens, .llm_calls, .tool_calls
 *   ├─ chat gpt-4o-mini               finish reason tool_calls
 *   ├─ execute_tool lookup_order      gen_ai.tool.type=function
 *   └─ chat gpt-4o-mini               finish reason stop
 *
 * The provider responses are plain objects in the shape of OpenAI chat completions, read with `usageFrom`, so that
 * it runs without a network.
 *
 * Run it: `npx tsx examples/agent-tool-loop.ts`
 */
import { Effect } from "effect"
import { pathToFileURL } from "node:url"
import { ToolTracker, trackAgent, Tracking, trackLlmCall, trackToolCall } from "../src/index.js"

interface ToolCallRequest {
  readonly id: string
  readonly function: { readonly name: string; readonly arguments: string }
}

interface Message {
  readonly role: "user" | "assistant" | "tool"
  readonly content: string
  readonly tool_calls?: ReadonlyArray<ToolCallRequest>
  readonly tool_call_id?: string
}

const orders: Record<string, { readonly status: string; readonly carrier: string }> = {
  "A-1002": { status: "shipped", carrier: "DHL" }
}

// Stands in for `client.chat.completions.create`: asks for the tool first, answers once the tool's result is in.
const createCompletion = (messages: ReadonlyArray<Message>) => {
  const result = messages.find((message) => message.role === "tool")
  if (result === undefined) {
    return {
      id: "chatcmpl-1",
      model: "gpt-4o-mini-2024-07-18",
      choices: [{
        message: {
          content: null,
          tool_calls: [{ id: "call_1", function: { name: "lookup_order", arguments: "{\"orderId\":\"A-1002\"}" } }]
        },
        finish_reason: "tool_calls"
      }],
      usage: { prompt_tokens: 412, completion_tokens: 18 }
    }
  }
  const order = JSON.parse(result.content) as { readonly status: string; readonly carrier: string }
  return {
    id: "chatcmpl-2",
    model: "gpt-4o-mini-2024-07-18",
    choices: [{ message: { content: `Your order is ${order.status} with ${order.carrier}.` }, finish_reason: "stop" }],
    usage: { prompt_tokens: 468, completion_tokens: 14, prompt_tokens_details: { cached_tokens: 384 } }
  }
}

const complete = (messages: ReadonlyArray<Message>) =>
  Effect.sync(() => createCompletion(messages)).pipe(
    trackLlmCall({ provider: "openai", model: "gpt-4o-mini", usageFrom: "openai.chat" })
  )

// The tool the model asked for, run by the app. In memory here; your database or API in your app.
const lookupOrder = (request: ToolCallRequest) =>
  Effect.gen(function*() {
    const tracker = yield* ToolTracker
    const { orderId } = JSON.parse(request.function.arguments) as { readonly orderId: string }
    const order = orders[orderId]
    yield* tracker.setResult({ success: order !== undefined, itemsReturned: order === undefined ? 0 : 1 })
    return JSON.stringify(order ?? { error: `no order ${orderId}` })
  }).pipe(trackToolCall({
    toolName: "lookup_order",
    toolCallId: request.id,
    type: "function",
    description: "Looks an order up by its id"
  }))

/** The loop: call the model, run the tools it asks for, until it answers (at most 5 turns). */
export const answer = (question: string) =>
  Effect.gen(function*() {
    const messages: Array<Message> = [{ role: "user", content: question }]
    for (let turn = 0; turn < 5; turn++) {
      const completion = yield* complete(messages)
      const message = completion.choices[0].message
      const requests = "tool_calls" in message ? message.tool_calls : []
      if (requests.length === 0) return message.content ?? ""
      messages.push({ role: "assistant", content: "", tool_calls: requests })
      for (const request of requests) {
        messages.push({ role: "tool", tool_call_id: request.id, content: yield* lookupOrder(request) })
      }
    }
    return "Sorry, I could not find an answer."
  }).pipe(trackAgent({
    name: "order_assistant",
    id: "asst_orders_1",
    description: "Answers questions about orders"
  }))

export const program = answer("Where is my order A-1002?")

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap((reply) => Effect.log(reply)),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
