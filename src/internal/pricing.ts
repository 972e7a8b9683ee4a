/**
 * Pricing a call: the catalogue service, custom prices and aliases in front of it, and the cost arithmetic.
 *
 * - Statuses: no tokens (and no web searches) at all → `no_usage` (with the source when the model is known); no
 *   price → `unknown_model`; answered with a service tier that has no price of its own → `estimated` (priced at the
 *   standard rates, with the reason); a total of exactly 0 (every price that applied is 0) → `free`; else `priced`
 *   (catalogue) or `custom`.
 * - Amounts are exact attodollars: token count × attodollars per token, request and web-search count × attodollars
 *   per use (see `money.ts`). Each token is priced once, at the rate of its kind (see `Rates` in `catalogue.ts`).
 * - A request whose timestamp is not a finite number is priced at the prices in force now.
 * - A custom price that cannot be used is `invalid_price`; a cost that cannot be recorded (a pricing service of the
 *   app's that throws or answers garbage) is `invalid_cost`: see `recordable`.
 */
import type * as Pricing from "../Pricing.js"
import { normalizeProvider } from "../Provider.js"
import type { Entry, GivenRates, Rates, Schedule } from "./catalogue.js"
import { catalogueProviderIds, catalogueSource, lookup, ratesAt, resolveRates } from "./catalogue.js"
import { errorMessage } from "./errors.js"
import { cut, maxNameChars, maxPricePerMillion, maxPricePerThousand, maxValueChars, maxWarnings } from "./limits.js"
import type { Rate } from "./money.js"
import { attoPerToken, attoPerUse, maxCostAttodollars, rateAt, toUsd as moneyToUsd } from "./money.js"
import { describe } from "./sanitize.js"

/** @internal */
export const toUsd: (attodollars: bigint) => number = moneyToUsd

/** @internal */
export const customSource = "custom"

// Token counts that cannot be counted are not counted: pricing never throws and never prices garbage.
// Fractions are rounded as the trackers round them.
const count = (value: unknown): number =>
  typeof value === "number" && value > 0 && value <= Number.MAX_SAFE_INTEGER ? Math.round(value) : 0

// The tiers a provider answers when nothing special was bought: none, OpenAI's `default` (and `auto`, which a
// response should not hold but a proxy may echo), Anthropic's `standard`. Their price is the model's price.
const standardTiers: ReadonlySet<string> = new Set(["", "default", "auto", "standard"])

/**
 * A service tier as a key (trimmed, lower-cased), or `undefined` for a standard tier, none, or one that is not a
 * string.
 *
 * @internal
 */
export const tierKey = (tier: unknown): string | undefined => {
  if (typeof tier !== "string") return undefined
  const key = tier.trim().toLowerCase()
  return standardTiers.has(key) ? undefined : key
}

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

// Every count of a usage that makes a call billable: a part counts too, since a whole is read as at least its parts.
const countFields = [
  "input",
  "output",
  "cacheRead",
  "cacheWrite",
  "reasoning",
  "cacheWrite1h",
  "inputAudio",
  "cacheReadAudio",
  "inputImage",
  "cacheReadImage",
  "outputAudio",
  "outputImage",
  "webSearches"
] as const

const hasUsage = (usage: Pricing.PricedUsage): boolean => countFields.some((field) => count(usage[field]) > 0)

const unpriced = (request: Pricing.PriceRequest): Pricing.Cost => {
  try {
    return hasUsage(request.usage) ? unknownModel : noUsageUnknown
  } catch {
    return unknownModel
  }
}

const max = (a: bigint, b: bigint): bigint => a > b ? a : b

/** A usage's counts, each whole at least its parts. */
interface Counts {
  readonly input: bigint
  readonly cacheRead: bigint
  readonly cacheWrite: bigint
  readonly cacheWrite1h: bigint
  readonly inputAudio: bigint
  readonly cacheReadAudio: bigint
  readonly inputImage: bigint
  readonly cacheReadImage: bigint
  readonly output: bigint
  readonly reasoning: bigint
  readonly outputAudio: bigint
  readonly outputImage: bigint
  readonly requests: bigint
  readonly webSearches: bigint
}

/**
 * The counts of `usage`. A part can never exceed its whole, so a usage that says so is read as the larger whole,
 * and every token is still priced once: audio input at least its cache reads, cache reads at least their audio and
 * image parts, cache writes at least their 1-hour part, input at least its audio, image, other cache reads and
 * cache writes (which are told apart: a cache write is neither audio nor image), output at least its reasoning,
 * audio and image (likewise apart). A usage that does not say how many requests it is for is one.
 */
