import type * as OtelApi from "@opentelemetry/api"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import {
  CustomerId,
  Environment,
  EventDurationMs,
  EventErrorClass,
  EventId,
  EventRunId,
  EventStatus,
  EventValueAmount,
  EventValueType,
  EventWorkflow,
  GenAiOperationName,
  GenAiWorkflowName,
  OutcomeStatus,
  ParentRunId,
  RootRunId,
  RunCompletedEvent,
  RunCostUsd,
  RunDurationMs,
  RunId,
  RunInputTokens,
  RunLlmCalls,
  RunOutputTokens,
  RunSpanPrefix,
  RunStartedEvent,
  RunStartTime,
  RunStatusFailure,
  RunStatusSuccess,
  RunToolCalls,
  RunUnpricedCalls,
  TenantId,
  WorkflowName
} from "../Attributes.js"
import { ModelOperation } from "../ModelOperation.js"
import type { OutcomeStatus as OutcomeStatusValue } from "../Outcome.js"
import type { RunContext } from "../Workflow.js"
import { maxNameChars } from "./limits.js"
import { CurrentRun, currentRunLink, currentRunState, RunState, runTracer } from "./runState.js"
import { type TotalsKeys, writeTotals } from "./runTotals.js"
import { bounded, describe, optionalString, readOptions, requiredName } from "./sanitize.js"
import { SpanRecorder } from "./spanRecorder.js"
import * as trackedSpan from "./trackedSpan.js"
import type { TrackedCall } from "./trackedSpan.js"

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits from the platform's CSPRNG. Not from
 * effect's `Random`, whose test implementation repeats its sequence and would repeat run ids across tests.
 *
 * @internal
 */
export const uuidV7 = (millis: number): string => {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  const ms = Math.max(0, Math.floor(millis))
  bytes[0] = (ms / 2 ** 40) & 0xff
  bytes[1] = (ms / 2 ** 32) & 0xff
  bytes[2] = (ms / 2 ** 24) & 0xff
  bytes[3] = (ms / 2 ** 16) & 0xff
  bytes[4] = (ms / 2 ** 8) & 0xff
  bytes[5] = ms & 0xff
  bytes[6] = 0x70 | (bytes[6] & 0x0f)
  bytes[8] = 0x80 | (bytes[8] & 0x3f)
  let out = ""
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-"
    out += hex[bytes[i]]
  }
  return out
}

const environmentConfig = Config.all([
  Config.option(Config.nonEmptyString("BOTANU_ENVIRONMENT")),
  Config.option(Config.nonEmptyString("DEPLOYMENT_ENVIRONMENT"))
])

/**
 * The option, else `BOTANU_ENVIRONMENT`, else `DEPLOYMENT_ENVIRONMENT`, else `production`, read through effect's
 * `ConfigProvider` on every run so that a provider set by the app (or a test) applies.
 *
 * @internal
 */
export const resolveEnvironment = (given: string | undefined): Effect.Effect<string> =>
  given !== undefined ? Effect.succeed(given) : Effect.map(
    Effect.orElseSucceed(environmentConfig, () => [Option.none<string>(), Option.none<string>()] as const),
    ([botanu, deployment]) => Option.getOrElse(Option.orElse(botanu, () => deployment), () => "production")
  )

const spanKinds: ReadonlySet<unknown> = new Set<Tracer.SpanKind>([
  "internal",
  "server",
  "client",
  "producer",
  "consumer"
])

/**
 * What is known about a workflow before it runs, worked out once when the workflow is defined.
 *
 * @internal
 */
export interface RunPlan {
  readonly name: string
  readonly spanName: string
  readonly spanKind: Tracer.SpanKind
  /** The ids as given (a string or a function of the workflow's arguments), read once; validated per run. */
  readonly eventId: unknown
  readonly customerId: unknown
  readonly environment: string | undefined
  readonly tenantId: string | undefined
  readonly warnings: ReadonlyArray<string>
}

const optionKeys = ["eventId", "customerId", "environment", "tenantId", "spanKind"] as const

/** A blank environment or tenant names nothing: the fallback applies, as for an absent one. */
const nonBlank = (field: string, value: string | undefined, warn: (line: string) => void): string | undefined => {
  if (value === undefined || value.trim().length > 0) return value
  warn(`${field}: blank; ignored`)
  return undefined
}

/** @internal */
export const plan = (name: unknown, given: unknown): RunPlan => {
  const warnings: Array<string> = []
  const warn = (line: string) => warnings.push(line)
  const workflow = requiredName("name", name, "unknown", warn)
  const options = readOptions(given, optionKeys, warn)
  let kind: Tracer.SpanKind = "server"
  if (options.spanKind !== undefined) {
    if (spanKinds.has(options.spanKind)) {
      kind = options.spanKind as Tracer.SpanKind
    } else {
      warn(`spanKind: ${describe(options.spanKind)} is not a span kind; recorded as "server"`)
    }
  }
  return {
    name: workflow,
    spanName: `${RunSpanPrefix}${workflow}`,
    spanKind: kind,
    eventId: options.eventId,
    customerId: options.customerId,
    environment: nonBlank("environment", optionalString("environment", options.environment, warn), warn),
    tenantId: nonBlank("tenantId", optionalString("tenantId", options.tenantId, warn), warn),
    warnings
  }
}

/**
 * Runs `self` as part of `state`'s run: the run in the context (for `currentRun`, `emitOutcome` and the clients of
 * `HttpPropagation`), `parent` as the parent span when given, and a tracer that writes the run's ids onto every span.
 *
 * @internal
 */
