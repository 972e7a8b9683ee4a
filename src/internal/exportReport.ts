/**
 * What the production layer could not export, reported as warnings through Effect's logger (never thrown into the
 * app), each kind rate limited; and how an export failure is described.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"

/** @internal */
export type Signal = "traces" | "metrics"

/** An endpoint as it may be logged: no user info, query or fragment (they may carry credentials). */
export const displayUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
  } catch {
    return "<not a URL>"
  }
}

const seconds = (millis: number) => {
  const value = millis / 1000
  return `${Number.isInteger(value) ? value : value.toFixed(value < 1 ? 3 : 1).replace(/0+$/, "")} s`
}

/**
 * What kind of failure an export result carries, and how to say it. The OTLP exporters give up on a 4xx or 500 at
 * once (an `OTLPExporterError` with the HTTP status as `code`), and retry 429/502/503/504, refused connections and
 * timeouts until their timeout, then hand back the last error (a Node system error with its `code`, or a generic
 * one that has lost the status). Only the error's own message is used: never the request's headers, nor the
 * collector's response body.
 *
 * @internal
 */
export const describeFailure = (
  error: unknown,
  exportTimeoutMillis: number
): { readonly kind: string; readonly text: string } => {
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    readonly name?: unknown
    readonly code?: unknown
    readonly message?: unknown
  }
  const message = typeof fields.message === "string" ? fields.message : error === undefined ? "" : String(error)
  if (typeof fields.code === "number") {
    return { kind: `HTTP ${fields.code}`, text: `HTTP ${fields.code}${message.length > 0 ? ` ${message}` : ""}` }
  }
  if (typeof fields.code === "string" && fields.code.length > 0) {
    const known: Record<string, string> = {
      ECONNREFUSED: "connection refused",
      ECONNRESET: "connection reset",
      ENOTFOUND: "host not found",
      EAI_AGAIN: "host name lookup failed",
      ETIMEDOUT: "connection timed out",
      EHOSTUNREACH: "host unreachable",
      ENETUNREACH: "network unreachable"
    }
    return { kind: fields.code, text: `${fields.code}${known[fields.code] ? ` (${known[fields.code]})` : ""}` }
  }
  if (message === "Request timed out") {
    return { kind: "timeout", text: `no answer within the export timeout (${seconds(exportTimeoutMillis)})` }
  }
  if (message === "Export failed with retryable status") {
    return {
      kind: "retryable status",
      text: `HTTP 429, 502, 503 or 504 until the export timeout (${seconds(exportTimeoutMillis)}), retries included`
    }
  }
  if (message === "Concurrent export limit reached") {
    return { kind: "concurrency limit", text: "the exporter's limit of concurrent exports was reached" }
  }
  const name = typeof fields.name === "string" && fields.name.length > 0 ? fields.name : "Error"
  return { kind: name, text: message.length > 0 ? `${name}: ${message}` : name }
}

interface Throttle {
  occurrences: number
  lost: number
  lastReportedAt: number | undefined
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * Warnings through Effect's logger, from callbacks that are not Effect (the runtime was captured when the layer was
 * built, so the app's logger is the one used). Each kind of loss is rate limited: export failures are reported at
 * once the first time, queue overflows after one interval (so that one burst is one warning, with its count), and
 * after that at most once per interval, with what was lost since the last report. `final` reports whatever is
 * pending when the layer is released.
 *
 * @internal
 */
export interface Reporter {
  readonly spansDropped: (count: number, reason: "queue full" | "after shutdown") => void
  readonly exportFailed: (signal: Signal, lost: number, error: unknown) => void
  readonly shutdownLoss: (signal: Signal, text: string) => void
  /** Run when the layer is released, after the exports' own releases and before the last report. */
  readonly onFinal: (hook: () => void) => void
  readonly final: Effect.Effect<void>
}

/** @internal */
export interface ReporterSettings {
  readonly tracesUrl: string
  readonly metricsUrl: string
  readonly maxQueueSize: number
  readonly spanExportTimeoutMillis: number
  readonly metricExportTimeoutMillis: number
  /** How often a kind of span loss is reported at most. */
  readonly spanReportIntervalMillis: number
  /** How often a kind of metrics loss is reported at most. */
  readonly metricReportIntervalMillis: number
  readonly shutdownTimeout: Duration.Duration
}

/**
 * A reporter for one build of the layer; its scope's release reports what is still pending.
 *
 * @internal
 */
export const makeReporter = (settings: ReporterSettings): Effect.Effect<Reporter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const throttles = new Map<string, Throttle>()
    const renderers = new Map<string, (throttle: Throttle) => string>()
    const shutdownLosses: Array<string> = []
    const finalHooks: Array<() => void> = []
    let closed = false

