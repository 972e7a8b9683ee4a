import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import * as AiError from "@effect/ai/AiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as AiModel from "@effect/ai/Model"
import * as Tokenizer from "@effect/ai/Tokenizer"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Duration, Effect, Either, Layer, Schedule, Schema } from "effect"
import { readFileSync } from "node:fs"
import * as EffectAi from "../src/EffectAi.js"
import { botanuWorkflow, CostLedger, retryTracked, TrackingTest } from "../src/index.js"
import { root } from "./utils/examples.js"
import {
  anthropic429,
  anthropicJson,
  clients,
  expectedCost,
  type FakeAi,
  fakeAi,
  openAi429,
  openAiJson,
  TestPrices
} from "./utils/fakeEffectAi.js"
import { attemptsByStatus, metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"
import { childNames, parentOf, warningsOf } from "./utils/spans.js"

const mini = "gpt-4o-mini-2024-07-18"
const claude = "claude-sonnet-4-5-20250929"
const answer = [{ type: "message", id: "msg_1", text: "Paris is the capital of France." }] as const

/** A test against a fresh fake, with the real provider clients and fresh tracking (test prices, a cost ledger). */
const withFake = <A, E, R>(f: (fake: FakeAi) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(fakeAi, (fake) => f(fake).pipe(Effect.provide(clients(fake)))).pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(TrackingTest.layer, CostLedger.layer, TestPrices))
  )

const gpt = (model = "gpt-4o-mini", options: Partial<EffectAi.ModelOptions> = {}) =>
  EffectAi.model(OpenAiLanguageModel.model("gpt-4o-mini"), { model, ...options })

const sonnet = EffectAi.model(AnthropicLanguageModel.model("claude-sonnet-4-5"), { model: "claude-sonnet-4-5" })

const spansNamed = (name: string) =>
  Effect.map(TrackingTest.finishedSpans, (spans) => spans.filter((span) => span.name === name))

/** Every attribute but the cost, which each test checks by its exact amount. */
const withoutCost = (span: ReadableSpan) =>
  Object.fromEntries(Object.entries(span.attributes).filter(([key]) => !key.startsWith("botanu.cost.")))

