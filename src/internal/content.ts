import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import {
  ContentDropped,
  ContentDroppedRedactionFailed,
  ContentDroppedRedactionTimeout,
  ContentTruncated
} from "../Attributes.js"
import type { Captured, Options, Scrubber } from "../Content.js"
import { bound, mapStrings, slots } from "./contentBounds.js"
import { fromCaptured, isEmpty, normalize, type Normalized, type Raw, Reader } from "./contentNormalize.js"
import * as Scrub from "./contentScrub.js"
import { errorType } from "./errors.js"
import { defaultContentCallChars, defaultContentMessageChars, maxContentCallChars } from "./limits.js"
import { describe, readOptions, type Warn } from "./sanitize.js"
import { SpanRecorder } from "./spanRecorder.js"

// --- the policy --------------------------------------------------------------------------------------------------

/**
 * Whether and how calls capture their content: read once by each call when it starts. Off, a call's `content` is
 * `undefined` and nothing else of this module runs for it.
 *
 * @internal
 */
export interface Policy {
  readonly enabled: boolean
  /** In (0, 1]: below 1, each call draws from its fiber's `Random`. */
  readonly sampleRate: number
  readonly scrub: Scrub.Scrub | undefined
  /** The app's hook, with the context it was given when its layer was built already provided. */
  readonly redact: ((content: Captured) => Effect.Effect<unknown, unknown>) | undefined
  readonly redactTimeout: Duration.Duration
  readonly maxMessageChars: number
  readonly maxCallChars: number
}

/** The environment variable of the semantic conventions that turns capture on. @internal */
export const envVariable = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

const defaultScrubbers: ReadonlyArray<Scrubber> = ["credentials"]
const defaultTimeout = Duration.seconds(1)

/** @internal */
export const disabled: Policy = {
  enabled: false,
  sampleRate: 0,
  scrub: undefined,
  redact: undefined,
  redactTimeout: defaultTimeout,
  maxMessageChars: defaultContentMessageChars,
  maxCallChars: defaultContentCallChars
}

/** On, with every default: what the environment variable turns on. @internal */
export const defaults: Policy = {
  ...disabled,
  enabled: true,
  sampleRate: 1,
  scrub: Scrub.compile(new Set(defaultScrubbers))
}

// The values other instrumentations read from it: `true`, and the two of OpenTelemetry's Python GenAI packages.
const onValues: ReadonlySet<string> = new Set(["true", "span_only", "span_and_event"])

/**
 * Whether a value of `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` turns capture on: `true`, `span_only` or
 * `span_and_event`, trimmed, in any case; anything else (unset included) leaves it off.
 *
 * @internal
 */
export const isOn = (value: string | undefined): boolean =>
  typeof value === "string" && onValues.has(value.trim().toLowerCase())

/** @internal */
export const fromEnv = (value: string | undefined): Policy => isOn(value) ? defaults : disabled

const readEnv = (): string | undefined => {
  try {
    return typeof process === "undefined" ? undefined : process.env[envVariable]
  } catch {
    return undefined
  }
}

/**
 * The policy calls read. Its default comes from the environment, read once, the first time a call reads it (the
 * value of a `Context.Reference`'s default is kept); `Content.layer` and `Content.layerDisabled` provide another.
 *
 * @internal
 */
export class CurrentContentPolicy extends Context.Reference<CurrentContentPolicy>()(
  "@botanu/effect/Content/Policy",
  { defaultValue: (): Policy => fromEnv(readEnv()) }
) {}

const optionKeys = [
  "sampleRate",
  "scrub",
  "redact",
  "redactTimeout",
  "maxMessageChars",
  "maxCallChars"
] as const satisfies ReadonlyArray<keyof Options>

/** A character bound: an integer from 1 to `maxContentCallChars`, else clamped or defaulted with a warning. */
const chars = (field: string, value: unknown, fallback: number, warn: Warn): number => {
  if (value === undefined) return fallback
  if (typeof value !== "number" || Number.isNaN(value)) {
    warn(`${field}: ${describe(value)} is not a number; ${fallback} used`)
    return fallback
  }
  const rounded = Math.round(value)
  const clamped = Math.min(maxContentCallChars, Math.max(1, rounded))
  if (clamped !== value) warn(`${field}: ${value} is not an integer from 1 to ${maxContentCallChars}; ${clamped} used`)
  return clamped
}

