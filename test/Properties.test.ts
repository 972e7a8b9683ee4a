/**
 * Property tests over every public entry point, with hostile input in every field (see `utils/hostile.ts`). Each
 * entry point is checked for four things, one property each so that each failure shrinks on its own:
 *
 * 1. nothing is thrown when the tracked effect is built or run, its value and error pass through unchanged (the
 *    same instance), and no defect is added;
 * 2. no exported attribute is NaN, infinite, a mixed-type list or anything but an attribute value;
 * 3. every string and list is within its documented bound (README "Limits"), a span has at most 32 user
 *    attributes and at most 33 warning lines;
 * 4. the library's own attributes are present, with their right values, whatever was handed to it.
 *
 * Then the entry points that make no span: custom prices, the extractors, baggage parsing.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it, layer } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Cause, Chunk, Effect, Exit, Option, Stream } from "effect"
import fc from "fast-check"
import * as Attributes from "../src/Attributes.js"
import {
  botanuWorkflow,
  currentRun,
  emitOutcome,
  HttpPropagation,
  InvalidOutcomeStatus,
  InvalidWorkflowOptions,
  llmInstrumented,
  LlmStream,
  LlmTracker,
  Pricing,
  type RunContext,
  setLlmAttributes,
  setTokenUsage,
  ToolTracker,
  trackAgent,
  TrackingTest,
  trackLlmCall,
  trackLlmStream,
  trackToolCall,
  Usage,
  Workflow
} from "../src/index.js"
import * as Baggage from "../src/internal/baggage.js"
import * as Limits from "../src/internal/limits.js"
import * as RunRemote from "../src/internal/runRemote.js"
import * as StreamUsage from "../src/internal/streamUsage.js"
import * as H from "./utils/hostile.js"

// ---------------------------------------------------------------------------------------------------------------
// The documented bounds (README "Limits"), written out rather than imported, so that a change to either is seen.

const bounds = {
  name: 256,
  value: 1_024,
  text: 4_096,
  key: 256,
  list: 64,
  userAttributes: 32,
  warnings: 32
} as const

/** Enough runs to find what a hostile field does, few enough that the file runs in seconds on two CPUs. */
const numRuns = 100
const propOptions = { timeout: 120_000, fastCheck: { numRuns } }

// ---------------------------------------------------------------------------------------------------------------
// What a span may hold.

/** Every attribute name the library itself writes; any other key on a span is a user attribute. */
const libraryKeys: ReadonlySet<string> = new Set(
  (Object.values(Attributes) as ReadonlyArray<unknown>).filter((value): value is string =>
    typeof value === "string" && !value.endsWith(".") && !value.endsWith("/")
  )
)

/** Names and identifiers: at most `bounds.name`. */
const nameKeys: ReadonlySet<string> = new Set([
  Attributes.GenAiOperationName,
  Attributes.GenAiProviderName,
  Attributes.GenAiRequestModel,
  Attributes.GenAiResponseModel,
  Attributes.GenAiResponseId,
  Attributes.Vendor,
  Attributes.ProviderRequestId,
  Attributes.ProviderClientRequestId,
  Attributes.GenAiToolName,
  Attributes.GenAiToolCallId,
  Attributes.GenAiToolType,
  Attributes.GenAiAgentName,
  Attributes.GenAiAgentId,
  Attributes.GenAiWorkflowName,
  Attributes.WorkflowName,
  Attributes.RunId,
  Attributes.EventId,
  Attributes.CustomerId,
  Attributes.TenantId,
  Attributes.Environment,
  Attributes.RootRunId,
  Attributes.ParentRunId,
  Attributes.ErrorType,
  Attributes.ServerAddress,
  Attributes.CostStatus,
  Attributes.CostPricingSource,
  Attributes.OutcomeStatus
])

/** Values written as given: at most `bounds.value`, as a user attribute's. */
const valueKeys: ReadonlySet<string> = new Set([Attributes.OutcomeValueType, Attributes.OutcomeErrorType])

// Free text (error messages, stack traces, descriptions) and every other string: at most `bounds.text`.

const isUserKey = (key: string): boolean => !libraryKeys.has(key)

const kindOf = (value: unknown): string => {
  if (typeof value === "string") return `a string of ${value.length} chars`
  if (typeof value === "number") return String(value)
  if (Array.isArray(value)) return `a list of ${value.length}`
  return value === null ? "null" : typeof value
}

/** A key as it appears in a problem: cut, so that a 3,000-character key does not bury the report. */
const shown = (key: string): string => key.length > 60 ? `${key.slice(0, 40)}…(${key.length} chars)` : key

const attributeEntries = (span: ReadableSpan): Array<readonly [string, unknown, string]> => [
  ...Object.entries(span.attributes).map(([key, value]) => [key, value, "attribute"] as const),
  ...span.events.flatMap((event) =>
    Object.entries(event.attributes ?? {}).map(([key, value]) => [key, value, `event ${event.name}`] as const)
  )
]

/** Concern 2: every value an attribute value of one type, every number finite. */
const cleanProblems = (spans: ReadonlyArray<ReadableSpan>): Array<string> => {
  const problems: Array<string> = []
  for (const span of spans) {
    for (const [key, value, where] of attributeEntries(span)) {
      const at = `${where} ${shown(key)}`
      if (typeof value === "number") {
        if (!Number.isFinite(value)) problems.push(`${at} is ${value}`)
      } else if (Array.isArray(value)) {
        const types = new Set(value.map((item) => item === null ? "null" : typeof item))
        if (types.size > 1) problems.push(`${at} mixes ${[...types].join(", ")}`)
        for (const type of types) {
          if (type !== "string" && type !== "number" && type !== "boolean") problems.push(`${at} holds ${type}`)
        }
        if (value.some((item) => typeof item === "number" && !Number.isFinite(item))) {
          problems.push(`${at} holds a non-finite number`)
        }
      } else if (typeof value !== "string" && typeof value !== "boolean") {
        problems.push(`${at} is ${kindOf(value)}`)
      }
    }
  }
  return problems
}

const stringBound = (key: string): number =>
  nameKeys.has(key) ? bounds.name : valueKeys.has(key) || isUserKey(key) ? bounds.value : bounds.text

// A user key keeps its own namespace or gets the entry point's prefix; the longest is the outcome metadata's.
const maxUserKeyChars = bounds.key + Attributes.OutcomeMetadataPrefix.length

/** Concern 3: strings, lists, keys, user attributes and warning lines within their bounds. */
const boundProblems = (spans: ReadonlyArray<ReadableSpan>): Array<string> => {
  const problems: Array<string> = []
  for (const span of spans) {
    if (span.name.length > 2 * bounds.name + Attributes.RunSpanPrefix.length) {
      problems.push(`span name of ${span.name.length} chars`)
    }
    for (const [key, value, where] of attributeEntries(span)) {
      const at = `${where} ${shown(key)}`
      const isAttribute = where === "attribute"
      if (isAttribute && isUserKey(key) && key.length > maxUserKeyChars) problems.push(`${at}: a key of ${key.length}`)
      if (typeof value === "string") {
        const bound = isAttribute ? stringBound(key) : bounds.text
        if (value.length > bound) problems.push(`${at} is ${kindOf(value)}, over ${bound}`)
      } else if (Array.isArray(value)) {
        const maxItems = key === Attributes.TrackingWarnings ? bounds.warnings + 1 : bounds.list
        if (value.length > maxItems) problems.push(`${at} is a list of ${value.length}, over ${maxItems}`)
        const longest = Math.max(0, ...value.map((item) => typeof item === "string" ? item.length : 0))
        if (longest > bounds.value) problems.push(`${at} holds a string of ${longest} chars, over ${bounds.value}`)
      }
    }
    const userKeys = Object.keys(span.attributes).filter(isUserKey)
    if (userKeys.length > bounds.userAttributes) {
      problems.push(`${userKeys.length} user attributes on "${shown(span.name)}", over ${bounds.userAttributes}`)
    }
  }
  return problems
}

