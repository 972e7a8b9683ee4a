/**
 * Pricing a call: the catalogue service, custom prices and aliases in front of it, and the cost arithmetic.
 *
 * - Statuses: no tokens at all → `no_usage` (with the source when the model is known); no price → `unknown_model`;
 *   a total of exactly 0 (every price that applied is 0) → `free`; else `priced` (catalogue) or `custom`.
 * - Amounts are exact attodollars: token count × attodollars per token (see `money.ts`).
 * - A request whose timestamp is not a finite number is priced at the prices in force now.
 * - A custom price that cannot be used is `invalid_price`; a cost that cannot be recorded (a pricing service of the
 *   app's that throws or answers garbage) is `invalid_cost`: see `recordable`.
 */
import type * as Pricing from "../Pricing.js"
import { normalizeProvider } from "../Provider.js"
import type { Entry, Rates, Schedule } from "./catalogue.js"
import { catalogueProviderIds, catalogueSource, lookup, ratesAt } from "./catalogue.js"
import { errorMessage } from "./errors.js"
import { cut, maxNameChars, maxPricePerMillion, maxValueChars, maxWarnings } from "./limits.js"
import type { Rate } from "./money.js"
import { attoPerToken, maxCostAttodollars, rateAt, toUsd as moneyToUsd } from "./money.js"
import { describe } from "./sanitize.js"

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
  // In bigints from here: two safe counts can add up past 2^53, where a double would round them.
  const cacheRead = BigInt(count(usage.cacheRead))
  const cacheWrite = BigInt(count(usage.cacheWrite))
  const reasoning = BigInt(count(usage.reasoning))
  const input = max(BigInt(count(usage.input)), cacheRead + cacheWrite)
  const output = max(BigInt(count(usage.output)), reasoning)
  if (input === 0n && output === 0n) return noUsage(source)
  const timestamp = Number.isFinite(request.timestamp) ? request.timestamp : Date.now()
  const rates = ratesAt(schedule, timestamp)
  if (rates === undefined) return unknownModel
  // Long-context tiers are chosen by the total input, cache included: one threshold for every rate.
  const tierInput = Number(input)
  const uncached = (input - cacheRead - cacheWrite) * rateAt(rates.input, tierInput)
  const cacheReadCost = cacheRead > 0n ? cacheRead * rateAt(rates.cacheRead, tierInput) : undefined
  const cacheWriteCost = cacheWrite > 0n ? cacheWrite * rateAt(rates.cacheWrite, tierInput) : undefined
  const inputCost = uncached + (cacheReadCost ?? 0n) + (cacheWriteCost ?? 0n)
  const outputRate = rateAt(rates.output, tierInput)
  let outputCost: bigint
  let reasoningCost: bigint | undefined
  if (rates.reasoning === undefined) {
    outputCost = output * outputRate
    reasoningCost = reasoning > 0n ? reasoning * outputRate : undefined
  } else {
    reasoningCost = reasoning * rateAt(rates.reasoning, tierInput)
    outputCost = (output - reasoning) * outputRate + reasoningCost
    if (reasoning === 0n) reasoningCost = undefined
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

const max = (a: bigint, b: bigint): bigint => a > b ? a : b

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

/** Why a custom entry cannot price, and what its calls are priced as instead. */
interface Invalid {
  readonly _tag: "Invalid"
  /** The cost of a call with usage: `invalid_price`, with the reason. */
  readonly cost: Pricing.Cost
}

/** A cost with no amounts, and why. */
const withoutAmounts = (status: Pricing.CostStatus, source: string | undefined, reason: string): Pricing.Cost => ({
  status,
  source,
  input: 0n,
  output: 0n,
  total: 0n,
  cacheRead: undefined,
  cacheWrite: undefined,
  reasoning: undefined,
  reason: cut(reason, maxReasonChars)
})

const invalidPrice = (reason: string): Invalid => ({
  _tag: "Invalid",
  cost: Object.freeze(withoutAmounts("invalid_price", customSource, reason))
})

const noUsageCustom = Object.freeze(noUsage(customSource))

/** A call without usage costs nothing at any price: `no_usage`, as for an unknown model. */
const priceInvalid = (invalid: Invalid, request: Pricing.PriceRequest): Pricing.Cost => {
  try {
    return hasUsage(request.usage) ? invalid.cost : noUsageCustom
  } catch {
    return invalid.cost
  }
}

/** What reading a field of the app's options threw (a getter, a Proxy's trap). */
class Unreadable {
  constructor(readonly message: string) {}
}

const get = (record: object, key: string | number): unknown => {
  try {
    return (record as Record<string | number, unknown>)[key]
  } catch (e) {
    return new Unreadable(errorMessage(e))
  }
}

const isRecord = (value: unknown): value is object => {
  try {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Unreadable)
  } catch {
    // a revoked Proxy
    return false
  }
}

