/**
 * The consumer test: the package as a new user meets it. It packs this repo (`npm pack`, which builds first),
 * installs the tarball into a fresh app in the OS temp folder whose package.json pins versions other than the repo's,
 * and checks there that
 *
 * - the tarball holds dist, src, README.md, LICENSE and package.json only;
 * - the app has one copy each of effect, @effect/platform, @effect/opentelemetry and @opentelemetry/api, at the
 *   app's own versions (the whole `npm ls --all` tree);
 * - a tracked call works from ESM (`import`) and from CommonJS (`require`), without effect's
 *   "Executing an Effect versioned ..." warning;
 * - `Tracking.layer` exports traces and metrics over OTLP to a receiver on 127.0.0.1, with the app's OTel SDK;
 * - a TypeScript consumer type-checks under `NodeNext` and under `Bundler` resolution (a second copy of effect
 *   shows there as a `YieldWrap` error).
 *
 * Plain Node, no dependencies: `npm run test:consumer` or `node test/consumer/run.mjs`. It needs the npm registry.
 * `BOTANU_CONSUMER_KEEP=1` keeps the temp folder for a look.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, "../..")
const keep = process.env.BOTANU_CONSUMER_KEEP === "1"

/** What the app pins: versions that differ from the repo's devDependencies, inside the package's peer ranges. */
const appVersions = {
  // The lowest consistent set: @effect/platform 0.97.2 needs effect >= 3.22.2, @effect/opentelemetry 0.64.1 needs
  // @effect/platform >= 0.97.2. The repo has effect 3.22.4.
  "effect": "3.22.2",
  "@effect/platform": "0.97.2",
  "@effect/opentelemetry": "0.64.1",
  // The repo has 1.9.0.
  "@opentelemetry/api": "1.9.1",
  // The lowest OTel SDK 2 that @effect/opentelemetry 0.64 accepts (its sdk-logs floor, 0.203.0, goes with 2.0.1);
  // the repo has 2.12.0. The OTLP exporters (dependencies of the package) pin their own 2.12 SDK internals, which
  // npm nests under them.
  "@opentelemetry/resources": "2.0.1",
  "@opentelemetry/sdk-logs": "0.203.0",
  "@opentelemetry/sdk-metrics": "2.0.1",
  "@opentelemetry/sdk-trace-base": "2.0.1",
  "@opentelemetry/sdk-trace-node": "2.0.1",
  "@opentelemetry/sdk-trace-web": "2.0.1",
  // The lowest that @effect/opentelemetry accepts; it lacks several GenAI constants (gen_ai.provider.name, ...).
  "@opentelemetry/semantic-conventions": "1.33.0",
  "typescript": "5.9.3",
  "@types/node": "20.19.43"
}

/** The packages an app shares with the library: exactly one copy each, or effect and OTel break in subtle ways. */
const shared = ["effect", "@effect/platform", "@effect/opentelemetry", "@opentelemetry/api"]

const minutes = (n) => n * 60_000
const timeouts = { pack: minutes(5), install: minutes(10), ls: minutes(2), node: minutes(1), tsc: minutes(3) }

class Failure extends Error {}

// --- running commands ----------------------------------------------------------------------------------------------

const isWindows = process.platform === "win32"
const nodeDir = path.dirname(process.execPath)
// npm's own script, run with this Node: no shell, so paths with spaces are safe on every platform.
const npmCli = [
  process.env.npm_execpath,
  path.join(nodeDir, "node_modules/npm/bin/npm-cli.js"),
  path.join(nodeDir, "../lib/node_modules/npm/bin/npm-cli.js")
].find((file) => file !== undefined && /npm-cli\.js$/.test(file) && existsSync(file))
const npm = npmCli === undefined ? ["npm"] : [process.execPath, npmCli]

// What the parent `npm run` set about this repo (its package, its prefix, where it ran) must not steer the app's npm.
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => {
    const name = key.toLowerCase()
    if (name === "init_cwd") return false
    if (!name.startsWith("npm_")) return true
    return name.startsWith("npm_config_") &&
      !["npm_config_local_prefix", "npm_config_prefix", "npm_config_global_prefix"].includes(name)
  })
)

