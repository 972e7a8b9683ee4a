import { assert, describe, it } from "@effect/vitest"
import type { Histogram, ResourceMetrics } from "@opentelemetry/sdk-metrics"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Data, Effect, Fiber, Layer, Schedule, Stream } from "effect"
import {
  botanuWorkflow,
  CostLedger,
  fallbackTracked,
  llmInstrumented,
  LlmTracker,
  retryTracked,
  TrackingTest,
  trackLlmCall,
  trackLlmStream,
  trackToolCall
} from "../src/index.js"
import { fixture, openaiChatChunks } from "./utils/fakeProvider.js"
import { atto, flatPrices } from "./utils/flatPrices.js"
import { attemptsByStatus, uniqueName } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

class RateLimitError extends Data.TaggedError("RateLimitError")<{ readonly message: string }> {}

const tracking = (models: ReadonlyArray<string>) =>
  Layer.mergeAll(TrackingTest.layer, CostLedger.layer, flatPrices(models))

const inRun = botanuWorkflow("nested", { eventId: "e-1", customerId: "acme" })

/** A tracked call that sets its tokens by hand. */
const ask = (model: string, inputTokens: number, outputTokens: number) =>
  Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens, outputTokens })).pipe(
    trackLlmCall({ provider: "openai", model })
  )

/** Tracks `inner` again, as a wrapper that also sets tokens of its own (the mistake the warning is about). */
const wrap = (model: string, inner: Effect.Effect<unknown, unknown>, tokens?: readonly [number, number]) =>
  Effect.zipLeft(
    inner,
    tokens === undefined
      ? Effect.void
      : Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: tokens[0], outputTokens: tokens[1] }))
  ).pipe(trackLlmCall({ provider: "openai", model }))

const runTotals = Effect.map(spanNamed("botanu.run/nested"), (span) => ({
  costUsd: span.attributes["botanu.run.cost_usd"],
  llmCalls: span.attributes["botanu.run.llm_calls"],
  toolCalls: span.attributes["botanu.run.tool_calls"],
  inputTokens: span.attributes["botanu.run.input_tokens"],
  outputTokens: span.attributes["botanu.run.output_tokens"]
}))

/** The ledger by model: `provider/model` to exact cost, calls and tokens. */
const ledgerRows = Effect.map(CostLedger.snapshot, (snapshot) => ({
  total: { cost: snapshot.total.costAttodollars, calls: snapshot.total.calls },
  byModel: Object.fromEntries(
    Array.from(snapshot.byModel, ([key, totals]) => [key, {
      cost: totals.costAttodollars,
      calls: totals.calls,
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens
    }])
  )
}))

const points = (collected: ResourceMetrics, name: string, model: string) =>
  collected.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>)
    .filter((point) => point.attributes["gen_ai.request.model"] === model)

/** What the token, duration, attempt and cost metrics hold for one request model. */
const metricsOf = (model: string) =>
  Effect.map(TrackingTest.collectMetrics, (collected) => {
    const tokens = points(collected, "gen_ai.client.token.usage", model)
    const tokenSum = (type: string) =>
      tokens.filter((p) => p.attributes["gen_ai.token.type"] === type).reduce(
        (sum, p) => sum + (p.value as Histogram).sum!,
        0
      )
    return {
      inputTokens: tokenSum("input"),
      outputTokens: tokenSum("output"),
      durations: points(collected, "gen_ai.client.operation.duration", model).reduce(
        (sum, p) => sum + (p.value as Histogram).count,
        0
      ),
      attempts: points(collected, "botanu.gen_ai.attempts", model).reduce((sum, p) => sum + Number(p.value), 0),
      costUsd: points(collected, "botanu.gen_ai.cost", model).reduce((sum, p) => sum + Number(p.value), 0)
    }
  })

const nothingRecorded = { inputTokens: 0, outputTokens: 0, durations: 0, attempts: 0, costUsd: 0 }

const costKeys = (span: ReadableSpan) => Object.keys(span.attributes).filter((key) => key.startsWith("botanu.cost."))

/** A wrapper's span: its marker, no cost, and the warning exactly when it set tokens of its own. */
const assertWrapper = (span: ReadableSpan, wrapped: number, warned: boolean) => {
  assert.strictEqual(span.attributes["botanu.call.wrapped_calls"], wrapped, span.name)
  assert.deepStrictEqual(costKeys(span), [], span.name)
  const warnings = warningsOf(span)
  if (warned) {
    assert.strictEqual(warnings.length, 1, span.name)
    assert.include(warnings[0], "counted instead")
  } else {
    assert.deepStrictEqual(warnings, [], span.name)
  }
}

