import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { identity } from "effect/Function"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import {
  GenAiRequestStream,
  GenAiResponseTimeToFirstChunk,
  RequestStreaming,
  StreamChunks,
  UsagePartial
} from "../Attributes.js"
import type { LlmStreamOptions, StreamUsageFrom } from "../LlmStream.js"
import { LlmTracker } from "../LlmTracker.js"
import * as Metrics from "../Metrics.js"
import * as ContentStream from "./contentStream.js"
import { LlmCall, type LlmCallPlan, plan as callPlan } from "./llmCall.js"
import { readOptions } from "./sanitize.js"
import * as StreamUsage from "./streamUsage.js"
import * as trackedSpan from "./trackedSpan.js"

/**
 * A call plan, plus how to read the chunks: worked out once when the tracked stream is built.
 *
 * @internal
 */
export interface LlmStreamPlan {
  readonly call: LlmCallPlan
  readonly usage: (() => StreamUsage.StreamUsage) | undefined
}

const spanKind: Tracer.SpanKind = "client"

const streamOptionKeys = ["usageFrom"] as const satisfies ReadonlyArray<keyof LlmStreamOptions>

/** @internal */
export const plan = (options: LlmStreamOptions): LlmStreamPlan => {
  // The call's own `usageFrom` reads a complete response, which a stream never hands over: chunks are read here.
  const call = callPlan(options, false)
  const warnings = [...call.warnings]
  const warn = (line: string) => warnings.push(line)
  const { usageFrom } = readOptions(options, streamOptionKeys, warn)
  const usage = usageFrom === undefined ? undefined : StreamUsage.resolve(usageFrom as StreamUsageFrom, warn)
  return { call: { ...call, warnings }, usage }
}

/**
 * One run of a tracked stream: its `LlmCall` (so attempts, runs, cost, ledger and metrics are a call's, and so is
 * nesting: a stream inside a tracked call makes that call a wrapper, a tracked call or stream inside this stream
 * makes this one a wrapper), the chunk reader, and the timings. Only counters: no chunk is kept (with content
 * capture on, the streamed text is accumulated, bounded, to be recorded as the output when the stream ends).
 */
class StreamRun implements trackedSpan.TrackedCall {
  private chunks = 0
  private firstNanos: bigint | undefined = undefined
  private lastNanos: bigint | undefined = undefined
  private completed = false
  private readonly startNanos: bigint
  private readonly content: ContentStream.StreamContent | undefined

  constructor(
    readonly call: LlmCall,
    private readonly clock: Clock.Clock,
    private readonly usage: StreamUsage.StreamUsage | undefined
  ) {
    const status = call.span.status
    this.startNanos = status._tag === "Started" ? status.startTime : clock.unsafeCurrentTimeNanos()
    call.set(RequestStreaming, true)
    call.set(GenAiRequestStream, true)
    this.content = call.content === undefined || !call.plan.readsContent ? undefined : ContentStream.make()
  }

  /** Sees each chunk of elements as it passes and hands the very same chunk on, so nothing waits on tracking. */
  readonly observe = <A>(elements: Chunk.Chunk<A>): Chunk.Chunk<A> => {
    try {
      const count = elements.length
      if (count === 0) return elements
      const now = this.clock.unsafeCurrentTimeNanos()
      const usage = this.usage
      const content = this.content
      if (usage !== undefined || content !== undefined) {
        const array = Chunk.toReadonlyArray(elements)
        for (let i = 0; i < count; i++) {
          usage?.observe(array[i])
          content?.observe(array[i])
        }
      }
      // A wrapper's chunks are those of the tracked stream inside it, which times them itself.
      const timed = this.call.wrappedCalls === 0
      if (this.firstNanos === undefined) {
        this.firstNanos = now
      } else if (timed) {
        const labels = this.call.plan.series.outcome(this.responseModel(), undefined).duration
        Metrics.timePerOutputChunk.unsafeUpdate(Number(now - this.lastNanos!) / 1e9, labels)
      }
      // Elements that arrive together (one Effect chunk) are zero apart: that is when they arrived.
      if (count > 1 && timed) {
        const labels = this.call.plan.series.outcome(this.responseModel(), undefined).duration
        for (let i = 1; i < count; i++) Metrics.timePerOutputChunk.unsafeUpdate(0, labels)
      }
      this.lastNanos = now
      this.chunks += count
    } catch {
      // Tracking never changes the stream.
    }
    return elements
  }

