import {
  GenAiUsageCacheReadInputTokens,
  GenAiUsageInputTokens,
  GenAiUsageOutputTokens,
  GenAiUsageReasoningOutputTokens,
  OpenAiResponseServiceTier,
  RequestServiceTier,
  UsageCachedTokens,
  UsageCacheReadAudioTokens,
  UsageCacheReadImageTokens,
  UsageCacheReadTokens,
  UsageCacheWrite1hTokens,
  UsageCacheWriteTokens,
  UsageInputAudioTokens,
  UsageInputImageTokens,
  UsageIterations,
  UsageOutputAudioTokens,
  UsageOutputImageTokens,
  UsageWebSearches
} from "../Attributes.js"
import type { TokenCounts, TokenUsage } from "../LlmTracker.js"
import type { ExtractedUsage } from "../Usage.js"
import { maxListItems } from "./limits.js"
import { boolean, count, describe, optionalString, type Warn } from "./sanitize.js"
import * as Semconv from "./semconv.js"
import type { SpanRecorder } from "./spanRecorder.js"

/**
 * Token counts as recorded: `input` includes cache reads and writes, `reasoning` is part of `output`.
 *
 * @internal
 */
export interface RecordedTokens {
  input: number | undefined
  output: number | undefined
  cacheRead: number | undefined
  cacheWrite: number | undefined
  reasoning: number | undefined
  /** The part of `cacheWrite` written for 1 hour; the rest of it is 5-minute writes. */
  cacheWrite1h: number | undefined
  /** The audio part of `input`, its cache reads included. */
  inputAudio: number | undefined
  /** The audio part of `cacheRead` (and so of `inputAudio`). */
  cacheReadAudio: number | undefined
  /** The image part of `input`, its cache reads included. */
  inputImage: number | undefined
  /** The image part of `cacheRead` (and so of `inputImage`). */
  cacheReadImage: number | undefined
  /** The audio part of `output`. */
  outputAudio: number | undefined
  /** The image part of `output`. */
  outputImage: number | undefined
  /** Web-search tool uses billed on this call. */
  webSearches: number | undefined
  /** The service tier the provider answered with, as given. */
  serviceTier: string | undefined
  /** Each billed step's own counts (Anthropic `usage.iterations`); the fields above are then their sums. */
  iterations: ReadonlyArray<{ readonly model: string | undefined; readonly tokens: RecordedTokens }> | undefined
}

/** @internal */
export const emptyTokens = (): RecordedTokens => ({
  input: undefined,
  output: undefined,
  cacheRead: undefined,
  cacheWrite: undefined,
  reasoning: undefined,
  cacheWrite1h: undefined,
  inputAudio: undefined,
  cacheReadAudio: undefined,
  inputImage: undefined,
  cacheReadImage: undefined,
  outputAudio: undefined,
  outputImage: undefined,
  webSearches: undefined,
  serviceTier: undefined,
  iterations: undefined
})

/** The counts of `TokenCounts` as recorded, each under its `RecordedTokens` name, with the caller's name. */
const countFields = [
  ["input", "inputTokens"],
  ["output", "outputTokens"],
  ["cacheRead", "cacheReadTokens"],
  ["cacheWrite", "cacheWriteTokens"],
  ["cacheWrite1h", "cacheWrite1hTokens"],
  ["inputAudio", "inputAudioTokens"],
  ["cacheReadAudio", "cacheReadAudioTokens"],
  ["inputImage", "inputImageTokens"],
  ["cacheReadImage", "cacheReadImageTokens"],
  ["reasoning", "reasoningTokens"],
  ["outputAudio", "outputAudioTokens"],
  ["outputImage", "outputImageTokens"]
] as const satisfies ReadonlyArray<readonly [keyof RecordedTokens, keyof TokenCounts]>

type CountKey = typeof countFields[number][0]
type Counts = { [K in CountKey]: number | undefined }

