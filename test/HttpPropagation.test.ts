import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Option, Schedule } from "effect"
import {
  botanuWorkflow,
  currentRun,
  emitOutcome,
  HttpPropagation,
  type RunContext,
  TrackingTest,
  trackLlmCall
} from "../src/index.js"
import { serveApp } from "./utils/httpServer.js"

interface Seen {
  readonly baggage: string | null
  readonly traceparent: string | null
  readonly run: RunContext | null
}

// The downstream service: it reports what it received and what run it believes it serves, and makes an LLM call.
const downstream = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  yield* Effect.void.pipe(trackLlmCall({ provider: "openai", model: "downstream-model" }))
  const run = yield* currentRun
  if (request.url.startsWith("/nested")) {
    yield* Effect.void.pipe(
      trackLlmCall({ provider: "openai", model: "nested-model" }),
      botanuWorkflow("billing", { eventId: "invoice-1", customerId: "acme" })
    )
  }
  if (request.url.startsWith("/outcome")) yield* emitOutcome("partial", { reason: "downstream" })
  const seen: Seen = {
    baggage: request.headers["baggage"] ?? null,
    traceparent: request.headers["traceparent"] ?? null,
    run: Option.getOrNull(run)
  }
  return yield* HttpServerResponse.json(seen)
})

const startDownstream = serveApp(downstream, HttpPropagation.middleware)

type Downstream = Effect.Effect.Success<typeof startDownstream>

const isHttpServerSpan = (span: ReadableSpan) =>
  span.kind === SpanKind.SERVER && span.attributes["url.path"] !== undefined

/** The downstream service's finished spans, once its server span has ended (it ends after the response is sent). */
const downstreamSpans = (service: Downstream) =>
  Effect.promise(() => service.runtime.runPromise(TrackingTest.finishedSpans)).pipe(
    Effect.filterOrFail((spans) => spans.some(isHttpServerSpan)),
    Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 200 }),
    Effect.orDie
  )

const resetDownstream = (service: Downstream) => Effect.promise(() => service.runtime.runPromise(TrackingTest.reset))

const onlySpan = (spans: ReadonlyArray<ReadableSpan>, predicate: (span: ReadableSpan) => boolean) => {
  const matching = spans.filter(predicate)
  assert.strictEqual(matching.length, 1, `one matching span among ${spans.map((span) => span.name)}`)
  return matching[0]
}

const idsOf = (span: ReadableSpan) => ({
  runId: span.attributes["botanu.run_id"],
  workflow: span.attributes["botanu.workflow"],
  eventId: span.attributes["botanu.event_id"],
  customerId: span.attributes["botanu.customer_id"]
})

const getJson = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    return (yield* response.json) as Seen
  })

const provideClient = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.provide(self, Layer.merge(TrackingTest.layer, FetchHttpClient.layer))

