/**
 * An in-process ledger of what LLM calls cost, by customer, workflow, provider and model, for an app that wants
 * "spend per customer today" without a backend. Optional: provide `CostLedger.layer` and read `snapshot`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { toUsd } from "./internal/pricing.js"
import { RunTotals } from "./internal/runTotals.js"

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
 * Calls outside a workflow run are filed under the customer and workflow `(none)`.
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

const addTo = (map: Map<string, RunTotals>, key: string, entry: Entry): void => {
  let totals = map.get(key)
  if (totals === undefined) {
    totals = new RunTotals()
    map.set(key, totals)
  }
  addEntry(totals, entry)
}

const freeze = (map: Map<string, RunTotals>): ReadonlyMap<string, Totals> =>
  new Map(Array.from(map, ([key, totals]) => [key, totalsOf(totals)]))

/**
 * A fresh, empty ledger.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): CostLedger.Service => {
  let total = new RunTotals()
  const byCustomer = new Map<string, RunTotals>()
  const byWorkflow = new Map<string, RunTotals>()
  const byProvider = new Map<string, RunTotals>()
  const byModel = new Map<string, RunTotals>()
  return {
    record: (entry) => {
      addEntry(total, entry)
      addTo(byCustomer, entry.customerId ?? none, entry)
      addTo(byWorkflow, entry.workflow ?? none, entry)
      addTo(byProvider, entry.provider, entry)
      addTo(byModel, `${entry.provider}/${entry.model}`, entry)
    },
    snapshot: Effect.sync(() => ({
      total: totalsOf(total),
      byCustomer: freeze(byCustomer),
      byWorkflow: freeze(byWorkflow),
      byProvider: freeze(byProvider),
      byModel: freeze(byModel)
    })),
    reset: Effect.sync(() => {
      total = new RunTotals()
      byCustomer.clear()
      byWorkflow.clear()
      byProvider.clear()
      byModel.clear()
    })
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CostLedger> = Layer.sync(CostLedger, make)

/**
 * @since 0.1.0
 * @category accessors
 */
export const snapshot: Effect.Effect<Snapshot, never, CostLedger> = Effect.flatMap(
  CostLedger,
  (ledger) => ledger.snapshot
)
