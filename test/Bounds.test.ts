import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Cause, Chunk, Data, Effect, Exit, Fiber, FiberId, Layer, Option, Stream, Tracer } from "effect"
import { readFileSync } from "node:fs"
import {
  botanuWorkflow,
  LlmTracker,
  Pricing,
  ToolTracker,
  trackAgent,
  Tracking,
  TrackingTest,
  trackLlmCall,
  trackLlmStream,
  trackToolCall
} from "../src/index.js"
import * as Limits from "../src/internal/limits.js"
import * as Semconv from "../src/internal/semconv.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const bad = (value: unknown): any => value

class Overloaded extends Data.TaggedError("Overloaded")<{ readonly message: string }> {}

const prices = Layer.succeed(
  Pricing.Pricing,
  Pricing.makeCustom({
    prices: [{
      provider: "openai",
      model: "gpt-busy",
      prices: { inputPerMillion: 2.5, outputPerMillion: 10, cacheReadPerMillion: 1.25, cacheWritePerMillion: 3 }
    }]
  })
)

const manyKeys = (prefix: string, n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]))

/**
 * The busiest LLM span the library writes: inside a workflow (the run's ids), every option, every tracker method,
 * latest-experimental names and `gen_ai.usage.cost` on, 150 attributes in the options and 130 more from
 * `addMetadata`, then a failure.
 */
const busiestCall = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  yield* tracker.addMetadata(manyKeys("meta", 130))
  yield* tracker.setRequestParams({
    temperature: 0.2,
    topP: 0.9,
    topK: 40,
    maxTokens: 100,
    frequencyPenalty: 0.1,
    presencePenalty: 0.1,
    seed: 7,
    stopSequences: ["\n"]
  })
  yield* tracker.setStreaming(false)
  yield* tracker.setCacheHit(false)
  yield* tracker.setRequestId({ providerRequestId: "resp-1", clientRequestId: "client-1" })
  yield* tracker.setResponseModel("gpt-busy")
  yield* tracker.setFinishReason("stop")
  yield* tracker.setTokens({
    inputTokens: 1_000,
    outputTokens: 200,
    cacheReadTokens: 300,
    cacheWriteTokens: 100,
    reasoningTokens: 50
  })
  yield* tracker.setError(new Error("noted"))
  return yield* Effect.fail(new Overloaded({ message: "busy" }))
}).pipe(
  trackLlmCall({
    provider: "openai",
    model: "gpt-busy",
    clientRequestId: "client-1",
    serverAddress: "api.openai.com",
    serverPort: 443,
    attributes: manyKeys("opt", 150)
  }),
  botanuWorkflow("busy", { eventId: "evt-1", customerId: "cus-1", tenantId: "t-1", environment: "test" })
)

/** What the library itself defines and must find on the busiest span, whatever the user added. */
const libraryKeys = [
  "gen_ai.operation.name",
  "gen_ai.provider.name",
  "gen_ai.request.model",
  "gen_ai.response.model",
  "gen_ai.response.id",
  "gen_ai.response.finish_reasons",
  "gen_ai.usage.input_tokens",
  "gen_ai.usage.output_tokens",
  "gen_ai.usage.cache_read.input_tokens",
  // The latest-experimental name, which replaces `gen_ai.usage.cache_creation.input_tokens`.
  "gen_ai.usage.cache_write.input_tokens",
  "gen_ai.usage.cost",
  "botanu.cost.status",
  "botanu.cost.total_usd",
  "botanu.cost.input_usd",
  "botanu.cost.output_usd",
  "botanu.request.attempt",
  "botanu.run_id",
  "botanu.customer_id",
  "error.type",
  "error.message",
  "server.address",
  "botanu.tracking.warnings"
]

const checkBusiest = (span: ReadableSpan) => {
  assert.strictEqual(span.droppedAttributesCount, 0)
  for (const key of libraryKeys) assert.isDefined(span.attributes[key], key)
  assert.strictEqual(span.attributes["error.type"], "Overloaded")
  const userKeys = Object.keys(span.attributes).filter((key) => /^botanu\.(opt|meta)\d+$/.test(key))
  assert.strictEqual(userKeys.length, Limits.maxUserAttributes)
  assert.include(
    warningsOf(span),
    `attributes: ${150 + 130 - Limits.maxUserAttributes} more attribute(s) dropped (at most 32 per span)`
  )
  // With room to spare under the SDK's default limit of 128.
  assert.isBelow(Object.keys(span.attributes).length, 128)
}