/** Checks of concern 4, collected: `expect(span, key, predicate, what)`. */
const checker = () => {
  const problems: Array<string> = []
  const expect = (span: ReadableSpan | undefined, key: string, ok: (value: unknown) => boolean, what: string) => {
    if (span === undefined) return void problems.push(`no span to hold ${key}`)
    const value = span.attributes[key]
    if (!ok(value)) problems.push(`${key} is ${kindOf(value)}, expected ${what}`)
  }
  return { problems, expect }
}

const isName = (value: unknown): boolean => typeof value === "string" && value.trim().length > 0
const equals = (expected: unknown) => (value: unknown): boolean => Object.is(value, expected)
const isPositiveInteger = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 1
const isDuration = (value: unknown): boolean => typeof value === "number" && Number.isFinite(value) && value >= 0

// ---------------------------------------------------------------------------------------------------------------
// Outcomes: what the wrapped effect does, and what must come out.

type Outcome =
  | { readonly _tag: "succeed"; readonly value: unknown }
  | { readonly _tag: "fail"; readonly error: unknown }
  | { readonly _tag: "die"; readonly defect: unknown }

const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
  fc.record({ _tag: fc.constant("succeed" as const), value: fc.oneof(H.hostileValue, H.hostileResponse) }),
  fc.record({ _tag: fc.constant("fail" as const), error: H.hostileError }),
  fc.record({ _tag: fc.constant("die" as const), defect: H.hostileError })
)

const outcomeEffect = (outcome: Outcome): Effect.Effect<unknown, unknown> =>
  outcome._tag === "succeed"
    ? Effect.succeed(outcome.value)
    : outcome._tag === "fail"
    ? Effect.fail(outcome.error)
    : Effect.die(outcome.defect)

const failed = (outcome: Outcome): boolean => outcome._tag !== "succeed"

// effect marks a failure raised inside a span by wrapping it in a Proxy that answers this symbol itself;
// `Cause.originalError` asks the wrapped value first, which a hostile Proxy answers by throwing (in a plain
// `Effect.withSpan` too), so the symbol is read directly then.
const originalAnnotation = Symbol.for("effect/OriginalAnnotation")

const original = (error: unknown): unknown => {
  try {
    return Cause.originalError(error)
  } catch {
    try {
      return typeof error === "object" && error !== null ? Reflect.get(error, originalAnnotation) ?? error : error
    } catch {
      return error
    }
  }
}

const describeError = (error: unknown): string => {
  try {
    if (error instanceof Error) return `${error.constructor.name}: ${String(error.message).slice(0, 300)}`
    return kindOf(error)
  } catch {
    return "an unprintable error"
  }
}

const describeCause = (cause: Cause.Cause<unknown>): string => {
  const failures = Chunk.toReadonlyArray(Cause.failures(cause))
  const defects = Chunk.toReadonlyArray(Cause.defects(cause))
  return `${failures.length} failure(s), ${defects.length} defect(s)` +
    (defects.length > 0 ? ` (${defects.map((d) => describeError(original(d))).join("; ")})` : "") +
    (Cause.isInterrupted(cause) ? ", interrupted" : "")
}

/** Concern 1 for an effect that must end as `outcome` did. */
const passThroughProblems = (outcome: Outcome, exit: Exit.Exit<unknown, unknown>): Array<string> => {
  if (outcome._tag === "succeed") {
    if (Exit.isFailure(exit)) return [`failed instead of succeeding: ${describeCause(exit.cause)}`]
    return Object.is(exit.value, outcome.value) ? [] : [`succeeded with a different value: ${kindOf(exit.value)}`]
  }
  if (Exit.isSuccess(exit)) {
    return [`succeeded (${kindOf(exit.value)}) instead of ${outcome._tag === "fail" ? "failing" : "dying"}`]
  }
  const failures = Chunk.toReadonlyArray(Cause.failures(exit.cause)).map(original)
  const defects = Chunk.toReadonlyArray(Cause.defects(exit.cause)).map(original)
  const [expectedFailures, expectedDefects] = outcome._tag === "fail"
    ? [[outcome.error], []]
    : [[], [outcome.defect]]
  const same = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>) =>
    a.length === b.length && a.every((item, i) => Object.is(item, b[i]))
  if (same(failures, expectedFailures) && same(defects, expectedDefects) && !Cause.isInterrupted(exit.cause)) {
    return []
  }
  return [
    `ended with ${describeCause(exit.cause)}, expected the ${outcome._tag === "fail" ? "failure" : "defect"} only`
  ]
}

/** What a scenario did: thrown while building, or its exit and the spans it left. */
interface Observed {
  readonly threw: boolean
  readonly thrown: unknown
  readonly exit: Exit.Exit<unknown, unknown>
  readonly spans: ReadonlyArray<ReadableSpan>
}

const observe = (
  build: () => Effect.Effect<unknown, unknown>
): Effect.Effect<Observed, never, TrackingTest.TrackingTest> =>
  Effect.gen(function*() {
    yield* TrackingTest.reset
    let effect: Effect.Effect<unknown, unknown>
    try {
      effect = build()
    } catch (thrown) {
      return { threw: true, thrown, exit: Exit.void, spans: [] }
    }
    const exit = yield* Effect.exit(effect)
    const spans = yield* TrackingTest.finishedSpans
    return { threw: false, thrown: undefined, exit, spans }
  })

/** An entry point under test: its scenarios and what each must give. */
interface EntryPoint<S> {
  readonly name: string
  readonly arbitrary: fc.Arbitrary<S>
  readonly build: (scenario: S) => Effect.Effect<unknown, unknown>
  /** Concern 1, beyond "nothing thrown while building". */
  readonly outcome: (scenario: S, observed: Observed) => ReadonlyArray<string>
  /** Concern 4. */
  readonly own: (scenario: S, observed: Observed) => ReadonlyArray<string>
  /** Whether concerns 2 and 3 are worth the runs: not when the scenario writes nothing hostile. */
  readonly attributeChecks?: false
}

/** Fails with every problem found, so that a counterexample comes with what it broke. */
const assertNone = (problems: ReadonlyArray<string>): void => {
  if (problems.length > 0) assert.fail(problems.join("; ").slice(0, 2_000))
}

const entry = <S>(entryPoint: EntryPoint<S>): EntryPoint<unknown> => entryPoint as EntryPoint<unknown>

// ---------------------------------------------------------------------------------------------------------------
// Shared fields.

const text = H.field(H.hostileString)
const providerArb = H.field(
  fc.oneof(fc.constantFrom("openai", "anthropic", "azure", "aws.bedrock", "gemini", " OpenAI "), H.hostileString)
)
const modelArb = H.field(fc.oneof(fc.constantFrom("gpt-4o", "claude-3-5-sonnet-20241022", "m"), H.nonBlankString))
const portArb = H.field(fc.oneof(fc.integer({ min: 1, max: 65_535 }), H.hostileNumber))
const clientArb = H.field(H.hostileOptions({
  baseURL: H.field(
    fc.oneof(
      fc.constantFrom("https://api.openai.com/v1", "http://[::1]:8080/", "not a url", "https://:0/"),
      fc.webUrl()
    )
  )
}))

/** What a `usageFrom` function returns: counts and fields of every kind. */
const extractedUsageArb = H.hostileOptions({
  inputTokens: H.hostileCount,
  outputTokens: H.hostileCount,
  cacheReadTokens: H.hostileCount,
  cacheWriteTokens: H.hostileCount,
  reasoningTokens: H.hostileCount,
  inputIncludesCache: H.field(fc.boolean()),
  responseId: text,
  responseModel: text,
  finishReasons: H.field(fc.oneof(H.hostileList, fc.array(H.hostileString, { maxLength: 80 }))),
  warnings: H.field(fc.oneof(H.hostileList, fc.array(H.hostileString, { maxLength: 80 })))
})

