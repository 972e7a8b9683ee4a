/**
 * @effect/ai, tracked by one layer: a support chat written with @effect/ai's `Chat`, `Toolkit` and the real
 * `@effect/ai-openai` client, whose `LanguageModel` is wrapped by `EffectAi.model`. Nothing else in the app knows
 * about tracking: each model call is a `chat gpt-4o-mini` span with its usage and cost, the tool the model asks for
 * is an `execute_tool look_up_order` span beside it with the call's id, and the workflow run adds them up.
 *
 * So that it runs without a network or a key, a stand-in for OpenAI's Responses API listens on 127.0.0.1 and answers
 * as OpenAI does: first with a function call, then, once the tool's result is in the request, with the reply. In
 * your app, leave out `apiUrl` (and the stand-in), and give `OpenAiClient.layer` your key.
 *
 * Run: `npx tsx examples/effect-ai.ts`
 */
import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as Chat from "@effect/ai/Chat"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Redacted, Schema } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { pathToFileURL } from "node:url"
import * as EffectAi from "../src/EffectAi.js"
import { botanuWorkflow, Tracking } from "../src/index.js"

// --- the app -----------------------------------------------------------------------------------------------------

const LookUpOrder = Tool.make("look_up_order", {
  description: "The status of an order",
  parameters: { orderId: Schema.String },
  success: Schema.Struct({ status: Schema.String })
})
const SupportTools = Toolkit.make(LookUpOrder)
const SupportToolsLive = SupportTools.toLayer({
  look_up_order: ({ orderId }) => Effect.succeed({ status: orderId === "A-1002" ? "shipped" : "unknown" })
})

/** Two turns of one chat: the model asks for the order's status, then answers with it. */
export const answer = (question: string) =>
  Effect.gen(function*() {
    const chat = yield* Chat.empty
    yield* chat.generateText({ prompt: question, toolkit: SupportTools })
    const reply = yield* chat.generateText({ prompt: [], toolkit: SupportTools })
    return reply.text
  }).pipe(botanuWorkflow("support_ticket", { eventId: "T-1002", customerId: "acme-corp" }))

// --- tracking: the provider's Model, wrapped -----------------------------------------------------------------------

const Gpt = EffectAi.model(OpenAiLanguageModel.model("gpt-4o-mini"), { model: "gpt-4o-mini" })

const openAi = (apiUrl: string) =>
  OpenAiClient.layer({ apiKey: Redacted.make("sk-stand-in"), apiUrl }).pipe(Layer.provide(FetchHttpClient.layer))

// --- the stand-in for OpenAI's Responses API -----------------------------------------------------------------------

const response = (
  id: string,
  output: ReadonlyArray<unknown>,
  usage: { input: number; cached: number; output: number }
) => ({
  id,
  object: "response",
  created_at: 1764547200,
  status: "completed",
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: "gpt-4o-mini-2024-07-18",
  output,
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  service_tier: "default",
  store: true,
  temperature: 1,
  text: { format: { type: "text" } },
  tool_choice: "auto",
  tools: [],
  top_p: 1,
  truncation: "disabled",
  user: null,
  metadata: {},
  usage: {
    input_tokens: usage.input,
    input_tokens_details: { cached_tokens: usage.cached },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + usage.output
  }
})

const answerAs = (body: { readonly input: ReadonlyArray<{ readonly type?: string }> }) =>
  body.input.some((item) => item.type === "function_call_output")
    ? response("resp_2", [{
      type: "message",
      id: "msg_2",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Your order A-1002 has shipped.", annotations: [] }]
    }], { input: 1480, cached: 1280, output: 9 })
    : response("resp_1", [{
      type: "function_call",
      id: "fc_1",
      call_id: "call_a1002",
      name: "look_up_order",
      arguments: "{\"orderId\":\"A-1002\"}",
      status: "completed"
    }], { input: 1420, cached: 1280, output: 18 })

/** The stand-in on 127.0.0.1 until the scope closes; its base URL. */
const standIn = Effect.acquireRelease(
  Effect.async<ReturnType<typeof createServer>>((resume) => {
    const server = createServer((request, reply) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        reply.writeHead(200, { "content-type": "application/json", "x-request-id": "req_stand_in" })
        reply.end(JSON.stringify(answerAs(JSON.parse(Buffer.concat(chunks).toString("utf8")))))
      })
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`))

export const program = Effect.flatMap(standIn, (apiUrl) =>
  answer("Where is my order A-1002?").pipe(
    Effect.provide(SupportToolsLive),
    Effect.provide(Gpt),
    Effect.provide(openAi(apiUrl))
  )).pipe(Effect.scoped)

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap((reply) => Effect.log(`reply: ${reply}`)),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
