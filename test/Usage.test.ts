import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { LlmTracker, TrackingTest, trackLlmCall, Usage } from "../src/index.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"))

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

describe("Usage.extract, by API, from documented response shapes", () => {
  it("openai.chat: prompt tokens include the cache; cache reads and reasoning from the details", () => {
    assert.deepStrictEqual(Usage.extract(fixture("openai-chat"), "openai.chat"), {
      inputTokens: 1117,
      outputTokens: 46,
      cacheReadTokens: 1024,
      inputAudioTokens: 0,
      reasoningTokens: 0,
      outputAudioTokens: 0,
      serviceTier: "default",
      inputIncludesCache: true,
      responseId: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
      responseModel: "gpt-4o-2024-08-06",
      finishReasons: ["stop"],
      warnings: []
    })
    const reasoning = Usage.extract(fixture("openai-chat-reasoning"), "openai.chat")
    assert.strictEqual(reasoning.outputTokens, 1200)
    assert.strictEqual(reasoning.reasoningTokens, 1024)
    assert.deepStrictEqual(reasoning.finishReasons, ["stop", "length"])
  })

  it("openai.chat: cache writes where the response reports them", () => {
    const usage = Usage.extract({
      id: "chatcmpl-1",
      model: "gpt-4o",
      choices: [{ finish_reason: "stop" }],
      usage: { prompt_tokens: 500, completion_tokens: 5, prompt_tokens_details: { cache_write_tokens: 300 } }
    }, "openai.chat")
    assert.strictEqual(usage.cacheWriteTokens, 300)
    assert.deepStrictEqual(usage.warnings, [])
  })

  it("openai.responses: input tokens include the cache; status is the finish; incomplete says why", () => {
    assert.deepStrictEqual(Usage.extract(fixture("openai-responses"), "openai.responses"), {
      inputTokens: 2036,
      outputTokens: 87,
      cacheReadTokens: 1920,
      reasoningTokens: 0,
      inputIncludesCache: true,
      responseId: "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
      responseModel: "gpt-4o-2024-08-06",
      finishReasons: ["completed"],
      warnings: []
    })
    const incomplete = Usage.extract(fixture("openai-responses-incomplete"), "openai.responses")
    assert.deepStrictEqual(incomplete.finishReasons, ["max_output_tokens"])
    assert.strictEqual(incomplete.reasoningTokens, 300)
  })

  it("openai.embeddings: input only", () => {
    assert.deepStrictEqual(Usage.extract(fixture("openai-embeddings"), "openai.embeddings"), {
      inputTokens: 8,
      inputIncludesCache: true,
      responseModel: "text-embedding-3-small",
      warnings: []
    })
  })

  it("anthropic.messages: input excludes the cache; cache writes as one total", () => {
    assert.deepStrictEqual(Usage.extract(fixture("anthropic-messages-cache"), "anthropic.messages"), {
      inputTokens: 200,
      outputTokens: 50,
      cacheReadTokens: 800,
      cacheWriteTokens: 300,
      cacheWrite1hTokens: 100,
      serviceTier: "standard",
      inputIncludesCache: false,
      responseId: "msg_01XFDUDYJgAACzvnptvVoYEL",
      responseModel: "claude-3-5-sonnet-20241022",
      finishReasons: ["max_tokens"],
      warnings: []
    })
  })

  it("anthropic.messages: the 5m/1h split stands in for a missing total; a split that disagrees is noted", () => {
    const splitOnly = Usage.extract({
      type: "message",
      usage: { input_tokens: 10, output_tokens: 1, cache_creation: { ephemeral_5m_input_tokens: 7 } }
    }, "anthropic.messages")
    assert.strictEqual(splitOnly.cacheWriteTokens, 7)
    const disagreeing = Usage.extract({
      type: "message",
      usage: {
        input_tokens: 10,
        output_tokens: 1,
        cache_creation_input_tokens: 9,
        cache_creation: { ephemeral_5m_input_tokens: 7, ephemeral_1h_input_tokens: 1 }
      }
    }, "anthropic.messages")
    assert.strictEqual(disagreeing.cacheWriteTokens, 9)
    assert.deepStrictEqual(disagreeing.warnings, [
      "usage (anthropic.messages): usage.cache_creation adds up to 8, not cache_creation_input_tokens 9"
    ])
  })

  it("bedrock.converse: input excludes the cache; the AWS request id stands in for the missing response id", () => {
    assert.deepStrictEqual(Usage.extract(fixture("bedrock-converse"), "bedrock.converse"), {
      inputTokens: 120,
      outputTokens: 9,
      cacheReadTokens: 1536,
      cacheWriteTokens: 512,
      inputIncludesCache: false,
      responseId: "5b2c1e0a-8f1d-4c61-9a3e-2f6b7d1c9e40",
      finishReasons: ["end_turn"],
      warnings: []
    })
  })

  it("gemini: prompt includes cached content; thoughts are billed as output and are its reasoning", () => {
    assert.deepStrictEqual(Usage.extract(fixture("gemini-thinking"), "gemini"), {
      inputTokens: 1450,
      outputTokens: 300,
      cacheReadTokens: 1024,
      reasoningTokens: 288,
      inputIncludesCache: true,
      responseId: "mKcoaOvHAbKzz7IP4b2S0Qs",
      responseModel: "gemini-2.5-flash",
      finishReasons: ["STOP"],
      warnings: []
    })
    // Gemini leaves out a zero candidates count: all the output went into thinking.
    const maxTokens = Usage.extract(fixture("gemini-max-tokens"), "gemini")
    assert.strictEqual(maxTokens.inputTokens, 8)
    assert.strictEqual(maxTokens.outputTokens, 99)
    assert.deepStrictEqual(maxTokens.finishReasons, ["MAX_TOKENS"])
    assert.deepStrictEqual(maxTokens.warnings, [])
  })

  it("gemini: tool-use prompt tokens are billed as input", () => {
    const usage = Usage.extract({
      usageMetadata: { promptTokenCount: 100, toolUsePromptTokenCount: 40, candidatesTokenCount: 5 }
    }, "gemini")
    assert.strictEqual(usage.inputTokens, 140)
    assert.strictEqual(usage.outputTokens, 5)
  })

  it("cohere.chat: billed units, the id and the finish reason; no model in the response", () => {
    assert.deepStrictEqual(Usage.extract(fixture("cohere-chat-v2"), "cohere.chat"), {
      inputTokens: 5,
      outputTokens: 418,
      inputIncludesCache: true,
      responseId: "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
      finishReasons: ["COMPLETE"],
      warnings: []
    })
  })

  it("mistral.chat: the REST shape and the TypeScript SDK's camelCase shape", () => {
    assert.deepStrictEqual(Usage.extract(fixture("mistral-chat"), "mistral.chat"), {
      inputTokens: 16,
      outputTokens: 34,
      inputIncludesCache: true,
      responseId: "cmpl-e5cc70bb28c444948073e77776eb30ef",
      responseModel: "mistral-small-latest",
      finishReasons: ["stop"],
      warnings: []
    })
    assert.deepStrictEqual(Usage.extract(fixture("mistral-chat-sdk"), "mistral.chat"), {
      inputTokens: 21,
      outputTokens: 7,
      inputIncludesCache: true,
      responseId: "cmpl-7a3b9c1d2e4f",
      responseModel: "mistral-large-latest",
      finishReasons: ["stop"],
      warnings: []
    })
  })

  describe("OpenAI-compatible providers through openai.chat", () => {
    const cases: ReadonlyArray<readonly [string, Partial<Usage.ExtractedUsage>]> = [
      ["groq-chat", { inputTokens: 18, outputTokens: 556, responseModel: "llama-3.3-70b-versatile" }],
      ["together-chat", { inputTokens: 25, outputTokens: 4, finishReasons: ["eos"] }],
      ["ollama-chat", { inputTokens: 30, outputTokens: 8, responseModel: "llama3.2" }],
      ["fireworks-chat", { inputTokens: 14, outputTokens: 16, finishReasons: ["length"] }],
      // DeepSeek: cached_tokens in the details when present, else its own prompt_cache_hit_tokens.
      ["deepseek-chat", { inputTokens: 1200, outputTokens: 410, cacheReadTokens: 1024, reasoningTokens: 380 }],
      ["deepseek-chat-legacy", { inputTokens: 300, outputTokens: 5, cacheReadTokens: 256 }],
      // xAI: reasoning tokens are reported beside completion tokens (total 135 = 32 + 9 + 94) and billed as output.
      ["xai-chat", { inputTokens: 32, outputTokens: 103, cacheReadTokens: 6, reasoningTokens: 94 }]
    ]
    for (const [name, expected] of cases) {
      it(name, () => {
        const usage = Usage.extract(fixture(name), "openai.chat")
        for (const [key, value] of Object.entries(expected)) {
          assert.deepStrictEqual(usage[key as keyof Usage.ExtractedUsage], value, key)
        }
        assert.strictEqual(usage.inputIncludesCache, true)
        assert.deepStrictEqual(usage.warnings, [])
        assert.strictEqual(Usage.detect(fixture(name)), "openai.chat")
      })
    }
  })

  it("auto detects every API from its shape", () => {
    const expected: ReadonlyArray<readonly [string, Usage.ExtractorName]> = [
      ["openai-chat", "openai.chat"],
      ["openai-responses", "openai.responses"],
      ["openai-embeddings", "openai.embeddings"],
      ["anthropic-messages", "anthropic.messages"],
      ["bedrock-converse", "bedrock.converse"],
      ["gemini-thinking", "gemini"],
      ["cohere-chat-v2", "cohere.chat"],
      ["mistral-chat-sdk", "mistral.chat"]
    ]
    for (const [name, api] of expected) {
      assert.strictEqual(Usage.detect(fixture(name)), api, name)
      assert.deepStrictEqual(Usage.extract(fixture(name)), Usage.extract(fixture(name), api), name)
    }
  })

  it("never throws: malformed and unknown shapes give what can be read and warnings", () => {
    assert.deepStrictEqual(Usage.extract(null), {
      warnings: ["usage (auto): null is not a response shape this library knows; nothing recorded"]
    })
    assert.deepStrictEqual(Usage.extract("text", "openai.chat"), {
      warnings: ["usage (openai.chat): the response is a string of 4 chars, not a record; nothing recorded"]
    })
    assert.deepStrictEqual(Usage.extract({ id: "x", model: "m", choices: [{ finish_reason: null }] }, "openai.chat"), {
      inputIncludesCache: true,
      responseId: "x",
      responseModel: "m",
      warnings: ["usage (openai.chat): usage is missing"]
    })
    const bad = Usage.extract({
      id: 7,
      usage: { prompt_tokens: "12", completion_tokens: -1, prompt_tokens_details: [] }
    }, "openai.chat")
    assert.deepStrictEqual(bad.warnings, [
      "usage (openai.chat): usage.prompt_tokens_details: an array is not a record; ignored",
      "usage (openai.chat): usage.prompt_tokens: a string of 2 chars is not a number; dropped",
      "usage (openai.chat): usage.completion_tokens: -1 is negative; dropped",
      "usage (openai.chat): id: 7 is not a string; dropped"
    ])
    assert.strictEqual(bad.inputTokens, undefined)
    const hostile = {
      get usage(): never {
        throw new Error("boom")
      }
    }
    assert.deepStrictEqual(Usage.extract(hostile, "anthropic.messages").warnings, [
      "usage (anthropic.messages): usage: failed to read (boom); ignored"
    ])
    assert.deepStrictEqual(Usage.extract({}, "nope" as Usage.ExtractorName).warnings, [
      "usageFrom: a string of 4 chars is not a known extractor; usage is not read from the response"
    ])
  })
})

