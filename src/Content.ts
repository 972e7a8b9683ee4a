/**
 * Opt-in capture of what a call said: its messages, system instructions, tool-call arguments and results, recorded
 * as the OpenTelemetry GenAI semantic conventions (v1.41) define them, scrubbed, redacted and bounded. Off by
 * default.
 *
 * Turned on by the conventions' environment variable `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`
 * (with every default), or by providing `Content.layer(options)`, which wins over it; `Content.layerDisabled`
 * turns it off whatever the environment says. When on, a tracked LLM call records `gen_ai.system_instructions`,
 * `gen_ai.input.messages` and `gen_ai.output.messages`, and a tracked tool call `gen_ai.tool.call.arguments` and
 * `gen_ai.tool.call.result`: set by hand (`LlmTracker.setInputMessages`, ...), read from OpenAI and Anthropic
 * requests, responses and streams (`usageFrom`, `llmInstrumented`, tracked streams), and by the @effect/ai layer.
 * Content goes onto spans only: never into metrics, the `CostLedger`, budgets or logs, and into the development
 * console only with `Tracking.layerDevelopment({ content: true })`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/content.js"

/**
 * Text sent to or received from the model.
 *
 * @since 0.1.0
 * @category models
 */
export interface TextPart {
  readonly type: "text"
  readonly content: string
}

/**
 * A tool call the model asked for. `arguments` is the parsed object when the provider sent JSON text.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolCallPart {
  readonly type: "tool_call"
  readonly id?: string | null | undefined
  readonly name: string
  readonly arguments?: unknown
}

/**
 * A tool's result sent back to the model.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolCallResponsePart {
  readonly type: "tool_call_response"
  readonly id?: string | null | undefined
  readonly response: unknown
}

/**
 * Reasoning (thinking) content received from the model.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReasoningPart {
  readonly type: "reasoning"
  readonly content: string
}

/**
 * Any other part of the conventions' schema (`blob`, `file`, `uri`, `server_tool_call`,
 * `server_tool_call_response`) or of a provider's own: a `type` and JSON-representable fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface GenericPart {
  readonly type: string
  readonly [key: string]: unknown
}

/**
 * @since 0.1.0
 * @category models
 */
export type Part = TextPart | ToolCallPart | ToolCallResponsePart | ReasoningPart | GenericPart

/**
 * A message sent to the model (`gen_ai.input.messages` holds a list of them, in the order sent). `role` is one of
 * `system`, `user`, `assistant`, `tool` or a provider's own.
 *
 * @since 0.1.0
 * @category models
 */
export interface InputMessage {
  readonly role: string
  readonly parts: ReadonlyArray<Part>
  readonly name?: string | null | undefined
}

/**
 * A message the model answered with, one per choice (`gen_ai.output.messages`). `finish_reason` is one of the
 * conventions' `stop`, `length`, `content_filter`, `tool_call`, `error`, or a provider's own.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutputMessage extends InputMessage {
  readonly finish_reason: string
}

/**
 * A message of one text part, the shorthand the hand methods accept (`{ role: "user", content: "Hi" }`). As an
 * output message, a missing `finish_reason` is recorded as `unknown`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TextMessage {
  readonly role: string
  readonly content: string
  readonly name?: string | null | undefined
  readonly finish_reason?: string | undefined
}

/**
 * What a call's capture holds when it is recorded: an LLM call's instructions and messages, a tool call's arguments
 * and result. This is what a `redact` hook receives and returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface Captured {
  /** `gen_ai.system_instructions`. */
  readonly systemInstructions?: ReadonlyArray<Part> | undefined
  /** `gen_ai.input.messages`. */
  readonly inputMessages?: ReadonlyArray<InputMessage> | undefined
  /** `gen_ai.output.messages`. */
  readonly outputMessages?: ReadonlyArray<OutputMessage> | undefined
  /** `gen_ai.tool.call.arguments`. */
  readonly toolArguments?: unknown
  /** `gen_ai.tool.call.result`. */
  readonly toolResult?: unknown
}

/**
 * The built-in scrubbers: e-mail addresses, phone numbers, card numbers (Luhn-checked) and credentials (the
 * patterns of `Redaction`).
 *
 * @since 0.1.0
 * @category models
 */
