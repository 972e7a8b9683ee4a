import type * as AiError from "@effect/ai/AiError"
import * as EmbeddingModel from "@effect/ai/EmbeddingModel"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as AiModel from "@effect/ai/Model"
import * as Response from "@effect/ai/Response"
import * as Telemetry from "@effect/ai/Telemetry"
import type * as Tool from "@effect/ai/Tool"
import type * as Toolkit from "@effect/ai/Toolkit"
import type * as OtelApi from "@opentelemetry/api"
import type { ReadableSpan, Span as SdkSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Concurrency, Mutable } from "effect/Types"
import { GenAiToolCallId, HttpResponseStatusCode, ProviderRequestId } from "../Attributes.js"
import type { AttributeValue } from "../LlmTracker.js"
import { LlmTracker } from "../LlmTracker.js"
import { ModelOperation } from "../ModelOperation.js"
import { normalizeProvider } from "../Provider.js"
import { ToolTracker } from "../ToolTracker.js"
import type { ExtractedUsage, UsageFrom } from "../Usage.js"
import { CurrentContentPolicy } from "./content.js"
import * as effectAiContent from "./effectAiContent.js"
import { causeError } from "./errors.js"
import * as llmCall from "./llmCall.js"
import * as llmStream from "./llmStream.js"
import { describe, optionalString, readOptions } from "./sanitize.js"
import { serviceOption } from "./services.js"
import * as toolCall from "./toolCall.js"
import { resolveUsageFrom } from "./usageFrom.js"

// --- providers ---------------------------------------------------------------------------------------------------

/**
 * How a provider package of @effect/ai reports a call. @effect/ai keeps each provider's own token semantics in its
 * `Response.Usage`, so reading it right takes knowing whose it is.
 *
 * @internal
 */
export interface ProviderSemantics {
  /** The provider as the library names it (`Provider.providerNames` maps it on). */
  readonly name: string
  /** `undefined`: the library's default for the provider. */
  readonly inputIncludesCache: boolean | undefined
  /** Whether `reasoningTokens` are part of `outputTokens` (OpenAI) or reported beside them (Google's thoughts). */
  readonly reasoningInOutput: boolean
  /** Cache writes, which `Response.Usage` has no field for: from the finish part's provider metadata. */
  readonly cacheWrite: (metadata: unknown) => unknown
  /** Input billed beside `inputTokens` (Google's tool-use prompt tokens), from the finish part's metadata. */
  readonly extraInput: (metadata: unknown) => unknown
  /** The key of the provider's `Config` service (`withConfigOverride`), and its model field. */
  readonly config: { readonly key: string; readonly model: string } | undefined
}

