/**
 * The consumer app in production: `Tracking.layer` exporting OTLP over HTTP to a receiver on 127.0.0.1. The app's
 * OTel SDK may be older than the one the package's OTLP exporters were built with (they nest their own SDK
 * internals); both signals must still arrive.
 */
import { LlmTracker, Tracking, trackLlmCall } from "@botanu/effect"
import { Effect } from "effect"
import assert from "node:assert/strict"
import { createServer } from "node:http"
import { createRequire } from "node:module"

const received = []
const server = createServer((request, response) => {
  const chunks = []
  request.on("data", (chunk) => chunks.push(chunk)).on("end", () => {
    const body = Buffer.concat(chunks)
    received.push({ url: request.url, type: request.headers["content-type"], bytes: body.length, body })
    response.writeHead(200, { "content-type": "application/x-protobuf" }).end()
  })
})
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))

const summarize = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  yield* tracker.setTokens({ inputTokens: 1000, outputTokens: 12 })
}).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

try {
  const endpoint = `http://127.0.0.1:${server.address().port}`
  // Shutting the layer down flushes both signals.
  await summarize.pipe(Effect.provide(Tracking.layer({ endpoint, serviceName: "consumer-app" })), Effect.runPromise)
} finally {
  server.close()
}

for (const signal of ["/v1/traces", "/v1/metrics"]) {
  const requests = received.filter((request) => request.url === signal)
  assert.ok(requests.length > 0, `nothing was exported to ${signal}; received ${JSON.stringify(received)}`)
  assert.ok(requests.every((request) => request.type === "application/x-protobuf" && request.bytes > 0))
}
// The library's metrics name it and the tarball's version as their scope (protobuf strings are plain UTF-8), and the
// resource carries a service.instance.id.
const { version } = createRequire(import.meta.url)("@botanu/effect/package.json")
const metrics = Buffer.concat(received.filter((r) => r.url === "/v1/metrics").map((r) => r.body))
// An InstrumentationScope message: field 1 (name), field 2 (version), each a tag byte, a length and UTF-8.
const field = (tag, text) => Buffer.concat([Buffer.from([tag, Buffer.byteLength(text)]), Buffer.from(text)])
const scope = Buffer.concat([field(0x0a, "@botanu/effect"), field(0x12, version)])
assert.ok(metrics.includes(scope), `the exported metrics have no scope @botanu/effect ${version}`)
for (const text of ["service.instance.id", "telemetry.sdk.version"]) {
  assert.ok(metrics.includes(text), `the exported metrics' resource has no ${text}`)
}
const bytes = (signal) => received.filter((r) => r.url === signal).reduce((sum, r) => sum + r.bytes, 0)
console.log(`RESULT ${JSON.stringify({ traceBytes: bytes("/v1/traces"), metricBytes: bytes("/v1/metrics"), version })}`)