    const endpoint = (signal: Signal) => displayUrl(signal === "traces" ? settings.tracesUrl : settings.metricsUrl)
    const log = (message: string) => Runtime.runFork(runtime)(Effect.logWarning(message))
    const intervalOf = (signal: Signal) =>
      signal === "traces" ? settings.spanReportIntervalMillis : settings.metricReportIntervalMillis

    const flush = (key: string) => {
      const throttle = throttles.get(key)
      if (throttle === undefined || throttle.occurrences === 0) return undefined
      const message = renderers.get(key)!(throttle)
      throttle.occurrences = 0
      throttle.lost = 0
      throttle.lastReportedAt = Date.now()
      return message
    }

    const note = (
      key: string,
      interval: number,
      lost: number,
      firstAtOnce: boolean,
      render: (throttle: Throttle, first: boolean) => string
    ) => {
      let throttle = throttles.get(key)
      if (throttle === undefined) {
        throttle = { occurrences: 0, lost: 0, lastReportedAt: undefined, timer: undefined }
        throttles.set(key, throttle)
        renderers.set(key, (pending) => render(pending, false))
        if (firstAtOnce || closed) {
          throttle.lastReportedAt = Date.now()
          log(render({ ...throttle, occurrences: 1, lost }, true))
          return
        }
      }
      throttle.occurrences += 1
      throttle.lost += lost
      if (closed) {
        const message = flush(key)
        if (message !== undefined) log(message)
        return
      }
      if (throttle.timer !== undefined) return
      const wait = Math.max(0, (throttle.lastReportedAt ?? Date.now()) + interval - Date.now())
      throttle.timer = setTimeout(() => {
        throttle.timer = undefined
        const message = flush(key)
        if (message !== undefined) log(message)
      }, wait)
      throttle.timer.unref?.()
    }

    const spans = (count: number) => `${count} span${count === 1 ? "" : "s"}`
    const metricExportsText = (count: number, points: number) =>
      `${count === 1 ? "a metrics export" : `${count} metrics exports`} (${points} data point${
        points === 1 ? "" : "s"
      })`

    const reporter: Reporter = {
      spansDropped: (count, reason) =>
        note(
          `spans dropped: ${reason}`,
          settings.spanReportIntervalMillis,
          count,
          false,
          (pending) =>
            reason === "queue full"
              ? `botanu: ${spans(pending.lost)} dropped, not exported: the export queue was full ` +
                `(maxQueueSize ${settings.maxQueueSize}); spans were made faster than ${
                  endpoint("traces")
                } took them. Raise maxQueueSize (OTEL_BSP_MAX_QUEUE_SIZE), or see the warnings about failed exports`
              : `botanu: ${spans(pending.lost)} ended after the layer began shutting down, not exported`
        ),
      exportFailed: (signal, lost, error) => {
        const timeout = signal === "traces" ? settings.spanExportTimeoutMillis : settings.metricExportTimeoutMillis
        const failure = describeFailure(error, timeout)
        const interval = intervalOf(signal)
        const what = (count: number, total: number) =>
          signal === "traces" ? `${spans(total)} lost` : `${metricExportsText(count, total)} lost`
        note(`${signal} export failed: ${failure.kind}`, interval, lost, true, (pending, first) =>
          first
            ? `botanu: ${signal} export to ${endpoint(signal)} failed (${failure.text}): ${what(1, pending.lost)}. ` +
              `The export is not retried further; this kind of failure is reported at most once every ${
                seconds(interval)
              } from now on`
            : `botanu: ${signal} export to ${endpoint(signal)} failed (${failure.text}) ${pending.occurrences} more ` +
              `time${pending.occurrences === 1 ? "" : "s"} since the last report: ${
                what(pending.occurrences, pending.lost)
              }`)
      },
      shutdownLoss: (signal, text) => {
        shutdownLosses.push(
          `botanu: the shutdown budget (shutdownTimeout ${
            seconds(Duration.toMillis(settings.shutdownTimeout))
          }) ran out before ${signal} reached ${endpoint(signal)}: ${text}`
        )
      },
      onFinal: (hook) => {
        finalHooks.push(hook)
      },
      final: Effect.suspend(() => {
        for (const hook of finalHooks.splice(0)) hook()
        closed = true
        const messages: Array<string> = []
        for (const [key, throttle] of throttles) {
          if (throttle.timer !== undefined) clearTimeout(throttle.timer)
          throttle.timer = undefined
          const message = flush(key)
          if (message !== undefined) messages.push(message)
        }
        messages.push(...shutdownLosses.splice(0))
        return Effect.forEach(messages, (message) => Effect.logWarning(message), { discard: true })
      })
    }
    yield* Effect.addFinalizer(() => reporter.final)
    return reporter
  })
