import { Duration, Effect, Layer } from "effect"
import { botanuWorkflow, LlmTracker, Pricing, trackLlmCall, type WorkflowOptions } from "../../src/index.js"

// Budget tests (test/Budget.test.ts, test/e2e/BudgetRedis.test.ts and its worker processes) spend exact amounts:
// one model at $1 per million input tokens, so that a call of `usd` dollars is `usd` million tokens.

/** Priced at $1 per million tokens, input and output. */
export const dollarModel = "budget-dollar"

export const dollarPrices = Layer.succeed(
  Pricing.Pricing,
  Pricing.makeCustom({
    prices: [{ provider: "openai", model: dollarModel, prices: { inputPerMillion: 1, outputPerMillion: 1 } }]
  })
)

/** A tracked LLM call that costs `usd` (to the micro-dollar), after `delay` when given, failing when asked. */
export const costing = (
  usd: number,
  options: { readonly delay?: Duration.DurationInput; readonly fail?: boolean } = {}
): Effect.Effect<number, string> =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    if (options.delay !== undefined) yield* Effect.sleep(options.delay)
    yield* tracker.setTokens({ inputTokens: Math.round(usd * 1e6), outputTokens: 0 })
    if (options.fail === true) return yield* Effect.fail("provider failed")
    return usd
  }).pipe(trackLlmCall({ provider: "openai", model: dollarModel }))

/** Runs `effect` as a run of `workflow` for `customerId` (with the other options given). */
export const forCustomer = (
  customerId: string,
  workflow: string = "support_ticket",
  options: Partial<WorkflowOptions> = {}
) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  botanuWorkflow(effect, workflow, { eventId: `event-of-${customerId}`, customerId, ...options })

/** Attodollars of `usd` (to the micro-dollar), as the spend is kept. */
export const attoOf = (usd: number): bigint => BigInt(Math.round(usd * 1e6)) * 1_000_000_000_000n

/** Millis from the hours and minutes given. */
export const millisOf = (input: Duration.DurationInput) => Duration.toMillis(input)
