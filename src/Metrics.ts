/**
 * The metrics every tracked call records, as Effect `Metric` values: read them with `Metric.value`, compose them,
 * test them. They are exported to OpenTelemetry with the names, units, instruments and buckets of the GenAI
 * semantic conventions (see `Tracking` and `TrackingTest`, which install the producer that knows the units).
 *
 * Attributes are bounded: a data point's attributes come only from the provider, the model names as given, the
 * operation, the token type, the status and the error type; never from ids, customers or free text.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

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
 * The OpenTelemetry unit of each metric above, by name.
 *
 * @since 0.1.0
 * @category metadata
 */
export const units: ReadonlyMap<string, string> = new Map([
  ["gen_ai.client.token.usage", "{token}"],
  ["gen_ai.client.operation.duration", "s"],
  ["botanu.gen_ai.attempts", "{attempt}"],
  ["botanu.tool.duration", "s"],
  ["botanu.tool.executions", "{execution}"]
])
