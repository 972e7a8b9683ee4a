/**
 * Budgets: spend limits per customer, tenant, workflow, run or for everything, that warn (soft) or stop (hard) LLM
 * spending before a bill runs away, held in this process (`memoryStore`) or across a fleet (`redisStore`).
 *
 * - **Counting.** Every tracked LLM call's exact cost (failed attempts included, each model invocation once, a
 *   wrapper call never) is added, as the call ends, to the spend of every limit whose scope the call belongs to: its
 *   run's customer, tenant, workflow and root run, and the global scope.
 * - **Stopping.** `enforce` checks before the effect it wraps starts: when a hard limit of a scope the call belongs
 *   to is reached, or the call's reservation would pass it, the effect does not run and fails with
 *   `BudgetExceeded`. A soft limit never stops anything: each call that ends at or past it gets a
 *   `botanu.budget.exceeded` event, and one warning is logged per limit, key and window.
 * - **Concurrency.** An enforced call reserves its worst-case cost (`EnforceOptions.reserve`) until it ends, so calls
 *   running at once cannot all pass the check and then overshoot together: enforced calls whose cost stays within
 *   their reservation never take the spend past a hard limit. Without a reservation, the spend can pass the limit
 *   by at most what the enforced calls in flight when it is reached cost.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import * as internal from "./internal/budget.js"
import * as BudgetMetrics from "./internal/budgetMetrics.js"
import * as redis from "./internal/budgetRedis.js"

/**
 * What a limit is held against: a workflow run's customer, tenant, workflow (its name) or run (the root run: a run's
 * budget covers the runs nested in it), or every call (`global`, calls outside runs included).
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "customer" | "tenant" | "workflow" | "run" | "global"

/**
 * `hard`: `enforce` refuses calls once it is reached. `soft`: nothing is refused; calls that end at or past it get
 * a `botanu.budget.exceeded` span event, and a warning is logged once per key and window.
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "hard" | "soft"

/**
 * `"day"` and `"month"` are UTC calendar windows, from midnight (the 1st) to the next; a duration (`"1 hour"`,
 * `Duration.minutes(30)`, from 1 second to 400 days) is a rolling window: the spend of the last hour, counted in
 * 60 buckets (a spend counts for between 59/60 and all of the duration after it was made).
 *
 * @since 0.1.0
 * @category models
 */
export type Window = "day" | "month" | Duration.DurationInput

/**
 * A limit on each run: its spend, nested runs included, for as long as the run makes calls (and `runTtl` after).
 *
 * @since 0.1.0
 * @category models
 */
export interface RunLimit {
  readonly scope: "run"
  /** US dollars, from 0 (nothing may be spent) to 1e9. */
  readonly amount: number
  readonly window?: "run" | undefined
  /** Default `"hard"`. */
  readonly mode?: Mode | undefined
}

/**
 * A limit on each customer, tenant or workflow (its name), or with `match` on one of them: a key's own limit
 * replaces, for that key, the limits of every key that have the same window and mode.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyedLimit {
  readonly scope: "customer" | "tenant" | "workflow"
  /** US dollars, from 0 (nothing may be spent) to 1e9. */
  readonly amount: number
  readonly window: Window
  /** Default `"hard"`. */
  readonly mode?: Mode | undefined
  /** The one customer id, tenant id or workflow name the limit is for; every one without it. */
  readonly match?: string | undefined
}

/**
 * A limit on all calls together, in or outside runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface GlobalLimit {
  readonly scope: "global"
  /** US dollars, from 0 (nothing may be spent) to 1e9. */
  readonly amount: number
  readonly window: Window
  /** Default `"hard"`. */
  readonly mode?: Mode | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type Limit = RunLimit | KeyedLimit | GlobalLimit

/**
 * Where spend is kept: `memoryStore()` (the default) or `redisStore({ url })`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly kind: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly limits: ReadonlyArray<Limit>
  /** Default: `memoryStore()`, this process's own. */
  readonly store?: Store | undefined
  /**
   * The reservation (USD) of an enforced call whose `enforce` gives none, or whose worst case cannot be priced.
   * Default 0: no reservation (see `EnforceOptions.reserve` for what that allows).
   */
  readonly reserve?: number | undefined
  /**
   * Customers, tenants and workflows with a series of their own on the budget metrics, per scope: the first this
   * many seen; every other is recorded as `_other`. Default 100, at most 2,000.
   */
  readonly metricKeys?: number | undefined
  /** How long a run's spend is kept after it was last added to (memory and Redis). Default one day. */
  readonly runTtl?: Duration.DurationInput | undefined
}

/**
 * The most one call can cost, from its model and `maxTokens`: its input tokens at the dearest input rate the model
 * has (plain, or written to a 5-minute or 1-hour cache) and `maxTokens` of output (reasoning included), priced with
 * the `Pricing` the context holds, as the call itself will be.
 *
 * @since 0.1.0
 * @category models
 */
