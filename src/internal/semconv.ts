import * as Context from "effect/Context"
import { globalValue } from "effect/GlobalValue"
import { GenAiUsageCacheCreationInputTokens, GenAiUsageCacheWriteInputTokens } from "../Attributes.js"

/**
 * The value of `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list) that asks instrumentations for the GenAI
 * conventions' latest experimental names instead of the ones of the release they follow (v1.41 here).
 *
 * @internal
 */
export const latestExperimentalOptIn = "gen_ai_latest_experimental"

/** @internal */
export const listsLatestExperimental = (optIn: string | undefined): boolean =>
  optIn !== undefined && optIn.split(",").some((entry) => entry.trim() === latestExperimentalOptIn)

/**
 * The `gen_ai.*` names that the GenAI semantic-conventions repository renamed after v1.41, as this process writes
 * them: chosen once, when the module loads, from the process environment (the conventions' own switch is an
 * environment variable, read by instrumentations at start). One object shared by every copy of the module, so that
 * the name never depends on which copy wrote it.
 *
 * @internal
 */
export interface SemconvNames {
  latestExperimental: boolean
  /** Cache writes: `gen_ai.usage.cache_creation.input_tokens` (v1.41), else `gen_ai.usage.cache_write.input_tokens`. */
  cacheWriteInputTokens: string
}

const namesFor = (latestExperimental: boolean): SemconvNames => ({
  latestExperimental,
  cacheWriteInputTokens: latestExperimental ? GenAiUsageCacheWriteInputTokens : GenAiUsageCacheCreationInputTokens
})

/** @internal */
export const names: SemconvNames = globalValue(
  "@botanu/effect/internal/semconv/names",
  () =>
    namesFor(
      listsLatestExperimental(typeof process === "undefined" ? undefined : process.env.OTEL_SEMCONV_STABILITY_OPT_IN)
    )
)

/**
 * Switches the names for this process, as if `OTEL_SEMCONV_STABILITY_OPT_IN` had (or had not) listed
 * `gen_ai_latest_experimental` at start; returns the previous setting. For tests.
 *
 * @internal
 */
export const setLatestExperimental = (on: boolean): boolean => {
  const previous = names.latestExperimental
  Object.assign(names, namesFor(on))
  return previous
}

/**
 * Whether LLM spans also carry `gen_ai.usage.cost` (the call's total in USD, the same number as
 * `botanu.cost.total_usd`), which Langfuse and OpenLIT read a call's cost from. Not a semantic-conventions name:
 * off unless a tracking layer turns it on (`usageCostAttribute: true`).
 *
 * @internal
 */
export class UsageCostAttribute extends Context.Reference<UsageCostAttribute>()(
  "@botanu/effect/Tracking/UsageCostAttribute",
  { defaultValue: (): boolean => false }
) {}
