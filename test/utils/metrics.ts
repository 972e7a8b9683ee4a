import { assert } from "@effect/vitest"
import type { MetricData, ResourceMetrics } from "@opentelemetry/sdk-metrics"
import * as Effect from "effect/Effect"
import { TrackingTest } from "../../src/index.js"

// Effect's metric registry is process-wide: tests use model and tool names of their own.
let unique = 0
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${++unique}`

export const metricNamed = (resourceMetrics: ResourceMetrics, name: string): MetricData => {
  const found = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).filter((m) => m.descriptor.name === name)
  assert.strictEqual(found.length, 1, `one metric named ${name}`)
  return found[0]
}

export const pointsWhere = (metric: MetricData, key: string, value: string) =>
  (metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>).filter((point) =>
    point.attributes[key] === value
  )

/** `botanu.gen_ai.attempts` for one model, by status, read from the real SDK reader. */
export const attemptsByStatus = (model: string) =>
  Effect.map(TrackingTest.collectMetrics, (collected) => {
    const points = pointsWhere(metricNamed(collected, "botanu.gen_ai.attempts"), "gen_ai.request.model", model)
    return Object.fromEntries(points.map((point) => [point.attributes.status, point.value]))
  })
