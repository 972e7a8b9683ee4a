/**
 * A fake OpenAI (Responses API, embeddings) and Anthropic (Messages, beta) server on 127.0.0.1 for the real
 * @effect/ai provider clients, with payloads shaped exactly as the providers send them: @effect/ai-openai silently
 * skips stream events it cannot decode, so a shape off by one field would pass unnoticed. Server-sent events are
 * written one at a time, with an optional pause between them, so that a stream is really streamed.
 */
import * as AnthropicClient from "@effect/ai-anthropic/AnthropicClient"
import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { createServer, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Pricing } from "../../src/index.js"
import { anthropicError, openaiError, sse } from "./fakeProvider.js"

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly search: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: any
}

export type Reply =
  | { readonly status: number; readonly body: unknown; readonly headers?: Readonly<Record<string, string>> }
  | {
    readonly events: ReadonlyArray<readonly [string, unknown]>
    /** Milliseconds between two events. */
    readonly pauseMs?: number
    readonly headers?: Readonly<Record<string, string>>
  }

export interface FakeAi {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string
  readonly requests: Array<RecordedRequest>
  /** The answers to the next requests to `path` (`/v1/responses`, `/v1/messages`, `/v1/embeddings`), in order. */
  readonly reply: (path: string, ...replies: ReadonlyArray<Reply>) => void
  /** Events written so far by streamed replies, and whether each stream's last event was written. */
  readonly streams: Array<{ written: number; readonly total: number; closedEarly: boolean }>
}

const write = async (
  response: ServerResponse,
  reply: Reply,
  streams: FakeAi["streams"]
): Promise<void> => {
  if ("status" in reply) {
    response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
    response.end(JSON.stringify(reply.body))
    return
  }
  const state = { written: 0, total: reply.events.length, closedEarly: false }
  streams.push(state)
  response.on("close", () => {
    if (state.written < state.total) state.closedEarly = true
  })
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...reply.headers })
  for (const event of reply.events) {
    if (response.destroyed) return
    response.write(sse([event]))
    state.written++
    if (reply.pauseMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.pauseMs))
  }
  response.end()
}

