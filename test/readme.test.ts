/**
 * Every ```ts block in the README compiles against the package source.
 *
 * Each block becomes a virtual module in `examples/` (so that `../src/index.js` resolves as it does in the
 * examples; `@botanu/effect` is mapped to `src/index.ts`, `@botanu/effect/EffectAi` to `src/EffectAi.ts`) and all
 * of them are type-checked in one TypeScript program with the project's compiler options. A README snippet is a
 * fragment, so each block gets, before its own code:
 *
 * - `header`: imports of the usual names (effect, the SDKs, @effect/vitest, the package's exports), minus the names
 *   the block imports itself;
 * - `stubs`: `declare`d stand-ins for what a snippet takes as given (`client`, `params`, `ticket`, ...), minus the
 *   names the block declares itself;
 * - a block with a top-level `yield*` (an excerpt of a generator) is wrapped in `Effect.gen` with a `tracker`.
 *
 * Unused names are allowed (`noUnusedLocals: false`): the header imports more than any block uses. A failure names
 * the README line of the offending code.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import ts from "typescript"
import { root } from "./utils/examples.js"

interface Block {
  /** README line of the block's first line of code. */
  readonly line: number
  readonly code: string
}

const readmeBlocks = (readme: string): Array<Block> => {
  const blocks: Array<Block> = []
  const lines = readme.split("\n")
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```ts") continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end].trim() !== "```") end++
    blocks.push({ line: start + 1, code: lines.slice(start, end).join("\n") })
    i = end
  }
  return blocks
}

const headerImports: ReadonlyArray<readonly [string, ReadonlyArray<string>, "named" | "default"]> = [
  ["@anthropic-ai/sdk", ["Anthropic"], "default"],
  ["openai", ["OpenAI"], "default"],
  ["@effect/vitest", ["assert", "describe", "it"], "named"],
  ["effect", ["Data", "Duration", "Effect", "Layer", "Option", "Schedule", "Stream"], "named"],
  ["../src/index.js", [
    "Attributes",
    "botanuWorkflow",
    "Budget",
    "CostLedger",
    "currentRun",
    "emitOutcome",
    "fallbackTracked",
    "HttpPropagation",
    "llmInstrumented",
    "LlmStream",
    "LlmTracker",
    "Metrics",
    "Outcome",
    "Pricing",
    "retryTracked",
    "Tracking",
    "TrackingTest",
    "trackLlmCall",
    "trackLlmStream",
    "trackToolCall",
    "ToolTracker",
    "Usage",
    "Workflow"
  ], "named"]
]

const stubs: ReadonlyArray<readonly [string, string]> = [
  ["callClaude", "declare const callClaude: Effect.Effect<string, Error>"],
  ["Ticket", "interface Ticket { readonly id: string; readonly customerId: string }"],
  ["ticket", "declare const ticket: Ticket"],
  ["client", "declare const client: OpenAI"],
  ["params", "declare const params: OpenAI.ChatCompletionCreateParamsNonStreaming"],
  [
    "callProvider",
    "declare const callProvider: (params: { model: string; question: string }) => Effect.Effect<string>"
  ],
  ["events", "declare const events: Stream.Stream<Anthropic.MessageStreamEvent>"],
  ["model", "declare const model: string"],
  ["program", "declare const program: Effect.Effect<void>"],
  ["summarize", "declare const summarize: (text: string) => Effect.Effect<string>"]
]

/** Names a block brings in or declares at its top level: the header and stubs must not clash with them. */
const ownNames = (code: string): Set<string> => {
  const names = new Set<string>()
  for (const match of code.matchAll(/^import\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const name of match[1].split(",")) names.add(name.trim().split(/\s+as\s+/).pop()!)
  }
  for (const match of code.matchAll(/^import\s+(\w+)\s+from/gm)) names.add(match[1])
  for (const match of code.matchAll(/^(?:export\s+)?(?:const|let|class|interface|type|function\*?)\s+(\w+)/gm)) {
    names.add(match[1])
  }
  return names
}

/** The block as a module: header, stubs, then the code (wrapped when it is a generator excerpt). */
const moduleOf = (block: Block): { readonly text: string; readonly offset: number } => {
  const own = ownNames(block.code)
  const prefix: Array<string> = []
  for (const [from, names, kind] of headerImports) {
    const wanted = names.filter((name) => !own.has(name))
    if (wanted.length === 0) continue
    prefix.push(
      kind === "default" ? `import ${wanted[0]} from "${from}"` : `import { ${wanted.join(", ")} } from "${from}"`
    )
  }
  for (const [name, declaration] of stubs) if (!own.has(name)) prefix.push(declaration)
  // Makes the block a module even when it neither imports nor exports.
  prefix.push("export {}")
  const excerpt = /^yield\*/m.test(block.code)
  if (excerpt) prefix.push("export const __block = Effect.gen(function*() {", "const tracker = yield* LlmTracker")
  const text = `${prefix.join("\n")}\n${block.code}\n${excerpt ? "})\n" : ""}`
  return { text, offset: prefix.length }
}

const compilerOptions = (): ts.CompilerOptions => {
  const file = path.join(root, "tsconfig.json")
  const config = ts.readConfigFile(file, ts.sys.readFile)
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  return {
    ...parsed.options,
    noEmit: true,
    noUnusedLocals: false,
    paths: { "@botanu/effect": ["./src/index.ts"], "@botanu/effect/EffectAi": ["./src/EffectAi.ts"] },
    baseUrl: root
  }
}

describe("README.md", () => {
  it("every ```ts block compiles against the package source", () => {
    const blocks = readmeBlocks(readFileSync(path.join(root, "README.md"), "utf8"))
    assert.isAtLeast(blocks.length, 10)
    const virtual = new Map<string, { readonly block: Block; readonly text: string; readonly offset: number }>()
    blocks.forEach((block, index) => {
      virtual.set(path.join(root, "examples", `__readme_block_${index + 1}.ts`), { block, ...moduleOf(block) })
    })
    const options = compilerOptions()
    const host = ts.createCompilerHost(options)
    const { fileExists, getSourceFile, readFile } = host
    host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists.call(host, file)
    host.readFile = (file) => virtual.get(path.resolve(file))?.text ?? readFile.call(host, file)
    host.getSourceFile = (file, language, ...rest) => {
      const entry = virtual.get(path.resolve(file))
      return entry === undefined
        ? getSourceFile.call(host, file, language, ...rest)
        : ts.createSourceFile(file, entry.text, language, true, ts.ScriptKind.TS)
    }
    const program = ts.createProgram([...virtual.keys()], options, host)
    const failures: Array<string> = []
    for (const [file, entry] of virtual) {
      const source = program.getSourceFile(file)!
      const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
      for (const diagnostic of diagnostics) {
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")
        const line = diagnostic.start === undefined
          ? undefined
          : source.getLineAndCharacterOfPosition(diagnostic.start).line
        const readmeLine = line === undefined || line < entry.offset
          ? `${entry.block.line} (in the header added to the block)`
          : String(entry.block.line + line - entry.offset)
        failures.push(`README.md:${readmeLine}: ${message}`)
      }
    }
    assert.deepStrictEqual(failures, [])
  }, 120_000)
})
