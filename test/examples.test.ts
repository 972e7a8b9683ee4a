import { assert, describe, it } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as agentToolLoop from "../examples/agent-tool-loop.js"
import * as costAndCustomPrices from "../examples/cost-and-custom-prices.js"
import * as effectAi from "../examples/effect-ai.js"
import * as exportingToACollector from "../examples/exporting-to-a-collector.js"
import * as propagateToOwnServices from "../examples/propagate-to-own-services.js"
import * as quickstart from "../examples/quickstart.js"
import * as retriesAndFallback from "../examples/retries-and-fallback.js"
import * as testingYourApp from "../examples/testing-your-app.js"
import * as toolCalls from "../examples/tool-calls.js"
import { Pricing, Tracking, TrackingTest } from "../src/index.js"
import { onlySpanNamed, root, runExample } from "./utils/examples.js"

describe("examples/quickstart.ts", () => {
  it.effect("records one CLIENT span with tokens, ids, response model, finish reason and request params", () =>
    Effect.gen(function*() {
      const answer = yield* quickstart.program
      assert.strictEqual(answer, "Paris.")
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 1)
      const span = onlySpanNamed(spans, "chat gpt-4o-mini")
      assert.strictEqual(span.kind, SpanKind.CLIENT)
      assert.isUndefined(span.parentSpanContext)
      const attributes = span.attributes
      assert.strictEqual(attributes["gen_ai.operation.name"], "chat")
      assert.strictEqual(attributes["gen_ai.provider.name"], "openai")
      assert.strictEqual(attributes["gen_ai.request.model"], "gpt-4o-mini")
      assert.strictEqual(attributes["gen_ai.response.model"], "gpt-4o-mini-2024-07-18")
      assert.strictEqual(attributes["gen_ai.response.id"], "chatcmpl-123")
      assert.strictEqual(attributes["botanu.provider.request_id"], "chatcmpl-123")
      assert.deepStrictEqual(attributes["gen_ai.response.finish_reasons"], ["stop"])
      // OpenAI's prompt_tokens already include the cached ones.
      assert.strictEqual(attributes["gen_ai.usage.input_tokens"], 1000)
      assert.strictEqual(attributes["gen_ai.usage.cache_read.input_tokens"], 800)
      assert.strictEqual(attributes["gen_ai.usage.output_tokens"], 12)
      assert.strictEqual(attributes["gen_ai.request.temperature"], 0.2)
      assert.strictEqual(attributes["gen_ai.request.max_tokens"], 64)
      assert.isUndefined(attributes["botanu.tracking.warnings"])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script, exits 0 and prints its span", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/quickstart.ts")
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, "▸ chat gpt-4o-mini")
      assert.include(stdout, "gen_ai.usage.input_tokens=1000")
      assert.include(stdout, "answer: Paris.")
    }))

  it("is the quick start shown in the README", () => {
    const readme = readFileSync(`${root}README.md`, "utf8")
    const source = readFileSync(`${root}examples/quickstart.ts`, "utf8")
    const quickStart = readme.slice(readme.indexOf("## Quick start"))
    const block = /```ts\n([\s\S]*?)```/.exec(quickStart)
    assert.isNotNull(block)
    assert.isAbove(block![1].length, 200)
    assert.include(source, block![1])
  })
})

