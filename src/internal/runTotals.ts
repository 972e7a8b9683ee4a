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