const extractorFn: fc.Arbitrary<unknown> = fc.oneof(
  extractedUsageArb.map((usage) => H.printAs(() => usage, `() => ${fc.stringify(usage).slice(0, 200)}`)),
  fc.constant(H.printAs(() => {
    throw new Error("extractor threw")
  }, "() => { throw }"))
)

const usageFromArb = H.field(fc.oneof(fc.constantFrom("auto", "nope", ...Usage.extractorNames), extractorFn))

const llmOptionsFields = {
  provider: providerArb,
  model: modelArb,
  operation: H.field(fc.oneof(fc.constantFrom("chat", "embeddings", "text_completion"), H.hostileString)),
  clientRequestId: text,
  serverAddress: text,
  serverPort: portArb,
  client: clientArb,
  attributes: H.attributeRecord
}

/** Many user attributes at once: what must not push the library's own attributes off a span. */
const manyAttributes: fc.Arbitrary<Record<string, number>> = fc.integer({ min: 100, max: 150 }).map((n) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`meta${i}`, i]))
)

const tokenUsageArb = H.hostileOptions({
  inputTokens: H.hostileCount,
  outputTokens: H.hostileCount,
  cachedTokens: H.hostileCount,
  cacheReadTokens: H.hostileCount,
  cacheWriteTokens: H.hostileCount,
  reasoningTokens: H.hostileCount,
  inputIncludesCache: H.field(fc.boolean())
})

type Op = readonly [method: string, argument: unknown]

const llmOp: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(fc.constant("setTokens"), tokenUsageArb),
  fc.tuple(fc.constant("setRequestId"), H.hostileOptions({ providerRequestId: text, clientRequestId: text })),
  fc.tuple(fc.constant("setResponseModel"), text),
  fc.tuple(
    fc.constant("setRequestParams"),
    H.hostileOptions({
      temperature: H.field(H.hostileNumber),
      topP: H.field(H.hostileNumber),
      topK: H.hostileCount,
      maxTokens: H.hostileCount,
      stopSequences: H.field(fc.oneof(H.hostileString, H.hostileList)),
      frequencyPenalty: H.field(H.hostileNumber),
      presencePenalty: H.field(H.hostileNumber),
      seed: H.field(H.hostileNumber)
    })
  ),
  fc.tuple(fc.constant("setStreaming"), H.field(fc.boolean())),
  fc.tuple(fc.constant("setCacheHit"), H.field(fc.boolean())),
  fc.tuple(fc.constant("setAttempt"), H.field(H.hostileNumber)),
  fc.tuple(fc.constant("setFinishReason"), H.field(fc.oneof(H.hostileString, H.hostileList))),
  fc.tuple(fc.constant("setError"), H.hostileError),
  fc.tuple(fc.constant("addMetadata"), H.attributeRecord)
)

const toolOp: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(
    fc.constant("setResult"),
    H.hostileOptions({ success: H.field(fc.boolean()), itemsReturned: H.hostileCount, bytesProcessed: H.hostileCount })
  ),
  fc.tuple(fc.constant("setToolCallId"), text),
  fc.tuple(fc.constant("setError"), H.hostileError),
  fc.tuple(fc.constant("addMetadata"), H.attributeRecord)
)

const apply = (tracker: object, ops: ReadonlyArray<Op>): Effect.Effect<void> =>
  Effect.forEach(
    ops,
    ([method, argument]) => (tracker as Record<string, (argument: unknown) => Effect.Effect<void>>)[method](argument),
    { discard: true }
  )

/** The one span a scenario that makes one span made. */
const onlySpan = (observed: Observed): ReadableSpan | undefined =>
  observed.spans.length === 1 ? observed.spans[0] : undefined

const spanCount = (observed: Observed, expected: number): Array<string> =>
  observed.spans.length === expected ? [] : [`${observed.spans.length} spans, expected ${expected}`]

/** The LLM call attributes every LLM span carries, and what a scenario told it. */
const llmOwn = (
  span: ReadableSpan | undefined,
  scenario: { readonly tokens: readonly [number, number] | null; readonly outcome: Outcome }
): Array<string> => {
  const { expect, problems } = checker()
  expect(span, Attributes.GenAiOperationName, isName, "a name")
  expect(span, Attributes.GenAiProviderName, isName, "a name")
  expect(span, Attributes.GenAiRequestModel, isName, "a name")
  expect(span, Attributes.Vendor, isName, "a name")
  expect(span, Attributes.RequestAttempt, isPositiveInteger, "an attempt number")
  expect(span, Attributes.CostStatus, isName, "a cost status")
  if (scenario.tokens !== null) {
    expect(span, Attributes.GenAiUsageInputTokens, equals(scenario.tokens[0]), String(scenario.tokens[0]))
    expect(span, Attributes.GenAiUsageOutputTokens, equals(scenario.tokens[1]), String(scenario.tokens[1]))
  }
  if (failed(scenario.outcome)) {
    expect(span, Attributes.ErrorType, isName, "an error type")
    if (span !== undefined && span.status.code !== 2) problems.push(`status ${span.status.code} on a failure`)
  }
  return problems
}

// ---------------------------------------------------------------------------------------------------------------
// The entry points that make spans.

interface LlmScenario {
  readonly options: unknown
  readonly ops: ReadonlyArray<Op>
  readonly tokens: readonly [number, number] | null
  readonly metadata: Record<string, number> | null
  readonly outcome: Outcome
  readonly dataFirst: boolean
}

const llmCall = entry<LlmScenario>({
  name: "trackLlmCall and the LlmTracker methods",
  arbitrary: fc.record({
    options: H.hostileOptions({ ...llmOptionsFields, usageFrom: usageFromArb }),
    ops: fc.array(llmOp, { maxLength: 6 }),
    tokens: fc.option(fc.tuple(H.validCount, H.validCount)),
    metadata: fc.option(manyAttributes),
    outcome: outcomeArb,
    dataFirst: fc.boolean()
  }),
  build: (s) => {
    const body = Effect.flatMap(LlmTracker, (tracker) =>
      Effect.zipRight(
        Effect.all([
          apply(tracker, s.ops),
          s.tokens === null ? Effect.void : tracker.setTokens({ inputTokens: s.tokens[0], outputTokens: s.tokens[1] }),
          s.metadata === null ? Effect.void : tracker.addMetadata(s.metadata)
        ], { discard: true }),
        outcomeEffect(s.outcome)
      ))
    return s.dataFirst ? trackLlmCall(body, s.options as any) : body.pipe(trackLlmCall(s.options as any))
  },
  outcome: (s, observed) => passThroughProblems(s.outcome, observed.exit),
  own: (s, observed) => [...spanCount(observed, 1), ...llmOwn(onlySpan(observed), s)]
})

interface AnnotationScenario {
  readonly attributes: unknown
  readonly usage: unknown
  readonly outcome: Outcome
}

const annotations = entry<AnnotationScenario>({
  name: "setLlmAttributes and setTokenUsage on a span of one's own",
  arbitrary: fc.record({
    attributes: H.hostileOptions({
      provider: providerArb,
      model: modelArb,
      operation: text,
      inputTokens: H.hostileCount,
      outputTokens: H.hostileCount,
      cachedTokens: H.hostileCount,
      streaming: H.field(fc.boolean()),
      providerRequestId: text
    }),
    usage: tokenUsageArb,
    outcome: outcomeArb
  }),
  build: (s) =>
    Effect.all([setLlmAttributes(s.attributes as any), setTokenUsage(s.usage as any)], { discard: true }).pipe(
      Effect.zipRight(outcomeEffect(s.outcome)),
      Effect.withSpan("own span")
    ),
  outcome: (s, observed) => passThroughProblems(s.outcome, observed.exit),
  own: (_, observed) => spanCount(observed, 1)
})

interface ToolScenario {
  readonly options: unknown
  readonly ops: ReadonlyArray<Op>
  readonly result: readonly [boolean, number] | null
  readonly metadata: Record<string, number> | null
  readonly outcome: Outcome
  readonly dataFirst: boolean
}

