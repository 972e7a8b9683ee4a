import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as Chat from "@effect/ai/Chat"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Option, Schema, Stream } from "effect"
import fc from "fast-check"
import * as Content from "../src/Content.js"
import * as EffectAi from "../src/EffectAi.js"
import { TrackingTest } from "../src/index.js"
import * as mapping from "../src/internal/effectAiContent.js"
import { ToolTracker } from "../src/ToolTracker.js"
import {
  anthropicEvents,
  anthropicJson,
  clients,
  type FakeAi,
  fakeAi,
  openAi429,
  openAiEvents,
  type OpenAiItem,
  openAiJson,
  TestPrices
} from "./utils/fakeEffectAi.js"
import { throwingProxy } from "./utils/hostile.js"

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47])

/** Response parts as @effect/ai's providers make them (decoded: with their defaults, as `GenerateTextResponse` holds). */
const usage = new Response.Usage({ inputTokens: 10, outputTokens: 5, totalTokens: 15 })
const finish = (reason: Response.FinishReason) => Response.makePart("finish", { reason, usage })

describe("effectAiContent: prompts", () => {
  it("a string is one user text message", () => {
    assert.deepStrictEqual(mapping.fromPrompt("Capital of France?"), {
      system: undefined,
      input: [{ role: "user", parts: [{ type: "text", content: "Capital of France?" }] }]
    })
  })

  it("a Prompt: system messages are the instructions; every part of every other message in order, media without bytes", () => {
    const prompt = Prompt.make([
      { role: "system", content: "You are terse." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is on these?" },
          { type: "file", mediaType: "image/png", data: new URL("https://example.com/a.png") },
          { type: "file", mediaType: "image/png", data: png },
          { type: "file", mediaType: "application/pdf", data: "JVBERi0xLjQK", fileName: "a.pdf" },
          { type: "file", mediaType: "audio/wav", data: "data:audio/wav;base64,UklGRg==" },
          { type: "file", mediaType: "video/mp4", data: "https://example.com/v.mp4" }
        ]
      },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "Two images, a PDF, a sound, a video." },
          { type: "text", text: "Let me look that up." },
          { type: "tool-call", id: "call_1", name: "look_up", params: { query: "a.png" } }
        ]
      },
      {
        role: "tool",
        content: [{
          type: "tool-result",
          id: "call_1",
          name: "look_up",
          isFailure: false,
          result: { found: true },
          providerExecuted: false
        }]
      },
      { role: "system", content: "Answer in French." },
      { role: "user", content: "Merci" }
    ])
    assert.deepStrictEqual(mapping.fromPrompt(prompt), {
      system: [{ type: "text", content: "You are terse." }, { type: "text", content: "Answer in French." }],
      input: [
        {
          role: "user",
          parts: [
            { type: "text", content: "What is on these?" },
            { type: "uri", modality: "image", mime_type: "image/png", uri: "https://example.com/a.png" },
            { type: "blob", modality: "image", mime_type: "image/png", content: "[omitted]" },
            { type: "blob", modality: "document", mime_type: "application/pdf", content: "[omitted]" },
            { type: "blob", modality: "audio", mime_type: "audio/wav", content: "[omitted]" },
            { type: "uri", modality: "video", mime_type: "video/mp4", uri: "https://example.com/v.mp4" }
          ]
        },
        {
          role: "assistant",
          parts: [
            { type: "reasoning", content: "Two images, a PDF, a sound, a video." },
            { type: "text", content: "Let me look that up." },
            { type: "tool_call", id: "call_1", name: "look_up", arguments: { query: "a.png" } }
          ]
        },
        { role: "tool", parts: [{ type: "tool_call_response", id: "call_1", response: { found: true } }] },
        { role: "user", parts: [{ type: "text", content: "Merci" }] }
      ]
    })
  })

  it("raw input (encoded messages, string contents) reads as the Prompt it makes", () => {
    const raw: Prompt.RawInput = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: [{ type: "text", text: "Weather?" }] }
    ]
    const expected = {
      system: [{ type: "text", content: "Be brief." }],
      input: [
        { role: "user", parts: [{ type: "text", content: "Hi" }] },
        { role: "assistant", parts: [{ type: "text", content: "Hello" }] },
        { role: "user", parts: [{ type: "text", content: "Weather?" }] }
      ]
    }
    assert.deepStrictEqual(mapping.fromPrompt(raw), expected)
    assert.deepStrictEqual(mapping.fromPrompt(Prompt.make(raw)), expected)
    // Any iterable, as @effect/ai takes it.
    assert.deepStrictEqual(mapping.fromPrompt(new Set(raw)), expected)
    assert.deepStrictEqual(mapping.fromOptions({ prompt: raw, toolChoice: "auto" }), expected)
  })

  it("bounded while reading: strings cut with the marker, the last 1,024 messages, the first 256 parts", () => {
    const long = "x".repeat(mapping.maxReadChars + 10)
    const [message] = mapping.fromPrompt(long)!.input
    const content = (message.parts[0] as { content: string }).content
    assert.strictEqual(content.length, mapping.maxReadChars)
    assert.isTrue(content.endsWith("…[truncated]"))

    const many = Array.from({ length: 2_000 }, (_, i) => ({ role: "user" as const, content: `m${i}` }))
    for (const input of [many, new Set(many), Prompt.make(many)]) {
      const read = mapping.fromPrompt(input)!.input
      assert.strictEqual(read.length, mapping.maxMessages)
      assert.deepStrictEqual(read[0].parts, [{ type: "text", content: "m976" }])
      assert.deepStrictEqual(read[read.length - 1].parts, [{ type: "text", content: "m1999" }])
    }

    const parts = Array.from({ length: 300 }, (_, i) => ({ type: "text" as const, text: `p${i}` }))
    const [wide] = mapping.fromPrompt([{ role: "user", content: parts }])!.input
    assert.strictEqual(wide.parts.length, mapping.maxParts)
  })

  it("an infinite iterable is read to a bound, not forever", () => {
    function* forever() {
      for (let i = 0;; i++) yield { role: "user", content: `m${i}` }
    }
    const read = mapping.fromPrompt(forever())!.input
    assert.strictEqual(read.length, mapping.maxMessages)
  })

  it("hostile values: what cannot be read is skipped, never thrown", () => {
    const getter = Object.defineProperty({ role: "user" }, "content", {
      get: () => {
        throw new Error("boom")
      },
      enumerable: true
    })
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const throwingIterable = {
      *[Symbol.iterator]() {
        yield { role: "user", content: "first" }
        throw new Error("boom")
      }
    }
    assert.deepStrictEqual(
      mapping.fromPrompt([
        getter,
        throwingProxy(["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"]),
        proxy,
        null,
        42,
        { role: 7, content: "no role" },
        { role: "user", content: [null, { type: "text", text: 5 }, { type: "unknown" }, { type: "tool-call" }] },
        { role: "user", content: "ok" }
      ]),
      {
        system: undefined,
        input: [
          { role: "user", parts: [] },
          { role: "user", parts: [] },
          { role: "user", parts: [{ type: "text", content: "ok" }] }
        ]
      }
    )
    for (const bad of [undefined, null, 42, {}, proxy, throwingProxy(["get"]), throwingIterable]) {
      assert.isUndefined(mapping.fromPrompt(bad))
    }
    assert.isUndefined(mapping.fromOptions(throwingProxy(["get"])))
    // A file whose data is a hostile object is a blob: its bytes are never read.
    assert.deepStrictEqual(
      mapping.fromPrompt([{
        role: "user",
        content: [{ type: "file", mediaType: "image/jpeg", data: throwingProxy(["getPrototypeOf", "get"]) }]
      }])!.input[0].parts,
      [{ type: "blob", modality: "image", mime_type: "image/jpeg", content: "[omitted]" }]
    )
  })

  it("property: any value at all is mapped without throwing", () => {
    fc.assert(fc.property(fc.anything({ withMap: true, withSet: true, withTypedArray: true }), (value) => {
      mapping.fromPrompt(value)
      mapping.fromPrompt([value])
      mapping.fromPrompt([{ role: "user", content: [value] }])
      mapping.fromResponse(value)
      mapping.fromResponse([value])
      const stream = new mapping.StreamOutput()
      stream.observe(value)
      stream.result("interrupted")
    }))
  })
})

