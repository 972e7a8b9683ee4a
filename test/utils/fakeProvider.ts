import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { readFileSync } from "node:fs"
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
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })

/** OpenAI's default for embeddings without an `encoding_format` is base64 of little-endian float32s. */
const base64Floats = (values: ReadonlyArray<number>): string =>
  Buffer.from(new Float32Array(values).buffer).toString("base64")

/** An OpenAI chat completion stream with `stream_options.include_usage`: the last chunk carries the usage. */
const chatStream = (model: string): Response => {
  const completion = fixture("openai-chat")
  const base = { id: completion.id, object: "chat.completion.chunk", created: completion.created, model }
  const chunks = [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: "Paris." }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { ...base, choices: [], usage: completion.usage }
  ]
  const body = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join("") + "data: [DONE]\n\n"
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } })
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
  return Effect.map(serveWebHandler(handler), (url): FakeProvider => ({ url, requests, next }))
})