const field = (value: unknown, ...path: ReadonlyArray<string>): unknown => {
  let current = value
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

const none = (): unknown => undefined

const defaultSemantics = (name: string): ProviderSemantics => ({
  name,
  inputIncludesCache: undefined,
  reasoningInOutput: true,
  cacheWrite: none,
  extraInput: none,
  config: undefined
})

// By @effect/ai's provider names (`Model.provider`); measured with ai-openai 0.41 and ai-anthropic 0.27, read from
// the v3 sources of ai-google, ai-amazon-bedrock and ai-openrouter (whose releases need an older @effect/ai).
const semanticsByProvider: ReadonlyMap<string, ProviderSemantics> = new Map<string, ProviderSemantics>([
  ["openai", {
    ...defaultSemantics("openai"),
    inputIncludesCache: true,
    config: { key: "@effect/ai-openai/OpenAiLanguageModel/Config", model: "model" }
  }],
  ["anthropic", {
    ...defaultSemantics("anthropic"),
    inputIncludesCache: false,
    cacheWrite: (metadata) => field(metadata, "anthropic", "usage", "cache_creation_input_tokens"),
    config: { key: "@effect/ai-anthropic/AnthropicLanguageModel/Config", model: "model" }
  }],
  // The Gemini API (ai-google's endpoint), the conventions' `gcp.gemini`.
  ["google", {
    ...defaultSemantics("gemini"),
    inputIncludesCache: true,
    reasoningInOutput: false,
    extraInput: (metadata) => field(metadata, "google", "usageMetadata", "toolUsePromptTokenCount"),
    config: { key: "@effect/ai-google/GoogleLanguageModel/Config", model: "model" }
  }],
  ["amazon-bedrock", {
    ...defaultSemantics("aws.bedrock"),
    inputIncludesCache: false,
    cacheWrite: (metadata) => field(metadata, "bedrock", "usage", "cacheWriteInputTokens"),
    config: { key: "@effect/ai-amazon-bedrock/AmazonBedrockLanguageModel/Config", model: "modelId" }
  }],
  ["openrouter", {
    ...defaultSemantics("openrouter"),
    inputIncludesCache: true,
    config: { key: "@effect/ai-openrouter/OpenRouterLanguageModel/Config", model: "model" }
  }]
])

// By the library's normalized name, for a `provider` option over a LanguageModel that is not a provider's Model.
const semanticsByVendor: ReadonlyMap<string, ProviderSemantics> = new Map([
  ["openai", semanticsByProvider.get("openai")!],
  ["anthropic", semanticsByProvider.get("anthropic")!],
  ["aws.bedrock", semanticsByProvider.get("amazon-bedrock")!],
  ["gcp.vertex_ai", semanticsByProvider.get("google")!],
  ["openrouter", semanticsByProvider.get("openrouter")!]
])

/**
 * The library's name for an @effect/ai provider name (`amazon-bedrock` is `aws.bedrock`, `google` the Gemini API),
 * any other name as it is.
 *
 * @internal
 */
export const providerName = (effectAiProvider: string): string =>
  semanticsByProvider.get(effectAiProvider.trim().toLowerCase())?.name ?? effectAiProvider

/**
 * The semantics of a call: by the @effect/ai provider name when one is known (the Model's), else by the name the
 * app gave (`provider: "anthropic"` over a LanguageModel of its own). The name recorded is the app's when given.
 *
 * @internal
 */
export const semanticsFor = (provider: string | undefined, effectAiProvider: string | undefined): ProviderSemantics => {
  const byModel = effectAiProvider === undefined ? undefined : semanticsByProvider.get(effectAiProvider)
  if (provider === undefined) return byModel ?? defaultSemantics(effectAiProvider ?? "unknown")
  const key = provider.trim().toLowerCase()
  const semantics = byModel ?? semanticsByProvider.get(key) ?? semanticsByVendor.get(normalizeProvider(provider))
  return { ...(semantics ?? defaultSemantics(provider)), name: providerName(provider) }
}

const embeddingConfig: ReadonlyMap<string, { readonly key: string; readonly model: string }> = new Map([
  ["openai", { key: "@effect/ai-openai/OpenAiEmbeddingModel/Config", model: "model" }]
])

// --- usage from response parts -----------------------------------------------------------------------------------

const isNumber = (value: unknown): value is number => typeof value === "number"

const plus = (a: unknown, b: unknown): unknown => isNumber(a) && isNumber(b) ? a + b : a

/** A finish part's usage with its provider's semantics, as the library records hand-tracked usage. */
const finishUsage = (semantics: ProviderSemantics, part: Response.FinishPart): ExtractedUsage => {
  const usage = part.usage
  const reasoning = usage.reasoningTokens
  return {
    inputTokens: plus(usage.inputTokens, semantics.extraInput(part.metadata)) as number | undefined,
    outputTokens: (semantics.reasoningInOutput ? usage.outputTokens : plus(usage.outputTokens, reasoning)) as
      | number
      | undefined,
    cacheReadTokens: usage.cachedInputTokens,
    cacheWriteTokens: semantics.cacheWrite(part.metadata) as number | undefined,
    reasoningTokens: reasoning,
    inputIncludesCache: semantics.inputIncludesCache,
    finishReasons: [part.reason]
  }
}

/** The metadata part's id and model, written into `usage` (a new record unless given). */
const metadataUsage = (part: Response.ResponseMetadataPart, usage: Mutable<ExtractedUsage> = {}): ExtractedUsage => {
  usage.responseId = Option.getOrUndefined(part.id)
  usage.responseModel = Option.getOrUndefined(part.modelId)
  return usage
}

/** What one stream part says about the call: the metadata part its id and model, the finish part the rest. */
const partUsage = (semantics: ProviderSemantics) => (part: Response.AnyPart): ExtractedUsage | undefined => {
  switch (part.type) {
    case "response-metadata":
      return metadataUsage(part)
    case "finish":
      return finishUsage(semantics, part)
    default:
      return undefined
  }
}

/**
 * What a whole response says: its (first) metadata part and its (last) finish part, in one object built in one
 * way. Merging them by spreads made an object of a shape of its own on every call, which cost more to build than the
 * rest of the reading, and slowed every read of it after.
 */
const contentUsage = (semantics: ProviderSemantics) => (content: ReadonlyArray<Response.AnyPart>): ExtractedUsage => {
  let metadata: Response.ResponseMetadataPart | undefined
  let finish: Response.FinishPart | undefined
  for (const part of content) {
    if (part.type === "response-metadata") metadata ??= part
    else if (part.type === "finish") finish = part
  }
  const usage: Mutable<ExtractedUsage> = finish === undefined ? {} : finishUsage(semantics, finish)
  return metadata === undefined ? usage : metadataUsage(metadata, usage)
}

// --- plans -------------------------------------------------------------------------------------------------------

/** The options of `EffectAi.layer` and `embeddingLayer` that go into each call's plan. */
export interface CallOptions {
  readonly model: string
  readonly provider?: string | undefined
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

const callOptionKeys = ["model", "serverAddress", "serverPort", "attributes"] as const

// Past this many models (per-request overrides) a layer stops remembering plans: a plan is then made per call,
// so that an app that names a model per customer cannot grow a layer without bound.
const maxPlans = 64

/**
 * Everything about one layer's calls that is known before they run, per request model: span names, start
 * attributes, metric labels and the readers of the response, each worked out once per model.
 *
 * @internal
 */
export class Plans {
  readonly defaultModel: string
  private readonly calls = new Map<string, llmCall.LlmCallPlan>()
  private readonly streams = new Map<string, llmStream.LlmStreamPlan>()
  private readonly base: { readonly [K in (typeof callOptionKeys)[number]]?: unknown }
  private readonly readPart: (part: Response.AnyPart) => ExtractedUsage | undefined
  private readonly warnings: Array<string>

  constructor(
    options: CallOptions,
    readonly semantics: ProviderSemantics,
    readonly operation: string,
    private readonly config: { readonly key: string; readonly model: string } | undefined,
    /**
     * How a successful call's value is read: a chat call's `GenerateTextResponse` by a reader of this module's
     * (`trusted`: what it returns is clean already, so the library's cleaning of an app's function is skipped), an
     * embeddings response by the library's own extractor.
     */
    private readonly readResponse: { readonly trusted: (value: unknown) => ExtractedUsage } | UsageFrom | undefined,
    warnings: ReadonlyArray<string>
  ) {
    this.warnings = [...warnings]
    this.base = readOptions(options, callOptionKeys, (line) => this.warnings.push(line))
    this.defaultModel = typeof this.base.model === "string" ? this.base.model : ""
    this.readPart = partUsage(semantics)
  }

  /** The request model of a call made in `context`: a per-request override (`withConfigOverride`) wins. */
  modelIn(context: Context.Context<never>): string {
    const config = this.config
    if (config === undefined) return this.defaultModel
    const override = (context.unsafeMap.get(config.key) as Record<string, unknown> | undefined)?.[config.model]
    return typeof override === "string" && override.length > 0 ? override : this.defaultModel
  }

  private options(model: string) {
    return { ...this.base, provider: this.semantics.name, model, operation: this.operation }
  }

  private withWarnings<P extends { readonly warnings: ReadonlyArray<string> }>(plan: P): P {
    return this.warnings.length === 0 ? plan : { ...plan, warnings: [...plan.warnings, ...this.warnings] }
  }

  call(model: string): llmCall.LlmCallPlan {
    let plan = this.calls.get(model)
    if (plan === undefined) {
      const read = this.readResponse
      const options = read === undefined || typeof read === "object"
        ? this.options(model)
        : { ...this.options(model), usageFrom: read }
      plan = this.withWarnings(llmCall.plan(options as Parameters<typeof llmCall.plan>[0]))
      if (typeof read === "object") plan = { ...plan, usage: guarded(read.trusted) }
      // The layer feeds the call's content itself, from @effect/ai's prompt and response parts.
      plan = { ...plan, readsContent: false }
      if (this.calls.size < maxPlans) this.calls.set(model, plan)
    }
    return plan
  }

  stream(model: string): llmStream.LlmStreamPlan {
    let plan = this.streams.get(model)
    if (plan === undefined) {
      const options = { ...this.options(model), usageFrom: this.readPart }
      const made = llmStream.plan(options as Parameters<typeof llmStream.plan>[0])
      plan = { ...made, call: { ...this.withWarnings(made.call), readsContent: false } }
      if (this.streams.size < maxPlans) this.streams.set(model, plan)
    }
    return plan
  }
}

/** A reader that never throws: a call's end must run to its end whatever a response holds. */
const guarded = (read: (value: unknown) => ExtractedUsage) => (value: unknown): ExtractedUsage => {
  try {
    return read(value)
  } catch {
    return { warnings: ["usage (@effect/ai): the response could not be read; nothing recorded from it"] }
  }
}

// --- failures ----------------------------------------------------------------------------------------------------

// The providers' request id headers: OpenAI's and OpenRouter's, Anthropic's, AWS's.
const requestIdHeaders = ["x-request-id", "request-id", "x-amzn-requestid", "x-amz-request-id"] as const

/** What an @effect/ai failure tells beyond its tag: an HTTP response's status and the provider's request id. */
const noteFailure = (call: llmCall.LlmCall, error: unknown): void => {
  call.guard("AiError", () => {
    if (typeof error !== "object" || error === null) return
    if ((error as { readonly _tag?: unknown })._tag !== "HttpResponseError") return
    const response = (error as { readonly response?: unknown }).response
    const status = field(response, "status")
    if (isNumber(status) && Number.isInteger(status)) call.set(HttpResponseStatusCode, status)
    const headers = field(response, "headers")
    for (const name of requestIdHeaders) {
      const id = optionalString(`response.headers.${name}`, field(headers, name), call.warn)
      if (id !== undefined) {
        call.set(ProviderRequestId, id)
        break
      }
    }
  })
}

const currentCall = (context: Context.Context<never>): llmCall.LlmCall | undefined => {
  const call = serviceOption(context, LlmTracker)
  return call instanceof llmCall.LlmCall ? call : undefined
}

/** Runs inside the call, on failure only: `afterAnswer` is what the model answered before the call failed. */
const recordFailure = (afterAnswer?: () => ExtractedUsage | undefined) => (cause: Cause.Cause<unknown>) =>
  Effect.contextWith((context: Context.Context<never>) => {
    const call = currentCall(context)
    if (call === undefined) return
    noteFailure(call, causeError(cause))
    const usage = afterAnswer?.()
    if (usage !== undefined) call.recordUsage(usage)
  })

const recordHttpFailure = recordFailure()

/** One tracked LLM call around an @effect/ai effect: its span is the parent of @effect/ai's own. */
const trackCall = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  plan: llmCall.LlmCallPlan,
  onFailure: (cause: Cause.Cause<E>) => Effect.Effect<void> = recordHttpFailure
): Effect.Effect<A, E, Exclude<R, LlmTracker>> => llmCall.track(Effect.tapErrorCause(self, onFailure), plan)

const trackStream = <A, E, R>(
  self: Stream.Stream<A, E, R>,
  plan: llmStream.LlmStreamPlan
): Stream.Stream<A, E, Exclude<R, LlmTracker>> => llmStream.track(Stream.tapErrorCause(self, recordHttpFailure), plan)

// --- content -----------------------------------------------------------------------------------------------------

type Content = NonNullable<llmCall.LlmCall["content"]>

/**
 * Whether calls made in `context` may capture their content: the one reference each call reads anyway, read here
 * first so that with capture off the layer adds nothing to a call.
 */
const mayCapture = (context: Context.Context<never>): boolean => Context.get(context, CurrentContentPolicy).enabled

/** The capture of the call this runs in: `undefined` when capture is off for it (or it runs in none). */
const contentIn = (context: Context.Context<never>): Content | undefined => currentCall(context)?.content

/** The prompt of a call's options, as its system instructions and input messages. */
const recordPrompt = (content: Content, options: unknown): void => {
  const prompt = effectAiContent.fromOptions(options)
  if (prompt === undefined) return
  if (prompt.system !== undefined) content.system(prompt.system, false)
  content.input(prompt.input, false)
}

const recordResponse = (content: Content, parts: unknown): void => {
  const output = effectAiContent.fromResponse(parts)
  if (output !== undefined) content.output(output, false)
}

/**
 * Runs inside the call: when its content is captured, the prompt is read as the call starts (so an app's array
 * changed later does not change it), and the response's parts when it answers; `afterAnswer` is what the model
 * answered when the call failed after it (an object that could not be decoded).
 */
const withContent = <A extends { readonly content: unknown }, E, R>(
  self: Effect.Effect<A, E, R>,
  options: unknown,
  afterAnswer?: () => unknown
): Effect.Effect<A, E, R> =>
  Effect.contextWithEffect((context: Context.Context<never>) => {
    const content = contentIn(context)
    if (content === undefined) return self
    recordPrompt(content, options)
    return Effect.onExit(self, (exit) =>
      Effect.sync(() => {
        const parts = Exit.isSuccess(exit) ? exit.value.content : afterAnswer?.()
        if (parts !== undefined) recordResponse(content, parts)
      }))
  })

/**
 * A stream's content: the prompt as the stream starts, the parts accumulated as they pass, recorded when the
 * stream ends, before the call does: read to its end, failed, or abandoned (partial, `interrupted`).
 */
const withStreamContent = <A, E, R>(self: Stream.Stream<A, E, R>, options: unknown): Stream.Stream<A, E, R> =>
  Stream.unwrap(Effect.contextWith((context: Context.Context<never>) => {
    const content = contentIn(context)
    if (content === undefined) return self
    recordPrompt(content, options)
    const output = new effectAiContent.StreamOutput()
    let ended = false
    return self.pipe(
      Stream.mapChunks((parts) => {
        for (const part of parts) output.observe(part)
        return parts
      }),
      Stream.onEnd(Effect.sync(() => {
        ended = true
      })),
      Stream.ensuringWith((exit) =>
        Effect.sync(() => {
          const end = ended ? "complete" : Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)
            ? "error"
            : "interrupted"
          const messages = output.result(end)
          if (messages !== undefined) content.output(messages, false)
        })
      )
    )
  }))

