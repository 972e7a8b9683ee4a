/**
 * A real Redis for the budget store's end-to-end tests (test/e2e/BudgetRedis.test.ts): the one
 * `scripts/redis-backend.sh start` runs (`.backends/redis.url`), and servers of a test's own, started with the same
 * binary on a free loopback port and stopped (or frozen) by PID, for the checks of a Redis that goes away.
 */
import { describe, it } from "@effect/vitest"
import { assert } from "@effect/vitest"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import * as net from "node:net"
import { fileURLToPath } from "node:url"

const repo = fileURLToPath(new URL("../..", import.meta.url))
const script = `${repo}scripts/redis-backend.sh`
/** Written by `scripts/redis-backend.sh start`. */
export const redisUrlFile = `${repo}.backends/redis.url`

export const howToRun =
  "`npm run test:e2e` runs it (it installs and starts redis-server: scripts/redis-backend.sh install, start)"

/** Sends one inline command and resolves with the first line of the reply; rejects on no answer within `ms`. */
export const command = (port: number, line: string, ms = 1_000): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1")
    const fail = (error: Error) => {
      socket.destroy()
      reject(error)
    }
    socket.setTimeout(ms, () => fail(new Error(`no answer to ${line} on port ${port} within ${ms} ms`)))
    socket.on("error", fail)
    socket.on("connect", () => socket.write(`${line}\r\n`))
    socket.on("data", (data) => {
      socket.end()
      resolve(data.toString().split("\r\n")[0])
    })
  })

export type RedisFound =
  | { readonly _tag: "Ready"; readonly url: string; readonly binary: string; readonly libraryPath: string }
  | { readonly _tag: "Missing"; readonly reason: string }

/** Whether the shared redis-server runs and answers PING, and the binary to start more with; else why not. */
export const findRedis = async (): Promise<RedisFound> => {
  const missing = (reason: string): RedisFound => ({ _tag: "Missing", reason })
  if (!existsSync(redisUrlFile)) return missing(`redis-server is not running (no ${redisUrlFile})`)
  const url = readFileSync(redisUrlFile, "utf8").trim()
  try {
    const reply = await command(Number(new URL(url).port), "PING")
    if (reply !== "+PONG") return missing(`redis-server at ${url} answers PING with ${reply}`)
  } catch (error) {
    return missing(`redis-server does not answer at ${url} (${redisUrlFile}): ${String(error)}`)
  }
  const located = spawnSync("bash", [script, "path"], { encoding: "utf8" })
  if (located.status !== 0) return missing(`no redis-server binary: ${located.stderr.trim()}`)
  const [binary, libraryPath] = located.stdout.trim().split("\t")
  return { _tag: "Ready", url, binary, libraryPath: libraryPath ?? "" }
}

/**
 * `describe(title, ...)` with the checks when Redis runs; without it, a skipped suite that prints why (a failing one
 * under `BOTANU_E2E_REQUIRED=1`, as `npm run test:e2e` sets).
 */
export const describeWithRedis = (
  title: string,
  found: RedisFound,
  checks: (redis: Extract<RedisFound, { _tag: "Ready" }>) => void
): void => {
  if (found._tag === "Ready") {
    describe(title, () => checks(found))
    return
  }
  const notRun = `NOT RUN: the end-to-end test (${title}) did not run: ${found.reason}. ${howToRun}.`
  if (process.env.BOTANU_E2E_REQUIRED === "1") {
    describe(title, () => {
      it("needs redis-server (BOTANU_E2E_REQUIRED=1)", () => {
        assert.fail(notRun)
      })
    })
  } else {
    console.warn(notRun)
    describe.skip(`${title}: ${notRun}`, () => {
      it("did not run", () => {})
    })
  }
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** A redis-server of the test's own: on `port`, no persistence, stopped or frozen by its PID. */
export interface OwnRedis {
  readonly url: string
  readonly port: number
  readonly process: ChildProcess
  /** SIGKILL, and waits for the exit. */
  readonly kill: () => Promise<void>
  /** SIGSTOP: the connection stays open and nothing answers (a hung server). */
  readonly freeze: () => void
  readonly thaw: () => void
}

export const startRedis = async (
  found: Extract<RedisFound, { _tag: "Ready" }>,
  port?: number
): Promise<OwnRedis> => {
  const listen = port ?? (await freePort())
  const env = found.libraryPath === ""
    ? process.env
    : { ...process.env, LD_LIBRARY_PATH: `${found.libraryPath}:${process.env.LD_LIBRARY_PATH ?? ""}` }
  const child = spawn(
    found.binary,
    ["--port", String(listen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
    { env, stdio: "ignore" }
  )
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      if ((await command(listen, "PING", 200)) === "+PONG") break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`redis-server on port ${listen} did not start`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url: `redis://127.0.0.1:${listen}`,
    port: listen,
    process: child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGCONT")
        child.kill("SIGKILL")
        await exited
      }
    },
    freeze: () => {
      child.kill("SIGSTOP")
    },
    thaw: () => {
      child.kill("SIGCONT")
    }
  }
}
