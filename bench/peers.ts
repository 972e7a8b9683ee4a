/**
 * A tracked call side by side with the peers' instrumentations of the same call (issue 21), in one process:
 *
 *   - the same OpenAI chat completion through the real `openai` client, its `fetch` stubbed (no network) with the
 *     body OpenAI sends for a `chat.completion` with usage;
 *   - the same OpenTelemetry SDK pipeline for everyone: a tracer provider with a batch span processor and an exporter
 *     that drops what it is given, a meter provider with a reader that never collects (for the peers that record
 *     metrics; the library's metric producer gets a reader of the same kind);
 *   - contenders: `@opentelemetry/instrumentation-openai` (the official one) and `@traceloop/instrumentation-openai`
 *     (OpenLLMetry), each against the same call made as a plain Promise; this library's `trackLlmCall` with
 *     `usageFrom: "auto"` (span, metrics, cost) against `Effect.tryPromise` of the same call on an uninstrumented
 *     `ManagedRuntime`; a floor: one raw OpenTelemetry SDK span with as many attributes as the library's span
 *     has, no call; and Effect's own floor: the same `Effect.tryPromise` in a bare `Effect.withSpan`, under a tracer
 *     whose spans record nothing (no OpenTelemetry at all), against the same baseline: what any Effect span costs
 *     around this call before anything is recorded, which no library that makes the call's span an Effect span can
 *     go below;
 *   - each peer's patch is applied to the imported `openai` module for its own turn only, and removed after (the
 *     script fails if a patched method is not the original again); every contender is first checked to export a span
 *     with token usage;
 *   - `calls` calls a turn, `rounds` rounds in alternating order; per-call overhead is the contender's time minus its
 *     baseline's in the same round: medians and min–max over the rounds, and the ratio of this library's overhead to
 *     each peer's (median and min–max of the per-round ratios);
 *   - the whole scenario twice: without a context manager (the library's layer with `registerGlobals: false`), and
 *     with an AsyncLocalStorage context manager registered by the app (the library's layer with its defaults, which
 *     keep the app's manager).
 *
 * Run: `npm run bench` (with bench/track.ts) or `npm run bench -- --short` (CI: checks that it completes, not its
 * timing). Alone, after `tsc -p tsconfig.bench.json`: `node --expose-gc .bench-build/bench/peers.js [--short]`.
 * One contender alone, for a profile (bench/profile.ts does this): `--only=library|effect|plain|official|openllmetry|floor|effectSpan`
 * with `--calls=N`, `--context=none|als` and `--profile=FILE` (a V8 CPU profile of its timed calls).
 */
import { type Attributes, context, SpanKind } from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { OpenAIInstrumentation as OfficialInstrumentation } from "@opentelemetry/instrumentation-openai"
import { MeterProvider, type MetricReader } from "@opentelemetry/sdk-metrics"
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { OpenAIInstrumentation as OpenLlmetryInstrumentation } from "@traceloop/instrumentation-openai"
import { type Context, Effect, Layer, ManagedRuntime, type Option, Tracer } from "effect"
import { writeFile } from "node:fs/promises"
import { Session } from "node:inspector/promises"
import * as openaiModule from "openai"
import { Tracking, trackLlmCall } from "../src/index.js"
import { DroppingExporter, IdleReader } from "./sdk.js"

const OpenAI = openaiModule.default

const argument = (name: string): string | undefined =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const short = process.argv.includes("--short")
const only = argument("only")
const calls = Number(argument("calls") ?? (short ? 300 : 20_000))
const rounds = short ? 2 : 7
const profileFile = argument("profile")
const warmUpCalls = short ? 100 : 4_000

