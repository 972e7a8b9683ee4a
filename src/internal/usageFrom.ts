import type { ExtractedUsage, UsageFrom } from "../Usage.js"
import { describe, type Warn } from "./sanitize.js"
import * as internal from "./usage.js"

/**
 * The extractor a `usageFrom` option names, worked out once when the tracked effect is built. An unknown name is
 * noted on every span of the call and reads nothing. What a function of the app's returns is made as clean as what
 * the built-in extractors return (see `clean`).
 *
 * @internal
 */
export const resolveUsageFrom = (from: UsageFrom, warn: Warn): ((value: unknown) => ExtractedUsage) | undefined => {
  if (typeof from === "function") return (value) => internal.safely("custom", from, value)
  if (from === "auto") return (value) => internal.safely("auto", internal.auto, value, true)
  if (typeof from === "string" && Object.prototype.hasOwnProperty.call(internal.extractors, from)) {
    const extractor = internal.extractors[from]
    return (value) => internal.safely(from, extractor, value, true)
  }
  warn(`usageFrom: ${describe(from)} is not a known extractor; usage is not read from the response`)
  return undefined
}
