import type { OutputMessage, Part } from "../Content.js"
import * as from from "./contentFrom.js"
import { cut, maxContentParts, maxContentReadChars, maxListItems, truncatedMarker } from "./limits.js"
import { isRecord } from "./sanitize.js"
import { detect } from "./streamUsage.js"

/**
 * Folds the chunks of one stream into the output messages it carried: the text deltas of each choice, its tool
 * calls' argument deltas, its reasoning, its finish reason. The API is told by the first chunk that shows it (see
 * `streamUsage.detect`): OpenAI Chat Completions chunks, Responses events and Anthropic Messages events are read;
 * the chunks of any other API leave no content.
 *
 * Memory stays bounded however long the stream runs: each string stops growing at `maxContentReadChars` (and is
 * cut with the marker), all of them together at `maxStreamChars`, and at most `maxListItems` choices and
 * `maxContentParts` blocks (output items, tool calls) per choice are kept. A chunk that throws when read is skipped;
 * nothing here throws.
 *
 * @internal
 */
export interface StreamContent {
  readonly observe: (chunk: unknown) => void
  /**
   * The output messages so far (`undefined` when no chunk of a known API came). `complete`: the stream ended on its
   * own; when not (abandoned, failed), a choice that never said why it ended has the finish reason `interrupted`.
   */
  readonly result: (complete: boolean) => ReadonlyArray<OutputMessage> | undefined
}

/** All the text one stream's accumulator keeps, together: a few times what any call's capture can record. */
export const maxStreamChars = 4 * maxContentReadChars

/** What is left of one stream's character budget, shared by its strings. */
interface Budget {
  left: number
}

/** A string that grows by deltas, up to its bounds; once cut, it ends with the marker. */
class Text {
  private value = ""
  private cutOff = false

  constructor(private readonly budget: Budget, initial?: unknown) {
    this.add(initial)
  }

  add(delta: unknown): void {
    if (typeof delta !== "string" || delta.length === 0 || this.cutOff) return
    const room = Math.min(maxContentReadChars - this.value.length, this.budget.left)
    const kept = delta.length > room ? delta.slice(0, Math.max(0, room)) : delta
    if (kept.length < delta.length) this.cutOff = true
    this.value += kept
    this.budget.left -= kept.length
  }

  /** Replaces what came so far with the whole value (a `.done` event carries it). */
  set(whole: unknown): void {
    if (typeof whole !== "string") return
    this.budget.left += this.value.length
    this.value = ""
    this.cutOff = false
    this.add(whole)
  }

  /** Nothing came (a string cut off before its first character is not empty: it holds the marker). */
  get empty(): boolean {
    return this.value.length === 0 && !this.cutOff
  }

  text(): string {
    return this.cutOff ? cut(this.value + truncatedMarker, maxContentReadChars) : this.value
  }

  /** Tool-call arguments: parsed when whole, the (marked) text when cut; none before any came. */
  arguments(): unknown {
    if (this.cutOff) return this.text()
    return this.value.length === 0 ? undefined : from.parseArguments(this.value)
  }
}

/** A map that takes at most `max` keys: what a chunk sends for another key past that is ignored. */
const slot = <K, V>(map: Map<K, V>, key: K, max: number, make: () => V): V | undefined => {
  const found = map.get(key)
  if (found !== undefined) return found
  if (map.size >= max) return undefined
  const made = make()
  map.set(key, made)
  return made
}

const sorted = <V>(map: Map<number, V>): Array<V> => [...map.entries()].sort(([a], [b]) => a - b).map(([, v]) => v)

const finishOf = (reason: string | undefined, complete: boolean): string =>
  reason ?? (complete ? from.unknownReason : from.interrupted)

interface Reader {
  readonly observe: (chunk: Record<string, unknown>) => void
  readonly result: (complete: boolean) => ReadonlyArray<OutputMessage>
}

// OpenAI Chat Completions ------------------------------------------------------------------------------------------

