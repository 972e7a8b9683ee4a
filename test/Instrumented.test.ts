import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import { Cause, Data, Effect, Exit } from "effect"
import { llmInstrumented, LlmTracker, TrackingTest } from "../src/index.js"
import { fixture } from "./utils/fakeProvider.js"
import { exceptionEvents, spanNamed, warningsOf } from "./utils/spans.js"

class RateLimitError extends Data.TaggedError("RateLimitError")<{ readonly message: string }> {}
class ProviderDown extends Error {}

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

const completion = fixture("openai-chat")

interface ChatParams {
  readonly model?: string
  readonly stream?: boolean
  readonly messages: ReadonlyArray<string>
}

describe("llmInstrumented, wrapping functions that return an Effect", () => {
  const chat = llmInstrumented({ provider: "OpenAI" })((params: ChatParams) =>
    Effect.succeed({ ...completion, params })
  )

  it.effect("tracks each call: model from the argument, usage from the response", () =>
    withTracking(Effect.gen(function*() {
      const result = yield* chat({ model: "gpt-4o", messages: ["hi"] })
      assert.strictEqual(result.id, completion.id)
      yield* chat({ model: "gpt-4o-mini", messages: ["again"] })
      const first = yield* spanNamed("chat gpt-4o")
      assert.strictEqual(first.attributes["gen_ai.provider.name"], "openai")
      assert.strictEqual(first.attributes["gen_ai.request.model"], "gpt-4o")
      assert.strictEqual(first.attributes["gen_ai.usage.input_tokens"], 1117)
      assert.strictEqual(first.attributes["gen_ai.response.model"], "gpt-4o-2024-08-06")
      assert.strictEqual(first.attributes["botanu.cost.status"], "priced")
      yield* spanNamed("chat gpt-4o-mini")
    })))

  it.effect("no model in the argument: \"unknown\"; another field through modelParam; an operation", () =>
    withTracking(Effect.gen(function*() {
      yield* chat({ messages: [] })
      const embed = llmInstrumented({ provider: "openai", modelParam: "deployment", operation: "embeddings" })(
        (params: { deployment: string }) => Effect.succeed(fixture("openai-embeddings")).pipe(Effect.as(params))
      )
      yield* embed({ deployment: "text-embedding-3-small" })
      const unknown = yield* spanNamed("chat unknown")
      assert.strictEqual(unknown.attributes["gen_ai.request.model"], "unknown")
      assert.deepStrictEqual(warningsOf(unknown), [])
      const embedding = yield* spanNamed("embeddings text-embedding-3-small")
      assert.strictEqual(embedding.attributes["gen_ai.operation.name"], "embeddings")
      // The wrapped function returned its argument, not a response: noted, and nothing else recorded.
      assert.deepStrictEqual(warningsOf(embedding), [
        "usage (auto): an object is not a response shape this library knows; nothing recorded"
      ])
    })))

  it.effect("stream: true marks the call streaming and leaves usage to the consumer", () =>
    withTracking(Effect.gen(function*() {
      yield* chat({ model: "gpt-4o", stream: true, messages: [] })
      const span = yield* spanNamed("chat gpt-4o")
      assert.strictEqual(span.attributes["botanu.request.streaming"], true)
      assert.strictEqual(span.attributes["gen_ai.request.stream"], true)
      assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
      assert.deepStrictEqual(warningsOf(span), [])
    })))

  it.effect("tokensFromResponse: false reads nothing; the LlmTracker is there for hand calls", () =>
    withTracking(Effect.gen(function*() {
      const byHand = llmInstrumented({ provider: "openai", tokensFromResponse: false })((params: ChatParams) =>
        Effect.gen(function*() {
          const tracker = yield* LlmTracker
          yield* tracker.setTokens({ inputTokens: 3, outputTokens: 1 })
          return { ...completion, params }
        })
      )
      yield* byHand({ model: "gpt-4o", messages: [] })
      const span = yield* spanNamed("chat gpt-4o")
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 3)
      assert.isUndefined(span.attributes["gen_ai.response.id"])
    })))

  it.effect("a failure is recorded and passes through; a throw is recorded as a defect", () =>
    withTracking(Effect.gen(function*() {
      const failing = llmInstrumented({ provider: "openai" })((_: ChatParams) =>
        Effect.fail(new RateLimitError({ message: "slow down" }))
      )
      const error = yield* Effect.flip(failing({ model: "m-fail", messages: [] }))
      assert.instanceOf(Cause.originalError(error), RateLimitError)
      const throwing = llmInstrumented({ provider: "openai" })((_: ChatParams): Effect.Effect<string> => {
        throw new ProviderDown("down")
      })
      const exit = yield* Effect.exit(throwing({ model: "m-throw", messages: [] }))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      const failed = yield* spanNamed("chat m-fail")
      assert.strictEqual(failed.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(failed.attributes["error.type"], "RateLimitError")
      const thrown = yield* spanNamed("chat m-throw")
      assert.strictEqual(thrown.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(thrown.attributes["error.type"], "ProviderDown")
      assert.strictEqual(exceptionEvents(thrown).length, 1)
    })))
})

describe("llmInstrumented(...).promise, wrapping functions that return a Promise", () => {
  it.effect("returns an Effect; the resolved response is read", () =>
    withTracking(Effect.gen(function*() {
      const chat = llmInstrumented({ provider: "anthropic" }).promise(async (params: { model: string }) => ({
        ...fixture("anthropic-messages-cache"),
        params
      }))
      const message = yield* chat({ model: "claude-3-5-sonnet" })
      assert.strictEqual(message.id, "msg_01XFDUDYJgAACzvnptvVoYEL")
      const span = yield* spanNamed("chat claude-3-5-sonnet")
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 1300)
      assert.strictEqual(span.attributes["botanu.cost.status"], "priced")
    })))

  it.effect("a rejection and a synchronous throw are recorded and become the failure as they are", () =>
    withTracking(Effect.gen(function*() {
      const down = new ProviderDown("503 from upstream")
      const rejecting = llmInstrumented({ provider: "openai" }).promise((_: ChatParams) => Promise.reject(down))
      const throwing = llmInstrumented({ provider: "openai" }).promise((_: ChatParams): Promise<string> => {
        throw down
      })
      assert.strictEqual(Cause.originalError(yield* Effect.flip(rejecting({ model: "m-reject", messages: [] }))), down)
      assert.strictEqual(Cause.originalError(yield* Effect.flip(throwing({ model: "m-sync", messages: [] }))), down)
      for (const name of ["chat m-reject", "chat m-sync"]) {
        const span = yield* spanNamed(name)
        assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(span.attributes["error.type"], "ProviderDown")
      }
    })))

  it.effect("runs the function anew each time the effect runs (a retry calls the provider again)", () =>
    withTracking(Effect.gen(function*() {
      let calls = 0
      const chat = llmInstrumented({ provider: "openai" }).promise(async (_: ChatParams) => {
        calls++
        return completion
      })
      const once = chat({ model: "gpt-4o", messages: [] })
      yield* once
      yield* once
      assert.strictEqual(calls, 2)
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 2)
    })))
})