/** The parts priced at rates of their own that have no `gen_ai.*` name: `botanu.usage.*`, written when above 0. */
const partAttributes: ReadonlyArray<readonly [CountKey, string]> = [
  ["cacheWrite1h", UsageCacheWrite1hTokens],
  ["inputAudio", UsageInputAudioTokens],
  ["cacheReadAudio", UsageCacheReadAudioTokens],
  ["inputImage", UsageInputImageTokens],
  ["cacheReadImage", UsageCacheReadImageTokens],
  ["outputAudio", UsageOutputAudioTokens],
  ["outputImage", UsageOutputImageTokens]
]

/** A count of `record` through `count`; an absent one costs a read, not a name built for a warning. */
const countOf = (value: unknown, field: string, prefix: string, warn: Warn): number | undefined =>
  value === undefined ? undefined : count(prefix + field, value, warn)

/**
 * The counts of `record` after its input and output (read first, so that warnings come in the fields' order; at
 * the top level, `cachedTokens` is read between them and these), through `count`, with `prefix` before a name in a
 * warning. Written out field by field: one object of one shape, no loop, no closure (this runs on every call).
 */
const countsAfter = (
  record: TokenCounts,
  prefix: string,
  warn: Warn,
  input: number | undefined,
  output: number | undefined
): Counts => ({
  input,
  output,
  cacheRead: countOf(record.cacheReadTokens, "cacheReadTokens", prefix, warn),
  cacheWrite: countOf(record.cacheWriteTokens, "cacheWriteTokens", prefix, warn),
  cacheWrite1h: countOf(record.cacheWrite1hTokens, "cacheWrite1hTokens", prefix, warn),
  inputAudio: countOf(record.inputAudioTokens, "inputAudioTokens", prefix, warn),
  cacheReadAudio: countOf(record.cacheReadAudioTokens, "cacheReadAudioTokens", prefix, warn),
  inputImage: countOf(record.inputImageTokens, "inputImageTokens", prefix, warn),
  cacheReadImage: countOf(record.cacheReadImageTokens, "cacheReadImageTokens", prefix, warn),
  reasoning: countOf(record.reasoningTokens, "reasoningTokens", prefix, warn),
  outputAudio: countOf(record.outputAudioTokens, "outputAudioTokens", prefix, warn),
  outputImage: countOf(record.outputImageTokens, "outputImageTokens", prefix, warn)
})

/** Each count of `record` through `count`, with `prefix` before its name in a warning. */
const readCounts = (record: TokenCounts, prefix: string, warn: Warn): Counts =>
  countsAfter(
    record,
    prefix,
    warn,
    countOf(record.inputTokens, "inputTokens", prefix, warn),
    countOf(record.outputTokens, "outputTokens", prefix, warn)
  )

/**
 * `input` made to include the cache reads and writes when the API reports it without them; a total past 2^53 (three
 * safe counts can add up to that, where a double no longer counts every token) is dropped.
 */
const withCache = (counts: Counts, includesCache: boolean, prefix: string, warn: Warn): void => {
  const input = counts.input
  if (input === undefined || includesCache) return
  const total = input + (counts.cacheRead ?? 0) + (counts.cacheWrite ?? 0)
  if (total > Number.MAX_SAFE_INTEGER) {
    warn(`${prefix}inputTokens: ${input} with the cache reads and writes is too large; dropped`)
    counts.input = undefined
  } else {
    counts.input = total
  }
}

/** `counts[key]` when above 0, else 0 (as for no key). */
const positive = (counts: Counts, key: CountKey | undefined): number => {
  if (key === undefined) return 0
  const value = counts[key]
  return value !== undefined && value > 0 ? value : 0
}

/**
 * Every part made to fit in its whole, and parts that share a whole (cache reads and writes of the input; audio and
 * image input; reasoning, audio and image output) in it together, so that what pricing charges at a part's rate is
 * never more than what was billed, and what is left at the whole's rate is never negative. A part that does not fit
 * is clamped to what its whole leaves, with a warning. A whole that is not known checks nothing.
 */
