import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import type * as Resource from "@effect/opentelemetry/Resource"
import { ValueType } from "@opentelemetry/api"
import {
  type CollectionResult,
  DataPointType,
  type MetricCollectOptions,
  type MetricData,
  type MetricProducer,
  type MetricReader
} from "@opentelemetry/sdk-metrics"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { exportDivisors, units } from "../Metrics.js"

/**
 * The stock @effect/opentelemetry producer takes a unit only from a `unit` tag, which it then also exports as a
 * data-point attribute. This one leaves the tags alone, sets the unit of each metric it knows by name, and converts
 * the ones counted in a smaller unit than they are exported in.
 *
 * @internal
 */
export class UnitAwareProducer implements MetricProducer {
  constructor(private readonly stock: MetricProducer) {}

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const result = await this.stock.collect(options)
    for (const scope of result.resourceMetrics.scopeMetrics) {
      scope.metrics = scope.metrics.map(withUnit)
    }
    return result
  }
}

const withUnit = (metric: MetricData): MetricData => {
  const name = metric.descriptor.name
  const unit = units.get(name)
  if (unit === undefined) return metric
  const divisor = exportDivisors.get(name)
  if (divisor === undefined || metric.dataPointType !== DataPointType.SUM) {
    return { ...metric, descriptor: { ...metric.descriptor, unit } }
  }
  // The stock producer already turned the exact bigint count into the nearest number; one division follows.
  return {
    ...metric,
    descriptor: { ...metric.descriptor, unit, valueType: ValueType.DOUBLE },
    dataPoints: metric.dataPoints.map((point) => ({ ...point, value: point.value / divisor }))
  }
}

/**
 * Binds Effect's metrics, through the unit-aware producer, to the given readers for the layer's lifetime. On
 * release the readers are shut down (their last export), for at most `shutdownTimeout`.
 *
 * @internal
 */
export const layer = (
  readers: () => MetricReader | NonEmptyReadonlyArray<MetricReader>,
  shutdownTimeout: Duration.DurationInput = Duration.seconds(3)
): Layer.Layer<never, never, Resource.Resource> =>
  Layer.scopedDiscard(Effect.flatMap(OtelMetrics.makeProducer, (stock) => {
    const producer = new UnitAwareProducer(stock)
    return Effect.acquireRelease(
      Effect.sync(() => {
        const made = readers()
        const list: ReadonlyArray<MetricReader> = Array.isArray(made) ? made : [made as MetricReader]
        for (const reader of list) reader.setMetricProducer(producer)
        return list
      }),
      (list) =>
        Effect.promise(() => Promise.all(list.map((reader) => reader.shutdown()))).pipe(
          Effect.ignoreLogged,
          Effect.interruptible,
          Effect.timeoutOption(shutdownTimeout)
        )
    )
  }))
