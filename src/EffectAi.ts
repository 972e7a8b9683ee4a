/**
 * Tracking for @effect/ai: one layer over the app's `LanguageModel` (or `EmbeddingModel`) and every call made
 * through it, direct, through the module accessors or through `Chat`, is a tracked LLM call, with its usage read by
 * its provider's semantics and priced, its tool calls tracked, and its attempts numbered.
 *
 * Imported from `@botanu/effect/EffectAi`: the package root does not import @effect/ai, an optional peer
 * dependency.
 *
 * @since 0.1.0
 */
import * as EmbeddingModel from "@effect/ai/EmbeddingModel"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as AiModel from "@effect/ai/Model"
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/effectAi.js"
import type { AttributeValue } from "./LlmTracker.js"

/**
 * How the tool calls a model asks for are run:
 *
 * - `"tracked"` (the default): the layer runs them itself. It asks the model with @effect/ai's tool call resolution
 *   turned off, then runs each tool call that the provider did not execute through the toolkit's own `handle`,
 *   inside a tracked tool call (`execute_tool {name}`, with the call's `gen_ai.tool.call.id`, `gen_ai.tool.name` and
 *   `botanu.tool.success`), and adds result parts identical to @effect/ai's, so that `Chat` round-trips them. The
 *   tool spans are siblings of the chat span, as the semantic conventions lay a tool loop out.
 * - `"native"`: @effect/ai resolves them, inside the chat span, without the tool-call id (its `Toolkit.handle` never
 *   sees it).
 *
 * Either way a caller's own `disableToolCallResolution: true` is respected, and a tool whose `failureMode` is
 * `"error"` still fails the call.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolsMode = internal.ToolsMode

/**
 * @since 0.1.0
 * @category models
 */