describe("effectAiContent: responses", () => {
  it("one assistant message: text, reasoning, tool calls and results in order, the finish reason in the conventions' terms", () => {
    const parts = [
      Response.makePart("response-metadata", {
        id: "resp_1",
        modelId: "gpt-4o-mini",
        timestamp: new Date(0)
      } as never),
      Response.makePart("reasoning", { text: "The user wants weather." }),
      Response.makePart("text", { text: "Checking." }),
      Response.makePart("tool-call", {
        id: "call_1",
        name: "get_weather",
        params: { city: "Paris" },
        providerExecuted: false
      }),
      Response.makePart("tool-result", {
        id: "call_1",
        name: "get_weather",
        result: { celsius: 21, at: new Date(0) },
        encodedResult: { celsius: 21, at: "1970-01-01T00:00:00.000Z" },
        isFailure: false,
        providerExecuted: false
      }),
      Response.makePart("file", { mediaType: "image/png", data: png }),
      Response.makePart("source", {
        sourceType: "url",
        id: "s1",
        url: new URL("https://example.com"),
        title: "Example"
      } as never),
      finish("tool-calls")
    ]
    assert.deepStrictEqual(mapping.fromResponse(parts), [{
      role: "assistant",
      parts: [
        { type: "reasoning", content: "The user wants weather." },
        { type: "text", content: "Checking." },
        { type: "tool_call", id: "call_1", name: "get_weather", arguments: { city: "Paris" } },
        { type: "tool_call_response", id: "call_1", response: { celsius: 21, at: "1970-01-01T00:00:00.000Z" } },
        { type: "blob", modality: "image", mime_type: "image/png", content: "[omitted]" }
      ],
      finish_reason: "tool_call"
    }])
  })

  it("finish reasons: stop, length, content_filter, tool_call, error mapped; others as they are", () => {
    const reasons: Array<[Response.FinishReason, string]> = [
      ["stop", "stop"],
      ["length", "length"],
      ["content-filter", "content_filter"],
      ["tool-calls", "tool_call"],
      ["error", "error"],
      ["pause", "pause"],
      ["other", "other"],
      ["unknown", "unknown"]
    ]
    for (const [reason, expected] of reasons) {
      assert.strictEqual(
        mapping.fromResponse([Response.makePart("text", { text: "a" }), finish(reason)])![0]
          .finish_reason,
        expected
      )
    }
    // No finish part: @effect/ai's own word for it.
    assert.deepStrictEqual(mapping.fromResponse([]), [{ role: "assistant", parts: [], finish_reason: "unknown" }])
    assert.isUndefined(mapping.fromResponse(undefined))
    assert.isUndefined(mapping.fromResponse(throwingProxy(["get", "getPrototypeOf"])))
  })
})

