/**
 * End to end, the export's identity and temporality against real backends (see test/e2e/Backends.test.ts for the
 * set-up; skipped, and says why, without them):
 *
 * - two replicas of one service (two processes, test/e2e/replica.ts, started at once) write two series into
 *   VictoriaMetrics, told apart by `service_instance_id`, whose sum is the sum of both replicas' own totals;
 * - with `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta` the metrics go to the test's OTLP receiver
 *   (VictoriaMetrics silently drops delta points): every export carries only what was recorded since the previous
 *   one, and the deltas add up to the run's cumulative totals.
 */
import { assert, it } from "@effect/vitest"
import { SDK_INFO } from "@opentelemetry/core"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as OtlpReceiver from "../utils/otlpReceiver.js"
import * as Harness from "./harness.js"
import type { ReplicaOptions, ReplicaResult } from "./replica.js"
import { describeWithBackends } from "./suites.js"

const backends = await Harness.findBackends()

const repo = fileURLToPath(new URL("../..", import.meta.url))
const replicaScript = fileURLToPath(new URL("./replica.ts", import.meta.url))
const packageVersion = (JSON.parse(readFileSync(`${repo}package.json`, "utf8")) as { version: string }).version
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const assertClose = (actual: number, expected: number, message: string, relative = 1e-9) =>
  assert.isAtMost(Math.abs(actual - expected), relative * Math.abs(expected), `${message}: ${actual} vs ${expected}`)

// --- replicas as child processes ----------------------------------------------------------------------------------

interface Replica {
  readonly ready: Promise<void>
  readonly go: () => void
  readonly done: Promise<ReplicaResult>
  readonly stop: () => void
}

const startReplica = (options: ReplicaOptions): Replica => {
  const child = spawn(process.execPath, ["--import", "tsx", replicaScript, JSON.stringify(options)], {
    cwd: repo,
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      if (stdout.startsWith("READY\n")) resolve()
    })
    child.on(
      "exit",
      (code) => reject(new Error(`replica ${child.pid} exited (${code}) before it was ready: ${stderr}`))
    )
  })
  const done = new Promise<ReplicaResult>((resolve, reject) => {
    child.on("close", (code, signal) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "))
      if (code === 0 && line !== undefined) resolve(JSON.parse(line.slice("RESULT ".length)) as ReplicaResult)
      else reject(new Error(`replica ${child.pid} exited (${code ?? signal}):\n${stdout}\n${stderr}`))
    })
  })
  // A rejection nobody awaits yet (the test fails elsewhere first) must not be reported as unhandled.
  ready.catch(() => {})
  done.catch(() => {})
  return {
    ready,
    go: () => child.stdin.end("go\n"),
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
  }
}

interface ReplicasRun {
  readonly results: ReadonlyArray<ReplicaResult>
  readonly received: ReadonlyArray<OtlpReceiver.ReceivedSpan>
  readonly vm: Harness.VictoriaMetrics
  readonly selector: string
  readonly serviceName: string
}

/** Two replicas of one service, started at once, exporting to VictoriaMetrics (metrics) and a receiver (traces). */
const replicasRun = (victoriaMetrics: string): Effect.Effect<ReplicasRun> =>
  Effect.gen(function*() {
    const vm = Harness.victoriaMetrics(victoriaMetrics)
    const receiver = yield* OtlpReceiver.make()
    const serviceName = `botanu-e2e-replicas-${randomUUID().slice(0, 8)}`
    const replicas = yield* Effect.acquireRelease(
      Effect.sync(() =>
        [0, 1].map(() =>
          startReplica({
            serviceName,
            tracesUrl: receiver.tracesUrl,
            metricsUrl: vm.otlpMetricsUrl,
            // Periodic exports while the other replica exports too, and the final one at shutdown.
            layer: { metricExportInterval: "1 second", shutdownTimeout: "1 second" }
          })
        )
      ),
      (replicas) => Effect.sync(() => replicas.forEach((replica) => replica.stop()))
    )
    yield* Effect.promise(() => Promise.all(replicas.map((replica) => replica.ready)))
    for (const replica of replicas) replica.go()
    const results = yield* Effect.promise(() => Promise.all(replicas.map((replica) => replica.done)))
    yield* vm.forceFlush
    const received = yield* receiver.spans
    for (const result of results) {
      console.info(
        `e2e replicas: pid ${result.pid} (${result.resource["service.instance.id"]}): ` +
          `${result.totals.calls} calls, $${result.totals.costUsd}, attempts ${
            JSON.stringify(result.totals.attempts)
          }, ` +
          `tokens ${JSON.stringify(result.totals.tokens)}, ${result.released - result.started} ms`
      )
    }
    return { results, received, vm, selector: `service_name="${serviceName}"`, serviceName }
  }).pipe(Effect.scoped)

