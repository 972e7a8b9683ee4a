/**
 * Content capture (issue 20): off by default, on by the environment variable or `Content.layer`; each source of
 * content; sampling; the `redact` hook and what its failures do; the scrubbers; the bounds; hostile input; and where
 * content never goes (metrics, the ledger, the console). Real spans, read back from the SDK through
 * `TrackingTest.layer`.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { Context, Data, Duration, Effect, Exit, Fiber, Layer, Logger, Stream, TestClock } from "effect"
import { execFile } from "node:child_process"
import {
  Content,
  CostLedger,
  llmInstrumented,
  LlmTracker,
  ToolTracker,
  Tracking,
  TrackingTest,
  trackLlmCall,
  trackLlmStream,
  trackToolCall
} from "../src/index.js"
import * as internal from "../src/internal/content.js"
import * as Limits from "../src/internal/limits.js"
import { root } from "./utils/examples.js"
import { fixture, openaiChatChunks } from "./utils/fakeProvider.js"
import { uniqueName } from "./utils/metrics.js"
import { spanNamed, warningsOf } from "./utils/spans.js"

const bad = (value: unknown): any => value

const contentKeys = [
  "gen_ai.system_instructions",
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result"
] as const

const withContent = <R = never>(options?: Content.Options<R>) => Layer.merge(TrackingTest.layer, Content.layer(options))

const json = (span: ReadableSpan, key: string): unknown => {
  const value = span.attributes[key]
  assert.isString(value, key)
  return JSON.parse(value as string)
}

class PiiDown extends Data.TaggedError("PiiDown")<{ readonly message: string }> {}
class RateLimited extends Data.TaggedError("RateLimited")<{ readonly message: string }> {}

/** A call that sets every kind of content by hand, with a tool call inside it that does the same. */
const handCall = (model: string) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setSystemInstructions("You are a terse assistant.")
    yield* tracker.setInputMessages([{ role: "user", content: "Capital of France?" }])
    yield* trackToolCall(
      Effect.gen(function*() {
        const tool = yield* ToolTracker
        yield* tool.setArguments({ city: "Paris" })
        return { population: 2_102_650 }
      }),
      { toolName: `lookup-${model}` }
    )
    yield* tracker.setOutputMessages([{ role: "assistant", content: "Paris.", finish_reason: "stop" }])
    return "Paris."
  }).pipe(trackLlmCall({ provider: "openai", model }))

describe("off by default", () => {
  it.effect("no content attribute on any span, though every source is used", () =>
    Effect.gen(function*() {
      assert.isFalse(internal.isOn(process.env[Content.EnvVariable]), `${Content.EnvVariable} is set in this shell`)
      const model = uniqueName("off")
      yield* handCall(model)
      yield* Effect.succeed(fixture("openai-chat")).pipe(trackLlmCall({ provider: "openai", model, usageFrom: "auto" }))
      yield* Stream.runDrain(
        trackLlmStream(Stream.fromIterable(openaiChatChunks(model)), { provider: "openai", model, usageFrom: "auto" })
      )
      const create = llmInstrumented({ provider: "openai" }).promise((_: unknown) =>
        Promise.resolve(fixture("openai-chat"))
      )
      yield* create({ model, messages: [{ role: "user", content: "Hi" }] })
      const spans = yield* TrackingTest.finishedSpans
      assert.isAtLeast(spans.length, 5)
      for (const span of spans) {
        for (const key of Object.keys(span.attributes)) {
          assert.isFalse(key.startsWith("gen_ai.input") || key.startsWith("gen_ai.output"), `${span.name}: ${key}`)
          assert.notInclude(contentKeys as ReadonlyArray<string>, key, span.name)
          assert.isFalse(key.startsWith("botanu.content."), `${span.name}: ${key}`)
        }
        assert.notInclude(JSON.stringify(span.attributes), "Capital of France")
      }
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("Content.layerDisabled turns it off, and sampleRate 0 is off", () =>
    Effect.gen(function*() {
      yield* handCall("disabled")
      const span = yield* spanNamed("chat disabled")
      for (const key of contentKeys) assert.isUndefined(span.attributes[key])
    }).pipe(Effect.provide(Layer.merge(TrackingTest.layer, Content.layerDisabled))))

  it.effect("sampleRate 0 captures nothing", () =>
    Effect.gen(function*() {
      yield* handCall("rate-zero")
      const span = yield* spanNamed("chat rate-zero")
      for (const key of contentKeys) assert.isUndefined(span.attributes[key])
    }).pipe(Effect.provide(withContent({ sampleRate: 0 }))))
})

describe("the environment variable", () => {
  it("true, span_only and span_and_event turn capture on, trimmed and in any case; anything else does not", () => {
    for (const value of ["true", " TRUE ", "True", "span_only", "SPAN_AND_EVENT"]) {
      assert.isTrue(internal.isOn(value), value)
      assert.isTrue(internal.fromEnv(value).enabled, value)
    }
    for (const value of [undefined, "", "false", "1", "yes", "on", "no_content", "truthy"]) {
      assert.isFalse(internal.isOn(value), String(value))
      assert.isFalse(internal.fromEnv(value).enabled, String(value))
    }
    const on = internal.fromEnv("true")
    assert.strictEqual(on.sampleRate, 1)
    assert.strictEqual(on.maxCallChars, Limits.defaultContentCallChars)
    assert.strictEqual(on.maxMessageChars, Limits.defaultContentMessageChars)
    assert.isUndefined(on.redact)
    // The default scrubber: credentials only.
    assert.strictEqual(on.scrub!("key sk-proj-abcdefghijklmnop, mail a@b.com"), "key [REDACTED], mail a@b.com")
  })

  /** The script, run as a user would (tsx), with the variable set to `value` or unset. */
  const run = (value: string | undefined) =>
    Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
      const env = { ...process.env }
      if (value === undefined) delete env[Content.EnvVariable]
      else env[Content.EnvVariable] = value
      const child = execFile(
        `${root}node_modules/.bin/tsx`,
        ["test/utils/contentEnvScript.ts"],
        { cwd: root, timeout: 30_000, env },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
          resume(Effect.succeed({ code, stdout, stderr }))
        }
      )
      return Effect.sync(() => child.kill())
    })

  it.live(
    "read from the process environment: a process with it set records content, one without does not",
    () =>
      Effect.gen(function*() {
        const [on, off, other] = yield* Effect.all([run("true"), run(undefined), run("false")], { concurrency: 3 })
        for (const result of [on, off, other]) assert.strictEqual(result.code, 0, result.stderr)
        const attributes = (result: typeof on) => JSON.parse(result.stdout.trim().split("\n").at(-1)!)
        const captured = attributes(on)
        assert.deepStrictEqual(JSON.parse(captured["gen_ai.input.messages"]), [
          { role: "user", parts: [{ type: "text", content: "Hello from a child process" }] }
        ])
        // With Content.layer, which wins over the environment.
        assert.deepStrictEqual(JSON.parse(captured.layered["gen_ai.input.messages"]), [
          { role: "user", parts: [{ type: "text", content: "Hello from a child process" }] }
        ])
        assert.isUndefined(captured.disabled["gen_ai.input.messages"])
        for (const result of [off, other]) {
          const seen = attributes(result)
          assert.isUndefined(seen["gen_ai.input.messages"])
          assert.isDefined(seen.layered["gen_ai.input.messages"])
        }
      }),
    60_000
  )
})