interface ChatToolCall {
  id?: string
  name?: string
  readonly args: Text
}

class ChatChoice {
  role: string | undefined
  finish: string | undefined
  readonly reasoning: Text
  readonly text: Text
  readonly refusal: Text
  readonly transcript: Text
  readonly tools = new Map<number, ChatToolCall>()
  // the deprecated `function_call`, streamed as `tool_calls` are but one per choice
  fn: ChatToolCall | undefined

  constructor(private readonly budget: Budget) {
    this.reasoning = new Text(budget)
    this.text = new Text(budget)
    this.refusal = new Text(budget)
    this.transcript = new Text(budget)
  }

  call(delta: Record<string, unknown>, existing: ChatToolCall | undefined): ChatToolCall {
    const call = existing ?? { args: new Text(this.budget) }
    const id = from.str(from.get(delta, "id"))
    if (id !== undefined && call.id === undefined) call.id = id
    const fn = from.get(delta, "function") ?? delta
    if (!isRecord(fn)) return call
    const name = from.str(from.get(fn, "name"))
    if (name !== undefined && call.name === undefined) call.name = name
    call.args.add(from.get(fn, "arguments"))
    return call
  }

  message(complete: boolean): OutputMessage {
    const parts: Array<Part> = []
    const text = (value: Text, type: string) => {
      if (!value.empty) from.push(parts, { type, content: value.text() })
    }
    text(this.reasoning, "reasoning")
    text(this.text, "text")
    text(this.refusal, "refusal")
    text(this.transcript, "text")
    const calls = this.fn === undefined ? sorted(this.tools) : [this.fn, ...sorted(this.tools)]
    for (const call of calls) from.push(parts, from.toolCallPart(call.id, call.name, call.args.arguments()))
    return { role: this.role ?? "assistant", parts, finish_reason: finishOf(this.finish, complete) }
  }
}

/** Chat Completions chunks: each choice's `delta` by its `index`, tool calls by theirs. */
const chatReader = (budget: Budget): Reader => {
  const choices = new Map<number, ChatChoice>()
  const observe = (chunk: Record<string, unknown>) => {
    const list = from.items(from.get(chunk, "choices"), maxListItems) ?? []
    list.forEach((item, position) => {
      if (!isRecord(item)) return
      const key = from.index(from.get(item, "index")) ?? position
      const choice = slot(choices, key, maxListItems, () => new ChatChoice(budget))
      if (choice === undefined) return
      const delta = from.get(item, "delta")
      if (isRecord(delta)) {
        choice.role ??= from.str(from.get(delta, "role"))
        choice.reasoning.add(from.get(delta, "reasoning_content"))
        choice.text.add(from.get(delta, "content"))
        choice.refusal.add(from.get(delta, "refusal"))
        const audio = from.get(delta, "audio")
        if (isRecord(audio)) choice.transcript.add(from.get(audio, "transcript"))
        const fn = from.get(delta, "function_call")
        if (isRecord(fn)) choice.fn = choice.call(fn, choice.fn)
        const calls = from.items(from.get(delta, "tool_calls"), maxContentParts) ?? []
        calls.forEach((call, at) => {
          if (!isRecord(call)) return
          const callKey = from.index(from.get(call, "index")) ?? at
          const existing = choice.tools.get(callKey)
          if (existing === undefined && choice.tools.size >= maxContentParts) return
          choice.tools.set(callKey, choice.call(call, existing))
        })
      }
      const reason = from.chatFinish(from.get(item, "finish_reason"))
      if (reason !== undefined) choice.finish = reason
    })
  }
  return {
    observe,
    result: (complete) => sorted(choices).map((choice) => choice.message(complete))
  }
}

// OpenAI Responses -------------------------------------------------------------------------------------------------

