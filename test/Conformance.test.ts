/**
 * Conformance with the OpenTelemetry GenAI semantic conventions v1.41.0 (the table in test/utils/semconv141.ts):
 * every span the library makes (chat, embeddings, streamed chat, execute_tool, invoke_agent, the run span), driven
 * through the public API with realistic inputs and read back from the real SDK, and the two client metrics.
 *
 * Per span: name and kind; every required attribute; every conditionally required one whose condition the inputs
 * meet; every recommended one the inputs provide (or the table says why the library does not write it); no
 * `gen_ai.*` key that v1.41 does not define for that span (nor a `server.*` / `error.type` it does not list); the
 * v1.41 types; no count under two `gen_ai.*` names; and for failures and interruptions, `error.type` and status
 * ERROR.
 */
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Data, Effect, Fiber, Layer, Stream, TestClock } from "effect"
import {
  botanuWorkflow,
  Content,
  LlmTracker,
  ModelOperation,
  ToolTracker,
  trackAgent,
  TrackingTest,
  trackLlmCall,
  trackLlmStream,
  trackToolCall
} from "../src/index.js"
import * as Semconv from "../src/internal/semconv.js"
import { fixture, openaiChatChunks } from "./utils/fakeProvider.js"
import { metricNamed, uniqueName } from "./utils/metrics.js"
import * as V141 from "./utils/semconv141.js"
import { exceptionEvents } from "./utils/spans.js"

class RateLimited extends Data.TaggedError("RateLimited")<{ readonly message: string }> {}

const kinds: Record<V141.SpanKindName, SpanKind> = {
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER
}

type Attributes = Readonly<Record<string, unknown>>

// --- the checks --------------------------------------------------------------------------------------------------

const typeProblem = (type: V141.AttributeType, value: unknown): string | undefined => {
  switch (type) {
    case "string":
      return typeof value === "string" ? undefined : "a string"
    case "int":
      return typeof value === "number" && Number.isSafeInteger(value) ? undefined : "an integer"
    case "double":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "a finite number"
    case "boolean":
      return typeof value === "boolean" ? undefined : "a boolean"
    case "string[]":
      return Array.isArray(value) && value.every((item) => typeof item === "string") ? undefined : "an array of strings"
    case "any":
      return value === undefined ? "a value" : undefined
  }
}

/**
 * Keys outside `gen_ai.*` / `server.*` / `error.type` that are not the library's own: `error.message` (written with
 * `error.type` by `setError` and on failures; a general attribute, not a GenAI one) and the @effect/opentelemetry
 * bridge's `status.interrupted` and `span.label` on interrupted spans; `openai.response.service_tier`, v1.41's OpenAI
 * registry name (which replaced `gen_ai.openai.response.service_tier`), on OpenAI and Azure OpenAI spans.
 */
const otherKeys = new Set(["error.message", "status.interrupted", "span.label", "openai.response.service_tier"])

/** What the inputs of a scenario provide, which decides the conditional levels. */
interface Facts {
  /** Conditionally required (or deviating required) keys whose condition the inputs meet. */
  readonly met?: ReadonlyArray<string>
  /** The call failed or was interrupted: `error.type` is required. */
  readonly failed?: boolean
  /** Every recommended attribute without a deviation must be present, except these (with the reason). */
  readonly fullInputs?: boolean
  readonly absentRecommended?: Readonly<Record<string, string>>
  /** `gen_ai_latest_experimental` names may stand in for the v1.41 ones they replace. */
  readonly latestExperimental?: boolean
  /** The library's own `gen_ai.*` keys (`V141.libraryGenAiKeys`) are turned on. */
  readonly libraryKeys?: boolean
}

const expectedName = (pattern: string, attributes: Attributes): string =>
  pattern.replace(/\{([^}]+)\}/g, (_, key: string) => String(attributes[key]))