describe("sources", () => {
  it.effect("by hand: system instructions, input and output messages, tool arguments and result", () =>
    Effect.gen(function*() {
      const model = uniqueName("hand")
      assert.strictEqual(yield* handCall(model), "Paris.")
      const call = yield* spanNamed(`chat ${model}`)
      assert.deepStrictEqual(json(call, "gen_ai.system_instructions"), [
        { type: "text", content: "You are a terse assistant." }
      ])
      assert.deepStrictEqual(json(call, "gen_ai.input.messages"), [
        { role: "user", parts: [{ type: "text", content: "Capital of France?" }] }
      ])
      assert.deepStrictEqual(json(call, "gen_ai.output.messages"), [
        { role: "assistant", parts: [{ type: "text", content: "Paris." }], finish_reason: "stop" }
      ])
      const tool = yield* spanNamed(`execute_tool lookup-${model}`)
      assert.deepStrictEqual(json(tool, "gen_ai.tool.call.arguments"), { city: "Paris" })
      assert.deepStrictEqual(json(tool, "gen_ai.tool.call.result"), { population: 2_102_650 })
      for (const span of [call, tool]) {
        assert.isUndefined(span.attributes["botanu.content.truncated"])
        assert.isUndefined(span.attributes["botanu.content.dropped"])
        assert.deepStrictEqual(warningsOf(span), [])
      }
    }).pipe(Effect.provide(withContent())))

  it.effect("the conventions' full shapes are kept: parts of every type, names, ids, JSON-text arguments parsed", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setSystemInstructions([{ type: "text", content: "Be brief." }, "And polite."] as any)
        yield* tracker.setInputMessages([
          { role: "user", name: "ada", parts: [{ type: "text", content: "Weather in Paris?" }] },
          {
            role: "assistant",
            parts: [{ type: "tool_call", id: "call_1", name: "weather", arguments: "{\"city\":\"Paris\"}" }]
          },
          { role: "tool", parts: [{ type: "tool_call_response", id: "call_1", response: { temp: 21 } }] },
          {
            role: "user",
            parts: [{ type: "uri", modality: "image", mime_type: "image/png", uri: "https://example.com/a.png" }]
          }
        ])
        yield* tracker.setOutputMessages([
          {
            role: "assistant",
            parts: [{ type: "reasoning", content: "It is warm." }, { type: "text", content: "21°C." }],
            finish_reason: "stop"
          },
          { role: "assistant", content: "Warm." }
        ])
      }).pipe(trackLlmCall({ provider: "openai", model: "shapes" }))
      const span = yield* spanNamed("chat shapes")
      assert.deepStrictEqual(json(span, "gen_ai.system_instructions"), [
        { type: "text", content: "Be brief." },
        { type: "text", content: "And polite." }
      ])
      assert.deepStrictEqual(json(span, "gen_ai.input.messages"), [
        { role: "user", parts: [{ type: "text", content: "Weather in Paris?" }], name: "ada" },
        {
          role: "assistant",
          parts: [{ type: "tool_call", id: "call_1", name: "weather", arguments: { city: "Paris" } }]
        },
        { role: "tool", parts: [{ type: "tool_call_response", id: "call_1", response: { temp: 21 } }] },
        {
          role: "user",
          parts: [{ type: "uri", modality: "image", mime_type: "image/png", uri: "https://example.com/a.png" }]
        }
      ])
      assert.deepStrictEqual(json(span, "gen_ai.output.messages"), [
        {
          role: "assistant",
          parts: [{ type: "reasoning", content: "It is warm." }, { type: "text", content: "21°C." }],
          finish_reason: "stop"
        },
        // A finish reason left out is `unknown`: the conventions require one.
        { role: "assistant", parts: [{ type: "text", content: "Warm." }], finish_reason: "unknown" }
      ])
    }).pipe(Effect.provide(withContent())))

  it.effect("usageFrom reads the output from the response; a hand value wins, attribute by attribute", () =>
    Effect.gen(function*() {
      const completion = fixture("openai-chat")
      yield* Effect.succeed(completion).pipe(trackLlmCall({ provider: "openai", model: "read", usageFrom: "auto" }))
      const read = yield* spanNamed("chat read")
      const output = json(read, "gen_ai.output.messages") as Array<any>
      assert.strictEqual(output.length, 1)
      assert.strictEqual(output[0].role, "assistant")
      assert.strictEqual(output[0].finish_reason, "stop")
      assert.deepStrictEqual(output[0].parts, [{ type: "text", content: completion.choices[0].message.content }])

      yield* Effect.flatMap(
        LlmTracker,
        (tracker) =>
          Effect.as(
            tracker.setOutputMessages([{ role: "assistant", content: "by hand", finish_reason: "stop" }]),
            completion
          )
      ).pipe(
        trackLlmCall({ provider: "openai", model: "hand-wins", usageFrom: "openai.chat" })
      )
      const handWins = yield* spanNamed("chat hand-wins")
      assert.deepStrictEqual(json(handWins, "gen_ai.output.messages"), [
        { role: "assistant", parts: [{ type: "text", content: "by hand" }], finish_reason: "stop" }
      ])
    }).pipe(Effect.provide(withContent())))

  it.effect("an instrumented function reads the request when the call starts, and the response", () =>
    Effect.gen(function*() {
      const create = llmInstrumented({ provider: "openai" }).promise(
        (params: { readonly messages: Array<{ role: string; content: string }> }) => {
          // The caller reuses its list for the next call while this one runs: what was sent is what is recorded.
          params.messages.push({ role: "user", content: "later" })
          return Promise.resolve(fixture("openai-chat"))
        }
      )
      yield* create({
        model: "instrumented",
        messages: [{ role: "system", content: "Answer in one word." }, { role: "user", content: "Capital of France?" }]
      } as any)
      const span = yield* spanNamed("chat instrumented")
      const input = json(span, "gen_ai.input.messages") as Array<any>
      assert.deepStrictEqual(input.map((message) => message.role), ["system", "user"])
      assert.isDefined(span.attributes["gen_ai.output.messages"])
      const output = json(span, "gen_ai.output.messages") as Array<any>
      assert.strictEqual(output[0].finish_reason, "stop")
    }).pipe(Effect.provide(withContent())))

  it.effect("an instrumented embeddings call records no messages: its input is not a conversation", () =>
    Effect.gen(function*() {
      const embed = llmInstrumented({ provider: "openai", operation: "embeddings" }).promise(
        (_: { readonly model: string; readonly input: string }) => Promise.resolve(fixture("openai-embeddings"))
      )
      yield* embed({ model: "text-embedding-3-small", input: "Capital of France?" })
      const span = yield* spanNamed("embeddings text-embedding-3-small")
      for (const key of contentKeys) assert.isUndefined(span.attributes[key], key)
      assert.isAbove(span.attributes["gen_ai.usage.input_tokens"] as number, 0)
    }).pipe(Effect.provide(withContent())))
  it.effect("a tool's success value is its result, unless set by hand; a failed tool records none", () =>
    Effect.gen(function*() {
      yield* trackToolCall(Effect.succeed(["order-1", "order-2"]), { toolName: "orders" })
      yield* trackToolCall(
        Effect.flatMap(ToolTracker, (tool) => Effect.as(tool.setResultContent("2 orders"), ["order-1", "order-2"])),
        { toolName: "by-hand" }
      )
      yield* Effect.exit(trackToolCall(Effect.fail(new RateLimited({ message: "slow" })), { toolName: "failing" }))
      yield* trackToolCall(Effect.void, { toolName: "void" })
      assert.deepStrictEqual(json(yield* spanNamed("execute_tool orders"), "gen_ai.tool.call.result"), [
        "order-1",
        "order-2"
      ])
      // A plain string that is not JSON is recorded as it is.
      assert.strictEqual((yield* spanNamed("execute_tool by-hand")).attributes["gen_ai.tool.call.result"], "2 orders")
      assert.isUndefined((yield* spanNamed("execute_tool failing")).attributes["gen_ai.tool.call.result"])
      assert.isUndefined((yield* spanNamed("execute_tool void")).attributes["gen_ai.tool.call.result"])
    }).pipe(Effect.provide(withContent())))

  it.effect("a tracked stream records the streamed text when it ends; an abandoned one what came so far", () =>
    Effect.gen(function*() {
      const chunks = openaiChatChunks("streamed")
      yield* Stream.runDrain(
        trackLlmStream(
          Stream.concat(
            Stream.fromEffect(
              Effect.flatMap(LlmTracker, (tracker) => tracker.setInputMessages([{ role: "user", content: "Capital?" }]))
            ).pipe(Stream.drain),
            Stream.fromIterable(chunks)
          ),
          { provider: "openai", model: "streamed", usageFrom: "auto" }
        )
      )
      const complete = yield* spanNamed("chat streamed")
      assert.deepStrictEqual(json(complete, "gen_ai.input.messages"), [
        { role: "user", parts: [{ type: "text", content: "Capital?" }] }
      ])
      assert.deepStrictEqual(json(complete, "gen_ai.output.messages"), [
        { role: "assistant", parts: [{ type: "text", content: "Paris." }], finish_reason: "stop" }
      ])

      yield* Stream.runDrain(
        Stream.take(
          trackLlmStream(Stream.rechunk(Stream.fromIterable(openaiChatChunks("abandoned")), 1), {
            provider: "openai",
            model: "abandoned"
          }),
          2
        )
      )
      const abandoned = yield* spanNamed("chat abandoned")
      const output = json(abandoned, "gen_ai.output.messages") as Array<any>
      assert.strictEqual(output.length, 1)
      assert.strictEqual(output[0].finish_reason, "interrupted")
      assert.deepStrictEqual(output[0].parts, [{ type: "text", content: "Paris." }])
    }).pipe(Effect.provide(withContent())))
})

