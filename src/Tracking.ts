/**
 * The tracking layers an application provides once, at its edge: OTLP export in production, a readable console
 * in development. (For tests, see `TrackingTest`.)
 *
 * @since 0.1.0
 */
import type * as Resource from "@effect/opentelemetry/Resource"
import type * as OtelApi from "@opentelemetry/api"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ConsoleSpanProcessor } from "./internal/consoleSpanProcessor.js"
import * as ExportPipeline from "./internal/exportPipeline.js"
import * as MetricProducer from "./internal/metricProducer.js"
import * as OtelGlobals from "./internal/otelGlobals.js"
import { RedactingSpanProcessor } from "./internal/redact.js"
import * as TrackingResource from "./internal/resource.js"
import * as Semconv from "./internal/semconv.js"
import * as Redaction from "./Redaction.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface OtlpOptions {
  /** Else `BOTANU_SERVICE_NAME`, else `OTEL_SERVICE_NAME`, else `"unknown_service"`. */
  readonly serviceName?: string | undefined
  readonly serviceVersion?: string | undefined
  /** `deployment.environment.name`; else `BOTANU_ENVIRONMENT`, else `DEPLOYMENT_ENVIRONMENT`. */
  readonly environment?: string | undefined
  /** The OTLP/HTTP base URL; else `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://localhost:4318`. */
  readonly endpoint?: string | undefined
  /** Merged over `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,key2=value2`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** How often metrics are exported; more than zero. Defaults to 60 seconds. */
  readonly metricExportInterval?: Duration.DurationInput | undefined
  /**
   * How long the layer's release may take in all: the last export of spans, the last export of metrics and the
   * exporters' shutdown share it (they run at once). Zero or more; defaults to 3 seconds.
   */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /**
   * The timeout of each export request, retries included; more than zero. For spans, else `OTEL_BSP_EXPORT_TIMEOUT`
   * (milliseconds); for metrics, at most `metricExportInterval`. Defaults to 10 seconds (the OTLP exporter's). A
   * request still unanswered when the shutdown budget runs out is cut then.
   */
  readonly exportTimeout?: Duration.DurationInput | undefined
  /**
   * How many finished spans may wait for export; past it, spans are dropped, counted and reported. Else
   * `OTEL_BSP_MAX_QUEUE_SIZE`, else 32,768 (a burst of 20,000 tracked calls; a queued span holds 1-3 KB).
   */
  readonly maxQueueSize?: number | undefined
  /** Spans per export request, at most `maxQueueSize`; else `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, else 512. */
  readonly maxExportBatchSize?: number | undefined
  /**
   * How long a span may wait for a batch to fill before it is exported anyway; else `OTEL_BSP_SCHEDULE_DELAY`
   * (milliseconds), else 5 seconds.
   */
  readonly scheduledDelay?: Duration.DurationInput | undefined
  /** See `SdkOptions.registerGlobals`. Defaults to `true`. */
  readonly registerGlobals?: boolean | undefined
  /** See `SdkOptions.usageCostAttribute`. Defaults to `false`. */
  readonly usageCostAttribute?: boolean | undefined
  /**
   * The temporality of the exported metrics (see `MetricTemporality`); else
   * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, else `"cumulative"`.
   */
  readonly metricTemporality?: MetricTemporality | undefined
}