export interface ModelOptions {
  /**
   * The request model, as the provider's Model was made with (`OpenAiLanguageModel.model("gpt-4o-mini")` says it
   * to @effect/ai, not to the layer). A per-request `withConfigOverride({ model })` of OpenAI, Anthropic, Google,
   * Amazon Bedrock or OpenRouter wins.
   */
  readonly model: string
  /** See `ToolsMode`; defaults to `"tracked"`. */
  readonly tools?: ToolsMode | undefined
  /** `server.address` of every call, as `trackLlmCall`'s (@effect/ai does not say which server its client calls). */
  readonly serverAddress?: string | undefined
  /** `server.port` of every call, likewise. */
  readonly serverPort?: number | undefined
  /** Extra span attributes of every call, as `trackLlmCall`'s `attributes`. */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends ModelOptions {
  /**
   * Any spelling `trackLlmCall` takes. Defaults to the Model's provider name (@effect/ai's `Model.ProviderName`,
   * which a provider's Model provides: `openai`, `anthropic`, `google` (the Gemini API), `amazon-bedrock`,
   * `openrouter`), else `unknown`. The Model's name also decides how usage is read, whatever this says.
   */
  readonly provider?: string | undefined
}

/**
 * The app's `LanguageModel`, tracked: built over the `LanguageModel` the layer is provided with, it decorates its
 * `generateText`, `generateObject` and `streamText`, so that every call, direct (`LanguageModel.generateText`),
 * through a service it was handed or through `Chat`, is one tracked LLM call: a CLIENT span `chat {model}` that is
 * the parent of @effect/ai's own span, counted in attempts, runs, agents, the cost ledger and the metrics.
 *
 * - Usage is read from the response's `finish` part by its provider's semantics (Anthropic and Bedrock input
 *   without the cache, their cache writes from the part's provider metadata, Google's thinking tokens beside the
 *   output), so `gen_ai.usage.input_tokens` includes the cache and the cost is exact; the response id and model
 *   from the `response-metadata` part; the finish reason as a one-item string array.
 * - A failure keeps its `AiError` as it is; `error.type` is its tag, and an HTTP failure also records
 *   `http.response.status_code` and the provider's request id header (`botanu.provider.request_id`).
 * - `Effect.retry` and `retryTracked` around calls number their attempts (@effect/ai does not retry by itself).
 * - A streamed call is tracked as `trackLlmStream` tracks a stream: time to first part, usage, id, model and finish
 *   reason read from the parts, partial (what the parts said so far) when the consumer stops early.
 * - With content capture on (`Content.layer`, or `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`), each
 *   call records its prompt (system messages as `gen_ai.system_instructions`, the other messages as
 *   `gen_ai.input.messages`) and its answer's parts as `gen_ai.output.messages` (text, reasoning, tool calls, tool
 *   results, the finish reason), a stream's accumulated as they pass (partial, `interrupted`, when abandoned); media
 *   are recorded by URL or as `[omitted]`, never their bytes. Tool calls run by the layer record their arguments
 *   and results (`gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`). Off, the prompt is not even read.
 *
 * @example
 * ```ts
 * import { LanguageModel } from "@effect/ai"
 * import { OpenAiClient, OpenAiLanguageModel } from "@effect/ai-openai"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import * as EffectAi from "@botanu/effect/EffectAi"
 *
 * const Model = EffectAi.layer({ model: "gpt-4o-mini" }).pipe(
 *   Layer.provide(OpenAiLanguageModel.model("gpt-4o-mini")),
 *   Layer.provide(OpenAiClient.layer({})),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const answer = LanguageModel.generateText({ prompt: "Capital of France?" }).pipe(Effect.provide(Model))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, LanguageModel.LanguageModel> =>
  Layer.effect(LanguageModel.LanguageModel, internal.make(options))

/**
 * The tracked service itself, over the `LanguageModel` in context (what `layer` provides).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<LanguageModel.Service, never, LanguageModel.LanguageModel> => internal.make(options)

/**
 * A provider's `Model` with its `LanguageModel` tracked, the provider name taken from the Model: usable wherever the
 * Model is (`Effect.provide`, `yield*` for its layer, `Layer.provide`). What else the Model provides (a Tokenizer)
 * is kept.
 *
 * @example
 * ```ts
 * import { LanguageModel } from "@effect/ai"
 * import { AnthropicClient, AnthropicLanguageModel } from "@effect/ai-anthropic"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import * as EffectAi from "@botanu/effect/EffectAi"
 *
 * const Claude = EffectAi.model(AnthropicLanguageModel.model("claude-sonnet-4-5"), { model: "claude-sonnet-4-5" })
 *
 * const answer = LanguageModel.generateText({ prompt: "Hello" }).pipe(
 *   Effect.provide(Claude),
 *   Effect.provide(AnthropicClient.layer({})),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const model = <Provider extends string, Provides, Requires>(
  providerModel: AiModel.Model<Provider, Provides, Requires>,
  options: ModelOptions
): AiModel.Model<
  Provider,
  Provides | LanguageModel.LanguageModel,
  Requires | Exclude<LanguageModel.LanguageModel, Provides>
> =>
  AiModel.make(
    providerModel.provider,
    Layer.provideMerge(
      Layer.effect(LanguageModel.LanguageModel, internal.make(options, providerModel.provider)),
      providerModel as Layer.Layer<Provides | AiModel.ProviderName, never, Requires>
    )
  ) as any

/**
 * @since 0.1.0
 * @category models
 */
export interface EmbeddingOptions {
  /** The request model; a per-request `OpenAiEmbeddingModel.withConfigOverride({ model })` wins. */
  readonly model: string
  /** As `Options.provider`. */
  readonly provider?: string | undefined
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

/**
 * The app's `EmbeddingModel`, tracked: each `embed` and each `embedMany` is one tracked call, a CLIENT span
 * `embeddings {model}` with `gen_ai.operation.name` = `embeddings`, counted like any call.
 *
 * @effect/ai's embedding results carry no usage, so these calls record everything but tokens and cost
 * (`botanu.cost.status` = `no_usage`), unless the provider's client is decorated too: `openAiEmbeddingUsage`
 * records the OpenAI usage of each request. @effect/ai also batches the `embed` calls that run together into one
 * request, made outside each of their spans (see `openAiEmbeddingUsage` for where its usage goes).
 *
 * @since 0.1.0
 * @category layers
 */
export const embeddingLayer = (
  options: EmbeddingOptions
): Layer.Layer<EmbeddingModel.EmbeddingModel, never, EmbeddingModel.EmbeddingModel> =>
  Layer.effect(EmbeddingModel.EmbeddingModel, internal.makeEmbedding(options))

/**
 * What `openAiEmbeddingUsage` needs of `OpenAiClient`'s service.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenAiEmbeddingClient extends internal.OpenAiEmbeddingClient {}

/**
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions {
  /** Defaults to `openai`; another name for an OpenAI-compatible server behind `OpenAiClient` (`azure`, ...). */
  readonly provider?: string | undefined
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

/**
 * `OpenAiClient` (pass its tag) with the exact usage of each embedding request recorded: the response's
 * `usage.prompt_tokens` and `model`. A request made inside a tracked `embeddings` call (a lone `embed`, an
 * `embedMany`: @effect/ai makes their requests inside their spans) adds its tokens to that call; a request that
 * serves several `embed` calls batched together is made outside all of them and is recorded as a tracked
 * `embeddings {model}` call of its own, so the tokens and the cost are counted once, exactly (the batched calls keep
 * theirs without usage). Only `createEmbedding` is changed.
 *
 * @example
 * ```ts
 * import { OpenAiClient, OpenAiEmbeddingModel } from "@effect/ai-openai"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import * as EffectAi from "@botanu/effect/EffectAi"
 *
 * const Embeddings = EffectAi.embeddingLayer({ model: "text-embedding-3-small" }).pipe(
 *   Layer.provide(OpenAiEmbeddingModel.model("text-embedding-3-small", { mode: "batched" })),
 *   Layer.provide(EffectAi.openAiEmbeddingUsage(OpenAiClient.OpenAiClient)),
 *   Layer.provide(OpenAiClient.layer({})),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const openAiEmbeddingUsage = <I, S extends OpenAiEmbeddingClient>(
  tag: Context.Tag<I, S>,
  options?: ClientOptions
): Layer.Layer<I, never, I> =>
  Layer.effect(tag, Effect.map(tag, (client) => internal.decorateOpenAiClient(client, options)))

/**
 * A span processor that drops the tool arguments that @effect/ai's own `Toolkit.handle` span records (its
 * `parameters` attribute: the tool call's arguments as the model wrote them) before `inner` sees the span. The
 * library's own spans never record tool arguments.
 *
 * @example
 * ```ts
 * import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto"
 * import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
 * import { Tracking } from "@botanu/effect"
 * import * as EffectAi from "@botanu/effect/EffectAi"
 *
 * const TrackingLive = Tracking.layerSdk({
 *   resource: { serviceName: "support-bot" },
 *   spanProcessor: () => EffectAi.dropToolParameters(new BatchSpanProcessor(new OTLPTraceExporter()))
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const dropToolParameters = (inner: SpanProcessor): SpanProcessor =>
  new internal.DropFromEffectAiSpans(inner, true, false)

/**
 * A span processor that drops the usage counts (`gen_ai.usage.*`, each provider's own: Anthropic's input without
 * the cache) that @effect/ai writes on its own `LanguageModel.*` spans, which the tracked chat span around each of
 * them carries already, so that a backend adding up `gen_ai.usage.*` over all spans counts every token once.
 * Composes with `dropToolParameters`: `dropToolParameters(dropEffectAiUsage(processor))`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dropEffectAiUsage = (inner: SpanProcessor): SpanProcessor =>
  new internal.DropFromEffectAiSpans(inner, false, true)

/**
 * The library's name for an @effect/ai provider name (`Model.provider`): `amazon-bedrock` is `aws.bedrock`,
 * `google` (the Gemini API) is `gemini`; any other name is as it is. What the layers record when no `provider` is
 * given.
 *
 * @since 0.1.0
 * @category normalization
 */
export const providerName: (effectAiProvider: string) => string = internal.providerName