// --- the call -------------------------------------------------------------------------------------------------
const model = "gpt-4o"
// What OpenAI sends for a non-streaming chat completion, byte for byte in shape (the SDK does not validate it).
const body = JSON.stringify({
  id: "chatcmpl-BzQ0eYtq0bN8wq6vKXGdJ3vF5aT1m",
  object: "chat.completion",
  created: 1753881600,
  model: "gpt-4o-2024-08-06",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "The capital of France is Paris.", refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: "stop"
    }
  ],
  usage: {
    prompt_tokens: 120,
    completion_tokens: 48,
    total_tokens: 168,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0
    }
  },
  service_tier: "default",
  system_fingerprint: "fp_07871e2ad8"
})
const headers = {
  "content-type": "application/json",
  "x-request-id": "req_5a7c3f0e9b2d4c1a8e6f0b3d2c1a9e8f",
  "openai-processing-ms": "412",
  "openai-version": "2020-10-01"
}
const client = new OpenAI({
  apiKey: "sk-test",
  maxRetries: 0,
  fetch: () => Promise.resolve(new Response(body, { status: 200, headers }))
})
const params = {
  model,
  messages: [{ role: "user" as const, content: "What is the capital of France?" }]
}
const call = () => client.chat.completions.create(params)

// --- one OpenTelemetry pipeline -------------------------------------------------------------------------------
/** The spans one run of `f` exports through `processor` into `exporter`. */
const exportedBy = async (
  exporter: DroppingExporter,
  processor: BatchSpanProcessor,
  f: () => Promise<unknown>
): Promise<Array<ReadableSpan>> => {
  await processor.forceFlush()
  exporter.captured.length = 0
  exporter.capture = true
  try {
    await f()
    await processor.forceFlush()
    return [...exporter.captured]
  } finally {
    exporter.capture = false
    exporter.captured.length = 0
  }
}

/** Names of the metrics a reader's producers hold data for. */
const metricNames = async (reader: MetricReader, scope?: string): Promise<Array<string>> => {
  const { resourceMetrics } = await reader.collect()
  return resourceMetrics.scopeMetrics
    .filter((scopeMetrics) => scope === undefined || scopeMetrics.scope.name === scope)
    .flatMap((scopeMetrics) => scopeMetrics.metrics.filter((metric) => metric.dataPoints.length > 0))
    .map((metric) => metric.descriptor.name)
}

// The peers share one provider of each kind; the library's layer builds its own (same processor, exporter, reader).
const peerExporter = new DroppingExporter()
const peerProcessor = new BatchSpanProcessor(peerExporter)
const peerTracerProvider = new BasicTracerProvider({ spanProcessors: [peerProcessor] })
const peerReader = new IdleReader()
const peerMeterProvider = new MeterProvider({ readers: [peerReader] })

// --- the peers ------------------------------------------------------------------------------------------------
/** What each peer may wrap: all must be the originals again after its turn. */
const patchable = () => ({
  "Chat.Completions.create": OpenAI.Chat.Completions.prototype.create,
  "Completions.create": OpenAI.Completions.prototype.create,
  "Embeddings.create": OpenAI.Embeddings.prototype.create,
  "Responses.create": OpenAI.Responses.prototype.create,
  "Images.generate": OpenAI.Images.prototype.generate,
  "Images.edit": OpenAI.Images.prototype.edit,
  "Images.createVariation": OpenAI.Images.prototype.createVariation
})
const originals = patchable()

const assertOriginals = (after: string) => {
  const now = patchable()
  const changed = Object.keys(originals).filter(
    (key) => now[key as keyof typeof now] !== originals[key as keyof typeof originals]
  )
  if (changed.length > 0) throw new Error(`after ${after}, openai methods are not the originals: ${changed.join(", ")}`)
}

interface ModuleDefinition {
  readonly name: string
  readonly patch?: ((exports: any, version?: string) => unknown) | undefined
  readonly unpatch?: ((exports: any, version?: string) => unknown) | undefined
}

/** The patch and unpatch of the one definition an instrumentation has for the `openai` module. */
const openaiDefinition = (instrumentation: { getModuleDefinitions(): Array<ModuleDefinition> }) => {
  const definition = instrumentation.getModuleDefinitions().find((d) => d.name === "openai")
  const patch = definition?.patch
  const unpatch = definition?.unpatch
  if (patch === undefined || unpatch === undefined) throw new Error("the instrumentation has no patch for openai")
  return { patch: (exports: unknown) => patch(exports), unpatch: (exports: unknown) => unpatch(exports) }
}

