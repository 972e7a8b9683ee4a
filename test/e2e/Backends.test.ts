/**
 * End to end against real backends: the demo's app under the production layer (`Tracking.layer`), metrics over
 * OTLP/HTTP protobuf into VictoriaMetrics and read back with PromQL, traces into an OTLP receiver that decodes them
 * with the official .proto files. `npm run test:e2e` installs and starts the backends, runs this with
 * `BOTANU_E2E_REQUIRED=1` and stops them; under a plain `npm test` without them it is skipped, and says so.
 *
 * VictoriaMetrics runs with `-opentelemetry.usePrometheusNaming` (scripts/otel-backends.sh), so an OTLP metric is
 * stored under its Prometheus name: dots to underscores, the unit appended (`s` → `_seconds`, `USD` kept, units in
 * braces such as `{token}` dropped), `_total` for monotonic sums, `_bucket` / `_sum` / `_count` for histograms;
 * resource and point attributes become labels the same way (`service.name` → `service_name`). Without the flag it
 * keeps the OTLP names (`botanu.gen_ai.cost`, `gen_ai.client.token.usage_sum`) and dotted labels.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"
import type * as MetricPair from "effect/MetricPair"
import type { DemoResult } from "../../demo/app.js"
import * as Report from "../../demo/report.js"
import * as OtlpReceiver from "../utils/otlpReceiver.js"
import * as Harness from "./harness.js"

const backends = await Harness.findBackends()
const required = process.env.BOTANU_E2E_REQUIRED === "1"

/** The Prometheus names VictoriaMetrics gives the library's metrics (see the header). */
const names = {
  cost: "botanu_gen_ai_cost_USD_total",
  attempts: "botanu_gen_ai_attempts_total",
  tokenUsage: "gen_ai_client_token_usage",
  duration: "gen_ai_client_operation_duration_seconds",
  toolDuration: "botanu_tool_duration_seconds",
  toolExecutions: "botanu_tool_executions_total",
  budgetSpend: "botanu_budget_spend_USD_total",
  budgetRefusals: "botanu_budget_refusals_total"
} as const

// --- helpers ------------------------------------------------------------------------------------------------------

/** Equal within `relative` of the expected value (the cost metric is a double sum). */
const assertClose = (actual: number, expected: number, message: string, relative = 1e-9) =>
  assert.isAtMost(Math.abs(actual - expected), relative * Math.abs(expected), `${message}: ${actual} vs ${expected}`)

const isLlm = (span: ReadableSpan) => span.attributes["gen_ai.operation.name"] === "chat"

/** PromQL's `histogram_quantile` over cumulative buckets `[le, count]`, as Prometheus defines it. */
const histogramQuantile = (q: number, buckets: ReadonlyArray<readonly [number, number]>): number => {
  const sorted = [...buckets].sort(([a], [b]) => a - b)
  const total = sorted[sorted.length - 1][1]
  if (total === 0) return NaN
  const rank = q * total
  const index = sorted.findIndex(([, count]) => count >= rank)
  const [upper, count] = sorted[index]
  if (upper === Infinity) return sorted[index - 1][0]
  const [lower, below] = index === 0 ? [0, 0] : sorted[index - 1]
  return lower + (upper - lower) * (rank - below) / (count - below)
}

/** The cumulative buckets of one Effect histogram, summed over the series whose tag `by` has each value. */
const effectHistogramBy = (
  metrics: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  name: string,
  by: string
): Map<string, Array<[number, number]>> => {
  const groups = new Map<string, Array<[number, number]>>()
  for (const pair of metrics) {
    if (pair.metricKey.name !== name) continue
    const state = pair.metricState as { readonly buckets?: ReadonlyArray<readonly [number, number]> }
    if (state.buckets === undefined) continue
    const key = pair.metricKey.tags.find((tag) => tag.key === by)?.value ?? ""
    const sum = groups.get(key) ?? state.buckets.map(([le]): [number, number] => [le, 0])
    state.buckets.forEach(([, count], i) => (sum[i][1] += count))
    groups.set(key, sum)
  }
  return groups
}

const byLabels = (samples: ReadonlyArray<Harness.Sample>, ...labels: ReadonlyArray<string>) =>
  new Map(samples.map((sample) => [labels.map((label) => sample.labels[label] ?? "").join("/"), sample.value]))

// --- the run every check reads ------------------------------------------------------------------------------------

