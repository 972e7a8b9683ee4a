import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Layer, Logger, TestClock } from "effect"
import { botanuWorkflow, Budget, LlmTracker, TrackingTest, trackLlmCall } from "../src/index.js"
import { attoOf, costing, dollarModel, dollarPrices, forCustomer } from "./utils/budget.js"
import { metricNamed, uniqueName } from "./utils/metrics.js"

const captureLogs = () => {
  const logs: Array<string> = []
  return { logs, layer: Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message)))) }
}

/** The budget layer with the dollar model's prices, fresh for each test. */
const withBudget = (options: Budget.Options) => Effect.provide(Layer.merge(Budget.layer(options), dollarPrices))

const spentOf = (scope: Budget.Scope, key?: string) =>
  Effect.map(
    scope === "global" ? Budget.remaining("global") : Budget.remaining(scope, key!),
    (remaining) => remaining.limits.map((limit) => limit.spent)
  )

const refused = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.either(effect), (result) => {
    assert.isTrue(Either.isLeft(result), "refused")
    const error = (result as Either.Left<E, A>).left as unknown as Budget.BudgetExceeded
    assert.strictEqual(error._tag, "BudgetExceeded")
    return error
  })

const admitted = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.either(effect), (result) => {
    assert.isTrue(Either.isRight(result), `admitted: ${Either.isLeft(result) ? String(result.left) : ""}`)
  })

const day = 86_400_000

