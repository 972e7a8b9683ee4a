/**
 * The production layer's export pipeline: the span processor that holds a burst and drains it on shutdown, the
 * metric exporter and HTTP agents that report and cut what the release leaves, the tracer provider whose release
 * keeps to the one shutdown budget it shares with the metrics' last export. Its options are resolved in
 * `exportSettings.ts`; what it loses is reported by `exportReport.ts`.
 */
import * as Resource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { type Context as OtelContext, context, TraceFlags } from "@opentelemetry/api"
import { type ExportResult, ExportResultCode, getNumberFromEnv, suppressTracing } from "@opentelemetry/core"
import type { PushMetricExporter, ResourceMetrics } from "@opentelemetry/sdk-metrics"
import type { ReadableSpan, Span, SpanExporter, SpanLimits, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
import { makeReporter, type Reporter } from "./exportReport.js"
import {
  type ConfigProblem,
  endpointProblem,
  type Endpoints,
  type ExportOptions,
  type ExportSettings,
  resolveSettings,
  spanReportIntervalMillis
} from "./exportSettings.js"
import { sdkAttributeCountLimit, sdkAttributeValueLengthLimit } from "./limits.js"

// --- the shutdown budget ------------------------------------------------------------------------------------------

/**
 * One `shutdownTimeout` for the whole release of a layer: the span flush, the metric reader's last export and the
 * exporters' shutdown each wait only for what is left of it. The clock starts when the first of them asks.
 *
 * @internal
 */
export class ShutdownBudget extends Context.Tag("@botanu/effect/internal/ShutdownBudget")<ShutdownBudget, {
  readonly total: Duration.Duration
  /** What is left of the budget; the first call starts it. */
  readonly remaining: Effect.Effect<Duration.Duration>
}>() {}

/**
 * A fresh budget per build of the layer (a layer value built twice, such as `TrackingTest.layer`, gets two).
 *
 * @internal
 */
export const layerShutdownBudget = (
  total: Duration.DurationInput = Duration.seconds(3)
): Layer.Layer<ShutdownBudget> =>
  Layer.sync(ShutdownBudget, () => {
    const totalDuration = Duration.decode(total)
    const totalMillis = Duration.toMillis(totalDuration)
    let deadline: number | undefined
    return {
      total: totalDuration,
      remaining: Effect.map(Clock.currentTimeMillis, (now) => {
        deadline ??= now + totalMillis
        return Duration.millis(Math.max(0, deadline - now))
      })
    }
  })

// --- the span processor -------------------------------------------------------------------------------------------

/** @internal */
export interface SpanProcessorSettings {
  readonly maxQueueSize: number
  readonly maxExportBatchSize: number
  readonly scheduledDelayMillis: number
  readonly exportTimeoutMillis: number
  /** Exports in flight at once, scheduled ones and the final flush's alike. */
  readonly maxConcurrentExports: number
}

/**
 * Batches finished spans for an exporter, like the SDK's `BatchSpanProcessor`, with three differences that the
 * production layer needs, and which subclassing could only get by overriding that class's private members:
 * - a flush (`forceFlush`, shutdown) sends the queue in batches with at most `maxConcurrentExports` in flight, one
 *   more as each finishes; the SDK's sends every batch at once, and the OTLP exporter refuses (and loses) all past
 *   its limit of concurrent exports;
 * - every span that is not exported is counted and reported (`Reporter`): dropped because the queue was full,
 *   lost in a failed export, or still queued when the shutdown budget ran out (`abandon`);
 * - scheduled exports also run concurrently, so that a burst drains while it is being made.
 *
 * @internal
 */
export class ExportingSpanProcessor implements SpanProcessor {
  private queue: Array<ReadableSpan> = []
  private exports = 0
  private exportingSpans = 0
  private enqueued = 0
  private settled = 0
  /** Export partial batches until this many spans (counted since the start) have been taken from the queue. */
  private flushThrough = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  private abandoned = false
  private waiters: Array<{ readonly through: number; readonly resolve: () => void }> = []
  private shutdownOnce: Promise<void> | undefined

  constructor(
    private readonly exporter: SpanExporter,
    private readonly settings: SpanProcessorSettings,
    private readonly reporter: Reporter
  ) {
    // The layer's release gave the flush what was left of the shutdown budget: whatever is left over is lost.
    reporter.onFinal(() => this.abandon())
  }

  onStart(_span: Span, _parentContext: OtelContext): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return
    if (this.closed) {
      this.reporter.spansDropped(1, "after shutdown")
      return
    }
    if (this.queue.length >= this.settings.maxQueueSize) {
      this.reporter.spansDropped(1, "queue full")
      return
    }
    this.queue.push(span)
    this.enqueued++
    if (this.queue.length >= this.settings.maxExportBatchSize) this.pump()
    else this.scheduleTimer()
  }

  forceFlush(): Promise<void> {
    const through = this.enqueued
    if (this.settled >= through) return Promise.resolve()
    this.flushThrough = Math.max(this.flushThrough, through)
    const done = new Promise<void>((resolve) => this.waiters.push({ through, resolve }))
    this.pump()
    return done
  }

  shutdown(): Promise<void> {
    this.shutdownOnce ??= (async () => {
      this.closed = true
      this.clearTimer()
      await this.forceFlush()
      await this.exporter.shutdown()
    })()
    return this.shutdownOnce
  }

  /**
   * The shutdown budget ran out: stop exporting, and report what is lost (the queue, and the spans of exports that
   * have not called back; those may still arrive).
   */
  abandon(): void {
    if (this.abandoned) return
    this.closed = true
    this.abandoned = true
    this.clearTimer()
    const queued = this.queue.length
    const exporting = this.exportingSpans
    this.queue = []
    this.settled += queued
    this.resolveWaiters(true)
    if (queued + exporting > 0) {
      this.reporter.shutdownLoss(
        "traces",
        `${queued + exporting} span${queued + exporting === 1 ? "" : "s"} not exported (${queued} still queued, ` +
          `${exporting} sent in exports the collector had not answered, which were cut)`
      )
    }
  }

  private pump(): void {
    const { maxConcurrentExports, maxExportBatchSize } = this.settings
    while (this.exports < maxConcurrentExports && this.queue.length > 0) {
      const taken = this.enqueued - this.queue.length
      if (this.queue.length < maxExportBatchSize && taken >= this.flushThrough) break
      this.exportBatch(this.queue.splice(0, maxExportBatchSize))
    }
    if (this.queue.length > 0) this.scheduleTimer()
    else this.clearTimer()
  }

  private exportBatch(spans: Array<ReadableSpan>): void {
    this.exports++
    this.exportingSpans += spans.length
    let holdsSlot = true
    let answered = false
    const freeSlot = () => {
      if (!holdsSlot) return
      holdsSlot = false
      this.exports--
      this.settled += spans.length
      this.resolveWaiters(false)
      if (!this.abandoned) this.pump()
    }
    const finish = (result: ExportResult) => {
      if (answered) return
      answered = true
      clearTimeout(guard)
      this.exportingSpans -= spans.length
      if (result.code !== ExportResultCode.SUCCESS && !this.abandoned) {
        this.reporter.exportFailed("traces", spans.length, result.error)
      }
      freeSlot()
    }
    // The exporter has its own timeout, retries included. This one only frees the slot of an export that has not
    // called back a second after it (a starved process answers late, and may still succeed): its spans count as
    // unanswered until it does, and are reported if it fails, or has not answered when the layer is released.
    const guard = setTimeout(freeSlot, this.settings.exportTimeoutMillis + 1000)
    guard.unref?.()
    const send = () =>
      // The exporter's own requests must not be traced (an instrumented HTTP client would trace them).
      context.with(suppressTracing(context.active()), () => {
        try {
          this.exporter.export(spans, finish)
        } catch (error) {
          finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) })
        }
      })
    const resource = spans[0].resource
    if (resource.asyncAttributesPending && resource.waitForAsyncAttributes) {
      resource.waitForAsyncAttributes().then(send, send)
    } else {
      send()
    }
  }

  private resolveWaiters(all: boolean): void {
    if (this.waiters.length === 0) return
    const waiting: typeof this.waiters = []
    for (const waiter of this.waiters) {
      if (all || this.settled >= waiter.through) waiter.resolve()
      else waiting.push(waiter)
    }
    this.waiters = waiting
  }

  private scheduleTimer(): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flushThrough = Math.max(this.flushThrough, this.enqueued)
      this.pump()
    }, this.settings.scheduledDelayMillis)
    this.timer.unref?.()
  }

  private clearTimer(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }
}