const toolCall = entry<ToolScenario>({
  name: "trackToolCall and the ToolTracker methods",
  arbitrary: fc.record({
    options: H.hostileOptions({
      toolName: H.field(H.nonBlankString),
      toolCallId: text,
      type: H.field(fc.constantFrom("function", "extension", "datastore")),
      description: text,
      provider: providerArb,
      attributes: H.attributeRecord
    }),
    ops: fc.array(toolOp, { maxLength: 6 }),
    result: fc.option(fc.tuple(fc.boolean(), H.validCount)),
    metadata: fc.option(manyAttributes),
    outcome: outcomeArb,
    dataFirst: fc.boolean()
  }),
  build: (s) => {
    const body = Effect.flatMap(ToolTracker, (tracker) =>
      Effect.zipRight(
        Effect.all([
          apply(tracker, s.ops),
          s.result === null
            ? Effect.void
            : tracker.setResult({ success: s.result[0], itemsReturned: s.result[1] }),
          s.metadata === null ? Effect.void : tracker.addMetadata(s.metadata)
        ], { discard: true }),
        outcomeEffect(s.outcome)
      ))
    return s.dataFirst ? trackToolCall(body, s.options as any) : body.pipe(trackToolCall(s.options as any))
  },
  outcome: (s, observed) => passThroughProblems(s.outcome, observed.exit),
  own: (s, observed) => {
    const span = onlySpan(observed)
    const { expect, problems } = checker()
    expect(span, Attributes.GenAiOperationName, equals("execute_tool"), "execute_tool")
    expect(span, Attributes.GenAiToolName, isName, "a name")
    expect(span, Attributes.ToolDurationMs, isDuration, "a duration")
    if (s.result !== null) {
      expect(span, Attributes.ToolSuccess, equals(s.result[0]), String(s.result[0]))
      if (s.result[1] > 0) expect(span, Attributes.ToolItemsReturned, equals(s.result[1]), String(s.result[1]))
    }
    if (failed(s.outcome)) expect(span, Attributes.ErrorType, isName, "an error type")
    return [...spanCount(observed, 1), ...problems]
  }
})

interface AgentScenario {
  readonly options: unknown
  readonly inner: readonly [number, number] | null
  readonly outcome: Outcome
  readonly dataFirst: boolean
}

const innerCall = (tokens: readonly [number, number]) =>
  Effect.flatMap(LlmTracker, (tracker) => tracker.setTokens({ inputTokens: tokens[0], outputTokens: tokens[1] }))
    .pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))

const agent = entry<AgentScenario>({
  name: "trackAgent",
  arbitrary: fc.record({
    options: H.hostileOptions({
      name: H.field(H.nonBlankString),
      id: text,
      description: text,
      provider: providerArb,
      attributes: H.attributeRecord
    }),
    inner: fc.option(fc.tuple(H.validCount, H.validCount)),
    outcome: outcomeArb,
    dataFirst: fc.boolean()
  }),
  build: (s) => {
    const body = Effect.zipRight(s.inner === null ? Effect.void : innerCall(s.inner), outcomeEffect(s.outcome))
    return s.dataFirst ? trackAgent(body, s.options as any) : body.pipe(trackAgent(s.options as any))
  },
  outcome: (s, observed) => passThroughProblems(s.outcome, observed.exit),
  own: (s, observed) => {
    // The agent ends last.
    const span = observed.spans.at(-1)
    const { expect, problems } = checker()
    expect(span, Attributes.GenAiOperationName, equals("invoke_agent"), "invoke_agent")
    expect(span, Attributes.GenAiAgentName, isName, "a name")
    expect(span, Attributes.AgentLlmCalls, equals(s.inner === null ? 0 : 1), "the calls made inside")
    if (s.inner !== null) {
      expect(span, Attributes.AgentInputTokens, equals(s.inner[0]), String(s.inner[0]))
      expect(span, Attributes.AgentOutputTokens, equals(s.inner[1]), String(s.inner[1]))
    }
    if (failed(s.outcome)) expect(span, Attributes.ErrorType, isName, "an error type")
    return [...spanCount(observed, s.inner === null ? 1 : 2), ...problems]
  }
})

interface WorkflowScenario {
  readonly name: unknown
  readonly options: unknown
  readonly style: "combinator" | "data-first" | "fn"
  readonly idFunctions: boolean
  readonly inner: readonly [number, number] | null
  readonly outcome: Outcome
}

/** Whether a workflow's ids are valid, and so whether the run must run. `"either"`: over-long, may be refused. */
const idsValidity = (options: unknown): "valid" | "invalid" | "either" => {
  let either = false
  for (const key of ["eventId", "customerId"]) {
    const { readable, value } = H.peek(options, key)
    if (!readable || typeof value !== "string" || value.trim().length === 0) return "invalid"
    if (value.length > bounds.name) either = true
  }
  return either ? "either" : "valid"
}

const isInvalidWorkflowOptions = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) && Chunk.toReadonlyArray(Cause.defects(exit.cause)).map(original).some((defect) =>
    defect instanceof InvalidWorkflowOptions
  ) && Chunk.size(Cause.failures(exit.cause)) === 0

/** The workflow's options with each id behind a function of the handler's argument, for `Workflow.fn`. */
const withIdFunctions = (options: unknown): unknown => {
  if (typeof options !== "object" || options === null) return options
  const ids: Record<string, unknown> = {}
  for (const key of ["eventId", "customerId"]) {
    const { readable, value } = H.peek(options, key)
    ids[key] = readable ? () => value : () => {
      throw new Error("hostile id function")
    }
  }
  try {
    return { ...options, ...ids }
  } catch {
    return options
  }
}

const workflow = entry<WorkflowScenario>({
  name: "botanuWorkflow and Workflow.fn",
  arbitrary: fc.record({
    name: H.field(H.nonBlankString),
    options: H.hostileOptions({
      eventId: H.field(H.nonBlankString),
      customerId: H.field(H.nonBlankString),
      environment: text,
      tenantId: text,
      spanKind: H.field(fc.constantFrom("server", "internal", "client", "producer", "consumer"))
    }),
    style: fc.constantFrom("combinator" as const, "data-first" as const, "fn" as const),
    idFunctions: fc.boolean(),
    inner: fc.option(fc.tuple(H.validCount, H.validCount)),
    outcome: outcomeArb
  }),
  build: (s) => {
    const body = Effect.zipRight(s.inner === null ? Effect.void : innerCall(s.inner), outcomeEffect(s.outcome))
    const name = s.name as string
    const options = s.options as any
    switch (s.style) {
      case "combinator":
        return body.pipe(botanuWorkflow(name, options))
      case "data-first":
        return botanuWorkflow(body, name, options)
      case "fn":
        return Workflow.fn(name, (s.idFunctions ? withIdFunctions(options) : options) as any)((_n: number) => body)(1)
    }
  },
  outcome: (s, observed) => {
    const validity = idsValidity(s.options)
    if (validity === "invalid" || (validity === "either" && isInvalidWorkflowOptions(observed.exit))) {
      const problems = isInvalidWorkflowOptions(observed.exit)
        ? []
        : [
          `invalid ids, yet ended with ${
            Exit.isSuccess(observed.exit) ? "a success" : describeCause(observed.exit.cause)
          }`
        ]
      return [...problems, ...(observed.spans.length === 0 ? [] : [`${observed.spans.length} spans of a refused run`])]
    }
    return passThroughProblems(s.outcome, observed.exit)
  },
  own: (s, observed) => {
    if (observed.spans.length === 0) return []
    const run = observed.spans.at(-1)
    const { expect, problems } = checker()
    expect(run, Attributes.GenAiOperationName, equals("invoke_workflow"), "invoke_workflow")
    for (
      const key of [
        Attributes.RunId,
        Attributes.WorkflowName,
        Attributes.EventId,
        Attributes.CustomerId,
        Attributes.Environment,
        Attributes.RootRunId,
        Attributes.OutcomeStatus
      ]
    ) expect(run, key, isName, "a name or id")
    expect(run, Attributes.RunLlmCalls, equals(s.inner === null ? 0 : 1), "the calls made inside")
    expect(run, Attributes.RunDurationMs, isDuration, "a duration")
    if (s.inner !== null) {
      expect(run, Attributes.RunInputTokens, equals(s.inner[0]), String(s.inner[0]))
      const call = observed.spans[0]
      for (const key of [Attributes.RunId, Attributes.WorkflowName, Attributes.EventId, Attributes.CustomerId]) {
        expect(call, key, equals(run?.attributes[key]), "the run's")
      }
    }
    if (failed(s.outcome)) expect(run, Attributes.ErrorType, isName, "an error type")
    return problems
  }
})