// --- tools -------------------------------------------------------------------------------------------------------

/** How tool calls the model asks for are run: by the layer, one tracked tool call each, or by @effect/ai. */
export type ToolsMode = "tracked" | "native"

type AnyToolkit = Toolkit.WithHandler<Record<string, Tool.Any>>
type ToolCallPart = Response.ToolCallPart<string, unknown>
type ToolResultPart = Response.ToolResultPart<string, unknown, unknown>

/**
 * Runs the tool calls of responses as @effect/ai would (its `Toolkit.handle`, its result parts), each inside a
 * tracked tool call that knows the call's id. The tool's part of a plan (name, type, description, metric labels) is
 * worked out once per tool.
 */
class ToolRunner {
  private readonly plans = new WeakMap<Tool.Any, toolCall.ToolCallPlan>()

  private plan(name: string, tool: Tool.Any | undefined, id: unknown): toolCall.ToolCallPlan {
    let base = tool === undefined ? undefined : this.plans.get(tool)
    if (base === undefined) {
      base = toolCall.plan({ toolName: name, type: "function", description: tool?.description })
      if (tool !== undefined) this.plans.set(tool, base)
    }
    const warnings: Array<string> = []
    const toolCallId = optionalString("toolCallId", id, (line) => warnings.push(line))
    if (toolCallId === undefined && warnings.length === 0) return base
    return {
      ...base,
      startAttributes: toolCallId === undefined
        ? base.startAttributes
        : [...base.startAttributes, [GenAiToolCallId, toolCallId] as const],
      warnings: warnings.length === 0 ? base.warnings : [...base.warnings, ...warnings]
    }
  }

