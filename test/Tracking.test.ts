import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Data, Effect, Either, Exit, Layer, Metric } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { LlmTracker, ToolTracker, Tracking, trackLlmCall, trackToolCall } from "../src/index.js"

// --- a real OTLP/HTTP receiver on 127.0.0.1 ----------------------------------------------------------------------

interface ReceivedRequest {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

interface Collector {
  readonly endpoint: string
  readonly received: Array<ReceivedRequest>
}

/** Records every request it gets and answers 200 with an empty protobuf message (a valid Export*ServiceResponse). */
const collector = Effect.acquireRelease(
  Effect.async<{ readonly server: Http.Server; readonly collector: Collector }>((resume) => {
    const received: Array<ReceivedRequest> = []
    const server = Http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        received.push({
          method: request.method,
          url: request.url,
          headers: request.headers,
          body: Buffer.concat(chunks)
        })
        response.writeHead(200, { "content-type": "application/x-protobuf" })
        response.end()
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ server, collector: { endpoint: `http://127.0.0.1:${port}`, received } }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ collector }) => collector))

const tracesRequests = (received: ReadonlyArray<ReceivedRequest>) =>
  received.filter((request) => request.url === "/v1/traces")

const configFrom = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))

// An LLM call with a tool call nested in it, as an application would make them.
const supportCall = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  const docs = yield* Effect.gen(function*() {
    const tool = yield* ToolTracker
    yield* tool.setResult({ success: true, itemsReturned: 2 })
    return ["faq#shipping", "faq#returns"]
  }).pipe(trackToolCall({ toolName: "search_docs" }))
  yield* tracker.setTokens({ inputTokens: 120, outputTokens: 30 })
  return `found ${docs.length} docs`
}).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

class RateLimited extends Data.TaggedError("RateLimited")<{ readonly retryAfter: number }> {}

