/**
 * No secrets in telemetry (issue 15): each finding of the audit replayed through real SDK pipelines, and every
 * exported span (attributes, status, events and their attributes) and everything the development console prints
 * searched for the secret.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor
} from "@opentelemetry/sdk-trace-base"
import { Cause, Effect, Exit, Layer } from "effect"
import { randomBytes } from "node:crypto"
import OpenAI from "openai"
import {
  llmInstrumented,
  LlmTracker,
  Redaction,
  ToolTracker,
  Tracking,
  TrackingTest,
  trackLlmCall,
  trackToolCall
} from "../src/index.js"
import { type FakeProvider, fakeProvider } from "./utils/fakeProvider.js"
import { exceptionEvents, spanNamed, warningsOf } from "./utils/spans.js"

// Values a JavaScript caller can hand the trackers.
const bad = (value: unknown): any => value

// Full-length fake credentials, fresh for each run: nothing but the code under test can have put them anywhere.
const openaiKey = `sk-proj-${randomBytes(117).toString("base64url")}`
const googleKey = `AIzaSy${randomBytes(30).toString("base64url").slice(0, 33)}`
const anthropicKey = `sk-ant-api03-${randomBytes(70).toString("base64url")}`
const bearerToken = randomBytes(24).toString("base64url")
const prompt = `Summarise the contract for customer ${randomBytes(6).toString("hex")}: the renewal terms in full.`

/** OpenAI's real 401 body for a wrong key, with the key in its message. */
const openai401 = (key: string) => ({
  error: {
    message: `Incorrect API key provided: ${key}. You can find your API key at ` +
      "https://platform.openai.com/account/api-keys.",
    type: "invalid_request_error",
    param: null,
    code: "invalid_api_key"
  }
})

/** Everything an exporter receives for these spans, as one string. */
const serialise = (spans: ReadonlyArray<ReadableSpan>): string =>
  JSON.stringify(spans.map((span) => ({
    name: span.name,
    attributes: span.attributes,
    status: span.status,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    links: span.links,
    resource: span.resource.attributes
  })))

/** The secret, and its second half (a secret cut in two is still a leak), appear nowhere in `text`. */
const assertAbsent = (text: string, secrets: ReadonlyArray<string>, where: string) => {
  assert.isAbove(text.length, 0, `nothing ${where}`)
  for (const secret of secrets) {
    assert.notInclude(text, secret, `${where}: ${secret.slice(0, 12)}...`)
    if (secret.length >= 32) assert.notInclude(text, secret.slice(secret.length / 2), `${where}: half of a secret`)
  }
}

interface Finding {
  readonly name: string
  readonly secrets: ReadonlyArray<string>
  /** Replays the finding; a failure of the call is part of it, so it is caught here. */
  readonly run: (fake: FakeProvider) => Effect.Effect<void, never, HttpClient.HttpClient>
}

const openaiChat = (fake: FakeProvider) => {
  const client = new OpenAI({ apiKey: openaiKey, baseURL: `${fake.url}/v1`, maxRetries: 0 })
  return llmInstrumented({ provider: "openai" }).promise((params: OpenAI.ChatCompletionCreateParamsNonStreaming) =>
    client.chat.completions.create(params)
  )
}

const geminiPath = "/v1beta/models/gemini-2.0-flash:generateContent"

/** A user's own span around the tracked call: the bridge records the failure there too, with no code of ours. */
const inHandler = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.asVoid(Effect.exit(self.pipe(Effect.withSpan("handler", { captureStackTrace: false }))))