const tail = (text, lines = 40) => text.trimEnd().split("\n").slice(-lines).join("\n")

/**
 * Runs a command to completion within `timeoutMs` (then kills it and its children) and collects its output.
 * Rejects with a `Failure` on a non-zero exit unless `allowFailure`.
 */
const run = (label, [command, ...args], { allowFailure = false, cwd, timeoutMs }) =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, args, {
      cwd,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      shell: isWindows && npmCli === undefined,
      // Its own process group, so that a timeout ends npm's children too.
      detached: !isWindows
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk) => stdout += chunk)
    child.stderr.setEncoding("utf8").on("data", (chunk) => stderr += chunk)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        if (isWindows) child.kill()
        else process.kill(-child.pid, "SIGKILL")
      } catch {
        // already gone
      }
    }, timeoutMs)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(new Failure(`${label}: could not start ${command}: ${error.message}`))
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      const seconds = (performance.now() - started) / 1000
      if (timedOut) {
        reject(new Failure(`${label}: no answer after ${timeoutMs / 1000}s, stopped\n${tail(stdout + stderr)}`))
      } else if (code !== 0 && !allowFailure) {
        reject(new Failure(`${label}: exited with ${code ?? signal}\n${tail(stdout + "\n" + stderr)}`))
      } else {
        console.log(`   ${label}: ${seconds.toFixed(1)}s`)
        resolve({ code, stdout, stderr, seconds })
      }
    })
  })

const step = (title) => console.log(`== ${title}`)

// --- checks --------------------------------------------------------------------------------------------------------

const allowedInTarball = (file) =>
  ["LICENSE", "README.md", "package.json"].includes(file) || file.startsWith("dist/") || file.startsWith("src/")

const checkTarball = (files) => {
  const paths = files.map((file) => file.path)
  const unexpected = paths.filter((file) => !allowedInTarball(file))
  if (unexpected.length > 0) {
    throw new Failure(
      `the tarball holds files outside dist, src, README.md, LICENSE and package.json:\n  ${unexpected.join("\n  ")}`
    )
  }
  const missing = ["LICENSE", "README.md", "package.json", "dist/index.js", "dist/index.d.ts", "src/index.ts"]
    .filter((file) => !paths.includes(file))
  if (missing.length > 0) throw new Failure(`the tarball lacks ${missing.join(", ")}`)
}

/** Every installed copy of each package in the tree: name -> (folder -> { version, via }). */
const installedCopies = (tree, app) => {
  const copies = new Map()
  const visit = (dependencies, via) => {
    for (const [name, node] of Object.entries(dependencies ?? {})) {
      if (typeof node.path === "string" && typeof node.version === "string") {
        const folders = copies.get(name) ?? new Map()
        copies.set(name, folders)
        const folder = path.relative(app, node.path).split(path.sep).join("/")
        // The shortest way to a folder says best why it is there.
        const known = folders.get(folder)
        if (known === undefined || via.length < known.depth) {
          folders.set(folder, { version: node.version, via: via.join(" > ") || "the app", depth: via.length })
        }
      }
      visit(node.dependencies, [...via, name])
    }
  }
  visit(tree.dependencies, [])
  return copies
}

const checkOneCopyEach = (copies) => {
  const problems = []
  for (const name of shared) {
    const folders = [...(copies.get(name) ?? new Map()).entries()]
    const listed = folders.map(([folder, { version, via }]) => `    ${name}@${version} at ${folder} (via ${via})`)
    if (folders.length !== 1) {
      problems.push(`  ${name}: ${folders.length} copies, expected exactly 1\n${listed.join("\n")}`)
    } else if (folders[0][1].version !== appVersions[name]) {
      problems.push(`  ${name}: the app pins ${appVersions[name]} but has\n${listed.join("\n")}`)
    }
  }
  if (problems.length > 0) {
    throw new Failure(`npm ls --all: the app and the package do not share\n${problems.join("\n")}`)
  }
}

