import type * as OtelApi from "@opentelemetry/api"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type * as Tracer from "effect/Tracer"
import {
  BotanuPrefix,
  CallWrappedCalls,
  ErrorTypeInterrupted,
  GenAiOperationName,
  GenAiProviderName,
  GenAiRequestFrequencyPenalty,
  GenAiRequestMaxTokens,
  GenAiRequestModel,
  GenAiRequestPresencePenalty,
  GenAiRequestSeed,
  GenAiRequestStopSequences,
  GenAiRequestStream,
  GenAiRequestTemperature,
  GenAiRequestTopK,
  GenAiRequestTopP,
  GenAiResponseFinishReasons,
  GenAiResponseId,
  GenAiResponseModel,
  ProviderClientRequestId,
  ProviderRequestId,
  RequestAttempt,
  RequestCacheHit,
  RequestFallbackIndex,
  RequestStreaming,
  ServerAddress,
  ServerPort,
  Vendor
} from "../Attributes.js"
import { CostLedger } from "../CostLedger.js"
import type { LlmCallOptions } from "../LlmCall.js"
import type { LlmStreamOptions } from "../LlmStream.js"
import { LlmTracker, type RequestIds, type TokenUsage } from "../LlmTracker.js"
import * as Metrics from "../Metrics.js"
import { ModelOperation } from "../ModelOperation.js"
import { type Cost, Pricing } from "../Pricing.js"
import { inputExcludesCache } from "../Provider.js"
import { ToolTracker } from "../ToolTracker.js"
import type { ExtractedUsage, UsageFrom } from "../Usage.js"
import { type AgentState, currentAgent } from "./agent.js"
import * as Attempts from "./attempts.js"
import { recordCost, unknownModelWarning } from "./callCost.js"
import { type CallListener, CallListeners, type FinishedCall } from "./callListeners.js"
import { CurrentContentPolicy, forLlmCall, type LlmContent, type Policy as ContentPolicy } from "./content.js"
import * as ContentFrom from "./contentFrom.js"
import { causeError, errorMessage } from "./errors.js"
import * as MetricLabels from "./metricLabels.js"
import { isUnpriced, toUsd } from "./pricing.js"
import { resolve as resolveProvider } from "./provider.js"
import { currentRunState, type RunState } from "./runState.js"
import {
  boolean,
  count,
  describe,
  finite,
  forEachAttribute,
  integer,
  optionalString,
  readOptions,
  requiredName,
  strings
} from "./sanitize.js"
import * as Semconv from "./semconv.js"
import * as Server from "./server.js"
import { serviceOption } from "./services.js"
import { SpanRecorder } from "./spanRecorder.js"
import { emptyTokens, type RecordedTokens, writeTokens } from "./tokens.js"
import { ToolCall } from "./toolCall.js"
import * as trackedSpan from "./trackedSpan.js"
import { resolveUsageFrom } from "./usageFrom.js"

/**
 * Everything about a call that is known before it runs, worked out once when the tracked effect is built rather
 * than on every run.
 *
 * @internal
 */
export interface LlmCallPlan {
  readonly spanName: string
  readonly provider: string
  readonly model: string
  readonly operation: string
  readonly inputExcludesCache: boolean
  readonly series: MetricLabels.LlmSeries
  readonly startAttributes: ReadonlyArray<readonly [string, OtelApi.AttributeValue]>
  /** The `attributes` option, written as the caller's (see `SpanRecorder.setUser`). */
  readonly userAttributes: ReadonlyArray<readonly [string, OtelApi.AttributeValue]>
  readonly warnings: ReadonlyArray<string>
  /** Reads usage from the success value (`usageFrom`); absent when the option is, so that nothing else runs. */
  readonly usage: ((value: unknown) => ExtractedUsage) | undefined
  /**
   * Whether captured content is read from the call's request, response or chunks by the library's provider readers:
   * not for embeddings (whose input is not a conversation), nor for callers that feed the content themselves (the
   * @effect/ai layer, whose values those readers do not know).
   */
  readonly readsContent: boolean
}

