/**
 * Exporting to a collector: `Tracking.layer` sends spans and metrics as OTLP over HTTP/protobuf to an OpenTelemetry
 * collector (or any backend that accepts OTLP: Honeycomb, Grafana, Datadog's agent...). `endpoint` is the base URL;
 * `/v1/traces` and `/v1/metrics` are appended. Without the option it reads `OTEL_EXPORTER_OTLP_ENDPOINT`, else
 * `http://localhost:4318`. Spans are batched and flushed when the layer shuts down, so a short program loses
 * nothing; an unreachable collector never fails the app.
 *
 * Run it: `npx tsx examples/exporting-to-a-collector.ts [http://127.0.0.1:4318]`
 */
import { Effect } from "effect"
import { pathToFileURL } from "node:url"
import { LlmTracker, Tracking, trackLlmCall } from "../src/index.js"

/** The production layer, pointed at a collector. */
export const TrackingLive = (endpoint: string) =>
  Tracking.layer({
    serviceName: "support-bot",
    serviceVersion: "1.4.0",
    environment: "staging",
    endpoint,
    // How long shutdown may wait for the last export.
    shutdownTimeout: "2 seconds"
  })

export const askCapital = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  yield* tracker.setTokens({ inputTokens: 1000, outputTokens: 12, cachedTokens: 800 })
  yield* tracker.setResponseModel("gpt-4o-mini-2024-07-18")
  return "Paris."
}).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

/** The call, exported to `endpoint` when the program ends. */
export const program = (endpoint: string) => askCapital.pipe(Effect.provide(TrackingLive(endpoint)))

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const endpoint = process.argv[2] ?? "http://localhost:4318"
  program(endpoint).pipe(
    Effect.tap((answer) => Effect.log(`answer: ${answer}; span exported to ${endpoint}/v1/traces`)),
    Effect.runPromise
  )
}
