import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import { CustomerId, Environment, EventId, RootRunId, RunId, TenantId, WorkflowName } from "../Attributes.js"
import type { RunContext } from "../Workflow.js"
import * as Baggage from "./baggage.js"
import { enter, resolveEnvironment } from "./run.js"
import { CurrentRunLink, runIdEntries, type RunLink, RunState, stampSpan } from "./runState.js"
import type { Warn } from "./sanitize.js"
import { SpanRecorder } from "./spanRecorder.js"

const runKeys: ReadonlySet<string> = new Set([
  RunId,
  WorkflowName,
  EventId,
  CustomerId,
  Environment,
  TenantId,
  RootRunId
])

/** What a run is attributed to: taken only from a trusted request. */
const attributionKeys = [WorkflowName, EventId, CustomerId, Environment, TenantId] as const
const requiredAttribution = [WorkflowName, EventId, CustomerId] as const

/**
 * The run members of a request's baggage, or `undefined` when the header is not read at all: beyond the spec's
 * limits, or ambiguous (a key given twice with different values). Unknown keys are someone else's.
 *
 * @internal
 */
export const runEntries = (header: string, warn: Warn): ReadonlyMap<string, string> | undefined => {
  const limit = Baggage.limitProblem(header)
  if (limit !== undefined) {
    warn(`baggage: ${limit}; ignored`)
    return undefined
  }
  const found = new Map<string, string>()
  let ambiguous: string | undefined
  const entries = Baggage.parse(header, (key) => {
    if (runKeys.has(key)) warn(`baggage ${key}: a value that is not valid baggage or does not percent-decode; ignored`)
  })
  for (const [key, value] of entries) {
    if (!runKeys.has(key)) continue
    const seen = found.get(key)
    if (seen !== undefined && seen !== value) ambiguous ??= key
    found.set(key, value)
  }
  if (ambiguous !== undefined) {
    warn(`baggage ${ambiguous}: given twice with different values; the run entries are ignored`)
    return undefined
  }
  return found
}

const runId = (entries: ReadonlyMap<string, string>, key: string, warn: Warn): string | undefined => {
  const value = entries.get(key)
  if (value === undefined) return undefined
  const problem = Baggage.uuidProblem(value)
  if (problem === undefined) return value.toLowerCase()
  warn(`baggage ${key}: ${problem}; ignored`)
  return undefined
}

const text = (entries: ReadonlyMap<string, string>, key: string, warn: Warn): string | undefined => {
  const value = entries.get(key)
  if (value === undefined) return undefined
  const problem = Baggage.textProblem(value)
  if (problem === undefined) return value
  warn(`baggage ${key}: ${problem}; ignored`)
  return undefined
}

/**
 * What a request's baggage is taken for: a run continued here (a trusted request carrying a valid run id and
 * attribution), a link to the remote run (a valid run id, from any request), or nothing. Every value is validated
 * first; what fails is ignored with a warning that says what was wrong, never what was sent.
 *
 * @internal
 */
export type Taken =
  | {
    readonly _tag: "Run"
    readonly context: Omit<RunContext, "environment">
    readonly environment: string | undefined
  }
  | { readonly _tag: "Link"; readonly link: RunLink }
  | undefined

/** @internal */
export const take = (header: string, trusted: boolean, warn: Warn): Taken => {
  const entries = runEntries(header, warn)
  if (entries === undefined) return undefined
  const id = runId(entries, RunId, warn)
  const root = runId(entries, RootRunId, warn)
  const link: RunLink | undefined = id === undefined ? undefined : { runId: id, rootRunId: root ?? id }
  const sent = attributionKeys.filter((key) => entries.has(key))
  if (!trusted) {
    if (sent.length > 0) {
      warn(`baggage: ${sent.join(", ")} not taken, the request is not trusted (see HttpPropagation.makeMiddleware)`)
    }
    return link === undefined ? undefined : { _tag: "Link", link }
  }
  const workflow = text(entries, WorkflowName, warn)
  const eventId = text(entries, EventId, warn)
  const customerId = text(entries, CustomerId, warn)
  const environment = text(entries, Environment, warn)
  const tenantId = text(entries, TenantId, warn)
  if (link !== undefined && workflow !== undefined && eventId !== undefined && customerId !== undefined) {
    return {
      _tag: "Run",
      context: {
        runId: link.runId,
        workflow,
        eventId,
        customerId,
        tenantId,
        rootRunId: link.rootRunId,
        parentRunId: undefined,
        remote: true
      },
      environment
    }
  }
  if (sent.length > 0) {
    const absent = [RunId, ...requiredAttribution].filter((key) => !entries.has(key))
    warn(
      `baggage: the run is not continued${link === undefined ? "" : ", only linked"}` +
        (absent.length === 0 ? "" : ` (no ${absent.join(", ")})`)
    )
  }
  return link === undefined ? undefined : { _tag: "Link", link }
}

/**
 * Serves `self` for a request whose `baggage` header may carry a run. A trusted request's valid run is continued:
 * the current span (the request's server span) and every span made by `self` get the run's ids, and `currentRun`
 * returns it. Otherwise a valid run id only links: a workflow `self` starts is nested in the remote run, and
 * nothing is attributed to it. Warnings go onto the server span.
 *
 * @internal
 */
export const continueFromBaggage = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  header: string | undefined,
  trusted: boolean,
  warnings: ReadonlyArray<string> = []
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime<A, E, R>((fiber) => {
    const parent = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
    const span = parent._tag === "Some" && parent.value._tag === "Span" ? parent.value : undefined
    const lines = [...warnings]
    const taken = header === undefined ? undefined : take(header, trusted, (line) => lines.push(line))
    if (span !== undefined && lines.length > 0) {
      const recorder = new SpanRecorder(span)
      for (const line of lines) recorder.addWarning(line)
      recorder.flushWarnings()
    }
    if (taken === undefined) return self
    if (taken._tag === "Link") return Effect.provideService(self, CurrentRunLink, taken.link)
    return Effect.flatMap(resolveEnvironment(taken.environment), (environment) => {
      const context: RunContext = { ...taken.context, environment }
      if (span !== undefined) stampSpan(span, runIdEntries(context))
      return enter(self, new RunState(context, undefined), undefined)
    })
  })
