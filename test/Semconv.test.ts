import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Chunk, Effect, Layer, Stream } from "effect"
import { execFile } from "node:child_process"
import type OpenAI from "openai"
import {
  type LlmCallOptions,
  llmInstrumented,
  LlmStream,
  LlmTracker,
  Provider,
  setLlmAttributes,
  type TokenUsage,
  Tracking,
  TrackingTest,
  trackLlmCall,
  trackLlmStream,
  trackToolCall
} from "../src/index.js"
import * as Semconv from "../src/internal/semconv.js"
import { root } from "./utils/examples.js"
import { anthropicClient, type FakeProvider, fakeProvider, openaiClient } from "./utils/fakeProvider.js"
import { metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

const tokens = { inputTokens: 1000, outputTokens: 10 }

/** One tracked call with usage, and its span. */
const tracked = (options: LlmCallOptions, usage: TokenUsage = tokens) =>
  Effect.flatMap(
    trackLlmCall(Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens(usage)), options),
    () => spanNamed(`chat ${options.model}`)
  )

/** The data points of a metric for one (unique) request model. */
const pointsFor = (collected: ResourceMetrics, metric: string, model: string) =>
  pointsWhere(metricNamed(collected, metric), "gen_ai.request.model", model)

/** Runs the effect with the cache-write name switched as `OTEL_SEMCONV_STABILITY_OPT_IN` would, then switches back. */
const withLatestExperimental = <A, E, R>(on: boolean, self: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => Semconv.setLatestExperimental(on)),
    () => self,
    (previous) => Effect.sync(() => Semconv.setLatestExperimental(previous))
  )

const gaiKeys = (span: ReadableSpan, prefix: string) =>
  Object.keys(span.attributes).filter((key) => key.startsWith(prefix)).sort()

// The table: every accepted spelling, what `gen_ai.provider.name` carries, and `botanu.vendor` as before.
const providerTable: ReadonlyArray<readonly [ReadonlyArray<string>, string, string | undefined]> = [
  [["azure_openai", "azure-openai", "azureopenai", "azure", "Azure-OpenAI"], "azure.ai.openai", "azure.openai"],
  [["mistral", "mistralai", " Mistral "], "mistral_ai", "mistral"],
  [["gemini"], "gcp.gemini", "gcp.vertex_ai"],
  [["google"], "gcp.gen_ai", "gcp.vertex_ai"],
  [["vertex", "vertexai", "vertex_ai", "gcp_vertex"], "gcp.vertex_ai", "gcp.vertex_ai"],
  [["xai", "x_ai", "x-ai"], "x_ai", "x_ai"],
  [["bedrock", "aws_bedrock", "amazon_bedrock", "aws"], "aws.bedrock", "aws.bedrock"],
  // The vendor stays as the seed's table leaves it: unknown there, so passed through.
  [["ibm", "watsonx"], "ibm.watsonx.ai", undefined],
  [["openai"], "openai", "openai"],
  [["claude", "Anthropic"], "anthropic", "anthropic"],
  [["MyLab"], "mylab", "mylab"]
]