const versionWarning = "Executing an Effect versioned"

/** The RESULT line an app file printed, after checking that its run never met a second copy of effect. */
const readResult = ({ stderr, stdout }, file) => {
  const output = stdout + stderr
  const warnings = output.split("\n").filter((line) => line.includes(versionWarning))
  if (warnings.length > 0) {
    throw new Failure(`${file}: two copies of effect at run time, ${warnings.length} times:\n  ${warnings[0]}`)
  }
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "))
  if (line === undefined) throw new Failure(`${file}: printed no RESULT line\n${tail(output)}`)
  return JSON.parse(line.slice("RESULT ".length))
}

// --- the TypeScript consumer --------------------------------------------------------------------------------------

// Written out here rather than kept as .ts files in the repo: the repo's tsconfig includes test/, where these would
// be compiled against a dist that does not exist before the build.
const typescriptConsumer = `import { LlmTracker, TrackingTest, trackLlmCall } from "@botanu/effect"
import * as Tracking from "@botanu/effect/Tracking"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"

const summarize = (text: string): Effect.Effect<string, never, never> =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens: text.length, outputTokens: 12 })
    return text.slice(0, 20)
  }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }))

export const inTests: Effect.Effect<ReadonlyArray<ReadableSpan>> = Effect.gen(function*() {
  yield* summarize("Effect makes tracking LLM calls a one-liner.")
  return yield* TrackingTest.finishedSpans
}).pipe(Effect.provide(TrackingTest.layer))

export const inDevelopment: Effect.Effect<string> = summarize("Hello").pipe(
  Effect.provide(Tracking.layerDevelopment())
)
`

// The same from a CommonJS TypeScript file (TypeScript 5.8+ types require() of an ES module under NodeNext).
const typescriptCommonJsConsumer = `import { LlmTracker, TrackingTest, trackLlmCall } from "@botanu/effect"
import { Effect } from "effect"

export const inTests: Effect.Effect<string> = Effect.gen(function*() {
  const tracker = yield* LlmTracker
  yield* tracker.setTokens({ inputTokens: 10, outputTokens: 2 })
  return "ok"
}).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o-mini" }), Effect.provide(TrackingTest.layer))
`

const tsconfig = (module, moduleResolution) => ({
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module,
    moduleResolution,
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    // The package's declarations are checked too, against the app's versions of effect and OpenTelemetry.
    skipLibCheck: false,
    types: ["node"]
  },
  include: ["ts"]
})

// --- the test ------------------------------------------------------------------------------------------------------

const writeJson = (file, value) => writeFile(file, JSON.stringify(value, null, 2) + "\n")

