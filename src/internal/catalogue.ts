/**
 * The catalogue of `@pydantic/genai-prices`: finding a model with the package's own matching, and compiling its
 * prices once into exact attodollar rates.
 *
 * What the catalogue defines (read from its `calcPrice`, version 0.1.8), and what the compiled schedule follows:
 * - Usage is counted in units that nest by their dimensions (direction, modality, token type, cache time to live).
 *   `input_tokens` is all the input: `cache_read_tokens` and `cache_write_tokens` are part of it, as are
 *   `input_audio_tokens` and `input_image_tokens`; `cache_audio_read_tokens` is part of both `input_audio_tokens` and
 *   `cache_read_tokens` (the same for images), `cache_write_1h_tokens` part of `cache_write_tokens`. `output_tokens`
 *   is all the output, with `output_reasoning_tokens`, `output_audio_tokens` and `output_image_tokens` parts of it.
 *   Requests (one per call) and `web_searches` are counted on their own, priced per thousand.
 * - Each priced unit is charged on its "leaf" count: its count minus the leaf counts of its priced descendants. So
 *   every token is charged once, at the price of the most specific priced unit that holds it: a cached audio token
 *   at `cache_audio_read_mtok` when the model has it, else at `input_audio_mtok` or `cache_read_mtok` (the catalogue
 *   refuses a model that prices both and not their join), else at `input_mtok`; a 1-hour cache write at
 *   `cache_write_1h_mtok`, else `cache_write_mtok` (the 5-minute write), else `input_mtok`. `compileRates` resolves
 *   that once per price entry into one rate per kind of token the usage counts (see `Rates`).
 * - Prices for units the usage cannot count (pages, audio hours, video tokens, storage searches, ...) are charged on
 *   a count of 0 by the catalogue too, given our usage: ignored. A model priced only by such units is not priceable.
 * - A `TieredPrices` value (`{ base, tiers: [{ start, price }] }`, tiers sorted by `start`) charges every unit of
 *   its key at the price of the last tier whose `start` the request's total `input_tokens` (cache included) is
 *   strictly greater than, else at `base`: every tiered key of a model switches together, so a tier reprices the
 *   whole request, output (and any tiered fee) included.
 * - A list of `ConditionalPrice` is searched from the last entry back: the first that is unconstrained, whose
 *   `start_date` (UTC midnight) is at or before the time, or whose `time_of_date` window (UTC, `end` exclusive,
 *   wrapping past midnight when `end < start`) holds the time, applies; when none does, the first entry applies.
 *   The lists are ordered by date, so this is the latest `start_date` at or before the time.
 * - The catalogue has no service-tier prices (0.1.8 holds none for flex, priority or batch; OpenRouter's `:batch`
 *   routes are models of their own, priced as such): a call answered with another tier is priced at these rates and
 *   marked `estimated` (see `pricing.ts`).
 */
import type { ConditionalPrice, ModelInfo, ModelPrice, TieredPrices } from "@pydantic/genai-prices"
import { calcPrice } from "@pydantic/genai-prices"
import { normalizeProvider } from "../Provider.js"
import type { Rate } from "./money.js"
import { attoPerToken, attoPerUse } from "./money.js"

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
 * Attodollars per token for each kind of token the usage counts, every one resolved to the price that applies to
 * it (see the leaf rule above), and attodollars per request and per web search where the model charges them.
 *
 * @internal
 */
export interface Rates {
  /** Input that is none of the kinds below (text, and what the usage does not break down). */
  readonly input: Rate
  /** Cache reads of that input. */
  readonly cacheRead: Rate
  /** 5-minute cache writes (a write with no time to live given is one). */
  readonly cacheWrite: Rate
  readonly cacheWrite1h: Rate
  /** Audio input that is not a cache read. */
  readonly inputAudio: Rate
  readonly cacheReadAudio: Rate
  /** Image input that is not a cache read. */
  readonly inputImage: Rate
  readonly cacheReadImage: Rate
  /** Output that is none of the kinds below. */
  readonly output: Rate
  readonly reasoning: Rate
  readonly outputAudio: Rate
  readonly outputImage: Rate
  /** Per request; absent: no per-request fee. */
  readonly request: Rate | undefined
  /** Per web search; absent: no price known for web searches. */
  readonly webSearch: Rate | undefined
}

