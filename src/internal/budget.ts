import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import {
  BudgetExceededEvent,
  BudgetLimitUsdKey,
  BudgetModeKey,
  BudgetRefusedEvent,
  BudgetSpentUsdKey,
  BudgetWindowEndKey
} from "../Attributes.js"
import type * as Api from "../Budget.js"
import { Pricing } from "../Pricing.js"
import { normalizeProvider } from "../Provider.js"
import type { RunContext } from "../Workflow.js"
import * as BudgetMetrics from "./budgetMetrics.js"
import { type CallListener, CallListeners, type FinishedCall } from "./callListeners.js"
import { budgetMetricKeys, maxBudgetCounters, maxBudgetWarnings, maxSeriesPerMetric } from "./limits.js"
import { attoPerToken } from "./money.js"
import { isUnpriced, toUsd } from "./pricing.js"
import { currentRunState } from "./runState.js"
import { describe } from "./sanitize.js"
import { serviceOption } from "./services.js"

/** @internal */
export {
  BudgetExceededEvent,
  BudgetLimitUsdKey,
  BudgetModeKey,
  BudgetRefusedEvent,
  BudgetSpentUsdKey,
  BudgetWindowEndKey
}

// --- errors and the service ------------------------------------------------------------------------------------

/**
 * A hard limit of a scope the call belongs to is reached, or would be passed by the call's reservation (see
 * `Budget.enforce`): the call did not start. Amounts are in USD; `windowEnd` is when the window's spend starts to
 * count no more (the end of the UTC day or month; for a rolling window, when its oldest part leaves it; none for a
 * run).
 *
 * @since 0.1.0
 * @category errors
 */
export class BudgetExceeded extends Data.TaggedError("BudgetExceeded")<{
  readonly scope: Api.Scope
  /** The customer, tenant, workflow or root run id; `"global"` for the global scope. */
  readonly key: string
  /** `"day"`, `"month"`, `"run"` or `"rolling <duration>"` (`"rolling 1h"`). */
  readonly window: string
  readonly limit: number
  /** Spent in the window so far, by every call counted (every process, with the Redis store). */
  readonly spent: number
  /** Held by enforced calls still running (their reservations). */
  readonly reserved: number
  /** What this call asked to reserve: 0 when it had no reservation. */
  readonly requested: number
  readonly windowEnd: Date | undefined
  readonly message: string
}> {}

/**
 * The budget store could not be reached in time (Redis down, a timeout) and the store fails closed
 * (`Budget.redisStore({ onUnavailable: "closed" })`): the call did not start. Also what `Budget.remaining` fails
 * with when it cannot read the spend.
 *
 * @since 0.1.0
 * @category errors
 */
export class BudgetUnavailable extends Data.TaggedError("BudgetUnavailable")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Options of `Budget.layer`, `Budget.enforce` or a store that cannot work: thrown when the layer, the combinator or
 * the store is made, so that a typo fails at start-up rather than leaving spending unchecked.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidBudgetOptions extends Data.TaggedError("InvalidBudgetOptions")<{
  readonly message: string
}> {}

/**
 * @since 0.1.0
 * @category tags
 */
export class Budget extends Context.Tag("@botanu/effect/Budget")<Budget, Budget.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace Budget {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** The spend and what is left under every limit that applies to `key` in `scope` (see `Budget.remaining`). */
    readonly remaining: (scope: Api.Scope, key?: string) => Effect.Effect<Api.Remaining, BudgetUnavailable>
  }
}

// --- money and names ---------------------------------------------------------------------------------------------

/** The most a limit may be: a thousand million dollars, far above any budget and well inside a 64-bit counter. */
const maxAmountUsd = 1e9

/** USD to attodollars, read from the number's decimal digits as prices are (exact to 12 decimals). */
const usdToAtto = (usd: number): bigint | undefined => {
  const perToken = attoPerToken(usd)
  // `attoPerToken` reads USD per million tokens as attodollars per token: the decimal point moved 12 places, six
  // short of the 18 from dollars to attodollars.
  return perToken === undefined ? undefined : perToken * 1_000_000n
}

/** Money in messages: up to 8 significant digits, so that "$4.9999999" does not read as "$5". */
const formatUsd = (usd: number): string => `$${Number(usd.toPrecision(8))}`

const globalKey = "global"

// --- windows -----------------------------------------------------------------------------------------------------

const dayMillis = 86_400_000

/** Buckets of a rolling window: a spend counts for between 59/60 and 60/60 of the window's duration. */
export const rollingBuckets = 60

/**
 * One window of a limit, now: which one (part of the store key), when it ends, when its counter may be forgotten.
 *
 * @internal
 */
export interface Period {
  readonly id: string
  /** Epoch ms: the end of the UTC day or month; for a rolling window, the end of the current bucket; none for a run. */
  readonly end: number | undefined
  /** Epoch ms after which nothing reads the counter of this period any more (for a run: `runTtl` after now). */
  readonly expiresAt: number
  /** Rolling windows: the current bucket's index (epoch ms / bucket width). */
  readonly bucket: number
}

/** @internal */
export interface WindowSpec {
  readonly kind: "run" | "day" | "month" | "rolling"
  /** `"run"`, `"day"`, `"month"`, `"rolling 1h"`: in errors, events, metrics and `Remaining`. */
  readonly name: string
  /** Rolling windows: their duration and bucket width, in ms. */
  readonly millis: number
  readonly bucketMillis: number
  readonly period: (now: number) => Period
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n))

/** Windows that change once a day or month remember their last period, so a call builds no date string. */
const cachedPeriod = (compute: (now: number) => Period & { readonly start: number }) => {
  let last: (Period & { readonly start: number }) | undefined
  return (now: number): Period => {
    if (last !== undefined && now >= last.start && now < last.end!) return last
    last = compute(now)
    return last
  }
}