/** A model invocation's span: priced, no marker. */
const assertInvocation = (span: ReadableSpan, totalUsd: number) => {
  assert.isUndefined(span.attributes["botanu.call.wrapped_calls"], span.name)
  assert.strictEqual(span.attributes["botanu.cost.total_usd"], totalUsd, span.name)
  assert.deepStrictEqual(warningsOf(span), [], span.name)
}

describe("nested tracked LLM calls count once", () => {
  it.effect("an already-tracked helper tracked again: the inner call is counted, the outer one warned", () => {
    const inner = uniqueName("helper")
    const outer = uniqueName("wrapper")
    return Effect.gen(function*() {
      yield* wrap(outer, ask(inner, 1000, 100), [1000, 100]).pipe(inRun)
      // 1000 x $2.50/M + 100 x $10/M = $0.0025 + $0.001
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0035,
        llmCalls: 1,
        toolCalls: 0,
        inputTokens: 1000,
        outputTokens: 100
      })
      assert.deepStrictEqual(yield* ledgerRows, {
        total: { cost: atto(1000, 100), calls: 1 },
        byModel: { [`openai/${inner}`]: { cost: atto(1000, 100), calls: 1, inputTokens: 1000, outputTokens: 100 } }
      })
      assert.strictEqual(atto(1000, 100), BigInt("3500000000000000"))
      const innerMetrics = yield* metricsOf(inner)
      assert.closeTo(innerMetrics.costUsd, 0.0035, 1e-18)
      assert.deepStrictEqual(
        { ...innerMetrics, costUsd: 0 },
        { inputTokens: 1000, outputTokens: 100, durations: 1, attempts: 1, costUsd: 0 }
      )
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      const wrapper = yield* spanNamed(`chat ${outer}`)
      assertWrapper(wrapper, 1, true)
      // Its span keeps what it recorded; only the counting is left to the call inside.
      assert.strictEqual(wrapper.attributes["gen_ai.usage.input_tokens"], 1000)
      assert.strictEqual(wrapper.attributes["gen_ai.usage.output_tokens"], 100)
      assert.strictEqual(wrapper.attributes["botanu.request.attempt"], 1)
      const invocation = yield* spanNamed(`chat ${inner}`)
      assertInvocation(invocation, 0.0035)
      assert.strictEqual(invocation.parentSpanContext?.spanId, wrapper.spanContext().spanId)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("three levels: only the innermost call counts; both wrappers are marked and warned", () => {
    const a = uniqueName("level-a")
    const b = uniqueName("level-b")
    const c = uniqueName("level-c")
    return Effect.gen(function*() {
      yield* wrap(a, wrap(b, ask(c, 2000, 200), [2000, 200]), [2000, 200]).pipe(inRun)
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.007,
        llmCalls: 1,
        toolCalls: 0,
        inputTokens: 2000,
        outputTokens: 200
      })
      assert.deepStrictEqual(yield* ledgerRows, {
        total: { cost: atto(2000, 200), calls: 1 },
        byModel: { [`openai/${c}`]: { cost: atto(2000, 200), calls: 1, inputTokens: 2000, outputTokens: 200 } }
      })
      assert.deepStrictEqual(yield* metricsOf(a), nothingRecorded)
      assert.deepStrictEqual(yield* metricsOf(b), nothingRecorded)
      assert.strictEqual((yield* metricsOf(c)).attempts, 1)
      assertWrapper(yield* spanNamed(`chat ${a}`), 1, true)
      assertWrapper(yield* spanNamed(`chat ${b}`), 1, true)
      assertInvocation(yield* spanNamed(`chat ${c}`), 0.007)
    }).pipe(Effect.provide(tracking([a, b, c])))
  })

  it.effect("two concurrent calls in one outer call: both count; the outer one, with no tokens, is not warned", () => {
    const inner = uniqueName("concurrent")
    const outer = uniqueName("fan-out")
    return Effect.gen(function*() {
      yield* wrap(
        outer,
        Effect.all([ask(inner, 1000, 100), ask(inner, 2000, 200)], { concurrency: "unbounded" })
      ).pipe(inRun)
      // $0.0035 + $0.007
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0105,
        llmCalls: 2,
        toolCalls: 0,
        inputTokens: 3000,
        outputTokens: 300
      })
      const ledger = yield* ledgerRows
      assert.deepStrictEqual(ledger.total, { cost: atto(3000, 300), calls: 2 })
      assert.deepStrictEqual(Object.keys(ledger.byModel), [`openai/${inner}`])
      const innerMetrics = yield* metricsOf(inner)
      assert.closeTo(innerMetrics.costUsd, 0.0105, 1e-15)
      assert.deepStrictEqual(
        { ...innerMetrics, costUsd: 0 },
        { inputTokens: 3000, outputTokens: 300, durations: 2, attempts: 2, costUsd: 0 }
      )
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      assertWrapper(yield* spanNamed(`chat ${outer}`), 2, false)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("a call in a fiber forked inside the outer call counts once", () => {
    const inner = uniqueName("forked")
    const outer = uniqueName("forking")
    return Effect.gen(function*() {
      yield* wrap(outer, Effect.flatMap(Effect.fork(ask(inner, 1000, 100)), Fiber.join), [1000, 100]).pipe(inRun)
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0035,
        llmCalls: 1,
        toolCalls: 0,
        inputTokens: 1000,
        outputTokens: 100
      })
      assert.deepStrictEqual((yield* ledgerRows).total, { cost: atto(1000, 100), calls: 1 })
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      assert.strictEqual((yield* metricsOf(inner)).inputTokens, 1000)
      assertWrapper(yield* spanNamed(`chat ${outer}`), 1, true)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("llmInstrumented over a function that is already tracked: usage read twice, counted once", () => {
    const inner = uniqueName("instrumented-inner")
    const outer = uniqueName("instrumented-outer")
    // The response's own model is the inner one, so that pricing is ours; usage 1117 in (1024 cached), 46 out.
    const response = { ...fixture("openai-chat"), model: inner }
    const chat = llmInstrumented({ provider: "openai" })((_params: { readonly model: string }) =>
      Effect.succeed(response).pipe(trackLlmCall({ provider: "openai", model: inner, usageFrom: "auto" }))
    )
    return Effect.gen(function*() {
      const result = yield* chat({ model: outer }).pipe(inRun)
      assert.strictEqual(result, response)
      // 1117 x $2.50/M + 46 x $10/M = $0.0027925 + $0.00046
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0032525,
        llmCalls: 1,
        toolCalls: 0,
        inputTokens: 1117,
        outputTokens: 46
      })
      assert.deepStrictEqual(yield* ledgerRows, {
        total: { cost: atto(1117, 46), calls: 1 },
        byModel: { [`openai/${inner}`]: { cost: atto(1117, 46), calls: 1, inputTokens: 1117, outputTokens: 46 } }
      })
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      assert.strictEqual((yield* metricsOf(inner)).inputTokens, 1117)
      const wrapper = yield* spanNamed(`chat ${outer}`)
      assertWrapper(wrapper, 1, true)
      assert.strictEqual(wrapper.attributes["gen_ai.usage.input_tokens"], 1117)
      assertInvocation(yield* spanNamed(`chat ${inner}`), 0.0032525)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("a tracked stream inside a tracked call: the stream is the invocation", () => {
    const inner = uniqueName("streamed")
    const outer = uniqueName("stream-wrapper")
    const chunks = openaiChatChunks(inner)
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const collected = yield* Stream.runCollect(
          Stream.fromIterable(chunks).pipe(
            trackLlmStream({ provider: "openai", model: inner, usageFrom: "openai.chat" })
          )
        )
        // Copying the last chunk's usage onto the outer call is the double count this guards against.
        const usage = Array.from(collected).at(-1).usage
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens })
      }).pipe(trackLlmCall({ provider: "openai", model: outer }), inRun)
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0032525,
        llmCalls: 1,
        toolCalls: 0,
        inputTokens: 1117,
        outputTokens: 46
      })
      assert.deepStrictEqual((yield* ledgerRows).total, { cost: atto(1117, 46), calls: 1 })
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      const innerMetrics = yield* metricsOf(inner)
      assert.deepStrictEqual(
        { ...innerMetrics, costUsd: 0 },
        { inputTokens: 1117, outputTokens: 46, durations: 1, attempts: 1, costUsd: 0 }
      )
      assertWrapper(yield* spanNamed(`chat ${outer}`), 1, true)
      const stream = yield* spanNamed(`chat ${inner}`)
      assertInvocation(stream, 0.0032525)
      assert.strictEqual(stream.attributes["botanu.stream.chunks"], 4)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("a tracked stream over a tracked stream: the outer one records no chunk timings either", () => {
    const inner = uniqueName("stream-inner")
    const outer = uniqueName("stream-outer")
    return Effect.gen(function*() {
      const collected = yield* Stream.fromIterable(openaiChatChunks(inner)).pipe(
        trackLlmStream({ provider: "openai", model: inner, usageFrom: "openai.chat" }),
        trackLlmStream({ provider: "openai", model: outer, usageFrom: "openai.chat" }),
        Stream.runCollect,
        inRun
      )
      assert.strictEqual(collected.length, 4)
      assert.deepStrictEqual((yield* runTotals).llmCalls, 1)
      assert.deepStrictEqual((yield* ledgerRows).total, { cost: atto(1117, 46), calls: 1 })
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      const timings = (model: string) =>
        Effect.map(TrackingTest.collectMetrics, (metrics) => [
          points(metrics, "gen_ai.client.operation.time_to_first_chunk", model).length,
          points(metrics, "gen_ai.client.operation.time_per_output_chunk", model).length
        ])
      assert.deepStrictEqual(yield* timings(outer), [0, 0])
      assert.deepStrictEqual(yield* timings(inner), [1, 1])
      const wrapper = yield* spanNamed(`chat ${outer}`)
      assertWrapper(wrapper, 1, true)
      assert.strictEqual(wrapper.attributes["botanu.stream.chunks"], 4)
      assertInvocation(yield* spanNamed(`chat ${inner}`), 0.0032525)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("an LLM call inside a tool call inside an LLM call is a separate invocation: both count", () => {
    const agent = uniqueName("agent")
    const subagent = uniqueName("subagent")
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* ask(subagent, 2000, 200).pipe(trackToolCall({ toolName: "research" }))
        yield* (yield* LlmTracker).setTokens({ inputTokens: 1000, outputTokens: 100 })
      }).pipe(trackLlmCall({ provider: "openai", model: agent }), inRun)
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0105,
        llmCalls: 2,
        toolCalls: 1,
        inputTokens: 3000,
        outputTokens: 300
      })
      assert.deepStrictEqual(yield* ledgerRows, {
        total: { cost: atto(3000, 300), calls: 2 },
        byModel: {
          [`openai/${subagent}`]: { cost: atto(2000, 200), calls: 1, inputTokens: 2000, outputTokens: 200 },
          [`openai/${agent}`]: { cost: atto(1000, 100), calls: 1, inputTokens: 1000, outputTokens: 100 }
        }
      })
      assert.strictEqual((yield* metricsOf(agent)).inputTokens, 1000)
      assert.strictEqual((yield* metricsOf(subagent)).inputTokens, 2000)
      assertInvocation(yield* spanNamed(`chat ${agent}`), 0.0035)
      assertInvocation(yield* spanNamed(`chat ${subagent}`), 0.007)
    }).pipe(Effect.provide(tracking([agent, subagent])))
  })

  it.effect("the tool boundary is one level: a wrapper inside the tool is still a wrapper", () => {
    const agent = uniqueName("agent")
    const helper = uniqueName("tool-helper")
    const model = uniqueName("tool-model")
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* wrap(helper, ask(model, 2000, 200), [2000, 200]).pipe(trackToolCall({ toolName: "research" }))
        yield* (yield* LlmTracker).setTokens({ inputTokens: 1000, outputTokens: 100 })
      }).pipe(trackLlmCall({ provider: "openai", model: agent }), inRun)
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0105,
        llmCalls: 2,
        toolCalls: 1,
        inputTokens: 3000,
        outputTokens: 300
      })
      assert.deepStrictEqual((yield* ledgerRows).total, { cost: atto(3000, 300), calls: 2 })
      assert.deepStrictEqual(yield* metricsOf(helper), nothingRecorded)
      assertInvocation(yield* spanNamed(`chat ${agent}`), 0.0035)
      assertWrapper(yield* spanNamed(`chat ${helper}`), 1, true)
      assertInvocation(yield* spanNamed(`chat ${model}`), 0.007)
    }).pipe(Effect.provide(tracking([agent, helper, model])))
  })
})

