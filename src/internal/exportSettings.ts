/**
 * The production layer's export options (`maxQueueSize`, `exportTimeout`, ... and the `OTEL_BSP_*` variables):
 * defaults, precedence, clamping, and the problems that fail the layer.
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/** What the options give, before defaults. */
export interface ExportOptions {
  readonly metricExportInterval?: Duration.DurationInput | undefined
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  readonly exportTimeout?: Duration.DurationInput | undefined
  readonly maxQueueSize?: number | undefined
  readonly maxExportBatchSize?: number | undefined
  readonly scheduledDelay?: Duration.DurationInput | undefined
}

/** @internal */
export interface ExportSettings {
  readonly maxQueueSize: number
  readonly maxExportBatchSize: number
  readonly scheduledDelayMillis: number
  readonly spanExportTimeoutMillis: number
  readonly metricExportIntervalMillis: number
  readonly metricExportTimeoutMillis: number
  readonly shutdownTimeout: Duration.Duration
}

/** An option that cannot work. */
export interface ConfigProblem {
  readonly option: string
  readonly message: string
}

/**
 * Holds a burst of 20,000 tracked calls (22,000 spans with their runs' spans) against a collector that is slow
 * to take them; a finished LLM span holds about 1.2 KB (measured), a few KB with long attributes: 40-100 MB when full.
 *
 * @internal
 */
export const defaultMaxQueueSize = 32_768
const defaultMaxExportBatchSize = 512
const defaultScheduledDelayMillis = 5_000
const defaultShutdownTimeoutMillis = 3_000
const defaultExportTimeoutMillis = 10_000
const defaultMetricExportIntervalMillis = 60_000
/** Node's timers take at most a signed 32-bit count of milliseconds; a longer one fires at once. */
const maxTimerMillis = 2_147_483_647

const describeInput = (input: unknown): string => {
  if (typeof input === "string") return JSON.stringify(input)
  if (typeof input === "bigint") return `${input}n`
  if (Duration.isDuration(input)) return Duration.format(input)
  try {
    return JSON.stringify(input) ?? String(input)
  } catch {
    return String(input)
  }
}

/** A duration option in milliseconds, or why it cannot work. `Duration.decode` turns NaN and negatives into zero. */
const durationMillis = (
  option: string,
  input: unknown,
  allowZero: boolean
): Either.Either<number, ConfigProblem> => {
  const problem = (why: string) =>
    Either.left({ option, message: `${option} ${describeInput(input)} ${why}` } satisfies ConfigProblem)
  if (typeof input === "number" && Number.isNaN(input)) return problem("is not a number")
  if (
    (typeof input === "number" && input < 0) || (typeof input === "bigint" && input < BigInt(0)) ||
    (typeof input === "string" && input.trim().startsWith("-"))
  ) {
    return problem("is negative")
  }
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) {
    return problem(`is not a duration (a number of milliseconds, or a string such as "5 seconds")`)
  }
  const millis = Duration.toMillis(decoded.value)
  if (Number.isNaN(millis)) return problem("is not a number")
  if (millis === 0 && !allowZero) return problem("must be more than zero")
  return Either.right(millis)
}

const positiveInteger = (option: string, input: unknown): Either.Either<number, ConfigProblem> => {
  if (typeof input !== "number" || Number.isNaN(input) || input < 1 || input === Infinity) {
    return Either.left({
      option,
      message: `${option} ${describeInput(input)} is not a positive number (at least 1)`
    })
  }
  return Either.right(input)
}

/** The `OTEL_BSP_*` variables, read through Effect's `ConfigProvider` as `resolveOtlpConfig` reads the others. */
const bspVariables = {
  maxQueueSize: "OTEL_BSP_MAX_QUEUE_SIZE",
  maxExportBatchSize: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
  scheduledDelay: "OTEL_BSP_SCHEDULE_DELAY",
  exportTimeout: "OTEL_BSP_EXPORT_TIMEOUT"
} as const

