import { assert, describe, it } from "@effect/vitest"
import type { Histogram, ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { Effect, Layer, Logger, Metric } from "effect"
import {
  botanuWorkflow,
  CostLedger,
  LlmTracker,
  Metrics,
  TrackingTest,
  trackLlmCall,
  trackToolCall
} from "../src/index.js"
import { atto, flatPrices } from "./utils/flatPrices.js"
import { spanNamed } from "./utils/spans.js"

// The bounds are process-wide, like Effect's metric registry (vitest gives each test file a process state of its
// own). The tests below run in order and each fills a different metric's bound; the customers' one goes first, while
// the cache of (operation, provider, model) series still has room for its model.

/** The OpenTelemetry SDK's default cardinality limit, which the library's metrics keep: the overflow series included. */
const limit = 2_000
const overflowAttributes = { "otel.metric.overflow": true }

interface Point {
  readonly attributes: Record<string, unknown>
  readonly value: number | Histogram
}

/** A metric's points, none when it has none yet. */
const pointsOf = (collected: ResourceMetrics, name: string): ReadonlyArray<Point> =>
  collected.scopeMetrics.flatMap((scope) => scope.metrics).filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as Array<Point>)

/** The sum over all series (a histogram's sum of values), and how many values a histogram's series hold. */
const sumOf = (points: ReadonlyArray<Point>) =>
  points.reduce((sum, point) => sum + (typeof point.value === "number" ? point.value : point.value.sum ?? 0), 0)
const countOf = (points: ReadonlyArray<Point>) =>
  points.reduce((count, point) => count + (typeof point.value === "number" ? 0 : point.value.count), 0)

const assertBounded = (points: ReadonlyArray<Point>, name: string) => {
  assert.strictEqual(points.length, limit, `${name}: series`)
  const overflow = points.filter((point) => "otel.metric.overflow" in point.attributes)
  assert.strictEqual(overflow.length, 1, `${name}: one overflow series`)
  assert.deepStrictEqual(overflow[0].attributes, overflowAttributes, `${name}: the overflow series' attributes`)
}

/** What Effect's registry holds: its series of one metric, whichever exporter reads them. */
const registrySeries = (name: string) => Metric.unsafeSnapshot().filter((pair) => pair.metricKey.name === name).length

const captureLogs = () => {
  const logs: Array<string> = []
  return { logs, layer: Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message)))) }
}

