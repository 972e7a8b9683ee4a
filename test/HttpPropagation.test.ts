import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as PlatformHeaders from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Option, Schedule } from "effect"
import {
  botanuWorkflow,
  CostLedger,
  currentRun,
  emitOutcome,
  HttpPropagation,
  LlmTracker,
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
// `/nested` also starts a workflow of its own, for a customer it knows itself (as a real service would, from its
// own authentication), which must nest in the caller's run whatever the caller is trusted with.
const downstream = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  yield* Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: 100, outputTokens: 10 })).pipe(
    trackLlmCall({ provider: "openai", model: "downstream-model" })
  )
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

const trustAll = HttpPropagation.makeMiddleware({ trust: "all" })

const startDownstream = (
  middleware: HttpMiddleware.HttpMiddleware = trustAll,
  options?: Parameters<typeof serveApp>[2]
) => serveApp(downstream, middleware, options)

type Downstream = Effect.Effect.Success<ReturnType<typeof startDownstream>>

const isHttpServerSpan = (span: ReadableSpan) =>
  span.kind === SpanKind.SERVER && span.attributes["url.path"] !== undefined

/** The downstream service's finished spans, once `count` server spans have ended (they end after the response). */
const downstreamSpans = (service: Downstream, count = 1) =>
  Effect.promise(() => service.runtime.runPromise(TrackingTest.finishedSpans)).pipe(
    Effect.filterOrFail((spans) => spans.filter(isHttpServerSpan).length >= count),
    Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 200 }),
    Effect.orDie
  )

const resetDownstream = (service: Downstream) => Effect.promise(() => service.runtime.runPromise(TrackingTest.reset))

const ledgerOf = (service: Downstream) => Effect.promise(() => service.runtime.runPromise(CostLedger.snapshot))

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

const warningsOf = (span: ReadableSpan): ReadonlyArray<string> =>
  (span.attributes["botanu.tracking.warnings"] as ReadonlyArray<string> | undefined) ?? []

/**
 * Everything a span exports that could carry a value (attributes, events, status), except the request headers
 * that @effect/platform's server span records as they came (`http.request.header.*`, the `baggage` header
 * included): those are the platform's record of the request, not anything taken from it.
 */
const exported = (spans: ReadonlyArray<ReadableSpan>): string =>
  JSON.stringify(spans.map((span) => [
    span.name,
    Object.entries(span.attributes).filter(([key]) => !key.startsWith("http.request.header.")),
    span.events,
    span.status
  ]))

const getJson = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    return (yield* response.json) as Seen
  })

// The upstream's client sends run baggage to the test services (all on 127.0.0.1), as an app names its own hosts.
const ownClient = HttpPropagation.layerClient({ propagateTo: ["127.0.0.1"] }).pipe(
  Layer.provide(FetchHttpClient.layer)
)

const provideClient = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.provide(self, Layer.merge(TrackingTest.layer, ownClient))

/** Sends a raw request (no run, no HttpClient wrapping) with the given baggage headers and other headers. */
const send = (
  url: string,
  baggage: ReadonlyArray<string>,
  extra: Record<string, string> = {}
) =>
  Effect.promise(async () => {
    const headers = new Headers(extra)
    for (const value of baggage) headers.append("baggage", value)
    const response = await fetch(url, { headers })
    return { status: response.status, seen: (await response.json()) as Seen }
  })

const runId = "0190d8a2-6b1c-7e0a-9f3e-5a1b2c3d4e5f"
const rootRunId = "0190d8a2-0000-7000-8000-00000000a001"

