import type * as OtelApi from "@opentelemetry/api"
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import {
  GenAiInputMessages,
  GenAiOutputMessages,
  GenAiSystemInstructions,
  GenAiToolCallArguments,
  GenAiToolCallResult
} from "../Attributes.js"
import { defaultRedactor, type Redactor, redactWith } from "./redact.js"

/** @internal */
export interface ConsoleOptions {
  /** Receives each printed block (one tree), without a trailing newline. */
  readonly write: (text: string) => void
  /** The width to wrap at, read at each block: a terminal may be resized. */
  readonly columns: () => number
  readonly colors: boolean
  /** Spans held (ended ones waiting for their root, and running ones) before the oldest tree is printed early. */
  readonly maxHeldSpans?: number | undefined
  /**
   * Applied to the error text printed (status descriptions, exception messages), also of a running span printed at
   * a flush, which no span processor has redacted yet. Defaults to the built-in redactor.
   */
  readonly redactor?: Redactor | undefined
  /** Whether the captured content attributes (messages, instructions, tool arguments and results) are printed. */
  readonly content?: boolean | undefined
}

/** What content capture writes: printed only when asked, a terminal and its scrollback being easy to share. */
const contentKeys: ReadonlySet<string> = new Set([
  GenAiSystemInstructions,
  GenAiInputMessages,
  GenAiOutputMessages,
  GenAiToolCallArguments,
  GenAiToolCallResult
])

/** @internal */
export const defaultMaxHeldSpans = 10_000

/** An item longer than a line (a huge attribute value, a long error) gets lines of its own, at most this many. */
const maxLinesPerItem = 4
/** Deeply nested spans keep at least this many columns for their text, even past the width. */
const minTextColumns = 20
/** How many names of printed spans are remembered, to name the parent of a span that ends after it. */
const rememberedNames = 1_024

const statusCodeError = 2

// --- styled text ------------------------------------------------------------------------------------------------

type Style = "bold" | "dim" | "red" | "green" | "yellow"

const sgr: Record<Style, readonly [open: string, close: string]> = {
  bold: ["\x1b[1m", "\x1b[22m"],
  dim: ["\x1b[2m", "\x1b[22m"],
  red: ["\x1b[31m", "\x1b[39m"],
  green: ["\x1b[32m", "\x1b[39m"],
  yellow: ["\x1b[33m", "\x1b[39m"]
}

interface Segment {
  readonly text: string
  readonly style: Style | undefined
}

/** A unit of layout (a name, a `key=value` pair, an event): lines break between items, not inside one. */
interface Item {
  readonly segments: ReadonlyArray<Segment>
  readonly length: number
  /** Joined to the item before by one space rather than two (an error message after `ERROR`). */
  readonly glue: boolean
}

const makeItem = (glue: boolean, ...segments: ReadonlyArray<readonly [string, Style?]>): Item => {
  let length = 0
  for (const [text] of segments) length += text.length
  return { segments: segments.map(([text, style]) => ({ text, style })), length, glue }
}

