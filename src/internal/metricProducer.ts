import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import type * as Resource from "@effect/opentelemetry/Resource"
import type { HrTime } from "@opentelemetry/api"
import { type InstrumentationScope, millisToHrTime } from "@opentelemetry/core"
import type { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto"
import {
  AggregationTemporality,
  type AggregationTemporalitySelector,
  type CollectionResult,
  DataPointType,
  type HistogramMetricData,
  InstrumentType,
  type MetricCollectOptions,
  type MetricData,
  type MetricProducer,
  type MetricReader,
  type ScopeMetrics
} from "@opentelemetry/sdk-metrics"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { OtelMetricOverflow, ServerPort } from "../Attributes.js"
import { units } from "../Metrics.js"
import * as Version from "./version.js"

// --- temporality --------------------------------------------------------------------------------------------------

/**
 * The values of `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, as the OTLP exporter specification defines
 * them: `cumulative` for every instrument; `delta` for counters, histograms (and gauges, where temporality means
 * nothing), up-down counters cumulative; `lowmemory` delta for synchronous counters and histograms only.
 *
 * @internal
 */
export type Temporality = "cumulative" | "delta" | "lowmemory"

/** @internal */
export const temporalities: ReadonlyArray<Temporality> = ["cumulative", "delta", "lowmemory"]

/**
 * A preference as the environment spells it (case-insensitive, trimmed), or `undefined`.
 *
 * @internal
 */
export const parseTemporality = (raw: string): Temporality | undefined => {
  const value = raw.trim().toLowerCase()
  return temporalities.find((temporality) => temporality === value)
}

/**
 * The temporality each instrument gets under a preference: the selector the OTLP metric exporter itself uses for
 * it (test/Export.test.ts compares the two for every instrument type).
 *
 * @internal
 */
export const temporalitySelector = (preference: Temporality): AggregationTemporalitySelector => {
  switch (preference) {
    case "cumulative":
      return () => AggregationTemporality.CUMULATIVE
    case "delta":
      return (type) =>
        type === InstrumentType.UP_DOWN_COUNTER || type === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
          ? AggregationTemporality.CUMULATIVE
          : AggregationTemporality.DELTA
    case "lowmemory":
      return (type) =>
        type === InstrumentType.COUNTER || type === InstrumentType.HISTOGRAM
          ? AggregationTemporality.DELTA
          : AggregationTemporality.CUMULATIVE
  }
}

type ExporterPreference = NonNullable<
  NonNullable<ConstructorParameters<typeof OTLPMetricExporter>[0]>["temporalityPreference"]
>

/**
 * The OTLP metric exporter's `temporalityPreference` for a preference: its own enum (`AggregationTemporalityPreference`:
 * DELTA 0, CUMULATIVE 1, LOWMEMORY 2), which the proto package does not export. The exporter's selector is what a
 * `PeriodicExportingMetricReader` selects with, and the producer below produces what its reader selects.
 *
 * @internal
 */
export const exporterPreference: Readonly<Record<Temporality, ExporterPreference>> = {
  delta: 0,
  cumulative: 1,
  lowmemory: 2
}

// --- the producer -------------------------------------------------------------------------------------------------

/** The instrumentation scope of the library's own metrics (those in `Metrics.units`). */
const libraryScope: InstrumentationScope = { name: Version.name, version: Version.version }

type Histogram = HistogramMetricData["dataPoints"][number]["value"]

/** What one reader's producer remembers of a series between two of its collections. */
interface Series {
  /** When the series started, for this reader: its cumulative points' start time. */
  readonly start: HrTime
  /** The cumulative value at the last collection. */
  readonly value: number | Histogram
}

/**
 * The stock @effect/opentelemetry producer exports the process-global `Metric.unsafeSnapshot()`, always cumulative,
 * every point starting at the first collection's time, in one scope (`@effect/opentelemetry/Metrics`), and takes a
 * unit only from a `unit` tag, which it then also exports as a data-point attribute. This one, one per reader:
 *
 * - sets the unit of each metric of the library (by name, `Metrics.units`) and leaves the tags alone, and moves
 *   those metrics into the library's own scope (`@botanu/effect` and its version); other metrics (the app's,
 *   Effect's runtime `effect_fiber_*`) stay where the stock producer put them;
 * - gives each series the temporality its reader selects (`selectAggregationTemporality`) and produces it: a delta
 *   point carries what was recorded since this reader's previous collection (counter and histogram differences;
 *   an unchanged series is left out), starting at that collection's time;
 * - starts each series when this reader last collected without it (the layer's start for a series present at the
 *   first collection), so that a cumulative point's interval holds everything in it.
 *
 * The values are the stock producer's, so that an app's own `NodeSdk.layer` exports the same numbers. State is
 * per series seen at the last collection (a series gone from the registry is forgotten; Effect's registry never
 * removes one), and all of it is work per collection, none per recorded value.
 *
 * @internal
 */
export class UnitAwareProducer implements MetricProducer {
  private series = new Map<string, Series>()
  private previousCollection: HrTime

  constructor(
    private readonly stock: MetricProducer,
    private readonly temporalityOf: AggregationTemporalitySelector = () => AggregationTemporality.CUMULATIVE,
    startTime: HrTime = millisToHrTime(Date.now())
  ) {
    this.previousCollection = startTime
  }

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const result = await this.stock.collect(options)
    const collection = new Collection(this.series, this.previousCollection, this.temporalityOf)
    const library: Array<MetricData> = []
    const scopeMetrics: Array<ScopeMetrics> = []
    for (const scope of result.resourceMetrics.scopeMetrics) {
      const others: Array<MetricData> = []
      for (const metric of scope.metrics) {
        const own = units.has(metric.descriptor.name)
        const shaped = collection.add(own ? withUnit(metric) : metric)
        if (shaped !== undefined) (own ? library : others).push(shaped)
      }
      if (others.length > 0) scopeMetrics.push({ ...scope, metrics: others })
    }
    if (library.length > 0) scopeMetrics.push({ scope: libraryScope, metrics: library })
    this.series = collection.next
    this.previousCollection = collection.time ?? millisToHrTime(Date.now())
    return { resourceMetrics: { ...result.resourceMetrics, scopeMetrics }, errors: result.errors }
  }
}