describe("examples/tool-calls.ts", () => {
  it.effect("records the tool call as a child of the LLM call", () =>
    Effect.gen(function*() {
      const answer = yield* toolCalls.program
      assert.strictEqual(answer, "You have 2 orders; 1 shipped.")
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 2)
      const llm = onlySpanNamed(spans, "chat claude-3-5-sonnet-20241022")
      const tool = onlySpanNamed(spans, "execute_tool lookup_orders")
      assert.strictEqual(tool.parentSpanContext?.spanId, llm.spanContext().spanId)
      assert.strictEqual(tool.spanContext().traceId, llm.spanContext().traceId)
      assert.isUndefined(llm.parentSpanContext)
      assert.strictEqual(tool.kind, SpanKind.INTERNAL)
      assert.strictEqual(llm.kind, SpanKind.CLIENT)

      assert.strictEqual(tool.attributes["gen_ai.operation.name"], "execute_tool")
      assert.strictEqual(tool.attributes["gen_ai.tool.name"], "lookup_orders")
      assert.strictEqual(tool.attributes["gen_ai.tool.call.id"], "call_abc123")
      assert.strictEqual(tool.attributes["botanu.tool.success"], true)
      assert.strictEqual(tool.attributes["botanu.tool.items_returned"], 2)
      assert.isAbove(tool.attributes["botanu.tool.bytes_processed"] as number, 0)
      assert.strictEqual(tool.attributes["botanu.tool.customer_id"], "cust-42")
      assert.isAtLeast(tool.attributes["botanu.tool.duration_ms"] as number, 0)

      assert.strictEqual(llm.attributes["gen_ai.provider.name"], "anthropic")
      // Anthropic reports input without cache reads: 320 + 200.
      assert.strictEqual(llm.attributes["gen_ai.usage.input_tokens"], 520)
      assert.strictEqual(llm.attributes["gen_ai.usage.cache_read.input_tokens"], 200)
      assert.deepStrictEqual(llm.attributes["gen_ai.response.finish_reasons"], ["tool_use"])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script and prints the tool span indented under the LLM span", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/tool-calls.ts")
      assert.strictEqual(code, 0, stderr)
      // The trace is printed when its root ends: the LLM span first, the tool span under it with a tree guide.
      const llm = stdout.search(/^▸ chat claude-3-5-sonnet-20241022 /m)
      const tool = stdout.search(/^└─▸ execute_tool lookup_orders /m)
      assert.isAtLeast(llm, 0, stdout)
      assert.isAbove(tool, llm, stdout)
    }))
})

describe("examples/agent-tool-loop.ts", () => {
  it.effect("records chat, execute_tool, chat as siblings under one invoke_agent span with the loop's totals", () =>
    Effect.gen(function*() {
      const reply = yield* agentToolLoop.program
      assert.strictEqual(reply, "Your order is shipped with DHL.")
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 4)
      const agent = onlySpanNamed(spans, "invoke_agent order_assistant")
      assert.strictEqual(agent.kind, SpanKind.INTERNAL)
      assert.isUndefined(agent.parentSpanContext)
      const children = spans.filter((span) => span !== agent)
      assert.deepStrictEqual(children.map((span) => span.name), [
        "chat gpt-4o-mini",
        "execute_tool lookup_order",
        "chat gpt-4o-mini"
      ])
      for (const child of children) assert.strictEqual(child.parentSpanContext?.spanId, agent.spanContext().spanId)
      const [ask, tool, reply2] = children
      assert.deepStrictEqual(ask.attributes["gen_ai.response.finish_reasons"], ["tool_calls"])
      assert.deepStrictEqual(reply2.attributes["gen_ai.response.finish_reasons"], ["stop"])
      assert.strictEqual(tool.attributes["gen_ai.tool.type"], "function")
      assert.strictEqual(tool.attributes["gen_ai.tool.description"], "Looks an order up by its id")
      assert.strictEqual(tool.attributes["gen_ai.tool.call.id"], "call_1")

      assert.strictEqual(agent.attributes["gen_ai.operation.name"], "invoke_agent")
      assert.strictEqual(agent.attributes["gen_ai.agent.name"], "order_assistant")
      assert.strictEqual(agent.attributes["gen_ai.agent.id"], "asst_orders_1")
      assert.strictEqual(agent.attributes["gen_ai.agent.description"], "Answers questions about orders")
      // 412 + 468 input, 18 + 14 output; the cost of both chat calls, whatever the catalogue's current prices.
      assert.strictEqual(agent.attributes["botanu.agent.input_tokens"], 880)
      assert.strictEqual(agent.attributes["botanu.agent.output_tokens"], 32)
      assert.strictEqual(agent.attributes["botanu.agent.llm_calls"], 2)
      assert.strictEqual(agent.attributes["botanu.agent.tool_calls"], 1)
      const chatCost = (ask.attributes["botanu.cost.total_usd"] as number) +
        (reply2.attributes["botanu.cost.total_usd"] as number)
      assert.isAbove(chatCost, 0)
      assert.closeTo(agent.attributes["botanu.agent.cost_usd"] as number, chatCost, 1e-15)
      assert.isFalse(Object.keys(agent.attributes).some((key) => key.startsWith("gen_ai.usage.")))
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script and prints the three calls side by side under the agent", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/agent-tool-loop.ts")
      assert.strictEqual(code, 0, stderr)
      const agent = stdout.search(/^▸ invoke_agent order_assistant /m)
      const ask = stdout.search(/^├─▸ chat gpt-4o-mini /m)
      const tool = stdout.search(/^├─▸ execute_tool lookup_order /m)
      const reply = stdout.search(/^└─▸ chat gpt-4o-mini /m)
      assert.isAtLeast(agent, 0, stdout)
      assert.isAbove(ask, agent, stdout)
      assert.isAbove(tool, ask, stdout)
      assert.isAbove(reply, tool, stdout)
      assert.include(stdout, "botanu.agent.llm_calls=2")
      assert.include(stdout, "Your order is shipped with DHL.")
    }))
})

