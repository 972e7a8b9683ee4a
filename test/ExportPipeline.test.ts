/**
 * The production layer's export pipeline (`Tracking.layer`) against an OTLP receiver on 127.0.0.1
 * (test/utils/otlpReceiver.ts) through the real OTLP/HTTP protobuf exporters: a burst is exported whole, what cannot
 * be exported is counted and reported through Effect's logger (never thrown into the app), the release keeps to one
 * shutdown budget, and every option either works, is clamped with a warning, or fails the layer with
 * `InvalidTrackingConfig`.
 *
 * The receiver decodes with the official .proto files (`scripts/otel-backends.sh install`, which `npm run test:e2e`
 * runs, and which runs this file too); without them the tests that need it are skipped, and say so. The option
 * checks need no receiver and always run.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Logger, LogLevel } from "effect"
import type * as Tracer from "effect/Tracer"
import { existsSync } from "node:fs"
import { createServer } from "node:net"
import type { AddressInfo } from "node:net"
import { LlmTracker, Tracking, trackLlmCall, Workflow } from "../src/index.js"
import * as ExportReport from "../src/internal/exportReport.js"
import * as ExportSettings from "../src/internal/exportSettings.js"
import * as OtlpReceiver from "./utils/otlpReceiver.js"

const protos = `${OtlpReceiver.defaultProtoInclude}/opentelemetry/proto/collector/trace/v1/trace_service.proto`
const required = process.env.BOTANU_E2E_REQUIRED === "1"

// --- helpers ------------------------------------------------------------------------------------------------------

const configFrom = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const llmCall = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  yield* tracker.setTokens({ inputTokens: 120, outputTokens: 30 })
  return "ok"
}).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

/** `runs` workflow runs of `callsPerRun` LLM calls each, 200 runs at a time: `runs * (callsPerRun + 1)` spans. */
const burst = (runs: number, callsPerRun: number) =>
  Effect.forEach(
    range(runs),
    (i) =>
      Effect.forEach(range(callsPerRun), () => llmCall, { concurrency: "unbounded", discard: true }).pipe(
        Workflow.botanuWorkflow("burst", { eventId: `burst-${i}`, customerId: "acme" })
      ),
    { concurrency: 200, discard: true }
  )

/** `n` LLM calls at once, outside any run: `n` spans. */
const calls = (n: number) => Effect.forEach(range(n), () => llmCall, { concurrency: "unbounded", discard: true })

interface Tracked<A> {
  readonly value: A
  /** The spans the program made (through the layer's tracer). */
  readonly made: number
  /** Every warning logged, the layer's build and release included. */
  readonly warnings: ReadonlyArray<string>
  /** Milliseconds from the program's end to the layer's release. */
  readonly releaseMillis: number
}

/**
 * Runs `program` under `Tracking.layer(options)` with a logger that keeps the warnings, the environment given
 * through a `ConfigProvider`, and a tracer that counts the spans made.
 */
const tracked = <A, E>(
  program: Effect.Effect<A, E>,
  options: Tracking.OtlpOptions,
  env: Record<string, string> = {}
): Effect.Effect<Tracked<A>, E | Tracking.InvalidTrackingConfig> =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag !== "Warning") return
      warnings.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    })
    let made = 0
    let ended = 0
    const counting = Effect.tracerWith((tracer) =>
      Effect.withTracer(program, {
        ...tracer,
        span(...args): Tracer.Span {
          made++
          return tracer.span(...args)
        }
      })
    )
    const value = yield* counting.pipe(
      Effect.ensuring(Effect.sync(() => {
        ended = Date.now()
      })),
      Effect.provide(Tracking.layer({ serviceName: "export-pipeline-test", ...options })),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.Warning),
      Effect.withConfigProvider(configFrom(env))
    )
    return { value, made, warnings, releaseMillis: Date.now() - ended }
  })

/** A loopback port nobody listens on (it was free a moment ago). */
const freePort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

const matching = (warnings: ReadonlyArray<string>, pattern: RegExp) => warnings.filter((text) => pattern.test(text))

// --- options (no receiver) ----------------------------------------------------------------------------------------