const byInstance = (samples: ReadonlyArray<Harness.Sample>, ...labels: ReadonlyArray<string>) =>
  new Map(
    samples.map((sample) => [
      [sample.labels.service_instance_id ?? "", ...labels.map((label) => sample.labels[label] ?? "")].join("/"),
      sample.value
    ])
  )

const replicaChecks = (run: Effect.Effect<ReplicasRun>) => {
  it.live(
    "two replicas ran at once, each with a service.instance.id of its own and otherwise one resource",
    () =>
      Effect.gen(function*() {
        const { results, serviceName } = yield* run
        const [a, b] = results
        assert.isBelow(a.started, b.released, "the replicas' runs overlap")
        assert.isBelow(b.started, a.released, "the replicas' runs overlap")
        for (const result of results) {
          assert.match(String(result.resource["service.instance.id"]), uuid)
          assert.strictEqual(result.resource["service.name"], serviceName)
        }
        assert.notStrictEqual(a.resource["service.instance.id"], b.resource["service.instance.id"])
        assert.deepStrictEqual(
          { ...a.resource, "service.instance.id": "" },
          { ...b.resource, "service.instance.id": "" }
        )
        // The demo is seeded: both replicas made the same calls, and recorded what their reports say.
        assert.deepStrictEqual(a.totals.attempts, b.totals.attempts)
        for (const result of results) assertClose(result.totals.costUsd, result.reportCostUsd, "registry vs report")
      }),
    60_000
  )

  it.live(
    "VictoriaMetrics holds two series per replica's series, one per instance, summing to both runs",
    () =>
      Effect.gen(function*() {
        const { results, selector, vm } = yield* run
        const ids = results.map((result) => String(result.resource["service.instance.id"])).sort()

        const cost = byInstance(
          yield* vm.query(`sum by (service_instance_id) (botanu_gen_ai_cost_USD_total{${selector}})`)
        )
        assert.deepStrictEqual([...cost.keys()].sort(), ids)
        for (const result of results) {
          assertClose(cost.get(String(result.resource["service.instance.id"]))!, result.totals.costUsd, "cost")
        }
        const [total] = yield* vm.query(`sum(botanu_gen_ai_cost_USD_total{${selector}})`)
        const expectedTotal = results.reduce((sum, result) => sum + result.totals.costUsd, 0)
        assertClose(total.value, expectedTotal, "total cost over both replicas")

        const attempts = byInstance(
          yield* vm.query(`sum by (service_instance_id, status) (botanu_gen_ai_attempts_total{${selector}})`),
          "status"
        )
        const tokens = byInstance(
          yield* vm.query(
            `sum by (service_instance_id, gen_ai_token_type) (gen_ai_client_token_usage_sum{${selector}})`
          ),
          "gen_ai_token_type"
        )
        const calls = byInstance(
          yield* vm.query(`sum by (service_instance_id) (gen_ai_client_operation_duration_seconds_count{${selector}})`)
        )
        for (const result of results) {
          const id = String(result.resource["service.instance.id"])
          for (const [status, count] of Object.entries(result.totals.attempts)) {
            assert.strictEqual(attempts.get(`${id}/${status}`), count, `${id} attempts ${status}`)
          }
          for (const [type, count] of Object.entries(result.totals.tokens)) {
            assert.strictEqual(tokens.get(`${id}/${type}`), count, `${id} tokens ${type}`)
          }
          assert.strictEqual(calls.get(id), result.totals.calls, `${id} calls`)
        }
        const [attemptsTotal] = yield* vm.query(`sum(botanu_gen_ai_attempts_total{${selector}})`)
        const sumOfRuns = results.reduce(
          (sum, result) => sum + Object.values(result.totals.attempts).reduce((a, b) => a + b, 0),
          0
        )
        assert.strictEqual(attemptsTotal.value, sumOfRuns)
        console.info(
          `e2e replicas: VictoriaMetrics total cost $${total.value} = ${
            results.map((r) => `$${r.totals.costUsd}`).join(" + ")
          }; attempts ${attemptsTotal.value} = ${sumOfRuns}`
        )
      }),
    60_000
  )

  it.live("each replica's spans arrive with its own service.instance.id", () =>
    Effect.gen(function*() {
      const { received, results, serviceName } = yield* run
      for (const result of results) {
        const mine = received.filter((span) =>
          span.resource["service.instance.id"] === result.resource["service.instance.id"]
        )
        assert.strictEqual(mine.length, result.spans, String(result.resource["service.instance.id"]))
        for (const span of mine) assert.deepStrictEqual(span.resource, result.resource)
        // The bridge's one tracer, named after the service.
        for (const span of mine) assert.deepStrictEqual(span.scope, { name: serviceName, version: "" })
      }
      assert.strictEqual(received.length, results[0].spans + results[1].spans)
    }), 60_000)
}

