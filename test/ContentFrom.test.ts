import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fromRequest, fromResponse } from "../src/internal/contentFrom.js"
import { maxContentMessages, maxContentParts, maxContentReadChars, truncatedMarker } from "../src/internal/limits.js"
import { throwingProxy, withThrowingGetter } from "./utils/hostile.js"

// Requests shaped as the `openai` 6.x and `@anthropic-ai/sdk` 1.x types define them (`ChatCompletionCreateParams`,
// `ResponseCreateParams`, `MessageCreateParams`), with the field names and nesting the APIs take:
// - content-openai-chat-request, content-openai-responses-request, content-anthropic-request: multi-turn
//   conversations with images (URL and inline), audio, files, tool calls and their results.
// Responses:
// - content-openai-chat-tool-calls: a `chat.completion` asking for two parallel tool calls.
// - content-anthropic-tool-use: vercel/ai packages/anthropic/src/__fixtures__/issue-13430-thinking-tool-call.json, as
//   recorded (thinking, then a tool call).
// - the other fixtures are the repository's recorded responses (see Usage.test.ts and StreamParts.test.ts).
const fixture = (name: string): any =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"))

const eiffel =
  "https://upload.wikimedia.org/wikipedia/commons/4/4b/La_Tour_Eiffel_vue_de_la_Tour_Saint-Jacques%2C_Paris_ao%C3%BBt_2014_%282%29.jpg"

const text = (content: string) => ({ type: "text", content })
const blob = (modality: string, mime_type: string) => ({ type: "blob", modality, content: "[omitted]", mime_type })

/** The base64 payloads of a request (a text document's `data` is text): none of them may reach what is read. */
const inlineData = (request: unknown): Array<string> => {
  const found: Array<string> = []
  JSON.stringify(request, (key, value) => {
    if ((key === "data" || key === "file_data" || key === "url") && typeof value === "string") {
      const payload = value.startsWith("data:") ? value.slice(value.indexOf(",") + 1) : value
      if (/^[A-Za-z0-9+/=]{16,}$/.test(payload)) found.push(payload)
    }
    return value
  })
  return found
}

const assertNoInlineData = (request: unknown, read: unknown) => {
  const payloads = inlineData(request)
  assert.isAbove(payloads.length, 0)
  const json = JSON.stringify(read)
  for (const payload of payloads) assert.notInclude(json, payload)
}

describe("fromRequest: OpenAI Chat Completions", () => {
  it("a multi-turn request: system and developer messages kept, media as references, tool calls parsed", () => {
    const request = fixture("content-openai-chat-request")
    const read = fromRequest(request, "openai")
    assert.deepStrictEqual(read, {
      input: [
        { role: "developer", parts: [text("You are a weather assistant. Answer in one sentence.")] },
        { role: "system", parts: [text("Use metric units.")] },
        {
          role: "user",
          name: "ada",
          parts: [
            text("What's the weather in Paris and Berlin? Here is a photo, a voice note and the forecast."),
            { type: "uri", modality: "image", uri: eiffel },
            blob("image", "image/png"),
            blob("audio", "audio/wav"),
            { type: "file", modality: "document", file_id: "file-6F2ksmvXxt4VdoqmHRw6kL" },
            blob("document", "application/pdf")
          ]
        },
        {
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
          ]
        },
        {
          role: "tool",
          parts: [{ type: "tool_call_response", id: "call_VSPygqKTWdrhaFErNvMV18Yl", response: "rainy, 14°C" }]
        },
        {
          role: "tool",
          parts: [{
            type: "tool_call_response",
            id: "call_Q8RMbG4Pe6JXnTmpG8DwWlYd",
            response: [text("{\"sky\":\"clear\",\"celsius\":18}")]
          }]
        },
        { role: "assistant", parts: [text("Paris is rainy at 14°C; Berlin is clear at 18°C.")] },
        { role: "user", parts: [text("And tomorrow?")] }
      ]
    })
    assertNoInlineData(request, read)
  })

  it("custom tools, the deprecated function call and role, reasoning_content, refusals", () => {
    const read = fromRequest({
      model: "deepseek-reasoner",
      messages: [
        {
          role: "assistant",
          reasoning_content: "Think first.",
          content: [{ type: "text", text: "Sure." }, { type: "refusal", refusal: "Not that part." }],
          tool_calls: [{ id: "call_1", type: "custom", custom: { name: "grep", input: "TODO src/" } }]
        },
        { role: "assistant", content: null, function_call: { name: "lookup", arguments: "{\"q\":1}" } },
        { role: "function", name: "lookup", content: "found" },
        { role: "assistant", content: "", audio: { id: "audio_abc123" } }
      ]
    }, "deepseek")
    assert.deepStrictEqual(read?.input, [
      {
        role: "assistant",
        parts: [
          { type: "reasoning", content: "Think first." },
          text("Sure."),
          { type: "refusal", content: "Not that part." },
          { type: "tool_call", id: "call_1", name: "grep", arguments: "TODO src/" }
        ]
      },
      { role: "assistant", parts: [{ type: "tool_call", name: "lookup", arguments: { q: 1 } }] },
      { role: "function", name: "lookup", parts: [{ type: "tool_call_response", response: "found" }] },
      { role: "assistant", parts: [{ type: "file", modality: "audio", file_id: "audio_abc123" }] }
    ])
  })

  it("arguments that are not JSON are kept as the string", () => {
    const read = fromRequest({
      messages: [{
        role: "assistant",
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{\"city\": \"Par" } }]
      }]
    }, "openai")
    assert.deepStrictEqual(read?.input?.[0].parts, [{
      type: "tool_call",
      id: "c",
      name: "f",
      arguments: "{\"city\": \"Par"
    }])
  })
})