describe("Tracking.layer options", () => {
  const invalid = (options: Tracking.OtlpOptions, env: Record<string, string> = {}) =>
    Effect.void.pipe(
      Effect.provide(Tracking.layer(options)),
      Effect.withConfigProvider(configFrom(env)),
      Effect.flip
    )

  it.effect("an option that cannot work fails the layer with InvalidTrackingConfig, naming the option", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Tracking.OtlpOptions, string, RegExp]> = [
        [{ metricExportInterval: 0 }, "metricExportInterval", /must be more than zero/],
        [{ metricExportInterval: "0 seconds" }, "metricExportInterval", /must be more than zero/],
        [{ metricExportInterval: -1000 }, "metricExportInterval", /is negative/],
        [{ metricExportInterval: NaN }, "metricExportInterval", /is not a number/],
        [{ metricExportInterval: "1 sekond" as Duration.DurationInput }, "metricExportInterval", /not a duration/],
        [{ shutdownTimeout: "-1 seconds" }, "shutdownTimeout", /is negative/],
        [{ shutdownTimeout: NaN }, "shutdownTimeout", /is not a number/],
        [{ exportTimeout: 0 }, "exportTimeout", /must be more than zero/],
        [{ scheduledDelay: -5 }, "scheduledDelay", /is negative/],
        [{ maxQueueSize: 0 }, "maxQueueSize", /not a positive number/],
        [{ maxQueueSize: -5 }, "maxQueueSize", /not a positive number/],
        [{ maxQueueSize: NaN }, "maxQueueSize", /not a positive number/],
        [{ maxExportBatchSize: 0 }, "maxExportBatchSize", /not a positive number/],
        [{ endpoint: "localhost:4318" }, "endpoint", /scheme localhost.*write it as http:\/\/localhost:4318/],
        [{ endpoint: "not a url" }, "endpoint", /is not a URL/]
      ]
      for (const [options, option, message] of cases) {
        const error = yield* invalid(options)
        assert.instanceOf(error, Tracking.InvalidTrackingConfig, JSON.stringify(options))
        assert.strictEqual(error._tag, "InvalidTrackingConfig")
        assert.strictEqual(error.option, option, error.message)
        assert.match(error.message, message)
        assert.include(error.message, option)
      }
      // An endpoint from the environment is named by its variable.
      const fromEnv = yield* invalid({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "collector/v1/traces" })
      assert.include(fromEnv.option, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
      assert.match(fromEnv.message, /the traces endpoint "collector\/v1\/traces" is not a URL/)
      // Credentials in an endpoint that does not parse are not repeated.
      const secret = yield* invalid({ endpoint: "ftp://user:hunter2@collector?token=abc" })
      assert.notInclude(secret.message, "hunter2")
      assert.notInclude(secret.message, "abc")
    }))

  it.effect("OTEL_BSP_* are read through the ConfigProvider; options win; defaults hold a 20k burst", () =>
    Effect.gen(function*() {
      const resolve = (options: ExportSettings.ExportOptions, env: Record<string, string> = {}) =>
        ExportSettings.resolveSettings(options).pipe(Effect.withConfigProvider(configFrom(env)))
      const defaults = yield* resolve({})
      assert.deepStrictEqual(defaults.settings, {
        maxQueueSize: 32_768,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 5_000,
        spanExportTimeoutMillis: 10_000,
        metricExportIntervalMillis: 60_000,
        metricExportTimeoutMillis: 10_000,
        shutdownTimeout: Duration.seconds(3)
      })
      assert.deepStrictEqual(defaults.warnings, [])

      const env = {
        OTEL_BSP_MAX_QUEUE_SIZE: "5000",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "100",
        OTEL_BSP_SCHEDULE_DELAY: "250",
        OTEL_BSP_EXPORT_TIMEOUT: "7000"
      }
      const fromEnv = (yield* resolve({}, env)).settings
      assert.strictEqual(fromEnv.maxQueueSize, 5000)
      assert.strictEqual(fromEnv.maxExportBatchSize, 100)
      assert.strictEqual(fromEnv.scheduledDelayMillis, 250)
      assert.strictEqual(fromEnv.spanExportTimeoutMillis, 7000)
      assert.strictEqual(fromEnv.metricExportTimeoutMillis, 10_000, "OTEL_BSP_EXPORT_TIMEOUT is about spans only")

      const options = (yield* resolve({
        maxQueueSize: 300,
        maxExportBatchSize: 30,
        scheduledDelay: "1 second",
        exportTimeout: "2 seconds"
      }, env)).settings
      assert.strictEqual(options.maxQueueSize, 300)
      assert.strictEqual(options.maxExportBatchSize, 30)
      assert.strictEqual(options.scheduledDelayMillis, 1000)
      assert.strictEqual(options.spanExportTimeoutMillis, 2000)
      assert.strictEqual(options.metricExportTimeoutMillis, 2000)
    }))

  it.effect("what can be made to work is clamped, with a warning when the value was given", () =>
    Effect.gen(function*() {
      const resolve = (options: ExportSettings.ExportOptions, env: Record<string, string> = {}) =>
        ExportSettings.resolveSettings(options).pipe(Effect.withConfigProvider(configFrom(env)))
      // A metrics interval shorter than the export timeout: the timeout is clamped to it, silently when the
      // timeout was a default.
      const short = yield* resolve({ metricExportInterval: "1 second", shutdownTimeout: "3 seconds" })
      assert.strictEqual(short.settings.metricExportIntervalMillis, 1000)
      assert.strictEqual(short.settings.metricExportTimeoutMillis, 1000)
      assert.deepStrictEqual(short.warnings, [])
      const given = yield* resolve({ metricExportInterval: "1 second", exportTimeout: "5 seconds" })
      assert.strictEqual(given.settings.metricExportTimeoutMillis, 1000)
      assert.strictEqual(given.settings.spanExportTimeoutMillis, 5000)
      assert.strictEqual(given.warnings.length, 1)
      assert.match(given.warnings[0], /metrics export timeout \(exportTimeout 5000 ms\) clamped to/)

      const sizes = yield* resolve({ maxQueueSize: 100.7, maxExportBatchSize: 1000 })
      assert.strictEqual(sizes.settings.maxQueueSize, 100)
      assert.strictEqual(sizes.settings.maxExportBatchSize, 100)
      assert.strictEqual(sizes.warnings.length, 2, sizes.warnings.join("\n"))
      // A small queue without a batch size given: the default batch follows it, without a word.
      assert.strictEqual((yield* resolve({ maxQueueSize: 100 })).settings.maxExportBatchSize, 100)
      assert.deepStrictEqual((yield* resolve({ maxQueueSize: 100 })).warnings, [])

      // Timers longer than Node keeps (they would fire at once) are clamped.
      const forever = yield* resolve({ metricExportInterval: Duration.infinity, shutdownTimeout: "30 days" })
      assert.strictEqual(forever.settings.metricExportIntervalMillis, 2_147_483_647)
      assert.strictEqual(Duration.toMillis(forever.settings.shutdownTimeout), 2_147_483_647)
      assert.strictEqual(forever.warnings.length, 2)

      // An unusable variable is ignored with a warning, as the OpenTelemetry configuration spec asks.
      const badEnv = yield* resolve({}, { OTEL_BSP_MAX_QUEUE_SIZE: "lots", OTEL_BSP_SCHEDULE_DELAY: "-1" })
      assert.strictEqual(badEnv.settings.maxQueueSize, 32_768)
      assert.strictEqual(badEnv.settings.scheduledDelayMillis, 5_000)
      assert.strictEqual(badEnv.warnings.length, 2)
      assert.match(badEnv.warnings[0], /OTEL_BSP_MAX_QUEUE_SIZE="lots" ignored/)

      // A zero shutdown timeout is valid: the release does not wait.
      assert.strictEqual(Duration.toMillis((yield* resolve({ shutdownTimeout: 0 })).settings.shutdownTimeout), 0)
    }))

  it("describes export failures by kind, and shows endpoints without credentials", () => {
    const http404 = Object.assign(new Error("Not Found"), { name: "OTLPExporterError", code: 404 })
    assert.deepStrictEqual(ExportReport.describeFailure(http404, 1000), {
      kind: "HTTP 404",
      text: "HTTP 404 Not Found"
    })
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })
    assert.deepStrictEqual(ExportReport.describeFailure(refused, 1000), {
      kind: "ECONNREFUSED",
      text: "ECONNREFUSED (connection refused)"
    })
    assert.strictEqual(ExportReport.describeFailure(new Error("Request timed out"), 2500).kind, "timeout")
    assert.strictEqual(
      ExportReport.describeFailure(new Error("Export failed with retryable status"), 1000).kind,
      "retryable status"
    )
    assert.strictEqual(
      ExportReport.displayUrl("https://user:hunter2@collector.example:4318/v1/traces?api_key=abc#x"),
      "https://collector.example:4318/v1/traces"
    )
  })
})