describe("EffectAi over @effect/ai-openai (Responses API)", () => {
  it.live("generateText: a CLIENT span chat {model}, parent of @effect/ai's own, with usage, ids and exact cost", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAiJson({ id: "resp_1", model: mini, items: answer, usage: usage100 }))
        const response = yield* LanguageModel.generateText({ prompt: "Capital of France?" }).pipe(
          Effect.provide(gpt())
        )
        assert.strictEqual(response.text, "Paris is the capital of France.")
        assert.strictEqual(fake.requests[0].path, "/v1/responses")
        assert.strictEqual(fake.requests[0].body.model, "gpt-4o-mini")

        const spans = yield* TrackingTest.finishedSpans
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(chat.kind, SpanKind.CLIENT)
        assert.isUndefined(parentOf(spans, chat))
        assert.deepStrictEqual(childNames(spans, chat), ["LanguageModel.generateText"])
        const inner = spans.find((span) => span.name === "LanguageModel.generateText")!
        assert.deepStrictEqual(childNames(spans, inner), ["http.client POST"])
        // OpenAI's input_tokens include the cached ones: recorded as given.
        assert.deepStrictEqual(withoutCost(chat), {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o-mini",
          "botanu.vendor": "openai",
          "botanu.request.attempt": 1,
          "gen_ai.usage.input_tokens": 100,
          "gen_ai.usage.output_tokens": 12,
          "gen_ai.usage.cache_read.input_tokens": 40,
          "botanu.usage.cache_read_tokens": 40,
          "botanu.usage.cached_tokens": 40,
          "gen_ai.response.id": "resp_1",
          "botanu.provider.request_id": "resp_1",
          "gen_ai.response.model": mini,
          "gen_ai.response.finish_reasons": ["stop"]
        })
        assert.strictEqual(chat.attributes["botanu.cost.status"], "custom")
        assert.strictEqual(
          chat.attributes["botanu.cost.total_usd"],
          expectedCost(mini, { uncached: 60, cacheRead: 40, output: 12 })
        )
      })
    ))

  it.live("the service itself, handed over: the same tracked call; EffectAi.layer over a Model names its provider", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/responses", openAiJson({ id: "resp_1", model: mini, items: answer, usage: usage100 }))
        const Model = EffectAi.layer({ model: "gpt-4o-mini" }).pipe(
          Layer.provide(OpenAiLanguageModel.model("gpt-4o-mini"))
        )
        const service = yield* Effect.provide(LanguageModel.LanguageModel, Model)
        yield* service.generateText({ prompt: "Capital of France?" })
        const [chat] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(chat.attributes["gen_ai.provider.name"], "openai")
        assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 100)
        // What else a Model provides is kept.
        const withTokenizer = EffectAi.model(OpenAiLanguageModel.modelWithTokenizer("gpt-4o-mini"), {
          model: "gpt-4o-mini"
        })
        const tokenizer = yield* Effect.provide(Tokenizer.Tokenizer, withTokenizer)
        assert.isFunction(tokenizer.tokenize)
        assert.strictEqual(yield* Effect.provide(AiModel.ProviderName, withTokenizer), "openai")
      })
    ))

  it.live("generateObject: the value unchanged; an answer that is not the object fails as it is, billed usage kept", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const Contact = Schema.Struct({ name: Schema.String, email: Schema.String })
        const json = [{
          type: "message",
          id: "msg_1",
          text: "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}"
        }] as const
        const prose = [{ type: "message", id: "msg_2", text: "Ada, ada@example.com" }] as const
        fake.reply(
          "/v1/responses",
          openAiJson({ id: "resp_1", model: mini, items: json, usage: { input: 80, output: 20 } }),
          openAiJson({ id: "resp_2", model: mini, items: prose, usage: { input: 80, output: 9 } })
        )
        const extract = LanguageModel.generateObject({ prompt: "Ada, ada@example.com", schema: Contact }).pipe(
          Effect.provide(gpt())
        )
        const ok = yield* extract
        assert.deepStrictEqual(ok.value, { name: "Ada", email: "ada@example.com" })
        assert.strictEqual(fake.requests[0].body.text.format.type, "json_schema")
        const failed = yield* Effect.either(extract)
        assert.isTrue(Either.isLeft(failed))
        const error = Either.getLeft(failed).pipe((o) => o._tag === "Some" ? o.value : undefined)!
        assert.isTrue(error instanceof AiError.MalformedOutput)
        assert.strictEqual(error._tag, "MalformedOutput")

        const [first, second] = yield* spansNamed("chat gpt-4o-mini")
        assert.strictEqual(first.status.code, SpanStatusCode.OK)
        assert.strictEqual(first.attributes["gen_ai.usage.output_tokens"], 20)
        assert.strictEqual(first.attributes["botanu.cost.total_usd"], expectedCost(mini, { uncached: 80, output: 20 }))
        assert.strictEqual(second.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(second.attributes["error.type"], "MalformedOutput")
        // The model answered, and billed, before the object was found wanting.
        assert.strictEqual(second.attributes["gen_ai.usage.input_tokens"], 80)
        assert.strictEqual(second.attributes["gen_ai.usage.output_tokens"], 9)
        assert.strictEqual(second.attributes["gen_ai.response.id"], "resp_2")
        assert.strictEqual(second.attributes["botanu.cost.total_usd"], expectedCost(mini, { uncached: 80, output: 9 }))
      })
    ))

  it.live("a per-request withConfigOverride({ model }) is that call's request model; plans stay per model", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/responses",
          openAiJson({ id: "resp_1", model: "gpt-4o-2024-08-06", items: answer, usage: usage100 }),
          openAiJson({ id: "resp_2", model: mini, items: answer, usage: usage100 })
        )
        const ask = LanguageModel.generateText({ prompt: "Capital of France?" })
        yield* ask.pipe(OpenAiLanguageModel.withConfigOverride({ model: "gpt-4o" }), Effect.provide(gpt()))
        yield* ask.pipe(Effect.provide(gpt()))
        assert.deepStrictEqual(fake.requests.map((request) => request.body.model), ["gpt-4o", "gpt-4o-mini"])
        const spans = yield* TrackingTest.finishedSpans
        const chats = spans.filter((span) => span.name.startsWith("chat "))
        assert.deepStrictEqual(chats.map((span) => span.name), ["chat gpt-4o", "chat gpt-4o-mini"])
        assert.strictEqual(chats[0].attributes["gen_ai.request.model"], "gpt-4o")
        assert.strictEqual(chats[0].attributes["gen_ai.response.model"], "gpt-4o-2024-08-06")
        assert.strictEqual(
          chats[0].attributes["botanu.cost.total_usd"],
          expectedCost("gpt-4o-2024-08-06", { uncached: 60, cacheRead: 40, output: 12 })
        )
      })
    ))

  it.live("a 429 with retry-after: the AiError as it is, its tag, status and request id; Effect.retry numbers attempts", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const model = uniqueName("gpt-4o-mini")
        fake.reply(
          "/v1/responses",
          openAi429("req_429_a", 1),
          openAiJson({ id: "resp_1", model: mini, items: answer, usage: usage100, requestId: "req_ok" })
        )
        const ask = LanguageModel.generateText({ prompt: "Capital of France?" }).pipe(Effect.provide(gpt(model)))
        const response = yield* ask.pipe(Effect.retry(honourRetryAfter))
        assert.strictEqual(response.text, "Paris is the capital of France.")

        const [failed, succeeded] = yield* spansNamed(`chat ${model}`)
        assert.strictEqual(failed.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(failed.attributes["error.type"], "HttpResponseError")
        assert.strictEqual(failed.attributes["http.response.status_code"], 429)
        assert.strictEqual(failed.attributes["botanu.provider.request_id"], "req_429_a")
        assert.isUndefined(failed.attributes["gen_ai.response.id"])
        assert.strictEqual(failed.attributes["botanu.request.attempt"], 1)
        assert.strictEqual(succeeded.attributes["botanu.request.attempt"], 2)
        assert.strictEqual(succeeded.status.code, SpanStatusCode.OK)
        // The second attempt started after the one second the provider asked for.
        const gapMs = toMillis(succeeded.startTime) - toMillis(failed.endTime)
        assert.isAtLeast(gapMs, 950)
        assert.deepStrictEqual(yield* attemptsByStatus(model), { error: 1, success: 1 })

        fake.reply("/v1/responses", openAi429("req_429_b"))
        const error = yield* Effect.flip(ask)
        assert.isTrue(error instanceof AiError.HttpResponseError)
        assert.strictEqual((error as AiError.HttpResponseError).response.status, 429)
        assert.strictEqual((error as AiError.HttpResponseError).response.headers["retry-after"], "0")
      })
    ))

  it.live("retryTracked numbers attempts of @effect/ai calls as it does hand-tracked ones", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const model = uniqueName("gpt-4o-mini")
        fake.reply(
          "/v1/responses",
          openAi429("req_1"),
          openAi429("req_2"),
          openAiJson({ id: "resp_1", model: mini, items: answer, usage: usage100 })
        )
        yield* LanguageModel.generateText({ prompt: "Capital of France?" }).pipe(
          retryTracked(Schedule.recurs(3)),
          Effect.provide(gpt(model))
        )
        const chats = yield* spansNamed(`chat ${model}`)
        assert.deepStrictEqual(chats.map((span) => span.attributes["botanu.request.attempt"]), [1, 2, 3])
        assert.deepStrictEqual(chats.map((span) => span.attributes["botanu.provider.request_id"]), [
          "req_1",
          "req_2",
          "resp_1"
        ])
        assert.deepStrictEqual(yield* attemptsByStatus(model), { error: 2, success: 1 })
      })
    ))

  it.live("inside a workflow run: the run's totals, the cost ledger and the metrics count each call once", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const model = uniqueName("gpt-4o-mini")
        fake.reply("/v1/responses", openAiJson({ id: "resp_1", model: mini, items: answer, usage: usage100 }))
        fake.reply("/v1/messages", anthropicJson(claudeAnswer))
        yield* Effect.gen(function*() {
          yield* LanguageModel.generateText({ prompt: "Capital of France?" }).pipe(Effect.provide(gpt(model)))
          yield* LanguageModel.generateText({ prompt: "Hello" }).pipe(Effect.provide(sonnet))
        }).pipe(botanuWorkflow("support_ticket", { eventId: "T-1", customerId: "acme" }))

        const openAiCost = expectedCost(mini, { uncached: 60, cacheRead: 40, output: 12 })
        const claudeCost = expectedCost(claude, { uncached: 50, cacheRead: 800, cacheWrite: 100, output: 20 })
        const [run] = yield* spansNamed("botanu.run/support_ticket")
        assert.strictEqual(run.attributes["botanu.run.llm_calls"], 2)
        assert.strictEqual(run.attributes["botanu.run.input_tokens"], 100 + 950)
        assert.strictEqual(run.attributes["botanu.run.output_tokens"], 12 + 20)
        assert.closeTo(run.attributes["botanu.run.cost_usd"] as number, openAiCost + claudeCost, 1e-15)
        for (const chat of [...yield* spansNamed(`chat ${model}`), ...yield* spansNamed("chat claude-sonnet-4-5")]) {
          assert.strictEqual(chat.parentSpanContext?.spanId, run.spanContext().spanId)
          assert.strictEqual(chat.attributes["botanu.customer_id"], "acme")
        }

        const ledger = yield* CostLedger.snapshot
        const acme = ledger.byCustomer.get("acme")!
        assert.strictEqual(acme.calls, 2)
        assert.strictEqual(acme.inputTokens, 1050)
        assert.closeTo(acme.costUsd, openAiCost + claudeCost, 1e-15)
        assert.strictEqual(ledger.byModel.get(`openai/${mini}`)!.calls, 1)

        const metrics = yield* TrackingTest.collectMetrics
        const tokens = pointsWhere(metricNamed(metrics, "gen_ai.client.token.usage"), "gen_ai.request.model", model)
        const byType = Object.fromEntries(
          tokens.map((point) => [point.attributes["gen_ai.token.type"], (point.value as { sum: number }).sum])
        )
        assert.deepStrictEqual(byType, { input: 100, output: 12 })
        assert.strictEqual(tokens[0].attributes["gen_ai.provider.name"], "openai")
        assert.strictEqual(tokens[0].attributes["gen_ai.response.model"], mini)
        const durations = pointsWhere(
          metricNamed(metrics, "gen_ai.client.operation.duration"),
          "gen_ai.request.model",
          model
        )
        assert.strictEqual((durations[0].value as { count: number }).count, 1)
        assert.deepStrictEqual(yield* attemptsByStatus(model), { success: 1 })
      })
    ))

  it.live("the provider: the option wins (its spelling mapped), else the Model's, else unknown", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        for (let i = 0; i < 3; i++) {
          fake.reply("/v1/responses", openAiJson({ id: `resp_${i}`, model: mini, items: answer, usage: usage100 }))
        }
        const ask = LanguageModel.generateText({ prompt: "Capital of France?" })
        // Azure OpenAI behind @effect/ai-openai: the name is Azure's, the usage is read as OpenAI reports it.
        yield* ask.pipe(Effect.provide(
          EffectAi.layer({ model: "m-azure", provider: "azure" }).pipe(
            Layer.provide(OpenAiLanguageModel.model("gpt-4o-mini"))
          )
        ))
        // A layer without `Model.ProviderName` and no option.
        yield* ask.pipe(Effect.provide(
          EffectAi.layer({ model: "m-bare" }).pipe(
            Layer.provide(OpenAiLanguageModel.layer({ model: "gpt-4o-mini" }))
          )
        ))
        yield* ask.pipe(Effect.provide(
          EffectAi.layer({ model: "m-blank", provider: " " }).pipe(
            Layer.provide(OpenAiLanguageModel.model("gpt-4o-mini"))
          )
        ))
        const [azure] = yield* spansNamed("chat m-azure")
        assert.strictEqual(azure.attributes["gen_ai.provider.name"], "azure.ai.openai")
        assert.strictEqual(azure.attributes["botanu.vendor"], "azure.openai")
        assert.strictEqual(azure.attributes["gen_ai.usage.input_tokens"], 100)
        const [bare] = yield* spansNamed("chat m-bare")
        assert.strictEqual(bare.attributes["gen_ai.provider.name"], "unknown")
        const [blank] = yield* spansNamed("chat m-blank")
        assert.strictEqual(blank.attributes["gen_ai.provider.name"], "openai")
        assert.deepStrictEqual(warningsOf(blank), [
          "provider: a string of 1 char is not a provider name; the Model's is used"
        ])
        assert.strictEqual(EffectAi.providerName("amazon-bedrock"), "aws.bedrock")
        assert.strictEqual(EffectAi.providerName("google"), "gemini")
        assert.strictEqual(EffectAi.providerName("openrouter"), "openrouter")
        assert.strictEqual(EffectAi.providerName("mylab"), "mylab")
      })
    ))
})

