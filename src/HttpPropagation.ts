/**
 * Runs across service boundaries: the run's ids travel as W3C `baggage` on requests made with @effect/platform's
 * `HttpClient` to the hosts the app names, next to the `traceparent` the client already sends, and a server
 * middleware links to the run they name or, for a caller the app trusts, continues it.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as runHttp from "./internal/runHttp.js"
import { continueFromBaggage } from "./internal/runRemote.js"

/**
 * Where a client sends baggage: a host name (`"billing.internal"`, exact and case-insensitive), a host and port
 * (`"billing.internal:8443"`; without a port any port matches), `"*.suffix"` (any subdomain of `suffix`, not
 * `suffix` itself: list it too if it is one of yours, optionally with a port), or a RegExp tested against the
 * URL's host name alone (lowercase, punycode, IPv6 in brackets, no port: anchor it, `/^[a-z]+\.internal$/`).
 *
 * @since 0.1.0
 * @category models
 */
export type PropagationTarget = string | RegExp

/**
 * @since 0.1.0
 * @category models
 */
export interface BaggageOptions {
  /**
   * The hosts that get the run's baggage, matched against the host of each request's URL. Without it (or with an
   * empty list) no request gets any: the run's customer and event ids are for the app's own services, not for an
   * LLM provider or any other third party. An entry that is not a host pattern throws `InvalidPropagationTarget`
   * when the client or layer is made.
   */
  readonly propagateTo?: ReadonlyArray<PropagationTarget> | undefined
  /**
   * `"ids"` (the default): `botanu.run_id`, `botanu.workflow`, `botanu.event_id` and `botanu.customer_id`.
   * `"all"`: also `botanu.environment`, `botanu.root_run_id` and `botanu.tenant_id` (when the run has one).
   */
  readonly propagate?: "ids" | "all" | undefined
}

/**
 * A `propagateTo` entry that is not a host name pattern.
 *
 * @since 0.1.0
 * @category errors
 */
export { InvalidPropagationTarget } from "./internal/runHttp.js"

const propagateOf = (options: BaggageOptions | undefined): runHttp.Propagate =>
  options?.propagate === "all" ? "all" : "ids"

/**
 * A client that adds the current run's entries to the `baggage` header of each request made inside a run to a
 * host in `propagateTo` (percent-encoded; other members of a `baggage` header you set are kept). Other hosts get
 * nothing, and without `propagateTo` the client is returned as it is. Outside a run it adds nothing, except in a
 * request handler that `middleware` linked to a remote run: there it passes the remote run id on.
 *
 * The host is the one the request really goes to: it is read after every request transformation, including those
 * applied on top of the returned client (`HttpClient.mapRequest(HttpClientRequest.prependUrl(...))`). A URL with no
 * host gets nothing.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { HttpPropagation } from "@botanu/effect"
 *
 * const makeBilling = Effect.map(HttpClient.HttpClient, (client) => {
 *   const billing = HttpPropagation.withRunBaggage(client, { propagateTo: ["billing.internal"] })
 *   return { charge: (id: string) => billing.post(`https://billing.internal/charge/${id}`) }
 * })
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
    runHttp.withRunBaggage(client, propagateOf(options), runHttp.compileTargets(options?.propagateTo))
)

/**
 * Replaces the `HttpClient` service with one that adds run baggage for the hosts in `propagateTo` (see
 * `withRunBaggage`), for every service built on top of it. Without `propagateTo` it adds nothing.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { HttpPropagation } from "@botanu/effect"
 *
 * // The app's own services only: never the LLM provider's API.
 * const ClientLive = HttpPropagation.layerClient({ propagateTo: ["*.internal.example.com"] }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options?: BaggageOptions
): Layer.Layer<HttpClient.HttpClient, never, HttpClient.HttpClient> => {
  // Compiled here, so that a bad pattern throws when the layer is made rather than when it is built.
  const propagate = propagateOf(options)
  const targets = runHttp.compileTargets(options?.propagateTo)
  return Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) => runHttp.withRunBaggage(client, propagate, targets))
  )
}

/**
 * Which requests' baggage may set a run's attribution: `"all"` (every caller is one of the app's own services, for
 * a service reachable only behind the app's gateway), `"none"` (the safe default of `middleware`), or a function
 * of the request that returns `true` (or an effect that succeeds with `true`) for a caller the app trusts: an mTLS
 * peer, a shared secret header, an allow-list of addresses. A function that throws, fails or returns anything but
 * `true` means not trusted.
 *
 * @since 0.1.0
 * @category models
 */