/** Every problem of one span against its v1.41 definition: an empty list when it conforms. */
const spanProblems = (span: ReadableSpan, definition: V141.SpanDefinition, facts: Facts): Array<string> => {
  const problems: Array<string> = []
  const a = span.attributes as Attributes
  const has = (key: string) => a[key] !== undefined

  const kind = definition.deviations?.kind?.is ?? definition.kind
  if (span.kind !== kinds[kind]) problems.push(`kind ${SpanKind[span.kind]}, expected ${kind}`)
  const name = expectedName(definition.deviations?.name?.is ?? definition.name, a)
  if (span.name !== name) problems.push(`name "${span.name}", expected "${name}"`)
  if (a["gen_ai.operation.name"] !== definition.operationName) {
    problems.push(`gen_ai.operation.name ${String(a["gen_ai.operation.name"])}, expected ${definition.operationName}`)
  }

  const met = new Set(facts.met ?? [])
  if (facts.failed === true) met.add("error.type")
  if (has("server.address")) met.add("server.port")
  for (const [key, rule] of Object.entries(definition.attributes)) {
    const present = has(key) || (facts.latestExperimental === true && renamedPresent(key, a))
    switch (rule.requirement) {
      case "required":
        if (!present && (rule.deviation === undefined || met.has(key))) problems.push(`required ${key} missing`)
        break
      case "conditionally_required":
        if (!present && met.has(key)) problems.push(`${key} missing though "${rule.condition}" holds`)
        break
      case "recommended":
        if (
          !present && facts.fullInputs === true && rule.deviation === undefined &&
          facts.absentRecommended?.[key] === undefined
        ) problems.push(`recommended ${key} missing though the inputs provide it`)
        break
      case "opt_in":
        break
    }
  }
  if (facts.failed !== true && has("error.type")) problems.push(`error.type ${String(a["error.type"])} on a success`)
  // "If and only if the request is streaming. If unset, the request is assumed to be non-streaming."
  if (!met.has("gen_ai.request.stream") && a["gen_ai.request.stream"] === true) {
    problems.push("gen_ai.request.stream true on a request that is not streaming")
  }

  for (const [key, value] of Object.entries(a)) {
    if (!(key.startsWith("gen_ai.") || key.startsWith("server.") || key === "error.type")) {
      // The library's own keys are botanu.*; the rest are the bridge's and OpenTelemetry's general ones.
      if (!key.startsWith("botanu.") && !otherKeys.has(key)) problems.push(`${key}: neither botanu.* nor v1.41`)
      continue
    }
    const type = knownType(key, definition.attributes, facts)
    if (type === undefined) {
      problems.push(`${key} is not defined by v1.41 for ${definition.id}`)
      continue
    }
    const wrong = typeProblem(type, value)
    if (wrong !== undefined) problems.push(`${key} = ${JSON.stringify(value)} is not ${wrong} (${type})`)
  }
  problems.push(...doubleCounts(a))
  return problems
}

const renamedPresent = (key: string, attributes: Attributes): boolean =>
  Object.entries(V141.latestExperimentalNames).some(([name, { replaces }]) =>
    replaces === key && attributes[name] !== undefined
  )

/** The type a key may have here, or undefined when it is unknown for this span or metric. */
const knownType = (key: string, rules: V141.AttributeRules, facts: Facts): V141.AttributeType | undefined => {
  if (rules[key] !== undefined) return V141.registry[key]
  const renamed = V141.latestExperimentalNames[key]
  if (renamed !== undefined && facts.latestExperimental === true && rules[renamed.replaces] !== undefined) {
    return renamed.type
  }
  if (facts.libraryKeys === true) return V141.libraryGenAiKeys[key]?.type
  return undefined
}

const doubleCounts = (attributes: Attributes): Array<string> =>
  V141.sameCount.flatMap((names) => {
    const present = names.filter((name) => attributes[name] !== undefined)
    return present.length > 1 ? [`one count under ${present.length} names: ${present.join(", ")}`] : []
  })

const assertConforms = (span: ReadableSpan, definition: V141.SpanDefinition, facts: Facts = {}) =>
  assert.deepStrictEqual(spanProblems(span, definition, facts), [], `${span.name} against ${definition.id}`)

/** Failed or interrupted: on top of conforming, `error.type` and status ERROR (`interrupted` for an interruption). */
const assertEndedInError = (span: ReadableSpan, errorType: string) => {
  assert.strictEqual(span.attributes["error.type"], errorType, `${span.name}: error.type`)
  assert.strictEqual(span.status.code, SpanStatusCode.ERROR, `${span.name}: status`)
  if (errorType === "interrupted") {
    assert.strictEqual(span.status.message, "interrupted", `${span.name}: status description`)
    assert.strictEqual(exceptionEvents(span).length, 0, `${span.name}: no exception event for an interruption`)
  } else {
    assert.strictEqual(exceptionEvents(span).length, 1, `${span.name}: one exception event`)
  }
}

