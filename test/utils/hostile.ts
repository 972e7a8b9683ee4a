/**
 * Hostile input for property tests: what a JavaScript caller, a model's answer or a provider response with a
 * surprise in it can hand the library. Every arbitrary is cheap to generate (a huge string is a short seed
 * repeated) and prints readably in a counterexample: the objects that throw when touched carry fast-check's
 * `toStringMethod`, which their traps let through, so that reporting a failure never trips them.
 */
import fc from "fast-check"

/** `value`, printed as `label` in a counterexample. */
export const printAs = <A extends object>(value: A, label: string): A => {
  Object.defineProperty(value, fc.toStringMethod, { value: () => label, enumerable: false })
  return value
}

// fast-check's own symbols, which it looks up to clone and print a value: the only keys a hostile proxy answers.
const printing: ReadonlySet<PropertyKey> = new Set([fc.toStringMethod, fc.asyncToStringMethod, fc.cloneMethod])

// What cannot be read from the hostile objects made here, so that a test can know it without touching them.
const unreadable = new WeakMap<object, (key: string) => boolean>()

/**
 * What reading `value[key]` gives, as `options?.[key]` would, without running a trap or getter that throws:
 * `readable: false` when it would throw.
 */
export const peek = (value: unknown, key: string): { readonly readable: boolean; readonly value: unknown } => {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) {
    return { readable: true, value: undefined }
  }
  if (unreadable.get(value)?.(key) === true) return { readable: false, value: undefined }
  return { readable: true, value: (value as Record<string, unknown>)[key] }
}

/** The traps a hostile proxy throws from. */
export type Trap = "get" | "has" | "ownKeys" | "getOwnPropertyDescriptor" | "getPrototypeOf"

const traps: ReadonlyArray<Trap> = ["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"]

/** A proxy over a record whose listed traps throw; it looks like `target` to anything else. */
export const throwingProxy = (throwing: ReadonlyArray<Trap>, target: object = { a: 1, model: "m" }): object => {
  const label = `Proxy(throws on ${throwing.join(", ")})`
  const fail = (trap: string): never => {
    throw new Error(`hostile proxy: ${trap}`)
  }
  const on = new Set(throwing)
  const handler: ProxyHandler<object> = {
    get: (t, key, receiver) =>
      key === fc.toStringMethod
        ? () => label
        : printing.has(key)
        ? undefined
        : on.has("get")
        ? fail("get")
        : Reflect.get(t, key, receiver),
    has: (t, key) => printing.has(key) ? key === fc.toStringMethod : on.has("has") ? fail("has") : Reflect.has(t, key),
    ownKeys: (t) => on.has("ownKeys") ? fail("ownKeys") : Reflect.ownKeys(t),
    getOwnPropertyDescriptor: (t, key) =>
      on.has("getOwnPropertyDescriptor") && !printing.has(key)
        ? fail("getOwnPropertyDescriptor")
        : Reflect.getOwnPropertyDescriptor(t, key),
    getPrototypeOf: (t) => on.has("getPrototypeOf") ? fail("getPrototypeOf") : Reflect.getPrototypeOf(t)
  }
  const proxy = new Proxy(target, handler)
  if (on.has("get")) unreadable.set(proxy, () => true)
  return proxy
}

/** A copy of `record` in which reading `key` throws (an enumerable own getter). */
export const withThrowingGetter = <A extends object>(record: A, key: string): A => {
  const copy: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(record)) if (k !== key) copy[k] = v
  const label = `${fc.stringify(copy)} with a getter that throws: ${key}`
  Object.defineProperty(copy, key, {
    enumerable: true,
    configurable: true,
    get() {
      throw new Error(`hostile getter: ${key}`)
    }
  })
  unreadable.set(copy, (k) => k === key)
  return printAs(copy, label) as A
}

/** Proxies that throw from one or more traps. */
export const hostileProxy: fc.Arbitrary<object> = fc.subarray([...traps], { minLength: 1 }).map((on) =>
  throwingProxy(on)
)

/** An object with a getter that throws, among ordinary fields. */
export const throwingGetterObject: fc.Arbitrary<object> = fc.constantFrom("a", "inputTokens", "model", "message")
  .map((key) => withThrowingGetter({ a: 1, inputTokens: 5, model: "m", message: "x" }, key))