describe("Budget: scopes", () => {
  it.effect("customer: each customer has its own day; a hard limit refuses the next call, with the facts", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* admitted(costing(0.6).pipe(Budget.enforce, acme))
      yield* admitted(costing(0.5).pipe(Budget.enforce, acme))
      // $1.10 spent: the limit is reached (a call without a reservation only needs it not reached yet).
      const error = yield* refused(costing(0.1).pipe(Budget.enforce, acme))
      assert.deepStrictEqual(
        { ...error, message: undefined },
        {
          _tag: "BudgetExceeded",
          scope: "customer",
          key: "acme",
          window: "day",
          limit: 1,
          spent: 1.1,
          reserved: 0,
          requested: 0,
          windowEnd: new Date(day),
          message: undefined
        } as never
      )
      assert.strictEqual(
        error.message,
        `budget: customer "acme" reached its hard day limit of $1 ($1.1 spent); the call was refused (the window ends ` +
          `1970-01-02T00:00:00.000Z)`
      )
      // Another customer is not held to acme's spend.
      yield* admitted(costing(0.9).pipe(Budget.enforce, forCustomer("globex")))
      assert.deepStrictEqual(yield* spentOf("customer", "acme"), [1.1])
      assert.deepStrictEqual(yield* spentOf("customer", "globex"), [0.9])
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "day", mode: "hard" }] })))

  it.effect("customer: a key's own limit replaces the default of the same window and mode, not the others", () =>
    Effect.gen(function*() {
      const vip = forCustomer("vip")
      yield* admitted(costing(3).pipe(Budget.enforce, vip))
      yield* admitted(costing(1.5).pipe(Budget.enforce, vip)) // $4.50 < $5, its own day limit
      yield* admitted(costing(0.5).pipe(Budget.enforce, vip))
      const error = yield* refused(costing(1).pipe(Budget.enforce, vip))
      assert.strictEqual(error.limit, 5)
      const other = forCustomer("other")
      yield* admitted(costing(1).pipe(Budget.enforce, other))
      assert.strictEqual((yield* refused(costing(1).pipe(Budget.enforce, other))).limit, 1)
      // The default month limit still applies to vip: $10 a month.
      const remaining = yield* Budget.remaining("customer", "vip")
      assert.deepStrictEqual(
        remaining.limits.map((limit) => [limit.window, limit.amount, limit.match, limit.spent]),
        [["day", 5, "vip", 5], ["month", 10, undefined, 5]]
      )
      assert.strictEqual(remaining.remaining, 0)
    }).pipe(withBudget({
      limits: [
        { scope: "customer", amount: 1, window: "day" },
        { scope: "customer", amount: 10, window: "month" },
        { scope: "customer", match: "vip", amount: 5, window: "day" }
      ]
    })))

  it.effect("tenant: calls of runs with the tenant; runs without one are not in any tenant's budget", () =>
    Effect.gen(function*() {
      const tenantA = (customerId: string) => forCustomer(customerId, "support_ticket", { tenantId: "tenant-a" })
      yield* admitted(costing(0.7).pipe(Budget.enforce, tenantA("c1")))
      yield* admitted(costing(0.4).pipe(Budget.enforce, tenantA("c2")))
      // Another customer of the same tenant is refused: the tenant's spend is $1.10.
      const error = yield* refused(costing(0.1).pipe(Budget.enforce, tenantA("c3")))
      assert.deepStrictEqual([error.scope, error.key], ["tenant", "tenant-a"])
      yield* admitted(costing(2).pipe(Budget.enforce, forCustomer("c3")))
      yield* admitted(costing(0.5).pipe(Budget.enforce, forCustomer("c4", "support_ticket", { tenantId: "tenant-b" })))
      assert.deepStrictEqual(yield* spentOf("tenant", "tenant-a"), [1.1])
      assert.deepStrictEqual(yield* spentOf("tenant", "tenant-b"), [0.5])
    }).pipe(withBudget({ limits: [{ scope: "tenant", amount: 1, window: "day" }] })))

  it.effect("workflow: each workflow by name, or one workflow with match", () =>
    Effect.gen(function*() {
      const refund = (customerId: string) => forCustomer(customerId, "refund_request")
      const support = (customerId: string) => forCustomer(customerId, "support_ticket")
      yield* admitted(costing(2).pipe(Budget.enforce, refund("a")))
      assert.strictEqual((yield* refused(costing(0.1).pipe(Budget.enforce, refund("b")))).key, "refund_request")
      // support_ticket has no limit of its own here: only refund_request's is matched.
      yield* admitted(costing(5).pipe(Budget.enforce, support("a")))
      yield* admitted(costing(5).pipe(Budget.enforce, support("b")))
      assert.deepStrictEqual(yield* spentOf("workflow", "refund_request"), [2])
      assert.deepStrictEqual((yield* Budget.remaining("workflow", "support_ticket")).limits, [])
    }).pipe(withBudget({ limits: [{ scope: "workflow", match: "refund_request", amount: 2, window: "month" }] })))

  it.effect("run: the run's own spend, nested runs included; other runs are not held to it", () =>
    Effect.gen(function*() {
      const nested = Effect.gen(function*() {
        yield* costing(0.3).pipe(Budget.enforce)
        // A sub-workflow's calls count in the outer run's budget.
        yield* costing(0.25).pipe(Budget.enforce, botanuWorkflow("lookup", { eventId: "e", customerId: "acme" }))
        return yield* Effect.either(
          costing(0.1).pipe(Budget.enforce, botanuWorkflow("lookup", { eventId: "f", customerId: "acme" }))
        )
      }).pipe(forCustomer("acme"))
      const inner = yield* nested
      assert.isTrue(Either.isLeft(inner))
      const error = (inner as Either.Left<Budget.BudgetExceeded, number>).left
      assert.deepStrictEqual([error.scope, error.window, error.spent, error.windowEnd], ["run", "run", 0.55, undefined])
      // A second run starts from nothing.
      yield* admitted(costing(0.45).pipe(Budget.enforce, forCustomer("acme")))
    }).pipe(withBudget({ limits: [{ scope: "run", amount: 0.5 }] })))

  it.effect("global: every call, outside runs too", () =>
    Effect.gen(function*() {
      yield* admitted(costing(0.6).pipe(Budget.enforce))
      yield* admitted(costing(0.6).pipe(Budget.enforce, forCustomer("acme")))
      const error = yield* refused(costing(0.1).pipe(Budget.enforce))
      assert.deepStrictEqual([error.scope, error.key, error.window], ["global", "global", "rolling 1h"])
      assert.deepStrictEqual(yield* spentOf("global"), [1.2])
    }).pipe(withBudget({ limits: [{ scope: "global", amount: 1, window: "1 hour" }] })))

  it.effect("every matching scope counts a call once; the first hard limit reached refuses it", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme", "support_ticket", { tenantId: "t" })
      yield* admitted(costing(0.4).pipe(Budget.enforce, acme))
      yield* admitted(costing(0.2).pipe(Budget.enforce, acme))
      for (const [scope, key] of [["customer", "acme"], ["tenant", "t"], ["workflow", "support_ticket"]] as const) {
        assert.deepStrictEqual(yield* spentOf(scope, key), [0.6], scope)
      }
      assert.deepStrictEqual(yield* spentOf("global"), [0.6, 0.6])
      // The workflow's limit ($0.50) is the one reached; the customer's ($5) is not.
      const error = yield* refused(costing(0.1).pipe(Budget.enforce, acme))
      assert.strictEqual(error.scope, "workflow")
    }).pipe(withBudget({
      limits: [
        { scope: "customer", amount: 5, window: "day" },
        { scope: "tenant", amount: 5, window: "month" },
        { scope: "workflow", amount: 0.5, window: "day" },
        { scope: "global", amount: 100, window: "day" },
        { scope: "global", amount: 200, window: "month", mode: "soft" }
      ]
    })))

  it.effect("failed attempts are counted; a wrapper call is not counted again", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* Effect.either(costing(0.25, { fail: true }).pipe(Budget.enforce, acme))
      // A tracked call around a tracked call: the inner one is the invocation, the outer adds nothing.
      yield* costing(0.5).pipe(trackLlmCall({ provider: "openai", model: dollarModel }), Budget.enforce, acme)
      assert.deepStrictEqual(yield* spentOf("customer", "acme"), [0.75])
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 10, window: "day" }] })))

  it.effect("calls that are not enforced count, and are never refused", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* costing(2).pipe(acme)
      yield* costing(2).pipe(acme)
      assert.deepStrictEqual(yield* spentOf("customer", "acme"), [4])
      yield* refused(costing(0.01).pipe(Budget.enforce, acme))
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] })))

  it.effect("without Budget.layer, enforce runs the effect unchecked", () =>
    Effect.gen(function*() {
      const value = yield* costing(1000).pipe(Budget.enforce({ reserve: 5 }), forCustomer("acme"))
      assert.strictEqual(value, 1000)
    }).pipe(Effect.provide(dollarPrices)))
})