/** Every problem of one metric data point's attributes against its v1.41 definition. */
const pointProblems = (
  attributes: Attributes,
  definition: V141.MetricDefinition,
  facts: { readonly failed: boolean; readonly responseModel: boolean; readonly server?: boolean }
): Array<string> => {
  const problems: Array<string> = []
  const has = (key: string) => attributes[key] !== undefined
  for (const [key, rule] of Object.entries(definition.attributes)) {
    const present = has(key)
    if (rule.requirement === "required" && !present) problems.push(`required ${key} missing`)
    if (key === "gen_ai.request.model" && !present) problems.push(`${key} missing though the model is known`)
    if (key === "server.port" && has("server.address") && !present) problems.push(`${key} missing beside address`)
    if (key === "error.type" && facts.failed && !present) problems.push(`${key} missing on a failed call`)
    if (key === "gen_ai.response.model" && facts.responseModel && !present) problems.push(`${key} missing`)
    // All the scenarios give serverAddress and serverPort (recommended; the port then conditionally required).
    if (key.startsWith("server.") && facts.server !== false && !present) problems.push(`${key} missing though given`)
  }
  if (!facts.failed && has("error.type")) problems.push("error.type on a success")
  for (const [key, value] of Object.entries(attributes)) {
    // A metric's attribute set is closed: any key it does not define is a new dimension backends do not expect.
    if (definition.attributes[key] === undefined) {
      problems.push(`${key} is not an attribute of ${definition.name} in v1.41`)
      continue
    }
    const wrong = typeProblem(V141.registry[key], value)
    if (wrong !== undefined) problems.push(`${key} = ${JSON.stringify(value)} is not ${wrong}`)
  }
  if (definition === V141.tokenUsage && !["input", "output"].includes(String(attributes["gen_ai.token.type"]))) {
    problems.push(`gen_ai.token.type ${String(attributes["gen_ai.token.type"])}`)
  }
  problems.push(...doubleCounts(attributes))
  return problems
}

const pointsOf = (collected: Parameters<typeof metricNamed>[0], definition: V141.MetricDefinition, model: string) => {
  const metric = metricNamed(collected, definition.name)
  assert.strictEqual(metric.descriptor.unit, definition.unit, `${definition.name} unit`)
  return (metric.dataPoints as Array<{ attributes: Attributes }>).filter((point) =>
    point.attributes["gen_ai.request.model"] === model
  )
}

// --- the spans, driven through the public API --------------------------------------------------------------------

const spanNamed = (spans: ReadonlyArray<ReadableSpan>, name: string): ReadableSpan => {
  const found = spans.filter((span) => span.name === name)
  assert.strictEqual(found.length, 1, `one span named ${name} among ${spans.map((span) => span.name).join(", ")}`)
  return found[0]
}

/** An OpenAI chat completion with cache reads and writes and reasoning tokens, as `usageFrom` reads it. */
const openaiCompletion = () => {
  const completion = fixture("openai-chat")
  return {
    ...completion,
    usage: {
      ...completion.usage,
      prompt_tokens_details: { cached_tokens: 1024, cache_write_tokens: 64, audio_tokens: 0 },
      completion_tokens_details: { ...completion.usage.completion_tokens_details, reasoning_tokens: 12 }
    }
  }
}

const chatCall = (model: string, inside: Effect.Effect<void, never, LlmTracker> = Effect.void) =>
  Effect.gen(function*() {
    yield* inside
    const tracker = yield* LlmTracker
    yield* tracker.setRequestParams({
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      maxTokens: 512,
      stopSequences: ["\n\nUser:"],
      frequencyPenalty: 0.1,
      presencePenalty: 0.3,
      seed: 42
    })
    return openaiCompletion()
  }).pipe(trackLlmCall({
    provider: "openai",
    model,
    clientRequestId: "req-client-1",
    serverAddress: "api.openai.com",
    serverPort: 443,
    usageFrom: "openai.chat"
  }))

const anthropicCall = (model: string) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setRequestParams({ temperature: 0.7, topP: 0.95, topK: 5, maxTokens: 1024, stopSequences: ["END"] })
    return fixture("anthropic-messages-cache")
  }).pipe(trackLlmCall({
    provider: "anthropic",
    model,
    serverAddress: "api.anthropic.com",
    serverPort: 443,
    usageFrom: "anthropic.messages"
  }))