/**
 * The OTLP exporter specification's temporality preferences (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`):
 * `"cumulative"`, every metric cumulative; `"delta"`, counters and histograms delta (each export carries what was
 * recorded since the previous one), up-down counters cumulative; `"lowmemory"`, synchronous counters and histograms
 * delta, the rest cumulative. The library's metrics are counters and histograms, so `"delta"` and `"lowmemory"`
 * export them the same way.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricTemporality = MetricProducer.Temporality

const optionalString = (name: string) => Config.option(Config.nonEmptyString(name))

const firstSome = <A>(...options: Array<Option.Option<A>>): Option.Option<A> =>
  options.find(Option.isSome) ?? Option.none()

/**
 * Parses `OTEL_EXPORTER_OTLP_HEADERS`: comma-separated `key=value` pairs, values URL-decoded; malformed pairs are
 * skipped.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseOtlpHeaders = (raw: string): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const pair of raw.split(",")) {
    const index = pair.indexOf("=")
    if (index <= 0) continue
    const key = pair.slice(0, index).trim()
    let value = pair.slice(index + 1).trim()
    try {
      value = decodeURIComponent(value)
    } catch {
      // keep the raw value: a header that is not URL-encoded is still a header
    }
    if (key.length > 0) headers[key] = value
  }
  return headers
}

const signalUrl = (base: string, path: string) => `${base.replace(/\/+$/, "")}${path}`

/**
 * The resolved configuration of the production layer, read from options and the environment (through Effect's
 * `ConfigProvider`, so tests can supply their own).
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolvedOtlpConfig {
  readonly serviceName: string
  readonly serviceVersion: string | undefined
  readonly environment: string | undefined
  readonly tracesUrl: string
  readonly metricsUrl: string
  readonly headers: Readonly<Record<string, string>>
  /**
   * `OTEL_RESOURCE_ATTRIBUTES`, parsed (percent-decoded; `{}` when absent or invalid): the resource's attributes
   * under the options' (`service.name`, `service.version`, `deployment.environment.name` win over these).
   */
  readonly resourceAttributes: Readonly<Record<string, string>>
  readonly metricTemporality: MetricTemporality
}

const temporalityPreference = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"

/** The option, else the environment's preference (an unknown value is a warning, as in the OTLP exporter). */
const resolveTemporality = (option: MetricTemporality | undefined): Effect.Effect<MetricTemporality> =>
  option !== undefined ? Effect.succeed(option) : Effect.flatMap(
    optionalString(temporalityPreference).pipe(Effect.orElseSucceed(() => Option.none<string>())),
    Option.match({
      onNone: () => Effect.succeed<MetricTemporality>("cumulative"),
      onSome: (raw) => {
        const parsed = MetricProducer.parseTemporality(raw)
        return parsed !== undefined ? Effect.succeed(parsed) : Effect.as(
          Effect.logWarning(
            `${temporalityPreference}=${raw} is not one of ${MetricProducer.temporalities.join(", ")}: ` +
              "metrics are exported cumulative"
          ),
          "cumulative" as const
        )
      }
    })
  )

/**
 * @since 0.1.0
 * @category constructors
 */