const spanKind: Tracer.SpanKind = "client"
const nanosPerMilli = BigInt(1_000_000)
const zero = BigInt(0)

const optionKeys = [
  "provider",
  "model",
  "operation",
  "clientRequestId",
  "serverAddress",
  "serverPort",
  "client",
  "attributes",
  "usageFrom"
] as const satisfies ReadonlyArray<keyof LlmCallOptions>

/**
 * The plan of a call from its options. `readsResponse` is off for a stream, whose `usageFrom` reads its chunks
 * (see `llmStream.plan`), not a response.
 *
 * @internal
 */
export const plan = (given: LlmCallOptions | LlmStreamOptions, readsResponse: boolean = true): LlmCallPlan => {
  const warnings: Array<string> = []
  const warn = (line: string) => warnings.push(line)
  const options = readOptions(given, optionKeys, warn)
  const names = resolveProvider(requiredName("provider", options.provider, "unknown", warn), warn)
  // Pricing, the ledger and `botanu.vendor` key on the normalized name; spans and metrics carry the conventions'.
  const provider = names.vendor
  const model = requiredName("model", options.model, "unknown", warn)
  const operation = options.operation === undefined
    ? ModelOperation.CHAT
    : requiredName("operation", options.operation, ModelOperation.CHAT, warn)
  const startAttributes: Array<readonly [string, OtelApi.AttributeValue]> = [
    [GenAiOperationName, operation],
    [GenAiProviderName, names.semconv],
    [GenAiRequestModel, model],
    [Vendor, provider]
  ]
  const clientRequestId = optionalString("clientRequestId", options.clientRequestId, warn)
  if (clientRequestId !== undefined) startAttributes.push([ProviderClientRequestId, clientRequestId])
  let serverAttributes: { address: unknown; port: unknown } | undefined
  const userAttributes: Array<readonly [string, OtelApi.AttributeValue]> = []
  forEachAttribute("attributes", options.attributes, BotanuPrefix, warn, (key, value) => {
    // The server is one fact whatever way it is given: resolved below with the options and the client.
    if (key === ServerAddress || key === ServerPort) {
      serverAttributes ??= { address: undefined, port: undefined }
      if (key === ServerAddress) serverAttributes.address = value
      else serverAttributes.port = value
    } else {
      userAttributes.push([key, value])
    }
  })
  const server = Server.resolve(options, serverAttributes ?? Server.noServer, warn)
  if (server.address !== undefined) startAttributes.push([ServerAddress, server.address])
  if (server.port !== undefined) startAttributes.push([ServerPort, server.port])
  return {
    spanName: `${operation} ${model}`,
    provider,
    model,
    operation,
    inputExcludesCache: inputExcludesCache.has(provider),
    series: MetricLabels.llm(operation, names.semconv, model, server),
    startAttributes,
    userAttributes,
    warnings,
    usage: !readsResponse || options.usageFrom === undefined
      ? undefined
      : resolveUsageFrom(options.usageFrom as UsageFrom, warn),
    readsContent: operation !== ModelOperation.EMBEDDINGS
  }
}

/** What a tracked LLM call reads from the context it starts in (see `environmentOf`). */
interface Environment {
  readonly enclosing: LlmTracker.Service | undefined
  readonly tool: ToolTracker.Service | undefined
  readonly attemptScope: Attempts.AttemptScope | undefined
  readonly iteration: Schedule.IterationMetadata
  readonly run: RunState | undefined
  readonly agent: AgentState | undefined
  readonly pricing: Pricing.Service
  readonly ledger: CostLedger.Service | undefined
  readonly costByCustomer: Metrics.CostByCustomerPolicy
  readonly usageCost: boolean
  readonly listeners: ReadonlyArray<CallListener>
  readonly contentPolicy: ContentPolicy
}

const environments = new WeakMap<Context.Context<never>, Environment>()
let lastEnvironment: { readonly context: Context.Context<never>; readonly environment: Environment } | undefined

