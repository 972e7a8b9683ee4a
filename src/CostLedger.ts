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
  /** LLM call attempts, failed ones included. */
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

class Accumulator {
  cost = BigInt(0)
  inputTokens = 0
  outputTokens = 0
  calls = 0
  unpricedCalls = 0

  add(entry: Entry): void {
    this.cost += entry.cost
    this.inputTokens += entry.inputTokens
    this.outputTokens += entry.outputTokens
    this.calls++
    if (entry.unpriced) this.unpricedCalls++
  }

  totals(): Totals {
    return {
      costAttodollars: this.cost,
      costUsd: toUsd(this.cost),
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      calls: this.calls,
      unpricedCalls: this.unpricedCalls
    }
  }
}

const addTo = (map: Map<string, Accumulator>, key: string, entry: Entry): void => {
  let accumulator = map.get(key)
  if (accumulator === undefined) {
    accumulator = new Accumulator()
    map.set(key, accumulator)
  }
  accumulator.add(entry)
}

const freeze = (map: Map<string, Accumulator>): ReadonlyMap<string, Totals> =>
  new Map(Array.from(map, ([key, accumulator]) => [key, accumulator.totals()]))

/**
 * A fresh, empty ledger.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): CostLedger.Service => {
  let total = new Accumulator()
  const byCustomer = new Map<string, Accumulator>()
  const byWorkflow = new Map<string, Accumulator>()
  const byProvider = new Map<string, Accumulator>()
  const byModel = new Map<string, Accumulator>()
  return {
    record: (entry) => {
      total.add(entry)
      addTo(byCustomer, entry.customerId ?? none, entry)
      addTo(byWorkflow, entry.workflow ?? none, entry)
      addTo(byProvider, entry.provider, entry)
      addTo(byModel, `${entry.provider}/${entry.model}`, entry)
    },
    snapshot: Effect.sync(() => ({
      total: total.totals(),
      byCustomer: freeze(byCustomer),
      byWorkflow: freeze(byWorkflow),
      byProvider: freeze(byProvider),
      byModel: freeze(byModel)
    })),
    reset: Effect.sync(() => {
      total = new Accumulator()
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
