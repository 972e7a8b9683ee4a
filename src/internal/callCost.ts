import * as Effect from "effect/Effect"
import {
  CostAudioUsd,
  CostCacheReadUsd,
  CostCacheWrite1hUsd,
  CostCacheWriteUsd,
  CostImageUsd,
  CostInputUsd,
  CostOutputUsd,
  CostPricingSource,
  CostReasoningUsd,
  CostRequestFeesUsd,
  CostStatus,
  CostToolFeesUsd,
  CostTotalUsd,
  GenAiUsageCost
} from "../Attributes.js"
import type { Cost, CostStatus as Status, PricedUsage, Pricing } from "../Pricing.js"
import { errorMessage } from "./errors.js"
import { cut, maxNameChars, maxWarnedModels } from "./limits.js"
import { costParts, hasAmounts, invalidCost, isMadeHere, isUnpriced, recordable, toUsd } from "./pricing.js"
import type { SpanRecorder } from "./spanRecorder.js"
import type { RecordedTokens } from "./tokens.js"

/** What a pricing is asked for `tokens`: the call's counts, or one iteration's with the call's fees and tier. */
const pricedUsage = (
  tokens: RecordedTokens,
  requests: number,
  webSearches: number,
  serviceTier: string | undefined
): PricedUsage => ({
  input: tokens.input ?? 0,
  output: tokens.output ?? 0,
  cacheRead: tokens.cacheRead ?? 0,
  cacheWrite: tokens.cacheWrite ?? 0,
  reasoning: tokens.reasoning ?? 0,
  cacheWrite1h: tokens.cacheWrite1h ?? 0,
  inputAudio: tokens.inputAudio ?? 0,
  cacheReadAudio: tokens.cacheReadAudio ?? 0,
  inputImage: tokens.inputImage ?? 0,
  cacheReadImage: tokens.cacheReadImage ?? 0,
  outputAudio: tokens.outputAudio ?? 0,
  outputImage: tokens.outputImage ?? 0,
  webSearches,
  requests,
  serviceTier
})

/** The pricing's answer for one request, checked (see `recordable`); a pricing that throws is `invalid_cost`. */
const priceOnce = (
  pricing: Pricing.Service,
  provider: string,
  model: string,
  usage: PricedUsage,
  timestamp: number
): Cost => {
  try {
    const cost = pricing.price({ provider, model, timestamp, usage })
    // A service of the app's own is held to what a cost is; the library's own answer costs by construction.
    return isMadeHere(pricing) ? cost : recordable(cost)
  } catch (e) {
    return invalidCost(`the pricing failed (${errorMessage(e)})`)
  }
}

// How much worse each status of an iteration makes the call's: the worst one is the call's status.
const rank: Record<Status, number> = {
  no_usage: 0,
  free: 1,
  priced: 2,
  custom: 3,
  estimated: 4,
  unknown_model: 5,
  invalid_price: 6,
  invalid_cost: 7
}

const addPart = (a: bigint | undefined, b: bigint | undefined): bigint | undefined =>
  a === undefined ? b : b === undefined ? a : a + b

/**
 * The cost of a call billed in iterations (Anthropic `usage.iterations`): each iteration priced at its own model
 * (its `model`, else the call's) on the call's provider, at the call's service tier, and the costs added part by
 * part. The call's fees are charged once: its request and its web searches go with the first iteration at the
 * call's model (else the first iteration). The status is the worst of the iterations' (`free` < `priced` <
 * `custom` < `estimated`): one iteration that cannot be priced (unknown model, invalid price or cost) leaves the
 * whole call unpriced, as a call with no price is, with a warning naming the iteration when its model is not the
 * call's. Sources that differ are joined with " + ".
 */
