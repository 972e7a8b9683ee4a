/**
 * Provider names, normalized so that one provider is always spelled one way on spans and metrics.
 *
 * @since 0.1.0
 */

const aliases: ReadonlyMap<string, string> = new Map([
  ["openai", "openai"],
  ["azure_openai", "azure.openai"],
  ["azure-openai", "azure.openai"],
  ["azureopenai", "azure.openai"],
  ["azure.openai", "azure.openai"],
  ["azure", "azure.openai"],
  ["anthropic", "anthropic"],
  ["claude", "anthropic"],
  ["bedrock", "aws.bedrock"],
  ["aws_bedrock", "aws.bedrock"],
  ["amazon_bedrock", "aws.bedrock"],
  ["aws.bedrock", "aws.bedrock"],
  ["aws", "aws.bedrock"],
  ["vertex", "gcp.vertex_ai"],
  ["vertexai", "gcp.vertex_ai"],
  ["vertex_ai", "gcp.vertex_ai"],
  ["gcp_vertex", "gcp.vertex_ai"],
  ["gcp.vertex_ai", "gcp.vertex_ai"],
  ["gemini", "gcp.vertex_ai"],
  ["google", "gcp.vertex_ai"],
  ["cohere", "cohere"],
  ["mistral", "mistral"],
  ["mistralai", "mistral"],
  ["together", "together"],
  ["togetherai", "together"],
  ["groq", "groq"],
  ["replicate", "replicate"],
  ["ollama", "ollama"],
  ["huggingface", "huggingface"],
  ["hf", "huggingface"],
  ["fireworks", "fireworks"],
  ["perplexity", "perplexity"],
  ["deepseek", "deepseek"],
  ["xai", "x_ai"],
  ["x_ai", "x_ai"],
  ["x-ai", "x_ai"]
])

/**
 * The normalized name of a provider: case-insensitive, surrounding whitespace ignored; unknown names pass through
 * lower-cased and trimmed.
 *
 * @example
 * ```ts
 * import { normalizeProvider } from "@botanu/effect"
 *
 * normalizeProvider(" Azure-OpenAI ") // "azure.openai"
 * normalizeProvider("Claude") // "anthropic"
 * normalizeProvider("MyLab") // "mylab"
 * ```
 *
 * @since 0.1.0
 * @category normalization
 */
export const normalizeProvider = (name: string): string => {
  const key = name.trim().toLowerCase()
  return aliases.get(key) ?? key
}

// `gen_ai.provider.name` where the semantic conventions (v1.41) have a well-known value that differs from the name
// above, by input spelling first (Gemini and Google are one vendor to pricing but two providers to the
// conventions), then by normalized name. `botanu.vendor` stays the normalized name: the Botanu platform keys on it.
const semconvBySpelling: ReadonlyMap<string, string> = new Map([
  ["gemini", "gcp.gemini"],
  ["google", "gcp.gen_ai"],
  ["ibm", "ibm.watsonx.ai"],
  ["watsonx", "ibm.watsonx.ai"]
])
const semconvByVendor: ReadonlyMap<string, string> = new Map([
  ["azure.openai", "azure.ai.openai"],
  ["mistral", "mistral_ai"]
])

// Every name that is recorded without a warning: the accepted spellings, the normalized names and the
// conventions' well-known values (some of which are no spelling above, such as `azure.ai.inference`).
const knownNames: ReadonlyArray<string> = [
  ...new Set([
    ...aliases.keys(),
    ...aliases.values(),
    ...semconvBySpelling.keys(),
    ...semconvBySpelling.values(),
    ...semconvByVendor.values(),
    "azure.ai.inference"
  ])
]
const known: ReadonlySet<string> = new Set(knownNames)

// Separators and a trailing plural `s` say nothing about which provider is meant: `open-ai`, `anthropics`.
const squash = (name: string): string => name.replace(/[-_.\s]/g, "").replace(/s$/, "")

// Below this length (after squashing) a name is too short to guess from: `hf`, `xai`, `aws`, `groq`.
const minGuessLength = 5
const maxDistance = 2

const squashedKnown: ReadonlyArray<readonly [string, string]> = knownNames
  .map((name) => [name, squash(name)] as const)
  .filter(([, squashed]) => squashed.length >= minGuessLength)

/** Levenshtein distance, giving up (returning `max + 1`) as soon as it must exceed `max`. */
const distance = (a: string, b: string, max: number): number => {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const value = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1)
      )
      current.push(value)
      if (value < best) best = value
    }
    if (best > max) return max + 1
    previous = current
  }
  return previous[b.length]
}

const resemblance = (key: string): string | undefined => {
  const squashed = squash(key)
  if (squashed.length < minGuessLength - maxDistance) return undefined
  let match: string | undefined
  let best = maxDistance + 1
  for (const [name, knownSquashed] of squashedKnown) {
    const d = squashed === knownSquashed ? 0 : distance(squashed, knownSquashed, maxDistance)
    if (d < best) {
      best = d
      match = name
      if (d === 0) break
    }
  }
  return match
}

/**
 * The names a provider is recorded under.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderNames {
  /**
   * `gen_ai.provider.name` (span and metric attribute): the semantic conventions' well-known value where one exists
   * (`azure.ai.openai`, `mistral_ai`, `gcp.gemini`, ...), else the same as `vendor`.
   */
  readonly semconv: string
  /** `botanu.vendor`, which pricing and the Botanu platform key on: `normalizeProvider`'s name. */
  readonly vendor: string
  /**
   * For a name that is not known but looks like a misspelling of a known one (`open-ai`, `antropic`): that known
   * name. The name is recorded as given all the same.
   */
  readonly resembles: string | undefined
}

/**
 * Both names of a provider at once, and, for an unknown name that looks like a misspelling of a known one, which
 * one it resembles (edit distance up to 2, or the same after removing `-`, `_`, `.`, spaces and a trailing `s`;
 * names shorter than 5 characters must be exact). Tracked calls work this out once per call plan.
 *
 * @example
 * ```ts
 * import { Provider } from "@botanu/effect"
 *
 * Provider.providerNames("Azure") // { semconv: "azure.ai.openai", vendor: "azure.openai", resembles: undefined }
 * Provider.providerNames("mistralai") // { semconv: "mistral_ai", vendor: "mistral", resembles: undefined }
 * Provider.providerNames("antropic") // { semconv: "antropic", vendor: "antropic", resembles: "anthropic" }
 * ```
 *
 * @since 0.1.0
 * @category normalization
 */
export const providerNames = (name: string): ProviderNames => {
  const key = name.trim().toLowerCase()
  const vendor = aliases.get(key) ?? key
  const semconv = semconvBySpelling.get(key) ?? semconvByVendor.get(vendor) ?? vendor
  return { semconv, vendor, resembles: known.has(key) ? undefined : resemblance(key) }
}

/**
 * Normalized providers whose APIs report input tokens without the cached ones (cache reads and writes are
 * reported beside the input count), so that tracking adds them to reach the semantic conventions' input count.
 *
 * @since 0.1.0
 * @category normalization
 */
export const inputExcludesCache: ReadonlySet<string> = new Set(["anthropic", "aws.bedrock"])
