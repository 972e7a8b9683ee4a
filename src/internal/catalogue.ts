/**
 * The catalogue of `@pydantic/genai-prices`: finding a model with the package's own matching, and compiling its
 * prices once into exact attodollar rates.
 *
 * What the catalogue defines (read from its `calcPrice`, version 0.1.8), and what the compiled schedule follows:
 * - `input_tokens` includes cache reads and writes. Each price key is charged on its "leaf" count: `input_mtok`
 *   on the input minus the more specific counts that have a price of their own, so cache reads are charged at
 *   `cache_read_mtok` when the model has it and at `input_mtok` otherwise (the same for `cache_write_mtok`, which
 *   is the 5-minute write; `cache_write_1h_mtok` needs a 1-hour count that the usage does not have).
 *   `output_reasoning_mtok`, where present, charges the reasoning part of the output the same way.
 * - A `TieredPrices` value (`{ base, tiers: [{ start, price }] }`, tiers sorted by `start`) charges every token of
 *   its key at the price of the last tier whose `start` the request's total `input_tokens` (cache included) is
 *   strictly greater than, else at `base`: every tiered key of a model switches together, so a tier reprices the
 *   whole request, output included.
 * - A list of `ConditionalPrice` is searched from the last entry back: the first that is unconstrained, whose
 *   `start_date` (UTC midnight) is at or before the time, or whose `time_of_date` window (UTC, `end` exclusive,
 *   wrapping past midnight when `end < start`) holds the time, applies; when none does, the first entry applies.
 *   The lists are ordered by date, so this is the latest `start_date` at or before the time.
 */
import type { ConditionalPrice, ModelInfo, ModelPrice, TieredPrices } from "@pydantic/genai-prices"
import { calcPrice } from "@pydantic/genai-prices"
import { normalizeProvider } from "../Provider.js"
import type { Rate } from "./money.js"
import { attoPerToken } from "./money.js"

/**
 * The catalogue's package and version, as recorded in `botanu.cost.pricing_source`. A test checks it against the
 * installed `package.json` (reading it at runtime would need the file system).
 *
 * @internal
 */
export const catalogueSource = "genai-prices@0.1.8"

/**
 * Our normalized providers (see `normalizeProvider`) whose catalogue id is spelled differently, or that the
 * catalogue's own provider matching would resolve wrongly (`azure.openai` contains "openai", which matches the
 * `openai` provider instead of `azure`). Every other name is handed to the catalogue as is: it matches ids and its
 * own provider patterns (`openrouter`, `cerebras`, `moonshotai`, ...).
 *
 * @internal
 */
export const catalogueProviderIds: ReadonlyMap<string, string> = new Map([
  ["openai", "openai"],
  ["azure.openai", "azure"],
  ["anthropic", "anthropic"],
  ["aws.bedrock", "aws"],
  ["gcp.vertex_ai", "google"],
  ["cohere", "cohere"],
  ["mistral", "mistral"],
  ["together", "together"],
  ["groq", "groq"],
  ["fireworks", "fireworks"],
  ["perplexity", "perplexity"],
  ["deepseek", "deepseek"],
  ["x_ai", "x-ai"]
])

/**
 * Providers that run models locally: the catalogue does not list them, and inferring a provider from the model name
 * would price `deepseek-r1:7b` on a laptop as DeepSeek's API. Their models are unknown unless priced by the app.
 *
 * @internal
 */
export const localProviders: ReadonlySet<string> = new Set(["ollama"])

/**
 * Attodollars per token for each kind of token of one price entry. Cache rates default to the input rate.
 *
 * @internal
 */
export interface Rates {
  readonly input: Rate
  readonly output: Rate
  readonly cacheRead: Rate
  readonly cacheWrite: Rate
  /** The reasoning part of the output at its own rate; absent: at the output rate. */
  readonly reasoning: Rate | undefined
}

/**
 * When a price entry applies: from a time on (epoch ms), or daily within a UTC window (seconds of the day).
 *
 * @internal
 */
export type Constraint =
  | { readonly _tag: "From"; readonly startMs: number }
  | { readonly _tag: "TimeOfDay"; readonly startS: number; readonly endS: number }

/**
 * One price entry; `rates` is `undefined` when the entry cannot price tokens (it charges only units the usage
 * does not count, such as pages, audio hours or requests).
 *
 * @internal
 */
export interface Entry {
  readonly constraint: Constraint | undefined
  readonly rates: Rates | undefined
}

/**
 * A model's prices over time, in the catalogue's order.
 *
 * @internal
 */
export type Schedule = ReadonlyArray<Entry>

/**
 * The rates in force at `timestamp` (epoch ms), following the catalogue's own selection.
 *
 * @internal
 */
export const ratesAt = (schedule: Schedule, timestamp: number): Rates | undefined => {
  if (schedule.length === 1) return schedule[0]!.rates
  for (let i = schedule.length - 1; i >= 0; i--) {
    const entry = schedule[i]!
    const constraint = entry.constraint
    if (constraint === undefined) return entry.rates
    if (constraint._tag === "From") {
      if (timestamp >= constraint.startMs) return entry.rates
    } else {
      const seconds = (((timestamp % DAY_MS) + DAY_MS) % DAY_MS) / 1000
      const inWindow = constraint.endS < constraint.startS
        ? seconds >= constraint.startS || seconds < constraint.endS
        : seconds >= constraint.startS && seconds < constraint.endS
      if (inWindow) return entry.rates
    }
  }
  return schedule[0]!.rates
}

const DAY_MS = 86_400_000

const priceKeys = {
  input: "input_mtok",
  output: "output_mtok",
  cacheRead: "cache_read_mtok",
  cacheWrite: "cache_write_mtok",
  reasoning: "output_reasoning_mtok"
} as const