type ResponsesItem =
  | { readonly kind: "message"; readonly texts: Map<number, Text>; readonly refusal: Text }
  | { readonly kind: "call"; readonly custom: boolean; id: unknown; name: unknown; readonly args: Text }
  | { readonly kind: "reasoning"; readonly summaries: Map<number, Text>; readonly contents: Map<number, Text> }
  | { readonly kind: "done"; readonly parts: ReadonlyArray<Part> }

/**
 * Responses events: each output item by its `output_index`, built from its deltas and replaced by the whole item
 * when `response.output_item.done` hands it over; the terminal event's response, when it carries its output, is the
 * answer itself.
 */
const responsesReader = (budget: Budget): Reader => {
  const outputItems = new Map<number, ResponsesItem>()
  let final: Array<Part> | undefined
  let terminal: { readonly status: unknown; readonly reason: unknown } | undefined

  const item = (event: Record<string, unknown>, make: () => ResponsesItem): ResponsesItem | undefined => {
    const key = from.index(from.get(event, "output_index"))
    return key === undefined ? undefined : slot(outputItems, key, maxContentParts, make)
  }
  const message = (): ResponsesItem => ({ kind: "message", texts: new Map(), refusal: new Text(budget) })
  const reasoning = (): ResponsesItem => ({ kind: "reasoning", summaries: new Map(), contents: new Map() })
  const call = (custom: boolean, added?: Record<string, unknown>): ResponsesItem => ({
    kind: "call",
    custom,
    id: added === undefined ? undefined : from.get(added, "call_id"),
    name: added === undefined ? undefined : from.get(added, "name"),
    args: new Text(budget, added === undefined ? undefined : from.get(added, custom ? "input" : "arguments"))
  })
  const texts = (map: Map<number, Text>, key: unknown): Text | undefined =>
    slot(map, from.index(key) ?? 0, maxContentParts, () => new Text(budget))

  const added = (event: Record<string, unknown>) => {
    const value = from.get(event, "item")
    if (!isRecord(value)) return
    const type = from.get(value, "type")
    item(event, () => {
      switch (type) {
        case "message":
          return message()
        case "reasoning":
          return reasoning()
        case "function_call":
          return call(false, value)
        case "custom_tool_call":
          return call(true, value)
        default:
          // a tool the API runs: what the item says so far, until it is done
          return { kind: "done", parts: from.responsesItemParts(value) ?? [] }
      }
    })
  }

  const observe = (event: Record<string, unknown>) => {
    const type = from.get(event, "type")
    switch (type) {
      case "response.output_item.added":
        return added(event)
      case "response.output_item.done": {
        const parts = from.responsesItemParts(from.get(event, "item"))
        const key = from.index(from.get(event, "output_index"))
        if (parts === undefined || key === undefined) return
        if (outputItems.has(key) || outputItems.size < maxContentParts) outputItems.set(key, { kind: "done", parts })
        return
      }
      case "response.output_text.delta": {
        const target = item(event, message)
        if (target?.kind === "message") {
          texts(target.texts, from.get(event, "content_index"))?.add(from.get(event, "delta"))
        }
        return
      }
      case "response.refusal.delta": {
        const target = item(event, message)
        if (target?.kind === "message") target.refusal.add(from.get(event, "delta"))
        return
      }
      case "response.function_call_arguments.delta":
      case "response.custom_tool_call_input.delta": {
        const target = item(event, () => call(type === "response.custom_tool_call_input.delta"))
        if (target?.kind === "call") target.args.add(from.get(event, "delta"))
        return
      }
      case "response.function_call_arguments.done":
      case "response.custom_tool_call_input.done": {
        const custom = type === "response.custom_tool_call_input.done"
        const target = item(event, () => call(custom))
        if (target?.kind !== "call") return
        target.args.set(from.get(event, custom ? "input" : "arguments"))
        target.name ??= from.get(event, "name")
        return
      }
      case "response.reasoning_summary_text.delta": {
        const target = item(event, reasoning)
        if (target?.kind === "reasoning") {
          texts(target.summaries, from.get(event, "summary_index"))?.add(from.get(event, "delta"))
        }
        return
      }
      case "response.reasoning_text.delta": {
        const target = item(event, reasoning)
        if (target?.kind === "reasoning") {
          texts(target.contents, from.get(event, "content_index"))?.add(from.get(event, "delta"))
        }
        return
      }
      case "response.completed":
      case "response.incomplete":
      case "response.failed": {
        const response = from.get(event, "response")
        if (!isRecord(response)) return
        terminal = {
          status: from.get(response, "status"),
          reason: from.at(from.get(response, "incomplete_details"), "reason")
        }
        const output = from.items(from.get(response, "output"), maxContentParts)
        if (output === undefined || output.length === 0) return
        const parts: Array<Part> = []
        for (const value of output) for (const part of from.responsesItemParts(value) ?? []) from.push(parts, part)
        final = parts
        return
      }
    }
  }

  const accumulated = (): Array<Part> => {
    const parts: Array<Part> = []
    const text = (value: Text, type: string) => {
      if (!value.empty) from.push(parts, { type, content: value.text() })
    }
    for (const value of sorted(outputItems)) {
      switch (value.kind) {
        case "message":
          for (const t of sorted(value.texts)) text(t, "text")
          text(value.refusal, "refusal")
          break
        case "reasoning":
          for (const t of sorted(value.summaries)) text(t, "reasoning")
          for (const t of sorted(value.contents)) text(t, "reasoning")
          break
        case "call":
          from.push(
            parts,
            from.toolCallPart(value.id, value.name, value.custom ? value.args.text() : value.args.arguments())
          )
          break
        case "done":
          for (const part of value.parts) from.push(parts, part)
      }
    }
    return parts
  }

  return {
    observe,
    result: (complete) => {
      const parts = final ?? accumulated()
      const reason = terminal === undefined ? undefined : from.responsesFinish(terminal.status, terminal.reason, parts)
      return [{ role: "assistant", parts, finish_reason: finishOf(reason, complete) }]
    }
  }
}