describe("sampling", () => {
  it.effect("decided once per call from the fiber's Random: at 0.5, draws below it capture", () =>
    Effect.gen(function*() {
      const prefix = uniqueName("sampled")
      for (let i = 0; i < 4; i++) yield* handCall(`${prefix}-${i}`)
      const captured: Array<boolean> = []
      for (let i = 0; i < 4; i++) {
        const call = yield* spanNamed(`chat ${prefix}-${i}`)
        const tool = yield* spanNamed(`execute_tool lookup-${prefix}-${i}`)
        const on = call.attributes["gen_ai.input.messages"] !== undefined
        captured.push(on)
        // A tool call inside an LLM call follows that call's decision (and draws nothing).
        assert.strictEqual(tool.attributes["gen_ai.tool.call.arguments"] !== undefined, on, `tool of call ${i}`)
        assert.strictEqual(call.attributes["gen_ai.output.messages"] !== undefined, on)
      }
      assert.deepStrictEqual(captured, [true, false, true, false])
    }).pipe(
      Effect.withRandomFixed([0.2, 0.7, 0.4, 0.9]),
      Effect.provide(withContent({ sampleRate: 0.5 }))
    ))

  it.effect("a tool call on its own decides for itself", () =>
    Effect.gen(function*() {
      yield* trackToolCall(Effect.succeed(1), { toolName: "first" })
      yield* trackToolCall(Effect.succeed(2), { toolName: "second" })
      assert.strictEqual((yield* spanNamed("execute_tool first")).attributes["gen_ai.tool.call.result"], "1")
      assert.isUndefined((yield* spanNamed("execute_tool second")).attributes["gen_ai.tool.call.result"])
    }).pipe(Effect.withRandomFixed([0.05, 0.95]), Effect.provide(withContent({ sampleRate: 0.1 }))))
})