const tokenPriceKeys: ReadonlySet<string> = new Set(Object.values(priceKeys))

const invalid = (what: string): Error => new Error(`genai-prices: invalid ${what}`)

const compileRate = (value: number | TieredPrices): Rate => {
  if (typeof value === "number") {
    const rate = attoPerToken(value)
    if (rate === undefined) throw invalid(`price ${value}`)
    return rate
  }
  const base = compileRate(value.base)
  if (typeof base !== "bigint" || !Array.isArray(value.tiers)) throw invalid("tiered price")
  const tiers = [...value.tiers]
    .sort((a, b) => a.start - b.start)
    .map((tier) => {
      const rate = compileRate(tier.price)
      if (typeof rate !== "bigint" || !Number.isFinite(tier.start)) throw invalid("price tier")
      return { start: tier.start, rate }
    })
  return { base, tiers }
}

const isZero = (value: number | TieredPrices | undefined): boolean =>
  value === undefined || (typeof value === "number"
    ? value === 0
    : value.base === 0 && value.tiers.every((tier) => tier.price === 0))

/**
 * Exact rates for one catalogue price entry. Throws on a value the catalogue would reject itself.
 *
 * @internal
 */
export const compileRates = (prices: ModelPrice): Rates | undefined => {
  const rate = (key: string): Rate | undefined => {
    const value = prices[key]
    return value === undefined ? undefined : compileRate(value)
  }
  const hasTokenPrice = Object.keys(prices).some((key) => tokenPriceKeys.has(key))
  // A model priced only by pages, hours or requests is not free: its tokens just do not tell what it cost.
  // One with no prices at all (`{}`: moderation, `:free` models, subscriptions) is free.
  if (!hasTokenPrice && !Object.values(prices).every(isZero)) return undefined
  const input = rate(priceKeys.input) ?? 0n
  return {
    input,
    output: rate(priceKeys.output) ?? 0n,
    cacheRead: rate(priceKeys.cacheRead) ?? input,
    cacheWrite: rate(priceKeys.cacheWrite) ?? input,
    reasoning: rate(priceKeys.reasoning)
  }
}

const timeOfDay = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/

// Seconds of the UTC day, the way the catalogue reads "00:30:00Z" or "08:30:00+08:00".
const secondsOfDay = (time: string): number => {
  const match = timeOfDay.exec(time)
  if (match === null) throw invalid(`time of day ${time}`)
  const local = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) + Number(`0.${match[4] ?? ""}`)
  const offset = match[5] === "Z" ? 0 : (match[6] === "+" ? 1 : -1) * (Number(match[7]) * 3600 + Number(match[8]) * 60)
  return (((local - offset) % 86_400) + 86_400) % 86_400
}

const compileConstraint = (constraint: ConditionalPrice["constraint"]): Constraint | undefined => {
  if (constraint === undefined) return undefined
  if (constraint.type === "start_date") {
    // A date-only ISO string is UTC midnight, as `new Date("2025-06-10")` in the catalogue.
    const startMs = Date.parse(constraint.start_date)
    if (Number.isNaN(startMs)) throw invalid(`start_date ${constraint.start_date}`)
    return { _tag: "From", startMs }
  }
  if (constraint.type === "time_of_date") {
    return { _tag: "TimeOfDay", startS: secondsOfDay(constraint.start_time), endS: secondsOfDay(constraint.end_time) }
  }
  throw invalid(`price constraint ${JSON.stringify(constraint)}`)
}

/**
 * A catalogue model's schedule, compiled from its `prices`. Throws on a value the catalogue would reject itself.
 *
 * @internal
 */
export const compileSchedule = (model: ModelInfo): Schedule => {
  const prices = model.prices
  if (!Array.isArray(prices)) return [{ constraint: undefined, rates: compileRates(prices) }]
  if (prices.length === 0) throw invalid(`prices of ${model.id}`)
  return prices.map((entry) => ({ constraint: compileConstraint(entry.constraint), rates: compileRates(entry.prices) }))
}

// Many (provider, model) spellings resolve to one catalogue model: compile each once.
const compiled = new WeakMap<ModelInfo, Schedule | null>()

const scheduleOf = (model: ModelInfo): Schedule | undefined => {
  let schedule = compiled.get(model)
  if (schedule === undefined) {
    try {
      schedule = compileSchedule(model)
    } catch {
      schedule = null
    }
    compiled.set(model, schedule)
  }
  return schedule ?? undefined
}

const noUsage = {}

// The catalogue's own model lookup: `calcPrice` matches the model under the provider (with the provider's
// fallback providers, and `-20240806` date suffixes read as `-2024-08-06`), or infers the provider from the model
// name when no provider id is given. Pricing no usage only finds the model; the prices are applied exactly here.
const find = (model: string, providerId: string | undefined): ModelInfo | undefined => {
  try {
    const found = providerId === undefined ? calcPrice(noUsage, model) : calcPrice(noUsage, model, { providerId })
    return found?.model
  } catch {
    return undefined
  }
}

/**
 * The catalogue's schedule for a model, or `undefined` when it is unknown: looked up under the provider's catalogue
 * id first, then under the provider the catalogue infers from the model name (`claude-...` → anthropic), except
 * for local providers.
 *
 * @internal
 */
export const lookup = (provider: string, model: string): Schedule | undefined => {
  const normalized = normalizeProvider(provider)
  if (localProviders.has(normalized)) return undefined
  const providerId = catalogueProviderIds.get(normalized) ?? normalized
  const known = providerId === "" || providerId === "unknown" ? undefined : find(model, providerId)
  const info = known ?? find(model, undefined)
  return info === undefined ? undefined : scheduleOf(info)
}