  /**
   * `handle` decodes the parameters itself, so they are handed over encoded, as @effect/ai hands over the
   * provider's: the decoded part's are encoded back with the tool's schema.
   */
  private run(toolkit: AnyToolkit, part: ToolCallPart): Effect.Effect<ToolResultPart, unknown, unknown> {
    const tool = toolkit.tools[part.name] as Tool.Any | undefined
    const params = tool === undefined
      ? Effect.succeed(part.params)
      : Effect.orElseSucceed(
        Schema.encodeUnknown(tool.parametersSchema as Schema.Schema<unknown, unknown>)(part.params),
        () => part.params
      )
    return Effect.flatMap(ToolTracker, (tracker) => {
      // The arguments as the model sent them, the result as the model is sent it.
      const content = tracker instanceof toolCall.ToolCall ? tracker.content : undefined
      return params.pipe(
        Effect.flatMap((encoded) => {
          content?.arguments(encoded, false)
          return toolkit.handle(part.name, encoded as never)
        }),
        Effect.flatMap((result) => {
          content?.result(result.encodedResult, false)
          return Effect.as(
            tracker.setResult({ success: !result.isFailure }),
            Response.makePart("tool-result", {
              id: part.id,
              name: part.name,
              result: result.result,
              encodedResult: result.encodedResult,
              isFailure: result.isFailure,
              providerExecuted: false,
              ...(part.providerName !== undefined ? { providerName: part.providerName } : {})
            }) as ToolResultPart
          )
        })
      )
    }).pipe(
      (effect) => toolCall.track(effect, this.plan(part.name, tool, part.id))
    )
  }