const openaiResponse = fixture("openai-chat")

describe("trackLlmCall({ usageFrom })", () => {
  it.effect("records tokens, id, model and finish reasons from the success value, and prices them", () =>
    withTracking(Effect.gen(function*() {
      const value = yield* Effect.succeed(openaiResponse).pipe(
        trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom: "openai.chat" })
      )
      assert.strictEqual(value, openaiResponse)
      const span = yield* spanNamed("chat gpt-4o")
      const a = span.attributes
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 1117)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 46)
      assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 1024)
      assert.strictEqual(a["gen_ai.response.id"], "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
      assert.strictEqual(a["botanu.provider.request_id"], "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
      assert.strictEqual(a["gen_ai.response.model"], "gpt-4o-2024-08-06")
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
      assert.strictEqual(a["botanu.cost.status"], "priced")
      const inputAndOutput = (a["botanu.cost.input_usd"] as number) + (a["botanu.cost.output_usd"] as number)
      assert.closeTo(a["botanu.cost.total_usd"] as number, inputAndOutput, 1e-15)
      assert.isUndefined(a["botanu.tracking.warnings"])
    })))

  it.effect("anthropic input semantics: the cache is added to the input", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.succeed(fixture("anthropic-messages-cache")).pipe(
        trackLlmCall({ provider: "anthropic", model: "claude-3-5-sonnet", usageFrom: "auto" })
      )
      const a = (yield* spanNamed("chat claude-3-5-sonnet")).attributes
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 1300)
      assert.strictEqual(a["gen_ai.usage.cache_read.input_tokens"], 800)
      assert.strictEqual(a["gen_ai.usage.cache_creation.input_tokens"], 300)
      assert.strictEqual(a["botanu.cost.status"], "priced")
    })))

  it.effect("the extractor's input semantics hold whatever the provider option says (a proxy, say)", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.succeed(fixture("anthropic-messages-cache")).pipe(
        trackLlmCall({ provider: "my-gateway", model: "claude", usageFrom: "anthropic.messages" })
      )
      const a = (yield* spanNamed("chat claude")).attributes
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 1300)
    })))

  it.effect("hand calls win, per group; the groups not set by hand come from the response", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: 5, outputTokens: 1 })
        yield* tracker.setResponseModel("gpt-4o-by-hand")
        return openaiResponse
      }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom: "auto" }))
      const a = (yield* spanNamed("chat gpt-4o")).attributes
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 5)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 1)
      assert.isUndefined(a["gen_ai.usage.cache_read.input_tokens"])
      assert.strictEqual(a["gen_ai.response.model"], "gpt-4o-by-hand")
      assert.strictEqual(a["gen_ai.response.id"], "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["stop"])
    })))

  it.effect("hand-set response id and finish reasons win too", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setRequestId({ providerRequestId: "by-hand" })
        yield* tracker.setFinishReason("tool_calls")
        return openaiResponse
      }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom: "openai.chat" }))
      const a = (yield* spanNamed("chat gpt-4o")).attributes
      assert.strictEqual(a["gen_ai.response.id"], "by-hand")
      assert.deepStrictEqual(a["gen_ai.response.finish_reasons"], ["tool_calls"])
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 1117)
    })))

  it.effect("a function extractor; its values are sanitized like hand calls", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.succeed({ n: 3 }).pipe(trackLlmCall({
        provider: "openai",
        model: "gpt-4o",
        usageFrom: (response: { n: number }) => ({
          inputTokens: response.n,
          outputTokens: -1,
          finishReasons: ["done"],
          responseId: 42 as unknown as string
        })
      }))
      const span = yield* spanNamed("chat gpt-4o")
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 3)
      assert.isUndefined(span.attributes["gen_ai.usage.output_tokens"])
      assert.deepStrictEqual(span.attributes["gen_ai.response.finish_reasons"], ["done"])
      assert.deepStrictEqual(warningsOf(span), [
        "usage (custom): outputTokens: -1 is negative; dropped",
        "usage (custom): responseId: 42 is not a string; dropped"
      ])
    })))

  it.effect("an unknown shape, a throwing extractor or an unknown name: warnings, and the call is unchanged", () =>
    withTracking(Effect.gen(function*() {
      const a = yield* Effect.succeed("plain text").pipe(
        trackLlmCall({ provider: "openai", model: "m1", usageFrom: "auto" })
      )
      const b = yield* Effect.succeed(1).pipe(trackLlmCall({
        provider: "openai",
        model: "m2",
        usageFrom: () => {
          throw new Error("no usage here")
        }
      }))
      const c = yield* Effect.succeed(2).pipe(
        trackLlmCall({ provider: "openai", model: "m3", usageFrom: "openai.chatty" as Usage.ExtractorName })
      )
      assert.deepStrictEqual([a, b, c], ["plain text", 1, 2])
      assert.deepStrictEqual(warningsOf(yield* spanNamed("chat m1")), [
        "usage (auto): a string of 10 chars is not a response shape this library knows; nothing recorded"
      ])
      assert.deepStrictEqual(warningsOf(yield* spanNamed("chat m2")), [
        "usage (custom): the extractor failed (no usage here); ignored"
      ])
      assert.deepStrictEqual(warningsOf(yield* spanNamed("chat m3")), [
        "usageFrom: a string of 13 chars is not a known extractor; usage is not read from the response"
      ])
    })))

  it.effect("a failed call reads nothing (there is no response)", () =>
    withTracking(Effect.gen(function*() {
      yield* Effect.fail("rate limited").pipe(
        trackLlmCall({ provider: "openai", model: "gpt-4o", usageFrom: "auto" }),
        Effect.ignore
      )
      const span = yield* spanNamed("chat gpt-4o")
      assert.isUndefined(span.attributes["gen_ai.usage.input_tokens"])
      assert.deepStrictEqual(warningsOf(span), [])
    })))
})