const findings: ReadonlyArray<Finding> = [
  {
    name: "the openai client answering 401 with the key in the message",
    secrets: [openaiKey],
    run: (fake) =>
      Effect.suspend(() => {
        fake.next("/v1/chat/completions", 401, openai401(openaiKey), { "x-request-id": "req_401" })
        return inHandler(openaiChat(fake)({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }))
      })
  },
  {
    name: "an HttpClient 401 on a ?key= URL",
    secrets: [googleKey],
    run: (fake) =>
      Effect.suspend(() => {
        fake.next(geminiPath, 401, {
          error: { code: 401, message: "API key not valid. Please pass a valid API key.", status: "UNAUTHENTICATED" }
        })
        return inHandler(
          Effect.flatMap(HttpClient.HttpClient, (client) =>
            HttpClientRequest.post(`${fake.url}${geminiPath}?key=${googleKey}`).pipe(
              HttpClientRequest.bodyUnsafeJson({ contents: [{ parts: [{ text: "hi" }] }] }),
              HttpClient.filterStatusOk(client).execute
            )).pipe(trackLlmCall({ provider: "gcp.gemini", model: "gemini-2.0-flash" }))
        )
      })
  },
  {
    name: "setError of an object with headers and a prompt",
    secrets: [openaiKey, bearerToken, prompt],
    run: () =>
      Effect.flatMap(LlmTracker, (tracker) =>
        tracker.setError({
          headers: { authorization: `Bearer ${openaiKey}`, "x-trace": bearerToken },
          prompt
        })).pipe(trackLlmCall({ provider: "openai", model: "set-error-object" }), inHandler)
  },
  {
    name: "a call failing with an object with headers and a prompt",
    secrets: [openaiKey, bearerToken, prompt],
    run: () =>
      Effect.fail({
        _tag: "UpstreamRejected",
        message: "upstream rejected the request",
        headers: { authorization: `Bearer ${openaiKey}`, "x-trace": bearerToken },
        prompt
      }).pipe(trackLlmCall({ provider: "openai", model: "failed-object" }), inHandler)
  },
  {
    name: "metadata and attributes whose key names a credential",
    secrets: [openaiKey, anthropicKey, googleKey, bearerToken],
    run: () =>
      Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.addMetadata({
          authorization: `Bearer ${bearerToken}`,
          api_key: openaiKey,
          "x-api-key": anthropicKey
        })
        yield* Effect.gen(function*() {
          const tool = yield* ToolTracker
          yield* tool.addMetadata({ "botanu.auth.token": bearerToken, Cookie: `session=${bearerToken}` })
        }).pipe(trackToolCall({ toolName: "lookup", attributes: { password: bearerToken } }))
      }).pipe(
        trackLlmCall({
          provider: "openai",
          model: "credential-keys",
          attributes: { "llm.openai_api_key": openaiKey, accessToken: googleKey, "set-cookie": bearerToken }
        }),
        inHandler
      )
  },
  {
    name: "a warning on a short secret-like value, and a tracker method that throws with a key in its message",
    secrets: ["sk-short-secret", anthropicKey],
    run: () =>
      Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: bad("sk-short-secret"), outputTokens: 3 })
        yield* tracker.setRequestId(bad({
          get providerRequestId(): string {
            throw new Error(`rejected key ${anthropicKey}`)
          }
        }))
      }).pipe(trackLlmCall({ provider: "anthropic", model: "short-secret" }), inHandler)
  }
]

/** Runs a finding under `TrackingTest.layer` and returns what was exported. */
const exported = (finding: Finding) =>
  Effect.gen(function*() {
    const fake = yield* fakeProvider
    yield* finding.run(fake)
    return yield* TrackingTest.finishedSpans
  }).pipe(Effect.scoped, Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer)))

/** Runs a finding under `Tracking.layerDevelopment` and returns what it printed, the layer shut down. */
const printed = (finding: Finding) =>
  Effect.gen(function*() {
    const written: Array<string> = []
    const fake = yield* fakeProvider
    yield* finding.run(fake).pipe(
      Effect.provide(Layer.merge(
        Tracking.layerDevelopment({ write: (text) => written.push(text), colors: false, columns: 100 }),
        FetchHttpClient.layer
      ))
    )
    return written.join("\n")
  }).pipe(Effect.scoped)