export const resolveOtlpConfig = (options: OtlpOptions = {}): Effect.Effect<ResolvedOtlpConfig> =>
  Effect.gen(function*() {
    const env = yield* Config.all({
      botanuService: optionalString("BOTANU_SERVICE_NAME"),
      otelService: optionalString("OTEL_SERVICE_NAME"),
      botanuEnvironment: optionalString("BOTANU_ENVIRONMENT"),
      deploymentEnvironment: optionalString("DEPLOYMENT_ENVIRONMENT"),
      endpoint: optionalString("OTEL_EXPORTER_OTLP_ENDPOINT"),
      tracesEndpoint: optionalString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
      metricsEndpoint: optionalString("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
      headers: optionalString("OTEL_EXPORTER_OTLP_HEADERS")
    }).pipe(Effect.orElseSucceed(() => undefined))
    const resourceAttributes = yield* TrackingResource.attributesFromEnv
    const metricTemporality = yield* resolveTemporality(options.metricTemporality)
    const none = Option.none<string>()
    const base = options.endpoint ?? Option.getOrElse(env?.endpoint ?? none, () => "http://localhost:4318")
    return {
      serviceName: options.serviceName ??
        Option.getOrElse(
          firstSome(env?.botanuService ?? none, env?.otelService ?? none),
          () => resourceAttributes["service.name"] ?? "unknown_service"
        ),
      serviceVersion: options.serviceVersion ?? resourceAttributes["service.version"],
      environment: options.environment ??
        Option.getOrElse(
          firstSome(env?.botanuEnvironment ?? none, env?.deploymentEnvironment ?? none),
          () => resourceAttributes["deployment.environment.name"]
        ),
      tracesUrl: options.endpoint !== undefined
        ? signalUrl(base, "/v1/traces")
        : Option.getOrElse(env?.tracesEndpoint ?? none, () => signalUrl(base, "/v1/traces")),
      metricsUrl: options.endpoint !== undefined
        ? signalUrl(base, "/v1/metrics")
        : Option.getOrElse(env?.metricsEndpoint ?? none, () => signalUrl(base, "/v1/metrics")),
      headers: {
        ...Option.match(env?.headers ?? none, { onNone: () => ({}), onSome: parseOtlpHeaders }),
        ...options.headers
      },
      resourceAttributes,
      metricTemporality
    }
  })

/**
 * Production tracking: the OpenTelemetry SDK exporting traces and metrics as OTLP over HTTP/protobuf, spans
 * batched in a queue that holds a burst, flushed on shutdown. An unreachable or failing collector never fails the
 * application: what could not be exported (spans dropped from a full queue, a failed export, what the shutdown
 * budget left) is reported as a warning through Effect's logger, each kind at most once per interval, and the
 * release waits at most `shutdownTimeout` in all. An option that cannot work fails the layer with
 * `InvalidTrackingConfig`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Tracking } from "@botanu/effect"
 *
 * const main = Effect.void // your app
 * main.pipe(Effect.provide(Tracking.layer({ serviceName: "support-bot" })), Effect.runPromise)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: OtlpOptions = {}): Layer.Layer<Resource.Resource, InvalidTrackingConfig> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const config = yield* resolveOtlpConfig(options)
    // Its scope is the layer's: its release, after the exports' own, reports whatever they lost.
    const { reporter, settings } = yield* ExportPipeline.make(options, {
      tracesUrl: config.tracesUrl,
      metricsUrl: config.metricsUrl,
      fromOption: options.endpoint !== undefined
    }).pipe(Effect.mapError((problem) => new InvalidTrackingConfig(problem)))
    return layerSdk({
      resource: {
        serviceName: config.serviceName,
        ...(config.serviceVersion === undefined ? {} : { serviceVersion: config.serviceVersion }),
        ...(config.environment === undefined
          ? {}
          : { attributes: { "deployment.environment.name": config.environment } })
      },
      spanProcessor: () =>
        new ExportPipeline.ExportingSpanProcessor(
          new OTLPTraceExporter({
            url: config.tracesUrl,
            headers: config.headers,
            timeoutMillis: settings.spanExportTimeoutMillis,
            httpAgentOptions: ExportPipeline.agentFactory(reporter)
          }),
          ExportPipeline.spanProcessorSettings(settings),
          reporter
        ),
      metricReader: () =>
        new PeriodicExportingMetricReader({
          exporter: ExportPipeline.reportingMetricExporter(
            new OTLPMetricExporter({
              url: config.metricsUrl,
              headers: config.headers,
              timeoutMillis: settings.metricExportTimeoutMillis,
              httpAgentOptions: ExportPipeline.agentFactory(reporter),
              // What the reader selects, and so what the library's producer produces (it computes the deltas).
              temporalityPreference: MetricProducer.exporterPreference[config.metricTemporality]
            }),
            reporter
          ),
          exportIntervalMillis: settings.metricExportIntervalMillis,
          exportTimeoutMillis: settings.metricExportTimeoutMillis
        }),
      shutdownTimeout: settings.shutdownTimeout,
      registerGlobals: options.registerGlobals,
      usageCostAttribute: options.usageCostAttribute
    })
  }))

/**
 * An option of `Tracking.layer` that cannot work, named in `option` (an interval or size that is not a number,
 * negative or zero, an endpoint that is not an http(s) URL, from the options or the `OTEL_EXPORTER_OTLP_*ENDPOINT`
 * variables). Values that can be made to work are clamped with a warning instead, and an unusable `OTEL_BSP_*`
 * variable is ignored with a warning, as the OpenTelemetry configuration specification asks.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidTrackingConfig extends Data.TaggedError("InvalidTrackingConfig")<{
  readonly option: string
  readonly message: string
}> {}

/**
 * @since 0.1.0
 * @category models
 */
export interface SdkOptions {
  /**
   * Merged over `OTEL_RESOURCE_ATTRIBUTES` (read through Effect's `ConfigProvider`) and the SDK's defaults
   * (`telemetry.sdk.*`, a random `service.instance.id` per build of the layer); `attributes` may set
   * `service.instance.id` itself. See the README's Layers section.
   */
  readonly resource: {
    readonly serviceName: string
    readonly serviceVersion?: string
    readonly attributes?: OtelApi.Attributes
  }
  /** Made anew each time the layer is built: a processor or exporter that was shut down never records again. */
  readonly spanProcessor: () => SpanProcessor | NonEmptyReadonlyArray<SpanProcessor>
  /** Made anew each time the layer is built: a reader can be bound to one producer only. */
  readonly metricReader?: (() => MetricReader | NonEmptyReadonlyArray<MetricReader>) | undefined
  /**
   * How long the layer's release may take in all: the span processors' flush and shutdown and the metric readers'
   * shutdown (their last export) run at once, each within what is left of it. Defaults to 3 seconds.
   */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /**
   * Register, for the layer's lifetime, what the OpenTelemetry NodeSDK registers when it starts: an
   * AsyncLocalStorage context manager (so that code which is not Effect, such as an SDK's own span or
   * `trace.getActiveSpan()`, sees the tracked span as its parent), this layer's tracer provider as the global one,
   * and the W3C trace-context and baggage propagators. Each is registered only when the app has not registered its
   * own, and unregistered when the layer is released. Defaults to `true`.
   */
  readonly registerGlobals?: boolean | undefined
  /**
   * Also write each priced LLM call's total cost in USD as `gen_ai.usage.cost` (the same number as
   * `botanu.cost.total_usd`), the key that Langfuse and OpenLIT read a call's cost from. It is not a
   * semantic-conventions name, hence off by default. See `UsageCostAttribute`.
   */
  readonly usageCostAttribute?: boolean | undefined
}

/**
 * Tracking over span processors and metric readers of your choosing (your own exporters, a vendor's), with the
 * library's metric producer, which exports each metric with its OpenTelemetry unit. Each processor is wrapped in
 * `Redaction.spanProcessor`, with the `Redaction.CurrentRedactor` the layer is built with.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSdk = (options: SdkOptions): Layer.Layer<Resource.Resource> => {
  // Each processor is wrapped so that what the bridge records on a failed span is redacted before it sees it, with
  // the redactor that the layer is built with (`Layer.provideMerge(Redaction.layer(...))`), else the built-in one.
  const tracing = Layer.unwrapEffect(Effect.map(Redaction.CurrentRedactor, (redactor) => {
    const processors = options.spanProcessor()
    const provider = ExportPipeline.layerTracerProvider(
      Array.isArray(processors)
        ? processors.map((processor) =>
          new RedactingSpanProcessor(processor, redactor)
        ) as unknown as NonEmptyReadonlyArray<SpanProcessor>
        : new RedactingSpanProcessor(processors as SpanProcessor, redactor)
    )
    const tracing = options.registerGlobals === false
      ? OtelGlobals.tracerLayerWithoutGlobals
      : Layer.merge(OtelGlobals.tracerLayer, OtelGlobals.layer)
    return tracing.pipe(Layer.provide(provider))
  }))
  const readers = options.metricReader
  // The span flush and the metrics' last export run at once, each within what is left of one shutdown budget.
  const metrics = readers === undefined
    ? Layer.empty
    : Layer.unwrapEffect(
      Effect.map(ExportPipeline.ShutdownBudget, (budget) => MetricProducer.layer(readers, budget.remaining))
    )
  const layer = Layer.merge(tracing, metrics).pipe(
    Layer.provide(ExportPipeline.layerShutdownBudget(options.shutdownTimeout)),
    Layer.provideMerge(TrackingResource.layer(options.resource))
  )
  // The reference has a default, so providing it adds nothing a caller must know about: the layer's type stays.
  return options.usageCostAttribute === true
    ? Layer.merge(layer, Layer.succeed(Semconv.UsageCostAttribute, true)) as Layer.Layer<Resource.Resource>
    : layer
}

/**
 * Whether tracked LLM spans also carry `gen_ai.usage.cost`, the call's total cost in USD (the same number as
 * `botanu.cost.total_usd`). Langfuse and OpenLIT read a call's cost from that key; it is not a semantic-conventions
 * name, so it is off (`false`) unless a layer turns it on: the `usageCostAttribute` option of `layer`, `layerSdk`
 * and `layerDevelopment`, `TrackingTest.layerWith`, or `layerUsageCostAttribute` with your own setup.
 *
 * @since 0.1.0
 * @category tags
 */
export const UsageCostAttribute: typeof Semconv.UsageCostAttribute = Semconv.UsageCostAttribute

/**
 * Turns `gen_ai.usage.cost` on (or off) for the effects it is provided to, for apps with their own OpenTelemetry
 * setup (see `UsageCostAttribute`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerUsageCostAttribute = (enabled: boolean = true): Layer.Layer<Semconv.UsageCostAttribute> =>
  Layer.succeed(Semconv.UsageCostAttribute, enabled)

/**
 * For an app that keeps its own `NodeSdk.layer` from @effect/opentelemetry (which registers no context manager):
 * registers an AsyncLocalStorage context manager for the layer's lifetime (unless the app registered one), so that
 * code which is not Effect sees the tracked span as its parent, and makes the app's tracer keep each fiber in the
 * OpenTelemetry context it started in (see the README). It wraps the tracer it finds when it is built, so build it
 * after the app's layer: `Tracking.layerContextManager.pipe(Layer.provideMerge(NodeSdkLive))`. `layer`,
 * `layerSdk` and `layerDevelopment` do all this themselves.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerContextManager: Layer.Layer<never> = OtelGlobals.layerContextManager

/**
 * @since 0.1.0
 * @category models
 */
export interface DevelopmentOptions {
  readonly serviceName?: string | undefined
  /** Receives each printed trace, one call per trace, without a trailing newline; defaults to standard output. */
  readonly write?: ((text: string) => void) | undefined
  /**
   * The width that attributes are wrapped to; defaults to the terminal's width when standard output is a terminal
   * and `write` is not given, else 80.
   */
  readonly columns?: number | undefined
  /**
   * ANSI colours; by default only when standard output is a terminal and `write` is not given. Never when the
   * `NO_COLOR` environment variable is set (non-empty), whatever this says.
   */
  readonly colors?: boolean | undefined
  /** See `SdkOptions.usageCostAttribute`. Defaults to `false`. */
  readonly usageCostAttribute?: boolean | undefined
  /**
   * Whether captured content (see `Content`: `gen_ai.input.messages`, `gen_ai.output.messages`,
   * `gen_ai.system_instructions`, `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`) is printed. Defaults to
   * `false`: the spans still carry it (for a processor or exporter of yours), the console leaves it out.
   */
  readonly content?: boolean | undefined
}

/**
 * Development tracking: each trace is printed as a tree when its root span ends (a span whose parent is not in
 * this process, or none): the root first, children in start order under tree guides, each span with its duration,
 * its status (`OK`, `ERROR` and the message, `INTERRUPTED`), its attributes sorted and wrapped to `columns`
 * (between `key=value` pairs; a pair longer than a line gets lines of its own, at most 4, the rest cut with `…`) and
 * its events. Captured content (see `Content`) is left out unless `content: true`.
 *
 * Spans wait for their root in memory, at most 10,000 in all: past that the oldest trace is printed as it is, with a
 * note, and so is whatever is held when the layer shuts down (a long-lived server span's children, say). A span
 * that ends after its root was printed (a forked fiber outliving it) is printed on its own, naming its parent.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Tracking } from "@botanu/effect"
 *
 * const main = Effect.void // your app
 * main.pipe(Effect.provide(Tracking.layerDevelopment({ serviceName: "support-bot" })), Effect.runPromise)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDevelopment = (options: DevelopmentOptions = {}): Layer.Layer<Resource.Resource> =>
  Layer.unwrapEffect(Effect.map(
    // https://no-color.org: set and not empty.
    Config.string("NO_COLOR").pipe(Config.withDefault(""), Effect.orElseSucceed(() => "")),
    (noColor) => {
      const terminal = options.write === undefined && process.stdout.isTTY === true
      const columns = options.columns
      return layerSdk({
        resource: { serviceName: options.serviceName ?? "botanu-dev" },
        spanProcessor: () =>
          new ConsoleSpanProcessor({
            write: options.write ?? ((text) => process.stdout.write(`${text}\n`)),
            columns: columns !== undefined
              ? () => columns
              : terminal
              ? () => process.stdout.columns ?? 80
              : () => 80,
            colors: noColor === "" && (options.colors ?? terminal),
            content: options.content === true
          }),
        usageCostAttribute: options.usageCostAttribute
      })
    }
  ))