describe("Budget: windows", () => {
  it.effect("day: the UTC day, to the millisecond", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* TestClock.setTime(Date.UTC(2026, 11, 1, 0, 0))
      yield* admitted(costing(1).pipe(Budget.enforce, acme))
      yield* TestClock.setTime(Date.UTC(2026, 11, 1, 23, 59, 59, 999))
      const error = yield* refused(costing(1).pipe(Budget.enforce, acme))
      assert.deepStrictEqual(error.windowEnd, new Date(Date.UTC(2026, 11, 2)))
      yield* TestClock.adjust(1)
      yield* admitted(costing(1).pipe(Budget.enforce, acme))
      const remaining = yield* Budget.remaining("customer", "acme")
      assert.deepStrictEqual(remaining.limits[0].windowEnd, new Date(Date.UTC(2026, 11, 3)))
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] })))

  it.effect("month: the UTC month, across the turn of the year", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* TestClock.setTime(Date.UTC(2026, 11, 31, 23, 0))
      yield* admitted(costing(3).pipe(Budget.enforce, acme))
      const error = yield* refused(costing(1).pipe(Budget.enforce, acme))
      assert.deepStrictEqual(error.windowEnd, new Date(Date.UTC(2027, 0, 1)))
      yield* TestClock.adjust("1 hour")
      yield* admitted(costing(1).pipe(Budget.enforce, acme))
      // February has 28 days in 2027: its window ends on March 1st.
      yield* TestClock.setTime(Date.UTC(2027, 1, 28, 12))
      yield* admitted(costing(3).pipe(Budget.enforce, acme))
      assert.deepStrictEqual(
        (yield* refused(costing(1).pipe(Budget.enforce, acme))).windowEnd,
        new Date(Date.UTC(2027, 2, 1))
      )
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 3, window: "month" }] })))

  it.effect("rolling: the last hour, in one-minute buckets", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* admitted(costing(0.5).pipe(Budget.enforce, acme)) // at 00:00
      yield* TestClock.adjust("30 minutes")
      yield* admitted(costing(0.5).pipe(Budget.enforce, acme)) // at 00:30
      yield* TestClock.adjust("29 minutes")
      const error = yield* refused(costing(0.1).pipe(Budget.enforce, acme)) // 00:59, $1 in the last hour
      assert.deepStrictEqual([error.window, error.spent, error.windowEnd], ["rolling 1h", 1, new Date(60 * 60_000)])
      yield* TestClock.adjust("1 minute") // 01:00: the 00:00 spend has left the window
      assert.deepStrictEqual(yield* spentOf("customer", "acme"), [0.5])
      yield* admitted(costing(0.4).pipe(Budget.enforce, acme))
      yield* TestClock.adjust("31 minutes") // 01:31: only the 01:00 spend is left
      assert.deepStrictEqual(yield* spentOf("customer", "acme"), [0.4])
      yield* TestClock.adjust("2 hours")
      assert.deepStrictEqual(yield* spentOf("customer", "acme"), [0])
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "1 hour" }] })))

  it.effect("run: for as long as the run makes calls; forgotten runTtl after its last", () =>
    Effect.gen(function*() {
      const run = Effect.gen(function*() {
        yield* costing(0.5).pipe(Budget.enforce)
        yield* TestClock.adjust("59 minutes")
        // Still the same run, still its spend: refused, which is not a call that adds to it.
        yield* refused(costing(0.1).pipe(Budget.enforce))
        // An hour after its last call (checks do not count), the run's spend is forgotten: an idle run.
        yield* TestClock.adjust("2 minutes")
        yield* admitted(costing(0.1).pipe(Budget.enforce))
      }).pipe(forCustomer("acme"))
      yield* run
    }).pipe(withBudget({ limits: [{ scope: "run", amount: 0.5 }], runTtl: "1 hour" })))
})

