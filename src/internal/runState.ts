import * as Context from "effect/Context"
import * as Tracer from "effect/Tracer"
import { CustomerId, EventId, RunId, WorkflowName } from "../Attributes.js"
import type { RunContext } from "../Workflow.js"
import { RunTotals } from "./runTotals.js"
import { serviceOption } from "./services.js"
import type { SpanRecorder } from "./spanRecorder.js"

/**
 * The run an effect belongs to, as the fiber that runs it sees it. One per run, shared by the fibers the run
 * forks; everything mutable in it is written synchronously, so that forked fibers cannot interleave a write.
 *
 * @internal
 */
export class RunState {
  /** Set once the program emitted an outcome itself: completion must not overwrite it. */
  outcomeEmitted = false
  valueType: string | undefined = undefined
  valueAmount: number | undefined = undefined
  /** The calls made in this run itself and, once they complete, in the runs nested in it. */
  readonly totals = new RunTotals()
  /**
   * Set when the run completes, before its span ends: a fiber that outlives the run (a daemon, a forked fiber
   * that is never joined) still sees this state, and what it records then must not go to the ended span.
   */
  ended = false

  constructor(
    readonly context: RunContext,
    /** The run span's recorder; `undefined` for a run continued from baggage, whose run span is upstream. */
    readonly recorder: SpanRecorder | undefined,
    /** The enclosing run in this process, which gets this run's totals when it completes. */
    readonly parent?: RunState | undefined
  ) {}
}

/** @internal */
export class CurrentRun extends Context.Tag("@botanu/effect/CurrentRun")<CurrentRun, RunState>() {}

/** @internal */
export const currentRunState = (context: Context.Context<never>): RunState | undefined =>
  serviceOption(context, CurrentRun)

/**
 * A run in another process that a request was made for, known only by its ids: what an untrusted request's baggage
 * (or one without the run's attribution) is taken for. A workflow started under it is nested in it; nothing else is
 * attributed to it.
 *
 * @internal
 */
export interface RunLink {
  readonly runId: string
  readonly rootRunId: string
}

/** @internal */
export class CurrentRunLink extends Context.Tag("@botanu/effect/CurrentRunLink")<CurrentRunLink, RunLink>() {}

/** @internal */
export const currentRunLink = (context: Context.Context<never>): RunLink | undefined =>
  serviceOption(context, CurrentRunLink)

const RunTracerBase = Symbol.for("@botanu/effect/RunTracer/base")

interface RunTracer extends Tracer.Tracer {
  readonly [RunTracerBase]: Tracer.Tracer
}

/**
 * The tracer that a run's tracer wraps. A nested run wraps the base, not the outer run's tracer: otherwise the
 * outer run would write its ids first and the inner run, which never overwrites, would lose.
 *
 * @internal
 */
export const baseTracer = (tracer: Tracer.Tracer): Tracer.Tracer =>
  RunTracerBase in tracer ? (tracer as RunTracer)[RunTracerBase] : tracer

/** @internal */
export const runIdEntries = (run: RunContext): ReadonlyArray<readonly [string, string]> => [
  [RunId, run.runId],
  [WorkflowName, run.workflow],
  [EventId, run.eventId],
  [CustomerId, run.customerId]
]

/**
 * Writes the run's ids onto a span, keeping any value the span already has.
 *
 * @internal
 */
export const stampSpan = (span: Tracer.Span, entries: ReadonlyArray<readonly [string, string]>): void => {
  for (const [key, value] of entries) {
    if (!span.attributes.has(key)) span.attribute(key, value)
  }
}

/**
 * A tracer that makes its spans with `base` and writes the run's ids onto each. It returns the very span `base`
 * made, so that code which recognises @effect/opentelemetry spans (ours included) still does; attributes the
 * span is given afterwards (`Effect.withSpan`'s `attributes`, `Effect.annotateSpans`, a tracked call's own
 * attributes) are written later and therefore win.
 *
 * Only installed while a run is active, so spans outside runs pay nothing for it.
 *
 * @internal
 */
export const runTracer = (tracer: Tracer.Tracer, run: RunContext): Tracer.Tracer => {
  const base = baseTracer(tracer)
  const entries = runIdEntries(run)
  const wrapped = Tracer.make({
    span(name, parent, context, links, startTime, kind, options) {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      stampSpan(span, entries)
      return span
    },
    context: (execution, fiber) => base.context(execution, fiber)
  })
  return Object.assign(wrapped, { [RunTracerBase]: base })
}
