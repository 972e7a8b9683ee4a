/**
 * Tracking for tests, yours and ours: real OpenTelemetry SDK pipelines that keep finished spans in memory and
 * collect metrics on demand. Each build of the layer makes a fresh exporter and reader.
 *
 * @since 0.1.0
 */
import type * as Resource from "@effect/opentelemetry/Resource"
import { MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as MetricProducer from "./internal/metricProducer.js"
import * as Tracking from "./Tracking.js"

class OnDemandMetricReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TrackingTest extends Context.Tag("@botanu/effect/TrackingTest")<TrackingTest, TrackingTest.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace TrackingTest {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    readonly spanExporter: InMemorySpanExporter
    readonly metricReader: MetricReader
    /** Spans finished so far, in the order they ended. */
    readonly finishedSpans: Effect.Effect<ReadonlyArray<ReadableSpan>>
    /** Collects metrics now, through the real SDK reader. */
    readonly collectMetrics: Effect.Effect<ResourceMetrics>
    /** Forgets the spans finished so far. */
    readonly reset: Effect.Effect<void>
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TestOptions {
  /** See `Tracking.SdkOptions.usageCostAttribute`. Defaults to `false`, as in the other layers. */
  readonly usageCostAttribute?: boolean | undefined
  /**
   * The temporality `collectMetrics` collects with (see `Tracking.MetricTemporality`): with `"delta"`, each
   * collection holds what was recorded since the previous one. Defaults to `"cumulative"`.
   */
  readonly metricTemporality?: Tracking.MetricTemporality | undefined
}

/**
 * `layer` with the options of the tracking layers that change what is recorded, for testing code that turns them on.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: TestOptions = {}
): Layer.Layer<TrackingTest | Resource.Resource> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const spanExporter = new InMemorySpanExporter()
    const metricReader = new OnDemandMetricReader({
      aggregationTemporalitySelector: MetricProducer.temporalitySelector(options.metricTemporality ?? "cumulative")
    })
    const service: TrackingTest.Service = {
      spanExporter,
      metricReader,
      finishedSpans: Effect.sync(() => spanExporter.getFinishedSpans()),
      collectMetrics: Effect.promise(() => metricReader.collect()).pipe(
        Effect.tap(({ errors }) =>
          errors.length > 0 ? Effect.logWarning("metric collection errors", errors) : Effect.void
        ),
        Effect.map(({ resourceMetrics }) => resourceMetrics)
      ),
      reset: Effect.sync(() => spanExporter.reset())
    }
    return Layer.merge(
      Layer.succeed(TrackingTest, service),
      Tracking.layerSdk({
        resource: { serviceName: "botanu-test" },
        spanProcessor: () => new SimpleSpanProcessor(spanExporter),
        metricReader: () => metricReader,
        usageCostAttribute: options.usageCostAttribute
      })
    )
  }))

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<TrackingTest | Resource.Resource> = layerWith()

/**
 * @since 0.1.0
 * @category accessors
 */
export const finishedSpans: Effect.Effect<ReadonlyArray<ReadableSpan>, never, TrackingTest> = Effect.flatMap(
  TrackingTest,
  (test) => test.finishedSpans
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const collectMetrics: Effect.Effect<ResourceMetrics, never, TrackingTest> = Effect.flatMap(
  TrackingTest,
  (test) => test.collectMetrics
)

/**
 * @since 0.1.0
 * @category accessors
 */
export const reset: Effect.Effect<void, never, TrackingTest> = Effect.flatMap(TrackingTest, (test) => test.reset)
