import type * as Resource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import * as OtelApi from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Supervisor from "effect/Supervisor"
import * as Tracer from "effect/Tracer"
import { otelSpanOf } from "./spanRecorder.js"

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
 * The OpenTelemetry context of the last step run with a span of the bridge current: the Effect span, its SDK span,
 * the context that was active and the one made from it with the SDK span. A fiber's consecutive steps run with the
 * same span from the same active context, so one entry serves nearly every step; it holds the last ones only.
 */
const lastSpanContext = globalValue("@botanu/effect/otelGlobals/lastSpanContext", () => ({
  effectSpan: undefined as Tracer.AnySpan | undefined,
  span: undefined as OtelApi.Span | undefined,
  parent: undefined as OtelApi.Context | undefined,
  context: undefined as OtelApi.Context | undefined
}))

/** The SDK span of an Effect span, when it is one of the bridge's and propagates; else `undefined`. */
const bridgeSpanOf = (span: Tracer.AnySpan): OtelApi.Span | undefined =>
  span._tag === "Span" && !Context.get(span.context, Tracer.DisablePropagation) ? otelSpanOf(span) : undefined

/**
 * What the bridge's `context` does for a step with one of its spans current, without its cost on each step: the
 * bridge makes a new OpenTelemetry context (a copy of the active one, with the SDK span) and enters it, for every
 * Effect operation. The context entered here is the same, but made once while the span and the active context
 * stay the same, and not entered when it holds the span already (a step resumed from a callback registered inside
 * the span), where it would hold the same values. A span that is not the bridge's, or does not propagate, is left to
 * the bridge's own `context`.
 */
const runInSpan = <X>(
  bridge: Tracer.Tracer,
  execution: () => X,
  fiber: Fiber.RuntimeFiber<any, any>,
  current: Tracer.AnySpan
): X => {
  const last = lastSpanContext
  const active = OtelApi.context.active()
  if (current === last.effectSpan) {
    if (active === last.context) return execution()
    if (active === last.parent) return OtelApi.context.with(last.context!, execution)
  }
  const span = current === last.effectSpan ? last.span! : bridgeSpanOf(current)
  if (span === undefined) return bridge.context(execution, fiber)
  if (OtelApi.trace.getSpan(active) === span) return execution()
  const context = OtelApi.trace.setSpan(active, span)
  last.effectSpan = current
  last.span = span
  last.parent = active
  last.context = context
  return OtelApi.context.with(context, execution)
}

/**
 * The fiber whose base context was looked up last, and that context: a fiber runs many steps in a row, and a
 * WeakMap lookup on each of them is most of what a step without a span costs here.
 */
const lastBase = globalValue("@botanu/effect/otelGlobals/lastBase", () => ({
  fiber: undefined as Fiber.RuntimeFiber<unknown, unknown> | undefined,
  context: undefined as OtelApi.Context | undefined
}))

const baseContextOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): OtelApi.Context => {
  const last = lastBase
  if (last.fiber === fiber && last.context !== undefined) return last.context
  let base = baseContexts.get(fiber)
  if (base === undefined) {
    base = OtelApi.context.active()
    baseContexts.set(fiber, base)
  }
  last.fiber = fiber
  last.context = base
  return base
}

/**
 * With a context manager, a fiber that resumes in a callback registered while a span was current (a promise that
 * settled, a timer, the scheduler's next batch) finds that span's context in AsyncLocalStorage, long after the span
 * ended. The bridge sets the context only for a fiber with a current Effect span, so the steps of one without keep
 * the stale context: its next root span would become a child of an earlier call, and plain code would see that
 * call as active. This tracer runs such steps in the context the fiber started in instead. A fiber started before
 * the layer was built (the main one) was not seen starting: its context is the one of its first step seen here.
 *
 * `bridge` says that `tracer` is the bridge's own: the steps with one of its spans current then enter the same
 * context as the bridge would, more cheaply (see `runInSpan`). Any other tracer keeps its own `context` for them.
 *
 * @internal
 */
export const withBaseContext = (tracer: Tracer.Tracer, bridge: boolean = false): Tracer.Tracer => ({
  ...tracer,
  context(execution, fiber) {
    const current = fiber.currentSpan
    if (current !== undefined) {
      return bridge
        ? runInSpan(tracer, execution, fiber, current)
        : tracer.context(execution, fiber)
    }
    const base = baseContextOf(fiber)
    return OtelApi.context.active() === base ? execution() : OtelApi.context.with(base, execution)
  }
})

/**
 * The bridge's tracer, entering the context of its spans as `withBaseContext` does, for layers that register no
 * context manager: a step without a span runs as the bridge runs it, in whatever context is active.
 *
 * @internal
 */
export const tracerLayerWithoutGlobals: Layer.Layer<
  OtelTracer.OtelTracer,
  never,
  Resource.Resource | OtelTracer.OtelTracerProvider
> = Layer.unwrapEffect(Effect.map(OtelTracer.make, (tracer) =>
  Layer.setTracer({
    ...tracer,
    context(execution, fiber) {
      const current = fiber.currentSpan
      return current === undefined ? execution() : runInSpan(tracer, execution, fiber, current)
    }
  }))).pipe(Layer.provideMerge(OtelTracer.layerTracer))

/**
 * The bridge's tracer, made to keep each fiber in its own OpenTelemetry context (see `withBaseContext`); for
 * layers that register a context manager.
 *
 * @internal
 */
export const tracerLayer: Layer.Layer<OtelTracer.OtelTracer, never, Resource.Resource | OtelTracer.OtelTracerProvider> =
  Layer.unwrapEffect(Effect.map(OtelTracer.make, (tracer) => Layer.setTracer(withBaseContext(tracer, true)))).pipe(
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