interface Peer {
  readonly name: "official" | "openllmetry"
  readonly label: string
  /** The span attribute keys for input and output tokens. */
  readonly usageKeys: readonly [string, string]
  readonly metricScope: string
  readonly apply: () => void
  readonly remove: () => void
}

// Constructed disabled, so that no require/import hook is registered at construction; `enable()` for the turn
// (the official instrumentation records nothing while disabled), the patch applied to the imported module by hand
// (ESM: no hook sees `openai`), then removed and disabled again.
const official = new OfficialInstrumentation({ enabled: false })
official.setTracerProvider(peerTracerProvider)
official.setMeterProvider(peerMeterProvider)
const officialDefinition = openaiDefinition(official)

// `traceContent: false`: the prompt and completion texts are not recorded (the library records no content by
// default, nor does the official instrumentation).
const openLlmetry = new OpenLlmetryInstrumentation({ enabled: false, traceContent: false })
openLlmetry.setTracerProvider(peerTracerProvider)
openLlmetry.setMeterProvider(peerMeterProvider)
const openLlmetryDefinition = openaiDefinition(openLlmetry)

const peers: ReadonlyArray<Peer> = [
  {
    name: "official",
    label: `${official.instrumentationName} ${official.instrumentationVersion}`,
    usageKeys: ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"],
    metricScope: official.instrumentationName,
    apply: () => {
      official.enable()
      officialDefinition.patch(openaiModule)
    },
    remove: () => {
      officialDefinition.unpatch(openaiModule)
      official.disable()
    }
  },
  {
    name: "openllmetry",
    label: `OpenLLMetry ${openLlmetry.instrumentationName} ${openLlmetry.instrumentationVersion}`,
    usageKeys: ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"],
    metricScope: openLlmetry.instrumentationName,
    apply: () => {
      openLlmetry.enable()
      // Its documented manual path; it has no inverse, so its module definition's `unpatch` removes it.
      openLlmetry.manuallyInstrument(OpenAI)
    },
    remove: () => {
      openLlmetryDefinition.unpatch(openaiModule)
      openLlmetry.disable()
    }
  }
]

/** Runs `f` with the peer's patch applied, and checks that it is applied, then removed. */
const during = async <A>(peer: Peer, f: () => Promise<A>): Promise<A> => {
  peer.apply()
  if (OpenAI.Chat.Completions.prototype.create === originals["Chat.Completions.create"]) {
    throw new Error(`${peer.label} did not patch chat.completions.create`)
  }
  try {
    return await f()
  } finally {
    peer.remove()
    assertOriginals(peer.label)
  }
}

// --- this library ---------------------------------------------------------------------------------------------
const untrackedEffect = Effect.tryPromise(call)
const trackedEffect = untrackedEffect.pipe(trackLlmCall({ provider: "openai", model, usageFrom: "auto" }))

// --- Effect's own floor: a span that records nothing --------------------------------------------------------------
/** The spans the silent tracer was asked for, by name: checked, so that the contender is known to make one a call. */
const silentSpans = new Map<string, number>()
const silentSpan = (
  name: string,
  parent: Option.Option<Tracer.AnySpan>,
  context: Context.Context<never>,
  links: ReadonlyArray<Tracer.SpanLink>,
  startTime: bigint,
  kind: Tracer.SpanKind
): Tracer.Span => {
  silentSpans.set(name, (silentSpans.get(name) ?? 0) + 1)
  return {
    _tag: "Span",
    name,
    spanId: "0000000000000001",
    traceId: "00000000000000000000000000000001",
    parent,
    context,
    status: { _tag: "Started", startTime },
    attributes: new Map(),
    links,
    sampled: false,
    kind,
    end: () => {},
    attribute: () => {},
    event: () => {},
    addLinks: () => {}
  }
}
const silentTracer = Tracer.make({ span: silentSpan, context: (execution) => execution() })
const bareSpanEffect = untrackedEffect.pipe(
  Effect.withSpan(`chat ${model}`, { kind: "client", captureStackTrace: false })
)