const withLatestExperimental = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => Semconv.setLatestExperimental(true)),
    () => self,
    (previous) => Effect.sync(() => Semconv.setLatestExperimental(previous))
  )

describe("the library's own attributes are never lost", () => {
  it.effect("under the library's layers: user attributes are capped at 32 per span, with one warning", () =>
    withLatestExperimental(Effect.gen(function*() {
      const exit = yield* Effect.exit(busiestCall)
      assert.isTrue(Exit.isFailure(exit))
      checkBusiest(yield* spanNamed("chat gpt-busy"))
    })).pipe(
      Effect.provide(Layer.mergeAll(TrackingTest.layer, prices, Tracking.layerUsageCostAttribute(true)))
    ))

  it.effect("under an app's own NodeSdk.layer with the SDK's default limits", () =>
    Effect.gen(function*() {
      const spans = new InMemorySpanExporter()
      const own = NodeSdk.layer(() => ({
        resource: { serviceName: "apps-own" },
        spanProcessor: new SimpleSpanProcessor(spans)
      }))
      // Read inside the layer: its release shuts the exporter down, which forgets what it holds.
      const span = yield* withLatestExperimental(Effect.exit(busiestCall)).pipe(
        Effect.zipRight(Effect.sync(() => spans.getFinishedSpans().find((s) => s.name === "chat gpt-busy"))),
        Effect.provide(Layer.mergeAll(own, prices, Tracking.layerUsageCostAttribute(true)))
      )
      assert.isDefined(span)
      checkBusiest(span!)
    }))

  it.effect("setting a user key again counts once", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        for (let i = 0; i < 5; i++) yield* tracker.addMetadata(manyKeys("k", Limits.maxUserAttributes))
      }).pipe(trackLlmCall({ provider: "openai", model: "again" }))
      const span = yield* spanNamed("chat again")
      assert.strictEqual(Object.keys(span.attributes).filter((key) => key.startsWith("botanu.k")).length, 32)
      assert.deepStrictEqual(warningsOf(span), [])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("the library's layers set the SDK's limits: 256 attributes, values cut at 65,536 chars", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        // Written by the app straight to the span, past every bound of the library's.
        for (let i = 0; i < 200; i++) yield* Effect.annotateCurrentSpan(`app.${i}`, i)
        yield* Effect.annotateCurrentSpan("app.long", "x".repeat(100_000))
      }).pipe(trackLlmCall({ provider: "openai", model: "limits" }))
      const span = yield* spanNamed("chat limits")
      assert.strictEqual(span.attributes["app.199"], 199)
      assert.strictEqual((span.attributes["app.long"] as string).length, Limits.sdkAttributeValueLengthLimit)
      assert.strictEqual(span.attributes["gen_ai.request.model"], "limits")
    }).pipe(Effect.provide(TrackingTest.layer)))
})

const huge = "h".repeat(1_000_000)
const cutTo = (max: number) => huge.slice(0, max - Limits.truncatedMarker.length) + Limits.truncatedMarker