describe("HttpPropagation: a run continues across a real HTTP boundary to a trusted service", () => {
  it.live("an HttpClient request inside a run carries baggage; the middleware restores the run downstream", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
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
      assert.deepStrictEqual(warningsOf(server), [])
      assert.strictEqual((yield* ledgerOf(service)).byCustomer.get(customerId)?.calls, 1)

      // One trace: the downstream server span is the child of the upstream client span.
      const upstreamClient = onlySpan(yield* TrackingTest.finishedSpans, (span) => span.kind === SpanKind.CLIENT)
      assert.deepStrictEqual(idsOf(upstreamClient), expected)
      assert.strictEqual(server.spanContext().traceId, upstreamRun.spanContext().traceId)
      assert.strictEqual(server.parentSpanContext?.spanId, upstreamClient.spanContext().spanId)
    }).pipe(Effect.scoped, provideClient))

  it.live("outside a run nothing is added, and the downstream serves without a run", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const seen = yield* getJson(`${service.url}/plain`)
      assert.isNull(seen.baggage)
      assert.isNotNull(seen.traceparent)
      assert.isNull(seen.run)
      const spans = yield* downstreamSpans(service)
      for (const span of spans) assert.isUndefined(span.attributes["botanu.run_id"], span.name)
    }).pipe(Effect.scoped, provideClient))

  it.live("a baggage header the caller set keeps its other members; stale run members are replaced", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const client = yield* HttpClient.HttpClient
      const seen = yield* Effect.gen(function*() {
        const request = HttpClientRequest.get(`${service.url}/ticket`).pipe(
          HttpClientRequest.setHeader("baggage", "userId=alice;prop=1, botanu.run_id=stale,tier=gold")
        )
        const response = yield* client.execute(request)
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
      const service = yield* startDownstream()
      const captured = yield* HttpClient.HttpClient
      const viaCombinator = yield* Effect.flatMap(
        captured.pipe(HttpPropagation.withRunBaggage({ propagateTo: ["127.0.0.1"] })).get(`${service.url}/a`),
        (response) => response.json
      ).pipe(botanuWorkflow("captured", { eventId: "e-a", customerId: "c-a" }))
      assert.strictEqual((viaCombinator as Seen).run?.eventId, "e-a")

      const viaLayer = yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        return yield* Effect.flatMap(client.get(`${service.url}/b`), (response) => response.json).pipe(
          botanuWorkflow("layered", { eventId: "e-b", customerId: "c-b" })
        )
      }).pipe(
        Effect.provide(
          HttpPropagation.layerClient({ propagateTo: ["127.0.0.1"] }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      assert.strictEqual((viaLayer as Seen).run?.eventId, "e-b")
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))))

  it.live("propagate all: environment, root run id and tenant travel too", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const client = yield* HttpClient.HttpClient
      const seen = (yield* Effect.flatMap(
        HttpPropagation.withRunBaggage(client, { propagate: "all", propagateTo: ["127.0.0.1"] }).get(
          `${service.url}/all`
        ),
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
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))))

  it.live("downstream, a workflow nests in the continued run and emitOutcome writes to the request's span", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const seen = yield* Effect.zipRight(
        getJson(`${service.url}/nested`),
        getJson(`${service.url}/outcome`)
      ).pipe(botanuWorkflow("support", { eventId: "T-7", customerId: "acme" }))
      const runId = seen.run!.runId
      const spans = yield* downstreamSpans(service, 2)
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
  it.live("a continued run passes itself on: the trusted service in the middle forwards it to the next one", () =>
    Effect.gen(function*() {
      const last = yield* startDownstream()
      // The middle service calls the last one with the HttpClient of its own runtime, with no run code of its own.
      const middle = yield* serveApp(
        Effect.flatMap(getJson(`${last.url}/from-middle`), (seen) => HttpServerResponse.json(seen)),
        trustAll,
        { propagateTo: ["127.0.0.1"] }
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

  it.live("a linked run passes its id on: behind an untrusted middle, the last service's workflow still nests", () =>
    Effect.gen(function*() {
      const last = yield* startDownstream(HttpPropagation.middleware)
      const middle = yield* serveApp(
        Effect.flatMap(getJson(`${last.url}/nested`), (seen) => HttpServerResponse.json(seen)),
        HttpPropagation.middleware,
        { propagateTo: ["127.0.0.1"] }
      )
      const seen = yield* getJson(`${middle.url}/start`).pipe(
        botanuWorkflow("chain", { eventId: "e-chain", customerId: "c-chain" })
      )
      const runId = (yield* TrackingTest.finishedSpans).find((span) => span.name === "botanu.run/chain")!
        .attributes["botanu.run_id"]
      // Only the run id travels on from the middle: it has no attribution to pass on.
      assert.strictEqual(seen.baggage, `botanu.run_id=${runId}`)
      const billing = onlySpan(yield* downstreamSpans(last), (span) => span.name === "botanu.run/billing")
      assert.strictEqual(billing.attributes["botanu.parent_run_id"], runId)
      assert.strictEqual(billing.attributes["botanu.customer_id"], "acme")
      for (const span of yield* downstreamSpans(middle)) {
        assert.isUndefined(span.attributes["botanu.customer_id"], span.name)
      }
    }).pipe(Effect.scoped, provideClient))
})

describe("HttpPropagation.middleware: the safe default takes no attribution from a request", () => {
  const spoofed = [
    `botanu.run_id=${runId}`,
    "botanu.workflow=refunds",
    "botanu.event_id=evt-forged",
    "botanu.customer_id=victim-corp",
    `botanu.root_run_id=${rootRunId}`,
    "botanu.tenant_id=tenant-forged",
    "botanu.environment=forged-env"
  ].join(",")

  it.live("a spoofed customer is not taken: not on spans, not in the ledger, not on the run span", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream(HttpPropagation.middleware)
      const { seen, status } = yield* send(`${service.url}/nested`, [spoofed])
      assert.strictEqual(status, 200)
      assert.isNull(seen.run)
      const spans = yield* downstreamSpans(service)
      const text = exported(spans)
      for (const forged of ["victim-corp", "evt-forged", "refunds", "tenant-forged", "forged-env"]) {
        assert.notInclude(text, forged)
      }
      // The handler's own spans belong to no run; the workflow it starts is its own customer's...
      const server = onlySpan(spans, isHttpServerSpan)
      const direct = onlySpan(spans, (span) => span.name === "chat downstream-model")
      for (const span of [server, direct]) {
        assert.deepStrictEqual(idsOf(span), {
          runId: undefined,
          workflow: undefined,
          eventId: undefined,
          customerId: undefined
        })
      }
      const billing = onlySpan(spans, (span) => span.name === "botanu.run/billing")
      assert.strictEqual(billing.attributes["botanu.customer_id"], "acme")
      assert.strictEqual(billing.attributes["botanu.event_id"], "invoice-1")
      assert.notStrictEqual(billing.attributes["botanu.environment"], "forged-env")
      assert.isUndefined(billing.attributes["botanu.tenant_id"])
      // ...nested in the caller's run: the link is taken, since both ids are UUIDs.
      assert.strictEqual(billing.attributes["botanu.parent_run_id"], runId)
      assert.strictEqual(billing.attributes["botanu.root_run_id"], rootRunId)
      const nested = onlySpan(spans, (span) => span.name === "chat nested-model")
      assert.strictEqual(nested.attributes["botanu.customer_id"], "acme")

      const ledger = yield* ledgerOf(service)
      assert.deepStrictEqual([...ledger.byCustomer.keys()].sort(), ["(none)", "acme"])
      assert.strictEqual(ledger.byCustomer.get("(none)")?.inputTokens, 100)
      assert.deepStrictEqual([...ledger.byWorkflow.keys()].sort(), ["(none)", "billing"])

      assert.deepStrictEqual(warningsOf(server), [
        "baggage: botanu.workflow, botanu.event_id, botanu.customer_id, botanu.environment, botanu.tenant_id not " +
        "taken, the request is not trusted (see HttpPropagation.makeMiddleware)"
      ])
    }).pipe(Effect.scoped, provideClient))

  it.live("a run id that is not a UUID is not linked, with a warning that does not echo it", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream(HttpPropagation.middleware)
      yield* send(`${service.url}/nested`, [
        "botanu.run_id=run-FORGED-1,botanu.customer_id=victim-corp,botanu.root_run_id=root-FORGED-2"
      ])
      const spans = yield* downstreamSpans(service)
      assert.notInclude(exported(spans), "FORGED")
      const billing = onlySpan(spans, (span) => span.name === "botanu.run/billing")
      assert.isUndefined(billing.attributes["botanu.parent_run_id"])
      assert.strictEqual(billing.attributes["botanu.root_run_id"], billing.attributes["botanu.run_id"])
      assert.deepStrictEqual(warningsOf(onlySpan(spans, isHttpServerSpan)), [
        "baggage botanu.run_id: a value of 12 characters that is not a UUID; ignored",
        "baggage botanu.root_run_id: a value of 13 characters that is not a UUID; ignored",
        "baggage: botanu.customer_id not taken, the request is not trusted (see HttpPropagation.makeMiddleware)"
      ])
    }).pipe(Effect.scoped, provideClient))

  it.live("a root run id that is not a UUID is ignored on its own: the run id is the parent and the root", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream(HttpPropagation.middleware)
      yield* send(`${service.url}/nested`, [`botanu.run_id=${runId.toUpperCase()},botanu.root_run_id=nope`])
      const spans = yield* downstreamSpans(service)
      const billing = onlySpan(spans, (span) => span.name === "botanu.run/billing")
      // Any UUID version, either case; written in the canonical lowercase.
      assert.strictEqual(billing.attributes["botanu.parent_run_id"], runId)
      assert.strictEqual(billing.attributes["botanu.root_run_id"], runId)
      assert.deepStrictEqual(warningsOf(onlySpan(spans, isHttpServerSpan)), [
        "baggage botanu.root_run_id: a value of 4 characters that is not a UUID; ignored"
      ])
    }).pipe(Effect.scoped, provideClient))

  it.live("a real upstream run through the safe default: linked, not continued", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream(HttpPropagation.middleware)
      const seen = yield* getJson(`${service.url}/nested`).pipe(
        botanuWorkflow("support", { eventId: "T-9", customerId: "caller-corp" })
      )
      const upstreamRunId = (yield* TrackingTest.finishedSpans).find((span) => span.name === "botanu.run/support")!
        .attributes["botanu.run_id"]
      assert.isNull(seen.run)
      const spans = yield* downstreamSpans(service)
      const billing = onlySpan(spans, (span) => span.name === "botanu.run/billing")
      assert.strictEqual(billing.attributes["botanu.parent_run_id"], upstreamRunId)
      assert.notInclude(exported(spans), "caller-corp")
    }).pipe(Effect.scoped, provideClient))
})

