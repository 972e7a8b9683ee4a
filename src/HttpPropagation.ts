/**
 * Runs across service boundaries: the run's ids travel as W3C `baggage` on requests made with @effect/platform's
 * `HttpClient`, next to the `traceparent` the client already sends, and a server middleware continues the run
 * from them.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as runHttp from "./internal/runHttp.js"
import { continueFromBaggage } from "./internal/runRemote.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface BaggageOptions {
  /**
   * `"ids"` (the default): `botanu.run_id`, `botanu.workflow`, `botanu.event_id` and `botanu.customer_id`.
   * `"all"`: also `botanu.environment`, `botanu.root_run_id` and `botanu.tenant_id` (when the run has one).
   */
  readonly propagate?: "ids" | "all" | undefined
}

/**
 * A client that adds the current run's entries to the `baggage` header of every request made inside a run
 * (percent-encoded; other members of a `baggage` header you set are kept). Outside a run it adds nothing.
 *
 * Inside a run, the `HttpClient` service of the run's context is already wrapped this way; use this for a client
 * your code captured before the run started (typically when a service's layer was built), or for `"all"`.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { HttpPropagation } from "@botanu/effect"
 *
 * const makeBilling = Effect.map(HttpClient.HttpClient, (client) => ({
 *   charge: (id: string) => HttpPropagation.withRunBaggage(client).post(`https://billing.internal/charge/${id}`)
 * }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withRunBaggage: {
  (options?: BaggageOptions): <E, R>(client: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<E, R>
  <E, R>(client: HttpClient.HttpClient.With<E, R>, options?: BaggageOptions): HttpClient.HttpClient.With<E, R>
} = dual(
  (args) => typeof args[0] === "object" && args[0] !== null && HttpClient.TypeId in args[0],
  <E, R>(client: HttpClient.HttpClient.With<E, R>, options?: BaggageOptions): HttpClient.HttpClient.With<E, R> =>
    runHttp.withRunBaggage(client, options?.propagate === "all" ? "all" : "ids")
)

/**
 * Replaces the `HttpClient` service with one that adds run baggage (see `withRunBaggage`), for every service
 * built on top of it.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { HttpPropagation } from "@botanu/effect"
 *
 * const ClientLive = HttpPropagation.layerClient().pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options?: BaggageOptions
): Layer.Layer<HttpClient.HttpClient, never, HttpClient.HttpClient> =>
  Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, (client) => withRunBaggage(client, options)))

/**
 * HTTP server middleware that continues the run a request's `baggage` carries: the request's span and every span
 * the handler makes get the run's four ids, `currentRun` returns it (with `remote: true`), a workflow the handler
 * starts is nested in it, and requests the handler makes pass it on. The run span stays in the calling process,
 * so `emitOutcome` here writes to the current span.
 *
 * A header that is malformed, ambiguous, larger than 8192 bytes or more than 180 members long, or that lacks one
 * of the four ids, is ignored: the request is served as if it had none.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
 * import { HttpPropagation } from "@botanu/effect"
 *
 * const app = HttpRouter.empty.pipe(HttpRouter.get("/", HttpServerResponse.text("ok")))
 * const served = HttpServer.serve(app, HttpPropagation.middleware)
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const middleware: HttpMiddleware.HttpMiddleware = HttpMiddleware.make((app) =>
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    return continueFromBaggage(app, request.headers["baggage"])
  })
)
