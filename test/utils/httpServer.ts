import type * as Resource from "@effect/opentelemetry/Resource"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { CostLedger, HttpPropagation, TrackingTest } from "../../src/index.js"

const toRequest = async (incoming: IncomingMessage, base: string): Promise<Request> => {
  const headers = new Headers()
  // rawHeaders keeps repeated headers apart, as a real server receives them.
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
    headers.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1])
  }
  const method = incoming.method ?? "GET"
  let body: Buffer | undefined
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Array<Buffer> = []
    for await (const chunk of incoming) chunks.push(chunk as Buffer)
    body = Buffer.concat(chunks)
  }
  return new Request(new URL(incoming.url ?? "/", base), { method, headers, ...(body === undefined ? {} : { body }) })
}

/**
 * A real HTTP server on 127.0.0.1 (an ephemeral port) in front of a web handler, closed with the scope.
 * Returns its base URL.
 */
export const serveWebHandler = (
  handler: (request: Request) => Promise<Response>
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<Server>((resume) => {
        const server = createServer((incoming, outgoing) => {
          const base = `http://${incoming.headers.host ?? "127.0.0.1"}`
          toRequest(incoming, base)
            .then(handler)
            .then(async (response) => {
              outgoing.writeHead(response.status, Object.fromEntries(response.headers))
              outgoing.end(Buffer.from(await response.arrayBuffer()))
            })
            .catch((error) => {
              outgoing.writeHead(500, { "content-type": "text/plain" })
              outgoing.end(String(error))
            })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    ),
    (server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  )

type Services = TrackingTest.TrackingTest | Resource.Resource | HttpClient.HttpClient | CostLedger.CostLedger

/**
 * Another "service": an @effect/platform app served over real HTTP with its own `TrackingTest.layer` (its own
 * tracer provider and exporter), its own `CostLedger` and its own `HttpClient`, so that the only thing it shares
 * with its caller is what travels in headers. With `propagateTo`, its client is `HttpPropagation.layerClient`'s.
 */
export const serveApp = <E>(
  app: HttpApp.Default<E, Services | Scope.Scope>,
  middleware?: HttpMiddleware.HttpMiddleware,
  options?: {
    readonly propagateTo?: ReadonlyArray<string | RegExp>
    /** More of the service's setup, such as `Layer.locallyScoped(Headers.currentRedactedNames, ...)`. */
    readonly layer?: Layer.Layer<never>
  }
): Effect.Effect<
  { readonly url: string; readonly runtime: ManagedRuntime.ManagedRuntime<Services, never> },
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = options?.propagateTo === undefined
          ? FetchHttpClient.layer
          : HttpPropagation.layerClient({ propagateTo: options.propagateTo }).pipe(Layer.provide(FetchHttpClient.layer))
        return ManagedRuntime.make(
          Layer.mergeAll(TrackingTest.layer, CostLedger.layer, client, options?.layer ?? Layer.empty)
        )
      }),
      (runtime) => Effect.promise(() => runtime.dispose())
    )
    const handler = HttpApp.toWebHandlerRuntime(yield* Effect.promise(() => runtime.runtime()))(app, middleware)
    const url = yield* serveWebHandler((request) => handler(request))
    return { url, runtime }
  })