const rate = (value: unknown, warn: Warn): number => {
  if (value === undefined) return 1
  if (typeof value !== "number") {
    warn(`sampleRate: ${describe(value)} is not a number; 1 used`)
    return 1
  }
  if (Number.isNaN(value)) {
    // Capturing content is what needs a reason: a rate that says nothing captures nothing.
    warn("sampleRate: NaN is not a rate; 0 used (nothing is captured)")
    return 0
  }
  const clamped = Math.min(1, Math.max(0, value))
  if (clamped !== value) warn(`sampleRate: ${value} is not from 0 to 1; ${clamped} used`)
  return clamped
}

const scrubbers = (value: unknown, warn: Warn): Scrub.Scrub | undefined => {
  if (value === undefined) return defaults.scrub
  let list: ReadonlyArray<unknown>
  try {
    if (!Array.isArray(value)) {
      warn(`scrub: ${describe(value)} is not a list of scrubbers; ${defaultScrubbers.join(", ")} used`)
      return defaults.scrub
    }
    list = Array.from(value as ReadonlyArray<unknown>)
  } catch {
    warn(`scrub: failed to read; ${defaultScrubbers.join(", ")} used`)
    return defaults.scrub
  }
  const named = new Set<Scrubber>()
  for (const item of list) {
    if (typeof item === "string" && Scrub.names.has(item)) named.add(item as Scrubber)
    else {warn(
        `scrub: ${typeof item === "string" ? `"${item.slice(0, 32)}"` : describe(item)} is not a scrubber ` +
          `(${Array.from(Scrub.names).join(", ")}); ignored`
      )}
  }
  return Scrub.compile(named)
}

const timeout = (value: unknown, warn: Warn): Duration.Duration => {
  if (value === undefined) return defaultTimeout
  const decoded = Duration.decodeUnknown(value)
  if (Option.isNone(decoded) || !Duration.isFinite(decoded.value) || Duration.toMillis(decoded.value) <= 0) {
    warn(`redactTimeout: ${describe(value)} is not a finite duration above zero; 1 second used`)
    return defaultTimeout
  }
  return decoded.value
}

/**
 * The policy of `Content.layer`: on, its options validated (each bad one is a warning and its default), the hook
 * given `context`.
 *
 * @internal
 */
export const makePolicy = (given: unknown, context: Context.Context<never>, warn: Warn): Policy => {
  const options = readOptions(given, optionKeys, warn)
  const sampleRate = rate(options.sampleRate, warn)
  const hook = options.redact
  let redact: Policy["redact"]
  if (typeof hook === "function") {
    redact = (content) =>
      Effect.suspend(() => {
        const out: unknown = (hook as (content: Captured) => unknown)(content)
        return Effect.isEffect(out)
          ? Effect.provide(out as Effect.Effect<unknown, unknown>, context)
          : Effect.die(new NotAnEffect())
      })
  } else if (hook !== undefined) {
    warn(`redact: ${describe(hook)} is not a function; ignored`)
  }
  const maxCallChars = chars("maxCallChars", options.maxCallChars, defaultContentCallChars, warn)
  return {
    enabled: sampleRate > 0,
    sampleRate,
    scrub: scrubbers(options.scrub, warn),
    redact,
    redactTimeout: timeout(options.redactTimeout, warn),
    maxMessageChars: chars("maxMessageChars", options.maxMessageChars, defaultContentMessageChars, warn),
    maxCallChars
  }
}

class NotAnEffect {
  readonly _tag = "NotAnEffect"
}

/**
 * Whether this call captures its content: always at rate 1; else drawn from the calling fiber's `Random` (so that a
 * seeded `Random` or `TestRandom` decides it), once.
 */
const sampled = (policy: Policy, services: Context.Context<never>): boolean => {
  const sampleRate = policy.sampleRate
  if (sampleRate >= 1) return true
  try {
    const random = Context.unsafeGet(services, Random.Random)
    return Effect.runSync(random.next) < sampleRate
  } catch {
    return false
  }
}

// --- the capture of one call -------------------------------------------------------------------------------------

/** The fields a capture holds, each with whether it was set by hand (which what is read from payloads never replaces). */
class Field {
  value: unknown = undefined
  hand = false

  set(value: unknown, hand: boolean): void {
    if (hand || !this.hand) {
      this.value = value
      this.hand = hand
    }
  }
}