describe("examples/testing-your-app.ts", () => {
  it.effect("finishedSpanNames returns the names of the spans the app finished", () =>
    Effect.gen(function*() {
      const names = yield* testingYourApp.finishedSpanNames
      assert.deepStrictEqual(names, ["chat gpt-4o-mini"])
      const [span] = yield* TrackingTest.finishedSpans
      assert.strictEqual(span.attributes["gen_ai.usage.input_tokens"], 44)
      assert.strictEqual(span.attributes["gen_ai.usage.output_tokens"], 7)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("program runs under TrackingTest.layer and records its span", () =>
    Effect.gen(function*() {
      const summary = yield* testingYourApp.program
      assert.strictEqual(summary, "Effect makes trackin")
      const spans = yield* TrackingTest.finishedSpans
      assert.deepStrictEqual(spans.map((span) => span.name), ["chat gpt-4o-mini"])
      assert.deepStrictEqual(spans[0].attributes["gen_ai.response.finish_reasons"], ["stop"])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script and exits 0", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/testing-your-app.ts")
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, "finished spans under TrackingTest.layer: chat gpt-4o-mini")
      assert.include(stdout, "▸ chat gpt-4o-mini")
    }))
})

describe("examples/retries-and-fallback.ts", () => {
  it.live("retries Claude, falls back to GPT-4 on the rate limit, numbers every attempt, emits the outcome", () =>
    Effect.gen(function*() {
      const answer = yield* retriesAndFallback.program
      assert.strictEqual(answer, "GPT-4 on: What is our refund policy?")
      const spans = yield* TrackingTest.finishedSpans
      const calls = spans.filter((span) => span.name.startsWith("chat "))
      assert.deepStrictEqual(
        calls.map((span) => [
          span.name,
          span.attributes["botanu.request.attempt"],
          span.attributes["botanu.request.fallback_index"],
          span.attributes["error.type"]
        ]),
        [
          ["chat claude-3-opus", 1, 0, "RateLimitError"],
          ["chat claude-3-opus", 2, 0, "RateLimitError"],
          ["chat gpt-4", 3, 1, undefined]
        ]
      )
      const gpt = calls[2]
      assert.strictEqual(gpt.attributes["gen_ai.usage.input_tokens"], 52)
      assert.strictEqual(gpt.attributes["gen_ai.usage.output_tokens"], 31)
      assert.strictEqual(gpt.attributes["gen_ai.response.model"], "gpt-4-0613")
      const run = onlySpanNamed(spans, "botanu.run/answer_question")
      assert.strictEqual(run.attributes["botanu.outcome.status"], "success")
      assert.strictEqual(run.attributes["botanu.outcome.value_type"], "question_answered")
      for (const call of calls) {
        assert.strictEqual(call.parentSpanContext?.spanId, run.spanContext().spanId)
        assert.strictEqual(call.attributes["botanu.run_id"], run.attributes["botanu.run_id"])
        assert.strictEqual(call.attributes["botanu.customer_id"], "globex")
      }
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script and prints the three attempts", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runExample("examples/retries-and-fallback.ts")
      assert.strictEqual(code, 0)
      assert.strictEqual(stdout.match(/▸ chat claude-3-opus/g)?.length, 2)
      assert.include(stdout, "botanu.request.fallback_index=1")
    }))
})

describe("examples/cost-and-custom-prices.ts", () => {
  it.effect("prices the custom model and the aliased deployment, and the ledger adds them up", () =>
    Effect.gen(function*() {
      const snapshot = yield* costAndCustomPrices.program
      const spans = yield* TrackingTest.finishedSpans
      const custom = onlySpanNamed(spans, "chat mylab-7b")
      assert.strictEqual(custom.attributes["botanu.cost.status"], "custom")
      assert.strictEqual(custom.attributes["botanu.cost.total_usd"], 0.0032)
      const aliased = onlySpanNamed(spans, "chat support-gpt4o")
      // The conventions' name on the span; the normalized one, which the alias and pricing key on, as the vendor.
      assert.strictEqual(aliased.attributes["gen_ai.provider.name"], "azure.ai.openai")
      assert.strictEqual(aliased.attributes["botanu.vendor"], "azure.openai")
      assert.strictEqual(aliased.attributes["botanu.cost.status"], "priced")
      // Priced as gpt-4o from the catalogue, whatever its current price: the same as a gpt-4o call.
      const gpt4o = Pricing.catalogue.price({
        provider: "openai",
        model: "gpt-4o",
        usage: { input: 1000, output: 200, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
        timestamp: Date.now()
      })
      assert.strictEqual(aliased.attributes["botanu.cost.total_usd"], Pricing.toUsd(gpt4o.total))
      assert.strictEqual(snapshot.byModel.get("mylab/mylab-7b")?.costUsd, 0.0032)
      const acme = snapshot.byCustomer.get("acme-corp")!
      assert.strictEqual(acme.calls, 2)
      assert.strictEqual(acme.inputTokens, 11_000)
      assert.strictEqual(acme.costAttodollars, snapshot.total.costAttodollars)
      assert.strictEqual(snapshot.byWorkflow.get("summarize_ticket")?.costUsd, acme.costUsd)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script and prints the spend by model and customer", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/cost-and-custom-prices.ts")
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, "mylab/mylab-7b: $0.0032 (10000 in, 2000 out)")
      assert.include(stdout, "botanu.cost.status=custom")
      assert.include(stdout, "acme-corp: $")
    }))
})