describe("effectAiContent: streams", () => {
  const streamed = [
    Response.makePart("response-metadata", { id: "r", modelId: "m", timestamp: new Date(0) } as never),
    Response.makePart("reasoning-start", { id: "rs_1" }),
    Response.makePart("reasoning-delta", { id: "rs_1", delta: "Think " }),
    Response.makePart("text-start", { id: "t_1" }),
    Response.makePart("reasoning-delta", { id: "rs_1", delta: "hard." }),
    Response.makePart("reasoning-end", { id: "rs_1" }),
    Response.makePart("text-delta", { id: "t_1", delta: "Paris is " }),
    Response.makePart("text-delta", { id: "t_1", delta: "lovely." }),
    Response.makePart("text-end", { id: "t_1" }),
    Response.makePart("tool-params-start", { id: "call_1", name: "get_weather", providerExecuted: false }),
    Response.makePart("tool-params-delta", { id: "call_1", delta: "{\"city\":" }),
    Response.makePart("tool-params-delta", { id: "call_1", delta: "\"Paris\"}" }),
    Response.makePart("tool-params-end", { id: "call_1" }),
    Response.makePart("tool-call", {
      id: "call_1",
      name: "get_weather",
      params: { city: "Paris" },
      providerExecuted: false
    }),
    finish("tool-calls")
  ] as const

  it("complete: the deltas joined per part, in the order the parts started, the tool call as it came whole", () => {
    const output = new mapping.StreamOutput()
    for (const part of streamed) output.observe(part)
    assert.deepStrictEqual(output.result("complete"), [{
      role: "assistant",
      parts: [
        { type: "reasoning", content: "Think hard." },
        { type: "text", content: "Paris is lovely." },
        { type: "tool_call", id: "call_1", name: "get_weather", arguments: { city: "Paris" } }
      ],
      finish_reason: "tool_call"
    }])
  })

  it("abandoned: what came so far, interrupted; tool parameters cut short kept as the text they are", () => {
    const output = new mapping.StreamOutput()
    for (const part of streamed.slice(0, 11)) output.observe(part)
    assert.deepStrictEqual(output.result("interrupted"), [{
      role: "assistant",
      parts: [
        { type: "reasoning", content: "Think hard." },
        { type: "text", content: "Paris is lovely." },
        { type: "tool_call", id: "call_1", name: "get_weather", arguments: "{\"city\":" }
      ],
      finish_reason: "interrupted"
    }])
    assert.strictEqual(output.result("error")![0].finish_reason, "error")
    // Nothing said at all: nothing to record.
    assert.isUndefined(new mapping.StreamOutput().result("interrupted"))
    const onlyMetadata = new mapping.StreamOutput()
    onlyMetadata.observe(streamed[0])
    assert.isUndefined(onlyMetadata.result("complete"))
  })

  it("whole parts in a stream (text, tool results) and deltas without a start", () => {
    const output = new mapping.StreamOutput()
    output.observe(Response.makePart("text-delta", { id: "x", delta: "a" }))
    output.observe(Response.makePart("text-delta", { id: "x", delta: "b" }))
    output.observe(Response.makePart("text", { text: "whole" }))
    output.observe(
      Response.makePart("tool-result", {
        id: "c",
        name: "t",
        result: 1,
        encodedResult: 1,
        isFailure: false,
        providerExecuted: true
      })
    )
    output.observe(finish("stop"))
    assert.deepStrictEqual(output.result("complete"), [{
      role: "assistant",
      parts: [
        { type: "text", content: "ab" },
        { type: "text", content: "whole" },
        { type: "tool_call_response", id: "c", response: 1 }
      ],
      finish_reason: "stop"
    }])
  })

  it("bounded: a part stops growing at the read bound, with the marker; at most 256 parts", () => {
    const output = new mapping.StreamOutput()
    const delta = "y".repeat(100_000)
    for (let i = 0; i < 5; i++) output.observe(Response.makePart("text-delta", { id: "t", delta }))
    for (let i = 0; i < 400; i++) output.observe(Response.makePart("text-delta", { id: `t${i}`, delta: "z" }))
    const [message] = output.result("complete")!
    assert.strictEqual(message.parts.length, mapping.maxParts)
    const first = (message.parts[0] as { content: string }).content
    assert.isAtMost(first.length, mapping.maxReadChars)
    assert.isTrue(first.endsWith("…[truncated]"))
    // Truncated tool parameters are not parsed.
    const tool = new mapping.StreamOutput()
    tool.observe(Response.makePart("tool-params-start", { id: "c", name: "t", providerExecuted: false }))
    for (let i = 0; i < 3; i++) tool.observe(Response.makePart("tool-params-delta", { id: "c", delta }))
    const args = (tool.result("interrupted")![0].parts[0] as { arguments: unknown }).arguments
    assert.isString(args)
  })
})

