/**
 * The service a tracked tool call reads to record its result.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { AttributeValue } from "./LlmTracker.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ToolResult {
  readonly success: boolean
  readonly itemsReturned?: number | undefined
  readonly bytesProcessed?: number | undefined
}

/**
 * Provided by `trackToolCall` to the effect it wraps. Every method returns `Effect<void>` and never fails.
 *
 * @since 0.1.0
 * @category tags
 */
export class ToolTracker extends Context.Tag("@botanu/effect/ToolTracker")<ToolTracker, ToolTracker.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace ToolTracker {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** `botanu.tool.success` (always), `botanu.tool.items_returned` and `botanu.tool.bytes_processed` (when > 0). */
    readonly setResult: (result: ToolResult) => Effect.Effect<void>
    /** `gen_ai.tool.call.id`. */
    readonly setToolCallId: (id: string) => Effect.Effect<void>
    /** As `LlmTracker.setError`. */
    readonly setError: (error: unknown) => Effect.Effect<void>
    /** Keys that do not start with `botanu.` or `gen_ai.` get the prefix `botanu.tool.`. */
    readonly addMetadata: (metadata: Readonly<Record<string, AttributeValue>>) => Effect.Effect<void>
    /**
     * `gen_ai.tool.call.arguments`: any JSON-representable value (JSON text is parsed). Recorded only when content
     * capture is on (see `Content`); otherwise a no-op that costs nothing.
     */
    readonly setArguments: (value: unknown) => Effect.Effect<void>
    /**
     * `gen_ai.tool.call.result`, instead of the tracked effect's success value (which `trackToolCall` records by
     * default). Recorded only when content capture is on; otherwise a no-op.
     */
    readonly setResultContent: (value: unknown) => Effect.Effect<void>
  }
}
