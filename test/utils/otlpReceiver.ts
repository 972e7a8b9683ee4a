/**
 * An OTLP/HTTP receiver for tests: a real server on 127.0.0.1 (an ephemeral port, closed with the scope) taking
 * `POST /v1/traces` and `POST /v1/metrics` in protobuf, decoded with the official OTLP `.proto` files (Debian's
 * `opentelemetry-proto`, installed into `.backends/` by `scripts/otel-backends.sh install`) through protobufjs, so
 * that what is checked is what a collector would read off the wire.
 *
 * Decoded requests are plain objects: field names in camelCase, 64-bit integers (`timeUnixNano`, `intValue`,
 * histogram `count` and `bucketCounts`) as decimal strings so that none loses precision, enums by name
 * (`SPAN_KIND_CLIENT`, `STATUS_CODE_ERROR`, `AGGREGATION_TEMPORALITY_CUMULATIVE`), trace and span ids as lower-case
 * hex, and each `oneof` also named by a field of its own (`data: "sum"` on a metric, `value: "asDouble"` on a point).
 *
 * What it answers is the test's choice, per signal and changeable at any time: accept (200 and an empty export
 * response), reject with a status (429 / 5xx, with `retry-after` if asked: what the OTLP exporter retries; 4xx: what
 * it gives up on), or never answer (the request stays open until the scope closes).
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { existsSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync, inflateSync } from "node:zlib"
import protobuf from "protobufjs"
import { serveWebHandler } from "./httpServer.js"

/** Where `scripts/otel-backends.sh install` puts the official protos: the include root of `opentelemetry/proto/...`. */
export const defaultProtoInclude = fileURLToPath(new URL("../../.backends/root/usr/include", import.meta.url))

const servicePaths = {
  traces: "opentelemetry/proto/collector/trace/v1/trace_service.proto",
  metrics: "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"
} as const

/** The two signals the receiver takes. */
export type Signal = keyof typeof servicePaths

/** What the receiver answers to an export request. */
export type Answer =
  | { readonly _tag: "Accept" }
  | { readonly _tag: "Reject"; readonly status: number; readonly retryAfterSeconds?: number | undefined }
  | { readonly _tag: "NeverAnswer" }

export const Answer = {
  accept: { _tag: "Accept" } as Answer,
  reject: (status: number, options?: { readonly retryAfterSeconds?: number }): Answer => ({
    _tag: "Reject",
    status,
    retryAfterSeconds: options?.retryAfterSeconds
  }),
  neverAnswer: { _tag: "NeverAnswer" } as Answer
} as const

// --- the decoded shapes (the parts tests read; every other field of the protos is there too) --------------------

export interface AnyValue {
  readonly value?:
    | "stringValue"
    | "boolValue"
    | "intValue"
    | "doubleValue"
    | "arrayValue"
    | "kvlistValue"
    | "bytesValue"
  readonly stringValue?: string
  readonly boolValue?: boolean
  readonly intValue?: string
  readonly doubleValue?: number
  readonly arrayValue?: { readonly values: ReadonlyArray<AnyValue> }
  readonly kvlistValue?: { readonly values: ReadonlyArray<KeyValue> }
  readonly bytesValue?: string
}

export interface KeyValue {
  readonly key: string
  readonly value?: AnyValue
}

export interface Resource {
  readonly attributes: ReadonlyArray<KeyValue>
}

export interface InstrumentationScope {
  readonly name: string
  readonly version: string
  readonly attributes: ReadonlyArray<KeyValue>
}

export interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly traceState: string
  readonly name: string
  readonly kind: string
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes: ReadonlyArray<KeyValue>
  readonly droppedAttributesCount: number
  readonly events: ReadonlyArray<
    { readonly name: string; readonly timeUnixNano: string; readonly attributes: ReadonlyArray<KeyValue> }
  >
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
  readonly status: { readonly code: string; readonly message: string }
}

export interface ExportTraceServiceRequest {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource?: Resource
    readonly scopeSpans: ReadonlyArray<{ readonly scope?: InstrumentationScope; readonly spans: ReadonlyArray<Span> }>
  }>
}

export interface NumberDataPoint {
  readonly attributes: ReadonlyArray<KeyValue>
  readonly startTimeUnixNano: string
  readonly timeUnixNano: string
  readonly value?: "asDouble" | "asInt"
  readonly asDouble?: number
  readonly asInt?: string
}

export interface HistogramDataPoint {
  readonly attributes: ReadonlyArray<KeyValue>
  readonly startTimeUnixNano: string
  readonly timeUnixNano: string
  readonly count: string
  readonly sum?: number
  readonly bucketCounts: ReadonlyArray<string>
  readonly explicitBounds: ReadonlyArray<number>
  readonly min?: number
  readonly max?: number
}

