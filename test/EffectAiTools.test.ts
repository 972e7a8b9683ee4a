import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as Chat from "@effect/ai/Chat"
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Chunk, Data, Effect, Layer, Schema, Stream } from "effect"
import * as EffectAi from "../src/EffectAi.js"
import { botanuWorkflow, Tracking, TrackingTest } from "../src/index.js"
import {
  anthropicEvents,
  anthropicJson,
  clients,
  type FakeAi,
  fakeAi,
  openAiEvents,
  type OpenAiItem,
  openAiJson,
  TestPrices
} from "./utils/fakeEffectAi.js"
import { childNames, parentOf } from "./utils/spans.js"

const mini = "gpt-4o-mini-2024-07-18"
const claude = "claude-sonnet-4-5-20250929"

class CityUnknown extends Data.TaggedError("CityUnknown")<{ readonly city: string }> {}

const GetWeather = Tool.make("get_weather", {
  description: "The weather in a city",
  parameters: { city: Schema.String },
  success: Schema.Struct({ celsius: Schema.Number }),
  failure: Schema.Struct({ reason: Schema.String }),
  failureMode: "return"
})
const LookUpOrder = Tool.make("look_up_order", {
  parameters: { orderId: Schema.String },
  success: Schema.String,
  failure: Schema.Never
})
const Tools = Toolkit.make(GetWeather, LookUpOrder)

/** Handlers; `ran` records each call, so a test can tell whether (and how often) a tool ran. */
const handlers = (ran: Array<string> = []) =>
  Tools.toLayer({
    get_weather: ({ city }) =>
      Effect.sync(() => ran.push(`get_weather ${city}`)).pipe(
        Effect.zipRight(city === "Atlantis" ? Effect.fail({ reason: "no such city" }) : Effect.succeed({ celsius: 21 }))
      ),
    look_up_order: ({ orderId }) =>
      Effect.sync(() => ran.push(`look_up_order ${orderId}`)).pipe(
        Effect.zipRight(
          orderId === "missing"
            ? Effect.die(new CityUnknown({ city: orderId }))
            : Effect.succeed(`order ${orderId} shipped`)
        )
      )
  })

const withFake = <A, E, R>(f: (fake: FakeAi) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(fakeAi, (fake) => f(fake).pipe(Effect.provide(clients(fake)))).pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(TrackingTest.layer, TestPrices))
  )

const gpt = (tools?: EffectAi.ToolsMode) =>
  EffectAi.model(OpenAiLanguageModel.model("gpt-4o-mini"), { model: "gpt-4o-mini", tools })
const sonnet = EffectAi.model(AnthropicLanguageModel.model("claude-sonnet-4-5"), { model: "claude-sonnet-4-5" })

const weatherCall = (city: string, callId = "call_w1"): OpenAiItem => ({
  type: "function_call",
  id: `fc_${callId}`,
  callId,
  name: "get_weather",
  arguments: JSON.stringify({ city })
})

const toolTurn = (items: ReadonlyArray<OpenAiItem>, id = "resp_t1") =>
  openAiJson({ id, model: mini, items, usage: { input: 120, output: 18 } })

const textTurn = (text: string, id = "resp_t2") =>
  openAiJson({ id, model: mini, items: [{ type: "message", id: `msg_${id}`, text }], usage: { input: 160, output: 9 } })

const spansNamed = (name: string) =>
  Effect.map(TrackingTest.finishedSpans, (spans) => spans.filter((span) => span.name === name))

const plain = (parts: ReadonlyArray<Response.AnyPart>) =>
  JSON.parse(JSON.stringify(parts.filter((part) => part.type !== "response-metadata")))