  /** The tool calls among `content` that the app must run, in order: their result parts, in order. */
  runAll(
    content: Iterable<Response.AnyPart>,
    toolkit: AnyToolkit,
    concurrency: Concurrency | undefined
  ): Effect.Effect<ReadonlyArray<ToolResultPart>, unknown, unknown> {
    const calls: Array<ToolCallPart> = []
    for (const part of content) if (isToolCallToRun(part)) calls.push(part)
    return calls.length === 0
      ? Effect.succeed(noResults)
      : Effect.forEach(calls, (part) => this.run(toolkit, part), { concurrency })
  }

  /**
   * Tool results into a stream of parts: after the chunk holding their call parts, and before the `finish` part.
   * The tools run downstream of the tracked stream, outside the chat span: their spans are its siblings.
   */
  intoStream(
    parts: Stream.Stream<Response.AnyPart, unknown, unknown>,
    toolkit: AnyToolkit,
    concurrency: Concurrency | undefined
  ): Stream.Stream<Response.AnyPart, unknown, unknown> {
    return Stream.flatMap(Stream.chunks(parts), (chunk) => {
      if (!Chunk.some(chunk, isToolCallToRun)) return Stream.fromChunk(chunk)
      const finish = Chunk.findFirstIndex(chunk, (part) => part.type === "finish")
      const [before, after] = Option.isSome(finish) ? Chunk.splitAt(chunk, finish.value) : [chunk, Chunk.empty()]
      return Stream.fromChunk(before).pipe(
        Stream.concat(Stream.fromIterableEffect(this.runAll(before, toolkit, concurrency))),
        Stream.concat(Stream.fromChunk(after))
      )
    })
  }
}