/**
 * The prices a price entry gives, by kind: what is absent is resolved by `resolveRates`.
 *
 * @internal
 */
export type GivenRates = { readonly [K in keyof Rates]?: Rate | undefined }

/**
 * Every rate of `given`, a missing one being the price of the nearest priced unit that holds its tokens: cache
 * reads, cache writes, audio and image input at the input price; 1-hour writes at the 5-minute write price; cached
 * audio at the audio price, else the cache read price (the same for images); reasoning, audio and image output at
 * the output price. A missing input or output price is 0, as the catalogue charges nothing for an unpriced unit.
 *
 * @internal
 */
export const resolveRates = (given: GivenRates): Rates => {
  const input = given.input ?? 0n
  const output = given.output ?? 0n
  const cacheRead = given.cacheRead ?? input
  const cacheWrite = given.cacheWrite ?? input
  return {
    input,
    cacheRead,
    cacheWrite,
    cacheWrite1h: given.cacheWrite1h ?? cacheWrite,
    inputAudio: given.inputAudio ?? input,
    cacheReadAudio: given.cacheReadAudio ?? given.inputAudio ?? cacheRead,
    inputImage: given.inputImage ?? input,
    cacheReadImage: given.cacheReadImage ?? given.inputImage ?? cacheRead,
    output,
    reasoning: given.reasoning ?? output,
    outputAudio: given.outputAudio ?? output,
    outputImage: given.outputImage ?? output,
    request: given.request,
    webSearch: given.webSearch
  }
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

// The catalogue's price key for each kind of rate.
const tokenPriceKeys = {
  input: "input_mtok",
  cacheRead: "cache_read_mtok",
  cacheWrite: "cache_write_mtok",
  cacheWrite1h: "cache_write_1h_mtok",
  inputAudio: "input_audio_mtok",
  cacheReadAudio: "cache_audio_read_mtok",
  inputImage: "input_image_mtok",
  cacheReadImage: "cache_image_read_mtok",
  output: "output_mtok",
  reasoning: "output_reasoning_mtok",
  outputAudio: "output_audio_mtok",
  outputImage: "output_image_mtok"
} as const

const feePriceKeys = { request: "requests_kcount", webSearch: "web_searches_kcount" } as const

const tokenKeys: ReadonlySet<string> = new Set(Object.values(tokenPriceKeys))
const countedKeys: ReadonlySet<string> = new Set([...tokenKeys, ...Object.values(feePriceKeys)])

const invalid = (what: string): Error => new Error(`genai-prices: invalid ${what}`)

const compileRate = (value: number | TieredPrices, toAtto: (usd: number) => bigint | undefined): Rate => {
  if (typeof value === "number") {
    const rate = toAtto(value)
    if (rate === undefined) throw invalid(`price ${value}`)
    return rate
  }
  const base = compileRate(value.base, toAtto)
  if (typeof base !== "bigint" || !Array.isArray(value.tiers)) throw invalid("tiered price")
  const tiers = [...value.tiers]
    .sort((a, b) => a.start - b.start)
    .map((tier) => {
      const rate = compileRate(tier.price, toAtto)
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
  const keys = Object.keys(prices).filter((key) => prices[key] !== undefined)
  // A model priced only by pages, hours or other units the usage does not count is not free: its tokens just do
  // not tell what it cost. One with no prices at all (`{}`: moderation, `:free` models, subscriptions) is free.
  const countsTokens = keys.some((key) => tokenKeys.has(key))
  if (!countsTokens && keys.some((key) => !countedKeys.has(key) && !isZero(prices[key]))) return undefined
  const given: { -readonly [K in keyof Rates]?: Rate } = {}
  for (const [kind, key] of Object.entries(tokenPriceKeys) as Array<[keyof typeof tokenPriceKeys, string]>) {
    const value = prices[key]
    if (value !== undefined) given[kind] = compileRate(value, attoPerToken)
  }
  for (const [kind, key] of Object.entries(feePriceKeys) as Array<[keyof typeof feePriceKeys, string]>) {
    const value = prices[key]
    if (value !== undefined) given[kind] = compileRate(value, attoPerUse)
  }
  return resolveRates(given)
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
