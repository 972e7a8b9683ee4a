import Anthropic from "@anthropic-ai/sdk"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Cause, Effect, Exit, Layer } from "effect"
import type * as Scope from "effect/Scope"
import OpenAI from "openai"
import { llmInstrumented, LlmTracker, ModelOperation, TrackingTest, trackLlmCall } from "../src/index.js"
import {
  anthropicClient,
  anthropicError,
  type FakeProvider,
  fakeProvider,
  fixture,
  openaiClient,
  openaiError
} from "./utils/fakeProvider.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

/** Runs a test against a fresh fake provider, with a fresh tracking layer. */
const withProvider = <A, E>(
  f: (fake: FakeProvider) => Effect.Effect<A, E, TrackingTest.TrackingTest | HttpClient.HttpClient | Scope.Scope>
) =>
  Effect.flatMap(fakeProvider, f).pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))
  )

/** Cost was priced from the catalogue and adds up; exact amounts are covered by the pricing tests. */
const assertPriced = (span: ReadableSpan) => {
  const a = span.attributes
  assert.strictEqual(a["botanu.cost.status"], "priced")
  const input = a["botanu.cost.input_usd"] as number
  const output = a["botanu.cost.output_usd"] as number
  assert.isAbove(input, 0)
  // Amounts are summed exactly and rounded once each, so the doubles agree to rounding.
  assert.closeTo(a["botanu.cost.total_usd"] as number, input + output, 1e-15)
}

const openaiChat = (client: OpenAI) =>
  llmInstrumented({ provider: "openai" }).promise((params: OpenAI.ChatCompletionCreateParamsNonStreaming) =>
    client.chat.completions.create(params)
  )

