/**
 * What a tracked call costs, as ratios against baselines measured in the same process and run:
 *
 *   1. the trivial effect, untracked;
 *   2. the same effect in a bare `Effect.withSpan` that sets the same attributes with `Effect.annotateCurrentSpan` (the
 *      script checks that the two spans carry exactly the same attribute keys)
 *      (the @effect/opentelemetry bridge, a batch processor and a no-op exporter behind it): the Effect baseline;
 *   3. the same call tracked with `trackLlmCall` + `setTokens` + `setRequestId` + `setFinishReason`, all metrics and
 *      cost (priced from the catalogue) on;
 *   3r. the same with the three setters' facts recorded in one step (`tracker.record`), as scenario 2 annotates
 *      them with one `annotateCurrentSpan`;
 *   4. the equivalent work done directly with the OpenTelemetry JS SDK (tracer + meter, no Effect): the floor.
 *
 * Then the heap after GC around 200,000 tracked calls across 50 models; then around tracked calls with 50,000
 * distinct model names (as an app that takes model names from its callers would make), and the series each metric
 * has after them in Effect's registry, which keeps every series it is given: bounded at 2,000 per metric.
 *
 * Then, in rounds of their own: 5. an @effect/ai `generateText` (a LanguageModel answering at once with a response's
 * parts: metadata, text, finish with usage), untracked, against 6. the same call through `EffectAi.make`'s
 * decorated service (the call's span, usage read from the finish part, metrics and cost).
 *
 * Then, in rounds of their own: 7. call 3 enforced (`Budget.enforce`) under `Budget.layer` with the memory store and a
 * hard global day limit it never reaches (the check before the call, the spend added after it), against call 3
 * without a budget, and call 3 under the layer but not enforced (the share of the layer's listener alone).
 *
 * Run: `npm run bench` (full) or `npm run bench -- --short` (CI: checks that it completes, not its timing). The
 * script and the library are compiled with tsc first, so that what is timed is the JavaScript users run.
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import { type Attributes, SpanKind } from "@opentelemetry/api"
import { MeterProvider } from "@opentelemetry/sdk-metrics"
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Metric } from "effect"
import * as EffectAi from "../src/EffectAi.js"
import { Budget, LlmTracker, Metrics, Pricing, Tracking, TrackingTest, trackLlmCall } from "../src/index.js"
import { DroppingExporter, IdleReader } from "./sdk.js"

const short = process.argv.includes("--short")
const calls = short ? 2_000 : 20_000
// Many short rounds in alternating order, compared pairwise: this machine's speed drifts by more than the
// differences being measured, and a ratio taken within one round cancels most of the drift.
const rounds = short ? 2 : 15
const heapCalls = short ? 5_000 : 200_000
const heapModels = 50
const leakModels = short ? 5_000 : 50_000

const response = { id: "chatcmpl-123", model: "gpt-4", usage: { prompt_tokens: 120, completion_tokens: 48 } }
const trivial = Effect.succeed(response)

// The cost the tracked call records, so that the baselines can write the very same attributes by hand.
const cost = Pricing.catalogue.price({
  provider: "openai",
  model: "gpt-4",
  timestamp: Date.now(),
  usage: { input: 120, output: 48, cacheRead: 0, cacheWrite: 0, reasoning: 0 }
})
const startAttributes = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "gpt-4",
  "botanu.vendor": "openai",
  "botanu.request.attempt": 1
}
const endAttributes = (r: typeof response) => ({
  "gen_ai.usage.input_tokens": r.usage.prompt_tokens,
  "gen_ai.usage.output_tokens": r.usage.completion_tokens,
  "gen_ai.response.id": r.id,
  "botanu.provider.request_id": r.id,
  "gen_ai.response.finish_reasons": ["stop"],
  "botanu.cost.status": cost.status,
  "botanu.cost.input_usd": Pricing.toUsd(cost.input),
  "botanu.cost.output_usd": Pricing.toUsd(cost.output),
  "botanu.cost.total_usd": Pricing.toUsd(cost.total),
  "botanu.cost.pricing_source": cost.source ?? ""
})

// --- 1. untracked --------------------------------------------------------------------------------------------
const untracked = trivial

// --- 2. bare withSpan + annotateCurrentSpan ------------------------------------------------------------------
const withSpan = Effect.flatMap(trivial, (r) => Effect.as(Effect.annotateCurrentSpan(endAttributes(r)), r)).pipe(
  Effect.withSpan("chat gpt-4", { kind: "client", attributes: startAttributes })
)

// --- 3. trackLlmCall -----------------------------------------------------------------------------------------
const trackedFor = (model: string) =>
  Effect.flatMap(
    LlmTracker,
    (tracker) =>
      Effect.flatMap(trivial, (r) =>
        tracker.setTokens({ inputTokens: r.usage.prompt_tokens, outputTokens: r.usage.completion_tokens }).pipe(
          Effect.zipRight(tracker.setRequestId({ providerRequestId: r.id })),
          Effect.zipRight(tracker.setFinishReason("stop")),
          Effect.as(r)
        ))
  ).pipe(trackLlmCall({ provider: "openai", model }))
const tracked = trackedFor("gpt-4")

// --- 3r. trackLlmCall, what the response says recorded in one step (`tracker.record`) ---------------------------
const trackedRecord = Effect.flatMap(
  LlmTracker,
  (tracker) =>
    Effect.flatMap(trivial, (r) =>
      Effect.as(
        tracker.record({
          tokens: { inputTokens: r.usage.prompt_tokens, outputTokens: r.usage.completion_tokens },
          requestId: r.id,
          finishReasons: "stop"
        }),
        r
      ))
).pipe(trackLlmCall({ provider: "openai", model: "gpt-4" }))

// --- 4. the OpenTelemetry SDK alone --------------------------------------------------------------------------
const sdkTracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new DroppingExporter())] })
const sdkTracer = sdkTracerProvider.getTracer("bench")
const sdkMeterProvider = new MeterProvider({ readers: [new IdleReader()] })
const sdkMeter = sdkMeterProvider.getMeter("bench")
const sdkTokens = sdkMeter.createHistogram("gen_ai.client.token.usage", {
  unit: "{token}",
  advice: { explicitBucketBoundaries: [...Metrics.tokenBoundaries] }
})
const sdkDuration = sdkMeter.createHistogram("gen_ai.client.operation.duration", {
  unit: "s",
  advice: { explicitBucketBoundaries: [...Metrics.durationBoundaries] }
})
const sdkAttempts = sdkMeter.createCounter("botanu.gen_ai.attempts", { unit: "{attempt}" })
const sdkCost = sdkMeter.createCounter("botanu.gen_ai.cost", { unit: "USD" })
const sdkBase: Attributes = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "gpt-4"
}
const sdkInput = { ...sdkBase, "gen_ai.token.type": "input" }
const sdkOutput = { ...sdkBase, "gen_ai.token.type": "output" }
const sdkStatus = { ...sdkBase, status: "success" }
const sdkCall = () => {
  const start = performance.now()
  const span = sdkTracer.startSpan("chat gpt-4", { kind: SpanKind.CLIENT, attributes: startAttributes })
  const r = response
  const attributes = endAttributes(r)
  for (const key in attributes) span.setAttribute(key, attributes[key as keyof typeof attributes])
  sdkTokens.record(r.usage.prompt_tokens, sdkInput)
  sdkTokens.record(r.usage.completion_tokens, sdkOutput)
  sdkDuration.record((performance.now() - start) / 1e3, sdkBase)
  sdkAttempts.add(1, sdkStatus)
  sdkCost.add(Pricing.toUsd(cost.total), sdkBase)
  span.end()
  return r
}

// --- 5. and 6. an @effect/ai call, untracked and tracked ---------------------------------------------------------
// A provider that answers at once, with the parts @effect/ai-openai makes of a Responses API answer.
const aiParts = [
  { type: "response-metadata", id: response.id, modelId: response.model, timestamp: "2025-03-08T23:29:02.000Z" },
  { type: "text", text: "Paris." },
  {
    type: "finish",
    reason: "stop",
    usage: { inputTokens: 120, outputTokens: 48, totalTokens: 168, reasoningTokens: 0, cachedInputTokens: 0 }
  }
] as const
const aiModel = LanguageModel.make({
  generateText: () => Effect.succeed(aiParts as unknown as Array<never>),
  streamText: () => Effect.die("not benchmarked") as never
})
const aiCalls = (inner: LanguageModel.Service) =>
  Effect.map(
    EffectAi.make({ model: "gpt-4", provider: "openai" }).pipe(
      Effect.provideService(LanguageModel.LanguageModel, inner)
    ),
    (tracked) => ({
      untracked: inner.generateText({ prompt: "Capital of France?" }),
      tracked: tracked.generateText({ prompt: "Capital of France?" })
    })
  )

// --- measuring -----------------------------------------------------------------------------------------------
const heapModelNames = Array.from({ length: heapModels }, (_, i) => `model-${i}`)

// --- 7. enforced with the memory store --------------------------------------------------------------------------
const enforced = tracked.pipe(Budget.enforce)
// Provided around each timed loop (built once per loop): its listener sees that loop's calls only, so that the other
// scenarios run without it.
const budgetLayer = Budget.layer({ limits: [{ scope: "global", amount: 1_000_000_000, window: "day" }] })

const runtime = ManagedRuntime.make(Layer.merge(
  Tracking.layerSdk({
    resource: { serviceName: "bench" },
    spanProcessor: () => new BatchSpanProcessor(new DroppingExporter()),
    metricReader: () => new IdleReader()
  }),
  // gpt-4 is priced from the catalogue; the heap test's 50 models get prices of their own.
  Layer.succeed(
    Pricing.Pricing,
    Pricing.makeCustom({
      prices: heapModelNames.map((model) => ({ model, prices: { inputPerMillion: 1, outputPerMillion: 2 } }))
    })
  )
))

const loop = <A, E>(effect: Effect.Effect<A, E>, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

const microsPerCall = async <A, E>(effect: Effect.Effect<A, E>, n: number = calls): Promise<number> => {
  const start = process.hrtime.bigint()
  await runtime.runPromise(loop(effect, n))
  return Number(process.hrtime.bigint() - start) / 1e3 / n
}

/** As `microsPerCall`, under a fresh `Budget.layer` (its build, a map and a listener, timed too: once per loop). */
const microsPerBudgetCall = async <A, E>(effect: Effect.Effect<A, E>): Promise<number> => {
  const start = process.hrtime.bigint()
  await runtime.runPromise(Effect.provide(loop(effect, calls), budgetLayer))
  return Number(process.hrtime.bigint() - start) / 1e3 / calls
}