describe("metric series are bounded", () => {
  it.effect("2,100 customers on the cost metric: 2,000 series, one of them the overflow, and the cost all there", () => {
    const model = "cardinality-priced"
    const customers = Array.from({ length: 2_100 }, (_, i) => `cardinality-customer-${i}`)
    const call = (customerId: string) =>
      Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: 4, outputTokens: 0 })).pipe(
        trackLlmCall({ provider: "openai", model }),
        botanuWorkflow("cardinality", { eventId: `e-${customerId}`, customerId })
      )
    return Effect.gen(function*() {
      const before = sumOf(pointsOf(yield* TrackingTest.collectMetrics, "botanu.gen_ai.cost"))
      yield* Effect.forEach(customers, call, { discard: true })
      const points = pointsOf(yield* TrackingTest.collectMetrics, "botanu.gen_ai.cost")
      assertBounded(points, "botanu.gen_ai.cost")
      assert.isAtMost(registrySeries("botanu.gen_ai.cost"), limit)
      // $2.50 per million input tokens, 4 tokens a call.
      assert.closeTo(sumOf(points) - before, 2_100 * 4 * 2.5e-6, 1e-12)
      const customerPoints = points.filter((point) => point.attributes["botanu.customer_id"] !== undefined)
      assert.strictEqual(customerPoints.length, limit - 1)
      // The ledger is exact and still has every customer (its own bound is 10,000 keys).
      const ledger = yield* CostLedger.snapshot
      assert.strictEqual(ledger.total.costAttodollars, atto(4, 0) * BigInt(2_100))
      assert.strictEqual(ledger.byCustomer.size, 2_100)
    }).pipe(Effect.provide(Layer.mergeAll(
      TrackingTest.layer,
      flatPrices([model]),
      Metrics.layerCostByCustomer({ customers }),
      CostLedger.layer
    )))
  })

  it.effect("2,100 model names: token usage, duration and attempts stop at 2,000 series; nothing recorded is lost", () => {
    const models = Array.from({ length: 2_100 }, (_, i) => `cardinality-model-${i}`)
    const call = (model: string) =>
      Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: 3, outputTokens: 2 })).pipe(
        trackLlmCall({ provider: "mylab", model })
      )
    const { layer: logLayer, logs } = captureLogs()
    return Effect.gen(function*() {
      const before = yield* TrackingTest.collectMetrics
      yield* Effect.forEach(models, call, { discard: true })
      const after = yield* TrackingTest.collectMetrics

      const delta = (name: string, measure: (points: ReadonlyArray<Point>) => number) =>
        measure(pointsOf(after, name)) - measure(pointsOf(before, name))
      for (const name of ["gen_ai.client.token.usage", "gen_ai.client.operation.duration", "botanu.gen_ai.attempts"]) {
        assertBounded(pointsOf(after, name), name)
        assert.isAtMost(registrySeries(name), limit, name)
      }
      assert.strictEqual(delta("gen_ai.client.token.usage", sumOf), 2_100 * 5)
      assert.strictEqual(delta("gen_ai.client.token.usage", countOf), 2_100 * 2)
      assert.strictEqual(delta("gen_ai.client.operation.duration", countOf), 2_100)
      assert.strictEqual(delta("botanu.gen_ai.attempts", sumOf), 2_100)
      // Spans keep the model whatever the metrics do.
      const last = yield* spanNamed("chat cardinality-model-2099")
      assert.strictEqual(last.attributes["gen_ai.request.model"], "cardinality-model-2099")
      assert.strictEqual(last.attributes["botanu.cost.status"], "unknown_model")
    }).pipe(
      Effect.provide(Layer.merge(TrackingTest.layer, logLayer)),
      Effect.zipRight(
        // The unknown-model warning: once per model for the first 1,000, then one line, then none.
        Effect.gen(function*() {
          const perModel = logs.filter((line) => line.includes(`no price known for model "cardinality-model-`))
          assert.strictEqual(perModel.length, 1_000)
          assert.include(perModel[999], `"cardinality-model-999"`)
          const pastBound = logs.filter((line) => line.includes("no price known for more than 1000 models"))
          assert.strictEqual(pastBound.length, 1)
          assert.include(pastBound[0], "botanu.cost.status = unknown_model")
          const seen = logs.length
          yield* Effect.forEach(["cardinality-model-0", "cardinality-model-1500", "cardinality-model-new"], call, {
            discard: true
          }).pipe(Effect.provide(Layer.merge(TrackingTest.layer, logLayer)))
          assert.strictEqual(logs.length, seen)
        })
      )
    )
  })

  it.effect("2,100 tool names: tool duration and executions stop at 2,000 series; nothing recorded is lost", () => {
    const tools = Array.from({ length: 2_100 }, (_, i) => `cardinality-tool-${i}`)
    return Effect.gen(function*() {
      const before = yield* TrackingTest.collectMetrics
      yield* Effect.forEach(tools, (toolName) => trackToolCall(Effect.void, { toolName }), { discard: true })
      const after = yield* TrackingTest.collectMetrics
      for (const name of ["botanu.tool.duration", "botanu.tool.executions"]) {
        assertBounded(pointsOf(after, name), name)
        assert.isAtMost(registrySeries(name), limit, name)
      }
      const executions = (collected: ResourceMetrics) => sumOf(pointsOf(collected, "botanu.tool.executions"))
      assert.strictEqual(executions(after) - executions(before), 2_100)
      const durations = (collected: ResourceMetrics) => countOf(pointsOf(collected, "botanu.tool.duration"))
      assert.strictEqual(durations(after) - durations(before), 2_100)
    }).pipe(Effect.provide(TrackingTest.layer))
  })

  it.effect("maxCustomers remembers at most 2,000 customers, however many it is given", () =>
    Effect.gen(function*() {
      const policy = yield* Metrics.CostByCustomer
      const labels = Array.from({ length: 2_100 }, (_, i) => policy.labelFor(`many-${i}`))
      assert.strictEqual(labels[1_999], "many-1999")
      assert.strictEqual(labels[2_000], Metrics.otherCustomers)
      assert.strictEqual(policy.labelFor("many-0"), "many-0")
    }).pipe(Effect.provide(Metrics.layerCostByCustomer({ maxCustomers: 1_000_000 }))))
})

