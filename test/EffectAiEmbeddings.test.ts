import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as OpenAiEmbeddingModel from "@effect/ai-openai/OpenAiEmbeddingModel"
import * as EmbeddingModel from "@effect/ai/EmbeddingModel"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { Effect, Layer } from "effect"
import * as EffectAi from "../src/EffectAi.js"
import { botanuWorkflow, TrackingTest } from "../src/index.js"
import {
  clients,
  expectedCost,
  type FakeAi,
  fakeAi,
  openAi429,
  openAiEmbeddings,
  TestPrices
} from "./utils/fakeEffectAi.js"
import { childNames, parentOf } from "./utils/spans.js"

const small = "text-embedding-3-small"

const withFake = <A, E, R>(f: (fake: FakeAi) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(fakeAi, (fake) => f(fake).pipe(Effect.provide(clients(fake)))).pipe(
    Effect.scoped,
    Effect.provide(Layer.merge(TrackingTest.layer, TestPrices))
  )

const model = (maxBatchSize?: number) =>
  OpenAiEmbeddingModel.model(small, { mode: "batched", ...(maxBatchSize === undefined ? {} : { maxBatchSize }) })

/** Tracked embeddings; with `usage`, over an `OpenAiClient` whose embedding requests report their usage. */
const embeddings = (options: { readonly usage: boolean; readonly maxBatchSize?: number }) =>
  EffectAi.embeddingLayer({ model: small }).pipe(
    Layer.provide(model(options.maxBatchSize)),
    Layer.provide(options.usage ? EffectAi.openAiEmbeddingUsage(OpenAiClient.OpenAiClient) : Layer.empty)
  )

const spansNamed = (name: string) =>
  Effect.map(TrackingTest.finishedSpans, (spans) => spans.filter((span) => span.name === name))

describe("EffectAi.embeddingLayer", () => {
  it.live("embed and embedMany: one embeddings span each; without the client decorated, no usage", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/embeddings",
          openAiEmbeddings({ model: small, inputs: 1, promptTokens: 8 }),
          openAiEmbeddings({ model: small, inputs: 2, promptTokens: 15 })
        )
        const [one, many] = yield* Effect.gen(function*() {
          const service = yield* EmbeddingModel.EmbeddingModel
          return [yield* service.embed("hello"), yield* service.embedMany(["a", "b"])] as const
        }).pipe(Effect.provide(embeddings({ usage: false })))
        assert.deepStrictEqual(one, [0.0023064255, -0.009327292, 0])
        assert.strictEqual(many.length, 2)
        assert.deepStrictEqual(fake.requests.map((request) => request.body.input), [["hello"], ["a", "b"]])

        const spans = yield* TrackingTest.finishedSpans
        const calls = yield* spansNamed(`embeddings ${small}`)
        assert.strictEqual(calls.length, 2)
        assert.deepStrictEqual(childNames(spans, calls[0]), ["EmbeddingModel.embed"])
        assert.deepStrictEqual(childNames(spans, calls[1]), ["EmbeddingModel.embedMany"])
        for (const span of calls) {
          assert.strictEqual(span.kind, SpanKind.CLIENT)
          assert.strictEqual(span.attributes["gen_ai.operation.name"], "embeddings")
          assert.strictEqual(span.attributes["gen_ai.provider.name"], "openai")
          assert.strictEqual(span.attributes["gen_ai.request.model"], small)
          // @effect/ai's results carry no usage.
          assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
          assert.strictEqual(span.attributes["botanu.cost.status"], "no_usage")
        }
      })
    ))

  it.live("with openAiEmbeddingUsage: each call's exact tokens and cost; the requests of one embedMany add up", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/embeddings",
          openAiEmbeddings({ model: small, inputs: 1, promptTokens: 8 }),
          openAiEmbeddings({ model: small, inputs: 2, promptTokens: 15 }),
          openAiEmbeddings({ model: small, inputs: 1, promptTokens: 4 })
        )
        yield* Effect.gen(function*() {
          const service = yield* EmbeddingModel.EmbeddingModel
          yield* service.embed("hello")
          // Three inputs, two per request: two requests for one call.
          yield* service.embedMany(["a", "b", "c"])
        }).pipe(
          Effect.provide(embeddings({ usage: true, maxBatchSize: 2 })),
          botanuWorkflow("index", {
            eventId: "doc-1",
            customerId: "acme"
          })
        )
        assert.deepStrictEqual(fake.requests.map((request) => request.body.input), [["hello"], ["a", "b"], ["c"]])
        const [embed, embedMany] = yield* spansNamed(`embeddings ${small}`)
        assert.strictEqual(embed.attributes["gen_ai.usage.input_tokens"], 8)
        assert.strictEqual(embed.attributes["gen_ai.response.model"], small)
        assert.strictEqual(embed.attributes["botanu.cost.total_usd"], expectedCost(small, { uncached: 8, output: 0 }))
        assert.strictEqual(embedMany.attributes["gen_ai.usage.input_tokens"], 19)
        assert.strictEqual(
          embedMany.attributes["botanu.cost.total_usd"],
          expectedCost(small, { uncached: 19, output: 0 })
        )
        const [run] = yield* spansNamed("botanu.run/index")
        assert.strictEqual(run.attributes["botanu.run.llm_calls"], 2)
        assert.strictEqual(run.attributes["botanu.run.input_tokens"], 27)
      })
    ))

  it.live("embed calls batched into one request: the request is its own tracked call, its tokens counted once", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply("/v1/embeddings", openAiEmbeddings({ model: small, inputs: 2, promptTokens: 11 }))
        yield* Effect.gen(function*() {
          const service = yield* EmbeddingModel.EmbeddingModel
          yield* Effect.all([service.embed("a"), service.embed("b")], { batching: true, concurrency: "unbounded" })
        }).pipe(
          Effect.provide(embeddings({ usage: true })),
          botanuWorkflow("index", { eventId: "doc-2", customerId: "acme" })
        )
        assert.strictEqual(fake.requests.length, 1)
        const spans = yield* TrackingTest.finishedSpans
        const calls = yield* spansNamed(`embeddings ${small}`)
        assert.strictEqual(calls.length, 3)
        const withUsage = calls.filter((span) => span.attributes["gen_ai.usage.input_tokens"] !== undefined)
        assert.strictEqual(withUsage.length, 1)
        assert.strictEqual(withUsage[0].attributes["gen_ai.usage.input_tokens"], 11)
        assert.deepStrictEqual(childNames(spans, withUsage[0]), ["http.client POST"])
        const [run] = yield* spansNamed("botanu.run/index")
        assert.strictEqual(parentOf(spans, withUsage[0]), run)
        assert.strictEqual(run.attributes["botanu.run.input_tokens"], 11)
        assert.strictEqual(run.attributes["botanu.run.cost_usd"], expectedCost(small, { uncached: 11, output: 0 }))
      })
    ))

  it.live("a per-request model override; a 429 records its status and request id", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.reply(
          "/v1/embeddings",
          openAiEmbeddings({ model: "text-embedding-3-large", inputs: 1, promptTokens: 5 }),
          openAi429("req_emb_429")
        )
        const embed = Effect.flatMap(EmbeddingModel.EmbeddingModel, (service) => service.embed("hello")).pipe(
          Effect.provide(embeddings({ usage: true }))
        )
        yield* embed.pipe(OpenAiEmbeddingModel.withConfigOverride({ model: "text-embedding-3-large" }))
        const error = yield* Effect.flip(embed)
        assert.strictEqual(error._tag, "HttpResponseError")
        assert.strictEqual(fake.requests[0].body.model, "text-embedding-3-large")
        const [large] = yield* spansNamed("embeddings text-embedding-3-large")
        assert.strictEqual(large.attributes["gen_ai.usage.input_tokens"], 5)
        const [failed] = yield* spansNamed(`embeddings ${small}`)
        assert.strictEqual(failed.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(failed.attributes["error.type"], "HttpResponseError")
        assert.strictEqual(failed.attributes["http.response.status_code"], 429)
        assert.strictEqual(failed.attributes["botanu.provider.request_id"], "req_emb_429")
      })
    ))
})