/** A call whose content holds a name to redact, with a tool call inside. */
const personalCall = (model: string) =>
  Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setInputMessages([{ role: "user", content: "I am Alice Martin, where is my order?" }])
    yield* tracker.setOutputMessages([{
      role: "assistant",
      content: "Alice Martin, it ships today.",
      finish_reason: "stop"
    }])
    return "answered"
  }).pipe(trackLlmCall({ provider: "openai", model }))

describe("the redact hook", () => {
  class Pii extends Context.Tag("test/Pii")<Pii, { readonly mask: (text: string) => Effect.Effect<string> }>() {}
  const PiiLive = Layer.succeed(Pii, { mask: (text) => Effect.succeed(text.replaceAll("Alice Martin", "[NAME]")) })

  it.effect("rewrites the content before it is recorded, with the services it needs from the layer's context", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* personalCall("redacted"), "answered")
      const span = yield* spanNamed("chat redacted")
      assert.deepStrictEqual(json(span, "gen_ai.input.messages"), [
        { role: "user", parts: [{ type: "text", content: "I am [NAME], where is my order?" }] }
      ])
      assert.notInclude(JSON.stringify(span.attributes), "Alice")
    }).pipe(Effect.provide(Layer.merge(
      TrackingTest.layer,
      Content.layer({ redact: Content.redactText((text) => Effect.flatMap(Pii, (pii) => pii.mask(text))) }).pipe(
        Layer.provide(PiiLive)
      )
    ))))

  it.effect("a hook over the whole capture; its answer is validated like hand input", () =>
    Effect.gen(function*() {
      yield* personalCall("whole")
      const span = yield* spanNamed("chat whole")
      assert.deepStrictEqual(json(span, "gen_ai.input.messages"), [
        { role: "user", parts: [{ type: "text", content: "(removed)" }] }
      ])
      // The hook removed the output: nothing recorded for it.
      assert.isUndefined(span.attributes["gen_ai.output.messages"])
      assert.include(warningsOf(span), "inputMessages[1]: 42 is not a message; dropped")
    }).pipe(Effect.provide(withContent({
      redact: () =>
        Effect.succeed({ inputMessages: [{ role: "user", parts: [{ type: "text", content: "(removed)" }] }, bad(42)] })
    }))))

  const failing: ReadonlyArray<readonly [string, Content.Options["redact"], string, string]> = [
    [
      "fails",
      () => Effect.fail(new PiiDown({ message: "Alice Martin unknown" })),
      "redaction_failed",
      "redact failed (PiiDown)"
    ],
    ["dies", () => Effect.die(new TypeError("boom")), "redaction_failed", "redact died (TypeError)"],
    [
      "throws",
      () => {
        throw new Error("sync")
      },
      "redaction_failed",
      "redact died (Error)"
    ],
    ["interrupts", () => Effect.interrupt, "redaction_failed", "redact was interrupted"],
    ["answers 42", () => Effect.succeed(bad(42)), "redaction_failed", "redact answered 42"],
    ["is no Effect", () => bad("not an effect"), "redaction_failed", "redact returned something that is not an Effect"]
  ]
  for (const [name, redact, reason, why] of failing) {
    it.effect(`one that ${name}: all the call's content dropped, a warning, the call's result unchanged`, () =>
      Effect.gen(function*() {
        const model = uniqueName("failing-hook")
        assert.strictEqual(yield* personalCall(model), "answered")
        const failure = new RateLimited({ message: "slow down" })
        const exit = yield* Effect.exit(
          Effect.flatMap(
            LlmTracker,
            (tracker) =>
              Effect.zipRight(
                tracker.setInputMessages([{ role: "user", content: "Alice Martin" }]),
                Effect.fail(failure)
              )
          ).pipe(
            trackLlmCall({ provider: "openai", model: `${model}-failed` })
          )
        )
        assert.isTrue(Exit.isFailure(exit))
        assert.deepStrictEqual(Exit.isFailure(exit) ? exit.cause._tag : undefined, "Fail")
        for (const spanName of [`chat ${model}`, `chat ${model}-failed`]) {
          const span = yield* spanNamed(spanName)
          for (const key of contentKeys) assert.isUndefined(span.attributes[key], `${spanName} ${key}`)
          assert.strictEqual(span.attributes["botanu.content.dropped"], reason)
          assert.include(warningsOf(span), `content: ${why}; the call's content is dropped`)
          assert.notInclude(JSON.stringify(span.attributes), "Alice")
        }
        assert.strictEqual((yield* spanNamed(`chat ${model}-failed`)).attributes["error.type"], "RateLimited")
      }).pipe(Effect.provide(withContent({ redact }))))
  }

  it.effect("one that takes longer than redactTimeout: dropped as redaction_timeout, the caller waits no longer", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(personalCall("slow-hook"))
      yield* TestClock.adjust("1999 millis")
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.succeed("answered"))
      const span = yield* spanNamed("chat slow-hook")
      assert.strictEqual(span.attributes["botanu.content.dropped"], "redaction_timeout")
      assert.include(warningsOf(span), "content: redact took longer than 2s; the call's content is dropped")
      for (const key of contentKeys) assert.isUndefined(span.attributes[key])
    }).pipe(Effect.provide(withContent({
      // One that ignores its interruption, too.
      redact: () => Effect.uninterruptible(Effect.never),
      redactTimeout: "2 seconds"
    }))))

  it.effect("a call that is itself interrupted does not wait for the hook: its content is dropped", () =>
    Effect.gen(function*() {
      const started = yield* Effect.fork(
        Effect.flatMap(
          LlmTracker,
          (tracker) =>
            Effect.zipRight(tracker.setInputMessages([{ role: "user", content: "Alice Martin" }]), Effect.never)
        ).pipe(
          trackLlmCall({ provider: "openai", model: "interrupted-call" })
        )
      )
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(started)
      const span = yield* spanNamed("chat interrupted-call")
      assert.strictEqual(span.attributes["error.type"], "interrupted")
      assert.strictEqual(span.attributes["botanu.content.dropped"], "redaction_failed")
      assert.include(warningsOf(span), "content: redact was interrupted; the call's content is dropped")
    }).pipe(Effect.provide(withContent({ redact: (content) => Effect.as(Effect.sleep("10 millis"), content) }))))

  it.effect("without a hook, an interrupted call records what it had", () =>
    Effect.gen(function*() {
      const started = yield* Effect.fork(
        Effect.flatMap(LlmTracker, (tracker) =>
          Effect.zipRight(tracker.setInputMessages([{ role: "user", content: "hello" }]), Effect.never)).pipe(
            trackLlmCall({ provider: "openai", model: "interrupted-plain" })
          )
      )
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(started)
      const span = yield* spanNamed("chat interrupted-plain")
      assert.deepStrictEqual(json(span, "gen_ai.input.messages"), [
        { role: "user", parts: [{ type: "text", content: "hello" }] }
      ])
    }).pipe(Effect.provide(withContent())))

  it.effect("runs after the span's end time and outside it: neither the span nor the duration metric counts it", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(personalCall("timed-hook"))
      yield* TestClock.adjust("500 millis")
      yield* Fiber.join(fiber)
      const spans = yield* TrackingTest.finishedSpans
      const call = spans.find((span) => span.name === "chat timed-hook")!
      assert.deepStrictEqual(call.duration, [0, 0])
      const pii = spans.find((span) => span.name === "pii-service")!
      assert.notStrictEqual(pii.parentSpanContext?.spanId, call.spanContext().spanId)
      assert.isDefined(call.attributes["gen_ai.input.messages"])
      const collected = yield* TrackingTest.collectMetrics
      const duration = collected.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) =>
        metric.descriptor.name === "gen_ai.client.operation.duration"
      )!
      const point = (duration.dataPoints as Array<any>).find((p) =>
        p.attributes["gen_ai.request.model"] === "timed-hook"
      )
      assert.strictEqual(point.value.sum, 0)
    }).pipe(Effect.provide(withContent({
      redact: (content) => Effect.as(Effect.sleep("500 millis"), content).pipe(Effect.withSpan("pii-service"))
    }))))
})