const isNumber = (value: number | Histogram): value is number => typeof value === "number"
const isHistogram = (value: number | Histogram): value is Histogram => typeof value === "object"
const never = () => false

const seriesKey = (name: string, attributes: object): string => `${name}\u0000${JSON.stringify(attributes)}`

/** One collection: the series of the previous one in, those of this one out. */
class Collection {
  readonly next = new Map<string, Series>()
  /** The stock producer's collection time, which every point it made carries as its end. */
  time: HrTime | undefined = undefined

  constructor(
    private readonly previous: ReadonlyMap<string, Series>,
    private readonly since: HrTime,
    private readonly temporalityOf: AggregationTemporalitySelector
  ) {}

  /**
   * Carries one point's series into this collection: its value at the previous collection (`undefined` for a new
   * series or one that was `reset`) and the start of its cumulative points.
   */
  private observe<V extends number | Histogram>(
    name: string,
    point: { readonly attributes: object; readonly endTime: HrTime; readonly value: V },
    isValue: (value: number | Histogram) => value is V,
    reset: (prior: V, value: V) => boolean
  ): { readonly prior: V | undefined; readonly start: HrTime } {
    this.time ??= point.endTime
    const key = seriesKey(name, point.attributes)
    const series = this.previous.get(key)
    const known = series !== undefined && isValue(series.value) ? series.value : undefined
    const prior = known !== undefined && reset(known, point.value) ? undefined : known
    const start = series === undefined || (known !== undefined && prior === undefined) ? this.since : series.start
    this.next.set(key, { start, value: point.value })
    return { prior, start }
  }

  /** The metric as its reader selects it, or `undefined` when a delta metric has nothing new. */
  add(metric: MetricData): MetricData | undefined {
    switch (metric.dataPointType) {
      case DataPointType.SUM: {
        const temporality = this.temporalityOf(
          metric.isMonotonic ? InstrumentType.COUNTER : InstrumentType.UP_DOWN_COUNTER
        )
        const delta = temporality === AggregationTemporality.DELTA
        const dataPoints: typeof metric.dataPoints = []
        for (const point of metric.dataPoints) {
          // A monotonic sum that went down was reset: it starts again (Effect's registry never does this).
          const { prior, start } = this.observe(
            metric.descriptor.name,
            point,
            isNumber,
            (before, after) => metric.isMonotonic && after < before
          )
          if (!delta) {
            dataPoints.push({ ...point, startTime: start })
            continue
          }
          const value = prior === undefined ? point.value : point.value - prior
          if (value !== 0) dataPoints.push({ ...point, startTime: this.since, value })
        }
        if (delta && dataPoints.length === 0) return undefined
        return { ...metric, aggregationTemporality: temporality, dataPoints }
      }
      case DataPointType.HISTOGRAM: {
        const temporality = this.temporalityOf(InstrumentType.HISTOGRAM)
        const delta = temporality === AggregationTemporality.DELTA
        const dataPoints: typeof metric.dataPoints = []
        for (const point of metric.dataPoints) {
          const { prior, start } = this.observe(
            metric.descriptor.name,
            point,
            isHistogram,
            (before, after) => !sameBuckets(before, after)
          )
          if (!delta) {
            dataPoints.push({ ...point, startTime: start })
            continue
          }
          const value = prior === undefined || prior.count === 0 ? point.value : histogramDelta(prior, point.value)
          if (value.count > 0) dataPoints.push({ ...point, startTime: this.since, value })
        }
        if (delta && dataPoints.length === 0) return undefined
        return { ...metric, aggregationTemporality: temporality, dataPoints }
      }
      case DataPointType.GAUGE: {
        // A gauge is its last value whatever the temporality; only its start time is the series'.
        const dataPoints: typeof metric.dataPoints = []
        for (const point of metric.dataPoints) {
          const { start } = this.observe(metric.descriptor.name, point, isNumber, never)
          dataPoints.push({ ...point, startTime: start })
        }
        return { ...metric, aggregationTemporality: this.temporalityOf(InstrumentType.GAUGE), dataPoints }
      }
      default:
        // The stock producer makes no exponential histograms.
        return metric
    }
  }
}