describe("no secret of a replayed finding is exported or printed", () => {
  for (const finding of findings) {
    it.live(`${finding.name}: exported`, () =>
      Effect.gen(function*() {
        const spans = yield* exported(finding)
        assert.isAtLeast(spans.length, 2)
        assertAbsent(serialise(spans), finding.secrets, "exported")
      }))

    it.live(`${finding.name}: printed by the development console`, () =>
      Effect.gen(function*() {
        const text = yield* printed(finding)
        assert.include(text, "handler")
        assertAbsent(text, finding.secrets, "printed")
      }))
  }
})

describe("what is recorded instead", () => {
  it.live("the openai 401: the message without the key, on the call's span and the user's; the error is untouched", () =>
    Effect.gen(function*() {
      const fake = yield* fakeProvider
      fake.next("/v1/chat/completions", 401, openai401(openaiKey))
      const exit = yield* Effect.exit(
        openaiChat(fake)({ model: "gpt-4o", messages: [] }).pipe(
          Effect.withSpan("handler", { captureStackTrace: false })
        )
      )
      const error = Exit.isFailure(exit) ? Cause.originalError(Cause.squash(exit.cause)) : undefined
      assert.instanceOf(error, OpenAI.AuthenticationError)
      // Redaction is of what is recorded: the app's error keeps its message.
      assert.include((error as Error).message, openaiKey)
      for (const name of ["chat gpt-4o", "handler"]) {
        const span = yield* spanNamed(name)
        assert.strictEqual(span.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(
          span.status.message,
          "401 Incorrect API key provided: [REDACTED]. You can find your API key at " +
            "https://platform.openai.com/account/api-keys."
        )
        const [event] = exceptionEvents(span)
        assert.strictEqual(event.attributes?.["exception.message"], span.status.message)
        assert.include(event.attributes?.["exception.stacktrace"] as string, "Incorrect API key provided: [REDACTED]")
      }
      assert.strictEqual((yield* spanNamed("chat gpt-4o")).attributes["error.type"], "AuthenticationError")
    }).pipe(Effect.scoped, Effect.provide(TrackingTest.layer)))

  it.live("the HttpClient 401: the URL keeps everything but the key, in the error text and the HTTP span", () =>
    Effect.gen(function*() {
      const fake = yield* fakeProvider
      fake.next(geminiPath, 401, { error: { code: 401, message: "API key not valid." } })
      const url = `${fake.url}${geminiPath}?alt=json&key=${googleKey}`
      const error = yield* Effect.flip(
        Effect.flatMap(HttpClient.HttpClient, (client) => HttpClient.filterStatusOk(client).get(url)).pipe(
          trackLlmCall({ provider: "gcp.gemini", model: "gemini-2.0-flash" })
        )
      )
      assert.include(Cause.originalError(error).request.url, googleKey)
      const llm = yield* spanNamed("chat gemini-2.0-flash")
      assert.strictEqual(llm.attributes["error.type"], "ResponseError")
      assert.include(llm.status.message, `?alt=json&key=[REDACTED])`)
      assert.include(llm.status.message, "401 GET")
      const http = (yield* TrackingTest.finishedSpans).find((span) => span.attributes["url.full"] !== undefined)!
      assert.strictEqual(http.attributes["url.full"], `${fake.url}${geminiPath}?alt=json&key=[REDACTED]`)
      assert.strictEqual(http.attributes["url.query"], "alt=json&key=[REDACTED]")
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(TrackingTest.layer, FetchHttpClient.layer))))

  it.effect("setError of an object records its name and message, never its fields", () =>
    Effect.gen(function*() {
      class Rejection {
        readonly message = "the gateway said no"
        constructor(readonly headers: Record<string, string>) {}
      }
      yield* Effect.flatMap(LlmTracker, (tracker) =>
        tracker.setError({ headers: { authorization: `Bearer ${bearerToken}` }, prompt })).pipe(
          trackLlmCall({ provider: "openai", model: "plain-object" })
        )
      yield* Effect.flatMap(LlmTracker, (tracker) =>
        tracker.setError(new Rejection({ authorization: `Bearer ${bearerToken}` }))).pipe(
          trackLlmCall({ provider: "openai", model: "class-instance" })
        )
      yield* Effect.flatMap(LlmTracker, (tracker) =>
        tracker.setError({ _tag: "Refused", message: "x".repeat(5_000) })).pipe(
          trackLlmCall({ provider: "openai", model: "long-message" })
        )
      const expected: ReadonlyArray<readonly [string, string, string]> = [
        ["plain-object", "_OTHER", "an object"],
        ["class-instance", "_OTHER", "Rejection: the gateway said no"],
        // At most 1,024 chars, the marker included.
        [
          "long-message",
          "Refused",
          `Refused: ${"x".repeat(1_024 - "…[truncated]".length - "Refused: ".length)}…[truncated]`
        ]
      ]
      for (const [model, type, message] of expected) {
        const span = yield* spanNamed(`chat ${model}`)
        assert.strictEqual(span.attributes["error.type"], type, model)
        assert.strictEqual(span.attributes["error.message"], message, model)
        const [event] = exceptionEvents(span)
        assert.strictEqual(event.attributes?.["exception.message"], message, model)
      }
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a call failing with an object: the bridge's JSON of it is replaced by its name and message", () =>
    Effect.gen(function*() {
      const failure = {
        _tag: "UpstreamRejected",
        message: "upstream rejected the request",
        headers: { authorization: `Bearer ${bearerToken}` },
        prompt
      }
      const exit = yield* Effect.exit(
        Effect.fail(failure).pipe(
          trackLlmCall({ provider: "openai", model: "failed-object" }),
          Effect.withSpan("handler", { captureStackTrace: false })
        )
      )
      assert.deepStrictEqual(exit, Exit.fail(failure))
      for (const name of ["chat failed-object", "handler"]) {
        const span = yield* spanNamed(name)
        assert.strictEqual(span.status.message, "UpstreamRejected: upstream rejected the request", name)
        const [event] = exceptionEvents(span)
        assert.strictEqual(event.attributes?.["exception.message"], span.status.message, name)
        assert.notInclude(event.attributes?.["exception.stacktrace"] as string, "prompt", name)
      }
      // A class instance without a _tag: its class name, which JSON would have lost.
      class Rejection {
        readonly message = "the gateway said no"
        constructor(readonly prompt: string) {}
      }
      yield* Effect.exit(Effect.die(new Rejection(prompt)).pipe(trackLlmCall({ provider: "openai", model: "died" })))
      assert.strictEqual((yield* spanNamed("chat died")).status.message, "Rejection: the gateway said no")
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("credential-named keys are [REDACTED]; token counts and other keys are kept", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: 120, outputTokens: 7, cachedTokens: 100 })
        yield* tracker.addMetadata({
          authorization: "Bearer abc",
          API_KEY: "k",
          apikey: "k",
          "x-api-key": "k",
          "botanu.auth.token": "t",
          "llm.openai_api_key": "k",
          password: "p",
          client_secret: "s",
          token: "t",
          cookie: "c",
          "set-cookie": "c",
          refreshToken: "t",
          nested_secret: bad({ an: "object" }),
          max_tokens: 256,
          cached_tokens: 3,
          token_count: 9,
          tokenizer: "cl100k",
          secretary: "ann",
          customer_id: "acme"
        })
      }).pipe(trackLlmCall({ provider: "openai", model: "keys" }))
      const a = (yield* spanNamed("chat keys")).attributes
      for (
        const key of [
          "botanu.authorization",
          "botanu.API_KEY",
          "botanu.apikey",
          "botanu.x-api-key",
          "botanu.auth.token",
          "botanu.llm.openai_api_key",
          "botanu.password",
          "botanu.client_secret",
          "botanu.token",
          "botanu.cookie",
          "botanu.set-cookie",
          "botanu.refreshToken",
          "botanu.nested_secret"
        ]
      ) {
        assert.strictEqual(a[key], "[REDACTED]", key)
      }
      assert.strictEqual(a["botanu.max_tokens"], 256)
      assert.strictEqual(a["botanu.cached_tokens"], 3)
      assert.strictEqual(a["botanu.token_count"], 9)
      assert.strictEqual(a["botanu.tokenizer"], "cl100k")
      assert.strictEqual(a["botanu.secretary"], "ann")
      assert.strictEqual(a["botanu.customer_id"], "acme")
      assert.strictEqual(a["gen_ai.usage.input_tokens"], 120)
      assert.strictEqual(a["gen_ai.usage.output_tokens"], 7)
      assert.strictEqual(a["botanu.usage.cached_tokens"], 100)
      for (
        const key of [
          "gen_ai.usage.input_tokens",
          "botanu.usage.cached_tokens",
          "gen_ai.request.max_tokens",
          "maxTokens"
        ]
      ) {
        assert.isFalse(Redaction.isCredentialKey(key), key)
      }
    }).pipe(Effect.provide(TrackingTest.layer)))

  it.effect("a warning names the field and the decision, and describes the value by type and size", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const tracker = yield* LlmTracker
        yield* tracker.setTokens({ inputTokens: bad("sk-short-secret"), outputTokens: bad(true) })
        yield* tracker.setRequestParams({ temperature: bad("") })
      }).pipe(trackLlmCall({ provider: "openai", model: "warned" }))
      assert.deepStrictEqual(warningsOf(yield* spanNamed("chat warned")), [
        "inputTokens: a string of 15 chars is not a number; dropped",
        "outputTokens: a boolean is not a number; dropped",
        "temperature: an empty string is not a finite number; dropped"
      ])
    }).pipe(Effect.provide(TrackingTest.layer)))
})

