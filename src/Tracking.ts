/**
 * The tracking layers an application provides once, at its edge: OTLP export in production, a readable console
 * in development. (For tests, see `TrackingTest`.)
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Resource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import type * as OtelApi from "@opentelemetry/api"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ConsoleSpanProcessor } from "./internal/consoleSpanProcessor.js"
import * as MetricProducer from "./internal/metricProducer.js"
import * as OtelGlobals from "./internal/otelGlobals.js"
import * as Semconv from "./internal/semconv.js"

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
  /** Defaults to 60 seconds. */
  readonly metricExportInterval?: Duration.DurationInput | undefined
  /**
   * How long shutdown may wait for the last export of spans, and then of metrics; also the timeout of each export
   * request. Defaults to 3 seconds.
   */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /** See `SdkOptions.registerGlobals`. Defaults to `true`. */
  readonly registerGlobals?: boolean | undefined
  /** See `SdkOptions.usageCostAttribute`. Defaults to `false`. */
  readonly usageCostAttribute?: boolean | undefined
}

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
}

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
    const none = Option.none<string>()
    const base = options.endpoint ?? Option.getOrElse(env?.endpoint ?? none, () => "http://localhost:4318")
    return {
      serviceName: options.serviceName ??
        Option.getOrElse(firstSome(env?.botanuService ?? none, env?.otelService ?? none), () => "unknown_service"),
      serviceVersion: options.serviceVersion,
      environment: options.environment ??
        Option.getOrUndefined(firstSome(env?.botanuEnvironment ?? none, env?.deploymentEnvironment ?? none)),
      tracesUrl: options.endpoint !== undefined
        ? signalUrl(base, "/v1/traces")
        : Option.getOrElse(env?.tracesEndpoint ?? none, () => signalUrl(base, "/v1/traces")),
      metricsUrl: options.endpoint !== undefined
        ? signalUrl(base, "/v1/metrics")
        : Option.getOrElse(env?.metricsEndpoint ?? none, () => signalUrl(base, "/v1/metrics")),
      headers: {
        ...Option.match(env?.headers ?? none, { onNone: () => ({}), onSome: parseOtlpHeaders }),
        ...options.headers
      }
    }
  })

/**
 * Production tracking: the OpenTelemetry SDK exporting traces and metrics as OTLP over HTTP/protobuf, spans
 * through a batch processor, flushed on shutdown. An unreachable collector never fails the application: exports
 * fail quietly and shutdown waits at most `shutdownTimeout`.
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
export const layer = (options: OtlpOptions = {}): Layer.Layer<Resource.Resource> => {
  const shutdownTimeout = options.shutdownTimeout ?? Duration.seconds(3)
  // An exporter whose request outlives the shutdown would keep the process alive after the app is done.
  const timeoutMillis = Duration.toMillis(shutdownTimeout)
  return Layer.unwrapEffect(Effect.map(resolveOtlpConfig(options), (config) =>
    layerSdk({
      resource: {
        serviceName: config.serviceName,
        ...(config.serviceVersion === undefined ? {} : { serviceVersion: config.serviceVersion }),
        ...(config.environment === undefined
          ? {}
          : { attributes: { "deployment.environment.name": config.environment } })
      },
      spanProcessor: () =>
        new BatchSpanProcessor(
          new OTLPTraceExporter({ url: config.tracesUrl, headers: config.headers, timeoutMillis })
        ),
      metricReader: () =>
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: config.metricsUrl, headers: config.headers, timeoutMillis }),
          exportIntervalMillis: Duration.toMillis(options.metricExportInterval ?? Duration.seconds(60)),
          exportTimeoutMillis: timeoutMillis
        }),
      shutdownTimeout,
      registerGlobals: options.registerGlobals,
      usageCostAttribute: options.usageCostAttribute
    })))
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SdkOptions {
  readonly resource: {
    readonly serviceName: string
    readonly serviceVersion?: string
    readonly attributes?: OtelApi.Attributes
  }
  /** Made anew each time the layer is built: a processor or exporter that was shut down never records again. */
  readonly spanProcessor: () => SpanProcessor | NonEmptyReadonlyArray<SpanProcessor>
  /** Made anew each time the layer is built: a reader can be bound to one producer only. */
  readonly metricReader?: (() => MetricReader | NonEmptyReadonlyArray<MetricReader>) | undefined
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
 * library's metric producer, which exports each metric with its OpenTelemetry unit.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSdk = (options: SdkOptions): Layer.Layer<Resource.Resource> => {
  const tracing = Layer.unwrapEffect(Effect.sync(() => {
    const provider = NodeSdk.layerTracerProvider(
      options.spanProcessor(),
      options.shutdownTimeout === undefined ? undefined : { shutdownTimeout: options.shutdownTimeout }
    )
    const tracing = options.registerGlobals === false
      ? OtelTracer.layer
      : Layer.merge(OtelGlobals.tracerLayer, OtelGlobals.layer)
    return tracing.pipe(Layer.provide(provider))
  }))
  const metrics = options.metricReader === undefined
    ? Layer.empty
    : MetricProducer.layer(options.metricReader, options.shutdownTimeout)
  const layer = Layer.merge(tracing, metrics).pipe(
    Layer.provideMerge(Resource.layerFromEnv(Resource.configToAttributes(options.resource)))
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
}

/**
 * Development tracking: each trace is printed as a tree when its root span ends (a span whose parent is not in
 * this process, or none): the root first, children in start order under tree guides, each span with its duration,
 * its status (`OK`, `ERROR` and the message, `INTERRUPTED`), its attributes sorted and wrapped to `columns`
 * (between `key=value` pairs; a pair longer than a line gets lines of its own, at most 4, the rest cut with `…`) and
 * its events.
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
            colors: noColor === "" && (options.colors ?? terminal)
          }),
        usageCostAttribute: options.usageCostAttribute
      })
    }
  ))