describe("EffectAi tools, tracked (the default)", () => {
  it.live("generateText: each tool call a tracked execute_tool span with its id, beside the chat span", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const ran: Array<string> = []
        const twoCalls = [weatherCall("Paris"), {
          type: "function_call",
          id: "fc_o1",
          callId: "call_o1",
          name: "look_up_order",
          arguments: "{\"orderId\":\"A-1\"}"
        }] as const
        fake.reply("/v1/responses", toolTurn(twoCalls), toolTurn(twoCalls))
        const ask = LanguageModel.generateText({ prompt: "Weather in Paris? And order A-1?", toolkit: Tools })
        const tracked = yield* ask.pipe(Effect.provide(gpt()), Effect.provide(handlers(ran)), Effect.withSpan("app"))
        // The same answer through @effect/ai's own resolution: the result parts are identical.
        const native = yield* ask.pipe(
          Effect.provide(OpenAiLanguageModel.model("gpt-4o-mini")),
          Effect.provide(handlers(ran))
        )
        assert.deepStrictEqual(plain(tracked.content), plain(native.content))
        assert.deepStrictEqual(tracked.toolResults.map((part) => [part.id, part.result]), [
          ["call_w1", { celsius: 21 }],
          ["call_o1", "order A-1 shipped"]
        ])
        assert.deepStrictEqual(ran, [
          "get_weather Paris",
          "look_up_order A-1",
          "get_weather Paris",
          "look_up_order A-1"
        ])
        // The model was offered the tools.
        assert.deepStrictEqual(fake.requests[0].body.tools.map((tool: { name: string }) => tool.name), [
          "get_weather",
          "look_up_order"
        ])

        const spans = yield* TrackingTest.finishedSpans
        const [app] = yield* spansNamed("app")
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        const [weather] = yield* spansNamed("execute_tool get_weather")
        const [order] = yield* spansNamed("execute_tool look_up_order")
        // Siblings under the app's span, as the conventions lay a tool loop out.
        for (const span of [chat, weather, order]) assert.strictEqual(parentOf(spans, span), app)
        assert.deepStrictEqual(chat.attributes["gen_ai.response.finish_reasons"], ["tool-calls"])
        assert.strictEqual(weather.kind, SpanKind.INTERNAL)
        assert.deepStrictEqual(
          Object.fromEntries(Object.entries(weather.attributes).filter(([key]) => key !== "botanu.tool.duration_ms")),
          {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.type": "function",
            "gen_ai.tool.description": "The weather in a city",
            "gen_ai.tool.call.id": "call_w1",
            "botanu.tool.success": true
          }
        )
        assert.strictEqual(order.attributes["gen_ai.tool.call.id"], "call_o1")
        // @effect/ai's own span of the handler, inside each tool span.
        assert.deepStrictEqual(childNames(spans, weather), ["Toolkit.handle"])
      })
    ))

  it.live("Anthropic tool_use: the same, with Anthropic's tool-use id", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/messages",
          anthropicJson({
            id: "msg_t1",
            model: claude,
            content: [
              { type: "text", text: "Let me check." },
              { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { city: "Oslo" } }
            ],
            stopReason: "tool_use",
            usage: { input: 400, output: 60 }
          })
        )
        const response = yield* LanguageModel.generateText({ prompt: "Weather in Oslo?", toolkit: Tools }).pipe(
          Effect.provide(sonnet),
          Effect.provide(handlers())
        )
        assert.deepStrictEqual(response.toolResults.map((part) => part.id), ["toolu_01A09q90qw90lq917835lq9"])
        const [tool] = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.id"], "toolu_01A09q90qw90lq917835lq9")
        const [chat] = yield* spansNamed("chat claude-sonnet-4-5")
        assert.deepStrictEqual(chat.attributes["gen_ai.response.finish_reasons"], ["tool-calls"])
        assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 400)
      })
    ))

  it.live("streamText: the result after its call part and before finish, the tool span beside the chat span", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const stream = { id: "resp_s1", model: mini, items: [weatherCall("Paris")], usage: { input: 120, output: 18 } }
        fake.reply("/v1/responses", { events: openAiEvents(stream) }, { events: openAiEvents(stream) })
        fake.reply("/v1/messages", {
          events: anthropicEvents({
            id: "msg_s1",
            model: claude,
            content: [{ type: "tool_use", id: "toolu_s1", name: "get_weather", input: { city: "Oslo" } }],
            stopReason: "tool_use",
            usage: { input: 400, output: 60 }
          })
        })
        const run = <R>(layer: Layer.Layer<LanguageModel.LanguageModel, never, R>) =>
          LanguageModel.streamText({ prompt: "Weather?", toolkit: Tools }).pipe(
            Stream.provideSomeLayer(layer),
            Stream.runCollect,
            Effect.map(Chunk.toArray),
            Effect.provide(handlers()),
            Effect.withSpan("app")
          )
        const tracked = yield* run(gpt())
        const native = yield* run(OpenAiLanguageModel.model("gpt-4o-mini"))
        const types = tracked.map((part) => part.type)
        assert.deepStrictEqual(types, [
          "response-metadata",
          "tool-params-start",
          "tool-params-delta",
          "tool-params-end",
          "tool-call",
          "tool-result",
          "finish"
        ])
        assert.deepStrictEqual(plain(tracked), plain(native))
        const claudeParts = yield* run(sonnet)
        const claudeTypes = claudeParts.map((part) => part.type)
        assert.isBelow(claudeTypes.indexOf("tool-call"), claudeTypes.indexOf("tool-result"))
        assert.isBelow(claudeTypes.indexOf("tool-result"), claudeTypes.indexOf("finish"))

        const spans = yield* TrackingTest.finishedSpans
        const apps = yield* spansNamed("app")
        const chats = spans.filter((span) => span.name.startsWith("chat "))
        const tools = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(chats.length, 2)
        // The native run's tool call is @effect/ai's, without a tracked span: two tracked tool calls.
        assert.deepStrictEqual(tools.map((span) => span.attributes["gen_ai.tool.call.id"]), ["call_w1", "toolu_s1"])
        for (const [chat, tool] of [[chats[0], tools[0]], [chats[1], tools[1]]]) {
          assert.strictEqual(parentOf(spans, chat)?.name, "app")
          assert.strictEqual(parentOf(spans, tool), parentOf(spans, chat))
          assert.strictEqual(chat.attributes["botanu.request.streaming"], true)
        }
        assert.strictEqual(apps.length, 3)
      })
    ))

  it.live("Chat over two turns with tools: the results round-trip into the next request; the run counts 2 + 1", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", toolTurn([weatherCall("Paris")]), textTurn("It is 21 degrees in Paris."))
        const reply = yield* Effect.gen(function*() {
          const chat = yield* Chat.empty
          const first = yield* chat.generateText({ prompt: "Weather in Paris?", toolkit: Tools })
          assert.strictEqual(first.toolResults.length, 1)
          const second = yield* chat.generateText({ prompt: [], toolkit: Tools })
          return second.text
        }).pipe(
          Effect.provide(gpt()),
          Effect.provide(handlers()),
          botanuWorkflow("weather", { eventId: "W-1", customerId: "acme" })
        )
        assert.strictEqual(reply, "It is 21 degrees in Paris.")
        // The second request carries the call and its result, as @effect/ai's Chat keeps them.
        assert.deepStrictEqual(fake.requests[1].body.input.slice(1), [
          { type: "function_call", call_id: "call_w1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
          { type: "function_call_output", call_id: "call_w1", output: "{\"celsius\":21}" }
        ])

        const spans = yield* TrackingTest.finishedSpans
        const turns = yield* spansNamed("Chat.generateText")
        const chats = yield* spansNamed("chat gpt-4o-mini")
        const [tool] = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(chats.length, 2)
        assert.strictEqual(parentOf(spans, chats[0]), turns[0])
        assert.strictEqual(parentOf(spans, tool), turns[0])
        assert.strictEqual(parentOf(spans, chats[1]), turns[1])
        const [run] = yield* spansNamed("botanu.run/weather")
        assert.strictEqual(run.attributes["botanu.run.llm_calls"], 2)
        assert.strictEqual(run.attributes["botanu.run.tool_calls"], 1)
        assert.strictEqual(run.attributes["botanu.run.input_tokens"], 280)
      })
    ))

  it.live("failures: failureMode return is a result with success false; a defect fails the call as it does natively", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", toolTurn([weatherCall("Atlantis")]))
        const response = yield* LanguageModel.generateText({ prompt: "Weather in Atlantis?", toolkit: Tools }).pipe(
          Effect.provide(gpt()),
          Effect.provide(handlers())
        )
        const [result] = response.toolResults
        assert.isTrue(result.isFailure)
        assert.deepStrictEqual(result.result, { reason: "no such city" })
        const [weather] = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(weather.attributes["botanu.tool.success"], false)
        assert.strictEqual(weather.status.code, SpanStatusCode.OK)

        fake.reply(
          "/v1/responses",
          toolTurn([{
            type: "function_call",
            id: "fc_o9",
            callId: "call_o9",
            name: "look_up_order",
            arguments: "{\"orderId\":\"missing\"}"
          }])
        )
        const exit = yield* Effect.exit(
          LanguageModel.generateText({ prompt: "Order missing?", toolkit: Tools }).pipe(
            Effect.provide(gpt()),
            Effect.provide(handlers())
          )
        )
        assert.strictEqual(exit._tag, "Failure")
        const [order] = yield* spansNamed("execute_tool look_up_order")
        assert.strictEqual(order.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(order.attributes["error.type"], "CityUnknown")
        const chats = yield* spansNamed("chat gpt-4o-mini")
        // The model call itself succeeded: its span is not the tool's failure.
        assert.strictEqual(chats[1].status.code, SpanStatusCode.OK)
      })
    ))

  it.live("failureMode error: the handler's error fails the call, unchanged", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const Strict = Tool.make("strict_lookup", {
          parameters: { key: Schema.String },
          success: Schema.String,
          failure: Schema.Struct({ _tag: Schema.Literal("NotFound"), key: Schema.String })
        })
        const StrictTools = Toolkit.make(Strict)
        fake.reply(
          "/v1/responses",
          toolTurn([{
            type: "function_call",
            id: "fc_k1",
            callId: "call_k1",
            name: "strict_lookup",
            arguments: "{\"key\":\"k\"}"
          }])
        )
        const error = yield* LanguageModel.generateText({ prompt: "Look k up", toolkit: StrictTools }).pipe(
          Effect.provide(gpt()),
          Effect.provide(
            StrictTools.toLayer({ strict_lookup: ({ key }) => Effect.fail({ _tag: "NotFound", key } as const) })
          ),
          Effect.flip
        )
        assert.deepStrictEqual(error, { _tag: "NotFound", key: "k" })
        const [tool] = yield* spansNamed("execute_tool strict_lookup")
        assert.strictEqual(tool.attributes["error.type"], "NotFound")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.id"], "call_k1")
      })
    ))

  it.live("a caller's disableToolCallResolution is respected: no tool runs, the call part is returned", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const ran: Array<string> = []
        fake.reply("/v1/responses", toolTurn([weatherCall("Paris")]))
        const response = yield* LanguageModel.generateText({
          prompt: "Weather in Paris?",
          toolkit: Tools,
          disableToolCallResolution: true
        }).pipe(Effect.provide(gpt()), Effect.provide(handlers(ran)))
        assert.deepStrictEqual(response.toolCalls.map((part) => part.id), ["call_w1"])
        assert.deepStrictEqual(response.toolResults, [])
        assert.deepStrictEqual(ran, [])
        assert.deepStrictEqual(yield* spansNamed("execute_tool get_weather"), [])
      })
    ))

  it.live("generateObject with tools: an answer of tool calls only runs them, then fails as @effect/ai does", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const ran: Array<string> = []
        fake.reply("/v1/responses", toolTurn([weatherCall("Paris")]), toolTurn([weatherCall("Paris")]))
        const ask = LanguageModel.generateObject({
          prompt: "Weather in Paris, as an object",
          schema: Schema.Struct({ celsius: Schema.Number }),
          toolkit: Tools
        })
        const tracked = yield* Effect.flip(ask.pipe(Effect.provide(gpt()), Effect.provide(handlers(ran))))
        const native = yield* Effect.flip(
          ask.pipe(Effect.provide(OpenAiLanguageModel.model("gpt-4o-mini")), Effect.provide(handlers(ran)))
        )
        assert.strictEqual(tracked._tag, "MalformedOutput")
        assert.strictEqual(tracked._tag, native._tag)
        assert.deepStrictEqual(ran, ["get_weather Paris", "get_weather Paris"])
        const [tool] = yield* spansNamed("execute_tool get_weather")
        assert.strictEqual(tool.attributes["gen_ai.tool.call.id"], "call_w1")
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(chat.attributes["error.type"], "MalformedOutput")
        assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 120)
      })
    ))
})