// --- through the real provider clients -----------------------------------------------------------------------------

const mini = "gpt-4o-mini-2024-07-18"
const claude = "claude-sonnet-4-5-20250929"

const contentKeys = [
  "gen_ai.system_instructions",
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result"
] as const

/** A test against a fresh fake with the real clients, fresh tracking and, unless `capture` is false, capture on. */
const withFake = <A, E, R>(f: (fake: FakeAi) => Effect.Effect<A, E, R>, capture = true) =>
  Effect.flatMap(fakeAi, (fake) => f(fake).pipe(Effect.provide(clients(fake)))).pipe(
    Effect.scoped,
    (effect) => capture ? Effect.provide(effect, Content.layer()) : effect,
    Effect.provide(Layer.merge(TrackingTest.layer, TestPrices))
  )

const gpt = (tools?: EffectAi.ToolsMode) =>
  EffectAi.model(OpenAiLanguageModel.model("gpt-4o-mini"), { model: "gpt-4o-mini", tools })
const sonnet = EffectAi.model(AnthropicLanguageModel.model("claude-sonnet-4-5"), { model: "claude-sonnet-4-5" })

const GetWeather = Tool.make("get_weather", {
  description: "The weather in a city",
  parameters: { city: Schema.String },
  success: Schema.Struct({ celsius: Schema.Number }),
  failure: Schema.Struct({ reason: Schema.String }),
  failureMode: "return"
})
const Tools = Toolkit.make(GetWeather)
const handlers = Tools.toLayer({
  get_weather: ({ city }) =>
    city === "Atlantis" ? Effect.fail({ reason: "no such city" }) : Effect.succeed({ celsius: 21 })
})

const weatherCall = (city: string, callId = "call_w1"): OpenAiItem => ({
  type: "function_call",
  id: `fc_${callId}`,
  callId,
  name: "get_weather",
  arguments: JSON.stringify({ city })
})
const openAiText = (text: string, id = "resp_1") =>
  openAiJson({
    id,
    model: mini,
    items: [{ type: "message", id: `msg_${id}`, text }],
    usage: { input: 100, output: 12 }
  })
const openAiTools = (items: ReadonlyArray<OpenAiItem>, id = "resp_t1") =>
  openAiJson({ id, model: mini, items, usage: { input: 120, output: 18 } })

