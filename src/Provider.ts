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

/**
 * Normalized providers whose APIs report input tokens without the cached ones (cache reads and writes are
 * reported beside the input count), so that tracking adds them to reach the semantic conventions' input count.
 *
 * @since 0.1.0
 * @category normalization
 */
export const inputExcludesCache: ReadonlySet<string> = new Set(["anthropic", "aws.bedrock"])