/**
 * What a call reads from `context`, read once per context: a context never changes, and the calls of one fiber (a
 * loop, the steps of a run, a retry) start in the same one, so a dozen lookups a call become one comparison. Kept
 * weakly, so that a context's entry goes with it.
 */
const environmentOf = (context: Context.Context<never>): Environment => {
  if (lastEnvironment?.context === context) return lastEnvironment.environment
  let environment = environments.get(context)
  if (environment === undefined) {
    environment = {
      enclosing: serviceOption(context, LlmTracker),
      tool: serviceOption(context, ToolTracker),
      attemptScope: Context.get(context, Attempts.CurrentAttemptScope),
      iteration: Context.get(context, Schedule.CurrentIterationMetadata),
      run: currentRunState(context),
      agent: currentAgent(context),
      pricing: Context.get(context, Pricing),
      ledger: serviceOption(context, CostLedger),
      costByCustomer: Context.get(context, Metrics.CostByCustomer),
      usageCost: Context.get(context, Semconv.UsageCostAttribute),
      listeners: Context.get(context, CallListeners),
      contentPolicy: Context.get(context, CurrentContentPolicy)
    }
    environments.set(context, environment)
  }
  lastEnvironment = { context, environment }
  return environment
}

/**
 * The state of one tracked LLM call and the `LlmTracker` that its effect sees.
 *
 * @internal
 */
export class LlmCall extends SpanRecorder implements LlmTracker.Service {
  readonly tokens: RecordedTokens = emptyTokens()
  responseModel: string | undefined = undefined
  attempt: number
  errorType: string | undefined = undefined
  /**
   * The tracked LLM calls that started directly inside this one. Above 0, this call is a wrapper: the calls inside
   * are the model invocations, and this one records its span only (see `endWrapper`).
   */
  wrappedCalls = 0
  /**
   * What the call said (its messages and instructions), when content capture is on and this call is sampled; else
   * `undefined`, and content costs the call nothing more. Fed only through its methods (by hand, by readers).
   */
  readonly content: LlmContent | undefined
  // What the effect set by hand through the tracker, which wins over what `usageFrom` reads from the response.
  private handTokens = false
  private handResponseId = false
  private handFinishReasons = false
  private readonly attemptScope: Attempts.AttemptScope | undefined
  private readonly run: RunState | undefined
  /** The innermost tracked agent this call runs in, whose totals it joins (see `AgentState`). */
  private readonly agent: AgentState | undefined
  private readonly pricing: Pricing.Service
  private readonly ledger: CostLedger.Service | undefined
  private readonly costByCustomer: Metrics.CostByCustomerPolicy
  /** Whether the span also carries the total cost as `gen_ai.usage.cost` (`usageCostAttribute` of the layers). */
  private readonly usageCost: boolean
  private readonly listeners: ReadonlyArray<CallListener>

  constructor(
    span: Tracer.Span,
    readonly plan: LlmCallPlan,
    readonly clock: Clock.Clock,
    context: Context.Context<never>,
    services: Context.Context<never>,
    request?: unknown
  ) {
    super(span)
    const environment = environmentOf(context)
    // Marked at start, synchronously, so that the enclosing call knows before it ends, whichever fiber runs this.
    if (environment.enclosing !== undefined) markEnclosing(environment.enclosing, environment.tool)
    for (const [key, value] of plan.startAttributes) this.set(key, value)
    for (const [key, value] of plan.userAttributes) this.setUser(key, value)
    for (const line of plan.warnings) this.addWarning(line)
    const scope = environment.attemptScope
    this.attemptScope = scope
    this.attempt = Attempts.resolve(environment.iteration, scope)
    Attempts.started(scope, this.attempt)
    this.set(RequestAttempt, this.attempt)
    if (scope?.fallbackIndex !== undefined) this.set(RequestFallbackIndex, scope.fallbackIndex)
    this.run = environment.run
    this.agent = environment.agent
    this.pricing = environment.pricing
    this.ledger = environment.ledger
    this.costByCustomer = environment.costByCustomer
    this.usageCost = environment.usageCost
    this.listeners = environment.listeners
    const content = forLlmCall(environment.contentPolicy, services, this)
    this.content = content
    // Read now, while the request is as it was sent: a caller may reuse its objects for the next call.
    if (content !== undefined && request !== undefined && plan.readsContent) this.readRequest(content, request)
  }

