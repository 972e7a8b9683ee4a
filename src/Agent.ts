/**
 * Tracked agents: an agent is an `Effect` that makes LLM and tool calls, and `trackAgent` records it as an
 * `invoke_agent` span whose children are those calls, with the totals of what ran inside it.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as internal from "./internal/agent.js"
import type { AttributeValue } from "./LlmTracker.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface AgentOptions {
  /** `gen_ai.agent.name` and the span name. A missing or blank one is recorded as `unknown`. */
  readonly name: string
  /** `gen_ai.agent.id`. */
  readonly id?: string | undefined
  /** `gen_ai.agent.description`. */
  readonly description?: string | undefined
  /**
   * `gen_ai.provider.name` (the conventions' value) and `botanu.vendor` (normalized), as for tracked calls (see
   * `Provider.providerNames`); only when given.
   */
  readonly provider?: string | undefined
  /** Extra span attributes: keys that do not start with `botanu.` or `gen_ai.` get the prefix `botanu.agent.`. */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

/**
 * Runs an effect as a tracked agent: an INTERNAL span `"invoke_agent {name}"` that is the parent of everything the
 * effect does, so that its LLM and tool calls are siblings under it (chat, execute_tool, chat: a tool loop). When
 * it ends, the span carries the totals of the calls made inside it, nested agents included and each call counted
 * once: `botanu.agent.cost_usd`, `.input_tokens`, `.output_tokens`, `.llm_calls`, `.tool_calls` and, when some
 * calls could not be priced, `.unpriced_calls`. Its outcome is recorded as a call's is (`error.type` on failure or
 * interruption); success and error pass through unchanged.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { trackAgent } from "@botanu/effect"
 *
 * const loop = Effect.void // chat, execute_tool, chat...
 *
 * const tracked = loop.pipe(trackAgent({ name: "support_agent", id: "agt_42" }))
 * const same = trackAgent(loop, { name: "support_agent", id: "agt_42" })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const trackAgent: {
  (options: AgentOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: AgentOptions): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, options: AgentOptions): Effect.Effect<A, E, R> =>
    internal.track(self, internal.plan(options))
)
