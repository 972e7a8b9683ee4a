import { assert, describe, it } from "@effect/vitest"
import { make, maxStreamChars } from "../src/internal/contentStream.js"
import { maxContentParts, maxContentReadChars, maxListItems, truncatedMarker } from "../src/internal/limits.js"
import { anthropicStreamEvents, fixture, openaiChatChunks } from "./utils/fakeProvider.js"
import { throwingProxy, withThrowingGetter } from "./utils/hostile.js"

// Streams, one event per item, as the SDKs hand them to the app:
// - content-openai-chat-stream-tool-calls: a Chat Completions stream with `stream_options.include_usage` asking for
//   two parallel tool calls, each chunk shaped as `openai` 6.x types `ChatCompletionChunk` (the first delta of a call
//   carries its id, type and name, the next ones pieces of its arguments).
// - content-openai-responses-stream-tool-call: vercel/ai packages/openai/src/responses/__fixtures__/
//   issue-19493-gpt-5.1-tool-call.chunks.txt (response objects cut to the fields that bear on content and usage).
// - content-openai-responses-stream-text: a reasoning summary and a message, each event shaped as `openai` 6.x types
//   `ResponseStreamEvent`.
// - content-anthropic-stream-tool-use: vercel/ai packages/anthropic/src/__fixtures__/anthropic-json-tool.1.chunks.txt.
// - content-anthropic-stream-thinking-tool: thinking, text and a tool call, each event shaped as @anthropic-ai/sdk
//   types `RawMessageStreamEvent` (`thinking_delta`, `signature_delta`, `input_json_delta`).
// - openai-responses-stream-web-search, anthropic-messages-stream-web-search, -compaction: see StreamParts.test.ts.

/** What an accumulator makes of `chunks`, the first `n` of them when the stream is abandoned. */
const read = (chunks: ReadonlyArray<unknown>, n?: number) => {
  const content = make()
  for (const chunk of n === undefined ? chunks : chunks.slice(0, n)) content.observe(chunk)
  return content.result(n === undefined)
}

const text = (content: string) => ({ type: "text", content })

