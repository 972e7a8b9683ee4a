/**
 * What the calls of one run add up to. Cost is exact (attodollars); the run span gets it as USD once, at the end.
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

  add(other: RunTotals): void {
    this.cost += other.cost
    this.inputTokens += other.inputTokens
    this.outputTokens += other.outputTokens
    this.llmCalls += other.llmCalls
    this.toolCalls += other.toolCalls
    this.unpricedCalls += other.unpricedCalls
  }
}
