/**
 * What the layers export besides the values: the resource (service.instance.id, telemetry.sdk.*,
 * OTEL_RESOURCE_ATTRIBUTES), the instrumentation scopes, and temporality (cumulative start times per series; delta
 * differences per reader), read from in-memory readers bound through the library's own producer.
 */
import * as OtelResource from "@effect/opentelemetry/Resource"
import { assert, describe, it } from "@effect/vitest"
import type { HrTime } from "@opentelemetry/api"
import { hrTimeToMilliseconds, SDK_INFO } from "@opentelemetry/core"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto"
import {
  AggregationTemporality,
  type AggregationTemporalitySelector,
  type CollectionResult,
  DataPointType,
  type Histogram,
  InstrumentType,
  type MetricData,
  type MetricProducer,
  MetricReader,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { ConfigProvider, Effect, Either, Logger, Metric } from "effect"
import { readFileSync } from "node:fs"
import { LlmTracker, Tracking, TrackingTest, trackLlmCall } from "../src/index.js"
import * as MetricProducerInternal from "../src/internal/metricProducer.js"
import { parseResourceAttributes } from "../src/internal/resource.js"
import * as Version from "../src/internal/version.js"
import { serveWebHandler } from "./utils/httpServer.js"
import { metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"

const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  readonly name: string
  readonly version: string
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const configFrom = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))

class OnDemandReader extends MetricReader {
  protected onForceFlush() {
    return Promise.resolve()
  }
  protected onShutdown() {
    return Promise.resolve()
  }
}

const collect = (reader: MetricReader): Effect.Effect<ResourceMetrics> =>
  Effect.promise(() => reader.collect()).pipe(Effect.map(({ resourceMetrics }) => resourceMetrics))

/** `layerSdk` over an in-memory span exporter and the given readers. */
const sdkLayer = (
  readers: ReadonlyArray<MetricReader>,
  resource: Tracking.SdkOptions["resource"] = { serviceName: "export-test" }
) =>
  Tracking.layerSdk({
    resource,
    spanProcessor: () => new SimpleSpanProcessor(new InMemorySpanExporter()),
    metricReader: () => readers as [MetricReader, ...Array<MetricReader>],
    registerGlobals: false
  })

const resourceAttributes = Effect.map(OtelResource.Resource, (resource) => ({ ...resource.attributes }))

/** One LLM call of a model, with these tokens. */
const call = (model: string, inputTokens: number, outputTokens: number) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens, outputTokens })
  }).pipe(trackLlmCall({ provider: "openai", model }))

const ms = (time: HrTime) => hrTimeToMilliseconds(time)

interface Point<A> {
  readonly startTime: HrTime
  readonly endTime: HrTime
  readonly attributes: Record<string, unknown>
  readonly value: A
}

/** The points of one metric for one model (none when the metric or its points are absent, as in a delta). */
const pointsOf = <A>(collected: ResourceMetrics, name: string, model: string): Array<Point<A>> => {
  const metric = collected.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name)
  return metric === undefined ? [] : pointsWhere(metric, "gen_ai.request.model", model) as Array<Point<A>>
}

const inputTokens = (collected: ResourceMetrics, model: string): Point<Histogram> | undefined =>
  pointsOf<Histogram>(collected, "gen_ai.client.token.usage", model).find((point) =>
    point.attributes["gen_ai.token.type"] === "input"
  )

const attempts = (collected: ResourceMetrics, model: string): Point<number> | undefined =>
  pointsOf<number>(collected, "botanu.gen_ai.attempts", model)[0]

/** The wall clock moves on between two collections, so that their times differ. */
const tick = Effect.sleep("3 millis")

// --- the resource -------------------------------------------------------------------------------------------------