/** NaN, infinities, -0, huge and tiny numbers, unsafe integers, fractions, negatives, and ordinary numbers. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    1e300,
    -1e300,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 63,
    -1,
    0.5,
    1e-7
  ),
  fc.double(),
  fc.double({ min: 0, max: 1e6, noNaN: true }),
  fc.integer({ min: -1_000, max: 1_000_000 })
)

/** A non-negative safe integer of realistic or extreme size: the counts every entry point must accept. */
export const validCount: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER)
)

// Short seeds that a huge string repeats: astral characters (surrogate pairs), a lone surrogate, combining marks,
// controls, bidi overrides, text that looks like a secret.
const seeds: ReadonlyArray<string> = [
  "x",
  "ab",
  "🙂",
  "a🙂",
  "\uD83D",
  "e\u0301",
  "\u0000\n\t",
  "\u202E",
  "sk-proj-",
  " "
]

/** A string of up to 20,000 UTF-16 units, cheap to make: a seed repeated. */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...seeds), fc.integer({ min: 200, max: 20_000 }))
  .map(([seed, length]) => seed.repeat(Math.ceil(length / seed.length)).slice(0, length))

/** Strings at the limits of `limits.ts`: one under, at and one over each bound. */
export const boundaryString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(255, 256, 257, 1_023, 1_024, 1_025, 4_095, 4_096, 4_097), fc.constantFrom("x", "🙂", "a🙂"))
  .map(([length, seed]) => seed.repeat(Math.ceil(length / seed.length)).slice(0, length))

/** Any string a caller can pass: empty, blank, short, with surrogate pairs, at a bound, or huge. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "   ", "\t\n", "unknown", "openai", "gpt-4o", "🙂🙂") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: boundaryString },
  { weight: 1, arbitrary: hugeString }
)

/** A non-blank string that may still be huge or odd: what a required name or id holds when it is "valid". */
export const nonBlankString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("a", "gpt-4o", "T-1001", "acme", "🙂"),
  fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim().length > 0),
  boundaryString,
  hugeString
)

/** Attribute keys: ordinary, empty or blank, very long, namespaced, prototype names, credential-looking. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "__proto__", "constructor", "toString", "api_key", "x-api-key") },
  {
    weight: 1,
    arbitrary: fc.constantFrom("gen_ai.custom", "botanu.custom", "server.address", "server.port", "server.other")
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom("k", "🙂", "gen_ai."), fc.integer({ min: 250, max: 3_000 })).map((
      [seed, length]
    ) => seed.repeat(Math.ceil(length / seed.length)).slice(0, length))
  }
)

/** Values that are not attribute values: null, undefined, symbols, bigints, functions, nested objects, dates. */
export const exotic: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    undefined,
    Symbol("s"),
    BigInt(10) ** BigInt(30),
    () => 1,
    new Date(0),
    new Date(Number.NaN),
    new Map([["a", 1]]),
    { nested: { deeper: [1, { x: "y" }] } },
    [[1, 2], [3]],
    [{ a: 1 }],
    Object.create(null)
  ),
  fc.constant(printAs(() => {
    throw new Error("hostile function")
  }, "() => { throw }"))
)

/** Attribute-like primitives: strings, numbers (hostile ones too) and booleans. */
export const primitive: fc.Arbitrary<string | number | boolean> = fc.oneof(hostileString, hostileNumber, fc.boolean())

/** Lists of up to 200 items: homogeneous, mixed-type, holding exotic values, or long lists of one value. */
export const hostileList: fc.Arbitrary<Array<unknown>> = fc.oneof(
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 200 }),
  fc.array(fc.oneof(fc.integer(), fc.double()), { maxLength: 200 }),
  fc.array(fc.oneof(primitive, exotic), { maxLength: 20 }),
  fc.tuple(primitive, fc.integer({ min: 0, max: 200 })).map(([item, n]) => Array.from({ length: n }, () => item)),
  fc.tuple(hugeString, fc.integer({ min: 1, max: 70 })).map(([item, n]) => Array.from({ length: n }, () => item))
)

/** Anything at all: every kind of hostile value above. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: primitive },
  { weight: 2, arbitrary: exotic },
  { weight: 2, arbitrary: hostileList },
  { weight: 1, arbitrary: hostileProxy },
  { weight: 1, arbitrary: throwingGetterObject }
)

/** A good value most of the time, a hostile one otherwise: one field of an options record. */
export const field = <A>(good: fc.Arbitrary<A>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 3, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 2, arbitrary: hostileValue })