const libraryPipeline = (registerGlobals: boolean) => {
  const exporter = new DroppingExporter()
  const made: { processor?: BatchSpanProcessor; reader?: IdleReader } = {}
  const layer = Tracking.layerSdk({
    resource: { serviceName: "bench" },
    spanProcessor: () => (made.processor = new BatchSpanProcessor(exporter)),
    metricReader: () => (made.reader = new IdleReader()),
    registerGlobals
  })
  return { exporter, made, runtime: ManagedRuntime.make(layer) }
}

const loop = <A, E>(effect: Effect.Effect<A, E>, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

/**
 * V8's CPU profiler over the timed calls only (not the start-up, the checks or the warm-up): the profile that
 * `node --cpu-prof` writes, limited to the window that matters. Written as a `.cpuprofile` file (Chrome DevTools).
 */
const startProfiler = async () => {
  const session = new Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 100 })
  await session.post("Profiler.start")
  return {
    stop: async (file: string) => {
      const { profile } = await session.post("Profiler.stop")
      await writeFile(file, JSON.stringify(profile))
      session.disconnect()
    }
  }
}

// --- timing ---------------------------------------------------------------------------------------------------
type Contender = "plain" | "official" | "openllmetry" | "effect" | "library" | "floor" | "effectSpan"
const contenders: ReadonlyArray<Contender> = [
  "plain",
  "official",
  "openllmetry",
  "effect",
  "library",
  "floor",
  "effectSpan"
]
const baselineOf: Record<Contender, Contender | undefined> = {
  plain: undefined,
  official: "plain",
  openllmetry: "plain",
  effect: undefined,
  library: "effect",
  floor: undefined,
  effectSpan: "effect"
}

const gc = (globalThis as { gc?: () => void }).gc

const microsPerCall = async (f: () => Promise<unknown> | void, n: number): Promise<number> => {
  gc?.()
  const start = process.hrtime.bigint()
  await f()
  return Number(process.hrtime.bigint() - start) / 1e3 / n
}

const plainLoop = async (n: number) => {
  for (let i = 0; i < n; i++) await call()
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

interface Stats {
  readonly median: number
  readonly min: number
  readonly max: number
}
const stats = (values: ReadonlyArray<number>): Stats => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values)
})

interface Verified {
  readonly attributes: number
  readonly metrics: number
  readonly cost?: boolean
}

interface ScenarioResult {
  readonly name: string
  readonly perCall: Record<Contender, Stats>
  readonly overhead: Partial<Record<Contender, Stats>>
  /** This library's overhead over each peer's (and the floor's), per round. */
  readonly ratio: Partial<Record<Contender, Stats>>
  readonly records: Partial<Record<Contender, Verified>>
}

const usageOf = (
  span: ReadableSpan,
  keys: readonly [string, string]
) => [span.attributes[keys[0]], span.attributes[keys[1]]]

const assertOneUsageSpan = (label: string, spans: Array<ReadableSpan>, keys: readonly [string, string]) => {
  if (spans.length !== 1) throw new Error(`${label}: expected 1 exported span, got ${spans.length}`)
  const [input, output] = usageOf(spans[0], keys)
  if (input !== 120 || output !== 48) {
    throw new Error(`${label}: the span has no token usage (${keys.join(", ")} = ${input}, ${output})`)
  }
  return spans[0]
}