interface OutcomeScenario {
  readonly status: unknown
  readonly options: unknown
  readonly where: "run" | "llm call" | "span" | "nowhere"
  readonly times: number
}

const outcomeStatuses = ["success", "partial", "failed", "timeout", "canceled", "abandoned"] as const
const isValidStatus = (status: unknown): boolean => (outcomeStatuses as ReadonlyArray<unknown>).includes(status)

const outcome = entry<OutcomeScenario>({
  name: "emitOutcome",
  arbitrary: fc.record({
    status: H.field(fc.constantFrom(...outcomeStatuses)),
    options: H.hostileOptions({
      valueType: text,
      valueAmount: H.field(H.hostileNumber),
      confidence: H.field(fc.oneof(fc.double({ min: 0, max: 1 }), H.hostileNumber)),
      reason: text,
      errorType: text,
      metadata: H.attributeRecord
    }),
    where: fc.constantFrom("run" as const, "llm call" as const, "span" as const, "nowhere" as const),
    times: fc.integer({ min: 1, max: 2 })
  }),
  build: (s) => {
    const emit = Effect.exit(Effect.suspend(() => emitOutcome(s.status as string, s.options as any)))
    const emitAll = Effect.map(Effect.replicateEffect(emit, s.times), (exits) => exits.at(-1)!)
    switch (s.where) {
      case "run":
        return botanuWorkflow(emitAll, "wf", { eventId: "e-1", customerId: "c-1" })
      case "llm call":
        return trackLlmCall(emitAll, { provider: "openai", model: "gpt-4o" })
      case "span":
        return Effect.withSpan(emitAll, "own span")
      case "nowhere":
        return emitAll
    }
  },
  outcome: (s, observed) => {
    if (Exit.isFailure(observed.exit)) return [`the program failed: ${describeCause(observed.exit.cause)}`]
    const emitted = observed.exit.value as Exit.Exit<void, unknown>
    if (isValidStatus(s.status)) {
      return Exit.isSuccess(emitted) ? [] : [`a valid status, yet ${describeCause(emitted.cause)}`]
    }
    if (Exit.isSuccess(emitted)) return ["an invalid status succeeded"]
    const failures = Chunk.toReadonlyArray(Cause.failures(emitted.cause))
    return failures.length === 1 && failures[0] instanceof InvalidOutcomeStatus &&
        Chunk.size(Cause.defects(emitted.cause)) === 0
      ? []
      : [`an invalid status ended with ${describeCause(emitted.cause)}, not InvalidOutcomeStatus`]
  },
  own: (s, observed) => {
    if (s.where === "nowhere" || !isValidStatus(s.status)) return []
    const span = observed.spans.at(-1)
    const { expect, problems } = checker()
    expect(span, Attributes.OutcomeStatus, equals(s.status), String(s.status))
    if (span !== undefined && !span.events.some((event) => event.name === Attributes.OutcomeEmittedEvent)) {
      problems.push("no botanu.outcome_emitted event")
    }
    return problems
  }
})

interface StreamScenario {
  readonly options: unknown
  readonly chunks: ReadonlyArray<unknown>
  readonly end: Outcome
  readonly take: number | null
  readonly dataFirst: boolean
}

const llmStream = entry<StreamScenario>({
  name: "trackLlmStream",
  arbitrary: fc.record({
    options: H.hostileOptions({
      ...llmOptionsFields,
      usageFrom: H.field(fc.oneof(fc.constantFrom("auto", "nope", ...LlmStream.extractorNames), extractorFn))
    }),
    chunks: fc.array(H.hostileChunk, { maxLength: 8 }),
    end: outcomeArb,
    // Not 0: a stream taken to 0 elements never runs, so there is no call to track.
    take: fc.option(fc.integer({ min: 1, max: 4 })),
    dataFirst: fc.boolean()
  }),
  build: (s) => {
    const source = Stream.concat(
      Stream.fromIterable(s.chunks),
      s.end._tag === "succeed" ? Stream.empty : Stream.fromEffect(outcomeEffect(s.end))
    )
    const tracked = s.dataFirst
      ? trackLlmStream(source, s.options as any)
      : source.pipe(trackLlmStream(s.options as any))
    return Stream.runCollect(s.take === null ? tracked : Stream.take(tracked, s.take)).pipe(
      Effect.map(Chunk.toReadonlyArray)
    )
  },
  outcome: (s, observed) => {
    const exit = observed.exit
    const taken = s.take === null ? s.chunks : s.chunks.slice(0, s.take)
    const endsEarly = s.take !== null && s.take <= s.chunks.length
    if (s.end._tag === "succeed" || endsEarly) {
      if (Exit.isFailure(exit)) return [`failed instead of streaming: ${describeCause(exit.cause)}`]
      const got = exit.value as ReadonlyArray<unknown>
      return got.length === taken.length && got.every((chunk, i) => Object.is(chunk, taken[i]))
        ? []
        : [`${got.length} chunks out, ${taken.length} expected, or not the same ones`]
    }
    return passThroughProblems(s.end, exit)
  },
  own: (s, observed) => {
    const span = onlySpan(observed)
    const endsEarly = s.take !== null && s.take <= s.chunks.length
    const problems = llmOwn(span, { tokens: null, outcome: endsEarly ? { _tag: "succeed", value: 1 } : s.end })
    const { expect, problems: more } = checker()
    expect(span, Attributes.GenAiRequestStream, equals(true), "true")
    expect(span, Attributes.StreamChunks, (n) => Number.isSafeInteger(n) && (n as number) >= 0, "a chunk count")
    return [...spanCount(observed, 1), ...problems, ...more]
  }
})

/** Keys of the library's own, as a user would spell them under the prefixing rule of each entry point. */
const collidingKey = fc.constantFrom(
  Attributes.GenAiRequestModel,
  Attributes.GenAiProviderName,
  Attributes.GenAiOperationName,
  Attributes.Vendor,
  "vendor",
  Attributes.RequestAttempt,
  "request.attempt",
  Attributes.TrackingWarnings,
  "tracking.warnings",
  Attributes.CostStatus,
  "cost.status",
  Attributes.GenAiUsageInputTokens
)

const collisions = entry<{ readonly key: string; readonly value: unknown; readonly where: "options" | "metadata" }>({
  name: "user attributes named like the library's own",
  arbitrary: fc.record({
    key: collidingKey,
    value: H.attributeValue,
    where: fc.constantFrom("options" as const, "metadata" as const)
  }),
  build: (s) =>
    Effect.flatMap(LlmTracker, (tracker) =>
      Effect.zipRight(
        s.where === "metadata" ? tracker.addMetadata({ [s.key]: s.value } as any) : Effect.void,
        tracker.setTokens({ inputTokens: 3, outputTokens: 4 })
      )).pipe(
        trackLlmCall({
          provider: "openai",
          model: "gpt-4o",
          attributes: (s.where === "options" ? { [s.key]: s.value } : {}) as any
        })
      ),
  outcome: (_, observed) => passThroughProblems({ _tag: "succeed", value: undefined }, observed.exit),
  own: (_, observed) => {
    const span = onlySpan(observed)
    const { expect, problems } = checker()
    expect(span, Attributes.GenAiRequestModel, equals("gpt-4o"), "gpt-4o")
    expect(span, Attributes.GenAiProviderName, equals("openai"), "openai")
    expect(span, Attributes.GenAiOperationName, equals("chat"), "chat")
    expect(span, Attributes.Vendor, equals("openai"), "openai")
    expect(span, Attributes.RequestAttempt, equals(1), "1")
    expect(span, Attributes.CostStatus, equals("priced"), "priced")
    expect(span, Attributes.GenAiUsageInputTokens, equals(3), "3")
    expect(
      span,
      Attributes.TrackingWarnings,
      (w) => w === undefined || (Array.isArray(w) && w.every((line) => typeof line === "string")),
      "absent or the library's warning lines"
    )
    return problems
  }
})