describe("scrubbers", () => {
  const scrubbed = (scrub: ReadonlyArray<Content.Scrubber> | undefined, text: string) =>
    Effect.gen(function*() {
      const model = uniqueName("scrub")
      yield* Effect.flatMap(LlmTracker, (tracker) => tracker.setInputMessages([{ role: "user", content: text }])).pipe(
        trackLlmCall({ provider: "openai", model }),
        Effect.provide(Content.layer(scrub === undefined ? {} : { scrub }))
      )
      const span = yield* spanNamed(`chat ${model}`)
      return (json(span, "gen_ai.input.messages") as Array<any>)[0].parts[0].content as string
    })

  it.effect("each kind, and credentials alone by default", () =>
    Effect.gen(function*() {
      const text = "Mail jane.doe@example.com or call +1 (555) 123-4567 / 555-123-4567; card 4111 1111 1111 1111; " +
        "key sk-proj-abcdefghijklmnop1234"
      assert.strictEqual(
        yield* scrubbed(undefined, text),
        "Mail jane.doe@example.com or call +1 (555) 123-4567 / 555-123-4567; card 4111 1111 1111 1111; key [REDACTED]"
      )
      assert.strictEqual(
        yield* scrubbed(["email", "phone", "card", "credentials"], text),
        "Mail [EMAIL] or call [PHONE] / [PHONE]; card [CARD]; key [REDACTED]"
      )
      assert.strictEqual(yield* scrubbed(["email"], text), text.replace("jane.doe@example.com", "[EMAIL]"))
      assert.strictEqual(yield* scrubbed([], text), text)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("cards only when the Luhn check holds; dates, versions and ids are not phones", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        yield* scrubbed(["card"], "valid 4242-4242-4242-4242, invalid 4242 4242 4242 4241, order 1234567890123"),
        "valid [CARD], invalid 4242 4242 4242 4241, order 1234567890123"
      )
      const plain = "on 2024-01-15 at 10:30, v1.2.3, npm i pkg@1.2.3, order 5551234567, total 1,234.56"
      assert.strictEqual(yield* scrubbed(["phone", "email", "card"], plain), plain)
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("every string is scrubbed: tool arguments, results, reasoning, names", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setInputMessages([{ role: "user", name: "bob@example.com", content: "hi" }])
        yield* tracker.setOutputMessages([{
          role: "assistant",
          parts: [
            { type: "reasoning", content: "mail bob@example.com" },
            { type: "tool_call", name: "send", arguments: { to: ["bob@example.com"] } }
          ],
          finish_reason: "tool_call"
        }])
        yield* trackToolCall(Effect.succeed({ sent: "bob@example.com" }), { toolName: "send" })
      }).pipe(trackLlmCall({ provider: "openai", model: "everywhere" }))
      const spans = yield* TrackingTest.finishedSpans
      for (const span of spans) assert.notInclude(JSON.stringify(span.attributes), "bob@", span.name)
      const tool = yield* spanNamed("execute_tool send")
      assert.deepStrictEqual(json(tool, "gen_ai.tool.call.result"), { sent: "[EMAIL]" })
    }).pipe(Effect.provide(withContent({ scrub: ["email"] }))))

  it("run in linear time over a hostile megabyte", () => {
    const all = internal.makePolicy({ scrub: ["email", "phone", "card", "credentials"] }, Context.empty(), () => {})
    const inputs = [
      "a".repeat(1_000_000),
      "a@" + "b.".repeat(500_000),
      "a@b" + ".b1".repeat(300_000),
      "+1".repeat(500_000),
      "1 ".repeat(500_000),
      "1".repeat(1_000_000),
      "(555) ".repeat(150_000)
    ]
    for (const input of inputs) {
      const start = performance.now()
      all.scrub!(input)
      assert.isBelow(performance.now() - start, 2_000, input.slice(0, 8))
    }
  })
})