interface DemoRun {
  readonly run: Harness.Run<DemoResult>
  readonly report: Report.Report
  readonly received: ReadonlyArray<OtlpReceiver.ReceivedSpan>
  readonly vm: Harness.VictoriaMetrics
  /** Selects this run's series. */
  readonly selector: string
}

/**
 * Runs the demo once (the first check to ask pays for it; the others read the same run): the receiver is closed
 * again as soon as the layer has been released and VictoriaMetrics flushed, since the final export is then done.
 */
const demoRun = (victoriaMetrics: string): Effect.Effect<DemoRun> =>
  Effect.gen(function*() {
    const vm = Harness.victoriaMetrics(victoriaMetrics)
    // VictoriaMetrics gets this process's totals since it started: they must be the demo's alone.
    assert.strictEqual(Harness.attemptsRecorded(), 0, "LLM calls were recorded in this process before the demo ran")
    const receiver = yield* OtlpReceiver.make()
    const run = yield* Harness.runTracked(Harness.demoProgram, {
      tracesUrl: receiver.tracesUrl,
      metricsUrl: vm.otlpMetricsUrl
    })
    // The layer's release made the final export; this makes VictoriaMetrics' copy of it queryable.
    yield* vm.forceFlush
    const received = yield* receiver.spans
    console.info(
      `e2e: the demo ran in ${run.runMillis} ms, the layer was released in ${run.shutdownMillis} ms; ` +
        `${received.length} of ${run.spans.length} spans received`
    )
    return {
      run,
      report: Report.summarize(run.value),
      received,
      vm,
      selector: `service_name="${run.serviceName}"`
    }
  }).pipe(Effect.scoped)

// --- the checks ---------------------------------------------------------------------------------------------------