const isToolCallToRun = (part: Response.AnyPart): part is ToolCallPart =>
  part.type === "tool-call" && part.providerExecuted !== true

const noResults: ReadonlyArray<ToolResultPart> = []

interface ToolOptions {
  readonly toolkit?: unknown
  readonly disableToolCallResolution?: boolean | undefined
  readonly concurrency?: Concurrency | undefined
}

const resolveToolkit = (toolkit: unknown): Effect.Effect<AnyToolkit, unknown, unknown> =>
  Effect.isEffect(toolkit) ? toolkit as Effect.Effect<AnyToolkit> : Effect.succeed(toolkit as AnyToolkit)

// --- LanguageModel -----------------------------------------------------------------------------------------------

type AnyEffect = Effect.Effect<any, any, any>
type AnyStream = Stream.Stream<any, any, any>

/**
 * The app's LanguageModel with every call tracked. `transformer` is the span transformer in force where the layer
 * was built, which @effect/ai falls back to as well.
 *
 * @internal
 */
export const decorate = (
  inner: LanguageModel.Service,
  plans: Plans,
  tools: ToolsMode,
  transformer: Option.Option<Telemetry.SpanTransformer>
): LanguageModel.Service => {
  const runner = new ToolRunner()
  const readContent = contentUsage(plans.semantics)
  const resolvesTools = (options: ToolOptions): boolean =>
    tools === "tracked" && options.toolkit !== undefined && options.disableToolCallResolution !== true

  const generateText = (options: ToolOptions): AnyEffect =>
    Effect.contextWithEffect((context: Context.Context<never>) => {
      const plan = plans.call(plans.modelIn(context))
      const capture = mayCapture(context)
      const ask = (given: ToolOptions) => {
        const effect = inner.generateText(given as never)
        return trackCall(capture ? withContent(effect, given) : effect, plan)
      }
      if (!resolvesTools(options)) return ask(options)
      return Effect.flatMap(resolveToolkit(options.toolkit), (toolkit) =>
        Effect.flatMap(
          ask({ ...options, toolkit, disableToolCallResolution: true }),
          (response) =>
            Effect.map(runner.runAll(response.content, toolkit, options.concurrency), (results) =>
              results.length === 0
                ? response
                : new LanguageModel.GenerateTextResponse(
                  [...response.content, ...results] as Array<Response.Part<any>>
                ))
        ))
    })

  const generateObject = (options: ToolOptions): AnyEffect =>
    Effect.contextWithEffect((context: Context.Context<never>) => {
      const plan = plans.call(plans.modelIn(context))
      // @effect/ai hands the response to its span transformer before it decodes the object: the one place where an
      // answer whose text is not the object can be seen, for its usage and its tool calls.
      let answer: ReadonlyArray<Response.AnyPart> | undefined
      const outer = Option.orElse(
        Option.fromNullable(serviceOption(context, Telemetry.CurrentSpanTransformer)),
        () => transformer
      )
      const capture: Telemetry.SpanTransformer = (options) => {
        answer = options.response
        if (Option.isSome(outer)) outer.value(options)
      }
      const onFailure = recordFailure(() => answer === undefined ? undefined : readContent(answer))
      const captureContent = mayCapture(context)
      const call = (given: ToolOptions) => {
        const effect = Effect.provideService(
          inner.generateObject(given as never),
          Telemetry.CurrentSpanTransformer,
          capture
        )
        return trackCall(captureContent ? withContent(effect, given, () => answer) : effect, plan, onFailure)
      }
      if (!resolvesTools(options)) return call(options)
      return Effect.flatMap(
        resolveToolkit(options.toolkit),
        (toolkit) =>
          Effect.matchCauseEffect(call({ ...options, toolkit, disableToolCallResolution: true }), {
            onSuccess: (response) =>
              Effect.map(runner.runAll(response.content, toolkit, options.concurrency), (results) =>
                results.length === 0
                  ? response
                  : new LanguageModel.GenerateObjectResponse(
                    response.value,
                    [...response.content, ...results] as Array<Response.Part<any>>
                  )),
            // The object could not be read from the answer: @effect/ai has run the tools by the time it finds out.
            onFailure: (cause) =>
              answer === undefined || Option.isNone(Cause.failureOption(cause))
                ? Effect.failCause(cause)
                : Effect.zipRight(runner.runAll(answer, toolkit, options.concurrency), Effect.failCause(cause))
          })
      )
    })

  const streamText = (options: ToolOptions): AnyStream =>
    Stream.unwrap(Effect.contextWithEffect((context: Context.Context<never>) => {
      const plan = plans.stream(plans.modelIn(context))
      const capture = mayCapture(context)
      const ask = (given: ToolOptions) => {
        const stream = inner.streamText(given as never)
        return trackStream(capture ? withStreamContent(stream, given) : stream, plan)
      }
      if (!resolvesTools(options)) return Effect.succeed(ask(options))
      return Effect.map(resolveToolkit(options.toolkit), (toolkit) =>
        runner.intoStream(
          ask({ ...options, toolkit, disableToolCallResolution: true }),
          toolkit,
          options.concurrency
        ))
    }))

  return { generateText, generateObject, streamText } as unknown as LanguageModel.Service
}