describe("Budget: soft limits", () => {
  it.effect("never refuse; each call that ends at or past one gets an event; one warning per key and window", () => {
    const { layer: logs, logs: lines } = captureLogs()
    return Effect.gen(function*() {
      const acme = forCustomer("acme")
      for (let i = 0; i < 4; i++) yield* admitted(costing(0.4).pipe(Budget.enforce, acme))
      yield* admitted(costing(0.4).pipe(Budget.enforce, forCustomer("globex")))
      const spans = (yield* TrackingTest.finishedSpans).filter((span) => span.name === `chat ${dollarModel}`)
      const events = spans.map((span) => span.events.filter((event) => event.name === Budget.exceededEvent))
      // $0.40, $0.80, $1.20, $1.60: the third and fourth reached the $1 limit; globex's did not.
      assert.deepStrictEqual(events.map((list) => list.length), [0, 0, 1, 1, 0])
      assert.deepStrictEqual(events[2][0].attributes, {
        "botanu.budget.scope": "customer",
        "botanu.budget.key": "acme",
        "botanu.budget.window": "day",
        "botanu.budget.mode": "soft",
        "botanu.budget.limit_usd": 1,
        "botanu.budget.spent_usd": 1.2,
        "botanu.budget.window_end": "1970-01-02T00:00:00.000Z"
      })
      const warnings = () => lines.filter((line) => line.includes("botanu: budget:"))
      assert.deepStrictEqual(warnings(), [
        `botanu: budget: customer "acme" reached its soft day limit of $1: $1.2 spent (the window ends ` +
        `1970-01-02T00:00:00.000Z); calls go on: a soft limit never stops one`
      ])
      // The next day is a new window: one more warning when it is reached again.
      yield* TestClock.adjust("1 day")
      for (let i = 0; i < 3; i++) yield* costing(0.5).pipe(Budget.enforce, acme)
      assert.strictEqual(warnings().length, 2)
      assert.include(warnings()[1], "$1 spent (the window ends 1970-01-03T00:00:00.000Z)")
    }).pipe(
      withBudget({ limits: [{ scope: "customer", amount: 1, window: "day", mode: "soft" }] }),
      Effect.provide(Layer.merge(TrackingTest.layer, logs))
    )
  })

  it.effect("a hard limit passed by calls that were not enforced gets the event too, and one warning", () => {
    const { layer: logs, logs: lines } = captureLogs()
    return Effect.gen(function*() {
      yield* costing(0.6).pipe(forCustomer("acme"))
      yield* costing(0.6).pipe(forCustomer("acme"))
      const span = (yield* TrackingTest.finishedSpans).filter((span) => span.name === `chat ${dollarModel}`)[1]
      assert.strictEqual(
        span.events.find((event) => event.name === Budget.exceededEvent)?.attributes?.["botanu.budget.mode"],
        "hard"
      )
      assert.deepStrictEqual(lines.filter((line) => line.includes("botanu: budget:")), [
        `botanu: budget: customer "acme" reached its hard day limit of $1: $1.2 spent (the window ends ` +
        `1970-01-02T00:00:00.000Z); enforced calls are refused until the window ends`
      ])
    }).pipe(
      withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] }),
      Effect.provide(Layer.merge(TrackingTest.layer, logs))
    )
  })

  it.effect("a refused call leaves an event on the span around it (the run's)", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* costing(1).pipe(acme)
      yield* Effect.either(costing(1).pipe(Budget.enforce, acme))
      const runs = (yield* TrackingTest.finishedSpans).filter((span) => span.name === "botanu.run/support_ticket")
      const refusal = runs[1].events.find((event) => event.name === Budget.refusedEvent)
      assert.deepStrictEqual(refusal?.attributes, {
        "botanu.budget.scope": "customer",
        "botanu.budget.key": "acme",
        "botanu.budget.window": "day",
        "botanu.budget.limit_usd": 1,
        "botanu.budget.spent_usd": 1,
        "botanu.budget.window_end": "1970-01-02T00:00:00.000Z"
      })
      assert.strictEqual(runs[1].attributes["error.type"], "BudgetExceeded")
    }).pipe(
      withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] }),
      Effect.provide(TrackingTest.layer)
    ))
})

