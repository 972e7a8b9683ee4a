/**
 * Two of issue 21's requirements that are not about time per call:
 *
 *   1. The first chunk of a tracked stream is handed on with no added latency: a provider stream whose chunks arrive
 *      asynchronously (each after a macrotask, as a socket's would), consumed with and without `trackLlmStream`
 *      (`usageFrom: "auto"`), runs alternating. Timed from the moment the producer hands its first chunk over to the
 *      moment the consumer has it, so the span opened before the request is not counted: that is the call's, not the
 *      chunk's. Also the time from the stream's start to its first chunk (span creation included), for reference.
 *      Beside them, Effect's own floor: the same stream in a bare `Stream.withSpan`, which pays what any stream run
 *      inside a span pays on each pull (its effects run under the span's context), before anything is recorded.
 *   2. Reading a stream's usage, chunk by chunk (`usageFrom: "auto"`, the OpenAI chunks below), against reading the
 *      same usage from the whole response (`Usage.extract`): both pure reads, timed alone.
 *   3. No heap growth over 1,000,000 tracked calls (short: 20,000): the heap after GC at each eighth of the calls,
 *      and the least-squares slope through those marks in bytes per 1,000 calls. One difference between two marks
 *      moves by a few hundred KiB with where the collector happens to stand; a leak of even one small object per call
 *      shows as a slope of tens of KB per 1,000 calls.
 *
 * Run by `npm run bench` (see bench/run.ts), in a process of its own, with `--expose-gc`.
 */
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, ManagedRuntime, Stream } from "effect"
import { LlmTracker, Tracking, trackLlmCall, trackLlmStream, Usage } from "../src/index.js"
import { resolve as resolveStreamUsage } from "../src/internal/streamUsage.js"
import { DroppingExporter, IdleReader } from "./sdk.js"

const short = process.argv.includes("--short")
const streamRuns = short ? 200 : 5_000
const rounds = short ? 2 : 7
const heapCalls = short ? 20_000 : 1_000_000

const runtime = ManagedRuntime.make(
  Tracking.layerSdk({
    resource: { serviceName: "bench-stream" },
    spanProcessor: () => new BatchSpanProcessor(new DroppingExporter()),
    metricReader: () => new IdleReader()
  })
)

// --- 1. the first chunk ------------------------------------------------------------------------------------------

/** OpenAI chat chunks, as the API streams them: a role, two deltas, the finish reason, the usage. */
const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage?: Record<string, number>) => ({
  id: "chatcmpl-bench",
  object: "chat.completion.chunk",
  created: 1_741_476_542,
  model: "gpt-4o-2024-08-06",
  choices: usage === undefined ? [{ index: 0, delta, finish_reason: finish }] : [],
  ...(usage === undefined ? {} : { usage })
})
const chunks = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Par" }),
  chunk({ content: "is." }),
  chunk({}, "stop"),
  chunk({}, null, { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 })
]

/** When the producer handed its first chunk over, per run. */
let handedOver = 0
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

async function* provider(): AsyncGenerator<(typeof chunks)[number]> {
  for (let i = 0; i < chunks.length; i++) {
    await macrotask()
    if (i === 0) handedOver = performance.now()
    yield chunks[i]
  }
}

// A fresh iterator for each run.
const upstream = Stream.suspend(() => Stream.fromAsyncIterable(provider(), (e) => e))
const tracked = trackLlmStream(upstream, { provider: "openai", model: "gpt-4o", usageFrom: "auto" })
const bareSpan = Stream.withSpan(upstream, "chat gpt-4o", { kind: "client", captureStackTrace: false })

/** One run: [first chunk handed over → consumer has it, stream start → consumer has it], in µs. */
const firstChunk = <E>(stream: Stream.Stream<unknown, E>) =>
  Effect.gen(function*() {
    let received = 0
    const started = performance.now()
    yield* Stream.runForEach(stream, () =>
      Effect.sync(() => {
        if (received === 0) received = performance.now()
      }))
    return [(received - handedOver) * 1e3, (received - started) * 1e3] as const
  })

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** Runs each turn once a round, `rounds` rounds, in alternating order. */
const alternating = async (turns: ReadonlyArray<() => unknown>) => {
  for (let round = 0; round < rounds; round++) {
    for (const turn of round % 2 === 0 ? turns : [...turns].reverse()) await turn()
  }
}

const timeFirstChunks = async (stream: Stream.Stream<unknown, unknown>) => {
  const handOver: Array<number> = []
  const fromStart: Array<number> = []
  await runtime.runPromise(Effect.gen(function*() {
    for (let i = 0; i < streamRuns; i++) {
      const [a, b] = yield* firstChunk(stream)
      handOver.push(a)
      fromStart.push(b)
    }
  }))
  return { handOver: median(handOver), fromStart: median(fromStart) }
}

// --- 2. reading a stream's usage --------------------------------------------------------------------------------