const daySpec: WindowSpec = {
  kind: "day",
  name: "day",
  millis: dayMillis,
  bucketMillis: dayMillis,
  period: cachedPeriod((now) => {
    const start = Math.floor(now / dayMillis) * dayMillis
    const date = new Date(start)
    const end = start + dayMillis
    return {
      id: `d${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`,
      start,
      end,
      expiresAt: end,
      bucket: 0
    }
  })
}

const monthSpec: WindowSpec = {
  kind: "month",
  name: "month",
  millis: 31 * dayMillis,
  bucketMillis: 31 * dayMillis,
  period: cachedPeriod((now) => {
    const date = new Date(now)
    const year = date.getUTCFullYear()
    const month = date.getUTCMonth()
    const start = Date.UTC(year, month, 1)
    const end = Date.UTC(year, month + 1, 1)
    return { id: `m${year}-${pad(month + 1)}`, start, end, expiresAt: end, bucket: 0 }
  })
}

const runSpec = (runTtlMillis: number): WindowSpec => ({
  kind: "run",
  name: "run",
  millis: runTtlMillis,
  bucketMillis: runTtlMillis,
  period: (now) => ({ id: "run", end: undefined, expiresAt: now + runTtlMillis, bucket: 0 })
})

const rollingSpec = (millis: number): WindowSpec => {
  const bucketMillis = Math.ceil(millis / rollingBuckets)
  return {
    kind: "rolling",
    name: `rolling ${Duration.format(Duration.millis(millis))}`,
    millis,
    bucketMillis,
    period: (now) => {
      const bucket = Math.floor(now / bucketMillis)
      const end = (bucket + 1) * bucketMillis
      return { id: `r${millis}`, end, expiresAt: end + bucketMillis * rollingBuckets, bucket }
    }
  }
}

// --- the limits, planned once ------------------------------------------------------------------------------------

/** @internal */
export interface LimitPlan {
  /** Its place in `limits`, which names it in messages. */
  readonly index: number
  readonly scope: Api.Scope
  readonly match: string | undefined
  readonly mode: Api.Mode
  readonly amount: bigint
  readonly amountUsd: number
  readonly window: WindowSpec
}

/**
 * The limits one key of a scope has in one window, which share one counter: the spend of a customer's day is one
 * sum whatever limits it is held to.
 *
 * @internal
 */
export interface CounterPlan {
  readonly scope: Api.Scope
  readonly window: WindowSpec
  /** Ascending by amount. */
  readonly limits: ReadonlyArray<LimitPlan>
  /** The lowest hard limit: the one `enforce` checks (any higher one is reached after it). */
  readonly hard: LimitPlan | undefined
}

/** What one scope holds: the limits of every key, and those of the keys that have limits of their own. */
interface ScopePlan {
  readonly generic: ReadonlyArray<CounterPlan>
  readonly byKey: ReadonlyMap<string, ReadonlyArray<CounterPlan>>
}

const scopes: ReadonlyArray<Api.Scope> = ["customer", "tenant", "workflow", "run", "global"]
const keyedScopes: ReadonlySet<Api.Scope> = new Set(["customer", "tenant", "workflow"])
const limitKeys = ["scope", "amount", "window", "mode", "match"] as const

/** @internal */
export const invalid = (message: string): never => {
  throw new InvalidBudgetOptions({ message: `Budget: ${message}` })
}

const read = (record: unknown, key: string, where: string): unknown => {
  try {
    return (record as Record<string, unknown>)[key]
  } catch {
    return invalid(`${where}.${key} could not be read`)
  }
}

/** @internal */
export const decodeDuration = (value: unknown, where: string): number => {
  const decoded = Duration.decodeUnknown(value)
  if (decoded._tag === "None") return invalid(`${where}: ${describe(value)} is not a duration`)
  const millis = Duration.toMillis(decoded.value)
  if (!Number.isFinite(millis) || millis <= 0) return invalid(`${where}: the duration must be finite and above 0`)
  return millis
}

const windowOf = (scope: Api.Scope, value: unknown, where: string, runTtlMillis: number): WindowSpec => {
  if (scope === "run") {
    if (value === undefined || value === "run") return runSpec(runTtlMillis)
    return invalid(`${where}.window: a run limit's window is the run ("run" or none)`)
  }
  if (value === "day") return daySpec
  if (value === "month") return monthSpec
  if (value === undefined) return invalid(`${where}.window is missing: "day", "month" or a rolling duration`)
  if (value === "run") return invalid(`${where}.window: "run" is for scope "run"`)
  const millis = decodeDuration(value, `${where}.window`)
  if (millis < 1_000 || millis > 400 * dayMillis) {
    return invalid(`${where}.window: a rolling window is from 1 second to 400 days`)
  }
  return rollingSpec(millis)
}

const limitPlan = (given: unknown, index: number, runTtlMillis: number): LimitPlan => {
  const where = `limits[${index}]`
  if (typeof given !== "object" || given === null) return invalid(`${where} is ${describe(given)}, not a limit`)
  const fields: Record<string, unknown> = {}
  for (const key of limitKeys) fields[key] = read(given, key, where)
  const scope = fields.scope as Api.Scope
  if (!scopes.includes(scope)) {
    return invalid(`${where}.scope: ${describe(scope)} is not one of ${scopes.map((s) => `"${s}"`).join(", ")}`)
  }
  const amountUsd = fields.amount
  if (typeof amountUsd !== "number" || !Number.isFinite(amountUsd) || amountUsd < 0 || amountUsd > maxAmountUsd) {
    return invalid(`${where}.amount: ${describe(amountUsd)} is not an amount of USD from 0 to ${maxAmountUsd}`)
  }
  const mode = fields.mode ?? "hard"
  if (mode !== "hard" && mode !== "soft") return invalid(`${where}.mode: ${describe(mode)} is not "hard" or "soft"`)
  const match = fields.match
  if (match !== undefined) {
    if (!keyedScopes.has(scope)) return invalid(`${where}.match: only customer, tenant and workflow limits match a key`)
    if (typeof match !== "string" || match.length === 0) return invalid(`${where}.match: not a non-empty string`)
  }
  return {
    index,
    scope,
    match,
    mode,
    amount: usdToAtto(amountUsd)!,
    amountUsd,
    window: windowOf(scope, fields.window, where, runTtlMillis)
  }
}

