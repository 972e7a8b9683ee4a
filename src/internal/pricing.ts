/**
 * Pricing a call: the catalogue service, custom prices and aliases in front of it, and the cost arithmetic.
 *
 * - Statuses: no tokens at all → `no_usage` (with the source when the model is known); no price → `unknown_model`;
 *   a total of exactly 0 (every price that applied is 0) → `free`; else `priced` (catalogue) or `custom`.
 * - Amounts are exact attodollars: token count × attodollars per token (see `money.ts`).
 * - A request whose timestamp is not a finite number is priced at the prices in force now.
 */
import type * as Pricing from "../Pricing.js"
import { normalizeProvider } from "../Provider.js"
import type { Entry, Rates, Schedule } from "./catalogue.js"
import { catalogueProviderIds, catalogueSource, lookup, ratesAt } from "./catalogue.js"
import type { Rate } from "./money.js"
import { attoPerToken, rateAt, toUsd as moneyToUsd } from "./money.js"

/** @internal */
export const toUsd: (attodollars: bigint) => number = moneyToUsd

/** @internal */
export const customSource = "custom"

// Token counts that cannot be counted are not counted: pricing never throws and never prices garbage.
// Fractions are rounded as the trackers round them.
const count = (value: unknown): number =>
  typeof value === "number" && value > 0 && value <= Number.MAX_SAFE_INTEGER ? Math.round(value) : 0

const unknownModel: Pricing.Cost = Object.freeze({
  status: "unknown_model",
  source: undefined,
  input: 0n,
  output: 0n,
  total: 0n,
  cacheRead: undefined,
  cacheWrite: undefined,
  reasoning: undefined
})

const noUsage = (source: string | undefined): Pricing.Cost => ({
  status: "no_usage",
  source,
  input: 0n,
  output: 0n,
  total: 0n,
  cacheRead: undefined,
  cacheWrite: undefined,
  reasoning: undefined
})

const noUsageUnknown = Object.freeze(noUsage(undefined))

const hasUsage = (usage: Pricing.PricedUsage): boolean =>
  count(usage.input) > 0 || count(usage.output) > 0 || count(usage.cacheRead) > 0 || count(usage.cacheWrite) > 0 ||
  count(usage.reasoning) > 0

const unpriced = (request: Pricing.PriceRequest): Pricing.Cost => {
  try {
    return hasUsage(request.usage) ? unknownModel : noUsageUnknown
  } catch {
    return unknownModel
  }
}

/**
 * The cost of `request` under `schedule`. A part can never exceed its whole, so a usage that says so is read as the
 * larger whole (input at least its cache reads and writes, output at least its reasoning) and every token is still
 * priced once.
 */
const costOf = (
  schedule: Schedule,
  request: Pricing.PriceRequest,
  status: "priced" | "custom",
  source: string
): Pricing.Cost => {
  const usage = request.usage
  const cacheRead = count(usage.cacheRead)
  const cacheWrite = count(usage.cacheWrite)
  const reasoning = count(usage.reasoning)
  const input = Math.max(count(usage.input), cacheRead + cacheWrite)
  const output = Math.max(count(usage.output), reasoning)
  if (input === 0 && output === 0) return noUsage(source)
  const timestamp = Number.isFinite(request.timestamp) ? request.timestamp : Date.now()
  const rates = ratesAt(schedule, timestamp)
  if (rates === undefined) return unknownModel
  // Long-context tiers are chosen by the total input, cache included: one threshold for every rate.
  const uncached = BigInt(input - cacheRead - cacheWrite) * rateAt(rates.input, input)
  const cacheReadCost = cacheRead > 0 ? BigInt(cacheRead) * rateAt(rates.cacheRead, input) : undefined
  const cacheWriteCost = cacheWrite > 0 ? BigInt(cacheWrite) * rateAt(rates.cacheWrite, input) : undefined
  const inputCost = uncached + (cacheReadCost ?? 0n) + (cacheWriteCost ?? 0n)
  const outputRate = rateAt(rates.output, input)
  let outputCost: bigint
  let reasoningCost: bigint | undefined
  if (rates.reasoning === undefined) {
    outputCost = BigInt(output) * outputRate
    reasoningCost = reasoning > 0 ? BigInt(reasoning) * outputRate : undefined
  } else {
    reasoningCost = BigInt(reasoning) * rateAt(rates.reasoning, input)
    outputCost = BigInt(output - reasoning) * outputRate + reasoningCost
    if (reasoning === 0) reasoningCost = undefined
  }
  const total = inputCost + outputCost
  return {
    status: total === 0n ? "free" : status,
    source,
    input: inputCost,
    output: outputCost,
    total,
    cacheRead: cacheReadCost,
    cacheWrite: cacheWriteCost,
    reasoning: reasoningCost
  }
}