describe("EffectAi tools, native", () => {
  it.live("@effect/ai resolves them inside the chat span, without the call's id; the result is the same", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", toolTurn([weatherCall("Paris")]))
        const response = yield* LanguageModel.generateText({ prompt: "Weather in Paris?", toolkit: Tools }).pipe(
          Effect.provide(gpt("native")),
          Effect.provide(handlers())
        )
        assert.deepStrictEqual(response.toolResults.map((part) => part.result), [{ celsius: 21 }])
        const spans = yield* TrackingTest.finishedSpans
        assert.deepStrictEqual(yield* spansNamed("execute_tool get_weather"), [])
        const [handle] = yield* spansNamed("Toolkit.handle")
        assert.strictEqual(parentOf(spans, parentOf(spans, handle)!)?.name, "chat gpt-4o-mini")
      })
    ))
})

describe("EffectAi.dropToolParameters", () => {
  it.live("removes the tool arguments @effect/ai's Toolkit.handle span records, and nothing else", () =>
    Effect.gen(function*() {
      const fake = yield* fakeAi
      const exporter = new InMemorySpanExporter()
      fake.reply("/v1/responses", toolTurn([weatherCall("Paris")]))
      // Read before the layer is released: shutting the exporter down empties it.
      const spans = yield* LanguageModel.generateText({ prompt: "Weather in Paris?", toolkit: Tools }).pipe(
        Effect.provide(gpt()),
        Effect.provide(handlers()),
        Effect.provide(clients(fake)),
        Effect.zipRight(Effect.sync(() => exporter.getFinishedSpans())),
        Effect.provide(Tracking.layerSdk({
          resource: { serviceName: "drop-test" },
          spanProcessor: () => EffectAi.dropToolParameters(new SimpleSpanProcessor(exporter))
        }))
      )
      const handle = spans.find((span) => span.name === "Toolkit.handle")!
      assert.isUndefined(handle.attributes.parameters)
      assert.strictEqual(handle.attributes.tool, "get_weather")
      const tool = spans.find((span) => span.name === "execute_tool get_weather")!
      assert.strictEqual(tool.attributes["gen_ai.tool.call.id"], "call_w1")
      assert.isFalse(JSON.stringify(spans.map((span) => span.attributes)).includes("Paris"))
    }).pipe(Effect.scoped))
})