const toolsModes: ReadonlySet<string> = new Set<ToolsMode>(["tracked", "native"])

/** @internal */
export interface LayerOptions extends CallOptions {
  readonly tools?: ToolsMode | undefined
}

/** The `provider` option, read guarded; `undefined` when absent or blank (the Model's name is used then). */
const providerOption = (options: unknown, warnings: Array<string>): string | undefined => {
  const { provider } = readOptions(options, ["provider"] as const, (line) => warnings.push(line))
  if (provider === undefined) return undefined
  if (typeof provider === "string" && provider.trim().length > 0) return provider
  warnings.push(`provider: ${describe(provider)} is not a provider name; the Model's is used`)
  return undefined
}

/**
 * The decorated service, from the LanguageModel in context; the provider from the options, else the Model's
 * (`Model.ProviderName`, which a provider's Model provides beside its LanguageModel).
 *
 * @internal
 */
export const make = (
  options: LayerOptions,
  effectAiProvider?: string
): Effect.Effect<LanguageModel.Service, never, LanguageModel.LanguageModel> =>
  Effect.gen(function*() {
    const inner = yield* LanguageModel.LanguageModel
    const modelProvider = effectAiProvider ?? Option.getOrUndefined(yield* Effect.serviceOption(AiModel.ProviderName))
    const transformer = yield* Effect.serviceOption(Telemetry.CurrentSpanTransformer)
    const warnings: Array<string> = []
    const provider = providerOption(options, warnings)
    const { tools: given } = readOptions(options, ["tools"] as const, (line) => warnings.push(line))
    let tools: ToolsMode = "tracked"
    if (given !== undefined) {
      if (typeof given === "string" && toolsModes.has(given)) tools = given as ToolsMode
      else warnings.push(`tools: ${describe(given)} is not "tracked" or "native"; tools are tracked`)
    }
    const semantics = semanticsFor(provider, modelProvider)
    const readResponse = contentUsage(semantics)
    const plans = new Plans(
      options,
      semantics,
      ModelOperation.CHAT,
      semantics.config,
      { trusted: (response) => readResponse((response as LanguageModel.GenerateTextResponse<{}>).content) },
      warnings
    )
    return decorate(inner, plans, tools, transformer)
  })

// --- EmbeddingModel ----------------------------------------------------------------------------------------------

/**
 * The app's EmbeddingModel with every `embed` and `embedMany` tracked as an `embeddings` call. @effect/ai's
 * embedding results carry no usage: the calls record everything else, and their tokens when the provider's client
 * is decorated too (`decorateOpenAiClient`).
 *
 * @internal
 */