describe("Redaction.layer: the app's own patterns and function", () => {
  const acmeKey = `acme_${randomBytes(16).toString("hex")}`
  const withRedaction = (options: Redaction.Options) =>
    Effect.provide(TrackingTest.layer.pipe(Layer.provideMerge(Redaction.layer(options))))

  it.effect("a pattern of the app's: in what the library records and in what the bridge records", () =>
    Effect.gen(function*() {
      yield* Effect.flatMap(LlmTracker, (tracker) => tracker.setError(new Error(`denied for ${acmeKey}`))).pipe(
        trackLlmCall({ provider: "openai", model: "handled" })
      )
      yield* Effect.exit(
        Effect.fail(new Error(`denied for ${acmeKey} and ${openaiKey}`)).pipe(
          trackLlmCall({ provider: "openai", model: "failed" }),
          Effect.withSpan("handler", { captureStackTrace: false })
        )
      )
      const spans = yield* TrackingTest.finishedSpans
      assertAbsent(serialise(spans), [acmeKey, openaiKey], "exported")
      assert.strictEqual((yield* spanNamed("chat handled")).attributes["error.message"], "denied for [REDACTED]")
      assert.strictEqual((yield* spanNamed("chat failed")).status.message, "denied for [REDACTED] and [REDACTED]")
      assert.strictEqual((yield* spanNamed("handler")).status.message, "denied for [REDACTED] and [REDACTED]")
    }).pipe(withRedaction({ patterns: [/acme_[0-9a-f]{32}/] })))

  it.effect("a function of the app's that throws: the text is [REDACTION FAILED], the call is unchanged", () =>
    Effect.gen(function*() {
      const value = yield* Effect.flatMap(
        LlmTracker,
        (tracker) => Effect.as(tracker.setError(new Error(`denied for ${acmeKey}`)), "answer")
      ).pipe(
        trackLlmCall({ provider: "openai", model: "handled" })
      )
      assert.strictEqual(value, "answer")
      const failure = new Error(`denied for ${acmeKey}`)
      const exit = yield* Effect.exit(Effect.fail(failure).pipe(trackLlmCall({ provider: "openai", model: "failed" })))
      assert.strictEqual(Exit.isFailure(exit) && Cause.originalError(Cause.squash(exit.cause)), failure)
      const handled = yield* spanNamed("chat handled")
      assert.strictEqual(handled.attributes["error.message"], "[REDACTION FAILED]")
      assert.strictEqual(exceptionEvents(handled)[0].attributes?.["exception.message"], "[REDACTION FAILED]")
      const failed = yield* spanNamed("chat failed")
      assert.strictEqual(failed.status.message, "[REDACTION FAILED]")
      assert.strictEqual(exceptionEvents(failed)[0].attributes?.["exception.stacktrace"], "[REDACTION FAILED]")
      assertAbsent(serialise(yield* TrackingTest.finishedSpans), [acmeKey], "exported")
    }).pipe(withRedaction({
      redact: () => {
        throw new Error("the app's redactor broke")
      }
    })))

  it.effect("nothing is redacted on the success path", () => {
    let calls = 0
    return Effect.gen(function*() {
      yield* Effect.flatMap(LlmTracker, (tracker) =>
        Effect.zipRight(
          tracker.setTokens({ inputTokens: 10, outputTokens: 2 }),
          tracker.addMetadata({ channel: "email" })
        )).pipe(trackLlmCall({ provider: "openai", model: "ok" }), Effect.withSpan("handler"))
      assert.strictEqual((yield* TrackingTest.finishedSpans).length, 2)
      assert.strictEqual(calls, 0)
    }).pipe(withRedaction({
      redact: (text) => {
        calls++
        return text
      }
    }))
  })
})

