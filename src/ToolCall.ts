/**
 * Tracked tool calls: a tool call is an `Effect`, and `trackToolCall` records it as an `execute_tool` span.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as internal from "./internal/toolCall.js"
import type { AttributeValue } from "./LlmTracker.js"
import type { ToolTracker } from "./ToolTracker.js"

/**
 * The `gen_ai.tool.type` values of the semantic conventions: `function` runs in the client application (the model
 * generated its arguments), `extension` runs on the agent's side and calls an external API, `datastore` queries
 * data for retrieval.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolType = "function" | "extension" | "datastore"

/**
 * @since 0.1.0
 * @category models
 */
export interface ToolCallOptions {
  readonly toolName: string
  readonly toolCallId?: string | undefined
  /** `gen_ai.tool.type`; any other value is dropped with a warning. */
  readonly type?: ToolType | undefined
  /** `gen_ai.tool.description`. */
  readonly description?: string | undefined
  /** Recorded normalized when given (see `normalizeProvider`). */
  readonly provider?: string | undefined
  /** Extra span attributes: keys that do not start with `botanu.` or `gen_ai.` get the prefix `botanu.tool.`. */
  readonly attributes?: Readonly<Record<string, AttributeValue>> | undefined
}

/**
 * Runs an effect as a tracked tool call: an INTERNAL span `"execute_tool {toolName}"`, a `ToolTracker` provided to
 * the effect, its outcome and `botanu.tool.duration_ms` recorded. Success and error pass through unchanged (as
 * with `Effect.withSpan`, `Cause.originalError` unwraps a failure raised inside the span). The span is a child of
 * whatever span is current: the semantic conventions lay a tool loop out as chat and tool spans side by side under
 * an agent (see `trackAgent`). With content capture on (see `Content`), the effect's success value is recorded as
 * `gen_ai.tool.call.result`, unless the effect set one with `ToolTracker.setResultContent`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ToolTracker, trackToolCall } from "@botanu/effect"
 *
 * const search = Effect.gen(function*() {
 *   const tracker = yield* ToolTracker
 *   yield* tracker.setResult({ success: true, itemsReturned: 3 })
 *   return ["a", "b", "c"]
 * }).pipe(trackToolCall({ toolName: "web_search" }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const trackToolCall: {
  (options: ToolCallOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, Exclude<R, ToolTracker>>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: ToolCallOptions): Effect.Effect<A, E, Exclude<R, ToolTracker>>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, options: ToolCallOptions): Effect.Effect<A, E, Exclude<R, ToolTracker>> =>
    internal.track(self, internal.plan(options), true)
)