/** Why `value` is not what was `expected`: what reading it threw, or what it is. */
const isNot = (value: unknown, expected: string): string => {
  try {
    if (value instanceof Unreadable) return `failed to read (${value.message})`
  } catch {
    // `instanceof` asks a Proxy for its prototype
  }
  return `${describe(value)} is not ${expected}`
}

/** Build-time problems, bounded: one line each up to `maxWarnings`, then a count. */
class Problems {
  private readonly lines: Array<string> = []
  private more = 0
  add(line: string): void {
    if (this.lines.length < maxWarnings) this.lines.push(cut(line, maxValueChars))
    else this.more++
  }
  list(): ReadonlyArray<string> {
    return this.more > 0 ? [...this.lines, `${this.more} more invalid entries`] : this.lines
  }
}

/** The items of an options list, each read guarded. */
const listOf = (options: object, key: "prices" | "aliases", problems: Problems): ReadonlyArray<unknown> => {
  const list = get(options, key)
  if (list === undefined) return []
  let length: unknown
  try {
    length = Array.isArray(list) ? list.length : undefined
  } catch (e) {
    length = new Unreadable(errorMessage(e))
  }
  if (typeof length !== "number") {
    problems.add(`${key}: ${isNot(length instanceof Unreadable ? length : list, "a list")}; ignored`)
    return []
  }
  // Pushed one by one: a Proxy may claim any length, and a length that is not an integer cannot size an array.
  const items: Array<unknown> = []
  for (let i = 0; i < length; i++) items.push(get(list as object, i))
  return items
}

/** The (provider, model) an entry is for, or `undefined` (with a problem) when it does not say. */
const entryKey = (
  entry: unknown,
  path: string,
  problems: Problems
): { readonly key: string; readonly path: string } | undefined => {
  if (!isRecord(entry)) {
    problems.add(`${path}: ${isNot(entry, "a record")}; ignored`)
    return undefined
  }
  const model = get(entry, "model")
  if (typeof model !== "string" || model.trim().length === 0) {
    problems.add(`${path}.model: ${isNot(model, "a model name")}; ignored`)
    return undefined
  }
  const provider = get(entry, "provider")
  if (provider !== undefined && typeof provider !== "string") {
    problems.add(`${path}.provider: ${isNot(provider, "a string")}; ignored`)
    return undefined
  }
  const label = provider === undefined
    ? `"${cut(model, maxNameChars)}"`
    : `"${cut(model, maxNameChars)}" on "${cut(provider, maxNameChars)}"`
  return { key: ruleKey(providerKey(provider), modelKey(model)), path: `${path} (${label})` }
}

/** Attodollars per token for one price figure, or why it is not a price. */
const customRate = (value: unknown): Rate | string => {
  if (typeof value !== "number" || Number.isNaN(value)) return isNot(value, "a number")
  if (!Number.isFinite(value)) return `${value} is not finite`
  if (value < 0) return `${value} is negative`
  if (value > maxPricePerMillion) return `${value} is above the maximum`
  return attoPerToken(value) ?? `${value} is not a price`
}

const priceFields = ["inputPerMillion", "outputPerMillion", "cacheReadPerMillion", "cacheWritePerMillion"] as const

type Custom = { readonly _tag: "Custom"; readonly schedule: Schedule }

/** The schedule of one custom price, or why there is none: one bad figure makes the whole entry invalid. */
const customSchedule = (entry: object): Custom | string => {
  const prices = get(entry, "prices")
  if (!isRecord(prices)) return `prices: ${isNot(prices, "a record")}`
  const rates: Array<Rate | undefined> = []
  const wrong: Array<string> = []
  for (const field of priceFields) {
    const value = get(prices, field)
    // The cache prices default to the input price.
    if (value === undefined && field !== "inputPerMillion" && field !== "outputPerMillion") {
      rates.push(undefined)
      continue
    }
    const rate = customRate(value)
    if (typeof rate === "string") wrong.push(`${field}: ${rate}`)
    else rates.push(rate)
  }
  if (wrong.length > 0) return `${wrong.join("; ")} (USD per million tokens, from 0 to ${maxPricePerMillion})`
  const [input, output, cacheRead, cacheWrite] = rates as [Rate, Rate, Rate | undefined, Rate | undefined]
  const compiled: Rates = {
    input,
    output,
    cacheRead: cacheRead ?? input,
    cacheWrite: cacheWrite ?? input,
    reasoning: undefined
  }
  const only: Entry = { constraint: undefined, rates: compiled }
  return { _tag: "Custom", schedule: [only] }
}

