import Anthropic from "@anthropic-ai/sdk"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import * as OtelApi from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { type MetricData, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Context, Data, Duration, Effect, Layer, Runtime, TestClock, Tracer } from "effect"
import { setTimeout as sleep } from "node:timers/promises"
import { LlmTracker, Pricing, ToolTracker, Tracking, TrackingTest, trackLlmCall, trackToolCall } from "../src/index.js"
import { fakeProvider } from "./utils/fakeProvider.js"
import { uniqueName } from "./utils/metrics.js"

class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

class Overloaded extends Data.TaggedError("Overloaded")<{}> {}

/** An app's own setup: @effect/opentelemetry's `NodeSdk.layer` with its stock metric producer. */
const appsOwnSdk = () => {
  const spans = new InMemorySpanExporter()
  const reader = new OnDemandReader()
  const layer = NodeSdk.layer(() => ({
    resource: { serviceName: "apps-own" },
    spanProcessor: new SimpleSpanProcessor(spans),
    metricReader: reader
  }))
  return { spans, reader, layer }
}

const priced = (model: string) =>
  Layer.succeed(
    Pricing.Pricing,
    Pricing.makeCustom({ prices: [{ model, prices: { inputPerMillion: 2.5, outputPerMillion: 10 } }] })
  )

/** The same calls, whatever the setup: three priced calls, one failure, a tool call; 1.5 s each on the TestClock. */
const workload = (model: string, tool: string) => {
  const call = (inputTokens: number, outputTokens: number) =>
    Effect.gen(function*() {
      const tracker = yield* LlmTracker
      yield* TestClock.adjust(Duration.millis(1500))
      yield* tracker.setTokens({ inputTokens, outputTokens, cachedTokens: 100 })
    }).pipe(trackLlmCall({ provider: "openai", model }))
  return Effect.gen(function*() {
    yield* call(1000, 200)
    yield* call(1000, 200)
    yield* call(50_000, 3)
    yield* Effect.fail(new Overloaded()).pipe(trackLlmCall({ provider: "openai", model }), Effect.ignore)
    yield* Effect.flatMap(ToolTracker, (t) => t.setResult({ success: true })).pipe(trackToolCall({ toolName: tool }))
  })
}

/** Every point of our metrics for one model and tool, the model and tool names left out, in a stable order. */
const pointsOf = (collected: ResourceMetrics, model: string, tool: string) => {
  const metrics: Array<MetricData> = collected.scopeMetrics.flatMap((scope) => scope.metrics)
  const result: Record<string, Array<unknown>> = {}
  for (const metric of metrics) {
    const points = (metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>)
      .filter((point) =>
        point.attributes["gen_ai.request.model"] === model || point.attributes["gen_ai.tool.name"] === tool
      )
      .map((point) => {
        const { "gen_ai.request.model": _model, "gen_ai.tool.name": _tool, ...attributes } = point.attributes
        return { attributes, value: point.value }
      })
      .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)))
    if (points.length > 0) result[metric.descriptor.name] = points
  }
  return result
}

describe("under the app's own NodeSdk.layer (the stock metric producer)", () => {
  it.effect("every metric exports the same values as under the library's layers, cost in US dollars", () =>
    Effect.gen(function*() {
      const own = appsOwnSdk()
      const ownModel = uniqueName("own-sdk")
      const ownTool = uniqueName("own-tool")
      const underOwn = yield* Effect.gen(function*() {
        yield* workload(ownModel, ownTool)
        // Inside the layer: releasing it shuts the reader down.
        return pointsOf((yield* Effect.promise(() => own.reader.collect())).resourceMetrics, ownModel, ownTool)
      }).pipe(Effect.provide(Layer.merge(own.layer, priced(ownModel))))

      const oursModel = uniqueName("library-sdk")
      const oursTool = uniqueName("library-tool")
      const underOurs = yield* Effect.gen(function*() {
        yield* workload(oursModel, oursTool)
        return pointsOf(yield* TrackingTest.collectMetrics, oursModel, oursTool)
      }).pipe(Effect.provide(Layer.merge(TrackingTest.layer, priced(oursModel))))

      assert.deepStrictEqual(Object.keys(underOwn).sort(), [
        "botanu.gen_ai.attempts",
        "botanu.gen_ai.cost",
        "botanu.tool.duration",
        "botanu.tool.executions",
        "gen_ai.client.operation.duration",
        "gen_ai.client.token.usage"
      ])
      assert.deepStrictEqual(underOwn, underOurs)
      // 2 x (1000 x $2.5/M + 200 x $10/M) + 50,000 x $2.5/M + 3 x $10/M = $0.009 + $0.12503 = $0.13403
      const cost = underOwn["botanu.gen_ai.cost"] as Array<{ value: number }>
      assert.strictEqual(cost.length, 1)
      assert.closeTo(cost[0].value, 0.13403, 1e-15)
    }))
})