describe("Budget: reservations and concurrency", () => {
  const limit = 1
  const cost = 0.003
  const calls = 1_000

  /** `calls` enforced calls started together, all running until the clock moves: each passes or fails its check first. */
  const burst = (
    enforced: (call: Effect.Effect<number, string>) => Effect.Effect<number, unknown>,
    costOf: (i: number) => number
  ) =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.all(
          Array.from({ length: calls }, (_, i) => Effect.either(enforced(costing(costOf(i), { delay: "1 second" })))),
          { concurrency: "unbounded" }
        ).pipe(forCustomer("acme"))
      )
      yield* TestClock.adjust("2 seconds")
      const results = yield* Fiber.join(fiber)
      const remaining = yield* Budget.remaining("customer", "acme")
      return {
        admitted: results.filter(Either.isRight).length,
        refused: results.filter(Either.isLeft).length,
        spent: remaining.limits[0].spentAttodollars,
        reserved: remaining.limits[0].reserved
      }
    })

  const budget = withBudget({ limits: [{ scope: "customer", amount: limit, window: "day" }] })

  it.effect("1,000 concurrent calls that reserve their cost: the spend never passes the limit", () =>
    Effect.gen(function*() {
      const result = yield* burst(Budget.enforce({ reserve: cost }), () => cost)
      // 333 reservations of $0.003 fit in $1: exactly those calls ran, and nothing is held any more.
      assert.deepStrictEqual(result, { admitted: 333, refused: 667, spent: attoOf(0.999), reserved: 0 })
    }).pipe(budget))

  it.effect("1,000 concurrent calls costing at most their reservation: at most the limit, whatever each costs", () =>
    Effect.gen(function*() {
      const result = yield* burst(Budget.enforce({ reserve: 0.005 }), (i) => (i % 7) * 0.0007)
      assert.isTrue(result.spent <= attoOf(limit), `${result.spent} spent`)
      assert.strictEqual(result.admitted, 200) // $1 / $0.005: the reservations decide who runs
      assert.strictEqual(result.reserved, 0)
    }).pipe(budget))

  it.effect("the worst case from maxTokens, priced as the call will be", () =>
    Effect.gen(function*() {
      // 1,000 input tokens and up to 2,000 output tokens at $1 per million: $0.003.
      const reserve = { provider: "openai", model: dollarModel, inputTokens: 1_000, maxTokens: 2_000 }
      const result = yield* burst(Budget.enforce({ reserve }), () => cost)
      assert.deepStrictEqual(result, { admitted: 333, refused: 667, spent: attoOf(0.999), reserved: 0 })
    }).pipe(budget))

  it.effect("without reservations, calls in flight pass the limit together: by at most what they cost", () =>
    Effect.gen(function*() {
      const result = yield* burst(Budget.enforce, () => cost)
      // All 1,000 were checked before any ended: the documented bound is what the calls in flight cost.
      assert.strictEqual(result.admitted, calls)
      assert.isTrue(result.spent <= attoOf(limit) + attoOf(cost) * BigInt(calls), `${result.spent} spent`)
      // Once they ended, the limit is reached and the next call is refused.
      yield* refused(costing(cost).pipe(Budget.enforce, forCustomer("acme")))
    }).pipe(budget))

  it.effect("the layer's reservation applies to enforced calls that give none", () =>
    Effect.gen(function*() {
      const result = yield* burst(Budget.enforce, () => cost)
      assert.deepStrictEqual(result, { admitted: 333, refused: 667, spent: attoOf(0.999), reserved: 0 })
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: limit, window: "day" }], reserve: cost })))

  it.effect("a reservation is given back when the call fails, dies or is interrupted", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* Effect.either(costing(0.1, { fail: true }).pipe(Budget.enforce({ reserve: 0.5 }), acme))
      yield* Effect.exit(Effect.die("boom").pipe(Budget.enforce({ reserve: 0.5 }), acme))
      const fiber = yield* Effect.fork(costing(0.1, { delay: "1 minute" }).pipe(Budget.enforce({ reserve: 0.5 }), acme))
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Budget.remaining("customer", "acme")).limits[0].reserved, 0.5)
      yield* Fiber.interrupt(fiber)
      const remaining = yield* Budget.remaining("customer", "acme")
      assert.deepStrictEqual([remaining.limits[0].spent, remaining.limits[0].reserved], [0.1, 0])
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] })))

  it.effect("a reservation that does not fit what is left refuses the call before the limit is reached", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      yield* costing(0.9).pipe(acme)
      const error = yield* refused(costing(0.05).pipe(Budget.enforce({ reserve: 0.2 }), acme))
      assert.deepStrictEqual([error.spent, error.requested], [0.9, 0.2])
      assert.include(
        error.message,
        `has $0.1 left of its hard day limit of $1 ($0.9 spent) and the call may cost up to $0.2`
      )
      yield* admitted(costing(0.05).pipe(Budget.enforce({ reserve: 0.1 }), acme))
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] })))

  it.effect("enforced calls inside an enforced workflow part are not refused for the reservation around them", () =>
    Effect.gen(function*() {
      const part = Effect.gen(function*() {
        yield* costing(0.3).pipe(Budget.enforce({ reserve: 0.4 }))
        yield* costing(0.3).pipe(Budget.enforce({ reserve: 0.4 }))
      }).pipe(Budget.enforce({ reserve: 0.8 }), forCustomer("acme"))
      yield* admitted(part)
      assert.deepStrictEqual(yield* spentOf("customer", "acme"), [0.6])
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] })))
})

