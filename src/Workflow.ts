/**
 * Workflow runs: one execution of a workflow for one business event and one customer, recorded as a run span,
 * whose ids every span made inside the run carries, so that each LLM and tool call can be attributed to them.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import type { YieldWrap } from "effect/Utils"
import * as internal from "./internal/run.js"
import { CurrentRun } from "./internal/runState.js"
import { describe } from "./internal/sanitize.js"

/**
 * The run an effect belongs to, as `currentRun` returns it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunContext {
  /** A UUIDv7, fresh for every run. */
  readonly runId: string
  readonly workflow: string
  readonly eventId: string
  readonly customerId: string
  readonly environment: string
  readonly tenantId: string | undefined
  /** The outermost run's id; this run's own when it is not nested. */
  readonly rootRunId: string
  /** The enclosing run's id, for a nested run. */
  readonly parentRunId: string | undefined
  /**
   * `true` for a run started in another process and continued here from a trusted request's baggage (see
   * `HttpPropagation.makeMiddleware`): its run span lives in that process.
   */
  readonly remote: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface WorkflowOptions {
  /** The business event the run serves (a ticket id, an order id). Required, not blank. */
  readonly eventId: string
  /** The customer the run serves. Required, not blank. */
  readonly customerId: string
  /** `botanu.environment`; else `BOTANU_ENVIRONMENT`, else `DEPLOYMENT_ENVIRONMENT`, else `"production"`. */
  readonly environment?: string | undefined
  readonly tenantId?: string | undefined
  /** The run span's kind; `"server"` by default. */
  readonly spanKind?: Tracer.SpanKind | undefined
}

/**
 * Options of `fn`: the ids may be worked out from the handler's arguments.
 *
 * @since 0.1.0
 * @category models
 */
export interface FnOptions<Args extends ReadonlyArray<any>> extends Omit<WorkflowOptions, "eventId" | "customerId"> {
  readonly eventId: string | ((...args: Args) => string)
  readonly customerId: string | ((...args: Args) => string)
}