/** The span id that code which is not Effect sees as active: synchronously, and after an await. */
const seenByPlainCode = Effect.promise(async () => {
  const before = OtelApi.trace.getActiveSpan()?.spanContext().spanId
  await sleep(1)
  const after = OtelApi.trace.getActiveSpan()?.spanContext().spanId
  return { before, after }
})

const trackedSeen = seenByPlainCode.pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

const spanIdOf = (spans: ReadonlyArray<ReadableSpan>, name: string) => {
  const found = spans.filter((span) => span.name === name)
  assert.strictEqual(found.length, 1, name)
  return found[0].spanContext().spanId
}

describe("code that is not Effect, inside a tracked call", () => {
  it.live("sees the tracked span as active under the library's layers, across an await", () =>
    Effect.gen(function*() {
      const seen = yield* trackedSeen
      const id = spanIdOf(yield* TrackingTest.finishedSpans, "chat gpt-4o-mini")
      assert.deepStrictEqual(seen, { before: id, after: id })
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("sees nothing under a bare NodeSdk.layer, and the tracked span once Tracking.layerContextManager is added", () =>
    Effect.gen(function*() {
      const bare = appsOwnSdk()
      const seenBare = yield* trackedSeen.pipe(Effect.provide(bare.layer))
      assert.deepStrictEqual(seenBare, { before: undefined, after: undefined })

      const withManager = appsOwnSdk()
      const { id, seen } = yield* Effect.map(trackedSeen, (seen) => ({
        seen,
        // Inside the layer: releasing it shuts the exporter down, which forgets its spans.
        id: spanIdOf(withManager.spans.getFinishedSpans(), "chat gpt-4o-mini")
      })).pipe(Effect.provide(Tracking.layerContextManager.pipe(Layer.provideMerge(withManager.layer))))
      assert.deepStrictEqual(seen, { before: id, after: id })
    }))

  it.live("the Anthropic SDK's own span is a child of the tracked span, and its request carries the trace", () =>
    Effect.gen(function*() {
      const fake = yield* fakeProvider
      // The SDK's own OpenTelemetry spans are on by default once a global tracer provider is registered.
      const client = new Anthropic({ apiKey: "k", baseURL: fake.url, maxRetries: 0 })
      yield* Effect.promise(() =>
        client.messages.create({
          model: "claude-sonnet-4-5",
          max_tokens: 64,
          messages: [{ role: "user", content: "Hello" }]
        })
      ).pipe(trackLlmCall({ provider: "anthropic", model: "claude-sonnet-4-5" }))
      const spans = yield* TrackingTest.finishedSpans
      const tracked = spans.find((span) => span.name === "chat claude-sonnet-4-5")!
      const sdkSpans = spans.filter((span) => span.instrumentationScope.name === "com.anthropic.sdk.typescript")
      assert.strictEqual(sdkSpans.length, 1, spans.map((span) => span.name).join(", "))
      assert.strictEqual(sdkSpans[0].parentSpanContext?.spanId, tracked.spanContext().spanId)
      assert.strictEqual(sdkSpans[0].spanContext().traceId, tracked.spanContext().traceId)
      const traceparent = fake.requests[0].headers.get("traceparent") ?? ""
      assert.include(traceparent, tracked.spanContext().traceId)
    }).pipe(Effect.scoped, Effect.provide(TrackingTest.layer)))
})

describe("the globals the library's layers register", () => {
  it.live("are released with the layer, and never replace what the app registered", () =>
    Effect.gen(function*() {
      yield* trackedSeen.pipe(Effect.provide(TrackingTest.layer))
      // Released: no global tracer provider and no context manager are left behind.
      const probe = OtelApi.trace.getTracer("probe").startSpan("probe")
      assert.isFalse(probe.isRecording())
      probe.end()
      const seenAfter = yield* seenByPlainCode.pipe(Effect.withSpan("plain"))
      assert.deepStrictEqual(seenAfter, { before: undefined, after: undefined })

      // An app that registered its own context manager keeps it, during and after the layer.
      let used = 0
      class AppsManager extends AsyncLocalStorageContextManager {
        override with<A extends ReadonlyArray<unknown>, F extends (...args: A) => ReturnType<F>>(
          context: OtelApi.Context,
          fn: F,
          thisArg?: ThisParameterType<F>,
          ...args: A
        ): ReturnType<F> {
          used++
          return super.with(context, fn, thisArg, ...args)
        }
      }
      assert.isTrue(OtelApi.context.setGlobalContextManager(new AppsManager().enable()))
      try {
        const seen = yield* Effect.gen(function*() {
          const result = yield* trackedSeen
          return { result, id: spanIdOf(yield* TrackingTest.finishedSpans, "chat gpt-4o-mini") }
        }).pipe(Effect.provide(TrackingTest.layer))
        assert.deepStrictEqual(seen.result, { before: seen.id, after: seen.id })
        assert.isAbove(used, 0)
        const usedBefore = used
        yield* seenByPlainCode.pipe(Effect.provide(appsOwnSdk().layer), Effect.withSpan("after"))
        assert.isAbove(used, usedBefore, "the app's manager is still the global one after the layer was released")
      } finally {
        OtelApi.context.disable()
      }
    }))
})

describe("spans made after a tracked call, in the same fiber", () => {
  // A fiber resumed by a callback that was registered inside a tracked span carries that span's OpenTelemetry
  // context in AsyncLocalStorage; a span made later with no Effect parent must not take it as its parent.
  it.live("are not children of an earlier call that has ended, nor is it active for plain code", () =>
    Effect.gen(function*() {
      const awaited = Effect.promise(() => sleep(2)).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))
      yield* awaited.pipe(Effect.withSpan("first", { root: true }))
      const seen = yield* seenByPlainCode
      yield* Effect.void.pipe(Effect.withSpan("second"))
      const spans = yield* TrackingTest.finishedSpans
      const second = spans.find((span) => span.name === "second")!
      assert.isUndefined(second.parentSpanContext, "second is a root span")
      assert.deepStrictEqual(seen, { before: undefined, after: undefined })
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("are not children of an earlier call under NodeSdk.layer with Tracking.layerContextManager either", () => {
    const own = appsOwnSdk()
    return Effect.gen(function*() {
      yield* Effect.promise(() => sleep(2)).pipe(
        trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }),
        Effect.withSpan("first", { root: true })
      )
      const seen = yield* seenByPlainCode
      yield* Effect.void.pipe(Effect.withSpan("second"))
      const second = own.spans.getFinishedSpans().find((span) => span.name === "second")!
      assert.isUndefined(second.parentSpanContext, "second is a root span")
      assert.deepStrictEqual(seen, { before: undefined, after: undefined })
    }).pipe(Effect.provide(Tracking.layerContextManager.pipe(Layer.provideMerge(own.layer))))
  })

  it.live("keep the context the fiber started in: a program run inside a plain OpenTelemetry span", () =>
    Effect.gen(function*() {
      const runtime = yield* Effect.runtime<never>()
      const outer = OtelApi.trace.getTracer("plain").startSpan("plain-request")
      const program = Effect.gen(function*() {
        yield* Effect.promise(() => sleep(2)).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))
        yield* Effect.promise(() => sleep(2))
        yield* Effect.void.pipe(Effect.withSpan("after-call"))
        return yield* seenByPlainCode
      })
      // As an HTTP server instrumented by OpenTelemetry would: the request's span is active when the program starts.
      const seen = yield* Effect.promise(() =>
        OtelApi.context.with(
          OtelApi.trace.setSpan(OtelApi.context.active(), outer),
          () => Runtime.runPromise(runtime)(program)
        )
      )
      outer.end()
      const spans = yield* TrackingTest.finishedSpans
      const outerId = outer.spanContext().spanId
      assert.strictEqual(spans.find((span) => span.name === "chat gpt-4o-mini")!.parentSpanContext?.spanId, outerId)
      assert.strictEqual(spans.find((span) => span.name === "after-call")!.parentSpanContext?.spanId, outerId)
      assert.deepStrictEqual(seen, { before: outerId, after: outerId })
    }).pipe(Effect.provide(TrackingTest.layer)))
})