const counterPlans = (limits: ReadonlyArray<LimitPlan>): ReadonlyArray<CounterPlan> => {
  const byWindow = new Map<string, Array<LimitPlan>>()
  for (const limit of limits) {
    const group = byWindow.get(limit.window.name)
    if (group === undefined) byWindow.set(limit.window.name, [limit])
    else group.push(limit)
  }
  return Array.from(byWindow.values(), (group) => {
    const sorted = [...group].sort((a, b) => (a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : a.index - b.index))
    return {
      scope: sorted[0].scope,
      window: sorted[0].window,
      limits: sorted,
      hard: sorted.find((limit) => limit.mode === "hard")
    }
  })
}

const scopePlan = (limits: ReadonlyArray<LimitPlan>): ScopePlan => {
  const generic = limits.filter((limit) => limit.match === undefined)
  const matched = new Map<string, Array<LimitPlan>>()
  for (const limit of limits) {
    if (limit.match === undefined) continue
    const group = matched.get(limit.match)
    if (group === undefined) matched.set(limit.match, [limit])
    else group.push(limit)
  }
  const byKey = new Map<string, ReadonlyArray<CounterPlan>>()
  for (const [key, own] of matched) {
    // A key's own limit replaces the limits of every key with the same window and mode: a customer on a larger plan
    // gets its own day limit instead of the default one, and keeps the default month limit it does not override.
    const kept = generic.filter((limit) =>
      !own.some((mine) => mine.window.name === limit.window.name && mine.mode === limit.mode)
    )
    byKey.set(key, counterPlans([...own, ...kept]))
  }
  return { generic: counterPlans(generic), byKey }
}

/** @internal */
export interface Plan {
  readonly scopes: ReadonlyMap<Api.Scope, ScopePlan>
  readonly limits: ReadonlyArray<LimitPlan>
  readonly store: StoreFactory
  readonly reserve: bigint
  readonly metricKeys: number
  readonly runTtlMillis: number
}

/** How long a run's spend is kept after its last call, by default: a day. */
const defaultRunTtlMillis = dayMillis

/**
 * The options of `Budget.layer`, checked and planned once; throws `InvalidBudgetOptions`.
 *
 * @internal
 */
export const plan = (options: Api.Options): Plan => {
  if (typeof options !== "object" || options === null) return invalid(`options: ${describe(options)}, not a record`)
  const given = read(options, "limits", "options")
  if (!Array.isArray(given)) return invalid(`options.limits: ${describe(given)} is not an array of limits`)
  const runTtl = read(options, "runTtl", "options")
  const runTtlMillis = runTtl === undefined ? defaultRunTtlMillis : decodeDuration(runTtl, "options.runTtl")
  const limits = given.map((limit, index) => limitPlan(limit, index, runTtlMillis))
  const planned = new Map<Api.Scope, ScopePlan>()
  for (const scope of scopes) {
    const own = limits.filter((limit) => limit.scope === scope)
    if (own.length > 0) planned.set(scope, scopePlan(own))
  }
  const reserveUsd = read(options, "reserve", "options")
  const reserve = reserveUsd === undefined ? 0n : reserveAmount(reserveUsd, "options.reserve")
  const metricKeys = read(options, "metricKeys", "options")
  if (
    metricKeys !== undefined &&
    (typeof metricKeys !== "number" || !Number.isInteger(metricKeys) || metricKeys < 0 ||
      metricKeys > maxSeriesPerMetric)
  ) {
    return invalid(`options.metricKeys: ${describe(metricKeys)} is not an integer from 0 to ${maxSeriesPerMetric}`)
  }
  const store = read(options, "store", "options") ?? memoryStore()
  if (!isStoreFactory(store)) return invalid("options.store: not a store (Budget.memoryStore(), Budget.redisStore())")
  return {
    scopes: planned,
    limits,
    store,
    reserve,
    metricKeys: (metricKeys as number | undefined) ?? budgetMetricKeys,
    runTtlMillis
  }
}

const reserveAmount = (usd: unknown, where: string): bigint => {
  if (typeof usd !== "number" || !Number.isFinite(usd) || usd < 0 || usd > maxAmountUsd) {
    return invalid(`${where}: ${describe(usd)} is not an amount of USD from 0 to ${maxAmountUsd}`)
  }
  return usdToAtto(usd)!
}

// --- stores ------------------------------------------------------------------------------------------------------

/**
 * A counter of one key of a scope in one window, now.
 *
 * @internal
 */
export interface Counter {
  readonly scope: Api.Scope
  readonly key: string
  readonly plan: CounterPlan
  readonly period: Period
  /** Unique per scope, key and period: the memory store's key, the Redis store's (after its prefix and encoding). */
  readonly id: string
}

/** @internal */
export interface CounterState {
  /** Attodollars. */
  readonly spent: bigint
  readonly reserved: bigint
}

/** @internal */
export type ReserveResult =
  | { readonly _tag: "Reserved"; readonly states: ReadonlyArray<CounterState> }
  | { readonly _tag: "Refused"; readonly index: number; readonly state: CounterState }

