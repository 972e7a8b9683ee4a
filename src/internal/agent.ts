import type * as OtelApi from "@opentelemetry/api"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Tracer from "effect/Tracer"
import type { AgentOptions } from "../Agent.js"
import {
  AgentCostUsd,
  AgentInputTokens,
  AgentLlmCalls,
  AgentOutputTokens,
  AgentPrefix,
  AgentToolCalls,
  AgentUnpricedCalls,
  GenAiAgentDescription,
  GenAiAgentId,
  GenAiAgentName,
  GenAiOperationName,
  GenAiProviderName,
  Vendor
} from "../Attributes.js"
import { ModelOperation } from "../ModelOperation.js"
import { maxTextChars } from "./limits.js"
import { resolve as resolveProvider } from "./provider.js"
import { RunTotals, type TotalsKeys, writeTotals } from "./runTotals.js"
import { forEachAttribute, optionalString, readOptions, requiredName } from "./sanitize.js"
import { serviceOption } from "./services.js"
import { SpanRecorder } from "./spanRecorder.js"
import * as trackedSpan from "./trackedSpan.js"

/**
 * What is known about an agent before it runs, worked out once when the tracked effect is built.
 *
 * @internal
 */
export interface AgentPlan {
  readonly spanName: string
  readonly name: string
  readonly startAttributes: ReadonlyArray<readonly [string, OtelApi.AttributeValue]>
  /** The `attributes` option, written as the caller's (see `SpanRecorder.setUser`). */
  readonly userAttributes: ReadonlyArray<readonly [string, OtelApi.AttributeValue]>
  readonly warnings: ReadonlyArray<string>
}

const spanKind: Tracer.SpanKind = "internal"

const agentTotalsKeys: TotalsKeys = {
  costUsd: AgentCostUsd,
  inputTokens: AgentInputTokens,
  outputTokens: AgentOutputTokens,
  llmCalls: AgentLlmCalls,
  toolCalls: AgentToolCalls,
  unpricedCalls: AgentUnpricedCalls
}

const optionKeys = ["name", "id", "description", "provider", "attributes"] as const satisfies ReadonlyArray<
  keyof AgentOptions
>

/** @internal */
export const plan = (given: AgentOptions): AgentPlan => {
  const warnings: Array<string> = []
  const warn = (line: string) => warnings.push(line)
  const options = readOptions(given, optionKeys, warn)
  const name = requiredName("name", options.name, "unknown", warn)
  const startAttributes: Array<readonly [string, OtelApi.AttributeValue]> = [
    [GenAiOperationName, ModelOperation.INVOKE_AGENT],
    [GenAiAgentName, name]
  ]
  const id = optionalString("id", options.id, warn)
  if (id !== undefined) startAttributes.push([GenAiAgentId, id])
  const description = optionalString("description", options.description, warn, maxTextChars)
  if (description !== undefined) startAttributes.push([GenAiAgentDescription, description])
  const providerName = optionalString("provider", options.provider, warn)
  if (providerName !== undefined && providerName.trim().length > 0) {
    const names = resolveProvider(providerName, warn)
    startAttributes.push([GenAiProviderName, names.semconv], [Vendor, names.vendor])
  }
  const userAttributes: Array<readonly [string, OtelApi.AttributeValue]> = []
  forEachAttribute("attributes", options.attributes, AgentPrefix, warn, (key, value) => {
    userAttributes.push([key, value])
  })
  return { spanName: `${ModelOperation.INVOKE_AGENT} ${name}`, name, startAttributes, userAttributes, warnings }
}

/**
 * One tracked agent: its span and the totals of the calls made inside it.
 *
 * Counting rule, which makes "once" hold however deeply agents nest: a tracked call adds itself to the innermost
 * agent only (the one in its context when it starts), and an agent adds its totals to the agent it started in
 * exactly once, when it ends. So each call reaches every enclosing agent along one path, once. A wrapper LLM call
 * adds nothing (its inner calls are the invocations), as for runs.
 *
 * Everything mutable here is written synchronously by the fiber that ends a call, so concurrent calls cannot
 * interleave a write.
 *
 * @internal
 */
export class AgentState extends SpanRecorder implements trackedSpan.TrackedCall {
  /** The calls made in this agent itself and, once they end, in the agents nested in it. */
  readonly totals = new RunTotals()
  /** The enclosing agent, which gets this agent's totals when it ends. */
  readonly parent: AgentState | undefined

  constructor(span: Tracer.Span, plan: AgentPlan, context: Context.Context<never>) {
    super(span)
    this.parent = currentAgent(context)
    for (const [key, value] of plan.startAttributes) this.set(key, value)
    for (const [key, value] of plan.userAttributes) this.setUser(key, value)
    for (const line of plan.warnings) this.addWarning(line)
  }

  readonly end = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined => {
    try {
      const totals = this.totals
      writeTotals(this, totals, agentTotalsKeys)
      this.finish(exit)
      // Exactly once, when this agent is done: the enclosing agent never sees these calls any other way.
      this.parent?.totals.add(totals)
    } catch {
      // Tracking never changes the agent's outcome.
    }
    return undefined
  }
}

/**
 * The agent an effect runs in. Internal: an agent has nothing for its effect to call, and the tracked calls inside
 * find it here with one map lookup.
 *
 * @internal
 */
export class CurrentAgent extends Context.Tag("@botanu/effect/CurrentAgent")<CurrentAgent, AgentState>() {}

/** @internal */
export const currentAgent = (context: Context.Context<never>): AgentState | undefined =>
  serviceOption(context, CurrentAgent)

/** @internal */
export const track = <A, E, R>(self: Effect.Effect<A, E, R>, plan: AgentPlan): Effect.Effect<A, E, R> =>
  trackedSpan.track(
    self,
    plan.spanName,
    spanKind,
    CurrentAgent,
    (span, _clock, context) => new AgentState(span, plan, context)
  )
