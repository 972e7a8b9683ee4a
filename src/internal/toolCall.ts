import type * as OtelApi from "@opentelemetry/api"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Tracer from "effect/Tracer"
import {
  GenAiOperationName,
  GenAiProviderName,
  GenAiToolCallId,
  GenAiToolDescription,
  GenAiToolName,
  GenAiToolType,
  ToolBytesProcessed,
  ToolDurationMs,
  ToolItemsReturned,
  ToolPrefix,
  ToolSuccess,
  Vendor
} from "../Attributes.js"
import { LlmTracker } from "../LlmTracker.js"
import * as Metrics from "../Metrics.js"
import { ModelOperation } from "../ModelOperation.js"
import type { ToolCallOptions, ToolType } from "../ToolCall.js"
import { ToolTracker } from "../ToolTracker.js"
import { type AgentState, currentAgent } from "./agent.js"
import { forToolCall, type ToolContent } from "./content.js"
import { maxTextChars } from "./limits.js"
import * as MetricLabels from "./metricLabels.js"
import { resolve as resolveProvider } from "./provider.js"
import { currentRunState, type RunState } from "./runState.js"
import { count, describe, forEachAttribute, optionalString, readOptions, requiredName } from "./sanitize.js"
import { serviceOption } from "./services.js"
import { SpanRecorder } from "./spanRecorder.js"
import * as trackedSpan from "./trackedSpan.js"

/** @internal */
export interface ToolCallPlan {
  readonly spanName: string
  readonly toolName: string
  /** `gen_ai.provider.name`, when given: the conventions' well-known value where one exists. */
  readonly provider: string | undefined
  readonly series: MetricLabels.ToolSeries
  readonly startAttributes: ReadonlyArray<readonly [string, OtelApi.AttributeValue]>
  /** The `attributes` option, written as the caller's (see `SpanRecorder.setUser`). */
  readonly userAttributes: ReadonlyArray<readonly [string, OtelApi.AttributeValue]>
  readonly warnings: ReadonlyArray<string>
}

const spanKind: Tracer.SpanKind = "internal"

// The `gen_ai.tool.type` values the semantic conventions define.
const toolTypes: ReadonlySet<string> = new Set<ToolType>(["function", "extension", "datastore"])

const optionKeys = [
  "toolName",
  "toolCallId",
  "type",
  "description",
  "provider",
  "attributes"
] as const satisfies ReadonlyArray<keyof ToolCallOptions>

/** @internal */
export const plan = (given: ToolCallOptions): ToolCallPlan => {
  const warnings: Array<string> = []
  const warn = (line: string) => warnings.push(line)
  const options = readOptions(given, optionKeys, warn)
  const toolName = requiredName("toolName", options.toolName, "unknown", warn)
  const startAttributes: Array<readonly [string, OtelApi.AttributeValue]> = [
    [GenAiOperationName, ModelOperation.EXECUTE_TOOL],
    [GenAiToolName, toolName]
  ]
  const toolCallId = optionalString("toolCallId", options.toolCallId, warn)
  if (toolCallId !== undefined) startAttributes.push([GenAiToolCallId, toolCallId])
  const toolType = optionalString("type", options.type, warn)
  if (toolType !== undefined) {
    if (toolTypes.has(toolType)) {
      startAttributes.push([GenAiToolType, toolType])
    } else {
      warn(`type: ${describe(toolType)} is not a tool type (function, extension, datastore); dropped`)
    }
  }
  const description = optionalString("description", options.description, warn, maxTextChars)
  if (description !== undefined) startAttributes.push([GenAiToolDescription, description])
  let provider: string | undefined
  const providerName = optionalString("provider", options.provider, warn)
  if (providerName !== undefined && providerName.trim().length > 0) {
    const names = resolveProvider(providerName, warn)
    // The metric attribute is `gen_ai.provider.name`, so it carries the conventions' value too.
    provider = names.semconv
    startAttributes.push([GenAiProviderName, names.semconv], [Vendor, names.vendor])
  }
  const userAttributes: Array<readonly [string, OtelApi.AttributeValue]> = []
  forEachAttribute("attributes", options.attributes, ToolPrefix, warn, (key, value) => {
    userAttributes.push([key, value])
  })
  return {
    spanName: `${ModelOperation.EXECUTE_TOOL} ${toolName}`,
    toolName,
    provider,
    series: MetricLabels.tool(toolName, provider),
    startAttributes,
    userAttributes,
    warnings
  }
}

/**
 * The state of one tracked tool call and the `ToolTracker` that its effect sees.
 *
 * @internal
 */
export class ToolCall extends SpanRecorder implements ToolTracker.Service {
  success: boolean | undefined = undefined
  errorType: string | undefined = undefined
  durationMs = 0
  /**
   * The `LlmTracker` this tool call started under (the LLM call that asked for the tool), if any. A tracked LLM
   * call inside the tool is then a separate model invocation, not one that makes that LLM call a wrapper.
   */
  readonly insideLlmCall: unknown
  /** The tool's arguments and result, when content capture is on for it (see `LlmCall.content`). */
  readonly content: ToolContent | undefined