const wholeResponse = {
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_741_476_542,
  model: "gpt-4o-2024-08-06",
  choices: [{ index: 0, message: { role: "assistant", content: "Paris." }, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }
}
const streamUsage = resolveStreamUsage("auto", () => {})!
const readStream = () => {
  const usage = streamUsage()
  for (let i = 0; i < chunks.length; i++) usage.observe(chunks[i])
  return usage.result(true)
}
const readWhole = () => Usage.extract(wholeResponse, "auto")
if (readStream().inputTokens !== 12 || readWhole().inputTokens !== 12) throw new Error("usage not read")

const readsPerRound = short ? 2_000 : 200_000
/** µs per read, medians of alternating rounds. */
const timeReads = async () => {
  const time = (read: () => unknown) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < readsPerRound; i++) read()
    return Number(process.hrtime.bigint() - start) / 1e3 / readsPerRound
  }
  time(readStream)
  time(readWhole)
  const stream: Array<number> = []
  const whole: Array<number> = []
  await alternating([() => stream.push(time(readStream)), () => whole.push(time(readWhole))])
  return { stream: median(stream), whole: median(whole), ratio: median(stream.map((s, i) => s / whole[i])) }
}

// --- 3. the heap over many calls ---------------------------------------------------------------------------------

const response = { id: "chatcmpl-123", model: "gpt-4", usage: { prompt_tokens: 120, completion_tokens: 48 } }
const call = Effect.flatMap(LlmTracker, (tracker) =>
  Effect.as(
    tracker.setTokens({ inputTokens: response.usage.prompt_tokens, outputTokens: response.usage.completion_tokens }),
    response
  )).pipe(trackLlmCall({ provider: "openai", model: "gpt-4", usageFrom: "auto" }))

const gc = (globalThis as { gc?: () => void }).gc
const heapAfterGc = () => {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2)

const main = async () => {
  // Both paths optimized before they are timed.
  await timeFirstChunks(upstream)
  await timeFirstChunks(tracked)
  await timeFirstChunks(bareSpan)
  const plain: Array<{ handOver: number; fromStart: number }> = []
  const withTracking: Array<{ handOver: number; fromStart: number }> = []
  const withSpan: Array<{ handOver: number; fromStart: number }> = []
  const turns = [
    () => timeFirstChunks(upstream).then((r) => plain.push(r)),
    () => timeFirstChunks(tracked).then((r) => withTracking.push(r)),
    () => timeFirstChunks(bareSpan).then((r) => withSpan.push(r))
  ]
  await alternating(turns)
  const added = plain.map((p, i) => withTracking[i].handOver - p.handOver)
  const spanAdded = plain.map((p, i) => withSpan[i].handOver - p.handOver)
  const reads = await timeReads()

  // Warmed up first (every path optimized, every cache filled), then a mark after each eighth of the calls.
  const eighth = heapCalls / 8
  await runtime.runPromise(Effect.gen(function*() {
    for (let i = 0; i < eighth; i++) yield* call
  }))
  const marks: Array<number> = []
  for (let mark = 1; mark <= 8; mark++) {
    await runtime.runPromise(Effect.gen(function*() {
      for (let i = 0; i < eighth; i++) yield* call
    }))
    marks.push(heapAfterGc())
  }
  await runtime.dispose()
  const xs = marks.map((_, i) => (i + 1) * eighth)
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length
  const meanY = marks.reduce((a, b) => a + b, 0) / marks.length
  const slope = xs.reduce((a, x, i) => a + (x - meanX) * (marks[i] - meanY), 0) /
    xs.reduce((a, x) => a + (x - meanX) ** 2, 0)
  const check = gc === undefined ? " (run with --expose-gc for a real figure)" : ""

  const lines = [
    `first chunk of a stream, ${streamRuns} runs x ${rounds} rounds, alternating (medians)${
      short ? " [short mode: timings not meaningful]" : ""
    }`,
    `   handed over → consumer: untracked ${median(plain.map((p) => p.handOver)).toFixed(1)} µs, trackLlmStream ${
      median(withTracking.map((p) => p.handOver)).toFixed(1)
    } µs, added ${median(added).toFixed(1)} µs (per round ${Math.min(...added).toFixed(1)} to ${
      Math.max(...added).toFixed(1)
    })`,
    `   Effect's floor, a bare Stream.withSpan: ${median(withSpan.map((p) => p.handOver)).toFixed(1)} µs, added ${
      median(spanAdded).toFixed(1)
    } µs (per round ${Math.min(...spanAdded).toFixed(1)} to ${Math.max(...spanAdded).toFixed(1)}); trackLlmStream ${
      median(added.map((a, i) => a - spanAdded[i])).toFixed(1)
    } µs beyond it`,
    `   stream start → consumer (span opened before the first chunk): untracked ${
      median(plain.map((p) => p.fromStart)).toFixed(1)
    } µs, trackLlmStream ${median(withTracking.map((p) => p.fromStart)).toFixed(1)} µs, Stream.withSpan ${
      median(withSpan.map((p) => p.fromStart)).toFixed(1)
    } µs`,
    `reading a stream's usage (${chunks.length} OpenAI chunks, "auto"), ${readsPerRound} reads x ${rounds} rounds: ${
      reads.stream.toFixed(2)
    } µs; the same usage from the whole response: ${reads.whole.toFixed(2)} µs; ratio ${reads.ratio.toFixed(2)}`,
    `heap after GC over ${heapCalls} tracked calls (after ${eighth} to warm up), at each eighth: ${
      marks.map(mib).join(", ")
    } MiB (${mib(Math.min(...marks))} to ${mib(Math.max(...marks))}); slope ${
      (slope * 1000).toFixed(0)
    } bytes per 1,000 calls${check}`
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
}

main().catch((error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