const spansNamed = (name: string) =>
  Effect.map(TrackingTest.finishedSpans, (spans) => spans.filter((span) => span.name === name))

/** A content attribute as exported: a JSON string, parsed. */
const json = (span: ReadableSpan, key: (typeof contentKeys)[number]): unknown => {
  const value = span.attributes[key]
  if (value === undefined) return undefined
  assert.isString(value)
  return JSON.parse(value as string)
}

const content = (span: ReadableSpan) => ({
  system: json(span, "gen_ai.system_instructions"),
  input: json(span, "gen_ai.input.messages"),
  output: json(span, "gen_ai.output.messages")
})

const text = (content: string) => ({ type: "text", content })
const assistant = (parts: ReadonlyArray<unknown>, finish_reason: string) => ({
  role: "assistant",
  parts,
  finish_reason
})

const parisStream = {
  id: "resp_s1",
  model: mini,
  items: [{ type: "message" as const, id: "msg_s1", text: "Paris is the capital of France." }],
  usage: { input: 100, output: 12 }
}

describe("EffectAi content, generateText and generateObject", () => {
  it.live("OpenAI: the system message as instructions, the other messages as input, the answer as output", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAiText("Paris is the capital of France."))
        yield* LanguageModel.generateText({
          prompt: [
            { role: "system", content: "You are a geography teacher." },
            { role: "user", content: "Capital of France?" }
          ]
        }).pipe(Effect.provide(gpt()))
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(
          chat.attributes["gen_ai.system_instructions"],
          JSON.stringify([text("You are a geography teacher.")])
        )
        assert.strictEqual(
          chat.attributes["gen_ai.input.messages"],
          JSON.stringify([{ role: "user", parts: [text("Capital of France?")] }])
        )
        assert.strictEqual(
          chat.attributes["gen_ai.output.messages"],
          JSON.stringify([assistant([text("Paris is the capital of France.")], "stop")])
        )
        // Tokens and the rest as without capture.
        assert.strictEqual(chat.attributes["gen_ai.usage.output_tokens"], 12)
        assert.isUndefined(chat.attributes["botanu.content.truncated"])
        // @effect/ai's own span records no content.
        const [inner] = yield* spansNamed("LanguageModel.generateText")
        for (const key of contentKeys) assert.isUndefined(inner.attributes[key])
      })
    ))

  it.live("Anthropic: the same, through the service handed over; max_tokens is length", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/messages",
          anthropicJson({
            id: "msg_1",
            model: claude,
            content: [{ type: "text", text: "Hello there" }],
            stopReason: "max_tokens",
            usage: { input: 50, output: 20 }
          })
        )
        const model = yield* LanguageModel.LanguageModel
        yield* model.generateText({ prompt: "Say hello" })
        const [chat] = yield* spansNamed("chat claude-sonnet-4-5")
        assert.deepStrictEqual(content(chat), {
          system: undefined,
          input: [{ role: "user", parts: [text("Say hello")] }],
          output: [assistant([text("Hello there")], "length")]
        })
      }).pipe(Effect.provide(sonnet))
    ))

  it.live("generateObject: the answer's text as output, also when it is not the object and the call fails", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const Contact = Schema.Struct({ name: Schema.String })
        fake.reply("/v1/responses", openAiText("{\"name\":\"Ada\"}", "resp_1"), openAiText("Ada, I think", "resp_2"))
        const extract = LanguageModel.generateObject({ prompt: "Who? Ada.", schema: Contact }).pipe(
          Effect.provide(gpt())
        )
        assert.deepStrictEqual((yield* extract).value, { name: "Ada" })
        yield* Effect.flip(extract)
        const [ok, failed] = yield* spansNamed("chat gpt-4o-mini")
        assert.deepStrictEqual(content(ok).output, [assistant([text("{\"name\":\"Ada\"}")], "stop")])
        assert.deepStrictEqual(content(failed), {
          system: undefined,
          input: [{ role: "user", parts: [text("Who? Ada.")] }],
          output: [assistant([text("Ada, I think")], "stop")]
        })
        assert.strictEqual(failed.attributes["error.type"], "MalformedOutput")
      })
    ))

  it.live("a call that fails (429): the input recorded, no output", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAi429("req_429"))
        yield* Effect.flip(LanguageModel.generateText({ prompt: "Capital?" }).pipe(Effect.provide(gpt())))
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(chat.attributes["error.type"], "HttpResponseError")
        assert.deepStrictEqual(content(chat), {
          system: undefined,
          input: [{ role: "user", parts: [text("Capital?")] }],
          output: undefined
        })
      })
    ))
})

