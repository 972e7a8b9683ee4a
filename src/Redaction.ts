/**
 * No secrets in telemetry: one redactor that every piece of error text the library records passes through
 * (`error.message`, the `exception` event, the span status description, `botanu.tracking.warnings`, the development
 * console), and a span processor that applies it to what the @effect/opentelemetry bridge records itself when a span
 * fails.
 *
 * Built in: API keys (OpenAI `sk-...` and `sk-proj-...`, Anthropic `sk-ant-...`, Google `AIza...`, AWS access key ids,
 * GitHub, Slack and Stripe tokens, JSON web tokens), `Bearer` and `Basic` credentials, `Authorization`, `api-key`,
 * `x-api-key`, `cookie` and password fields (header lines, JSON, `name=value`), and credentials in URLs (`user:pass@`,
 * `key=`, `api_key=`, `apikey=`, `token=`, `access_token=`, `secret=`, `password=`, `sig=` ...). Each match becomes
 * `[REDACTED]`. The patterns are precompiled and linear in the text's length, and run only on error text.
 *
 * @since 0.1.0
 */
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as internal from "./internal/redact.js"

/**
 * What a redacted secret is replaced with.
 *
 * @since 0.1.0
 * @category constants
 */
export const Marker: "[REDACTED]" = internal.Redacted

/**
 * The whole text, when the app's own pattern or function throws: the call goes on, the text is not recorded.
 *
 * @since 0.1.0
 * @category constants
 */
export const FailedMarker: "[REDACTION FAILED]" = internal.RedactionFailed

/**
 * @since 0.1.0
 * @category models
 */
export interface Redactor {
  readonly redact: (text: string) => string
}

/**
 * The app's additions to the built-in patterns: `patterns` (each match becomes `[REDACTED]`; a pattern without the
 * `g` flag is applied as if it had it), then `redact`, which receives the text with everything else redacted. Both
 * must be linear-time: they run on error text the app does not control.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly patterns?: ReadonlyArray<RegExp> | undefined
  readonly redact?: ((text: string) => string) | undefined
}

/**
 * The built-in redactor, followed by the app's patterns and function. Whatever of the app's throws (or returns
 * something other than a string) makes the text `[REDACTION FAILED]`, never the call fail.
 *
 * @example
 * ```ts
 * import { Redaction } from "@botanu/effect"
 *
 * const redactor = Redaction.make({ patterns: [/acme_[0-9a-f]{32}/g] })
 * redactor.redact("rejected acme_0123456789abcdef0123456789abcdef") // "rejected [REDACTED]"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Redactor = internal.make

/**
 * The built-in redactor.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultRedactor: Redactor = internal.defaultRedactor

/**
 * Redacts `text` with the built-in patterns.
 *
 * @since 0.1.0
 * @category utils
 */
export const redact = (text: string): string => internal.defaultRedactor.redact(text)

/**
 * Whether an attribute or metadata key names a credential, and its value is recorded as `[REDACTED]`: a key that
 * ends with `authorization`, `api_key` / `api-key` / `apikey`, `password`, `secret`, `token`, `cookie`,
 * `credentials` or `private_key`, case-insensitive, at the start of the key, after a separator (`x-api-key`,
 * `botanu.auth.token`, `llm.openai_api_key`, `set-cookie`) or as a camel-case word (`accessToken`). Token counts
 * (`gen_ai.usage.input_tokens`, `max_tokens`) are not tokens.
 *
 * @since 0.1.0
 * @category utils
 */
export const isCredentialKey: (key: string) => boolean = internal.isCredentialKey

/**
 * The redactor that tracked calls use, read where they record error text (never on the success path). The built-in
 * one unless a layer provides another.
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentRedactor extends Context.Reference<CurrentRedactor>()(
  "@botanu/effect/Redaction/CurrentRedactor",
  { defaultValue: (): Redactor => internal.defaultRedactor }
) {}

/**
 * Adds the app's own patterns or function to the built-in ones. Provided to the tracking layer with
 * `Layer.provideMerge`, it also reaches the span processor that the layer installs, which redacts what the
 * @effect/opentelemetry bridge records on spans that are not the library's (see the README):
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Redaction, Tracking } from "@botanu/effect"
 *
 * const TrackingLive = Tracking.layer({ serviceName: "support-bot" }).pipe(
 *   Layer.provideMerge(Redaction.layer({ patterns: [/acme_[0-9a-f]{32}/g] }))
 * )
 * Effect.void.pipe(Effect.provide(TrackingLive), Effect.runPromise)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<CurrentRedactor> =>
  Layer.succeed(CurrentRedactor, internal.make(options))

/**
 * Wraps a span processor so that what it receives is redacted: the status description and `exception` events that
 * the @effect/opentelemetry bridge records when a span fails, and `error.message` and URL attributes. The library's
 * layers install it themselves; an app with its own `NodeSdk.layer` wraps its processor:
 * `spanProcessor: Redaction.spanProcessor(new BatchSpanProcessor(exporter))`. `options` are the same as `layer`'s;
 * a span of the library's own is redacted with the redactor its call ran with.
 *
 * @since 0.1.0
 * @category constructors
 */
export const spanProcessor = (inner: SpanProcessor, options: Options = {}): SpanProcessor =>
  new internal.RedactingSpanProcessor(inner, internal.make(options))
