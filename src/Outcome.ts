/**
 * Business outcomes: what a run achieved, recorded on its run span so that its cost can be set against its value.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { cut, maxNameChars } from "./internal/limits.js"
import * as internal from "./internal/outcome.js"
import { describe } from "./internal/sanitize.js"
import type { AttributeValue } from "./LlmTracker.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const OutcomeStatus = {
  SUCCESS: "success",
  PARTIAL: "partial",
  FAILED: "failed",
  TIMEOUT: "timeout",
  CANCELED: "canceled",
  ABANDONED: "abandoned"
} as const

/**
 * @since 0.1.0
 * @category models
 */
export type OutcomeStatus = typeof OutcomeStatus[keyof typeof OutcomeStatus]

const statuses: ReadonlySet<unknown> = new Set(Object.values(OutcomeStatus))

/**
 * @since 0.1.0
 * @category refinements
 */
export const isOutcomeStatus = (u: unknown): u is OutcomeStatus => statuses.has(u)

/**
 * @since 0.1.0
 * @category models
 */
export interface OutcomeOptions {
  /** What kind of value the run produced (`ticket_resolved`, `lead_qualified`). */
  readonly valueType?: string | undefined
  /** How much of it, in the unit `valueType` implies; any finite number. */
  readonly valueAmount?: number | undefined
  /** Between 0 and 1. */
  readonly confidence?: number | undefined
  readonly reason?: string | undefined
  /** For an unsuccessful outcome: the kind of problem, in your own vocabulary. */
  readonly errorType?: string | undefined
  /** One attribute each, as `botanu.outcome.metadata.<key>`. */
  readonly metadata?: Readonly<Record<string, AttributeValue>> | undefined
}

/**
 * The status given to `emitOutcome` is not one of the `OutcomeStatus` values. Only possible when the status is
 * typed `string` (read from a model's answer, a queue message): a literal is checked at compile time.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOutcomeStatus extends Data.TaggedError("InvalidOutcomeStatus")<{
  readonly status: unknown
  readonly message: string
}> {}

const invalid = (status: unknown) =>
  new InvalidOutcomeStatus({
    status,
    message: `Invalid outcome status ${
      // Never the value itself: a hostile one (a Proxy) could throw on being printed, a long string fill the log.
      typeof status === "string" ? JSON.stringify(cut(status, maxNameChars)) : describe(status)}: expected one of ${
      [...statuses].join(", ")
    }`
  })

/**
 * Records what the current run achieved. Inside a run it writes to the RUN span (whatever span is current):
 * `botanu.outcome.status`, `.value_type`, `.value_amount`, `.confidence`, `.reason`, `.error_type`,
 * `.metadata.<key>`, and an event `botanu.outcome_emitted`; a run whose program emitted an outcome keeps it at
 * completion. Outside a run it writes to the current span, if any. Either way it logs one record through effect's
 * `Logger`, annotated with the run's ids, so that an app exporting logs to OpenTelemetry gets an outcome record.
 *
 * A late outcome, from a fiber that outlived its run (a daemon, a fiber that was never joined) or, outside a run,
 * that outlived the current span (a fiber forked in a tracked call), cannot go onto that span: an ended span takes
 * nothing more. It is recorded in one warning log record instead, `botanu: late outcome <status> for run <id>`,
 * annotated with the run's ids (`botanu.run_id`, `.workflow`, `.event_id`, `.customer_id`), the status, the fields,
 * the metadata, any warnings (`botanu.tracking.warnings`) and `botanu.outcome.late` = `true`, and tied to the
 * ended span's trace. The span and the run keep what they had at completion. The library's tracking layers export
 * no logs: to get the record into OpenTelemetry, add a log exporter (@effect/opentelemetry's `Logger`, or
 * `NodeSdk.layer` with a `logRecordProcessor`); without one it goes to your Effect logger as any warning does.
 *
 * A later call overwrites the status and the fields it gives. Option values that cannot be recorded (a `NaN`
 * confidence, say) are dropped with a line in `botanu.tracking.warnings`; the program is never failed for them.
 *
 * A status typed `OutcomeStatus` cannot be wrong, so the error channel is `never`; a status that is only known to
 * be a `string` gets `InvalidOutcomeStatus` in its error channel, and fails with it when it is not a valid one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { emitOutcome } from "@botanu/effect"
 *
 * const resolved = emitOutcome("success", { valueType: "ticket_resolved", valueAmount: 1, confidence: 0.92 })
 * const fromModel = (answer: string) => emitOutcome(answer) // Effect<void, InvalidOutcomeStatus>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const emitOutcome: {
  (status: OutcomeStatus, options?: OutcomeOptions): Effect.Effect<void>
  <S extends string>(
    status: string extends S ? S : OutcomeStatus,
    options?: OutcomeOptions
  ): Effect.Effect<void, InvalidOutcomeStatus>
} =
  ((status: unknown, options?: OutcomeOptions): Effect.Effect<void, InvalidOutcomeStatus> =>
    isOutcomeStatus(status) ? internal.emit(status, options) : Effect.fail(invalid(status))) as any