describe("EffectAi content, media, pipeline and cost", () => {
  it.live("media in a prompt: a web address as a uri part, inline bytes as a blob part without them", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAiText("A cat and a dog."))
        const bytes = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        yield* LanguageModel.generateText({
          prompt: [{
            role: "user",
            content: [
              { type: "text", text: "What is on these?" },
              { type: "file", mediaType: "image/jpeg", data: new URL("https://example.com/cat.jpg") },
              { type: "file", mediaType: "image/png", data: bytes }
            ]
          }]
        }).pipe(Effect.provide(gpt()))
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(
          chat.attributes["gen_ai.input.messages"],
          JSON.stringify([{
            role: "user",
            parts: [
              text("What is on these?"),
              { type: "uri", modality: "image", mime_type: "image/jpeg", uri: "https://example.com/cat.jpg" },
              { type: "blob", modality: "image", mime_type: "image/png", content: "[omitted]" }
            ]
          }])
        )
        assert.isFalse(JSON.stringify(chat.attributes).includes(bytes))
      })
    ))

  it.live("the capture's pipeline applies: scrubbers, and a hand value set in a tool wins over the layer's", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/responses",
          openAiTools([weatherCall("Paris")]),
          openAiText("Write to ada@example.com", "resp_2")
        )
        const custom = Tools.toLayer({
          get_weather: () =>
            Effect.zipRight(
              // A handler's requirements are never: the tracker is read as an optional service.
              Effect.flatMap(
                Effect.serviceOption(ToolTracker),
                Option.match({
                  onNone: () => Effect.void,
                  onSome: (tracker) => tracker.setResultContent({ summary: "mild" })
                })
              ),
              Effect.succeed({ celsius: 21 })
            )
        })
        yield* LanguageModel.generateText({ prompt: "Weather? I am ada@example.com", toolkit: Tools }).pipe(
          Effect.provide(gpt()),
          Effect.provide(custom)
        )
        yield* LanguageModel.generateText({ prompt: "Contact?" }).pipe(Effect.provide(gpt()))
        const [first, second] = yield* spansNamed("chat gpt-4o-mini")
        assert.deepStrictEqual(content(first).input, [{ role: "user", parts: [text("Weather? I am [EMAIL]")] }])
        assert.deepStrictEqual(content(second).output, [assistant([text("Write to [EMAIL]")], "stop")])
        const [tool] = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.result"], "{\"summary\":\"mild\"}")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.arguments"], "{\"city\":\"Paris\"}")
      }).pipe(Effect.provide(Content.layer({ scrub: ["email"] })))
    ))

  it.live("off, the prompt is not read by the layer: an iterable prompt is iterated by @effect/ai alone", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAiText("Hi"), openAiText("Hi", "resp_2"))
        let reads = 0
        const prompt = {
          *[Symbol.iterator]() {
            reads++
            yield { role: "user" as const, content: "Hello" }
          }
        }
        yield* LanguageModel.generateText({ prompt }).pipe(Effect.provide(gpt()))
        assert.strictEqual(reads, 1)
        yield* LanguageModel.generateText({ prompt }).pipe(Effect.provide(gpt()), Effect.provide(Content.layer()))
        assert.strictEqual(reads, 3)
        const [off, on] = yield* spansNamed("chat gpt-4o-mini")
        assert.isUndefined(off.attributes["gen_ai.input.messages"])
        assert.deepStrictEqual(content(on).input, [{ role: "user", parts: [text("Hello")] }])
      }), false))
})