describe("the resource", () => {
  const sdk = {
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.language": "nodejs",
    "telemetry.sdk.version": SDK_INFO["telemetry.sdk.version"]
  }

  it.effect("TrackingTest.layer: the service, a random service.instance.id per build, telemetry.sdk.* as the SDK", () =>
    Effect.gen(function*() {
      const build = resourceAttributes.pipe(Effect.provide(TrackingTest.layer))
      const first = yield* build
      const second = yield* build
      assert.match(String(first["service.instance.id"]), uuid)
      assert.deepStrictEqual(first, {
        "service.name": "botanu-test",
        "service.instance.id": first["service.instance.id"],
        ...sdk
      })
      assert.notStrictEqual(first["service.instance.id"], second["service.instance.id"])
      // The SDK's own version, not the bridge's name.
      assert.strictEqual(SDK_INFO["telemetry.sdk.name"], "opentelemetry")
      assert.match(String(sdk["telemetry.sdk.version"]), /^2\.\d+\.\d+/)
    }).pipe(Effect.withConfigProvider(configFrom({}))))

  it.effect("spans and metrics carry that same resource", () =>
    Effect.gen(function*() {
      const attributes = yield* resourceAttributes
      yield* call(uniqueName("resource"), 10, 2)
      const [span] = yield* TrackingTest.finishedSpans
      assert.deepStrictEqual({ ...span.resource.attributes }, attributes)
      const collected = yield* TrackingTest.collectMetrics
      assert.deepStrictEqual({ ...collected.resource.attributes }, attributes)
    }).pipe(Effect.provide(TrackingTest.layer), Effect.withConfigProvider(configFrom({}))))

  it.effect("OTEL_RESOURCE_ATTRIBUTES is merged, percent-decoded: options win over it, it wins over the defaults", () =>
    Effect.gen(function*() {
      const attributes = yield* resourceAttributes.pipe(
        Effect.provide(sdkLayer([new OnDemandReader()], {
          serviceName: "from-options",
          serviceVersion: "1.2.3",
          attributes: { "deployment.environment.name": "prod" }
        })),
        Effect.withConfigProvider(configFrom({
          OTEL_RESOURCE_ATTRIBUTES: " service.name=from-env , team=ai%2Cml,k8s.pod.name=pod%3D7,,"
            + "deployment.environment.name=staging,service.version=0.0.1,telemetry.sdk.language=webjs"
        }))
      )
      assert.match(String(attributes["service.instance.id"]), uuid)
      assert.deepStrictEqual(attributes, {
        ...sdk,
        "telemetry.sdk.language": "webjs",
        "service.instance.id": attributes["service.instance.id"],
        "service.name": "from-options",
        "service.version": "1.2.3",
        "deployment.environment.name": "prod",
        team: "ai,ml",
        "k8s.pod.name": "pod=7"
      })
    }))

  it.effect("the app's own service.instance.id is kept: from OTEL_RESOURCE_ATTRIBUTES, or from the options over it", () =>
    Effect.gen(function*() {
      const env = configFrom({ OTEL_RESOURCE_ATTRIBUTES: "service.instance.id=pod-7" })
      const fromEnv = yield* resourceAttributes.pipe(
        Effect.provide(sdkLayer([new OnDemandReader()])),
        Effect.withConfigProvider(env)
      )
      assert.strictEqual(fromEnv["service.instance.id"], "pod-7")
      const fromOptions = yield* resourceAttributes.pipe(
        Effect.provide(sdkLayer([new OnDemandReader()], {
          serviceName: "s",
          attributes: { "service.instance.id": "replica-a" }
        })),
        Effect.withConfigProvider(env)
      )
      assert.strictEqual(fromOptions["service.instance.id"], "replica-a")
    }))

  it.effect("an invalid OTEL_RESOURCE_ATTRIBUTES is discarded whole, with a warning", () =>
    Effect.gen(function*() {
      const logged: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => {
        logged.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
      })
      const attributes = yield* resourceAttributes.pipe(
        Effect.provide(sdkLayer([new OnDemandReader()])),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Effect.withConfigProvider(configFrom({ OTEL_RESOURCE_ATTRIBUTES: "team=ai,a=b=c" }))
      )
      assert.isUndefined(attributes.team)
      assert.strictEqual(attributes["service.name"], "export-test")
      assert.strictEqual(logged.length, 1, logged.join("\n"))
      assert.match(logged[0], /^WARN OTEL_RESOURCE_ATTRIBUTES is ignored: "a=b=c" is not key=value/)
    }))

  it("parseResourceAttributes follows the specification and the SDK's env detector", () => {
    assert.deepStrictEqual(parseResourceAttributes(""), Either.right({}))
    assert.deepStrictEqual(
      parseResourceAttributes("a=1, b = two%20words ,%C3%A9=%E2%82%AC"),
      Either.right({ a: "1", b: "two words", "é": "€" })
    )
    assert.isTrue(Either.isLeft(parseResourceAttributes("a=1,b")))
    assert.isTrue(Either.isLeft(parseResourceAttributes("=1")))
    assert.isTrue(Either.isLeft(parseResourceAttributes("a=%E2%82")))
  })

  it.scoped("Tracking.layer: service.version, deployment.environment.name and OTEL_RESOURCE_ATTRIBUTES", () =>
    Effect.gen(function*() {
      // A collector that accepts everything, so that the layer's final export returns at once.
      const endpoint = yield* serveWebHandler(() =>
        Promise.resolve(new Response(new Uint8Array(), { headers: { "content-type": "application/x-protobuf" } }))
      )
      const attributes = yield* resourceAttributes.pipe(
        Effect.provide(Tracking.layer({
          endpoint,
          serviceVersion: "4.5.6",
          environment: "staging",
          registerGlobals: false,
          shutdownTimeout: "2 seconds"
        })),
        Effect.withConfigProvider(configFrom({
          OTEL_RESOURCE_ATTRIBUTES: "service.name=billing,service.namespace=shop,service.instance.id=pod-1"
        }))
      )
      assert.deepStrictEqual(attributes, {
        ...sdk,
        // No option, BOTANU_SERVICE_NAME or OTEL_SERVICE_NAME: the name in OTEL_RESOURCE_ATTRIBUTES, not the default.
        "service.name": "billing",
        "service.namespace": "shop",
        "service.instance.id": "pod-1",
        "service.version": "4.5.6",
        "deployment.environment.name": "staging"
      })
    }))

  it.effect("resolveOtlpConfig returns OTEL_RESOURCE_ATTRIBUTES and the service name's precedence over it", () =>
    Effect.gen(function*() {
      const resolve = (env: Record<string, string>, options?: Tracking.OtlpOptions) =>
        Tracking.resolveOtlpConfig(options).pipe(Effect.withConfigProvider(configFrom(env)))
      const env = { OTEL_RESOURCE_ATTRIBUTES: "service.name=res,service.version=9,deployment.environment.name=qa" }
      const config = yield* resolve(env)
      assert.deepStrictEqual(config.resourceAttributes, {
        "service.name": "res",
        "service.version": "9",
        "deployment.environment.name": "qa"
      })
      assert.strictEqual(config.serviceName, "res")
      assert.strictEqual(config.serviceVersion, "9")
      assert.strictEqual(config.environment, "qa")
      assert.strictEqual((yield* resolve({ ...env, OTEL_SERVICE_NAME: "otel" })).serviceName, "otel")
      const options = yield* resolve(env, { serviceName: "opt", serviceVersion: "1", environment: "dev" })
      assert.deepStrictEqual([options.serviceName, options.serviceVersion, options.environment], ["opt", "1", "dev"])
    }))
})