/** An OTLP/HTTP receiver on 127.0.0.1 that records the paths POSTed to it, closed with the scope. */
const otlpReceiver = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly posts: Array<string>; readonly close: () => void }>((resume) => {
    const posts: Array<string> = []
    const server = createServer((request, response) => {
      request.resume()
      request.on("end", () => {
        if (request.method === "POST") posts.push(request.url ?? "")
        response.writeHead(200, { "content-type": "application/x-protobuf" })
        response.end()
      })
    })
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        posts,
        close: () => {
          server.closeAllConnections()
          server.close()
        }
      })))
  }),
  (receiver) => Effect.sync(() => receiver.close())
)

describe("examples/exporting-to-a-collector.ts", () => {
  it.live("exports the span to the collector's /v1/traces when the program ends", () =>
    Effect.gen(function*() {
      const receiver = yield* otlpReceiver
      const answer = yield* exportingToACollector.program(receiver.url)
      assert.strictEqual(answer, "Paris.")
      assert.include(receiver.posts, "/v1/traces")
    }).pipe(Effect.scoped))

  it.live("resolves the endpoint option to the OTLP signal URLs", () =>
    Effect.gen(function*() {
      const config = yield* Tracking.resolveOtlpConfig({ endpoint: "http://collector:4318/" })
      assert.strictEqual(config.tracesUrl, "http://collector:4318/v1/traces")
      assert.strictEqual(config.metricsUrl, "http://collector:4318/v1/metrics")
    }))

  it.live("runs as a script, exits 0 and its span reaches the collector", () =>
    Effect.gen(function*() {
      const receiver = yield* otlpReceiver
      const { code, stderr, stdout } = yield* Effect.async<{ code: number | null; stdout: string; stderr: string }>(
        (resume) => {
          const child = execFile(
            `${root}node_modules/.bin/tsx`,
            ["examples/exporting-to-a-collector.ts", receiver.url],
            { cwd: root, timeout: 30_000 },
            (error, stdout, stderr) => {
              const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
              resume(Effect.succeed({ code, stdout, stderr }))
            }
          )
          return Effect.sync(() => child.kill())
        }
      )
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, "answer: Paris.")
      assert.include(receiver.posts, "/v1/traces")
    }).pipe(Effect.scoped))
})

