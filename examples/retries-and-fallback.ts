/**
 * Retries and fallback: answer a question with `claude-3-opus` on Anthropic, retrying once; when Anthropic is
 * rate-limited, fall back to `gpt-4` on OpenAI. Every attempt is its own span, numbered; the fallback's span says
 * it is step 1 of the chain; tokens come from each response; the run emits its outcome.
 *
 * The provider clients are stand-ins in the providers' documented response shapes, so that the example runs without
 * a network; the Anthropic one is rate-limited throughout, so both of its attempts fail and GPT-4 answers.
 *
 * Run: `npx tsx examples/retries-and-fallback.ts`
 */
import { Data, Effect, Schedule } from "effect"
import { pathToFileURL } from "node:url"
import {
  botanuWorkflow,
  emitOutcome,
  fallbackTracked,
  LlmTracker,
  retryTracked,
  Tracking,
  trackLlmCall
} from "../src/index.js"

export class RateLimitError extends Data.TaggedError("RateLimitError")<{
  readonly provider: string
  readonly retryAfterSeconds: number
  readonly message: string
}> {}

// --- stand-ins for the provider SDKs ----------------------------------------------------------------------------

interface AnthropicMessage {
  readonly id: string
  readonly model: string
  readonly content: ReadonlyArray<{ readonly type: "text"; readonly text: string }>
  readonly stop_reason: string
  readonly usage: {
    readonly input_tokens: number
    readonly output_tokens: number
    readonly cache_read_input_tokens: number
    readonly cache_creation_input_tokens: number
  }
}

const anthropicMessages = (_question: string): Effect.Effect<AnthropicMessage, RateLimitError> =>
  Effect.fail(new RateLimitError({ provider: "anthropic", retryAfterSeconds: 0, message: "429: rate limited" }))

const openAiChat = (question: string) =>
  Effect.succeed({
    id: "chatcmpl-9",
    model: "gpt-4-0613",
    choices: [{ message: { content: `GPT-4 on: ${question}` }, finish_reason: "stop" }],
    usage: { prompt_tokens: 52, completion_tokens: 31, prompt_tokens_details: { cached_tokens: 0 } }
  })

// --- the tracked flow ----------------------------------------------------------------------------------------

const askClaude = (question: string) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    const response = yield* anthropicMessages(question)
    yield* tracker.setTokens({
      inputTokens: response.usage.input_tokens,
      outputTokens: response.usage.output_tokens,
      cacheReadTokens: response.usage.cache_read_input_tokens,
      cacheWriteTokens: response.usage.cache_creation_input_tokens
    })
    yield* tracker.setRequestId({ providerRequestId: response.id })
    yield* tracker.setResponseModel(response.model)
    yield* tracker.setFinishReason(response.stop_reason)
    return response.content[0].text
  }).pipe(
    trackLlmCall({ provider: "anthropic", model: "claude-3-opus" }),
    retryTracked(Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(1))))
  )

const askGpt4 = (question: string) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    const response = yield* openAiChat(question)
    yield* tracker.setTokens({
      inputTokens: response.usage.prompt_tokens,
      outputTokens: response.usage.completion_tokens,
      cachedTokens: response.usage.prompt_tokens_details.cached_tokens
    })
    yield* tracker.setRequestId({ providerRequestId: response.id })
    yield* tracker.setResponseModel(response.model)
    yield* tracker.setFinishReason(response.choices.map((choice) => choice.finish_reason))
    return response.choices[0].message.content
  }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4" }))

export const answerQuestion = (question: string) =>
  Effect.gen(function*() {
    const answer = yield* fallbackTracked([askClaude(question), askGpt4(question)], {
      while: (error) => error._tag === "RateLimitError"
    })
    yield* emitOutcome("success", { valueType: "question_answered", valueAmount: 1 })
    return answer
  }).pipe(botanuWorkflow("answer_question", { eventId: "Q-77", customerId: "globex" }))

export const program = answerQuestion("What is our refund policy?")

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap((answer) => Effect.log(`answer: ${answer}`)),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