export interface Metric {
  readonly name: string
  readonly description: string
  readonly unit: string
  readonly data?: "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary"
  readonly gauge?: { readonly dataPoints: ReadonlyArray<NumberDataPoint> }
  readonly sum?: {
    readonly dataPoints: ReadonlyArray<NumberDataPoint>
    readonly aggregationTemporality: string
    readonly isMonotonic: boolean
  }
  readonly histogram?: {
    readonly dataPoints: ReadonlyArray<HistogramDataPoint>
    readonly aggregationTemporality: string
  }
}

export interface ExportMetricsServiceRequest {
  readonly resourceMetrics: ReadonlyArray<{
    readonly resource?: Resource
    readonly scopeMetrics: ReadonlyArray<
      { readonly scope?: InstrumentationScope; readonly metrics: ReadonlyArray<Metric> }
    >
  }>
}

/** One request as it arrived, whatever was answered. */
export type ReceivedRequest =
  & {
    /** Milliseconds since the epoch, when its body had been read. */
    readonly receivedAt: number
    readonly headers: Readonly<Record<string, string>>
    /** What the receiver answered (`NeverAnswer`: nothing). */
    readonly answer: Answer
  }
  & (
    | { readonly signal: "traces"; readonly body: ExportTraceServiceRequest }
    | { readonly signal: "metrics"; readonly body: ExportMetricsServiceRequest }
  )

export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT`: the OTLP/HTTP base URL (the signals at `/v1/traces`, `/v1/metrics`). */
  readonly url: string
  readonly tracesUrl: string
  readonly metricsUrl: string
  /** Every export request decoded so far, in arrival order, whatever was answered. */
  readonly requests: Effect.Effect<ReadonlyArray<ReceivedRequest>>
  /** The trace export requests that were accepted (what a collector would have kept). */
  readonly traces: Effect.Effect<ReadonlyArray<ExportTraceServiceRequest>>
  /** The metric export requests that were accepted. */
  readonly metrics: Effect.Effect<ReadonlyArray<ExportMetricsServiceRequest>>
  /** Every accepted span, with the resource and scope it came with. */
  readonly spans: Effect.Effect<ReadonlyArray<ReceivedSpan>>
  /** Requests that could not be decoded (wrong path, method, content type or bytes), with what was answered. */
  readonly invalid: Effect.Effect<
    ReadonlyArray<{ readonly path: string; readonly status: number; readonly why: string }>
  >
  /** From now on, answer this (to one signal, or both). */
  readonly answerWith: (answer: Answer, signal?: Signal) => Effect.Effect<void>
}

export interface ReceivedSpan extends Span {
  readonly resource: Readonly<Record<string, unknown>>
  readonly scope: { readonly name: string; readonly version: string }
}

/** Thrown (as a defect) when the official protos are not where `scripts/otel-backends.sh install` puts them. */
export class ProtosMissing extends Error {
  constructor(readonly include: string) {
    super(`the OTLP .proto files are not in ${include}: run \`scripts/otel-backends.sh install\``)
  }
}

// --- decoding -----------------------------------------------------------------------------------------------------

interface Codecs {
  readonly request: Record<Signal, protobuf.Type>
  readonly response: Record<Signal, protobuf.Type>
}

const loadCodecs = (include: string): Codecs => {
  if (!Object.values(servicePaths).every((path) => existsSync(join(include, path)))) throw new ProtosMissing(include)
  const root = new protobuf.Root()
  // The protos import each other from the include root ("opentelemetry/proto/common/v1/common.proto").
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(include, target))
  root.loadSync(Object.values(servicePaths))
  root.resolveAll()
  return {
    request: {
      traces: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"),
      metrics: root.lookupType("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest")
    },
    response: {
      traces: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse"),
      metrics: root.lookupType("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse")
    }
  }
}

const conversion: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  arrays: true,
  oneofs: true
}

const idFields = new Set(["traceId", "spanId", "parentSpanId"])

/** Trace and span ids, base64 after `toObject`, as the hex everyone prints them in; an absent parent stays "". */
const hexIds = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(hexIds)
  if (value === null || typeof value !== "object") return value
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    out[key] = idFields.has(key) && typeof field === "string"
      ? Buffer.from(field, "base64").toString("hex")
      : hexIds(field)
  }
  return out
}

const decode = (type: protobuf.Type, bytes: Uint8Array): unknown =>
  hexIds(type.toObject(type.decode(bytes), conversion))

const unzip = (encoding: string | null, body: Buffer): Buffer =>
  encoding === "gzip" ? gunzipSync(body) : encoding === "deflate" ? inflateSync(body) : body

// --- attribute values ---------------------------------------------------------------------------------------------

/**
 * An OTLP value as the JS value the SDK was given: strings, booleans, doubles; integers as numbers (as `bigint` past
 * `Number.MAX_SAFE_INTEGER`); arrays; key-value lists as records.
 */