describe("provider names: the conventions' value on gen_ai.provider.name, botanu.vendor as before", () => {
  it.effect("every row of the table, on the span and on both client metrics, with botanu.vendor unchanged", () =>
    withTracking(Effect.gen(function*() {
      const models: Array<readonly [string, string, string]> = []
      for (const [spellings, semconv, vendor] of providerTable) {
        for (const spelling of spellings) {
          const model = uniqueName(`model-${semconv}`)
          const span = yield* tracked({ provider: spelling, model })
          const expectedVendor = vendor ?? spelling.trim().toLowerCase()
          assert.strictEqual(span.attributes["gen_ai.provider.name"], semconv, spelling)
          assert.strictEqual(span.attributes["botanu.vendor"], expectedVendor, spelling)
          assert.strictEqual(Provider.normalizeProvider(spelling), expectedVendor)
          assert.deepStrictEqual(Provider.providerNames(spelling), {
            semconv,
            vendor: expectedVendor,
            resembles: undefined
          })
          assert.deepStrictEqual(warningsOf(span), [], spelling)
          models.push([model, semconv, spelling])
        }
      }
      const collected = yield* TrackingTest.collectMetrics
      for (const [model, semconv, spelling] of models) {
        for (
          const metric of ["gen_ai.client.token.usage", "gen_ai.client.operation.duration", "botanu.gen_ai.attempts"]
        ) {
          const points = pointsFor(collected, metric, model)
          assert.isAbove(points.length, 0, `${metric} for ${spelling}`)
          for (const point of points) assert.strictEqual(point.attributes["gen_ai.provider.name"], semconv, spelling)
        }
      }
    })))

  it.effect("pricing keys on the vendor name: Azure and Mistral calls are still priced", () =>
    withTracking(Effect.gen(function*() {
      const azure = yield* tracked({ provider: "azure", model: "gpt-4o" })
      assert.strictEqual(azure.attributes["gen_ai.provider.name"], "azure.ai.openai")
      assert.strictEqual(azure.attributes["botanu.cost.status"], "priced")
      assert.isAbove(azure.attributes["botanu.cost.total_usd"] as number, 0)
      const mistral = yield* tracked({ provider: "mistralai", model: "mistral-large-latest" })
      assert.strictEqual(mistral.attributes["gen_ai.provider.name"], "mistral_ai")
      assert.strictEqual(mistral.attributes["botanu.vendor"], "mistral")
      assert.strictEqual(mistral.attributes["botanu.cost.status"], "priced")
      assert.isAbove(mistral.attributes["botanu.cost.total_usd"] as number, 0)
    })))

  it.effect("tool calls and setLlmAttributes use the same two names; the tool metric carries the conventions' one", () =>
    withTracking(Effect.gen(function*() {
      const toolName = uniqueName("lookup")
      yield* trackToolCall(Effect.void, { toolName, provider: "Azure" })
      const tool = yield* spanNamed(`execute_tool ${toolName}`)
      assert.strictEqual(tool.attributes["gen_ai.provider.name"], "azure.ai.openai")
      assert.strictEqual(tool.attributes["botanu.vendor"], "azure.openai")
      const collected = yield* TrackingTest.collectMetrics
      const points = pointsWhere(metricNamed(collected, "botanu.tool.executions"), "gen_ai.tool.name", toolName)
      assert.deepStrictEqual(points.map((point) => point.attributes["gen_ai.provider.name"]), ["azure.ai.openai"])

      yield* Effect.withSpan(setLlmAttributes({ provider: "mistralai", model: "m" }), "own span")
      const own = yield* spanNamed("own span")
      assert.strictEqual(own.attributes["gen_ai.provider.name"], "mistral_ai")
      assert.strictEqual(own.attributes["botanu.vendor"], "mistral")
    })))

  it.effect("a name that resembles a known one is recorded as given, with a warning naming the known one", () =>
    withTracking(Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["open-ai", "openai"],
        ["anthropics", "anthropic"],
        ["antropic", "anthropic"],
        ["Mistal", "mistral"],
        ["bedrok", "bedrock"]
      ]
      for (const [given, known] of cases) {
        const model = uniqueName("misspelt")
        const span = yield* tracked({ provider: given, model })
        const recorded = given.toLowerCase()
        assert.strictEqual(span.attributes["gen_ai.provider.name"], recorded)
        assert.strictEqual(span.attributes["botanu.vendor"], recorded)
        assert.deepStrictEqual(warningsOf(span), [
          `provider: a string of ${recorded.length} chars is not a known provider but resembles "${known}"; recorded as given`
        ])
        assert.strictEqual(Provider.providerNames(given).resembles, known)
      }
      // Correct names, the conventions' own values, and unrelated or short names: no warning.
      for (const given of ["openai", "mylab", "hf", "h-f", "grok", "azure.ai.inference", "mistral_ai", "gcp.gemini"]) {
        const span = yield* tracked({ provider: given, model: uniqueName("fine") })
        assert.deepStrictEqual(warningsOf(span), [], given)
        assert.isUndefined(Provider.providerNames(given).resembles, given)
      }
      const toolName = uniqueName("tool")
      yield* trackToolCall(Effect.void, { toolName, provider: "open-ai" })
      assert.deepStrictEqual(warningsOf(yield* spanNamed(`execute_tool ${toolName}`)), [
        `provider: a string of 7 chars is not a known provider but resembles "openai"; recorded as given`
      ])
    })))
})

// An Anthropic response: input without the cache, cache reads and writes beside it.
const anthropicResponse = {
  id: "msg_cache",
  type: "message",
  role: "assistant",
  model: "claude-3-5-sonnet-20241022",
  content: [{ type: "text", text: "ok" }],
  stop_reason: "end_turn",
  usage: {
    input_tokens: 200,
    cache_creation_input_tokens: 100,
    cache_read_input_tokens: 800,
    output_tokens: 50,
    cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 0 }
  }
}