describe("with the app's own NodeSdk.layer", () => {
  it.effect("Redaction.spanProcessor around the app's processor redacts what the bridge records", () => {
    const exporter = new InMemorySpanExporter()
    const Otel = NodeSdk.layer(() => ({
      resource: { serviceName: "own-sdk" },
      spanProcessor: Redaction.spanProcessor(new SimpleSpanProcessor(exporter))
    }))
    return Effect.gen(function*() {
      yield* Effect.exit(
        Effect.fail(new Error(`401 Incorrect API key provided: ${openaiKey}`)).pipe(
          trackLlmCall({ provider: "openai", model: "own" }),
          Effect.withSpan("handler", { captureStackTrace: false })
        )
      )
      const spans = exporter.getFinishedSpans()
      assert.strictEqual(spans.length, 2)
      assertAbsent(serialise(spans), [openaiKey], "exported")
      for (const span of spans) assert.strictEqual(span.status.message, "401 Incorrect API key provided: [REDACTED]")
    }).pipe(Effect.provide(Otel))
  })
})

describe("Redaction.spanProcessor, on spans that are not the library's", () => {
  it("redacts each text attribute of a span that succeeded and has no events, and leaves the others", () => {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({
      spanProcessors: [Redaction.spanProcessor(new SimpleSpanProcessor(exporter))]
    })
    const keys = ["error.message", "url.full", "url.query", "http.url", "http.target"]
    for (const key of keys) {
      const span = provider.getTracer("other").startSpan(key, {
        attributes: { [key]: `/v1/models?key=${openaiKey}`, "note": `key=${openaiKey}` }
      })
      span.setStatus({ code: SpanStatusCode.OK })
      span.end()
    }
    const spans = exporter.getFinishedSpans()
    assert.strictEqual(spans.length, keys.length)
    for (const span of spans) {
      assert.strictEqual(span.attributes[span.name], "/v1/models?key=[REDACTED]", span.name)
      // Not an attribute known to carry text from a request: left as it is.
      assert.strictEqual(span.attributes["note"], `key=${openaiKey}`, span.name)
    }
  })
})

