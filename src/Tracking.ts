/**
 * The tracking layers an application provides once, at its edge: OTLP export in production, a readable console
 * in development. (For tests, see `TrackingTest`.)
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type * as Resource from "@effect/opentelemetry/Resource"
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
      shutdownTimeout
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
}

/**
 * Tracking over span processors and metric readers of your choosing (your own exporters, a vendor's), with the
 * library's metric producer, which exports each metric with its OpenTelemetry unit.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSdk = (options: SdkOptions): Layer.Layer<Resource.Resource> => {
  const sdk = NodeSdk.layer(() => ({
    resource: options.resource,
    spanProcessor: options.spanProcessor(),
    ...(options.shutdownTimeout === undefined ? {} : { shutdownTimeout: options.shutdownTimeout })
  }))
  return options.metricReader === undefined
    ? sdk
    : MetricProducer.layer(options.metricReader, options.shutdownTimeout).pipe(Layer.provideMerge(sdk))
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DevelopmentOptions {
  readonly serviceName?: string | undefined
  /** Where each finished span's lines go; defaults to standard output. */
  readonly write?: ((text: string) => void) | undefined
}

/**
 * Development tracking: every finished span is printed readably, indented under its parent, as it ends.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDevelopment = (options: DevelopmentOptions = {}): Layer.Layer<Resource.Resource> =>
  layerSdk({
    resource: { serviceName: options.serviceName ?? "botanu-dev" },
    spanProcessor: () => new ConsoleSpanProcessor(options.write ?? ((text) => process.stdout.write(`${text}\n`)))
  })
