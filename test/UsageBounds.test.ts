/**
 * What the extractors hand back is clean, whatever a response or a stream sends: counts are non-negative safe
 * integers (a fraction rounded, anything else dropped, with a warning), strings and lists are bounded, a throwing
 * getter or a Proxy costs the field it guards, and warnings are bounded too.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import type { ExtractedUsage, ExtractorName, StreamExtractorName, StreamUsageFrom } from "../src/index.js"
import { LlmStream, TrackingTest, trackLlmCall, trackLlmStream, Usage } from "../src/index.js"
import { resolve as resolveStream } from "../src/internal/streamUsage.js"
import { uniqueName } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const countKeys = ["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"] as const

/** Every count is absent or a non-negative safe integer; every string and list is bounded. */
const assertClean = (usage: ExtractedUsage, label: string) => {
  for (const key of countKeys) {
    const value = usage[key]
    if (value !== undefined) {
      assert.isTrue(Number.isSafeInteger(value) && value >= 0, `${label}: ${key} = ${value}`)
    }
  }
  for (const key of ["responseId", "responseModel"] as const) {
    const value = usage[key]
    if (value !== undefined) assert.isTrue(typeof value === "string" && value.length <= 256, `${label}: ${key}`)
  }
  if (usage.finishReasons !== undefined) {
    assert.isAtMost(usage.finishReasons.length, 64, label)
    for (const reason of usage.finishReasons) assert.isTrue(typeof reason === "string" && reason.length <= 1024)
  }
  assert.isAtMost(usage.warnings?.length ?? 0, 33, label)
}

/** A response of each API with every count it carries set to `v`. */
const responses: Record<ExtractorName, (v: unknown) => unknown> = {
  "openai.chat": (v) => ({
    object: "chat.completion",
    id: "chatcmpl-1",
    model: "gpt-4o",
    choices: [{ finish_reason: "stop" }],
    usage: {
      prompt_tokens: v,
      completion_tokens: v,
      prompt_tokens_details: { cached_tokens: v, cache_write_tokens: v },
      completion_tokens_details: { reasoning_tokens: v }
    }
  }),
  "openai.responses": (v) => ({
    object: "response",
    id: "resp_1",
    status: "completed",
    usage: {
      input_tokens: v,
      output_tokens: v,
      input_tokens_details: { cached_tokens: v, cache_write_tokens: v },
      output_tokens_details: { reasoning_tokens: v }
    }
  }),
  "openai.embeddings": (v) => ({
    object: "list",
    data: [],
    model: "text-embedding-3-small",
    usage: { prompt_tokens: v }
  }),
  "anthropic.messages": (v) => ({
    type: "message",
    id: "msg_1",
    stop_reason: "end_turn",
    usage: {
      input_tokens: v,
      output_tokens: v,
      cache_read_input_tokens: v,
      cache_creation_input_tokens: v,
      cache_creation: { ephemeral_5m_input_tokens: v }
    }
  }),
  "bedrock.converse": (v) => ({
    stopReason: "end_turn",
    usage: { inputTokens: v, outputTokens: v, cacheReadInputTokens: v, cacheWriteInputTokens: v }
  }),
  "gemini": (v) => ({
    responseId: "g-1",
    modelVersion: "gemini-2.5-flash",
    candidates: [{ finishReason: "STOP" }],
    usageMetadata: {
      promptTokenCount: v,
      toolUsePromptTokenCount: v,
      candidatesTokenCount: v,
      thoughtsTokenCount: v,
      cachedContentTokenCount: v
    }
  }),
  "cohere.chat": (v) => ({
    id: "c-1",
    finish_reason: "COMPLETE",
    usage: { billed_units: { input_tokens: v, output_tokens: v }, cached_tokens: v }
  }),
  "mistral.chat": (v) => ({ id: "m-1", model: "mistral-small", usage: { promptTokens: v, completionTokens: v } })
}

