import * as Effect from "effect/Effect"
import {
  CostCacheReadUsd,
  CostCacheWriteUsd,
  CostInputUsd,
  CostOutputUsd,
  CostPricingSource,
  CostReasoningUsd,
  CostStatus,
  CostTotalUsd,
  GenAiUsageCost
} from "../Attributes.js"
import type { Cost, Pricing } from "../Pricing.js"
import { errorMessage } from "./errors.js"
import { maxWarnedModels } from "./limits.js"
import { invalidCost, recordable, toUsd } from "./pricing.js"
import type { SpanRecorder } from "./spanRecorder.js"
import type { RecordedTokens } from "./tokens.js"

/**
 * Prices a call's recorded usage and writes the cost onto its span. Amounts are written only for a cost that is
 * known: an unknown model gets its status, never a $0 that would read as priced. With `usageCost`, the total is
 * also written as `gen_ai.usage.cost` (the same number), for the backends that read it there.
 *
 * The returned cost is what every consumer (run and agent totals, the ledger, the cost metric) adds up, so it is
 * the checked copy of the pricing's answer (see `recordable`): a pricing that throws or answers something that is
 * not a bounded cost gives `invalid_cost`, amounts 0 and the reason as a warning, never a non-finite number.
 *
 * @internal
 */
export const recordCost = (
  recorder: SpanRecorder,
  pricing: Pricing.Service,
  provider: string,
  model: string,
  tokens: RecordedTokens,
  timestamp: number,
  usageCost: boolean
): Cost => {
  let cost: Cost
  try {
    cost = recordable(pricing.price({
      provider,
      model,
      timestamp,
      usage: {
        input: tokens.input ?? 0,
        output: tokens.output ?? 0,
        cacheRead: tokens.cacheRead ?? 0,
        cacheWrite: tokens.cacheWrite ?? 0,
        reasoning: tokens.reasoning ?? 0
      }
    }))
  } catch (e) {
    cost = invalidCost(`the pricing failed (${errorMessage(e)})`)
  }
  recorder.set(CostStatus, cost.status)
  if (cost.reason !== undefined) {
    recorder.addWarning(`cost: ${cost.reason}; not priced`)
    // A call is priced once its outcome is written, warnings included: written again, with this one.
    recorder.flushWarnings()
  }
  if (cost.status === "priced" || cost.status === "custom" || cost.status === "free") {
    recorder.set(CostInputUsd, toUsd(cost.input))
    recorder.set(CostOutputUsd, toUsd(cost.output))
    const total = toUsd(cost.total)
    recorder.set(CostTotalUsd, total)
    if (usageCost) recorder.set(GenAiUsageCost, total)
    if (cost.cacheRead !== undefined) recorder.set(CostCacheReadUsd, toUsd(cost.cacheRead))
    if (cost.cacheWrite !== undefined) recorder.set(CostCacheWriteUsd, toUsd(cost.cacheWrite))
    if (cost.reasoning !== undefined) recorder.set(CostReasoningUsd, toUsd(cost.reasoning))
  }
  if (cost.source !== undefined) recorder.set(CostPricingSource, cost.source)
  return cost
}

// Once per process and model: a model without a price is a configuration gap to fix, not news on every call. Model
// names can come from callers, so the models remembered are bounded; past the bound one last warning says so.
const warnedUnknown = new Set<string>()
const warnedPastBound = { done: false }

/** @internal */
export const unknownModelWarning = (provider: string, model: string): Effect.Effect<void> | undefined => {
  const key = `${provider}\u0000${model}`
  if (warnedUnknown.has(key)) return undefined
  if (warnedUnknown.size >= maxWarnedModels) {
    if (warnedPastBound.done) return undefined
    warnedPastBound.done = true
    return Effect.logWarning(
      `botanu: no price known for more than ${maxWarnedModels} models; further ones are no longer logged one by ` +
        `one. Their calls are still recorded with botanu.cost.status = unknown_model and no cost.`
    )
  }
  warnedUnknown.add(key)
  return Effect.logWarning(
    `botanu: no price known for model "${model}" on provider "${provider}"; its calls are recorded with ` +
      `botanu.cost.status = unknown_model and no cost. Add it with Pricing.makeCustom (a price or an alias).`
  ).pipe(Effect.annotateLogs({ "gen_ai.provider.name": provider, "gen_ai.request.model": model }))
}
