import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Tracer from "effect/Tracer"

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
 * outcome) what `Effect.withSpan` plus `Effect.provideService` plus `Effect.onExit` would do with three.
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
      return Effect.acquireUseRelease(
        FiberRef.set(FiberRef.currentContext, context),
        () => self as Effect.Effect<A, E>,
        (_, exit) =>
          Effect.flatMap(FiberRef.set(FiberRef.currentContext, outer), () => {
            const followUp = call.end(exit)
            if (span.status._tag === "Started") span.end(clock.unsafeCurrentTimeNanos(), exit)
            return followUp ?? Effect.void
          })
      )
    }))
