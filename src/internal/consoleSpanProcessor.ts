import type * as OtelApi from "@opentelemetry/api"
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base"

const statusCodeError = 2

const formatValue = (value: OtelApi.AttributeValue | undefined): string =>
  Array.isArray(value) ? `[${value.join(", ")}]` : String(value)

const durationMs = (span: ReadableSpan): number => span.duration[0] * 1e3 + span.duration[1] / 1e6

/**
 * Prints each finished span as a short, indented block. A processor rather than an exporter because the nesting
 * depth is only known when a span starts.
 *
 * @internal
 */
export class ConsoleSpanProcessor implements SpanProcessor {
  private readonly depths = new Map<string, number>()

  constructor(private readonly write: (line: string) => void) {}

  onStart(span: Span): void {
    const parentId = span.parentSpanContext?.spanId
    const parentDepth = parentId === undefined ? undefined : this.depths.get(parentId)
    this.depths.set(span.spanContext().spanId, parentDepth === undefined ? 0 : parentDepth + 1)
  }

  onEnd(span: ReadableSpan): void {
    const id = span.spanContext().spanId
    const depth = this.depths.get(id) ?? 0
    this.depths.delete(id)
    const indent = "  ".repeat(depth)
    const attributes = span.attributes
    const status = attributes["status.interrupted"] === true
      ? "INTERRUPTED"
      : span.status.code === statusCodeError
      ? `ERROR ${span.status.message ?? ""}`.trimEnd()
      : "OK"
    const lines = [`${indent}▸ ${span.name}  ${durationMs(span).toFixed(1)}ms  ${status}`]
    const pairs = Object.keys(attributes).sort().map((key) => `${key}=${formatValue(attributes[key])}`)
    if (pairs.length > 0) lines.push(`${indent}    ${pairs.join("  ")}`)
    for (const event of span.events) {
      const message = event.attributes?.["exception.message"]
      lines.push(`${indent}    • ${event.name}${message === undefined ? "" : `: ${formatValue(message)}`}`)
    }
    this.write(lines.join("\n"))
  }

  forceFlush(): Promise<void> {
    return Promise.resolve()
  }

  shutdown(): Promise<void> {
    this.depths.clear()
    return Promise.resolve()
  }
}