interface InstrumentedScenario {
  readonly options: unknown
  readonly request: unknown
  readonly style: "effect" | "promise"
  readonly outcome: Outcome
}

const instrumented = entry<InstrumentedScenario>({
  name: "llmInstrumented",
  arbitrary: fc.record({
    options: H.hostileOptions({
      provider: providerArb,
      tokensFromResponse: H.field(fc.boolean()),
      modelParam: H.field(fc.constantFrom("model", "modelId", "")),
      operation: text,
      usageFrom: usageFromArb,
      serverAddress: text,
      serverPort: portArb,
      client: clientArb
    }),
    request: H.hostileOptions({ model: modelArb, modelId: modelArb, stream: H.field(fc.boolean()) }),
    style: fc.constantFrom("effect" as const, "promise" as const),
    outcome: outcomeArb
  }),
  build: (s) => {
    const instrument = llmInstrumented(s.options as any)
    if (s.style === "effect") return instrument((_request: unknown) => outcomeEffect(s.outcome))(s.request)
    const o = s.outcome
    return instrument.promise((_request: unknown) => {
      if (o._tag === "die") throw o.defect
      return o._tag === "succeed" ? Promise.resolve(o.value) : Promise.reject(o.error)
    })(s.request)
  },
  outcome: (s, observed) => {
    const o = s.outcome
    // A promise resolved with a value whose `then` throws rejects (the thenable check): JavaScript's doing.
    if (s.style === "promise" && o._tag === "succeed" && !H.peek(o.value, "then").readable) return []
    // A function returning a Promise fails with what it threw or rejected with: there are no defects to keep.
    const expected: Outcome = s.style === "promise" && o._tag === "die" ? { _tag: "fail", error: o.defect } : o
    return passThroughProblems(expected, observed.exit)
  },
  own: (s, observed) => [...spanCount(observed, 1), ...llmOwn(onlySpan(observed), { tokens: null, outcome: s.outcome })]
})

interface UnreadableScenario {
  readonly where: "trackLlmCall" | "trackToolCall" | "trackAgent" | "botanuWorkflow" | "trackLlmStream"
  readonly outcome: Outcome
}

/** An error a tracer cannot read without a throw (see `unreadableError`): the call's outcome must still be its own. */
const unreadable = entry<UnreadableScenario>({
  name: "a failure or defect whose error cannot be read",
  arbitrary: fc.record({
    where: fc.constantFrom(
      "trackLlmCall" as const,
      "trackToolCall" as const,
      "trackAgent" as const,
      "botanuWorkflow" as const,
      "trackLlmStream" as const
    ),
    outcome: fc.oneof(
      fc.record({ _tag: fc.constant("fail" as const), error: H.unreadableError }),
      fc.record({ _tag: fc.constant("die" as const), defect: H.unreadableError })
    )
  }),
  build: (s) => {
    const body = outcomeEffect(s.outcome)
    switch (s.where) {
      case "trackLlmCall":
        return trackLlmCall(body, { provider: "openai", model: "gpt-4o" })
      case "trackToolCall":
        return trackToolCall(body, { toolName: "search" })
      case "trackAgent":
        return trackAgent(body, { name: "support" })
      case "botanuWorkflow":
        return botanuWorkflow(body, "wf", { eventId: "e-1", customerId: "c-1" })
      case "trackLlmStream":
        return Stream.runDrain(trackLlmStream(Stream.fromEffect(body), { provider: "openai", model: "gpt-4o" }))
    }
  },
  outcome: (s, observed) => passThroughProblems(s.outcome, observed.exit),
  own: (_, observed) => {
    const { expect, problems } = checker()
    expect(onlySpan(observed), Attributes.ErrorType, isName, "an error type")
    return [...spanCount(observed, 1), ...problems]
  },
  attributeChecks: false
})

const entryPoints: ReadonlyArray<EntryPoint<unknown>> = [
  llmCall,
  annotations,
  toolCall,
  agent,
  workflow,
  outcome,
  llmStream,
  instrumented,
  collisions,
  unreadable
]