/**
 * Fits `part` into what `whole` leaves beside the `besides` parts (at most two: no rest array per call); allocates
 * only when it does not fit.
 */
const fit = (
  counts: Counts,
  prefix: string,
  warn: Warn,
  rename: Partial<Record<CountKey, string>> | undefined,
  part: CountKey,
  whole: CountKey,
  besides1?: CountKey,
  besides2?: CountKey
): void => {
  const value = counts[part]
  const of = counts[whole]
  if (value === undefined || of === undefined) return
  const limit = Math.max(0, of - positive(counts, besides1) - positive(counts, besides2))
  if (value <= limit) return
  const besides = [besides1, besides2].filter((key): key is CountKey => key !== undefined)
  const nameOf = (key: CountKey): string => rename?.[key] ?? names[key]
  const less = besides.filter((key) => (counts[key] ?? 0) > 0).map((key) => `${nameOf(key)} ${counts[key]}`)
  const wholeText = less.length === 0 ? `${nameOf(whole)} ${of}` : `${nameOf(whole)} ${of} less ${less.join(" and ")}`
  warn(`${prefix}${nameOf(part)}: ${value} exceeds ${wholeText}, of which they are a part; recorded as ${limit}`)
  counts[part] = limit
}

/** Whether any part is above 0. */
const hasParts = (counts: Counts): boolean =>
  (counts.cacheRead ?? 0) > 0 || (counts.cacheWrite ?? 0) > 0 || (counts.cacheWrite1h ?? 0) > 0 ||
  (counts.inputAudio ?? 0) > 0 || (counts.cacheReadAudio ?? 0) > 0 || (counts.inputImage ?? 0) > 0 ||
  (counts.cacheReadImage ?? 0) > 0 || (counts.reasoning ?? 0) > 0 || (counts.outputAudio ?? 0) > 0 ||
  (counts.outputImage ?? 0) > 0

const cachedTokensName: Partial<Record<CountKey, string>> = { cacheRead: "cachedTokens" }

const clampParts = (
  counts: Counts,
  prefix: string,
  warn: Warn,
  rename?: Partial<Record<CountKey, string>>
): void => {
  // A part of 0 (or none) always fits: most calls have nothing more to check.
  if (!hasParts(counts)) return
  fit(counts, prefix, warn, rename, "cacheRead", "input")
  fit(counts, prefix, warn, rename, "cacheWrite", "input", "cacheRead")
  fit(counts, prefix, warn, rename, "cacheWrite1h", "cacheWrite")
  fit(counts, prefix, warn, rename, "inputAudio", "input")
  fit(counts, prefix, warn, rename, "inputImage", "input", "inputAudio")
  fit(counts, prefix, warn, rename, "cacheReadAudio", "cacheRead")
  fit(counts, prefix, warn, rename, "cacheReadAudio", "inputAudio")
  fit(counts, prefix, warn, rename, "cacheReadImage", "cacheRead", "cacheReadAudio")
  fit(counts, prefix, warn, rename, "cacheReadImage", "inputImage")
  fit(counts, prefix, warn, rename, "reasoning", "output")
  fit(counts, prefix, warn, rename, "outputAudio", "output", "reasoning")
  fit(counts, prefix, warn, rename, "outputImage", "output", "reasoning", "outputAudio")
}

const names: Readonly<Record<CountKey, string>> = Object.fromEntries(countFields) as Record<CountKey, string>

/** One iteration as read: its model and its counts, in the call's input semantics, parts fitted. */
interface Iteration {
  readonly model: string | undefined
  readonly counts: Counts
}

const noIterations: ReadonlyArray<Iteration> = []