export type Trust =
  | "all"
  | "none"
  | ((request: HttpServerRequest.HttpServerRequest) => boolean | Effect.Effect<boolean, unknown>)

/**
 * @since 0.1.0
 * @category models
 */
export interface MiddlewareOptions {
  readonly trust: Trust
}

const trustFailed = "HttpPropagation trust: the function threw or failed; the request is served as not trusted"

/**
 * HTTP server middleware that reads the run a request's `baggage` carries.
 *
 * - From every request, a `botanu.run_id` that is a UUID (and `botanu.root_run_id`, when it is one) is taken as a
 *   link: a workflow the handler starts is nested in that run (`botanu.parent_run_id`, `botanu.root_run_id`), and
 *   requests the handler makes with a client of `withRunBaggage` / `layerClient` pass the run id on. Nothing is
 *   attributed to it: the handler's own spans carry no run ids, and `currentRun` returns none.
 * - From a trusted request (see `Trust`), the run is continued: `botanu.workflow`, `botanu.event_id` and
 *   `botanu.customer_id` (all three, each at most 256 characters of printable text), `botanu.environment` and
 *   `botanu.tenant_id`. The request's span and every span the handler makes get the run's four ids, `currentRun`
 *   returns the run (with `remote: true`) and `emitOutcome` writes to the current span (the run span stays in the
 *   calling process).
 *
 * A value that fails its check (a run id that is not a UUID, text that is too long or holds a control,
 * bidirectional or zero-width character) is ignored with a line in the server span's `botanu.tracking.warnings`
 * that says what was wrong, never what was sent; so is attribution sent by a request that is not trusted. A header
 * larger than 8192 bytes or of more than 180 members, or that gives a run key twice with different values, is not
 * read at all.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
 * import { HttpPropagation } from "@botanu/effect"
 *
 * const app = HttpRouter.empty.pipe(HttpRouter.get("/", HttpServerResponse.text("ok")))
 *
 * // Behind the app's own gateway: the callers are the app's services.
 * const internal = HttpServer.serve(app, HttpPropagation.makeMiddleware({ trust: "all" }))
 * // Reachable by anyone: callers with the shared secret only.
 * const secret = process.env.INTERNAL_TOKEN
 * const mixed = HttpServer.serve(
 *   app,
 *   HttpPropagation.makeMiddleware({
 *     trust: (request) => secret !== undefined && request.headers["x-internal-token"] === secret
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const makeMiddleware = (options: MiddlewareOptions): HttpMiddleware.HttpMiddleware => {
  const trust = options.trust
  return HttpMiddleware.make((app) =>
    Effect.withFiberRuntime((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const header = request.headers["baggage"]
      if (header === undefined) return app
      if (typeof trust !== "function") return continueFromBaggage(app, header, trust === "all")
      let verdict: boolean | Effect.Effect<boolean, unknown>
      let isEffect: boolean
      try {
        verdict = trust(request)
        // Inside the guard: a hostile value (a Proxy) can throw on being looked at.
        isEffect = Effect.isEffect(verdict)
      } catch {
        return continueFromBaggage(app, header, false, [trustFailed])
      }
      if (!isEffect) return continueFromBaggage(app, header, verdict === true)
      return Effect.flatMap(
        Effect.exit(verdict as Effect.Effect<boolean, unknown>),
        (exit) =>
          Exit.isSuccess(exit)
            ? continueFromBaggage(app, header, exit.value === true)
            : continueFromBaggage(app, header, false, [trustFailed])
      )
    })
  )
}

/**
 * `makeMiddleware({ trust: "none" })`: links each request to the remote run its baggage names, and takes no
 * attribution from it, so that no caller can book its cost to another customer. Use `makeMiddleware` to continue
 * runs from callers the app trusts.
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
export const middleware: HttpMiddleware.HttpMiddleware = makeMiddleware({ trust: "none" })