describe("retries around and inside a wrapper", () => {
  /** Fails with a rate limit on its first `failures` runs, after setting the usage that a failed attempt reports. */
  const flaky = (model: string, failures: number) => {
    let runs = 0
    return Effect.gen(function*() {
      yield* (yield* LlmTracker).setTokens({ inputTokens: 100, outputTokens: 10 })
      if (runs++ < failures) return yield* Effect.fail(new RateLimitError({ message: `429 #${runs}` }))
      return "ok"
    }).pipe(trackLlmCall({ provider: "openai", model }))
  }

  const spansOf = (model: string) =>
    Effect.map(
      TrackingTest.finishedSpans,
      (spans) => spans.filter((span) => span.attributes["gen_ai.request.model"] === model)
    )
  const attemptsOf = (spans: ReadonlyArray<ReadableSpan>) =>
    spans.map((span) => span.attributes["botanu.request.attempt"])

  it.effect("retryTracked around a wrapper whose inner call fails twice: three attempts, each counted once", () => {
    const inner = uniqueName("retried-inner")
    const outer = uniqueName("retried-wrapper")
    return Effect.gen(function*() {
      const value = yield* wrap(outer, flaky(inner, 2)).pipe(retryTracked(Schedule.recurs(3)), inRun)
      assert.strictEqual(value, "ok")
      // 3 x (100 x $2.50/M + 10 x $10/M) = 3 x $0.00035
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.00105,
        llmCalls: 3,
        toolCalls: 0,
        inputTokens: 300,
        outputTokens: 30
      })
      assert.deepStrictEqual((yield* ledgerRows).total, { cost: atto(300, 30), calls: 3 })
      assert.deepStrictEqual(yield* attemptsByStatus(inner), { error: 2, success: 1 })
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      const inners = yield* spansOf(inner)
      const outers = yield* spansOf(outer)
      assert.deepStrictEqual(attemptsOf(inners), [1, 2, 3])
      assert.deepStrictEqual(attemptsOf(outers), [1, 2, 3])
      for (const span of outers) assertWrapper(span, 1, false)
      assert.deepStrictEqual(outers.map((span) => span.attributes["error.type"]), [
        "RateLimitError",
        "RateLimitError",
        undefined
      ])
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("plain Effect.retry around a wrapper with a fallback inside: the wrapper's failure keeps the numbering", () => {
    const first = uniqueName("fallback-first")
    const second = uniqueName("fallback-second")
    const outer = uniqueName("fallback-wrapper")
    return Effect.gen(function*() {
      // Run 1: first (attempt 1) and second (attempt 2) fail, and so does the wrapper, with second's error.
      // Run 2 must continue at 3, not restart from the wrapper's own number.
      const value = yield* wrap(outer, fallbackTracked([flaky(first, 2), flaky(second, 1)])).pipe(
        Effect.retry(Schedule.recurs(1)),
        inRun
      )
      assert.strictEqual(value, "ok")
      const firsts = yield* spansOf(first)
      const seconds = yield* spansOf(second)
      assert.deepStrictEqual(attemptsOf(firsts), [1, 3])
      assert.deepStrictEqual(attemptsOf(seconds), [2, 4])
      assert.deepStrictEqual(attemptsOf(yield* spansOf(outer)), [1, 3])
      assert.deepStrictEqual(yield* runTotals, {
        costUsd: 0.0014,
        llmCalls: 4,
        toolCalls: 0,
        inputTokens: 400,
        outputTokens: 40
      })
      assert.deepStrictEqual((yield* ledgerRows).total, { cost: atto(400, 40), calls: 4 })
      assert.deepStrictEqual(yield* metricsOf(outer), nothingRecorded)
      for (const span of yield* spansOf(outer)) assertWrapper(span, 2, false)
    }).pipe(Effect.provide(tracking([first, second, outer])))
  })

  it.effect("a retry inside a wrapper, retried itself: every inner attempt counts once, numbered 1 to 4", () => {
    const inner = uniqueName("inner-retry")
    const outer = uniqueName("outer-retry")
    return Effect.gen(function*() {
      yield* wrap(outer, flaky(inner, 3).pipe(retryTracked(Schedule.recurs(1)))).pipe(
        retryTracked(Schedule.recurs(1)),
        inRun
      )
      assert.deepStrictEqual(attemptsOf(yield* spansOf(inner)), [1, 2, 3, 4])
      assert.deepStrictEqual(attemptsOf(yield* spansOf(outer)), [1, 3])
      assert.deepStrictEqual(yield* attemptsByStatus(inner), { error: 3, success: 1 })
      assert.deepStrictEqual((yield* ledgerRows).total, { cost: atto(400, 40), calls: 4 })
      assert.strictEqual((yield* runTotals).llmCalls, 4)
      for (const span of yield* spansOf(outer)) assertWrapper(span, 2, false)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })
})
