/**
 * Testing your own app: provide `TrackingTest.layer` instead of a production layer and read the spans that the
 * real OpenTelemetry SDK finished, in the order they ended.
 *
 * In a vitest file (with `@effect/vitest`):
 *
 * ```ts
 * it.effect("records the summary call", () =>
 *   Effect.gen(function*() {
 *     const names = yield* finishedSpanNames
 *     assert.deepStrictEqual(names, ["chat gpt-4o-mini"])
 *   }).pipe(Effect.provide(TrackingTest.layer)))
 * ```
 *
 * Run it: `npx tsx examples/testing-your-app.ts`
 */
import { Effect } from "effect"
import { pathToFileURL } from "node:url"
import { LlmTracker, Tracking, TrackingTest, trackLlmCall } from "../src/index.js"

// The application code under test: it knows nothing about tests.
export const summarize = (text: string) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens: text.length, outputTokens: 7 })
    yield* tracker.setFinishReason("stop")
    return text.slice(0, 20)
  }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

export const program = summarize("Effect makes tracking LLM calls a one-liner.")

/** Runs the app and returns the names of the spans it finished; needs `TrackingTest.layer`. */
export const finishedSpanNames: Effect.Effect<Array<string>, never, TrackingTest.TrackingTest> = Effect.gen(
  function*() {
    yield* program
    const spans = yield* TrackingTest.finishedSpans
    return spans.map((span) => span.name)
  }
)

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.gen(function*() {
    // As a test sees it: the finished spans, in memory.
    const names = yield* finishedSpanNames.pipe(Effect.provide(TrackingTest.layer))
    yield* Effect.log(`finished spans under TrackingTest.layer: ${names.join(", ")}`)
    // As a developer sees it: the same program, printed.
    yield* program.pipe(Effect.provide(Tracking.layerDevelopment()))
  }).pipe(Effect.runPromise)
}
