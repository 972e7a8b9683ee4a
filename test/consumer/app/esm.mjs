/**
 * The consumer app from ESM: `import` of the package root and of a subpath, then the tracked call.
 */
import * as botanu from "@botanu/effect"
import * as TrackingTest from "@botanu/effect/TrackingTest"
import { Effect } from "effect"
import assert from "node:assert/strict"
import trackedCall from "./tracked-call.cjs"

// A subpath is the same module as the root's namespace, not a second instance.
assert.equal(TrackingTest.layer, botanu.TrackingTest.layer)
// Internal modules are not part of the package's face.
await assert.rejects(import("@botanu/effect/internal/llmCall"), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" })

const result = await trackedCall(Effect, botanu)
console.log(`RESULT ${JSON.stringify({ loadedWith: "import", ...result })}`)
