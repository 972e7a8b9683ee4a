/**
 * Cost and custom prices: every tracked LLM call is priced as it ends. The maintained catalogue covers the public
 * models; `Pricing.layerCustom` puts your own prices (a self-hosted model) and aliases (an Azure deployment name
 * that is really gpt-4o) in front of it. `CostLedger.layer` keeps the spend in process, by customer, workflow,
 * provider and model, and `CostLedger.snapshot` reads it.
 *
 * The provider responses are plain token counts so that it runs without a network.
 *
 * Run it: `npx tsx examples/cost-and-custom-prices.ts`
 */
import { Effect, Layer } from "effect"
import { pathToFileURL } from "node:url"
import { botanuWorkflow, CostLedger, LlmTracker, Pricing, Tracking, trackLlmCall } from "../src/index.js"

export const PricingLive = Pricing.layerCustom({
  // Your own model, priced per million tokens.
  prices: [{ provider: "mylab", model: "mylab-7b", prices: { inputPerMillion: 0.2, outputPerMillion: 0.6 } }],
  // A deployment name priced as the model behind it ("azure" matches calls tracked as azure.openai).
  aliases: [{ provider: "azure", model: "support-gpt4o", as: { provider: "openai", model: "gpt-4o" } }]
})

const call = (provider: string, model: string, inputTokens: number, outputTokens: number) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setTokens({ inputTokens, outputTokens })
  }).pipe(trackLlmCall({ provider, model }))

const summarizeTicket = Effect.gen(function*() {
  yield* call("mylab", "mylab-7b", 10_000, 2_000) // custom: 10k × $0.2/M + 2k × $0.6/M = $0.0032
  yield* call("azure_openai", "support-gpt4o", 1_000, 200) // priced as openai gpt-4o
}).pipe(botanuWorkflow("summarize_ticket", { eventId: "T-9", customerId: "acme-corp" }))

/** The spend so far, read from the ledger after the run. */
export const program = Effect.gen(function*() {
  yield* summarizeTicket
  return yield* CostLedger.snapshot
}).pipe(Effect.provide(Layer.merge(PricingLive, CostLedger.layer)))

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  program.pipe(
    Effect.tap((snapshot) =>
      Effect.sync(() => {
        for (const [model, totals] of snapshot.byModel) {
          console.log(`${model}: $${totals.costUsd} (${totals.inputTokens} in, ${totals.outputTokens} out)`)
        }
        console.log(`acme-corp: $${snapshot.byCustomer.get("acme-corp")?.costUsd}`)
      })
    ),
    Effect.provide(Tracking.layerDevelopment()),
    Effect.runPromise
  )
}
