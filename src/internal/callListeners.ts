import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"
import type { Cost } from "../Pricing.js"
import type { RunContext } from "../Workflow.js"

/**
 * A tracked LLM call as it ends, for the consumers of finished calls that have modules of their own (budgets, say):
 * each model invocation once (a wrapper call is not one, see `LlmCall.wrappedCalls`), failed attempts included.
 * Handed over before the call's span ends, so a consumer may still add an event to it.
 *
 * @internal
 */
export interface FinishedCall {
  /** Normalized, as priced (see `Provider.providerNames`). */
  readonly provider: string
  /** The model priced: the response model when known, else the request model. */
  readonly model: string
  readonly cost: Cost
  readonly inputTokens: number
  readonly outputTokens: number
  /** The run the call served, if any. */
  readonly run: RunContext | undefined
  readonly span: Tracer.Span
  /** `error.type` of a failed or interrupted call. */
  readonly errorType: string | undefined
}

/**
 * Sees a finished call, synchronously, in the fiber that ends it; must not throw (a throw is ignored) and may hand
 * back a rare follow-up (a warning to log), run after the call's span has ended.
 *
 * @internal
 */
export type CallListener = (call: FinishedCall) => Effect.Effect<void> | undefined

/**
 * The consumers of finished calls that the context holds: none by default, so a call pays one lookup for them. A
 * module's layer adds its own by providing this reference extended with it (see `Budget.layer`); layers that each
 * add one compose with `Layer.provideMerge`.
 *
 * @internal
 */
export class CallListeners extends Context.Reference<CallListeners>()("@botanu/effect/CallListeners", {
  defaultValue: (): ReadonlyArray<CallListener> => []
}) {}
