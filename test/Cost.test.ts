import { assert, describe, it } from "@effect/vitest"
import { DataPointType } from "@opentelemetry/sdk-metrics"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Data, Effect, Layer, Logger, Schedule } from "effect"
import {
  botanuWorkflow,
  CostLedger,
  fallbackTracked,
  LlmTracker,
  Metrics,
  Pricing,
  retryTracked,
  ToolTracker,
  TrackingTest,
  trackLlmCall,
  trackToolCall
} from "../src/index.js"
import { metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"
import { spanNamed } from "./utils/spans.js"

class RateLimitError extends Data.TaggedError("RateLimitError")<{ readonly message: string }> {}

// Prices of our own, so that every expected amount below is worked out by hand from the numbers here.
// $2.50 / $10.00 per million input / output tokens, cache reads $1.25, cache writes $3.125.
const house = (model: string) => ({
  provider: "openai",
  model,
  prices: { inputPerMillion: 2.5, outputPerMillion: 10, cacheReadPerMillion: 1.25, cacheWritePerMillion: 3.125 }
})

const withPrices = (models: ReadonlyArray<string>) =>
  Layer.mergeAll(
    TrackingTest.layer,
    Layer.succeed(Pricing.Pricing, Pricing.makeCustom({ prices: models.map(house) }))
  )

const call = (model: string, usage: Parameters<LlmTracker.Service["setTokens"]>[0], provider = "openai") =>
  Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens(usage)).pipe(trackLlmCall({ provider, model }))

const usd = (span: ReadableSpan, key: string) => span.attributes[`botanu.cost.${key}`]

describe("cost on the LLM span", () => {
  it.effect("a custom-priced call with cached input: each part, by hand", () => {
    const model = uniqueName("house-model")
    return Effect.gen(function*() {
      yield* call(model, { inputTokens: 1000, cachedTokens: 800, outputTokens: 100, reasoningTokens: 40 })
      const span = yield* spanNamed(`chat ${model}`)
      // uncached input 200 x $2.50/M = $0.0005; cache reads 800 x $1.25/M = $0.001; input = $0.0015
      // output 100 x $10/M = $0.001, of which reasoning 40 x $10/M = $0.0004; total = $0.0025
      assert.strictEqual(span.attributes["botanu.cost.status"], "custom")
      assert.strictEqual(span.attributes["botanu.cost.pricing_source"], "custom")
      assert.strictEqual(usd(span, "input_usd"), 0.0015)
      assert.strictEqual(usd(span, "cache_read_usd"), 0.001)
      assert.strictEqual(usd(span, "output_usd"), 0.001)
      assert.strictEqual(usd(span, "reasoning_usd"), 0.0004)
      assert.strictEqual(usd(span, "total_usd"), 0.0025)
    }).pipe(Effect.provide(withPrices([model])))
  })

  it.effect("an unknown model: its status, no amounts, one warning per model however many calls", () => {
    const model = uniqueName("no-such-model")
    const logs: Array<string> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))
    return Effect.gen(function*() {
      const value = yield* call(model, { inputTokens: 10, outputTokens: 5 }, "mylab").pipe(Effect.as("kept"))
      yield* call(model, { inputTokens: 10, outputTokens: 5 }, "mylab")
      assert.strictEqual(value, "kept")
      const spans = (yield* TrackingTest.finishedSpans).filter((span) => span.name === `chat ${model}`)
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.strictEqual(span.attributes["botanu.cost.status"], "unknown_model")
        for (const key of ["input_usd", "output_usd", "total_usd", "pricing_source"]) {
          assert.isUndefined(span.attributes[`botanu.cost.${key}`], key)
        }
      }
      const warnings = logs.filter((line) => line.includes(model))
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], "mylab")
    }).pipe(Effect.provide(Layer.merge(withPrices([]), capture)))
  })

  it.effect("a call without usage is no_usage, with no amounts", () => {
    const model = uniqueName("silent")
    return Effect.gen(function*() {
      yield* trackLlmCall(Effect.void, { provider: "openai", model })
      const span = yield* spanNamed(`chat ${model}`)
      assert.strictEqual(span.attributes["botanu.cost.status"], "no_usage")
      assert.isUndefined(usd(span, "total_usd"))
    }).pipe(Effect.provide(withPrices([model])))
  })
})

describe("the cost metric", () => {
  it.effect("botanu.gen_ai.cost in USD over many tiny calls (a double sum; the ledger is exact), by customer only when allowed", () => {
    const model = uniqueName("tiny")
    const pricing = Pricing.makeCustom({
      prices: [{ model, prices: { inputPerMillion: 0.02, outputPerMillion: 0 } }]
    })
    return Effect.gen(function*() {
      const tinyCall = call(model, { inputTokens: 10, outputTokens: 0 })
      // 10 tokens x $0.02/M = $0.0000002 a call; 1,000 calls = $0.0002, exactly.
      yield* Effect.forEach(
        ["acme", "globex", "initech"],
        (customerId) =>
          Effect.replicateEffect(tinyCall, 1000 / 4).pipe(
            botanuWorkflow("embed", { eventId: `e-${customerId}`, customerId })
          ),
        { discard: true }
      )
      yield* Effect.replicateEffect(tinyCall, 250)
      const collected = yield* TrackingTest.collectMetrics
      const metric = metricNamed(collected, "botanu.gen_ai.cost")
      assert.strictEqual(metric.descriptor.unit, "USD")
      assert.isTrue(metric.dataPointType === DataPointType.SUM && metric.isMonotonic)
      const points = pointsWhere(metric, "gen_ai.request.model", model)
      const byCustomer = Object.fromEntries(
        points.map((p) => [String(p.attributes["botanu.customer_id"]), Number(p.value)])
      )
      // A double summed 250 times: within a few ulp of the exact amount, never off by a factor (attodollars).
      assert.deepStrictEqual(Object.keys(byCustomer).sort(), ["_other", "acme", "undefined"])
      assert.closeTo(byCustomer.acme, 0.00005, 0.00005 * 1e-12)
      assert.closeTo(byCustomer._other, 0.0001, 0.0001 * 1e-12)
      assert.closeTo(byCustomer.undefined, 0.00005, 0.00005 * 1e-12)
      const ledger = yield* CostLedger.snapshot
      assert.strictEqual(ledger.total.costAttodollars, BigInt(200_000_000_000_000)) // $0.0002 = 2e14 attodollars
      assert.strictEqual(ledger.total.calls, 1000)
    }).pipe(Effect.provide(Layer.mergeAll(
      TrackingTest.layer,
      Layer.succeed(Pricing.Pricing, pricing),
      Metrics.layerCostByCustomer({ customers: ["acme"] }),
      CostLedger.layer
    )))
  })
})

