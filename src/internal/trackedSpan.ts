import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { endSpan } from "./spanRecorder.js"

/** @internal */
export interface TrackedCall {
  /**
   * Records the outcome on the span; must not throw. `endNanos` is when the outcome was known (the span's end time,
   * taken before `prepare` ran). May hand back a rare follow-up (a warning to log).
   */
  readonly end: (exit: Exit.Exit<unknown, unknown>, endNanos: bigint) => Effect.Effect<void> | undefined
  /**
   * Work to do before `end` that may take time (the app's redaction of captured content): run once, with the span
   * no longer current (the outer context restored) and the end time already taken, so that neither the span nor
   * the duration metric counts it. Must not throw; its effect must not fail.
   */
  readonly prepare?: ((exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void> | undefined) | undefined
  /** A tracer for everything the call's effect does (a run's, which writes the run's ids onto every span). */
  readonly tracer?: Tracer.Tracer | undefined
}

/**
 * Makes the call's state for a span just made: `context` is the context it was made in, `services` the fiber's
 * default services (its `Random`, for a decision drawn once per call).
 *
 * @internal
 */
export type Make<S> = (
  span: Tracer.Span,
  clock: Clock.Clock,
  context: Context.Context<never>,
  services: Context.Context<never>
) => S & TrackedCall

/** The state of a tracked span: the span, and the call's own state built with it. */
interface Started<S> {
  readonly span: Tracer.Span
  readonly call: S & TrackedCall
  readonly clock: Clock.Clock
  /** The context the span was made in, which is restored when the span's region ends. */
  readonly outer: Context.Context<never>
  /** Set by the one `finish` that ends the call. */
  ended: boolean
  /** When the outcome was first known: `prepare` ran (or started) then, and the span ends at that time. */
  endNanos: bigint | undefined
}

/**
 * Makes the call's state for a span just made, synchronously, in the fiber that made it. Both ways of tracking
 * below call it in the same uninterruptible step that made the span and that ensures its end: so an interruption
 * cannot land between a span's creation and the region that ends it, and leave it open.
 */
const start = <S>(fiber: Fiber.RuntimeFiber<unknown, unknown>, span: Tracer.Span, make: Make<S>): Started<S> => {
  const services = fiber.currentDefaultServices
  const clock = Context.get(services, Clock.Clock)
  const outer = fiber.currentContext
  return { span, call: make(span, clock, outer, services), clock, outer, ended: false, endNanos: undefined }
}

/** Ends the call once: its outcome recorded, then its span ended; hands back the call's follow-up, if any. */
const finish = (
  started: Started<unknown>,
  exit: Exit.Exit<unknown, unknown>,
  endNanos: bigint
): Effect.Effect<void> | undefined => {
  if (started.ended) return undefined
  started.ended = true
  const followUp = started.call.end(exit, endNanos)
  endSpan(started.span, endNanos, exit)
  return followUp
}

/**
 * Ends the call once, with the outer context current: the end time taken now, the call's `prepare` run (once, even
 * if a second close comes while it runs: a scope closing after an interrupted `end`), then `finish`, which runs
 * whatever happens to `prepare`.
 */
const close = (started: Started<unknown>, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined => {
  if (started.ended) return undefined
  const first = started.endNanos === undefined
  const endNanos = started.endNanos ??= started.clock.unsafeCurrentTimeNanos()
  let prepared: Effect.Effect<void> | undefined
  if (first) {
    try {
      prepared = started.call.prepare?.(exit)
    } catch {
      // Tracking never changes the call's outcome.
    }
  }
  if (prepared === undefined) return finish(started, exit, endNanos)
  return Effect.ensuring(prepared, Effect.suspend(() => finish(started, exit, endNanos) ?? Effect.void))
}

/**
 * `context` with `span` as the parent span and `service` under `tag`: the context of what a tracked effect or stream
 * does. One copy of the context's services with both added, where two `Context.add` would copy them twice.
 *
 * @internal
 */
export const insideSpan = <R, I, S>(
  context: Context.Context<R>,
  span: Tracer.AnySpan,
  tag: Context.Tag<I, S>,
  service: S
): Context.Context<R | I> => {
  const services = new Map(context.unsafeMap)
  services.set(Tracer.ParentSpan.key, span)
  services.set(tag.key, service)
  return Context.unsafeMake(services)
}

/**
 * The fiber's own way of setting one of its `FiberRef`s, which `FiberRef.set` runs as an operation of its own (two,
 * with its `withFiberRuntime`). Every Effect fiber has it, but it is not part of `RuntimeFiber`'s public type: so it
 * is looked for, and a fiber without it (a later runtime) gets the operations instead.
 */
interface SettableFiber {
  setFiberRef<X>(fiberRef: FiberRef.FiberRef<X>, value: X): void
}

/**
 * `direct: false` takes the operations even where the fiber has `setFiberRef`: for the tests, which check that both
 * ways record the same.
 *
 * @internal
 */
export const fiberAccess = { direct: true }

const settable = (fiber: Fiber.RuntimeFiber<unknown, unknown>): SettableFiber | undefined =>
  fiberAccess.direct && typeof (fiber as Partial<SettableFiber>).setFiberRef === "function"
    ? fiber as unknown as SettableFiber
    : undefined

/** Sets the fiber's context, then goes on with `next`: in this very step where the fiber can, else after `FiberRef.set`. */
const inContext = <X, E>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  context: Context.Context<never>,
  next: () => Effect.Effect<X, E>
): Effect.Effect<X, E> => {
  const fast = settable(fiber)
  if (fast === undefined) return Effect.flatMap(FiberRef.set(FiberRef.currentContext, context), next)
  fast.setFiberRef(FiberRef.currentContext, context)
  return next()
}

/** The parent Effect gives a span made in `context`: the nearest enclosing span that propagates. */
const parentIn = (context: Context.Context<never>): Option.Option<Tracer.AnySpan> => {
  let parent = Context.getOption(context, Tracer.ParentSpan)
  while (parent._tag === "Some" && Context.get(parent.value.context, Tracer.DisablePropagation)) {
    parent = parent.value._tag === "Span" ? parent.value.parent : Option.none()
  }
  return parent
}

const bigint0 = BigInt(0)

/** The options of a tracked span, one object per kind: no stack trace is captured per span. */
const optionsByKind: { readonly [K in Tracer.SpanKind]: Tracer.SpanOptions } = {
  internal: { kind: "internal", captureStackTrace: false },
  client: { kind: "client", captureStackTrace: false },
  server: { kind: "server", captureStackTrace: false },
  producer: { kind: "producer", captureStackTrace: false },
  consumer: { kind: "consumer", captureStackTrace: false }
}

/**
 * The span `Effect.makeSpan(name, { kind })` would make in this fiber, made in the caller's step instead of two
 * operations of its own: the fiber's tracer, the enclosing span that propagates as parent, the fiber's span links
 * and annotations, its clock when timing is on. With tracing off there is no span to make here (Effect makes a
 * span that records nothing): `undefined`, and the caller takes `Effect.makeSpan`.
 */
const unsafeMakeSpan = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  name: string,
  kind: Tracer.SpanKind
): Tracer.Span | undefined => {
  if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) return undefined
  const startTime = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
    ? Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeNanos()
    : bigint0
  const span = fiber.currentTracer.span(
    name,
    parentIn(fiber.currentContext),
    Context.empty(),
    Chunk.toReadonlyArray(fiber.getFiberRef(FiberRef.currentTracerSpanLinks)),
    startTime,
    kind,
    optionsByKind[kind]
  )
  const annotations = fiber.getFiberRef(FiberRef.currentTracerSpanAnnotations)
  if (HashMap.size(annotations) > 0) HashMap.forEach(annotations, (value, key) => span.attribute(key, value))
  return span
}

