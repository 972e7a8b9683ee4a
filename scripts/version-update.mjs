/**
 * Run by `npm version` (the package's `version` lifecycle script, after package.json got its new version and before
 * the commit): writes that version into src/internal/version.ts, the instrumentation scope's version, and stages it.
 */
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const repo = fileURLToPath(new URL("..", import.meta.url))
const { version } = JSON.parse(readFileSync(`${repo}package.json`, "utf8"))
const file = `${repo}src/internal/version.ts`
const source = readFileSync(file, "utf8")
const updated = source.replace(/export const version = "[^"]*"/, `export const version = ${JSON.stringify(version)}`)
if (updated === source && !source.includes(`export const version = ${JSON.stringify(version)}`)) {
  throw new Error(`no \`export const version = "..."\` in ${file}`)
}
writeFileSync(file, updated)
execFileSync("git", ["add", file], { cwd: repo, stdio: "inherit" })
process.stdout.write(`src/internal/version.ts: version ${version}\n`)
