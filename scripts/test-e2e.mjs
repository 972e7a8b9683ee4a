/**
 * `npm run test:e2e`: installs the real OTLP backends (scripts/otel-backends.sh install; skipped when present) and
 * redis-server (scripts/redis-backend.sh install: the one on PATH, else Debian's package; skipped when present),
 * starts VictoriaMetrics and redis-server on 127.0.0.1, runs `vitest run test/e2e test/ExportPipeline.test.ts` with
 * `BOTANU_E2E_REQUIRED=1` (a missing backend then fails instead of skipping) and stops both again, also when the
 * tests fail or the run is interrupted. A backend that was already running (started by hand) is used and left running.
 *
 * Prints how long each part took. Extra arguments go to vitest: `npm run test:e2e -- -t "cost"`.
 */
import { spawn, spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const backends = path.join(repo, "scripts", "otel-backends.sh")
const redis = path.join(repo, "scripts", "redis-backend.sh")

const seconds = (since) => ((performance.now() - since) / 1000).toFixed(1)
const say = (line) => process.stdout.write(`test:e2e: ${line}\n`)

const backend = (command, script = backends) =>
  spawnSync("bash", [script, command], { cwd: repo, stdio: "inherit" }).status
const running = (script) => spawnSync("bash", [script, "status"], { cwd: repo, stdio: "ignore" }).status === 0

const timings = []
const timed = (name, run) => {
  const started = performance.now()
  const status = run()
  timings.push(`${name} ${seconds(started)} s`)
  return status
}

let started = false
let redisStarted = false
const stop = () => {
  if (started) {
    started = false
    timed("stop", () => backend("stop"))
  }
  if (redisStarted) {
    redisStarted = false
    timed("redis stop", () => backend("stop", redis))
  }
}

const setupStarted = performance.now()
if (timed("install", () => backend("install")) !== 0) {
  say("could not install the backends (see above)")
  process.exit(1)
}
const alreadyRunning = running(backends)
if (timed("start", () => backend("start")) !== 0) {
  say("could not start VictoriaMetrics (see above)")
  process.exit(1)
}
started = !alreadyRunning
if (timed("redis install", () => backend("install", redis)) !== 0) {
  say("could not install redis-server (see above)")
  stop()
  process.exit(1)
}
const redisAlreadyRunning = running(redis)
if (timed("redis start", () => backend("start", redis)) !== 0) {
  say("could not start redis-server (see above)")
  stop()
  process.exit(1)
}
redisStarted = !redisAlreadyRunning
say(`backend set-up took ${seconds(setupStarted)} s (${timings.join(", ")})`)

const testStarted = performance.now()
// test/ExportPipeline.test.ts needs the protos too (its receiver decodes with them): under a plain `npm test` on a
// machine without them it is skipped, so this is where CI runs it.
const vitest = spawn("npx", ["vitest", "run", "test/e2e", "test/ExportPipeline.test.ts", ...process.argv.slice(2)], {
  cwd: repo,
  stdio: "inherit",
  env: { ...process.env, BOTANU_E2E_REQUIRED: "1" }
})
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    vitest.kill(signal)
  })
}
vitest.on("exit", (code, signal) => {
  timings.push(`tests ${seconds(testStarted)} s`)
  stop()
  say(timings.join(", "))
  process.exit(code ?? (signal === null ? 1 : 128))
})