describe("EffectAi.dropEffectAiUsage", () => {
  it.live("removes @effect/ai's own usage counts from its LanguageModel span; the chat span keeps the usage", () =>
    Effect.gen(function*() {
      const fake = yield* fakeAi
      const exporter = new InMemorySpanExporter()
      fake.reply("/v1/responses", toolTurn([weatherCall("Paris")]))
      const spans = yield* LanguageModel.generateText({ prompt: "Weather in Paris?", toolkit: Tools }).pipe(
        Effect.provide(gpt()),
        Effect.provide(handlers()),
        Effect.provide(clients(fake)),
        Effect.zipRight(Effect.sync(() => exporter.getFinishedSpans())),
        Effect.provide(Tracking.layerSdk({
          resource: { serviceName: "drop-test" },
          spanProcessor: () =>
            EffectAi.dropToolParameters(EffectAi.dropEffectAiUsage(new SimpleSpanProcessor(exporter)))
        }))
      )
      const usageKeys = (name: string) =>
        Object.keys(spans.find((span) => span.name === name)!.attributes).filter((key) =>
          key.startsWith("gen_ai.usage.")
        )
      assert.deepStrictEqual(usageKeys("LanguageModel.generateText"), [])
      assert.deepStrictEqual(usageKeys("chat gpt-4o-mini"), ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"])
      const inner = spans.find((span) => span.name === "LanguageModel.generateText")!
      assert.strictEqual(inner.attributes["gen_ai.response.id"], "resp_t1")
      assert.isUndefined(spans.find((span) => span.name === "Toolkit.handle")!.attributes.parameters)
    }).pipe(Effect.scoped))
})
