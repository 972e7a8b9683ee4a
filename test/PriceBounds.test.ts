/**
 * Arithmetic never yields garbage: a custom price that is not a price, or a pricing service that answers something
 * that is not a cost, gives a status that says why and no amount, so that no span, run, agent, ledger row or metric
 * point ever holds Infinity or NaN.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Logger } from "effect"
import {
  botanuWorkflow,
  CostLedger,
  LlmTracker,
  Pricing,
  trackAgent,
  TrackingTest,
  trackLlmCall
} from "../src/index.js"
import { maxCostAttodollars } from "../src/internal/money.js"
import { metricNamed, pointsWhere, uniqueName } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const call = (model: string, inputTokens: number, outputTokens: number) =>
  Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens, outputTokens })).pipe(
    trackLlmCall({ provider: "openai", model })
  )

const amountKeys = [
  "botanu.cost.input_usd",
  "botanu.cost.output_usd",
  "botanu.cost.total_usd",
  "botanu.cost.cache_read_usd",
  "botanu.cost.cache_write_usd",
  "botanu.cost.reasoning_usd",
  "gen_ai.usage.cost"
]

/** Every number of every finished span (lists included) is finite. */
const assertFiniteSpans = (spans: ReadonlyArray<ReadableSpan>) => {
  for (const span of spans) {
    for (const [key, value] of Object.entries(span.attributes)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item === "number") assert.isTrue(Number.isFinite(item), `${span.name} ${key} = ${item}`)
      }
    }
  }
}

/** Every point of every metric is finite (sums, gauges and each field of a histogram). */
const assertFiniteMetrics = (collected: ResourceMetrics) => {
  for (const metric of collected.scopeMetrics.flatMap((scope) => scope.metrics)) {
    for (const point of metric.dataPoints as Array<{ value: unknown }>) {
      const value = point.value
      const numbers = typeof value === "number"
        ? [value]
        : Object.values(value as Record<string, unknown>).filter((v): v is number => typeof v === "number")
      for (const n of numbers) assert.isTrue(Number.isFinite(n), `${metric.descriptor.name} = ${n}`)
    }
  }
}

const captureLogs = () => {
  const logs: Array<string> = []
  const layer = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))
  return { logs, layer }
}

const priced = { inputPerMillion: 2.5, outputPerMillion: 10 }
const range = "(USD per million tokens, from 0 to 10000)"