describe("EffectAi over @effect/ai-anthropic (Messages, beta)", () => {
  it.live("generateText: input with the cache reads and the writes from the finish part's metadata, exact cost", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/messages", anthropicJson({ ...claudeAnswer, requestId: "req_msg_1" }))
        const response = yield* LanguageModel.generateText({ prompt: "Hello" }).pipe(Effect.provide(sonnet))
        assert.strictEqual(response.text, "Hello there, I am Claude.")
        assert.strictEqual(fake.requests[0].path, "/v1/messages")
        assert.strictEqual(fake.requests[0].search, "?beta=true")

        const spans = yield* TrackingTest.finishedSpans
        const [chat] = yield* spansNamed("chat claude-sonnet-4-5")
        assert.deepStrictEqual(childNames(spans, chat), ["LanguageModel.generateText"])
        // Anthropic's input_tokens exclude the cache: 50 + 800 read + 100 written.
        assert.deepStrictEqual(withoutCost(chat), {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.model": "claude-sonnet-4-5",
          "botanu.vendor": "anthropic",
          "botanu.request.attempt": 1,
          "gen_ai.usage.input_tokens": 950,
          "gen_ai.usage.output_tokens": 20,
          "gen_ai.usage.cache_read.input_tokens": 800,
          "botanu.usage.cache_read_tokens": 800,
          "gen_ai.usage.cache_creation.input_tokens": 100,
          "botanu.usage.cache_write_tokens": 100,
          "botanu.usage.cached_tokens": 800,
          "gen_ai.response.id": "msg_01",
          "botanu.provider.request_id": "msg_01",
          "gen_ai.response.model": claude,
          "gen_ai.response.finish_reasons": ["stop"]
        })
        assert.strictEqual(
          chat.attributes["botanu.cost.total_usd"],
          expectedCost(claude, { uncached: 50, cacheRead: 800, cacheWrite: 100, output: 20 })
        )
      })
    ))

  it.live("a 429: the status and Anthropic's request-id header; the retry is attempt 2", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/messages", anthropic429("req_011CSH429"), anthropicJson(claudeAnswer))
        yield* LanguageModel.generateText({ prompt: "Hello" }).pipe(
          Effect.retry(Schedule.recurs(1)),
          Effect.provide(sonnet)
        )
        const [failed, succeeded] = yield* spansNamed("chat claude-sonnet-4-5")
        assert.strictEqual(failed.attributes["error.type"], "HttpResponseError")
        assert.strictEqual(failed.attributes["http.response.status_code"], 429)
        assert.strictEqual(failed.attributes["botanu.provider.request_id"], "req_011CSH429")
        assert.strictEqual(succeeded.attributes["botanu.request.attempt"], 2)
      })
    ))
})