describe("fromRequest: OpenAI Responses", () => {
  it("instructions are the system instructions; an assistant turn's items are one message", () => {
    const request = fixture("content-openai-responses-request")
    const read = fromRequest(request, "openai")
    assert.deepStrictEqual(read, {
      system: [text("You are a weather assistant. Answer in one sentence.")],
      input: [
        { role: "developer", parts: [text("Use metric units.")] },
        {
          role: "user",
          parts: [
            text("Weather in Paris? Here is a photo, another one and the forecast."),
            { type: "uri", modality: "image", uri: eiffel },
            { type: "file", modality: "image", file_id: "file-QzR1cGbmUQqTyS8BUzCzFh" },
            blob("document", "application/pdf")
          ]
        },
        {
          role: "assistant",
          parts: [
            { type: "reasoning", content: "**Checking the weather**\n\nThe user wants the weather in Paris." },
            {
              type: "tool_call",
              id: "call_2FQdm3Br7Qb35YUBSkDR7kue",
              name: "get_weather",
              arguments: { city: "Paris" }
            }
          ]
        },
        {
          role: "tool",
          parts: [{ type: "tool_call_response", id: "call_2FQdm3Br7Qb35YUBSkDR7kue", response: "rainy, 14°C" }]
        },
        { role: "assistant", parts: [text("It is rainy in Paris, at 14°C.")] },
        { role: "user", parts: [text("And in Berlin?")] }
      ]
    })
    assertNoInlineData(request, read)
  })

  it("a string input is one user message; instructions alone are read", () => {
    assert.deepStrictEqual(fromRequest({ model: "gpt-5", input: "Hi" }, "openai"), {
      input: [{ role: "user", parts: [text("Hi")] }]
    })
    assert.deepStrictEqual(
      fromRequest({ model: "gpt-5", instructions: "Be brief.", previous_response_id: "r" }, "openai"),
      {
        system: [text("Be brief.")]
      }
    )
  })

  it("tool outputs as content lists, custom tool calls, item references", () => {
    const read = fromRequest({
      input: [
        { type: "custom_tool_call", call_id: "call_c", name: "patch", input: "*** Begin Patch" },
        {
          type: "function_call_output",
          call_id: "call_f",
          output: [{ type: "input_text", text: "done" }, {
            type: "input_image",
            detail: "auto",
            image_url: "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD"
          }]
        },
        { type: "item_reference", id: "msg_1" },
        { type: "custom_tool_call_output", call_id: "call_c", output: "applied" }
      ]
    }, "openai")
    assert.deepStrictEqual(read?.input, [
      { role: "assistant", parts: [{ type: "tool_call", id: "call_c", name: "patch", arguments: "*** Begin Patch" }] },
      {
        role: "tool",
        parts: [{ type: "tool_call_response", id: "call_f", response: [text("done"), blob("image", "image/jpeg")] }]
      },
      { role: "tool", parts: [{ type: "tool_call_response", id: "call_c", response: "applied" }] }
    ])
  })
})

