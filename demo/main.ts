/**
 * `npm run demo`: a small customer-support app tracked with @botanu/effect, against an embedded fake LLM provider.
 *
 * - Providers: the real `openai` and `@anthropic-ai/sdk` clients, pointed at a fake provider on 127.0.0.1 (see
 *   `fakeProvider.ts`); with `OPENAI_API_KEY` / `ANTHROPIC_API_KEY` set, the real provider instead (default base URLs).
 *   `maxRetries: 0` on both: retries and fallbacks are the app's, so that each attempt is tracked.
 * - Tracking: one compact line per span, each run's spans as a tree (`Tracking.layerDevelopment`); with
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` set, OTLP export there instead (`Tracking.layer`).
 * - Ends with a report of cost, tokens and calls per customer, workflow and model (see `report.ts`).
 */
import Anthropic from "@anthropic-ai/sdk"
import { Config, Effect, Layer, Logger, LogLevel, Option } from "effect"
import OpenAI from "openai"
import { Tracking } from "../src/index.js"
import { runDemo } from "./app.js"
import { fakeProvider } from "./fakeProvider.js"
import * as Report from "./report.js"

const say = (line: string) => process.stdout.write(`${line}\n`)

const truncate = (line: string, width: number) => (line.length > width ? `${line.slice(0, width - 1)}…` : line)

// The development layer prints each trace as a tree, every span with all its attributes; a span's first line (tree
// guides, name, duration, status) is enough to follow the demo, and the report has the numbers. Wide enough that
// those lines are not wrapped; only they are shown.
const spanLine = /^[│├└─ ]*▸ /
const TrackingLive = Layer.unwrapEffect(
  Effect.map(
    Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT")),
    (endpoint) =>
      Option.isSome(endpoint)
        ? Tracking.layer({ serviceName: "botanu-demo", shutdownTimeout: "2 seconds" })
        : Tracking.layerDevelopment({
          serviceName: "botanu-demo",
          columns: 10_000,
          write: (text) => {
            for (const line of text.split("\n")) if (spanLine.test(line)) say(`    ${truncate(line, 110)}`)
          }
        })
  )
)

const main = Effect.gen(function*() {
  const keys = yield* Config.all({
    openai: Config.option(Config.nonEmptyString("OPENAI_API_KEY")),
    anthropic: Config.option(Config.nonEmptyString("ANTHROPIC_API_KEY"))
  })
  const fake = Option.isSome(keys.openai) && Option.isSome(keys.anthropic) ? undefined : yield* fakeProvider()
  if (fake !== undefined) say(`Fake LLM provider listening on ${fake.url}`)
  const openai = Option.isSome(keys.openai)
    ? new OpenAI({ apiKey: keys.openai.value, maxRetries: 0 })
    : new OpenAI({ apiKey: "sk-demo", baseURL: `${fake!.url}/v1`, maxRetries: 0 })
  const anthropic = Option.isSome(keys.anthropic)
    ? new Anthropic({ apiKey: keys.anthropic.value, maxRetries: 0, openTelemetry: false })
    : new Anthropic({ apiKey: "sk-ant-demo", baseURL: fake!.url, maxRetries: 0, openTelemetry: false })
  const result = yield* runDemo({ openai, anthropic, progress: say })
  return result
})

const started = Date.now()
main.pipe(
  Effect.scoped,
  // Tracking is provided outside the fake server's scope so that every span has ended (and is flushed) first.
  Effect.provide(TrackingLive),
  // Each emitted outcome is also logged at Info (for apps exporting logs); the report lists them, so only warnings
  // (an unpriced model, say) are shown.
  Logger.withMinimumLogLevel(LogLevel.Warning),
  Effect.runPromise
).then((result) => {
  say(Report.format(result))
  say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`)
}, (error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
