import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import { CustomerId, Environment, EventId, RootRunId, RunId, TenantId, WorkflowName } from "../Attributes.js"
import type { RunContext } from "../Workflow.js"
import * as Baggage from "./baggage.js"
import { enter, resolveEnvironment } from "./run.js"
import { runIdEntries, RunState, stampSpan } from "./runState.js"

const runKeys: ReadonlySet<string> = new Set([
  RunId,
  WorkflowName,
  EventId,
  CustomerId,
  Environment,
  TenantId,
  RootRunId
])

/**
 * The run a request's baggage continues: all four ids present and valid, else none. A key given twice with
 * different values makes the header ambiguous, and it is ignored too. Unknown keys are someone else's.
 *
 * @internal
 */
export const runEntries = (header: string): ReadonlyMap<string, string> | undefined => {
  const found = new Map<string, string>()
  for (const [key, value] of Baggage.parse(header)) {
    if (!runKeys.has(key)) continue
    const seen = found.get(key)
    if (seen !== undefined && seen !== value) return undefined
    found.set(key, value)
  }
  for (const key of [RunId, WorkflowName, EventId, CustomerId]) {
    if (!Baggage.isValidValue(found.get(key))) return undefined
  }
  return found
}

const optional = (entries: ReadonlyMap<string, string>, key: string): string | undefined => {
  const value = entries.get(key)
  return Baggage.isValidValue(value) ? value : undefined
}

/**
 * Continues the run that a request's `baggage` header carries, if it carries a valid one: the current span (the
 * request's server span) and every span made by `self` get the run's ids, and `currentRun` returns it.
 *
 * @internal
 */
export const continueFromBaggage = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  header: string | undefined
): Effect.Effect<A, E, R> => {
  const entries = header === undefined ? undefined : runEntries(header)
  if (entries === undefined) return self
  return Effect.flatMap(
    resolveEnvironment(optional(entries, Environment)),
    (environment) =>
      Effect.withFiberRuntime<A, E, R>((fiber) => {
        const runId = entries.get(RunId)!
        const context: RunContext = {
          runId,
          workflow: entries.get(WorkflowName)!,
          eventId: entries.get(EventId)!,
          customerId: entries.get(CustomerId)!,
          environment,
          tenantId: optional(entries, TenantId),
          rootRunId: optional(entries, RootRunId) ?? runId,
          parentRunId: undefined,
          remote: true
        }
        const span = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
        if (span._tag === "Some" && span.value._tag === "Span") stampSpan(span.value, runIdEntries(context))
        return enter(self, new RunState(context, undefined), undefined)
      })
  )
}