layer(TrackingTest.layer)("property tests over the entry points that make spans", (it) => {
  for (const ep of entryPoints) {
    describe(ep.name, () => {
      it.effect.prop(
        "nothing thrown or died; the value and the error pass through unchanged",
        [ep.arbitrary],
        ([s]) =>
          Effect.gen(function*() {
            const observed = yield* observe(() => ep.build(s))
            const problems = observed.threw
              ? [`threw synchronously: ${describeError(observed.thrown)}`]
              : ep.outcome(s, observed)
            assertNone(problems)
          }),
        propOptions
      )

      if (ep.attributeChecks !== false) {
        it.effect.prop(
          "no NaN, Infinity, mixed-type list or non-attribute value",
          [ep.arbitrary],
          ([s]) =>
            Effect.gen(function*() {
              const observed = yield* observe(() => ep.build(s))
              assertNone(cleanProblems(observed.spans))
            }),
          propOptions
        )

        it.effect.prop(
          "strings, lists, keys, user attributes and warnings within their bounds",
          [ep.arbitrary],
          ([s]) =>
            Effect.gen(function*() {
              const observed = yield* observe(() => ep.build(s))
              assertNone(boundProblems(observed.spans))
            }),
          propOptions
        )
      }

      it.effect.prop("the library's own attributes present", [ep.arbitrary], ([s]) =>
        Effect.gen(function*() {
          const observed = yield* observe(() => ep.build(s))
          if (observed.threw) return
          assertNone(ep.own(s, observed))
        }), propOptions)
    })
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Custom prices.

const priceNumber = fc.oneof(
  { weight: 3, arbitrary: fc.double({ min: 0, max: 1_000, noNaN: true }) },
  { weight: 2, arbitrary: H.hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(1e300, Number.MAX_VALUE, 1e21, 1e-13) },
  { weight: 1, arbitrary: H.hostileValue }
)
const pricedModel = fc.oneof(fc.constantFrom("m1", "M1 ", "m2", "gpt-4o"), H.hostileString)
const pricedProvider = fc.oneof(fc.constantFrom("mylab", "openai", "azure"), H.hostileString)

const customOptionsArb = H.hostileOptions({
  prices: H.field(fc.array(
    H.hostileOptions({
      provider: H.field(pricedProvider),
      model: H.field(pricedModel),
      prices: H.hostileOptions({
        inputPerMillion: priceNumber,
        outputPerMillion: priceNumber,
        cacheReadPerMillion: priceNumber,
        cacheWritePerMillion: priceNumber
      })
    }),
    { maxLength: 4 }
  )),
  aliases: H.field(fc.array(
    H.hostileOptions({
      provider: H.field(pricedProvider),
      model: H.field(pricedModel),
      as: H.hostileOptions({ provider: H.field(pricedProvider), model: H.field(pricedModel) })
    }),
    { maxLength: 4 }
  ))
})

/** The most a custom price may be (USD per million tokens, see `Pricing.ModelPrices`). */
const maxCustomPrice = 10_000

const validPrice = fc.double({ min: 0, max: maxCustomPrice, noNaN: true })

/** Prices an app can reasonably configure: well-formed records, finite prices from 0 to $10,000 per million tokens. */
const saneCustomOptions = fc.record({
  prices: fc.array(
    fc.record({
      provider: fc.option(fc.constantFrom("mylab", "openai", "azure"), { nil: undefined }),
      model: fc.constantFrom("m1", "M1 ", "m2", "gpt-4o"),
      prices: fc.record({
        inputPerMillion: validPrice,
        outputPerMillion: validPrice,
        cacheReadPerMillion: fc.option(validPrice, { nil: undefined }),
        cacheWritePerMillion: fc.option(validPrice, { nil: undefined })
      })
    }),
    { minLength: 1, maxLength: 4 }
  )
})

const priceRequestArb = fc.record({
  provider: fc.oneof(fc.constantFrom("mylab", "openai", "azure.openai"), H.hostileValue),
  model: fc.oneof(pricedModel, H.hostileValue),
  usage: H.hostileOptions({
    input: H.hostileCount,
    output: H.hostileCount,
    cacheRead: H.hostileCount,
    cacheWrite: H.hostileCount,
    reasoning: H.hostileCount
  }),
  timestamp: H.field(fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), H.hostileNumber))
})

const costStatuses: ReadonlySet<unknown> = new Set([
  "priced",
  "unknown_model",
  "no_usage",
  "custom",
  "free",
  "invalid_price",
  "invalid_cost"
])

const costProblems = (cost: Pricing.Cost): Array<string> => {
  const problems: Array<string> = []
  if (!costStatuses.has(cost.status)) problems.push(`status ${kindOf(cost.status)}`)
  for (const part of ["input", "output", "total", "cacheRead", "cacheWrite", "reasoning"] as const) {
    const amount = cost[part]
    if (amount === undefined && part !== "input" && part !== "output" && part !== "total") continue
    if (typeof amount !== "bigint") {
      problems.push(`${part} is ${kindOf(amount)}`)
    } else if (amount < 0n) {
      problems.push(`${part} is negative`)
    } else if (!Number.isFinite(Pricing.toUsd(amount))) {
      problems.push(`${part} is ${Pricing.toUsd(amount)} USD`)
    }
  }
  return problems
}

/** `makeCustom`, which never throws (see its documentation); what it threw, if it did. */
const makePricing = (
  options: unknown
): { readonly service: Pricing.Pricing.Service } | { readonly threw: string } => {
  try {
    return { service: Pricing.makeCustom(options as Pricing.CustomOptions) }
  } catch (e) {
    return { threw: describeError(e) }
  }
}

/** A pricing service of the app's own that answers anything: hostile costs, or a throw. */
const hostilePricing: fc.Arbitrary<Pricing.Pricing.Service> = fc.oneof(
  H.hostileOptions({
    status: H.field(fc.constantFrom("priced", "custom", "free", "unknown_model", "no_usage")),
    source: H.field(fc.constantFrom("custom", "genai-prices@1")),
    input: H.field(fc.oneof(fc.bigInt({ min: -10n, max: 10n ** 40n }), H.hostileNumber)),
    output: H.field(fc.oneof(fc.bigInt({ min: -10n, max: 10n ** 40n }), H.hostileNumber)),
    total: H.field(fc.oneof(fc.bigInt({ min: -10n, max: 10n ** 40n }), H.hostileNumber)),
    cacheRead: H.field(fc.bigInt({ min: -10n, max: 10n ** 40n })),
    cacheWrite: H.field(fc.bigInt({ min: -10n, max: 10n ** 40n })),
    reasoning: H.field(fc.bigInt({ min: -10n, max: 10n ** 40n }))
  }).map((cost) => H.printAs({ price: () => cost }, `{ price: () => ${fc.stringify(cost).slice(0, 300)} }`)),
  fc.constant(H.printAs({
    price: () => {
      throw new Error("pricing threw")
    }
  }, "{ price: () => { throw } }"))
) as fc.Arbitrary<Pricing.Pricing.Service>

const trackedCost = (
  pricing: Pricing.Pricing.Service,
  [input, output, cacheRead, reasoning]: readonly [number, number, number, number]
) =>
  observe(() =>
    Effect.flatMap(LlmTracker, (tracker) =>
      tracker.setTokens({
        inputTokens: input,
        outputTokens: output,
        cacheReadTokens: cacheRead,
        reasoningTokens: reasoning
      })).pipe(
        trackLlmCall({ provider: "mylab", model: "m1" }),
        Effect.provideService(Pricing.Pricing, pricing)
      )
  )

/** A call's cost attributes: finite, non-negative numbers, and a status that `Pricing.CostStatus` names. */
const costAttributeProblems = (observed: Observed): Array<string> => {
  const span = onlySpan(observed)
  const problems = [...cleanProblems(observed.spans), ...spanCount(observed, 1)]
  for (const [key, value] of Object.entries(span?.attributes ?? {})) {
    if (!key.startsWith("botanu.cost.")) continue
    if (typeof value === "number" && !(Number.isFinite(value) && value >= 0)) problems.push(`${key} = ${value}`)
  }
  if (!costStatuses.has(span?.attributes[Attributes.CostStatus])) {
    problems.push(`botanu.cost.status is ${kindOf(span?.attributes[Attributes.CostStatus])}`)
  }
  return problems
}

const counts = fc.tuple(H.validCount, H.validCount, H.validCount, H.validCount)

describe("custom prices", () => {
  it.prop("makeCustom never throws, whatever the options hold", [customOptionsArb], ([options]) => {
    const made = makePricing(options)
    assert.isFalse("threw" in made, "threw" in made ? made.threw : "")
  }, propOptions)

  it.prop("valid prices from 0 to $10,000 per million tokens price their model as custom", [
    saneCustomOptions,
    fc.integer({ min: 1, max: 1_000_000 })
  ], ([options, input]) => {
    const made = makePricing(options)
    if ("threw" in made) return assert.fail(made.threw)
    const last = options.prices.at(-1)!
    const cost = made.service.price({
      provider: last.provider ?? "mylab",
      model: last.model,
      usage: { input, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
      timestamp: 0
    })
    assertNone(costProblems(cost))
    assert.include(["custom", "free"], cost.status)
  }, propOptions)

  it.prop("price never throws; every amount is a non-negative bigint with a finite USD value", [
    customOptionsArb,
    fc.array(priceRequestArb, { minLength: 1, maxLength: 4 })
  ], ([options, requests]) => {
    const made = makePricing(options)
    if ("threw" in made) return
    for (const request of requests) {
      let cost: Pricing.Cost
      try {
        cost = made.service.price(request as unknown as Pricing.PriceRequest)
      } catch (e) {
        return assert.fail(`price threw: ${describeError(e)}`)
      }
      assertNone(costProblems(cost))
    }
  }, propOptions)

  layer(TrackingTest.layer)((it) => {
    it.effect.prop("a call priced by custom prices, huge ones too, has finite cost attributes", [
      saneCustomOptions,
      fc.option(fc.constantFrom(1e300, Number.MAX_VALUE, 1e21, maxCustomPrice), { nil: undefined }),
      counts
    ], ([options, huge, tokens]) =>
      Effect.gen(function*() {
        const prices = huge === undefined
          ? options.prices
          : [...options.prices, { model: "m1", prices: { inputPerMillion: huge, outputPerMillion: huge } }]
        const made = makePricing({ prices })
        if ("threw" in made) return assert.fail(made.threw)
        assertNone(costAttributeProblems(yield* trackedCost(made.service, tokens)))
      }), propOptions)

    it.effect.prop("a call priced by a service of the app's own that answers anything has finite costs", [
      hostilePricing,
      counts
    ], ([pricing, tokens]) =>
      Effect.gen(function*() {
        const observed = yield* trackedCost(pricing, tokens)
        assertNone([
          ...passThroughProblems({ _tag: "succeed", value: undefined }, observed.exit),
          ...costAttributeProblems(observed)
        ])
      }), propOptions)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The extractors.

const countFields = ["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"] as const

/** Every count a non-negative safe integer or absent; every other field of its documented type. */
const extractedProblems = (usage: unknown): Array<string> => {
  if (typeof usage !== "object" || usage === null) return [`returned ${kindOf(usage)}`]
  const u = usage as Record<string, unknown>
  const problems: Array<string> = []
  for (const key of countFields) {
    const value = u[key]
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
      problems.push(`${key} is ${kindOf(value)}`)
    }
  }
  if (u.inputIncludesCache !== undefined && typeof u.inputIncludesCache !== "boolean") {
    problems.push(`inputIncludesCache is ${kindOf(u.inputIncludesCache)}`)
  }
  for (const key of ["responseId", "responseModel"]) {
    if (u[key] !== undefined && typeof u[key] !== "string") problems.push(`${key} is ${kindOf(u[key])}`)
  }
  for (const key of ["finishReasons", "warnings"]) {
    const list = u[key]
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === "string"))) {
      problems.push(`${key} is not a list of strings`)
    }
  }
  return problems
}

const builtInFrom = fc.constantFrom<Usage.UsageFrom>("auto", ...Usage.extractorNames)
const streamFrom = fc.constantFrom<LlmStream.StreamUsageFrom>("auto", ...LlmStream.extractorNames)

describe("the extractors", () => {
  it.prop("Usage.extract: every count a non-negative safe integer or undefined", [H.hostileResponse, builtInFrom], (
    [response, from]
  ) => {
    assertNone(extractedProblems(Usage.extract(response, from)))
  }, propOptions)

  it.prop("Usage.extract and Usage.detect never throw, whatever the response and usageFrom", [
    H.hostileResponse,
    fc.oneof(builtInFrom, usageFromArb)
  ], ([response, from]) => {
    const detected = Usage.detect(response)
    assert.isTrue(detected === undefined || Usage.extractorNames.includes(detected))
    const usage = Usage.extract(response, from as Usage.UsageFrom)
    assert.isTrue(typeof usage === "object" && usage !== null)
  }, propOptions)

  it.prop("stream extractors: every count a non-negative safe integer or undefined", [
    fc.array(H.hostileChunk, { maxLength: 10 }),
    streamFrom,
    fc.boolean()
  ], ([chunks, from, complete]) => {
    const make = StreamUsage.resolve(from, () => {})
    assert.isDefined(make)
    const usage = make!()
    for (const chunk of chunks) {
      const detected = LlmStream.detect(chunk)
      assert.isTrue(detected === undefined || LlmStream.extractorNames.includes(detected))
      usage.observe(chunk)
    }
    assertNone(extractedProblems(usage.result(complete)))
  }, propOptions)
})

// ---------------------------------------------------------------------------------------------------------------
// Baggage parsing.

const runKeys = [
  Attributes.RunId,
  Attributes.WorkflowName,
  Attributes.EventId,
  Attributes.CustomerId,
  Attributes.Environment,
  Attributes.TenantId,
  Attributes.RootRunId
]

const encode = (value: string): string => {
  try {
    return encodeURIComponent(value)
  } catch {
    // A lone surrogate does not encode: sent raw, as a broken client would.
    return value
  }
}

const baggageValue: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.uuid().map((id) => id.toUpperCase()),
  H.hostileString.map(encode),
  H.hostileString,
  fc.constantFrom("", "%ZZ", "%", "a b", "\"q\"", "x;y", "🙂", "%F0%9F%99%82", "%E2%80%AE", "%00", "%C2%85")
)

const member: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom(...runKeys), baggageValue).map(([key, value]) => `${key}=${value}`),
  fc.tuple(fc.constantFrom(...runKeys), baggageValue, fc.constantFrom(";ttl=10", ";p", "")).map((
    [key, value, property]
  ) => ` ${key} = ${value} ${property}`),
  fc.tuple(H.hostileKey, baggageValue).map(([key, value]) => `${key}=${value}`),
  H.hostileString,
  fc.constantFrom("=", ";", "==", "novalue", " , ")
)