const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`

const main = async () => {
  const started = performance.now()
  const work = await mkdtemp(path.join(os.tmpdir(), "botanu-consumer-"))
  if (!path.relative(repo, work).startsWith("..")) throw new Failure(`the temp folder ${work} is inside the repo`)
  try {
    step(`npm pack (builds first) into ${work}`)
    const npmVersion = (await run("npm --version", [...npm, "--version"], { cwd: work, timeoutMs: timeouts.ls }))
      .stdout.trim()
    const packed = await run("npm pack", [...npm, "pack", "--json", "--pack-destination", work], {
      cwd: repo,
      timeoutMs: timeouts.pack
    })
    const [tarball] = JSON.parse(packed.stdout)
    checkTarball(tarball.files)

    step("a fresh app that installs the tarball")
    const app = path.join(work, "app")
    await mkdir(path.join(app, "ts"), { recursive: true })
    await writeJson(path.join(app, "package.json"), {
      name: "botanu-consumer-app",
      private: true,
      type: "module",
      dependencies: { "@botanu/effect": `file:../${tarball.filename}`, ...appVersions }
    })
    for (const file of await readdir(path.join(here, "app"))) {
      await copyFile(path.join(here, "app", file), path.join(app, file))
    }
    await writeFile(path.join(app, "ts", "consumer.ts"), typescriptConsumer)
    await writeFile(path.join(app, "ts", "consumer-commonjs.cts"), typescriptCommonJsConsumer)
    await writeJson(path.join(app, "tsconfig.nodenext.json"), tsconfig("NodeNext", "NodeNext"))
    await writeJson(path.join(app, "tsconfig.bundler.json"), tsconfig("ESNext", "Bundler"))
    await run("npm install", [...npm, "install", "--no-audit", "--no-fund"], { cwd: app, timeoutMs: timeouts.install })

    step("one copy each of the shared packages (npm ls --all)")
    const listed = await run("npm ls", [...npm, "ls", "--all", "--json", "--long"], {
      cwd: app,
      timeoutMs: timeouts.ls,
      allowFailure: true
    })
    const tree = JSON.parse(listed.stdout)
    const copies = installedCopies(tree, app)
    checkOneCopyEach(copies)
    if (listed.code !== 0) {
      throw new Failure(
        `npm ls reports problems in the app:\n  ${(tree.problems ?? [tail(listed.stderr)]).join("\n  ")}`
      )
    }
    for (const name of shared) console.log(`   ${name}@${[...copies.get(name).values()][0].version}: one copy`)

    step("a tracked call from ESM and from CommonJS")
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      const ran = await run(`node ${file}`, [process.execPath, file], { cwd: app, timeoutMs: timeouts.node })
      const result = readResult(ran, file)
      console.log(
        `   ${result.loadedWith}: span "${result.span}", ${result.inputTokens} input tokens, $${result.costUsd}`
      )
    }

    step("Tracking.layer exports OTLP to a receiver on 127.0.0.1")
    const exported = await run("node otlp-export.mjs", [process.execPath, "otlp-export.mjs"], {
      cwd: app,
      timeoutMs: timeouts.node
    })
    const { metricBytes, traceBytes } = readResult(exported, "otlp-export.mjs")
    console.log(`   traces: ${traceBytes} bytes, metrics: ${metricBytes} bytes of protobuf`)

    step("a TypeScript consumer type-checks (strict, exactOptionalPropertyTypes, skipLibCheck off)")
    const tsc = path.join(app, "node_modules", "typescript", "bin", "tsc")
    await Promise.all([
      ["NodeNext / NodeNext", "tsconfig.nodenext.json"],
      ["ESNext / Bundler", "tsconfig.bundler.json"]
    ].map(([label, config]) =>
      run(`tsc ${label}`, [process.execPath, tsc, "-p", config], { cwd: app, timeoutMs: timeouts.tsc })
    ))

    const otelSdk = Object.keys(appVersions).filter((name) =>
      name.startsWith("@opentelemetry/") && !shared.includes(name)
    )
    console.log("")
    const sizes = `${kB(tarball.size)} packed, ${kB(tarball.unpackedSize)} unpacked, ${tarball.entryCount} files`
    console.log(`tarball ${tarball.filename}: ${sizes}`)
    console.log(`node ${process.versions.node}, npm ${npmVersion}`)
    for (const name of [...shared, ...otelSdk, "typescript", "@types/node"]) {
      // Packages that are not shared may have nested copies: the OTLP exporters pin their own SDK internals.
      const nested = new Map()
      for (const [folder, { version }] of copies.get(name) ?? []) {
        if (folder !== `node_modules/${name}`) nested.set(version, (nested.get(version) ?? 0) + 1)
      }
      const also = [...nested].map(([version, count]) => `${version} x${count}`).join(", ")
      console.log(`  ${name}@${appVersions[name]}${also === "" ? "" : `, also nested: ${also}`}`)
    }
    console.log(`consumer test passed in ${((performance.now() - started) / 1000).toFixed(1)}s`)
  } finally {
    if (keep) console.log(`kept ${work}`)
    else await rm(work, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(`\nconsumer test FAILED: ${error instanceof Failure ? error.message : error?.stack ?? error}`)
  process.exit(1)
})