export const makeEmbedding = (
  options: CallOptions
): Effect.Effect<EmbeddingModel.Service, never, EmbeddingModel.EmbeddingModel> =>
  Effect.gen(function*() {
    const inner = yield* EmbeddingModel.EmbeddingModel
    const modelProvider = Option.getOrUndefined(yield* Effect.serviceOption(AiModel.ProviderName))
    const warnings: Array<string> = []
    const semantics = semanticsFor(providerOption(options, warnings), modelProvider)
    const config = modelProvider === undefined ? undefined : embeddingConfig.get(modelProvider)
    const plans = new Plans(options, semantics, ModelOperation.EMBEDDINGS, config, undefined, warnings)
    const track = <A>(effect: Effect.Effect<A, AiError.AiError>): Effect.Effect<A, AiError.AiError> =>
      Effect.contextWithEffect((context: Context.Context<never>) =>
        trackCall(effect, plans.call(plans.modelIn(context)))
      )
    return {
      embed: (input) => track(inner.embed(input)),
      embedMany: (inputs, options) => track(inner.embedMany(inputs, options))
    } satisfies EmbeddingModel.Service
  })

/**
 * The part of `OpenAiClient`'s service that `decorateOpenAiClient` decorates.
 *
 * @internal
 */
export interface OpenAiEmbeddingClient {
  readonly createEmbedding: (request: any) => Effect.Effect<any, any>
}

/** @internal */
export interface ClientOptions {
  readonly provider?: string | undefined
  readonly serverAddress?: string | undefined
  readonly serverPort?: number | undefined
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

// A module constant, not state: the library's reader of OpenAI embedding responses, resolved once.
const readEmbeddingResponse = resolveUsageFrom("openai.embeddings", () => {})!

/**
 * `createEmbedding` with its usage recorded: added to the tracked `embeddings` call the request is made in (one
 * request for a lone `embed`, one or more for an `embedMany`), else, for a request serving several `embed` calls
 * batched together (made outside each of their spans), recorded as a tracked call of its own, so that the tokens
 * are counted once and exactly.
 *
 * @internal
 */
export const decorateOpenAiClient = <S extends OpenAiEmbeddingClient>(client: S, options: ClientOptions = {}): S => {
  const warnings: Array<string> = []
  const semantics = semanticsFor(providerOption(options, warnings), "openai")
  const plans = new Plans(
    { ...options, model: "unknown" },
    semantics,
    ModelOperation.EMBEDDINGS,
    undefined,
    "openai.embeddings",
    warnings
  )
  const createEmbedding = (request: unknown): AnyEffect =>
    Effect.contextWithEffect((context: Context.Context<never>) => {
      const call = currentCall(context)
      if (call !== undefined && call.plan.operation === ModelOperation.EMBEDDINGS) {
        return Effect.tap(client.createEmbedding(request), (response) =>
          Effect.sync(() => {
            const usage = readEmbeddingResponse(response)
            const input = usage.inputTokens
            // Requests of one call (an `embedMany` split into batches) add up.
            call.recordUsage(isNumber(input) ? { ...usage, inputTokens: (call.tokens.input ?? 0) + input } : usage)
          }))
      }
      const model = field(request, "model")
      return trackCall(
        client.createEmbedding(request),
        plans.call(typeof model === "string" && model.length > 0 ? model : plans.defaultModel)
      )
    })
  return { ...client, createEmbedding }
}

// --- @effect/ai's own spans ---------------------------------------------------------------------------------------

/**
 * A span processor that removes, before `inner` sees a span, what @effect/ai's own spans record beside the tracked
 * spans: tool arguments on `Toolkit.handle` (`parameters`), and, on its `LanguageModel.*` spans, the usage counts
 * (`gen_ai.usage.*`, as each provider reports them) that the tracked chat span around it carries already.
 *
 * @internal
 */
export class DropFromEffectAiSpans implements SpanProcessor {
  constructor(
    private readonly inner: SpanProcessor,
    private readonly parameters: boolean,
    private readonly usage: boolean
  ) {}

  onStart(span: SdkSpan, parentContext: OtelApi.Context): void {
    this.inner.onStart(span, parentContext)
  }

  onEnd(span: ReadableSpan): void {
    try {
      const attributes = span.attributes as OtelApi.Attributes
      if (this.parameters && span.name === "Toolkit.handle") {
        delete attributes.parameters
      } else if (this.usage && span.name.startsWith("LanguageModel.")) {
        for (const key of Object.keys(attributes)) if (key.startsWith("gen_ai.usage.")) delete attributes[key]
      }
    } catch {
      // A span of another SDK whose attributes cannot be changed is passed on as it is.
    }
    this.inner.onEnd(span)
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }
}