describe("Budget: metrics", () => {
  const pointsOf = (metrics: Awaited<ReturnType<typeof metricNamed>>, key: string) =>
    (metrics.dataPoints as Array<{ attributes: Record<string, unknown>; value: number }>).filter((point) =>
      point.attributes["botanu.budget.key"] === key
    )

  it.effect("spend per scope and key, refusals; past metricKeys customers are _other", () =>
    Effect.gen(function*() {
      const [a, b, c] = [uniqueName("metrics-a"), uniqueName("metrics-b"), uniqueName("metrics-c")]
      yield* costing(0.75).pipe(Budget.enforce, forCustomer(a))
      yield* costing(0.5).pipe(Budget.enforce, forCustomer(a))
      yield* Effect.either(costing(0.5).pipe(Budget.enforce, forCustomer(a)))
      yield* costing(0.25).pipe(Budget.enforce, forCustomer(b))
      yield* costing(0.125).pipe(Budget.enforce, forCustomer(c))
      const collected = yield* TrackingTest.collectMetrics
      const spend = metricNamed(collected, "botanu.budget.spend")
      assert.strictEqual(spend.descriptor.unit, "USD")
      assert.deepStrictEqual(pointsOf(spend, a).map((point) => [point.attributes, point.value]), [
        [{ "botanu.budget.scope": "customer", "botanu.budget.key": a }, 1.25]
      ])
      assert.deepStrictEqual(pointsOf(spend, b).map((point) => point.value), [0.25])
      // metricKeys: 2, so the third customer is in the `_other` series.
      assert.deepStrictEqual(pointsOf(spend, c), [])
      assert.isAtLeast(pointsOf(spend, "_other").map((point) => point.value)[0] ?? 0, 0.125)
      const refusals = metricNamed(collected, "botanu.budget.refusals")
      assert.strictEqual(refusals.descriptor.unit, "{call}")
      assert.deepStrictEqual(pointsOf(refusals, a).map((point) => [point.attributes, point.value]), [
        [{
          "botanu.budget.scope": "customer",
          "botanu.budget.key": a,
          "botanu.budget.window": "day",
          "botanu.budget.reason": "exceeded"
        }, 1]
      ])
    }).pipe(
      withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }], metricKeys: 2 }),
      Effect.provide(TrackingTest.layer)
    ))

  it.effect("runs and the global scope are counted without a key", () =>
    Effect.gen(function*() {
      const workflow = uniqueName("metrics-run")
      yield* costing(0.5).pipe(Budget.enforce, forCustomer("x", workflow))
      const collected = yield* TrackingTest.collectMetrics
      const spend = metricNamed(collected, "botanu.budget.spend")
      const scopes = (spend.dataPoints as Array<{ attributes: Record<string, unknown> }>)
        .filter((point) =>
          point.attributes["botanu.budget.scope"] === "run" || point.attributes["botanu.budget.scope"] === "global"
        )
        .map((point) => point.attributes)
      assert.deepStrictEqual(scopes, [{ "botanu.budget.scope": "run" }, { "botanu.budget.scope": "global" }])
    }).pipe(
      withBudget({ limits: [{ scope: "run", amount: 1 }, { scope: "global", amount: 100, window: "day" }] }),
      Effect.provide(TrackingTest.layer)
    ))
})