describe("one gen_ai.* name per fact: cache writes", () => {
  const cacheWrites = (model: string) =>
    Effect.gen(function*() {
      const byHand = yield* tracked({ provider: "anthropic", model }, {
        inputTokens: 200,
        outputTokens: 50,
        cacheReadTokens: 800,
        cacheWriteTokens: 100
      })
      yield* trackLlmCall(Effect.succeed(anthropicResponse), {
        provider: "anthropic",
        model: `${model}-read`,
        usageFrom: "anthropic.messages"
      })
      const fromResponse = yield* spanNamed(`chat ${model}-read`)
      return [byHand, fromResponse] as const
    })

  it.effect("by default under gen_ai.usage.cache_creation.input_tokens (v1.41) only", () =>
    withTracking(withLatestExperimental(
      false,
      Effect.gen(function*() {
        for (const span of yield* cacheWrites(uniqueName("claude-cache"))) {
          assert.deepStrictEqual(gaiKeys(span, "gen_ai.usage."), [
            "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens"
          ])
          assert.strictEqual(span.attributes["gen_ai.usage.cache_creation.input_tokens"], 100)
          assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 1100)
          // The Botanu platform's mirrors stay.
          assert.strictEqual(span.attributes["botanu.usage.cache_write_tokens"], 100)
          assert.strictEqual(span.attributes["botanu.usage.cache_read_tokens"], 800)
        }
      })
    )))

  it.effect("with the latest-experimental opt-in under gen_ai.usage.cache_write.input_tokens only", () =>
    withTracking(withLatestExperimental(
      true,
      Effect.gen(function*() {
        for (const span of yield* cacheWrites(uniqueName("claude-cache-latest"))) {
          assert.deepStrictEqual(gaiKeys(span, "gen_ai.usage."), [
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_write.input_tokens",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens"
          ])
          assert.strictEqual(span.attributes["gen_ai.usage.cache_write.input_tokens"], 100)
          assert.strictEqual(span.attributes["botanu.usage.cache_write_tokens"], 100)
        }
      })
    )))

  it("OTEL_SEMCONV_STABILITY_OPT_IN is a comma-separated list", () => {
    assert.isTrue(Semconv.listsLatestExperimental("gen_ai_latest_experimental"))
    assert.isTrue(Semconv.listsLatestExperimental("http, gen_ai_latest_experimental ,database"))
    assert.isFalse(Semconv.listsLatestExperimental(undefined))
    assert.isFalse(Semconv.listsLatestExperimental(""))
    assert.isFalse(Semconv.listsLatestExperimental("http,gen_ai_latest_experimental_v2"))
  })

  // A fresh process reads the variable as the library loads, as an app's would.
  const cacheKeysInProcess = (optIn: string | undefined) =>
    Effect.async<Array<string>, Error>((resume) => {
      const script = `
        const { Effect } = await import("effect")
        const { LlmTracker, TrackingTest, trackLlmCall } = await import("./src/index.ts")
        const call = Effect.flatMap(LlmTracker, (t) => t.setTokens({ inputTokens: 1, cacheWriteTokens: 5 }))
        const spans = await Effect.runPromise(trackLlmCall(call, { provider: "anthropic", model: "m" }).pipe(
          Effect.zipRight(TrackingTest.finishedSpans), Effect.provide(TrackingTest.layer)))
        const keys = Object.keys(spans[0].attributes).filter((k) => k.startsWith("gen_ai.usage.cache"))
        console.log("cache keys: " + JSON.stringify(keys))
      `
      const env = { ...process.env }
      delete env.OTEL_SEMCONV_STABILITY_OPT_IN
      if (optIn !== undefined) env.OTEL_SEMCONV_STABILITY_OPT_IN = optIn
      const child = execFile(
        `${root}node_modules/.bin/tsx`,
        ["-e", `(async () => {${script}})()`],
        { cwd: root, env, timeout: 30_000 },
        (error, stdout, stderr) => {
          const line = stdout.split("\n").find((text) => text.startsWith("cache keys: "))
          resume(
            error === null && line !== undefined
              ? Effect.succeed(JSON.parse(line.slice("cache keys: ".length)))
              : Effect.fail(new Error(`${stdout}\n${stderr}`))
          )
        }
      )
      return Effect.sync(() => child.kill())
    })

  it.live("read from the process environment when the library loads", () =>
    Effect.gen(function*() {
      const [plain, optedIn] = yield* Effect.all([
        cacheKeysInProcess(undefined),
        cacheKeysInProcess("http,gen_ai_latest_experimental")
      ], { concurrency: 2 })
      assert.deepStrictEqual(plain, ["gen_ai.usage.cache_creation.input_tokens"])
      assert.deepStrictEqual(optedIn, ["gen_ai.usage.cache_write.input_tokens"])
    }), 60_000)
})

