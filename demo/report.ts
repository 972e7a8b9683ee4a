/**
 * The demo's closing report, computed from the `CostLedger` snapshot (cost, tokens and calls per customer, workflow
 * and model), the customers' budgets and the runs' outcomes.
 */
import type { Budget, CostLedger } from "../src/index.js"
import type { DemoResult } from "./app.js"

export interface Report {
  readonly totalCostUsd: number
  readonly calls: number
  readonly unpricedCalls: number
  readonly successes: number
  /** Total cost over successful outcomes; `undefined` when there were none. */
  readonly costPerSuccessUsd: number | undefined
  readonly outcomes: Readonly<Record<string, number>>
  readonly retries: number
  readonly fallbacks: number
}

export const summarize = (result: DemoResult): Report => {
  const outcomes: Record<string, number> = {}
  for (const run of result.runs) outcomes[run.outcome] = (outcomes[run.outcome] ?? 0) + 1
  const successes = outcomes.success ?? 0
  return {
    totalCostUsd: result.ledger.total.costUsd,
    calls: result.ledger.total.calls,
    unpricedCalls: result.ledger.total.unpricedCalls,
    successes,
    costPerSuccessUsd: successes === 0 ? undefined : result.ledger.total.costUsd / successes,
    outcomes,
    retries: result.retries,
    fallbacks: result.fallbacks
  }
}

const usd = (value: number) => `$${value.toFixed(6)}`

const table = (title: string, rows: ReadonlyMap<string, CostLedger.Totals>): Array<string> => {
  const entries = [...rows.entries()].sort(([, a], [, b]) => b.costUsd - a.costUsd)
  const width = Math.max(title.length, ...entries.map(([key]) => key.length))
  const line = (cells: ReadonlyArray<string>) =>
    `  ${cells[0].padEnd(width)}  ${cells[1].padStart(11)}  ${cells[2].padStart(8)}  ${cells[3].padStart(8)}  ${
      cells[4].padStart(6)
    }`
  return [
    line([title, "cost", "input", "output", "calls"]),
    ...entries.map(([key, totals]) =>
      line([
        key,
        usd(totals.costUsd),
        String(totals.inputTokens),
        String(totals.outputTokens),
        String(totals.calls)
      ])
    )
  ]
}

/** Each customer's spend against each of its budgets (by the customer table's order), and the calls refused. */
const budgetTable = (result: DemoResult): Array<string> => {
  const order = [...result.ledger.byCustomer.entries()].sort(([, a], [, b]) => b.costUsd - a.costUsd)
    .map(([customer]) => customer)
  const rows = order.flatMap((customer) =>
    result.budgets.find((budget) => budget.key === customer)?.limits ?? ([] as ReadonlyArray<Budget.LimitStatus>)
  )
  const width = Math.max("customer".length, ...rows.map((row) => row.key.length))
  const line = (cells: ReadonlyArray<string>) =>
    `  ${cells[0].padEnd(width)}  ${cells[1].padStart(11)}  ${cells[2].padStart(11)}  ${cells[3].padEnd(4)}  ${
      cells[4].padStart(11)
    }  ${cells[5]}`.trimEnd()
  const refusedOf = (customer: string) => result.refused.filter((call) => call.ticket.customerId === customer).length
  return [
    "Budgets (this UTC day; a hard budget refuses calls before they start, a soft one warns):",
    line(["customer", "spent", "budget", "mode", "left", ""]),
    ...rows.map((row) => {
      const refused = row.mode === "hard" ? refusedOf(row.key) : 0
      const status = !row.reached
        ? ""
        : row.mode === "soft"
        ? "reached: warned"
        : `reached: ${refused} call${refused === 1 ? "" : "s"} refused`
      return line([row.key, usd(row.spent), usd(row.amount), row.mode, usd(row.remaining), status])
    }),
    `Refused calls: ${
      result.refused.length === 0
        ? "none"
        : result.refused.map((call) =>
          `${call.ticket.id} for ${call.ticket.customerId} (its hard ${call.error.window} budget of ` +
          `${usd(call.error.limit)} reached: ${usd(call.error.spent)} spent)`
        ).join(", ")
    }`
  ]
}

/** The report as text for the terminal. */
export const format = (result: DemoResult): string => {
  const report = summarize(result)
  const outcomes = Object.entries(report.outcomes).map(([status, count]) => `${count} ${status}`).join(", ")
  return [
    "",
    "════════════════════════════ botanu demo report ════════════════════════════",
    `Runs: ${result.runs.length} (${outcomes})   LLM calls: ${report.calls}   Total cost: ${usd(report.totalCostUsd)}`,
    "",
    ...table("customer", result.ledger.byCustomer),
    "",
    ...budgetTable(result),
    "",
    ...table("workflow", result.ledger.byWorkflow),
    "",
    ...table("model", result.ledger.byModel),
    "  (a model with no tokens: attempts that were rate-limited before the provider reported a model or usage)",
    "",
    `Cost per successful outcome: ${
      report.costPerSuccessUsd === undefined ? "n/a (no success)" : usd(report.costPerSuccessUsd)
    } (${report.successes} successes)`,
    `Retries after a rate limit: ${report.retries}   Fallbacks to another provider: ${report.fallbacks}`,
    `Unpriced calls: ${report.unpricedCalls === 0 ? "none" : report.unpricedCalls}`,
    "",
    "Outcomes:",
    ...result.runs.map((run) =>
      `  ${run.ticket.id}  ${run.ticket.customerId.padEnd(10)}  ${run.ticket.workflow.padEnd(14)}  ${
        run.outcome.padEnd(8)
      }  ${run.detail}`
    ),
    ""
  ].join("\n")
}
