/**
 * Content capture through the real `openai` and `@anthropic-ai/sdk` clients against the fake provider: what the
 * instrumented functions read from the request and the response, what `trackLlmCall`'s `usageFrom` reads from the
 * response, and what a stream of `LlmStream.fromAsyncIterable` accumulates, complete and abandoned. Each test
 * compares the exported `gen_ai.system_instructions`, `gen_ai.input.messages` and `gen_ai.output.messages` with the
 * whole JSON expected.
 */
import type Anthropic from "@anthropic-ai/sdk"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Stream } from "effect"
import type * as Scope from "effect/Scope"
import type OpenAI from "openai"
import { Content, llmInstrumented, LlmStream, TrackingTest, trackLlmCall } from "../src/index.js"
import { anthropicClient, type FakeProvider, fakeProvider, fixture, openaiClient, sse } from "./utils/fakeProvider.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

/** Runs a test against a fresh fake provider, with a fresh tracking layer and content capture on. */
const withProvider = <A, E>(
  f: (fake: FakeProvider) => Effect.Effect<A, E, TrackingTest.TrackingTest | HttpClient.HttpClient | Scope.Scope>
) =>
  Effect.flatMap(fakeProvider, f).pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(TrackingTest.layer, FetchHttpClient.layer, Content.layer()))
  )

const contentKeys = {
  system: "gen_ai.system_instructions",
  input: "gen_ai.input.messages",
  output: "gen_ai.output.messages"
} as const

/** The content attributes of a span, parsed; a key the span lacks is absent; nothing cut, nothing to warn. */
const contentOf = (span: ReadableSpan) => {
  const out: Partial<Record<keyof typeof contentKeys, unknown>> = {}
  for (const [name, key] of Object.entries(contentKeys) as Array<[keyof typeof contentKeys, string]>) {
    const value = span.attributes[key]
    if (value === undefined) continue
    assert.isString(value, key)
    out[name] = JSON.parse(value as string)
  }
  assert.isUndefined(span.attributes["botanu.content.truncated"])
  assert.isUndefined(span.attributes["botanu.content.dropped"])
  assert.deepStrictEqual(warningsOf(span), [])
  return out
}

/** The one span named `name`, forgotten afterwards so that the next call of the same model is found alone. */
const take = (name: string) => Effect.zipLeft(spanNamed(name), TrackingTest.reset)

const text = (content: string) => ({ type: "text", content })
const user = (content: string) => ({ role: "user", parts: [text(content)] })
const answer = (content: string, finish_reason = "stop") => ({
  role: "assistant",
  parts: [text(content)],
  finish_reason
})
const call = (id: string, name: string, args: unknown) => ({ type: "tool_call", id, name, arguments: args })
const result = (id: string, response: unknown) => ({ type: "tool_call_response", id, response })

/** An OpenAI SSE body of events named after their type (the Responses API's), or of bare chunks. */
const typedSse = (events: ReadonlyArray<{ readonly type: string }>) =>
  sse(events.map((event) => [event.type, event] as const))

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] }
  }
} as const

