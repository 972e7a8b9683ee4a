import Anthropic from "@anthropic-ai/sdk"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { readFileSync } from "node:fs"
import OpenAI from "openai"
import { serveWebHandler } from "./httpServer.js"

/** A response shaped as a provider documents it, read from test/fixtures. */
export const fixture = (name: string): any =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), "utf8"))

/** OpenAI's error body (https://platform.openai.com/docs/guides/error-codes). */
export const openaiError = (status: 429 | 500): Record<string, unknown> =>
  status === 429
    ? {
      error: {
        message: "Rate limit reached for gpt-4o in organization org-test on tokens per min (TPM): Limit 30000, " +
          "Used 30000, Requested 1200. Please try again in 2.4s.",
        type: "tokens",
        param: null,
        code: "rate_limit_exceeded"
      }
    }
    : {
      error: {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null
      }
    }

/** Anthropic's error body (https://docs.anthropic.com/en/api/errors). */
export const anthropicError = (status: 429 | 500): Record<string, unknown> => ({
  type: "error",
  error: status === 429
    ? { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit." }
    : { type: "api_error", message: "Internal server error" },
  request_id: "req_011CSHoEeqs5C35K2UUqR7Fy"
})

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Headers
  readonly body: any
}

export interface FakeProvider {
  /** `http://127.0.0.1:PORT`; OpenAI's client takes `${url}/v1`, Anthropic's the URL itself. */
  readonly url: string
  readonly requests: Array<RecordedRequest>
  /** The next request to `path` gets this answer instead of the default one. */
  readonly next: (path: string, status: number, body: unknown, headers?: Record<string, string>) => void
  /** The next request to `path` gets this server-sent-event body (see `sse`) with status 200. */
  readonly nextSse: (path: string, body: string) => void
}

/** A server-sent-event body: each item is `data` only (OpenAI) or `[event, data]` (Anthropic). */
export const sse = (events: ReadonlyArray<unknown | readonly [string, unknown]>): string =>
  events.map((event) =>
    Array.isArray(event)
      ? `event: ${event[0]}\ndata: ${typeof event[1] === "string" ? event[1] : JSON.stringify(event[1])}\n\n`
      : `data: ${typeof event === "string" ? event : JSON.stringify(event)}\n\n`
  ).join("")

const sseResponse = (body: string): Response =>
  new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } })

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })

/** OpenAI's default for embeddings without an `encoding_format` is base64 of little-endian float32s. */
const base64Floats = (values: ReadonlyArray<number>): string =>
  Buffer.from(new Float32Array(values).buffer).toString("base64")

/** The chunks of an OpenAI chat completion stream with `stream_options.include_usage`: the last carries the usage. */
export const openaiChatChunks = (model: string): Array<any> => {
  const completion = fixture("openai-chat")
  const base = { id: completion.id, object: "chat.completion.chunk", created: completion.created, model }
  return [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: "Paris." }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { ...base, choices: [], usage: completion.usage }
  ]
}

/** An OpenAI chat completion stream with `stream_options.include_usage`: the last chunk carries the usage. */
const chatStream = (model: string): Response => {
  const chunks = openaiChatChunks(model)
  const body = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join("") + "data: [DONE]\n\n"
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } })
}

/**
 * An Anthropic Messages stream (https://docs.anthropic.com/en/docs/build-with-claude/streaming): `message_start`
 * carries the input and cache counts and an output count of 1, `message_delta` the cumulative output count.
 */
export const anthropicStreamEvents = (model: string): Array<readonly [string, unknown]> => {
  const message = fixture("anthropic-messages")
  return [
    ["message_start", {
      type: "message_start",
      message: {
        ...message,
        model,
        content: [],
        stop_reason: null,
        usage: { input_tokens: 2095, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 }
      }
    }],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
    ["ping", { type: "ping" }],
    ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi! " } }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "My name is Claude." }
    }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 503 }
    }],
    ["message_stop", { type: "message_stop" }]
  ]
}

const defaults = (path: string, body: any): Response => {
  switch (path) {
    case "/v1/chat/completions": {
      if (body?.stream === true) return chatStream(body.model)
      const name = typeof body?.model === "string" && body.model.startsWith("o3")
        ? "openai-chat-reasoning"
        : "openai-chat"
      return json(200, fixture(name), { "x-request-id": "req_chat_1" })
    }
    case "/v1/responses":
      return json(200, fixture("openai-responses"))
    case "/v1/embeddings": {
      const response = fixture("openai-embeddings")
      if (body?.encoding_format === "base64") {
        for (const item of response.data) item.embedding = base64Floats(item.embedding)
      }
      return json(200, response)
    }
    case "/v1/messages":
      if (body?.stream === true) return sseResponse(sse(anthropicStreamEvents(fixture("anthropic-messages").model)))
      return json(200, fixture("anthropic-messages"), { "request-id": "req_msg_1" })
    default:
      return json(404, { error: { message: `no route ${path}`, type: "invalid_request_error" } })
  }
}

/**
 * A fake provider on 127.0.0.1 (an ephemeral port) serving OpenAI and Anthropic routes, closed with the scope.
 * Each run gets its own request log and queue of answers.
 */
export const fakeProvider: Effect.Effect<FakeProvider, never, Scope.Scope> = Effect.suspend(() => {
  const requests: Array<RecordedRequest> = []
  const queued = new Map<string, Array<() => Response>>()
  const next = (path: string, status: number, body: unknown, headers?: Record<string, string>) => {
    const list = queued.get(path) ?? []
    list.push(() => json(status, body, headers))
    queued.set(path, list)
  }
  const handler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname
    const text = await request.text()
    const body = text.length > 0 ? JSON.parse(text) : undefined
    requests.push({ method: request.method, path, headers: request.headers, body })
    const answer = queued.get(path)?.shift()
    return answer !== undefined ? answer() : defaults(path, body)
  }
  const nextSse = (path: string, body: string) => {
    const list = queued.get(path) ?? []
    list.push(() => sseResponse(body))
    queued.set(path, list)
  }
  return Effect.map(serveWebHandler(handler), (url): FakeProvider => ({ url, requests, next, nextSse }))
})

/** The real OpenAI client, pointed at the fake; retries are the app's, not the SDK's. */
export const openaiClient = (fake: FakeProvider) =>
  new OpenAI({ apiKey: "sk-test", baseURL: `${fake.url}/v1`, maxRetries: 0 })

/** The real Anthropic client, pointed at the fake, with its own OpenTelemetry spans off: only ours are asserted. */
export const anthropicClient = (fake: FakeProvider) =>
  new Anthropic({ apiKey: "k", baseURL: fake.url, maxRetries: 0, openTelemetry: false })
