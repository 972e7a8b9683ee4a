/**
 * A burst against real backends: 20,000 tracked LLM calls (in 2,000 workflow runs, 200 at a time) under the
 * production layer's default queue, traces into the test's OTLP receiver, metrics into VictoriaMetrics. Every span
 * made arrives, once, and the backend's totals equal the process's own. Skipped without the backends, as
 * Backends.test.ts is (`npm run test:e2e` starts them and requires them).
 */
import { assert, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import type * as MetricPair from "effect/MetricPair"
import { LlmTracker, trackLlmCall, Workflow } from "../../src/index.js"
import * as OtlpReceiver from "../utils/otlpReceiver.js"
import * as Harness from "./harness.js"
import { describeWithBackends } from "./suites.js"

const backends = await Harness.findBackends()

const runs = 2_000
const callsPerRun = 10
const models = ["gpt-4o-mini", "gpt-4o"] as const

const call = (i: number) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens: 100 + (i % 7), outputTokens: 20 + (i % 5) })
    return i
  }).pipe(trackLlmCall({ provider: "openai", model: models[i % models.length] }))

const burst = Effect.forEach(
  Array.from({ length: runs }, (_, run) => run),
  (run) =>
    Effect.forEach(
      Array.from({ length: callsPerRun }, (_, i) => run * callsPerRun + i),
      call,
      { concurrency: "unbounded", discard: true }
    ).pipe(Workflow.botanuWorkflow("burst", { eventId: `burst-${run}`, customerId: `customer-${run % 3}` })),
  { concurrency: 200, discard: true }
)

/** The sum of a counter's values, or of a histogram's sums, over the series of `name` (tags filtered by `where`). */
const total = (
  metrics: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  name: string,
  where: (tags: Record<string, string>) => boolean = () => true
): number =>
  metrics
    .filter((pair) => pair.metricKey.name === name)
    .filter((pair) => where(Object.fromEntries(pair.metricKey.tags.map((tag) => [tag.key, tag.value]))))
    .reduce((sum, pair) => {
      const state = pair.metricState as { readonly count?: number; readonly sum?: number }
      return sum + (typeof state.sum === "number" ? state.sum : state.count ?? 0)
    }, 0)

const title = "Tracking.layer under a burst of 20,000 calls, against VictoriaMetrics and an OTLP trace receiver"

describeWithBackends(title, backends, (victoriaMetrics) => {
  it.live("every span made arrives once, and the backend's totals equal the process's", () =>
    Effect.gen(function*() {
      assert.strictEqual(Harness.attemptsRecorded(), 0, "LLM calls were recorded in this process before the burst")
      const vm = Harness.victoriaMetrics(victoriaMetrics)
      const receiver = yield* OtlpReceiver.make()
      const warnings: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
      })
      const run = yield* Harness.runTracked(burst, {
        tracesUrl: receiver.tracesUrl,
        metricsUrl: vm.otlpMetricsUrl,
        costByCustomerMax: 0,
        // The queue and batch sizes are the defaults. Long timeouts: the test machine also runs the receiver and
        // VictoriaMetrics, and a loaded one answers late; slow is not what this test is about.
        layer: { metricExportInterval: "60 seconds", exportTimeout: "60 seconds", shutdownTimeout: "60 seconds" }
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      yield* vm.forceFlush
      const received = yield* receiver.spans
      console.info(
        `e2e burst: ${runs * callsPerRun} calls in ${run.runMillis} ms, layer released in ${run.shutdownMillis} ms; ` +
          `${received.length} of ${run.spans.length} spans received`
      )

      assert.strictEqual(run.spans.length, runs * (callsPerRun + 1))
      assert.strictEqual(received.length, run.spans.length, "spans received vs made")
      const made = new Set(run.spans.map((span) => span.spanContext().spanId))
      const arrived = new Set(received.map((span) => span.spanId))
      assert.strictEqual(arrived.size, received.length, "each span once")
      for (const id of made) assert.isTrue(arrived.has(id), `span ${id} arrived`)
      assert.deepStrictEqual(warnings, [], "nothing lost, nothing reported")

      const selector = `service_name="${run.serviceName}"`
      const [attempts] = yield* vm.query(`sum(botanu_gen_ai_attempts_total{${selector}})`)
      assert.strictEqual(attempts.value, runs * callsPerRun)
      assert.strictEqual(total(run.metrics, "botanu.gen_ai.attempts"), runs * callsPerRun)
      for (const type of ["input", "output"]) {
        const [tokens] = yield* vm.query(
          `sum(gen_ai_client_token_usage_sum{${selector}, gen_ai_token_type="${type}"})`
        )
        const inProcess = total(
          run.metrics,
          "gen_ai.client.token.usage",
          (tags) => tags["gen_ai.token.type"] === type
        )
        assert.isAbove(inProcess, 0)
        assert.strictEqual(tokens.value, inProcess, `${type} tokens`)
      }
      const [cost] = yield* vm.query(`sum(botanu_gen_ai_cost_USD_total{${selector}})`)
      const inProcessCost = total(run.metrics, "botanu.gen_ai.cost")
      assert.isAbove(inProcessCost, 0)
      assert.isAtMost(Math.abs(cost.value - inProcessCost), 1e-9 * inProcessCost, `cost ${cost.value}`)
    }).pipe(Effect.scoped), 300_000)
})