describe("EffectAi content, tools", () => {
  it.live("Chat over two turns: tool calls as output, the tool span's arguments and result, the history as input", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/responses",
          openAiTools([weatherCall("Paris"), weatherCall("Atlantis", "call_w2")]),
          openAiText("21 degrees in Paris; Atlantis is unknown.", "resp_t2")
        )
        yield* Effect.gen(function*() {
          const chat = yield* Chat.fromPrompt([{ role: "system", content: "Use the tools." }])
          yield* chat.generateText({ prompt: "Weather in Paris and Atlantis?", toolkit: Tools })
          yield* chat.generateText({ prompt: [], toolkit: Tools })
        }).pipe(Effect.provide(gpt()), Effect.provide(handlers))

        const [first, second] = yield* spansNamed("chat gpt-4o-mini")
        const toolCalls = [
          { type: "tool_call", id: "call_w1", name: "get_weather", arguments: { city: "Paris" } },
          { type: "tool_call", id: "call_w2", name: "get_weather", arguments: { city: "Atlantis" } }
        ]
        assert.deepStrictEqual(content(first), {
          system: [text("Use the tools.")],
          input: [{ role: "user", parts: [text("Weather in Paris and Atlantis?")] }],
          output: [assistant(toolCalls, "tool_call")]
        })
        assert.deepStrictEqual(content(second), {
          system: [text("Use the tools.")],
          input: [
            { role: "user", parts: [text("Weather in Paris and Atlantis?")] },
            { role: "assistant", parts: toolCalls },
            {
              role: "tool",
              parts: [
                { type: "tool_call_response", id: "call_w1", response: { celsius: 21 } },
                { type: "tool_call_response", id: "call_w2", response: { reason: "no such city" } }
              ]
            }
          ],
          output: [assistant([text("21 degrees in Paris; Atlantis is unknown.")], "stop")]
        })

        const tools = yield* spansNamed("execute_tool get_weather")
        assert.deepStrictEqual(tools.map((span) => span.attributes["gen_ai.tool.call.id"]), ["call_w1", "call_w2"])
        assert.strictEqual(tools[0].attributes["gen_ai.tool.call.arguments"], "{\"city\":\"Paris\"}")
        assert.strictEqual(tools[0].attributes["gen_ai.tool.call.result"], "{\"celsius\":21}")
        assert.strictEqual(tools[1].attributes["gen_ai.tool.call.arguments"], "{\"city\":\"Atlantis\"}")
        assert.strictEqual(tools[1].attributes["gen_ai.tool.call.result"], "{\"reason\":\"no such city\"}")
        assert.isFalse(tools[1].attributes["botanu.tool.success"])
        // The tool spans carry no messages, the chat spans no tool arguments.
        for (const span of tools) assert.isUndefined(span.attributes["gen_ai.input.messages"])
        for (const span of [first, second]) assert.isUndefined(span.attributes["gen_ai.tool.call.arguments"])
      })
    ))

  it.live("Anthropic tool use: the tool call as output, its arguments and result on the tool span", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/messages",
          anthropicJson({
            id: "msg_t1",
            model: claude,
            content: [
              { type: "text", text: "Let me check." },
              { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }
            ],
            stopReason: "tool_use",
            usage: { input: 400, output: 60 }
          })
        )
        yield* LanguageModel.generateText({ prompt: "Weather in Paris?", toolkit: Tools }).pipe(
          Effect.provide(sonnet),
          Effect.provide(handlers)
        )
        const [chat] = yield* spansNamed("chat claude-sonnet-4-5")
        assert.deepStrictEqual(content(chat).output, [
          assistant([
            text("Let me check."),
            { type: "tool_call", id: "toolu_1", name: "get_weather", arguments: { city: "Paris" } }
          ], "tool_call")
        ])
        const [tool] = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.arguments"], "{\"city\":\"Paris\"}")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.result"], "{\"celsius\":21}")
      })
    ))

  it.live("native tools: @effect/ai runs them inside the call, whose output holds the calls and their results", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAiTools([weatherCall("Paris")]))
        yield* LanguageModel.generateText({ prompt: "Weather in Paris?", toolkit: Tools }).pipe(
          Effect.provide(gpt("native")),
          Effect.provide(handlers)
        )
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.deepStrictEqual(content(chat).output, [
          assistant([
            { type: "tool_call", id: "call_w1", name: "get_weather", arguments: { city: "Paris" } },
            { type: "tool_call_response", id: "call_w1", response: { celsius: 21 } }
          ], "tool_call")
        ])
      })
    ))
})