/** The fake, closed with the scope; each run has its own request log and answers. */
export const fakeAi: Effect.Effect<FakeAi, never, Scope.Scope> = Effect.suspend(() => {
  const requests: Array<RecordedRequest> = []
  const streams: FakeAi["streams"] = []
  const queued = new Map<string, Array<Reply>>()
  const reply = (path: string, ...replies: ReadonlyArray<Reply>) => {
    queued.set(path, [...(queued.get(path) ?? []), ...replies])
  }
  return Effect.map(
    Effect.acquireRelease(
      Effect.async<Server>((resume) => {
        const server = createServer((incoming, outgoing) => {
          const chunks: Array<Buffer> = []
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
          incoming.on("end", () => {
            const url = new URL(incoming.url ?? "/", "http://127.0.0.1")
            const text = Buffer.concat(chunks).toString("utf8")
            requests.push({
              method: incoming.method ?? "GET",
              path: url.pathname,
              search: url.search,
              headers: incoming.headers,
              body: text.length > 0 ? JSON.parse(text) : undefined
            })
            const next = queued.get(url.pathname)?.shift() ??
              { status: 404, body: { error: { message: `nothing queued for ${url.pathname}` } } }
            write(outgoing, next, streams).catch(() => outgoing.destroy())
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    ),
    (server): FakeAi => ({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      requests,
      reply,
      streams
    })
  )
})

/** The real clients of @effect/ai-openai and @effect/ai-anthropic, pointed at the fake, over `fetch`. */
export const clients = (fake: FakeAi) =>
  Layer.mergeAll(
    OpenAiClient.layer({ apiKey: Redacted.make("sk-test"), apiUrl: `${fake.url}/v1` }),
    AnthropicClient.layer({ apiKey: Redacted.make("sk-ant-test"), apiUrl: fake.url })
  ).pipe(Layer.provide(FetchHttpClient.layer))

// --- OpenAI Responses API ----------------------------------------------------------------------------------------

export interface OpenAiUsage {
  readonly input: number
  readonly cached?: number
  readonly output: number
  readonly reasoning?: number
}

const responsesUsage = (usage: OpenAiUsage) => ({
  input_tokens: usage.input,
  input_tokens_details: { cached_tokens: usage.cached ?? 0 },
  output_tokens: usage.output,
  output_tokens_details: { reasoning_tokens: usage.reasoning ?? 0 },
  total_tokens: usage.input + usage.output
})

/** An output item of the Responses API: an assistant message or a function call. */
export type OpenAiItem =
  | { readonly type: "message"; readonly id: string; readonly text: string }
  | {
    readonly type: "function_call"
    readonly id: string
    readonly callId: string
    readonly name: string
    readonly arguments: string
  }

const outputItem = (item: OpenAiItem, status: "in_progress" | "completed") =>
  item.type === "message"
    ? {
      id: item.id,
      type: "message",
      status,
      role: "assistant",
      content: status === "completed" ? [{ type: "output_text", text: item.text, annotations: [] }] : []
    }
    : {
      id: item.id,
      type: "function_call",
      status,
      call_id: item.callId,
      name: item.name,
      arguments: status === "completed" ? item.arguments : ""
    }

/** A Responses API response object (https://platform.openai.com/docs/api-reference/responses/object). */
export const openAiResponse = (options: {
  readonly id: string
  readonly model: string
  readonly items: ReadonlyArray<OpenAiItem>
  readonly usage: OpenAiUsage | null
  readonly status?: "in_progress" | "completed"
  readonly createdAt?: number
}) => ({
  id: options.id,
  object: "response",
  created_at: options.createdAt ?? 1741476542,
  status: options.status ?? "completed",
  background: false,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: options.model,
  output: options.status === "in_progress" ? [] : options.items.map((item) => outputItem(item, "completed")),
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
  usage: options.usage === null ? null : responsesUsage(options.usage),
  user: null,
  metadata: {}
})

/** `POST /v1/responses` answered with JSON, with OpenAI's request id header. */
export const openAiJson = (
  options: Parameters<typeof openAiResponse>[0] & { readonly requestId?: string }
): Reply => ({
  status: 200,
  body: openAiResponse(options),
  headers: { "x-request-id": options.requestId ?? "req_openai_1" }
})

/** A 429 from OpenAI: its error body, `retry-after` in seconds and its request id header. */
export const openAi429 = (requestId: string, retryAfterSeconds = 0): Reply => ({
  status: 429,
  body: openaiError(429),
  headers: { "retry-after": String(retryAfterSeconds), "x-request-id": requestId }
})

/**
 * The events of a streamed response (https://platform.openai.com/docs/api-reference/responses-streaming), each
 * with its `sequence_number`: created, in progress, each item added, its content (text deltas or argument
 * deltas) and done, then completed with the usage.
 */
export const openAiEvents = (options: {
  readonly id: string
  readonly model: string
  readonly items: ReadonlyArray<OpenAiItem>
  readonly usage: OpenAiUsage
}): Array<readonly [string, unknown]> => {
  const events: Array<readonly [string, unknown]> = []
  const push = (type: string, data: Record<string, unknown>) =>
    events.push([type, { type, sequence_number: events.length, ...data }])
  const pending = openAiResponse({ ...options, usage: null, status: "in_progress" })
  push("response.created", { response: pending })
  push("response.in_progress", { response: pending })
  options.items.forEach((item, outputIndex) => {
    push("response.output_item.added", { output_index: outputIndex, item: outputItem(item, "in_progress") })
    if (item.type === "message") {
      const part = { type: "output_text", text: "", annotations: [] }
      push("response.content_part.added", { item_id: item.id, output_index: outputIndex, content_index: 0, part })
      // Two deltas, split between words, as the API streams them.
      const cut = Math.max(1, item.text.indexOf(" ") + 1)
      for (const delta of [item.text.slice(0, cut), item.text.slice(cut)]) {
        if (delta.length === 0) continue
        push("response.output_text.delta", {
          item_id: item.id,
          output_index: outputIndex,
          content_index: 0,
          delta,
          logprobs: []
        })
      }
      push("response.output_text.done", {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        text: item.text,
        logprobs: []
      })
      push("response.content_part.done", {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        part: { ...part, text: item.text }
      })
    } else {
      push("response.function_call_arguments.delta", {
        item_id: item.id,
        output_index: outputIndex,
        delta: item.arguments
      })
      push("response.function_call_arguments.done", {
        item_id: item.id,
        output_index: outputIndex,
        arguments: item.arguments
      })
    }
    push("response.output_item.done", { output_index: outputIndex, item: outputItem(item, "completed") })
  })
  push("response.completed", { response: openAiResponse(options) })
  return events
}

/** `POST /v1/embeddings` answered as OpenAI does without an `encoding_format`: floats. */
export const openAiEmbeddings = (options: {
  readonly model: string
  readonly inputs: number
  readonly promptTokens: number
}): Reply => ({
  status: 200,
  body: {
    object: "list",
    data: Array.from({ length: options.inputs }, (_, index) => ({
      object: "embedding",
      index,
      embedding: [0.0023064255, -0.009327292, index]
    })),
    model: options.model,
    usage: { prompt_tokens: options.promptTokens, total_tokens: options.promptTokens }
  },
  headers: { "x-request-id": "req_embeddings_1" }
})

// --- Anthropic Messages ------------------------------------------------------------------------------------------

export interface AnthropicUsage {
  readonly input: number
  readonly cacheRead?: number
  readonly cacheWrite?: number
  readonly output: number
}

const messagesUsage = (usage: AnthropicUsage, output: number) => ({
  input_tokens: usage.input,
  cache_creation_input_tokens: usage.cacheWrite ?? 0,
  cache_read_input_tokens: usage.cacheRead ?? 0,
  cache_creation: { ephemeral_5m_input_tokens: usage.cacheWrite ?? 0, ephemeral_1h_input_tokens: 0 },
  output_tokens: output,
  service_tier: "standard"
})

export type AnthropicBlock =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: unknown }

/** A Messages response (https://docs.anthropic.com/en/api/messages). */
export const anthropicMessage = (options: {
  readonly id: string
  readonly model: string
  readonly content: ReadonlyArray<AnthropicBlock>
  readonly stopReason: "end_turn" | "tool_use" | "max_tokens"
  readonly usage: AnthropicUsage
}) => ({
  id: options.id,
  type: "message",
  role: "assistant",
  model: options.model,
  content: options.content,
  stop_reason: options.stopReason,
  stop_sequence: null,
  usage: messagesUsage(options.usage, options.usage.output)
})

/** `POST /v1/messages?beta=true` answered with JSON, with Anthropic's request id header. */
export const anthropicJson = (
  options: Parameters<typeof anthropicMessage>[0] & { readonly requestId?: string }
): Reply => ({
  status: 200,
  body: anthropicMessage(options),
  headers: { "request-id": options.requestId ?? "req_anthropic_1" }
})

/** A 429 from Anthropic: its error body, `retry-after` and its request id header. */
export const anthropic429 = (requestId: string, retryAfterSeconds = 0): Reply => ({
  status: 429,
  body: anthropicError(429),
  headers: { "retry-after": String(retryAfterSeconds), "request-id": requestId }
})

/**
 * The events of a streamed message (https://docs.anthropic.com/en/docs/build-with-claude/streaming):
 * `message_start` with the input and cache counts and an output count of 1, each block's start, deltas and stop,
 * `message_delta` with the stop reason and the cumulative output count, `message_stop`.
 */
export const anthropicEvents = (options: Parameters<typeof anthropicMessage>[0]): Array<readonly [string, unknown]> => {
  const events: Array<readonly [string, unknown]> = []
  const push = (type: string, data: Record<string, unknown>) => events.push([type, { type, ...data }])
  push("message_start", {
    message: {
      ...anthropicMessage(options),
      content: [],
      stop_reason: null,
      usage: messagesUsage(options.usage, 1)
    }
  })
  options.content.forEach((block, index) => {
    if (block.type === "text") {
      push("content_block_start", { index, content_block: { type: "text", text: "" } })
      if (index === 0) push("ping", {})
      const cut = Math.max(1, block.text.indexOf(" ") + 1)
      for (const text of [block.text.slice(0, cut), block.text.slice(cut)]) {
        if (text.length > 0) push("content_block_delta", { index, delta: { type: "text_delta", text } })
      }
    } else {
      push("content_block_start", {
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} }
      })
      push("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) }
      })
    }
    push("content_block_stop", { index })
  })
  push("message_delta", {
    delta: { stop_reason: options.stopReason, stop_sequence: null },
    usage: { output_tokens: options.usage.output }
  })
  push("message_stop", {})
  return events
}

// --- prices ------------------------------------------------------------------------------------------------------

interface TestPrice {
  readonly provider: string
  readonly input: number
  readonly cacheRead: number
  readonly cacheWrite?: number
  readonly output: number
}

/** Prices of the models the fake answers with, per million tokens, so that every expected cost is worked out here. */
export const testPrices: Readonly<Record<string, TestPrice>> = {
  "gpt-4o-mini-2024-07-18": { provider: "openai", input: 0.15, cacheRead: 0.075, output: 0.6 },
  "gpt-4o-2024-08-06": { provider: "openai", input: 2.5, cacheRead: 1.25, output: 10 },
  "claude-sonnet-4-5-20250929": { provider: "anthropic", input: 3, cacheRead: 0.3, cacheWrite: 3.75, output: 15 },
  "text-embedding-3-small": { provider: "openai", input: 0.02, cacheRead: 0.02, output: 0 }
}

export const TestPrices = Pricing.layerCustom({
  prices: Object.entries(testPrices).map(([model, price]) => ({
    provider: price.provider,
    model,
    prices: {
      inputPerMillion: price.input,
      outputPerMillion: price.output,
      cacheReadPerMillion: price.cacheRead,
      ...(price.cacheWrite === undefined ? {} : { cacheWritePerMillion: price.cacheWrite })
    }
  }))
})

/** Attodollars (1e-18 USD) for `tokens` at `perMillion` USD per million tokens: exact, as the library computes it. */
const atto = (tokens: number, perMillion: number) =>
  BigInt(tokens) * BigInt(Math.round(perMillion * 1e6)) * BigInt(1_000_000)

/** What a call costs at the test prices: uncached input, cache reads and writes, and output, each at its price. */
export const expectedCost = (
  model: string,
  tokens: {
    readonly uncached: number
    readonly cacheRead?: number
    readonly cacheWrite?: number
    readonly output: number
  }
): number => {
  const price = testPrices[model]
  return Pricing.toUsd(
    atto(tokens.uncached, price.input) + atto(tokens.cacheRead ?? 0, price.cacheRead) +
      atto(tokens.cacheWrite ?? 0, price.cacheWrite ?? price.input) + atto(tokens.output, price.output)
  )
}
