import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import type * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Environment, RootRunId, RunId, TenantId } from "../Attributes.js"
import type { RunContext } from "../Workflow.js"
import * as Baggage from "./baggage.js"
import { currentRunLink, currentRunState, runIdEntries, type RunLink } from "./runState.js"

/** @internal */
export type Propagate = "ids" | "all"

/**
 * The baggage entries of a run: the four ids, and with `"all"` also the environment, tenant and root run id.
 *
 * @internal
 */
export const baggageEntries = (run: RunContext, propagate: Propagate): ReadonlyArray<readonly [string, string]> => {
  const ids = runIdEntries(run)
  if (propagate !== "all") return ids
  const entries = [...ids, [Environment, run.environment] as const, [RootRunId, run.rootRunId] as const]
  if (run.tenantId !== undefined) entries.push([TenantId, run.tenantId])
  return entries
}

/**
 * The baggage entries of a linked run (no run here, a remote one this request serves): its ids only, so that the
 * next service links to it too.
 *
 * @internal
 */
export const linkEntries = (link: RunLink, propagate: Propagate): ReadonlyArray<readonly [string, string]> =>
  propagate === "all" ? [[RunId, link.runId], [RootRunId, link.rootRunId]] : [[RunId, link.runId]]

/**
 * A `propagateTo` entry that is not a host name pattern (a URL, a path, an empty string, a `*` elsewhere than a
 * leading `*.`). Thrown when the client or its layer is made, so that a typo fails at start-up instead of silently
 * sending baggage nowhere.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPropagationTarget extends Data.TaggedError("InvalidPropagationTarget")<{
  readonly message: string
}> {}

/** The hosts a client sends baggage to, compiled once. */
export interface Targets {
  readonly matches: (url: URL) => boolean
}

const defaultPorts: Record<string, string> = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443" }

const portOf = (url: URL): string => url.port !== "" ? url.port : defaultPorts[url.protocol] ?? ""

const stripDot = (host: string) => host.endsWith(".") ? host.slice(0, -1) : host

// Characters that make a pattern a URL, a path or a list rather than one host.
const notHostPattern = /[\s/?#@\\,]/

/**
 * One string pattern: `host`, `host:port`, `*.suffix` or `*.suffix:port`, normalized the way a URL normalizes its
 * host (lowercase, punycode, IPv6 in brackets) so that the comparison is with what the request's URL says.
 */
const compileHost = (pattern: string): (url: URL) => boolean => {
  const invalid = () =>
    new InvalidPropagationTarget({
      message: `propagateTo: ${JSON.stringify(pattern)} is not a host name, "host:port" or "*.suffix" pattern`
    })
  const wildcard = pattern.startsWith("*.")
  const rest = wildcard ? pattern.slice(2) : pattern
  if (rest.length === 0 || rest.includes("*") || notHostPattern.test(rest)) throw invalid()
  // A bare IPv6 address has colons of its own; with a port it needs brackets.
  const authority = !rest.startsWith("[") && rest.indexOf(":") !== rest.lastIndexOf(":") ? `[${rest}]` : rest
  let parsed: URL
  try {
    parsed = new URL(`http://${authority}`)
  } catch {
    throw invalid()
  }
  if (parsed.hostname === "" || parsed.pathname !== "/" || parsed.username !== "" || parsed.password !== "") {
    throw invalid()
  }
  const host = stripDot(parsed.hostname)
  const port = /:\d+$/.test(authority) ? portOf(parsed) : undefined
  const portMatches = (url: URL) => port === undefined || portOf(url) === port
  if (wildcard) {
    const suffix = `.${host}`
    return (url) => stripDot(url.hostname).endsWith(suffix) && portMatches(url)
  }
  return (url) => stripDot(url.hostname) === host && portMatches(url)
}

const compileRegExp = (pattern: RegExp): (url: URL) => boolean => {
  // Without `g` / `y`, `test` keeps no state between requests.
  const regExp = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))
  return (url) => regExp.test(url.hostname)
}