describe("OpenAI Chat Completions chunks", () => {
  it("text deltas, complete and abandoned", () => {
    const chunks = openaiChatChunks("gpt-4o")
    assert.deepStrictEqual(read(chunks), [{ role: "assistant", parts: [text("Paris.")], finish_reason: "stop" }])
    assert.deepStrictEqual(read(chunks, 2), [{
      role: "assistant",
      parts: [text("Paris.")],
      finish_reason: "interrupted"
    }])
    assert.deepStrictEqual(read(chunks, 1), [{ role: "assistant", parts: [], finish_reason: "interrupted" }])
    // the finish reason came before the usage chunk: the choice said why it ended
    assert.deepStrictEqual(read(chunks, 3), [{ role: "assistant", parts: [text("Paris.")], finish_reason: "stop" }])
  })

  it("tool-call argument deltas by call index, parsed when whole", () => {
    const chunks = fixture("content-openai-chat-stream-tool-calls")
    assert.deepStrictEqual(read(chunks), [{
      role: "assistant",
      parts: [
        {
          type: "tool_call",
          id: "call_VSPygqKTWdrhaFErNvMV18Yl",
          name: "get_weather",
          arguments: { location: "Paris" }
        },
        {
          type: "tool_call",
          id: "call_Q8RMbG4Pe6JXnTmpG8DwWlYd",
          name: "get_weather",
          arguments: { location: "Berlin" }
        }
      ],
      finish_reason: "tool_call"
    }])
    // abandoned in the second call's arguments: the first parsed, the second as far as it came
    assert.deepStrictEqual(read(chunks, 7), [{
      role: "assistant",
      parts: [
        {
          type: "tool_call",
          id: "call_VSPygqKTWdrhaFErNvMV18Yl",
          name: "get_weather",
          arguments: { location: "Paris" }
        },
        { type: "tool_call", id: "call_Q8RMbG4Pe6JXnTmpG8DwWlYd", name: "get_weather", arguments: "{\"location\": \"B" }
      ],
      finish_reason: "interrupted"
    }])
    // before any argument came, a call has none
    assert.deepStrictEqual(read(chunks, 1), [{
      role: "assistant",
      parts: [{ type: "tool_call", id: "call_VSPygqKTWdrhaFErNvMV18Yl", name: "get_weather" }],
      finish_reason: "interrupted"
    }])
  })

  it("several choices, interleaved, each by its index; reasoning_content, refusal and audio transcripts", () => {
    const chunk = (choices: Array<unknown>) => ({ object: "chat.completion.chunk", choices })
    const chunks = [
      chunk([{ index: 1, delta: { role: "assistant", content: "B" }, finish_reason: null }]),
      chunk([{ index: 0, delta: { role: "assistant", reasoning_content: "think" }, finish_reason: null }]),
      chunk([{ index: 0, delta: { content: "A" }, finish_reason: null }]),
      chunk([{ index: 1, delta: { content: "b" }, finish_reason: "length" }]),
      chunk([{ index: 2, delta: { role: "assistant", refusal: "No" }, finish_reason: null }]),
      chunk([{
        index: 3,
        delta: { role: "assistant", audio: { id: "audio_1", transcript: "Hel", data: "UklGRg==" } }
      }]),
      chunk([{ index: 3, delta: { audio: { transcript: "lo" } }, finish_reason: "stop" }]),
      chunk([{ index: 4, delta: { function_call: { name: "f", arguments: "{\"a\":" } } }]),
      chunk([{ index: 4, delta: { function_call: { arguments: "1}" } }, finish_reason: "function_call" }])
    ]
    assert.deepStrictEqual(read(chunks, chunks.length - 1), [
      { role: "assistant", parts: [{ type: "reasoning", content: "think" }, text("A")], finish_reason: "interrupted" },
      { role: "assistant", parts: [text("Bb")], finish_reason: "length" },
      { role: "assistant", parts: [{ type: "refusal", content: "No" }], finish_reason: "interrupted" },
      { role: "assistant", parts: [text("Hello")], finish_reason: "stop" },
      {
        role: "assistant",
        parts: [{ type: "tool_call", name: "f", arguments: "{\"a\":" }],
        finish_reason: "interrupted"
      }
    ])
    assert.deepStrictEqual(read(chunks)?.[4], {
      role: "assistant",
      parts: [{ type: "tool_call", name: "f", arguments: { a: 1 } }],
      finish_reason: "tool_call"
    })
    assert.notInclude(JSON.stringify(read(chunks)), "UklGRg")
  })
})