describe("sizes are bounded", () => {
  it.effect("1 MB strings are cut, with the marker and a warning that never quotes them", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.gen(function*() {
          const tracker = yield* LlmTracker
          yield* tracker.setResponseModel(huge)
          yield* tracker.addMetadata({ note: huge, list: [huge, "ok"] })
          yield* tracker.setRequestId({ providerRequestId: huge, clientRequestId: huge })
          yield* tracker.setError(new Error(huge))
          return "kept"
        }).pipe(
          trackLlmCall({ provider: huge, model: huge, clientRequestId: huge }),
          botanuWorkflow(huge, { eventId: huge, customerId: huge, tenantId: huge, environment: huge })
        )
      )
      assert.deepStrictEqual(exit, Exit.succeed("kept"))
      const spans = yield* TrackingTest.finishedSpans
      const call = spans.find((span) => span.attributes["gen_ai.operation.name"] === "chat")!
      const run = spans.find((span) => span.attributes["gen_ai.operation.name"] === "invoke_workflow")!
      const name = cutTo(Limits.maxNameChars)
      assert.strictEqual(call.name, `chat ${name}`)
      assert.strictEqual(call.attributes["gen_ai.request.model"], name)
      assert.strictEqual(call.attributes["gen_ai.response.model"], name)
      assert.strictEqual(call.attributes["gen_ai.response.id"], name)
      assert.strictEqual(call.attributes["botanu.provider.client_request_id"], name)
      assert.strictEqual(call.attributes["botanu.metadata.note"] ?? call.attributes["botanu.note"], cutTo(1_024))
      assert.deepStrictEqual(call.attributes["botanu.list"], [cutTo(Limits.maxValueChars), "ok"])
      assert.strictEqual(call.attributes["error.message"], cutTo(Limits.maxTextChars))
      for (const span of [call, run]) {
        for (const [key, value] of Object.entries(span.attributes)) {
          const values = Array.isArray(value) ? value : [value]
          for (const v of values) {
            if (typeof v === "string") assert.isAtMost(v.length, Limits.maxTextChars, key)
          }
        }
        for (const line of warningsOf(span)) assert.notInclude(line, "hhhhhhhhhh")
      }
      assert.strictEqual(run.attributes["botanu.event_id"], name)
      assert.strictEqual(run.attributes["botanu.customer_id"], name)
      assert.strictEqual(run.attributes["botanu.tenant_id"], name)
      assert.strictEqual(call.attributes["botanu.customer_id"], name)
      assert.include(warningsOf(run), "eventId: a string of 1000000 chars; cut to 256")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("error text the bridge records on a span that is not the library's is cut to 4,096 chars", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.fail(new Error(huge)).pipe(Effect.withSpan("app span", { captureStackTrace: false }))
      )
      assert.isTrue(Exit.isFailure(exit))
      const span = yield* spanNamed("app span")
      assert.strictEqual(span.status.message, cutTo(Limits.maxTextChars))
      const event = span.events.find((e) => e.name === "exception")!
      for (const value of Object.values(event.attributes ?? {})) {
        if (typeof value === "string") assert.isAtMost(value.length, Limits.maxTextChars)
      }
      assert.isBelow(Limits.maxTextChars, Limits.sdkAttributeValueLengthLimit)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("lists of 100,000 items are cut to 64", () =>
    Effect.gen(function*() {
      const many = Array.from({ length: 100_000 }, (_, i) => `s${i}`)
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setFinishReason(many)
        yield* tracker.setRequestParams({ stopSequences: many })
        yield* tracker.addMetadata({ items: many })
      }).pipe(trackLlmCall({ provider: "openai", model: "lists" }))
      const span = yield* spanNamed("chat lists")
      const expected = many.slice(0, Limits.maxListItems)
      assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], expected)
      assert.deepStrictEqual(span.attributes["gen_ai.request.stop_sequences"], expected)
      assert.deepStrictEqual(span.attributes["botanu.items"], expected)
      assert.include(warningsOf(span), "finishReason: a list of 100000 items; cut to 64")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a tool name, a description and a 300-char user key", () =>
    Effect.gen(function*() {
      yield* trackToolCall(Effect.void, {
        toolName: huge,
        description: huge,
        attributes: { ["k".repeat(300)]: 1, fine: 2 }
      })
      const spans = yield* TrackingTest.finishedSpans
      const span = spans.find((s) => s.attributes["gen_ai.operation.name"] === "execute_tool")!
      assert.strictEqual(span.attributes["gen_ai.tool.name"], cutTo(Limits.maxNameChars))
      assert.strictEqual(span.attributes["gen_ai.tool.description"], cutTo(Limits.maxTextChars))
      assert.strictEqual(span.attributes["botanu.tool.fine"], 2)
      assert.isUndefined(Object.keys(span.attributes).find((key) => key.includes("kkkk")))
      assert.include(warningsOf(span), "attributes: a key of 300 chars (at most 256); dropped")
    }).pipe(Effect.provide(TrackingTest.layer)))
})

const throwing = (): any => ({
  get model() {
    throw new Error("model getter")
  },
  provider: "openai",
  attributes: {
    get k() {
      throw new Error("boom")
    },
    fine: 1
  }
})

const hostileProxy = (): any =>
  new Proxy({}, {
    get() {
      throw new Error("proxy get")
    },
    ownKeys() {
      throw new Error("proxy ownKeys")
    },
    has() {
      throw new Error("proxy has")
    }
  })