/** @internal */
export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{
  readonly message: string
  readonly cause?: unknown
  /** Whether the command may have reached the backend (a timeout, a connection lost mid-command). */
  readonly sent: boolean
}> {}

/**
 * Where spend is kept. Every amount is in attodollars; a store that keeps coarser units (Redis: nano-dollars)
 * rounds what it adds and reserves up, and its limits down, so that it never counts less than was spent.
 *
 * @internal
 */
export interface BudgetStore {
  /** `"memory"`, `"Redis at 127.0.0.1:6379"`: for messages. */
  readonly name: string
  readonly onUnavailable: "open" | "closed"
  /**
   * Checks each counter against `limits[i]` (spent + reserved − `discounts[i]` + `amount` must stay at or below it,
   * and below it when `amount` is 0) and, when none refuses, reserves `amount` on each; atomically.
   */
  readonly reserve: (
    counters: ReadonlyArray<Counter>,
    limits: ReadonlyArray<bigint>,
    discounts: ReadonlyArray<bigint>,
    amount: bigint,
    now: number
  ) => Effect.Effect<ReserveResult, StoreUnavailable>
  /** `reserve` done at once, for a store in this process's memory: no Effect step added to an enforced call. */
  readonly reserveNow:
    | ((
      counters: ReadonlyArray<Counter>,
      limits: ReadonlyArray<bigint>,
      discounts: ReadonlyArray<bigint>,
      amount: bigint,
      now: number
    ) => ReserveResult)
    | undefined
  /** Gives back what `reserve` held; never fails (a store that cannot reach its backend keeps it for later). */
  readonly release: (counters: ReadonlyArray<Counter>, amount: bigint) => Effect.Effect<void>
  readonly read: (
    counters: ReadonlyArray<Counter>,
    now: number
  ) => Effect.Effect<ReadonlyArray<CounterState>, StoreUnavailable>
  /** Adds a finished call's cost at once and returns the counters' spend: a store in this process's memory. */
  readonly addNow:
    | ((counters: ReadonlyArray<Counter>, amount: bigint, now: number) => ReadonlyArray<bigint>)
    | undefined
  /** Adds it in an effect run after the call's span ended; the spends after it, or `undefined` when unknown. */
  readonly addLater: (
    counters: ReadonlyArray<Counter>,
    amount: bigint
  ) => Effect.Effect<ReadonlyArray<bigint> | undefined>
  /** This process's latest view of a counter's spend (for a store that adds later): the span event reads it. */
  readonly lastSeen: (counter: Counter) => bigint | undefined
}

const StoreTypeId: unique symbol = Symbol.for("@botanu/effect/Budget/Store") as never

/**
 * What `Budget.memoryStore()` and `Budget.redisStore()` return: the store is made (and a connection opened) when
 * the layer is built, and closed when it is released.
 *
 * @internal
 */
export interface StoreFactory extends Api.Store {
  readonly make: Effect.Effect<BudgetStore, never, Scope.Scope>
}

const isStoreFactory = (value: unknown): value is StoreFactory =>
  typeof value === "object" && value !== null && StoreTypeId in value

/** @internal */
export const storeFactory = (name: string, make: Effect.Effect<BudgetStore, never, Scope.Scope>): StoreFactory =>
  ({
    [StoreTypeId]: StoreTypeId,
    kind: name,
    make
  }) as unknown as StoreFactory

interface MemoryCounter {
  spent: bigint
  reserved: bigint
  expiresAt: number
  /** Rolling windows: the spend of each bucket, the newest bucket's index. */
  buckets: Array<bigint> | undefined
  head: number
}

/** Moves a rolling counter's window to `bucket`, forgetting the buckets that left it. */
const advance = (counter: MemoryCounter, bucket: number): void => {
  const buckets = counter.buckets!
  if (bucket <= counter.head) return
  const steps = Math.min(bucket - counter.head, rollingBuckets)
  for (let i = 1; i <= steps; i++) {
    const slot = (counter.head + i) % rollingBuckets
    counter.spent -= buckets[slot]
    buckets[slot] = 0n
  }
  counter.head = bucket
}

/**
 * The spend of this process's calls, in its memory: exact (attodollars), atomic (one JavaScript thread), bounded
 * (`maxCounters`; expired windows are forgotten first).
 *
 * @internal
 */
