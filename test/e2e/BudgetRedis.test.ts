/**
 * End to end, `Budget.redisStore` against a real redis-server on 127.0.0.1 (`scripts/redis-backend.sh`, which
 * `npm run test:e2e` runs; skipped, and says why, without it):
 *
 * - two processes (test/e2e/budgetWorker.ts, started at once) spending against one customer's budget: with
 *   reservations the spend never passes the limit, without it passes it by at most what the calls in flight cost,
 *   and either way Redis holds exactly the sum of what both processes' calls cost;
 * - Redis stopped midway (a server of the test's own, killed by PID): fail open (calls go on, one warning per
 *   interval, the spend kept and added when Redis is back) and fail closed (`BudgetUnavailable`), and a frozen
 *   Redis (SIGSTOP: connected, silent) that makes nothing wait longer than the timeout;
 * - the keys: one per scope key and window, expiring when the window ends.
 */
import { assert, it } from "@effect/vitest"
import { Duration, Effect, Either, Layer, Logger, Metric, Schedule, TestClock } from "effect"
import { Redis } from "ioredis"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { fileURLToPath } from "node:url"
import { Budget } from "../../src/index.js"
import { attoOf, costing, dollarPrices, forCustomer } from "../utils/budget.js"
import type { WorkerOptions, WorkerResult } from "./budgetWorker.js"
import * as RedisTest from "./redis.js"

const found = await RedisTest.findRedis()

const repo = fileURLToPath(new URL("../..", import.meta.url))
const workerScript = fileURLToPath(new URL("./budgetWorker.ts", import.meta.url))

/** Ten-thousandths of a dollar, the workers' unit, in attodollars. */
const unitAtto = 100_000_000_000_000n

interface Worker {
  readonly ready: Promise<void>
  readonly go: () => void
  readonly done: Promise<WorkerResult>
  readonly stop: () => void
}

const startWorker = (options: WorkerOptions): Worker => {
  const child = spawn(process.execPath, ["--import", "tsx", workerScript, JSON.stringify(options)], {
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
    child.on("exit", (code) => reject(new Error(`worker ${child.pid} exited (${code}) before it was ready: ${stderr}`)))
  })
  const done = new Promise<WorkerResult>((resolve, reject) => {
    child.on("close", (code, signal) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "))
      if (code === 0 && line !== undefined) resolve(JSON.parse(line.slice("RESULT ".length)) as WorkerResult)
      else reject(new Error(`worker ${child.pid} exited (${code ?? signal}):\n${stdout}\n${stderr}`))
    })
  })
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

/** Two workers started together against one budget; what each did, and what Redis holds after them. */
const twoWorkers = (url: string, options: Omit<WorkerOptions, "url" | "prefix" | "customer">) =>
  Effect.gen(function*() {
    const prefix = `botanu-test:${randomUUID()}:`
    const customer = "fleet-customer"
    const workers = [0, 1].map(() => startWorker({ ...options, url, prefix, customer }))
    yield* Effect.addFinalizer(() => Effect.sync(() => workers.forEach((worker) => worker.stop())))
    yield* Effect.promise(() => Promise.all(workers.map((worker) => worker.ready)))
    for (const worker of workers) worker.go()
    const [a, b] = yield* Effect.promise(() => Promise.all(workers.map((worker) => worker.done)))
    const remaining = yield* Budget.remaining("customer", customer).pipe(
      Effect.provide(Budget.layer({
        limits: [{ scope: "customer", amount: options.limit, window: "day" }],
        store: Budget.redisStore({ url, keyPrefix: prefix })
      }))
    )
    return { a, b, limit: remaining.limits[0] }
  })

const captureLogs = () => {
  const logs: Array<string> = []
  return { logs, layer: Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message)))) }
}

const storeWarnings = (logs: ReadonlyArray<string>) =>
  logs.filter((line) => line.startsWith("botanu: Budget.redisStore"))

/** Waits (at most 10 s) until the store answers again after its Redis came back. */
const untilAnswered = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.retry(effect, Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(100))))