describe("options never throw", () => {
  it.effect("trackLlmCall: throwing getters and a Proxy are warnings and fall back", () =>
    Effect.gen(function*() {
      const a = trackLlmCall(Effect.succeed(1), throwing())
      const b = trackLlmCall(Effect.succeed(2), hostileProxy())
      const c = Effect.succeed(3).pipe(trackLlmCall(bad(42)))
      assert.deepStrictEqual(yield* Effect.all([a, b, c]), [1, 2, 3])
      const spans = (yield* TrackingTest.finishedSpans).filter((span) => span.name === "chat unknown")
      assert.strictEqual(spans.length, 3)
      const [first, second, third] = spans
      assert.include(warningsOf(first), "model: failed to read (model getter); ignored")
      assert.include(warningsOf(first), "attributes.k: failed to read (boom); dropped")
      assert.strictEqual(first.attributes["botanu.fine"], 1)
      assert.strictEqual(first.attributes["gen_ai.provider.name"], "openai")
      assert.include(warningsOf(second), "provider: failed to read (proxy get); ignored")
      assert.strictEqual(second.attributes["gen_ai.provider.name"], "unknown")
      assert.include(warningsOf(third), "options: 42 is not a record; ignored")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("trackToolCall, trackAgent, trackLlmStream and botanuWorkflow", () =>
    Effect.gen(function*() {
      const tool = trackToolCall(Effect.succeed("t"), hostileProxy())
      const toolAttrs = trackToolCall(Effect.succeed("t2"), { toolName: "x", attributes: hostileProxy() })
      const agent = trackAgent(Effect.succeed("a"), hostileProxy())
      const stream = Stream.runCollect(trackLlmStream(Stream.make(1, 2), hostileProxy()))
      const run = botanuWorkflow(Effect.succeed("w"), "wf", {
        eventId: "e",
        customerId: "c",
        get tenantId(): string {
          throw new Error("tenant getter")
        }
      })
      const results = yield* Effect.all([tool, toolAttrs, agent, stream, run])
      assert.deepStrictEqual(results, ["t", "t2", "a", Chunk.make(1, 2), "w"])
      const spans = yield* TrackingTest.finishedSpans
      const byOperation = (operation: string) =>
        spans.filter((span) => span.attributes["gen_ai.operation.name"] === operation)
      assert.strictEqual(byOperation("execute_tool").length, 2)
      assert.include(warningsOf(byOperation("execute_tool")[1]), "attributes: failed to read (proxy ownKeys); dropped")
      assert.strictEqual(byOperation("invoke_agent")[0].attributes["gen_ai.agent.name"], "unknown")
      assert.strictEqual(byOperation("chat")[0].attributes["botanu.stream.chunks"], 2)
      const runSpan = byOperation("invoke_workflow")[0]
      assert.include(warningsOf(runSpan), "tenantId: failed to read (tenant getter); ignored")
      assert.strictEqual(runSpan.attributes["botanu.event_id"], "e")
    }).pipe(Effect.provide(TrackingTest.layer)))
})

/**
 * A tracer that interrupts the fiber making a span right after the span is made: the interruption lands between
 * the span's creation and whatever runs next, the window in which a span made outside the region that ends it would
 * stay open forever.
 */
const interruptingTracer = (base: Tracer.Tracer, prefix: string): Tracer.Tracer =>
  Tracer.make({
    span(name, parent, context, links, startTime, kind, options) {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      if (name.startsWith(prefix)) {
        const fiber = Fiber.getCurrentFiber()
        if (Option.isSome(fiber)) fiber.value.unsafeInterruptAsFork(FiberId.none)
      }
      return span
    },
    context: (execution, fiber) => base.context(execution, fiber)
  })

/** Runs in a fiber of its own, which is the one interrupted. */
const interruptedAtStart = <A, E, R>(self: Effect.Effect<A, E, R>, prefix: string) =>
  Effect.flatMap(
    Effect.tracer,
    (base) => Effect.flatMap(Effect.fork(Effect.withTracer(self, interruptingTracer(base, prefix))), Fiber.await)
  )

describe("an interruption right after a span is made", () => {
  it.effect("ends the span, interrupted, for LLM calls, tool calls, agents, runs and streams", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
        ["chat window", trackLlmCall(Effect.never, { provider: "openai", model: "window" })],
        ["execute_tool window", trackToolCall(Effect.never, { toolName: "window" })],
        ["invoke_agent window", trackAgent(Effect.never, { name: "window" })],
        ["botanu.run/window", botanuWorkflow(Effect.never, "window", { eventId: "e", customerId: "c" })],
        [
          "chat stream-window",
          Stream.runDrain(trackLlmStream(Stream.never, { provider: "openai", model: "stream-window" }))
        ]
      ]
      for (const [name, effect] of cases) {
        const exit = yield* interruptedAtStart(effect, name)
        assert.isTrue(Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause), name)
        const spans = (yield* TrackingTest.finishedSpans).filter((span) => span.name === name)
        assert.strictEqual(spans.length, 1, `${name} ended once`)
        assert.strictEqual(spans[0].attributes["error.type"], "interrupted", name)
      }
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a tracked call keeps its tracker when the interruption comes later", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.flatMap(LlmTracker, (tracker) => Effect.zipRight(tracker.setTokens({ inputTokens: 1 }), Effect.never))
          .pipe(trackLlmCall({ provider: "openai", model: "late" }))
      )
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      const span = yield* spanNamed("chat late")
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 1)
      assert.strictEqual(span.attributes["error.type"], "interrupted")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a tool tracker in a tracked tool call is the tool's", () =>
    Effect.gen(function*() {
      const seen = yield* Effect.map(ToolTracker, () => "tool").pipe(trackToolCall({ toolName: "seen" }))
      assert.strictEqual(seen, "tool")
    }).pipe(Effect.provide(TrackingTest.layer)))
})

