/**
 * The metrics every tracked call records, as Effect `Metric` values: read them with `Metric.value`, compose them,
 * test them. They are exported to OpenTelemetry with the names, units, instruments and buckets of the GenAI
 * semantic conventions (see `Tracking` and `TrackingTest`, which install the producer that knows the units).
 *
 * Attributes are bounded: a data point's attributes come only from the provider, the model names as given, the
 * server (`server.address`, `server.port`, on the `gen_ai.client.*` metrics), the operation, the token type, the
 * status and the error type; never from ids, customers or free text.
 *
 * Series are bounded too, since Effect's metric registry keeps every series for the life of the process: each
 * metric has at most 2,000 (the OpenTelemetry SDK's default cardinality limit). Past 1,999 label combinations of
 * its own, a metric records new ones in one overflow series whose only attribute is `otel.metric.overflow=true`
 * (the SDK's convention), so that its totals over all series stay exact. The library's exporters write that value
 * as the boolean `true`; an app's own `NodeSdk.layer` (the stock @effect/opentelemetry producer) as the string.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import { maxSeriesPerMetric } from "./internal/limits.js"

/**
 * Token bucket boundaries of the semantic conventions: 1, 4, 16, ... 67108864.
 *
 * @since 0.1.0
 * @category boundaries
 */
export const tokenBoundaries: ReadonlyArray<number> = [
  1,
  4,
  16,
  64,
  256,
  1024,
  4096,
  16384,
  65536,
  262144,
  1048576,
  4194304,
  16777216,
  67108864
]

/**
 * Duration bucket boundaries of the semantic conventions, in seconds: 0.01, 0.02, ... 81.92.
 *
 * @since 0.1.0
 * @category boundaries
 */
export const durationBoundaries: ReadonlyArray<number> = [
  0.01,
  0.02,
  0.04,
  0.08,
  0.16,
  0.32,
  0.64,
  1.28,
  2.56,
  5.12,
  10.24,
  20.48,
  40.96,
  81.92
]

/**
 * `gen_ai.client.token.usage` (histogram, `{token}`): one input and one output value per call; zeros are not
 * recorded.
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokenUsage: Metric.Metric.Histogram<number> = Metric.histogram(
  "gen_ai.client.token.usage",
  MetricBoundaries.fromIterable(tokenBoundaries),
  "Measures number of input and output tokens used"
)

/**
 * `gen_ai.client.operation.duration` (histogram, `s`): every LLM call, whatever its outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const operationDuration: Metric.Metric.Histogram<number> = Metric.histogram(
  "gen_ai.client.operation.duration",
  MetricBoundaries.fromIterable(durationBoundaries),
  "GenAI operation duration"
)

/**
 * `gen_ai.client.operation.time_to_first_chunk` (histogram, `s`): streamed LLM calls that received a chunk, from
 * the start of the call to the first chunk; labelled like `gen_ai.client.operation.duration`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const timeToFirstChunk: Metric.Metric.Histogram<number> = Metric.histogram(
  "gen_ai.client.operation.time_to_first_chunk",
  MetricBoundaries.fromIterable(durationBoundaries),
  "Time to receive the first chunk of a streamed GenAI response"
)

/**
 * `gen_ai.client.operation.time_per_output_chunk` (histogram, `s`): one value per chunk after the first of a
 * streamed LLM call, the time since the previous chunk; labelled like `gen_ai.client.operation.duration` (the
 * response model as known at that chunk, no `error.type`: the chunk arrived).
 *
 * @since 0.1.0
 * @category metrics
 */
export const timePerOutputChunk: Metric.Metric.Histogram<number> = Metric.histogram(
  "gen_ai.client.operation.time_per_output_chunk",
  MetricBoundaries.fromIterable(durationBoundaries),
  "Time between consecutive chunks of a streamed GenAI response"
)