/**
 * The export settings from the options, else the `OTEL_BSP_*` variables, else the defaults. An option that cannot
 * work (not a number, negative, a zero interval or size) is a problem; a variable that cannot work is ignored with
 * a warning, as the OpenTelemetry configuration spec asks; a value that can be made to work is clamped, with a
 * warning when it was given (a default adjusted to another option is not worth one).
 *
 * @internal
 */
export const resolveSettings = (
  options: ExportOptions
): Effect.Effect<{ readonly settings: ExportSettings; readonly warnings: ReadonlyArray<string> }, ConfigProblem> =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const env = yield* Config.all({
      maxQueueSize: Config.option(Config.nonEmptyString(bspVariables.maxQueueSize)),
      maxExportBatchSize: Config.option(Config.nonEmptyString(bspVariables.maxExportBatchSize)),
      scheduledDelay: Config.option(Config.nonEmptyString(bspVariables.scheduledDelay)),
      exportTimeout: Config.option(Config.nonEmptyString(bspVariables.exportTimeout))
    }).pipe(Effect.orElseSucceed(() => undefined))

    /** An `OTEL_BSP_*` number: milliseconds, or a count; `undefined` when unset or unusable (with a warning). */
    const fromEnv = (key: keyof typeof bspVariables, least: number): number | undefined => {
      const raw = env === undefined ? undefined : Option.getOrUndefined(env[key])
      if (raw === undefined) return undefined
      const value = Number(raw.trim())
      if (!Number.isFinite(value) || value < least) {
        warnings.push(
          `botanu: ${bspVariables[key]}=${JSON.stringify(raw)} ignored: expected a number of at least ${least}`
        )
        return undefined
      }
      return value
    }
    const clampTimer = (option: string, millis: number, given: boolean): number => {
      if (millis <= maxTimerMillis) return millis
      if (given) warnings.push(`botanu: ${option} clamped to ${maxTimerMillis} ms, the longest timer Node.js keeps`)
      return maxTimerMillis
    }
    const wholeCount = (option: string, value: number): number => {
      if (Number.isInteger(value)) return value
      warnings.push(`botanu: ${option} ${value} rounded down to ${Math.floor(value)}`)
      return Math.floor(value)
    }

    const shutdownMillis = clampTimer(
      "shutdownTimeout",
      options.shutdownTimeout === undefined
        ? defaultShutdownTimeoutMillis
        : yield* durationMillis("shutdownTimeout", options.shutdownTimeout, true),
      true
    )
    const intervalMillis = clampTimer(
      "metricExportInterval",
      options.metricExportInterval === undefined
        ? defaultMetricExportIntervalMillis
        : yield* durationMillis("metricExportInterval", options.metricExportInterval, false),
      true
    )
    const exportTimeoutOption = options.exportTimeout === undefined
      ? undefined
      : clampTimer("exportTimeout", yield* durationMillis("exportTimeout", options.exportTimeout, false), true)
    // The OTLP exporter's default. A request still unanswered when the shutdown budget runs out is cut then (see
    // `agentFactory`), so a long timeout does not keep the process alive after the app is done.
    const derivedTimeout = defaultExportTimeoutMillis

    const envQueue = fromEnv("maxQueueSize", 1)
    let maxQueueSize = options.maxQueueSize !== undefined
      ? wholeCount("maxQueueSize", yield* positiveInteger("maxQueueSize", options.maxQueueSize))
      : envQueue !== undefined
      ? wholeCount(bspVariables.maxQueueSize, envQueue)
      : defaultMaxQueueSize
    maxQueueSize = Math.max(1, maxQueueSize)
    const envBatch = fromEnv("maxExportBatchSize", 1)
    let maxExportBatchSize = options.maxExportBatchSize !== undefined
      ? wholeCount("maxExportBatchSize", yield* positiveInteger("maxExportBatchSize", options.maxExportBatchSize))
      : envBatch !== undefined
      ? wholeCount(bspVariables.maxExportBatchSize, envBatch)
      : undefined
    if (maxExportBatchSize === undefined) {
      maxExportBatchSize = Math.min(defaultMaxExportBatchSize, maxQueueSize)
    } else if (maxExportBatchSize > maxQueueSize) {
      warnings.push(`botanu: maxExportBatchSize ${maxExportBatchSize} clamped to maxQueueSize ${maxQueueSize}`)
      maxExportBatchSize = maxQueueSize
    }
    const envDelay = fromEnv("scheduledDelay", 0)
    const scheduledDelayMillis = options.scheduledDelay !== undefined
      ? clampTimer("scheduledDelay", yield* durationMillis("scheduledDelay", options.scheduledDelay, true), true)
      : envDelay !== undefined
      ? clampTimer(bspVariables.scheduledDelay, envDelay, true)
      : defaultScheduledDelayMillis
    const envExportTimeout = fromEnv("exportTimeout", 1)
    const spanExportTimeoutMillis = exportTimeoutOption ??
      (envExportTimeout !== undefined
        ? clampTimer(bspVariables.exportTimeout, envExportTimeout, true)
        : derivedTimeout)

    let metricExportTimeoutMillis = exportTimeoutOption ?? derivedTimeout
    if (metricExportTimeoutMillis > intervalMillis) {
      // The SDK's reader refuses a timeout longer than its interval: an export would still run when the next began.
      if (exportTimeoutOption !== undefined) {
        warnings.push(
          `botanu: the metrics export timeout (exportTimeout ${exportTimeoutOption} ms) clamped to ` +
            `metricExportInterval ${intervalMillis} ms`
        )
      }
      metricExportTimeoutMillis = intervalMillis
    }

    return {
      settings: {
        maxQueueSize,
        maxExportBatchSize,
        scheduledDelayMillis,
        spanExportTimeoutMillis,
        metricExportIntervalMillis: intervalMillis,
        metricExportTimeoutMillis,
        shutdownTimeout: Duration.millis(shutdownMillis)
      },
      warnings
    }
  })