describe("EffectAi content, streams", () => {
  const claudeStream = {
    id: "msg_s1",
    model: claude,
    content: [{ type: "text", text: "Hello there, I am Claude." }],
    stopReason: "end_turn",
    usage: { input: 50, output: 20 }
  } as const

  it.live("complete: the deltas joined into the output, with the finish reason", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", { events: openAiEvents(parisStream) })
        fake.reply("/v1/messages", { events: anthropicEvents(claudeStream) })
        yield* LanguageModel.streamText({ prompt: "Capital?" }).pipe(Stream.provideLayer(gpt()), Stream.runDrain)
        yield* LanguageModel.streamText({
          prompt: [{ role: "system", content: "Be Claude." }, { role: "user", content: "Hello" }]
        }).pipe(Stream.provideLayer(sonnet), Stream.runDrain)
        const [openAi] = yield* spansNamed("chat gpt-4o-mini")
        const [anthropic] = yield* spansNamed("chat claude-sonnet-4-5")
        assert.deepStrictEqual(content(openAi), {
          system: undefined,
          input: [{ role: "user", parts: [text("Capital?")] }],
          output: [assistant([text("Paris is the capital of France.")], "stop")]
        })
        assert.deepStrictEqual(content(anthropic), {
          system: [text("Be Claude.")],
          input: [{ role: "user", parts: [text("Hello")] }],
          output: [assistant([text("Hello there, I am Claude.")], "stop")]
        })
      })
    ))

  it.live("abandoned by its consumer: what came so far, interrupted", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", { events: openAiEvents(parisStream), pauseMs: 40 })
        fake.reply("/v1/messages", { events: anthropicEvents(claudeStream), pauseMs: 40 })
        const firstDelta = <R>(layer: Layer.Layer<LanguageModel.LanguageModel, never, R>) =>
          LanguageModel.streamText({ prompt: "Hello" }).pipe(
            Stream.provideLayer(layer),
            Stream.filter((part) => part.type === "text-delta"),
            Stream.runHead
          )
        yield* firstDelta(gpt())
        yield* firstDelta(sonnet)
        const [openAi] = yield* spansNamed("chat gpt-4o-mini")
        const [anthropic] = yield* spansNamed("chat claude-sonnet-4-5")
        assert.strictEqual(openAi.attributes["botanu.usage.partial"], true)
        assert.deepStrictEqual(content(openAi).output, [assistant([text("Paris ")], "interrupted")])
        assert.deepStrictEqual(content(anthropic).output, [assistant([text("Hello ")], "interrupted")])
        assert.deepStrictEqual(content(anthropic).input, [{ role: "user", parts: [text("Hello")] }])
      })
    ))

  it.live("a stream that fails: the input, and no output when nothing came", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAi429("req_s429"))
        yield* Effect.flip(
          LanguageModel.streamText({ prompt: "Capital?" }).pipe(Stream.provideLayer(gpt()), Stream.runDrain)
        )
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(chat.attributes["error.type"], "HttpResponseError")
        assert.deepStrictEqual(content(chat), {
          system: undefined,
          input: [{ role: "user", parts: [text("Capital?")] }],
          output: undefined
        })
      })
    ))

  it.live("tools resolved by the layer in a stream: the call's output holds the tool call; the tool span the rest", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", {
          events: openAiEvents({
            id: "resp_st",
            model: mini,
            items: [weatherCall("Paris")],
            usage: { input: 1, output: 1 }
          })
        })
        yield* LanguageModel.streamText({ prompt: "Weather?", toolkit: Tools }).pipe(
          Stream.provideSomeLayer(gpt()),
          Stream.runDrain,
          Effect.provide(handlers)
        )
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.deepStrictEqual(content(chat).output, [
          assistant(
            [{ type: "tool_call", id: "call_w1", name: "get_weather", arguments: { city: "Paris" } }],
            "tool_call"
          )
        ])
        const [tool] = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.arguments"], "{\"city\":\"Paris\"}")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.result"], "{\"celsius\":21}")
      })
    ))
})

describe("EffectAi content, off", () => {
  it.live("without Content.layer (and without the environment variable): no content attribute on any span", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        assert.isUndefined(process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)
        fake.reply("/v1/responses", openAiTools([weatherCall("Paris")]), { events: openAiEvents(parisStream) })
        yield* LanguageModel.generateText({
          prompt: [{ role: "system", content: "Secret system prompt" }, { role: "user", content: "Weather?" }],
          toolkit: Tools
        }).pipe(Effect.provide(gpt()), Effect.provide(handlers))
        yield* LanguageModel.streamText({ prompt: "Capital?" }).pipe(Stream.provideLayer(gpt()), Stream.runDrain)
        const spans = yield* TrackingTest.finishedSpans
        assert.includeMembers(spans.map((span) => span.name), ["chat gpt-4o-mini", "execute_tool get_weather"])
        for (const span of spans) {
          for (const key of [...contentKeys, "botanu.content.truncated", "botanu.content.dropped"]) {
            assert.isUndefined(span.attributes[key], `${span.name} ${key}`)
          }
        }
        // The library's spans (@effect/ai's own Toolkit.handle records the parameters: see dropToolParameters).
        const ours = spans.filter((span) => span.name.startsWith("chat ") || span.name.startsWith("execute_tool "))
        const everything = JSON.stringify(ours.map((span) => [span.attributes, span.events]))
        for (const said of ["Secret system prompt", "Weather?", "Paris", "celsius"]) {
          assert.isFalse(everything.includes(said), said)
        }
      }), false))
})