describe("the openai SDK against a fake OpenAI server", () => {
  it.live("chat completions, instrumented: usage with cached tokens, ids, model, finish reasons, cost", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const chat = openaiChat(openaiClient(fake))
        const completion = yield* chat({ model: "gpt-4o", messages: [{ role: "user", content: "Capital of France?" }] })
        assert.strictEqual(completion.choices[0].message.content, "Paris.")
        assert.strictEqual(fake.requests[0].body.model, "gpt-4o")
        const span = yield* spanNamed("chat gpt-4o")
        const a = span.attributes
        assert.strictEqual(a["gen_ai.provider.name"], "openai")
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 1117)
        assert.strictEqual(a["gen_ai.usage.output_tokens"], 46)
        assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 1024)
        assert.strictEqual(a["botanu.usage.cached_tokens"], 1024)
        assert.isUndefined(a["gen_ai.usage.reasoning.output_tokens"])
        assert.strictEqual(a["gen_ai.response.id"], "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
        assert.strictEqual(a["gen_ai.response.model"], "gpt-4o-2024-08-06")
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
        assert.isUndefined(a["botanu.request.streaming"])
        assert.deepStrictEqual(warningsOf(span), [])
        assertPriced(span)
        assert.isAbove(a["botanu.cost.cache_read_usd"] as number, 0)
      })
    ))

  it.live("chat completions with reasoning tokens and two choices", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        yield* openaiChat(openaiClient(fake))({ model: "o3-mini", messages: [{ role: "user", content: "r's?" }], n: 2 })
        const span = yield* spanNamed("chat o3-mini")
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 1200)
        assert.strictEqual(span.attributes["gen_ai.usage.reasoning.output_tokens"], 1024)
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["stop", "length"])
        assertPriced(span)
      })
    ))

  it.live("a streamed chat completion is marked streaming; its usage is recorded by hand from the last chunk", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const streamChat = llmInstrumented({ provider: "openai" })(
          (params: OpenAI.ChatCompletionCreateParamsStreaming) =>
            Effect.gen(function*() {
              const tracker = yield* LlmTracker
              const chunks = yield* Effect.promise(async () => {
                const all: Array<OpenAI.ChatCompletionChunk> = []
                for await (const chunk of await client.chat.completions.create(params)) all.push(chunk)
                return all
              })
              let text = ""
              for (const chunk of chunks) {
                text += chunk.choices[0]?.delta.content ?? ""
                if (chunk.usage) {
                  yield* tracker.setTokens({
                    inputTokens: chunk.usage.prompt_tokens,
                    outputTokens: chunk.usage.completion_tokens,
                    cachedTokens: chunk.usage.prompt_tokens_details?.cached_tokens
                  })
                }
              }
              return text
            })
        )
        const text = yield* streamChat({
          model: "gpt-4o",
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: "user", content: "Capital of France?" }]
        })
        assert.strictEqual(text, "Paris.")
        const span = yield* spanNamed("chat gpt-4o")
        assert.strictEqual(span.attributes["botanu.request.streaming"], true)
        assert.strictEqual(span.attributes["gen_ai.request.stream"], true)
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 1117)
        assert.strictEqual(span.attributes["gen_ai.usage.cache_read.input_tokens"], 1024)
        assert.deepStrictEqual(warningsOf(span), [])
        assertPriced(span)
      })
    ))

  it.live("responses API through trackLlmCall({ usageFrom: \"openai.responses\" }), complete and incomplete", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const respond = (model: string) =>
          Effect.promise(() => client.responses.create({ model, input: "Tell me a story" })).pipe(
            trackLlmCall({ provider: "openai", model, usageFrom: "openai.responses" })
          )
        const response = yield* respond("gpt-4o")
        assert.strictEqual(response.output_text, "In a peaceful grove...")
        fake.next("/v1/responses", 200, fixture("openai-responses-incomplete"))
        yield* respond("o4-mini")
        const complete = yield* spanNamed("chat gpt-4o")
        assert.strictEqual(complete.attributes["gen_ai.usage.input_tokens"], 2036)
        assert.strictEqual(complete.attributes["gen_ai.usage.cache_read.input_tokens"], 1920)
        assert.strictEqual(complete.attributes["gen_ai.usage.output_tokens"], 87)
        assert.strictEqual(
          complete.attributes["gen_ai.response.id"],
          "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"
        )
        assert.deepStrictEqual(complete.attributes["gen_ai.response.finish_reasons"], ["completed"])
        assertPriced(complete)
        const incomplete = yield* spanNamed("chat o4-mini")
        assert.deepStrictEqual(incomplete.attributes["gen_ai.response.finish_reasons"], ["max_output_tokens"])
        assert.strictEqual(incomplete.attributes["gen_ai.usage.reasoning.output_tokens"], 300)
        assert.strictEqual(incomplete.attributes["gen_ai.response.model"], "o4-mini-2025-04-16")
      })
    ))

  it.live("embeddings (the SDK's base64 default): input tokens only, priced", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const embed = llmInstrumented({ provider: "openai", operation: ModelOperation.EMBEDDINGS }).promise(
          (params: OpenAI.EmbeddingCreateParams) => client.embeddings.create(params)
        )
        const result = yield* embed({ model: "text-embedding-3-small", input: "hello" })
        assert.strictEqual(result.data[0].embedding.length, 4)
        assert.strictEqual(fake.requests[0].body.encoding_format, "base64")
        const span = yield* spanNamed("embeddings text-embedding-3-small")
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 8)
        assert.isUndefined(span.attributes["gen_ai.usage.output_tokens"])
        assert.strictEqual(span.attributes["gen_ai.response.model"], "text-embedding-3-small")
        assert.deepStrictEqual(warningsOf(span), [])
        assert.strictEqual(span.attributes["botanu.cost.status"], "priced")
        assert.strictEqual(span.attributes["botanu.cost.total_usd"], span.attributes["botanu.cost.input_usd"])
      })
    ))

  for (const status of [429, 500] as const) {
    it.live(`a ${status} with OpenAI's error body: recorded, and the SDK's error passes through`, () =>
      withProvider((fake) =>
        Effect.gen(function*() {
          fake.next("/v1/chat/completions", status, openaiError(status), { "x-request-id": "req_err" })
          const exit = yield* Effect.exit(openaiChat(openaiClient(fake))({ model: "gpt-4o", messages: [] }))
          assert.isTrue(Exit.isFailure(exit))
          const error = Exit.isFailure(exit) ? Cause.originalError(Cause.squash(exit.cause)) : undefined
          const expected = status === 429 ? OpenAI.RateLimitError : OpenAI.InternalServerError
          assert.instanceOf(error, expected)
          assert.strictEqual((error as InstanceType<typeof OpenAI.APIError>).status, status)
          const span = yield* spanNamed("chat gpt-4o")
          assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
          assert.strictEqual(span.attributes["error.type"], expected.name)
          assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
          assert.strictEqual(span.events.filter((event) => event.name === "exception").length, 1)
        })
      ))
  }
})