/**
 * A run was asked for with a missing or blank `eventId` or `customerId` (or an id function that threw). This is
 * a programmer error, so the run dies with it (a defect) rather than adding it to every workflow's error channel;
 * the program is not run and no run span is recorded.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidWorkflowOptions extends Data.TaggedError("InvalidWorkflowOptions")<{
  readonly workflow: string
  readonly field: "eventId" | "customerId"
  readonly message: string
  readonly cause?: unknown
}> {}

const validId = (
  workflow: string,
  field: "eventId" | "customerId",
  value: unknown
): string | InvalidWorkflowOptions => {
  if (typeof value === "string" && value.trim().length > 0) return value
  const problem = typeof value === "string" ? "is empty" : `is ${describe(value)}, not a string`
  return new InvalidWorkflowOptions({
    workflow,
    field,
    message: `workflow "${workflow}": ${field} ${problem}; a run needs a non-empty ${field} to attribute its cost`
  })
}

const runWithIds = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  plan: internal.RunPlan,
  eventId: unknown,
  customerId: unknown
): Effect.Effect<A, E, R> => {
  const event = validId(plan.name, "eventId", eventId)
  if (typeof event !== "string") return Effect.die(event)
  const customer = validId(plan.name, "customerId", customerId)
  if (typeof customer !== "string") return Effect.die(customer)
  return internal.run(self, plan, event, customer)
}

/**
 * Runs an effect as a workflow run: a span `botanu.run/{name}` (SERVER by default) that is the parent of
 * everything the effect does, with the run's ids, environment, start time and duration, `botanu.run.started` and
 * `botanu.run.completed` events, and `botanu.outcome.status` (`success`, `failed`, or `canceled` when interrupted)
 * unless the program emitted an outcome itself. Every span made inside the run, whoever makes it, carries
 * `botanu.run_id`, `botanu.workflow`, `botanu.event_id` and `botanu.customer_id` (a value the span sets itself
 * wins). A run inside a run is nested: `botanu.parent_run_id` and `botanu.root_run_id` link them.
 *
 * The effect's success and error pass through unchanged (as with `Effect.withSpan`, `Cause.originalError` unwraps
 * a failure raised inside the span). A blank `eventId` or `customerId` is a defect: see `InvalidWorkflowOptions`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { botanuWorkflow, emitOutcome } from "@botanu/effect"
 *
 * const handle = Effect.gen(function*() {
 *   // LLM and tool calls...
 *   yield* emitOutcome("success", { valueType: "ticket_resolved", valueAmount: 1 })
 * })
 *
 * const run = handle.pipe(botanuWorkflow("support_ticket", { eventId: "T-1001", customerId: "acme" }))
 * const same = botanuWorkflow(handle, "support_ticket", { eventId: "T-1001", customerId: "acme" })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const botanuWorkflow: {
  (name: string, options: WorkflowOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, name: string, options: WorkflowOptions): Effect.Effect<A, E, R>
} = dual(3, <A, E, R>(self: Effect.Effect<A, E, R>, name: string, options: WorkflowOptions): Effect.Effect<A, E, R> => {
  const plan = internal.plan(name, options)
  return Effect.suspend(() => runWithIds(self, plan, plan.eventId, plan.customerId))
})

// The id functions are called with the body's arguments: they may take fewer, not different ones.
type IdsAccept<Args extends ReadonlyArray<any>, BodyArgs extends Array<any>> = [(...args: Args) => void] extends
  [(...args: BodyArgs) => void] ? unknown : never

type GenError<Eff> = [Eff] extends [never] ? never
  : [Eff] extends [YieldWrap<Effect.Effect<infer _A, infer E, infer _R>>] ? E
  : never
type GenContext<Eff> = [Eff] extends [never] ? never
  : [Eff] extends [YieldWrap<Effect.Effect<infer _A, infer _E, infer R>>] ? R
  : never

/**
 * Turns a handler into a function whose every call is a workflow run, like `Effect.fn` does for spans. The body
 * is a generator function or a function returning an effect; `eventId` and `customerId` may be functions of the
 * handler's arguments (annotate the first one's parameters, and the body's, to type them).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Workflow } from "@botanu/effect"
 *
 * interface Ticket { readonly id: string; readonly customerId: string; readonly text: string }
 *
 * const handleTicket = Workflow.fn("support_ticket", {
 *   eventId: (ticket: Ticket) => ticket.id,
 *   customerId: (ticket) => ticket.customerId
 * })(function*(ticket: Ticket) {
 *   yield* Effect.log(`answering ${ticket.text}`)
 *   return "done"
 * })
 *
 * const run = handleTicket({ id: "T-1", customerId: "acme", text: "where is my order?" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fn = <Args extends ReadonlyArray<any>>(name: string, options: FnOptions<Args>): {
  <Eff extends YieldWrap<Effect.Effect<any, any, any>>, AEff, BodyArgs extends Array<any>>(
    body: ((...args: BodyArgs) => Generator<Eff, AEff, never>) & IdsAccept<Args, BodyArgs>
  ): (...args: BodyArgs) => Effect.Effect<AEff, GenError<Eff>, GenContext<Eff>>
  <BodyArgs extends Array<any>, A, E, R>(
    body: ((...args: BodyArgs) => Effect.Effect<A, E, R>) & IdsAccept<Args, BodyArgs>
  ): (...args: BodyArgs) => Effect.Effect<A, E, R>
} => {
  const plan = internal.plan(name, options)
  // A problem is handed back beside the value, never recognized in it: a hostile id (a Proxy) may throw on any
  // look at it, `instanceof` included.
  const idOf = (
    field: "eventId" | "customerId",
    args: ReadonlyArray<any>
  ): { readonly id: unknown } | { readonly problem: InvalidWorkflowOptions } => {
    const id: unknown = plan[field]
    if (typeof id !== "function") return { id }
    try {
      return { id: id(...args) }
    } catch (cause) {
      return {
        problem: new InvalidWorkflowOptions({
          workflow: plan.name,
          field,
          message: `workflow "${plan.name}": the ${field} function threw`,
          cause
        })
      }
    }
  }
  return ((body: (...args: Array<any>) => unknown) =>
    function(this: unknown, ...args: Array<any>) {
      return Effect.suspend(() => {
        const eventId = idOf("eventId", args)
        if ("problem" in eventId) return Effect.die(eventId.problem)
        const customerId = idOf("customerId", args)
        if ("problem" in customerId) return Effect.die(customerId.problem)
        const effect = Effect.suspend(() => {
          const result = body.apply(this, args)
          if (Effect.isEffect(result)) return result
          const iterator = result as Generator<YieldWrap<Effect.Effect<any, any, any>>, any, any>
          return Effect.gen(function*() {
            return yield* iterator
          })
        })
        return runWithIds(effect, plan, eventId.id, customerId.id)
      })
    }) as any
}

/**
 * The run the current effect belongs to, if any.
 *
 * @since 0.1.0
 * @category accessors
 */
export const currentRun: Effect.Effect<Option.Option<RunContext>> = Effect.map(
  Effect.serviceOption(CurrentRun),
  Option.map((state) => state.context)
)