describe("bounds", () => {
  it.effect("each message's strings to maxMessageChars together, cut with the marker; truncated is set", () =>
    Effect.gen(function*() {
      yield* Effect.flatMap(LlmTracker, (tracker) =>
        tracker.setInputMessages([
          { role: "user", parts: [{ type: "text", content: "short" }, { type: "text", content: "x".repeat(500) }] },
          { role: "user", content: "fits" }
        ])).pipe(trackLlmCall({ provider: "openai", model: "per-message" }))
      const span = yield* spanNamed("chat per-message")
      const [first, second] = json(span, "gen_ai.input.messages") as Array<any>
      assert.strictEqual(first.parts[0].content, "short")
      const long = first.parts[1].content as string
      assert.strictEqual(long.length, 100 - 5)
      assert.isTrue(long.endsWith(Limits.truncatedMarker))
      assert.strictEqual(second.parts[0].content, "fits")
      assert.strictEqual(span.attributes["botanu.content.truncated"], true)
    }).pipe(Effect.provide(withContent({ maxMessageChars: 100 }))))

  it.effect("all attributes to maxCallChars together, JSON kept parseable, strings shrunk fairly", () =>
    Effect.gen(function*() {
      yield* Effect.flatMap(LlmTracker, (tracker) =>
        Effect.all([
          tracker.setSystemInstructions("s".repeat(3_000)),
          tracker.setInputMessages([
            { role: "user", content: "keep me" },
            { role: "user", content: "\n\"".repeat(2_000) }
          ]),
          tracker.setOutputMessages([{ role: "assistant", content: "o".repeat(5_000), finish_reason: "stop" }])
        ])).pipe(trackLlmCall({ provider: "openai", model: "per-call" }))
      const span = yield* spanNamed("chat per-call")
      let total = 0
      for (const key of contentKeys) {
        const value = span.attributes[key]
        if (typeof value === "string") total += value.length
      }
      assert.isAtMost(total, 2_000)
      assert.isAbove(total, 1_800)
      const input = json(span, "gen_ai.input.messages") as Array<any>
      assert.strictEqual(input[0].parts[0].content, "keep me")
      assert.isTrue((input[1].parts[0].content as string).endsWith(Limits.truncatedMarker))
      const system = (json(span, "gen_ai.system_instructions") as Array<any>)[0].content as string
      const output = (json(span, "gen_ai.output.messages") as Array<any>)[0].parts[0].content as string
      // Shares: the long ones keep as many characters as each other.
      assert.strictEqual(system.length, output.length)
      assert.strictEqual(span.attributes["botanu.content.truncated"], true)
    }).pipe(Effect.provide(withContent({ maxCallChars: 2_000 }))))

  it.effect("when the structure alone does not fit, the oldest input messages go first, with a warning", () =>
    Effect.gen(function*() {
      const history = Array.from({ length: 200 }, (_, i) => ({ role: "user", content: `message ${i}` }))
      yield* Effect.flatMap(LlmTracker, (tracker) =>
        Effect.zipRight(
          tracker.setInputMessages(history),
          tracker.setOutputMessages([{ role: "assistant", content: "the answer", finish_reason: "stop" }])
        )).pipe(trackLlmCall({ provider: "openai", model: "history" }))
      const span = yield* spanNamed("chat history")
      const input = json(span, "gen_ai.input.messages") as Array<any>
      assert.isBelow(input.length, 200)
      assert.isAbove(input.length, 0)
      // The latest are kept, in order.
      assert.strictEqual(input.at(-1).parts[0].content, "message 199")
      assert.deepStrictEqual(json(span, "gen_ai.output.messages"), [
        { role: "assistant", parts: [{ type: "text", content: "the answer" }], finish_reason: "stop" }
      ])
      const total = (span.attributes["gen_ai.input.messages"] as string).length +
        (span.attributes["gen_ai.output.messages"] as string).length
      assert.isAtMost(total, 1_000)
      assert.include(
        warningsOf(span),
        `content: ${200 - input.length} oldest input message(s) left out to fit maxCallChars (1000)`
      )
    }).pipe(Effect.provide(withContent({ maxCallChars: 1_000 }))))

  it.effect("a tool's arguments and result share the call's bound", () =>
    Effect.gen(function*() {
      yield* trackToolCall(
        Effect.flatMap(ToolTracker, (tool) =>
          Effect.as(tool.setArguments({ q: "q".repeat(10_000) }), "r".repeat(10_000))),
        { toolName: "big" }
      )
      const span = yield* spanNamed("execute_tool big")
      const args = span.attributes["gen_ai.tool.call.arguments"] as string
      const result = span.attributes["gen_ai.tool.call.result"] as string
      assert.isAtMost(args.length + result.length, 1_000)
      assert.isTrue((JSON.parse(args).q as string).endsWith(Limits.truncatedMarker))
      assert.isTrue(result.endsWith(Limits.truncatedMarker))
      assert.strictEqual(span.attributes["botanu.content.truncated"], true)
    }).pipe(Effect.provide(withContent({ maxCallChars: 1_000 }))))

  it.effect("the largest bound: a 64 KiB attribute reaches the exporter whole, and huge input is read bounded", () =>
    Effect.gen(function*() {
      const huge = "h".repeat(1_000_000)
      yield* Effect.flatMap(
        LlmTracker,
        (tracker) => tracker.setInputMessages(Array.from({ length: 3_000 }, () => ({ role: "user", content: huge })))
      ).pipe(
        trackLlmCall({ provider: "openai", model: "largest" })
      )
      const span = yield* spanNamed("chat largest")
      const value = span.attributes["gen_ai.input.messages"] as string
      assert.isAtMost(value.length, Limits.maxContentCallChars)
      assert.isAbove(value.length, Limits.maxContentCallChars - 100)
      assert.isArray(JSON.parse(value))
      assert.include(warningsOf(span), "inputMessages: 3000 messages; the latest 1024 kept")
    }).pipe(Effect.provide(withContent({ maxCallChars: 1_000_000, maxMessageChars: 1_000_000 }))))
})