type Target = { readonly _tag: "Alias"; readonly provider: string | undefined; readonly model: string }

/** Where an alias points, copied out of the app's object so that pricing never reads it again. */
const aliasTarget = (entry: object): Target | string => {
  const target = get(entry, "as")
  if (!isRecord(target)) return `as: ${isNot(target, "a record")}`
  const model = get(target, "model")
  if (typeof model !== "string" || model.trim().length === 0) return `as.model: ${isNot(model, "a model name")}`
  const provider = get(target, "provider")
  if (provider !== undefined && typeof provider !== "string") return `as.provider: ${isNot(provider, "a string")}`
  return { _tag: "Alias", provider, model }
}

const notPriced = "its calls get botanu.cost.status = invalid_price, not a price from elsewhere"

/**
 * Reads custom prices and aliases into their rules. Nothing here throws: an entry that does not say which model it
 * is for is ignored; one that does but cannot be used (a price figure that is not a number from 0 to
 * `maxPricePerMillion`, an alias without a target) still claims its (provider, model), whose calls are then
 * `invalid_price`, since pricing them from the catalogue instead would ignore what the app said about them.
 */
const readRules = (options: unknown) => {
  const problems = new Problems()
  // Later entries for the same (provider, model) replace earlier ones.
  const prices = new Map<string, Custom | Invalid>()
  const aliases = new Map<string, Target | Invalid>()
  if (options !== undefined && !isRecord(options)) {
    problems.add(`options: ${isNot(options, "a record")}; ignored`)
  } else if (options !== undefined) {
    listOf(options, "prices", problems).forEach((entry, i) => {
      const at = entryKey(entry, `prices[${i}]`, problems)
      if (at === undefined) return
      const rule = customSchedule(entry as object)
      if (typeof rule === "string") {
        problems.add(`${at.path}: ${rule}; ${notPriced}`)
        prices.set(at.key, invalidPrice(`the custom price is invalid: ${rule}`))
      } else {
        prices.set(at.key, rule)
      }
    })
    listOf(options, "aliases", problems).forEach((entry, i) => {
      const at = entryKey(entry, `aliases[${i}]`, problems)
      if (at === undefined) return
      const rule = aliasTarget(entry as object)
      if (typeof rule === "string") {
        problems.add(`${at.path}: ${rule}; ${notPriced}`)
        aliases.set(at.key, invalidPrice(`the custom price alias is invalid: ${rule}`))
      } else {
        aliases.set(at.key, rule)
      }
    })
  }
  return { prices, aliases, problems: problems.list() }
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
  | Custom
  | Invalid
  | { readonly _tag: "Fallback"; readonly provider: string; readonly model: string }
  | { readonly _tag: "Cycle" }

// An alias chain longer than this is a configuration loop in all but name.
const maxAliasDepth = 32

/**
 * Custom prices and aliases in front of `fallback`, and what was wrong with the options (see `readRules`), one line
 * each, at most `maxWarnings` and a count.
 *
 * @internal
 */
export const buildCustom = (
  options: Pricing.CustomOptions,
  fallback: Pricing.Pricing.Service = catalogue
): { readonly service: Pricing.Pricing.Service; readonly problems: ReadonlyArray<string> } => {
  const { aliases, prices, problems } = readRules(options)

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
      const price = prices.get(specific) ?? (aliases.has(specific) ? undefined : prices.get(general))
      if (price !== undefined) return price
      const target = aliases.get(specific) ?? aliases.get(general)
      if (target === undefined) return { _tag: "Fallback", provider: currentProvider, model: currentModel }
      if (target._tag === "Invalid") return target
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
  const service: Pricing.Pricing.Service = {
    price: (request) => {
      try {
        const provider = request.provider
        const model = request.model
        const resolution = memo.get(provider, model, find)
        switch (resolution._tag) {
          case "Custom":
            return costOf(resolution.schedule, request, "custom", customSource)
          case "Invalid":
            return priceInvalid(resolution, request)
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
  return { service, problems }
}

/**
 * Custom prices and aliases in front of `fallback`; never throws (see `readRules`).
 *
 * @internal
 */
export const makeCustom = (
  options: Pricing.CustomOptions,
  fallback: Pricing.Pricing.Service = catalogue
): Pricing.Pricing.Service => buildCustom(options, fallback).service

const statuses: ReadonlySet<unknown> = new Set<Pricing.CostStatus>([
  "priced",
  "custom",
  "free",
  "no_usage",
  "unknown_model",
  "invalid_price",
  "invalid_cost"
])

const withAmounts: ReadonlySet<unknown> = new Set<Pricing.CostStatus>(["priced", "custom", "free"])

/**
 * A call that cannot be priced because of its pricing: the reason goes to the span's warnings.
 *
 * @internal
 */
export const invalidCost = (reason: string): Pricing.Cost => withoutAmounts("invalid_cost", undefined, reason)

// A reason may quote error text: it is cut to its final bound only once redacted, as a span's warnings are, so that
// no credential in it is cut in half first.
const maxReasonChars = 4 * maxValueChars

const withReason: ReadonlySet<unknown> = new Set<Pricing.CostStatus>(["invalid_price", "invalid_cost"])

const answered = (problem: string): Pricing.Cost => invalidCost(`the pricing's answer is not a cost: ${problem}`)

/** Why an amount is not one, or `undefined` when it is. */
const badAmount = (value: unknown, field: string): string | undefined =>
  typeof value !== "bigint"
    ? `${field}: ${isNot(value, "a bigint of attodollars")}`
    : value < 0n
    ? `${field}: ${value} is negative`
    : undefined

/** Why a part of `whole` is not one, or `undefined` when it is one or absent. */
const badPart = (value: unknown, field: string, whole: bigint, of: string): string | undefined =>
  value === undefined
    ? undefined
    : badAmount(value, field) ??
      ((value as bigint) > whole ? `${field}: ${value} is more than ${of} (${whole})` : undefined)

const optionalText = (value: unknown, max: number): string | undefined =>
  typeof value === "string" && value.length > 0 ? cut(value, max) : undefined

/**
 * A pricing service's answer as it may be recorded, read once into a fresh cost so that what is written, summed and
 * counted is the same. Anything that is not a cost becomes `invalid_cost` with the reason: a status this library
 * does not define; amounts that are not non-negative bigints, a total that is not input + output, a part larger than
 * its whole, `free` with a total above 0; a total above `maxCostAttodollars` (no price within bounds costs that
 * much, and a larger one would not stay a finite number of USD in the sums). A status without amounts keeps its
 * status and source, and costs 0.
 *
 * @internal
 */
export const recordable = (answer: unknown): Pricing.Cost => {
  if (!isRecord(answer)) return answered(describe(answer))
  const a = answer as Partial<Record<keyof Pricing.Cost, unknown>>
  let status: unknown, source: unknown, input: unknown, output: unknown, total: unknown
  let cacheRead: unknown, cacheWrite: unknown, reasoning: unknown, reason: unknown
  try {
    status = a.status
    source = a.source
    if (withAmounts.has(status)) {
      input = a.input
      output = a.output
      total = a.total
      cacheRead = a.cacheRead
      cacheWrite = a.cacheWrite
      reasoning = a.reasoning
    } else if (withReason.has(status)) {
      reason = a.reason
    }
  } catch (e) {
    return answered(`failed to read (${errorMessage(e)})`)
  }
  if (!statuses.has(status)) return answered(`status: ${isNot(status, "a cost status")}`)
  if (!withAmounts.has(status)) {
    return {
      status: status as Pricing.CostStatus,
      source: optionalText(source, maxNameChars),
      input: 0n,
      output: 0n,
      total: 0n,
      cacheRead: undefined,
      cacheWrite: undefined,
      reasoning: undefined,
      reason: optionalText(reason, maxReasonChars)
    }
  }
  const bad = badAmount(input, "input") ?? badAmount(output, "output") ?? badAmount(total, "total")
  if (bad !== undefined) return answered(bad)
  const i = input as bigint
  const o = output as bigint
  const t = total as bigint
  if (t !== i + o) return answered(`total: ${t} is not input + output (${i + o})`)
  if (t > maxCostAttodollars) {
    return answered(`total: more than one call can cost ($${moneyToUsd(maxCostAttodollars)})`)
  }
  if (status === "free" && t !== 0n) return answered(`status: free, with a total of ${t}`)
  const badBreakdown = badPart(cacheRead, "cacheRead", i, "input") ?? badPart(cacheWrite, "cacheWrite", i, "input") ??
    badPart(reasoning, "reasoning", o, "output")
  if (badBreakdown !== undefined) return answered(badBreakdown)
  return {
    status: status as Pricing.CostStatus,
    source: optionalText(source, maxNameChars),
    input: i,
    output: o,
    total: t,
    cacheRead: cacheRead as bigint | undefined,
    cacheWrite: cacheWrite as bigint | undefined,
    reasoning: reasoning as bigint | undefined
  }
}

/**
 * Whether a call with usage whose cost has this status is unpriced: counted in `unpriced_calls`, its cost not in
 * any sum.
 *
 * @internal
 */
export const isUnpriced = (status: Pricing.CostStatus): boolean =>
  status === "unknown_model" || status === "invalid_price" || status === "invalid_cost"