/** `f` of a new span of `kind`: made in this step where it can be (see `unsafeMakeSpan`), else by `Effect.makeSpan`. */
const withNewSpan = <X, E>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  name: string,
  kind: Tracer.SpanKind,
  f: (span: Tracer.Span) => Effect.Effect<X, E>
): Effect.Effect<X, E> => {
  const span = unsafeMakeSpan(fiber, name, kind)
  return span === undefined ? Effect.flatMap(Effect.makeSpan(name, optionsByKind[kind]), f) : f(span)
}

/**
 * Runs `self` inside a new span with `service` provided, and ends the span once with the outcome: the one way the
 * library opens the span of a tracked effect (LLM and tool calls, agents, runs).
 *
 * Every Effect operation costs, and more while a span is current (the @effect/opentelemetry bridge enters an
 * OpenTelemetry context for it): so this does in one step of one guarded region what `Effect.withSpan` plus
 * `Effect.provideService` plus `Effect.onExit` would do in about fifteen operations: the span made, the context
 * set, and in the exit handler the context restored and the outcome recorded.
 *
 * @internal
 */
export const track = <A, E, R, I, S>(
  self: Effect.Effect<A, E, R>,
  name: string,
  kind: Tracer.SpanKind,
  tag: Context.Tag<I, S>,
  make: Make<S>
): Effect.Effect<A, E, Exclude<R, I>> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiberRuntime<A, E>((fiber) =>
      withNewSpan(fiber, name, kind, (span) => {
        const started = start(fiber, span, make)
        const tracer = started.call.tracer
        const body = restore(tracer === undefined ? self : Effect.withTracer(self, tracer)) as Effect.Effect<A, E>
        const context = insideSpan(started.outer, span, tag, started.call)
        const release = (exit: Exit.Exit<A, E>): Effect.Effect<A, E> =>
          inContext(fiber, started.outer, () => {
            const followUp = close(started, exit)
            return followUp === undefined ? exit : Effect.zipRight(followUp, exit)
          })
        return inContext(fiber, context, () =>
          Effect.matchCauseEffect(body, {
            onFailure: (cause) => release(Exit.failCause(cause)),
            onSuccess: (value) => release(Exit.succeed(value))
          }))
      })
    )
  )