describe("fromRequest: Anthropic Messages", () => {
  it("system blocks are the system instructions; images, documents, thinking, tools, server tools", () => {
    const request = fixture("content-anthropic-request")
    const read = fromRequest(request, "anthropic")
    assert.deepStrictEqual(read, {
      system: [text("You are a weather assistant.")],
      input: [
        {
          role: "user",
          parts: [
            text("Weather in Paris and Berlin? Here are two photos and the forecast."),
            blob("image", "image/png"),
            { type: "uri", modality: "image", uri: eiffel },
            blob("document", "application/pdf"),
            text("Berlin: clear all week.")
          ]
        },
        {
          role: "assistant",
          parts: [
            { type: "reasoning", content: "The user wants the weather in two cities: one call each." },
            text("Let me check both."),
            {
              type: "tool_call",
              id: "toolu_01A09q90qw90lq917835lq9",
              name: "get_weather",
              arguments: { location: "Paris" }
            },
            {
              type: "tool_call",
              id: "toolu_01B3hq92rw81mq027946mr0",
              name: "get_weather",
              arguments: { location: "Berlin" }
            }
          ]
        },
        {
          role: "user",
          parts: [
            { type: "tool_call_response", id: "toolu_01A09q90qw90lq917835lq9", response: "rainy, 14°C" },
            {
              type: "tool_call_response",
              id: "toolu_01B3hq92rw81mq027946mr0",
              response: [text("{\"sky\":\"clear\",\"celsius\":18}"), blob("image", "image/jpeg")]
            }
          ]
        },
        {
          role: "assistant",
          parts: [
            {
              type: "server_tool_call",
              id: "srvtoolu_01EoSNE7k4dUJyGatASCV5qs",
              name: "web_search",
              server_tool_call: { type: "web_search", input: { query: "Paris weather tomorrow" } }
            },
            {
              type: "server_tool_call_response",
              id: "srvtoolu_01EoSNE7k4dUJyGatASCV5qs",
              server_tool_call_response: {
                type: "web_search",
                content: [{
                  type: "web_search_result",
                  title: "Paris, France Weather Forecast | AccuWeather",
                  url: "https://www.accuweather.com/en/fr/paris/623/weather-forecast/623",
                  page_age: "2 days ago"
                }]
              }
            },
            text("Paris is rainy at 14°C and Berlin clear at 18°C; tomorrow Paris turns sunny.")
          ]
        },
        { role: "user", parts: [text("Thanks!")] }
      ]
    })
    assertNoInlineData(request, read)
    // the search results' opaque `encrypted_content` is the API's, not content
    assert.notInclude(JSON.stringify(read), "EroTCioIBxgCIiQ0NGFl")
  })

  it("the API is told by the request's shape, whatever the vendor", () => {
    const anthropic = { max_tokens: 10, system: "Be brief.", messages: [{ role: "user", content: "Hi" }] }
    assert.deepStrictEqual(fromRequest(anthropic, "openai"), {
      system: [text("Be brief.")],
      input: [{ role: "user", parts: [text("Hi")] }]
    })
    // Bedrock's InvokeModel body for Claude
    const bedrock = {
      anthropic_version: "bedrock-2023-05-31",
      max_tokens: 10,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://e.x/a.png" } }] }]
    }
    assert.deepStrictEqual(fromRequest(bedrock, "aws.bedrock")?.input, [
      { role: "user", parts: [{ type: "uri", modality: "image", uri: "https://e.x/a.png" }] }
    ])
    // Anthropic's OpenAI-compatible endpoint: a chat request, though the vendor is anthropic
    const compatible = {
      messages: [
        { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c", content: "ok" }
      ]
    }
    assert.deepStrictEqual(fromRequest(compatible, "anthropic")?.input, [
      { role: "assistant", parts: [{ type: "tool_call", id: "c", name: "f", arguments: {} }] },
      { role: "tool", parts: [{ type: "tool_call_response", id: "c", response: "ok" }] }
    ])
    // plain string messages of the anthropic vendor are read as Anthropic's (the same either way)
    assert.deepStrictEqual(fromRequest({ messages: [{ role: "user", content: "Hi" }] }, "anthropic"), {
      input: [{ role: "user", parts: [text("Hi")] }]
    })
  })

  it("documents of text, content, URL and file sources; search results; redacted thinking; a tool result without content", () => {
    const read = fromRequest({
      system: "s",
      messages: [{
        role: "user",
        content: [
          { type: "document", source: { type: "content", content: [{ type: "text", text: "chunk 1" }] } },
          { type: "document", source: { type: "content", content: "chunk 2" } },
          { type: "document", source: { type: "url", url: "https://e.x/a.pdf" } },
          { type: "document", source: { type: "file", file_id: "file_011" } },
          { type: "image", source: { type: "file", file_id: "file_012" } },
          { type: "search_result", source: "https://e.x", title: "E", content: [{ type: "text", text: "found" }] },
          { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw" },
          { type: "tool_result", tool_use_id: "toolu_1" },
          { type: "container_upload", file_id: "file_013" }
        ]
      }]
    }, "anthropic")
    assert.deepStrictEqual(read?.input?.[0].parts, [
      text("chunk 1"),
      text("chunk 2"),
      { type: "uri", modality: "document", uri: "https://e.x/a.pdf" },
      { type: "file", modality: "document", file_id: "file_011" },
      { type: "file", modality: "image", file_id: "file_012" },
      { type: "search_result", source: "https://e.x", title: "E", content: [text("found")] },
      { type: "redacted_thinking" },
      { type: "tool_call_response", id: "toolu_1", response: "" },
      { type: "container_upload" }
    ])
  })
})

describe("fromResponse", () => {
  it("chat.completion: one message per choice, finish reasons mapped", () => {
    assert.deepStrictEqual(fromResponse(fixture("openai-chat")), [
      { role: "assistant", parts: [text("Paris.")], finish_reason: "stop" }
    ])
    assert.deepStrictEqual(fromResponse(fixture("openai-chat-reasoning")), [
      { role: "assistant", parts: [text("There are 3 r's.")], finish_reason: "stop" },
      { role: "assistant", parts: [text("Three.")], finish_reason: "length" }
    ])
    assert.deepStrictEqual(fromResponse(fixture("content-openai-chat-tool-calls")), [{
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
  })

  it("chat.completion: a refusal, an audio answer's transcript, a content filter", () => {
    const response = {
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, refusal: "I can't help with that." },
          finish_reason: "stop"
        },
        {
          index: 1,
          message: {
            role: "assistant",
            content: null,
            refusal: null,
            audio: {
              id: "audio_1",
              data: "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8A",
              expires_at: 1,
              transcript: "Hello there."
            }
          },
          finish_reason: "stop"
        },
        { index: 2, message: { role: "assistant", content: "" }, finish_reason: "content_filter" },
        { index: 3, message: { role: "assistant", content: "cut" }, finish_reason: null }
      ]
    }
    assert.deepStrictEqual(fromResponse(response), [
      { role: "assistant", parts: [{ type: "refusal", content: "I can't help with that." }], finish_reason: "stop" },
      { role: "assistant", parts: [text("Hello there.")], finish_reason: "stop" },
      { role: "assistant", parts: [], finish_reason: "content_filter" },
      { role: "assistant", parts: [text("cut")], finish_reason: "unknown" }
    ])
    assert.notInclude(JSON.stringify(fromResponse(response)), "UklGRiQAAABXQVZF")
  })

  it("Responses: output items, finish reason from the status", () => {
    assert.deepStrictEqual(fromResponse(fixture("openai-responses")), [
      { role: "assistant", parts: [text("In a peaceful grove...")], finish_reason: "stop" }
    ])
    assert.deepStrictEqual(fromResponse(fixture("openai-responses-web-search")), [{
      role: "assistant",
      parts: [
        {
          type: "server_tool_call",
          id: "ws_68ac1e339ee8819289d2eb5604ce44ce014ed998995dd5ee",
          name: "web_search",
          server_tool_call: {
            type: "web_search",
            action: { query: "latest news in Iceland October 2023", type: "search" }
          }
        },
        text("As of August 25, 2025, here are the latest developments in Iceland: ...")
      ],
      finish_reason: "stop"
    }])
    // incomplete at max_output_tokens, its only item a reasoning item without summary
    assert.deepStrictEqual(fromResponse(fixture("openai-responses-incomplete")), [
      { role: "assistant", parts: [], finish_reason: "length" }
    ])
    // the response of a recorded tool-call stream (its `response.completed` event)
    const events = fixture("content-openai-responses-stream-tool-call")
    assert.deepStrictEqual(fromResponse(events[events.length - 1].response), [{
      role: "assistant",
      parts: [{
        type: "tool_call",
        id: "call_2FQdm3Br7Qb35YUBSkDR7kue",
        name: "get_weather",
        arguments: { city: "Beijing" }
      }],
      finish_reason: "tool_call"
    }])
  })

  it("Responses: refusals, reasoning summaries, provider-run tools, generated images without their bytes", () => {
    const response = {
      object: "response",
      status: "incomplete",
      incomplete_details: { reason: "content_filter" },
      output: [
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Plan." }] },
        {
          type: "code_interpreter_call",
          id: "ci_1",
          code: "print(1)",
          container_id: "cntr_1",
          outputs: [{ type: "logs", logs: "1" }],
          status: "completed"
        },
        { type: "file_search_call", id: "fs_1", queries: ["q"], results: null, status: "completed" },
        { type: "image_generation_call", id: "ig_1", result: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB", status: "completed" },
        {
          type: "mcp_call",
          id: "mcp_1",
          name: "roll",
          server_label: "dice",
          arguments: "{\"sides\":6}",
          output: "4",
          error: null
        },
        {
          type: "computer_call",
          id: "cu_1",
          call_id: "call_cu",
          action: { type: "click", x: 1, y: 2 },
          status: "completed"
        },
        {
          type: "message",
          id: "msg_1",
          role: "assistant",
          status: "incomplete",
          content: [{ type: "refusal", refusal: "No." }]
        }
      ]
    }
    assert.deepStrictEqual(fromResponse(response), [{
      role: "assistant",
      parts: [
        { type: "reasoning", content: "Plan." },
        {
          type: "server_tool_call",
          id: "ci_1",
          name: "code_interpreter",
          server_tool_call: { type: "code_interpreter", code: "print(1)", container_id: "cntr_1" }
        },
        {
          type: "server_tool_call_response",
          id: "ci_1",
          server_tool_call_response: { type: "code_interpreter", outputs: [{ type: "logs", logs: "1" }] }
        },
        {
          type: "server_tool_call",
          id: "fs_1",
          name: "file_search",
          server_tool_call: { type: "file_search", queries: ["q"] }
        },
        {
          type: "server_tool_call",
          id: "ig_1",
          name: "image_generation",
          server_tool_call: { type: "image_generation" }
        },
        { type: "blob", modality: "image", content: "[omitted]" },
        {
          type: "server_tool_call",
          id: "mcp_1",
          name: "roll",
          server_tool_call: { type: "mcp", server_label: "dice", arguments: { sides: 6 } }
        },
        {
          type: "server_tool_call_response",
          id: "mcp_1",
          server_tool_call_response: { type: "mcp", output: "4", error: null }
        },
        { type: "tool_call", id: "call_cu", name: "computer", arguments: { type: "click", x: 1, y: 2 } },
        { type: "refusal", content: "No." }
      ],
      finish_reason: "content_filter"
    }])
    assert.notInclude(JSON.stringify(fromResponse(response)), "iVBORw0KGgo")
    assert.strictEqual(fromResponse({ object: "response", status: "failed", output: [] })?.[0].finish_reason, "error")
    assert.strictEqual(
      fromResponse({ object: "response", status: "cancelled", output: [] })?.[0].finish_reason,
      "cancelled"
    )
    assert.strictEqual(fromResponse({ object: "response", output: [] })?.[0].finish_reason, "unknown")
  })

  it("Anthropic: text, thinking, tool use, server tools, compaction; stop reasons mapped", () => {
    assert.deepStrictEqual(fromResponse(fixture("anthropic-messages")), [
      { role: "assistant", parts: [text("Hi! My name is Claude.")], finish_reason: "stop" }
    ])
    assert.deepStrictEqual(fromResponse(fixture("content-anthropic-tool-use")), [{
      role: "assistant",
      parts: [
        { type: "reasoning", content: "The user wants me to call checkSandboxErrors immediately." },
        { type: "tool_call", id: "toolu_017R7ACrx7NF7sLDDtvdQ1u9", name: "checkSandboxErrors", arguments: {} }
      ],
      finish_reason: "tool_call"
    }])
    const search = fromResponse(fixture("anthropic-web-search"))
    assert.deepStrictEqual(search?.[0].parts.map((part) => part.type), [
      "reasoning",
      "server_tool_call",
      "server_tool_call_response",
      "text"
    ])
    assert.deepStrictEqual(search?.[0].parts[2], {
      type: "server_tool_call_response",
      id: "srvtoolu_01EoSNE7k4dUJyGatASCV5qs",
      server_tool_call_response: {
        type: "web_search",
        content: [{
          type: "web_search_result",
          title: "San Francisco, CA Weather Forecast | AccuWeather",
          url: "https://www.accuweather.com/en/us/san-francisco/94103/weather-forecast/347629",
          page_age: "6 days ago"
        }]
      }
    })
    assert.deepStrictEqual(fromResponse(fixture("anthropic-compaction"))?.[0].parts.map((part) => part.type), [
      "compaction",
      "text"
    ])
    // an empty thinking block (its display omitted) holds nothing to record
    const advisor = fromResponse(fixture("anthropic-advisor"))?.[0]
    assert.deepStrictEqual(advisor?.parts.map((part) => part.type), [
      "text",
      "server_tool_call",
      "server_tool_call_response",
      "text"
    ])
    const reasons: Record<string, string> = {
      end_turn: "stop",
      stop_sequence: "stop",
      max_tokens: "length",
      tool_use: "tool_call",
      refusal: "content_filter",
      pause_turn: "pause_turn",
      model_context_window_exceeded: "model_context_window_exceeded"
    }
    for (const [stop_reason, expected] of Object.entries(reasons)) {
      assert.strictEqual(fromResponse({ type: "message", content: [], stop_reason })?.[0].finish_reason, expected)
    }
    assert.strictEqual(fromResponse({ type: "message", content: [], stop_reason: null })?.[0].finish_reason, "unknown")
  })

  it("anything else reads as nothing", () => {
    for (const name of ["openai-embeddings", "gemini-thinking", "bedrock-converse", "cohere-chat-v2"]) {
      assert.isUndefined(fromResponse(fixture(name)), name)
    }
    for (const value of [undefined, null, 1, "chat.completion", [], Symbol("s"), () => 1]) {
      assert.isUndefined(fromResponse(value))
      assert.isUndefined(fromRequest(value, "openai"))
    }
    assert.isUndefined(fromRequest({ model: "gpt-4o" }, "openai"))
    assert.isUndefined(fromRequest({ messages: [] }, "openai"))
  })
})

describe("hostile payloads: never a throw, always bounded", () => {
  it("throwing getters and Proxies drop the field, part or message they hide, and nothing else", () => {
    const request = fixture("content-openai-chat-request")
    assert.isUndefined(
      fromRequest(throwingProxy(["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"]), "openai")
    )
    assert.isUndefined(fromResponse(throwingProxy(["get"])))
    assert.isUndefined(fromRequest(withThrowingGetter(request, "messages"), "openai"))
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    assert.isUndefined(fromRequest(proxy, "openai"))
    assert.isUndefined(fromResponse(proxy))

    const messages = [...request.messages]
    messages[0] = throwingProxy(["get"])
    messages[1] = withThrowingGetter(messages[1], "content")
    messages[3] = { ...messages[3], tool_calls: [throwingProxy(["get"]), ...messages[3].tool_calls.slice(1)] }
    messages[4] = proxy
    const read = fromRequest({ ...request, messages }, "openai")
    assert.deepStrictEqual(read?.input?.map((message) => message.role), [
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "user"
    ])
    assert.deepStrictEqual(read?.input?.[0].parts, [])
    assert.deepStrictEqual(read?.input?.[2].parts.length, 1)

    // an element behind a getter, an array whose length throws
    const list: Array<unknown> = [{ role: "user", content: "a" }, null, { role: "user", content: "b" }]
    Object.defineProperty(list, 1, {
      get() {
        throw new Error("element")
      }
    })
    assert.deepStrictEqual(fromRequest({ messages: list }, "openai")?.input?.length, 2)
    const lengthless = new Proxy([], {
      get: (target, key) => {
        if (key === "length") throw new Error("length")
        return Reflect.get(target, key)
      }
    })
    assert.isUndefined(fromRequest({ messages: lengthless }, "openai"))
    assert.isUndefined(fromResponse({ object: "chat.completion", choices: lengthless }))
  })

  it("wrong types are skipped; values of the model's own are handed on as they are, cycles included", () => {
    const cyclic: Record<string, unknown> = { a: 1n }
    cyclic.self = cyclic
    const read = fromRequest({
      messages: [
        { role: 42, content: "no role" },
        { role: "user", content: 42 },
        { role: "user", content: [42, null, { type: 7 }, { type: "text", text: 1 }, { type: "weird", data: "AAAA" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: cyclic }] },
        { role: "assistant", content: [{ type: "tool_result", tool_use_id: 5, content: { nested: true } }] },
        "not a message"
      ]
    }, "anthropic")
    assert.deepStrictEqual(read?.input?.map((message) => message.parts.length), [0, 1, 1, 1])
    assert.deepStrictEqual(read?.input?.[1].parts, [{ type: "weird" }])
    const call = read?.input?.[2].parts[0] as { arguments: unknown }
    assert.strictEqual(call.arguments, cyclic)
    assert.deepStrictEqual(read?.input?.[3].parts, [{ type: "tool_call_response", response: { nested: true } }])
    // a message list that holds itself is not a message
    const loop: Array<unknown> = [{ role: "user", content: "hi" }]
    loop.push(loop)
    assert.deepStrictEqual(fromRequest({ messages: loop }, "openai")?.input, [{ role: "user", parts: [text("hi")] }])
  })

  it("strings are cut at maxContentReadChars, with the marker; long JSON arguments are not parsed", () => {
    const huge = "x".repeat(1_000_000)
    const read = fromRequest({ system: huge, messages: [{ role: "user", content: huge }] }, "anthropic")
    for (const part of [read?.system?.[0], read?.input?.[0].parts[0]]) {
      const content = (part as { content: string }).content
      assert.strictEqual(content.length, maxContentReadChars)
      assert.isTrue(content.endsWith(truncatedMarker))
    }
    const args = JSON.stringify({ blob: "y".repeat(maxContentReadChars) })
    const response = fromResponse({
      object: "chat.completion",
      choices: [{
        message: { role: "assistant", tool_calls: [{ id: "c", function: { name: "f", arguments: args } }] },
        finish_reason: "tool_calls"
      }]
    })
    const kept = (response?.[0].parts[0] as { arguments: unknown }).arguments as string
    assert.strictEqual(typeof kept, "string")
    assert.strictEqual(kept.length, maxContentReadChars)
  })

  it("10,000 messages keep the newest 1,024; a message its first 256 parts; a response its first 64 choices", () => {
    const messages = Array.from({ length: 10_000 }, (_, i) => ({ role: "user", content: `m${i}` }))
    for (const vendor of ["openai", "anthropic"]) {
      const input = fromRequest({ messages }, vendor)?.input
      assert.strictEqual(input?.length, maxContentMessages)
      assert.deepStrictEqual(input?.[0].parts, [text(`m${10_000 - maxContentMessages}`)])
      assert.deepStrictEqual(input?.[maxContentMessages - 1].parts, [text("m9999")])
    }
    const items = messages.map((message) => ({ type: "message", ...message }))
    assert.strictEqual(fromRequest({ input: items }, "openai")?.input?.length, maxContentMessages)

    const parts = Array.from({ length: 10_000 }, (_, i) => ({ type: "text", text: `p${i}` }))
    assert.strictEqual(
      fromRequest({ messages: [{ role: "user", content: parts }] }, "openai")?.input?.[0].parts.length,
      maxContentParts
    )
    const choices = Array.from(
      { length: 1_000 },
      (_, index) => ({ index, message: { content: "c" }, finish_reason: "stop" })
    )
    assert.strictEqual(fromResponse({ object: "chat.completion", choices })?.length, 64)
    const output = Array.from(
      { length: 1_000 },
      () => ({ type: "function_call", call_id: "c", name: "f", arguments: "{}" })
    )
    assert.strictEqual(
      fromResponse({ object: "response", status: "completed", output })?.[0].parts.length,
      maxContentParts
    )
  })
})