describe("the openai SDK: chat completions", () => {
  it.live("instrumented: the request's messages (system ones among them), the response's choices", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const chat = llmInstrumented({ provider: "openai" }).promise((
          params: OpenAI.ChatCompletionCreateParamsNonStreaming
        ) => client.chat.completions.create(params))
        const messages: Array<OpenAI.ChatCompletionMessageParam> = [
          { role: "system", content: "You are a weather assistant." },
          { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
          {
            role: "assistant",
            content: null,
            tool_calls: [{
              id: "call_VSPygqKTWdrhaFErNvMV18Yl",
              type: "function",
              function: { name: "get_weather", arguments: "{\"location\":\"Paris\"}" }
            }]
          },
          { role: "tool", tool_call_id: "call_VSPygqKTWdrhaFErNvMV18Yl", content: "rainy, 14°C" }
        ]
        yield* chat({ model: "gpt-4o", messages, tools: [weatherTool] })
        assert.deepStrictEqual(fake.requests[0].body.messages, messages)
        const span = yield* take("chat gpt-4o")
        assert.deepStrictEqual(contentOf(span), {
          input: [
            { role: "system", parts: [text("You are a weather assistant.")] },
            user("Weather in Paris?"),
            { role: "assistant", parts: [call("call_VSPygqKTWdrhaFErNvMV18Yl", "get_weather", { location: "Paris" })] },
            { role: "tool", parts: [result("call_VSPygqKTWdrhaFErNvMV18Yl", "rainy, 14°C")] }
          ],
          output: [answer("Paris.")]
        })
        assert.strictEqual(
          span.attributes["gen_ai.output.messages"],
          "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"Paris.\"}],\"finish_reason\":\"stop\"}]"
        )

        // the model asks for two tools at once
        fake.next("/v1/chat/completions", 200, fixture("content-openai-chat-tool-calls"))
        yield* chat({
          model: "gpt-4o",
          messages: [{ role: "user", content: "Paris and Berlin?" }],
          tools: [weatherTool]
        })
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), {
          input: [user("Paris and Berlin?")],
          output: [{
            role: "assistant",
            parts: [
              call("call_VSPygqKTWdrhaFErNvMV18Yl", "get_weather", { location: "Paris" }),
              call("call_Q8RMbG4Pe6JXnTmpG8DwWlYd", "get_weather", { location: "Berlin" })
            ],
            finish_reason: "tool_call"
          }]
        })
      })
    ))

  it.live("instrumented, with images: references kept, inline bytes never", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const chat = llmInstrumented({ provider: "openai" }).promise((
          params: OpenAI.ChatCompletionCreateParamsNonStreaming
        ) => client.chat.completions.create(params))
        const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
        yield* chat({
          model: "gpt-4o",
          messages: [{
            role: "user",
            content: [
              { type: "text", text: "Which is Paris?" },
              { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
              { type: "image_url", image_url: { url: `data:image/png;base64,${png}`, detail: "low" } }
            ]
          }]
        })
        const span = yield* take("chat gpt-4o")
        assert.deepStrictEqual(contentOf(span).input, [{
          role: "user",
          parts: [
            text("Which is Paris?"),
            { type: "uri", modality: "image", uri: "https://example.com/a.jpg" },
            { type: "blob", modality: "image", mime_type: "image/png", content: "[omitted]" }
          ]
        }])
        assert.notInclude(span.attributes["gen_ai.input.messages"] as string, png)
      })
    ))

  it.live("trackLlmCall with usageFrom \"auto\": the output read from the response", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        yield* Effect.promise(() =>
          client.chat.completions.create({ model: "o3-mini", n: 2, messages: [{ role: "user", content: "r's?" }] })
        ).pipe(trackLlmCall({ provider: "openai", model: "o3-mini", usageFrom: "auto" }))
        // the request is the app's own here: only what the response says is read
        assert.deepStrictEqual(contentOf(yield* take("chat o3-mini")), {
          output: [answer("There are 3 r's."), answer("Three.", "length")]
        })
      })
    ))

  it.live("a stream of fromAsyncIterable: the text when it ends, what came so far when abandoned", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const stream = LlmStream.fromAsyncIterable(
          (signal) =>
            client.chat.completions.create({
              model: "gpt-4o",
              stream: true,
              stream_options: { include_usage: true },
              messages: [{ role: "user", content: "Capital of France?" }]
            }, { signal }),
          { provider: "openai", model: "gpt-4o", usageFrom: "auto" }
        )
        const chunks = yield* Stream.runCollect(stream)
        assert.strictEqual([...chunks].map((chunk) => chunk.choices[0]?.delta.content ?? "").join(""), "Paris.")
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), { output: [answer("Paris.")] })

        yield* Stream.runDrain(Stream.take(stream, 2))
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), { output: [answer("Paris.", "interrupted")] })

        yield* Stream.runDrain(Stream.take(stream, 1))
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), {
          output: [{ role: "assistant", parts: [], finish_reason: "interrupted" }]
        })
      })
    ))

  it.live("a streamed tool call: its argument deltas, parsed when whole, as far as they came when abandoned", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const chunks = fixture("content-openai-chat-stream-tool-calls")
        const body = sse([...chunks, "[DONE]"])
        const stream = LlmStream.fromAsyncIterable(
          (signal) =>
            client.chat.completions.create({
              model: "gpt-4o",
              stream: true,
              stream_options: { include_usage: true },
              messages: [{ role: "user", content: "Paris and Berlin?" }],
              tools: [weatherTool]
            }, { signal }),
          { provider: "openai", model: "gpt-4o", usageFrom: "openai.chat" }
        )
        fake.nextSse("/v1/chat/completions", body)
        yield* Stream.runDrain(stream)
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), {
          output: [{
            role: "assistant",
            parts: [
              call("call_VSPygqKTWdrhaFErNvMV18Yl", "get_weather", { location: "Paris" }),
              call("call_Q8RMbG4Pe6JXnTmpG8DwWlYd", "get_weather", { location: "Berlin" })
            ],
            finish_reason: "tool_call"
          }]
        })

        fake.nextSse("/v1/chat/completions", body)
        yield* Stream.runDrain(Stream.take(stream, 6))
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), {
          output: [{
            role: "assistant",
            parts: [
              call("call_VSPygqKTWdrhaFErNvMV18Yl", "get_weather", { location: "Paris" }),
              call("call_Q8RMbG4Pe6JXnTmpG8DwWlYd", "get_weather", "{\"lo")
            ],
            finish_reason: "interrupted"
          }]
        })
      })
    ))
})