describe("the OpenTelemetry context that each step of a tracked call runs in", () => {
  /** `n` tracked calls at once, each looking twice, with a yield between: what plain code saw, and the span ids. */
  const concurrentCalls = <R>(n: number, spansOf: Effect.Effect<ReadonlyArray<ReadableSpan>, never, R>) =>
    Effect.gen(function*() {
      const models = Array.from({ length: n }, () => uniqueName("concurrent"))
      const seen = yield* Effect.forEach(
        models,
        (model) =>
          Effect.zip(seenByPlainCode, Effect.zipRight(Effect.yieldNow(), seenByPlainCode)).pipe(
            trackLlmCall({ provider: "openai", model })
          ),
        { concurrency: "unbounded" }
      )
      const spans = yield* spansOf
      return { seen, ids: models.map((model) => spanIdOf(spans, `chat ${model}`)) }
    })

  const expectOwnSpan = ({ ids, seen }: { ids: ReadonlyArray<string>; seen: ReadonlyArray<unknown> }) =>
    assert.deepStrictEqual(seen, ids.map((id) => [{ before: id, after: id }, { before: id, after: id }]))

  it.live("is each call's own span when calls run at once, in fibers that interleave", () =>
    concurrentCalls(6, TrackingTest.finishedSpans).pipe(Effect.map(expectOwnSpan), Effect.provide(TrackingTest.layer)))

  it.live("is each call's own span with registerGlobals: false and a context manager the app registered", () => {
    const spans = new InMemorySpanExporter()
    const layer = Tracking.layerSdk({
      resource: { serviceName: "own-manager" },
      spanProcessor: () => new SimpleSpanProcessor(spans),
      registerGlobals: false
    })
    return Effect.acquireUseRelease(
      Effect.sync(() => OtelApi.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())),
      () =>
        Effect.gen(function*() {
          expectOwnSpan(yield* concurrentCalls(4, Effect.sync(() => spans.getFinishedSpans())))
          // A span that does not propagate leaves the tracked span active for plain code, as the bridge does.
          const hidden = yield* seenByPlainCode.pipe(
            Effect.withSpan("hidden", { context: Context.make(Tracer.DisablePropagation, true) }),
            trackLlmCall({ provider: "openai", model: "gpt-4o-mini" })
          )
          const id = spanIdOf(spans.getFinishedSpans(), "chat gpt-4o-mini")
          assert.deepStrictEqual(hidden, { before: id, after: id })
        }).pipe(Effect.provide(layer)),
      (registered) => Effect.sync(() => registered && OtelApi.context.disable())
    )
  })

  it.live("is each call's own span under NodeSdk.layer with Tracking.layerContextManager", () => {
    const own = appsOwnSdk()
    return concurrentCalls(4, Effect.sync(() => own.spans.getFinishedSpans())).pipe(
      Effect.map(expectOwnSpan),
      Effect.provide(Tracking.layerContextManager.pipe(Layer.provideMerge(own.layer)))
    )
  })

  it.live("is still entered by the app's own tracer when it wraps the bridge's, under layerContextManager", () => {
    const own = appsOwnSdk()
    let entered = 0
    // An app's tracer with a `context` of its own: it must keep running for the steps of a tracked call.
    const counting = Layer.unwrapEffect(Effect.map(Effect.tracer, (tracer) =>
      Layer.setTracer({
        ...tracer,
        context(execution, fiber) {
          if (fiber.currentSpan !== undefined) entered++
          return tracer.context(execution, fiber)
        }
      })))
    return concurrentCalls(2, Effect.sync(() => own.spans.getFinishedSpans())).pipe(
      Effect.map((result) => {
        expectOwnSpan(result)
        assert.isAbove(entered, 0)
      }),
      Effect.provide(Tracking.layerContextManager.pipe(Layer.provideMerge(counting), Layer.provideMerge(own.layer)))
    )
  })

  it.live("is no span with registerGlobals: false and no context manager, as under the bridge alone", () => {
    const spans = new InMemorySpanExporter()
    return trackedSeen.pipe(
      Effect.map((seen) => assert.deepStrictEqual(seen, { before: undefined, after: undefined })),
      Effect.provide(Tracking.layerSdk({
        resource: { serviceName: "no-manager" },
        spanProcessor: () => new SimpleSpanProcessor(spans),
        registerGlobals: false
      }))
    )
  })
})