export const fromAnyValue = (value: AnyValue | undefined): unknown => {
  switch (value?.value) {
    case undefined:
      return undefined
    case "stringValue":
      return value.stringValue
    case "boolValue":
      return value.boolValue
    case "doubleValue":
      return value.doubleValue
    case "intValue": {
      const big = BigInt(value.intValue!)
      return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big
    }
    case "arrayValue":
      return value.arrayValue!.values.map(fromAnyValue)
    case "kvlistValue":
      return attributesOf(value.kvlistValue!.values)
    case "bytesValue":
      return Buffer.from(value.bytesValue!, "base64")
  }
}

/** OTLP attributes as a record. */
export const attributesOf = (attributes: ReadonlyArray<KeyValue>): Record<string, unknown> =>
  Object.fromEntries(attributes.map((kv) => [kv.key, fromAnyValue(kv.value)]))

// --- the receiver -------------------------------------------------------------------------------------------------

const pathSignal = (path: string): Signal | undefined =>
  path === "/v1/traces" ? "traces" : path === "/v1/metrics" ? "metrics" : undefined

/**
 * Starts a receiver; it stops (and drops requests it never answered) when the scope closes. Dies with
 * `ProtosMissing` when the official protos are not installed.
 */
export const make = (options?: {
  /** What to answer at first; default: accept. */
  readonly answer?: Answer | undefined
  /** The include root holding `opentelemetry/proto/...`; default: `.backends/root/usr/include`. */
  readonly protoInclude?: string | undefined
}): Effect.Effect<OtlpReceiver, never, Scope.Scope> =>
  Effect.gen(function*() {
    const codecs = yield* Effect.sync(() => loadCodecs(options?.protoInclude ?? defaultProtoInclude))
    const answers: Record<Signal, Answer> = {
      traces: options?.answer ?? Answer.accept,
      metrics: options?.answer ?? Answer.accept
    }
    const requests: Array<ReceivedRequest> = []
    const invalid: Array<{ path: string; status: number; why: string }> = []
    const refuse = (path: string, status: number, why: string) => {
      invalid.push({ path, status, why })
      return new Response(why, { status, headers: { "content-type": "text/plain" } })
    }

    const handle = async (request: Request): Promise<Response> => {
      const path = new URL(request.url).pathname
      const signal = pathSignal(path)
      if (signal === undefined) return refuse(path, 404, `no OTLP signal at ${path}`)
      if (request.method !== "POST") return refuse(path, 405, `${request.method} is not POST`)
      const contentType = request.headers.get("content-type") ?? ""
      if (!contentType.startsWith("application/x-protobuf")) {
        return refuse(path, 415, `content-type ${contentType || "(none)"}: this receiver decodes protobuf only`)
      }
      let body: unknown
      try {
        const bytes = unzip(request.headers.get("content-encoding"), Buffer.from(await request.arrayBuffer()))
        body = decode(codecs.request[signal], bytes)
      } catch (error) {
        return refuse(path, 400, `undecodable ${signal} request: ${String(error)}`)
      }
      const answer = answers[signal]
      requests.push({
        signal,
        body,
        receivedAt: Date.now(),
        headers: Object.fromEntries(request.headers),
        answer
      } as ReceivedRequest)
      switch (answer._tag) {
        case "NeverAnswer":
          // The server's release closes every connection, this one included.
          return new Promise<Response>(() => {})
        case "Reject":
          return new Response(null, {
            status: answer.status,
            headers: answer.retryAfterSeconds === undefined ? {} : { "retry-after": String(answer.retryAfterSeconds) }
          })
        case "Accept": {
          const response = codecs.response[signal]
          return new Response(response.encode(response.create({})).finish(), {
            status: 200,
            headers: { "content-type": "application/x-protobuf" }
          })
        }
      }
    }

    const url = yield* serveWebHandler(handle)
    const accepted = <S extends Signal>(signal: S) =>
      Effect.sync(() =>
        requests.filter((request) => request.signal === signal && request.answer._tag === "Accept").map((request) =>
          request.body
        )
      )
    const traces = accepted("traces") as Effect.Effect<ReadonlyArray<ExportTraceServiceRequest>>
    return {
      url,
      tracesUrl: `${url}/v1/traces`,
      metricsUrl: `${url}/v1/metrics`,
      requests: Effect.sync(() => [...requests]),
      traces,
      metrics: accepted("metrics") as Effect.Effect<ReadonlyArray<ExportMetricsServiceRequest>>,
      spans: Effect.map(traces, (bodies) =>
        bodies.flatMap((body) =>
          body.resourceSpans.flatMap((resourceSpans) => {
            const resource = attributesOf(resourceSpans.resource?.attributes ?? [])
            return resourceSpans.scopeSpans.flatMap((scopeSpans) => {
              const scope = { name: scopeSpans.scope?.name ?? "", version: scopeSpans.scope?.version ?? "" }
              return scopeSpans.spans.map((span): ReceivedSpan => ({ ...span, resource, scope }))
            })
          })
        )),
      invalid: Effect.sync(() => [...invalid]),
      answerWith: (answer, signal) =>
        Effect.sync(() => {
          if (signal === undefined || signal === "traces") answers.traces = answer
          if (signal === undefined || signal === "metrics") answers.metrics = answer
        })
    }
  })
