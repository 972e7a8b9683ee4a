/**
 * One process spending against a budget kept in Redis, for test/e2e/BudgetRedis.test.ts: a process of its own, so
 * that two of them share nothing but Redis.
 *
 *   node --import tsx test/e2e/budgetWorker.ts '{"url":"redis://...","prefix":"...","customer":"...",...}'
 *
 * It prints `READY` once its budget layer is built (connected) and waits for a line on standard input, so that the
 * test can start two at once; then makes `calls` enforced calls, `concurrency` at a time, each costing a whole
 * number of ten-thousandths of a dollar (so that every sum is exact), and prints `RESULT <json>`.
 */
import { Effect, Layer, Logger, LogLevel } from "effect"
import { Budget } from "../../src/index.js"
import { costing, dollarPrices, forCustomer } from "../utils/budget.js"

export interface WorkerOptions {
  readonly url: string
  readonly prefix: string
  readonly customer: string
  readonly limit: number
  readonly calls: number
  readonly concurrency: number
  /** USD reserved by each call; 0: none. */
  readonly reserve: number
  /** The largest call, in ten-thousandths of a dollar; call i costs 1 + (i × 7919 mod max) of them. */
  readonly maxUnits: number
}

export interface WorkerResult {
  readonly pid: number
  readonly admitted: number
  readonly refused: number
  readonly otherFailures: ReadonlyArray<string>
  /** What this process's admitted calls cost, in ten-thousandths of a dollar. */
  readonly spentUnits: number
  readonly started: number
  readonly ended: number
}

const options = JSON.parse(process.argv[2] ?? "{}") as WorkerOptions

const costOf = (i: number) => 1 + ((i * 7919) % options.maxUnits)

const program = Effect.gen(function*() {
  process.stdout.write("READY\n")
  yield* Effect.promise(() => new Promise<void>((resolve) => process.stdin.once("data", () => resolve())))
  process.stdin.destroy()
  const started = Date.now()
  // A reservation of 0 is none: such a call is admitted while the limit is not reached.
  const enforce = Budget.enforce({ reserve: options.reserve })
  const results = yield* Effect.forEach(
    Array.from({ length: options.calls }, (_, i) => i),
    (i) =>
      costing(costOf(i) / 10_000, { delay: `${2 + (i % 5)} millis` }).pipe(
        enforce,
        forCustomer(options.customer),
        Effect.map(() => costOf(i)),
        Effect.either
      ),
    { concurrency: options.concurrency }
  )
  let spentUnits = 0
  let admitted = 0
  let refused = 0
  const otherFailures: Array<string> = []
  for (const result of results) {
    if (result._tag === "Right") {
      admitted++
      spentUnits += result.right
    } else if (typeof result.left === "object" && result.left._tag === "BudgetExceeded") {
      refused++
    } else {
      otherFailures.push(String(result.left))
    }
  }
  const result: WorkerResult = {
    pid: process.pid,
    admitted,
    refused,
    otherFailures,
    spentUnits,
    started,
    ended: Date.now()
  }
  return result
})

const budget = Budget.layer({
  limits: [{ scope: "customer", amount: options.limit, window: "day" }],
  store: Budget.redisStore({ url: options.url, keyPrefix: options.prefix })
})

const result = await Effect.runPromise(
  program.pipe(Effect.provide(Layer.merge(budget, dollarPrices)), Logger.withMinimumLogLevel(LogLevel.Error))
)
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
