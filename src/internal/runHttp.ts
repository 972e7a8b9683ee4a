import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { Environment, RootRunId, TenantId } from "../Attributes.js"
import type { RunContext } from "../Workflow.js"
import * as Baggage from "./baggage.js"
import { currentRunState, runIdEntries } from "./runState.js"

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

// Clients that already add baggage, so that a run does not wrap them again.
const propagating = new WeakSet<object>()

/** @internal */
export const withRunBaggage = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  propagate: Propagate
): HttpClient.HttpClient.With<E, R> => {
  if (propagating.has(client)) return client
  const wrapped = HttpClient.mapRequestEffect(
    client,
    (request) =>
      Effect.withFiberRuntime<HttpClientRequest.HttpClientRequest>((fiber) => {
        const run = currentRunState(fiber.currentContext)
        if (run === undefined) return Effect.succeed(request)
        const header = Baggage.merge(request.headers["baggage"], baggageEntries(run.context, propagate))
        return Effect.succeed(header === undefined ? request : HttpClientRequest.setHeader(request, "baggage", header))
      })
  )
  propagating.add(wrapped)
  return wrapped
}

/**
 * Inside a run, the `HttpClient` the run's context provides adds the run's baggage to every request, so that code
 * which reads the client inside the run needs no setup. A client captured earlier (when a layer was built) is the
 * caller's to wrap with `HttpPropagation.withRunBaggage`.
 *
 * @internal
 */
export const provideRunClient = (context: Context.Context<never>): Context.Context<never> => {
  const client = context.unsafeMap.get(HttpClient.HttpClient.key) as HttpClient.HttpClient | undefined
  if (client === undefined || propagating.has(client)) return context
  return Context.add(context, HttpClient.HttpClient, withRunBaggage(client, "ids"))
}