describe("hostile input never fails the call", () => {
  it.effect("throwing getters, a Proxy, a revoked Proxy, cycles, bigints, functions, dates, binary data", () =>
    Effect.gen(function*() {
      const cyclic: any = { name: "loop" }
      cyclic.self = cyclic
      const revocable = Proxy.revocable({}, {})
      revocable.revoke()
      const throwing = {
        get role(): string {
          throw new Error("role getter")
        },
        content: "x"
      }
      const proxy = new Proxy([], {
        get() {
          throw new Error("proxy get")
        }
      })
      const args = {
        cyclic,
        big: BigInt(2) ** BigInt(70),
        f: () => 1,
        when: new Date(0),
        bytes: new Uint8Array(1_000),
        map: new Map([["k", 1]]),
        set: new Set([1, 2]),
        error: new Error("e"),
        revoked: revocable.proxy,
        get boom(): string {
          throw new Error("boom")
        }
      }
      const result = yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setInputMessages(bad([throwing, proxy, revocable.proxy, 42, { role: "user", parts: proxy }]))
        yield* tracker.setOutputMessages(bad(proxy))
        yield* tracker.setSystemInstructions(bad(revocable.proxy))
        yield* trackToolCall(
          Effect.flatMap(ToolTracker, (tool) => Effect.as(tool.setArguments(args), cyclic)),
          { toolName: "hostile" }
        )
        return "ok"
      }).pipe(trackLlmCall({ provider: "openai", model: "hostile" }))
      assert.strictEqual(result, "ok")
      const call = yield* spanNamed("chat hostile")
      const tool = yield* spanNamed("execute_tool hostile")
      for (const span of [call, tool]) {
        for (const key of contentKeys) {
          const value = span.attributes[key]
          if (typeof value === "string") JSON.parse(value)
        }
      }
      assert.deepStrictEqual(json(tool, "gen_ai.tool.call.arguments"), {
        cyclic: { name: "loop", self: "[Circular]" },
        big: "1180591620717411303424",
        when: "1970-01-01T00:00:00.000Z",
        bytes: "[1000 bytes]",
        map: { k: 1 },
        set: [1, 2],
        error: { name: "Error", message: "e" },
        revoked: "[Unreadable]",
        boom: "[Unreadable]"
      })
      assert.deepStrictEqual(json(tool, "gen_ai.tool.call.result"), { name: "loop", self: "[Circular]" })
      const input = json(call, "gen_ai.input.messages") as Array<any>
      assert.deepStrictEqual(input[0], { role: "unknown", parts: [{ type: "text", content: "x" }] })
      assert.isNotEmpty(warningsOf(call))
    }).pipe(Effect.provide(withContent())))

  it.effect("wrong types by hand are warnings, and the content is dropped", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setInputMessages(bad("hello"))
        yield* tracker.setOutputMessages(bad(7))
        yield* tracker.setSystemInstructions(bad(null))
      }).pipe(trackLlmCall({ provider: "openai", model: "wrong-types" }))
      const span = yield* spanNamed("chat wrong-types")
      for (const key of contentKeys) assert.isUndefined(span.attributes[key], key)
      assert.include(warningsOf(span), "inputMessages: a string of 5 chars, not a list of messages; dropped")
      assert.include(warningsOf(span), "outputMessages: 7, not a list of messages; dropped")
    }).pipe(Effect.provide(withContent())))
})

