/**
 * `npm run bench`: each bench script in a process of its own (the peers' bench patches the `openai` module and
 * registers a context manager; neither may touch the other's figures), with the arguments given (`--short`).
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const scripts = ["track.js", "stream.js", "peers.js"]
for (const script of scripts) {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const result = spawnSync(process.execPath, ["--expose-gc", path, ...process.argv.slice(2)], { stdio: "inherit" })
  if (result.status !== 0) {
    process.stderr.write(`bench/${script.replace(/\.js$/, ".ts")} failed (${result.signal ?? result.status})\n`)
    process.exit(1)
  }
}