/**
 * The content of one tracked LLM call, which exists only when capture is on for it. Values are kept as given (read
 * and normalized when the call ends); every method is synchronous, guarded and never throws. A value set by hand
 * (`hand`) is never replaced by one read from a payload.
 *
 * @internal
 */
export class LlmContent {
  private readonly systemField = new Field()
  private readonly inputField = new Field()
  private readonly outputField = new Field()

  constructor(readonly policy: Policy, private readonly recorder: SpanRecorder) {}

  /** `gen_ai.system_instructions`: a string, a part or a list of parts. */
  system(instructions: unknown, hand: boolean): void {
    this.systemField.set(instructions, hand)
  }

  /** `gen_ai.input.messages`. */
  input(messages: unknown, hand: boolean): void {
    this.inputField.set(messages, hand)
  }

  /** `gen_ai.output.messages`. */
  output(messages: unknown, hand: boolean): void {
    this.outputField.set(messages, hand)
  }

  /** Records what was captured, once, when the call ends (see `record`). */
  record(): Effect.Effect<void> | undefined {
    return record(this.policy, this.recorder, false, {
      system: this.systemField.value,
      input: this.inputField.value,
      output: this.outputField.value
    })
  }
}

/**
 * The content of one tracked tool call: its arguments and its result (see `LlmContent`).
 *
 * @internal
 */
export class ToolContent {
  private readonly argsField = new Field()
  private readonly resultField = new Field()

  constructor(readonly policy: Policy, private readonly recorder: SpanRecorder) {}

  /** `gen_ai.tool.call.arguments`. */
  arguments(value: unknown, hand: boolean): void {
    this.argsField.set(value, hand)
  }

  /** `gen_ai.tool.call.result`. */
  result(value: unknown, hand: boolean): void {
    this.resultField.set(value, hand)
  }

  /** Whether a result was set by hand (`setResultContent`), which the tool's success value does not replace. */
  get handResult(): boolean {
    return this.resultField.hand
  }

  record(): Effect.Effect<void> | undefined {
    return record(this.policy, this.recorder, true, { args: this.argsField.value, result: this.resultField.value })
  }
}

/**
 * The capture of a tracked LLM call starting now under `policy` (its context's `CurrentContentPolicy`), or
 * `undefined` when capture is off or this call is not sampled: nothing more is done when it is off.
 *
 * @internal
 */
export const forLlmCall = (
  policy: Policy,
  services: Context.Context<never>,
  recorder: SpanRecorder
): LlmContent | undefined => {
  if (!policy.enabled || !sampled(policy, services)) return undefined
  return new LlmContent(policy, recorder)
}

/**
 * The capture of a tracked tool call starting now. A tool call that starts inside a tracked LLM call (`llmCall`,
 * the `LlmTracker` of its context) follows that call's decision, so a sampled conversation keeps its tools' content
 * and an unsampled one has none; else it decides for itself.
 *
 * @internal
 */
export const forToolCall = (
  context: Context.Context<never>,
  services: Context.Context<never>,
  llmCall: unknown,
  recorder: SpanRecorder
): ToolContent | undefined => {
  const policy = Context.get(context, CurrentContentPolicy)
  if (!policy.enabled) return undefined
  // Only the library's LLM calls are recorders with a `content` field (see `LlmCall.content`).
  const decided = llmCall instanceof SpanRecorder && "content" in llmCall
    ? (llmCall as { readonly content: unknown }).content !== undefined
    : sampled(policy, services)
  return decided ? new ToolContent(policy, recorder) : undefined
}

// --- the pipeline ------------------------------------------------------------------------------------------------

const dropped = (recorder: SpanRecorder, reason: string, why: string): void => {
  recorder.addWarning(`content: ${why}; the call's content is dropped`)
  recorder.set(ContentDropped, reason)
}

/** The capture as the `redact` hook sees it: the keys of `Captured`. */
const toCaptured = (n: Normalized): Captured => {
  const out: { -readonly [K in keyof Captured]: Captured[K] } = {}
  if (n.system !== undefined) out.systemInstructions = n.system
  if (n.input !== undefined) out.inputMessages = n.input
  if (n.output !== undefined) out.outputMessages = n.output as unknown as Captured["outputMessages"]
  if (n.args !== undefined) out.toolArguments = n.args
  if (n.result !== undefined) out.toolResult = n.result
  return out
}