const embeddingsCall = (model: string) =>
  Effect.succeed(fixture("openai-embeddings")).pipe(trackLlmCall({
    provider: "openai",
    model,
    operation: ModelOperation.EMBEDDINGS,
    serverAddress: "api.openai.com",
    serverPort: 443,
    usageFrom: "openai.embeddings"
  }))

/** The request settings, set by the stream's own first effect (it runs inside the span, with the tracker). */
const streamRequest = Stream.drain(Stream.fromEffect(Effect.flatMap(LlmTracker, (tracker) =>
  tracker.setRequestParams({
    temperature: 1,
    topP: 1,
    topK: 50,
    maxTokens: 256,
    stopSequences: ["###"],
    frequencyPenalty: 0,
    presencePenalty: 0
  }))))

const streamCall = (
  model: string,
  chunks: Stream.Stream<unknown, RateLimited, LlmTracker> = Stream.concat(
    streamRequest,
    Stream.fromIterable(openaiChatChunks(model))
  )
) =>
  chunks.pipe(
    trackLlmStream({
      provider: "openai",
      model,
      serverAddress: "api.openai.com",
      serverPort: 443,
      usageFrom: "openai.chat"
    }),
    Stream.runDrain
  )

const toolCall = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.zipLeft(
    effect,
    Effect.flatMap(ToolTracker, (tracker) => tracker.setResult({ success: true, itemsReturned: 2 }))
  )
    .pipe(trackToolCall({
      toolName: "lookup_order",
      toolCallId: "call_mszuSIzqtI65i1wAUOE8w5H4",
      type: "function",
      description: "Looks an order up by its id",
      provider: "openai"
    }))

const agent = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(trackAgent({
    name: "support_agent",
    id: "asst_5j66UpCpwteGg4YSxUnt7lPY",
    description: "Answers customer tickets",
    provider: "openai"
  }))

const workflow = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(botanuWorkflow("support_ticket", { eventId: "T-1001", customerId: "acme-corp" }))

const chatFacts: Facts = {
  met: ["gen_ai.request.model", "gen_ai.request.seed", "gen_ai.provider.name"],
  fullInputs: true,
  absentRecommended: { "gen_ai.response.time_to_first_chunk": "recommended only for streaming requests" }
}

/**
 * Problems of a span's content attributes against v1.41's JSON schemas (docs/gen-ai/gen-ai-input-messages.json,
 * gen-ai-output-messages.json, gen-ai-system-instructions.json): a message is `role` (string), `parts` (an array
 * of objects with a string `type`), an optional `name`, and for output a required `finish_reason`; text and
 * reasoning parts have a string `content`, tool calls a string `name`, tool call responses a `response`.
 */
const contentProblems = (span: ReadableSpan, expected: ReadonlyArray<"input" | "output">): Array<string> => {
  const problems: Array<string> = []
  const partProblems = (where: string, part: any) => {
    if (typeof part !== "object" || part === null || typeof part.type !== "string") {
      return problems.push(`${where}: not a part`)
    }
    if ((part.type === "text" || part.type === "reasoning") && typeof part.content !== "string") {
      problems.push(`${where}: ${part.type} without a string content`)
    }
    if (part.type === "tool_call" && typeof part.name !== "string") problems.push(`${where}: tool_call without a name`)
    if (part.type === "tool_call_response" && !("response" in part)) problems.push(`${where}: no response`)
  }
  const messages = (key: string, output: boolean) => {
    const value = span.attributes[key]
    if (value === undefined) return expected.includes(output ? "output" : "input") && problems.push(`${key} missing`)
    if (typeof value !== "string") return problems.push(`${key} is not a JSON string`)
    const parsed = JSON.parse(value)
    if (!Array.isArray(parsed)) return problems.push(`${key} is not an array`)
    parsed.forEach((message: any, i: number) => {
      if (typeof message?.role !== "string") problems.push(`${key}[${i}].role`)
      if (!Array.isArray(message?.parts)) return problems.push(`${key}[${i}].parts`)
      message.parts.forEach((part: unknown, j: number) => partProblems(`${key}[${i}].parts[${j}]`, part))
      if (output && typeof message.finish_reason !== "string") problems.push(`${key}[${i}].finish_reason`)
      if (message.name !== undefined && typeof message.name !== "string") problems.push(`${key}[${i}].name`)
    })
  }
  messages("gen_ai.input.messages", false)
  messages("gen_ai.output.messages", true)
  const system = span.attributes["gen_ai.system_instructions"]
  if (system !== undefined) {
    const parsed = JSON.parse(system as string)
    if (!Array.isArray(parsed)) problems.push("gen_ai.system_instructions is not an array")
    else parsed.forEach((part: unknown, i: number) => partProblems(`gen_ai.system_instructions[${i}]`, part))
  }
  return problems
}

