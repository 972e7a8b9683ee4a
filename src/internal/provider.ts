import { type ProviderNames, providerNames } from "../Provider.js"
import { describe, type Warn } from "./sanitize.js"

/**
 * A provider's names for a call plan, with a warning when the name given is unknown but resembles a known one: it
 * is recorded as given (lower-cased), which is likely not what was meant.
 *
 * @internal
 */
export const resolve = (given: string, warn: Warn): ProviderNames => {
  const names = providerNames(given)
  if (names.resembles !== undefined) {
    warn(
      `provider: ${
        describe(names.vendor)
      } is not a known provider but resembles "${names.resembles}"; recorded as given`
    )
  }
  return names
}