/** The same bucket boundaries and no count gone down: the later histogram holds the earlier one. */
const sameBuckets = (before: Histogram, after: Histogram): boolean => {
  if (after.count < before.count) return false
  const a = before.buckets.boundaries
  const b = after.buckets.boundaries
  if (a.length !== b.length || before.buckets.counts.length !== after.buckets.counts.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  for (let i = 0; i < before.buckets.counts.length; i++) {
    if (after.buckets.counts[i] < before.buckets.counts[i]) return false
  }
  return true
}

/**
 * What was recorded between two cumulative histograms of one series. Its min (max) is known exactly only when the
 * cumulative min went down (max went up) in between: the new extreme was recorded then. Otherwise it is left out
 * (OTLP's min and max are optional), never guessed.
 */
const histogramDelta = (before: Histogram, after: Histogram): Histogram => {
  const value: Histogram = {
    buckets: {
      boundaries: after.buckets.boundaries,
      counts: after.buckets.counts.map((count, i) => count - before.buckets.counts[i])
    },
    count: after.count - before.count
  }
  if (after.sum !== undefined && before.sum !== undefined) value.sum = after.sum - before.sum
  if (after.min !== undefined && (before.min === undefined || after.min < before.min)) value.min = after.min
  if (after.max !== undefined && (before.max === undefined || after.max > before.max)) value.max = after.max
  return value
}

// --- units and typed attributes -----------------------------------------------------------------------------------

const withUnit = (metric: MetricData): MetricData => {
  const unit = units.get(metric.descriptor.name)
  if (unit === undefined) return metric
  return { ...metric, descriptor: { ...metric.descriptor, unit }, ...withTypedAttributes(metric) } as MetricData
}

// Effect's metric labels are strings: `server.port` is an integer attribute in the conventions, and the overflow
// series' `otel.metric.overflow` the boolean `true` (as the OpenTelemetry SDK writes it), so the metrics that carry
// them export them so. Only the data points that have one are copied.
const withTypedAttributes = (metric: MetricData): Partial<MetricData> => {
  let changed = false
  const dataPoints = (metric.dataPoints as Array<MetricData["dataPoints"][number]>).map((point) => {
    const port = point.attributes[ServerPort]
    const overflow = point.attributes[OtelMetricOverflow]
    if (typeof port !== "string" && overflow !== "true") return point
    changed = true
    const attributes = { ...point.attributes }
    if (typeof port === "string") attributes[ServerPort] = Number(port)
    if (overflow === "true") attributes[OtelMetricOverflow] = true
    return { ...point, attributes }
  })
  return changed ? { dataPoints } as Partial<MetricData> : {}
}

// --- the layer ----------------------------------------------------------------------------------------------------

/**
 * Binds Effect's metrics, through a unit-aware producer of its own for each reader (a delta reader's state is its
 * own), to the given readers for the layer's lifetime. On release the readers are shut down (their last export),
 * for at most `shutdownTimeout`: a duration, or an effect run at release that gives what is left of a shutdown
 * budget shared with the span flush (see `ExportPipeline.ShutdownBudget`).
 *
 * @internal
 */
export const layer = (
  readers: () => MetricReader | NonEmptyReadonlyArray<MetricReader>,
  shutdownTimeout: Duration.DurationInput | Effect.Effect<Duration.Duration> = Duration.seconds(3)
): Layer.Layer<never, never, Resource.Resource> =>
  Layer.scopedDiscard(Effect.flatMap(OtelMetrics.makeProducer, (stock) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        const made = readers()
        const list: ReadonlyArray<MetricReader> = Array.isArray(made) ? made : [made as MetricReader]
        const startTime = millisToHrTime(Date.now())
        for (const reader of list) {
          reader.setMetricProducer(
            new UnitAwareProducer(stock, (type) => reader.selectAggregationTemporality(type), startTime)
          )
        }
        return list
      }),
      (list) =>
        Effect.flatMap(
          Effect.isEffect(shutdownTimeout) ? shutdownTimeout : Effect.succeed(shutdownTimeout),
          (timeout) =>
            Effect.promise(() => Promise.all(list.map((reader) => reader.shutdown()))).pipe(
              Effect.ignoreLogged,
              Effect.interruptible,
              Effect.timeoutOption(timeout)
            )
        )
    )))
