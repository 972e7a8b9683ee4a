/**
 * Run baggage goes to your own services only. Inside a run, a client from `HttpPropagation.layerClient` adds the
 * run's ids (the customer's included) to the `baggage` header of requests to the hosts named in `propagateTo`, and
 * to no other: an LLM provider's or any third party's API never learns which customer a call is for. Without
 * `propagateTo`, no request gets baggage at all.
 *
 * Two @effect/platform HTTP apps run on 127.0.0.1: "your own service", reached as `localhost` and listed in
 * `propagateTo` (in production, something like `["*.internal.example.com"]`), which continues the run because it
 * sits behind your own gateway (`makeMiddleware({ trust: "all" })`), and "a third-party API", reached as
 * `127.0.0.1`. A support workflow calls both; each answers with the baggage it received.
 *
 * Run it: `npx tsx examples/propagate-to-own-services.ts`
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Layer, Option } from "effect"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { pathToFileURL } from "node:url"
import { botanuWorkflow, currentRun, HttpPropagation, Tracking } from "../src/index.js"

/** What a service received: the `baggage` header, and the customer of the run it serves (if it continued one). */
export interface Received {
  readonly baggage: string | null
  readonly customerId: string | null
}

const reportWhatArrived = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const run = yield* currentRun
  const received: Received = {
    baggage: request.headers["baggage"] ?? null,
    customerId: Option.getOrNull(Option.map(run, (run) => run.customerId))
  }
  return yield* HttpServerResponse.json(received)
})

const toRequest = (incoming: IncomingMessage): Request => {
  const headers = new Headers()
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
    headers.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1])
  }
  return new Request(new URL(incoming.url ?? "/", `http://${incoming.headers.host}`), { headers })
}

/** Serves an @effect/platform app on 127.0.0.1 (a free port) until the scope closes; returns the port. */
const serve = <E>(app: HttpApp.Default<E, Scope.Scope>, middleware?: HttpMiddleware.HttpMiddleware) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<ReturnType<typeof createServer>>((resume) => {
        const handler = HttpApp.toWebHandler(app, middleware)
        const server = createServer((incoming, outgoing) => {
          handler(toRequest(incoming)).then(async (response) => {
            outgoing.writeHead(response.status, Object.fromEntries(response.headers))
            outgoing.end(Buffer.from(await response.arrayBuffer()))
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    ),
    (server) => (server.address() as AddressInfo).port
  )

// The app's HttpClient: run baggage for its own hosts only.
export const ClientLive = HttpPropagation.layerClient({ propagateTo: ["localhost"] }).pipe(
  Layer.provide(FetchHttpClient.layer)
)

const getReceived = (url: string) =>
  Effect.flatMap(
    HttpClient.HttpClient,
    (client) => Effect.flatMap(client.get(url), (response) => response.json as Effect.Effect<Received, unknown>)
  )

export const program = Effect.gen(function*() {
  const ownPort = yield* serve(reportWhatArrived, HttpPropagation.makeMiddleware({ trust: "all" }))
  const thirdPartyPort = yield* serve(reportWhatArrived)
  const ownService = `http://localhost:${ownPort}/tickets/T-1001/history`
  const thirdPartyApi = `http://127.0.0.1:${thirdPartyPort}/v1/chat/completions`
  const [own, thirdParty] = yield* Effect.all([getReceived(ownService), getReceived(thirdPartyApi)]).pipe(
    botanuWorkflow("support_ticket", { eventId: "T-1001", customerId: "acme-corp" })
  )
  return { ownService, own, thirdPartyApi, thirdParty }
}).pipe(Effect.scoped, Effect.provide(ClientLive))

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap(({ own, ownService, thirdParty, thirdPartyApi }) =>
      Effect.all([
        Effect.log(`your own service (${new URL(ownService).host}) received baggage: ${own.baggage ?? "none"}`),
        Effect.log(`your own service continued the run of customer ${own.customerId ?? "none"}`),
        Effect.log(
          `a third-party API (${new URL(thirdPartyApi).host}) received baggage: ${thirdParty.baggage ?? "none"}`
        )
      ])
    ),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
