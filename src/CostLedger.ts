/**
 * An in-process ledger of what LLM calls cost, by customer, workflow, provider and model, for an app that wants
 * "spend per customer today" without a backend. Optional: provide `CostLedger.layer` and read `snapshot`.
 *
 * Bounded: each dimension keeps at most `maxKeys` keys of its own (10,000 by default, see `layerWith`), and the
 * calls of any further key are added to one `_other` row, so that the totals stay exact whatever names callers send.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { maxLedgerKeys } from "./internal/limits.js"
import { toUsd } from "./internal/pricing.js"
import { RunTotals } from "./internal/runTotals.js"
import { otherCustomers } from "./Metrics.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Totals {
  /** Exact, in attodollars (1e-18 USD). */
  readonly costAttodollars: bigint
  readonly costUsd: number
  readonly inputTokens: number
  readonly outputTokens: number
  /**
   * LLM call attempts, failed ones included: model invocations, so a tracked call that only wraps tracked calls
   * (see `botanu.call.wrapped_calls`) is not one, and the calls inside it are.
   */
  readonly calls: number
  /** Calls that reported usage but could not be priced: their cost is not in `cost`. */
  readonly unpricedCalls: number
}

/**
 * Calls outside a workflow run are filed under the customer and workflow `(none)`. A dimension that has reached its
 * `maxKeys` files the calls of new keys under `_other` (`CostLedger.other`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly total: Totals
  readonly byCustomer: ReadonlyMap<string, Totals>
  readonly byWorkflow: ReadonlyMap<string, Totals>
  readonly byProvider: ReadonlyMap<string, Totals>
  /** Keyed `provider/model` (the model priced: the response model when known). */
  readonly byModel: ReadonlyMap<string, Totals>
}

/**
 * One priced (or unpriceable) LLM call, as the tracker hands it to the ledger.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly customerId: string | undefined
  readonly workflow: string | undefined
  readonly provider: string
  readonly model: string
  readonly cost: bigint
  readonly inputTokens: number
  readonly outputTokens: number
  readonly unpriced: boolean
}

/**
 * @since 0.1.0
 * @category tags
 */
export class CostLedger extends Context.Tag("@botanu/effect/CostLedger")<CostLedger, CostLedger.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace CostLedger {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** Called by tracked LLM calls as they end; synchronous so that it adds no Effect step to the call. */
    readonly record: (entry: Entry) => void
    readonly snapshot: Effect.Effect<Snapshot>
    readonly reset: Effect.Effect<void>
  }
}

const none = "(none)"

const totalsOf = (totals: RunTotals): Totals => ({
  costAttodollars: totals.cost,
  costUsd: toUsd(totals.cost),
  inputTokens: totals.inputTokens,
  outputTokens: totals.outputTokens,
  calls: totals.llmCalls,
  unpricedCalls: totals.unpricedCalls
})

const addEntry = (totals: RunTotals, entry: Entry): void =>
  totals.addCall(entry.cost, entry.inputTokens, entry.outputTokens, entry.unpriced)

/**
 * The key of the row that, in each dimension, holds the calls of the keys past `maxKeys`: `_other`, the value
 * `Metrics.otherCustomers` gives customers beyond the allowed set on the cost metric. A key of that very name is
 * added to the same row.
 *
 * @since 0.1.0
 * @category constants
 */
export const other: string = otherCustomers

/**
 * @since 0.1.0
 * @category models
 */
export interface LedgerOptions {
  /**
   * The most keys of their own in each dimension (`byCustomer`, `byWorkflow`, `byProvider`, `byModel`, each on its
   * own); past it, the calls of a new key are added to that dimension's `other` row, so that the totals stay exact
   * and the ledger stops growing. Defaults to 10,000; `Infinity` keeps every key, for keys known to be bounded.
   */
  readonly maxKeys?: number | undefined
}

/** One dimension: its own keys up to the bound, then `other`. */
class Rows {
  private readonly rows = new Map<string, RunTotals>()
  constructor(private readonly maxKeys: number) {}

  add(key: string, entry: Entry): void {
    let totals = this.rows.get(key)
    if (totals === undefined) {
      // `other` itself is not one of the keys counted: it is the one row past the bound.
      const own = this.rows.has(other) ? this.rows.size - 1 : this.rows.size
      const row = key !== other && own >= this.maxKeys ? other : key
      totals = this.rows.get(row)
      if (totals === undefined) {
        totals = new RunTotals()
        this.rows.set(row, totals)
      }
    }
    addEntry(totals, entry)
  }

  freeze(): ReadonlyMap<string, Totals> {
    return new Map(Array.from(this.rows, ([key, totals]) => [key, totalsOf(totals)]))
  }
}

const keysBound = (maxKeys: number | undefined): number =>
  maxKeys === undefined || Number.isNaN(maxKeys) ? maxLedgerKeys : Math.max(0, Math.floor(maxKeys))

/**
 * A fresh, empty ledger, bounded by `options.maxKeys` (see `LedgerOptions`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: LedgerOptions = {}): CostLedger.Service => {
  const maxKeys = keysBound(options.maxKeys)
  let total = new RunTotals()
  let byCustomer = new Rows(maxKeys)
  let byWorkflow = new Rows(maxKeys)
  let byProvider = new Rows(maxKeys)
  let byModel = new Rows(maxKeys)
  return {
    record: (entry) => {
      addEntry(total, entry)
      byCustomer.add(entry.customerId ?? none, entry)
      byWorkflow.add(entry.workflow ?? none, entry)
      byProvider.add(entry.provider, entry)
      byModel.add(`${entry.provider}/${entry.model}`, entry)
    },
    snapshot: Effect.sync(() => ({
      total: totalsOf(total),
      byCustomer: byCustomer.freeze(),
      byWorkflow: byWorkflow.freeze(),
      byProvider: byProvider.freeze(),
      byModel: byModel.freeze()
    })),
    reset: Effect.sync(() => {
      total = new RunTotals()
      byCustomer = new Rows(maxKeys)
      byWorkflow = new Rows(maxKeys)
      byProvider = new Rows(maxKeys)
      byModel = new Rows(maxKeys)
    })
  }
}

/**
 * A ledger with options: `CostLedger.layerWith({ maxKeys: 50_000 })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: LedgerOptions = {}): Layer.Layer<CostLedger> =>
  Layer.sync(CostLedger, () => make(options))

/**
 * A ledger with the default bound of 10,000 keys per dimension.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CostLedger> = layerWith()

/**
 * @since 0.1.0
 * @category accessors
 */
export const snapshot: Effect.Effect<Snapshot, never, CostLedger> = Effect.flatMap(
  CostLedger,
  (ledger) => ledger.snapshot
)