const microsPerSdkCall = (): number => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) sdkCall()
  return Number(process.hrtime.bigint() - start) / 1e3 / calls
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2)

const median = (values: Array<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const gc = (globalThis as { gc?: () => void }).gc
const heapAfterGc = () => {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

/** The comparison is only fair if the baseline span carries exactly the attributes the tracked span does. */
const assertSameAttributes = async () => {
  const keysOf = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.runPromise(
      effect.pipe(Effect.zipRight(TrackingTest.finishedSpans), Effect.provide(TrackingTest.layer))
    ).then((spans) => Object.keys(spans[0].attributes).sort())
  const [tracked, recorded, baseline] = await Promise.all([
    keysOf(trackedFor("gpt-4")),
    keysOf(trackedRecord),
    keysOf(withSpan)
  ])
  for (const keys of [tracked, recorded]) {
    if (keys.join() !== baseline.join()) {
      throw new Error(`baseline attributes differ from the tracked span's:\n${keys}\n${baseline}`)
    }
  }
}

const main = async () => {
  await assertSameAttributes()
  const results: Record<"untracked" | "withSpan" | "tracked" | "recorded" | "sdk", Array<number>> = {
    untracked: [],
    withSpan: [],
    tracked: [],
    recorded: [],
    sdk: []
  }
  // Warm-up, so that every path is optimized before it is timed.
  await runtime.runPromise(loop(Effect.all([untracked, withSpan, tracked, trackedRecord]), Math.ceil(calls / 5)))
  for (let i = 0; i < Math.ceil(calls / 5); i++) sdkCall()

  const trackedOverWithSpan: Array<number> = []
  const recordedOverWithSpan: Array<number> = []
  const trackedOverSdk: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    results.untracked.push(await microsPerCall(untracked))
    if (round % 2 === 0) {
      results.withSpan.push(await microsPerCall(withSpan))
      results.tracked.push(await microsPerCall(tracked))
      results.recorded.push(await microsPerCall(trackedRecord))
      results.sdk.push(microsPerSdkCall())
    } else {
      results.sdk.push(microsPerSdkCall())
      results.recorded.push(await microsPerCall(trackedRecord))
      results.tracked.push(await microsPerCall(tracked))
      results.withSpan.push(await microsPerCall(withSpan))
    }
    trackedOverWithSpan.push(results.tracked[round] / results.withSpan[round])
    recordedOverWithSpan.push(results.recorded[round] / results.withSpan[round])
    trackedOverSdk.push(results.tracked[round] / results.sdk[round])
  }
  const us = {
    untracked: median(results.untracked),
    withSpan: median(results.withSpan),
    tracked: median(results.tracked),
    recorded: median(results.recorded),
    sdk: median(results.sdk)
  }

  const models = heapModelNames.map(trackedFor)
  // One pass over every model first, so that the caches a steady state needs are part of the baseline.
  await runtime.runPromise(Effect.forEach(models, (m) => m, { discard: true }))
  const before = heapAfterGc()
  await runtime.runPromise(Effect.gen(function*() {
    for (let i = 0; i < heapCalls; i++) yield* models[i % heapModels]
  }))
  const after = heapAfterGc()

  // Names no price knows, so that the unknown-model warnings see them too (not printed: the level is None).
  const leak = (from: number, to: number) =>
    runtime.runPromise(
      Effect.gen(function*() {
        for (let i = from; i < to; i++) yield* trackedFor(`leak-model-${i}`)
      }).pipe(Logger.withMinimumLogLevel(LogLevel.None))
    )
  const leakBefore = heapAfterGc()
  await leak(0, leakModels / 2)
  const leakMiddle = heapAfterGc()
  await leak(leakModels / 2, leakModels)
  const leakAfter = heapAfterGc()
  // The metrics this line has always listed: the budget metrics (scenario 7) have a series or two, no bound to show.
  const seriesByMetric = new Map(
    Array.from(Metrics.units.keys()).filter((name) => !name.startsWith("botanu.budget.")).map((name) => [name, 0])
  )
  for (const { metricKey } of Metric.unsafeSnapshot()) {
    const count = seriesByMetric.get(metricKey.name)
    if (count !== undefined) seriesByMetric.set(metricKey.name, count + 1)
  }
  // An @effect/ai call takes some hundred µs of its own (it decodes every part with its schemas): fewer calls a round.
  const aiPerRound = Math.ceil(calls / 10)
  const ai = await runtime.runPromise(Effect.flatMap(aiModel, aiCalls))
  await runtime.runPromise(loop(Effect.all([ai.untracked, ai.tracked]), aiPerRound))
  const aiResults: Record<"untracked" | "tracked", Array<number>> = { untracked: [], tracked: [] }
  const aiTrackedOverUntracked: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      aiResults.untracked.push(await microsPerCall(ai.untracked, aiPerRound))
      aiResults.tracked.push(await microsPerCall(ai.tracked, aiPerRound))
    } else {
      aiResults.tracked.push(await microsPerCall(ai.tracked, aiPerRound))
      aiResults.untracked.push(await microsPerCall(ai.untracked, aiPerRound))
    }
    aiTrackedOverUntracked.push(aiResults.tracked[round] / aiResults.untracked[round])
  }
  const aiUs = { untracked: median(aiResults.untracked), tracked: median(aiResults.tracked) }

  const budgetResults: Record<"tracked" | "listened" | "enforced", Array<number>> = {
    tracked: [],
    listened: [],
    enforced: []
  }
  const enforcedOverTracked: Array<number> = []
  const listenedOverTracked: Array<number> = []
  await runtime.runPromise(Effect.provide(loop(Effect.all([enforced, tracked]), Math.ceil(calls / 5)), budgetLayer))
  for (let round = 0; round < rounds; round++) {
    const order = ["tracked", "listened", "enforced"] as const
    for (const name of round % 2 === 0 ? order : [...order].reverse()) {
      budgetResults[name].push(
        name === "tracked"
          ? await microsPerCall(tracked)
          : await microsPerBudgetCall(name === "enforced" ? enforced : tracked)
      )
    }
    enforcedOverTracked.push(budgetResults.enforced[round] / budgetResults.tracked[round])
    listenedOverTracked.push(budgetResults.listened[round] / budgetResults.tracked[round])
  }

  await runtime.dispose()
  await sdkTracerProvider.shutdown()
  await sdkMeterProvider.shutdown()

  const lines = [
    `calls per scenario: ${calls} x ${rounds} rounds, alternating order (medians)${
      short ? " [short mode: timings not meaningful]" : ""
    }`,
    `1. untracked                      ${us.untracked.toFixed(3)} µs/call`,
    `2. Effect.withSpan + annotate     ${us.withSpan.toFixed(3)} µs/call`,
    `3. trackLlmCall (+ metrics, cost) ${us.tracked.toFixed(3)} µs/call`,
    `3r. the same, tracker.record      ${us.recorded.toFixed(3)} µs/call`,
    `4. OpenTelemetry SDK alone        ${us.sdk.toFixed(3)} µs/call`,
    `ratio 3/2 (#21 target <= 0.7)     ${median(trackedOverWithSpan).toFixed(2)} (median of per-round ratios; ${
      Math.min(...trackedOverWithSpan).toFixed(2)
    } to ${Math.max(...trackedOverWithSpan).toFixed(2)})`,
    `ratio 3r/2 (#21 target <= 0.7)    ${median(recordedOverWithSpan).toFixed(2)} (median of per-round ratios; ${
      Math.min(...recordedOverWithSpan).toFixed(2)
    } to ${Math.max(...recordedOverWithSpan).toFixed(2)})`,
    `ratio 3/4                         ${median(trackedOverSdk).toFixed(2)}`,
    `heap growth after GC, ${heapCalls} tracked calls over ${heapModels} models: ${
      ((after - before) / 1024 / 1024).toFixed(2)
    } MiB${gc === undefined ? " (run with --expose-gc for a real figure)" : ""}`,
    `heap growth after GC, ${leakModels} tracked calls over ${leakModels} distinct model names: ${
      mib(leakAfter - leakBefore)
    } MiB, ${Math.round((leakAfter - leakBefore) / leakModels)} bytes/model (the last ${leakModels / 2} names: ${
      mib(leakAfter - leakMiddle)
    } MiB)${short ? ` [short mode: ${leakModels} names, not 50000]` : ""}`,
    `series per metric after them (cap 2000): ${
      Array.from(seriesByMetric, ([name, count]) => `${name} ${count}`).join(", ")
    }`,
    `@effect/ai calls per scenario: ${aiPerRound} x ${rounds} rounds, alternating order (medians)`,
    `5. @effect/ai generateText        ${aiUs.untracked.toFixed(3)} µs/call`,
    `6. the same, EffectAi-tracked     ${aiUs.tracked.toFixed(3)} µs/call`,
    `ratio 6/5                         ${median(aiTrackedOverUntracked).toFixed(2)} (median of per-round ratios; ${
      Math.min(...aiTrackedOverUntracked).toFixed(2)
    } to ${Math.max(...aiTrackedOverUntracked).toFixed(2)}), tracking adds ${
      (aiUs.tracked - aiUs.untracked).toFixed(1)
    } µs/call`,
    `budget calls per scenario: ${calls} x ${rounds} rounds, alternating order (medians)`,
    `7. 3 + Budget.enforce (memory)    ${median(budgetResults.enforced).toFixed(3)} µs/call (3 in these rounds: ${
      median(budgetResults.tracked).toFixed(3)
    } µs/call)`,
    `ratio 7/3                         ${median(enforcedOverTracked).toFixed(2)} (median of per-round ratios; ${
      Math.min(...enforcedOverTracked).toFixed(2)
    } to ${Math.max(...enforcedOverTracked).toFixed(2)}); 3 under Budget.layer, not enforced: ${
      median(listenedOverTracked).toFixed(2)
    }`
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
}

main().catch((error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