RedisTest.describeWithRedis("Budget.redisStore against a real redis-server", found, (redis) => {
  it.scopedLive(
    "two processes with reservations: never past the limit, and their spends add up exactly",
    () =>
      Effect.gen(function*() {
        const { a, b, limit } = yield* twoWorkers(redis.url, {
          limit: 1,
          calls: 400,
          concurrency: 16,
          reserve: 0.005,
          maxUnits: 50
        })
        assert.deepStrictEqual([a.otherFailures, b.otherFailures], [[], []])
        assert.isBelow(a.started, b.ended, "the workers ran at once")
        assert.isBelow(b.started, a.ended, "the workers ran at once")
        // Both processes spent, both were refused once the budget was used up.
        assert.isAbove(a.admitted, 0)
        assert.isAbove(b.admitted, 0)
        assert.isAbove(a.refused + b.refused, 0)
        // Exact: what Redis holds is what the calls of both processes cost, to the attodollar.
        assert.strictEqual(limit.spentAttodollars, BigInt(a.spentUnits + b.spentUnits) * unitAtto)
        // Within the bound: every call cost at most its reservation, so the spend never passed the limit.
        assert.isTrue(limit.spentAttodollars <= attoOf(1), `${limit.spent} spent of $1`)
        // And the budget was used: less than one reservation is left.
        assert.isTrue(limit.spentAttodollars > attoOf(1 - 0.005 * 32), `${limit.spent} spent of $1`)
        assert.strictEqual(limit.reserved, 0)
        console.log(
          `budget e2e (reservations): ${a.admitted} + ${b.admitted} calls admitted, ${a.refused + b.refused} ` +
            `refused; $${limit.spent} of $1 spent (process ${a.pid}: ${a.spentUnits / 10_000}, process ${b.pid}: ` +
            `${b.spentUnits / 10_000})`
        )
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "two processes without reservations: past the limit by at most what the calls in flight cost",
    () =>
      Effect.gen(function*() {
        const concurrency = 8
        const { a, b, limit } = yield* twoWorkers(redis.url, {
          limit: 0.5,
          calls: 200,
          concurrency,
          reserve: 0,
          maxUnits: 100
        })
        assert.deepStrictEqual([a.otherFailures, b.otherFailures], [[], []])
        assert.strictEqual(limit.spentAttodollars, BigInt(a.spentUnits + b.spentUnits) * unitAtto)
        assert.isTrue(limit.reached)
        // The documented bound: the calls in flight in both processes when the limit was reached, each at most $0.01.
        const bound = attoOf(0.5) + BigInt(2 * concurrency) * attoOf(0.01)
        assert.isTrue(limit.spentAttodollars <= bound, `${limit.spent} spent, bound ${Number(bound) / 1e18}`)
        console.log(
          `budget e2e (no reservations): $${limit.spent} spent of $0.5 (bound $${Number(bound) / 1e18}), ` +
            `${a.refused + b.refused} refused`
        )
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "Redis stopped midway, fail open: calls go on, one warning, the spend added when Redis is back",
    () =>
      Effect.gen(function*() {
        const own = yield* Effect.acquireRelease(
          Effect.promise(() => RedisTest.startRedis(redis)),
          (server) => Effect.promise(() => server.kill())
        )
        const { layer: logs, logs: lines } = captureLogs()
        const acme = forCustomer("acme")
        const program = Effect.gen(function*() {
          yield* costing(0.1).pipe(Budget.enforce({ reserve: 0.2 }), acme)
          assert.strictEqual((yield* Budget.remaining("customer", "acme")).limits[0].spent, 0.1)
          yield* Effect.promise(() => own.kill())
          // Once the client has seen the connection close: a command sent in the moment before may or may not have
          // been applied (it is then not sent again, and the warning says so), which is not what this test is about.
          yield* Effect.sleep("300 millis")
          // Twenty calls while Redis is gone: none fails, none waits for it.
          const started = Date.now()
          for (let i = 0; i < 20; i++) yield* costing(0.01).pipe(Budget.enforce({ reserve: 0.2 }), acme)
          const took = Date.now() - started
          assert.isBelow(took, 2_000, `20 calls took ${took} ms`)
          assert.isTrue(Either.isLeft(yield* Effect.either(Budget.remaining("customer", "acme"))))
          const warnings = storeWarnings(lines)
          assert.strictEqual(warnings.length, 1, warnings.join("\n"))
          assert.match(warnings[0], /^botanu: Budget\.redisStore: Redis at 127\.0\.0\.1:\d+ is not connected/)
          assert.include(warnings[0], "enforced calls go on unchecked (the store fails open)")
          // Redis comes back (empty: no persistence): what was spent meanwhile is added with the next command.
          const back = yield* Effect.acquireRelease(
            Effect.promise(() => RedisTest.startRedis(redis, own.port)),
            (server) => Effect.promise(() => server.kill())
          )
          void back
          const after = yield* untilAnswered(Budget.remaining("customer", "acme"))
          assert.closeTo(after.limits[0].spent, 0.2, 1e-12)
          assert.include(storeWarnings(lines).at(-1)!, "answers again")
          yield* costing(0.05).pipe(Budget.enforce({ reserve: 0.2 }), acme)
          assert.closeTo((yield* Budget.remaining("customer", "acme")).limits[0].spent, 0.25, 1e-12)
        })
        yield* program.pipe(
          Effect.provide(Layer.mergeAll(
            Budget.layer({
              limits: [{ scope: "customer", amount: 10, window: "day" }],
              store: Budget.redisStore({ url: own.url, timeout: "200 millis", warnInterval: "1 minute" })
            }),
            dollarPrices,
            logs
          ))
        )
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "Redis stopped midway, fail closed: enforced calls fail with BudgetUnavailable at once",
    () =>
      Effect.gen(function*() {
        const own = yield* Effect.acquireRelease(
          Effect.promise(() => RedisTest.startRedis(redis)),
          (server) => Effect.promise(() => server.kill())
        )
        const acme = forCustomer("acme")
        const unavailable = Budget.refusalsMetric.pipe(Metric.tagged("botanu.budget.reason", "unavailable"))
        const program = Effect.gen(function*() {
          yield* costing(0.1).pipe(Budget.enforce, acme)
          yield* Effect.promise(() => own.kill())
          yield* Effect.sleep("300 millis") // as above: once the client has seen the connection close
          const before = (yield* Metric.value(unavailable)).count
          const started = Date.now()
          const result = yield* Effect.either(costing(0.1).pipe(Budget.enforce, acme))
          assert.isBelow(Date.now() - started, 1_000)
          assert.isTrue(Either.isLeft(result))
          const error = (result as Either.Left<{ _tag: string; message: string }, number>).left
          assert.strictEqual(error._tag, "BudgetUnavailable")
          assert.match(error.message, /^budget: Redis at 127\.0\.0\.1:\d+ is not connected .*; the call was refused/)
          assert.strictEqual((yield* Metric.value(unavailable)).count, before + 1)
          const read = yield* Effect.either(Budget.remaining("customer", "acme"))
          assert.strictEqual(Either.isLeft(read) ? read.left._tag : "", "BudgetUnavailable")
          // A call that is not enforced is never refused: it runs, and its spend waits for Redis.
          assert.strictEqual(yield* costing(0.1).pipe(acme), 0.1)
        })
        yield* program.pipe(
          Effect.provide(Layer.merge(
            Budget.layer({
              limits: [{ scope: "customer", amount: 10, window: "day" }],
              store: Budget.redisStore({ url: own.url, timeout: "200 millis", onUnavailable: "closed" })
            }),
            dollarPrices
          ))
        )
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "a frozen Redis (connected, silent): nothing waits longer than the timeout",
    () =>
      Effect.gen(function*() {
        const own = yield* Effect.acquireRelease(
          Effect.promise(() => RedisTest.startRedis(redis)),
          (server) => Effect.promise(() => server.kill())
        )
        const acme = forCustomer("acme")
        const layer = (onUnavailable: "open" | "closed") =>
          Layer.merge(
            Budget.layer({
              limits: [{ scope: "customer", amount: 10, window: "day" }],
              store: Budget.redisStore({ url: own.url, timeout: "300 millis", onUnavailable })
            }),
            dollarPrices
          )
        const timed = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.map(Effect.timed(Effect.either(effect)), ([duration, result]) => ({
            millis: Duration.toMillis(duration),
            result
          }))
        const open = yield* Effect.gen(function*() {
          yield* costing(0.1).pipe(Budget.enforce, acme)
          own.freeze()
          // The check times out (fail open: the call runs), then adding its spend times out: twice the timeout.
          return yield* timed(costing(0.1).pipe(Budget.enforce, acme))
        }).pipe(Effect.provide(layer("open")), Effect.ensuring(Effect.sync(() => own.thaw())))
        assert.isTrue(Either.isRight(open.result))
        assert.isBelow(open.millis, 2 * 300 + 400, "fail open: at most the timeout twice")
        const closed = yield* Effect.gen(function*() {
          own.freeze()
          return yield* timed(costing(0.1).pipe(Budget.enforce, acme))
        }).pipe(Effect.provide(layer("closed")), Effect.ensuring(Effect.sync(() => own.thaw())))
        assert.strictEqual(
          Either.isLeft(closed.result) ? (closed.result.left as { _tag: string })._tag : "",
          "BudgetUnavailable"
        )
        assert.isBelow(closed.millis, 300 + 400, "fail closed: at most the timeout")
      }),
    { timeout: 60_000 }
  )

  it.scoped(
    "one key per scope key and window, expiring when the window ends; reservations give their key back",
    () =>
      Effect.gen(function*() {
        const prefix = `botanu-test:${randomUUID()}:`
        const client = yield* Effect.acquireRelease(
          Effect.sync(() => new Redis(redis.url, { lazyConnect: false })),
          (client) => Effect.promise(() => client.quit())
        )
        const now = Date.now()
        yield* Effect.gen(function*() {
          yield* TestClock.setTime(now)
          const run = Effect.gen(function*() {
            yield* costing(0.25).pipe(Budget.enforce({ reserve: 0.5 }))
            yield* TestClock.adjust("30 minutes")
            yield* costing(0.125).pipe(Budget.enforce({ reserve: 0.5 }))
          }).pipe(forCustomer("acme:corp/1", "refund_request", { tenantId: "t1" }))
          yield* run
          yield* TestClock.adjust("45 minutes")
          // 75 minutes on, the first call has left the rolling hour; the day and the month hold both.
          const rolling = yield* Budget.remaining("workflow", "refund_request")
          assert.deepStrictEqual(rolling.limits.map((limit) => limit.spent), [0.125])
          const customer = yield* Budget.remaining("customer", "acme:corp/1")
          assert.deepStrictEqual(customer.limits.map((limit) => [limit.window, limit.spent]), [["day", 0.375]])
        }).pipe(
          Effect.provide(Layer.merge(
            Budget.layer({
              limits: [
                { scope: "customer", amount: 10, window: "day" },
                { scope: "tenant", amount: 10, window: "month", mode: "soft" },
                { scope: "workflow", amount: 10, window: "1 hour" },
                { scope: "run", amount: 1 }
              ],
              store: Budget.redisStore({ url: redis.url, keyPrefix: prefix }),
              runTtl: "2 hours"
            }),
            dollarPrices
          ))
        )
        const keys = (yield* Effect.promise(() => client.keys(`${prefix}*`))).sort()
        const date = new Date(now)
        const day = date.toISOString().slice(0, 10)
        const month = day.slice(0, 7)
        const withoutPrefix = keys.map((key) => key.slice(prefix.length))
        assert.include(withoutPrefix, `customer:acme%3Acorp%2F1:d${day}`)
        assert.include(withoutPrefix, `tenant:t1:m${month}`)
        // Two buckets of the rolling hour, the run's key; no reservation is left (given back at 0, deleted).
        assert.strictEqual(withoutPrefix.filter((key) => key.startsWith("workflow:refund_request:r3600000:")).length, 2)
        assert.strictEqual(withoutPrefix.filter((key) => key.startsWith("run:")).length, 1)
        assert.deepStrictEqual(withoutPrefix.filter((key) => key.endsWith(":reserved")), [])
        assert.strictEqual(
          yield* Effect.promise(() => client.get(`${prefix}customer:acme%3Acorp%2F1:d${day}`)),
          "375000000"
        )
        // The day's key expires an hour after the UTC day ends.
        const dayEnd = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
        const expiry = yield* Effect.promise(() => client.pexpiretime(`${prefix}customer:acme%3Acorp%2F1:d${day}`))
        assert.strictEqual(expiry, dayEnd + 3_600_000)
      }),
    { timeout: 60_000 }
  )
})