export type Scrubber = "email" | "phone" | "card" | "credentials"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<R = never> {
  /** The fraction of calls whose content is captured, decided once per call from Effect's `Random`; default 1. */
  readonly sampleRate?: number | undefined
  /** The built-in scrubbers to run on every string of the content, before `redact`; default `["credentials"]`. */
  readonly scrub?: ReadonlyArray<Scrubber> | undefined
  /**
   * The app's own redaction, run once per call on the scrubbed content before anything is recorded (it may call a
   * PII service). A failure, a defect, an interruption or a timeout drops the call's content, with a warning.
   */
  readonly redact?: ((content: Captured) => Effect.Effect<Captured, unknown, R>) | undefined
  /** How long `redact` may take; default 1 second. */
  readonly redactTimeout?: Duration.DurationInput | undefined
  /** Characters of content per message (its parts together); default 8,192. */
  readonly maxMessageChars?: number | undefined
  /** Characters of content per call, all its content attributes together; default 32,768, at most 65,536. */
  readonly maxCallChars?: number | undefined
}

/**
 * The environment variable of the semantic conventions that turns capture on, with every default: `true` (or
 * `span_only` / `span_and_event`, as other instrumentations read it), trimmed, in any case. Read once, when the
 * first tracked call starts; `Content.layer` and `Content.layerDisabled` win over it.
 *
 * @since 0.1.0
 * @category constants
 */
export const EnvVariable: "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" = internal.envVariable

/**
 * Turns content capture on for the effects it is provided to, with `options` (see `Options`; every one has a
 * default). Options are read guarded: a bad value (a wrong type, a getter that throws) is a warning logged once
 * when the layer is built, and its default is used; `sampleRate` outside 0..1 is clamped (a NaN rate is 0, nothing
 * captured), `maxMessageChars` and `maxCallChars` to 1..65,536. The `redact` hook's requirements are taken from
 * the layer's own context when it is built, and provided to the hook on every call.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Content, Tracking } from "@botanu/effect"
 *
 * const TrackingLive = Layer.merge(
 *   Tracking.layer({ serviceName: "support-bot" }),
 *   Content.layer({ sampleRate: 0.1, scrub: ["credentials", "email", "phone", "card"] })
 * )
 * Effect.void.pipe(Effect.provide(TrackingLive), Effect.runPromise)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(options?: Options<R>): Layer.Layer<never, never, R> =>
  Layer.effectContext(Effect.flatMap(Effect.context<R>(), (context) => {
    const warnings: Array<string> = []
    const policy = internal.makePolicy(options, context, (line) => warnings.push(line))
    return Effect.as(
      Effect.forEach(warnings, (line) => Effect.logWarning(`Content.layer: ${line}`), { discard: true }),
      Context.make(internal.CurrentContentPolicy, policy)
    )
  }))

/**
 * Turns content capture off for the effects it is provided to, whatever `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`
 * says: for a service that must never record content, or a part of an app that handles data it must not.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<never> = Layer.succeedContext(
  Context.make(internal.CurrentContentPolicy, internal.disabled)
)

/**
 * A `redact` hook made of a function of one string: it receives every string of the content in turn (text and
 * reasoning, the string values of tool-call arguments, tool results and other parts, messages' `name`s; not roles,
 * ids, tool names, finish reasons or object keys) and answers what to record instead. Strings are handed over one
 * at a time unless `concurrency` says otherwise. Its failure drops the call's content, as any hook's does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Content } from "@botanu/effect"
 *
 * // An app's PII service, as an Effect (an HTTP call, say).
 * declare const anonymize: (text: string) => Effect.Effect<string, Error>
 *
 * const ContentLive = Content.layer({
 *   redact: Content.redactText(anonymize, { concurrency: 4 }),
 *   redactTimeout: "2 seconds"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const redactText = <E, R>(
  f: (text: string) => Effect.Effect<string, E, R>,
  options?: { readonly concurrency?: number | "unbounded" | undefined }
): (content: Captured) => Effect.Effect<Captured, E, R> => internal.redactText(f, options?.concurrency)