describe("llmInstrumented as a standard method decorator", () => {
  class Assistant {
    constructor(readonly greeting: string) {}

    @llmInstrumented({ provider: "openai" })
    ask(params: ChatParams) {
      // `this` is the instance: the decorator keeps it.
      return Effect.succeed({ ...completion, text: `${this.greeting}, ${params.messages.join(" ")}` })
    }

    @llmInstrumented({ provider: "anthropic", modelParam: "engine" })
    fail(_: { engine: string }): Effect.Effect<never, RateLimitError> {
      return Effect.fail(new RateLimitError({ message: `${this.greeting}: too many` }))
    }
  }

  it.effect("tracks each call of the method, with `this` kept", () =>
    withTracking(Effect.gen(function*() {
      const assistant = new Assistant("Bonjour")
      const answer = yield* assistant.ask({ model: "gpt-4o", messages: ["le monde"] })
      assert.strictEqual(answer.text, "Bonjour, le monde")
      const span = yield* spanNamed("chat gpt-4o")
      assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 46)
      assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["stop"])
    })))

  it.effect("a failing decorated method: recorded, and the error passes through", () =>
    withTracking(Effect.gen(function*() {
      const error = yield* Effect.flip(new Assistant("Hi").fail({ engine: "claude-3-5-sonnet" }))
      assert.strictEqual(Cause.originalError(error).message, "Hi: too many")
      const span = yield* spanNamed("chat claude-3-5-sonnet")
      assert.strictEqual(span.attributes["gen_ai.provider.name"], "anthropic")
      assert.strictEqual(span.attributes["error.type"], "RateLimitError")
    })))
})