export const makeMemoryStore = (maxCounters: number): BudgetStore => {
  const counters = new Map<string, MemoryCounter>()
  let sweepAt = 1_024
  const sweep = (now: number) => {
    for (const [id, counter] of counters) {
      if (counter.expiresAt <= now && counter.reserved === 0n) counters.delete(id)
    }
    // Past the bound the oldest go (the map keeps insertion order, and counters of past windows are the oldest),
    // down to nine tenths of it, so that a store kept full does not sweep on every new counter.
    if (counters.size >= maxCounters) {
      const keep = Math.floor(maxCounters * 0.9)
      for (const id of counters.keys()) {
        if (counters.size <= keep) break
        counters.delete(id)
      }
    }
    sweepAt = Math.max(1_024, counters.size * 2)
  }
  /**
   * The counter's state now, made when missing. Only an addition makes a counter live longer (a run's spend lasts
   * `runTtl` after its last call, not after its last check), as in the Redis store.
   */
  const get = (counter: Counter, now: number, adding: boolean): MemoryCounter => {
    const period = counter.period
    let state = counters.get(counter.id)
    if (state !== undefined && state.expiresAt <= now && state.reserved === 0n) {
      counters.delete(counter.id)
      state = undefined
    }
    if (state === undefined) {
      if (counters.size >= sweepAt || counters.size >= maxCounters) sweep(now)
      state = {
        spent: 0n,
        reserved: 0n,
        expiresAt: period.expiresAt,
        buckets: counter.plan.window.kind === "rolling" ? new Array<bigint>(rollingBuckets).fill(0n) : undefined,
        head: period.bucket
      }
      counters.set(counter.id, state)
    } else if (adding && period.expiresAt > state.expiresAt) {
      state.expiresAt = period.expiresAt
    }
    if (state.buckets !== undefined) advance(state, period.bucket)
    return state
  }
  const peek = (counter: Counter, now: number): CounterState => {
    const state = counters.get(counter.id)
    if (state === undefined || (state.expiresAt <= now && state.reserved === 0n)) return { spent: 0n, reserved: 0n }
    if (state.buckets !== undefined) advance(state, counter.period.bucket)
    return { spent: state.spent, reserved: state.reserved }
  }
  const reserveNow = (
    list: ReadonlyArray<Counter>,
    limits: ReadonlyArray<bigint>,
    discounts: ReadonlyArray<bigint>,
    amount: bigint,
    now: number
  ): ReserveResult => {
    const states = list.map((counter) => get(counter, now, false))
    for (let i = 0; i < states.length; i++) {
      const state = states[i]
      const held = state.spent + state.reserved - discounts[i]
      if (amount > 0n ? held + amount > limits[i] : held >= limits[i]) {
        return { _tag: "Refused", index: i, state: { spent: state.spent, reserved: state.reserved } }
      }
    }
    for (const state of states) state.reserved += amount
    return { _tag: "Reserved", states }
  }
  return {
    name: "memory",
    onUnavailable: "open",
    reserve: (list, limits, discounts, amount, now) =>
      Effect.sync(() => reserveNow(list, limits, discounts, amount, now)),
    reserveNow,
    release: (list, amount) =>
      Effect.sync(() => {
        for (const counter of list) {
          const state = counters.get(counter.id)
          // Gone only when forgotten past the bound: nothing to give back then.
          if (state !== undefined) state.reserved = state.reserved > amount ? state.reserved - amount : 0n
        }
      }),
    read: (list, now) => Effect.sync(() => list.map((counter) => peek(counter, now))),
    addNow: (list, amount, now) =>
      list.map((counter) => {
        const state = get(counter, now, true)
        if (state.buckets !== undefined) {
          const slot = state.head % rollingBuckets
          state.buckets[slot] += amount
        }
        state.spent += amount
        return state.spent
      }),
    addLater: () => Effect.succeed(undefined),
    lastSeen: (counter) => counters.get(counter.id)?.spent
  }
}

/**
 * The time of the fiber running now (a tracked call ending, an enforced call starting), from its `Clock`, so that
 * `TestClock` drives the windows; the system's time outside a fiber.
 */
const currentMillis = (): number => {
  const fiber = Fiber.getCurrentFiber()
  if (fiber._tag === "None") return Date.now()
  return Context.get(fiber.value.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()
}

const currentNanos = (): bigint => {
  const fiber = Fiber.getCurrentFiber()
  if (fiber._tag === "None") return BigInt(Date.now()) * 1_000_000n
  return Context.get(fiber.value.currentDefaultServices, Clock.Clock).unsafeCurrentTimeNanos()
}

/** @internal */
export const memoryStore = (options: Api.MemoryStoreOptions = {}): StoreFactory => {
  const max = read(options, "maxCounters", "memoryStore options")
  if (max !== undefined && (typeof max !== "number" || !Number.isInteger(max) || max < 1)) {
    return invalid(`memoryStore: maxCounters: ${describe(max)} is not a positive integer`)
  }
  const maxCounters = (max as number | undefined) ?? maxBudgetCounters
  return storeFactory("memory", Effect.sync(() => makeMemoryStore(maxCounters)))
}

// --- attributes of the span event --------------------------------------------------------------------------------

// --- the budget: what a call belongs to, the listener, enforce, remaining ----------------------------------------

/** The reservations held by the enforced effects this fiber runs inside, by counter id. */
const currentReservations = globalValue(
  "@botanu/effect/internal/budget/currentReservations",
  () => FiberRef.unsafeMake<ReadonlyMap<string, bigint> | undefined>(undefined)
)

const keyOf = (scope: Api.Scope, run: RunContext | undefined): string | undefined => {
  switch (scope) {
    case "global":
      return globalKey
    case "customer":
      return run?.customerId
    case "tenant":
      return run?.tenantId
    case "workflow":
      return run?.workflow
    case "run":
      // A run's budget covers the runs nested in it: a request cannot pass its limit through sub-workflows.
      return run?.rootRunId
  }
}

/** The label of keys past the bound, as for customers on the cost metric (`Metrics.otherCustomers`). */
const BudgetOther = "_other"

/** The keys of a scope that get a series of their own on the budget metrics: the first `max` seen. */
class MetricKeys {
  private readonly seen = new Set<string>()
  constructor(private readonly max: number) {}
  labelFor(key: string): string {
    if (this.seen.has(key)) return key
    if (this.seen.size < this.max && key !== BudgetOther) {
      this.seen.add(key)
      return key
    }
    return BudgetOther
  }
}

/** @internal */
export interface EnforcePlan {
  /** The reservation, in attodollars, at `now`, with the pricing the context holds; `undefined`: the layer's. */
  readonly reserve: ((context: Context.Context<never>, now: number) => bigint | undefined) | undefined
}

/** @internal */
export const enforcePlan = (options: Api.EnforceOptions | undefined): EnforcePlan => {
  if (options === undefined) return { reserve: undefined }
  if (typeof options !== "object" || options === null) return invalid(`enforce: ${describe(options)} is not options`)
  const reserve = read(options, "reserve", "enforce options")
  if (reserve === undefined) return { reserve: undefined }
  if (typeof reserve === "number") {
    const amount = reserveAmount(reserve, "enforce options.reserve")
    return { reserve: () => amount }
  }
  if (typeof reserve !== "object" || reserve === null) {
    return invalid(`enforce options.reserve: ${describe(reserve)} is neither USD nor a worst case`)
  }
  const provider = read(reserve, "provider", "enforce options.reserve")
  const model = read(reserve, "model", "enforce options.reserve")
  const inputTokens = read(reserve, "inputTokens", "enforce options.reserve")
  const maxTokens = read(reserve, "maxTokens", "enforce options.reserve")
  if (typeof provider !== "string" || typeof model !== "string") {
    return invalid("enforce options.reserve: provider and model must be strings")
  }
  for (const [name, value] of [["inputTokens", inputTokens], ["maxTokens", maxTokens]] as const) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      return invalid(`enforce options.reserve.${name}: ${describe(value)} is not a token count`)
    }
  }
  const vendor = normalizeProvider(provider)
  const input = inputTokens as number
  const output = maxTokens as number
  // The dearest the call can be: its input uncached, or all written to a 5-minute or 1-hour cache (dearer than
  // plain input with some providers), and `maxTokens` of output, reasoning included.
  const usages = [
    { input, output, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    { input, output, cacheRead: 0, cacheWrite: input, reasoning: 0 },
    { input, output, cacheRead: 0, cacheWrite: input, cacheWrite1h: input, reasoning: 0 }
  ]
  return {
    reserve: (context, now) => {
      const pricing = Context.get(context, Pricing)
      let worst: bigint | undefined
      for (const usage of usages) {
        try {
          const cost = pricing.price({ provider: vendor, model, usage, timestamp: now })
          if (!isUnpriced(cost.status) && (worst === undefined || cost.total > worst)) worst = cost.total
        } catch {
          // A pricing service of the app's own that throws prices nothing: the layer's reservation applies.
        }
      }
      return worst
    }
  }
}