describe("Tracking.layer", () => {
  it.scopedLive("exports OTLP/protobuf to the endpoint with the configured headers, flushed on shutdown", () =>
    Effect.gen(function*() {
      const { endpoint, received } = yield* collector
      const tracesBeforeShutdown = yield* Effect.gen(function*() {
        const answer = yield* supportCall
        assert.strictEqual(answer, "found 2 docs")
        yield* Metric.increment(Metric.counter("tracking_layer_test_tickets", { incremental: true }))
        // The batch processor waits 5 s (or 512 spans) before exporting on its own.
        return tracesRequests(received).length
      }).pipe(
        Effect.provide(Tracking.layer({ endpoint, serviceName: "support-bot-test", headers: { "x-api-key": "k" } })),
        Effect.withConfigProvider(configFrom({
          OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=acme%20corp,x-api-key=from-env",
          BOTANU_ENVIRONMENT: "staging-eu"
        }))
      )
      assert.strictEqual(tracesBeforeShutdown, 0)

      const traces = tracesRequests(received)
      assert.isAtLeast(traces.length, 1)
      for (const request of traces) {
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.headers["content-type"], "application/x-protobuf")
        assert.strictEqual(request.headers["x-api-key"], "k", "an option header wins over the same env header")
        assert.strictEqual(request.headers["x-tenant"], "acme corp", "env headers are URL-decoded")
      }
      // Protobuf stores strings as raw UTF-8, so names and values can be found in the bytes.
      const body = Buffer.concat(traces.map((request) => request.body))
      for (const text of ["chat gpt-4o-mini", "execute_tool search_docs", "support-bot-test", "staging-eu"]) {
        assert.isTrue(body.includes(text), `the exported traces contain ${JSON.stringify(text)}`)
      }
      assert.isTrue(body.includes("gen_ai.usage.input_tokens"))
      assert.isTrue(body.includes("deployment.environment.name"))

      // Effect metrics go through the same pipeline to /v1/metrics, also flushed on shutdown.
      const metrics = received.filter((request) => request.url === "/v1/metrics")
      assert.isAtLeast(metrics.length, 1)
      for (const request of metrics) {
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.headers["content-type"], "application/x-protobuf")
        assert.strictEqual(request.headers["x-api-key"], "k")
      }
      assert.isTrue(Buffer.concat(metrics.map((request) => request.body)).includes("tracking_layer_test_tickets"))
    }))

  it.scopedLive("reads endpoint, service name and headers from a ConfigProvider set with Layer.setConfigProvider", () =>
    Effect.gen(function*() {
      const { endpoint, received } = yield* collector
      const config = configFrom({
        OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint}/`,
        OTEL_SERVICE_NAME: "from-otel-service-name",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20t0k3n"
      })
      const trackingLayer = Tracking.layer({ headers: { "x-api-key": "k" } }).pipe(
        Layer.provide(Layer.setConfigProvider(config))
      )
      yield* supportCall.pipe(Effect.provide(trackingLayer))

      const traces = tracesRequests(received)
      assert.isAtLeast(traces.length, 1, "the endpoint came from OTEL_EXPORTER_OTLP_ENDPOINT, trailing slash removed")
      for (const request of traces) {
        assert.strictEqual(request.headers["content-type"], "application/x-protobuf")
        assert.strictEqual(request.headers["authorization"], "Bearer t0k3n")
        assert.strictEqual(request.headers["x-api-key"], "k")
      }
      const body = Buffer.concat(traces.map((request) => request.body))
      assert.isTrue(body.includes("from-otel-service-name"))
      assert.isTrue(body.includes("chat gpt-4o-mini"))
    }))

  it.live("never fails or hangs the application when the collector is unreachable", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const value = { answer: "Paris" }
      const error = new RateLimited({ retryAfter: 3 })
      const plainError = new Error("socket hang up")
      const [succeeded, failed, failedPlain] = yield* Effect.all([
        Effect.succeed(value).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" })),
        Effect.flip(Effect.fail(error).pipe(trackLlmCall({ provider: "anthropic", model: "claude-3-5-sonnet" }))),
        Effect.flip(Effect.fail(plainError).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" })))
      ]).pipe(Effect.provide(Tracking.layer({ endpoint: "http://127.0.0.1:1", shutdownTimeout: "1 second" })))
      const elapsed = Date.now() - started

      assert.strictEqual(succeeded, value)
      // effect 3 hands back an error raised inside a span wrapped in a span-carrying proxy; the original is inside.
      assert.strictEqual(Cause.originalError(failed), error)
      assert.instanceOf(failed, RateLimited)
      assert.strictEqual(failed._tag, "RateLimited")
      assert.strictEqual(failed.retryAfter, 3)
      assert.strictEqual(Cause.originalError(failedPlain), plainError)
      // A hang check, not a timing test: shutdown waits at most `shutdownTimeout` for the last export.
      assert.isBelow(elapsed, 10_000)
    }))
})

describe("resolveOtlpConfig", () => {
  const resolve = (env: Record<string, string>, options?: Tracking.OtlpOptions) =>
    Tracking.resolveOtlpConfig(options).pipe(Effect.withConfigProvider(configFrom(env)))

  it.effect("defaults without options or environment", () =>
    Effect.gen(function*() {
      const config = yield* resolve({})
      assert.deepStrictEqual(config, {
        serviceName: "unknown_service",
        serviceVersion: undefined,
        environment: undefined,
        tracesUrl: "http://localhost:4318/v1/traces",
        metricsUrl: "http://localhost:4318/v1/metrics",
        headers: {},
        resourceAttributes: {},
        metricTemporality: "cumulative"
      })
    }))

  it.effect("service name: option > BOTANU_SERVICE_NAME > OTEL_SERVICE_NAME > unknown_service", () =>
    Effect.gen(function*() {
      const both = { BOTANU_SERVICE_NAME: "botanu-svc", OTEL_SERVICE_NAME: "otel-svc" }
      assert.strictEqual((yield* resolve(both, { serviceName: "option-svc" })).serviceName, "option-svc")
      assert.strictEqual((yield* resolve(both)).serviceName, "botanu-svc")
      assert.strictEqual((yield* resolve({ OTEL_SERVICE_NAME: "otel-svc" })).serviceName, "otel-svc")
      // An empty value counts as unset, and does not stop the other variables from being read.
      const emptyBotanu = yield* resolve({ BOTANU_SERVICE_NAME: "", OTEL_SERVICE_NAME: "otel-svc" })
      assert.strictEqual(emptyBotanu.serviceName, "otel-svc")
      assert.strictEqual((yield* resolve({ OTEL_SERVICE_NAME: "" })).serviceName, "unknown_service")
    }))

  it.effect("environment: option > BOTANU_ENVIRONMENT > DEPLOYMENT_ENVIRONMENT; version only from options", () =>
    Effect.gen(function*() {
      const both = { BOTANU_ENVIRONMENT: "staging", DEPLOYMENT_ENVIRONMENT: "production" }
      assert.strictEqual((yield* resolve(both, { environment: "dev" })).environment, "dev")
      assert.strictEqual((yield* resolve(both)).environment, "staging")
      assert.strictEqual((yield* resolve({ DEPLOYMENT_ENVIRONMENT: "production" })).environment, "production")
      assert.strictEqual(
        (yield* resolve({ OTEL_SERVICE_NAME: "s" }, { serviceVersion: "1.2.3" })).serviceVersion,
        "1.2.3"
      )
    }))

  it.effect("endpoint: signal paths appended once, trailing slashes removed", () =>
    Effect.gen(function*() {
      const fromEnv = yield* resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })
      assert.strictEqual(fromEnv.tracesUrl, "http://collector:4318/v1/traces")
      assert.strictEqual(fromEnv.metricsUrl, "http://collector:4318/v1/metrics")
      const withPath = yield* resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.com/otlp//" })
      assert.strictEqual(withPath.tracesUrl, "https://otel.example.com/otlp/v1/traces")
      const fromOption = yield* resolve(
        { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" },
        { endpoint: "http://127.0.0.1:9999/" }
      )
      assert.strictEqual(fromOption.tracesUrl, "http://127.0.0.1:9999/v1/traces")
      assert.strictEqual(fromOption.metricsUrl, "http://127.0.0.1:9999/v1/metrics")
    }))

  it.effect("signal-specific endpoints are used as given and lose to an endpoint option", () =>
    Effect.gen(function*() {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:4318/custom/traces"
      }
      const tracesOnly = yield* resolve(env)
      assert.strictEqual(tracesOnly.tracesUrl, "http://traces:4318/custom/traces")
      assert.strictEqual(tracesOnly.metricsUrl, "http://collector:4318/v1/metrics")
      const metricsOnly = yield* resolve({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://metrics:9090/m" })
      assert.strictEqual(metricsOnly.metricsUrl, "http://metrics:9090/m")
      assert.strictEqual(metricsOnly.tracesUrl, "http://localhost:4318/v1/traces")
      const option = yield* resolve(env, { endpoint: "http://option:4318" })
      assert.strictEqual(option.tracesUrl, "http://option:4318/v1/traces")
    }))

  it.effect("headers: OTEL_EXPORTER_OTLP_HEADERS merged under the headers option", () =>
    Effect.gen(function*() {
      const config = yield* resolve(
        { OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=env-key,x-tenant=acme" },
        { headers: { "x-api-key": "option-key", "x-extra": "1" } }
      )
      assert.deepStrictEqual(config.headers, { "x-api-key": "option-key", "x-tenant": "acme", "x-extra": "1" })
    }))
})

describe("parseOtlpHeaders", () => {
  it("parses comma-separated key=value pairs, trimming around them", () => {
    assert.deepStrictEqual(Tracking.parseOtlpHeaders("a=1, b = 2 ,c=3"), { a: "1", b: "2", c: "3" })
    assert.deepStrictEqual(Tracking.parseOtlpHeaders(""), {})
  })

  it("URL-decodes values and keeps a value that is not valid percent-encoding as it is", () => {
    assert.deepStrictEqual(Tracking.parseOtlpHeaders("authorization=Bearer%20abc%3D%3D"), {
      authorization: "Bearer abc=="
    })
    assert.deepStrictEqual(Tracking.parseOtlpHeaders("x-odd=100%,x-ok=%C3%A9"), { "x-odd": "100%", "x-ok": "é" })
  })

  it("keeps everything after the first = in the value", () => {
    assert.deepStrictEqual(Tracking.parseOtlpHeaders("x-sig=a=b=c"), { "x-sig": "a=b=c" })
  })

  it("skips malformed pairs", () => {
    assert.deepStrictEqual(
      Tracking.parseOtlpHeaders("novalue,=nokey,,  =x, good=yes,"),
      { good: "yes" }
    )
  })
})

describe("Tracking.layerDevelopment", () => {
  it.live("prints each trace as a tree when its root ends, the tool call under its LLM call", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const failure = yield* Effect.gen(function*() {
        yield* supportCall
        return yield* Effect.flip(
          Effect.fail(new RateLimited({ retryAfter: 1 })).pipe(
            trackLlmCall({ provider: "claude", model: "claude-3-5-sonnet" })
          )
        )
      }).pipe(Effect.provide(Tracking.layerDevelopment({ write: (text) => written.push(text) })))
      assert.strictEqual(failure._tag, "RateLimited")

      // Two traces, two blocks, in the order their roots ended.
      assert.strictEqual(written.length, 2)
      const support = written[0].split("\n")
      assert.match(support[0], /^▸ chat gpt-4o-mini {2}\d+\.\dms {2}OK$/)
      const tool = support.findIndex((line) => /^└─▸ execute_tool search_docs {2}\d+\.\dms {2}OK$/.test(line))
      assert.isAbove(tool, 0, written[0])
      // The parent's attributes under a guide that leads to its child, the child's indented under it.
      const parentBody = support.slice(1, tool).join("\n")
      for (const line of support.slice(1, tool)) assert.match(line, /^│ \S/)
      assert.include(parentBody, "gen_ai.usage.input_tokens=120")
      assert.include(parentBody, "gen_ai.usage.output_tokens=30")
      assert.include(parentBody, "gen_ai.provider.name=openai")
      const childBody = support.slice(tool + 1).join("\n")
      for (const line of support.slice(tool + 1)) assert.match(line, /^ {4}\S/)
      assert.include(childBody, "gen_ai.tool.name=search_docs")
      assert.include(childBody, "botanu.tool.items_returned=2")
      for (const line of support) assert.isAtMost(line.length, 80, line)

      const failed = written[1].split("\n")
      assert.match(failed[0], /^▸ chat claude-3-5-sonnet {2}\d+\.\dms {2}ERROR/)
      assert.include(written[1], "error.type=RateLimited")
      assert.include(written[1], "gen_ai.provider.name=anthropic")
      assert.strictEqual(failed.filter((line) => /^ {2}• exception/.test(line)).length, 1)
    }))
})

describe("tracking without a layer", () => {
  it.live("trackLlmCall returns exactly what the untracked effect returns", () =>
    Effect.gen(function*() {
      const value = { id: "chatcmpl-1", choices: ["Paris"] }
      const call = Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: 10, outputTokens: 2 })
        return value
      })
      const tracked = yield* call.pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))
      const untracked = yield* Effect.provideService(call, LlmTracker, {
        setTokens: () => Effect.void,
        setRequestId: () => Effect.void,
        setResponseModel: () => Effect.void,
        record: () => Effect.void,
        setRequestParams: () => Effect.void,
        setStreaming: () => Effect.void,
        setCacheHit: () => Effect.void,
        setAttempt: () => Effect.void,
        setFinishReason: () => Effect.void,
        setError: () => Effect.void,
        addMetadata: () => Effect.void,
        setInputMessages: () => Effect.void,
        setOutputMessages: () => Effect.void,
        setSystemInstructions: () => Effect.void
      })
      assert.strictEqual(tracked, untracked)
      assert.strictEqual(tracked, value)

      const error = new RateLimited({ retryAfter: 2 })
      const trackedFailure = yield* Effect.either(
        Effect.fail(error).pipe(trackLlmCall({ provider: "openai", model: "m" }))
      )
      assert.isTrue(Either.isLeft(trackedFailure))
      if (Either.isLeft(trackedFailure)) {
        assert.strictEqual(Cause.originalError(trackedFailure.left), error)
        assert.strictEqual(trackedFailure.left._tag, "RateLimited")
      }

      const defect = new Error("bug")
      const died = yield* Effect.exit(Effect.die(defect).pipe(trackLlmCall({ provider: "openai", model: "m" })))
      assert.isTrue(Exit.isFailure(died) && Cause.isDie(died.cause))
      if (Exit.isFailure(died)) {
        const dieValue = Cause.dieOption(died.cause)
        assert.isTrue(dieValue._tag === "Some" && Cause.originalError(dieValue.value) === defect)
      }
    }))
})