// --- instrumentation scopes ---------------------------------------------------------------------------------------

describe("instrumentation scopes", () => {
  it("the library's version is package.json's", () => {
    assert.strictEqual(Version.name, packageJson.name)
    assert.strictEqual(Version.version, packageJson.version)
  })

  it.effect("the library's metrics are in the scope @botanu/effect and its version; the app's stay in the bridge's", () =>
    Effect.gen(function*() {
      const appCounterName = uniqueName("app.requests")
      const appCounter = Metric.counter(appCounterName, { incremental: true })
      yield* Metric.increment(appCounter)
      yield* call(uniqueName("scope"), 10, 2)
      const collected = yield* TrackingTest.collectMetrics
      const library = collected.scopeMetrics.filter((scope) => scope.scope.name === "@botanu/effect")
      assert.strictEqual(library.length, 1)
      assert.deepStrictEqual(library[0].scope, { name: "@botanu/effect", version: packageJson.version })
      const names = new Set(library[0].metrics.map((metric) => metric.descriptor.name))
      for (const name of ["gen_ai.client.token.usage", "gen_ai.client.operation.duration", "botanu.gen_ai.attempts"]) {
        assert.isTrue(names.has(name), name)
      }
      for (const scope of collected.scopeMetrics) {
        if (scope === library[0]) continue
        for (const metric of scope.metrics) assert.isFalse(names.has(metric.descriptor.name), metric.descriptor.name)
      }
      const app = collected.scopeMetrics.find((scope) =>
        scope.metrics.some((metric) => metric.descriptor.name === appCounterName)
      )
      assert.deepStrictEqual(app?.scope, { name: "@effect/opentelemetry/Metrics" })
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("spans keep the bridge's one tracer, named after the service (a scope per span is not possible)", () =>
    Effect.gen(function*() {
      yield* call(uniqueName("scope"), 10, 2)
      yield* Effect.void.pipe(Effect.withSpan("app span"))
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.deepStrictEqual([span.instrumentationScope.name, span.instrumentationScope.version], [
          "botanu-test",
          undefined
        ])
      }
    }).pipe(Effect.provide(TrackingTest.layer)))
})

// --- temporality --------------------------------------------------------------------------------------------------

describe("temporality", () => {
  const delta = MetricProducerInternal.temporalitySelector("delta")
  const cumulative = MetricProducerInternal.temporalitySelector("cumulative")

  it("each preference selects what the OTLP exporter selects for it, for every instrument type", () => {
    for (const preference of MetricProducerInternal.temporalities) {
      const exporter = new OTLPMetricExporter({
        temporalityPreference: MetricProducerInternal.exporterPreference[preference]
      })
      const ours = MetricProducerInternal.temporalitySelector(preference)
      for (const type of Object.values(InstrumentType)) {
        assert.strictEqual(ours(type), exporter.selectAggregationTemporality(type), `${preference} ${type}`)
      }
    }
    // As the OTLP exporter specification defines them.
    const lowmemory = MetricProducerInternal.temporalitySelector("lowmemory")
    assert.strictEqual(delta(InstrumentType.COUNTER), AggregationTemporality.DELTA)
    assert.strictEqual(delta(InstrumentType.OBSERVABLE_COUNTER), AggregationTemporality.DELTA)
    assert.strictEqual(delta(InstrumentType.HISTOGRAM), AggregationTemporality.DELTA)
    assert.strictEqual(delta(InstrumentType.UP_DOWN_COUNTER), AggregationTemporality.CUMULATIVE)
    assert.strictEqual(lowmemory(InstrumentType.COUNTER), AggregationTemporality.DELTA)
    assert.strictEqual(lowmemory(InstrumentType.OBSERVABLE_COUNTER), AggregationTemporality.CUMULATIVE)
    assert.strictEqual(lowmemory(InstrumentType.HISTOGRAM), AggregationTemporality.DELTA)
  })

  it.effect("the option, else OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else cumulative", () =>
    Effect.gen(function*() {
      const resolve = (env: Record<string, string>, options?: Tracking.OtlpOptions) =>
        Effect.map(
          Tracking.resolveOtlpConfig(options).pipe(Effect.withConfigProvider(configFrom(env))),
          (config) => config.metricTemporality
        )
      const name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"
      assert.strictEqual(yield* resolve({}), "cumulative")
      assert.strictEqual(yield* resolve({ [name]: "Delta " }), "delta")
      assert.strictEqual(yield* resolve({ [name]: "lowmemory" }), "lowmemory")
      assert.strictEqual(yield* resolve({ [name]: "delta" }, { metricTemporality: "cumulative" }), "cumulative")
      const logged: Array<string> = []
      const invalid = yield* resolve({ [name]: "sometimes" }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logged.push(String(message)))))
      )
      assert.strictEqual(invalid, "cumulative")
      assert.deepStrictEqual(logged, [
        `${name}=sometimes is not one of cumulative, delta, lowmemory: metrics are exported cumulative`
      ])
    }))

  it.live("two readers, delta and cumulative: each gets its own differences and start times", () =>
    Effect.gen(function*() {
      const deltaReader = new OnDemandReader({ aggregationTemporalitySelector: delta })
      const cumulativeReader = new OnDemandReader({ aggregationTemporalitySelector: cumulative })
      const model = uniqueName("delta")
      const later = uniqueName("delta-later")
      const before = Date.now()
      const [d1, c1, d2, c2, d3, c3] = yield* Effect.gen(function*() {
        yield* call(model, 100, 10)
        yield* call(model, 200, 20)
        yield* tick
        const d1 = yield* collect(deltaReader)
        const c1 = yield* collect(cumulativeReader)
        yield* tick
        yield* call(model, 50, 5)
        yield* call(later, 1000, 1)
        yield* tick
        const d2 = yield* collect(deltaReader)
        const c2 = yield* collect(cumulativeReader)
        yield* tick
        // Nothing recorded since: the delta reader has nothing new for these series, the cumulative one the same.
        const d3 = yield* collect(deltaReader)
        const c3 = yield* collect(cumulativeReader)
        return [d1, c1, d2, c2, d3, c3] as const
      }).pipe(Effect.provide(sdkLayer([deltaReader, cumulativeReader])))

      // The data's temporality is the one its reader selects.
      for (const [reader, collected] of [[deltaReader, d1], [cumulativeReader, c1]] as const) {
        for (const name of ["botanu.gen_ai.attempts", "gen_ai.client.token.usage"]) {
          const metric = metricNamed(collected, name)
          const type = metric.dataPointType === DataPointType.HISTOGRAM
            ? InstrumentType.HISTOGRAM
            : InstrumentType.COUNTER
          assert.strictEqual(metric.aggregationTemporality, reader.selectAggregationTemporality(type), name)
        }
      }
      assert.strictEqual(metricNamed(d1, "botanu.gen_ai.attempts").aggregationTemporality, AggregationTemporality.DELTA)

      // First collection: the delta is everything so far, starting when the layer started.
      const a1 = attempts(d1, model)!
      assert.strictEqual(a1.value, 2)
      assert.isAtLeast(ms(a1.startTime), before - 1)
      assert.isBelow(ms(a1.startTime), ms(a1.endTime))
      const i1 = inputTokens(d1, model)!
      assert.deepStrictEqual([i1.value.count, i1.value.sum, i1.value.min, i1.value.max], [2, 300, 100, 200])

      // Second: only what came since, starting at the first collection's time.
      const a2 = attempts(d2, model)!
      assert.strictEqual(a2.value, 1)
      assert.deepStrictEqual(a2.startTime, a1.endTime)
      const i2 = inputTokens(d2, model)!
      assert.strictEqual(i2.value.count, 1)
      assert.strictEqual(i2.value.sum, 50)
      assert.strictEqual(i2.value.buckets.counts.reduce((sum, count) => sum + count, 0), 1)
      // 50 is a new minimum, so the delta's min is known; its max (50) is not the cumulative max: left out.
      assert.strictEqual(i2.value.min, 50)
      assert.isUndefined(i2.value.max)
      assert.deepStrictEqual(i2.startTime, i1.endTime)
      // A series that appeared between the collections: all of it, from the previous collection.
      const l2 = attempts(d2, later)!
      assert.strictEqual(l2.value, 1)
      assert.deepStrictEqual(l2.startTime, a1.endTime)
      assert.deepStrictEqual(
        [inputTokens(d2, later)!.value.min, inputTokens(d2, later)!.value.max],
        [1000, 1000]
      )
      // Third: nothing new, no points for these series.
      assert.isUndefined(attempts(d3, model))
      assert.isUndefined(inputTokens(d3, model))

      // The cumulative reader: totals, each series from when it started for this reader.
      const ca1 = attempts(c1, model)!
      const ca2 = attempts(c2, model)!
      const ca3 = attempts(c3, model)!
      assert.deepStrictEqual([ca1.value, ca2.value, ca3.value], [2, 3, 3])
      assert.deepStrictEqual(ca2.startTime, ca1.startTime)
      assert.deepStrictEqual(ca3.startTime, ca1.startTime)
      assert.isAtLeast(ms(ca1.startTime), before - 1)
      // Not the first collection's time: the series that appeared later starts after that collection.
      const cl2 = attempts(c2, later)!
      assert.deepStrictEqual(cl2.startTime, ca1.endTime)
      assert.deepStrictEqual(attempts(c3, later)!.startTime, ca1.endTime)
      assert.isAbove(ms(cl2.startTime), ms(ca1.startTime))
      const ci2 = inputTokens(c2, model)!
      assert.deepStrictEqual([ci2.value.count, ci2.value.sum, ci2.value.min, ci2.value.max], [3, 350, 50, 200])
      // The delta reader's points add up to the cumulative reader's.
      assert.strictEqual(a1.value + a2.value, ca2.value)
      assert.strictEqual(i1.value.sum! + i2.value.sum!, ci2.value.sum)
      assert.deepStrictEqual(
        i1.value.buckets.counts.map((count, i) => count + i2.value.buckets.counts[i]),
        ci2.value.buckets.counts
      )
    }))

  it.live("under delta an up-down counter stays cumulative, as the specification says", () =>
    Effect.gen(function*() {
      const reader = new OnDemandReader({ aggregationTemporalitySelector: delta })
      const gaugeName = uniqueName("app.in_flight")
      const gauge = Metric.counter(gaugeName)
      const [first, second] = yield* Effect.gen(function*() {
        yield* Metric.incrementBy(gauge, 3)
        const first = yield* collect(reader)
        yield* tick
        yield* Metric.incrementBy(gauge, -1)
        const second = yield* collect(reader)
        return [first, second] as const
      }).pipe(Effect.provide(sdkLayer([reader])))
      for (const [collected, value] of [[first, 3], [second, 2]] as const) {
        const metric = metricNamed(collected, gaugeName)
        assert.strictEqual(metric.aggregationTemporality, AggregationTemporality.CUMULATIVE)
        assert.strictEqual(metric.dataPoints[0].value, value)
      }
    }))

  it.live("TrackingTest.layerWith({ metricTemporality: \"delta\" }) collects deltas", () =>
    Effect.gen(function*() {
      const model = uniqueName("test-delta")
      yield* call(model, 10, 1)
      const first = yield* TrackingTest.collectMetrics
      yield* tick
      yield* call(model, 10, 1)
      yield* call(model, 10, 1)
      const second = yield* TrackingTest.collectMetrics
      assert.deepStrictEqual([attempts(first, model)?.value, attempts(second, model)?.value], [1, 2])
    }).pipe(Effect.provide(TrackingTest.layerWith({ metricTemporality: "delta" }))))
})