const runScenario = async (withContextManager: boolean): Promise<ScenarioResult> => {
  const manager = withContextManager ? new AsyncLocalStorageContextManager().enable() : undefined
  if (manager !== undefined && !context.setGlobalContextManager(manager)) {
    throw new Error("a context manager was already registered")
  }
  const library = libraryPipeline(withContextManager)
  const baselineRuntime = ManagedRuntime.make(Layer.empty)
  const silentRuntime = ManagedRuntime.make(Layer.setTracer(silentTracer))
  try {
    // --- every contender checked first: a span with token usage, nothing once a patch is removed ---
    const records: Partial<Record<Contender, Verified>> = {}
    for (const peer of peers) {
      const spans = await during(peer, () => exportedBy(peerExporter, peerProcessor, call))
      const span = assertOneUsageSpan(peer.label, spans, peer.usageKeys)
      records[peer.name] = {
        attributes: Object.keys(span.attributes).length,
        metrics: (await metricNames(peerReader, peer.metricScope)).length
      }
    }
    const leftOver = await exportedBy(peerExporter, peerProcessor, call)
    if (leftOver.length > 0) {
      throw new Error(`a plain call still made ${leftOver.length} span(s) after the peers' turns`)
    }

    await library.runtime.runtime()
    const libraryProcessor = library.made.processor!
    const librarySpans = await exportedBy(
      library.exporter,
      libraryProcessor,
      () => library.runtime.runPromise(trackedEffect)
    )
    const librarySpan = assertOneUsageSpan("trackLlmCall", librarySpans, [
      "gen_ai.usage.input_tokens",
      "gen_ai.usage.output_tokens"
    ])
    if (librarySpan.attributes["botanu.cost.status"] !== "priced") {
      throw new Error(`trackLlmCall: the call was not priced (${librarySpan.attributes["botanu.cost.status"]})`)
    }
    records.library = {
      attributes: Object.keys(librarySpan.attributes).length,
      // The producer exports Effect's whole registry, which also holds the runtime's own `effect_fiber_*` metrics.
      metrics: (await metricNames(library.made.reader!)).filter((name) => !name.startsWith("effect_")).length,
      cost: true
    }

    // The floor: one raw SDK span with the library span's attributes (as many, the same values), no call.
    const floorAttributes: Attributes = { ...librarySpan.attributes }
    const floorTracer = peerTracerProvider.getTracer("floor")
    const floorSpan = () => {
      const span = floorTracer.startSpan(`chat ${model}`, { kind: SpanKind.CLIENT })
      for (const key in floorAttributes) span.setAttribute(key, floorAttributes[key]!)
      span.end()
    }
    const floorSpans = await exportedBy(peerExporter, peerProcessor, async () => floorSpan())
    if (floorSpans.length !== 1 || Object.keys(floorSpans[0].attributes).length !== records.library.attributes) {
      throw new Error("the floor span does not carry as many attributes as the library's")
    }
    records.floor = { attributes: records.library.attributes, metrics: 0 }

    silentSpans.clear()
    await silentRuntime.runPromise(bareSpanEffect)
    if (silentSpans.size !== 1 || silentSpans.get(`chat ${model}`) !== 1) {
      throw new Error(
        `the bare Effect span: expected one span "chat ${model}", got ${JSON.stringify([...silentSpans])}`
      )
    }
    records.effectSpan = { attributes: 0, metrics: 0 }

    const run = (contender: Contender, n: number): Promise<number> => {
      switch (contender) {
        case "plain":
          return microsPerCall(() => plainLoop(n), n)
        case "official":
        case "openllmetry":
          return during(
            peers.find((peer) => peer.name === contender)!,
            () => microsPerCall(() => plainLoop(n), n)
          )
        case "effect":
          return microsPerCall(() => baselineRuntime.runPromise(loop(untrackedEffect, n)), n)
        case "library":
          return microsPerCall(() => library.runtime.runPromise(loop(trackedEffect, n)), n)
        case "floor":
          return microsPerCall(() => {
            for (let i = 0; i < n; i++) floorSpan()
          }, n)
        case "effectSpan":
          return microsPerCall(() => silentRuntime.runPromise(loop(bareSpanEffect, n)), n)
      }
    }

    const selected = only === undefined ? contenders : contenders.filter((c) => c === only)
    if (selected.length === 0) throw new Error(`--only=${only}: not one of ${contenders.join(", ")}`)
    // Warm-up, so that every path is optimized before it is timed.
    for (const contender of selected) await run(contender, warmUpCalls)

    const times = Object.fromEntries(contenders.map((c) => [c, [] as Array<number>])) as Record<
      Contender,
      Array<number>
    >
    if (only !== undefined) {
      const profiler = profileFile === undefined ? undefined : await startProfiler()
      const us = await run(only as Contender, calls)
      if (profiler !== undefined) await profiler.stop(profileFile!)
      process.stdout.write(`${only}: ${us.toFixed(2)} µs/call over ${calls} calls\n`)
      return { name: "", perCall: {} as never, overhead: {}, ratio: {}, records }
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? selected : [...selected].reverse()
      for (const contender of order) times[contender].push(await run(contender, calls))
    }

    const overheads = Object.fromEntries(contenders.map((c) => {
      const baseline = baselineOf[c]
      return [c, times[c].map((t, round) => baseline === undefined ? t : t - times[baseline][round])]
    })) as Record<Contender, Array<number>>
    const overhead: Partial<Record<Contender, Stats>> = {}
    const ratio: Partial<Record<Contender, Stats>> = {}
    for (const c of contenders) {
      if (baselineOf[c] !== undefined || c === "floor") overhead[c] = stats(overheads[c])
      if (c === "official" || c === "openllmetry" || c === "floor" || c === "effectSpan") {
        ratio[c] = stats(overheads.library.map((o, round) => o / overheads[c][round]))
      }
    }
    return {
      name: withContextManager ? "AsyncLocalStorage" : "none",
      perCall: Object.fromEntries(contenders.map((c) => [c, stats(times[c])])) as Record<Contender, Stats>,
      overhead,
      ratio,
      records
    }
  } finally {
    await library.runtime.dispose()
    await baselineRuntime.dispose()
    await silentRuntime.dispose()
    if (manager !== undefined) context.disable()
  }
}