/** Every data point of the client metrics for a model, with its server attributes. */
const serverOnMetrics = (collected: ResourceMetrics, model: string, metrics: ReadonlyArray<string>) =>
  metrics.flatMap((metric) =>
    pointsFor(collected, metric, model).map((point) => ({
      metric,
      address: point.attributes["server.address"],
      port: point.attributes["server.port"]
    }))
  )

const clientMetrics = ["gen_ai.client.token.usage", "gen_ai.client.operation.duration"]

describe("server.address and server.port", () => {
  it.effect("from the options: at start on the span, on both client metrics (the port an integer), not on attempts", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("served")
      const span = yield* tracked({ provider: "openai", model, serverAddress: "llm.example.com", serverPort: 8443 })
      assert.strictEqual(span.attributes["server.address"], "llm.example.com")
      assert.strictEqual(span.attributes["server.port"], 8443)
      assert.deepStrictEqual(warningsOf(span), [])
      const collected = yield* TrackingTest.collectMetrics
      const points = serverOnMetrics(collected, model, clientMetrics)
      assert.strictEqual(points.length, 3) // input, output, duration
      for (const point of points) assert.deepInclude(point, { address: "llm.example.com", port: 8443 })
      const attempts = pointsFor(collected, "botanu.gen_ai.attempts", model)
      assert.isUndefined(attempts[0].attributes["server.address"])
      // Another server is another series: the first one's points are untouched.
      const again = uniqueName("served")
      yield* tracked({ provider: "openai", model: again, serverAddress: "other.example.com" })
      const later = serverOnMetrics(yield* TrackingTest.collectMetrics, again, clientMetrics)
      for (const point of later) assert.deepStrictEqual(point.address, "other.example.com")
      for (const point of later) assert.isUndefined(point.port)
    })))

  it.effect("server.* keys in attributes are written as they are and count as the options (which win)", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("gateway")
      const span = yield* tracked({
        provider: "openai",
        model,
        attributes: { "server.address": "gw.internal", "server.port": 9000, team: "search" }
      })
      assert.strictEqual(span.attributes["server.address"], "gw.internal")
      assert.strictEqual(span.attributes["server.port"], 9000)
      assert.isUndefined(span.attributes["botanu.server.address"])
      assert.strictEqual(span.attributes["botanu.team"], "search")
      const points = serverOnMetrics(yield* TrackingTest.collectMetrics, model, clientMetrics)
      assert.strictEqual(points.length, 3)
      for (const point of points) assert.deepInclude(point, { address: "gw.internal", port: 9000 })

      const both = yield* tracked({
        provider: "openai",
        model: uniqueName("both"),
        serverAddress: "direct.example.com",
        attributes: { "server.address": "gw.internal" }
      })
      assert.strictEqual(both.attributes["server.address"], "direct.example.com")
      assert.deepStrictEqual(warningsOf(both), [
        "attributes.server.address: the serverAddress option is given and wins; dropped"
      ])
    })))

  it.effect("bad values are dropped with a warning, on the span and on the metrics", () =>
    withTracking(Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, unknown>, ReadonlyArray<string>]> = [
        [{ serverAddress: "", serverPort: 0 }, [
          "serverAddress: empty; dropped",
          "serverPort: 0 is not a port (an integer from 1 to 65535); dropped"
        ]],
        [{ serverAddress: "h".repeat(256), serverPort: 65536 }, [
          "serverAddress: a string of 256 chars is longer than 255 characters; dropped",
          "serverPort: 65536 is not a port (an integer from 1 to 65535); dropped"
        ]],
        [{ serverAddress: 42, serverPort: 443.5 }, [
          "serverAddress: 42 is not a string; dropped",
          "serverPort: 443.5 is not a port (an integer from 1 to 65535); dropped"
        ]],
        [{ serverPort: "443", attributes: { "server.port": -1 } }, [
          `serverPort: a string of 3 chars is not a port (an integer from 1 to 65535); dropped`,
          "attributes.server.port: -1 is not a port (an integer from 1 to 65535); dropped"
        ]],
        [{ client: { baseURL: "not a url" } }, [`client.baseURL: a string of 9 chars is not a URL; dropped`]],
        [{ client: { baseURL: 7 } }, ["client.baseURL: 7 is not a string; dropped"]],
        [{ client: "openai" }, [`client: a string of 6 chars is not an object; dropped`]]
      ]
      for (const [options, warnings] of cases) {
        const model = uniqueName("bad-server")
        const span = yield* tracked({ provider: "openai", model, ...options } as LlmCallOptions)
        assert.isUndefined(span.attributes["server.address"])
        assert.isUndefined(span.attributes["server.port"])
        assert.deepStrictEqual(warningsOf(span), warnings)
        const points = serverOnMetrics(yield* TrackingTest.collectMetrics, model, clientMetrics)
        assert.strictEqual(points.length, 3)
        for (const point of points) assert.deepStrictEqual([point.address, point.port], [undefined, undefined])
      }
      // Exactly 255 characters, and the ends of the port range, are kept.
      const edge = yield* tracked({
        provider: "openai",
        model: uniqueName("edge"),
        serverAddress: "h".repeat(255),
        serverPort: 65535
      })
      assert.strictEqual(edge.attributes["server.address"], "h".repeat(255))
      assert.strictEqual(edge.attributes["server.port"], 65535)
    })))

  it.effect("from a client's base URL: its port, else 443 for https and 80 for http; explicit options win", () =>
    withTracking(Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string | undefined, number | undefined]> = [
        [{ client: { baseURL: "https://api.openai.com/v1" } }, "api.openai.com", 443],
        [{ client: { baseURL: "http://localhost/v1" } }, "localhost", 80],
        [{ client: { baseURL: "http://[::1]:11434" } }, "::1", 11434],
        [{ client: { baseURL: "https://api.openai.com/v1" }, serverPort: 8443 }, "api.openai.com", 8443],
        // Another host: the client's port is not that host's.
        [{ client: { baseURL: "https://api.openai.com/v1" }, serverAddress: "proxy.local" }, "proxy.local", undefined],
        [{ client: {} }, undefined, undefined]
      ]
      for (const [options, address, port] of cases) {
        const span = yield* tracked({ provider: "openai", model: uniqueName("client"), ...options })
        assert.strictEqual(span.attributes["server.address"], address)
        assert.strictEqual(span.attributes["server.port"], port)
        assert.deepStrictEqual(warningsOf(span), [])
      }
    })))

  const withProvider = <A, E>(f: (fake: FakeProvider) => Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
    Effect.flatMap(fakeProvider, f).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))
    )

  it.live("the real openai client under llmInstrumented(...).promise: 127.0.0.1 and the fake's port", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const port = Number(new URL(fake.url).port)
        const client = openaiClient(fake)
        const model = uniqueName("gpt-4o")
        const chat = llmInstrumented({ provider: "openai", client }).promise(
          (params: OpenAI.ChatCompletionCreateParamsNonStreaming) => client.chat.completions.create(params)
        )
        yield* chat({ model, messages: [{ role: "user", content: "Capital of France?" }] })
        const span = yield* spanNamed(`chat ${model}`)
        assert.strictEqual(span.attributes["server.address"], "127.0.0.1")
        assert.strictEqual(span.attributes["server.port"], port)
        assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 1117)
        const points = serverOnMetrics(yield* TrackingTest.collectMetrics, model, clientMetrics)
        assert.strictEqual(points.length, 3)
        for (const point of points) assert.deepInclude(point, { address: "127.0.0.1", port })
      })
    ))

  it.live("the real @anthropic-ai/sdk stream under LlmStream.fromAsyncIterable: on the span and every client metric", () =>
    withProvider((fake) =>
      Effect.gen(function*() {
        const port = Number(new URL(fake.url).port)
        const client = anthropicClient(fake)
        const model = uniqueName("claude-stream")
        const events = yield* LlmStream.fromAsyncIterable(
          (signal) =>
            client.messages.create({
              model,
              max_tokens: 1024,
              stream: true,
              messages: [{ role: "user", content: "Hello" }]
            }, { signal }),
          { provider: "anthropic", model, usageFrom: "anthropic.messages", client }
        ).pipe(Stream.runCollect)
        assert.isAbove(Chunk.size(events), 2)
        const span = yield* spanNamed(`chat ${model}`)
        assert.strictEqual(span.attributes["server.address"], "127.0.0.1")
        assert.strictEqual(span.attributes["server.port"], port)
        assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 503)
        const streamMetrics = [
          ...clientMetrics,
          "gen_ai.client.operation.time_to_first_chunk",
          "gen_ai.client.operation.time_per_output_chunk"
        ]
        const points = serverOnMetrics(yield* TrackingTest.collectMetrics, model, streamMetrics)
        assert.includeMembers(points.map((point) => point.metric), streamMetrics)
        for (const point of points) assert.deepInclude(point, { address: "127.0.0.1", port })
      })
    ))

  it.effect("trackLlmStream takes the options too", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("stream-options")
      yield* Stream.runDrain(
        trackLlmStream(Stream.make(1, 2), { provider: "openai", model, serverAddress: "s.example", serverPort: 443 })
      )
      const span = yield* spanNamed(`chat ${model}`)
      assert.strictEqual(span.attributes["server.address"], "s.example")
      assert.strictEqual(span.attributes["server.port"], 443)
      const points = serverOnMetrics(yield* TrackingTest.collectMetrics, model, [
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
        "gen_ai.client.operation.time_per_output_chunk"
      ])
      assert.strictEqual(points.length, 3)
      for (const point of points) assert.deepInclude(point, { address: "s.example", port: 443 })
    })))
})