/**
 * A cache of (provider, model) → resolution, nested so that a hit costs two map lookups and no string building.
 * Bounded: an app that sends unbounded model names (user input, say) re-resolves rather than grows the heap.
 */
class Memo<A> {
  private readonly byProvider = new Map<string, Map<string, A>>()
  private size = 0
  constructor(private readonly capacity: number) {}
  /** The remembered answer for (provider, model), worked out by `compute` the first time it is asked for. */
  get(provider: string, model: string, compute: (provider: string, model: string) => A): A {
    const known = this.byProvider.get(provider)?.get(model)
    if (known !== undefined) return known
    const value = compute(provider, model)
    this.set(provider, model, value)
    return value
  }
  private set(provider: string, model: string, value: A): void {
    if (this.size >= this.capacity) {
      this.byProvider.clear()
      this.size = 0
    }
    let models = this.byProvider.get(provider)
    if (models === undefined) {
      models = new Map()
      this.byProvider.set(provider, models)
    }
    models.set(model, value)
    this.size++
  }
}

const memoCapacity = 10_000

const notFound: unique symbol = Symbol("notFound")

/**
 * The catalogue as a pricing service, with its own memo.
 *
 * @internal
 */
export const makeCatalogue = (): Pricing.Pricing.Service => {
  const memo = new Memo<Schedule | typeof notFound>(memoCapacity)
  const find = (provider: string, model: string): Schedule | typeof notFound =>
    typeof provider === "string" && typeof model === "string" ? lookup(provider, model) ?? notFound : notFound
  return {
    price: (request) => {
      try {
        const schedule = memo.get(request.provider, request.model, find)
        return schedule === notFound ? unpriced(request) : costOf(schedule, request, "priced", catalogueSource)
      } catch {
        return unpriced(request)
      }
    }
  }
}

/** @internal */
export const catalogue: Pricing.Pricing.Service = makeCatalogue()

const customRate = (value: unknown, field: string, model: string): Rate => {
  const rate = typeof value === "number" ? attoPerToken(value) : undefined
  if (rate === undefined) {
    throw new RangeError(
      `Pricing.makeCustom: ${field} of "${model}" must be a finite number >= 0 (USD per million tokens), got ${
        String(value)
      }`
    )
  }
  return rate
}

const customSchedule = (price: Pricing.CustomPrice): Schedule => {
  const prices = price.prices
  const input = customRate(prices.inputPerMillion, "inputPerMillion", price.model)
  const rates: Rates = {
    input,
    output: customRate(prices.outputPerMillion, "outputPerMillion", price.model),
    cacheRead: prices.cacheReadPerMillion === undefined
      ? input
      : customRate(prices.cacheReadPerMillion, "cacheReadPerMillion", price.model),
    cacheWrite: prices.cacheWritePerMillion === undefined
      ? input
      : customRate(prices.cacheWritePerMillion, "cacheWritePerMillion", price.model),
    reasoning: undefined
  }
  const entry: Entry = { constraint: undefined, rates }
  return [entry]
}