describe("Content.layer options", () => {
  const logged = (options: unknown) =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make(({ message }) => {
        lines.push(String(Array.isArray(message) ? message[0] : message))
      })
      yield* Effect.scoped(Layer.build(Content.layer(bad(options)))).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      return lines
    })

  it.effect("a bad option is one warning logged when the layer is built, and its default", () =>
    Effect.gen(function*() {
      const lines = yield* logged({
        sampleRate: 2,
        scrub: ["email", "ssn"],
        redact: "no",
        redactTimeout: -1,
        maxMessageChars: "big",
        maxCallChars: 1e9
      })
      assert.deepStrictEqual(lines, [
        "Content.layer: sampleRate: 2 is not from 0 to 1; 1 used",
        "Content.layer: redact: a string of 2 chars is not a function; ignored",
        "Content.layer: maxCallChars: 1000000000 is not an integer from 1 to 65536; 65536 used",
        "Content.layer: scrub: \"ssn\" is not a scrubber (credentials, card, email, phone); ignored",
        "Content.layer: redactTimeout: -1 is not a finite duration above zero; 1 second used",
        "Content.layer: maxMessageChars: a string of 3 chars is not a number; 8192 used"
      ])
      assert.deepStrictEqual(yield* logged({ sampleRate: Number.NaN }), [
        "Content.layer: sampleRate: NaN is not a rate; 0 used (nothing is captured)"
      ])
      const throwing = yield* logged({
        get sampleRate(): number {
          throw new Error("getter")
        }
      })
      assert.deepStrictEqual(throwing, ["Content.layer: sampleRate: failed to read (getter); ignored"])
      assert.deepStrictEqual(yield* logged(undefined), [])
    }))

  it("the policy of the options", () => {
    const policy = internal.makePolicy(
      { sampleRate: 0.25, maxMessageChars: 10.4, redactTimeout: "3 seconds" },
      Context.empty(),
      () => {}
    )
    assert.strictEqual(policy.sampleRate, 0.25)
    assert.strictEqual(policy.maxMessageChars, 10)
    assert.strictEqual(policy.maxCallChars, Limits.defaultContentCallChars)
    assert.isTrue(Duration.equals(policy.redactTimeout, Duration.seconds(3)))
  })
})

describe("where content never goes", () => {
  const secret = `confidential-${process.pid}-plans`

  const call = Effect.gen(function*() {
    const tracker = yield* LlmTracker
    yield* tracker.setInputMessages([{ role: "user", content: secret }])
    yield* tracker.setTokens({ inputTokens: 10, outputTokens: 2 })
    yield* trackToolCall(Effect.succeed(secret), { toolName: "never-elsewhere" })
    return secret
  }).pipe(trackLlmCall({ provider: "openai", model: "gpt-4o" }))

  it.effect("not in metrics, nor in the CostLedger", () =>
    Effect.gen(function*() {
      yield* call
      const spans = yield* TrackingTest.finishedSpans
      assert.include(JSON.stringify(spans.map((span) => span.attributes)), secret)
      const metrics = yield* TrackingTest.collectMetrics
      assert.notInclude(
        JSON.stringify(metrics, (_, value) => typeof value === "bigint" ? String(value) : value),
        secret
      )
      const ledger = yield* CostLedger.snapshot
      assert.notInclude(JSON.stringify(ledger, (_, value) => typeof value === "bigint" ? String(value) : value), secret)
    }).pipe(Effect.provide(Layer.mergeAll(withContent(), CostLedger.layer))))

  const printed = (content: boolean | undefined) =>
    Effect.gen(function*() {
      const written: Array<string> = []
      yield* call.pipe(
        Effect.provide(Layer.merge(
          Tracking.layerDevelopment({ write: (text) => written.push(text), columns: 400, content }),
          Content.layer()
        ))
      )
      return written.join("\n")
    })

  it.effect("the development console leaves it out unless content: true", () =>
    Effect.gen(function*() {
      const plain = yield* printed(undefined)
      assert.include(plain, "▸ chat gpt-4o")
      assert.notInclude(plain, secret)
      assert.notInclude(plain, "gen_ai.input.messages")
      const shown = yield* printed(true)
      assert.include(shown, secret)
      assert.include(shown, "gen_ai.input.messages=")
    }))
})

describe("Content.redactText", () => {
  it.effect("maps every string of content, not roles, ids, tool names or finish reasons", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const hook = Content.redactText((text: string) => Effect.sync(() => (seen.push(text), text.toUpperCase())))
      const original: Content.Captured = {
        inputMessages: [{ role: "user", name: "ada", parts: [{ type: "text", content: "hi" }] }],
        outputMessages: [{
          role: "assistant",
          parts: [{ type: "tool_call", id: "c1", name: "search", arguments: { q: "cats", n: 2 } }],
          finish_reason: "tool_call"
        }],
        toolResult: "found"
      }
      const out = yield* hook(original)
      assert.deepStrictEqual(out, {
        inputMessages: [{ role: "user", parts: [{ type: "text", content: "HI" }], name: "ADA" }],
        outputMessages: [{
          role: "assistant",
          parts: [{ type: "tool_call", id: "c1", name: "search", arguments: { q: "CATS", n: 2 } }],
          finish_reason: "tool_call"
        }],
        toolResult: "FOUND"
      })
      assert.deepStrictEqual(seen.sort(), ["ada", "cats", "found", "hi"])
      // The caller's values are untouched.
      assert.strictEqual((original.inputMessages![0].parts[0] as Content.TextPart).content, "hi")
    }))
})