describe("the cost ledger is bounded", () => {
  const entry = (i: number, cost: number): CostLedger.Entry => ({
    customerId: `customer-${i}`,
    workflow: `workflow-${i}`,
    provider: `provider-${i}`,
    model: `model-${i}`,
    cost: BigInt(cost),
    inputTokens: 1,
    outputTokens: 2,
    unpriced: false
  })
  const dimensions = ["byCustomer", "byWorkflow", "byProvider", "byModel"] as const

  it.effect("10,000 keys of its own per dimension by default, the rest in `_other`, totals exact", () =>
    Effect.gen(function*() {
      const ledger = CostLedger.make()
      for (let i = 0; i < 10_050; i++) ledger.record(entry(i, i + 1))
      const snapshot = yield* ledger.snapshot
      const expected = BigInt((10_050 * 10_051) / 2)
      assert.strictEqual(snapshot.total.costAttodollars, expected)
      assert.strictEqual(snapshot.total.calls, 10_050)
      for (const dimension of dimensions) {
        const rows = snapshot[dimension]
        assert.strictEqual(rows.size, 10_001, dimension)
        const other = rows.get(CostLedger.other)!
        assert.strictEqual(other.calls, 50, dimension)
        assert.strictEqual(other.outputTokens, 100, dimension)
        let sum = BigInt(0)
        for (const totals of rows.values()) sum += totals.costAttodollars
        assert.strictEqual(sum, expected, dimension)
      }
      // Known keys keep their rows; a reset starts the count again.
      ledger.record(entry(0, 1))
      assert.strictEqual((yield* ledger.snapshot).byCustomer.get("customer-0")?.calls, 2)
      yield* ledger.reset
      ledger.record(entry(20_000, 1))
      assert.deepStrictEqual([...(yield* ledger.snapshot).byCustomer.keys()], ["customer-20000"])
    }))

  it.effect("layerWith({ maxKeys }) bounds the ledger tracked calls write to", () => {
    const model = "ledger-priced"
    return Effect.gen(function*() {
      yield* Effect.forEach(
        Array.from({ length: 5 }, (_, i) => `ledger-customer-${i}`),
        (customerId) =>
          Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: 10, outputTokens: 1 })).pipe(
            trackLlmCall({ provider: "openai", model }),
            botanuWorkflow("ledger", { eventId: `e-${customerId}`, customerId })
          ),
        { discard: true }
      )
      const snapshot = yield* CostLedger.snapshot
      assert.deepStrictEqual([...snapshot.byCustomer.keys()], ["ledger-customer-0", "ledger-customer-1", "_other"])
      assert.strictEqual(snapshot.byCustomer.get("_other")?.calls, 3)
      assert.strictEqual(snapshot.byCustomer.get("_other")?.costAttodollars, atto(10, 1) * BigInt(3))
      assert.strictEqual(snapshot.total.costAttodollars, atto(10, 1) * BigInt(5))
      assert.strictEqual(snapshot.byWorkflow.size, 1)
    }).pipe(
      Effect.provide(Layer.mergeAll(TrackingTest.layer, flatPrices([model]), CostLedger.layerWith({ maxKeys: 2 })))
    )
  })
})