export interface WorstCase {
  readonly provider: string
  readonly model: string
  /** The request's input tokens, as counted or estimated (the prompt, the cache included). */
  readonly inputTokens: number
  /** The request's `max_tokens` (`max_completion_tokens`, `max_output_tokens`). */
  readonly maxTokens: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface EnforceOptions {
  /**
   * What the enforced effect may cost at most, held against every hard limit it is checked against until it ends:
   * USD, or a call's `WorstCase`. A call is admitted only when its reservation fits in what is left (the spend and
   * the reservations of the calls in flight below the limit); when it ends, its real cost is counted and the
   * reservation given back. Without one (or with 0) a call is admitted while the limit is not reached, and calls
   * running at once may pass it together by what they cost.
   */
  readonly reserve?: number | WorstCase | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface MemoryStoreOptions {
  /** Counters (a key's window) kept at once; expired ones are forgotten first, then the oldest. Default 100,000. */
  readonly maxCounters?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. One Redis (not a cluster). */
  readonly url: string
  /** Prefix of every key the store writes. Default `"botanu:budget:"`. */
  readonly keyPrefix?: string | undefined
  /** The most any command may take, connecting included. Default 500 milliseconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * When Redis cannot be reached in time: `"open"` (the default) lets enforced calls go on unchecked, `"closed"`
   * refuses them with `BudgetUnavailable`. Either way a warning is logged at most once per `warnInterval`, and
   * spend that could not be added is kept in this process's memory and added when Redis is back.
   */
  readonly onUnavailable?: "open" | "closed" | undefined
  /** Default one minute. */
  readonly warnInterval?: Duration.DurationInput | undefined
  /**
   * How long a reservation outlives the last one made on its counter, so that a process that dies mid-call does not
   * hold the budget for the rest of the window. Default 10 minutes: longer than any enforced effect should run.
   */
  readonly reservationTtl?: Duration.DurationInput | undefined
  /**
   * More `ioredis` options (TLS, a name, ...). The store's own win: no offline queue, no retried commands, its
   * timeouts, reconnecting at most a second apart.
   */
  readonly clientOptions?: Readonly<Record<string, unknown>> | undefined
}

/**
 * One limit that applies to a key, now.
 *
 * @since 0.1.0
 * @category models
 */
export interface LimitStatus {
  readonly scope: Scope
  readonly key: string
  /** `"day"`, `"month"`, `"run"` or `"rolling <duration>"`. */
  readonly window: string
  readonly mode: Mode
  /** The key the limit is for, when it is a key's own. */
  readonly match: string | undefined
  /** The limit, USD. */
  readonly amount: number
  /** Spent in the current window, USD (every process's, with the Redis store). */
  readonly spent: number
  /** The same, exact, in attodollars (nano-dollars times 1e9 with the Redis store). */
  readonly spentAttodollars: bigint
  /** Held by enforced calls in flight, USD. */
  readonly reserved: number
  /** What is left: the limit less the spend and the reservations, at least 0. */
  readonly remaining: number
  readonly reached: boolean
  /** When the window's spend starts to count no more; none for a run. */
  readonly windowEnd: Date | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Remaining {
  readonly scope: Scope
  readonly key: string
  /** Every limit that applies to the key, hard and soft, each window's by amount. */
  readonly limits: ReadonlyArray<LimitStatus>
  /** The least left under a hard limit, USD; `undefined` when no hard limit applies. */
  readonly remaining: number | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export { Budget } from "./internal/budget.js"

/**
 * @since 0.1.0
 * @category errors
 */
export { BudgetExceeded, BudgetUnavailable, InvalidBudgetOptions } from "./internal/budget.js"

/**
 * The budget for every effect run under the layer: its limits, its store (made when the layer is built, closed
 * when it is released), and the spend of every tracked LLM call added as it ends. Throws `InvalidBudgetOptions`
 * for a limit that cannot work (an unknown scope, a negative amount, a window a scope does not take).
 *
 * @example
 * ```ts
 * import { Budget } from "@botanu/effect"
 *
 * const BudgetLive = Budget.layer({
 *   limits: [
 *     { scope: "customer", amount: 5, window: "day", mode: "hard" },
 *     { scope: "workflow", match: "refund_request", amount: 50, window: "month", mode: "soft" },
 *     { scope: "run", amount: 0.5 }
 *   ]
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<internal.Budget> = internal.layer

/**
 * Checks the budget before `self` starts: when a hard limit of a scope the call belongs to (the current run's
 * customer, tenant, workflow and root run, and the global scope) is reached, or the reservation would pass it,
 * `self` does not run and the effect fails with `BudgetExceeded`; when the store cannot be reached and fails
 * closed, with `BudgetUnavailable`. Place it around a tracked call (`call.pipe(trackLlmCall(...), Budget.enforce)`)
 * or around a part of a workflow, inside its run (the run says whose the call is). Without `Budget.layer`, `self`
 * runs unchecked.
 *
 * @since 0.1.0
 * @category combinators
 */
export const enforce: <Self extends Effect.Effect<any, any, any> | EnforceOptions>(
  selfOrOptions: Self,
  options?: EnforceOptions
) => [Self] extends [Effect.Effect<infer A, infer E, infer R>] ? Enforced<A, E, R>
  : <A, E, R>(self: Effect.Effect<A, E, R>) => Enforced<A, E, R> = ((
    first: Effect.Effect<unknown, unknown, unknown> | EnforceOptions,
    options?: EnforceOptions
  ) => {
    // Dual, but typed with one generic signature rather than two overloads, so that `pipe(..., Budget.enforce)`
    // keeps the effect's types (TypeScript infers nothing through an overloaded function passed as a value). The
    // options are checked, and a reservation planned, when the combinator is made: a bad option throws at start-up.
    if (Effect.isEffect(first)) return internal.enforce(first, internal.enforcePlan(options))
    const plan = internal.enforcePlan(first)
    return <A, E, R>(self: Effect.Effect<A, E, R>) => internal.enforce(self, plan)
  }) as never

/**
 * An enforced effect: the effect's own value, error and requirements, and the refusals of `enforce`.
 *
 * @since 0.1.0
 * @category models
 */
export type Enforced<A, E, R> = Effect.Effect<A, E | BudgetExceeded | BudgetUnavailable, R>

type BudgetExceeded = internal.BudgetExceeded
type BudgetUnavailable = internal.BudgetUnavailable

/**
 * Spend kept in this process's memory: exact (attodollars) and atomic, for one process (each process of a fleet
 * would hold its own budget: use `redisStore` there).
 *
 * @since 0.1.0
 * @category constructors
 */
export const memoryStore: (options?: MemoryStoreOptions) => Store = internal.memoryStore

/**
 * Spend kept in Redis, shared by every process that uses the same Redis and key prefix, through `ioredis` (an
 * optional peer dependency: `npm install ioredis`). Amounts are integer nano-dollars (1e-9 USD), added with atomic
 * `INCRBY`s (each call's cost rounded up to the next nano-dollar, so a budget never counts less than was spent);
 * the check and the reservation of an enforced call are one Lua script, atomic across processes. One key per scope
 * key and window, expiring when the window ends. Every command has a timeout; when Redis cannot answer in time,
 * see `onUnavailable`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const redisStore: (options: RedisStoreOptions) => Store = redis.redisStore

/**
 * The spend and what is left under every limit that applies to `key` (a customer id, a tenant id, a workflow name,
 * a root run id; none for `global`), so that an app can show it or move to a cheaper model before it is refused.
 *
 * @since 0.1.0
 * @category accessors
 */
export const remaining: {
  (scope: "global"): Effect.Effect<Remaining, BudgetUnavailable, internal.Budget>
  (scope: Scope, key: string): Effect.Effect<Remaining, BudgetUnavailable, internal.Budget>
} = internal.remaining

/**
 * `botanu.budget.spend` (monotonic counter, `USD`): what finished LLM calls added to budgets, by
 * `botanu.budget.scope` and, for customers, tenants and workflows, `botanu.budget.key` (the first `metricKeys` keys
 * per scope, then `_other`); a call counts once per scope it counts in. Only scopes with a limit are counted.
 *
 * @since 0.1.0
 * @category metrics
 */
export const spendMetric: Metric.Metric.Counter<number> = BudgetMetrics.spend

/**
 * `botanu.budget.refusals` (monotonic counter, `{call}`): enforced calls that did not start, by
 * `botanu.budget.reason` (`exceeded`: with `botanu.budget.scope`, `botanu.budget.key` as on `spendMetric`, and
 * `botanu.budget.window`; `unavailable`: the store could not be reached and fails closed).
 *
 * @since 0.1.0
 * @category metrics
 */
export const refusalsMetric: Metric.Metric.Counter<number> = BudgetMetrics.refusals

/**
 * The span event a call gets when it ends with the spend of one of its limits at or past the limit, soft or hard:
 * with `botanu.budget.scope`, `.key`, `.window`, `.mode`, `.limit_usd`, `.spent_usd` and `.window_end` (ISO 8601;
 * none for a run).
 *
 * @since 0.1.0
 * @category attributes
 */
export const exceededEvent: string = internal.BudgetExceededEvent

/**
 * The event the current span (the run's, or another around the enforced effect) gets when `enforce` refuses a call:
 * with `botanu.budget.scope`, `.key`, `.window`, `.limit_usd`, `.spent_usd` and `.window_end`.
 *
 * @since 0.1.0
 * @category attributes
 */
export const refusedEvent: string = internal.BudgetRefusedEvent
