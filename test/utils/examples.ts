import { assert } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

export const onlySpanNamed = (spans: ReadonlyArray<ReadableSpan>, name: string): ReadableSpan => {
  const matching = spans.filter((span) => span.name === name)
  assert.strictEqual(matching.length, 1, `one span named ${name} among ${spans.map((span) => span.name)}`)
  return matching[0]
}

/** Runs an example as a user would, with the local tsx, and returns its exit code and output. */
export const runExample = (file: string) =>
  Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = execFile(
      `${root}node_modules/.bin/tsx`,
      [file],
      { cwd: root, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
    return Effect.sync(() => child.kill())
  })