/**
 * The budget of one layer build: its limits, its store, and the "limit reached" warnings already logged.
 *
 * @internal
 */
export class BudgetState implements Budget.Service {
  private readonly metricKeys = new Map<Api.Scope, MetricKeys>()
  /** `limit index, key, period id` → when the window ends: one warning per limit, key and window. */
  private readonly warned = new Map<string, number>()
  private warnedPastBound = false

  constructor(readonly plan: Plan, readonly store: BudgetStore) {
    for (const scope of keyedScopes) this.metricKeys.set(scope, new MetricKeys(plan.metricKeys))
  }

  private plansFor(scope: Api.Scope, key: string): ReadonlyArray<CounterPlan> {
    const planned = this.plan.scopes.get(scope)
    if (planned === undefined) return []
    return planned.byKey.get(key) ?? planned.generic
  }

  /** The counters a call made now, in `run`, counts in; only those with a hard limit for `enforce`. */
  countersFor(run: RunContext | undefined, now: number, hardOnly: boolean): Array<Counter> {
    const counters: Array<Counter> = []
    for (const [scope] of this.plan.scopes) {
      const key = keyOf(scope, run)
      if (key === undefined) continue
      for (const plan of this.plansFor(scope, key)) {
        if (hardOnly && plan.hard === undefined) continue
        counters.push(this.counter(scope, key, plan, now))
      }
    }
    return counters
  }

  private counter(scope: Api.Scope, key: string, plan: CounterPlan, now: number): Counter {
    const period = plan.window.period(now)
    return { scope, key, plan, period, id: `${scope}\u0000${key}\u0000${period.id}` }
  }

  private keyLabel(scope: Api.Scope, key: string): string | undefined {
    return this.metricKeys.get(scope)?.labelFor(key)
  }

  // --- a call ends ----------------------------------------------------------------------------------------------

  readonly listener: CallListener = (call: FinishedCall) => {
    const amount = call.cost.total
    if (amount <= 0n) return undefined
    const now = currentMillis()
    const counters = this.countersFor(call.run, now, false)
    if (counters.length === 0) return undefined
    this.recordSpend(counters, amount)
    const store = this.store
    if (store.addNow !== undefined) {
      return this.reached(counters, store.addNow(counters, amount, now), call.span, now, true)
    }
    // A store across processes answers later: the span, still open now, gets the event from this process's latest
    // view of the spend; the warning waits for the store's answer.
    const seen = counters.map((counter) => (store.lastSeen(counter) ?? 0n) + amount)
    this.reached(counters, seen, call.span, now, false)
    return Effect.flatMap(
      store.addLater(counters, amount),
      (
        spent
      ) => (spent === undefined ? Effect.void : this.reached(counters, spent, undefined, now, true) ?? Effect.void)
    )
  }

  private recordSpend(counters: ReadonlyArray<Counter>, amount: bigint): void {
    const usd = toUsd(amount)
    let last: Api.Scope | undefined
    for (const counter of counters) {
      // Once per scope: the counters of one scope are next to each other.
      if (counter.scope === last) continue
      last = counter.scope
      const label = this.keyLabel(counter.scope, counter.key)
      BudgetMetrics.spend.unsafeUpdate(usd, BudgetMetrics.spendLabels(counter.scope, label))
    }
  }