const countsOf = (usage: Pricing.PricedUsage): Counts => {
  // In bigints from here: safe counts can add up past 2^53, where a double would round them. A count of 0 (most
  // of them: a call rarely has audio, images or cache writes) is the literal, which is not allocated on each call.
  const of = (value: unknown): bigint => {
    const n = count(value)
    return n === 0 ? 0n : BigInt(n)
  }
  const cacheReadAudio = of(usage.cacheReadAudio)
  const cacheReadImage = of(usage.cacheReadImage)
  const inputAudio = max(of(usage.inputAudio), cacheReadAudio)
  const inputImage = max(of(usage.inputImage), cacheReadImage)
  const cacheRead = max(of(usage.cacheRead), cacheReadAudio + cacheReadImage)
  const cacheWrite1h = of(usage.cacheWrite1h)
  const cacheWrite = max(of(usage.cacheWrite), cacheWrite1h)
  const input = max(
    of(usage.input),
    inputAudio + inputImage + (cacheRead - cacheReadAudio - cacheReadImage) + cacheWrite
  )
  const reasoning = of(usage.reasoning)
  const outputAudio = of(usage.outputAudio)
  const outputImage = of(usage.outputImage)
  const output = max(of(usage.output), reasoning + outputAudio + outputImage)
  const requests = usage.requests === undefined ? 1n : of(usage.requests)
  return {
    input,
    cacheRead,
    cacheWrite,
    cacheWrite1h,
    inputAudio,
    cacheReadAudio,
    inputImage,
    cacheReadImage,
    output,
    reasoning,
    outputAudio,
    outputImage,
    requests,
    webSearches: of(usage.webSearches)
  }
}

/** Why a call answered with `tier` is an estimate. */
const tierReason = (tier: string): string =>
  `no price known for service tier "${cut(tier.trim(), maxNameChars)}"; priced at the standard rate`

/**
 * The cost of `request` under `schedule`: each kind of token at its own rate (the leaf rule, resolved in `Rates`),
 * the parts (cache reads and writes, 1-hour writes, reasoning, audio, image) as shares of input and output, and the
 * fees beside them. `tierPriced` says that the schedule is the price of the request's service tier; otherwise a
 * request answered with a tier that is not standard is `estimated`, with the reason.
 */
const costOf = (
  schedule: Schedule,
  request: Pricing.PriceRequest,
  status: "priced" | "custom",
  source: string,
  tierPriced: boolean
): Pricing.Cost => {
  const usage = request.usage
  const c = countsOf(usage)
  if (c.input === 0n && c.output === 0n && c.webSearches === 0n) return noUsage(source)
  const timestamp = Number.isFinite(request.timestamp) ? request.timestamp : Date.now()
  const rates = ratesAt(schedule, timestamp)
  if (rates === undefined) return unknownModel
  // Long-context tiers are chosen by the total input, cache included: one threshold for every rate.
  const tierInput = Number(c.input)
  const at = (rate: Rate): bigint => rateAt(rate, tierInput)
  const readOther = c.cacheRead - c.cacheReadAudio - c.cacheReadImage
  const readOtherCost = readOther * at(rates.cacheRead)
  const readAudioCost = c.cacheReadAudio * at(rates.cacheReadAudio)
  const readImageCost = c.cacheReadImage * at(rates.cacheReadImage)
  const write1hCost = c.cacheWrite1h * at(rates.cacheWrite1h)
  const writeCost = (c.cacheWrite - c.cacheWrite1h) * at(rates.cacheWrite) + write1hCost
  const inputAudioCost = (c.inputAudio - c.cacheReadAudio) * at(rates.inputAudio) + readAudioCost
  const inputImageCost = (c.inputImage - c.cacheReadImage) * at(rates.inputImage) + readImageCost
  const otherInput = c.input - c.inputAudio - c.inputImage - readOther - c.cacheWrite
  const input = otherInput * at(rates.input) + inputAudioCost + inputImageCost + readOtherCost + writeCost
  const reasoningCost = c.reasoning * at(rates.reasoning)
  const outputAudioCost = c.outputAudio * at(rates.outputAudio)
  const outputImageCost = c.outputImage * at(rates.outputImage)
  const otherOutput = c.output - c.reasoning - c.outputAudio - c.outputImage
  const output = otherOutput * at(rates.output) + reasoningCost + outputAudioCost + outputImageCost
  const requestFees = rates.request !== undefined && c.requests > 0n ? c.requests * at(rates.request) : undefined
  const toolFees = rates.webSearch !== undefined && c.webSearches > 0n ? c.webSearches * at(rates.webSearch) : undefined
  const total = input + output + (requestFees ?? 0n) + (toolFees ?? 0n)
  const tier = tierPriced ? undefined : tierKey(usage.serviceTier)
  const cost: Mutable<Pricing.Cost> = {
    status: tier !== undefined ? "estimated" : total === 0n ? "free" : status,
    source,
    input,
    output,
    total,
    cacheRead: c.cacheRead > 0n ? readOtherCost + readAudioCost + readImageCost : undefined,
    cacheWrite: c.cacheWrite > 0n ? writeCost : undefined,
    reasoning: c.reasoning > 0n ? reasoningCost : undefined
  }
  // The new parts only where they apply, so that a cost without them reads as it always did.
  if (c.cacheWrite1h > 0n) cost.cacheWrite1h = write1hCost
  if (c.inputAudio + c.outputAudio > 0n) cost.audio = inputAudioCost + outputAudioCost
  if (c.inputImage + c.outputImage > 0n) cost.image = inputImageCost + outputImageCost
  if (requestFees !== undefined) cost.requestFees = requestFees
  if (toolFees !== undefined) cost.toolFees = toolFees
  if (tier !== undefined) cost.reason = tierReason(usage.serviceTier as string)
  return cost
}

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

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
 * The pricing services this module made, whose answers are costs by construction: `recordable` need not check
 * them on every call. A custom service is one only when what it falls back to is.
 */
