/**
 * The end-to-end harness: the production layer (`Tracking.layer`) exporting to real OTLP backends on 127.0.0.1,
 * metrics to VictoriaMetrics (started by `scripts/otel-backends.sh start`) and traces to the test's own OTLP receiver
 * (test/utils/otlpReceiver.ts), and what the checks read back.
 *
 * Built so that more scenarios can be added beside the demo's:
 * - `runTracked` runs any program under `Tracking.layer`, with layer options and environment entries of the
 *   scenario's choosing (read through Effect's `ConfigProvider`, never `process.env`: say
 *   `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta`), metrics sent to VictoriaMetrics or to a receiver
 *   (which keeps every request in order: delta points can be added up), and times the run and the shutdown.
 * - A receiver can answer 4xx / 5xx or never answer (`OtlpReceiver.Answer`): a collector that hangs.
 * - Every scenario gets a `service.name` of its own; `VictoriaMetrics.query` results can be filtered by it.
 * - Effect's metric registry is process-global and exported whole by every layer in the process: two replicas
 *   must be two processes (two in one process would each export both's counts).
 */
import Anthropic from "@anthropic-ai/sdk"
import * as OtelResource from "@effect/opentelemetry/Resource"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, Metric } from "effect"
import type * as MetricPair from "effect/MetricPair"
import type * as Tracer from "effect/Tracer"
import { randomUUID } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import OpenAI from "openai"
import { type DemoResult, runDemo } from "../../demo/app.js"
import { fakeProvider } from "../../demo/fakeProvider.js"
import { Metrics, Tracking } from "../../src/index.js"
import * as OtlpReceiver from "../utils/otlpReceiver.js"

const repo = fileURLToPath(new URL("../..", import.meta.url))
/** Written by `scripts/otel-backends.sh start`. */
export const vmUrlFile = `${repo}.backends/vm.url`

/** How to run this test where it did not run. */
export const howToRun = "`npm run test:e2e` runs it (it installs and starts the backends: scripts/otel-backends.sh)"

// --- finding the backends -----------------------------------------------------------------------------------------

export type Backends =
  | { readonly _tag: "Ready"; readonly victoriaMetrics: string }
  | { readonly _tag: "Missing"; readonly reason: string }

/**
 * Whether VictoriaMetrics runs (`.backends/vm.url` and a healthy `/health`) and the OTLP protos the receiver decodes
 * with are installed; else why not. A plain promise: the test file awaits it to decide whether to run at all.
 */
export const findBackends = async (): Promise<Backends> => {
  const missing = (reason: string): Backends => ({ _tag: "Missing", reason })
  const protos = `${OtlpReceiver.defaultProtoInclude}/opentelemetry/proto/collector/trace/v1/trace_service.proto`
  if (!existsSync(protos)) return missing(`the official OTLP .proto files are not installed (no ${protos})`)
  if (!existsSync(vmUrlFile)) return missing(`VictoriaMetrics is not running (no ${vmUrlFile})`)
  const url = readFileSync(vmUrlFile, "utf8").trim()
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) })
    if (!response.ok) return missing(`VictoriaMetrics at ${url} answers /health with ${response.status}`)
  } catch (error) {
    return missing(`VictoriaMetrics does not answer at ${url} (${vmUrlFile}): ${String(error)}`)
  }
  return { _tag: "Ready", victoriaMetrics: url }
}

// --- VictoriaMetrics ----------------------------------------------------------------------------------------------

export interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** The HTTP API of one VictoriaMetrics instance. */
export const victoriaMetrics = (url: string) => {
  const get = (path: string, params: Record<string, string> = {}) =>
    Effect.tryPromise(async () => {
      const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`, {
        signal: AbortSignal.timeout(10_000)
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`GET ${path} ${JSON.stringify(params)}: ${response.status} ${text}`)
      return text
    }).pipe(Effect.orDie)
  const json = <A>(path: string, params?: Record<string, string>) =>
    Effect.map(get(path, params), (text) => {
      const body = JSON.parse(text) as { status: string; data: A; error?: string }
      if (body.status !== "success") throw new Error(`${path} ${JSON.stringify(params)}: ${body.error ?? text}`)
      return body.data
    })
  return {
    url,
    /** Where OTLP/HTTP protobuf metrics go (VictoriaMetrics rejects OTLP/JSON). */
    otlpMetricsUrl: `${url}/opentelemetry/v1/metrics`,
    /** Makes every sample received so far queryable. */
    forceFlush: Effect.asVoid(get("/internal/force_flush")),
    /**
     * An instant PromQL (MetricsQL) query at the current time, to the millisecond: without an explicit `time`,
     * VictoriaMetrics queries at the current second rounded down, and misses what arrived in the last second.
     */
    query: (promql: string): Effect.Effect<ReadonlyArray<Sample>> =>
      Effect.map(
        Effect.suspend(() =>
          json<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
            "/api/v1/query",
            { query: promql, time: (Date.now() / 1000).toFixed(3) }
          )
        ),
        (data) => data.result.map((series) => ({ labels: series.metric, value: Number(series.value[1]) }))
      ),
    /** Every metric name stored. */
    metricNames: json<ReadonlyArray<string>>("/api/v1/label/__name__/values"),
    /** The label sets of the series matching a selector. */
    series: (match: string) => json<ReadonlyArray<Record<string, string>>>("/api/v1/series", { "match[]": match })
  }
}

export type VictoriaMetrics = ReturnType<typeof victoriaMetrics>

// --- running a program under the production layer ----------------------------------------------------------------

/**
 * The underlying SDK span of a span made by @effect/opentelemetry's tracer (its `OtelSpan` keeps it in `span`), so
 * that a test can compare what the process made with what arrived.
 */
const sdkSpanOf = (span: Tracer.Span): ReadableSpan => {
  const sdk = (span as unknown as { readonly span?: ReadableSpan }).span
  if (sdk === undefined || typeof sdk.spanContext !== "function") {
    throw new Error(`span ${span.name} was not made by the OpenTelemetry tracer`)
  }
  return sdk
}

/** Runs the effect with a tracer that notes every span the current tracer makes. */
const recordingSpans = <A, E, R>(effect: Effect.Effect<A, E, R>, into: Array<Tracer.Span>) =>
  Effect.tracerWith((tracer) =>
    Effect.withTracer(effect, {
      ...tracer,
      span(...args) {
        const span = tracer.span(...args)
        into.push(span)
        return span
      }
    })
  )

export interface RunOptions {
  /** Default: a fresh `botanu-e2e-<random>` per run. */
  readonly serviceName?: string | undefined
  readonly tracesUrl: string
  readonly metricsUrl: string
  /** More options of `Tracking.layer`; `metricExportInterval` 10 s and `shutdownTimeout` 5 s unless given. */
  readonly layer?: Omit<Tracking.OtlpOptions, "endpoint" | "serviceName"> | undefined
  /** More entries of the environment the layer reads (through its `ConfigProvider`). */
  readonly config?: Readonly<Record<string, string>> | undefined
  /** Cost by customer for the first N customers (`Metrics.layerCostByCustomer`); 0 turns it off. Default 100. */
  readonly costByCustomerMax?: number | undefined
}

export interface Run<A> {
  readonly serviceName: string
  readonly value: A
  /** Every span the program made, as the SDK in this process ended it, in the order they started. */
  readonly spans: ReadonlyArray<ReadableSpan>
  /** Effect's metric registry when the program had ended (process-global: everything this process recorded). */
  readonly metrics: ReadonlyArray<MetricPair.MetricPair.Untyped>
  /** Milliseconds: the program, then the layer's release (its final export of spans and metrics). */
  readonly runMillis: number
  readonly shutdownMillis: number
  /** The attributes of the resource this build of the layer exported with (`service.instance.id` included). */
  readonly resource: Readonly<Record<string, unknown>>
}

/**
 * Runs `program` under `Tracking.layer`, exporting traces to `tracesUrl` and metrics to `metricsUrl` (both used as
 * given: through `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, since the layer's
 * `endpoint` option appends `/v1/...` to one base for both), and returns once the layer is released.
 */
export const runTracked = <A, E>(program: Effect.Effect<A, E>, options: RunOptions): Effect.Effect<Run<A>, E> =>
  Effect.gen(function*() {
    const serviceName = options.serviceName ?? `botanu-e2e-${randomUUID().slice(0, 8)}`
    const spans: Array<Tracer.Span> = []
    const maxCustomers = options.costByCustomerMax ?? 100
    const tracking = Tracking.layer({
      metricExportInterval: "10 seconds",
      shutdownTimeout: "5 seconds",
      ...options.layer,
      serviceName
    })
    const layer = maxCustomers > 0
      ? Layer.merge(tracking, Metrics.layerCostByCustomer({ maxCustomers }))
      : tracking
    const config = ConfigProvider.fromMap(
      new Map(Object.entries({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: options.tracesUrl,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: options.metricsUrl,
        ...options.config
      }))
    )
    const started = Date.now()
    let ended = started
    let metrics: ReadonlyArray<MetricPair.MetricPair.Untyped> = []
    let resource: Readonly<Record<string, unknown>> = {}
    const noteResource = Effect.map(OtelResource.Resource, (built) => {
      resource = { ...built.attributes }
    })
    const value = yield* recordingSpans(Effect.zipRight(noteResource, program), spans).pipe(
      Effect.ensuring(Effect.sync(() => {
        ended = Date.now()
        metrics = Metric.unsafeSnapshot()
      })),
      // A scenario's options are valid: an `InvalidTrackingConfig` here is a bug in the test.
      Effect.provide(Layer.orDie(layer)),
      Effect.withConfigProvider(config)
    )
    const released = Date.now()
    return {
      serviceName,
      value,
      spans: spans.map(sdkSpanOf),
      metrics,
      runMillis: ended - started,
      shutdownMillis: released - ended,
      resource
    }
  })

/**
 * LLM call attempts recorded so far in this process's (global) metric registry. Every layer exports the whole
 * registry, cumulatively since the process started, so a scenario that compares a backend's totals with its own run
 * must be the first to record calls in its process: check that this is 0 before it runs.
 */
export const attemptsRecorded = (): number =>
  Metric.unsafeSnapshot()
    .filter((pair) => pair.metricKey.name === "botanu.gen_ai.attempts")
    .reduce((sum, pair) => sum + ((pair.metricState as { readonly count?: number }).count ?? 0), 0)

/**
 * The demo's app (demo/app.ts), as `npm run demo` runs it: the real `openai` and `@anthropic-ai/sdk` clients against
 * the demo's fake provider, which is seeded, so every run makes the same calls.
 */
export const demoProgram: Effect.Effect<DemoResult> = Effect.gen(function*() {
  const fake = yield* fakeProvider()
  return yield* runDemo({
    openai: new OpenAI({ apiKey: "sk-e2e", baseURL: `${fake.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: "sk-ant-e2e", baseURL: fake.url, maxRetries: 0, openTelemetry: false })
  })
}).pipe(
  // The fake provider's scope closes before the layer is released, so every span has ended by the final flush.
  Effect.scoped,
  Logger.withMinimumLogLevel(LogLevel.Warning)
)

// --- the library's metrics as series ------------------------------------------------------------------------------

/** One series' total: a counter's value, or a histogram's count, sum and per-bucket (not cumulative) counts. */
export type SeriesTotal =
  | { readonly _tag: "Sum"; readonly value: number }
  | { readonly _tag: "Histogram"; readonly count: number; readonly sum: number; readonly counts: ReadonlyArray<number> }

/** A series' identity on either side of the wire: the metric name and its attributes, every value as a string. */
export const seriesKey = (name: string, attributes: Readonly<Record<string, unknown>>): string =>
  `${name} ${
    JSON.stringify(
      Object.entries(attributes).map(([key, value]) => [key, String(value)]).sort(([a], [b]) => a < b ? -1 : 1)
    )
  }`

/** The library's metrics (`Metrics.units`) in an Effect registry snapshot, by series. */
export const librarySeries = (
  metrics: ReadonlyArray<MetricPair.MetricPair.Untyped>
): Map<string, SeriesTotal> => {
  const series = new Map<string, SeriesTotal>()
  for (const { metricKey, metricState } of metrics) {
    if (!Metrics.units.has(metricKey.name)) continue
    const key = seriesKey(metricKey.name, Object.fromEntries(metricKey.tags.map((tag) => [tag.key, tag.value])))
    const state = metricState as {
      readonly count?: number | bigint
      readonly sum?: number
      readonly buckets?: ReadonlyArray<readonly [number, number]>
    }
    if (state.buckets !== undefined) {
      // Effect's buckets are cumulative (count <= boundary); OTLP's are per bucket.
      const counts = state.buckets.map(([, count], i) => count - (i === 0 ? 0 : state.buckets![i - 1][1]))
      series.set(key, { _tag: "Histogram", count: Number(state.count), sum: state.sum ?? 0, counts })
    } else if (state.count !== undefined) {
      series.set(key, { _tag: "Sum", value: Number(state.count) })
    }
  }
  return series
}

/** What a replica (or any run) recorded of the library's metrics, in the terms its PromQL checks read. */
export interface Totals {
  readonly costUsd: number
  readonly attempts: Readonly<Record<string, number>>
  readonly tokens: Readonly<Record<string, number>>
  readonly calls: number
}

export const totalsOf = (metrics: ReadonlyArray<MetricPair.MetricPair.Untyped>): Totals => {
  let costUsd = 0
  let calls = 0
  const attempts: Record<string, number> = {}
  const tokens: Record<string, number> = {}
  for (const { metricKey, metricState } of metrics) {
    const tag = (key: string) => metricKey.tags.find((t) => t.key === key)?.value ?? ""
    const state = metricState as { readonly count?: number | bigint; readonly sum?: number }
    switch (metricKey.name) {
      case "botanu.gen_ai.cost":
        costUsd += Number(state.count ?? 0)
        break
      case "botanu.gen_ai.attempts":
        attempts[tag("status")] = (attempts[tag("status")] ?? 0) + Number(state.count ?? 0)
        break
      case "gen_ai.client.token.usage":
        tokens[tag("gen_ai.token.type")] = (tokens[tag("gen_ai.token.type")] ?? 0) + (state.sum ?? 0)
        break
      case "gen_ai.client.operation.duration":
        calls += Number(state.count ?? 0)
        break
    }
  }
  return { costUsd, attempts, tokens, calls }
}
