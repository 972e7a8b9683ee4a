import { assert, describe, it } from "@effect/vitest"
import {
  AggregationTemporality,
  DataPointType,
  type Histogram,
  InstrumentType,
  type MetricData
} from "@opentelemetry/sdk-metrics"
import { Data, Duration, Effect, Fiber, Metric, MetricLabel, TestClock } from "effect"
import { LlmTracker, Metrics, ToolTracker, TrackingTest, trackLlmCall, trackToolCall } from "../src/index.js"
import { metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"

class Overloaded extends Data.TaggedError("Overloaded")<{ readonly message: string }> {}

// The SDK's exporters read the instrument type from the descriptor the producer builds.
const instrumentType = (metric: MetricData) => (metric.descriptor as unknown as { type: InstrumentType }).type

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

const runCall = <A, E>(effect: Effect.Effect<A, E, LlmTracker>, model: string, seconds: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(
      Effect.exit(
        Effect.sleep(Duration.seconds(seconds)).pipe(
          Effect.zipRight(effect),
          trackLlmCall({ provider: "Claude", model })
        )
      )
    )
    yield* TestClock.adjust(Duration.seconds(seconds))
    return yield* Fiber.join(fiber)
  })

describe("LLM call metrics", () => {
  it.effect("a successful call: token usage, duration and attempts with the right descriptors and attributes", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("claude")
      yield* runCall(
        Effect.gen(function*() {
          const tracker = yield* LlmTracker
          yield* tracker.setTokens({ inputTokens: 100, cacheReadTokens: 20, outputTokens: 48 })
          yield* tracker.setResponseModel(`${model}-20240229`)
          yield* tracker.setRequestId({ providerRequestId: "msg_unique_1" })
        }),
        model,
        1.5
      )
      const collected = yield* TrackingTest.collectMetrics

      const tokens = metricNamed(collected, "gen_ai.client.token.usage")
      assert.strictEqual(tokens.descriptor.unit, "{token}")
      assert.strictEqual(instrumentType(tokens), InstrumentType.HISTOGRAM)
      assert.strictEqual(tokens.dataPointType, DataPointType.HISTOGRAM)
      assert.strictEqual(tokens.aggregationTemporality, AggregationTemporality.CUMULATIVE)
      const tokenPoints = pointsWhere(tokens, "gen_ai.request.model", model)
      assert.strictEqual(tokenPoints.length, 2)
      const byType = Object.fromEntries(tokenPoints.map((p) => [p.attributes["gen_ai.token.type"], p]))
      const base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": model,
        "gen_ai.response.model": `${model}-20240229`
      }
      assert.deepStrictEqual(byType.input.attributes, { ...base, "gen_ai.token.type": "input" })
      assert.deepStrictEqual(byType.output.attributes, { ...base, "gen_ai.token.type": "output" })
      const input = byType.input.value as Histogram
      assert.strictEqual(input.count, 1)
      assert.strictEqual(input.sum, 120)
      assert.deepStrictEqual(input.buckets.boundaries, [...Metrics.tokenBoundaries])
      assert.strictEqual(input.buckets.counts.length, Metrics.tokenBoundaries.length + 1)
      assert.strictEqual(input.buckets.counts[4], 1) // 64 < 120 <= 256
      assert.strictEqual((byType.output.value as Histogram).sum, 48)

      const duration = metricNamed(collected, "gen_ai.client.operation.duration")
      assert.strictEqual(duration.descriptor.unit, "s")
      assert.strictEqual(instrumentType(duration), InstrumentType.HISTOGRAM)
      const [durationPoint] = pointsWhere(duration, "gen_ai.request.model", model)
      assert.deepStrictEqual(durationPoint.attributes, base)
      const durationValue = durationPoint.value as Histogram
      assert.strictEqual(durationValue.count, 1)
      assert.strictEqual(durationValue.sum, 1.5)
      assert.deepStrictEqual(durationValue.buckets.boundaries, [...Metrics.durationBoundaries])
      assert.strictEqual(durationValue.buckets.counts[8], 1) // 1.28 < 1.5 <= 2.56

      const attempts = metricNamed(collected, "botanu.gen_ai.attempts")
      assert.strictEqual(attempts.descriptor.unit, "{attempt}")
      assert.strictEqual(instrumentType(attempts), InstrumentType.COUNTER)
      assert.strictEqual(attempts.dataPointType, DataPointType.SUM)
      assert.isTrue(attempts.dataPointType === DataPointType.SUM && attempts.isMonotonic)
      assert.strictEqual(attempts.aggregationTemporality, AggregationTemporality.CUMULATIVE)
      const [attemptPoint] = pointsWhere(attempts, "gen_ai.request.model", model)
      assert.deepStrictEqual(attemptPoint.attributes, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": model,
        "status": "success"
      })
      assert.strictEqual(attemptPoint.value, 1)
    })))

  it.effect("a failed call carries error.type and counts as an error attempt", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("failing")
      yield* runCall(
        Effect.flatMap(
          LlmTracker,
          (t) => Effect.zipRight(t.setTokens({ inputTokens: 10 }), Effect.fail(new Overloaded({ message: "529" })))
        ),
        model,
        0.05
      )
      const collected = yield* TrackingTest.collectMetrics
      const [input] = pointsWhere(metricNamed(collected, "gen_ai.client.token.usage"), "gen_ai.request.model", model)
      assert.strictEqual(input.attributes["error.type"], "Overloaded")
      assert.strictEqual(input.attributes["gen_ai.token.type"], "input")
      const [duration] = pointsWhere(
        metricNamed(collected, "gen_ai.client.operation.duration"),
        "gen_ai.request.model",
        model
      )
      assert.strictEqual(duration.attributes["error.type"], "Overloaded")
      assert.strictEqual((duration.value as Histogram).sum, 0.05)
      const [attempt] = pointsWhere(metricNamed(collected, "botanu.gen_ai.attempts"), "gen_ai.request.model", model)
      assert.strictEqual(attempt.attributes.status, "error")
      assert.isUndefined(attempt.attributes["error.type"])
    })))

  it.effect("zero token counts are not recorded; duration always is, interruption included", () =>
    withTracking(Effect.gen(function*() {
      const zero = uniqueName("zero")
      yield* runCall(Effect.flatMap(LlmTracker, (t) => t.setTokens({ inputTokens: 0, outputTokens: 0 })), zero, 0)
      const interrupted = uniqueName("interrupted")
      const fiber = yield* Effect.fork(trackLlmCall(Effect.never, { provider: "openai", model: interrupted }))
      yield* TestClock.adjust(Duration.millis(300))
      yield* Fiber.interrupt(fiber)
      const collected = yield* TrackingTest.collectMetrics
      const tokens = metricNamed(collected, "gen_ai.client.token.usage")
      assert.strictEqual(pointsWhere(tokens, "gen_ai.request.model", zero).length, 0)
      const duration = metricNamed(collected, "gen_ai.client.operation.duration")
      assert.strictEqual(pointsWhere(duration, "gen_ai.request.model", zero).length, 1)
      const [cut] = pointsWhere(duration, "gen_ai.request.model", interrupted)
      assert.strictEqual(cut.attributes["error.type"], "interrupted")
      assert.strictEqual((cut.value as Histogram).sum, 0.3)
      const [attempt] = pointsWhere(
        metricNamed(collected, "botanu.gen_ai.attempts"),
        "gen_ai.request.model",
        interrupted
      )
      assert.strictEqual(attempt.attributes.status, "error")
    })))

  it.effect("attributes never grow with ids, customers or metadata", () =>
    withTracking(Effect.gen(function*() {
      const model = uniqueName("bounded")
      yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) =>
        Effect.flatMap(LlmTracker, (t) =>
          Effect.all([
            t.setTokens({ inputTokens: 10, outputTokens: 5 }),
            t.setRequestId({ providerRequestId: `req-${i}`, clientRequestId: `client-${i}` }),
            t.addMetadata({ customer_id: `customer-${i}` })
          ])).pipe(
            trackLlmCall({ provider: "openai", model, attributes: { event_id: `event-${i}` } })
          ), { discard: true })
      const collected = yield* TrackingTest.collectMetrics
      assert.strictEqual(
        pointsWhere(metricNamed(collected, "gen_ai.client.token.usage"), "gen_ai.request.model", model).length,
        2
      )
      const [attempt] = pointsWhere(metricNamed(collected, "botanu.gen_ai.attempts"), "gen_ai.request.model", model)
      assert.strictEqual(attempt.value, 50)
      for (const metric of collected.scopeMetrics.flatMap((s) => s.metrics)) {
        for (const point of metric.dataPoints) {
          assert.notProperty(point.attributes, "unit", metric.descriptor.name)
          const values = Object.values(point.attributes).map(String)
          assert.isFalse(values.some((v) => /^(req|client|customer|event)-/.test(v)), metric.descriptor.name)
        }
      }
    })))

  it.effect("the metrics are Effect Metric values that can be read directly", () =>
    Effect.gen(function*() {
      const model = uniqueName("readable")
      yield* trackLlmCall(Effect.flatMap(LlmTracker, (t) => t.setTokens({ inputTokens: 7, outputTokens: 3 })), {
        provider: "openai",
        model
      })
      const labels = [
        MetricLabel.make("gen_ai.operation.name", "chat"),
        MetricLabel.make("gen_ai.provider.name", "openai"),
        MetricLabel.make("gen_ai.request.model", model),
        MetricLabel.make("status", "success")
      ]
      const state = yield* Metric.value(Metric.taggedWithLabels(Metrics.attempts, labels))
      assert.strictEqual(state.count, 1)
    }))
})

