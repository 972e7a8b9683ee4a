/**
 * Quick start: one tracked LLM call. The provider's response is a plain object here so that the example runs
 * without a network or an API key; in an application it is what your client library returns.
 *
 * Run it: `npx tsx examples/quickstart.ts`
 */
import { Effect } from "effect"
import { pathToFileURL } from "node:url"
import { LlmTracker, Tracking, trackLlmCall } from "../src/index.js"

// The shape of an OpenAI chat completion, trimmed to what tracking reads.
const fakeCompletion = {
  id: "chatcmpl-123",
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ message: { content: "Paris." }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1000, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 800 } }
}

const askCapital = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  yield* tracker.setRequestParams({ temperature: 0.2, maxTokens: 64 })
  const response = yield* Effect.succeed(fakeCompletion) // your provider call goes here
  yield* tracker.setTokens({
    inputTokens: response.usage.prompt_tokens,
    outputTokens: response.usage.completion_tokens,
    cachedTokens: response.usage.prompt_tokens_details.cached_tokens
  })
  yield* tracker.setRequestId({ providerRequestId: response.id })
  yield* tracker.setResponseModel(response.model)
  yield* tracker.setFinishReason(response.choices.map((choice) => choice.finish_reason))
  return response.choices[0].message.content
})

export const program = askCapital.pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap((answer) => Effect.log(`answer: ${answer}`)),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
