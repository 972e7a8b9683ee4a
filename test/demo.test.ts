import Anthropic from "@anthropic-ai/sdk"
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Effect, Logger, LogLevel } from "effect"
import { execFile } from "node:child_process"
import OpenAI from "openai"
import { type DemoResult, runDemo, trialCustomer } from "../demo/app.js"
import { fakeProvider } from "../demo/fakeProvider.js"
import * as Report from "../demo/report.js"
import { TrackingTest } from "../src/index.js"
import { root } from "./utils/examples.js"

/** The demo program in-process, against its fake provider, under the test layer: its result and its spans. */
const demo = Effect.gen(function*() {
  const fake = yield* fakeProvider()
  const result = yield* runDemo({
    openai: new OpenAI({ apiKey: "sk-test", baseURL: `${fake.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: "k", baseURL: fake.url, maxRetries: 0, openTelemetry: false })
  })
  const spans = yield* TrackingTest.finishedSpans
  return { result, spans }
}).pipe(Effect.scoped, Effect.provide(TrackingTest.layer), Logger.withMinimumLogLevel(LogLevel.Warning))

const isLlm = (span: ReadableSpan) => span.attributes["gen_ai.operation.name"] === "chat"

const number = (value: unknown) => (typeof value === "number" ? value : 0)

/** Sum of `botanu.cost.total_usd` and the number of LLM spans, grouped by an attribute. */
const costBy = (spans: ReadonlyArray<ReadableSpan>, key: string) => {
  const groups = new Map<string, { cost: number; calls: number; input: number; output: number }>()
  for (const span of spans.filter(isLlm)) {
    const group = String(span.attributes[key])
    const totals = groups.get(group) ?? { cost: 0, calls: 0, input: 0, output: 0 }
    totals.cost += number(span.attributes["botanu.cost.total_usd"])
    totals.calls += 1
    totals.input += number(span.attributes["gen_ai.usage.input_tokens"])
    totals.output += number(span.attributes["gen_ai.usage.output_tokens"])
    groups.set(group, totals)
  }
  return groups
}

const assertLedgerMatches = (
  ledger: DemoResult["ledger"]["byCustomer"],
  spans: ReadonlyArray<ReadableSpan>,
  key: string
) => {
  const fromSpans = costBy(spans, key)
  assert.deepStrictEqual([...ledger.keys()].sort(), [...fromSpans.keys()].sort())
  for (const [group, totals] of ledger) {
    const expected = fromSpans.get(group)!
    assert.closeTo(totals.costUsd, expected.cost, 1e-12, `${key} ${group}: cost`)
    assert.strictEqual(totals.calls, expected.calls, `${key} ${group}: calls`)
    assert.strictEqual(totals.inputTokens, expected.input, `${key} ${group}: input tokens`)
    assert.strictEqual(totals.outputTokens, expected.output, `${key} ${group}: output tokens`)
  }
}

describe("demo", () => {
  it.live("its report agrees with the spans it produced", () =>
    Effect.gen(function*() {
      const { result, spans } = yield* demo
      const llm = spans.filter(isLlm)
      assert.isAbove(llm.length, 10)

      // Cost, tokens and calls per customer and per workflow, as the report shows them from the ledger.
      assertLedgerMatches(result.ledger.byCustomer, spans, "botanu.customer_id")
      assertLedgerMatches(result.ledger.byWorkflow, spans, "botanu.workflow")
      const total = llm.reduce((sum, span) => sum + number(span.attributes["botanu.cost.total_usd"]), 0)
      assert.closeTo(result.ledger.total.costUsd, total, 1e-12)
      assert.strictEqual(result.ledger.total.calls, llm.length)
      assert.strictEqual(
        result.ledger.total.unpricedCalls,
        llm.filter((span) => span.attributes["botanu.cost.status"] === "unknown_model").length
      )

      // Retries: attempts after the first within one step (attempt numbers continue across a fallback chain, so a
      // fallback step's first attempt is not a retry). Fallbacks: steps after the first.
      const retries = llm.filter((span) =>
        number(span.attributes["botanu.request.attempt"]) > 1 &&
        number(span.attributes["botanu.request.fallback_index"]) === 0
      )
      const fallbacks = llm.filter((span) => number(span.attributes["botanu.request.fallback_index"]) > 0)
      assert.strictEqual(result.retries, retries.length)
      assert.strictEqual(result.fallbacks, fallbacks.length)
      assert.isAtLeast(result.retries, 1)
      assert.isAtLeast(result.fallbacks, 1)
      for (const span of fallbacks) assert.strictEqual(span.attributes["gen_ai.provider.name"], "openai")
      // Every retry follows a rate-limited attempt.
      assert.isAtLeast(
        llm.filter((span) => span.attributes["error.type"] === "RateLimited").length,
        result.retries + result.fallbacks
      )

      // Outcomes: one run span per ticket, with the status the report lists.
      const runs = spans.filter((span) => span.name.startsWith("botanu.run/"))
      assert.strictEqual(runs.length, result.runs.length)
      for (const run of result.runs) {
        const span = runs.find((span) => span.attributes["botanu.event_id"] === run.ticket.id)!
        assert.strictEqual(span.attributes["botanu.outcome.status"], run.outcome, run.ticket.id)
        assert.strictEqual(span.attributes["botanu.customer_id"], run.ticket.customerId)
        assert.strictEqual(span.attributes["botanu.workflow"], run.ticket.workflow)
        assert.closeTo(
          number(span.attributes["botanu.run.cost_usd"]),
          costBy(
            spans.filter((s) => s.attributes["botanu.event_id"] === run.ticket.id),
            "botanu.event_id"
          ).get(run.ticket.id)?.cost ?? 0,
          1e-12
        )
      }
      const report = Report.summarize(result)
      assert.isAtLeast(report.successes, 1)
      assert.isAtLeast((report.outcomes.partial ?? 0) + (report.outcomes.failed ?? 0), 1)
      assert.closeTo(report.costPerSuccessUsd!, total / report.successes, 1e-12)

      // Two providers per run (but in a run the budget refused), tool calls, and the usage a real provider reports:
      // cache reads and writes, reasoning tokens.
      const refusedRuns = new Set(result.refused.map((call) => call.ticket.id))
      for (const run of runs.filter((span) => !refusedRuns.has(String(span.attributes["botanu.event_id"])))) {
        const inRun = llm.filter((span) => span.attributes["botanu.run_id"] === run.attributes["botanu.run_id"])
        assert.deepStrictEqual(
          [...new Set(inRun.map((span) => span.attributes["gen_ai.provider.name"]))].sort(),
          ["anthropic", "openai"]
        )
      }
      assert.isAtLeast(
        spans.filter((span) => span.name.startsWith("execute_tool ")).length,
        result.runs.length - refusedRuns.size
      )
      assert.isTrue(llm.some((span) => number(span.attributes["gen_ai.usage.cache_read.input_tokens"]) > 0))
      assert.isTrue(llm.some((span) => number(span.attributes["gen_ai.usage.cache_creation.input_tokens"]) > 0))
      assert.isTrue(llm.some((span) => number(span.attributes["gen_ai.usage.reasoning.output_tokens"]) > 0))
      for (const span of llm.filter((span) => span.attributes["error.type"] === undefined)) {
        assert.strictEqual(span.attributes["botanu.cost.status"], "priced", span.name)
      }
    }))

  it.live("the trial customer reaches its hard daily budget: the next call is refused; spend per customer is exact", () =>
    Effect.gen(function*() {
      const { result, spans } = yield* demo
      // The budget counted exactly what the ledger did, customer by customer, to the attodollar.
      for (const budget of result.budgets) {
        const ledger = result.ledger.byCustomer.get(budget.key)!
        for (const limit of budget.limits) {
          assert.strictEqual(limit.spentAttodollars, ledger.costAttodollars, budget.key)
        }
      }
      // initech's hard budget: reached within its first ticket (a call admitted below it may end above it), its
      // second ticket refused before any call.
      assert.deepStrictEqual(result.refused.map((call) => [call.ticket.id, call.ticket.customerId]), [
        ["T-1007", trialCustomer]
      ])
      const trial = result.budgets.find((budget) => budget.key === trialCustomer)!
      const hard = trial.limits.find((limit) => limit.mode === "hard")!
      assert.isTrue(hard.reached)
      assert.strictEqual(hard.amount, 0.0025)
      assert.strictEqual(result.refused[0].error.spent, hard.spent)
      const refusedRun = spans.find((span) => span.attributes["botanu.event_id"] === "T-1007")!
      assert.strictEqual(refusedRun.attributes["error.type"], "BudgetExceeded")
      assert.deepStrictEqual(
        refusedRun.events.filter((event) => event.name === "botanu.budget.refused").map((event) => event.attributes),
        [{
          "botanu.budget.scope": "customer",
          "botanu.budget.key": trialCustomer,
          "botanu.budget.window": "day",
          "botanu.budget.limit_usd": 0.0025,
          "botanu.budget.spent_usd": hard.spent,
          "botanu.budget.window_end": hard.windowEnd!.toISOString()
        }]
      )
      assert.deepStrictEqual(spans.filter((span) => span.attributes["botanu.event_id"] === "T-1007" && isLlm(span)), [])
      assert.strictEqual(result.runs.find((run) => run.ticket.id === "T-1007")!.outcome, "failed")
      // acme-corp passes its soft budget: nothing refused, and each of its calls from then on carries the event.
      const acme = result.budgets.find((budget) => budget.key === "acme-corp")!
      assert.isTrue(acme.limits[0].reached)
      const soft = spans.filter(isLlm).filter((span) =>
        span.events.some((event) =>
          event.name === "botanu.budget.exceeded" && event.attributes?.["botanu.budget.mode"] === "soft"
        )
      )
      assert.isAtLeast(soft.length, 1)
      for (const span of soft) assert.strictEqual(span.attributes["botanu.customer_id"], "acme-corp")
    }))

  it.live("npm run demo exits 0 and prints the same report", () =>
    Effect.gen(function*() {
      const { result } = yield* demo
      const { code, stderr, stdout } = yield* Effect.async<{ code: number | null; stdout: string; stderr: string }>(
        (resume) => {
          const child = execFile("npm", ["run", "demo"], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
            resume(Effect.succeed({ code, stdout, stderr }))
          })
          return Effect.sync(() => child.kill())
        }
      )
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, "botanu demo report")
      assert.include(stdout, "Fake LLM provider listening on http://127.0.0.1:")
      assert.match(stdout, /\[7\/7\] support_ticket T-1007/)
      assert.match(stdout, /▸ botanu\.run\/support_ticket /)
      // The fake provider is seeded, so the numbers are the same in every run.
      const report = Report.format(result)
      const start = report.indexOf("Runs:")
      assert.include(stdout, report.slice(start, report.indexOf("Outcomes:")))
      assert.include(stdout, "Refused calls: T-1007 for initech (its hard day budget of $0.002500 reached")
    }), { timeout: 90_000 })
})
