import type * as Resource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import * as OtelApi from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Supervisor from "effect/Supervisor"
import type * as Tracer from "effect/Tracer"

/** What one build of a layer registered, so that its release undoes exactly that and nothing an app set. */
interface Registered {
  readonly context: boolean
  readonly trace: boolean
  readonly propagation: boolean
}

// The @effect/opentelemetry bridge runs each step of a fiber inside `OtelApi.context.with(...)`; without a context
// manager that call does nothing, and code that is not Effect (an SDK's own span, `trace.getActiveSpan()`, an
// auto-instrumented HTTP client) sees no parent. Each `set*` refuses, and returns false, when the app registered
// its own: the app's setup always wins.
const registerContextManager = (): boolean => {
  const manager = new AsyncLocalStorageContextManager().enable()
  const registered = OtelApi.context.setGlobalContextManager(manager)
  if (!registered) manager.disable()
  return registered
}

const release = (registered: Registered): Effect.Effect<void> =>
  Effect.sync(() => {
    if (registered.propagation) OtelApi.propagation.disable()
    if (registered.trace) OtelApi.trace.disable()
    if (registered.context) OtelApi.context.disable()
  })

/** The OpenTelemetry context each fiber started in, by fiber. */
const baseContexts = globalValue(
  "@botanu/effect/otelGlobals/baseContexts",
  () => new WeakMap<Fiber.RuntimeFiber<unknown, unknown>, OtelApi.Context>()
)

/**
 * Notes the context a fiber starts in: the caller's for a fiber a runtime starts (a server's request handler, run
 * inside the request's span), its parent's current one for a forked fiber. Both are read synchronously, in the
 * right context, which the fiber's own later steps may not be.
 */
class BaseContextSupervisor extends Supervisor.AbstractSupervisor<void> {
  readonly value = Effect.void
  override onStart<A, E, R>(
    _context: Context.Context<R>,
    _effect: Effect.Effect<A, E, R>,
    _parent: Option.Option<Fiber.RuntimeFiber<any, any>>,
    fiber: Fiber.RuntimeFiber<A, E>
  ): void {
    baseContexts.set(fiber, OtelApi.context.active())
  }
}

/**
 * With a context manager, a fiber that resumes in a callback registered while a span was current (a promise that
 * settled, a timer, the scheduler's next batch) finds that span's context in AsyncLocalStorage, long after the span
 * ended. The bridge sets the context only for a fiber with a current Effect span, so the steps of one without keep
 * the stale context: its next root span would become a child of an earlier call, and plain code would see that
 * call as active. This tracer runs such steps in the context the fiber started in instead. A fiber started before
 * the layer was built (the main one) was not seen starting: its context is the one of its first step seen here.
 *
 * @internal
 */
export const withBaseContext = (tracer: Tracer.Tracer): Tracer.Tracer => ({
  ...tracer,
  context(execution, fiber) {
    if (fiber.currentSpan !== undefined) return tracer.context(execution, fiber)
    let base = baseContexts.get(fiber)
    if (base === undefined) {
      base = OtelApi.context.active()
      baseContexts.set(fiber, base)
    }
    return OtelApi.context.active() === base ? execution() : OtelApi.context.with(base, execution)
  }
})

/**
 * The bridge's tracer, made to keep each fiber in its own OpenTelemetry context (see `withBaseContext`); for
 * layers that register a context manager.
 *
 * @internal
 */
export const tracerLayer: Layer.Layer<OtelTracer.OtelTracer, never, Resource.Resource | OtelTracer.OtelTracerProvider> =
  Layer.unwrapEffect(Effect.map(OtelTracer.make, (tracer) => Layer.setTracer(withBaseContext(tracer)))).pipe(
    Layer.merge(Supervisor.addSupervisor(new BaseContextSupervisor())),
    Layer.provideMerge(OtelTracer.layerTracer)
  )

/**
 * Registers, for the layer's lifetime, what the OpenTelemetry NodeSDK registers when it starts: an
 * AsyncLocalStorage context manager, the layer's tracer provider as the global one, and the W3C trace-context and
 * baggage propagators. Each only when the app has not registered its own.
 *
 * @internal
 */
export const layer: Layer.Layer<never, never, OtelTracer.OtelTracerProvider> = Layer.scopedDiscard(
  Effect.flatMap(OtelTracer.OtelTracerProvider, (provider) =>
    Effect.acquireRelease(
      Effect.sync((): Registered => ({
        context: registerContextManager(),
        trace: OtelApi.trace.setGlobalTracerProvider(provider),
        propagation: OtelApi.propagation.setGlobalPropagator(
          new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] })
        )
      })),
      release
    ))
)

/**
 * For an app that keeps its own tracer (`NodeSdk.layer`, which registers no context manager): the context manager,
 * and that tracer made to keep each fiber in its own context. Built after the app's layer, so as to wrap its tracer.
 *
 * @internal
 */
export const layerContextManager: Layer.Layer<never> = Layer.mergeAll(
  Layer.scopedDiscard(
    Effect.acquireRelease(
      Effect.sync((): Registered => ({ context: registerContextManager(), trace: false, propagation: false })),
      release
    )
  ),
  Layer.unwrapEffect(Effect.map(Effect.tracer, (tracer) => Layer.setTracer(withBaseContext(tracer)))),
  Supervisor.addSupervisor(new BaseContextSupervisor())
)
