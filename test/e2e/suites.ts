/**
 * The suites of the end-to-end tests: run with their backends, else skipped with the reason printed (or failed,
 * under `BOTANU_E2E_REQUIRED=1`, as `npm run test:e2e` sets). Apart from test/e2e/harness.ts, which the replicas'
 * child processes (test/e2e/replica.ts) import outside vitest.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Harness from "./harness.js"

// --- run, skip or fail --------------------------------------------------------------------------------------------

/**
 * `describe(title, ...)` with the checks when the backends run; without them, a skipped suite that prints why (a
 * failing one under `BOTANU_E2E_REQUIRED=1`, as `npm run test:e2e` sets).
 */
export const describeWithBackends = (
  title: string,
  backends: Harness.Backends,
  checks: (victoriaMetrics: string) => void
): void => {
  if (backends._tag === "Ready") {
    describe(title, () => checks(backends.victoriaMetrics))
    return
  }
  const notRun = `NOT RUN: the end-to-end test (${title}) did not run: ${backends.reason}. ${Harness.howToRun}.`
  if (process.env.BOTANU_E2E_REQUIRED === "1") {
    describe(title, () => {
      it("needs its backends (BOTANU_E2E_REQUIRED=1)", () => {
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