// --- the metric exporter ------------------------------------------------------------------------------------------

const dataPoints = (metrics: ResourceMetrics): number =>
  metrics.scopeMetrics.reduce(
    (sum, scope) => sum + scope.metrics.reduce((count, metric) => count + metric.dataPoints.length, 0),
    0
  )

/**
 * A metric exporter that reports its failed exports, and what is in flight when the layer is released. The
 * temporality and aggregation selectors are the wrapped exporter's.
 *
 * @internal
 */
export const reportingMetricExporter = (exporter: PushMetricExporter, reporter: Reporter): PushMetricExporter => {
  const inFlight = new Map<number, number>()
  let abandoned = false
  reporter.onFinal(() => {
    abandoned = true
    if (inFlight.size === 0) return
    const points = [...inFlight.values()].reduce((sum, count) => sum + count, 0)
    reporter.shutdownLoss(
      "metrics",
      `${inFlight.size === 1 ? "a metrics export" : `${inFlight.size} metrics exports`} the collector had not ` +
        `answered (${points} data point${points === 1 ? "" : "s"}) lost`
    )
  })
  let next = 0
  const wrapped: PushMetricExporter = {
    export(metrics, resultCallback) {
      const id = next++
      let done = false
      const points = dataPoints(metrics)
      inFlight.set(id, points)
      const finish = (result: ExportResult) => {
        if (done) return
        done = true
        inFlight.delete(id)
        if (result.code !== ExportResultCode.SUCCESS && !abandoned) {
          reporter.exportFailed("metrics", points, result.error)
        }
        resultCallback(result)
      }
      try {
        exporter.export(metrics, finish)
      } catch (error) {
        finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) })
      }
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown()
  }
  if (exporter.selectAggregationTemporality !== undefined) {
    wrapped.selectAggregationTemporality = exporter.selectAggregationTemporality.bind(exporter)
  }
  if (exporter.selectAggregation !== undefined) wrapped.selectAggregation = exporter.selectAggregation.bind(exporter)
  return wrapped
}

