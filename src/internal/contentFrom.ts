import type { InputMessage, OutputMessage, Part } from "../Content.js"
import { cut, maxContentMessages, maxContentParts, maxContentReadChars, maxListItems } from "./limits.js"
import { isRecord } from "./sanitize.js"

/**
 * Reads what a call said from the payloads of the providers' own APIs (OpenAI Chat Completions and Responses,
 * Anthropic Messages), into the messages and parts of the GenAI semantic conventions (v1.41).
 *
 * What is read is bounded before anything else looks at it, so that the time and memory of a capture never grow
 * with what an app sends (see `limits.maxContentReadChars`): each string is cut at `maxContentReadChars`, a request
 * keeps its newest `maxContentMessages` messages, a message its first `maxContentParts` parts, a response its first
 * `maxListItems` choices. The call's own bounds (far lower) apply later, where the content is recorded.
 *
 * Every read is guarded: a getter or a Proxy trap that throws, a field of the wrong type, a `null`, drops that
 * field, part or message and nothing else, and no function here throws. Values of the app's or the model's own
 * (tool arguments and results, a server tool's details) are handed on as they are: the recorder makes them JSON-safe.
 * Inline media bytes are never handed on: an image, audio or file part becomes a `uri` part for an http(s) URL, a
 * `file` part for a file id, and a `blob` part whose content is `omitted` for inline data.
 *
 * @internal
 */

/** The content of a `blob` part: inline bytes are never copied. */
export const omitted = "[omitted]"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type Message = Mutable<InputMessage> & { parts: Array<Part> }

/** `record[key]`, or `undefined` when reading it throws (a getter, a Proxy trap). */
export const get = (record: Record<string, unknown>, key: string): unknown => {
  try {
    return record[key]
  } catch {
    return undefined
  }
}

/** A field of a value that may not be a record. */
export const at = (value: unknown, key: string): unknown => isRecord(value) ? get(value, key) : undefined

/** `record` without its `undefined` fields, so that a part holds only what the payload had. */
export const defined = (record: Record<string, unknown>): Record<string, unknown> => {
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key]
  return record
}

/** A string, cut at `maxContentReadChars`; anything else is `undefined`. */
export const str = (value: unknown): string | undefined =>
  typeof value === "string" ? cut(value, maxContentReadChars) : undefined

/**
 * The items of an array, at most `max` of them (the last ones when `newest`), each read on its own so that one that
 * throws is skipped; `undefined` for anything but an array.
 */
export const items = (value: unknown, max: number, newest = false): Array<unknown> | undefined => {
  try {
    if (!Array.isArray(value)) return undefined
    const length = value.length
    if (!(length > 0)) return []
    const start = newest ? Math.max(0, length - max) : 0
    const end = Math.min(length, start + max)
    const out: Array<unknown> = []
    for (let i = start; i < end; i++) {
      try {
        out.push(value[i])
      } catch {
        // an element behind a throwing getter
      }
    }
    return out
  } catch {
    return undefined
  }
}

/** A non-negative integer index (`choices[].index`, `output_index`), or `undefined`. */
export const index = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined

/**
 * Tool-call arguments as sent: JSON text is parsed (the conventions record the object), what is not JSON, or too
 * long to be read whole, is kept as the (cut) string.
 */