const baggageHeader: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(member, { maxLength: 12 }).map((members) => members.join(",")) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 170, max: 200 }).map((n) =>
      [`botanu.run_id=${"0190d8a2-7b1c-7def-8abc-0123456789ab"}`, ...Array.from({ length: n }, (_, i) => `k${i}=v`)]
        .join(",")
    )
  },
  { weight: 1, arbitrary: H.hugeString },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) }
)

const trustArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom("all", "none"),
  H.hostileValue.map((verdict) => H.printAs(() => verdict, `() => ${fc.stringify(verdict).slice(0, 80)}`)),
  fc.constantFrom(
    H.printAs(() => true, "() => true"),
    H.printAs(() => Effect.succeed(true), "() => Effect.succeed(true)"),
    H.printAs(() => Effect.fail("no"), "() => Effect.fail"),
    H.printAs(() => Effect.die("no"), "() => Effect.die"),
    H.printAs(() => {
      throw new Error("trust threw")
    }, "() => { throw }")
  )
)

const maxWarningLines = bounds.warnings + 1

describe("baggage parsing", () => {
  it.prop("parse and take never throw; their output is bounded", [baggageHeader, fc.boolean()], ([header, trusted]) => {
    const entries = Baggage.parse(header)
    assert.isAtMost(entries.length, Baggage.maxMembers)
    const lines: Array<string> = []
    const taken = RunRemote.take(header, trusted, (line) => lines.push(line))
    assert.isAtMost(lines.length, maxWarningLines)
    for (const line of lines) assert.isAtMost(line.length, bounds.value)
    if (taken?._tag === "Run") {
      const { context } = taken
      for (const id of [context.workflow, context.eventId, context.customerId]) {
        assert.isAtMost([...id].length, bounds.name)
      }
    }
  }, propOptions)

  layer(TrackingTest.layer)((it) => {
    it.effect.prop("the middleware serves every request; a run it continues has bounded, clean ids", [
      baggageHeader,
      trustArb
    ], ([header, trust]) =>
      Effect.gen(function*() {
        const response = HttpServerResponse.text("ok")
        let served = 0
        let seen: Option.Option<RunContext> = Option.none()
        const app = Effect.gen(function*() {
          served++
          seen = yield* currentRun
          yield* trackLlmCall(Effect.void, { provider: "openai", model: "gpt-4o" })
          return response
        })
        const request = { headers: { baggage: header } } as unknown as HttpServerRequest.HttpServerRequest
        const observed = yield* observe(() =>
          HttpPropagation.makeMiddleware({ trust: trust as HttpPropagation.Trust })(app).pipe(
            Effect.provideService(HttpServerRequest.HttpServerRequest, request),
            Effect.withSpan("server", { kind: "server" })
          ) as Effect.Effect<unknown, unknown>
        )
        const problems = observed.threw
          ? [`threw synchronously: ${describeError(observed.thrown)}`]
          : [
            ...(Exit.isSuccess(observed.exit) && observed.exit.value === response
              ? []
              : [
                `not served: ${Exit.isFailure(observed.exit) ? describeCause(observed.exit.cause) : "another response"}`
              ]),
            ...(served === 1 ? [] : [`the app ran ${served} times`]),
            ...cleanProblems(observed.spans),
            ...boundProblems(observed.spans)
          ]
        if (Option.isSome(seen)) {
          const run = seen.value
          for (const id of [run.workflow, run.eventId, run.customerId]) {
            if ([...id].length > bounds.name) problems.push(`a run id of ${id.length} chars`)
            if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200d\ufeff]/.test(id)) {
              problems.push("a run id with a control character")
            }
          }
          if (!/^[0-9a-f-]{36}$/.test(run.runId)) problems.push("a run id that is not a lowercase UUID")
        }
        assertNone(problems)
      }), propOptions)
  })
})

describe("the bounds", () => {
  it("are the ones limits.ts documents", () => {
    assert.deepStrictEqual(
      {
        name: Limits.maxNameChars,
        value: Limits.maxValueChars,
        text: Limits.maxTextChars,
        key: Limits.maxKeyChars,
        list: Limits.maxListItems,
        userAttributes: Limits.maxUserAttributes,
        warnings: Limits.maxWarnings
      },
      bounds
    )
  })
})