describe("Budget: options", () => {
  const throws = (options: unknown, message: string) =>
    assert.throws(() => Budget.layer(options as Budget.Options), message)

  it("a limit that cannot work throws InvalidBudgetOptions when the layer is made", () => {
    throws({ limits: [{ scope: "customers", amount: 1, window: "day" }] }, `limits[0].scope: a string of 9 chars`)
    throws({ limits: [{ scope: "customer", amount: -1, window: "day" }] }, "limits[0].amount: -1 is not an amount")
    throws({ limits: [{ scope: "customer", amount: Number.NaN, window: "day" }] }, "limits[0].amount: NaN")
    throws({ limits: [{ scope: "customer", amount: 1 }] }, "limits[0].window is missing")
    throws({ limits: [{ scope: "customer", amount: 1, window: "weekly" }] }, "is not a duration")
    throws({ limits: [{ scope: "customer", amount: 1, window: "1 millis" }] }, "from 1 second to 400 days")
    throws({ limits: [{ scope: "customer", amount: 1, window: "run" }] }, `"run" is for scope "run"`)
    throws({ limits: [{ scope: "run", amount: 1, window: "day" }] }, "a run limit's window is the run")
    throws(
      { limits: [{ scope: "global", amount: 1, window: "day", match: "x" }] },
      "only customer, tenant and workflow"
    )
    throws({ limits: [{ scope: "customer", amount: 1, window: "day", mode: "strict" }] }, `is not "hard" or "soft"`)
    throws({ limits: "none" }, "options.limits")
    throws({ limits: [], store: {} }, "options.store: not a store")
    throws({ limits: [], metricKeys: 5000 }, "options.metricKeys")
    assert.throws(() => Budget.enforce({ reserve: -1 }), "enforce options.reserve: -1")
    assert.throws(() => Budget.redisStore({ url: "http://localhost" }), "is not redis: or rediss:")
    try {
      Budget.layer({ limits: [{ scope: "customer", amount: -1, window: "day" }] })
    } catch (error) {
      assert.strictEqual((error as { _tag: string })._tag, "InvalidBudgetOptions")
    }
  })

  it.effect("remaining: every limit of the key, the least left under a hard one", () =>
    Effect.gen(function*() {
      yield* costing(0.25).pipe(forCustomer("acme"))
      const remaining = yield* Budget.remaining("customer", "acme")
      assert.deepStrictEqual(
        remaining.limits.map(({ amount, mode, remaining, spent, window }) => ({
          window,
          mode,
          amount,
          spent,
          remaining
        })),
        [
          { window: "day", mode: "soft", amount: 0.5, spent: 0.25, remaining: 0.25 },
          { window: "day", mode: "hard", amount: 1, spent: 0.25, remaining: 0.75 },
          { window: "month", mode: "hard", amount: 0.3, spent: 0.25, remaining: 0.05 }
        ]
      )
      assert.closeTo(remaining.remaining!, 0.05, 1e-12)
      assert.strictEqual((yield* Budget.remaining("tenant", "none")).remaining, undefined)
    }).pipe(withBudget({
      limits: [
        { scope: "customer", amount: 1, window: "day" },
        { scope: "customer", amount: 0.5, window: "day", mode: "soft" },
        { scope: "customer", amount: 0.3, window: "month" }
      ]
    })))

  it.effect("a tracked call's exit is untouched by the budget: its value and its error pass through", () =>
    Effect.gen(function*() {
      const acme = forCustomer("acme")
      assert.strictEqual(yield* costing(0.1).pipe(Budget.enforce, acme), 0.1)
      const exit = yield* Effect.exit(costing(0.1, { fail: true }).pipe(Budget.enforce, acme))
      assert.deepStrictEqual(Exit.isFailure(exit), true)
      const tracked = Effect.flatMap(LlmTracker, () => Effect.succeed("ok")).pipe(
        trackLlmCall({ provider: "openai", model: dollarModel }),
        Budget.enforce,
        acme
      )
      assert.strictEqual(yield* tracked, "ok")
    }).pipe(withBudget({ limits: [{ scope: "customer", amount: 1, window: "day" }] })))
})