const labels: Record<Contender, string> = {
  plain: "plain Promise call (the peers' baseline)",
  official: peers[0].label,
  openllmetry: peers[1].label,
  effect: "`Effect.tryPromise` on a ManagedRuntime (the library's baseline)",
  library: "**this library, `trackLlmCall` + `usageFrom: \"auto\"`**",
  floor: "floor: one raw OTel SDK span, as many attributes as the library's, no call",
  effectSpan:
    "Effect's floor: a bare `Effect.withSpan` around the same `Effect.tryPromise`, a tracer that records nothing"
}

const describeRecords = (records: Verified | undefined) =>
  records === undefined
    ? ""
    : `span (${records.attributes})${records.metrics > 0 ? `, ${records.metrics} metrics` : ""}${
      records.cost === true ? ", cost" : ""
    }`

const range = (s: Stats, digits: number) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`

const main = async () => {
  const contextArg = argument("context")
  const scenarios = contextArg === undefined ? [false, true] : [contextArg === "als"]
  const results: Array<ScenarioResult> = []
  for (const withContextManager of scenarios) results.push(await runScenario(withContextManager))
  await peerTracerProvider.shutdown()
  await peerMeterProvider.shutdown()
  if (only !== undefined) return

  const lines = [
    `peers side by side: ${calls} calls x ${rounds} rounds a contender, alternating order (medians, min–max over the rounds)${
      short ? " [short mode: timings not meaningful]" : ""
    }`,
    "",
    "| context manager | contender | records | µs/call | overhead µs/call | this library's overhead ÷ this one's |",
    "| --- | --- | --- | --- | --- | --- |"
  ]
  for (const result of results) {
    for (const c of contenders) {
      const overhead = result.overhead[c]
      const ratio = result.ratio[c]
      lines.push(
        `| ${result.name} | ${labels[c]} | ${describeRecords(result.records[c])} | ${range(result.perCall[c], 1)} | ${
          overhead === undefined ? "" : range(overhead, 1)
        } | ${ratio === undefined ? "" : range(ratio, 2)} |`
      )
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`)
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