describe("OpenAI Responses events", () => {
  it("a recorded tool-call stream: the terminal event's output, or the argument deltas when abandoned", () => {
    const events = fixture("content-openai-responses-stream-tool-call")
    const call = { type: "tool_call", id: "call_2FQdm3Br7Qb35YUBSkDR7kue", name: "get_weather" }
    assert.deepStrictEqual(read(events), [{
      role: "assistant",
      parts: [{ ...call, arguments: { city: "Beijing" } }],
      finish_reason: "tool_call"
    }])
    assert.deepStrictEqual(read(events, 6), [{
      role: "assistant",
      parts: [{ ...call, arguments: "{\"city\":\"" }],
      finish_reason: "interrupted"
    }])
    // `.done` carries the whole arguments; `output_item.done` the whole item
    for (const n of [10, 11]) {
      assert.deepStrictEqual(read(events, n), [{
        role: "assistant",
        parts: [{ ...call, arguments: { city: "Beijing" } }],
        finish_reason: "interrupted"
      }])
    }
    // the terminal event without its output: what the items said, and why it ended
    const trimmed = events.map((event: any) =>
      event.type === "response.completed" ? { ...event, response: { ...event.response, output: [] } } : event
    )
    assert.deepStrictEqual(read(trimmed)?.[0].finish_reason, "tool_call")
    assert.deepStrictEqual(read(trimmed)?.[0].parts, [{ ...call, arguments: { city: "Beijing" } }])
  })

  it("reasoning summary and text deltas, complete and abandoned", () => {
    const events = fixture("content-openai-responses-stream-text")
    const reasoning = { type: "reasoning", content: "**Answering briefly**\n\nThe user wants one sentence." }
    assert.deepStrictEqual(read(events), [{
      role: "assistant",
      parts: [reasoning, text("Paris is rainy today, at 14°C.")],
      finish_reason: "stop"
    }])
    const second = events.findIndex((event: any) => event.type === "response.output_text.delta") + 2
    assert.deepStrictEqual(read(events, second), [{
      role: "assistant",
      parts: [reasoning, text("Paris is rainy")],
      finish_reason: "interrupted"
    }])
    assert.deepStrictEqual(read(events, 5), [{
      role: "assistant",
      parts: [{ type: "reasoning", content: "**Answering briefly**" }],
      finish_reason: "interrupted"
    }])
    assert.deepStrictEqual(read(events, 1), [{ role: "assistant", parts: [], finish_reason: "interrupted" }])
  })

  it("web searches, as their items end; an incomplete or failed response's reason", () => {
    const events = fixture("openai-responses-stream-web-search")
    const result = read(events)
    assert.deepStrictEqual(result?.[0].parts.map((part) => part.type), [
      "server_tool_call",
      "server_tool_call",
      "server_tool_call",
      "server_tool_call",
      "text"
    ])
    assert.deepStrictEqual(result?.[0].parts[0], {
      type: "server_tool_call",
      id: "ws_68c187d0973881928c78c79e50ae028805ca09a4773fcd25",
      name: "web_search",
      server_tool_call: {
        type: "web_search",
        action: {
          type: "search",
          query: "Berlin news today",
          sources: [{ type: "url", url: "https://www.wallpaper.com/art/exhibitions-shows/berlin-art-week-2025" }]
        }
      }
    })
    assert.strictEqual(result?.[0].finish_reason, "stop")
    const cut = events.findIndex((event: any) => event.item?.type === "web_search_call" && event.type.endsWith("done"))
    assert.deepStrictEqual(read(events, cut + 1)?.[0].parts.length, 1)

    const terminal = (type: string, response: Record<string, unknown>) => [
      {
        type: "response.output_item.added",
        output_index: 0,
        item: { type: "message", role: "assistant", content: [] }
      },
      { type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "Once upon" },
      { type, response: { object: "response", ...response } }
    ]
    assert.deepStrictEqual(
      read(
        terminal("response.incomplete", { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } })
      ),
      [{ role: "assistant", parts: [text("Once upon")], finish_reason: "length" }]
    )
    assert.deepStrictEqual(read(terminal("response.failed", { status: "failed", error: { code: "server_error" } })), [
      { role: "assistant", parts: [text("Once upon")], finish_reason: "error" }
    ])
  })

  it("custom tool input, refusal and reasoning text deltas", () => {
    const events = [
      {
        type: "response.output_item.added",
        output_index: 0,
        item: { type: "custom_tool_call", call_id: "call_c", name: "patch", input: "" }
      },
      { type: "response.custom_tool_call_input.delta", output_index: 0, item_id: "ctc_1", delta: "*** Begin" },
      { type: "response.output_item.added", output_index: 1, item: { type: "reasoning", summary: [] } },
      { type: "response.reasoning_text.delta", output_index: 1, content_index: 0, delta: "raw thought" },
      {
        type: "response.output_item.added",
        output_index: 2,
        item: { type: "message", role: "assistant", content: [] }
      },
      { type: "response.refusal.delta", output_index: 2, content_index: 0, delta: "I can't" }
    ]
    assert.deepStrictEqual(read(events, events.length), [{
      role: "assistant",
      parts: [
        { type: "tool_call", id: "call_c", name: "patch", arguments: "*** Begin" },
        { type: "reasoning", content: "raw thought" },
        { type: "refusal", content: "I can't" }
      ],
      finish_reason: "interrupted"
    }])
  })
})