// --- the producer's per-series state, with a stock producer under the test's control -----------------------------

/** A stock producer whose next collections the test writes: one sum per collection, at the given time. */
const scriptedStock = (collections: Array<{ readonly time: number; readonly series: Record<string, number> }>) => {
  const stock: MetricProducer = {
    collect: () => {
      const next = collections.shift()!
      const time: HrTime = [Math.floor(next.time / 1000), (next.time % 1000) * 1e6]
      const metric: MetricData = {
        dataPointType: DataPointType.SUM,
        descriptor: { name: "app.things", description: "", unit: "1", valueType: 1 },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        isMonotonic: true,
        dataPoints: Object.entries(next.series).map(([series, value]) => ({
          startTime: time,
          endTime: time,
          attributes: { series },
          value
        }))
      }
      return Promise.resolve<CollectionResult>({
        resourceMetrics: {
          resource: undefined as never,
          scopeMetrics: [{ scope: { name: "@effect/opentelemetry/Metrics" }, metrics: [metric] }]
        },
        errors: []
      })
    }
  }
  return stock
}

const producerPoints = (selector: AggregationTemporalitySelector, collections: Parameters<typeof scriptedStock>[0]) =>
  Effect.promise(async () => {
    const count = collections.length
    const producer = new MetricProducerInternal.UnitAwareProducer(scriptedStock(collections), selector, [0, 0])
    const out: Array<Record<string, { readonly value: number; readonly start: number }>> = []
    for (let i = 0; i < count; i++) {
      const { resourceMetrics } = await producer.collect()
      const points = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).flatMap((metric) =>
        metric.dataPoints as Array<Point<number>>
      )
      out.push(Object.fromEntries(points.map((point) => [
        String(point.attributes.series),
        { value: point.value, start: ms(point.startTime) }
      ])))
    }
    return out
  })

