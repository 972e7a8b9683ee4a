import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Data, Duration, Effect, Exit, Fiber, Layer, Ref, TestClock } from "effect"
import {
  Agent,
  botanuWorkflow,
  LlmTracker,
  Pricing,
  ToolTracker,
  trackAgent,
  TrackingTest,
  trackLlmCall,
  trackToolCall
} from "../src/index.js"
import type { ToolCallOptions } from "../src/index.js"
import { atto, flatPrices } from "./utils/flatPrices.js"
import { uniqueName } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

class RateLimitError extends Data.TaggedError("RateLimitError")<{ readonly message: string }> {}
class AgentGaveUp extends Data.TaggedError("AgentGaveUp")<{ readonly message: string }> {}

const tracking = (models: ReadonlyArray<string>) => Layer.merge(TrackingTest.layer, flatPrices(models))

/** A chat call that reports its tokens by hand. */
const chat = (model: string, inputTokens: number, outputTokens: number) =>
  Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens, outputTokens })).pipe(
    trackLlmCall({ provider: "openai", model })
  )

const tool = (toolName: string, options?: Omit<ToolCallOptions, "toolName">) =>
  Effect.flatMap(ToolTracker, (tracker) => tracker.setResult({ success: true })).pipe(
    trackToolCall({ toolName, ...options })
  )

/** The totals an agent span carries, and only those, so that a missing or extra total fails. */
const totalsOf = (span: ReadableSpan) =>
  Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith("botanu.agent.")))

const totals = (input: number, output: number, llmCalls: number, toolCalls: number) => ({
  "botanu.agent.cost_usd": Pricing.toUsd(atto(input, output)),
  "botanu.agent.input_tokens": input,
  "botanu.agent.output_tokens": output,
  "botanu.agent.llm_calls": llmCalls,
  "botanu.agent.tool_calls": toolCalls
})

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const idOf = (span: ReadableSpan) => span.spanContext().spanId