  /**
   * For each limit reached after the call: an event on the call's span (when given) and, once per limit, key and
   * window, a warning (when `warn`).
   */
  private reached(
    counters: ReadonlyArray<Counter>,
    spent: ReadonlyArray<bigint>,
    span: Tracer.Span | undefined,
    now: number,
    warn: boolean
  ): Effect.Effect<void> | undefined {
    let warnings: Array<string> | undefined
    for (let i = 0; i < counters.length; i++) {
      const counter = counters[i]
      for (const limit of counter.plan.limits) {
        if (spent[i] < limit.amount) break
        if (span !== undefined) {
          const attributes: Record<string, unknown> = {
            [BudgetMetrics.BudgetScopeKey]: counter.scope,
            [BudgetMetrics.BudgetKeyKey]: counter.key,
            [BudgetMetrics.BudgetWindowKey]: limit.window.name,
            [BudgetModeKey]: limit.mode,
            [BudgetLimitUsdKey]: limit.amountUsd,
            [BudgetSpentUsdKey]: toUsd(spent[i])
          }
          if (counter.period.end !== undefined) {
            attributes[BudgetWindowEndKey] = new Date(counter.period.end).toISOString()
          }
          span.event(BudgetExceededEvent, currentNanos(), attributes)
        }
        if (warn) {
          const line = this.warnOnce(counter, limit, spent[i], now)
          if (line !== undefined) (warnings ??= []).push(line)
        }
      }
    }
    return warnings === undefined
      ? undefined
      : Effect.forEach(warnings, (line) => Effect.logWarning(line), { discard: true })
  }

  private warnOnce(counter: Counter, limit: LimitPlan, spent: bigint, now: number): string | undefined {
    const id = `${limit.index}\u0000${counter.key}\u0000${counter.period.id}`
    if (this.warned.has(id)) return undefined
    if (this.warned.size >= maxBudgetWarnings) {
      for (const [key, end] of this.warned) if (end <= now) this.warned.delete(key)
      if (this.warned.size >= maxBudgetWarnings) {
        if (this.warnedPastBound) return undefined
        this.warnedPastBound = true
        return `botanu: budget: more than ${maxBudgetWarnings} limits reached in windows still open; further ones ` +
          `are not logged until some of those windows end (their calls still get ${BudgetExceededEvent} events)`
      }
    }
    this.warned.set(id, counter.period.end ?? counter.period.expiresAt)
    const what = `${limit.mode} ${limit.window.name} limit of ${formatUsd(limit.amountUsd)}`
    const end = counter.period.end === undefined
      ? ""
      : ` (the window ends ${new Date(counter.period.end).toISOString()})`
    const then = limit.mode === "soft"
      ? "calls go on: a soft limit never stops one"
      : "enforced calls are refused until the window ends"
    return `botanu: budget: ${counter.scope} ${JSON.stringify(counter.key)} reached its ${what}: ` +
      `${formatUsd(toUsd(spent))} spent${end}; ${then}`
  }

  // --- a call starts --------------------------------------------------------------------------------------------

  enforce<A, E, R>(
    self: Effect.Effect<A, E, R>,
    enforce: EnforcePlan,
    fiber: Fiber.RuntimeFiber<unknown, unknown>
  ): Effect.Effect<A, E | BudgetExceeded | BudgetUnavailable, R> {
    const context = fiber.currentContext
    const now = Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()
    const counters = this.countersFor(currentRunState(context)?.context, now, true)
    if (counters.length === 0) return self
    const amount = enforce.reserve?.(context, now) ?? this.plan.reserve
    const limits = counters.map((counter) => counter.plan.hard!.amount)
    // What enforced effects around this one hold already is theirs to spend here: this one is not refused for it.
    const held = fiber.getFiberRef(currentReservations)
    const discounts = counters.map((counter) => held?.get(counter.id) ?? 0n)
    const reserveNow = this.store.reserveNow
    if (reserveNow !== undefined) {
      return this.enforceNow(self, reserveNow, counters, limits, discounts, amount, now, held, context)
    }
    const admit = Effect.matchEffect(this.store.reserve(counters, limits, discounts, amount, now), {
      onFailure: (unavailable) => this.unavailable(unavailable),
      onSuccess: (result) =>
        result._tag === "Reserved"
          ? Effect.succeed(amount > 0n)
          : this.refuse(counters[result.index], result.state, amount, context)
    })
    if (amount === 0n) return Effect.zipRight(admit, self)
    const inner = new Map(held)
    for (const counter of counters) inner.set(counter.id, (inner.get(counter.id) ?? 0n) + amount)
    return Effect.acquireUseRelease(
      admit,
      () => Effect.locally(self, currentReservations, inner),
      (reserved) => (reserved ? this.store.release(counters, amount) : Effect.void)
    )
  }