// --- delta temporality through the test's receiver ----------------------------------------------------------------

interface DeltaRun {
  readonly run: Harness.Run<unknown>
  readonly requests: ReadonlyArray<OtlpReceiver.ExportMetricsServiceRequest>
  readonly startedNanos: bigint
}

const deltaRun: Effect.Effect<DeltaRun> = Effect.gen(function*() {
  assert.strictEqual(Harness.attemptsRecorded(), 0, "LLM calls were recorded in this process before the run")
  const receiver = yield* OtlpReceiver.make()
  const startedNanos = BigInt(Date.now()) * 1_000_000n
  // The demo, a pause longer than the interval (exports with nothing new), the demo again.
  const program = Harness.demoProgram.pipe(
    Effect.zipRight(Effect.sleep("1200 millis")),
    Effect.zipRight(Harness.demoProgram)
  )
  const run = yield* Harness.runTracked(program, {
    tracesUrl: receiver.tracesUrl,
    metricsUrl: receiver.metricsUrl,
    layer: { metricExportInterval: "500 millis", shutdownTimeout: "500 millis" },
    config: { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "delta" }
  })
  const requests = yield* receiver.metrics
  return { run, requests, startedNanos }
}).pipe(Effect.scoped)

interface WirePoint {
  readonly key: string
  readonly start: bigint
  readonly time: bigint
  readonly total: Harness.SeriesTotal
}

/** Every point of the library's metrics received, with the temporality each metric was sent with. */
const libraryPoints = (requests: ReadonlyArray<OtlpReceiver.ExportMetricsServiceRequest>) => {
  const points: Array<WirePoint> = []
  const temporalities = new Map<string, Set<string>>()
  const scopes: Array<{ name: string; version: string }> = []
  for (const request of requests) {
    for (const resourceMetrics of request.resourceMetrics) {
      for (const scopeMetrics of resourceMetrics.scopeMetrics) {
        const own = scopeMetrics.scope?.name === "@botanu/effect"
        if (own) scopes.push({ name: scopeMetrics.scope!.name, version: scopeMetrics.scope!.version })
        for (const metric of scopeMetrics.metrics) {
          const data = metric.sum ?? metric.histogram
          if (data === undefined) continue
          const seen = temporalities.get(metric.name) ?? new Set()
          const instrument = metric.histogram !== undefined
            ? "histogram"
            : metric.sum!.isMonotonic
            ? "counter"
            : "updown"
          seen.add(`${own ? "library" : "other"} ${instrument} ${data.aggregationTemporality}`)
          temporalities.set(metric.name, seen)
          if (!own) continue
          for (const point of metric.sum?.dataPoints ?? []) {
            points.push({
              key: Harness.seriesKey(metric.name, OtlpReceiver.attributesOf(point.attributes)),
              start: BigInt(point.startTimeUnixNano),
              time: BigInt(point.timeUnixNano),
              total: { _tag: "Sum", value: point.value === "asInt" ? Number(point.asInt) : point.asDouble! }
            })
          }
          for (const point of metric.histogram?.dataPoints ?? []) {
            points.push({
              key: Harness.seriesKey(metric.name, OtlpReceiver.attributesOf(point.attributes)),
              start: BigInt(point.startTimeUnixNano),
              time: BigInt(point.timeUnixNano),
              total: {
                _tag: "Histogram",
                count: Number(point.count),
                sum: point.sum ?? 0,
                counts: point.bucketCounts.map(Number)
              }
            })
          }
        }
      }
    }
  }
  return { points, temporalities, scopes }
}