describe("EffectAi usage semantics of the providers whose packages need an older @effect/ai (untested clients)", () => {
  // A LanguageModel answering as each provider package's `makeResponse` does (read from their v3 sources).
  const answering = (finish: Record<string, unknown>) =>
    Layer.effect(
      LanguageModel.LanguageModel,
      LanguageModel.make({
        generateText: () =>
          Effect.succeed([
            { type: "response-metadata", id: "r-1", modelId: "m-1", timestamp: "2025-01-01T00:00:00.000Z" },
            { type: "text", text: "ok" },
            { type: "finish", ...finish }
          ] as any),
        streamText: () => Effect.die("unused") as any
      })
    )

  const tracked = (provider: string, model: string, finish: Record<string, unknown>) =>
    EffectAi.layer({ model }).pipe(
      Layer.provide(Layer.merge(answering(finish), Layer.succeed(AiModel.ProviderName, provider)))
    )

  it.effect("Google: thinking tokens beside the output, tool-use prompt tokens beside the input", () =>
    Effect.gen(function*() {
      yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(tracked("google", "gemini-2.5-flash", {
        reason: "stop",
        usage: { inputTokens: 1000, outputTokens: 50, totalTokens: 1250, reasoningTokens: 200, cachedInputTokens: 600 },
        metadata: { google: { usageMetadata: { toolUsePromptTokenCount: 30 } } }
      })))
      const [chat] = yield* spansNamed("chat gemini-2.5-flash")
      assert.strictEqual(chat.attributes["gen_ai.provider.name"], "gcp.gemini")
      assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 1030)
      assert.strictEqual(chat.attributes["gen_ai.usage.cache_read.input_tokens"], 600)
      assert.strictEqual(chat.attributes["gen_ai.usage.output_tokens"], 250)
      assert.strictEqual(chat.attributes["gen_ai.usage.reasoning.output_tokens"], 200)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("Amazon Bedrock: input without the cache, cache writes from the bedrock metadata", () =>
    Effect.gen(function*() {
      yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(tracked("amazon-bedrock", "claude-b", {
        reason: "stop",
        usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15, cachedInputTokens: 300 },
        metadata: { bedrock: { usage: { cacheWriteInputTokens: 40 } } }
      })))
      const [chat] = yield* spansNamed("chat claude-b")
      assert.strictEqual(chat.attributes["gen_ai.provider.name"], "aws.bedrock")
      assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 350)
      assert.strictEqual(chat.attributes["gen_ai.usage.cache_read.input_tokens"], 300)
      assert.strictEqual(chat.attributes["gen_ai.usage.cache_creation.input_tokens"], 40)
      assert.strictEqual(chat.attributes["gen_ai.response.id"], "r-1")
      assert.strictEqual(chat.attributes["gen_ai.response.model"], "m-1")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("OpenRouter: OpenAI's semantics, input with the cache", () =>
    Effect.gen(function*() {
      yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(tracked("openrouter", "or-model", {
        reason: "length",
        usage: { inputTokens: 70, outputTokens: 7, totalTokens: 77, cachedInputTokens: 20 }
      })))
      const [chat] = yield* spansNamed("chat or-model")
      assert.strictEqual(chat.attributes["gen_ai.provider.name"], "openrouter")
      assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 70)
      assert.deepStrictEqual(chat.attributes["gen_ai.response.finish_reasons"], ["length"])
    }).pipe(Effect.provide(TrackingTest.layer)))
})