describe("Anthropic Messages events", () => {
  it("text deltas, complete and abandoned", () => {
    const events = anthropicStreamEvents("claude-3-5-sonnet-20241022").map(([, data]) => data)
    assert.deepStrictEqual(read(events), [
      { role: "assistant", parts: [text("Hi! My name is Claude.")], finish_reason: "stop" }
    ])
    assert.deepStrictEqual(read(events, 4), [
      { role: "assistant", parts: [text("Hi! ")], finish_reason: "interrupted" }
    ])
  })

  it("input_json_delta: a tool's input parsed when whole, as far as it came when abandoned", () => {
    const events = fixture("content-anthropic-stream-tool-use")
    const call = { type: "tool_call", id: "toolu_01KFbKqPYSuAKujiL6mTfzYA", name: "json" }
    assert.deepStrictEqual(read(events), [{
      role: "assistant",
      parts: [{
        ...call,
        arguments: { elements: [{ location: "San Francisco", temperature: 58, condition: "sunny" }] }
      }],
      finish_reason: "tool_call"
    }])
    assert.deepStrictEqual(read(events, 5), [{
      role: "assistant",
      parts: [{
        ...call,
        arguments: "{\"elements\": [{\"location\": \"San Francisco\", \"temperature\": 58, \"condition\": \"sunny\"}]"
      }],
      finish_reason: "interrupted"
    }])
    // started, with its placeholder `{}` input, and no JSON yet: no arguments to show
    assert.deepStrictEqual(read(events, 3), [{ role: "assistant", parts: [call], finish_reason: "interrupted" }])
  })

  it("thinking, text and a tool call", () => {
    const events = fixture("content-anthropic-stream-thinking-tool")
    const thinking = { type: "reasoning", content: "The user wants the weather in Paris; the tool gives it." }
    assert.deepStrictEqual(read(events), [{
      role: "assistant",
      parts: [
        thinking,
        text("I'll check the weather in Paris."),
        {
          type: "tool_call",
          id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
          name: "get_weather",
          arguments: { location: "Paris", unit: "celsius" }
        }
      ],
      finish_reason: "tool_call"
    }])
    assert.deepStrictEqual(read(events, 8), [{
      role: "assistant",
      parts: [thinking, text("I'll check the weather")],
      finish_reason: "interrupted"
    }])
    // a tool without parameters: its block ends with no JSON, and keeps its start's `{}`
    const noArgs = events.filter((event: any) => event.delta?.type !== "input_json_delta")
    assert.deepStrictEqual(read(noArgs)?.[0].parts[2], {
      type: "tool_call",
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      name: "get_weather",
      arguments: {}
    })
  })

  it("server tools, their results as whole blocks, compaction", () => {
    const search = read(fixture("anthropic-messages-stream-web-search"))
    assert.deepStrictEqual(search, [{
      role: "assistant",
      parts: [
        {
          type: "server_tool_call",
          id: "srvtoolu_01Bj5uzzLcYG5hfueSLcDH8k",
          name: "web_search",
          server_tool_call: { type: "web_search", input: { query: "tech news today September 26 2025" } }
        },
        {
          type: "server_tool_call_response",
          id: "srvtoolu_01Bj5uzzLcYG5hfueSLcDH8k",
          server_tool_call_response: {
            type: "web_search",
            content: [{
              type: "web_search_result",
              title: "The all-new Apple Ginza opens this Friday, September 26, in Tokyo - Apple",
              url:
                "https://www.apple.com/newsroom/2025/09/the-all-new-apple-ginza-opens-this-friday-september-26-in-tokyo/"
            }]
          }
        },
        text("The main tech story today appears to be Apple's reopening of its Ginza store in Tokyo.")
      ],
      finish_reason: "stop"
    }])
    assert.deepStrictEqual(read(fixture("anthropic-messages-stream-compaction"))?.[0].parts.map((part) => part.type), [
      "compaction",
      "text"
    ])
  })
})