describe("the producer's per-series state", () => {
  it.effect("a series that disappears is forgotten: when it comes back it starts anew", () =>
    Effect.gen(function*() {
      const collections = [
        { time: 1000, series: { a: 5, b: 1 } },
        { time: 2000, series: { a: 7 } },
        { time: 3000, series: { a: 7, b: 4 } }
      ]
      const deltas = yield* producerPoints(
        MetricProducerInternal.temporalitySelector("delta"),
        structuredClone(collections)
      )
      assert.deepStrictEqual(deltas, [
        { a: { value: 5, start: 0 }, b: { value: 1, start: 0 } },
        { a: { value: 2, start: 1000 } },
        // `a` unchanged: left out; `b` back after it was gone: its whole value, from the previous collection.
        { b: { value: 4, start: 2000 } }
      ])
      const cumulative = yield* producerPoints(MetricProducerInternal.temporalitySelector("cumulative"), collections)
      assert.deepStrictEqual(cumulative, [
        { a: { value: 5, start: 0 }, b: { value: 1, start: 0 } },
        { a: { value: 7, start: 0 } },
        { a: { value: 7, start: 0 }, b: { value: 4, start: 2000 } }
      ])
    }))

  it.effect("a monotonic sum that goes down was reset: it starts again", () =>
    Effect.gen(function*() {
      const collections = [{ time: 1000, series: { a: 5 } }, { time: 2000, series: { a: 2 } }]
      const deltas = yield* producerPoints(
        MetricProducerInternal.temporalitySelector("delta"),
        structuredClone(collections)
      )
      assert.deepStrictEqual(deltas, [{ a: { value: 5, start: 0 } }, { a: { value: 2, start: 1000 } }])
      const cumulative = yield* producerPoints(MetricProducerInternal.temporalitySelector("cumulative"), collections)
      assert.deepStrictEqual(cumulative, [{ a: { value: 5, start: 0 } }, { a: { value: 2, start: 1000 } }])
    }))
})