const withTracking = <A, E>(self: Effect.Effect<A, E, TrackingTest.TrackingTest>) =>
  Effect.provide(self, TrackingTest.layer)

/** Runs `self` forked and cuts it with `Effect.timeout` on the TestClock. */
const timedOut = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.timeout(self, "30 seconds"))
    yield* TestClock.adjust("30 seconds")
    yield* Fiber.await(fiber)
  })

describe("conformance with the GenAI semantic conventions v1.41", () => {
  it.effect("a workflow run with an agent's tool loop, embeddings and a streamed chat: every span conforms", () =>
    withTracking(Effect.gen(function*() {
      const chat = uniqueName("gpt-4o")
      const claude = uniqueName("claude-3-5-sonnet")
      const embed = uniqueName("text-embedding-3-small")
      const streamed = uniqueName("gpt-4o-mini")
      yield* workflow(Effect.gen(function*() {
        yield* agent(Effect.gen(function*() {
          yield* chatCall(chat)
          yield* toolCall(Effect.succeed(["order-1", "order-2"]))
          yield* anthropicCall(claude)
        }))
        yield* embeddingsCall(embed)
        yield* streamCall(streamed)
      }))
      const spans = yield* TrackingTest.finishedSpans

      const chatSpan = spanNamed(spans, `chat ${chat}`)
      assertConforms(chatSpan, V141.inference, chatFacts)
      // The usage as v1.41 counts it: input including the cache, cache writes under one name only.
      assert.strictEqual(chatSpan.attributes["gen_ai.usage.input_tokens"], 1117)
      assert.strictEqual(chatSpan.attributes["gen_ai.usage.cache_read.input_tokens"], 1024)
      assert.strictEqual(chatSpan.attributes["gen_ai.usage.cache_creation.input_tokens"], 64)
      assert.strictEqual(chatSpan.attributes["gen_ai.usage.reasoning.output_tokens"], 12)

      const claudeSpan = spanNamed(spans, `chat ${claude}`)
      assertConforms(claudeSpan, V141.inference, {
        ...chatFacts,
        met: ["gen_ai.request.model", "gen_ai.provider.name"],
        absentRecommended: {
          ...chatFacts.absentRecommended,
          "gen_ai.request.frequency_penalty": "not an Anthropic request parameter",
          "gen_ai.request.presence_penalty": "not an Anthropic request parameter",
          "gen_ai.usage.reasoning.output_tokens": "Anthropic does not report reasoning tokens apart"
        }
      })
      assert.strictEqual(claudeSpan.attributes["gen_ai.usage.input_tokens"], 1300)
      assert.strictEqual(claudeSpan.attributes["gen_ai.usage.cache_creation.input_tokens"], 300)

      assertConforms(spanNamed(spans, `embeddings ${embed}`), V141.embeddings, {
        met: ["gen_ai.request.model", "gen_ai.provider.name"],
        fullInputs: true
      })

      const streamSpan = spanNamed(spans, `chat ${streamed}`)
      assertConforms(streamSpan, V141.inference, {
        met: ["gen_ai.request.model", "gen_ai.provider.name", "gen_ai.request.stream"],
        fullInputs: true,
        absentRecommended: {
          "gen_ai.usage.cache_creation.input_tokens": "this stream reported no cache writes",
          "gen_ai.usage.reasoning.output_tokens": "this stream reported no reasoning tokens"
        }
      })
      assert.strictEqual(streamSpan.attributes["gen_ai.request.stream"], true)

      assertConforms(spanNamed(spans, "execute_tool lookup_order"), V141.executeTool, {
        met: ["gen_ai.provider.name"],
        fullInputs: true
      })
      assertConforms(spanNamed(spans, "invoke_agent support_agent"), V141.invokeAgent, {
        met: ["gen_ai.agent.id", "gen_ai.agent.name", "gen_ai.agent.description", "gen_ai.provider.name"],
        fullInputs: true
      })
      assertConforms(spanNamed(spans, "botanu.run/support_ticket"), V141.invokeWorkflow, {
        met: ["gen_ai.workflow.name"],
        fullInputs: true
      })
      for (const span of spans) assert.strictEqual(span.status.code, SpanStatusCode.OK, `${span.name}: status`)

      // The client metrics of the same calls.
      const collected = yield* TrackingTest.collectMetrics
      for (const [model, responseModel] of [[chat, true], [claude, true], [embed, true], [streamed, true]] as const) {
        const usage = pointsOf(collected, V141.tokenUsage, model)
        assert.isAbove(usage.length, 0, `token usage points of ${model}`)
        for (const point of usage) {
          assert.deepStrictEqual(pointProblems(point.attributes, V141.tokenUsage, { failed: false, responseModel }), [])
        }
        const duration = pointsOf(collected, V141.operationDuration, model)
        assert.strictEqual(duration.length, 1, `one duration series of ${model}`)
        assert.deepStrictEqual(
          pointProblems(duration[0].attributes, V141.operationDuration, { failed: false, responseModel }),
          []
        )
      }
    })))

  it.effect("failing calls, tools, agents and runs: error.type, status ERROR, still conforming", () =>
    withTracking(Effect.gen(function*() {
      const chat = uniqueName("gpt-4o-failing")
      const embed = uniqueName("text-embedding-failing")
      const streamed = uniqueName("gpt-4o-mini-failing")
      const rateLimited = new RateLimited({ message: "Rate limit reached for gpt-4o" })
      // A call that reported usage and then failed: its usage still counts, with its error.type.
      const failingChat = Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: 1200, outputTokens: 7 })
        return yield* rateLimited
      }).pipe(trackLlmCall({ provider: "openai", model: chat, serverAddress: "api.openai.com", serverPort: 443 }))
      yield* Effect.exit(workflow(agent(Effect.zipRight(toolCall(Effect.void), failingChat))))
      yield* Effect.exit(embeddingsCall(embed).pipe(Effect.zipRight(rateLimited), trackToolCall({ toolName: "x" })))
      yield* Effect.exit(streamCall(
        streamed,
        Stream.concat(Stream.fromIterable(openaiChatChunks(streamed).slice(0, 2)), Stream.fail(rateLimited))
      ))
      const spans = yield* TrackingTest.finishedSpans
      const failed: Facts = { failed: true, met: ["gen_ai.request.model", "gen_ai.provider.name"] }

      const chatSpan = spanNamed(spans, `chat ${chat}`)
      assertConforms(chatSpan, V141.inference, failed)
      assertEndedInError(chatSpan, "RateLimited")
      const agentSpan = spanNamed(spans, "invoke_agent support_agent")
      assertConforms(agentSpan, V141.invokeAgent, { ...failed, met: ["gen_ai.agent.name", "gen_ai.provider.name"] })
      assertEndedInError(agentSpan, "RateLimited")
      const runSpan = spanNamed(spans, "botanu.run/support_ticket")
      assertConforms(runSpan, V141.invokeWorkflow, { ...failed, met: ["gen_ai.workflow.name"] })
      assertEndedInError(runSpan, "RateLimited")
      assertConforms(spanNamed(spans, "execute_tool lookup_order"), V141.executeTool, { met: ["gen_ai.provider.name"] })
      const toolSpan = spanNamed(spans, "execute_tool x")
      assertConforms(toolSpan, V141.executeTool, { failed: true })
      assertEndedInError(toolSpan, "RateLimited")
      assertConforms(spanNamed(spans, `embeddings ${embed}`), V141.embeddings, {
        met: ["gen_ai.request.model", "gen_ai.provider.name"]
      })
      const streamSpan = spanNamed(spans, `chat ${streamed}`)
      assertConforms(streamSpan, V141.inference, { ...failed, met: [...failed.met!, "gen_ai.request.stream"] })
      assertEndedInError(streamSpan, "RateLimited")

      const collected = yield* TrackingTest.collectMetrics
      for (const model of [chat, streamed]) {
        const duration = pointsOf(collected, V141.operationDuration, model)
        assert.strictEqual(duration.length, 1, `one duration series of ${model}`)
        assert.deepStrictEqual(
          pointProblems(duration[0].attributes, V141.operationDuration, { failed: true, responseModel: false }),
          []
        )
        assert.strictEqual(duration[0].attributes["error.type"], "RateLimited")
      }
      const usage = pointsOf(collected, V141.tokenUsage, chat)
      assert.strictEqual(usage.length, 2, "input and output of the failed call")
      for (const point of usage) {
        assert.deepStrictEqual(
          pointProblems(point.attributes, V141.tokenUsage, { failed: true, responseModel: false }),
          []
        )
      }
    })))

  it.effect("calls, streams, tools, agents and runs cut by a timeout: error.type interrupted, status ERROR", () =>
    withTracking(Effect.gen(function*() {
      const chat = uniqueName("gpt-4o-timeout")
      const streamed = uniqueName("gpt-4o-mini-timeout")
      yield* timedOut(workflow(agent(toolCall(
        Effect.never.pipe(
          trackLlmCall({ provider: "openai", model: chat, serverAddress: "api.openai.com", serverPort: 443 })
        )
      ))))
      yield* timedOut(streamCall(
        streamed,
        Stream.concat(Stream.fromIterable(openaiChatChunks(streamed).slice(0, 2)), Stream.never)
      ))
      const spans = yield* TrackingTest.finishedSpans
      const cut: Facts = { failed: true, met: ["gen_ai.request.model", "gen_ai.provider.name"] }
      const checks: ReadonlyArray<readonly [string, V141.SpanDefinition, Facts]> = [
        [`chat ${chat}`, V141.inference, cut],
        [`chat ${streamed}`, V141.inference, { ...cut, met: [...cut.met!, "gen_ai.request.stream"] }],
        ["execute_tool lookup_order", V141.executeTool, { failed: true, met: ["gen_ai.provider.name"] }],
        ["invoke_agent support_agent", V141.invokeAgent, { failed: true, met: ["gen_ai.provider.name"] }],
        ["botanu.run/support_ticket", V141.invokeWorkflow, { failed: true, met: ["gen_ai.workflow.name"] }]
      ]
      for (const [name, definition, facts] of checks) {
        const span = spanNamed(spans, name)
        assertConforms(span, definition, facts)
        assertEndedInError(span, "interrupted")
        assert.strictEqual(span.attributes["status.interrupted"], true, `${name}: status.interrupted`)
      }

      const collected = yield* TrackingTest.collectMetrics
      for (const model of [chat, streamed]) {
        const duration = pointsOf(collected, V141.operationDuration, model)
        assert.strictEqual(duration.length, 1, `one duration series of ${model}`)
        assert.deepStrictEqual(
          pointProblems(duration[0].attributes, V141.operationDuration, { failed: true, responseModel: false }),
          []
        )
        assert.strictEqual(duration[0].attributes["error.type"], "interrupted")
      }
    })))

  it.effect("with gen_ai_latest_experimental, cache writes are under the new name only, never both", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => Semconv.setLatestExperimental(true)),
      () =>
        withTracking(Effect.gen(function*() {
          const claude = uniqueName("claude-3-5-sonnet-latest")
          yield* anthropicCall(claude)
          const span = spanNamed(yield* TrackingTest.finishedSpans, `chat ${claude}`)
          assertConforms(span, V141.inference, {
            ...chatFacts,
            met: ["gen_ai.request.model", "gen_ai.provider.name"],
            latestExperimental: true,
            absentRecommended: {
              ...chatFacts.absentRecommended,
              "gen_ai.request.frequency_penalty": "not an Anthropic request parameter",
              "gen_ai.request.presence_penalty": "not an Anthropic request parameter",
              "gen_ai.usage.reasoning.output_tokens": "Anthropic does not report reasoning tokens apart"
            }
          })
          assert.strictEqual(span.attributes["gen_ai.usage.cache_write.input_tokens"], 300)
          assert.isUndefined(span.attributes["gen_ai.usage.cache_creation.input_tokens"])
        })),
      (previous) => Effect.sync(() => Semconv.setLatestExperimental(previous))
    ))

  it.effect("with usageCostAttribute, gen_ai.usage.cost is the one declared extra: the call's total in USD", () =>
    Effect.gen(function*() {
      const claude = uniqueName("claude-3-5-sonnet-cost")
      yield* anthropicCall(claude)
      const spans = yield* TrackingTest.finishedSpans
      const span = spanNamed(spans, `chat ${claude}`)
      assertConforms(span, V141.inference, {
        met: ["gen_ai.request.model", "gen_ai.provider.name"],
        libraryKeys: true
      })
      assert.strictEqual(span.attributes["gen_ai.usage.cost"], span.attributes["botanu.cost.total_usd"])
    }).pipe(Effect.provide(TrackingTest.layerWith({ usageCostAttribute: true }))))

  it.effect("with content capture on: the opt-in content attributes, JSON of v1.41's message schemas", () =>
    Effect.gen(function*() {
      const chat = uniqueName("gpt-4o-content")
      const streamed = uniqueName("gpt-4o-mini-content")
      const content = Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setSystemInstructions("You are a support agent.")
        yield* tracker.setInputMessages([
          { role: "user", content: "Where is order 1?" },
          {
            role: "assistant",
            parts: [{ type: "tool_call", id: "call_1", name: "lookup_order", arguments: { id: "order-1" } }]
          },
          { role: "tool", parts: [{ type: "tool_call_response", id: "call_1", response: { status: "shipped" } }] }
        ])
      })
      yield* workflow(agent(Effect.gen(function*() {
        yield* chatCall(chat, content)
        yield* toolCall(Effect.flatMap(ToolTracker, (tool) => Effect.as(tool.setArguments({ id: "order-1" }), ["x"])))
        yield* streamCall(streamed)
      })))
      const spans = yield* TrackingTest.finishedSpans
      const chatSpan = spanNamed(spans, `chat ${chat}`)
      assertConforms(chatSpan, V141.inference, chatFacts)
      // The input and instructions were set on the chat call itself (its tracker), the output read from the response.
      assert.deepStrictEqual(contentProblems(chatSpan, ["input", "output"]), [])
      const streamSpan = spanNamed(spans, `chat ${streamed}`)
      assertConforms(streamSpan, V141.inference, {
        met: ["gen_ai.request.model", "gen_ai.provider.name", "gen_ai.request.stream"],
        fullInputs: true,
        absentRecommended: {
          "gen_ai.usage.cache_creation.input_tokens": "this stream reported no cache writes",
          "gen_ai.usage.reasoning.output_tokens": "this stream reported no reasoning tokens"
        }
      })
      assert.deepStrictEqual(contentProblems(streamSpan, ["output"]), [])
      const toolSpan = spanNamed(spans, "execute_tool lookup_order")
      assertConforms(toolSpan, V141.executeTool, { met: ["gen_ai.provider.name"], fullInputs: true })
      assert.deepStrictEqual(JSON.parse(toolSpan.attributes["gen_ai.tool.call.arguments"] as string), { id: "order-1" })
      assert.deepStrictEqual(JSON.parse(toolSpan.attributes["gen_ai.tool.call.result"] as string), ["x"])
      for (const name of ["invoke_agent support_agent", "botanu.run/support_ticket"]) {
        const span = spanNamed(spans, name)
        for (const key of ["gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"]) {
          assert.isUndefined(span.attributes[key], `${name}: ${key}`)
        }
      }
    }).pipe(Effect.provide(Layer.merge(TrackingTest.layer, Content.layer()))))

  it("the table itself: every rule's key is a v1.41 registry attribute; renamed and library keys are not", () => {
    const definitions = [
      V141.inference,
      V141.embeddings,
      V141.executeTool,
      V141.invokeAgent,
      V141.invokeWorkflow,
      V141.tokenUsage,
      V141.operationDuration
    ]
    for (const definition of definitions) {
      for (const [key, rule] of Object.entries(definition.attributes)) {
        assert.isDefined(V141.registry[key], `${key} of ${"id" in definition ? definition.id : definition.name}`)
        if (rule.requirement === "conditionally_required") assert.isDefined(rule.condition, key)
      }
    }
    for (const [name, { replaces }] of Object.entries(V141.latestExperimentalNames)) {
      assert.isUndefined(V141.registry[name], `${name} is not a v1.41 name`)
      assert.isDefined(V141.registry[replaces], `${replaces} is a v1.41 name`)
    }
    for (const key of Object.keys(V141.libraryGenAiKeys)) assert.isUndefined(V141.registry[key], key)
  })
})