// Custom prices and aliases are keyed by normalized provider ("" for any provider) and model (trimmed and
// lower-cased, as the catalogue matches models). The catalogue's provider ids are accepted as spellings of ours,
// so that an alias "on azure" applies to calls tracked as `azure.openai`.
const anyProvider = ""
const fromCatalogueId: ReadonlyMap<string, string> = new Map(
  Array.from(catalogueProviderIds, ([ours, theirs]) => [theirs, ours])
)
const normalize = (provider: string): string => {
  const normalized = normalizeProvider(provider)
  return fromCatalogueId.get(normalized) ?? normalized
}
const modelKey = (model: string): string => model.trim().toLowerCase()
const providerKey = (provider: string | undefined): string => provider === undefined ? anyProvider : normalize(provider)
const ruleKey = (provider: string, model: string): string => `${provider}\u0000${model}`

type Resolution =
  | { readonly _tag: "Custom"; readonly schedule: Schedule }
  | { readonly _tag: "Fallback"; readonly provider: string; readonly model: string }
  | { readonly _tag: "Cycle" }

// An alias chain longer than this is a configuration loop in all but name.
const maxAliasDepth = 32

/**
 * Custom prices and aliases in front of `fallback`. Configuration errors (a price that is not a finite number
 * `>= 0`) throw here, once, rather than mis-price every call.
 *
 * @internal
 */
export const makeCustom = (
  options: Pricing.CustomOptions,
  fallback: Pricing.Pricing.Service = catalogue
): Pricing.Pricing.Service => {
  // Later entries for the same (provider, model) replace earlier ones.
  const prices = new Map<string, Schedule>()
  for (const price of options.prices ?? []) {
    prices.set(ruleKey(providerKey(price.provider), modelKey(price.model)), customSchedule(price))
  }
  const aliases = new Map<string, Pricing.PriceAlias["as"]>()
  for (const alias of options.aliases ?? []) {
    aliases.set(ruleKey(providerKey(alias.provider), modelKey(alias.model)), alias.as)
  }

  // A provider-specific rule wins over one for any provider; for the same provider a price wins over an alias.
  const resolve = (provider: string, model: string): Resolution => {
    const seen = new Set<string>()
    let currentProvider = provider
    let currentModel = model
    for (let depth = 0; depth <= maxAliasDepth; depth++) {
      const normalizedProvider = normalize(currentProvider)
      const key = modelKey(currentModel)
      const specific = ruleKey(normalizedProvider, key)
      const general = ruleKey(anyProvider, key)
      const schedule = prices.get(specific) ?? (aliases.has(specific) ? undefined : prices.get(general))
      if (schedule !== undefined) return { _tag: "Custom", schedule }
      const target = aliases.get(specific) ?? aliases.get(general)
      if (target === undefined) return { _tag: "Fallback", provider: currentProvider, model: currentModel }
      if (seen.has(specific)) return { _tag: "Cycle" }
      seen.add(specific)
      currentProvider = target.provider === undefined ? currentProvider : normalize(target.provider)
      currentModel = target.model
    }
    return { _tag: "Cycle" }
  }

  const memo = new Memo<Resolution>(memoCapacity)
  const find = (provider: string, model: string): Resolution =>
    typeof provider === "string" && typeof model === "string"
      ? resolve(provider, model)
      : { _tag: "Fallback", provider, model }
  return {
    price: (request) => {
      try {
        const provider = request.provider
        const model = request.model
        const resolution = memo.get(provider, model, find)
        switch (resolution._tag) {
          case "Custom":
            return costOf(resolution.schedule, request, "custom", customSource)
          case "Fallback":
            return resolution.provider === provider && resolution.model === model
              ? fallback.price(request)
              : fallback.price({ ...request, provider: resolution.provider, model: resolution.model })
          case "Cycle":
            return unpriced(request)
        }
      } catch {
        return unpriced(request)
      }
    }
  }
}