describe("HttpPropagation.makeMiddleware: attribution from the callers the app trusts", () => {
  const partner = `botanu.run_id=${runId},botanu.workflow=wf,botanu.event_id=e-77,botanu.customer_id=partner-corp`
  const token = "s3cret-internal"

  it.live("trust: \"all\" takes the attribution: the run, the spans and the ledger", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream(HttpPropagation.makeMiddleware({ trust: "all" }))
      const { seen } = yield* send(`${service.url}/raw`, [`${partner},botanu.tenant_id=t-1`])
      assert.strictEqual(seen.run?.customerId, "partner-corp")
      assert.strictEqual(seen.run?.tenantId, "t-1")
      const spans = yield* downstreamSpans(service)
      for (const span of spans) assert.strictEqual(span.attributes["botanu.customer_id"], "partner-corp", span.name)
      assert.strictEqual((yield* ledgerOf(service)).byCustomer.get("partner-corp")?.inputTokens, 100)
      assert.deepStrictEqual(warningsOf(onlySpan(spans, isHttpServerSpan)), [])
    }).pipe(Effect.scoped, provideClient))

  it.live("a trust function (a shared header): trusted requests are continued, others only linked", () =>
    Effect.gen(function*() {
      const middleware = HttpPropagation.makeMiddleware({
        trust: (request) => request.headers["x-internal-token"] === token
      })
      // The platform's server span records request headers as they came, unless their names are redacted.
      const service = yield* startDownstream(middleware, {
        layer: Layer.locallyScoped(PlatformHeaders.currentRedactedNames, ["authorization", "x-internal-token"])
      })

      const trusted = yield* send(`${service.url}/raw`, [partner], { "x-internal-token": token })
      assert.strictEqual(trusted.seen.run?.customerId, "partner-corp")
      const trustedSpans = yield* downstreamSpans(service)
      const trustedServer = onlySpan(trustedSpans, isHttpServerSpan)
      assert.strictEqual(trustedServer.attributes["botanu.customer_id"], "partner-corp")
      assert.strictEqual(trustedServer.attributes["http.request.header.x-internal-token"], "<redacted>")
      assert.notInclude(JSON.stringify(trustedSpans.map((span) => span.attributes)), token)
      assert.strictEqual((yield* ledgerOf(service)).byCustomer.get("partner-corp")?.calls, 1)
      yield* resetDownstream(service)

      for (const headers of [{}, { "x-internal-token": "guess" }]) {
        const untrusted = yield* send(`${service.url}/nested`, [partner], headers)
        assert.isNull(untrusted.seen.run)
        const spans = yield* downstreamSpans(service)
        assert.notInclude(exported(spans), "partner-corp")
        assert.strictEqual(
          onlySpan(spans, (span) => span.name === "botanu.run/billing").attributes["botanu.parent_run_id"],
          runId
        )
        assert.deepStrictEqual(warningsOf(onlySpan(spans, isHttpServerSpan)), [
          "baggage: botanu.workflow, botanu.event_id, botanu.customer_id not taken, the request is not trusted " +
          "(see HttpPropagation.makeMiddleware)"
        ])
        yield* resetDownstream(service)
      }
      assert.strictEqual((yield* ledgerOf(service)).byCustomer.get("partner-corp")?.calls, 1)
    }).pipe(Effect.scoped, provideClient))

  it.live("an effectful trust function; one that fails, dies or throws means not trusted, with a warning", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [HttpPropagation.Trust, boolean]> = [
        [() => Effect.succeed(true), true],
        [() => Effect.succeed(false), false],
        [() => Effect.fail(new Error(`token ${token} rejected`)), false],
        [() => Effect.die("boom"), false],
        [() => {
          throw new Error(`token ${token} rejected`)
        }, false],
        [() => "yes" as unknown as boolean, false]
      ]
      for (const [trust, taken] of cases) {
        const service = yield* startDownstream(HttpPropagation.makeMiddleware({ trust }))
        const { seen } = yield* send(`${service.url}/raw`, [partner])
        assert.strictEqual(seen.run?.customerId, taken ? "partner-corp" : undefined, String(trust))
        const spans = yield* downstreamSpans(service)
        const warnings = warningsOf(onlySpan(spans, isHttpServerSpan))
        const failed = "HttpPropagation trust: the function threw or failed; the request is served as not trusted"
        assert.strictEqual(
          warnings.includes(failed),
          String(trust).includes("rejected") || String(trust).includes("die")
        )
        assert.notInclude(exported(spans), token)
      }
    }).pipe(Effect.scoped, provideClient))

  it.live("a request without baggage never calls the trust function", () =>
    Effect.gen(function*() {
      let calls = 0
      const service = yield* startDownstream(HttpPropagation.makeMiddleware({
        trust: () => {
          calls++
          return true
        }
      }))
      yield* send(`${service.url}/raw`, [])
      assert.strictEqual(calls, 0)
      yield* send(`${service.url}/raw`, [partner])
      assert.strictEqual(calls, 1)
    }).pipe(Effect.scoped, provideClient))
})