export const enter = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  state: RunState,
  parent: Tracer.Span | undefined
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) => {
    let context: Context.Context<never> = Context.add(fiber.currentContext, CurrentRun, state)
    if (parent !== undefined) context = Context.add(context, Tracer.ParentSpan, parent)
    const tracer = runTracer(Context.get(fiber.currentDefaultServices, Tracer.Tracer), state.context)
    return Effect.locally(Effect.withTracer(self, tracer), FiberRef.currentContext, context)
  })

const runTotalsKeys: TotalsKeys = {
  costUsd: RunCostUsd,
  inputTokens: RunInputTokens,
  outputTokens: RunOutputTokens,
  llmCalls: RunLlmCalls,
  toolCalls: RunToolCalls,
  unpricedCalls: RunUnpricedCalls
}

const defaultOutcome = (exit: Exit.Exit<unknown, unknown>): OutcomeStatusValue =>
  exit._tag === "Success" ? "success" : Cause.isInterruptedOnly(exit.cause) ? "canceled" : "failed"

/**
 * A run of this process: its span is the run span, made by `trackedSpan.track` (so that an interrupted run gets
 * status ERROR like every span the library makes), with the run's tracer for everything it does.
 */
class LocalRun extends RunState implements TrackedCall {
  readonly tracer: Tracer.Tracer
  private readonly startNanos: bigint

  constructor(
    readonly span: Tracer.Span,
    plan: RunPlan,
    ids: { readonly eventId: string; readonly customerId: string; readonly environment: string },
    readonly clock: Clock.Clock,
    context: Context.Context<never>,
    tracer: Tracer.Tracer
  ) {
    const outer = currentRunState(context)
    // A request's run that this process only links to (see `HttpPropagation.middleware`) is the parent.
    const link = outer === undefined ? currentRunLink(context) : undefined
    const startNanos = span.status._tag === "Started" && span.status.startTime > BigInt(0)
      ? span.status.startTime
      : clock.unsafeCurrentTimeNanos()
    const runId = uuidV7(clock.unsafeCurrentTimeMillis())
    const recorder = new SpanRecorder(span)
    const warn = recorder.warn
    const run: RunContext = {
      runId,
      workflow: plan.name,
      eventId: bounded("eventId", ids.eventId, maxNameChars, warn),
      customerId: bounded("customerId", ids.customerId, maxNameChars, warn),
      environment: bounded("environment", ids.environment, maxNameChars, warn),
      tenantId: plan.tenantId,
      rootRunId: outer?.context.rootRunId ?? link?.rootRunId ?? runId,
      parentRunId: outer?.context.runId ?? link?.runId,
      remote: false
    }
    super(run, recorder, outer)
    this.startNanos = startNanos
    this.tracer = runTracer(tracer, run)
    const attributes: Array<readonly [string, OtelApi.AttributeValue]> = [
      // What GenAI backends read a workflow by; the name and kind stay the seed's.
      [GenAiOperationName, ModelOperation.INVOKE_WORKFLOW],
      [GenAiWorkflowName, plan.name],
      [RunId, runId],
      [WorkflowName, plan.name],
      [EventId, run.eventId],
      [CustomerId, run.customerId],
      [Environment, run.environment],
      [RootRunId, run.rootRunId],
      [RunStartTime, new Date(Number(startNanos / BigInt(1_000_000))).toISOString()]
    ]
    if (run.tenantId !== undefined) attributes.push([TenantId, run.tenantId])
    if (run.parentRunId !== undefined) attributes.push([ParentRunId, run.parentRunId])
    for (const [key, value] of attributes) recorder.set(key, value)
    for (const line of plan.warnings) recorder.addWarning(line)
    span.event(RunStartedEvent, startNanos, { [EventRunId]: runId, [EventWorkflow]: plan.name })
  }

  readonly end = (exit: Exit.Exit<unknown, unknown>): undefined => {
    this.ended = true
    const recorder = this.recorder!
    try {
      const now = this.clock.unsafeCurrentTimeNanos()
      const durationMs = Number(now - this.startNanos) / 1e6
      const errorClass = recorder.finish(exit)
      const attributes: Record<string, unknown> = {
        [EventRunId]: this.context.runId,
        [EventWorkflow]: this.context.workflow,
        [EventStatus]: exit._tag === "Success" ? RunStatusSuccess : RunStatusFailure,
        [EventDurationMs]: durationMs
      }
      if (errorClass !== undefined) attributes[EventErrorClass] = errorClass
      if (this.valueType !== undefined) attributes[EventValueType] = this.valueType
      if (this.valueAmount !== undefined) attributes[EventValueAmount] = this.valueAmount
      this.span.event(RunCompletedEvent, now, attributes)
      if (!this.outcomeEmitted) recorder.set(OutcomeStatus, defaultOutcome(exit))
      recorder.set(RunDurationMs, durationMs)
      const totals = this.totals
      writeTotals(recorder, totals, runTotalsKeys)
      // Exactly once, when the nested run is done: the parent never sees these calls any other way.
      this.parent?.totals.add(totals)
    } catch {
      // Tracking never changes the run's outcome.
    }
    return undefined
  }
}

/**
 * Runs `self` as a new run: the run span, its attributes and events, and the run entered for everything `self`
 * does. The ids are already validated.
 *
 * @internal
 */
export const run = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  plan: RunPlan,
  eventId: string,
  customerId: string
): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    resolveEnvironment(plan.environment),
    (environment) =>
      Effect.withFiberRuntime<A, E, R>((fiber) => {
        const tracer = Context.get(fiber.currentDefaultServices, Tracer.Tracer)
        const ids = { eventId, customerId, environment }
        return trackedSpan.track(
          self,
          plan.spanName,
          plan.spanKind,
          CurrentRun,
          (span, clock, context) => new LocalRun(span, plan, ids, clock, context, tracer)
        )
      })
  )