/** Bounds, serializes and writes a capture to the call's span. */
const write = (policy: Policy, n: Normalized, truncated: boolean, recorder: SpanRecorder): void => {
  const bounded = bound(n, policy.maxMessageChars, policy.maxCallChars, recorder.warn)
  for (const [key, value] of bounded.attributes) recorder.set(key, value)
  if (truncated || bounded.cut) recorder.set(ContentTruncated, true)
}

/**
 * What a call captured, recorded when it ends: read and normalized (bounded reads, every value guarded), scrubbed,
 * handed to the app's `redact` hook (whose answer is read as hand input is), bounded, serialized and written to the
 * span. Without a hook all of it is done here and nothing is handed back; with one, the effect that runs it, which
 * never fails: the hook's failure, defect, interruption, timeout or malformed answer drops all of the call's
 * content, with a warning and `botanu.content.dropped`.
 */
const record = (policy: Policy, recorder: SpanRecorder, tool: boolean, raw: Raw): Effect.Effect<void> | undefined => {
  let reader: Reader
  let normalized: Normalized
  try {
    reader = new Reader(recorder.warn)
    normalized = normalize(reader, raw)
    if (isEmpty(normalized)) return undefined
    if (policy.scrub !== undefined) mapStrings(normalized, policy.scrub)
  } catch (e) {
    // A bug of ours, never a caller's value (those are guarded one by one): the call's content is not recorded.
    recorder.addWarning(`content: failed to read (${errorType(e)}); not recorded`)
    return undefined
  }
  const redact = policy.redact
  if (redact === undefined) {
    recorder.guard("content", () => write(policy, normalized, reader.truncated, recorder))
    return undefined
  }
  const timeout = policy.redactTimeout
  return Effect.flatMap(
    // Disconnected, so that a hook that ignores its interruption cannot hold the call past the timeout either.
    Effect.exit(Effect.interruptible(Effect.timeoutOption(Effect.disconnect(redact(toCaptured(normalized))), timeout))),
    (exit) =>
      Effect.sync(() =>
        recorder.guard("content", () => {
          if (exit._tag === "Failure") {
            const cause = exit.cause
            const failure = Cause.failureOption(cause)
            const why = Option.isSome(failure)
              ? `redact failed (${errorType(failure.value)})`
              : Cause.isInterruptedOnly(cause)
              ? "redact was interrupted"
              : Option.match(Cause.dieOption(cause), {
                onNone: () => "redact failed",
                onSome: (defect) =>
                  defect instanceof NotAnEffect
                    ? "redact returned something that is not an Effect"
                    : `redact died (${errorType(defect)})`
              })
            return dropped(recorder, ContentDroppedRedactionFailed, why)
          }
          if (Option.isNone(exit.value)) {
            return dropped(
              recorder,
              ContentDroppedRedactionTimeout,
              `redact took longer than ${Duration.format(timeout)}`
            )
          }
          const answer = fromCaptured(exit.value.value)
          if (answer === undefined) {
            return dropped(recorder, ContentDroppedRedactionFailed, `redact answered ${describe(exit.value.value)}`)
          }
          const again = new Reader(recorder.warn)
          const redacted = normalize(
            again,
            tool ? { args: answer.args, result: answer.result } : {
              system: answer.system,
              input: answer.input,
              output: answer.output
            }
          )
          write(policy, redacted, reader.truncated || again.truncated, recorder)
        })
      )
  )
}

// --- Content.redactText ------------------------------------------------------------------------------------------

/**
 * `Content.redactText`: a hook that rewrites every string of content with `f` (see `slots`), the answers in order.
 * The capture is copied as it is read, so `f` never sees (nor changes) the caller's values.
 *
 * @internal
 */
export const redactText = <E, R>(
  f: (text: string) => Effect.Effect<string, E, R>,
  concurrency: number | "unbounded" | undefined
) =>
(content: Captured): Effect.Effect<Captured, E, R> =>
  Effect.suspend(() => {
    const copy = normalize(new Reader(() => {}), fromCaptured(content) ?? {})
    const strings = slots(copy, true)
    return Effect.map(
      Effect.forEach(
        strings,
        (slot) =>
          Effect.map(f((slot.holder as Record<string | number, string>)[slot.key]), (text) => {
            ;(slot.holder as Record<string | number, unknown>)[slot.key] = text
          }),
        { discard: true, concurrency: concurrency ?? 1 }
      ),
      () => toCaptured(copy)
    )
  })