describe("HttpPropagation.makeMiddleware: hostile values are ignored with warnings that do not echo them", () => {
  const base = new Map([
    ["botanu.run_id", runId],
    ["botanu.workflow", "wf"],
    ["botanu.event_id", "e-1"],
    ["botanu.customer_id", "c-1"]
  ])
  const header = (overrides: Record<string, string>) =>
    [...new Map([...base, ...Object.entries(overrides)])].map(([key, value]) => `${key}=${value}`).join(",")

  // Each hostile value holds "HOSTILE", so that an echo anywhere in what is exported is found.
  const cases: ReadonlyArray<readonly [string, string, string, string]> = [
    ["too long", "botanu.customer_id", encodeURIComponent("HOSTILE".repeat(40)), "a value of 280 characters, over 256"],
    [
      "a control character",
      "botanu.customer_id",
      "HOSTILE%0Aforged=1",
      "a value of 16 characters with a control character"
    ],
    ["a C1 control character", "botanu.event_id", "HOSTILE%C2%85x", "a value of 9 characters with a control character"],
    [
      "a bidi override",
      "botanu.customer_id",
      "HOSTILE%E2%80%AEtxt.exe",
      "a value of 15 characters with a bidirectional control character"
    ],
    [
      "a bidi isolate",
      "botanu.workflow",
      "HOSTILE%E2%81%A6",
      "a value of 8 characters with a bidirectional control character"
    ],
    [
      "a direction mark",
      "botanu.workflow",
      "HOSTILE%E2%80%8F",
      "a value of 8 characters with a bidirectional control character"
    ],
    [
      "a zero-width space",
      "botanu.customer_id",
      "HOSTILE%E2%80%8B",
      "a value of 8 characters with a zero-width character"
    ],
    [
      "a zero-width joiner",
      "botanu.customer_id",
      "HOST%E2%80%8DILE",
      "a value of 8 characters with a zero-width character"
    ],
    ["a byte order mark", "botanu.event_id", "%EF%BB%BFHOSTILE", "a value of 8 characters with a zero-width character"],
    ["a word joiner", "botanu.event_id", "HOSTILE%E2%81%A0", "a value of 8 characters with a zero-width character"],
    ["a blank value", "botanu.customer_id", "%20%20", "a value of 2 characters, blank"],
    ["a run id that is not a UUID", "botanu.run_id", "HOSTILE-0190d8a2", "a value of 16 characters that is not a UUID"],
    [
      "a run id with a version but no dashes",
      "botanu.run_id",
      runId.replaceAll("-", ""),
      "a value of 32 characters that is not a UUID"
    ]
  ]

  for (const [label, key, value, problem] of cases) {
    it.live(`${label} in ${key}: not continued, a warning by type and length`, () =>
      Effect.gen(function*() {
        const service = yield* startDownstream()
        const { seen, status } = yield* send(`${service.url}/nested`, [header({ [key]: value })])
        assert.strictEqual(status, 200)
        assert.isNull(seen.run)
        const spans = yield* downstreamSpans(service)
        const text = exported(spans)
        assert.notInclude(text, "HOSTILE")
        assert.notInclude(text, "HOST\u200dILE")
        for (
          const span of spans.filter((span) => !span.name.includes("billing") && span.name !== "chat nested-model")
        ) {
          assert.isUndefined(span.attributes["botanu.run_id"], span.name)
        }
        const warnings = warningsOf(onlySpan(spans, isHttpServerSpan))
        assert.strictEqual(warnings[0], `baggage ${key}: ${problem}; ignored`)
        // A valid run id still links the workflow the handler starts.
        const billing = onlySpan(spans, (span) => span.name === "botanu.run/billing")
        assert.strictEqual(billing.attributes["botanu.parent_run_id"], key === "botanu.run_id" ? undefined : runId)
        assert.strictEqual(
          warnings[1],
          `baggage: the run is not continued${key === "botanu.run_id" ? "" : ", only linked"}`
        )
      }).pipe(Effect.scoped, provideClient))
  }

  it.live("optional values that fail are dropped on their own: the run is continued without them", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const { seen } = yield* send(`${service.url}/raw`, [
        header({
          "botanu.tenant_id": encodeURIComponent("HOSTILE".repeat(37)),
          "botanu.environment": "HOSTILE%E2%80%AE",
          "botanu.root_run_id": "HOSTILE"
        })
      ])
      assert.strictEqual(seen.run?.customerId, "c-1")
      assert.isUndefined(seen.run?.tenantId)
      assert.notInclude(seen.run!.environment, "HOSTILE")
      assert.strictEqual(seen.run?.rootRunId, runId)
      const spans = yield* downstreamSpans(service)
      assert.notInclude(exported(spans), "HOSTILE")
      assert.deepStrictEqual(warningsOf(onlySpan(spans, isHttpServerSpan)), [
        "baggage botanu.root_run_id: a value of 7 characters that is not a UUID; ignored",
        "baggage botanu.environment: a value of 8 characters with a bidirectional control character; ignored",
        "baggage botanu.tenant_id: a value of 259 characters, over 256; ignored"
      ])
    }).pipe(Effect.scoped, provideClient))

  it.live("at the limit: 256 characters of printable text, non-ASCII letters included, are taken", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const customer = `Müller & Söhne 東京 ${"x".repeat(256)}`.slice(0, 256)
      const { seen } = yield* send(`${service.url}/raw`, [
        header({ "botanu.customer_id": encodeURIComponent(customer) })
      ])
      assert.strictEqual(seen.run?.customerId, customer)
      const astral = "🙂".repeat(256)
      const second = yield* send(`${service.url}/raw`, [header({ "botanu.customer_id": encodeURIComponent(astral) })])
      // Counted in characters (code points), not UTF-16 units.
      assert.strictEqual(second.seen.run?.customerId, astral)
    }).pipe(Effect.scoped, provideClient))
})