describe("bounds and hostile chunks", () => {
  it("a string stops growing at maxContentReadChars, all of them together at maxStreamChars", () => {
    const delta = "x".repeat(1_000)
    const chunks = Array.from({ length: 400 }, () => ({ choices: [{ index: 0, delta: { content: delta } }] }))
    const content = (read(chunks)?.[0].parts[0] as { content: string }).content
    assert.strictEqual(content.length, maxContentReadChars)
    assert.isTrue(content.endsWith(truncatedMarker))

    // eight choices, their deltas interleaved: they share the stream's budget
    const many = Array.from({ length: 3_000 }, (_, i) => ({ choices: [{ index: i % 8, delta: { content: delta } }] }))
    const texts = read(many)!.map((message) => (message.parts[0] as { content: string }).content)
    assert.strictEqual(texts.length, 8)
    const total = texts.reduce((sum, t) => sum + t.length, 0)
    assert.isAtMost(total, maxStreamChars + 8 * truncatedMarker.length)
    for (const t of texts) assert.isTrue(t.endsWith(truncatedMarker))
  })

  it("at most 64 choices, 256 tool calls per choice, 256 blocks or output items", () => {
    const choices = Array.from({ length: 200 }, (_, index) => ({ choices: [{ index, delta: { content: "c" } }] }))
    assert.strictEqual(read(choices)?.length, maxListItems)
    const calls = Array.from({ length: 1_000 }, (_, index) => ({
      choices: [{
        index: 0,
        delta: { tool_calls: [{ index, id: `c${index}`, function: { name: "f", arguments: "{}" } }] }
      }]
    }))
    assert.strictEqual(read(calls)?.[0].parts.length, maxContentParts)
    const blocks = Array.from({ length: 1_000 }, (_, index) => ({
      type: "content_block_start",
      index,
      content_block: { type: "text", text: "t" }
    }))
    assert.strictEqual(read(blocks)?.[0].parts.length, maxContentParts)
    const items = Array.from({ length: 1_000 }, (_, output_index) => ({
      type: "response.output_text.delta",
      output_index,
      content_index: 0,
      delta: "t"
    }))
    assert.strictEqual(read(items)?.[0].parts.length, maxContentParts)
  })

  it("chunks that throw, wrong types and chunks of no known API are skipped", () => {
    const chunks = openaiChatChunks("gpt-4o")
    const hostile = [
      throwingProxy(["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"]),
      null,
      "data: [DONE]",
      42,
      chunks[0],
      withThrowingGetter(chunks[1], "choices"),
      {
        ...chunks[1],
        choices: [throwingProxy(["get"]), { index: 0, delta: withThrowingGetter({ content: "x" }, "content") }]
      },
      { ...chunks[1], choices: [{ index: -1, delta: { content: 5, tool_calls: "no" } }] },
      chunks[1],
      chunks[2]
    ]
    assert.deepStrictEqual(read(hostile), [{ role: "assistant", parts: [text("Paris.")], finish_reason: "stop" }])
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    assert.isUndefined(read([proxy]))
    assert.isUndefined(read([]))
    assert.isUndefined(read(fixture("bedrock-converse-stream")))
    assert.isUndefined(read([{ candidates: [{ content: { parts: [{ text: "hi" }] } }] }]))
    // a usage-only chunk carries no choice
    assert.isUndefined(read([{ object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 1 } }]))
  })

  it("result can be read more than once, and is the same", () => {
    const content = make()
    for (const event of fixture("content-anthropic-stream-thinking-tool")) content.observe(event)
    assert.deepStrictEqual(content.result(false), content.result(false))
    assert.deepStrictEqual(content.result(true)?.[0].finish_reason, "tool_call")
  })
})