const deltaChecks = (delta: Effect.Effect<DeltaRun>) => {
  it.live(
    "every export of the library's counters and histograms is delta, in the library's scope",
    () =>
      Effect.gen(function*() {
        const { requests, run } = yield* delta
        const { points, scopes, temporalities } = libraryPoints(requests)
        const exportsWithLibrary = scopes.length
        console.info(
          `e2e delta: ${requests.length} metric exports, ${exportsWithLibrary} with the library's metrics, ` +
            `${points.length} points; run ${run.runMillis} ms, shutdown ${run.shutdownMillis} ms`
        )
        assert.isAtLeast(exportsWithLibrary, 3, "several exports carried the library's metrics")
        for (const scope of scopes) assert.deepStrictEqual(scope, { name: "@botanu/effect", version: packageVersion })
        for (const name of ["botanu.gen_ai.cost", "botanu.gen_ai.attempts"]) {
          assert.deepStrictEqual([...temporalities.get(name)!], ["library counter AGGREGATION_TEMPORALITY_DELTA"], name)
        }
        assert.deepStrictEqual(
          [...temporalities.get("gen_ai.client.token.usage")!],
          ["library histogram AGGREGATION_TEMPORALITY_DELTA"]
        )
        // Other metrics (Effect's runtime ones): up-down counters (Effect's plain counters) stay cumulative under
        // delta, as the specification says; counters and histograms are delta too.
        const others = [...temporalities.values()].flatMap((seen) => [...seen]).filter((e) => e.startsWith("other"))
        for (const entry of others) {
          assert.include(
            [
              "other updown AGGREGATION_TEMPORALITY_CUMULATIVE",
              "other counter AGGREGATION_TEMPORALITY_DELTA",
              "other histogram AGGREGATION_TEMPORALITY_DELTA"
            ],
            entry
          )
        }
        console.info(`e2e delta: other metrics' temporalities: ${[...new Set(others)].join(", ") || "none"}`)
        // One resource on every export: the layer's, with its instance id and the SDK's telemetry.sdk.*.
        const resources = new Set(
          requests.flatMap((request) =>
            request.resourceMetrics.map((rm) =>
              JSON.stringify(OtlpReceiver.attributesOf(rm.resource?.attributes ?? []))
            )
          )
        )
        assert.deepStrictEqual([...resources], [JSON.stringify(run.resource)])
        assert.match(String(run.resource["service.instance.id"]), uuid)
        assert.strictEqual(run.resource["telemetry.sdk.name"], "opentelemetry")
        assert.strictEqual(run.resource["telemetry.sdk.language"], "nodejs")
        assert.strictEqual(run.resource["telemetry.sdk.version"], SDK_INFO["telemetry.sdk.version"])
      }),
    60_000
  )

  it.live("the deltas add up to the run's cumulative totals, series by series", () =>
    Effect.gen(function*() {
      const { requests, run } = yield* delta
      const { points } = libraryPoints(requests)
      const sums = new Map<string, Harness.SeriesTotal>()
      for (const { key, total } of points) {
        const before = sums.get(key)
        if (before === undefined) sums.set(key, total)
        else if (before._tag === "Sum" && total._tag === "Sum") {
          sums.set(key, { _tag: "Sum", value: before.value + total.value })
        } else if (before._tag === "Histogram" && total._tag === "Histogram") {
          sums.set(key, {
            _tag: "Histogram",
            count: before.count + total.count,
            sum: before.sum + total.sum,
            counts: before.counts.map((count, i) => count + total.counts[i])
          })
        }
      }
      const expected = Harness.librarySeries(run.metrics)
      assert.isAbove(expected.size, 20)
      // Series with nothing recorded (a zero) are never sent as a delta.
      const recorded = [...expected].filter(([, total]) => total._tag === "Sum" ? total.value !== 0 : total.count > 0)
      assert.deepStrictEqual([...sums.keys()].sort(), recorded.map(([key]) => key).sort())
      let pointsSeen = 0
      for (const [key, total] of recorded) {
        const got = sums.get(key)!
        if (total._tag === "Sum" && got._tag === "Sum") {
          if (key.startsWith("botanu.gen_ai.cost ")) assertClose(got.value, total.value, key)
          else assert.strictEqual(got.value, total.value, key)
        } else if (total._tag === "Histogram" && got._tag === "Histogram") {
          assert.strictEqual(got.count, total.count, key)
          assertClose(got.sum, total.sum, key)
          assert.deepStrictEqual(got.counts, total.counts, key)
        } else assert.fail(`${key}: ${got._tag} vs ${total._tag}`)
        pointsSeen++
      }
      // Some series got deltas in more than one export (the demo ran twice, exports in between).
      const exportsPerSeries = new Map<string, number>()
      for (const { key } of points) exportsPerSeries.set(key, (exportsPerSeries.get(key) ?? 0) + 1)
      const spread = [...exportsPerSeries.values()].filter((n) => n > 1).length
      assert.isAbove(spread, 5, "series with deltas in several exports")
      console.info(
        `e2e delta: ${pointsSeen} series, ${spread} of them in several exports; deltas sum to the totals ` +
          `(cost $${Harness.totalsOf(run.metrics).costUsd}, ${Harness.totalsOf(run.metrics).calls} calls)`
      )
    }), 60_000)

  it.live(
    "each delta covers the time since the previous export: no overlap, in order, after the layer started",
    () =>
      Effect.gen(function*() {
        const { requests, startedNanos } = yield* delta
        const { points } = libraryPoints(requests)
        const bySeries = new Map<string, Array<WirePoint>>()
        for (const point of points) bySeries.set(point.key, [...(bySeries.get(point.key) ?? []), point])
        // Every collection's points end at one time; those times are where the next deltas start.
        const collectionTimes = [...new Set(points.map((point) => point.time))].sort((a, b) => (a < b ? -1 : 1))
        for (const [key, series] of bySeries) {
          series.sort((a, b) => (a.time < b.time ? -1 : 1))
          for (let i = 0; i < series.length; i++) {
            const point = series[i]
            assert.isTrue(point.start < point.time, `${key}: start before end`)
            assert.isTrue(point.start >= startedNanos - 1_000_000n, `${key}: start after the layer started`)
            if (i > 0) assert.isTrue(point.start >= series[i - 1].time, `${key}: no overlap with the previous delta`)
            const previousCollection = collectionTimes.filter((time) => time < point.time).at(-1)
            // The previous collection's time, or (before the first export with the library's metrics) the layer's start.
            if (previousCollection !== undefined) {
              assert.isTrue(point.start >= previousCollection, `${key}: starts at the previous collection or later`)
            }
          }
        }
      }),
    60_000
  )
}

// --- run, skip or fail --------------------------------------------------------------------------------------------

describeWithBackends(
  "two replicas of one service in VictoriaMetrics (the demo's app in two processes at once)",
  backends,
  (victoriaMetrics) => replicaChecks(Effect.runSync(Effect.cached(replicasRun(victoriaMetrics))))
)

describeWithBackends(
  "delta temporality through an OTLP receiver (the demo's app, twice)",
  backends,
  () => deltaChecks(Effect.runSync(Effect.cached(deltaRun)))
)