describe("custom prices that are not prices", () => {
  it.effect(
    "1e300, Infinity, NaN, negative, a string, a throwing getter: invalid_price with the reason, nothing non-finite anywhere",
    () => {
      const good = uniqueName("good")
      const trap = {
        outputPerMillion: 1,
        get inputPerMillion(): number {
          throw new Error("price table unreachable")
        }
      }
      const bad: ReadonlyArray<readonly [string, Pricing.ModelPrices, string]> = [
        ["huge", { inputPerMillion: 1e300, outputPerMillion: 1 }, `inputPerMillion: 1e+300 is above the maximum`],
        ["infinite", { inputPerMillion: 1, outputPerMillion: Infinity }, "outputPerMillion: Infinity is not finite"],
        ["nan", { inputPerMillion: Number.NaN, outputPerMillion: 1 }, "inputPerMillion: NaN is not a number"],
        [
          "negative",
          { inputPerMillion: 1, outputPerMillion: 1, cacheReadPerMillion: -0.5 },
          "cacheReadPerMillion: -0.5 is negative"
        ],
        [
          "string",
          { inputPerMillion: "2.5" as unknown as number, outputPerMillion: 1 },
          "inputPerMillion: a string of 3 chars is not a number"
        ],
        ["getter", trap, "inputPerMillion: failed to read (price table unreachable)"]
      ]
      const models = bad.map(([name]) => uniqueName(name))
      const pricing = Pricing.makeCustom({
        prices: [
          { provider: "openai", model: good, prices: priced },
          ...bad.map(([, prices], i) => ({ provider: "openai", model: models[i], prices }))
        ]
      })
      return Effect.gen(function*() {
        yield* Effect.all([call(good, 1000, 1000), ...models.map((model) => call(model, 1000, 1000))]).pipe(
          trackAgent({ name: "pricer" }),
          botanuWorkflow("bounds", { eventId: "B-1", customerId: "acme" })
        )
        // The good call: 1000 × $2.5/M + 1000 × $10/M = $0.0025 + $0.01 = $0.0125
        const goodSpan = yield* spanNamed(`chat ${good}`)
        assert.strictEqual(goodSpan.attributes["botanu.cost.total_usd"], 0.0125)
        for (let i = 0; i < bad.length; i++) {
          const span = yield* spanNamed(`chat ${models[i]}`)
          assert.strictEqual(span.attributes["botanu.cost.status"], "invalid_price", bad[i][0])
          assert.strictEqual(span.attributes["botanu.cost.pricing_source"], "custom")
          for (const key of amountKeys) assert.isUndefined(span.attributes[key], `${bad[i][0]} ${key}`)
          assert.deepStrictEqual(warningsOf(span), [
            `cost: the custom price is invalid: ${bad[i][2]} ${range}; not priced`
          ])
        }
        const run = yield* spanNamed("botanu.run/bounds")
        assert.strictEqual(run.attributes["botanu.run.cost_usd"], 0.0125)
        assert.strictEqual(run.attributes["botanu.run.llm_calls"], 1 + bad.length)
        const agent = yield* spanNamed("invoke_agent pricer")
        assert.strictEqual(agent.attributes["botanu.agent.cost_usd"], 0.0125)
        const ledger = yield* CostLedger.snapshot
        assert.strictEqual(ledger.total.costAttodollars, 12_500_000_000_000_000n) // $0.0125
        assert.strictEqual(ledger.total.costUsd, 0.0125)
        for (const totals of [ledger.total, ...ledger.byModel.values()]) {
          assert.isTrue(Number.isFinite(totals.costUsd))
        }
        const collected = yield* TrackingTest.collectMetrics
        const cost = metricNamed(collected, "botanu.gen_ai.cost")
        assert.deepStrictEqual(pointsWhere(cost, "gen_ai.request.model", good).map((p) => p.value), [0.0125])
        for (const model of models) assert.deepStrictEqual(pointsWhere(cost, "gen_ai.request.model", model), [])
        assertFiniteSpans(yield* TrackingTest.finishedSpans)
        assertFiniteMetrics(collected)
      }).pipe(Effect.provide(Layer.mergeAll(
        TrackingTest.layerWith({ usageCostAttribute: true }),
        Layer.succeed(Pricing.Pricing, pricing),
        CostLedger.layer
      )))
    }
  )

  it("the bound: $10,000 per million tokens is a price, above it is not; at the bound the largest counts cost a finite amount", () => {
    const pricing = Pricing.makeCustom({
      prices: [
        { model: "dearest", prices: { inputPerMillion: 10_000, outputPerMillion: 10_000 } },
        { model: "too-dear", prices: { inputPerMillion: 10_000.01, outputPerMillion: 1 } }
      ]
    })
    const max = Number.MAX_SAFE_INTEGER
    const usage = { input: max, output: max, cacheRead: max, cacheWrite: max, reasoning: max }
    const cost = pricing.price({ provider: "p", model: "dearest", usage, timestamp: 0 })
    assert.strictEqual(cost.status, "custom")
    // input: at least its cache reads + writes = 2 × max tokens, all of them cache; output: max tokens.
    // 3 × 9_007_199_254_740_991 × 1e16 attodollars a token ($0.01).
    assert.strictEqual(cost.total, 3n * BigInt(max) * 10n ** 16n)
    assert.isTrue(Number.isFinite(Pricing.toUsd(cost.total)))
    // Every count at its bound (cached audio and images none, so that all the cache reads are other reads), every
    // rate and fee at its own: exactly the most one call can cost. The input is at least its audio + image + other
    // cache reads + cache writes (4 × max), the output at least its reasoning + audio + image (3 × max):
    // 7 × max tokens × 1e16; requests and web searches 2 × max × 1e18 ($1 each).
    const everything = Pricing.makeCustom({
      prices: [{
        model: "dearest",
        prices: {
          inputPerMillion: 10_000,
          outputPerMillion: 10_000,
          perThousandRequests: 1_000,
          perThousandWebSearches: 1_000
        }
      }]
    })
    const all = {
      ...usage,
      cacheWrite1h: max,
      inputAudio: max,
      cacheReadAudio: 0,
      inputImage: max,
      cacheReadImage: 0,
      outputAudio: max,
      outputImage: max,
      requests: max,
      webSearches: max
    }
    const dearest = everything.price({ provider: "p", model: "dearest", usage: all, timestamp: 0 })
    assert.strictEqual(dearest.status, "custom")
    assert.strictEqual(dearest.total, 7n * BigInt(max) * 10n ** 16n + 2n * BigInt(max) * 10n ** 18n)
    assert.strictEqual(dearest.total, maxCostAttodollars)
    assert.isTrue(Number.isFinite(Pricing.toUsd(dearest.total)))
    assert.strictEqual(pricing.price({ provider: "p", model: "too-dear", usage, timestamp: 0 }).status, "invalid_price")
  })

  it("counts are added as bigints: two safe counts past 2^53 are priced to the token", () => {
    const pricing = Pricing.makeCustom({
      prices: [{ model: "m", prices: { inputPerMillion: 1, outputPerMillion: 0 } }]
    })
    const max = Number.MAX_SAFE_INTEGER
    const cost = pricing.price({
      provider: "p",
      model: "m",
      usage: { input: 0, output: 0, cacheRead: max, cacheWrite: max - 1, reasoning: 0 },
      timestamp: 0
    })
    // (2^53 - 1) + (2^53 - 2) = 2^54 - 3 tokens, which a double would round to 2^54 - 4; at 1e12 attodollars each.
    assert.strictEqual(cost.input, (2n ** 54n - 3n) * 10n ** 12n)
  })

  it.effect("at the bound, the largest token counts a call can record give finite USD everywhere", () => {
    const model = uniqueName("dearest")
    const pricing = Pricing.makeCustom({
      prices: [{ provider: "openai", model, prices: { inputPerMillion: 10_000, outputPerMillion: 10_000 } }]
    })
    const max = Number.MAX_SAFE_INTEGER
    return Effect.gen(function*() {
      yield* Effect.all([call(model, max, max), call(model, max, max)]).pipe(
        botanuWorkflow("dear", { eventId: "D-1", customerId: "acme" })
      )
      const spans = (yield* TrackingTest.finishedSpans).filter((span) => span.name === `chat ${model}`)
      assert.strictEqual(spans.length, 2)
      for (const span of spans) {
        assert.strictEqual(span.attributes["botanu.cost.status"], "custom")
        // 2 × 9_007_199_254_740_991 tokens × $0.01
        assert.strictEqual(span.attributes["botanu.cost.total_usd"], Number(2n * BigInt(max)) / 100)
      }
      const run = yield* spanNamed("botanu.run/dear")
      assert.isTrue(Number.isFinite(run.attributes["botanu.run.cost_usd"] as number))
      assertFiniteSpans(yield* TrackingTest.finishedSpans)
      assertFiniteMetrics(yield* TrackingTest.collectMetrics)
    }).pipe(Effect.provide(Layer.merge(TrackingTest.layer, Layer.succeed(Pricing.Pricing, pricing))))
  })
})