/**
 * `botanu.gen_ai.attempts` (monotonic counter, `{attempt}`): one per LLM call attempt, with its `status`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const attempts: Metric.Metric.Counter<number> = Metric.counter("botanu.gen_ai.attempts", {
  description: "LLM call attempts, by outcome",
  incremental: true
})

/**
 * `botanu.tool.duration` (histogram, `s`): every tool call, whatever its outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const toolDuration: Metric.Metric.Histogram<number> = Metric.histogram(
  "botanu.tool.duration",
  MetricBoundaries.fromIterable(durationBoundaries),
  "Tool execution duration"
)

/**
 * `botanu.tool.executions` (monotonic counter, `{execution}`): one per tool call, with its `status`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const toolExecutions: Metric.Metric.Counter<number> = Metric.counter("botanu.tool.executions", {
  description: "Tool executions, by outcome",
  incremental: true
})

/**
 * `botanu.gen_ai.cost` (monotonic counter, `USD`): what priced LLM calls cost, by provider, model and operation
 * (and customer, when `costByCustomer` allows it). Counted in US dollars as a double, so that it exports the same
 * value under any metric producer (the stock @effect/opentelemetry one included); the exact amounts, in
 * attodollars, are on the spans, in the run roll-ups and in the `CostLedger`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const cost: Metric.Metric.Counter<number> = Metric.counter("botanu.gen_ai.cost", {
  description: "Cost of LLM calls",
  incremental: true
})

/**
 * `botanu.outcomes.late` (monotonic counter, `{outcome}`): outcomes emitted after their run completed (or, outside a
 * run, after their span ended), by workflow and outcome status. Such an outcome cannot go onto its ended span: it is
 * recorded in a warning log record with the run's ids (see `emitOutcome`), and counted here, so that a backend that
 * gets no logs still sees that outcomes arrive late.
 *
 * @since 0.1.0
 * @category metrics
 */
export const lateOutcomes: Metric.Metric.Counter<number> = Metric.counter("botanu.outcomes.late", {
  description: "Outcomes emitted after their run completed, recorded in a log record only",
  incremental: true
})

/**
 * The OpenTelemetry unit of each metric above, by name.
 *
 * @since 0.1.0
 * @category metadata
 */
export const units: ReadonlyMap<string, string> = new Map([
  ["gen_ai.client.token.usage", "{token}"],
  ["gen_ai.client.operation.duration", "s"],
  ["gen_ai.client.operation.time_to_first_chunk", "s"],
  ["gen_ai.client.operation.time_per_output_chunk", "s"],
  ["botanu.gen_ai.attempts", "{attempt}"],
  ["botanu.tool.duration", "s"],
  ["botanu.tool.executions", "{execution}"],
  ["botanu.gen_ai.cost", "USD"],
  ["botanu.outcomes.late", "{outcome}"],
  // Defined in `Budget` (`Budget.spendMetric`, `Budget.refusalsMetric`), exported with the library's metrics.
  ["botanu.budget.spend", "USD"],
  ["botanu.budget.refusals", "{call}"]
])

/**
 * Which customers get a `botanu.customer_id` series of their own on `botanu.gen_ai.cost`. Off by default: every
 * customer is a new series, so the set must be bounded.
 *
 * @since 0.1.0
 * @category models
 */
export interface CostByCustomerPolicy {
  /** The label value for a customer, or `undefined` to record no customer label at all. */
  readonly labelFor: (customerId: string) => string | undefined
}

/**
 * The label value for customers beyond the allowed set.
 *
 * @since 0.1.0
 * @category constants
 */
export const otherCustomers = "_other"

/**
 * @since 0.1.0
 * @category tags
 */
export class CostByCustomer extends Context.Reference<CostByCustomer>()("@botanu/effect/Metrics/CostByCustomer", {
  defaultValue: (): CostByCustomerPolicy => ({ labelFor: () => undefined })
}) {}

/**
 * Turns on cost by customer for a bounded set: the listed `customers`, or the first `maxCustomers` distinct
 * customers seen (per layer build, at most 2,000: the series a metric has, past which customers could not have one
 * of their own anyway); every other customer is recorded as `_other`. Like every metric of the library,
 * `botanu.gen_ai.cost` has at most 2,000 series: past that, new combinations of model and customer are recorded in
 * its one overflow series (`otel.metric.overflow=true`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCostByCustomer = (
  options: { readonly customers: Iterable<string> } | { readonly maxCustomers: number }
): Layer.Layer<CostByCustomer> =>
  Layer.sync(CostByCustomer, (): CostByCustomerPolicy => {
    if ("customers" in options) {
      const allowed = new Set(options.customers)
      return { labelFor: (customerId) => allowed.has(customerId) ? customerId : otherCustomers }
    }
    const seen = new Set<string>()
    // The customers remembered are bounded like the series they label, whatever number is given.
    const max = Math.min(maxSeriesPerMetric, Math.max(0, Math.floor(options.maxCustomers)))
    return {
      labelFor: (customerId) => {
        if (seen.has(customerId)) return customerId
        if (seen.size < max) {
          seen.add(customerId)
          return customerId
        }
        return otherCustomers
      }
    }
  })