describe("the openai SDK: responses", () => {
  it.live("instrumented: instructions as system instructions, input items as messages, the output items", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const create = llmInstrumented({ provider: "openai" }).promise(
          (params: OpenAI.Responses.ResponseCreateParamsNonStreaming) => client.responses.create(params)
        )
        yield* create({
          model: "gpt-4o",
          instructions: "You are a storyteller.",
          input: [
            { role: "user", content: "Tell me a story about a grove." },
            {
              type: "function_call",
              call_id: "call_2FQdm3Br7Qb35YUBSkDR7kue",
              name: "lookup",
              arguments: "{\"topic\":\"groves\"}"
            },
            { type: "function_call_output", call_id: "call_2FQdm3Br7Qb35YUBSkDR7kue", output: "Groves are quiet." }
          ]
        })
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), {
          system: [text("You are a storyteller.")],
          input: [
            user("Tell me a story about a grove."),
            { role: "assistant", parts: [call("call_2FQdm3Br7Qb35YUBSkDR7kue", "lookup", { topic: "groves" })] },
            { role: "tool", parts: [result("call_2FQdm3Br7Qb35YUBSkDR7kue", "Groves are quiet.")] }
          ],
          output: [answer("In a peaceful grove...")]
        })

        // a string input, and a response with a web search
        fake.next("/v1/responses", 200, fixture("openai-responses-web-search"))
        yield* create({ model: "gpt-4o", input: "Latest news in Iceland?", tools: [{ type: "web_search_preview" }] })
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-4o")), {
          input: [user("Latest news in Iceland?")],
          output: [{
            role: "assistant",
            parts: [
              {
                type: "server_tool_call",
                id: "ws_68ac1e339ee8819289d2eb5604ce44ce014ed998995dd5ee",
                name: "web_search",
                server_tool_call: {
                  type: "web_search",
                  action: { query: "latest news in Iceland October 2023", type: "search" }
                }
              },
              text("As of August 25, 2025, here are the latest developments in Iceland: ...")
            ],
            finish_reason: "stop"
          }]
        })
      })
    ))

  it.live("trackLlmCall with usageFrom \"auto\": a function call; an incomplete response", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const events = fixture("content-openai-responses-stream-tool-call")
        fake.next("/v1/responses", 200, events[events.length - 1].response)
        yield* Effect.promise(() => client.responses.create({ model: "gpt-5.1", input: "Weather in Beijing?" })).pipe(
          trackLlmCall({ provider: "openai", model: "gpt-5.1", usageFrom: "auto" })
        )
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-5.1")), {
          output: [{
            role: "assistant",
            parts: [call("call_2FQdm3Br7Qb35YUBSkDR7kue", "get_weather", { city: "Beijing" })],
            finish_reason: "tool_call"
          }]
        })

        fake.next("/v1/responses", 200, fixture("openai-responses-incomplete"))
        yield* Effect.promise(() => client.responses.create({ model: "o4-mini", input: "Think hard." })).pipe(
          trackLlmCall({ provider: "openai", model: "o4-mini", usageFrom: "openai.responses" })
        )
        assert.deepStrictEqual(contentOf(yield* take("chat o4-mini")), {
          output: [{ role: "assistant", parts: [], finish_reason: "length" }]
        })
      })
    ))

  it.live("a stream of fromAsyncIterable: reasoning and text, complete and abandoned", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = openaiClient(fake)
        const events = fixture("content-openai-responses-stream-text")
        const stream = LlmStream.fromAsyncIterable(
          (signal) =>
            client.responses.create({ model: "gpt-5-mini", input: "Weather in Paris?", stream: true }, { signal }),
          { provider: "openai", model: "gpt-5-mini", usageFrom: "auto" }
        )
        const reasoning = { type: "reasoning", content: "**Answering briefly**\n\nThe user wants one sentence." }
        fake.nextSse("/v1/responses", typedSse(events))
        yield* Stream.runDrain(stream)
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-5-mini")), {
          output: [{
            role: "assistant",
            parts: [reasoning, text("Paris is rainy today, at 14°C.")],
            finish_reason: "stop"
          }]
        })

        fake.nextSse("/v1/responses", typedSse(events))
        const secondDelta = events.findIndex((event: any) => event.type === "response.output_text.delta") + 2
        yield* Stream.runDrain(Stream.take(stream, secondDelta))
        assert.deepStrictEqual(contentOf(yield* take("chat gpt-5-mini")), {
          output: [{ role: "assistant", parts: [reasoning, text("Paris is rainy")], finish_reason: "interrupted" }]
        })
      })
    ))
})

