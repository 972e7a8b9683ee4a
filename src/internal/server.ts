import { describe, type Warn } from "./sanitize.js"

/**
 * The GenAI server a call talks to (`server.address`, `server.port`), as far as it is known when the call is
 * planned.
 *
 * @internal
 */
export interface ServerTarget {
  readonly address: string | undefined
  readonly port: number | undefined
}

/** @internal */
export const noServer: ServerTarget = { address: undefined, port: undefined }

const maxAddressLength = 255

/** A host name or address: a non-blank string of at most 255 characters; anything else is dropped. */
const address = (field: string, value: unknown, warn: Warn): string | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== "string") {
    warn(`${field}: ${describe(value)} is not a string; dropped`)
  } else if (value.trim().length === 0) {
    warn(`${field}: empty; dropped`)
  } else if (value.length > maxAddressLength) {
    warn(`${field}: ${describe(value)} is longer than ${maxAddressLength} characters; dropped`)
  } else {
    return value
  }
  return undefined
}

/** A port: an integer from 1 to 65535; anything else is dropped. */
const port = (field: string, value: unknown, warn: Warn): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535) return value
  warn(`${field}: ${describe(value)} is not a port (an integer from 1 to 65535); dropped`)
  return undefined
}

/**
 * The server an SDK client sends its requests to, read from its `baseURL` (the `openai` and `@anthropic-ai/sdk`
 * clients both have one): the URL's host, and its port, else 443 for https and 80 for http.
 */
const fromClient = (client: unknown, warn: Warn): ServerTarget | undefined => {
  if (client === undefined) return undefined
  if (typeof client !== "object" || client === null) {
    warn(`client: ${describe(client)} is not an object; dropped`)
    return undefined
  }
  let baseURL: unknown
  try {
    baseURL = (client as { readonly baseURL?: unknown }).baseURL
  } catch {
    warn("client.baseURL: reading it failed; dropped")
    return undefined
  }
  if (baseURL === undefined) return undefined
  if (typeof baseURL !== "string") {
    warn(`client.baseURL: ${describe(baseURL)} is not a string; dropped`)
    return undefined
  }
  let url: URL
  try {
    url = new URL(baseURL)
  } catch {
    warn(`client.baseURL: ${describe(baseURL)} is not a URL; dropped`)
    return undefined
  }
  // An IPv6 host comes bracketed, as a URL writes it; `server.address` is the address itself.
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname
  if (host.length === 0) return undefined
  const explicit = url.port === "" ? undefined : Number(url.port)
  const fallback = url.protocol === "https:" ? 443 : url.protocol === "http:" ? 80 : undefined
  return { address: host, port: explicit ?? fallback }
}

/**
 * The options a server is read from, as read (see `readOptions`).
 *
 * @internal
 */
export interface ServerOptions {
  readonly serverAddress?: unknown
  readonly serverPort?: unknown
  readonly client?: unknown
}

/**
 * Where a call's server comes from, in order: the `serverAddress` / `serverPort` options, then `server.address` /
 * `server.port` given in `attributes` (the same fact under the conventions' own keys), then the SDK client's base
 * URL. Each field on its own, except that a client's port goes only with the client's own host. Worked out once per
 * call plan.
 *
 * @internal
 */
export const resolve = (
  options: ServerOptions | undefined,
  attributes: { readonly address: unknown; readonly port: unknown },
  warn: Warn
): ServerTarget => {
  const optionAddress = address("serverAddress", options?.serverAddress, warn)
  const optionPort = port("serverPort", options?.serverPort, warn)
  const attributeAddress = address("attributes.server.address", attributes.address, warn)
  const attributePort = port("attributes.server.port", attributes.port, warn)
  if (optionAddress !== undefined && attributeAddress !== undefined) {
    warn("attributes.server.address: the serverAddress option is given and wins; dropped")
  }
  if (optionPort !== undefined && attributePort !== undefined) {
    warn("attributes.server.port: the serverPort option is given and wins; dropped")
  }
  const client = fromClient(options?.client, warn)
  const resolvedAddress = optionAddress ?? attributeAddress ?? client?.address
  const resolvedPort = optionPort ?? attributePort ??
    (client !== undefined && resolvedAddress === client.address ? client.port : undefined)
  return resolvedAddress === undefined && resolvedPort === undefined
    ? noServer
    : { address: resolvedAddress, port: resolvedPort }
}
