import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import type * as Resource from "@effect/opentelemetry/Resource"
import {
  type CollectionResult,
  type MetricCollectOptions,
  type MetricData,
  type MetricProducer,
  type MetricReader
} from "@opentelemetry/sdk-metrics"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ServerPort } from "../Attributes.js"
import { units } from "../Metrics.js"

/**
 * The stock @effect/opentelemetry producer takes a unit only from a `unit` tag, which it then also exports as a
 * data-point attribute. This one leaves the tags alone and sets the unit of each metric it knows by name; the values
 * are the stock producer's, so that an app's own `NodeSdk.layer` exports the same numbers.
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
  const unit = units.get(metric.descriptor.name)
  if (unit === undefined) return metric
  return { ...metric, descriptor: { ...metric.descriptor, unit }, ...withIntegerPorts(metric) } as MetricData
}

// Effect's metric labels are strings; `server.port` is an integer attribute in the conventions, so the metrics that
// carry it export it as one. Only the data points that have it are copied.
const withIntegerPorts = (metric: MetricData): Partial<MetricData> => {
  let changed = false
  const dataPoints = (metric.dataPoints as Array<MetricData["dataPoints"][number]>).map((point) => {
    const port = point.attributes[ServerPort]
    if (typeof port !== "string") return point
    changed = true
    return { ...point, attributes: { ...point.attributes, [ServerPort]: Number(port) } }
  })
  return changed ? { dataPoints } as Partial<MetricData> : {}
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
