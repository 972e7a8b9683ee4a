/**
 * One replica of a service, for test/e2e/Replicas.test.ts: a process of its own (Effect's metric registry is
 * process-global, so two replicas in one process would each export both's counts) that runs the demo's app under
 * `Tracking.layer` (test/e2e/harness.ts `runTracked`) against the URLs it is given.
 *
 *   node --import tsx test/e2e/replica.ts '{"serviceName":"...","tracesUrl":"...","metricsUrl":"..."}'
 *
 * It prints `READY` once loaded and waits for a line on standard input, so that the test can start two at once; then
 * runs, and prints `RESULT <json>`: its resource, its time window and the totals it recorded itself.
 */
import { Effect } from "effect"
import * as Report from "../../demo/report.js"
import * as Harness from "./harness.js"

export interface ReplicaOptions {
  readonly serviceName: string
  readonly tracesUrl: string
  readonly metricsUrl: string
  readonly layer?: Harness.RunOptions["layer"]
  readonly config?: Harness.RunOptions["config"]
}

export interface ReplicaResult {
  readonly pid: number
  readonly resource: Readonly<Record<string, unknown>>
  /** Milliseconds since the epoch: when the program started, and when the layer had been released. */
  readonly started: number
  readonly released: number
  readonly totals: Harness.Totals
  readonly reportCostUsd: number
  readonly spans: number
}

const options = JSON.parse(process.argv[2] ?? "{}") as ReplicaOptions

process.stdout.write("READY\n")
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()))
process.stdin.destroy()

const started = Date.now()
const run = await Effect.runPromise(Harness.runTracked(Harness.demoProgram, options))
const result: ReplicaResult = {
  pid: process.pid,
  resource: run.resource,
  started,
  released: Date.now(),
  totals: Harness.totalsOf(run.metrics),
  reportCostUsd: Report.summarize(run.value).totalCostUsd,
  spans: run.spans.length
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