// --- the exporters' HTTP agents -----------------------------------------------------------------------------------

/** The error an export gets once the layer is gone: not retried (it has no network error code). */
class ExporterClosed extends Error {
  override readonly name = "ExporterClosed"
}

/**
 * HTTP agents for the OTLP exporters (their `httpAgentOptions`), closed when the layer's reporter is released: a
 * request that the shutdown budget did not wait for is cut, and no retry opens a new connection, so that a
 * collector that never answers cannot keep the process alive after the app is done. The modules are imported
 * when the first request is made, as the exporter's own factory does (an HTTP instrumentation patches them first).
 *
 * @internal
 */
export const agentFactory = (reporter: Reporter): (protocol: string) => Promise<Http.Agent> => {
  const agents: Array<Http.Agent> = []
  let closed = false
  const refuse = (agent: Http.Agent) => {
    ;(agent as unknown as { createConnection: unknown }).createConnection = (
      _options: unknown,
      callback: (error: Error) => void
    ) => {
      process.nextTick(() => callback(new ExporterClosed("the tracking layer was released")))
      return undefined
    }
  }
  reporter.onFinal(() => {
    closed = true
    for (const agent of agents) {
      refuse(agent)
      agent.destroy()
    }
  })
  return async (protocol) => {
    const module = protocol === "http:" ? await import("node:http") : await import("node:https")
    const agent = new module.Agent({ keepAlive: true })
    agents.push(agent)
    if (closed) refuse(agent)
    return agent
  }
}

// --- the tracer provider ------------------------------------------------------------------------------------------

