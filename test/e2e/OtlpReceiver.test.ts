/**
 * The test receiver (test/utils/otlpReceiver.ts) against the real OTLP/HTTP protobuf exporters: what it decodes, and
 * each answer it can give (accept, reject, never answer), as the exporters see them. Needs the official .proto
 * files (`scripts/otel-backends.sh install`, which `npm run test:e2e` runs); skipped, and says so, without them.
 */
import { assert, describe, it } from "@effect/vitest"
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api"
import { type ExportResult, ExportResultCode } from "@opentelemetry/core"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor
} from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { Answer, defaultProtoInclude, make } from "../utils/otlpReceiver.js"
import * as OtlpReceiver from "../utils/otlpReceiver.js"
import { howToRun } from "./harness.js"

const protos = `${defaultProtoInclude}/opentelemetry/proto/collector/trace/v1/trace_service.proto`
const required = process.env.BOTANU_E2E_REQUIRED === "1"

/** Two finished spans, a parent and a child, made by the real SDK. */
const someSpans = (): Array<ReadableSpan> => {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "receiver-test" }),
    spanProcessors: [new SimpleSpanProcessor(memory)]
  })
  const tracer = provider.getTracer("receiver-test-scope", "1.2.3")
  const parent = tracer.startSpan("parent", { kind: SpanKind.SERVER })
  const child = tracer.startSpan("child", {
    kind: SpanKind.CLIENT,
    attributes: { int: 42, double: 0.5, text: "a", flag: true, list: ["x", "y"] }
  }, trace.setSpan(context.active(), parent))
  child.setStatus({ code: SpanStatusCode.ERROR, message: "boom" })
  child.addEvent("exception", { "exception.message": "boom" })
  child.end()
  parent.end()
  return memory.getFinishedSpans()
}

class OnDemandReader extends MetricReader {
  protected onForceFlush() {
    return Promise.resolve()
  }
  protected onShutdown() {
    return Promise.resolve()
  }
}

const someMetrics = (): Effect.Effect<ResourceMetrics> =>
  Effect.promise(async () => {
    const reader = new OnDemandReader()
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ "service.name": "receiver-test" }),
      readers: [reader]
    })
    const meter = provider.getMeter("receiver-test-scope")
    meter.createCounter("requests", { unit: "{request}" }).add(3, { route: "/a" })
    meter.createHistogram("latency", { unit: "s" }).record(0.25)
    const { resourceMetrics } = await reader.collect()
    return resourceMetrics
  })

const exported = <A>(exporter: { export: (items: A, done: (result: ExportResult) => void) => void }, items: A) =>
  Effect.async<ExportResult>((resume) => exporter.export(items, (result) => resume(Effect.succeed(result))))

