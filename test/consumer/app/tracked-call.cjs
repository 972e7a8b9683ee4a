/**
 * The tracked call that the consumer app makes, loaded from ESM (`esm.mjs`) and from CommonJS (`cjs.cjs`): one
 * `trackLlmCall` under `TrackingTest.layer`, then checks on the span it finished. It takes `Effect` and the package as
 * its caller loaded them, so that each caller checks its own way of loading them.
 */
"use strict"
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS module */
const assert = require("node:assert/strict")

/**
 * @param {typeof import("effect").Effect} Effect the app's own `Effect`
 * @param {typeof import("@botanu/effect")} botanu the package
 */
module.exports = async function trackedCall(Effect, botanu) {
  const { LlmTracker, TrackingTest, trackLlmCall } = botanu
  const summarize = Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens: 1000, outputTokens: 12 })
    return "Paris."
  }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

  const { answer, spans } = await Effect.gen(function*() {
    const answer = yield* summarize
    const spans = yield* TrackingTest.finishedSpans
    return { answer, spans }
  }).pipe(Effect.provide(TrackingTest.layer), Effect.runPromise)

  assert.equal(answer, "Paris.")
  assert.deepEqual(spans.map((span) => span.name), ["chat gpt-4o-mini"])
  const attributes = spans[0].attributes
  assert.equal(attributes["gen_ai.usage.input_tokens"], 1000)
  assert.equal(attributes["gen_ai.usage.output_tokens"], 12)
  // The app pins semantic-conventions 1.33, which has no constant for this name: the key must still be written.
  assert.equal(attributes["gen_ai.provider.name"], "openai")
  assert.ok(!("undefined" in attributes), "an attribute key is undefined")
  const cost = attributes["botanu.cost.total_usd"]
  assert.ok(typeof cost === "number" && cost > 0, `botanu.cost.total_usd is ${cost}, expected a price above 0`)
  return { span: spans[0].name, inputTokens: attributes["gen_ai.usage.input_tokens"], costUsd: cost }
}
