import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Tracer from "effect/Tracer"
import { endSpan } from "./spanRecorder.js"

/** @internal */
export interface TrackedCall {
  /** Records the outcome on the span; must not throw. May hand back a rare follow-up (a warning to log). */
  readonly end: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void> | undefined
}

/**
 * Runs `self` inside a new span with `service` provided, and ends the span once with the outcome.
 *
 * Every Effect operation that runs while a span is current pays for the @effect/opentelemetry bridge entering an
 * OpenTelemetry context, so this does with one guarded region (set the context, run, restore it and record the
 * outcome) what `Effect.withSpan` plus `Effect.provideService` plus `Effect.onExit` would do with three, and with
 * fewer operations than `Effect.acquireUseRelease` would take for it.
 *
 * @internal
 */
export const track = <A, E, R, I, S>(
  self: Effect.Effect<A, E, R>,
  name: string,
  options: Tracer.SpanOptions,
  tag: Context.Tag<I, S>,
  make: (span: Tracer.Span, clock: Clock.Clock, context: Context.Context<never>) => S & TrackedCall
): Effect.Effect<A, E, Exclude<R, I>> =>
  Effect.flatMap(Effect.makeSpan(name, options), (span) =>
    Effect.withFiberRuntime((fiber) => {
      const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
      const outer = fiber.currentContext
      const call = make(span, clock, outer)
      const context = Context.add(Context.add(outer, Tracer.ParentSpan, span), tag, call)
      // Every operation between setting the context and restoring it runs with the span current.
      const release = (exit: Exit.Exit<A, E>): Effect.Effect<A, E> =>
        Effect.flatMap(FiberRef.set(FiberRef.currentContext, outer), () => {
          const followUp = call.end(exit)
          endSpan(span, clock.unsafeCurrentTimeNanos(), exit)
          return followUp === undefined ? exit : Effect.zipRight(followUp, exit)
        })
      return Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          FiberRef.set(FiberRef.currentContext, context),
          () =>
            Effect.matchCauseEffect(restore(self as Effect.Effect<A, E>), {
              onFailure: (cause) => release(Exit.failCause(cause)),
              onSuccess: (value) => release(Exit.succeed(value))
            })
        )
      )
    }))