/** The valid iterations of `usage.iterations`, at most `maxListItems` of them; an empty list reads as none. */
const readIterations = (value: unknown, includesCache: boolean, warn: Warn): ReadonlyArray<Iteration> => {
  if (value === undefined) return noIterations
  if (!Array.isArray(value)) {
    warn(`iterations: ${describe(value)} is not a list; dropped`)
    return noIterations
  }
  if (value.length > maxListItems) {
    warn(`iterations: a list of ${value.length} items; the first ${maxListItems} are read`)
  }
  const out: Array<Iteration> = []
  for (let i = 0; i < Math.min(value.length, maxListItems); i++) {
    const item: unknown = value[i]
    const prefix = `iterations[${i}].`
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      warn(`iterations[${i}]: ${describe(item)} is not a record; dropped`)
      continue
    }
    const record = item as TokenCounts & { readonly model?: unknown }
    const counts = readCounts(record, prefix, warn)
    withCache(counts, includesCache, prefix, warn)
    clampParts(counts, prefix, warn)
    out.push({ model: optionalString(`${prefix}model`, record.model, warn), counts })
  }
  return out
}

/**
 * The call's totals from its iterations: each count the sum over the iterations that report it; a part that no
 * iteration reports is the top level's (Anthropic reports thinking tokens at the top level only), but the input and
 * output and their cache are the iterations' alone, since the top level covers only some of the steps.
 */
const sumIterations = (iterations: ReadonlyArray<Iteration>, top: Counts, warn: Warn): Counts => {
  const out = {} as Counts
  for (const [key, field] of countFields) {
    let total: number | undefined
    for (const iteration of iterations) {
      const value = iteration.counts[key]
      if (value !== undefined) total = (total ?? 0) + value
    }
    if (total !== undefined && total > Number.MAX_SAFE_INTEGER) {
      warn(`${field}: the sum over the iterations is too large; dropped`)
      total = undefined
    }
    const fromIterationsOnly = key === "input" || key === "output" || key === "cacheRead" || key === "cacheWrite"
    out[key] = total !== undefined || fromIterationsOnly ? total : top[key]
  }
  for (const key of ["input", "output"] as const) {
    const given = top[key]
    const summed = out[key]
    if (given !== undefined && summed !== undefined && given > summed) {
      warn(`${names[key]}: ${given} exceeds the sum of the iterations ${summed}; the sum is recorded`)
    }
  }
  return out
}

/** Counts as a `RecordedTokens` of their own (an iteration's, for pricing): zero parts are left out, as on spans. */
const recorded = (counts: Counts): RecordedTokens => {
  const out = emptyTokens()
  for (const [key] of countFields) {
    const value = counts[key]
    if (value !== undefined && (key === "input" || key === "output" || value > 0)) out[key] = value
  }
  return out
}

/** Providers whose responses carry OpenAI's own `service_tier`, written under the conventions' OpenAI name too. */
const openaiTierProviders: ReadonlySet<string> = new Set(["openai", "azure.openai"])

/**
 * Writes token usage with the semantic conventions' input semantics and returns what it wrote in `into`. Every count
 * goes through `count`; every part is fitted into its whole (see `clampParts`); with `iterations`, the call's totals
 * are their sums (see `sumIterations`), `into.iterations` keeps each one's counts and model for pricing, and
 * `botanu.usage.iterations` says how many there were. `provider` is the normalized provider of the call: OpenAI and
 * Azure OpenAI get the service tier under `openai.response.service_tier` as well.
 *
 * @internal
 */
