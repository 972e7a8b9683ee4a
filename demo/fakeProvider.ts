/**
 * An embedded fake LLM provider on 127.0.0.1 (an ephemeral port) for the demo: OpenAI-compatible
 * `POST /v1/chat/completions` and Anthropic-compatible `POST /v1/messages`, answering in the providers' documented
 * shapes (the SDKs do not validate responses, so the shapes must be exact).
 *
 * Everything that varies (latency, token counts, which requests are rate-limited) comes from a seeded generator and
 * the order of requests, so a sequential demo gets the same numbers on every run.
 */
import { Effect } from "effect"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface FakeProviderOptions {
  /** Seed of the generator behind latency, token counts and rate limits. */
  readonly seed?: number | undefined
  /** Share of requests answered 429, per API. */
  readonly rateLimitRate?: { readonly openai: number; readonly anthropic: number } | undefined
  /** Latency range in milliseconds. */
  readonly latencyMs?: readonly [number, number] | undefined
}

export interface FakeProvider {
  /** `http://127.0.0.1:PORT`: OpenAI's client takes `${url}/v1`, Anthropic's the URL itself. */
  readonly url: string
  /** Requests served so far, by status. */
  readonly served: { ok: number; rateLimited: number }
}

/** mulberry32: small, fast and good enough to make a demo look varied yet repeatable. */
const generator = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// The dated snapshots the providers report back for the aliases the app asks for.
const responseModels: Record<string, string> = {
  "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
  "gpt-4o": "gpt-4o-2024-08-06",
  "o3-mini": "o3-mini-2025-01-31",
  "claude-sonnet-4-0": "claude-sonnet-4-20250514",
  "claude-haiku-4-5": "claude-haiku-4-5-20251001"
}

/** Roughly four characters a token, as for English text. */
const tokensOf = (text: string) => Math.max(1, Math.ceil(text.length / 4))

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
    ? content.map((part) => (typeof part?.text === "string" ? part.text : "")).join(" ")
    : ""

/** A canned answer that fits the request: a label for a classification prompt, a short reply otherwise. */
const answerFor = (system: string, user: string): string => {
  if (system.includes("Classify")) {
    return /refund/i.test(user) ? "refund" : /order|package|delivery/i.test(user) ? "order_status" : "other"
  }
  if (system.includes("refund policy")) return /damaged|broken/i.test(user) ? "eligible" : "not_eligible"
  return "Thanks for reaching out! I've checked your account and here is what I found. " +
    "Let me know if there is anything else I can help with."
}

const readBody = async (incoming: IncomingMessage): Promise<any> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of incoming) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString("utf8")
  return text.length > 0 ? JSON.parse(text) : {}
}

const send = (outgoing: ServerResponse, status: number, body: unknown, headers: Record<string, string>) => {
  outgoing.writeHead(status, { "content-type": "application/json", ...headers })
  outgoing.end(JSON.stringify(body))
}