describe("the README's Limits table", () => {
  it("gives the numbers the library uses", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const section = readme.slice(readme.indexOf("### Limits"), readme.indexOf("## Errors"))
    const row = (what: string) => {
      const line = section.split("\n").find((l) => l.startsWith(`| ${what}`))
      assert.isDefined(line, what)
      return line!.split("|").at(-2)!.trim()
    }
    const n = (value: number) => value.toLocaleString("en-US")
    assert.strictEqual(row("names and ids"), `${n(Limits.maxNameChars)} chars`)
    assert.strictEqual(row("a string attribute"), `${n(Limits.maxValueChars)} chars`)
    assert.strictEqual(row("free text"), `${n(Limits.maxTextChars)} chars`)
    assert.strictEqual(row("an attribute or metadata key"), `${n(Limits.maxKeyChars)} chars`)
    assert.strictEqual(row("items of a list"), n(Limits.maxListItems))
    assert.strictEqual(row("attributes you add"), n(Limits.maxUserAttributes))
    assert.strictEqual(row("warning lines"), `${n(Limits.maxWarnings)}, then a count`)
    assert.strictEqual(row("series per metric"), n(Limits.maxSeriesPerMetric))
    assert.strictEqual(row("\"no price known\""), `${n(Limits.maxWarnedModels)} models`)
    assert.strictEqual(row("keys of their own"), n(Limits.maxLedgerKeys))
    assert.strictEqual(row("a custom price"), `${n(Limits.maxPricePerMillion)} USD per million tokens`)
    assert.strictEqual(
      row("a custom fee"),
      `${n(Limits.maxPricePerThousand)} USD per thousand requests or web searches`
    )
    assert.strictEqual(row("captured content of one message"), `${n(Limits.defaultContentMessageChars)} chars`)
    assert.strictEqual(row("captured content of one call"), `${n(Limits.defaultContentCallChars)} chars`)
    assert.include(section, `at most ${n(Limits.maxContentCallChars)}) |`)
    assert.strictEqual(
      row("captured content read, before"),
      `${n(Limits.maxContentReadChars)} / ${n(Limits.maxContentReadTotalChars)} chars`
    )
    assert.strictEqual(
      row("captured content read: messages"),
      `${n(Limits.maxContentMessages)} / ${n(Limits.maxContentParts)}`
    )
    assert.strictEqual(
      row("captured tool arguments"),
      `${n(Limits.maxContentDepth)} / ${n(Limits.maxContentItems)} / ${n(Limits.maxContentValues)}`
    )
    assert.include(section, `${Limits.sdkAttributeCountLimit} attributes`)
    assert.include(section, `${n(Limits.sdkAttributeValueLengthLimit)}\ncharacters`)
  })
})