/** A bad count and what `count` says about it (after the field's path). */
const dirty: ReadonlyArray<readonly [unknown, string]> = [
  [1e300, "1e+300 is too large; dropped"],
  [2 ** 53, "9007199254740992 is too large; dropped"],
  [Infinity, "Infinity is too large; dropped"],
  [-1, "-1 is negative; dropped"],
  [-Infinity, "-Infinity is negative; dropped"],
  [Number.NaN, "NaN is not a number; dropped"],
  ["12", "a string of 2 chars is not a number; dropped"],
  [true, "a boolean is not a number; dropped"],
  [{ n: 1 }, "an object is not a number; dropped"],
  [12n, "a bigint is not a number; dropped"]
]

describe("Usage.extract: clean counts only", () => {
  it("the issue's example: 0.5 is rounded, 1e300 dropped, each with a warning", () => {
    assert.deepStrictEqual(
      Usage.extract(
        { object: "chat.completion", usage: { prompt_tokens: 0.5, completion_tokens: 1e300 } },
        "openai.chat"
      ),
      {
        inputTokens: 1,
        inputIncludesCache: true,
        warnings: [
          "usage (openai.chat): usage.prompt_tokens: 0.5 is not an integer; rounded to 1",
          "usage (openai.chat): usage.completion_tokens: 1e+300 is too large; dropped"
        ]
      }
    )
  })

  for (const name of Usage.extractorNames) {
    it(`${name}: every bad count is dropped with a warning, fractions are rounded`, () => {
      const response = responses[name]
      // The shapes are the API's: `auto` reads them the same way.
      assert.strictEqual(Usage.detect(response(1)), name)
      const clean = Usage.extract(response(7), name)
      assertClean(clean, name)
      assert.deepStrictEqual(clean.warnings, [])
      const present = countKeys.filter((key) => clean[key] !== undefined)
      assert.isAbove(present.length, 0)
      for (const [value, message] of dirty) {
        const usage = Usage.extract(response(value), name)
        assertClean(usage, `${name} ${String(value)}`)
        for (const key of countKeys) assert.isUndefined(usage[key], `${name} ${String(value)} ${key}`)
        assert.isAbove(usage.warnings!.length, 0)
        for (const line of usage.warnings!) {
          assert.isTrue(line.startsWith(`usage (${name}): `), line)
          assert.isTrue(line.endsWith(message) || line.endsWith("is missing"), line)
        }
        assert.deepStrictEqual(Usage.extract(response(value)), usage, `auto, ${name} ${String(value)}`)
      }
      const rounded = Usage.extract(response(2.6), name)
      assertClean(rounded, name)
      for (const key of present) assert.isTrue(rounded[key] === 3 || rounded[key] === 6, `${name} ${key}`)
      assert.include(rounded.warnings!.join("\n"), "2.6 is not an integer; rounded to 3")
      // `null` is how some compatible APIs say "none": absent, without a warning.
      const none = Usage.extract(response(null), name)
      for (const key of countKeys) assert.isUndefined(none[key], key)
      for (const line of none.warnings!) assert.isTrue(line.endsWith("is missing"), line)
    })
  }

  it("sums of counts that are no longer safe integers are dropped", () => {
    const max = Number.MAX_SAFE_INTEGER
    const gemini = Usage.extract({
      usageMetadata: {
        promptTokenCount: max,
        toolUsePromptTokenCount: 1,
        candidatesTokenCount: max,
        thoughtsTokenCount: 1
      }
    }, "gemini")
    assert.isUndefined(gemini.inputTokens)
    assert.isUndefined(gemini.outputTokens)
    assert.strictEqual(gemini.reasoningTokens, 1)
    assert.deepStrictEqual(gemini.warnings, [
      `usage (gemini): usageMetadata.candidatesTokenCount + thoughtsTokenCount: ${max} + 1 is too large; dropped`,
      `usage (gemini): usageMetadata.promptTokenCount + toolUsePromptTokenCount: ${max} + 1 is too large; dropped`
    ])
    const anthropic = Usage.extract({
      type: "message",
      usage: {
        input_tokens: 1,
        output_tokens: 1,
        cache_creation: { ephemeral_5m_input_tokens: max, ephemeral_1h_input_tokens: max }
      }
    }, "anthropic.messages")
    assert.isUndefined(anthropic.cacheWriteTokens)
    assert.deepStrictEqual(anthropic.warnings, [
      `usage (anthropic.messages): usage.cache_creation: ${max} + ${max} is too large; dropped`
    ])
  })

  it("a throwing getter costs its field only; a hostile Proxy or a revoked one is a warning, never a throw", () => {
    const response = {
      object: "chat.completion",
      id: "chatcmpl-1",
      get model(): string {
        throw new Error("no model")
      },
      choices: [{
        get finish_reason(): string {
          throw new Error("no reason")
        }
      }],
      usage: {
        prompt_tokens: 5,
        get completion_tokens(): number {
          throw new Error("no count")
        }
      }
    }
    assert.deepStrictEqual(Usage.extract(response, "openai.chat"), {
      inputTokens: 5,
      inputIncludesCache: true,
      responseId: "chatcmpl-1",
      warnings: [
        "usage (openai.chat): usage.completion_tokens: failed to read (no count); ignored",
        "usage (openai.chat): model: failed to read (no model); ignored",
        "usage (openai.chat): choices[0].finish_reason: failed to read (no reason); ignored"
      ]
    })
    const trap = new Proxy({}, {
      get: () => {
        throw new Error("trap")
      },
      has: () => {
        throw new Error("trap")
      }
    })
    const revoked = Proxy.revocable({}, {})
    revoked.revoke()
    assert.isUndefined(Usage.detect(trap))
    assert.isUndefined(Usage.detect(revoked.proxy))
    for (const hostile of [trap, revoked.proxy, { usage: trap }, { object: "chat.completion", usage: revoked.proxy }]) {
      for (const name of [...Usage.extractorNames, "auto" as const]) {
        const usage = Usage.extract(hostile, name)
        assertClean(usage, name)
        assert.isAbove(usage.warnings!.length, 0, name)
        for (const key of countKeys) assert.isUndefined(usage[key], `${name} ${key}`)
      }
    }
  })

  it("long strings are cut, long lists read to their bound, and warnings are bounded", () => {
    const usage = Usage.extract({
      object: "chat.completion",
      id: "x".repeat(10_000),
      model: "m".repeat(300),
      choices: Array.from({ length: 1000 }, (_, i) => ({ finish_reason: i % 2 === 0 ? "r".repeat(2000) : 7 })),
      usage: { prompt_tokens: 1, completion_tokens: 1 }
    }, "openai.chat")
    assertClean(usage, "long")
    assert.strictEqual(usage.responseId!.length, 256)
    assert.isTrue(usage.responseId!.endsWith("…[truncated]"))
    assert.strictEqual(usage.finishReasons!.length, 32)
    assert.strictEqual(usage.warnings!.length, 33)
    assert.strictEqual(usage.warnings![0], "usage (openai.chat): id: a string of 10000 chars; cut to 256")
    // id, model, the list's length, and each of the 64 choices read (a long reason is cut, a 7 dropped): 67 in all.
    assert.strictEqual(usage.warnings![32], "usage (openai.chat): 35 more warnings dropped")
  })

  it("a function extractor's answer is made as clean as a built-in one's", () => {
    const usage = Usage.extract({}, () =>
      ({
        inputTokens: 0.5,
        outputTokens: 1e300,
        cacheReadTokens: -1,
        get cacheWriteTokens(): number {
          throw new Error("no writes")
        },
        reasoningTokens: Number.NaN,
        inputIncludesCache: "yes",
        responseId: 42,
        responseModel: "m".repeat(300),
        finishReasons: ["stop", 7],
        warnings: ["mine", 3]
      }) as unknown as ExtractedUsage)
    assert.deepStrictEqual(usage, {
      inputTokens: 1,
      responseModel: "m".repeat(244) + "…[truncated]",
      finishReasons: ["stop"],
      warnings: [
        "mine",
        "usage (custom): inputTokens: 0.5 is not an integer; rounded to 1",
        "usage (custom): outputTokens: 1e+300 is too large; dropped",
        "usage (custom): cacheReadTokens: -1 is negative; dropped",
        "usage (custom): cacheWriteTokens: failed to read (no writes); ignored",
        "usage (custom): reasoningTokens: NaN is not a number; dropped",
        "usage (custom): inputIncludesCache: a string of 3 chars is not a boolean; dropped",
        "usage (custom): responseId: 42 is not a string; dropped",
        "usage (custom): responseModel: a string of 300 chars; cut to 256",
        "usage (custom): finishReasons[1]: 7 is not a string; dropped"
      ]
    })
    assert.deepStrictEqual(Usage.extract({}, () => 42 as never), {
      warnings: ["usage (custom): the extractor returned 42; nothing recorded"]
    })
  })

  it.effect("on the span: only clean counts, and the warnings", () => {
    const model = uniqueName("dirty")
    return Effect.gen(function*() {
      yield* Effect.succeed(responses["anthropic.messages"](2.6)).pipe(
        trackLlmCall({ provider: "anthropic", model, usageFrom: "auto" })
      )
      const other = uniqueName("dirtier")
      yield* Effect.succeed(responses["openai.chat"](1e300)).pipe(
        trackLlmCall({ provider: "openai", model: other, usageFrom: "openai.chat" })
      )
      const span = yield* spanNamed(`chat ${model}`)
      // 3 input + 3 cache reads + 3 cache writes (Anthropic's input excludes the cache)
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 9)
      assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 3)
      assert.include(warningsOf(span).join("\n"), "usage.input_tokens: 2.6 is not an integer; rounded to 3")
      const dirtier = yield* spanNamed(`chat ${other}`)
      assert.isUndefined(dirtier.attributes["gen_ai.usage.input_tokens"])
      assert.isUndefined(dirtier.attributes["gen_ai.usage.output_tokens"])
      assert.strictEqual(dirtier.attributes["botanu.cost.status"], "no_usage")
      assert.include(warningsOf(dirtier).join("\n"), "usage.prompt_tokens: 1e+300 is too large; dropped")
    }).pipe(Effect.provide(TrackingTest.layer))
  })
})