const checks = (demo: Effect.Effect<DemoRun>) => {
  it.live("every span the demo made arrives once, with its parent, kind, status, name and attributes", () =>
    Effect.gen(function*() {
      const { received, report, run } = yield* demo
      const result = run.value
      assert.isAbove(run.spans.length, 20)
      assert.strictEqual(received.length, run.spans.length, "spans received vs made")
      const byId = new Map(received.map((span) => [span.spanId, span]))
      assert.strictEqual(byId.size, received.length, "span ids are unique")

      for (const made of run.spans) {
        const id = made.spanContext().spanId
        const got = byId.get(id)
        assert.isDefined(got, `span ${made.name} (${id}) did not arrive`)
        const label = `${made.name} (${id})`
        assert.strictEqual(got!.traceId, made.spanContext().traceId, `${label}: trace`)
        assert.strictEqual(got!.parentSpanId, made.parentSpanContext?.spanId ?? "", `${label}: parent`)
        assert.strictEqual(got!.name, made.name)
        assert.strictEqual(got!.kind, `SPAN_KIND_${SpanKind[made.kind]}`, `${label}: kind`)
        assert.strictEqual(got!.status.code, `STATUS_CODE_${SpanStatusCode[made.status.code]}`, `${label}: status`)
        assert.strictEqual(got!.status.message, made.status.message ?? "", `${label}: status message`)
        assert.deepStrictEqual(
          OtlpReceiver.attributesOf(got!.attributes),
          { ...made.attributes },
          `${label}: attributes`
        )
        assert.deepStrictEqual(got!.events.map((event) => event.name), made.events.map((event) => event.name))
        assert.strictEqual(got!.resource["service.name"], run.serviceName)
      }

      // The same spans read as the demo's result describes them: one root run span per ticket (SERVER), its LLM
      // calls (CLIENT, ERROR exactly when rate-limited) and tool calls (INTERNAL) under it, in its trace.
      const runs = received.filter((span) => span.name.startsWith("botanu.run/"))
      assert.strictEqual(runs.length, result.runs.length)
      for (const span of runs) {
        assert.strictEqual(span.parentSpanId, "", span.name)
        assert.strictEqual(span.kind, "SPAN_KIND_SERVER", span.name)
      }
      const rootOf = (span: OtlpReceiver.ReceivedSpan): OtlpReceiver.ReceivedSpan =>
        span.parentSpanId === "" ? span : rootOf(byId.get(span.parentSpanId)!)
      for (const span of received) {
        const root = rootOf(span)
        assert.include(runs, root, `${span.name}: its root is a run span`)
        assert.strictEqual(root.traceId, span.traceId)
      }
      const llm = received.filter((span) =>
        OtlpReceiver.attributesOf(span.attributes)["gen_ai.operation.name"] === "chat"
      )
      assert.strictEqual(llm.length, result.ledger.total.calls, "LLM spans vs the ledger's calls")
      for (const span of llm) {
        const attributes = OtlpReceiver.attributesOf(span.attributes)
        assert.strictEqual(span.kind, "SPAN_KIND_CLIENT", span.name)
        assert.strictEqual(
          span.status.code,
          attributes["error.type"] === undefined ? "STATUS_CODE_OK" : "STATUS_CODE_ERROR",
          span.name
        )
      }
      const tools = received.filter((span) => span.name.startsWith("execute_tool "))
      assert.isAtLeast(tools.length, result.runs.length)
      for (const span of tools) assert.strictEqual(span.kind, "SPAN_KIND_INTERNAL", span.name)
      const retries = llm.filter((span) => {
        const attributes = OtlpReceiver.attributesOf(span.attributes)
        return Number(attributes["botanu.request.attempt"]) > 1 &&
          Number(attributes["botanu.request.fallback_index"] ?? 0) === 0
      })
      assert.strictEqual(retries.length, report.retries)
      const cost = llm.reduce(
        (sum, span) => sum + Number(OtlpReceiver.attributesOf(span.attributes)["botanu.cost.total_usd"] ?? 0),
        0
      )
      assertClose(cost, report.totalCostUsd, "cost on the received spans vs the report")
    }))

  it.live("VictoriaMetrics stores every metric under its Prometheus name, unit and monotonicity included", () =>
    Effect.gen(function*() {
      const { selector, vm } = yield* demo
      const stored = new Set(
        (yield* vm.series(`{${selector}}`)).map((labels) => labels.__name__)
      )
      const expected = [
        names.cost,
        names.attempts,
        ...["bucket", "sum", "count"].flatMap((suffix) => [
          `${names.tokenUsage}_${suffix}`,
          `${names.duration}_${suffix}`,
          `${names.toolDuration}_${suffix}`
        ]),
        names.toolExecutions,
        names.budgetSpend,
        names.budgetRefusals
      ]
      for (const name of expected) assert.isTrue(stored.has(name), `${name} among ${[...stored].sort().join(", ")}`)
    }))

  it.live("total cost and cost per customer equal the report's", () =>
    Effect.gen(function*() {
      const { report, run, selector, vm } = yield* demo
      const [total] = yield* vm.query(`sum(${names.cost}{${selector}})`)
      assertClose(total.value, report.totalCostUsd, "total cost")

      const perCustomer = byLabels(
        yield* vm.query(`sum by (botanu_customer_id) (${names.cost}{${selector}})`),
        "botanu_customer_id"
      )
      const ledger = new Map(
        [...run.value.ledger.byCustomer].filter(([, totals]) => totals.costUsd > 0).map((
          [customer, totals]
        ) => [customer, totals.costUsd])
      )
      assert.deepStrictEqual([...perCustomer.keys()].sort(), [...ledger.keys()].sort())
      for (const [customer, cost] of ledger) assertClose(perCustomer.get(customer)!, cost, `cost of ${customer}`)
    }))

  it.live("budget spend per customer and the refused calls equal the report's", () =>
    Effect.gen(function*() {
      const { run, selector, vm } = yield* demo
      const spend = byLabels(
        yield* vm.query(
          `sum by (botanu_budget_key) (${names.budgetSpend}{${selector}, botanu_budget_scope="customer"})`
        ),
        "botanu_budget_key"
      )
      const ledger = new Map([...run.value.ledger.byCustomer].map(([customer, totals]) => [customer, totals.costUsd]))
      assert.deepStrictEqual([...spend.keys()].sort(), [...ledger.keys()].sort())
      for (const [customer, cost] of ledger) assertClose(spend.get(customer)!, cost, `budget spend of ${customer}`)
      const refusals = yield* vm.query(`${names.budgetRefusals}{${selector}}`)
      assert.deepStrictEqual(
        refusals.map(({ labels, value }) => [labels.botanu_budget_key, labels.botanu_budget_reason, value]),
        run.value.refused.map((call) => [call.ticket.customerId, "exceeded", 1])
      )
    }))

  it.live("tokens per model and token type equal the report's", () =>
    Effect.gen(function*() {
      const { run, selector, vm } = yield* demo
      // The ledger files a call under the model it was priced as: the response model when the provider named one.
      const samples = yield* vm.query(
        `sum by (gen_ai_provider_name, gen_ai_request_model, gen_ai_response_model, gen_ai_token_type) ` +
          `(${names.tokenUsage}_sum{${selector}})`
      )
      const fromMetrics = new Map<string, number>()
      for (const { labels, value } of samples) {
        const key = `${labels.gen_ai_provider_name}/${
          labels.gen_ai_response_model ?? labels.gen_ai_request_model
        }/${labels.gen_ai_token_type}`
        fromMetrics.set(key, (fromMetrics.get(key) ?? 0) + value)
      }
      const fromLedger = new Map<string, number>()
      for (const [model, totals] of run.value.ledger.byModel) {
        if (totals.inputTokens > 0) fromLedger.set(`${model}/input`, totals.inputTokens)
        if (totals.outputTokens > 0) fromLedger.set(`${model}/output`, totals.outputTokens)
      }
      assert.isAtLeast(fromLedger.size, 8)
      assert.deepStrictEqual(Object.fromEntries([...fromMetrics].sort()), Object.fromEntries([...fromLedger].sort()))
      // One point per call and token type, zeros not recorded.
      const llm = run.spans.filter(isLlm)
      const [points] = yield* vm.query(`sum(${names.tokenUsage}_count{${selector}})`)
      assert.strictEqual(
        points.value,
        llm.filter((span) => Number(span.attributes["gen_ai.usage.input_tokens"] ?? 0) > 0).length +
          llm.filter((span) => Number(span.attributes["gen_ai.usage.output_tokens"] ?? 0) > 0).length
      )
      const [input] = yield* vm.query(`sum(${names.tokenUsage}_sum{${selector}, gen_ai_token_type="input"})`)
      assert.strictEqual(input.value, run.value.ledger.total.inputTokens)
    }))

  it.live("attempts by status equal the calls the demo made", () =>
    Effect.gen(function*() {
      const { run, selector, vm } = yield* demo
      const llm = run.spans.filter(isLlm)
      const expected = {
        error: llm.filter((span) => span.attributes["error.type"] !== undefined).length,
        success: llm.filter((span) => span.attributes["error.type"] === undefined).length
      }
      assert.isAtLeast(expected.error, 1)
      assert.strictEqual(expected.error + expected.success, run.value.ledger.total.calls)
      const byStatus = byLabels(yield* vm.query(`sum by (status) (${names.attempts}{${selector}})`), "status")
      assert.deepStrictEqual(Object.fromEntries(byStatus), expected)
      const tools = run.spans.filter((span) => span.name.startsWith("execute_tool ")).length
      const [executions] = yield* vm.query(`sum(${names.toolExecutions}{${selector}})`)
      assert.strictEqual(executions.value, tools)
    }))

  it.live("a p50 duration per model, as the in-process histogram gives it", () =>
    Effect.gen(function*() {
      const { run, selector, vm } = yield* demo
      const p50 = byLabels(
        yield* vm.query(
          `histogram_quantile(0.5, sum by (le, gen_ai_request_model) (${names.duration}_bucket{${selector}}))`
        ),
        "gen_ai_request_model"
      )
      const models = new Set(run.spans.filter(isLlm).map((span) => String(span.attributes["gen_ai.request.model"])))
      assert.deepStrictEqual([...p50.keys()].sort(), [...models].sort())
      const inProcess = effectHistogramBy(run.metrics, "gen_ai.client.operation.duration", "gen_ai.request.model")
      for (const model of models) {
        const expected = histogramQuantile(0.5, inProcess.get(model)!)
        assert.isAbove(p50.get(model)!, 0, model)
        assertClose(p50.get(model)!, expected, `p50 of ${model}`)
      }
    }))
}

// --- run, skip or fail --------------------------------------------------------------------------------------------

const title = "Tracking.layer against VictoriaMetrics and an OTLP trace receiver (the demo's app)"

if (backends._tag === "Ready") {
  const shared = Effect.runSync(Effect.cached(demoRun(backends.victoriaMetrics)))
  describe(title, () => checks(shared))
} else {
  const notRun = `NOT RUN: the end-to-end test (${title}) did not run: ${backends.reason}. ${Harness.howToRun}.`
  if (required) {
    describe(title, () => {
      it("needs its backends (BOTANU_E2E_REQUIRED=1)", () => {
        assert.fail(notRun)
      })
    })
  } else {
    console.warn(notRun)
    describe.skip(`${title}: ${notRun}`, () => {
      it("did not run", () => {})
    })
  }
}