// Anthropic Messages -----------------------------------------------------------------------------------------------

type AnthropicBlock =
  | { readonly kind: "text" | "reasoning" | "compaction"; readonly text: Text }
  | {
    readonly kind: "tool" | "server"
    readonly id: unknown
    readonly name: unknown
    readonly input: unknown
    readonly json: Text
    stopped: boolean
  }
  | { readonly kind: "done"; readonly parts: ReadonlyArray<Part> }

/**
 * Messages events: each content block by its `index`, started whole by `content_block_start` and grown by
 * `content_block_delta` (text, thinking, a tool's input as JSON text); `message_delta` carries the stop reason.
 */
const anthropicReader = (budget: Budget): Reader => {
  const blocks = new Map<number, AnthropicBlock>()
  let role: string | undefined
  let stop: string | undefined

  const start = (block: unknown): AnthropicBlock => {
    if (!isRecord(block)) return { kind: "done", parts: [] }
    const type = from.get(block, "type")
    switch (type) {
      case "text":
        return { kind: "text", text: new Text(budget, from.get(block, "text")) }
      case "thinking":
        return { kind: "reasoning", text: new Text(budget, from.get(block, "thinking")) }
      case "compaction":
        return { kind: "compaction", text: new Text(budget, from.get(block, "content")) }
      case "tool_use":
      case "server_tool_use":
        return {
          kind: type === "tool_use" ? "tool" : "server",
          id: from.get(block, "id"),
          name: from.get(block, "name"),
          input: from.get(block, "input"),
          json: new Text(budget),
          stopped: false
        }
      default: {
        const parts: Array<Part> = []
        from.anthropicBlockParts(block, parts)
        return { kind: "done", parts }
      }
    }
  }

  const observe = (event: Record<string, unknown>) => {
    switch (from.get(event, "type")) {
      case "message_start":
        role ??= from.str(from.at(from.get(event, "message"), "role"))
        return
      case "content_block_start": {
        const key = from.index(from.get(event, "index"))
        if (key === undefined || (!blocks.has(key) && blocks.size >= maxContentParts)) return
        blocks.set(key, start(from.get(event, "content_block")))
        return
      }
      case "content_block_delta": {
        const key = from.index(from.get(event, "index"))
        const delta = from.get(event, "delta")
        if (key === undefined || !isRecord(delta)) return
        const kind = from.get(delta, "type")
        // a delta whose block start was missed: text and thinking can still be told apart
        const block = slot(blocks, key, maxContentParts, (): AnthropicBlock => ({
          kind: kind === "thinking_delta" ? "reasoning" : kind === "compaction_delta" ? "compaction" : "text",
          text: new Text(budget)
        }))
        if (block === undefined) return
        if (kind === "text_delta" && block.kind === "text") block.text.add(from.get(delta, "text"))
        else if (kind === "thinking_delta" && block.kind === "reasoning") block.text.add(from.get(delta, "thinking"))
        else if (kind === "compaction_delta" && block.kind === "compaction") block.text.add(from.get(delta, "content"))
        else if (kind === "input_json_delta" && (block.kind === "tool" || block.kind === "server")) {
          block.json.add(from.get(delta, "partial_json"))
        }
        return
      }
      case "content_block_stop": {
        const block = blocks.get(from.index(from.get(event, "index")) ?? -1)
        if (block?.kind === "tool" || block?.kind === "server") block.stopped = true
        return
      }
      case "message_delta": {
        const delta = from.get(event, "delta")
        const reason = isRecord(delta) ? from.anthropicFinish(from.get(delta, "stop_reason")) : undefined
        if (reason !== undefined) stop = reason
        return
      }
    }
  }

  const result = (complete: boolean): ReadonlyArray<OutputMessage> => {
    const parts: Array<Part> = []
    for (const block of sorted(blocks)) {
      switch (block.kind) {
        case "text":
        case "reasoning":
        case "compaction":
          if (!block.text.empty) from.push(parts, { type: block.kind, content: block.text.text() })
          break
        case "tool":
        case "server": {
          // The input streams as JSON text after a start that holds `{}`: a block that ended without any (a tool
          // without parameters) keeps its start's, one cut off before any has none yet.
          const input = !block.json.empty
            ? block.json.arguments()
            : block.stopped || complete
            ? block.input
            : undefined
          const name = from.str(block.name) ?? "server_tool"
          from.push(
            parts,
            block.kind === "tool"
              ? from.toolCallPart(block.id, block.name, input)
              : from.serverToolCallPart(block.id, name, { type: name, input })
          )
          break
        }
        case "done":
          for (const part of block.parts) from.push(parts, part)
      }
    }
    return [{ role: role ?? "assistant", parts, finish_reason: finishOf(stop, complete) }]
  }

  return { observe, result }
}

// -----------------------------------------------------------------------------------------------------------------

const readers: Partial<Record<string, (budget: Budget) => Reader>> = {
  "openai.chat": chatReader,
  "openai.responses": responsesReader,
  "anthropic.messages": anthropicReader
}

/**
 * A fresh accumulator for one run of a stream.
 *
 * @internal
 */
export const make = (): StreamContent => {
  const budget: Budget = { left: maxStreamChars }
  let reader: Reader | undefined
  // the API of the first chunk that shows one; chunks of no known API leave nothing
  let api: string | undefined
  return {
    observe: (chunk) => {
      try {
        if (api === undefined) {
          const detected = detect(chunk)
          if (detected === undefined) return
          api = detected
          reader = readers[detected]?.(budget)
        }
        if (reader !== undefined && isRecord(chunk)) reader.observe(chunk)
      } catch {
        // a chunk that throws when read is skipped
      }
    },
    result: (complete) => {
      try {
        const messages = reader?.result(complete)
        return messages !== undefined && messages.length > 0 ? messages : undefined
      } catch {
        return undefined
      }
    }
  }
}