// --- against a receiver -------------------------------------------------------------------------------------------

const withReceiver = () => {
  it.live(
    "a burst of 20,000 tracked calls: every span is exported, none dropped, nothing reported",
    () =>
      Effect.gen(function*() {
        const receiver = yield* OtlpReceiver.make()
        // The defaults size the queue. The long timeouts only keep a loaded test machine (whose process also runs the
        // receiver: measured up to 20 s for an export of 512 spans at a load of 11 on 2 CPUs) from reporting, or
        // cutting, exports that are merely slow.
        const run = yield* tracked(burst(2_000, 10), {
          endpoint: receiver.url,
          exportTimeout: "60 seconds",
          shutdownTimeout: "60 seconds"
        })
        const received = yield* receiver.spans
        assert.strictEqual(run.made, 22_000)
        assert.strictEqual(received.length, run.made, "spans received vs made")
        assert.strictEqual(new Set(received.map((span) => span.spanId)).size, run.made, "each span once")
        assert.deepStrictEqual(run.warnings, [])
        const batches = (yield* receiver.traces).map((request) =>
          request.resourceSpans.reduce(
            (sum, resource) => sum + resource.scopeSpans.reduce((count, scope) => count + scope.spans.length, 0),
            0
          )
        )
        assert.isAtMost(Math.max(...batches), 512, "batches of at most maxExportBatchSize")
        console.info(
          `ExportPipeline burst: ${received.length} of ${run.made} spans received in ${batches.length} requests; ` +
            `layer released in ${run.releaseMillis} ms`
        )
      }).pipe(Effect.scoped),
    240_000
  )

  it.live("a full queue: the dropped spans are counted and reported in one warning, with the count", () =>
    Effect.gen(function*() {
      // A collector that never answers holds 4 exports of 100 spans in flight and 100 more in the queue.
      const receiver = yield* OtlpReceiver.make({ answer: OtlpReceiver.Answer.neverAnswer })
      const run = yield* tracked(calls(1_000), {
        endpoint: receiver.url,
        maxQueueSize: 100,
        // One report interval (the scheduled delay, at least a second) for the whole burst.
        scheduledDelay: "30 seconds",
        shutdownTimeout: "200 millis"
      })
      assert.strictEqual(run.made, 1_000)
      const dropped = matching(run.warnings, /dropped/)
      assert.deepStrictEqual(dropped, [
        "botanu: 500 spans dropped, not exported: the export queue was full (maxQueueSize 100); spans were made " +
        `faster than ${receiver.tracesUrl} took them. Raise maxQueueSize (OTEL_BSP_MAX_QUEUE_SIZE), or see the ` +
        "warnings about failed exports"
      ])
      const cut = matching(run.warnings, /shutdown budget .* before traces/)
      assert.strictEqual(cut.length, 1, run.warnings.join("\n"))
      assert.include(cut[0], "500 spans not exported (100 still queued, 400 sent in exports")
      // Every span made is accounted for: dropped, or lost at shutdown.
    }).pipe(Effect.scoped))

  it.live("OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE from the ConfigProvider size the queue", () =>
    Effect.gen(function*() {
      const receiver = yield* OtlpReceiver.make({ answer: OtlpReceiver.Answer.neverAnswer })
      const run = yield* tracked(
        calls(1_000),
        { endpoint: receiver.url, scheduledDelay: "30 seconds", shutdownTimeout: "200 millis" },
        { OTEL_BSP_MAX_QUEUE_SIZE: "100", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "50" }
      )
      // 4 exports of 50 in flight, 100 queued: 700 dropped.
      assert.deepStrictEqual(matching(run.warnings, /dropped/).map((text) => text.split(",")[0]), [
        "botanu: 700 spans dropped"
      ])
    }).pipe(Effect.scoped))

  it.live("export failures: each kind reported once, with endpoint, status and what was lost; the app is unaffected", () =>
    Effect.gen(function*() {
      const secret = "sk-secret-header-value"
      const headers = { authorization: `Bearer ${secret}` }

      // A wrong endpoint: the receiver answers 404 to a path it does not serve.
      const receiver = yield* OtlpReceiver.make()
      const wrong = yield* tracked(calls(3), { endpoint: `${receiver.url}/wrong`, headers })
      assert.deepStrictEqual(wrong.value, undefined)
      // The span flush and the last metrics export run at once: their warnings come in either order.
      const sorted = [...wrong.warnings].sort()
      assert.strictEqual(sorted.length, 2, sorted.join("\n"))
      assert.match(
        sorted[0],
        new RegExp(
          `^botanu: metrics export to ${receiver.url}/wrong/v1/metrics failed \\(HTTP 404 Not Found\\): a metrics ` +
            "export \\(\\d+ data points\\) lost\\. The export is not retried further; this kind of failure is " +
            "reported at most once every 60 s from now on$"
        )
      )
      assert.strictEqual(
        sorted[1],
        `botanu: traces export to ${receiver.url}/wrong/v1/traces failed (HTTP 404 Not Found): 3 spans lost. ` +
          "The export is not retried further; this kind of failure is reported at most once every 5 s from now on"
      )

      // A collector that fails: 500 is not retried by the exporter. Two batches of spans: the second failure of
      // the same kind waits for the interval (here: the release) and is reported with its count.
      yield* receiver.answerWith(OtlpReceiver.Answer.reject(500))
      const failing = yield* tracked(calls(4), { endpoint: receiver.url, headers, maxExportBatchSize: 2 })
      const traces500 = matching(failing.warnings, /^botanu: traces export/)
      assert.deepStrictEqual(traces500, [
        `botanu: traces export to ${receiver.tracesUrl} failed (HTTP 500 Internal Server Error): 2 spans lost. ` +
        "The export is not retried further; this kind of failure is reported at most once every 5 s from now on",
        `botanu: traces export to ${receiver.tracesUrl} failed (HTTP 500 Internal Server Error) 1 more time since ` +
        "the last report: 2 spans lost"
      ])
      assert.strictEqual(matching(failing.warnings, /^botanu: metrics export .*\(HTTP 500 /).length, 1)

      // 503 with a retry-after longer than the export timeout: the exporter gives up, without the status.
      yield* receiver.answerWith(OtlpReceiver.Answer.reject(503, { retryAfterSeconds: 5 }))
      const unavailable = yield* tracked(calls(2), { endpoint: receiver.url, exportTimeout: "300 millis" })
      assert.include(
        matching(unavailable.warnings, /^botanu: traces export/).join("\n"),
        `botanu: traces export to ${receiver.tracesUrl} failed (HTTP 429, 502, 503 or 504 until the export timeout ` +
          "(0.3 s), retries included): 2 spans lost."
      )

      // A refused connection: nobody listens. The exporter retries until its timeout, here shorter than a backoff.
      const port = yield* freePort
      const refused = yield* tracked(calls(2), {
        endpoint: `http://127.0.0.1:${port}`,
        headers,
        exportTimeout: "300 millis"
      })
      const refusals = [...refused.warnings].sort().reverse()
      assert.strictEqual(refusals.length, 2, refusals.join("\n"))
      assert.include(
        refusals[0],
        `botanu: traces export to http://127.0.0.1:${port}/v1/traces failed (ECONNREFUSED (connection refused)): ` +
          "2 spans lost."
      )
      assert.include(
        refusals[1],
        `botanu: metrics export to http://127.0.0.1:${port}/v1/metrics failed (ECONNREFUSED (connection refused)): ` +
          "a metrics export"
      )

      for (const warning of [...wrong.warnings, ...failing.warnings, ...refused.warnings]) {
        assert.notInclude(warning, secret, "header values are never logged")
      }
    }).pipe(Effect.scoped))

  it.live("a collector that never answers: the layer is released within shutdownTimeout in all, not twice it", () =>
    Effect.gen(function*() {
      const receiver = yield* OtlpReceiver.make({ answer: OtlpReceiver.Answer.neverAnswer })
      const timeout = 2_000
      const run = yield* tracked(burst(10, 5), { endpoint: receiver.url, shutdownTimeout: Duration.millis(timeout) })
      assert.strictEqual(run.value, undefined)
      // Generous slack for a loaded machine, and still far from the two timeouts of a traces-then-metrics release.
      assert.isAtMost(run.releaseMillis, timeout + 1_000, `released in ${run.releaseMillis} ms`)
      assert.isAtLeast(run.releaseMillis, timeout - 100, "it waited for the collector")
      const requests = yield* receiver.requests
      assert.deepStrictEqual([...new Set(requests.map((request) => request.signal))].sort(), ["metrics", "traces"])
      const cut = matching(run.warnings, /shutdown budget \(shutdownTimeout 2 s\) ran out/).sort().reverse()
      assert.strictEqual(cut.length, 2, run.warnings.join("\n"))
      assert.include(cut[0], `before traces reached ${receiver.tracesUrl}: 60 spans not exported`)
      assert.match(cut[1], /before metrics reached .*: a metrics export the collector had not answered/)
      console.info(`ExportPipeline: released in ${run.releaseMillis} ms against a collector that never answers`)
    }).pipe(Effect.scoped))

  it.live("metricExportInterval of 1 second, shorter than shutdownTimeout: the layer starts and exports", () =>
    Effect.gen(function*() {
      const receiver = yield* OtlpReceiver.make()
      const run = yield* tracked(
        Effect.zipRight(
          llmCall,
          // Two periodic exports before the release makes the last one.
          Effect.sleep("2500 millis").pipe(Effect.zipRight(receiver.metrics))
        ),
        { endpoint: receiver.url, metricExportInterval: "1 second", shutdownTimeout: "3 seconds" }
      )
      assert.isAtLeast(run.value.length, 2, "periodic metric exports while the app ran")
      assert.deepStrictEqual(run.warnings, [])
      assert.isAtLeast((yield* receiver.metrics).length, run.value.length + 1, "and the last one at release")
      assert.strictEqual((yield* receiver.spans).length, 1)
    }).pipe(Effect.scoped))

  it.live("an export interval below the shutdown timeout with an explicit export timeout: clamped, warned", () =>
    Effect.gen(function*() {
      const receiver = yield* OtlpReceiver.make()
      const run = yield* tracked(llmCall, {
        endpoint: receiver.url,
        metricExportInterval: "500 millis",
        exportTimeout: "5 seconds"
      })
      assert.strictEqual(run.value, "ok")
      assert.deepStrictEqual(run.warnings, [
        "botanu: the metrics export timeout (exportTimeout 5000 ms) clamped to metricExportInterval 500 ms"
      ])
      assert.isAtLeast((yield* receiver.metrics).length, 1)
    }).pipe(Effect.scoped))
}

const title = "Tracking.layer's export pipeline against an OTLP receiver"

if (existsSync(protos)) {
  describe(title, withReceiver)
} else {
  const notRun = `NOT RUN: ${title}: the official OTLP .proto files are not installed (no ${protos}). ` +
    "`npm run test:e2e` installs them and runs this file."
  if (required) {
    describe(title, () => {
      it("needs the OTLP protos (BOTANU_E2E_REQUIRED=1)", () => {
        assert.fail(notRun)
      })
    })
  } else {
    console.warn(notRun)
    describe.skip(`${title}: ${notRun}`, () => {
      it("did not run", () => {})
    })
  }
}