// Values are printed on one line and must not move the cursor or change colours: control characters are escaped.
const controlCharacters = /[\u0000-\u001f\u007f]/g
const escapes: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }
const clean = (text: string): string =>
  text.replace(
    controlCharacters,
    (character) => escapes[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`
  )

const formatValue = (value: OtelApi.AttributeValue | undefined): string =>
  clean(Array.isArray(value) ? `[${value.join(", ")}]` : String(value))

const formatDuration = (span: ReadableSpan): string => {
  const ms = span.duration[0] * 1e3 + span.duration[1] / 1e6
  return ms < 1000 ? `${ms.toFixed(1)}ms` : `${(ms / 1000).toFixed(2)}s`
}

const startsBefore = (a: Node, b: Node): number =>
  a.span.startTime[0] - b.span.startTime[0] || a.span.startTime[1] - b.span.startTime[1]

/** The lines of one block, laid out to a width. */
class Block {
  readonly lines: Array<string> = []

  constructor(private readonly width: number, private readonly colors: boolean) {}

  paint(text: string, style: Style | undefined): string {
    return this.colors && style !== undefined && text.length > 0 ? sgr[style][0] + text + sgr[style][1] : text
  }

  private paintRange(item: Item, from: number, to: number): string {
    let out = ""
    let offset = 0
    for (const segment of item.segments) {
      const start = Math.max(from, offset)
      const end = Math.min(to, offset + segment.text.length)
      if (start < end) out += this.paint(segment.text.slice(start - offset, end - offset), segment.style)
      offset += segment.text.length
    }
    return out
  }

  /**
   * Lays items out after `first` (the prefix of the first line) and `rest` (of the lines after it): as many items
   * on a line as fit, two spaces apart; an item longer than a line starts a line and is broken at spaces (else at
   * the width) over at most `maxLinesPerItem` lines, the lines after its first indented by two, the rest cut with
   * `…`.
   */
  layout(first: string, rest: string, items: ReadonlyArray<Item>): void {
    let prefix = first
    let line = ""
    let used = 0
    const room = () => Math.max(this.width - prefix.length, minTextColumns)
    const push = (text: string) => {
      this.lines.push(this.paint(prefix, "dim") + text)
      prefix = rest
    }
    for (const item of items) {
      const separator = used === 0 ? 0 : item.glue ? 1 : 2
      if (used + separator + item.length <= room()) {
        line += " ".repeat(separator) + this.paintRange(item, 0, item.length)
        used += separator + item.length
        continue
      }
      if (used > 0) push(line)
      line = ""
      used = 0
      const width = room()
      if (item.length <= width) {
        line = this.paintRange(item, 0, item.length)
        used = item.length
        continue
      }
      const text = item.segments.map((segment) => segment.text).join("")
      let start = 0
      for (let count = 1; start < text.length; count++) {
        // Continuation lines are indented, so that they do not read as the next item.
        const indent = count === 1 ? "" : "  "
        const lineWidth = width - indent.length
        if (text.length - start <= lineWidth) {
          push(indent + this.paintRange(item, start, text.length))
          break
        }
        if (count === maxLinesPerItem) {
          push(`${indent}${this.paintRange(item, start, start + lineWidth - 1)}…`)
          break
        }
        const space = text.lastIndexOf(" ", start + lineWidth)
        const end = space > start + lineWidth / 2 ? space : start + lineWidth
        push(indent + this.paintRange(item, start, end))
        start = end === space ? end + 1 : end
      }
    }
    if (used > 0) push(line)
  }
}

// --- the tree of spans ------------------------------------------------------------------------------------------

interface Node {
  readonly span: ReadableSpan
  readonly id: string
  /** Undefined for the top of a held tree. */
  parent: Node | undefined
  /** Held children, in the order they started. */
  children: Array<Node>
  /** Printed while running by a flush, attributes included: a later flush shows only its header. */
  shown: boolean
  /** Said after the status when the span tops a block. */
  note: string | undefined
}

/**
 * - `end`: the top has ended; running descendants are shown as running and printed on their own when they end.
 * - `flush`: everything held is printed; running spans stay held.
 * - `evict`: everything held is printed and forgotten (the held-span cap).
 */
type Mode = "end" | "flush" | "evict"

const hasNews = (node: Node): boolean => !node.shown || node.span.ended || node.children.some(hasNews)

/**
 * Prints each trace as a tree when its root ends: the root first, children in start order under tree guides, each
 * span's attributes sorted and wrapped to the width, then its events. A processor rather than an exporter because
 * the tree is only known from the spans' starts.
 *
 * A root is a span whose parent this processor did not see start (a remote parent, or none). Spans wait for their
 * root in memory, at most `maxHeldSpans` in all; past that the oldest tree is printed as it is, with a note.
 * `forceFlush` and `shutdown` print whatever is held. A span that ends after its parent was printed is printed on
 * its own, naming its parent.
 *
 * @internal
 */
export class ConsoleSpanProcessor implements SpanProcessor {
  private readonly nodes = new Map<string, Node>()
  /** The tops of held trees by span id, oldest first (a Map iterates in insertion order). */
  private readonly trees = new Map<string, Node>()
  /** Names of printed spans by span id, the most recent `rememberedNames`. */
  private readonly printed = new Map<string, string>()
  private readonly maxHeldSpans: number
  private readonly redactor: Redactor
  private readonly content: boolean
  private closed = false

  constructor(private readonly options: ConsoleOptions) {
    this.maxHeldSpans = Math.max(1, options.maxHeldSpans ?? defaultMaxHeldSpans)
    this.redactor = options.redactor ?? defaultRedactor
    this.content = options.content === true
  }

  onStart(span: Span): void {
    if (this.closed) return
    while (this.nodes.size >= this.maxHeldSpans) {
      const oldest = this.trees.values().next()
      if (oldest.done === true) break
      this.print(oldest.value, "evict", `printed early: more than ${this.maxHeldSpans} spans held`)
    }
    const id = span.spanContext().spanId
    const parentId = span.parentSpanContext?.spanId
    const parent = parentId === undefined ? undefined : this.nodes.get(parentId)
    const node: Node = { span, id, parent, children: [], shown: false, note: undefined }
    if (parent === undefined) {
      node.note = this.lateNote(parentId)
      this.trees.set(id, node)
    } else {
      parent.children.push(node)
    }
    this.nodes.set(id, node)
  }

  onEnd(span: ReadableSpan): void {
    if (this.closed) return
    const id = span.spanContext().spanId
    const node = this.nodes.get(id)
    if (node === undefined) {
      // Forgotten when its tree was printed early (or started before this processor): printed on its own.
      const note = this.lateNote(span.parentSpanContext?.spanId) ??
        (this.printed.has(id) ? "printed earlier while running" : undefined)
      this.print({ span, id, parent: undefined, children: [], shown: false, note }, "end", undefined)
    } else if (node.parent === undefined) {
      this.print(node, "end", undefined)
    }
  }

  forceFlush(): Promise<void> {
    if (!this.closed) this.printHeld("printed at flush")
    return Promise.resolve()
  }

  shutdown(): Promise<void> {
    if (!this.closed) {
      this.printHeld("printed at shutdown")
      this.closed = true
      this.nodes.clear()
      this.trees.clear()
      this.printed.clear()
    }
    return Promise.resolve()
  }

  private printHeld(note: string): void {
    for (const top of Array.from(this.trees.values())) {
      if (hasNews(top)) this.print(top, "flush", note)
    }
  }

  private lateNote(parentId: string | undefined): string | undefined {
    const name = parentId === undefined ? undefined : this.printed.get(parentId)
    return name === undefined ? undefined : `child of ${clean(name)}, printed earlier`
  }

  private remember(node: Node): void {
    this.nodes.delete(node.id)
    this.printed.set(node.id, node.span.name)
    if (this.printed.size > rememberedNames) this.printed.delete(this.printed.keys().next().value!)
  }

  private print(top: Node, mode: Mode, note: string | undefined): void {
    const columns = this.options.columns()
    const block = new Block(Number.isFinite(columns) && columns > 0 ? Math.floor(columns) : 80, this.options.colors)
    const notes = [top.note, note].filter((text) => text !== undefined)
    const forgotten: Array<Node> = []
    this.render(block, top, "", "", mode, notes.length === 0 ? undefined : notes.join("; "), forgotten)
    // Running spans (evicted) are remembered last: they are the likeliest parents of spans still to come.
    for (const node of forgotten) if (node.span.ended) this.remember(node)
    for (const node of forgotten) if (!node.span.ended) this.remember(node)
    if (top.span.ended || mode === "evict") this.trees.delete(top.id)
    this.options.write(block.lines.join("\n"))
  }

  private render(
    block: Block,
    node: Node,
    head: string,
    lead: string,
    mode: Mode,
    note: string | undefined,
    forgotten: Array<Node>
  ): void {
    const span = node.span
    const ended = span.ended
    const placeholder = mode === "end" && !ended
    const children = placeholder ? [] : node.children.length > 1 ? node.children.sort(startsBefore) : node.children
    const body = lead + (children.length > 0 ? "│ " : "  ")
    const interrupted = span.attributes["status.interrupted"] === true

    const header = [makeItem(false, [clean(span.name), "bold"])]
    if (!ended) {
      header.push(makeItem(false, ["running…", "yellow"]))
      if (placeholder) header.push(makeItem(false, ["(printed when it ends)", "dim"]))
    } else {
      header.push(makeItem(false, [formatDuration(span), "dim"]))
      if (interrupted) {
        header.push(makeItem(false, ["INTERRUPTED", "yellow"]))
      } else if (span.status.code === statusCodeError) {
        header.push(makeItem(false, ["ERROR", "red"]))
        const message = span.status.message ?? ""
        if (message.length > 0) header.push(makeItem(true, [clean(redactWith(this.redactor, message)), "red"]))
      } else {
        header.push(makeItem(false, ["OK", "green"]))
      }
    }
    if (note !== undefined) header.push(makeItem(false, [`(${note})`, "dim"]))
    block.layout(`${head}▸ `, body, header)

    if (ended || (!placeholder && !node.shown)) {
      const attributes = span.attributes
      const pairs: Array<Item> = []
      for (const key of Object.keys(attributes).sort()) {
        // The status says it already.
        if (interrupted && (key === "status.interrupted" || key === "span.label")) continue
        if (!this.content && contentKeys.has(key)) continue
        pairs.push(makeItem(false, [`${clean(key)}=`, "dim"], [formatValue(attributes[key])]))
      }
      block.layout(body, body, pairs)
      for (const event of span.events) {
        const message = event.attributes?.["exception.message"]
        block.layout(body, body, [
          makeItem(
            false,
            ["• ", "dim"],
            [clean(event.name)],
            [message === undefined ? "" : `: ${clean(redactWith(this.redactor, String(message)))}`]
          )
        ])
      }
    }

    for (let index = 0; index < children.length; index++) {
      const child = children[index]
      const last = index === children.length - 1
      const childLead = lead + (last ? "  " : "│ ")
      this.render(block, child, lead + (last ? "└─" : "├─"), childLead, mode, undefined, forgotten)
    }

    if (ended || mode === "evict") {
      forgotten.push(node)
      // Printed now: a child still running tops a tree of its own, printed when it ends.
      if (mode !== "evict") {
        for (const child of children) if (!child.span.ended) this.detach(child, span.name)
      }
    } else if (!placeholder) {
      node.shown = true
      node.children = node.children.filter((child) => !child.span.ended)
    }
  }

  private detach(node: Node, parentName: string): void {
    node.parent = undefined
    node.note = `child of ${clean(parentName)}, printed earlier`
    this.trees.set(node.id, node)
  }
}
