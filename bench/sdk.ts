/**
 * The OpenTelemetry pipeline ends every bench script uses, so that what is timed is the library and the SDK, never
 * an exporter or a reader doing work.
 */
import { ExportResultCode } from "@opentelemetry/core"
import { MetricReader } from "@opentelemetry/sdk-metrics"
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base"

/** Drops every span, or keeps them while `capture` is on (for the checks made before timing). */
export class DroppingExporter implements SpanExporter {
  capture = false
  readonly captured: Array<ReadableSpan> = []
  export(spans: Array<ReadableSpan>, done: (result: { code: ExportResultCode }) => void): void {
    if (this.capture) this.captured.push(...spans)
    done({ code: ExportResultCode.SUCCESS })
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

/** A metric reader that never collects. */
export class IdleReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}