describe("custom options that cannot be read", () => {
  it("never throw: not records, Proxies, throwing getters, entries without a model; what can be used still prices", () => {
    const hostile = new Proxy({}, {
      get: () => {
        throw new Error("no options for you")
      }
    })
    const revoked = Proxy.revocable({}, {})
    revoked.revoke()
    const throwingList = new Proxy([{ model: "listed", prices: priced }], {
      get: (target, key) => {
        if (key === "0") throw new Error("no entry")
        return Reflect.get(target, key)
      }
    })
    const usage = { input: 1000, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 }
    const price = (service: Pricing.Pricing.Service, model: string, provider = "openai") =>
      service.price({ provider, model, usage, timestamp: 0 })
    for (const options of [hostile, revoked.proxy, null, 42, "prices", { prices: 42 }, { prices: throwingList }]) {
      const service = Pricing.makeCustom(options as Pricing.CustomOptions)
      // Nothing custom applies: gpt-4o keeps its catalogue price.
      assert.strictEqual(price(service, "gpt-4o").status, "priced")
    }
    const mixed = Pricing.makeCustom({
      prices: [
        null,
        { model: "", prices: priced },
        { model: 42, prices: priced },
        { provider: 7, model: "gpt-4o", prices: { inputPerMillion: 1e300, outputPerMillion: 1 } },
        {
          get model(): string {
            throw new Error("who am i")
          },
          prices: priced
        },
        {
          model: "unreadable-prices",
          get prices(): never {
            throw new Error("later")
          }
        },
        { model: "not-a-record", prices: [1, 2] },
        { model: "kept", prices: priced }
      ] as unknown as ReadonlyArray<Pricing.CustomPrice>
    })
    // Entries that do not say which model they are for are ignored: gpt-4o is not claimed.
    assert.strictEqual(price(mixed, "gpt-4o").status, "priced")
    assert.deepInclude(price(mixed, "unreadable-prices"), {
      status: "invalid_price",
      reason: "the custom price is invalid: prices: failed to read (later)"
    })
    assert.deepInclude(price(mixed, "not-a-record"), {
      status: "invalid_price",
      reason: "the custom price is invalid: prices: an array is not a record"
    })
    // 1000 × $2.5/M = 2.5e15 attodollars
    assert.deepInclude(price(mixed, "kept"), { status: "custom", total: 2_500_000_000_000_000n })
    // Without usage a call costs nothing at any price: no_usage, as for an unknown model.
    assert.strictEqual(
      mixed.price({ provider: "p", model: "not-a-record", usage: { ...usage, input: 0 }, timestamp: 0 }).status,
      "no_usage"
    )
  })

  it("an invalid alias claims its model: invalid_price, never another price for it", () => {
    const pricing = Pricing.makeCustom({
      prices: [{ model: "broken", prices: { inputPerMillion: -1, outputPerMillion: 1 } }],
      aliases: [
        { provider: "azure", model: "gpt-4o", as: 42 as never },
        { model: "nameless-target", as: { model: "" } },
        { model: "to-broken", as: { model: "broken" } },
        { model: "fine", as: { provider: "openai", model: "gpt-4o" } }
      ]
    })
    const price = (provider: string, model: string) =>
      pricing.price({
        provider,
        model,
        usage: { input: 10, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
        timestamp: 0
      })
    assert.deepInclude(price("azure.openai", "gpt-4o"), {
      status: "invalid_price",
      reason: "the custom price alias is invalid: as: 42 is not a record"
    })
    assert.strictEqual(price("openai", "gpt-4o").status, "priced")
    assert.deepInclude(price("p", "nameless-target"), {
      status: "invalid_price",
      reason: "the custom price alias is invalid: as.model: an empty string is not a model name"
    })
    assert.strictEqual(price("p", "to-broken").status, "invalid_price")
    assert.strictEqual(price("p", "fine").status, "priced")
  })

  it("a later entry for the same model replaces an earlier one, valid or not", () => {
    const pricing = Pricing.makeCustom({
      prices: [
        { model: "a", prices: priced },
        { model: "a", prices: { inputPerMillion: Infinity, outputPerMillion: 1 } },
        { model: "b", prices: { inputPerMillion: Infinity, outputPerMillion: 1 } },
        { model: "B", prices: priced }
      ]
    })
    const status = (model: string) =>
      pricing.price({
        provider: "p",
        model,
        usage: { input: 10, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
        timestamp: 0
      }).status
    assert.strictEqual(status("a"), "invalid_price")
    assert.strictEqual(status("b"), "custom")
  })

  it.effect("layerCustom logs each invalid entry once when built, at most 32 lines and a count, and never fails", () => {
    const { layer: capture, logs } = captureLogs()
    const prices = Array.from({ length: 40 }, (_, i) => ({
      model: `bad-${i}`,
      prices: { inputPerMillion: -i - 1, outputPerMillion: 1 }
    }))
    return Effect.gen(function*() {
      const service = yield* Effect.provide(
        Pricing.Pricing,
        Pricing.layerCustom({ prices: [...prices, { model: "ok", prices: priced }], aliases: [null as never] })
      )
      const usage = { input: 1, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 }
      assert.strictEqual(service.price({ provider: "p", model: "bad-0", usage, timestamp: 0 }).status, "invalid_price")
      assert.strictEqual(service.price({ provider: "p", model: "ok", usage, timestamp: 0 }).status, "custom")
      assert.strictEqual(logs.length, 33)
      assert.strictEqual(
        logs[0],
        `botanu: Pricing.layerCustom: prices[0] ("bad-0"): inputPerMillion: -1 is negative ${range}; its calls get ` +
          `botanu.cost.status = invalid_price, not a price from elsewhere`
      )
      assert.strictEqual(logs[32], "botanu: Pricing.layerCustom: 9 more invalid entries")
    }).pipe(Effect.provide(capture))
  })
})

describe("a pricing service that answers garbage", () => {
  const answers: Record<string, (request: Pricing.PriceRequest) => unknown> = {
    throws: () => {
      throw new Error("pricing backend down")
    },
    nothing: () => null,
    "number-total": () => ({ status: "priced", source: "mine", input: 1, output: 0, total: Infinity }),
    "beyond-bound": () => ({
      status: "priced",
      source: "mine",
      input: 10n ** 400n,
      output: 0n,
      total: 10n ** 400n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: undefined
    }),
    negative: () => ({ status: "custom", source: "mine", input: -5n, output: 5n, total: 0n }),
    "bad-sum": () => ({ status: "priced", source: "mine", input: 1n, output: 1n, total: 3n }),
    "bad-status": () => ({ status: "cheap", source: "mine", input: 1n, output: 0n, total: 1n }),
    "free-not-free": () => ({ status: "free", source: "mine", input: 1n, output: 0n, total: 1n }),
    "big-part": () => ({ status: "priced", source: "mine", input: 1n, output: 0n, total: 1n, cacheRead: 2n }),
    "throwing-total": () => ({
      status: "priced",
      input: 1n,
      output: 0n,
      get total(): bigint {
        throw new Error("gotcha")
      }
    })
  }
  const notACost = "the pricing's answer is not a cost:"
  const reasons: Record<string, string> = {
    throws: "the pricing failed (pricing backend down)",
    nothing: `${notACost} null`,
    "number-total": `${notACost} input: 1 is not a bigint of attodollars`,
    "beyond-bound": `${notACost} total: more than one call can cost ($18644902457313852)`,
    negative: `${notACost} input: -5 is negative`,
    "bad-sum": `${notACost} total: 3 is not input + output (2)`,
    "bad-status": `${notACost} status: a string of 5 chars is not a cost status`,
    "free-not-free": `${notACost} status: free, with a total of 1`,
    "big-part": `${notACost} cacheRead: 2 is more than input (1)`,
    "throwing-total": `${notACost} failed to read (gotcha)`
  }
  const prefix = uniqueName("garbage")
  const garbage: Pricing.Pricing.Service = {
    price: (request) => {
      const answer = answers[request.model.slice(prefix.length + 1)]
      if (answer !== undefined) return answer(request) as Pricing.Cost
      // A well-formed answer of the app's own is recorded as it is.
      return {
        status: "priced",
        source: "mine",
        input: 3_000_000_000_000_000n,
        output: 1_000_000_000_000_000n,
        total: 4_000_000_000_000_000n,
        cacheRead: 1_000_000_000_000_000n,
        cacheWrite: undefined,
        reasoning: undefined
      }
    }
  }

  it.effect("invalid_cost with the reason, no amounts; nothing non-finite in spans, run, ledger or metrics", () =>
    Effect.gen(function*() {
      const names = Object.keys(answers)
      yield* Effect.all([...names.map((name) => call(`${prefix}-${name}`, 10, 10)), call(`${prefix}-fine`, 10, 10)])
        .pipe(botanuWorkflow("garbage", { eventId: "G-1", customerId: "acme" }))
      for (const name of names) {
        const span = yield* spanNamed(`chat ${prefix}-${name}`)
        assert.strictEqual(span.attributes["botanu.cost.status"], "invalid_cost", name)
        assert.isUndefined(span.attributes["botanu.cost.pricing_source"], name)
        for (const key of amountKeys) assert.isUndefined(span.attributes[key], `${name} ${key}`)
        assert.deepStrictEqual(warningsOf(span), [`cost: ${reasons[name]}; not priced`], name)
      }
      const fine = yield* spanNamed(`chat ${prefix}-fine`)
      assert.deepInclude(fine.attributes, {
        "botanu.cost.status": "priced",
        "botanu.cost.pricing_source": "mine",
        "botanu.cost.total_usd": 0.004,
        "botanu.cost.cache_read_usd": 0.001
      })
      const run = yield* spanNamed("botanu.run/garbage")
      assert.strictEqual(run.attributes["botanu.run.cost_usd"], 0.004)
      const ledger = yield* CostLedger.snapshot
      assert.strictEqual(ledger.total.costAttodollars, 4_000_000_000_000_000n)
      const collected = yield* TrackingTest.collectMetrics
      const cost = metricNamed(collected, "botanu.gen_ai.cost")
      for (const name of names) {
        assert.deepStrictEqual(pointsWhere(cost, "gen_ai.request.model", `${prefix}-${name}`), [], name)
      }
      assertFiniteSpans(yield* TrackingTest.finishedSpans)
      assertFiniteMetrics(collected)
    }).pipe(Effect.provide(Layer.mergeAll(
      TrackingTest.layerWith({ usageCostAttribute: true }),
      Layer.succeed(Pricing.Pricing, garbage),
      CostLedger.layer
    ))))
})