describe("the @anthropic-ai/sdk client: messages", () => {
  it.live("instrumented: system as system instructions, tool use and results, the response's blocks", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = anthropicClient(fake)
        const create = llmInstrumented({ provider: "anthropic" }).promise((
          params: Anthropic.MessageCreateParamsNonStreaming
        ) => client.messages.create(params))
        yield* create({
          model: "claude-sonnet-4-6",
          max_tokens: 1024,
          system: "You are Claude.",
          messages: [
            { role: "user", content: "What is your name? Look it up." },
            {
              role: "assistant",
              content: [
                { type: "text", text: "Let me check." },
                { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "whoami", input: {} }
              ]
            },
            {
              role: "user",
              content: [{
                type: "tool_result",
                tool_use_id: "toolu_01A09q90qw90lq917835lq9",
                content: [{ type: "text", text: "Claude" }]
              }]
            }
          ]
        })
        assert.deepStrictEqual(contentOf(yield* take("chat claude-sonnet-4-6")), {
          system: [text("You are Claude.")],
          input: [
            user("What is your name? Look it up."),
            { role: "assistant", parts: [text("Let me check."), call("toolu_01A09q90qw90lq917835lq9", "whoami", {})] },
            { role: "user", parts: [result("toolu_01A09q90qw90lq917835lq9", [text("Claude")])] }
          ],
          output: [answer("Hi! My name is Claude.")]
        })
      })
    ))

  it.live("trackLlmCall with usageFrom \"auto\": thinking and a tool call; a web search", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = anthropicClient(fake)
        const ask = (model: string) =>
          Effect.promise(() =>
            client.messages.create({ model, max_tokens: 1024, messages: [{ role: "user", content: "Go." }] })
          ).pipe(trackLlmCall({ provider: "anthropic", model, usageFrom: "auto" }))
        fake.next("/v1/messages", 200, fixture("content-anthropic-tool-use"))
        yield* ask("claude-sonnet-4-6")
        assert.deepStrictEqual(contentOf(yield* take("chat claude-sonnet-4-6")), {
          output: [{
            role: "assistant",
            parts: [
              { type: "reasoning", content: "The user wants me to call checkSandboxErrors immediately." },
              call("toolu_017R7ACrx7NF7sLDDtvdQ1u9", "checkSandboxErrors", {})
            ],
            finish_reason: "tool_call"
          }]
        })

        fake.next("/v1/messages", 200, fixture("anthropic-web-search"))
        yield* ask("claude-sonnet-4-20250514")
        const output = contentOf(yield* take("chat claude-sonnet-4-20250514")).output as Array<any>
        assert.deepStrictEqual(output[0].parts.slice(1, 3), [
          {
            type: "server_tool_call",
            id: "srvtoolu_01EoSNE7k4dUJyGatASCV5qs",
            name: "web_search",
            server_tool_call: { type: "web_search", input: { query: "San Francisco weather today" } }
          },
          {
            type: "server_tool_call_response",
            id: "srvtoolu_01EoSNE7k4dUJyGatASCV5qs",
            server_tool_call_response: {
              type: "web_search",
              content: [{
                type: "web_search_result",
                title: "San Francisco, CA Weather Forecast | AccuWeather",
                url: "https://www.accuweather.com/en/us/san-francisco/94103/weather-forecast/347629",
                page_age: "6 days ago"
              }]
            }
          }
        ])
        assert.strictEqual(output[0].finish_reason, "stop")
      })
    ))

  it.live("messages.create({ stream: true }) through fromAsyncIterable: complete and abandoned", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = anthropicClient(fake)
        const stream = LlmStream.fromAsyncIterable(
          (signal) =>
            client.messages.create({
              model: "claude-3-5-sonnet-20241022",
              max_tokens: 1024,
              messages: [{ role: "user", content: "Hello" }],
              stream: true
            }, { signal }),
          { provider: "anthropic", model: "claude-3-5-sonnet-20241022", usageFrom: "auto" }
        )
        yield* Stream.runDrain(stream)
        assert.deepStrictEqual(contentOf(yield* take("chat claude-3-5-sonnet-20241022")), {
          output: [answer("Hi! My name is Claude.")]
        })
        // message_start, content_block_start, the first text delta (the SDK drops the ping)
        yield* Stream.runDrain(Stream.take(stream, 3))
        assert.deepStrictEqual(contentOf(yield* take("chat claude-3-5-sonnet-20241022")), {
          output: [answer("Hi! ", "interrupted")]
        })
      })
    ))

  it.live("messages.stream(): thinking, text and a tool call's input_json_delta, complete and abandoned", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const client = anthropicClient(fake)
        const events = fixture("content-anthropic-stream-thinking-tool")
        const body = sse(events.map((event: any) => [event.type, event] as const))
        const stream = LlmStream.fromAsyncIterable(
          (signal) =>
            client.messages.stream({
              model: "claude-sonnet-4-6",
              max_tokens: 1024,
              messages: [{ role: "user", content: "Weather in Paris?" }]
            }, { signal }),
          { provider: "anthropic", model: "claude-sonnet-4-6" }
        )
        const thinking = { type: "reasoning", content: "The user wants the weather in Paris; the tool gives it." }
        fake.nextSse("/v1/messages", body)
        yield* Stream.runDrain(stream)
        assert.deepStrictEqual(contentOf(yield* take("chat claude-sonnet-4-6")), {
          output: [{
            role: "assistant",
            parts: [
              thinking,
              text("I'll check the weather in Paris."),
              call("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", { location: "Paris", unit: "celsius" })
            ],
            finish_reason: "tool_call"
          }]
        })

        // abandoned within the tool's input
        fake.nextSse("/v1/messages", body)
        yield* Stream.runDrain(Stream.take(stream, 13))
        assert.deepStrictEqual(contentOf(yield* take("chat claude-sonnet-4-6")), {
          output: [{
            role: "assistant",
            parts: [
              thinking,
              text("I'll check the weather in Paris."),
              call("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", "{\"location\": \"Pa")
            ],
            finish_reason: "interrupted"
          }]
        })
      })
    ))
})