describe("HttpPropagation.makeMiddleware: malformed or oversized baggage is ignored safely", () => {
  const valid = `botanu.run_id=${runId},botanu.workflow=wf,botanu.event_id=e%201,botanu.customer_id=c-1`

  it.live("a well-formed header, with spaces and properties, is accepted (the control case)", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const { seen, status } = yield* send(`${service.url}/raw`, [
        ` botanu.run_id = ${runId} ;ttl=10 , botanu.workflow=wf,other=x`,
        "botanu.event_id=e%201,botanu.customer_id=c-1"
      ])
      assert.strictEqual(status, 200)
      assert.deepStrictEqual(
        seen.run && [seen.run.runId, seen.run.workflow, seen.run.eventId, seen.run.customerId, seen.run.remote],
        [runId, "wf", "e 1", "c-1", true]
      )
    }).pipe(Effect.scoped, provideClient))

  const ignored: ReadonlyArray<readonly [string, ReadonlyArray<string>, string | undefined]> = [
    [
      "a missing id",
      [`botanu.run_id=${runId},botanu.workflow=wf,botanu.event_id=e`],
      "baggage: the run is not continued, only linked (no botanu.customer_id)"
    ],
    [
      "an empty id",
      [valid.replace("botanu.customer_id=c-1", "botanu.customer_id=")],
      "baggage botanu.customer_id: an empty value; ignored"
    ],
    [
      "a blank id",
      [valid.replace("c-1", "%20%20")],
      "baggage botanu.customer_id: a value of 2 characters, blank; ignored"
    ],
    [
      "an id that does not percent-decode",
      [valid.replace("c-1", "c%ZZ1")],
      "baggage botanu.customer_id: a value that is not valid baggage or does not percent-decode; ignored"
    ],
    [
      "an id with a control character",
      [valid.replace("c-1", "c%0Aforged=1")],
      "baggage botanu.customer_id: a value of 10 characters with a control character; ignored"
    ],
    [
      "a value with a character baggage forbids",
      [valid.replace("c-1", "c\"1")],
      "baggage botanu.customer_id: a value that is not valid baggage or does not percent-decode; ignored"
    ],
    [
      "a conflicting duplicate id",
      [valid, `botanu.customer_id=someone-else`],
      "baggage botanu.customer_id: given twice with different values; the run entries are ignored"
    ],
    [
      "a header larger than 8192 bytes",
      [`${valid},padding=${"x".repeat(8200)}`],
      `baggage: a header of ${valid.length + 9 + 8200} bytes, over 8192; ignored`
    ],
    [
      "more than 180 members",
      [`${valid},${Array.from({ length: 180 }, (_, i) => `k${i}=v`).join(",")}`],
      "baggage: a header of 184 members, over 180; ignored"
    ],
    ["garbage", ["=;,,;===,%%%"], undefined]
  ]

  for (const [label, headers, warning] of ignored) {
    it.live(`${label}: served normally, no run restored, no ids on the spans`, () =>
      Effect.gen(function*() {
        const service = yield* startDownstream()
        const { seen, status } = yield* send(`${service.url}/raw`, headers)
        assert.strictEqual(status, 200)
        assert.isNull(seen.run)
        const spans = yield* downstreamSpans(service)
        for (const span of spans) assert.isUndefined(span.attributes["botanu.run_id"], span.name)
        const warnings = warningsOf(onlySpan(spans, isHttpServerSpan))
        assert.strictEqual(warnings[0], warning)
        assert.notInclude(exported(spans), "forged")
        assert.notInclude(exported(spans), "someone-else")
        yield* resetDownstream(service)
      }).pipe(Effect.scoped, provideClient))
  }

  it.live("a member with bad syntax is skipped on its own; the valid members still restore the run", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const { seen } = yield* send(`${service.url}/raw`, [`${valid},bad key=1,novalue,k=v"`])
      assert.strictEqual(seen.run?.runId, runId)
    }).pipe(Effect.scoped, provideClient))

  it.live("the same limits apply to the safe default", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream(HttpPropagation.middleware)
      yield* send(`${service.url}/nested`, [`${valid},padding=${"x".repeat(8200)}`])
      const spans = yield* downstreamSpans(service)
      assert.isUndefined(
        onlySpan(spans, (span) => span.name === "botanu.run/billing").attributes["botanu.parent_run_id"]
      )
      assert.deepStrictEqual(warningsOf(onlySpan(spans, isHttpServerSpan)), [
        `baggage: a header of ${valid.length + 9 + 8200} bytes, over 8192; ignored`
      ])
    }).pipe(Effect.scoped, provideClient))
})