describe("trackAgent", () => {
  it.effect("a tool loop: an INTERNAL invoke_agent span, chat and tool calls siblings under it, exact totals", () => {
    const model = uniqueName("agent-loop")
    return Effect.gen(function*() {
      const answer = yield* Effect.gen(function*() {
        yield* chat(model, 1000, 50) // the model asks for the tool
        yield* tool("lookup_orders", { type: "function", toolCallId: "call_1" })
        yield* chat(model, 1400, 120) // the model answers with the tool's result
        return "shipped"
      }).pipe(trackAgent({
        name: "support_agent",
        id: "agt_42",
        description: "Answers support tickets",
        provider: "OpenAI",
        attributes: { team: "care", "gen_ai.conversation.id": "conv_7" }
      }))
      assert.strictEqual(answer, "shipped")

      const agent = yield* spanNamed("invoke_agent support_agent")
      assert.strictEqual(agent.kind, SpanKind.INTERNAL)
      assert.strictEqual(agent.status.code, SpanStatusCode.OK)
      assert.isUndefined(agent.parentSpanContext)
      // 2400 input x $2.50/M + 170 output x $10/M = $0.006 + $0.0017 = $0.0077. No gen_ai.usage.* key: a backend
      // summing those over spans would count both chat calls twice.
      assert.deepStrictEqual(agent.attributes, {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "support_agent",
        "gen_ai.agent.id": "agt_42",
        "gen_ai.agent.description": "Answers support tickets",
        "gen_ai.provider.name": "openai",
        "botanu.vendor": "openai",
        "botanu.agent.team": "care",
        "gen_ai.conversation.id": "conv_7",
        "botanu.agent.cost_usd": 0.0077,
        "botanu.agent.input_tokens": 2400,
        "botanu.agent.output_tokens": 170,
        "botanu.agent.llm_calls": 2,
        "botanu.agent.tool_calls": 1
      })
      assert.strictEqual(Pricing.toUsd(atto(2400, 170)), 0.0077)

      const spans = yield* TrackingTest.finishedSpans
      const children = spans.filter((span) => span !== agent)
      // chat -> execute_tool -> chat, in start order, all children of the agent, none of another.
      assert.deepStrictEqual(
        [...children].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]).map((
          span
        ) => span.name),
        [`chat ${model}`, "execute_tool lookup_orders", `chat ${model}`]
      )
      for (const child of children) {
        assert.strictEqual(parentOf(child), idOf(agent), child.name)
        assert.strictEqual(child.spanContext().traceId, agent.spanContext().traceId, child.name)
      }
    }).pipe(Effect.provide(tracking([model])))
  })

  it.effect("is dual; a bare agent writes its name and zero totals, and its value passes through", () =>
    Effect.gen(function*() {
      const first = yield* Effect.succeed(1).pipe(trackAgent({ name: "planner" }))
      const second = yield* trackAgent(Effect.succeed(2), { name: "planner" })
      const third = yield* Effect.succeed(3).pipe(Agent.trackAgent({ name: "planner" }))
      assert.deepStrictEqual([first, second, third], [1, 2, 3])
      const spans = yield* TrackingTest.finishedSpans
      assert.strictEqual(spans.length, 3)
      for (const span of spans) {
        assert.strictEqual(span.name, "invoke_agent planner")
        assert.deepStrictEqual(span.attributes, {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": "planner",
          "botanu.agent.cost_usd": 0,
          "botanu.agent.input_tokens": 0,
          "botanu.agent.output_tokens": 0,
          "botanu.agent.llm_calls": 0,
          "botanu.agent.tool_calls": 0
        })
      }
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a provider is written as tracked calls write it: the conventions' value and the normalized vendor", () =>
    Effect.gen(function*() {
      yield* Effect.void.pipe(trackAgent({ name: "drafter", provider: "MistralAI" }))
      const agent = yield* spanNamed("invoke_agent drafter")
      assert.strictEqual(agent.attributes["gen_ai.provider.name"], "mistral_ai")
      assert.strictEqual(agent.attributes["botanu.vendor"], "mistral")
      assert.deepStrictEqual(warningsOf(agent), [])
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("inside a run: the agent carries the run's ids, is the run's child, and the run counts each call once", () => {
    const model = uniqueName("agent-in-run")
    return Effect.gen(function*() {
      yield* Effect.all([chat(model, 100, 10), tool("search"), chat(model, 300, 30)]).pipe(
        trackAgent({ name: "researcher" }),
        botanuWorkflow("research", { eventId: "ev-1", customerId: "acme" })
      )
      const run = yield* spanNamed("botanu.run/research")
      const agent = yield* spanNamed("invoke_agent researcher")
      assert.strictEqual(parentOf(agent), idOf(run))
      const runId = run.attributes["botanu.run_id"]
      assert.deepStrictEqual(agent.attributes, {
        "botanu.run_id": runId,
        "botanu.workflow": "research",
        "botanu.event_id": "ev-1",
        "botanu.customer_id": "acme",
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "researcher",
        // 400 x $2.50/M + 40 x $10/M = $0.001 + $0.0004
        "botanu.agent.cost_usd": 0.0014,
        "botanu.agent.input_tokens": 400,
        "botanu.agent.output_tokens": 40,
        "botanu.agent.llm_calls": 2,
        "botanu.agent.tool_calls": 1
      })
      // The run's own totals: the same calls, once.
      assert.strictEqual(run.attributes["botanu.run.cost_usd"], 0.0014)
      assert.strictEqual(run.attributes["botanu.run.llm_calls"], 2)
      assert.strictEqual(run.attributes["botanu.run.tool_calls"], 1)
      assert.strictEqual(run.attributes["botanu.run.input_tokens"], 400)
      for (const span of yield* TrackingTest.finishedSpans) {
        if (span === run || span === agent) continue
        assert.strictEqual(parentOf(span), idOf(agent), span.name)
        assert.strictEqual(span.attributes["botanu.run_id"], runId, span.name)
      }
    }).pipe(Effect.provide(tracking([model])))
  })

  it.effect("nested agents: each call counts once in every enclosing agent (outer = own calls + inner's)", () => {
    const model = uniqueName("nested-agents")
    return Effect.gen(function*() {
      const innermost = chat(model, 300, 30).pipe(trackAgent({ name: "innermost" }))
      // A tool that asks a model itself: that call is inside the inner agent too.
      const summarizer = chat(model, 50, 5).pipe(trackToolCall({ toolName: "summarize" }))
      const inner = Effect.all([chat(model, 200, 20), summarizer, innermost]).pipe(trackAgent({ name: "inner" }))
      yield* Effect.all([chat(model, 100, 10), inner, tool("notify"), chat(model, 400, 40)]).pipe(
        trackAgent({ name: "outer" }),
        botanuWorkflow("nested_agents", { eventId: "ev-2", customerId: "acme" })
      )
      const outerSpan = yield* spanNamed("invoke_agent outer")
      const innerSpan = yield* spanNamed("invoke_agent inner")
      const innermostSpan = yield* spanNamed("invoke_agent innermost")
      // 300 x $2.50/M + 30 x $10/M = $0.00075 + $0.0003 = $0.00105
      assert.deepStrictEqual(totalsOf(innermostSpan), totals(300, 30, 1, 0))
      assert.strictEqual(Pricing.toUsd(atto(300, 30)), 0.00105)
      // 200 + 50 + 300 in, 20 + 5 + 30 out: $0.001375 + $0.00055 = $0.001925; one tool call (summarize)
      assert.deepStrictEqual(totalsOf(innerSpan), totals(550, 55, 3, 1))
      assert.strictEqual(Pricing.toUsd(atto(550, 55)), 0.001925)
      // Its own 100 + 400 in and 10 + 40 out, plus the inner agent's: 1050 in, 105 out, $0.002625 + $0.00105
      assert.deepStrictEqual(totalsOf(outerSpan), totals(1050, 105, 5, 2))
      assert.strictEqual(Pricing.toUsd(atto(1050, 105)), 0.003675)
      const run = yield* spanNamed("botanu.run/nested_agents")
      assert.strictEqual(run.attributes["botanu.run.cost_usd"], 0.003675)
      assert.strictEqual(run.attributes["botanu.run.llm_calls"], 5)
      assert.strictEqual(run.attributes["botanu.run.tool_calls"], 2)
      assert.strictEqual(parentOf(innerSpan), idOf(outerSpan))
      assert.strictEqual(parentOf(innermostSpan), idOf(innerSpan))
      assert.strictEqual(parentOf(outerSpan), idOf(run))
    }).pipe(Effect.provide(tracking([model])))
  })

  it.effect("concurrent calls and concurrent sibling agents inside one agent add up exactly", () => {
    const model = uniqueName("concurrent-agent")
    return Effect.gen(function*() {
      // Each call yields before and after its tokens, so that the fibers interleave.
      const call = (i: number) =>
        Effect.zipRight(Effect.yieldNow(), chat(model, 10 * i, i)).pipe(Effect.zipLeft(Effect.yieldNow()))
      const worker = (name: string, from: number) =>
        Effect.all(
          [...Array.from({ length: 10 }, (_, i) => call(from + i)), tool(`${name}_tool`), tool(`${name}_tool`)],
          { concurrency: "unbounded" }
        ).pipe(trackAgent({ name }))
      yield* Effect.all([worker("left", 1), worker("right", 11), call(21), tool("merge")], {
        concurrency: "unbounded"
      }).pipe(trackAgent({ name: "coordinator" }))
      // left: calls 1..10, 10 x (1 + ... + 10) = 550 in, 55 out, $0.001375 + $0.00055 = $0.001925
      assert.deepStrictEqual(totalsOf(yield* spanNamed("invoke_agent left")), totals(550, 55, 10, 2))
      // right: calls 11..20: 1550 in, 155 out, $0.003875 + $0.00155 = $0.005425
      assert.deepStrictEqual(totalsOf(yield* spanNamed("invoke_agent right")), totals(1550, 155, 10, 2))
      assert.strictEqual(Pricing.toUsd(atto(1550, 155)), 0.005425)
      // coordinator: both workers and call 21: 550 + 1550 + 210 = 2310 in, 231 out, $0.005775 + $0.00231
      assert.deepStrictEqual(totalsOf(yield* spanNamed("invoke_agent coordinator")), totals(2310, 231, 21, 5))
      assert.strictEqual(Pricing.toUsd(atto(2310, 231)), 0.008085)
    }).pipe(Effect.provide(tracking([model])))
  })

  it.effect("a call that fails inside an agent: the agent succeeds and counts the failed attempt and its retry", () => {
    const model = uniqueName("agent-retry")
    return Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const flaky = Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: 500, outputTokens: 0 })
        const n = yield* Ref.updateAndGet(attempts, (k) => k + 1)
        if (n === 1) return yield* new RateLimitError({ message: "slow down" })
        yield* tracker.setTokens({ inputTokens: 500, outputTokens: 60 })
        return "ok"
      }).pipe(trackLlmCall({ provider: "openai", model }), Effect.retry({ times: 1 }))
      const result = yield* flaky.pipe(trackAgent({ name: "resilient" }))
      assert.strictEqual(result, "ok")
      const agent = yield* spanNamed("invoke_agent resilient")
      assert.notStrictEqual(agent.status.code, SpanStatusCode.ERROR)
      assert.isUndefined(agent.attributes["error.type"])
      // Both attempts: 1000 in, 60 out = $0.0025 + $0.0006 = $0.0031
      assert.deepStrictEqual(totalsOf(agent), totals(1000, 60, 2, 0))
      assert.strictEqual(Pricing.toUsd(atto(1000, 60)), 0.0031)
      const calls = (yield* TrackingTest.finishedSpans).filter((span) => span.name === `chat ${model}`)
      assert.deepStrictEqual(calls.map((span) => span.attributes["error.type"]), ["RateLimitError", undefined])
    }).pipe(Effect.provide(tracking([model])))
  })

  it.effect("a failing agent gets error.type and status ERROR; its totals still reach the enclosing agent", () => {
    const model = uniqueName("agent-fails")
    return Effect.gen(function*() {
      const failing = Effect.zipRight(chat(model, 100, 10), new AgentGaveUp({ message: "no answer" })).pipe(
        trackAgent({ name: "fails" })
      )
      const exit = yield* failing.pipe(
        Effect.catchTag("AgentGaveUp", () => Effect.succeed("handled")),
        trackAgent({ name: "supervisor" }),
        Effect.exit
      )
      assert.deepStrictEqual(exit, Exit.succeed("handled"))
      const failed = yield* spanNamed("invoke_agent fails")
      assert.strictEqual(failed.status.code, SpanStatusCode.ERROR)
      assert.strictEqual(failed.attributes["error.type"], "AgentGaveUp")
      assert.deepStrictEqual(totalsOf(failed), totals(100, 10, 1, 0))
      const supervisor = yield* spanNamed("invoke_agent supervisor")
      assert.isUndefined(supervisor.attributes["error.type"])
      assert.deepStrictEqual(totalsOf(supervisor), totals(100, 10, 1, 0))
    }).pipe(Effect.provide(tracking([model])))
  })

  it.effect("an interrupted agent gets error.type interrupted and keeps the totals of the calls that ended", () => {
    const model = uniqueName("agent-interrupted")
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.zipRight(chat(model, 200, 20), Effect.sleep(Duration.seconds(60))).pipe(trackAgent({ name: "slow" }))
      )
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.interrupt(fiber)
      const agent = yield* spanNamed("invoke_agent slow")
      assert.strictEqual(agent.attributes["error.type"], "interrupted")
      assert.deepStrictEqual(totalsOf(agent), totals(200, 20, 1, 0))
    }).pipe(Effect.provide(tracking([model])))
  })

  it.effect("a wrapper LLM call inside an agent adds nothing: only the call inside it is counted", () => {
    const inner = uniqueName("agent-inner-call")
    const outer = uniqueName("agent-wrapper")
    return Effect.gen(function*() {
      // The wrapper also sets tokens of its own: they stay on its span and nowhere else.
      const wrapper = Effect.zipLeft(
        chat(inner, 1000, 100),
        Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: 1000, outputTokens: 100 }))
      ).pipe(trackLlmCall({ provider: "openai", model: outer }))
      yield* wrapper.pipe(trackAgent({ name: "wrapping" }))
      const agent = yield* spanNamed("invoke_agent wrapping")
      // 1000 x $2.50/M + 100 x $10/M = $0.0035, once.
      assert.deepStrictEqual(totalsOf(agent), totals(1000, 100, 1, 0))
      assert.strictEqual(agent.attributes["botanu.agent.cost_usd"], 0.0035)
      assert.strictEqual((yield* spanNamed(`chat ${outer}`)).attributes["botanu.call.wrapped_calls"], 1)
    }).pipe(Effect.provide(tracking([inner, outer])))
  })

  it.effect("unpriced calls are counted apart and left out of the cost", () => {
    const priced = uniqueName("agent-priced")
    return Effect.gen(function*() {
      yield* Effect.all([chat(priced, 1000, 100), chat(uniqueName("agent-unknown"), 5000, 500)]).pipe(
        trackAgent({ name: "mixed" })
      )
      const agent = yield* spanNamed("invoke_agent mixed")
      assert.deepStrictEqual(totalsOf(agent), {
        ...totals(6000, 600, 2, 0),
        "botanu.agent.cost_usd": 0.0035,
        "botanu.agent.unpriced_calls": 1
      })
    }).pipe(Effect.provide(tracking([priced])))
  })

  it.effect("bad options never throw: a blank name is unknown, bad values and a throwing getter are warnings", () =>
    Effect.gen(function*() {
      const hostile = {
        kept: "yes",
        get boom(): string {
          throw new Error("gotcha")
        }
      }
      const options = {
        name: "   ",
        id: 42,
        description: { text: "no" },
        provider: "",
        attributes: hostile
      } as unknown as Agent.AgentOptions
      const result = yield* Effect.succeed("ran").pipe(trackAgent(options))
      assert.strictEqual(result, "ran")
      const agent = yield* spanNamed("invoke_agent unknown")
      assert.strictEqual(agent.attributes["gen_ai.agent.name"], "unknown")
      assert.strictEqual(agent.attributes["botanu.agent.kept"], "yes")
      assert.isUndefined(agent.attributes["gen_ai.agent.id"])
      assert.isUndefined(agent.attributes["gen_ai.agent.description"])
      assert.isUndefined(agent.attributes["gen_ai.provider.name"])
      assert.deepStrictEqual(warningsOf(agent), [
        "name: empty; recorded as \"unknown\"",
        "id: 42 is not a string; dropped",
        "description: an object is not a string; dropped",
        "attributes.boom: failed to read (gotcha); dropped"
      ])

      // Options that are themselves hostile.
      const trap = new Proxy({}, {
        get() {
          throw new Error("trap")
        }
      }) as Agent.AgentOptions
      yield* Effect.void.pipe(trackAgent(trap))
      const trapped = (yield* TrackingTest.finishedSpans).at(-1)!
      assert.strictEqual(trapped.name, "invoke_agent unknown")
      assert.deepStrictEqual(warningsOf(trapped), [
        "name: failed to read (trap); ignored",
        "id: failed to read (trap); ignored",
        "description: failed to read (trap); ignored",
        "provider: failed to read (trap); ignored",
        "attributes: failed to read (trap); ignored",
        "name: undefined is not a string; recorded as \"unknown\""
      ])
    }).pipe(Effect.provide(TrackingTest.layer)))
})