  private readRequest(content: LlmContent, request: unknown): void {
    this.guard("content", () => {
      const read = ContentFrom.fromRequest(request, this.plan.provider)
      if (read === undefined) return
      if (read.system !== undefined) content.system(read.system, false)
      if (read.input !== undefined) content.input(read.input, false)
    })
  }

  get setInputMessages(): LlmTracker.Service["setInputMessages"] {
    return this.feeding(this.content, "setInputMessages", (content, messages) => content.input(messages, true))
  }

  get setOutputMessages(): LlmTracker.Service["setOutputMessages"] {
    return this.feeding(this.content, "setOutputMessages", (content, messages) => content.output(messages, true))
  }

  get setSystemInstructions(): LlmTracker.Service["setSystemInstructions"] {
    return this.feeding(
      this.content,
      "setSystemInstructions",
      (content, instructions) => content.system(instructions, true)
    )
  }

  /**
   * Records the captured content, if any, before `end`: the output read from the response when the call reads its
   * response (`usageFrom`), unless set by hand. See `TrackedCall.prepare` for when this runs.
   */
  prepare(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined {
    const content = this.content
    if (content === undefined) return undefined
    if (this.plan.usage !== undefined && this.plan.readsContent && exit._tag === "Success") {
      this.guard("content", () => {
        const output = ContentFrom.fromResponse(exit.value)
        if (output !== undefined) content.output(output, false)
      })
    }
    return content.record()
  }

  get setTokens(): LlmTracker.Service["setTokens"] {
    return (usage) => this.guarded("setTokens", () => this.writeHandTokens(usage))
  }

  get setRequestId(): LlmTracker.Service["setRequestId"] {
    return (ids) => this.guarded("setRequestId", () => this.writeRequestIds("setRequestId", ids))
  }

  get setResponseModel(): LlmTracker.Service["setResponseModel"] {
    return (model) => this.guarded("setResponseModel", () => this.writeResponseModel(model))
  }

  /**
   * What `setTokens`, `setRequestId`, `setResponseModel` and `setFinishReason` do, in one step: each field given is
   * read and written on its own (a field that throws when read is a warning, the others are still recorded).
   */
  get record(): LlmTracker.Service["record"] {
    return (facts) =>
      this.guarded("record", () => {
        if (typeof facts !== "object" || facts === null) {
          return this.warn(`record: ${describe(facts)} is not a record; dropped`)
        }
        this.guard("record.tokens", () => {
          const tokens = facts.tokens
          if (tokens !== undefined) this.writeHandTokens(tokens)
        })
        this.guard("record.requestId", () => {
          const id = facts.requestId
          if (id === undefined) return
          this.writeRequestIds("record.requestId", typeof id === "string" ? { providerRequestId: id } : id)
        })
        this.guard("record.responseModel", () => {
          const model = facts.responseModel
          if (model !== undefined) this.writeResponseModel(model)
        })
        this.guard("record.finishReasons", () => {
          const reasons = facts.finishReasons
          if (reasons !== undefined) this.writeFinishReasons("finishReasons", reasons)
        })
      })
  }

  private writeHandTokens(usage: TokenUsage): void {
    this.handTokens = true
    writeTokens(this, usage, this.plan.inputExcludesCache, this.tokens, this.plan.provider)
  }

  private writeRequestIds(method: string, ids: RequestIds): void {
    if (typeof ids !== "object" || ids === null) {
      return this.warn(`${method}: ${describe(ids)} is not a record; dropped`)
    }
    const providerId = optionalString("providerRequestId", ids.providerRequestId, this.warn)
    if (providerId !== undefined) {
      this.handResponseId = true
      this.set(GenAiResponseId, providerId)
      this.set(ProviderRequestId, providerId)
    }
    const clientId = optionalString("clientRequestId", ids.clientRequestId, this.warn)
    if (clientId !== undefined) this.set(ProviderClientRequestId, clientId)
  }

  private writeResponseModel(model: string): void {
    const value = optionalString("responseModel", model, this.warn)
    if (value !== undefined) {
      this.responseModel = value
      this.set(GenAiResponseModel, value)
    }
  }

  private writeFinishReasons(name: string, reason: string | ReadonlyArray<string>): void {
    const reasons = strings(name, reason, this.warn)
    if (reasons !== undefined && reasons.length > 0) {
      this.handFinishReasons = true
      this.set(GenAiResponseFinishReasons, reasons)
    }
  }

  get setRequestParams(): LlmTracker.Service["setRequestParams"] {
    return (params) =>
      this.guarded("setRequestParams", () => {
        if (typeof params !== "object" || params === null) {
          return this.warn(`setRequestParams: ${describe(params)} is not a record; dropped`)
        }
        const warn = this.warn
        this.setNumber(GenAiRequestTemperature, finite("temperature", params.temperature, warn))
        this.setNumber(GenAiRequestTopP, finite("topP", params.topP, warn))
        this.setNumber(GenAiRequestTopK, count("topK", params.topK, warn))
        this.setNumber(GenAiRequestMaxTokens, count("maxTokens", params.maxTokens, warn))
        this.setNumber(GenAiRequestFrequencyPenalty, finite("frequencyPenalty", params.frequencyPenalty, warn))
        this.setNumber(GenAiRequestPresencePenalty, finite("presencePenalty", params.presencePenalty, warn))
        this.setNumber(GenAiRequestSeed, integer("seed", params.seed, warn))
        const stops = strings("stopSequences", params.stopSequences, warn)
        if (stops !== undefined) this.set(GenAiRequestStopSequences, stops)
      })
  }

  get setStreaming(): LlmTracker.Service["setStreaming"] {
    return (streaming = true) =>
      this.guarded("setStreaming", () => {
        const value = boolean("streaming", streaming, this.warn)
        if (value !== undefined) {
          this.set(RequestStreaming, value)
          this.set(GenAiRequestStream, value)
        }
      })
  }

  get setCacheHit(): LlmTracker.Service["setCacheHit"] {
    return (hit = true) =>
      this.guarded("setCacheHit", () => {
        const value = boolean("cacheHit", hit, this.warn)
        if (value !== undefined) this.set(RequestCacheHit, value)
      })
  }

  get setAttempt(): LlmTracker.Service["setAttempt"] {
    return (attempt) =>
      this.guarded("setAttempt", () => {
        const value = count("attempt", attempt, this.warn)
        if (value === undefined) return
        if (value < 1) return this.warn(`attempt: ${value} is below 1; dropped`)
        this.attempt = value
        Attempts.started(this.attemptScope, value)
        this.set(RequestAttempt, value)
      })
  }

  get setFinishReason(): LlmTracker.Service["setFinishReason"] {
    return (reason) => this.guarded("setFinishReason", () => this.writeFinishReasons("finishReason", reason))
  }

  get setError(): LlmTracker.Service["setError"] {
    return (error) => this.guarded("setError", () => this.reportError(error, this.clock.unsafeCurrentTimeNanos()))
  }

  get addMetadata(): LlmTracker.Service["addMetadata"] {
    return (metadata) =>
      this.guarded(
        "addMetadata",
        () => forEachAttribute("metadata", metadata, BotanuPrefix, this.warn, this.userSetter)
      )
  }

  private setNumber(key: string, value: number | undefined): void {
    if (value !== undefined) this.set(key, value)
  }

  // A method, not a closure made with every call: it is called on the call, never handed on.
  end(
    exit: Exit.Exit<unknown, unknown>,
    endNanos: bigint = this.clock.unsafeCurrentTimeNanos()
  ): Effect.Effect<void> | undefined {
    try {
      if (this.plan.usage !== undefined && exit._tag === "Success") this.recordUsage(this.plan.usage(exit.value))
      if (this.wrappedCalls > 0) return this.endWrapper(exit)
      this.errorType = this.finish(exit)
      if (exit._tag === "Failure" && this.errorType !== ErrorTypeInterrupted) {
        Attempts.failed(causeError(exit.cause), this.attempt)
      }
      const status = this.span.status
      const startNanos = status._tag === "Started" ? status.startTime : endNanos
      const provider = this.plan.provider
      const model = this.responseModel ?? this.plan.model
      const timestamp = Number(startNanos / nanosPerMilli)
      const cost = recordCost(this, this.pricing, provider, model, this.tokens, timestamp, this.usageCost)
      this.recordMetrics(startNanos, endNanos, cost)
      return this.rollUp(cost, model)
    } catch {
      // Tracking never changes the call's outcome.
      return undefined
    }
  }

  /**
   * A wrapper is not a model invocation: the calls inside it are, and each of them has been counted already. It
   * keeps its span and what was written there (tokens included), but adds nothing to the run, the ledger or the
   * metrics (no tokens, cost, duration or attempt), and is not priced, so that a backend that sums
   * `botanu.cost.*` over spans does not count the same money twice.
   */
  private endWrapper(exit: Exit.Exit<unknown, unknown>): undefined {
    this.set(CallWrappedCalls, this.wrappedCalls)
    if (this.tokens.input !== undefined || this.tokens.output !== undefined) {
      this.addWarning(
        `tokens: ${this.wrappedCalls} tracked LLM call(s) ran inside this one and are counted instead; its own ` +
          `tokens are kept on this span only (not in run totals, the ledger or metrics)`
      )
    }
    this.errorType = this.finish(exit)
    if (exit._tag === "Failure" && this.errorType !== ErrorTypeInterrupted) {
      // Usually the error of a call inside, already registered with that call's number, which must stay.
      Attempts.failedWrapping(causeError(exit.cause), this.attempt)
    }
    return undefined
  }

  /**
   * `usageFrom`: writes what the response says, field group by field group, where no hand call did. Also called by
   * a tracked stream with what its chunks said, before `end`.
   */
  recordUsage(usage: ExtractedUsage): void {
    // `guard`, written out: no closure on every call that reads its response.
    try {
      this.writeUsage(usage)
    } catch (e) {
      this.addWarning(`usageFrom: failed (${errorMessage(e)}); ignored`)
    }
  }

  private writeUsage(usage: ExtractedUsage): void {
    const warnings = usage.warnings
    if (Array.isArray(warnings)) {
      for (const line of warnings) if (typeof line === "string") this.addWarning(line)
    }
    // Web searches count on their own: a stream abandoned before its usage has them already, and they are billed.
    const counted = usage.inputTokens !== undefined || usage.outputTokens !== undefined ||
      usage.iterations !== undefined || usage.webSearches !== undefined
    if (!this.handTokens && counted) {
      // What was read is handed on as it is (the extractors made it clean): the token fields are the same.
      writeTokens(this, usage, this.plan.inputExcludesCache, this.tokens, this.plan.provider, false)
    }
    const id = optionalString("responseId", usage.responseId, this.warn)
    if (!this.handResponseId && id !== undefined) {
      this.set(GenAiResponseId, id)
      this.set(ProviderRequestId, id)
    }
    const model = optionalString("responseModel", usage.responseModel, this.warn)
    if (this.responseModel === undefined && model !== undefined) {
      this.responseModel = model
      this.set(GenAiResponseModel, model)
    }
    const reasons = strings("finishReasons", usage.finishReasons, this.warn)
    if (!this.handFinishReasons && reasons !== undefined && reasons.length > 0) {
      this.set(GenAiResponseFinishReasons, reasons)
    }
  }

  /**
   * Adds the call to its run, its innermost agent and the ledger; hands back the unknown-model warning, once per
   * model.
   */
  private rollUp(cost: Cost, model: string): Effect.Effect<void> | undefined {
    const input = this.tokens.input ?? 0
    const output = this.tokens.output ?? 0
    const unpriced = isUnpriced(cost.status) && input + output > 0
    const run = this.run
    run?.totals.addCall(cost.total, input, output, unpriced)
    this.agent?.totals.addCall(cost.total, input, output, unpriced)
    this.ledger?.record({
      customerId: run?.context.customerId,
      workflow: run?.context.workflow,
      provider: this.plan.provider,
      model,
      cost: cost.total,
      inputTokens: input,
      outputTokens: output,
      unpriced
    })
    const warning = unpriced && cost.status === "unknown_model"
      ? unknownModelWarning(this.plan.provider, model)
      : undefined
    return this.listeners.length === 0 ? warning : this.notify(cost, model, input, output, warning)
  }

  /** Hands the finished call to each consumer (see `CallListeners`); their follow-ups run after the warning. */
  private notify(
    cost: Cost,
    model: string,
    inputTokens: number,
    outputTokens: number,
    warning: Effect.Effect<void> | undefined
  ): Effect.Effect<void> | undefined {
    const call: FinishedCall = {
      provider: this.plan.provider,
      model,
      cost,
      inputTokens,
      outputTokens,
      run: this.run?.context,
      span: this.span,
      errorType: this.errorType
    }
    let followUp = warning
    for (const listener of this.listeners) {
      try {
        const next = listener(call)
        if (next !== undefined) followUp = followUp === undefined ? next : Effect.zipRight(followUp, next)
      } catch {
        // A consumer's bug never changes the call, nor what the other consumers see.
      }
    }
    return followUp
  }

  private recordMetrics(startNanos: bigint, endNanos: bigint, cost: Cost): void {
    const series = this.plan.series
    const labels = series.outcome(this.responseModel, this.errorType)
    const { input, output } = this.tokens
    if (input !== undefined && input > 0) Metrics.tokenUsage.unsafeUpdate(input, labels.input)
    if (output !== undefined && output > 0) Metrics.tokenUsage.unsafeUpdate(output, labels.output)
    const seconds = Number(endNanos - startNanos) / 1e9
    Metrics.operationDuration.unsafeUpdate(seconds, labels.duration)
    Metrics.attempts.unsafeUpdate(1, this.errorType === undefined ? series.attemptSuccess : series.attemptError)
    if (cost.total > zero) {
      const customer = this.run?.context.customerId
      const customerLabel = customer === undefined ? undefined : this.costByCustomer.labelFor(customer)
      const costLabels = customerLabel === undefined ? series.cost : series.costFor(customerLabel)
      Metrics.cost.unsafeUpdate(toUsd(cost.total), costLabels)
    }
  }
}

/**
 * A tracked LLM call starting where `enclosing` is the `LlmTracker` makes that call a wrapper, unless a tracked
 * tool call stands between the two: a tool that asks a model is an invocation of its own, made on behalf of the
 * LLM call that asked for the tool, which stays an invocation too. A tool call remembers the LLM call it started
 * in, so that boundary costs two map lookups. A call that starts after the enclosing one ended (in a fiber it forked
 * and did not wait for) is too late to change what that one recorded: both count.
 */
const markEnclosing = (enclosing: LlmTracker.Service, tool: ToolTracker.Service | undefined): void => {
  if (!(enclosing instanceof LlmCall)) return
  if (tool instanceof ToolCall && tool.insideLlmCall === enclosing) return
  enclosing.wrappedCalls++
}

/**
 * Runs `self` as a tracked LLM call. `request` is the request the call sends, when the caller holds it (an
 * instrumented SDK function's first argument): its content is read when the call starts, if capture is on.
 *
 * @internal
 */
export const track = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  plan: LlmCallPlan,
  request?: unknown
): Effect.Effect<A, E, Exclude<R, LlmTracker>> =>
  trackedSpan.track(
    self,
    plan.spanName,
    spanKind,
    LlmTracker,
    (span, clock, context, services) => new LlmCall(span, plan, clock, context, services, request)
  )
