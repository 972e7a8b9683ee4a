/**
 * Run by test/Content.test.ts in a child process, with or without `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`:
 * one tracked call with the default policy (the environment's), one under `Content.layer()` and one under
 * `Content.layerDisabled`; prints the three spans' attributes as one JSON line.
 */
import { Effect, Layer } from "effect"
import { Content, LlmTracker, TrackingTest, trackLlmCall } from "../../src/index.js"

const call = (model: string) =>
  Effect.flatMap(
    LlmTracker,
    (tracker) => tracker.setInputMessages([{ role: "user", content: "Hello from a child process" }])
  ).pipe(
    trackLlmCall({ provider: "openai", model })
  )

const attributesOf = (model: string) =>
  Effect.map(TrackingTest.finishedSpans, (spans) => spans.find((span) => span.name === `chat ${model}`)!.attributes)

const program = Effect.gen(function*() {
  yield* call("default")
  yield* Effect.provide(call("layered"), Content.layer())
  yield* Effect.provide(call("disabled"), Content.layerDisabled)
  return {
    ...(yield* attributesOf("default")),
    layered: yield* attributesOf("layered"),
    disabled: yield* attributesOf("disabled")
  }
})

program.pipe(
  Effect.provide(Layer.mergeAll(TrackingTest.layer)),
  Effect.runPromise
).then((attributes) => {
  process.stdout.write(`${JSON.stringify(attributes)}\n`)
})