/**
 * The span limits of the library's layers: room for the app's own attributes beside the library's (which stay under
 * the SDK's default of 128 on their own: see `maxUserAttributes`), and a value length limit as a backstop for the
 * values the library does not write itself (an exception the bridge records). A limit the app sets through the
 * OpenTelemetry environment variables wins.
 *
 * @internal
 */
export const spanLimits = (): SpanLimits => {
  const limits: { -readonly [K in keyof SpanLimits]: SpanLimits[K] } = {}
  const set = (
    key: "attributeCountLimit" | "attributeValueLengthLimit",
    names: ReadonlyArray<string>,
    value: number
  ) => {
    if (names.every((name) => getNumberFromEnv(name) === undefined)) limits[key] = value
  }
  set("attributeCountLimit", ["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT"], sdkAttributeCountLimit)
  set(
    "attributeValueLengthLimit",
    ["OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"],
    sdkAttributeValueLengthLimit
  )
  return limits
}

/**
 * The tracer provider for `layerSdk`, in place of @effect/opentelemetry's `NodeSdk.layerTracerProvider` (whose
 * release waits its own `shutdownTimeout`, however long the rest of the release took): the release flushes and shuts
 * the processors down within what is left of the shutdown budget. (An `ExportingSpanProcessor` that has not finished
 * by then is abandoned when its reporter is released: it stops exporting, and reports what it lost.)
 *
 * @internal
 */
export const layerTracerProvider = (
  processors: SpanProcessor | NonEmptyReadonlyArray<SpanProcessor>
): Layer.Layer<OtelTracer.OtelTracerProvider, never, Resource.Resource | ShutdownBudget> =>
  Layer.scoped(
    OtelTracer.OtelTracerProvider,
    Effect.gen(function*() {
      const resource = yield* Resource.Resource
      const budget = yield* ShutdownBudget
      const provider = new NodeTracerProvider({
        resource,
        spanLimits: spanLimits(),
        spanProcessors: Array.isArray(processors) ? [...processors] : [processors as SpanProcessor]
      })
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(budget.remaining, (remaining) => {
          const timeoutMillis = Math.max(1, Duration.toMillis(remaining))
          return Effect.promise(() =>
            provider.forceFlush({ timeoutMillis }).catch(() => undefined).then(() => provider.shutdown())
          ).pipe(
            Effect.ignoreLogged,
            Effect.interruptible,
            Effect.timeoutOption(remaining)
          )
        })
      )
      return provider
    })
  )

/** Span exports in flight at once: well below the OTLP exporter's limit of 30, which it refuses past. */
const maxConcurrentExports = 4

/** @internal */
export const spanProcessorSettings = (settings: ExportSettings): SpanProcessorSettings => ({
  maxQueueSize: settings.maxQueueSize,
  maxExportBatchSize: settings.maxExportBatchSize,
  scheduledDelayMillis: settings.scheduledDelayMillis,
  exportTimeoutMillis: settings.spanExportTimeoutMillis,
  maxConcurrentExports
})

/**
 * The production layer's export pipeline for one build: its settings (or the problem with them), the clamping
 * warnings logged, and a reporter whose release reports what is still pending.
 *
 * @internal
 */
export const make = (
  options: ExportOptions,
  endpoints: Endpoints
): Effect.Effect<
  { readonly settings: ExportSettings; readonly reporter: Reporter },
  ConfigProblem,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const { settings, warnings } = yield* resolveSettings(options)
    const problem = endpointProblem(endpoints)
    if (problem !== undefined) return yield* Effect.fail(problem)
    yield* Effect.forEach(warnings, (warning) => Effect.logWarning(warning), { discard: true })
    const reporter = yield* makeReporter({
      tracesUrl: endpoints.tracesUrl,
      metricsUrl: endpoints.metricsUrl,
      maxQueueSize: settings.maxQueueSize,
      spanExportTimeoutMillis: settings.spanExportTimeoutMillis,
      metricExportTimeoutMillis: settings.metricExportTimeoutMillis,
      spanReportIntervalMillis: spanReportIntervalMillis(settings),
      metricReportIntervalMillis: settings.metricExportIntervalMillis,
      shutdownTimeout: settings.shutdownTimeout
    })
    return { settings, reporter }
  })