const iterationsCost = (
  warnings: Array<string>,
  pricing: Pricing.Service,
  provider: string,
  model: string,
  tokens: RecordedTokens,
  iterations: NonNullable<RecordedTokens["iterations"]>,
  timestamp: number
): Cost => {
  const atCallModel = iterations.findIndex((step) => step.model === undefined || step.model === model)
  const feesAt = atCallModel === -1 ? 0 : atCallModel
  const costs = iterations.map((step, i) =>
    priceOnce(
      pricing,
      provider,
      step.model ?? model,
      pricedUsage(step.tokens, i === feesAt ? 1 : 0, i === feesAt ? tokens.webSearches ?? 0 : 0, tokens.serviceTier),
      timestamp
    )
  )
  let worst = 0
  costs.forEach((cost, i) => {
    if (rank[cost.status] > rank[costs[worst]!.status]) worst = i
  })
  const worstCost = costs[worst]!
  if (isUnpriced(worstCost.status)) {
    const stepModel = iterations[worst]!.model ?? model
    const label = `iteration ${worst + 1} of ${iterations.length} ("${cut(stepModel, maxNameChars)}")`
    if (worstCost.reason !== undefined) return { ...worstCost, reason: `${label}: ${worstCost.reason}` }
    if (stepModel !== model) warnings.push(`cost: no price known for ${label}; not priced`)
    return worstCost
  }
  if (worstCost.status === "no_usage") return costs.find((cost) => cost.source !== undefined) ?? worstCost
  const priced = costs.filter((cost) => hasAmounts(cost.status))
  const sources = [...new Set(priced.map((cost) => cost.source).filter((source) => source !== undefined))]
  const sum: { -readonly [K in keyof Cost]: Cost[K] } = {
    status: worstCost.status,
    source: sources.length === 0 ? undefined : sources.join(" + "),
    input: 0n,
    output: 0n,
    total: 0n,
    cacheRead: undefined,
    cacheWrite: undefined,
    reasoning: undefined
  }
  for (const cost of priced) {
    sum.input += cost.input
    sum.output += cost.output
    sum.total += cost.total
    for (const part of costParts) {
      const added = addPart(sum[part], cost[part])
      if (added !== undefined) sum[part] = added
    }
  }
  const estimate = priced.find((cost) => cost.status === "estimated" && cost.reason !== undefined)
  if (estimate !== undefined) sum.reason = estimate.reason
  // Summed, a cost can pass the bound one call is held to: checked again.
  return recordable(sum)
}

const estimatedReason = "priced at the standard rate (estimated)"

/**
 * Prices a call's recorded usage and writes the cost onto its span. Amounts are written only for a cost that is
 * known: an unknown model gets its status, never a $0 that would read as priced. With `usageCost`, the total is
 * also written as `gen_ai.usage.cost` (the same number), for the backends that read it there. The lines of the
 * parts and fees are written where they apply (see `Cost`); `total = input + output + request fees + tool fees`.
 *
 * The returned cost is what every consumer (run and agent totals, the ledger, the cost metric) adds up, so it is
 * the checked copy of the pricing's answer (see `recordable`): a pricing that throws or answers something that is
 * not a bounded cost gives `invalid_cost`, amounts 0 and the reason as a warning, never a non-finite number. A call
 * billed in iterations is priced iteration by iteration (see `iterationsCost`).
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
  // Made on the first warning: most calls have none.
  let warnings: Array<string> | undefined = undefined
  const iterations = tokens.iterations
  let cost: Cost
  if (iterations !== undefined && iterations.length > 0) {
    warnings = []
    cost = iterationsCost(warnings, pricing, provider, model, tokens, iterations, timestamp)
  } else {
    cost = priceOnce(
      pricing,
      provider,
      model,
      pricedUsage(tokens, 1, tokens.webSearches ?? 0, tokens.serviceTier),
      timestamp
    )
  }
  recorder.set(CostStatus, cost.status)
  if (cost.status === "estimated") {
    warnings ??= []
    warnings.push(`cost: ${cost.reason ?? estimatedReason}`)
  } else if (cost.reason !== undefined) {
    warnings ??= []
    warnings.push(`cost: ${cost.reason}; not priced`)
  }
  if (hasAmounts(cost.status)) {
    recorder.set(CostInputUsd, toUsd(cost.input))
    recorder.set(CostOutputUsd, toUsd(cost.output))
    const total = toUsd(cost.total)
    recorder.set(CostTotalUsd, total)
    if (usageCost) recorder.set(GenAiUsageCost, total)
    if (cost.cacheRead !== undefined) recorder.set(CostCacheReadUsd, toUsd(cost.cacheRead))
    if (cost.cacheWrite !== undefined) recorder.set(CostCacheWriteUsd, toUsd(cost.cacheWrite))
    if (cost.cacheWrite1h !== undefined) recorder.set(CostCacheWrite1hUsd, toUsd(cost.cacheWrite1h))
    if (cost.reasoning !== undefined) recorder.set(CostReasoningUsd, toUsd(cost.reasoning))
    if (cost.audio !== undefined) recorder.set(CostAudioUsd, toUsd(cost.audio))
    if (cost.image !== undefined) recorder.set(CostImageUsd, toUsd(cost.image))
    if (cost.requestFees !== undefined) recorder.set(CostRequestFeesUsd, toUsd(cost.requestFees))
    if (cost.toolFees !== undefined) recorder.set(CostToolFeesUsd, toUsd(cost.toolFees))
    // Web searches the pricing has no price for are not in the total: said, never silently left out.
    const searches = tokens.webSearches ?? 0
    if (searches > 0 && cost.toolFees === undefined) {
      warnings ??= []
      warnings.push(`cost: no price known for web searches on this model; ${searches} not priced`)
    }
  }
  if (cost.source !== undefined) recorder.set(CostPricingSource, cost.source)
  if (warnings !== undefined && warnings.length > 0) {
    for (const line of warnings) recorder.addWarning(line)
    // A call is priced once its outcome is written, warnings included: written again, with these ones.
    recorder.flushWarnings()
  }
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
