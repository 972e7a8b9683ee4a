/**
 * The consumer app from CommonJS: `require` of the package (an ES module; Node 20.19 / 22.12 and newer load it),
 * then the same tracked call. `require("effect")` gives effect's CommonJS build while the package imports its ESM
 * build: two module instances of one installed copy, which effect is built to handle.
 */
"use strict"
/* eslint-disable @typescript-eslint/no-require-imports -- this file is the CommonJS check */
const assert = require("node:assert/strict")
const botanu = require("@botanu/effect")
const { Effect } = require("effect")
const trackedCall = require("./tracked-call.cjs")

assert.equal(require("@botanu/effect/TrackingTest").layer, botanu.TrackingTest.layer)
assert.equal(require("@botanu/effect/package.json").name, "@botanu/effect")

trackedCall(Effect, botanu).then(
  (result) => console.log(`RESULT ${JSON.stringify({ loadedWith: "require", ...result })}`),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