describe("the built-in patterns", () => {
  it("redact each kind of credential and keep the text around it", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      [`Incorrect API key provided: ${openaiKey}.`, "Incorrect API key provided: [REDACTED]."],
      [
        "Incorrect API key provided: sk-proj-****************************************Ab1c.",
        "Incorrect API key provided: [REDACTED]."
      ],
      [`x-api-key ${anthropicKey} is invalid`, "x-api-key [REDACTED] is invalid"],
      [`GET /v1/models?key=${googleKey}&alt=json`, "GET /v1/models?key=[REDACTED]&alt=json"],
      [`key ${googleKey}`, "key [REDACTED]"],
      ["AKIAIOSFODNN7EXAMPLE / ASIAY34FZKBOKMUTVV7A", "[REDACTED] / [REDACTED]"],
      [`Authorization: Bearer ${bearerToken}\nAccept: */*`, "Authorization: [REDACTED]\nAccept: */*"],
      [`invalid bearer ${bearerToken}`, "invalid bearer [REDACTED]"],
      ["Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: [REDACTED]"],
      ["sent Basic dXNlcjpwYXNz", "sent Basic [REDACTED]"],
      [`{"authorization":"Bearer ${bearerToken}","accept":"json"}`, `{"authorization":"[REDACTED]","accept":"json"}`],
      [`{ 'x-api-key': 'abc123', accept: 'json' }`, `{ 'x-api-key': '[REDACTED]', accept: 'json' }`],
      [`"api-key": "${bearerToken}"`, `"api-key": "[REDACTED]"`],
      ["Cookie: session=abc; theme=dark", "Cookie: [REDACTED]"],
      ["https://admin:hunter2@db.internal:5432/app", "https://[REDACTED]@db.internal:5432/app"],
      [
        "https://x.io/cb?token=a1&api_key=b2&apikey=c3&access_token=d4&secret=e5&password=f6&page=2",
        "https://x.io/cb?token=[REDACTED]&api_key=[REDACTED]&apikey=[REDACTED]&access_token=[REDACTED]" +
        "&secret=[REDACTED]&password=[REDACTED]&page=2"
      ]
    ]
    for (const [text, expected] of cases) assert.strictEqual(Redaction.redact(text), expected, text)
  })

  it("leave ordinary error text alone", () => {
    for (
      const text of [
        "Basic authentication failed",
        "the bearer of this message",
        "Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON",
        "max_tokens is too large: 9000000. This model supports at most 16384 completion tokens",
        "task-force desk-lamp sk-learn",
        "Rate limit reached for gpt-4o in organization org-test on tokens per min (TPM)",
        "connect ECONNREFUSED 127.0.0.1:4318"
      ]
    ) {
      assert.strictEqual(Redaction.redact(text), text)
    }
  })

  it("run in linear time over a hostile megabyte", () => {
    const size = 1 << 20
    const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size)
    const hostile = [
      fill("a"),
      fill(" "),
      fill("sk-"),
      "sk-" + fill("a") + "!",
      fill("//a:"),
      "//a:" + fill("b"),
      fill("?key="),
      fill("authorization "),
      "authorization" + fill(" "),
      "authorization: \"" + fill("x"),
      fill("\"authorization\":\""),
      fill("Bearer "),
      "Basic " + fill("a"),
      fill("AIza"),
      fill("AKIA"),
      fill("eyJ"),
      "eyJ" + fill("a") + ".",
      fill("sk-?key=//a:Bearer authorization:\"AIza eyJ. Basic cookie=")
    ]
    const redactor = Redaction.make({ patterns: [/acme_[0-9a-f]{32}/g] })
    const start = performance.now()
    for (const text of hostile) {
      const out = redactor.redact(text + ` ${openaiKey}`)
      assert.notInclude(out, openaiKey)
    }
    const elapsed = performance.now() - start
    // About 20 ms each here; a pattern that backtracks catastrophically would take minutes. Loose for slow machines.
    assert.isBelow(elapsed, 10_000)
  })

  it.live("a megabyte of hostile error text through a failing call: redacted, in bounded time", () =>
    Effect.gen(function*() {
      const text = "Bearer ".repeat(80_000) + "sk-".repeat(100_000) + ` ${openaiKey}`
      const start = performance.now()
      yield* Effect.exit(Effect.fail(new Error(text)).pipe(trackLlmCall({ provider: "openai", model: "hostile" })))
      const span = yield* spanNamed("chat hostile")
      assert.isBelow(performance.now() - start, 10_000)
      assertAbsent(serialise([span]), [openaiKey], "exported")
    }).pipe(Effect.provide(TrackingTest.layer)))
})