  readonly complete = Effect.sync(() => {
    this.completed = true
  })

  private responseModel(): string | undefined {
    return this.call.responseModel ?? this.usage?.responseModel()
  }

  /**
   * The streamed output (partial when the stream did not complete: `finish_reason` `interrupted` where none came),
   * unless set by hand, then the call's own content recorded (see `TrackedCall.prepare`).
   */
  prepare(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined {
    const content = this.content
    const captured = this.call.content
    if (captured === undefined) return undefined
    if (content !== undefined) {
      this.call.guard("content", () => {
        const output = content.result(this.completed)
        if (output !== undefined) captured.output(output, false)
      })
    }
    return this.call.prepare(exit)
  }

  /** Ends the call exactly once, whatever ended the stream: its end, a failure, an interruption or the consumer. */
  readonly end = (
    exit: Exit.Exit<unknown, unknown>,
    endNanos: bigint = this.clock.unsafeCurrentTimeNanos()
  ): Effect.Effect<void> | undefined => {
    const call = this.call
    try {
      call.set(StreamChunks, this.chunks)
      if (!this.completed) call.set(UsagePartial, true)
      if (this.firstNanos !== undefined) {
        call.set(GenAiResponseTimeToFirstChunk, Number(this.firstNanos - this.startNanos) / 1e9)
      }
      if (this.usage !== undefined) call.recordUsage(this.usage.result(this.completed))
      const followUp = call.end(exit, endNanos)
      if (this.firstNanos !== undefined && call.wrappedCalls === 0) {
        const labels = call.plan.series.outcome(call.responseModel, call.errorType).duration
        Metrics.timeToFirstChunk.unsafeUpdate(Number(this.firstNanos - this.startNanos) / 1e9, labels)
      }
      return followUp
    } catch {
      // Tracking never changes the stream's outcome.
      return undefined
    }
  }
}

/** The context of the stream's own effects: inside the call's span, with the call as their `LlmTracker`. */
const inside = (run: StreamRun, context: Context.Context<never>): Context.Context<LlmTracker> =>
  trackedSpan.insideSpan(context, run.call.span, LlmTracker, run.call)

/**
 * Tracks a stream as one LLM call per run: the span opens when the stream starts running and ends when the stream
 * itself reaches its end, not when the consumer's scope closes (which may be long after: the consumer's own work
 * must not count in the call's duration); a stream that fails, is interrupted or is left by its consumer before its
 * end ends its span then. Either way exactly once. The stream's own effects run inside the span, with the
 * `LlmTracker` provided; the chunks are seen as they pass and handed on as they came.
 *
 * @internal
 */
export const track = <A, E, R>(
  self: Stream.Stream<A, E, R>,
  plan: LlmStreamPlan
): Stream.Stream<A, E, Exclude<R, LlmTracker>> =>
  Stream.fromChannel(
    trackedSpan.channel(
      plan.call.spanName,
      spanKind,
      (span, clock, context, services) =>
        new StreamRun(new LlmCall(span, plan.call, clock, context, services), clock, plan.usage?.()),
      (run, context, end) =>
        Stream.toChannel(self).pipe(
          Channel.mapOut(run.observe),
          Channel.provideContext(inside(run, context) as Context.Context<R>),
          // Reached only at the stream's own end (a stream left before it has its usage marked partial), and outside
          // the span, which it ends: its follow-up (a warning logged) must not be written to that span.
          Channel.zipRight(Channel.fromEffect(Effect.zipRight(run.complete, end(Exit.void))))
        )
    )
  ) as Stream.Stream<A, E, Exclude<R, LlmTracker>>

/**
 * An SDK's stream (an async iterable, or a promise of one) as a tracked `Stream`. The request is made when the
 * stream runs, with an `AbortSignal` that aborts when the stream is interrupted before the SDK answers; after that,
 * ending the stream ends the iteration (`return()`), which the SDKs answer by closing the connection. A rejection,
 * or a failure while iterating, is the stream's failure as it is.
 *
 * @internal
 */
export const fromAsyncIterable = <A>(
  evaluate: (signal: AbortSignal) => AsyncIterable<A> | PromiseLike<AsyncIterable<A>>,
  plan: LlmStreamPlan
): Stream.Stream<A, unknown> =>
  track(
    Stream.unwrap(
      Effect.map(
        Effect.tryPromise({ try: async (signal) => await evaluate(signal), catch: identity }),
        (iterable) => Stream.fromAsyncIterable(iterable, identity)
      )
    ),
    plan
  )