/** Starts the fake provider; it is closed (connections included) when the scope closes. */
export const fakeProvider = (options: FakeProviderOptions = {}): Effect.Effect<FakeProvider, never, Scope.Scope> =>
  Effect.gen(function*() {
    const random = generator(options.seed ?? 7)
    const rates = options.rateLimitRate ?? { openai: 0.12, anthropic: 0.3 }
    const [minLatency, maxLatency] = options.latencyMs ?? [15, 60]
    const served = { ok: 0, rateLimited: 0 }
    let sequence = 0
    // A prompt prefix seen before is a cache hit, as with the providers' prompt caching.
    const seenPrefixes = new Set<string>()

    const openai = (body: any) => {
      const id = ++sequence
      if (random() < rates.openai) {
        served.rateLimited++
        return {
          status: 429,
          headers: { "retry-after": "1", "x-request-id": `req_demo_${id}` },
          body: {
            error: {
              message: `Rate limit reached for ${body.model} in organization org-demo on requests per min (RPM): ` +
                "Limit 500, Used 500, Requested 1. Please try again in 1s.",
              type: "requests",
              param: null,
              code: "rate_limit_exceeded"
            }
          }
        }
      }
      served.ok++
      const messages: Array<any> = Array.isArray(body.messages) ? body.messages : []
      const system = messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => textOf(m.content))
        .join("\n")
      const user = messages.filter((m) => m.role === "user").map((m) => textOf(m.content)).join("\n")
      const content = answerFor(system, user)
      const promptTokens = tokensOf(system) + tokensOf(user) + 1400
      // OpenAI caches prompt prefixes in blocks of 128 tokens from 1024 on.
      const prefixKey = `openai:${body.model}:${system}`
      const cached = seenPrefixes.has(prefixKey) ? Math.floor((promptTokens - 64) / 128) * 128 : 0
      seenPrefixes.add(prefixKey)
      const reasoning = String(body.model).startsWith("o") ? 128 + Math.floor(random() * 8) * 64 : 0
      const completionTokens = tokensOf(content) + reasoning
      return {
        status: 200,
        headers: { "x-request-id": `req_demo_${id}` },
        body: {
          id: `chatcmpl-demo${String(id).padStart(4, "0")}`,
          object: "chat.completion",
          created: 1_767_225_600 + id,
          model: responseModels[body.model] ?? body.model,
          choices: [{
            index: 0,
            message: { role: "assistant", content, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: "stop"
          }],
          usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completionTokens,
            total_tokens: promptTokens + completionTokens,
            prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
            completion_tokens_details: {
              reasoning_tokens: reasoning,
              audio_tokens: 0,
              accepted_prediction_tokens: 0,
              rejected_prediction_tokens: 0
            }
          },
          service_tier: "default",
          system_fingerprint: "fp_demo"
        }
      }
    }

    const anthropic = (body: any) => {
      const id = ++sequence
      const requestId = `req_demo${String(id).padStart(4, "0")}`
      if (random() < rates.anthropic) {
        served.rateLimited++
        return {
          status: 429,
          headers: { "retry-after": "1", "request-id": requestId },
          body: {
            type: "error",
            error: {
              type: "rate_limit_error",
              message: "Number of request tokens has exceeded your per-minute rate limit."
            },
            request_id: requestId
          }
        }
      }
      served.ok++
      const system = textOf(body.system)
      const messages: Array<any> = Array.isArray(body.messages) ? body.messages : []
      const user = messages.filter((m) => m.role === "user").map((m) => textOf(m.content)).join("\n")
      const text = answerFor(system, user)
      // The long system prompt is cached: written on first use, read afterwards. Anthropic's input_tokens leave
      // both out.
      const systemTokens = tokensOf(system) + 1800
      const prefixKey = `anthropic:${body.model}:${system}`
      const hit = seenPrefixes.has(prefixKey)
      seenPrefixes.add(prefixKey)
      return {
        status: 200,
        headers: { "request-id": requestId },
        body: {
          id: `msg_demo${String(id).padStart(4, "0")}`,
          type: "message",
          role: "assistant",
          model: responseModels[body.model] ?? body.model,
          content: [{ type: "text", text }],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: {
            input_tokens: tokensOf(user) + 12,
            output_tokens: tokensOf(text) + Math.floor(random() * 40),
            cache_creation_input_tokens: hit ? 0 : systemTokens,
            cache_read_input_tokens: hit ? systemTokens : 0,
            service_tier: "standard"
          }
        }
      }
    }

    const server = yield* Effect.acquireRelease(
      Effect.async<ReturnType<typeof createServer>>((resume) => {
        const server = createServer((incoming, outgoing) => {
          const path = new URL(incoming.url ?? "/", "http://127.0.0.1").pathname
          readBody(incoming).then((body) => {
            const answer = incoming.method === "POST" && path === "/v1/chat/completions"
              ? openai(body)
              : incoming.method === "POST" && path === "/v1/messages"
              ? anthropic(body)
              : undefined
            // Drawn after the answer so that latency never shifts which requests are rate-limited.
            const latency = minLatency + Math.floor(random() * (maxLatency - minLatency))
            setTimeout(() => {
              if (answer === undefined) {
                send(outgoing, 404, { error: { message: `no route ${path}`, type: "invalid_request_error" } }, {})
              } else {
                send(outgoing, answer.status, answer.body, answer.headers)
              }
            }, latency)
          }).catch((error) => send(outgoing, 400, { error: { message: String(error) } }, {}))
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served }
  })