  /** `enforce` with a store in memory: the check (and reservation) made at once, when the effect starts. */
  private enforceNow<A, E, R>(
    self: Effect.Effect<A, E, R>,
    reserveNow: NonNullable<BudgetStore["reserveNow"]>,
    counters: ReadonlyArray<Counter>,
    limits: ReadonlyArray<bigint>,
    discounts: ReadonlyArray<bigint>,
    amount: bigint,
    now: number,
    held: ReadonlyMap<string, bigint> | undefined,
    context: Context.Context<never>
  ): Effect.Effect<A, E | BudgetExceeded, R> {
    if (amount === 0n) {
      const result = reserveNow(counters, limits, discounts, 0n, now)
      return result._tag === "Reserved" ? self : this.refuse(counters[result.index], result.state, 0n, context)
    }
    const inner = new Map(held)
    for (const counter of counters) inner.set(counter.id, (inner.get(counter.id) ?? 0n) + amount)
    // Reserved and its release ensured in one uninterruptible step, so that no interruption falls between the two.
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend((): Effect.Effect<A, E | BudgetExceeded, R> => {
        const result = reserveNow(counters, limits, discounts, amount, now)
        if (result._tag === "Refused") return this.refuse(counters[result.index], result.state, amount, context)
        return Effect.ensuring(
          restore(Effect.locally(self, currentReservations, inner)),
          this.store.release(counters, amount)
        )
      })
    )
  }

  private refuse(
    counter: Counter,
    state: CounterState,
    requested: bigint,
    context: Context.Context<never>
  ): Effect.Effect<never, BudgetExceeded> {
    const limit = counter.plan.hard!
    const window = limit.window.name
    BudgetMetrics.refusals.unsafeUpdate(
      1,
      BudgetMetrics.refusalLabels(counter.scope, this.keyLabel(counter.scope, counter.key), window)
    )
    const windowEnd = counter.period.end === undefined ? undefined : new Date(counter.period.end)
    const spent = toUsd(state.spent)
    const reserved = toUsd(state.reserved)
    const requestedUsd = toUsd(requested)
    const who = `${counter.scope} ${JSON.stringify(counter.key)}`
    const what = `hard ${window} limit of ${formatUsd(limit.amountUsd)}`
    const inFlight = state.reserved > 0n ? `, ${formatUsd(reserved)} held by calls in flight` : ""
    const until = windowEnd === undefined ? "" : ` (the window ends ${windowEnd.toISOString()})`
    const message = state.spent + state.reserved >= limit.amount || requested === 0n
      ? `budget: ${who} reached its ${what} (${formatUsd(spent)} spent${inFlight}); the call was refused${until}`
      : `budget: ${who} has ${formatUsd(toUsd(limit.amount - state.spent - state.reserved))} left of its ${what} ` +
        `(${formatUsd(spent)} spent${inFlight}) and the call may cost up to ${formatUsd(requestedUsd)}; the call ` +
        `was refused${until}`
    const error = new BudgetExceeded({
      scope: counter.scope,
      key: counter.key,
      window,
      limit: limit.amountUsd,
      spent,
      reserved,
      requested: requestedUsd,
      windowEnd,
      message
    })
    const parent = serviceOption(context, Tracer.ParentSpan)
    if (parent !== undefined && parent._tag === "Span") {
      const attributes: Record<string, unknown> = {
        [BudgetMetrics.BudgetScopeKey]: counter.scope,
        [BudgetMetrics.BudgetKeyKey]: counter.key,
        [BudgetMetrics.BudgetWindowKey]: window,
        [BudgetLimitUsdKey]: limit.amountUsd,
        [BudgetSpentUsdKey]: spent
      }
      if (windowEnd !== undefined) attributes[BudgetWindowEndKey] = windowEnd.toISOString()
      parent.event(BudgetRefusedEvent, currentNanos(), attributes)
    }
    return Effect.fail(error)
  }

  private unavailable(failure: StoreUnavailable): Effect.Effect<boolean, BudgetUnavailable> {
    // The store has logged it (once per interval); open: the call goes on unchecked, without a reservation.
    if (this.store.onUnavailable === "open") return Effect.succeed(false)
    BudgetMetrics.refusals.unsafeUpdate(1, BudgetMetrics.unavailableLabels())
    return Effect.fail(
      new BudgetUnavailable({
        message: `budget: ${failure.message}; the call was refused (the store fails closed)`,
        cause: failure.cause
      })
    )
  }

  // --- reading ----------------------------------------------------------------------------------------------------

  readonly remaining = (scope: Api.Scope, key?: string): Effect.Effect<Api.Remaining, BudgetUnavailable> =>
    Effect.suspend(() => {
      const own = scope === "global" ? globalKey : key ?? ""
      const now = currentMillis()
      const counters = this.plansFor(scope, own).map((plan) => this.counter(scope, own, plan, now))
      return Effect.map(
        Effect.mapError(
          this.store.read(counters, now),
          (failure) => new BudgetUnavailable({ message: `budget: ${failure.message}`, cause: failure.cause })
        ),
        (states): Api.Remaining => {
          const limits: Array<Api.LimitStatus> = []
          let least: bigint | undefined
          for (let i = 0; i < counters.length; i++) {
            const counter = counters[i]
            const state = states[i]
            for (const limit of counter.plan.limits) {
              const left = limit.amount - state.spent - state.reserved
              const clamped = left > 0n ? left : 0n
              if (limit.mode === "hard" && (least === undefined || clamped < least)) least = clamped
              limits.push({
                scope,
                key: own,
                window: limit.window.name,
                mode: limit.mode,
                match: limit.match,
                amount: limit.amountUsd,
                spent: toUsd(state.spent),
                spentAttodollars: state.spent,
                reserved: toUsd(state.reserved),
                remaining: toUsd(clamped),
                reached: state.spent >= limit.amount,
                windowEnd: counter.period.end === undefined ? undefined : new Date(counter.period.end)
              })
            }
          }
          return { scope, key: own, limits, remaining: least === undefined ? undefined : toUsd(least) }
        }
      )
    })
}

/** @internal */
export const layer = (options: Api.Options): Layer.Layer<Budget> => {
  const planned = plan(options)
  // The layer provides the listener beside the ones the context holds already, for every call run under it; the
  // tag of the listeners is internal, so the layer's type names the budget only.
  return Layer.scopedContext(Effect.gen(function*() {
    const store = yield* planned.store.make
    const state = new BudgetState(planned, store)
    const listeners = yield* CallListeners
    return Context.make(Budget, state).pipe(Context.add(CallListeners, [...listeners, state.listener]))
  })) as Layer.Layer<Budget>
}

/** @internal */
export const enforce = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  plan: EnforcePlan
): Effect.Effect<A, E | BudgetExceeded | BudgetUnavailable, R> =>
  Effect.withFiberRuntime((fiber) => {
    const state = serviceOption(fiber.currentContext, Budget)
    // Without the layer (or with a budget service of the app's own) there is nothing to check against.
    return state instanceof BudgetState ? state.enforce(self, plan, fiber) : self
  })

/** @internal */
export const remaining = (scope: Api.Scope, key?: string): Effect.Effect<Api.Remaining, BudgetUnavailable, Budget> =>
  Effect.flatMap(Budget, (budget) => budget.remaining(scope, key))