describe("HttpPropagation: outgoing baggage goes only to the hosts in propagateTo", () => {
  const inRun = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    botanuWorkflow(self, "outbound", { eventId: "e-out", customerId: "customer-out" })

  it.live("an allowed host gets the run's baggage, a third party does not (localhost vs 127.0.0.1)", () =>
    Effect.gen(function*() {
      const own = yield* startDownstream()
      const thirdParty = yield* startDownstream()
      const ownUrl = own.url.replace("127.0.0.1", "localhost")
      const [toOwn, toThirdParty] = yield* Effect.all([getJson(`${ownUrl}/own`), getJson(`${thirdParty.url}/llm`)])
        .pipe(
          inRun,
          Effect.provide(
            HttpPropagation.layerClient({ propagateTo: ["LocalHost"] }).pipe(
              Layer.provide(FetchHttpClient.layer)
            )
          )
        )
      assert.include(toOwn.baggage!, "botanu.customer_id=customer-out")
      assert.strictEqual(toOwn.run?.customerId, "customer-out")
      assert.isNull(toThirdParty.baggage)
      assert.isNull(toThirdParty.run)
      // Trace context still goes everywhere: that is the platform's, and carries no attribution.
      assert.isNotNull(toThirdParty.traceparent)
      assert.notInclude(exported(yield* downstreamSpans(thirdParty)), "customer-out")
    }).pipe(Effect.scoped, Effect.provide(TrackingTest.layer)))

  it.live("a pattern with a port: only that port of the host", () =>
    Effect.gen(function*() {
      const allowed = yield* startDownstream()
      const other = yield* startDownstream()
      const port = new URL(allowed.url).port
      const client = HttpPropagation.withRunBaggage(yield* HttpClient.HttpClient, {
        propagateTo: [`127.0.0.1:${port}`]
      })
      const get = (url: string) => Effect.flatMap(client.get(url), (r) => r.json as Effect.Effect<Seen, unknown>)
      const [a, b] = yield* Effect.all([get(`${allowed.url}/a`), get(`${other.url}/b`)]).pipe(inRun)
      assert.isNotNull(a.baggage)
      assert.isNull(b.baggage)
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))))

  it.live("the host is the one the request goes to: a URL prepended on top of layerClient's client counts", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const seen = yield* Effect.gen(function*() {
        const client = (yield* HttpClient.HttpClient).pipe(
          HttpClient.mapRequest(HttpClientRequest.prependUrl(service.url))
        )
        return (yield* Effect.flatMap(client.get("/relative"), (r) => r.json)) as Seen
      }).pipe(
        inRun,
        Effect.provide(
          HttpPropagation.layerClient({ propagateTo: ["127.0.0.1"] }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      assert.strictEqual(seen.run?.customerId, "customer-out")
    }).pipe(Effect.scoped, Effect.provide(TrackingTest.layer)))

  it.live("without propagateTo no request gets baggage: layerClient(), withRunBaggage, the run's own client", () =>
    Effect.gen(function*() {
      const service = yield* startDownstream()
      const viaLayer = yield* getJson(`${service.url}/layer`).pipe(
        inRun,
        Effect.provide(HttpPropagation.layerClient().pipe(Layer.provide(FetchHttpClient.layer)))
      )
      const base = yield* HttpClient.HttpClient
      const get = (client: HttpClient.HttpClient) =>
        Effect.flatMap(client.get(`${service.url}/x`), (r) => r.json as Effect.Effect<Seen, unknown>).pipe(inRun)
      const results = [
        viaLayer,
        yield* get(HttpPropagation.withRunBaggage(base)),
        yield* get(base.pipe(HttpPropagation.withRunBaggage())),
        yield* get(HttpPropagation.withRunBaggage(base, { propagateTo: [] })),
        yield* get(HttpPropagation.withRunBaggage(base, { propagate: "all" })),
        // The HttpClient service itself, inside the run.
        yield* getJson(`${service.url}/ambient`).pipe(inRun)
      ]
      for (const seen of results) {
        assert.isNull(seen.baggage)
        assert.isNull(seen.run)
      }
      assert.notInclude(exported(yield* downstreamSpans(service, results.length)), "customer-out")
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))))

  describe("how patterns match a URL's host", () => {
    /** A client that sends nothing: it answers with the baggage header its request carried. */
    const echo = HttpClient.make((request) =>
      Effect.succeed(
        HttpClientResponse.fromWeb(request, new Response(request.headers["baggage"] ?? "", { status: 200 }))
      )
    )
    const baggageSentTo = (propagateTo: ReadonlyArray<string | RegExp>, url: string) =>
      Effect.flatMap(HttpPropagation.withRunBaggage(echo, { propagateTo }).get(url), (r) => r.text).pipe(
        inRun,
        Effect.map((baggage) => baggage.includes("botanu.run_id="))
      )

    const table: ReadonlyArray<readonly [ReadonlyArray<string | RegExp>, string, boolean]> = [
      [["billing.internal"], "https://billing.internal/charge", true],
      [["Billing.INTERNAL"], "https://BILLING.internal:8443/charge", true],
      [["billing.internal"], "https://billing.internal./charge", true],
      [["billing.internal"], "https://billing.internal.evil.com/", false],
      [["billing.internal"], "https://evilbilling.internal/", false],
      [["billing.internal"], "https://billing.internal@evil.com/", false],
      [["billing.internal"], "https://evil.com/?host=billing.internal", false],
      [["billing.internal"], "https://evil.com/#billing.internal", false],
      [["billing.internal"], "https://api.openai.com/v1/chat/completions", false],
      [["billing.internal:8443"], "https://billing.internal:8443/", true],
      [["billing.internal:8443"], "https://billing.internal/", false],
      [["billing.internal:443"], "https://billing.internal/", true],
      [["*.internal"], "http://billing.internal/", true],
      [["*.internal"], "http://a.b.internal/", true],
      [["*.internal"], "http://internal/", false],
      [["*.internal"], "http://evilinternal/", false],
      [["*.internal"], "http://billing.internal.evil.com/", false],
      [["*.internal", "internal"], "http://internal/", true],
      [["*.internal:9000"], "http://a.internal:9000/", true],
      [["*.internal:9000"], "http://a.internal:9001/", false],
      [[/^api-\d+\.corp$/], "http://api-12.corp:8080/", true],
      [[/^api-\d+\.corp$/], "http://api-12.corp.evil.com/", false],
      [[/^api-\d+\.corp$/g], "http://api-3.corp/", true],
      [["[::1]"], "http://[::1]:8080/", true],
      [["::1"], "http://[::1]/", true],
      [["[::1]:8080"], "http://[::1]:9090/", false],
      [["bücher.example"], "http://xn--bcher-kva.example/", true],
      [[], "https://billing.internal/", false]
    ]

    it.effect("host names, ports, *.suffix and RegExps", () =>
      Effect.gen(function*() {
        for (const [patterns, url, expected] of table) {
          // A RegExp with `g` twice in a row: it keeps no state between requests.
          for (let i = 0; i < 2; i++) {
            assert.strictEqual(yield* baggageSentTo(patterns, url), expected, `${patterns.map(String)} → ${url}`)
          }
        }
      }).pipe(Effect.provide(TrackingTest.layer)))

    it("an entry that is not a host pattern throws InvalidPropagationTarget when the client or layer is made", () => {
      for (const bad of ["https://billing.internal", "", "*", "*.", "billing.*.internal", "a/b", "a b", "user@host"]) {
        for (
          const make of [
            () => HttpPropagation.withRunBaggage(echo, { propagateTo: [bad] }),
            () => HttpPropagation.layerClient({ propagateTo: ["ok.internal", bad] })
          ]
        ) {
          try {
            make()
            assert.fail(`${JSON.stringify(bad)} was accepted`)
          } catch (error) {
            assert.instanceOf(error, HttpPropagation.InvalidPropagationTarget)
            assert.strictEqual((error as HttpPropagation.InvalidPropagationTarget)._tag, "InvalidPropagationTarget")
            assert.include((error as Error).message, "propagateTo")
          }
        }
      }
    })
  })
})