export const parseArguments = (value: unknown): unknown => {
  if (typeof value !== "string") return value
  if (value.length > maxContentReadChars) return cut(value, maxContentReadChars)
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

const withPart = (part: Part | undefined): Array<Part> => part === undefined ? [] : [part]

/** Appends `part` while the message has room for it. */
export const push = (parts: Array<Part>, part: Part | undefined): void => {
  if (part !== undefined && parts.length < maxContentParts) parts.push(part)
}

/** A part holding text, of the conventions' `text` or `reasoning` type or a provider's own; none for no text. */
export const contentPart = (type: string, value: unknown): Part | undefined => {
  const content = str(value)
  return content === undefined || content.length === 0 ? undefined : { type, content }
}

export const textPart = (value: unknown): Part | undefined => contentPart("text", value)

export const reasoningPart = (value: unknown): Part | undefined => contentPart("reasoning", value)

/** A refusal has no part of its own in the conventions: a generic part that keeps its text apart from the answer. */
export const refusalPart = (value: unknown): Part | undefined => contentPart("refusal", value)

export const toolCallPart = (id: unknown, name: unknown, args: unknown): Part => {
  const part: Record<string, unknown> = { type: "tool_call" }
  const callId = str(id)
  if (callId !== undefined) part.id = callId
  part.name = str(name) ?? ""
  if (args !== undefined) part.arguments = args
  return part as unknown as Part
}

const toolResponsePart = (id: unknown, response: unknown): Part => {
  const callId = str(id)
  return callId === undefined
    ? { type: "tool_call_response", response }
    : { type: "tool_call_response", id: callId, response }
}

/** A tool the provider ran itself; `details` is its `server_tool_call` (a `type` and the tool's own fields). */
export const serverToolCallPart = (id: unknown, name: string, details: Record<string, unknown>): Part => {
  const callId = str(id)
  return callId === undefined
    ? { type: "server_tool_call", name, server_tool_call: details }
    : { type: "server_tool_call", id: callId, name, server_tool_call: details }
}

const serverToolResponsePart = (id: unknown, details: Record<string, unknown>): Part => {
  const callId = str(id)
  return callId === undefined
    ? { type: "server_tool_call_response", server_tool_call_response: details }
    : { type: "server_tool_call_response", id: callId, server_tool_call_response: details }
}

/** A part of an unknown type: only its type (and id), since what else it holds may be bytes. */
const otherPart = (type: unknown, id?: unknown): Part | undefined => {
  const name = str(type)
  if (name === undefined) return undefined
  const callId = str(id)
  return callId === undefined ? { type: name } : { type: name, id: callId }
}

// Media -----------------------------------------------------------------------------------------------------------

const httpUrl = /^https?:\/\//i
const dataUrl = /^data:([\w.+-]+\/[\w.+-]+)[;,]/i

/** The MIME type of a `data:` URL, read from its head only. */
const dataUrlMime = (url: string): string | undefined => dataUrl.exec(url.slice(0, 256))?.[1]

const withMime = (part: Record<string, unknown>, mime: unknown): Part => {
  const type = str(mime)
  if (type !== undefined) part.mime_type = type
  return part as unknown as Part
}

/** Inline data: what kind it was, never its bytes. */
const blobPart = (modality: string, mime: unknown): Part => withMime({ type: "blob", modality, content: omitted }, mime)

const filePart = (modality: string, fileId: unknown, mime?: unknown): Part | undefined => {
  const id = str(fileId)
  return id === undefined ? undefined : withMime({ type: "file", modality, file_id: id }, mime)
}

/**
 * Media given by URL: an http(s) URL is kept (a `uri` part); anything else (a `data:` URL, bare base64) is inline
 * data, recorded as a `blob` part without its bytes.
 */
const urlPart = (modality: string, url: unknown, mime?: unknown): Part | undefined => {
  if (typeof url !== "string") return undefined
  if (httpUrl.test(url)) return withMime({ type: "uri", modality, uri: cut(url, maxContentReadChars) }, mime)
  return blobPart(modality, mime ?? dataUrlMime(url))
}

const audioMime = (format: unknown): string | undefined =>
  format === "mp3" ? "audio/mpeg" : typeof format === "string" ? `audio/${cut(format, 64)}` : undefined

/** Modality of a file part, which the conventions leave open: a document unless its MIME type says otherwise. */
const fileModality = (mime: string | undefined): string => {
  for (const modality of ["image", "audio", "video"]) if (mime?.startsWith(`${modality}/`)) return modality
  return "document"
}

// Finish reasons ---------------------------------------------------------------------------------------------------

/** What `result(false)` of a stream records for a choice that never said why it ended. */
export const interrupted = "interrupted"

/** A response or a completed stream that carried no finish reason. */
export const unknownReason = "unknown"

/** Chat Completions `finish_reason` → the conventions' where they mean the same; others as sent. */
export const chatFinish = (reason: unknown): string | undefined => {
  const value = str(reason)
  switch (value) {
    case "tool_calls":
    case "function_call":
      return "tool_call"
    default:
      return value
  }
}

/** Messages `stop_reason` → the conventions' where they mean the same; others as sent. */
export const anthropicFinish = (reason: unknown): string | undefined => {
  const value = str(reason)
  switch (value) {
    case "end_turn":
    case "stop_sequence":
      return "stop"
    case "max_tokens":
      return "length"
    case "tool_use":
      return "tool_call"
    case "refusal":
      return "content_filter"
    default:
      return value
  }
}

/**
 * A Responses `status` (with `incomplete_details.reason`) → a finish reason: a completed response that asked for
 * tools ended on a tool call, one cut by its token limit on its length; others as sent.
 */
export const responsesFinish = (status: unknown, incompleteReason: unknown, parts: ReadonlyArray<Part>): string => {
  switch (status) {
    case "completed":
      return parts.some((part) => part.type === "tool_call") ? "tool_call" : "stop"
    case "incomplete": {
      const reason = str(incompleteReason)
      return reason === "max_output_tokens" ? "length" : reason ?? "incomplete"
    }
    case "failed":
      return "error"
    default:
      return str(status) ?? unknownReason
  }
}

// OpenAI Chat Completions ------------------------------------------------------------------------------------------

const chatContentPart = (part: unknown): Part | undefined => {
  if (typeof part === "string") return textPart(part)
  if (!isRecord(part)) return undefined
  const type = get(part, "type")
  switch (type) {
    case "text":
      return textPart(get(part, "text"))
    case "refusal":
      return refusalPart(get(part, "refusal"))
    case "image_url": {
      const image = get(part, "image_url")
      return urlPart("image", isRecord(image) ? get(image, "url") : image)
    }
    case "input_audio":
      return blobPart("audio", audioMime(at(get(part, "input_audio"), "format")))
    case "file": {
      const file = get(part, "file")
      const id = filePart("document", at(file, "file_id"))
      if (id !== undefined) return id
      const data = at(file, "file_data")
      if (typeof data !== "string") return otherPart(type)
      const mime = dataUrlMime(data)
      return blobPart(fileModality(mime), mime)
    }
    default:
      return otherPart(type)
  }
}

const chatToolCall = (call: unknown): Part | undefined => {
  if (!isRecord(call)) return undefined
  const fn = get(call, "function")
  if (isRecord(fn)) return toolCallPart(get(call, "id"), get(fn, "name"), parseArguments(get(fn, "arguments")))
  // a custom tool takes free text, not JSON
  const custom = get(call, "custom")
  if (isRecord(custom)) return toolCallPart(get(call, "id"), get(custom, "name"), str(get(custom, "input")))
  return undefined
}

/** A tool's answer: text as sent, a list of content parts read as parts. */
const chatToolResponse = (content: unknown): unknown => {
  if (typeof content === "string") return cut(content, maxContentReadChars)
  const list = items(content, maxContentParts)
  if (list === undefined) return content ?? null
  const parts: Array<Part> = []
  for (const part of list) push(parts, guarded(() => chatContentPart(part)))
  return parts
}

/**
 * The parts of a chat message, request or response side: reasoning (`reasoning_content`, which DeepSeek and others
 * add), content, refusal, audio (its transcript in a response, a reference in the history) and tool calls.
 */
const chatParts = (message: Record<string, unknown>, output: boolean): Array<Part> => {
  const parts: Array<Part> = []
  push(parts, reasoningPart(get(message, "reasoning_content")))
  const content = get(message, "content")
  if (typeof content === "string") {
    if (content.length > 0) push(parts, textPart(content))
  } else {
    for (const part of items(content, maxContentParts) ?? []) push(parts, guarded(() => chatContentPart(part)))
  }
  push(parts, refusalPart(get(message, "refusal")))
  const audio = get(message, "audio")
  push(parts, output ? textPart(at(audio, "transcript")) : filePart("audio", at(audio, "id")))
  const fn = get(message, "function_call")
  if (isRecord(fn)) push(parts, toolCallPart(undefined, get(fn, "name"), parseArguments(get(fn, "arguments"))))
  for (const call of items(get(message, "tool_calls"), maxContentParts) ?? []) {
    push(parts, guarded(() => chatToolCall(call)))
  }
  return parts
}

const named = (message: Message, source: Record<string, unknown>): Message => {
  const name = str(get(source, "name"))
  if (name !== undefined) message.name = name
  return message
}

const chatMessage = (message: unknown): Message | undefined => {
  if (!isRecord(message)) return undefined
  const role = str(get(message, "role"))
  if (role === undefined) return undefined
  if (role === "tool") {
    const response = chatToolResponse(get(message, "content"))
    return { role, parts: [toolResponsePart(get(message, "tool_call_id"), response)] }
  }
  if (role === "function") {
    // the deprecated function role: its message is named after the function, it has no call id
    return named({ role, parts: [toolResponsePart(undefined, chatToolResponse(get(message, "content")))] }, message)
  }
  return named({ role, parts: chatParts(message, false) }, message)
}

/** One output message per choice, in the order sent. */
const chatResponse = (response: Record<string, unknown>): ReadonlyArray<OutputMessage> | undefined => {
  const choices = items(get(response, "choices"), maxListItems)
  if (choices === undefined) return undefined
  const out: Array<OutputMessage> = []
  for (const choice of choices) {
    const message = guarded((): OutputMessage | undefined => {
      if (!isRecord(choice)) return undefined
      const body = get(choice, "message")
      const role = str(at(body, "role")) ?? "assistant"
      const parts = isRecord(body) ? chatParts(body, true) : []
      return { role, parts, finish_reason: chatFinish(get(choice, "finish_reason")) ?? unknownReason }
    })
    if (message !== undefined) out.push(message)
  }
  return out
}

// OpenAI Responses -------------------------------------------------------------------------------------------------

const responsesContentPart = (part: unknown): Part | undefined => {
  if (typeof part === "string") return textPart(part)
  if (!isRecord(part)) return undefined
  const type = get(part, "type")
  switch (type) {
    case "input_text":
    case "output_text":
    case "text":
      return textPart(get(part, "text"))
    case "refusal":
      return refusalPart(get(part, "refusal"))
    case "input_image":
      return urlPart("image", get(part, "image_url")) ?? filePart("image", get(part, "file_id")) ?? otherPart(type)
    case "input_file": {
      const url = get(part, "file_url")
      if (typeof url === "string") return urlPart("document", url)
      const id = filePart("document", get(part, "file_id"))
      if (id !== undefined) return id
      const data = get(part, "file_data")
      if (typeof data !== "string") return otherPart(type)
      const mime = dataUrlMime(data)
      return blobPart(fileModality(mime), mime)
    }
    case "input_audio":
      return blobPart("audio", audioMime(at(get(part, "input_audio"), "format")))
    default:
      return otherPart(type)
  }
}

const responsesContent = (content: unknown): Array<Part> => {
  if (typeof content === "string") return withPart(textPart(content))
  const parts: Array<Part> = []
  for (const part of items(content, maxContentParts) ?? []) push(parts, guarded(() => responsesContentPart(part)))
  return parts
}

/** A tool output item's `output`: text as sent, a list of content parts read as parts. */
const responsesToolOutput = (output: unknown): unknown => {
  if (typeof output === "string") return cut(output, maxContentReadChars)
  return items(output, maxContentParts) === undefined ? output ?? null : responsesContent(output)
}

/** The client-side tools whose calls are items of their own, by item type (their `call_id` ties the output). */
const clientToolCalls: Readonly<Record<string, { readonly name: string; readonly field: string }>> = {
  computer_call: { name: "computer", field: "action" },
  local_shell_call: { name: "local_shell", field: "action" },
  shell_call: { name: "shell", field: "action" },
  apply_patch_call: { name: "apply_patch", field: "operation" }
}

/**
 * The parts of one output item (of a response, or of a conversation's history): what the model said, reasoned and
 * called. A provider-run tool becomes a `server_tool_call` (and a `server_tool_call_response` for what it found or
 * ran, when the item carries it); an image it generated, a `blob` part without its bytes.
 */
export const responsesItemParts = (item: unknown): Array<Part> | undefined => {
  if (!isRecord(item)) return undefined
  const type = get(item, "type")
  const id = get(item, "id")
  switch (type) {
    case "message":
      return responsesContent(get(item, "content"))
    case "function_call":
      return [toolCallPart(get(item, "call_id"), get(item, "name"), parseArguments(get(item, "arguments")))]
    case "custom_tool_call":
      return [toolCallPart(get(item, "call_id"), get(item, "name"), str(get(item, "input")))]
    case "reasoning": {
      const parts: Array<Part> = []
      for (const summary of items(get(item, "summary"), maxContentParts) ?? []) {
        push(parts, reasoningPart(at(summary, "text")))
      }
      for (const content of items(get(item, "content"), maxContentParts) ?? []) {
        push(parts, reasoningPart(at(content, "text")))
      }
      return parts
    }
    case "web_search_call":
      return [serverToolCallPart(id, "web_search", defined({ type: "web_search", action: get(item, "action") }))]
    case "file_search_call": {
      const call = defined({ type: "file_search", queries: get(item, "queries") })
      const parts = [serverToolCallPart(id, "file_search", call)]
      const results = get(item, "results")
      if (results !== undefined && results !== null) {
        parts.push(serverToolResponsePart(id, { type: "file_search", results }))
      }
      return parts
    }
    case "code_interpreter_call": {
      const call = {
        type: "code_interpreter",
        code: str(get(item, "code")),
        container_id: str(get(item, "container_id"))
      }
      const parts = [serverToolCallPart(id, "code_interpreter", call)]
      const outputs = get(item, "outputs")
      if (outputs !== undefined && outputs !== null) {
        parts.push(serverToolResponsePart(id, { type: "code_interpreter", outputs }))
      }
      return parts
    }
    case "image_generation_call": {
      const parts = [serverToolCallPart(id, "image_generation", { type: "image_generation" })]
      if (typeof get(item, "result") === "string") parts.push(blobPart("image", undefined))
      return parts
    }
    case "mcp_call": {
      const call = defined({
        type: "mcp",
        server_label: str(get(item, "server_label")),
        arguments: parseArguments(get(item, "arguments"))
      })
      const parts = [serverToolCallPart(id, str(get(item, "name")) ?? "mcp", call)]
      const output = get(item, "output")
      const error = get(item, "error")
      if ((output !== undefined && output !== null) || (error !== undefined && error !== null)) {
        parts.push(
          serverToolResponsePart(
            id,
            defined({ type: "mcp", output: str(output) ?? output, error: str(error) ?? error })
          )
        )
      }
      return parts
    }
    default: {
      const tool = typeof type === "string" && Object.prototype.hasOwnProperty.call(clientToolCalls, type)
        ? clientToolCalls[type]
        : undefined
      if (tool !== undefined) return [toolCallPart(get(item, "call_id"), tool.name, get(item, tool.field))]
      const part = otherPart(type, id)
      return part === undefined ? undefined : [part]
    }
  }
}

/** Items that answer a client-side tool call: each is a `tool` message, as a chat tool message is. */
const toolOutputItems = new Set([
  "function_call_output",
  "custom_tool_call_output",
  "computer_call_output",
  "local_shell_call_output",
  "shell_call_output",
  "apply_patch_call_output"
])

/**
 * A Responses conversation, item by item. The items of one assistant turn (reasoning, its message, its tool calls)
 * come as items of their own: they are gathered into one assistant message, as Chat Completions sends them, until
 * another role speaks (a second assistant message item starts a new turn).
 */
const responsesItems = (list: ReadonlyArray<unknown>): Array<Message> => {
  const out: Array<Message> = []
  let turn: { readonly message: Message; hasMessage: boolean } | undefined
  const assistant = (parts: ReadonlyArray<Part>, isMessage: boolean) => {
    if (turn === undefined || (isMessage && turn.hasMessage)) {
      turn = { message: { role: "assistant", parts: [] }, hasMessage: false }
      out.push(turn.message)
    }
    if (isMessage) turn.hasMessage = true
    for (const part of parts) push(turn.message.parts, part)
  }
  for (const item of list) {
    guarded(() => {
      if (!isRecord(item)) return
      const type = get(item, "type")
      const role = get(item, "role")
      if (type === "message" || (type === undefined && role !== undefined)) {
        const name = str(role)
        if (name === undefined) return
        const parts = responsesContent(get(item, "content"))
        if (name === "assistant") return assistant(parts, true)
        turn = undefined
        out.push({ role: name, parts })
        return
      }
      if (typeof type === "string" && toolOutputItems.has(type)) {
        turn = undefined
        const id = get(item, "call_id") ?? get(item, "id")
        out.push({ role: "tool", parts: [toolResponsePart(id, responsesToolOutput(get(item, "output")))] })
        return
      }
      // a reference to an earlier item carries no content of its own
      if (type === "item_reference") return
      const parts = responsesItemParts(item)
      if (parts !== undefined) assistant(parts, false)
    })
  }
  return out
}

/** `instructions` of a request (text), or of a response echoed back (a list of input items). */
const responsesInstructions = (instructions: unknown): Array<Part> | undefined => {
  if (typeof instructions === "string") return withPart(textPart(instructions))
  const list = items(instructions, maxContentMessages)
  if (list === undefined) return undefined
  const parts: Array<Part> = []
  for (const message of responsesItems(list)) for (const part of message.parts) push(parts, part)
  return parts
}

const responsesRequest = (request: Record<string, unknown>): FromRequest => {
  const system = responsesInstructions(get(request, "instructions"))
  const input = get(request, "input")
  const messages: Array<Message> | undefined = typeof input === "string"
    ? [{ role: "user", parts: withPart(textPart(input)) }]
    : guarded(() => {
      const list = items(input, maxContentMessages, true)
      return list === undefined ? undefined : responsesItems(list)
    })
  return requestContent(system, messages)
}

/** A response: one output message, all its output items' parts in order. */
const responsesResponse = (response: Record<string, unknown>): ReadonlyArray<OutputMessage> => {
  const parts: Array<Part> = []
  for (const item of items(get(response, "output"), maxContentParts) ?? []) {
    for (const part of guarded(() => responsesItemParts(item)) ?? []) push(parts, part)
  }
  const reason = at(get(response, "incomplete_details"), "reason")
  return [{ role: "assistant", parts, finish_reason: responsesFinish(get(response, "status"), reason, parts) }]
}

// Anthropic Messages -----------------------------------------------------------------------------------------------

const imageSource = (source: unknown): Part | undefined => {
  if (!isRecord(source)) return undefined
  switch (get(source, "type")) {
    case "base64":
      return blobPart("image", get(source, "media_type"))
    case "url":
      return urlPart("image", get(source, "url"))
    case "file":
      return filePart("image", get(source, "file_id"))
    default:
      return undefined
  }
}

/** A document block: its text when it is text, a reference or a blob without bytes otherwise. */
const documentParts = (block: Record<string, unknown>, parts: Array<Part>): void => {
  const source = get(block, "source")
  if (!isRecord(source)) return push(parts, otherPart("document"))
  switch (get(source, "type")) {
    case "base64": {
      const mime = str(get(source, "media_type"))
      return push(parts, blobPart(fileModality(mime), mime))
    }
    case "text":
      return push(parts, textPart(get(source, "data")))
    case "content": {
      const content = get(source, "content")
      if (typeof content === "string") return push(parts, textPart(content))
      for (const inner of items(content, maxContentParts) ?? []) guarded(() => anthropicBlockParts(inner, parts))
      return
    }
    case "url":
      return push(parts, urlPart("document", get(source, "url")))
    case "file":
      return push(parts, filePart("document", get(source, "file_id")))
    default:
      return push(parts, otherPart("document"))
  }
}

/** The blocks of a tool result or of a search result, read as parts. */
const blockList = (content: unknown): Array<Part> => {
  const parts: Array<Part> = []
  for (const block of items(content, maxContentParts) ?? []) guarded(() => anthropicBlockParts(block, parts))
  return parts
}

/** A web search's results: what was found, without the opaque `encrypted_content` the API sends back to itself. */
const webSearchResults = (content: unknown): unknown => {
  const list = items(content, maxContentParts)
  if (list === undefined) return content
  return list.map((result) => {
    if (!isRecord(result)) return null
    const read = (key: string) => str(get(result, key))
    return defined({ type: read("type"), title: read("title"), url: read("url"), page_age: read("page_age") })
  })
}

/** A web fetch's result: the page's URL and its document, read as parts (a PDF without its bytes). */
const webFetchResult = (content: unknown): unknown => {
  if (!isRecord(content) || get(content, "type") !== "web_fetch_result") return content
  const document = get(content, "content")
  const parts: Array<Part> = []
  if (isRecord(document)) documentParts(document, parts)
  return defined({
    type: "web_fetch_result",
    url: str(get(content, "url")),
    retrieved_at: str(get(content, "retrieved_at")),
    content: parts
  })
}

/** A `*_tool_result` block of a tool the API ran: a `server_tool_call_response` named after the tool. */
const serverToolResult = (block: Record<string, unknown>, type: string): Part => {
  const tool = type.slice(0, -"_tool_result".length)
  const content = get(block, "content")
  const read = tool === "web_search"
    ? webSearchResults(content)
    : tool === "web_fetch"
    ? webFetchResult(content)
    : content
  return serverToolResponsePart(get(block, "tool_use_id"), { type: tool, content: read })
}

/** One content block (request or response side) read as parts. */
export const anthropicBlockParts = (block: unknown, parts: Array<Part>): void => {
  if (typeof block === "string") return push(parts, textPart(block))
  if (!isRecord(block)) return
  const type = get(block, "type")
  switch (type) {
    case "text":
      return push(parts, textPart(get(block, "text")))
    case "image":
      return push(parts, imageSource(get(block, "source")) ?? otherPart(type))
    case "document":
      return documentParts(block, parts)
    case "thinking":
      return push(parts, reasoningPart(get(block, "thinking")))
    case "compaction":
      // the API's own summary of the conversation so far, which it sends back in place of the history
      return push(parts, contentPart("compaction", get(block, "content")))
    case "redacted_thinking":
      // encrypted reasoning: that there was some, not its data
      return push(parts, { type: "redacted_thinking" })
    case "tool_use":
      return push(parts, toolCallPart(get(block, "id"), get(block, "name"), get(block, "input")))
    case "tool_result": {
      // `content` is optional: a tool that answered nothing
      const content = get(block, "content") ?? ""
      const response = typeof content === "string" || items(content, 0) === undefined
        ? str(content) ?? content
        : blockList(content)
      return push(parts, toolResponsePart(get(block, "tool_use_id"), response))
    }
    case "server_tool_use": {
      const name = str(get(block, "name")) ?? "server_tool"
      return push(parts, serverToolCallPart(get(block, "id"), name, { type: name, input: get(block, "input") }))
    }
    case "search_result":
      return push(
        parts,
        defined({
          type: "search_result",
          source: str(get(block, "source")),
          title: str(get(block, "title")),
          content: blockList(get(block, "content"))
        }) as Part
      )
    default:
      if (typeof type === "string" && type.endsWith("_tool_result")) return push(parts, serverToolResult(block, type))
      return push(parts, otherPart(type))
  }
}

const anthropicContent = (content: unknown): Array<Part> =>
  typeof content === "string" ? withPart(textPart(content)) : blockList(content)

const anthropicMessage = (message: unknown): Message | undefined => {
  if (!isRecord(message)) return undefined
  const role = str(get(message, "role"))
  return role === undefined ? undefined : { role, parts: anthropicContent(get(message, "content")) }
}

const anthropicRequest = (request: Record<string, unknown>, messages: ReadonlyArray<unknown>): FromRequest => {
  const system = get(request, "system")
  const instructions = system === undefined || system === null ? undefined : anthropicContent(system)
  return requestContent(instructions, messagesOf(messages, anthropicMessage))
}

const anthropicResponse = (response: Record<string, unknown>): ReadonlyArray<OutputMessage> => [{
  role: str(get(response, "role")) ?? "assistant",
  parts: anthropicContent(get(response, "content")),
  finish_reason: anthropicFinish(get(response, "stop_reason")) ?? unknownReason
}]

/** Block types only the Messages API sends: a request holding one is Anthropic's, whatever its vendor says. */
const anthropicOnly = new Set([
  "image",
  "document",
  "tool_use",
  "tool_result",
  "thinking",
  "redacted_thinking",
  "server_tool_use",
  "search_result",
  "container_upload"
])

const isAnthropicBlock = (block: unknown): boolean => {
  const type = at(block, "type")
  return typeof type === "string" && (anthropicOnly.has(type) || type.endsWith("_tool_result"))
}

/** Chat Completions features the Messages API lacks: a request with one is Chat Completions', whatever its vendor. */
const chatOnlyRoles = new Set(["tool", "function", "developer"])
const chatOnlyParts = new Set(["image_url", "input_audio", "file", "refusal"])

const isChatMessage = (message: unknown): boolean => {
  const role = at(message, "role")
  if (typeof role === "string" && chatOnlyRoles.has(role)) return true
  if (at(message, "tool_calls") !== undefined) return true
  return (items(at(message, "content"), maxContentParts) ?? []).some((part) => {
    const type = at(part, "type")
    return typeof type === "string" && chatOnlyParts.has(type)
  })
}

/**
 * A Messages request by its shape: a top-level `system` (Chat Completions has none), Bedrock's `anthropic_version`,
 * or a block type of Anthropic's own in a message. For the `"anthropic"` vendor, any request without a feature of
 * Chat Completions' own (Anthropic also serves an OpenAI-compatible endpoint).
 */
const isAnthropicRequest = (request: Record<string, unknown>, messages: ReadonlyArray<unknown>, vendor: string) => {
  if (get(request, "system") !== undefined || get(request, "anthropic_version") !== undefined) return true
  if (messages.some((message) => (items(at(message, "content"), maxContentParts) ?? []).some(isAnthropicBlock))) {
    return true
  }
  return vendor === "anthropic" && !messages.some(isChatMessage)
}

// Entry points -----------------------------------------------------------------------------------------------------

type FromRequest = { readonly system?: ReadonlyArray<Part>; readonly input?: ReadonlyArray<InputMessage> } | undefined

const guarded = <A>(f: () => A): A | undefined => {
  try {
    return f()
  } catch {
    return undefined
  }
}

const messagesOf = (list: ReadonlyArray<unknown>, read: (message: unknown) => Message | undefined): Array<Message> => {
  const out: Array<Message> = []
  for (const message of list) {
    const one = guarded(() => read(message))
    if (one !== undefined) out.push(one)
  }
  return out
}

const requestContent = (
  system: ReadonlyArray<Part> | undefined,
  input: ReadonlyArray<Message> | undefined
): FromRequest => {
  const out: { system?: ReadonlyArray<Part>; input?: ReadonlyArray<InputMessage> } = {}
  if (system !== undefined && system.length > 0) out.system = system
  if (input !== undefined && input.length > 0) out.input = input
  return out.system === undefined && out.input === undefined ? undefined : out
}

/**
 * A request's system instructions and input messages. The API is told by the request's shape: `messages` is Chat
 * Completions' or, for the `"anthropic"` vendor or a request shaped as one, Anthropic's; `input` / `instructions`
 * is the Responses API's. System and developer messages of Chat Completions stay in the input messages (they are
 * part of the history as sent); Responses `instructions` and Anthropic's `system` are the system instructions.
 *
 * @internal
 */
export const fromRequest = (request: unknown, vendor: string): FromRequest =>
  guarded(() => {
    if (!isRecord(request)) return undefined
    const list = items(get(request, "messages"), maxContentMessages, true)
    if (list !== undefined) {
      if (isAnthropicRequest(request, list, vendor)) return anthropicRequest(request, list)
      return requestContent(undefined, messagesOf(list, chatMessage))
    }
    if (get(request, "input") !== undefined || get(request, "instructions") !== undefined) {
      return responsesRequest(request)
    }
    return undefined
  })

/**
 * A response's output messages, by its shape: a Chat Completions `chat.completion` (one message per choice), a
 * Responses `response` or an Anthropic `message` (one message each).
 *
 * @internal
 */
export const fromResponse = (response: unknown): ReadonlyArray<OutputMessage> | undefined =>
  guarded(() => {
    if (!isRecord(response)) return undefined
    const object = get(response, "object")
    if (object === "chat.completion") return chatResponse(response)
    if (object === "response") return responsesResponse(response)
    if (get(response, "type") === "message" && Array.isArray(get(response, "content"))) {
      return anthropicResponse(response)
    }
    if (object === undefined && Array.isArray(get(response, "choices"))) return chatResponse(response)
    return undefined
  })
