import * as OtelResource from "@effect/opentelemetry/Resource"
import type * as OtelApi from "@opentelemetry/api"
import { defaultResource, type Resource, resourceFromAttributes } from "@opentelemetry/resources"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"

const ATTR_SERVICE_NAME = "service.name"
const ATTR_SERVICE_VERSION = "service.version"
const ATTR_SERVICE_INSTANCE_ID = "service.instance.id"

/** @internal */
export interface ResourceOptions {
  readonly serviceName: string
  readonly serviceVersion?: string | undefined
  readonly attributes?: OtelApi.Attributes | undefined
}

/**
 * Parses `OTEL_RESOURCE_ATTRIBUTES` as the OpenTelemetry SDK specification and the JS SDK's env detector do:
 * comma-separated `key=value` pairs, keys and values trimmed and percent-decoded, empty entries skipped. An entry
 * that is not exactly one `key=value` (an unencoded `,` or `=`), an empty key or a bad percent-encoding discards the
 * whole variable, as the specification asks.
 *
 * @internal
 */
export const parseResourceAttributes = (raw: string): Either.Either<Record<string, string>, string> => {
  const attributes: Record<string, string> = {}
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue
    const parts = entry.split("=")
    if (parts.length !== 2) {
      return Either.left(`"${entry}" is not key=value (a "," or "=" in a key or value must be percent-encoded)`)
    }
    const key = parts[0].trim()
    if (key === "") return Either.left(`"${entry}" has an empty key`)
    try {
      attributes[decodeURIComponent(key)] = decodeURIComponent(parts[1].trim())
    } catch {
      return Either.left(`"${entry}" is not valid percent-encoding`)
    }
  }
  return Either.right(attributes)
}

/**
 * `OTEL_RESOURCE_ATTRIBUTES` through Effect's `ConfigProvider`: its attributes, or why they were discarded.
 *
 * @internal
 */
export const fromEnv: Effect.Effect<Either.Either<Record<string, string>, string>> = Config.string(
  "OTEL_RESOURCE_ATTRIBUTES"
).pipe(
  Config.withDefault(""),
  Effect.orElseSucceed(() => ""),
  Effect.map(parseResourceAttributes)
)

/**
 * `OTEL_RESOURCE_ATTRIBUTES`'s attributes, `{}` when it is absent or invalid.
 *
 * @internal
 */
export const attributesFromEnv: Effect.Effect<Record<string, string>> = Effect.map(
  fromEnv,
  Either.getOrElse(() => ({}))
)

/**
 * The resource of one build of a tracking layer, merged as the OpenTelemetry NodeSDK merges its own (each later one
 * wins): the SDK's default resource (`telemetry.sdk.name` = `opentelemetry`, `telemetry.sdk.language`,
 * `telemetry.sdk.version` = the SDK's, from @opentelemetry/core's `SDK_INFO`) and a fresh random
 * `service.instance.id`; then `OTEL_RESOURCE_ATTRIBUTES`; then the layer's options (`attributes`, then
 * `service.name` and `service.version`).
 *
 * @internal
 */
export const make = (options: ResourceOptions, env: Readonly<Record<string, string>>): Resource =>
  defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_INSTANCE_ID]: globalThis.crypto.randomUUID() }))
    .merge(resourceFromAttributes(env))
    .merge(resourceFromAttributes({
      ...options.attributes,
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion === undefined || options.serviceVersion === ""
        ? {}
        : { [ATTR_SERVICE_VERSION]: options.serviceVersion })
    }))

/**
 * The resource layer of every tracking layer (`make`), built anew, with a new `service.instance.id`, each time the
 * layer is built. An invalid `OTEL_RESOURCE_ATTRIBUTES` is discarded with a warning.
 *
 * @internal
 */
export const layer = (options: ResourceOptions): Layer.Layer<OtelResource.Resource> =>
  Layer.effect(
    OtelResource.Resource,
    Effect.flatMap(fromEnv, (env) =>
      Either.match(env, {
        onLeft: (reason) =>
          Effect.as(
            Effect.logWarning(`OTEL_RESOURCE_ATTRIBUTES is ignored: ${reason}`),
            make(options, {})
          ),
        onRight: (attributes) => Effect.succeed(make(options, attributes))
      }))
  )