describe("HttpPropagation: a run continues across a real HTTP boundary", () => {
  it.live("an HttpClient request inside a run carries baggage; the middleware restores the run downstream", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const customerId = "Acme, Inc; ü=1 % two"
      const seen = yield* getJson(`${service.url}/ticket`).pipe(
        botanuWorkflow("support", { eventId: "T-1001", customerId })
      )
      const upstreamRun = (yield* TrackingTest.finishedSpans).find((span) => span.name === "botanu.run/support")!
      const runId = upstreamRun.attributes["botanu.run_id"] as string

      // On the wire: W3C baggage next to traceparent, percent-encoded, only the four ids.
      assert.isNotNull(seen.traceparent)
      assert.isNotNull(seen.baggage)
      const members = seen.baggage!.split(",")
      assert.deepStrictEqual(members.map((member) => member.split("=")[0]), [
        "botanu.run_id",
        "botanu.workflow",
        "botanu.event_id",
        "botanu.customer_id"
      ])
      assert.include(seen.baggage!, `botanu.run_id=${runId}`)
      assert.notInclude(seen.baggage!, customerId)
      assert.include(seen.baggage!, `botanu.customer_id=${encodeURIComponent(customerId)}`)
      assert.notMatch(seen.baggage!, /[ ;"\\]/)

      // Downstream, the same run, continued (its run span stays upstream).
      assert.deepStrictEqual(seen.run, {
        runId,
        workflow: "support",
        eventId: "T-1001",
        customerId,
        environment: seen.run!.environment,
        rootRunId: runId,
        remote: true
      } as unknown as RunContext)
      const spans = yield* downstreamSpans(service)
      assert.isFalse(spans.some((span) => span.name.startsWith("botanu.run/")))
      const server = onlySpan(spans, (span) => span.kind === SpanKind.SERVER)
      const llm = onlySpan(spans, (span) => span.name === "chat downstream-model")
      const expected = { runId, workflow: "support", eventId: "T-1001", customerId }
      assert.deepStrictEqual(idsOf(server), expected)
      assert.deepStrictEqual(idsOf(llm), expected)

      // One trace: the downstream server span is the child of the upstream client span.
      const upstreamClient = onlySpan(yield* TrackingTest.finishedSpans, (span) => span.kind === SpanKind.CLIENT)
      assert.deepStrictEqual(idsOf(upstreamClient), expected)
      assert.strictEqual(server.spanContext().traceId, upstreamRun.spanContext().traceId)
      assert.strictEqual(server.parentSpanContext?.spanId, upstreamClient.spanContext().spanId)
    }).pipe(Effect.scoped, provideClient))

  it.live("outside a run nothing is added, and the downstream serves without a run", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const seen = yield* getJson(`${service.url}/plain`)
      assert.isNull(seen.baggage)
      assert.isNotNull(seen.traceparent)
      assert.isNull(seen.run)
      const spans = yield* downstreamSpans(service)
      for (const span of spans) assert.isUndefined(span.attributes["botanu.run_id"], span.name)
    }).pipe(Effect.scoped, provideClient))

  it.live("a baggage header the caller set keeps its other members; stale run members are replaced", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const client = yield* HttpClient.HttpClient
      const seen = yield* Effect.gen(function*() {
        const request = HttpClientRequest.get(`${service.url}/ticket`).pipe(
          HttpClientRequest.setHeader("baggage", "userId=alice;prop=1, botanu.run_id=stale,tier=gold")
        )
        const response = yield* HttpPropagation.withRunBaggage(client).execute(request)
        return (yield* response.json) as Seen
      }).pipe(botanuWorkflow("merge", { eventId: "e-1", customerId: "c-1" }))
      const members = seen.baggage!.split(",")
      assert.deepStrictEqual(members.slice(0, 2), ["userId=alice;prop=1", "tier=gold"])
      assert.notInclude(seen.baggage!, "stale")
      assert.strictEqual(seen.run?.customerId, "c-1")
      assert.strictEqual(seen.run?.workflow, "merge")
    }).pipe(Effect.scoped, provideClient))

  it.live("a client captured before the run propagates through withRunBaggage or layerClient", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const captured = yield* HttpClient.HttpClient
      const viaCombinator = yield* Effect.flatMap(
        captured.pipe(HttpPropagation.withRunBaggage()).get(`${service.url}/a`),
        (response) => response.json
      ).pipe(botanuWorkflow("captured", { eventId: "e-a", customerId: "c-a" }))
      assert.strictEqual((viaCombinator as Seen).run?.eventId, "e-a")

      const viaLayer = yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        return yield* Effect.flatMap(client.get(`${service.url}/b`), (response) => response.json).pipe(
          botanuWorkflow("layered", { eventId: "e-b", customerId: "c-b" })
        )
      }).pipe(Effect.provide(HttpPropagation.layerClient().pipe(Layer.provide(FetchHttpClient.layer))))
      assert.strictEqual((viaLayer as Seen).run?.eventId, "e-b")
    }).pipe(Effect.scoped, provideClient))

  it.live("propagate all: environment, root run id and tenant travel too", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const client = yield* HttpClient.HttpClient
      const seen = (yield* Effect.flatMap(
        HttpPropagation.withRunBaggage(client, { propagate: "all" }).get(`${service.url}/all`),
        (response) => response.json
      ).pipe(
        botanuWorkflow("inner", { eventId: "e-in", customerId: "c-in", tenantId: "t-9", environment: "staging" }),
        botanuWorkflow("outer", { eventId: "e-out", customerId: "c-out" })
      )) as Seen
      const spans = yield* TrackingTest.finishedSpans
      const outer = spans.find((span) => span.name === "botanu.run/outer")!
      const inner = spans.find((span) => span.name === "botanu.run/inner")!
      assert.strictEqual(seen.run?.runId, inner.attributes["botanu.run_id"])
      assert.strictEqual(seen.run?.rootRunId, outer.attributes["botanu.run_id"])
      assert.strictEqual(seen.run?.tenantId, "t-9")
      assert.strictEqual(seen.run?.environment, "staging")
    }).pipe(Effect.scoped, provideClient))

  it.live("downstream, a workflow nests in the continued run and emitOutcome writes to the request's span", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const seen = yield* Effect.zipRight(
        getJson(`${service.url}/nested`),
        getJson(`${service.url}/outcome`)
      ).pipe(botanuWorkflow("support", { eventId: "T-7", customerId: "acme" }))
      const runId = seen.run!.runId
      const spans = yield* downstreamSpans(service).pipe(
        Effect.filterOrFail((spans) => spans.filter(isHttpServerSpan).length === 2),
        Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 200 }),
        Effect.orDie
      )
      const billing = onlySpan(spans, (span) => span.name === "botanu.run/billing")
      assert.strictEqual(billing.attributes["botanu.parent_run_id"], runId)
      assert.strictEqual(billing.attributes["botanu.root_run_id"], runId)
      assert.deepStrictEqual(idsOf(onlySpan(spans, (span) => span.name === "chat nested-model")), {
        runId: billing.attributes["botanu.run_id"],
        workflow: "billing",
        eventId: "invoice-1",
        customerId: "acme"
      })
      const outcomeServer = onlySpan(
        spans,
        (span) => span.kind === SpanKind.SERVER && span.attributes["url.path"] === "/outcome"
      )
      assert.strictEqual(outcomeServer.attributes["botanu.outcome.status"], "partial")
      assert.strictEqual(outcomeServer.attributes["botanu.outcome.reason"], "downstream")
      assert.strictEqual(outcomeServer.attributes["botanu.run_id"], runId)
    }).pipe(Effect.scoped, provideClient))
})