/**
 * Compiles `propagateTo`; `undefined` when it names no host, so that the client is left as it is.
 *
 * @internal
 */
export const compileTargets = (propagateTo: ReadonlyArray<string | RegExp> | undefined): Targets | undefined => {
  if (propagateTo === undefined) return undefined
  if (!Array.isArray(propagateTo)) {
    throw new InvalidPropagationTarget({ message: "propagateTo: not an array of host patterns" })
  }
  const matchers: Array<(url: URL) => boolean> = []
  for (const pattern of propagateTo) {
    if (typeof pattern === "string") matchers.push(compileHost(pattern.trim()))
    else if (pattern instanceof RegExp) matchers.push(compileRegExp(pattern))
    else throw new InvalidPropagationTarget({ message: "propagateTo: an entry that is neither a string nor a RegExp" })
  }
  if (matchers.length === 0) return undefined
  return {
    matches: (url) => {
      for (const matcher of matchers) if (matcher(url)) return true
      return false
    }
  }
}

/** The URL a request goes to, resolved as the platform's client resolves it; `undefined` when it has no host. */
const targetUrl = (request: HttpClientRequest.HttpClientRequest): URL | undefined =>
  Option.getOrUndefined(Option.getRight(UrlParams.makeUrl(request.url, [], Option.none())))

const addBaggage = (
  request: HttpClientRequest.HttpClientRequest,
  context: Context.Context<never>,
  propagate: Propagate,
  targets: Targets
): HttpClientRequest.HttpClientRequest => {
  const run = currentRunState(context)
  let entries: ReadonlyArray<readonly [string, string]>
  if (run !== undefined) {
    entries = baggageEntries(run.context, propagate)
  } else {
    const link = currentRunLink(context)
    if (link === undefined) return request
    entries = linkEntries(link, propagate)
  }
  const url = targetUrl(request)
  if (url === undefined || !targets.matches(url)) return request
  const header = Baggage.merge(request.headers["baggage"], entries)
  return header === undefined ? request : HttpClientRequest.setHeader(request, "baggage", header)
}

// Every client @effect/platform makes holds its request pipeline in two steps; `HttpClient.transform` wraps the
// second the way we do here.
interface Pipeline<E, R> {
  readonly preprocess: HttpClient.HttpClient.Preprocess<E, R>
  readonly postprocess: HttpClient.HttpClient.Postprocess<E, R>
}

const hasPipeline = <E, R>(client: HttpClient.HttpClient.With<E, R>): client is
  & HttpClient.HttpClient.With<E, R>
  & Pipeline<E, R> =>
  typeof (client as Partial<Pipeline<E, R>>).preprocess === "function" &&
  typeof (client as Partial<Pipeline<E, R>>).postprocess === "function"

/**
 * A client that adds the run's (or the linked run's) entries to the `baggage` header of a request whose host is
 * one of `targets`. The host is read after every request transformation, those applied on top of the returned
 * client included (`HttpClient.mapRequest(HttpClientRequest.prependUrl(...))` on a client from
 * `HttpPropagation.layerClient`), so that it is the host the request really goes to.
 *
 * @internal
 */
export const withRunBaggage = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  propagate: Propagate,
  targets: Targets | undefined
): HttpClient.HttpClient.With<E, R> => {
  if (targets === undefined) return client
  const add = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.withFiberRuntime<HttpClientRequest.HttpClientRequest>((fiber) =>
      Effect.succeed(addBaggage(request, fiber.currentContext, propagate, targets))
    )
  if (!hasPipeline(client)) return HttpClient.mapRequestEffect(client, add)
  return HttpClient.makeWith(
    (request: Effect.Effect<HttpClientRequest.HttpClientRequest, E, R>) =>
      client.postprocess(Effect.flatMap(request, add)),
    client.preprocess
  )
}