/**
 * `undefined` when the URL is one the OTLP/HTTP exporter can send to, else why not.
 *
 * @internal
 */
export const invalidUrl = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return "is not a URL"
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:"
    ? undefined
    : `has the scheme ${parsed.protocol.replace(/:$/, "")}; OTLP/HTTP needs http or https`
}

/** The spans' report interval: the scheduled delay, at least a second (a tiny delay would flood the log). */
export const spanReportIntervalMillis = (settings: ExportSettings): number =>
  Math.max(1000, settings.scheduledDelayMillis)

/** An endpoint that failed to parse, as it may be shown: user info and query elided. */
const shownUrl = (url: string) => JSON.stringify(url.replace(/\/\/[^/@]*@/, "//…@").replace(/\?.*$/, "?…"))

/** @internal */
export interface Endpoints {
  readonly tracesUrl: string
  readonly metricsUrl: string
  /** Whether the URLs came from the `endpoint` option, rather than the environment. */
  readonly fromOption: boolean
}

/**
 * Why the endpoints cannot be sent to, naming the option or variable they came from; `undefined` when they can.
 *
 * @internal
 */
export const endpointProblem = (endpoints: Endpoints): ConfigProblem | undefined => {
  const urls = [
    ["traces", endpoints.tracesUrl, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
    ["metrics", endpoints.metricsUrl, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]
  ] as const
  for (const [signal, url, variable] of urls) {
    const why = invalidUrl(url)
    if (why === undefined) continue
    const option = endpoints.fromOption ? "endpoint" : `${variable} (or OTEL_EXPORTER_OTLP_ENDPOINT)`
    const hint = /^[a-z0-9.-]+:\d+/i.test(url) ? ` (write it as http://${url})` : ""
    return { option, message: `${option}: the ${signal} endpoint ${shownUrl(url)} ${why}${hint}` }
  }
  return undefined
}