  private readonly run: RunState | undefined
  private readonly agent: AgentState | undefined

  constructor(
    span: Tracer.Span,
    readonly plan: ToolCallPlan,
    readonly clock: Clock.Clock,
    context: Context.Context<never>,
    services: Context.Context<never>,
    /** Whether the effect's success value is the tool's result (`trackToolCall`), unless set by hand. */
    private readonly successIsResult: boolean = false
  ) {
    super(span)
    this.run = currentRunState(context)
    this.agent = currentAgent(context)
    this.insideLlmCall = serviceOption(context, LlmTracker)
    for (const [key, value] of plan.startAttributes) this.set(key, value)
    for (const [key, value] of plan.userAttributes) this.setUser(key, value)
    for (const line of plan.warnings) this.addWarning(line)
    this.content = forToolCall(context, services, this.insideLlmCall, this)
  }

  get setArguments(): ToolTracker.Service["setArguments"] {
    return this.feeding(this.content, "setArguments", (content, value) => content.arguments(value, true))
  }

  get setResultContent(): ToolTracker.Service["setResultContent"] {
    return this.feeding(this.content, "setResultContent", (content, value) => content.result(value, true))
  }

  /** Records the captured content, if any, before `end` (see `TrackedCall.prepare`). */
  prepare(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined {
    const content = this.content
    if (content === undefined) return undefined
    if (this.successIsResult && exit._tag === "Success" && !content.handResult) content.result(exit.value, false)
    return content.record()
  }

  get setResult(): ToolTracker.Service["setResult"] {
    return (result) =>
      this.guarded("setResult", () => {
        if (typeof result !== "object" || result === null) {
          return this.warn(`setResult: ${describe(result)} is not a record; dropped`)
        }
        let success = result.success
        if (typeof success !== "boolean") {
          this.warn(`success: ${describe(success)} is not a boolean; recorded as ${Boolean(success)}`)
          success = Boolean(success)
        }
        this.success = success
        this.set(ToolSuccess, success)
        const items = count("itemsReturned", result.itemsReturned, this.warn)
        if (items !== undefined && items > 0) this.set(ToolItemsReturned, items)
        const bytes = count("bytesProcessed", result.bytesProcessed, this.warn)
        if (bytes !== undefined && bytes > 0) this.set(ToolBytesProcessed, bytes)
      })
  }

  get setToolCallId(): ToolTracker.Service["setToolCallId"] {
    return (id) =>
      this.guarded("setToolCallId", () => {
        const value = optionalString("toolCallId", id, this.warn)
        if (value !== undefined) this.set(GenAiToolCallId, value)
      })
  }

  get setError(): ToolTracker.Service["setError"] {
    return (error) => this.guarded("setError", () => this.reportError(error, this.clock.unsafeCurrentTimeNanos()))
  }

  get addMetadata(): ToolTracker.Service["addMetadata"] {
    return (metadata) =>
      this.guarded("addMetadata", () => forEachAttribute("metadata", metadata, ToolPrefix, this.warn, this.userSetter))
  }

  // A method, not a closure made with every call: it is called on the call, never handed on.
  end(exit: Exit.Exit<unknown, unknown>, endNanos: bigint = this.clock.unsafeCurrentTimeNanos()): undefined {
    try {
      const status = this.span.status
      if (status._tag === "Started") {
        this.durationMs = Number(endNanos - status.startTime) / 1e6
        this.set(ToolDurationMs, this.durationMs)
      }
      this.errorType = this.finish(exit)
      // A tool that ran but reported `success: false` counts as an error too.
      const labels = this.errorType === undefined && this.success !== false
        ? this.plan.series.success
        : this.plan.series.error
      Metrics.toolDuration.unsafeUpdate(this.durationMs / 1e3, labels)
      Metrics.toolExecutions.unsafeUpdate(1, labels)
      if (this.run !== undefined) this.run.totals.toolCalls++
      if (this.agent !== undefined) this.agent.totals.toolCalls++
    } catch {
      // Tracking never changes the call's outcome.
    }
    return undefined
  }
}

/**
 * Runs `self` as a tracked tool call. With `successIsResult` (`trackToolCall`), its success value is the tool's
 * result content, unless the effect set one by hand; the @effect/ai layer, whose effects succeed with a result part,
 * records the result itself.
 *
 * @internal
 */
export const track = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  plan: ToolCallPlan,
  successIsResult: boolean = false
): Effect.Effect<A, E, Exclude<R, ToolTracker>> =>
  trackedSpan.track(
    self,
    plan.spanName,
    spanKind,
    ToolTracker,
    (span, clock, context, services) => new ToolCall(span, plan, clock, context, services, successIsResult)
  )