/** A value for a user attribute: mostly attribute values (some over their bounds), sometimes anything. */
export const attributeValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: primitive },
  { weight: 2, arbitrary: hostileList },
  { weight: 1, arbitrary: hostileValue }
)

/**
 * Records of user attributes: a few hostile keys with hostile values, or many keys (up to 150) with one value each
 * (cheap however many there are), or a record that is not one.
 */
export const attributeRecord: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(hostileKey, attributeValue, { maxKeys: 12 }) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 150 }), fc.constantFrom("k", "key.", "🙂"), primitive).map((
      [n, prefix, value]
    ) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, value])))
  },
  { weight: 1, arbitrary: hostileValue }
)

/**
 * An options record whose fields each come from their arbitrary (any field may be absent), or the record with a
 * getter that throws on one field, or a hostile proxy, or something that is not a record at all.
 */
export const hostileOptions = <Fields extends Record<string, fc.Arbitrary<unknown>>>(
  fields: Fields
): fc.Arbitrary<any> => {
  const record = fc.record(fields, { requiredKeys: [] })
  const keys = Object.keys(fields)
  return fc.oneof(
    { weight: 8, arbitrary: record },
    {
      weight: 1,
      arbitrary: fc.tuple(record, fc.constantFrom(...keys)).map(([r, key]) => withThrowingGetter(r as object, key))
    },
    {
      weight: 1,
      arbitrary: fc.tuple(record, fc.subarray([...traps], { minLength: 1 })).map(([r, on]) =>
        throwingProxy(on, r as object)
      )
    },
    { weight: 1, arbitrary: fc.oneof(exotic, primitive) }
  )
}

/**
 * Errors a call can fail with, all of which a tracer can read: Errors with huge messages and stacks, tagged errors
 * with huge tags, non-Errors (primitives, lists, records, symbols, functions). See `unreadableError` for the rest.
 */
export const hostileError: fc.Arbitrary<unknown> = fc.oneof(
  hostileString.map((message) => new Error(message)),
  fc.tuple(hostileString, hostileString).map(([tag, message]) =>
    printAs(
      Object.assign(new Error(message), { _tag: tag }),
      `Object.assign(new Error(${fc.stringify(message)}), { _tag: ${fc.stringify(tag)} })`
    )
  ),
  fc.tuple(hostileString, hostileString).map(([tag, message]) => ({ _tag: tag, message })),
  hugeString.map((stack) =>
    printAs(Object.assign(new Error("with a stack"), { stack }), `an Error with a stack of ${stack.length} chars`)
  ),
  primitive,
  hostileList.filter((list) => !list.some((item) => typeof item === "bigint")),
  fc.constantFrom<unknown>(
    null,
    undefined,
    Symbol("s"),
    () => 1,
    { nested: { deeper: [1, { x: "y" }] } },
    Object.create(null),
    new TypeError(""),
    Object.assign(new Error("with a cause"), { cause: new Error("inner") })
  )
)

/**
 * Errors that cannot be read without throwing: an object with a getter that throws, proxies whose traps throw,
 * built-ins whose methods throw once effect wraps the error in its span-carrying proxy (a Date, a Map), and a bigint
 * (which @effect/opentelemetry's exception recording cannot serialize: under a bare `NodeSdk` layer a plain
 * `Effect.withSpan` loses its span and gains a defect). Not a proxy whose `has` trap throws: `Effect.fail` itself
 * asks it whether it carries a span, and throws; nor one whose `getOwnPropertyDescriptor` trap throws, which
 * effect's own `Cause.failures` (and a plain `Effect.withSpan`, which dies of it) cannot handle either.
 */
export const unreadableError: fc.Arbitrary<unknown> = fc.oneof(
  throwingGetterObject,
  fc.subarray(traps.filter((trap) => trap !== "has" && trap !== "getOwnPropertyDescriptor"), { minLength: 1 })
    .map((on) => throwingProxy(on)),
  fc.constantFrom<unknown>(
    new Date(0),
    new Date(Number.NaN),
    new Map([["a", 1]]),
    BigInt(10) ** BigInt(30),
    [1, BigInt(2)]
  )
)

/** A token count as a response reports it: valid, a hostile number, or anything. */
export const hostileCount: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: validCount },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: hostileValue }
)

