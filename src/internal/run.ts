import type * as OtelApi from "@opentelemetry/api"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
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
import { CurrentRun, currentRunLink, currentRunState, RunState, runTracer } from "./runState.js"
import { type TotalsKeys, writeTotals } from "./runTotals.js"
import { describe, optionalString, requiredName } from "./sanitize.js"
import { endSpan, SpanRecorder } from "./spanRecorder.js"

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
  readonly spanOptions: Tracer.SpanOptions
  readonly environment: string | undefined
  readonly tenantId: string | undefined
  readonly warnings: ReadonlyArray<string>
}

/** @internal */
export const plan = (
  name: unknown,
  options: { readonly environment?: unknown; readonly tenantId?: unknown; readonly spanKind?: unknown } | undefined
): RunPlan => {
  const warnings: Array<string> = []
  const warn = (line: string) => warnings.push(line)
  const workflow = requiredName("name", name, "unknown", warn)
  let kind: Tracer.SpanKind = "server"
  if (options?.spanKind !== undefined) {
    if (spanKinds.has(options.spanKind)) {
      kind = options.spanKind as Tracer.SpanKind
    } else {
      warn(`spanKind: ${describe(options.spanKind)} is not a span kind; recorded as "server"`)
    }
  }
  return {
    name: workflow,
    spanName: `${RunSpanPrefix}${workflow}`,
    spanOptions: { kind, captureStackTrace: false },
    environment: optionalString("environment", options?.environment, warn),
    tenantId: optionalString("tenantId", options?.tenantId, warn),
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

const complete = (
  state: RunState,
  recorder: SpanRecorder,
  clock: Clock.Clock,
  startNanos: bigint,
  exit: Exit.Exit<unknown, unknown>
): void => {
  try {
    const now = clock.unsafeCurrentTimeNanos()
    const durationMs = Number(now - startNanos) / 1e6
    const errorClass = recorder.finish(exit)
    const attributes: Record<string, unknown> = {
      [EventRunId]: state.context.runId,
      [EventWorkflow]: state.context.workflow,
      [EventStatus]: exit._tag === "Success" ? RunStatusSuccess : RunStatusFailure,
      [EventDurationMs]: durationMs
    }
    if (errorClass !== undefined) attributes[EventErrorClass] = errorClass
    if (state.valueType !== undefined) attributes[EventValueType] = state.valueType
    if (state.valueAmount !== undefined) attributes[EventValueAmount] = state.valueAmount
    recorder.span.event(RunCompletedEvent, now, attributes)
    if (!state.outcomeEmitted) recorder.set(OutcomeStatus, defaultOutcome(exit))
    recorder.set(RunDurationMs, durationMs)
    const totals = state.totals
    writeTotals(recorder, totals, runTotalsKeys)
    // Exactly once, when the nested run is done: the parent never sees these calls any other way.
    state.parent?.totals.add(totals)
  } catch {
    // Tracking never changes the run's outcome.
  }
  // Ended here rather than by `Effect.useSpan` (which then leaves the ended span alone), so that an interrupted
  // run gets status ERROR like every span the library makes.
  endSpan(recorder.span, clock.unsafeCurrentTimeNanos(), exit)
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
      Effect.useSpan(plan.spanName, plan.spanOptions, (span) =>
        Effect.withFiberRuntime<A, E, R>((fiber) => {
          const outer = currentRunState(fiber.currentContext)
          // A request's run that this process only links to (see `HttpPropagation.middleware`) is the parent.
          const link = outer === undefined ? currentRunLink(fiber.currentContext) : undefined
          const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
          const startNanos = span.status._tag === "Started" && span.status.startTime > BigInt(0)
            ? span.status.startTime
            : clock.unsafeCurrentTimeNanos()
          const runId = uuidV7(clock.unsafeCurrentTimeMillis())
          const context: RunContext = {
            runId,
            workflow: plan.name,
            eventId,
            customerId,
            environment,
            tenantId: plan.tenantId,
            rootRunId: outer?.context.rootRunId ?? link?.rootRunId ?? runId,
            parentRunId: outer?.context.runId ?? link?.runId,
            remote: false
          }
          const recorder = new SpanRecorder(span)
          const attributes: Array<readonly [string, OtelApi.AttributeValue]> = [
            // What GenAI backends read a workflow by; the name and kind stay the seed's.
            [GenAiOperationName, ModelOperation.INVOKE_WORKFLOW],
            [GenAiWorkflowName, plan.name],
            [RunId, runId],
            [WorkflowName, plan.name],
            [EventId, eventId],
            [CustomerId, customerId],
            [Environment, environment],
            [RootRunId, context.rootRunId],
            [RunStartTime, new Date(Number(startNanos / BigInt(1_000_000))).toISOString()]
          ]
          if (context.tenantId !== undefined) attributes.push([TenantId, context.tenantId])
          if (context.parentRunId !== undefined) attributes.push([ParentRunId, context.parentRunId])
          for (const [key, value] of attributes) recorder.set(key, value)
          for (const line of plan.warnings) recorder.addWarning(line)
          span.event(RunStartedEvent, startNanos, { [EventRunId]: runId, [EventWorkflow]: plan.name })
          const state = new RunState(context, recorder, outer)
          return Effect.onExit(
            enter(self, state, span),
            (exit) => Effect.sync(() => complete(state, recorder, clock, startNanos, exit))
          )
        }))
  )
