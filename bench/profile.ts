/**
 * Where a tracked call's time goes (issue 21): V8 CPU profiles of this library's contender of bench/peers.ts alone
 * and of its baseline alone (`Effect.tryPromise` of the same call, uninstrumented), each over its timed calls only,
 * summed by self time into packages (the Effect runtime, the @effect/opentelemetry bridge, the OTel SDK, the
 * library's modules, openai, Node, GC), in µs per call, and the difference: what tracking adds, and where.
 *
 * Run after `tsc -p tsconfig.bench.json`:
 *   `node .bench-build/bench/profile.js [--calls=N] [--context=none|als] [--top=N] [--out=FILE.md]`
 * The profiles are kept beside the summary (`FILE.library.cpuprofile`, `FILE.effect.cpuprofile`) for DevTools.
 */
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const argument = (name: string): string | undefined =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const calls = Number(argument("calls") ?? 100_000)
const contextManager = argument("context") ?? "als"
const top = Number(argument("top") ?? 25)
const out = argument("out")
const base = out === undefined ? join(tmpdir(), "peers-profile") : out.replace(/\.md$/, "")

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** The package or part of the program a function belongs to, by its script's URL. */
const bucketOf = ({ functionName, url }: ProfileNode["callFrame"]): string => {
  if (functionName === "(garbage collector)") return "GC"
  if (functionName === "(program)" || functionName === "(idle)" || functionName === "(root)") return functionName
  if (url === "") return "V8 builtins and native code"
  const inModules = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)
  if (inModules !== null) {
    const name = inModules[1]
    if (name === "effect") return "effect (runtime)"
    if (name === "@effect/opentelemetry") return "@effect/opentelemetry (bridge)"
    return name
  }
  const library = url.match(/\.bench-build\/src\/(.+)\.js$/)
  if (library !== null) return `library: src/${library[1]}.ts`
  if (url.includes(".bench-build/bench/")) return "bench script"
  if (url.includes("node:internal/deps/undici") || url.includes("internal/deps/undici")) return "node: undici (fetch)"
  if (url.startsWith("node:")) return "node: other internals"
  return url
}

interface Summary {
  readonly totalUs: number
  readonly byBucket: Map<string, number>
  readonly byFunction: Map<string, number>
}

const summarise = (profile: Profile): Summary => {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const byBucket = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let totalUs = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    const frame = nodes.get(id)!.callFrame
    const bucket = bucketOf(frame)
    const where = frame.url.replace(/^.*node_modules\//, "").replace(/^.*\.bench-build\//, "")
    const name = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1} [${bucket}]`
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + delta)
    byFunction.set(name, (byFunction.get(name) ?? 0) + delta)
    totalUs += delta
  })
  return { totalUs, byBucket, byFunction }
}

const profileOf = (contender: string): { summary: Summary; perCall: string } => {
  const file = `${base}.${contender}.cpuprofile`
  const script = fileURLToPath(new URL("peers.js", import.meta.url))
  const result = spawnSync(
    process.execPath,
    [script, `--only=${contender}`, `--calls=${calls}`, `--context=${contextManager}`, `--profile=${file}`],
    { encoding: "utf8" }
  )
  if (result.status !== 0) throw new Error(`bench/peers.ts --only=${contender} failed:\n${result.stderr}`)
  return { summary: summarise(JSON.parse(readFileSync(file, "utf8"))), perCall: result.stdout.trim() }
}

const us = (total: number) => (total / calls).toFixed(2)

/** The coarse groups the buckets add up to, in the words of issue 21. */
const groupOf = (bucket: string): string => {
  if (bucket.startsWith("library: ")) return "this library (src/**)"
  if (bucket === "@opentelemetry/api" || bucket === "@opentelemetry/context-async-hooks") return "OTel API and context"
  if (bucket.startsWith("@opentelemetry/")) return "OTel SDK"
  if (bucket.startsWith("node: ")) return "Node (undici fetch, streams, async hooks, ...)"
  return bucket
}

const grouped = (byBucket: Map<string, number>) => {
  const groups = new Map<string, number>()
  for (const [bucket, total] of byBucket) groups.set(groupOf(bucket), (groups.get(groupOf(bucket)) ?? 0) + total)
  return groups
}

const rows = (libraryTotals: Map<string, number>, effectTotals: Map<string, number>) =>
  [...new Set([...libraryTotals.keys(), ...effectTotals.keys()])]
    .map((name) => ({ name, library: libraryTotals.get(name) ?? 0, effect: effectTotals.get(name) ?? 0 }))
    .sort((a, b) => (b.library - b.effect) - (a.library - a.effect))
    .map(({ effect: e, library: l, name }) => `| ${name.replace(/\|/g, "\\|")} | ${us(l)} | ${us(e)} | ${us(l - e)} |`)

const main = () => {
  const library = profileOf("library")
  const effect = profileOf("effect")
  const functions = [...library.summary.byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)
  const added = [...library.summary.byFunction]
    .map(([name, total]): [string, number] => [name, total - (effect.summary.byFunction.get(name) ?? 0)])
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
  const header = [
    "| where | trackLlmCall µs/call | Effect.tryPromise baseline µs/call | added by tracking |",
    "| --- | --- | --- | --- |"
  ]
  const lines = [
    `# Where a tracked call's time goes (bench/peers.ts, ${calls} calls, context manager: ${contextManager})`,
    "",
    `Self time from V8's CPU profiler (100 µs sampling) over the timed calls only, in µs per call.`,
    `- ${library.perCall} (profiled); ${effect.perCall} (profiled)`,
    "",
    ...header,
    ...rows(grouped(library.summary.byBucket), grouped(effect.summary.byBucket)),
    `| **all** | ${us(library.summary.totalUs)} | ${us(effect.summary.totalUs)} | ${
      us(library.summary.totalUs - effect.summary.totalUs)
    } |`,
    "",
    "By package and by module of this library:",
    "",
    ...header,
    ...rows(library.summary.byBucket, effect.summary.byBucket),
    "",
    `Top ${top} functions by self time added by tracking (trackLlmCall contender minus baseline):`,
    "",
    "| function | µs/call added |",
    "| --- | --- |",
    ...added.map(([name, total]) => `| ${name.replace(/\|/g, "\\|")} | ${us(total)} |`),
    "",
    `Top ${top} functions by self time, trackLlmCall contender:`,
    "",
    "| function | µs/call |",
    "| --- | --- |",
    ...functions.map(([name, total]) => `| ${name.replace(/\|/g, "\\|")} | ${us(total)} |`)
  ]
  const text = `${lines.join("\n")}\n`
  if (out !== undefined) writeFileSync(out, text)
  process.stdout.write(text)
}

main()