describe("the @anthropic-ai/sdk client against a fake Anthropic server", () => {
  const messages = (client: Anthropic) =>
    llmInstrumented({ provider: "anthropic" }).promise((params: Anthropic.MessageCreateParamsNonStreaming) =>
      client.messages.create(params)
    )

  it.live("messages without cache: input as reported, priced", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const message = yield* messages(anthropicClient(fake))({
          model: "claude-3-5-sonnet",
          max_tokens: 1024,
          messages: [{ role: "user", content: "Hello" }]
        })
        assert.strictEqual(message.id, "msg_013Zva2CMHLNnXjNJJKqJ2EF")
        assert.strictEqual(fake.requests[0].path, "/v1/messages")
        const spans = yield* TrackingTest.finishedSpans
        assert.deepStrictEqual(spans.map((span) => span.name), ["chat claude-3-5-sonnet"])
        const span = spans[0]
        assert.strictEqual(span.attributes["gen_ai.provider.name"], "anthropic")
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 2095)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 503)
        assert.isUndefined(span.attributes["gen_ai.usage.cache_read.input_tokens"])
        assert.strictEqual(span.attributes["gen_ai.response.model"], "claude-3-5-sonnet-20241022")
        assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["end_turn"])
        assertPriced(span)
      })
    ))

  it.live("messages with cache reads, 5m/1h cache writes and thinking: the cache is added to the input", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        fake.next("/v1/messages", 200, fixture("anthropic-messages-cache"))
        yield* messages(anthropicClient(fake))({
          model: "claude-3-5-sonnet",
          max_tokens: 50,
          messages: [{ role: "user", content: "Summarize the document" }]
        })
        const span = yield* spanNamed("chat claude-3-5-sonnet")
        const a = span.attributes
        assert.strictEqual(a["gen_ai.usage.input_tokens"], 1300)
        assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 800)
        assert.strictEqual(a["gen_ai.usage.cache_creation.input_tokens"], 300)
        assert.strictEqual(a["botanu.usage.cache_write_tokens"], 300)
        assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["max_tokens"])
        assertPriced(span)
        assert.isAbove(a["botanu.cost.cache_read_usd"] as number, 0)
        assert.isAbove(a["botanu.cost.cache_write_usd"] as number, 0)
      })
    ))

  for (const status of [429, 500] as const) {
    it.live(`a ${status} with Anthropic's error body: recorded, and the SDK's error passes through`, () =>
      withProvider((fake) =>
        Effect.gen(function*() {
          fake.next("/v1/messages", status, anthropicError(status), { "request-id": "req_err" })
          const error = yield* Effect.flip(
            messages(anthropicClient(fake))({ model: "claude-3-5-sonnet", max_tokens: 1, messages: [] })
          )
          const expected = status === 429 ? Anthropic.RateLimitError : Anthropic.InternalServerError
          assert.instanceOf(Cause.originalError(error), expected)
          const span = yield* spanNamed("chat claude-3-5-sonnet")
          assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
          assert.strictEqual(span.attributes["error.type"], expected.name)
          assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
        })
      ))
  }
})

describe("@effect/platform HttpClient against the same fake server", () => {
  const post = (url: string, body: unknown) =>
    Effect.flatMap(HttpClient.HttpClient, (client) =>
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.bodyUnsafeJson(body),
        client.execute,
        Effect.flatMap((response) => response.json)
      ))

  it.live("an OpenAI chat completion and an Anthropic message, read with usageFrom: \"auto\"", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        yield* post(`${fake.url}/v1/chat/completions`, { model: "gpt-4o", messages: [] }).pipe(
          trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom: "auto" })
        )
        fake.next("/v1/messages", 200, fixture("anthropic-messages-cache"))
        yield* post(`${fake.url}/v1/messages`, { model: "claude-3-5-sonnet", max_tokens: 50, messages: [] }).pipe(
          trackLlmCall({ provider: "anthropic", model: "claude-3-5-sonnet", usageFrom: "auto" })
        )
        const openai = yield* spanNamed("chat gpt-4o")
        assert.strictEqual(openai.attributes["gen_ai.usage.input_tokens"], 1117)
        assert.strictEqual(openai.attributes["gen_ai.response.id"], "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
        assertPriced(openai)
        const anthropic = yield* spanNamed("chat claude-3-5-sonnet")
        assert.strictEqual(anthropic.attributes["gen_ai.usage.input_tokens"], 1300)
        assertPriced(anthropic)
        // The HttpClient's own span is a child of the tracked call.
        const spans = yield* TrackingTest.finishedSpans
        const http = spans.filter((span) => span.name.startsWith("http.client"))
        assert.strictEqual(http.length, 2)
        assert.strictEqual(http[0].parentSpanContext?.spanId, openai.spanContext().spanId)
      })
    ))

  it.live("an error status is a failure of the call, recorded; nothing is read", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        fake.next("/v1/chat/completions", 429, openaiError(429))
        const error = yield* Effect.flatMap(HttpClient.HttpClient, (client) =>
          HttpClientRequest.post(`${fake.url}/v1/chat/completions`).pipe(
            HttpClientRequest.bodyUnsafeJson({ model: "gpt-4o", messages: [] }),
            HttpClient.filterStatusOk(client).execute,
            Effect.flatMap((response) =>
              response.json
            )
          )).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom: "auto" }), Effect.flip)
        assert.strictEqual(Cause.originalError(error)._tag, "ResponseError")
        const span = yield* spanNamed("chat gpt-4o")
        assert.strictEqual(span.attributes["error.type"], "ResponseError")
        assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
      })
    ))
})