/** The chunks of a stream of each API with every count set to `v`. */
const streams: Record<StreamExtractorName, (v: unknown) => ReadonlyArray<unknown>> = {
  "openai.chat": (v) => [
    { object: "chat.completion.chunk", id: "c-1", model: "gpt-4o", choices: [{ index: 0, finish_reason: "stop" }] },
    {
      object: "chat.completion.chunk",
      id: "c-1",
      choices: [],
      usage: {
        prompt_tokens: v,
        completion_tokens: v,
        prompt_tokens_details: { cached_tokens: v },
        completion_tokens_details: { reasoning_tokens: v }
      }
    }
  ],
  "openai.responses": (v) => [
    { type: "response.created", response: { id: "r-1", model: "gpt-4o" } },
    {
      type: "response.completed",
      response: {
        id: "r-1",
        status: "completed",
        usage: { input_tokens: v, output_tokens: v, output_tokens_details: { reasoning_tokens: v } }
      }
    }
  ],
  "anthropic.messages": (v) => [
    {
      type: "message_start",
      message: {
        id: "msg_1",
        model: "claude",
        usage: { input_tokens: v, output_tokens: v, cache_read_input_tokens: v }
      }
    },
    {
      type: "message_delta",
      delta: { stop_reason: "end_turn" },
      usage: { output_tokens: v, input_tokens: v, cache_read_input_tokens: v, cache_creation_input_tokens: v }
    }
  ],
  "gemini": (v) => [
    {
      responseId: "g-1",
      modelVersion: "gemini-2.5-flash",
      candidates: [{ finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: v, candidatesTokenCount: v, thoughtsTokenCount: v }
    }
  ],
  "bedrock.converse": (v) => [
    { messageStart: { role: "assistant" } },
    { messageStop: { stopReason: "end_turn" } },
    {
      metadata: {
        usage: { inputTokens: v, outputTokens: v, cacheReadInputTokens: v, cacheWriteInputTokens: v },
        metrics: { latencyMs: 1 }
      }
    }
  ],
  "cohere.chat": (v) => [
    { id: "c-1", type: "message-start", delta: { message: { role: "assistant" } } },
    {
      type: "message-end",
      delta: { finish_reason: "COMPLETE", usage: { billed_units: { input_tokens: v, output_tokens: v } } }
    }
  ]
}

const readStream = (from: StreamUsageFrom, chunks: ReadonlyArray<unknown>): ExtractedUsage => {
  const make = resolveStream(from, (line) => assert.fail(line))!
  const usage = make()
  for (const chunk of chunks) usage.observe(chunk)
  return usage.result(true)
}

describe("stream extractors: clean counts only", () => {
  for (const name of LlmStream.extractorNames) {
    it(`${name}: every bad count is dropped with a warning, fractions are rounded`, () => {
      const chunks = streams[name]
      assert.strictEqual(LlmStream.detect(chunks(1)[0]), name)
      const clean = readStream(name, chunks(7))
      assertClean(clean, name)
      assert.isUndefined(clean.warnings)
      const present = countKeys.filter((key) => clean[key] !== undefined)
      assert.isAbove(present.length, 0)
      for (const [value, message] of dirty) {
        for (const from of [name, "auto" as const]) {
          const usage = readStream(from, chunks(value))
          assertClean(usage, `${from} ${String(value)}`)
          for (const key of countKeys) assert.isUndefined(usage[key], `${from} ${String(value)} ${key}`)
          assert.isAbove(usage.warnings!.length, 0)
          assert.isAtMost(usage.warnings!.length, 8)
          assert.isTrue(usage.warnings!.some((line) => line.endsWith(message)), `${from} ${String(value)}`)
        }
      }
      const rounded = readStream(name, chunks(2.6))
      assertClean(rounded, name)
      for (const key of present) assert.isTrue(rounded[key] === 3 || rounded[key] === 6, `${name} ${key}`)
    })
  }

  it("choice indices cannot grow the memory: at most 64 finish reasons; an index that is not one is the position", () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({
      object: "chat.completion.chunk",
      choices: [{ index: i, finish_reason: "stop" }]
    }))
    const usage = readStream("openai.chat", [...many, { choices: [{ index: 1e300, finish_reason: "length" }] }])
    assert.strictEqual(usage.finishReasons!.length, 64)
    assert.deepStrictEqual(usage.finishReasons!.slice(0, 2), ["length", "stop"])
    assert.deepInclude(
      usage.warnings!,
      "usage (openai.chat, stream): choices[0].finish_reason: more than 64 choices; the finish reasons of the others are ignored"
    )
  })

  it("a function's answers are made clean, its warnings prefixed", () => {
    const usage = readStream((chunk: { n: unknown }) => ({ inputTokens: chunk.n, outputTokens: 4 }) as ExtractedUsage, [
      { n: 3 },
      { n: 1e300 },
      { n: 2.5 }
    ])
    assert.deepStrictEqual(usage, {
      inputTokens: 3,
      outputTokens: 4,
      warnings: [
        "usage (custom, stream): inputTokens: 1e+300 is too large; dropped",
        "usage (custom, stream): inputTokens: 2.5 is not an integer; rounded to 3"
      ]
    })
  })

  it.effect("on the span of a tracked stream: only clean counts, and the warnings", () => {
    const model = uniqueName("dirty-stream")
    const chunks = [
      { object: "chat.completion.chunk", id: "c-1", model: "gpt-4o", choices: [{ index: 0, finish_reason: "stop" }] },
      { object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 2.6, completion_tokens: 1e300 } }
    ]
    return Effect.gen(function*() {
      yield* Stream.runDrain(
        trackLlmStream(Stream.fromIterable(chunks), { provider: "openai", model, usageFrom: "auto" })
      )
      const span = yield* spanNamed(`chat ${model}`)
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 3)
      assert.isUndefined(span.attributes["gen_ai.usage.output_tokens"])
      assert.deepStrictEqual(warningsOf(span), [
        "usage (openai.chat): usage.prompt_tokens: 2.6 is not an integer; rounded to 3",
        "usage (openai.chat): usage.completion_tokens: 1e+300 is too large; dropped"
      ])
    }).pipe(Effect.provide(TrackingTest.layer))
  })
})