describe("EffectAi options", () => {
  const answering = Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: () =>
        Effect.succeed([
          { type: "text", text: "ok" },
          { type: "finish", reason: "stop", usage: { inputTokens: -1, outputTokens: 2.5, totalTokens: 2 } }
        ] as any),
      streamText: () => Effect.die("unused") as any
    })
  )

  it.effect("bad options and counts are recorded as the Bad input rule says, and the call still answers", () =>
    Effect.gen(function*() {
      const hostile = new Proxy({ model: "" }, {
        get: (target, key) => {
          if (key === "serverAddress") throw new Error("no")
          return (target as Record<string | symbol, unknown>)[key]
        }
      })
      const Model = EffectAi.layer(Object.assign(hostile, { tools: "bogus" }) as unknown as EffectAi.Options).pipe(
        Layer.provide(answering)
      )
      const response = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(Model))
      assert.strictEqual(response.text, "ok")
      const [chat] = yield* spansNamed("chat unknown")
      assert.strictEqual(chat.attributes["gen_ai.provider.name"], "unknown")
      assert.isUndefined(chat.attributes["gen_ai.usage.input_tokens"])
      assert.strictEqual(chat.attributes["gen_ai.usage.output_tokens"], 3)
      assert.sameMembers(warningsOf(chat), [
        "serverAddress: failed to read (no); ignored",
        "tools: a string of 5 chars is not \"tracked\" or \"native\"; tools are tracked",
        "model: empty; recorded as \"unknown\"",
        "inputTokens: -1 is negative; dropped",
        "outputTokens: 2.5 is not an integer; rounded to 3"
      ])
    }).pipe(Effect.provide(TrackingTest.layer)))
})