/** A record whose fields are each optional: what a response's nested objects are, or a hostile value instead. */
const part = (fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> =>
  field(fc.record(fields, { requiredKeys: [] }))

const text = field(hostileString)
const c = hostileCount
const list = (item: fc.Arbitrary<unknown>) => field(fc.array(item, { maxLength: 5 }))

const openaiChatUsage = part({
  prompt_tokens: c,
  completion_tokens: c,
  total_tokens: c,
  prompt_cache_hit_tokens: c,
  cached_tokens: c,
  cache_write_tokens: c,
  prompt_tokens_details: part({ cached_tokens: c, cache_write_tokens: c }),
  completion_tokens_details: part({ reasoning_tokens: c })
})
const openaiResponsesUsage = part({
  input_tokens: c,
  output_tokens: c,
  input_tokens_details: part({ cached_tokens: c, cache_write_tokens: c }),
  output_tokens_details: part({ reasoning_tokens: c })
})
const anthropicUsage = part({
  input_tokens: c,
  output_tokens: c,
  cache_read_input_tokens: c,
  cache_creation_input_tokens: c,
  cache_creation: part({ ephemeral_5m_input_tokens: c, ephemeral_1h_input_tokens: c })
})
const geminiUsage = part({
  promptTokenCount: c,
  toolUsePromptTokenCount: c,
  candidatesTokenCount: c,
  thoughtsTokenCount: c,
  cachedContentTokenCount: c
})

const openaiChatResponse = fc.record({
  object: fc.constant("chat.completion"),
  id: text,
  model: text,
  choices: list(part({ finish_reason: text })),
  usage: openaiChatUsage
}, { requiredKeys: ["object"] })
const openaiResponsesResponse = fc.record({
  object: fc.constant("response"),
  id: text,
  model: text,
  status: field(fc.constantFrom("completed", "incomplete", "failed")),
  incomplete_details: part({ reason: text }),
  usage: openaiResponsesUsage
}, { requiredKeys: ["object"] })
const anthropicResponse = fc.record({
  type: fc.constant("message"),
  id: text,
  model: text,
  stop_reason: text,
  usage: anthropicUsage
}, { requiredKeys: ["type"] })
const geminiResponse = fc.record({
  responseId: text,
  modelVersion: text,
  candidates: list(part({ finishReason: text, index: field(fc.integer({ min: 0, max: 3 })) })),
  usageMetadata: geminiUsage
}, { requiredKeys: ["usageMetadata"] })

/**
 * Responses of every API `Usage` reads, with hostile values in every field (counts that are NaN, negative,
 * fractional, unsafe or not numbers; nested records that are proxies), and anything at all.
 */
export const hostileResponse: fc.Arbitrary<unknown> = fc.oneof(
  openaiChatResponse,
  openaiResponsesResponse,
  fc.record({ object: fc.constant("list"), data: fc.constant([]), model: text, usage: openaiChatUsage }),
  anthropicResponse,
  fc.record({
    stopReason: text,
    usage: part({ inputTokens: c, outputTokens: c, cacheReadInputTokens: c, cacheWriteInputTokens: c }),
    $metadata: part({ requestId: text })
  }, { requiredKeys: ["stopReason"] }),
  geminiResponse,
  fc.record({
    id: text,
    finish_reason: text,
    usage: part({
      billed_units: part({ input_tokens: c, output_tokens: c }),
      tokens: part({ input_tokens: c, output_tokens: c }),
      cached_tokens: c
    })
  }),
  fc.record({
    id: text,
    model: text,
    choices: list(part({ finishReason: text })),
    usage: fc.record({ promptTokens: c, completionTokens: c })
  }),
  hostileValue,
  fc.anything()
)

/** Chunks and events of every streaming API `LlmStream` reads, hostile in every field, and anything at all. */
export const hostileChunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    object: fc.constant("chat.completion.chunk"),
    id: text,
    model: text,
    choices: list(part({ index: field(fc.integer({ min: 0, max: 3 })), finish_reason: text })),
    usage: openaiChatUsage
  }, { requiredKeys: ["object"] }),
  fc.record({
    type: fc.constantFrom("response.created", "response.completed", "response.incomplete", "response.failed"),
    response: part({ id: text, model: text, status: text, usage: openaiResponsesUsage })
  }),
  fc.record({ type: fc.constant("message_start"), message: anthropicResponse }),
  fc.record({
    type: fc.constant("message_delta"),
    delta: part({ stop_reason: text }),
    usage: part({ input_tokens: c, output_tokens: c, cache_read_input_tokens: c, cache_creation_input_tokens: c })
  }),
  fc.constantFrom({ type: "content_block_delta" }, { type: "ping" }),
  geminiResponse,
  hostileValue
)