describe("run spans for GenAI backends", () => {
  it.effect("a run span is invoke_workflow with gen_ai.workflow.name, keeping its seed name and chosen kind", () =>
    Effect.gen(function*() {
      yield* Effect.void.pipe(botanuWorkflow("triage", { eventId: "ev-3", customerId: "acme" }))
      yield* Effect.void.pipe(botanuWorkflow("batch", { eventId: "ev-4", customerId: "acme", spanKind: "internal" }))
      const triage = yield* spanNamed("botanu.run/triage")
      assert.strictEqual(triage.kind, SpanKind.SERVER)
      assert.strictEqual(triage.attributes["gen_ai.operation.name"], "invoke_workflow")
      assert.strictEqual(triage.attributes["gen_ai.workflow.name"], "triage")
      const batch = yield* spanNamed("botanu.run/batch")
      assert.strictEqual(batch.kind, SpanKind.INTERNAL)
      assert.strictEqual(batch.attributes["gen_ai.operation.name"], "invoke_workflow")
      assert.strictEqual(batch.attributes["gen_ai.workflow.name"], "batch")
      // Spans inside the run do not take the run's operation name.
      yield* tool("inside").pipe(botanuWorkflow("with_tool", { eventId: "ev-5", customerId: "acme" }))
      const inside = yield* spanNamed("execute_tool inside")
      assert.strictEqual(inside.attributes["gen_ai.operation.name"], "execute_tool")
      assert.isUndefined(inside.attributes["gen_ai.workflow.name"])
    }).pipe(Effect.provide(TrackingTest.layer)))
})