const checks = () => {
  it.scopedLive("decodes exported spans: hex ids, parents, kinds, statuses, typed attributes, resource, scope", () =>
    Effect.gen(function*() {
      const receiver = yield* make()
      const spans = someSpans()
      const result = yield* exported(new OTLPTraceExporter({ url: receiver.tracesUrl }), spans)
      assert.strictEqual(result.code, ExportResultCode.SUCCESS, String(result.error))
      const received = yield* receiver.spans
      assert.strictEqual(received.length, 2)
      const parent = received.find((span) => span.name === "parent")!
      const child = received.find((span) => span.name === "child")!
      assert.strictEqual(parent.spanId, spans.find((span) => span.name === "parent")!.spanContext().spanId)
      assert.strictEqual(parent.traceId, spans[0].spanContext().traceId)
      assert.match(parent.traceId, /^[0-9a-f]{32}$/)
      assert.strictEqual(parent.parentSpanId, "")
      assert.strictEqual(child.parentSpanId, parent.spanId)
      assert.strictEqual(parent.kind, "SPAN_KIND_SERVER")
      assert.strictEqual(child.kind, "SPAN_KIND_CLIENT")
      assert.deepStrictEqual(child.status, { code: "STATUS_CODE_ERROR", message: "boom" })
      assert.strictEqual(parent.status.code, "STATUS_CODE_UNSET")
      assert.deepStrictEqual(OtlpReceiver.attributesOf(child.attributes), {
        int: 42,
        double: 0.5,
        text: "a",
        flag: true,
        list: ["x", "y"]
      })
      assert.deepStrictEqual(child.events.map((event) => event.name), ["exception"])
      assert.strictEqual(child.resource["service.name"], "receiver-test")
      assert.deepStrictEqual(child.scope, { name: "receiver-test-scope", version: "1.2.3" })
      assert.match(child.startTimeUnixNano, /^\d{19}$/)
    }))

  it.scopedLive("decodes exported metrics: sums and histograms with their units and temporality", () =>
    Effect.gen(function*() {
      const receiver = yield* make()
      const result = yield* exported(new OTLPMetricExporter({ url: receiver.metricsUrl }), yield* someMetrics())
      assert.strictEqual(result.code, ExportResultCode.SUCCESS, String(result.error))
      const [body] = yield* receiver.metrics
      const metrics = body.resourceMetrics[0].scopeMetrics[0].metrics
      const requests = metrics.find((metric) => metric.name === "requests")!
      assert.strictEqual(requests.data, "sum")
      assert.strictEqual(requests.unit, "{request}")
      assert.strictEqual(requests.sum!.isMonotonic, true)
      assert.strictEqual(requests.sum!.aggregationTemporality, "AGGREGATION_TEMPORALITY_CUMULATIVE")
      const [point] = requests.sum!.dataPoints
      assert.deepStrictEqual(OtlpReceiver.attributesOf(point.attributes), { route: "/a" })
      assert.strictEqual(point.value === "asInt" ? Number(point.asInt) : point.asDouble, 3)
      const latency = metrics.find((metric) => metric.name === "latency")!
      assert.strictEqual(latency.data, "histogram")
      assert.strictEqual(latency.unit, "s")
      assert.strictEqual(latency.histogram!.dataPoints[0].count, "1")
      assert.strictEqual(latency.histogram!.dataPoints[0].sum, 0.25)
    }))

  it.scopedLive("rejects with the status asked for, per signal: recorded, not kept", () =>
    Effect.gen(function*() {
      const receiver = yield* make()
      yield* receiver.answerWith(Answer.reject(400), "traces")
      const result = yield* exported(new OTLPTraceExporter({ url: receiver.tracesUrl }), someSpans())
      assert.strictEqual(result.code, ExportResultCode.FAILED)
      const metrics = yield* exported(new OTLPMetricExporter({ url: receiver.metricsUrl }), yield* someMetrics())
      assert.strictEqual(metrics.code, ExportResultCode.SUCCESS, "metrics are still accepted")
      const requests = yield* receiver.requests
      assert.deepStrictEqual(requests.map((request) => [request.signal, request.answer._tag]), [
        ["traces", "Reject"],
        ["metrics", "Accept"]
      ])
      assert.deepStrictEqual(yield* receiver.spans, [])
    }))

  it.scopedLive("never answers: the exporter times out, and the scope still closes", () =>
    Effect.gen(function*() {
      const receiver = yield* make({ answer: Answer.neverAnswer })
      const started = Date.now()
      const result = yield* exported(
        new OTLPTraceExporter({ url: receiver.tracesUrl, timeoutMillis: 300 }),
        someSpans()
      )
      assert.strictEqual(result.code, ExportResultCode.FAILED)
      assert.isAtLeast(Date.now() - started, 250)
      assert.isAtLeast((yield* receiver.requests).length, 1)
      assert.deepStrictEqual(yield* receiver.traces, [])
    }))

  it.scopedLive("refuses what is not OTLP protobuf", () =>
    Effect.gen(function*() {
      const receiver = yield* make()
      const json = yield* Effect.promise(() =>
        fetch(receiver.tracesUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
      )
      assert.strictEqual(json.status, 415)
      const elsewhere = yield* Effect.promise(() => fetch(`${receiver.url}/v1/logs`, { method: "POST" }))
      assert.strictEqual(elsewhere.status, 404)
      assert.deepStrictEqual((yield* receiver.invalid).map((request) => request.status), [415, 404])
      assert.deepStrictEqual(yield* receiver.requests, [])
    }))
}

const title = "the test OTLP receiver, against the real OTLP exporters"

if (existsSync(protos)) {
  describe(title, checks)
} else {
  const notRun = `NOT RUN: ${title}: the official OTLP .proto files are not installed (no ${protos}). ${howToRun}.`
  if (required) {
    describe(title, () => {
      it("needs the OTLP protos (BOTANU_E2E_REQUIRED=1)", () => {
        assert.fail(notRun)
      })
    })
  } else {
    console.warn(notRun)
    describe.skip(`${title}: ${notRun}`, () => {
      it("did not run", () => {})
    })
  }
}