describe("run roll-up", () => {
  it.live("retries, fallbacks, tool calls, concurrent fibers and a nested run, each counted once", () => {
    const claude = uniqueName("house-claude")
    const gpt = uniqueName("house-gpt")
    const summary = uniqueName("house-summary")
    return Effect.gen(function*() {
      let claudeRuns = 0
      const limitedClaude = Effect.gen(function*() {
        const tracker = yield* LlmTracker
        // A failed attempt that still reported usage: 100 in, 0 out, $0.00025.
        yield* tracker.setTokens({ inputTokens: 100, outputTokens: 0 })
        if (claudeRuns++ < 5) return yield* Effect.fail(new RateLimitError({ message: "429" }))
      }).pipe(trackLlmCall({ provider: "openai", model: claude }), retryTracked(Schedule.recurs(1)))
      const gptAnswer = call(gpt, { inputTokens: 1000, outputTokens: 200 }) // $0.0025 + $0.002 = $0.0045
      const lookup = Effect.flatMap(ToolTracker, (t) => t.setResult({ success: true })).pipe(
        trackToolCall({ toolName: "lookup" })
      )
      const nested = Effect.all([call(summary, { inputTokens: 400, outputTokens: 100 }), lookup], {
        concurrency: "unbounded"
      }).pipe(botanuWorkflow("summarize", { eventId: "S-1", customerId: "acme" })) // $0.001 + $0.001 = $0.002
      yield* Effect.gen(function*() {
        yield* fallbackTracked([limitedClaude, gptAnswer], { while: (e) => e._tag === "RateLimitError" })
        yield* Effect.all([lookup, lookup, nested, call(gpt, { inputTokens: 0, outputTokens: 50 })], {
          concurrency: "unbounded"
        }) // the last call: 50 x $10/M = $0.0005
      }).pipe(botanuWorkflow("support", { eventId: "T-1", customerId: "acme" }))

      const inner = yield* spanNamed("botanu.run/summarize")
      assert.strictEqual(inner.attributes["botanu.run.cost_usd"], 0.002)
      assert.strictEqual(inner.attributes["botanu.run.llm_calls"], 1)
      assert.strictEqual(inner.attributes["botanu.run.tool_calls"], 1)
      assert.strictEqual(inner.attributes["botanu.run.input_tokens"], 400)
      assert.strictEqual(inner.attributes["botanu.run.output_tokens"], 100)

      const outer = yield* spanNamed("botanu.run/support")
      // 2 failed Claude attempts $0.0005 + GPT $0.0045 + nested $0.002 + last call $0.0005 = $0.0075
      assert.strictEqual(outer.attributes["botanu.run.cost_usd"], 0.0075)
      assert.strictEqual(outer.attributes["botanu.run.llm_calls"], 5)
      assert.strictEqual(outer.attributes["botanu.run.tool_calls"], 3)
      assert.strictEqual(outer.attributes["botanu.run.input_tokens"], 100 + 100 + 1000 + 400)
      assert.strictEqual(outer.attributes["botanu.run.output_tokens"], 200 + 100 + 50)
      assert.isUndefined(outer.attributes["botanu.run.unpriced_calls"])

      const ledger = yield* CostLedger.snapshot
      assert.strictEqual(ledger.byWorkflow.get("support")?.costUsd, 0.0055)
      assert.strictEqual(ledger.byWorkflow.get("summarize")?.costUsd, 0.002)
      assert.strictEqual(ledger.byCustomer.get("acme")?.costUsd, 0.0075)
      assert.strictEqual(ledger.byModel.get(`openai/${claude}`)?.calls, 2)
    }).pipe(Effect.provide(Layer.merge(withPrices([claude, gpt, summary]), CostLedger.layer)))
  })

  it.effect("a run with an unpriceable call says so instead of counting it as free", () => {
    const known = uniqueName("house-known")
    const unknown = uniqueName("mystery")
    return Effect.gen(function*() {
      yield* Effect.all([
        call(known, { inputTokens: 1000, outputTokens: 0 }),
        call(unknown, { inputTokens: 1000, outputTokens: 1000 }, "mylab")
      ]).pipe(botanuWorkflow("mixed", { eventId: "M-1", customerId: "acme" }))
      const run = yield* spanNamed("botanu.run/mixed")
      assert.strictEqual(run.attributes["botanu.run.cost_usd"], 0.0025)
      assert.strictEqual(run.attributes["botanu.run.unpriced_calls"], 1)
      assert.strictEqual(run.attributes["botanu.run.llm_calls"], 2)
    }).pipe(Effect.provide(withPrices([known])))
  })
})