/**
 * A channel inside a new span (a tracked stream, which runs in pieces rather than as one effect): `use` gets the
 * call's state, the context the span was made in, and `end`, and builds the channel that runs with the span current.
 * The span is made, and its end ensured, in one uninterruptible step when the channel starts, and it ends exactly
 * once: when the owner says (`end`: a stream that reached its own end, which must not wait for the consumer's scope:
 * a consumer that pulls, `Stream.toPull`, keeps the channel's finalizers until its scope closes), else when the
 * channel is done with, with its exit (a failure, an interruption, the consumer leaving before the end).
 *
 * This is what `Channel.withSpan` does, with one change of context instead of Effect's, so a tracked stream costs
 * about what `Stream.withSpan` costs: a scope of its own, a context read and a `mapInputContext` around the stream
 * would take some 400 more Effect operations every time it runs.
 *
 * @internal
 */
export const channel = <S, OutElem, InElem, OutErr, InErr, OutDone, InDone, Env>(
  name: string,
  kind: Tracer.SpanKind,
  make: Make<S>,
  use: (
    call: S & TrackedCall,
    context: Context.Context<never>,
    end: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
  ) => Channel.Channel<OutElem, InElem, OutErr, InErr, OutDone, InDone, Env>
): Channel.Channel<OutElem, InElem, OutErr, InErr, OutDone, InDone, Env> =>
  Channel.acquireUseRelease(
    Effect.withFiberRuntime<Started<S>>((fiber) =>
      withNewSpan(fiber, name, kind, (span) => Effect.succeed(start(fiber, span, make)))
    ),
    (started) => use(started.call, started.outer, (exit) => Effect.suspend(() => close(started, exit) ?? Effect.void)),
    (started, exit) => close(started, exit) ?? Effect.void
  )