describe("examples/propagate-to-own-services.ts", () => {
  it.live("the app's own service gets the run's baggage and continues the run; the third-party API gets none", () =>
    Effect.gen(function*() {
      const { own, ownService, thirdParty, thirdPartyApi } = yield* propagateToOwnServices.program
      assert.strictEqual(new URL(ownService).hostname, "localhost")
      assert.strictEqual(new URL(thirdPartyApi).hostname, "127.0.0.1")
      assert.include(own.baggage!, "botanu.customer_id=acme-corp")
      assert.include(own.baggage!, "botanu.event_id=T-1001")
      assert.strictEqual(own.customerId, "acme-corp")
      assert.isNull(thirdParty.baggage)
      assert.isNull(thirdParty.customerId)
      // Both requests are the run's, in the app's own telemetry.
      const clients = (yield* TrackingTest.finishedSpans).filter((span) => span.kind === SpanKind.CLIENT)
      assert.strictEqual(clients.length, 2)
      for (const span of clients) assert.strictEqual(span.attributes["botanu.customer_id"], "acme-corp")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script and prints which service received baggage", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/propagate-to-own-services.ts")
      assert.strictEqual(code, 0, stderr)
      assert.match(stdout, /your own service \(localhost:\d+\) received baggage: botanu\.run_id=[0-9a-f-]{36},/)
      assert.include(stdout, "botanu.customer_id=acme-corp")
      assert.include(stdout, "your own service continued the run of customer acme-corp")
      assert.match(stdout, /a third-party API \(127\.0\.0\.1:\d+\) received baggage: none/)
    }))
})

describe("examples/effect-ai.ts", () => {
  it.live("a two-turn @effect/ai Chat: two chat spans, the tool call beside the first, the run adding them up", () =>
    Effect.gen(function*() {
      const reply = yield* effectAi.program
      assert.strictEqual(reply, "Your order A-1002 has shipped.")
      const spans = yield* TrackingTest.finishedSpans
      const run = onlySpanNamed(spans, "botanu.run/support_ticket")
      const turns = spans.filter((span) => span.name === "Chat.generateText")
      const chats = spans.filter((span) => span.name === "chat gpt-4o-mini")
      const tool = onlySpanNamed(spans, "execute_tool look_up_order")
      assert.strictEqual(turns.length, 2)
      assert.strictEqual(chats.length, 2)
      for (const turn of turns) assert.strictEqual(turn.parentSpanContext?.spanId, run.spanContext().spanId)
      assert.strictEqual(chats[0].parentSpanContext?.spanId, turns[0].spanContext().spanId)
      assert.strictEqual(tool.parentSpanContext?.spanId, turns[0].spanContext().spanId)
      assert.strictEqual(chats[1].parentSpanContext?.spanId, turns[1].spanContext().spanId)
      assert.strictEqual(chats[0].kind, SpanKind.CLIENT)
      assert.strictEqual(tool.attributes["gen_ai.tool.call.id"], "call_a1002")
      assert.deepStrictEqual(chats.map((span) => span.attributes["gen_ai.usage.input_tokens"]), [1420, 1480])
      assert.deepStrictEqual(chats.map((span) => span.attributes["gen_ai.response.finish_reasons"]), [
        ["tool-calls"],
        ["stop"]
      ])
      assert.strictEqual(run.attributes["botanu.run.llm_calls"], 2)
      assert.strictEqual(run.attributes["botanu.run.tool_calls"], 1)
      assert.strictEqual(run.attributes["botanu.run.input_tokens"], 2900)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.live("runs as a script, exits 0 and prints the chat and tool spans under the run", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* runExample("examples/effect-ai.ts")
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, "▸ botanu.run/support_ticket")
      assert.include(stdout, "▸ chat gpt-4o-mini")
      assert.include(stdout, "▸ execute_tool look_up_order")
      assert.include(stdout, "gen_ai.tool.call.id=call_a1002")
      assert.include(stdout, "reply: Your order A-1002 has shipped.")
    }))
})
