/**
 * The demo behind `npm run demo`: a tiny customer-support flow with two tracked LLM calls and one tool call.
 *
 * This is the first, small version. The full demo (a fake provider server on 127.0.0.1 driven by the real OpenAI
 * and Anthropic clients, and a cost report) comes with a later issue.
 *
 * Finished spans are printed readably (`Tracking.layerDevelopment()`); when `OTEL_EXPORTER_OTLP_ENDPOINT` is set,
 * they are exported there over OTLP/HTTP instead (`Tracking.layer()`).
 *
 * The provider responses below are plain objects in the providers' documented shapes, so the demo needs no
 * network and no API key.
 */
import { Config, Effect, Layer, Option } from "effect"
import { LlmTracker, ToolTracker, Tracking, trackLlmCall, trackToolCall } from "../src/index.js"

interface Usage {
  readonly input: number
  readonly cached: number
  readonly output: number
}

const ticket = {
  id: "T-1042",
  customerId: "cust-42",
  text: "Hi, my order A-1001 still hasn't arrived. Where is it?"
}

// Step 1: classify the ticket with a small, cheap model. OpenAI's prompt_tokens include the cached ones.
const openAiClassification = {
  id: "chatcmpl-demo-1",
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ message: { content: "order_status" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1200, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 1024 } }
}

const classify = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  yield* tracker.setRequestParams({ temperature: 0, maxTokens: 8 })
  const response = openAiClassification
  yield* tracker.setTokens({
    inputTokens: response.usage.prompt_tokens,
    outputTokens: response.usage.completion_tokens,
    cachedTokens: response.usage.prompt_tokens_details.cached_tokens
  })
  yield* tracker.setRequestId({ providerRequestId: response.id })
  yield* tracker.setResponseModel(response.model)
  yield* tracker.setFinishReason(response.choices.map((choice) => choice.finish_reason))
  const usage: Usage = {
    input: response.usage.prompt_tokens,
    cached: response.usage.prompt_tokens_details.cached_tokens,
    output: response.usage.completion_tokens
  }
  return { category: response.choices[0].message.content, usage }
}).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini", attributes: { ticket_id: ticket.id } }))

// The tool the support model calls: an order lookup (in memory here).
const lookupOrder = (orderId: string) =>
  Effect.gen(function*() {
    const tracker = yield* ToolTracker
    const order = { id: orderId, status: "in transit", carrier: "DHL", eta: "2 days" }
    yield* tracker.setResult({ success: true, itemsReturned: 1, bytesProcessed: JSON.stringify(order).length })
    return order
  }).pipe(trackToolCall({ toolName: "lookup_order", toolCallId: "toolu_demo_1", provider: "anthropic" }))

// Step 2: draft the reply. Anthropic reports input_tokens WITHOUT the cache reads and writes.
const anthropicReply = {
  id: "msg_demo_2",
  model: "claude-3-5-sonnet-20241022",
  stop_reason: "end_turn",
  usage: { input_tokens: 350, output_tokens: 120, cache_read_input_tokens: 2000, cache_creation_input_tokens: 150 }
}

const draftReply = (category: string) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setRequestParams({ temperature: 0.3, maxTokens: 512 })
    const order = yield* lookupOrder("A-1001")
    const response = anthropicReply
    yield* tracker.setTokens({
      inputTokens: response.usage.input_tokens,
      outputTokens: response.usage.output_tokens,
      cacheReadTokens: response.usage.cache_read_input_tokens,
      cacheWriteTokens: response.usage.cache_creation_input_tokens
    })
    yield* tracker.setRequestId({ providerRequestId: response.id })
    yield* tracker.setResponseModel(response.model)
    yield* tracker.setFinishReason(response.stop_reason)
    const usage: Usage = {
      input: response.usage.input_tokens + response.usage.cache_read_input_tokens +
        response.usage.cache_creation_input_tokens,
      cached: response.usage.cache_read_input_tokens,
      output: response.usage.output_tokens
    }
    const text = `(${category}) Your order ${order.id} is ${order.status} with ${order.carrier}, ETA ${order.eta}.`
    return { text, usage }
  }).pipe(trackLlmCall({ provider: "anthropic", model: "claude-3-5-sonnet", attributes: { ticket_id: ticket.id } }))

const handleTicket = Effect.gen(function*() {
  const classification = yield* classify
  const reply = yield* draftReply(classification.category)
  return { reply: reply.text, usages: [classification.usage, reply.usage] }
}).pipe(Effect.withSpan("support.handle_ticket", { attributes: { "ticket.id": ticket.id } }))

// OTLP export when a collector is configured, the readable console otherwise.
const TrackingLive = Layer.unwrapEffect(
  Effect.map(
    Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT")),
    (endpoint) =>
      Option.isSome(endpoint)
        ? Tracking.layer({ serviceName: "botanu-demo", shutdownTimeout: "2 seconds" })
        : Tracking.layerDevelopment({ serviceName: "botanu-demo" })
  )
)

const main = Effect.gen(function*() {
  const { reply, usages } = yield* handleTicket
  const total = usages.reduce(
    (sum, usage) => ({
      input: sum.input + usage.input,
      cached: sum.cached + usage.cached,
      output: sum.output + usage.output
    }),
    { input: 0, cached: 0, output: 0 }
  )
  yield* Effect.sync(() => {
    console.log(`\nReply to ${ticket.id}: ${reply}`)
    console.log(
      `Summary: 2 LLM calls, 1 tool call; ${total.input} input tokens (${total.cached} cached), ` +
        `${total.output} output tokens`
    )
  })
})

main.pipe(Effect.provide(TrackingLive), Effect.runPromise).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