const madeHere = new WeakSet<Pricing.Pricing.Service>()

/** @internal */
export const isMadeHere = (service: Pricing.Pricing.Service): boolean => madeHere.has(service)

/**
 * The catalogue as a pricing service, with its own memo.
 *
 * @internal
 */
export const makeCatalogue = (): Pricing.Pricing.Service => {
  const memo = new Memo<Schedule | typeof notFound>(memoCapacity)
  const find = (provider: string, model: string): Schedule | typeof notFound =>
    typeof provider === "string" && typeof model === "string" ? lookup(provider, model) ?? notFound : notFound
  const service: Pricing.Pricing.Service = {
    price: (request) => {
      try {
        const schedule = memo.get(request.provider, request.model, find)
        return schedule === notFound
          ? unpriced(request)
          : costOf(schedule, request, "priced", catalogueSource, false)
      } catch {
        return unpriced(request)
      }
    }
  }
  madeHere.add(service)
  return service
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

/**
 * The (provider, model) an entry is for, and its service tier when it names one that is not standard (a standard
 * tier's price is the model's price); `undefined` (with a problem) when it does not say.
 */
const entryKey = (
  entry: unknown,
  path: string,
  problems: Problems,
  withTier: boolean
): { readonly key: string; readonly tier: string | undefined; readonly path: string } | undefined => {
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
  const tier = withTier ? get(entry, "serviceTier") : undefined
  if (tier !== undefined && (typeof tier !== "string" || tier.trim().length === 0)) {
    problems.add(`${path}.serviceTier: ${isNot(tier, "a service tier name")}; ignored`)
    return undefined
  }
  const label = provider === undefined
    ? `"${cut(model, maxNameChars)}"`
    : `"${cut(model, maxNameChars)}" on "${cut(provider, maxNameChars)}"`
  const tiered = tierKey(tier)
  const forTier = tiered === undefined ? "" : ` for service tier "${cut(tier as string, maxNameChars)}"`
  return { key: ruleKey(providerKey(provider), modelKey(model)), tier: tiered, path: `${path} (${label}${forTier})` }
}

/** Attodollars per unit for one price figure, or why it is not a price. */
const customRate = (value: unknown, bound: number, toAtto: (usd: number) => bigint | undefined): Rate | string => {
  if (typeof value !== "number" || Number.isNaN(value)) return isNot(value, "a number")
  if (!Number.isFinite(value)) return `${value} is not finite`
  if (value < 0) return `${value} is negative`
  if (value > bound) return `${value} is above the maximum`
  return toAtto(value) ?? `${value} is not a price`
}

// Each figure of `ModelPrices` and the rate it gives; the first two are required, the others default (see
// `resolveRates`).
const tokenFields = [
  ["inputPerMillion", "input"],
  ["outputPerMillion", "output"],
  ["cacheReadPerMillion", "cacheRead"],
  ["cacheWritePerMillion", "cacheWrite"],
  ["cacheWrite1hPerMillion", "cacheWrite1h"],
  ["inputAudioPerMillion", "inputAudio"],
  ["cacheReadAudioPerMillion", "cacheReadAudio"],
  ["inputImagePerMillion", "inputImage"],
  ["cacheReadImagePerMillion", "cacheReadImage"],
  ["reasoningPerMillion", "reasoning"],
  ["outputAudioPerMillion", "outputAudio"],
  ["outputImagePerMillion", "outputImage"]
] as const satisfies ReadonlyArray<readonly [keyof Pricing.ModelPrices, keyof Rates]>

const feeFields = [
  ["perThousandRequests", "request"],
  ["perThousandWebSearches", "webSearch"]
] as const satisfies ReadonlyArray<readonly [keyof Pricing.ModelPrices, keyof Rates]>

const required: ReadonlySet<string> = new Set(["inputPerMillion", "outputPerMillion"])

type Custom = {
  readonly _tag: "Custom"
  readonly schedule: Schedule
  /** The price of a service tier: its calls are priced, not estimated. */
  readonly tiered: boolean
}

/** The schedule of one custom price, or why there is none: one bad figure makes the whole entry invalid. */
const customSchedule = (entry: object, tiered: boolean): Custom | string => {
  const prices = get(entry, "prices")
  if (!isRecord(prices)) return `prices: ${isNot(prices, "a record")}`
  const given: { -readonly [K in keyof Rates]?: Rate } = {}
  const read = (
    fields: ReadonlyArray<readonly [keyof Pricing.ModelPrices, keyof Rates]>,
    bound: number,
    toAtto: (usd: number) => bigint | undefined
  ): Array<string> => {
    const wrong: Array<string> = []
    for (const [field, kind] of fields) {
      const value = get(prices, field)
      if (value === undefined && !required.has(field)) continue
      const rate = customRate(value, bound, toAtto)
      if (typeof rate === "string") wrong.push(`${field}: ${rate}`)
      else given[kind] = rate
    }
    return wrong
  }
  const wrongTokens = read(tokenFields, maxPricePerMillion, attoPerToken)
  const wrongFees = read(feeFields, maxPricePerThousand, attoPerUse)
  const why: Array<string> = []
  if (wrongTokens.length > 0) {
    why.push(`${wrongTokens.join("; ")} (USD per million tokens, from 0 to ${maxPricePerMillion})`)
  }
  if (wrongFees.length > 0) {
    why.push(`${wrongFees.join("; ")} (USD per thousand requests or web searches, from 0 to ${maxPricePerThousand})`)
  }
  if (why.length > 0) return why.join("; ")
  const only: Entry = { constraint: undefined, rates: resolveRates(given as GivenRates) }
  return { _tag: "Custom", schedule: [only], tiered }
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
 * `maxPricePerMillion`, or a fee from 0 to `maxPricePerThousand`, an alias without a target) still claims its
 * (provider, model) (and service tier), whose calls are then `invalid_price`, since pricing them from the catalogue
 * instead would ignore what the app said about them.
 */
const readRules = (options: unknown) => {
  const problems = new Problems()
  // Later entries for the same (provider, model) replace earlier ones; the same for a service tier's price.
  const prices = new Map<string, Custom | Invalid>()
  const tierPrices = new Map<string, Map<string, Custom | Invalid>>()
  const aliases = new Map<string, Target | Invalid>()
  if (options !== undefined && !isRecord(options)) {
    problems.add(`options: ${isNot(options, "a record")}; ignored`)
  } else if (options !== undefined) {
    listOf(options, "prices", problems).forEach((entry, i) => {
      const at = entryKey(entry, `prices[${i}]`, problems, true)
      if (at === undefined) return
      const rule = customSchedule(entry as object, at.tier !== undefined)
      let into: Map<string, Custom | Invalid> = prices
      if (at.tier !== undefined) {
        into = tierPrices.get(at.tier) ?? new Map()
        tierPrices.set(at.tier, into)
      }
      if (typeof rule === "string") {
        problems.add(`${at.path}: ${rule}; ${notPriced}`)
        into.set(at.key, invalidPrice(`the custom price is invalid: ${rule}`))
      } else {
        into.set(at.key, rule)
      }
    })
    listOf(options, "aliases", problems).forEach((entry, i) => {
      const at = entryKey(entry, `aliases[${i}]`, problems, false)
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
  return { prices, tierPrices, aliases, problems: problems.list() }
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
  const { aliases, prices, problems, tierPrices } = readRules(options)

  // A provider-specific rule wins over one for any provider; for the same provider a price wins over an alias. A
  // call answered with a service tier is priced by that tier's price where one is found along the way (before the
  // model's own price at each step: the tier is the more specific price), else as any other call (`estimated`).
  const resolve = (provider: string, model: string, tier: string | undefined): Resolution => {
    const seen = new Set<string>()
    const forTier = tier === undefined ? undefined : tierPrices.get(tier)
    let currentProvider = provider
    let currentModel = model
    for (let depth = 0; depth <= maxAliasDepth; depth++) {
      const normalizedProvider = normalize(currentProvider)
      const key = modelKey(currentModel)
      const specific = ruleKey(normalizedProvider, key)
      const general = ruleKey(anyProvider, key)
      const aliased = aliases.has(specific)
      const tierPrice = forTier === undefined
        ? undefined
        : forTier.get(specific) ?? (aliased ? undefined : forTier.get(general))
      if (tierPrice !== undefined) return tierPrice
      const price = prices.get(specific) ?? (aliased ? undefined : prices.get(general))
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
      ? resolve(provider, model, undefined)
      : { _tag: "Fallback", provider, model }
  // Calls answered with a tier that has prices of its own are remembered apart, by (provider, model, tier).
  const tierMemo = new Memo<Resolution>(memoCapacity)
  const findTier = (provider: string, model: string, tier: string): Resolution =>
    tierMemo.get(
      provider,
      `${tier}\u0000${model}`,
      () =>
        typeof provider === "string" && typeof model === "string"
          ? resolve(provider, model, tier)
          : { _tag: "Fallback", provider, model }
    )
  const service: Pricing.Pricing.Service = {
    price: (request) => {
      try {
        const provider = request.provider
        const model = request.model
        const tier = tierPrices.size === 0 ? undefined : tierKey(request.usage.serviceTier)
        const resolution = tier !== undefined && tierPrices.has(tier)
          ? findTier(provider, model, tier)
          : memo.get(provider, model, find)
        switch (resolution._tag) {
          case "Custom":
            return costOf(resolution.schedule, request, "custom", customSource, resolution.tiered)
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
  if (madeHere.has(fallback)) madeHere.add(service)
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
  "estimated",
  "custom",
  "free",
  "no_usage",
  "unknown_model",
  "invalid_price",
  "invalid_cost"
])

const withAmounts: ReadonlySet<unknown> = new Set<Pricing.CostStatus>(["priced", "estimated", "custom", "free"])

/**
 * Whether a cost of this status has amounts to write and add up.
 *
 * @internal
 */
export const hasAmounts = (status: Pricing.CostStatus): boolean => withAmounts.has(status)

/**
 * A call that cannot be priced because of its pricing: the reason goes to the span's warnings.
 *
 * @internal
 */
export const invalidCost = (reason: string): Pricing.Cost => withoutAmounts("invalid_cost", undefined, reason)

// A reason may quote error text: it is cut to its final bound only once redacted, as a span's warnings are, so that
// no credential in it is cut in half first.
const maxReasonChars = 4 * maxValueChars

const withReason: ReadonlySet<unknown> = new Set<Pricing.CostStatus>(["invalid_price", "invalid_cost", "estimated"])

const answered = (problem: string): Pricing.Cost => invalidCost(`the pricing's answer is not a cost: ${problem}`)

/** Why an amount is not one, or `undefined` when it is. */
const badAmount = (value: unknown, field: string): string | undefined =>
  typeof value !== "bigint"
    ? `${field}: ${isNot(value, "a bigint of attodollars")}`
    : value < 0n
    ? `${field}: ${value} is negative`
    : undefined

/** Why an optional amount is not one, or `undefined` when it is one or absent. */
const badOptional = (value: unknown, field: string): string | undefined =>
  value === undefined ? undefined : badAmount(value, field)

/** Why a part of `whole` is not one, or `undefined` when it is one or absent. */
const badPart = (value: unknown, field: string, whole: bigint, of: string): string | undefined =>
  value === undefined
    ? undefined
    : badAmount(value, field) ??
      ((value as bigint) > whole ? `${field}: ${value} is more than ${of} (${whole})` : undefined)

const optionalText = (value: unknown, max: number): string | undefined =>
  typeof value === "string" && value.length > 0 ? cut(value, max) : undefined

/**
 * The optional amounts of a cost: its parts (shares of input and output) and its fees.
 *
 * @internal
 */
export const costParts = [
  "cacheRead",
  "cacheWrite",
  "reasoning",
  "cacheWrite1h",
  "audio",
  "image",
  "requestFees",
  "toolFees"
] as const

// The amounts a cost may have, read once each.
const amountFields = ["input", "output", "total", ...costParts] as const

type AmountField = typeof amountFields[number]

// The parts that are absent rather than `undefined` when they do not apply (see `costOf`).
const newParts = ["cacheWrite1h", "audio", "image", "requestFees", "toolFees"] as const

/**
 * A pricing service's answer as it may be recorded, read once into a fresh cost so that what is written, summed and
 * counted is the same. Anything that is not a cost becomes `invalid_cost` with the reason: a status this library
 * does not define; amounts that are not non-negative bigints, a total that is not input + output + the fees, a part
 * larger than its whole (cache reads, cache writes of the input; 1-hour writes of the cache writes; reasoning of the
 * output; audio, image of input + output), `free` with a total above 0; a total above `maxCostAttodollars` (no
 * price within bounds costs that much, and a larger one would not stay a finite number of USD in the sums). A
 * status without amounts keeps its status and source, and costs 0.
 *
 * @internal
 */
export const recordable = (answer: unknown): Pricing.Cost => {
  if (!isRecord(answer)) return answered(describe(answer))
  const a = answer as Partial<Record<keyof Pricing.Cost, unknown>>
  let status: unknown, source: unknown, reason: unknown
  const amounts: Partial<Record<AmountField, unknown>> = {}
  try {
    status = a.status
    source = a.source
    if (withAmounts.has(status)) {
      for (const field of amountFields) amounts[field] = a[field]
    }
    if (withReason.has(status)) reason = a.reason
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
  const bad = badAmount(amounts.input, "input") ?? badAmount(amounts.output, "output") ??
    badAmount(amounts.total, "total") ?? badOptional(amounts.requestFees, "requestFees") ??
    badOptional(amounts.toolFees, "toolFees")
  if (bad !== undefined) return answered(bad)
  const i = amounts.input as bigint
  const o = amounts.output as bigint
  const t = amounts.total as bigint
  const fees = ((amounts.requestFees as bigint | undefined) ?? 0n) + ((amounts.toolFees as bigint | undefined) ?? 0n)
  if (t !== i + o + fees) {
    return answered(
      amounts.requestFees === undefined && amounts.toolFees === undefined
        ? `total: ${t} is not input + output (${i + o})`
        : `total: ${t} is not input + output + requestFees + toolFees (${i + o + fees})`
    )
  }
  if (t > maxCostAttodollars) {
    return answered(`total: more than one call can cost ($${moneyToUsd(maxCostAttodollars)})`)
  }
  if (status === "free" && t !== 0n) return answered(`status: free, with a total of ${t}`)
  const written = amounts.cacheWrite
  const badBreakdown = badPart(amounts.cacheRead, "cacheRead", i, "input") ??
    badPart(written, "cacheWrite", i, "input") ??
    badPart(amounts.cacheWrite1h, "cacheWrite1h", typeof written === "bigint" ? written : 0n, "cacheWrite") ??
    badPart(amounts.reasoning, "reasoning", o, "output") ??
    badPart(amounts.audio, "audio", i + o, "input + output") ??
    badPart(amounts.image, "image", i + o, "input + output")
  if (badBreakdown !== undefined) return answered(badBreakdown)
  const cost: Mutable<Pricing.Cost> = {
    status: status as Pricing.CostStatus,
    source: optionalText(source, maxNameChars),
    input: i,
    output: o,
    total: t,
    cacheRead: amounts.cacheRead as bigint | undefined,
    cacheWrite: written as bigint | undefined,
    reasoning: amounts.reasoning as bigint | undefined
  }
  for (const part of newParts) {
    const value = amounts[part]
    if (value !== undefined) cost[part] = value as bigint
  }
  if (status === "estimated") {
    const why = optionalText(reason, maxReasonChars)
    if (why !== undefined) cost.reason = why
  }
  return cost
}

/**
 * Whether a call with usage whose cost has this status is unpriced: counted in `unpriced_calls`, its cost not in
 * any sum.
 *
 * @internal
 */
export const isUnpriced = (status: Pricing.CostStatus): boolean =>
  status === "unknown_model" || status === "invalid_price" || status === "invalid_cost"
