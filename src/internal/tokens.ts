import {
  GenAiUsageCacheReadInputTokens,
  GenAiUsageInputTokens,
  GenAiUsageOutputTokens,
  GenAiUsageReasoningOutputTokens,
  UsageCachedTokens,
  UsageCacheReadTokens,
  UsageCacheWriteTokens
} from "../Attributes.js"
import type { TokenUsage } from "../LlmTracker.js"
import { boolean, count, describe } from "./sanitize.js"
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
}

/** @internal */
export const emptyTokens = (): RecordedTokens => ({
  input: undefined,
  output: undefined,
  cacheRead: undefined,
  cacheWrite: undefined,
  reasoning: undefined
})

/**
 * Writes token usage with the semantic conventions' input semantics and returns what it wrote.
 *
 * @internal
 */
export const writeTokens = (
  recorder: SpanRecorder,
  usage: TokenUsage,
  inputExcludesCacheByDefault: boolean,
  into: RecordedTokens
): void => {
  const warn = recorder.warn
  if (typeof usage !== "object" || usage === null) {
    warn(`setTokens: ${describe(usage)} is not a record; dropped`)
    return
  }
  const input = count("inputTokens", usage.inputTokens, warn)
  const output = count("outputTokens", usage.outputTokens, warn)
  const cached = count("cachedTokens", usage.cachedTokens, warn)
  const cacheRead = count("cacheReadTokens", usage.cacheReadTokens, warn) ?? cached
  const cacheWrite = count("cacheWriteTokens", usage.cacheWriteTokens, warn)
  const reasoning = count("reasoningTokens", usage.reasoningTokens, warn)
  const includesCache = usage.inputIncludesCache === undefined
    ? !inputExcludesCacheByDefault
    : boolean("inputIncludesCache", usage.inputIncludesCache, warn) ?? !inputExcludesCacheByDefault

  if (input !== undefined) {
    const total = includesCache ? input : input + (cacheRead ?? 0) + (cacheWrite ?? 0)
    // Three safe counts can add up past 2^53, where a double no longer counts every token.
    if (total > Number.MAX_SAFE_INTEGER) {
      warn(`inputTokens: ${input} with the cache reads and writes is too large; dropped`)
    } else {
      recorder.set(GenAiUsageInputTokens, total)
      into.input = total
    }
  }
  if (output !== undefined) {
    recorder.set(GenAiUsageOutputTokens, output)
    into.output = output
  }
  if (cacheRead !== undefined && cacheRead > 0) {
    recorder.set(GenAiUsageCacheReadInputTokens, cacheRead)
    recorder.set(UsageCacheReadTokens, cacheRead)
    into.cacheRead = cacheRead
  }
  if (cacheWrite !== undefined && cacheWrite > 0) {
    // One `gen_ai.*` name per fact: v1.41's, or the latest experimental one when the process opted in.
    recorder.set(Semconv.names.cacheWriteInputTokens, cacheWrite)
    recorder.set(UsageCacheWriteTokens, cacheWrite)
    into.cacheWrite = cacheWrite
  }
  const cachedTotal = cached ?? cacheRead
  if (cachedTotal !== undefined && cachedTotal > 0) {
    recorder.set(UsageCachedTokens, cachedTotal)
  }
  if (reasoning !== undefined && reasoning > 0) {
    recorder.set(GenAiUsageReasoningOutputTokens, reasoning)
    into.reasoning = reasoning
    if (output !== undefined && reasoning > output) {
      warn(`reasoningTokens: ${reasoning} exceeds outputTokens ${output}, of which they are a part`)
    }
  }
  if (includesCache && input !== undefined && (cacheRead ?? 0) + (cacheWrite ?? 0) > input) {
    warn(`inputTokens: ${input} is less than the cache reads and writes it should include`)
  }
}