describe("trackToolCall: type and description", () => {
  it.effect("writes gen_ai.tool.type and gen_ai.tool.description", () =>
    Effect.gen(function*() {
      yield* tool("vector_search", { type: "datastore", description: "Searches the help-centre articles" })
      const span = yield* spanNamed("execute_tool vector_search")
      const { "botanu.tool.duration_ms": duration, ...rest } = span.attributes
      assert.isNumber(duration)
      assert.deepStrictEqual(rest, {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "vector_search",
        "gen_ai.tool.type": "datastore",
        "gen_ai.tool.description": "Searches the help-centre articles",
        "botanu.tool.success": true
      })
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a type that is not function, extension or datastore is dropped with a warning", () =>
    Effect.gen(function*() {
      yield* tool("mcp_tool", { type: "mcp" as ToolCallOptions["type"], description: "" })
      yield* tool("numbered", { type: 3 as unknown as ToolCallOptions["type"], description: 7 as unknown as string })
      yield* tool("extension_tool", { type: "extension" })
      const mcp = yield* spanNamed("execute_tool mcp_tool")
      assert.isUndefined(mcp.attributes["gen_ai.tool.type"])
      assert.isUndefined(mcp.attributes["gen_ai.tool.description"])
      assert.deepStrictEqual(warningsOf(mcp), [
        "type: a string of 3 chars is not a tool type (function, extension, datastore); dropped"
      ])
      const numbered = yield* spanNamed("execute_tool numbered")
      assert.isUndefined(numbered.attributes["gen_ai.tool.type"])
      assert.deepStrictEqual(warningsOf(numbered), [
        "type: 3 is not a string; dropped",
        "description: 7 is not a string; dropped"
      ])
      const extension = yield* spanNamed("execute_tool extension_tool")
      assert.strictEqual(extension.attributes["gen_ai.tool.type"], "extension")
      assert.deepStrictEqual(warningsOf(extension), [])
    }).pipe(Effect.provide(TrackingTest.layer)))
})