describe("the package", () => {
  it("the root imports nothing of @effect/ai; @botanu/effect/EffectAi is a subpath; @effect/ai an optional peer", () => {
    const seen = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const source = readFileSync(`${root}src/${file}`, "utf8")
      assert.notMatch(source, /from "@effect\/ai/, `src/${file} imports @effect/ai`)
      for (const match of source.matchAll(/from "\.\/([\w/]+)\.js"|from "\.\.\/(\w+)\.js"/g)) {
        const next = match[1] !== undefined
          ? (file.includes("/") ? `${file.slice(0, file.lastIndexOf("/") + 1)}${match[1]}` : match[1])
          : match[2]
        visit(`${next}.ts`)
      }
    }
    visit("index.ts")
    assert.isFalse(seen.has("EffectAi.ts"))
    assert.isFalse(seen.has("internal/effectAi.ts"))
    assert.isAbove(seen.size, 30)
    const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"))
    assert.deepStrictEqual(pkg.exports["./*"], { types: "./dist/*.d.ts", default: "./dist/*.js" })
    assert.strictEqual(pkg.peerDependencies["@effect/ai"], "^0.37.0")
    assert.deepStrictEqual(pkg.peerDependenciesMeta["@effect/ai"], { optional: true })
    for (const name of ["@effect/ai", "@effect/ai-openai", "@effect/ai-anthropic"]) {
      assert.match(pkg.devDependencies[name], /^\d+\.\d+\.\d+$/, `${name} pinned`)
    }
  })
})

const usage100 = { input: 100, cached: 40, output: 12 }

const claudeAnswer = {
  id: "msg_01",
  model: claude,
  content: [{ type: "text", text: "Hello there, I am Claude." }],
  stopReason: "end_turn",
  usage: { input: 50, cacheRead: 800, cacheWrite: 100, output: 20 }
} as const

const toMillis = ([seconds, nanos]: readonly [number, number]) => seconds * 1e3 + nanos / 1e6

/** Retries a rate-limited call after the seconds its `retry-after` header says, at most 3 times. */
const honourRetryAfter = Schedule.identity<AiError.AiError>().pipe(
  Schedule.addDelay((error) =>
    Duration.seconds(
      error._tag === "HttpResponseError" ? Number(error.response.headers["retry-after"] ?? 1) : 1
    )
  ),
  Schedule.intersect(Schedule.recurs(3))
)