describe("tool call metrics", () => {
  it.effect("duration and executions by tool, provider and status: success, failure, success false, interruption", () =>
    withTracking(Effect.gen(function*() {
      const toolName = uniqueName("search")
      const run = (effect: Effect.Effect<void, Overloaded, ToolTracker>, provider: string | undefined, ms: number) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(Effect.exit(
            Effect.sleep(Duration.millis(ms)).pipe(
              Effect.zipRight(effect),
              trackToolCall(provider === undefined ? { toolName } : { toolName, provider })
            )
          ))
          yield* TestClock.adjust(Duration.millis(ms))
          yield* Fiber.join(fiber)
        })
      yield* run(Effect.flatMap(ToolTracker, (t) => t.setResult({ success: true })), "OpenAI", 200)
      yield* run(Effect.flatMap(ToolTracker, (t) => t.setResult({ success: true })), "OpenAI", 100)
      yield* run(Effect.fail(new Overloaded({ message: "x" })), undefined, 50)
      yield* run(Effect.flatMap(ToolTracker, (t) => t.setResult({ success: false })), undefined, 10)
      const interrupted = yield* Effect.fork(trackToolCall(Effect.never, { toolName }))
      yield* TestClock.adjust(Duration.millis(20))
      yield* Fiber.interrupt(interrupted)
      const collected = yield* TrackingTest.collectMetrics

      const duration = metricNamed(collected, "botanu.tool.duration")
      assert.strictEqual(duration.descriptor.unit, "s")
      assert.strictEqual(instrumentType(duration), InstrumentType.HISTOGRAM)
      const durationPoints = pointsWhere(duration, "gen_ai.tool.name", toolName)
      const ok = durationPoints.find((p) => p.attributes.status === "success")!
      assert.deepStrictEqual(ok.attributes, {
        "gen_ai.tool.name": toolName,
        "gen_ai.provider.name": "openai",
        "status": "success"
      })
      assert.strictEqual((ok.value as Histogram).count, 2)
      assert.closeTo((ok.value as Histogram).sum!, 0.3, 1e-9)
      assert.deepStrictEqual((ok.value as Histogram).buckets.boundaries, [...Metrics.durationBoundaries])
      const failed = durationPoints.find((p) => p.attributes.status === "error")!
      assert.deepStrictEqual(failed.attributes, { "gen_ai.tool.name": toolName, "status": "error" })
      assert.strictEqual((failed.value as Histogram).count, 3)
      assert.closeTo((failed.value as Histogram).sum!, 0.08, 1e-9)

      const executions = metricNamed(collected, "botanu.tool.executions")
      assert.strictEqual(executions.descriptor.unit, "{execution}")
      assert.strictEqual(instrumentType(executions), InstrumentType.COUNTER)
      assert.isTrue(executions.dataPointType === DataPointType.SUM && executions.isMonotonic)
      const counts = Object.fromEntries(
        pointsWhere(executions, "gen_ai.tool.name", toolName).map((p) => [p.attributes.status, p.value])
      )
      assert.deepStrictEqual(counts, { success: 2, error: 3 })
    })))
})
