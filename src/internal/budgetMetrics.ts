import { globalValue } from "effect/GlobalValue"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import { BudgetKeyKey, BudgetReasonKey, BudgetScopeKey, BudgetWindowKey } from "../Attributes.js"
import { maxSeriesPerMetric } from "./limits.js"
import { overflow } from "./metricLabels.js"

/** @internal */
export { BudgetKeyKey, BudgetReasonKey, BudgetScopeKey, BudgetWindowKey }

// The budget metrics, with their label sets bounded as every metric of the library is (see metricLabels.ts): the
// keys they carry (customers, tenants, workflows) are bounded per layer by `Budget.layer({ metricKeys })` before
// they get here, and each metric has at most 2,000 series whatever the keys, past which new combinations are
// recorded in its overflow series (`otel.metric.overflow=true`).

/**
 * `botanu.budget.spend` (monotonic counter, `USD`): what finished LLM calls added to budgets, once per scope a call
 * counts in (a customer's call counts once under `customer` however many windows its limits have).
 *
 * @internal
 */
export const spend: Metric.Metric.Counter<number> = Metric.counter("botanu.budget.spend", {
  description: "Spend of LLM calls counted against budgets, by scope",
  incremental: true
})

/**
 * `botanu.budget.refusals` (monotonic counter, `{call}`): enforced calls that did not start.
 *
 * @internal
 */
export const refusals: Metric.Metric.Counter<number> = Metric.counter("botanu.budget.refusals", {
  description: "Enforced calls refused by a hard budget limit or an unavailable budget store",
  incremental: true
})

type Labels = ReadonlyArray<MetricLabel.MetricLabel>

/** Series given out so far to one metric; the overflow series is the last one within the bound, as in the SDK. */
class Series {
  private used = 0
  take(): boolean {
    if (this.used >= maxSeriesPerMetric - 1) return false
    this.used++
    return true
  }
}

interface State {
  readonly spend: Series
  readonly refusals: Series
  /** scope → key label ("" for none) → labels */
  readonly spendLabels: Map<string, Map<string, Labels>>
  /** scope → key label → window → labels */
  readonly refusalLabels: Map<string, Map<string, Map<string, Labels>>>
  unavailable: Labels | undefined
}

// Process-wide like Effect's metric registry itself, so that two copies of this module count one registry's series.
const state = globalValue("@botanu/effect/internal/budgetMetrics", (): State => ({
  spend: new Series(),
  refusals: new Series(),
  spendLabels: new Map(),
  refusalLabels: new Map(),
  unavailable: undefined
}))

const child = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}

const base = (scope: string, key: string | undefined): Array<MetricLabel.MetricLabel> => {
  const labels = [MetricLabel.make(BudgetScopeKey, scope)]
  if (key !== undefined) labels.push(MetricLabel.make(BudgetKeyKey, key))
  return labels
}

/**
 * The labels of `botanu.budget.spend` for a scope and a key label (`undefined` for the scopes whose keys are never
 * labels: runs, the global scope).
 *
 * @internal
 */
export const spendLabels = (scope: string, key: string | undefined): Labels => {
  const byKey = child(state.spendLabels, scope, () => new Map<string, Labels>())
  const known = byKey.get(key ?? "")
  if (known !== undefined) return known
  // Past the bound nothing is remembered, so that the maps stop growing with it.
  if (!state.spend.take()) return overflow
  const labels = base(scope, key)
  byKey.set(key ?? "", labels)
  return labels
}

/**
 * The labels of `botanu.budget.refusals` for a limit reached.
 *
 * @internal
 */
export const refusalLabels = (scope: string, key: string | undefined, window: string): Labels => {
  const byWindow = child(
    child(state.refusalLabels, scope, () => new Map<string, Map<string, Labels>>()),
    key ?? "",
    () => new Map<string, Labels>()
  )
  const known = byWindow.get(window)
  if (known !== undefined) return known
  if (!state.refusals.take()) return overflow
  const labels = [
    ...base(scope, key),
    MetricLabel.make(BudgetWindowKey, window),
    MetricLabel.make(BudgetReasonKey, "exceeded")
  ]
  byWindow.set(window, labels)
  return labels
}

/**
 * The labels of `botanu.budget.refusals` for a call refused because the store could not be reached (fail closed).
 *
 * @internal
 */
export const unavailableLabels = (): Labels => {
  if (state.unavailable !== undefined) return state.unavailable
  state.unavailable = state.refusals.take() ? [MetricLabel.make(BudgetReasonKey, "unavailable")] : overflow
  return state.unavailable
}