describe("gen_ai.usage.cost, for backends that read cost there (opt-in)", () => {
  const pricedCall = (model: string) => tracked({ provider: "openai", model: "gpt-4o", attributes: { case: model } })

  it.effect("off by default", () =>
    withTracking(Effect.gen(function*() {
      const span = yield* pricedCall("default")
      assert.strictEqual(span.attributes["botanu.cost.status"], "priced")
      assert.isUndefined(span.attributes["gen_ai.usage.cost"])
    })))

  it.effect("on with TrackingTest.layerWith({ usageCostAttribute: true }): the total in USD, nothing else changes", () =>
    Effect.gen(function*() {
      const off = yield* Effect.provide(pricedCall("same"), TrackingTest.layer)
      const on = yield* Effect.provide(pricedCall("same"), TrackingTest.layerWith({ usageCostAttribute: true }))
      const total = on.attributes["botanu.cost.total_usd"] as number
      assert.isAbove(total, 0)
      assert.strictEqual(on.attributes["gen_ai.usage.cost"], total)
      const { ["gen_ai.usage.cost"]: _, ...rest } = on.attributes
      assert.deepStrictEqual(rest, off.attributes)
      // No price, no cost: never a 0 that would read as priced.
      const unknown = yield* Effect.provide(
        tracked({ provider: "openai", model: uniqueName("no-price") }),
        TrackingTest.layerWith({ usageCostAttribute: true })
      )
      assert.strictEqual(unknown.attributes["botanu.cost.status"], "unknown_model")
      assert.isUndefined(unknown.attributes["gen_ai.usage.cost"])
    }))

  it.effect("the option of Tracking.layerSdk and layerDevelopment, and layerUsageCostAttribute for other setups", () =>
    Effect.gen(function*() {
      const call = trackLlmCall(Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens(tokens)), {
        provider: "openai",
        model: "gpt-4o"
      })
      const exporter = new InMemorySpanExporter()
      // Read before the layer is released: a shut-down exporter forgets its spans.
      const [sdkSpan] = yield* Effect.provide(
        Effect.zipRight(call, Effect.sync(() => exporter.getFinishedSpans())),
        Tracking.layerSdk({
          resource: { serviceName: "t" },
          spanProcessor: () => new SimpleSpanProcessor(exporter),
          usageCostAttribute: true
        })
      )
      assert.isAbove(sdkSpan.attributes["botanu.cost.total_usd"] as number, 0)
      assert.strictEqual(sdkSpan.attributes["gen_ai.usage.cost"], sdkSpan.attributes["botanu.cost.total_usd"])

      const printed: Array<string> = []
      yield* Effect.provide(
        call,
        Tracking.layerDevelopment({ write: (text) => printed.push(text), usageCostAttribute: true })
      )
      assert.include(printed.join("\n"), `gen_ai.usage.cost=${sdkSpan.attributes["botanu.cost.total_usd"]}`)

      const viaLayer = yield* Effect.provide(
        pricedCall("layer"),
        Layer.merge(TrackingTest.layer, Tracking.layerUsageCostAttribute())
      )
      assert.strictEqual(viaLayer.attributes["gen_ai.usage.cost"], viaLayer.attributes["botanu.cost.total_usd"])
    }))
})
