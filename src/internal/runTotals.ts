import type * as OtelApi from "@opentelemetry/api"
import { toUsd } from "./pricing.js"

/**
 * What a set of calls adds up to: one run's, or one row of the `CostLedger`. Cost is exact (attodollars); the run span gets it as USD once, at the end.
 *
 * @internal
 */
export class RunTotals {
  cost = BigInt(0)
  inputTokens = 0
  outputTokens = 0
  llmCalls = 0
  toolCalls = 0
  unpricedCalls = 0

  /** One LLM call attempt; `unpriced` when it reported usage that has no price (its cost is then 0). */
  addCall(cost: bigint, inputTokens: number, outputTokens: number, unpriced: boolean): void {
    this.cost += cost
    this.inputTokens += inputTokens
    this.outputTokens += outputTokens
    this.llmCalls++
    if (unpriced) this.unpricedCalls++
  }

  add(other: RunTotals): void {
    this.cost += other.cost
    this.inputTokens += other.inputTokens
    this.outputTokens += other.outputTokens
    this.llmCalls += other.llmCalls
    this.toolCalls += other.toolCalls
    this.unpricedCalls += other.unpricedCalls
  }
}

/**
 * The span attributes one kind of roll-up (a run's, an agent's) writes its totals under.
 *
 * @internal
 */
export interface TotalsKeys {
  readonly costUsd: string
  readonly inputTokens: string
  readonly outputTokens: string
  readonly llmCalls: string
  readonly toolCalls: string
  readonly unpricedCalls: string
}

/**
 * Writes a roll-up's totals onto its span, the cost as USD once: every count always, unpriced calls only when some
 * calls could not be priced.
 *
 * @internal
 */
export const writeTotals = (
  recorder: { set(key: string, value: OtelApi.AttributeValue): void },
  totals: RunTotals,
  keys: TotalsKeys
): void => {
  recorder.set(keys.costUsd, toUsd(totals.cost))
  recorder.set(keys.inputTokens, totals.inputTokens)
  recorder.set(keys.outputTokens, totals.outputTokens)
  recorder.set(keys.llmCalls, totals.llmCalls)
  recorder.set(keys.toolCalls, totals.toolCalls)
  if (totals.unpricedCalls > 0) recorder.set(keys.unpricedCalls, totals.unpricedCalls)
}