describe("HttpPropagation: across three services", () => {
  it.live("a continued run passes itself on: the service in the middle forwards it to the next one", () =>
    Effect.gen(function*() {
      const last = yield* startDownstream
      // The middle service calls the last one with the HttpClient of its own runtime, with no run code of its own.
      const middle = yield* serveApp(
        Effect.flatMap(getJson(`${last.url}/from-middle`), (seen) => HttpServerResponse.json(seen)),
        HttpPropagation.middleware
      )
      yield* getJson(`${middle.url}/start`).pipe(botanuWorkflow("chain", { eventId: "e-chain", customerId: "c-chain" }))
      const runId = (yield* TrackingTest.finishedSpans).find((span) => span.name === "botanu.run/chain")!
        .attributes["botanu.run_id"]
      const expected = { runId, workflow: "chain", eventId: "e-chain", customerId: "c-chain" }
      for (const service of [middle, last]) {
        const spans = yield* downstreamSpans(service)
        const server = onlySpan(spans, isHttpServerSpan)
        assert.deepStrictEqual(idsOf(server), expected)
      }
      const middleClient = onlySpan(yield* downstreamSpans(middle), (span) => span.kind === SpanKind.CLIENT)
      assert.deepStrictEqual(idsOf(middleClient), expected)
      assert.deepStrictEqual(
        idsOf(onlySpan(yield* downstreamSpans(last), (span) => span.name.startsWith("chat"))),
        expected
      )
    }).pipe(Effect.scoped, provideClient))
})

describe("HttpPropagation.middleware: malformed or oversized baggage is ignored safely", () => {
  const runId = "0190d8a2-6b1c-7e0a-9f3e-5a1b2c3d4e5f"
  const valid = `botanu.run_id=${runId},botanu.workflow=wf,botanu.event_id=e%201,botanu.customer_id=c-1`

  /** Sends a raw request (no run, no HttpClient wrapping) with the given baggage headers. */
  const send = (url: string, baggage: ReadonlyArray<string>) =>
    Effect.promise(async () => {
      const headers = new Headers()
      for (const value of baggage) headers.append("baggage", value)
      const response = await fetch(`${url}/raw`, { headers })
      return { status: response.status, seen: (await response.json()) as Seen }
    })

  it.live("a well-formed header, with spaces and properties, is accepted (the control case)", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const { seen, status } = yield* send(service.url, [
        ` botanu.run_id = ${runId} ;ttl=10 , botanu.workflow=wf,other=x`,
        "botanu.event_id=e%201,botanu.customer_id=c-1"
      ])
      assert.strictEqual(status, 200)
      assert.deepStrictEqual(
        seen.run && [seen.run.runId, seen.run.workflow, seen.run.eventId, seen.run.customerId, seen.run.remote],
        [runId, "wf", "e 1", "c-1", true]
      )
    }).pipe(Effect.scoped, provideClient))

  const ignored: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["a missing id", [`botanu.run_id=${runId},botanu.workflow=wf,botanu.event_id=e`]],
    ["an empty id", [valid.replace("botanu.customer_id=c-1", "botanu.customer_id=")]],
    ["a blank id", [valid.replace("c-1", "%20%20")]],
    ["an id that does not percent-decode", [valid.replace("c-1", "c%ZZ1")]],
    ["an id with a control character", [valid.replace("c-1", "c%0Aforged=1")]],
    ["a value with a character baggage forbids", [valid.replace("c-1", "c\"1")]],
    ["a conflicting duplicate id", [valid, `botanu.customer_id=someone-else`]],
    ["a header larger than 8192 bytes", [`${valid},padding=${"x".repeat(8200)}`]],
    ["more than 180 members", [`${valid},${Array.from({ length: 180 }, (_, i) => `k${i}=v`).join(",")}`]],
    ["garbage", ["=;,,;===,%%%"]]
  ]

  for (const [label, headers] of ignored) {
    it.live(`${label}: served normally, no run restored, no ids on the spans`, () =>
      Effect.gen(function*() {
        const service = yield* startDownstream
        const { seen, status } = yield* send(service.url, headers)
        assert.strictEqual(status, 200)
        assert.isNull(seen.run)
        const spans = yield* downstreamSpans(service)
        for (const span of spans) assert.isUndefined(span.attributes["botanu.run_id"], span.name)
        yield* resetDownstream(service)
      }).pipe(Effect.scoped, provideClient))
  }

  it.live("a member with bad syntax is skipped on its own; the valid members still restore the run", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream
      const { seen } = yield* send(service.url, [`${valid},bad key=1,novalue,k=v"`])
      assert.strictEqual(seen.run?.runId, runId)
    }).pipe(Effect.scoped, provideClient))
})