export const writeTokens = (
  recorder: SpanRecorder,
  usage: TokenUsage | ExtractedUsage,
  inputExcludesCacheByDefault: boolean,
  into: RecordedTokens,
  provider: string | undefined = undefined,
  readsCachedTokens: boolean = true
): void => {
  const warn = recorder.warn
  if (typeof usage !== "object" || usage === null) {
    warn(`setTokens: ${describe(usage)} is not a record; dropped`)
    return
  }
  const includesCache = usage.inputIncludesCache === undefined
    ? !inputExcludesCacheByDefault
    : boolean("inputIncludesCache", usage.inputIncludesCache, warn) ?? !inputExcludesCacheByDefault
  const input = countOf(usage.inputTokens, "inputTokens", "", warn)
  const output = countOf(usage.outputTokens, "outputTokens", "", warn)
  // Read in its place among the fields (for the warnings' order); what `usageFrom` read never has it.
  const cached = readsCachedTokens ? count("cachedTokens", (usage as TokenUsage).cachedTokens, warn) : undefined
  const top = countsAfter(usage, "", warn, input, output)
  const readGiven = top.cacheRead !== undefined
  top.cacheRead ??= cached
  withCache(top, includesCache, "", warn)
  const iterations = readIterations(usage.iterations, includesCache, warn)
  let tokens: Counts
  let cachedTotal: number | undefined
  if (iterations.length > 0) {
    tokens = sumIterations(iterations, top, warn)
    clampParts(tokens, "", warn)
    cachedTotal = tokens.cacheRead
  } else {
    tokens = top
    // Cache reads given as `cachedTokens` are warned about under that name.
    clampParts(tokens, "", warn, readGiven ? undefined : cachedTokensName)
    cachedTotal = tokens.cacheRead
    // `botanu.usage.cached_tokens` is OpenAI's count as given when both are given, within the input all the same.
    if (readGiven && cached !== undefined) {
      const input = tokens.input
      cachedTotal = cached
      if (input !== undefined && cached > input) {
        warn(`cachedTokens: ${cached} exceeds inputTokens ${input}, of which they are a part; recorded as ${input}`)
        cachedTotal = input
      }
    }
  }
  const webSearches = count("webSearches", usage.webSearches, warn)
  const serviceTier = optionalString("serviceTier", usage.serviceTier, warn)

  if (tokens.input !== undefined) {
    recorder.set(GenAiUsageInputTokens, tokens.input)
    into.input = tokens.input
  }
  if (tokens.output !== undefined) {
    recorder.set(GenAiUsageOutputTokens, tokens.output)
    into.output = tokens.output
  }
  const cacheRead = tokens.cacheRead
  if (cacheRead !== undefined && cacheRead > 0) {
    recorder.set(GenAiUsageCacheReadInputTokens, cacheRead)
    recorder.set(UsageCacheReadTokens, cacheRead)
    into.cacheRead = cacheRead
  }
  const cacheWrite = tokens.cacheWrite
  if (cacheWrite !== undefined && cacheWrite > 0) {
    // One `gen_ai.*` name per fact: v1.41's, or the latest experimental one when the process opted in.
    recorder.set(Semconv.names.cacheWriteInputTokens, cacheWrite)
    recorder.set(UsageCacheWriteTokens, cacheWrite)
    into.cacheWrite = cacheWrite
  }
  if (cachedTotal !== undefined && cachedTotal > 0) recorder.set(UsageCachedTokens, cachedTotal)
  const reasoning = tokens.reasoning
  if (reasoning !== undefined && reasoning > 0) {
    recorder.set(GenAiUsageReasoningOutputTokens, reasoning)
    into.reasoning = reasoning
  }
  for (let i = 0; i < partAttributes.length; i++) {
    const part = partAttributes[i]!
    const key = part[0]
    const value = tokens[key]
    if (value !== undefined && value > 0) {
      recorder.set(part[1], value)
      into[key] = value
    }
  }
  if (webSearches !== undefined && webSearches > 0) {
    recorder.set(UsageWebSearches, webSearches)
    into.webSearches = webSearches
  }
  if (serviceTier !== undefined) {
    recorder.set(RequestServiceTier, serviceTier)
    if (provider !== undefined && openaiTierProviders.has(provider)) {
      recorder.set(OpenAiResponseServiceTier, serviceTier)
    }
    into.serviceTier = serviceTier
  }
  if (iterations.length > 0) recorder.set(UsageIterations, iterations.length)
  // Iterations belong to the counts written with them: new counts without iterations leave none behind for pricing.
  if (tokens.input !== undefined || tokens.output !== undefined) {
    into.iterations = iterations.length > 0
      ? iterations.map((iteration) => ({ model: iteration.model, tokens: recorded(iteration.counts) }))
      : undefined
  }
}
