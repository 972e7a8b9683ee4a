/**
 * The OpenTelemetry GenAI semantic conventions v1.41.0, transcribed by hand for the spans and metrics this library
 * makes: attribute types, requirement levels, span kinds and names. Written as data (never parsed from YAML at test
 * time) so that a reader can check each row against its source:
 *
 * - types: `model/gen-ai/registry.yaml` (group `registry.gen_ai`), `model/error/registry.yaml` (`error.type`),
 *   `model/server/registry.yaml` (`server.address`, `server.port`), tag v1.41.0 of
 *   github.com/open-telemetry/semantic-conventions;
 * - spans: `model/gen-ai/spans.yaml` of the same tag, each span with the attribute groups it `extends`, resolved by
 *   hand (a ref in the span overrides the group's level); prose from `docs/gen-ai/gen-ai-spans.md` and
 *   `docs/gen-ai/gen-ai-agent-spans.md`;
 * - metrics: `model/gen-ai/metrics.yaml` and `docs/gen-ai/gen-ai-metrics.md` of the same tag.
 *
 * Where the library deliberately does something else, the row says so in `deviation` (or the span in its
 * `deviations`), with the reason: nothing here is silently relaxed.
 */

/** Attribute value types of the conventions, as they reach an OpenTelemetry JS span (`any` is a JSON string there). */
export type AttributeType = "string" | "int" | "double" | "boolean" | "string[]" | "any"

/** The four requirement levels of https://opentelemetry.io/docs/specs/semconv/general/attribute-requirement-level/ */
export type RequirementLevel = "required" | "conditionally_required" | "recommended" | "opt_in"

/**
 * Every attribute of v1.41's `registry.gen_ai` group, with its type (enums, whose members are strings, as
 * `string`), plus the two `server.*` and `error.type` that the GenAI spans and metrics reference.
 * Source: v1.41.0 `model/gen-ai/registry.yaml`, in its order; `model/server/registry.yaml`;
 * `model/error/registry.yaml`.
 */
export const registry: Readonly<Record<string, AttributeType>> = {
  "gen_ai.provider.name": "string", // enum: openai, gcp.gen_ai, gcp.vertex_ai, gcp.gemini, anthropic, cohere, ...
  "gen_ai.request.model": "string",
  "gen_ai.request.max_tokens": "int",
  "gen_ai.request.choice.count": "int",
  "gen_ai.request.temperature": "double",
  "gen_ai.request.top_p": "double",
  "gen_ai.request.top_k": "double", // a double in v1.41 (an integer is a valid double)
  "gen_ai.request.stop_sequences": "string[]",
  "gen_ai.request.frequency_penalty": "double",
  "gen_ai.request.presence_penalty": "double",
  "gen_ai.request.encoding_formats": "string[]",
  "gen_ai.request.seed": "int",
  "gen_ai.request.stream": "boolean",
  "gen_ai.response.id": "string",
  "gen_ai.response.model": "string",
  "gen_ai.response.finish_reasons": "string[]",
  "gen_ai.response.time_to_first_chunk": "double",
  "gen_ai.usage.input_tokens": "int",
  "gen_ai.usage.cache_read.input_tokens": "int",
  "gen_ai.usage.cache_creation.input_tokens": "int",
  "gen_ai.usage.output_tokens": "int",
  "gen_ai.usage.reasoning.output_tokens": "int",
  "gen_ai.token.type": "string", // enum: input, output (completion: deprecated, renamed to output)
  "gen_ai.conversation.id": "string",
  "gen_ai.agent.id": "string",
  "gen_ai.agent.name": "string",
  "gen_ai.agent.description": "string",
  "gen_ai.agent.version": "string",
  "gen_ai.tool.name": "string",
  "gen_ai.tool.call.id": "string",
  "gen_ai.tool.description": "string",
  "gen_ai.tool.type": "string", // examples: function, extension, datastore
  "gen_ai.tool.call.arguments": "any",
  "gen_ai.tool.call.result": "any",
  "gen_ai.tool.definitions": "any",
  "gen_ai.data_source.id": "string",
  "gen_ai.operation.name": "string", // enum: chat, generate_content, text_completion, embeddings, retrieval,
  // create_agent, invoke_agent, execute_tool, invoke_workflow
  "gen_ai.output.type": "string", // enum: text, json, image, speech
  "gen_ai.embeddings.dimension.count": "int",
  "gen_ai.retrieval.documents": "any",
  "gen_ai.retrieval.query.text": "string",
  "gen_ai.system_instructions": "any",
  "gen_ai.input.messages": "any",
  "gen_ai.output.messages": "any",
  "gen_ai.evaluation.name": "string",
  "gen_ai.evaluation.score.value": "double",
  "gen_ai.evaluation.score.label": "string",
  "gen_ai.evaluation.explanation": "string",
  "gen_ai.prompt.name": "string",
  "gen_ai.workflow.name": "string",
  // model/server/registry.yaml
  "server.address": "string",
  "server.port": "int",
  // model/error/registry.yaml (an enum with the one member `_OTHER`, open to any low-cardinality value)
  "error.type": "string"
}

/**
 * Names that the GenAI semantic-conventions repository (github.com/open-telemetry/semantic-conventions-genai, where
 * the GenAI conventions moved after v1.41) gave to a v1.41 attribute: written instead of the v1.41 name when
 * `OTEL_SEMCONV_STABILITY_OPT_IN` lists `gen_ai_latest_experimental`, never beside it.
 * Source: semantic-conventions-genai pull request #440 (cache_creation renamed to cache_write).
 */
export const latestExperimentalNames: Readonly<
  Record<string, { readonly replaces: string; readonly type: AttributeType }>
> = {
  "gen_ai.usage.cache_write.input_tokens": { replaces: "gen_ai.usage.cache_creation.input_tokens", type: "int" }
}

/**
 * Names under which one count can appear: a v1.41 name with its deprecated names (v1.41
 * `model/gen-ai/registry-deprecated.yaml`: `renamed_to`) and its latest-experimental name. A span or a data point
 * carrying two names of one group counts that fact twice for a backend that adds up every `gen_ai.usage.*` key.
 */
export const sameCount: ReadonlyArray<ReadonlyArray<string>> = [
  ["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
  ["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"],
  ["gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens"],
  ["gen_ai.provider.name", "gen_ai.system"]
]

/** One attribute of a span or metric definition. */
export interface AttributeRule {
  readonly requirement: RequirementLevel
  /** The v1.41 condition, verbatim, for `conditionally_required` (and for `recommended` with a condition). */
  readonly condition?: string
  /**
   * Why the library does not write this attribute, or writes it otherwise than v1.41 asks. An attribute with a
   * deviation may be absent even when its level asks for it; it must still have its v1.41 type when present.
   */
  readonly deviation?: string
}

/** An attribute group of spans.yaml / metrics.yaml, resolved: key → rule. */
export type AttributeRules = Readonly<Record<string, AttributeRule>>

const required: AttributeRule = { requirement: "required" }
const recommended: AttributeRule = { requirement: "recommended" }
const optIn: AttributeRule = { requirement: "opt_in" }
const conditionally = (condition: string): AttributeRule => ({ requirement: "conditionally_required", condition })
const recommendedIf = (condition: string): AttributeRule => ({ requirement: "recommended", condition })

/** Overrides a group's rules with the span's own refs, as `extends` does in the YAML. */
const extend = (base: AttributeRules, own: AttributeRules): AttributeRules => ({ ...base, ...own })

/** Marks a rule of the library's deviation from it. */
const deviating = (rule: AttributeRule, deviation: string): AttributeRule => ({ ...rule, deviation })

const ifError = "if the operation ended in an error"

// --- attribute groups of v1.41 model/gen-ai/spans.yaml ---------------------------------------------------------

/** `attributes.gen_ai.common` */
const common: AttributeRules = {
  "gen_ai.request.model": conditionally("If available."),
  "gen_ai.operation.name": required,
  "error.type": conditionally(ifError)
}

/** `attributes.gen_ai.common.client`, extends `attributes.gen_ai.common` */
const commonClient: AttributeRules = extend(common, {
  "server.address": recommended,
  "server.port": conditionally("If `server.address` is set.")
})

/** `attributes.gen_ai.inference.client`, extends `attributes.gen_ai.common.client` */
const inferenceClient: AttributeRules = extend(commonClient, {
  "gen_ai.request.max_tokens": recommended,
  "gen_ai.request.choice.count": conditionally("if available, in the request, and !=1"),
  "gen_ai.request.temperature": recommended,
  "gen_ai.request.top_p": recommended,
  "gen_ai.request.stop_sequences": recommended,
  "gen_ai.request.frequency_penalty": recommended,
  "gen_ai.request.presence_penalty": recommended,
  "gen_ai.request.seed": conditionally("if applicable and if the request includes a seed"),
  "gen_ai.request.stream": conditionally(
    "If and only if the request is streaming. If unset, the request is assumed to be non-streaming."
  ),
  "gen_ai.output.type": conditionally("when applicable and if the request includes an output format."),
  "gen_ai.response.id": recommended,
  "gen_ai.response.model": recommended,
  "gen_ai.response.finish_reasons": recommended,
  "gen_ai.response.time_to_first_chunk": recommendedIf("if the request was a streaming request"),
  "gen_ai.usage.input_tokens": recommended,
  "gen_ai.usage.cache_read.input_tokens": recommended,
  "gen_ai.usage.cache_creation.input_tokens": recommended,
  "gen_ai.usage.output_tokens": recommended,
  "gen_ai.usage.reasoning.output_tokens": recommendedIf("when applicable"),
  "gen_ai.conversation.id": conditionally("when available"),
  "gen_ai.system_instructions": optIn,
  "gen_ai.input.messages": optIn,
  "gen_ai.output.messages": optIn,
  "gen_ai.tool.definitions": optIn
})

/** `attributes.gen_ai.invoke_agent.common`, extends `attributes.gen_ai.common` */
const invokeAgentCommon: AttributeRules = extend(common, {
  "gen_ai.request.max_tokens": recommended,
  "gen_ai.request.choice.count": conditionally("if available, in the request, and !=1"),
  "gen_ai.request.temperature": recommended,
  "gen_ai.request.top_p": recommended,
  "gen_ai.request.stop_sequences": recommended,
  "gen_ai.request.frequency_penalty": recommended,
  "gen_ai.request.presence_penalty": recommended,
  "gen_ai.request.seed": conditionally("if applicable and if the request includes a seed"),
  "gen_ai.output.type": conditionally("when applicable and if the request includes an output format."),
  "gen_ai.response.finish_reasons": recommended,
  "gen_ai.usage.input_tokens": recommended,
  "gen_ai.usage.output_tokens": recommended,
  "gen_ai.usage.cache_read.input_tokens": recommended,
  "gen_ai.usage.cache_creation.input_tokens": recommended,
  "gen_ai.conversation.id": conditionally("when available"),
  "gen_ai.system_instructions": optIn,
  "gen_ai.input.messages": optIn,
  "gen_ai.output.messages": optIn,
  "gen_ai.tool.definitions": optIn,
  "gen_ai.agent.id": conditionally("if applicable."),
  "gen_ai.agent.name": conditionally("when available"),
  "gen_ai.agent.description": conditionally("when available"),
  "gen_ai.agent.version": conditionally("when available"),
  "gen_ai.data_source.id": conditionally("if applicable.")
})

// --- what the library cannot know -------------------------------------------------------------------------------

// Content (v1.41's opt-in messages, instructions, tool arguments and results) is written on the LLM and tool spans
// when the app turns capture on (`Content`), and only there: no deviation for those. What stays unwritten:
const noToolDefinitions = "tool definitions are not captured: content capture records what a call said " +
  "(messages, instructions, tool arguments and results), not the tools it was offered"
const noAggregateContent = (span: string) =>
  `content is captured on the LLM and tool spans inside ${span}, each call's own, not again on the ${span} span ` +
  "(it would repeat them, and double what a backend stores of them)"
const noOption = (what: string) => `no option or tracker method carries ${what}`
const notWritten = (rules: AttributeRules, reasons: Readonly<Record<string, string>>): AttributeRules => {
  const out: Record<string, AttributeRule> = { ...rules }
  for (const [key, reason] of Object.entries(reasons)) out[key] = deviating(rules[key], reason)
  return out
}
const inferenceNotWritten = {
  "gen_ai.request.choice.count": noOption("the number of choices requested"),
  "gen_ai.output.type": noOption("the requested output type"),
  "gen_ai.conversation.id": noOption("a conversation id"),
  "gen_ai.tool.definitions": noToolDefinitions
}

// --- the spans ---------------------------------------------------------------------------------------------------

export type SpanKindName = "client" | "internal" | "server" | "producer" | "consumer"

export interface SpanDefinition {
  /** The span's id in v1.41 `model/gen-ai/spans.yaml`. */
  readonly id: string
  /** Where the rows come from. */
  readonly source: string
  /** `gen_ai.operation.name` (the span's note: "SHOULD be ..."). */
  readonly operationName: string
  /** v1.41's span kind. */
  readonly kind: SpanKindName
  /** v1.41's span name pattern, `{attribute}` standing for that attribute's value. */
  readonly name: string
  readonly attributes: AttributeRules
  /** Where the library's span kind or name differ from v1.41's, and why. */
  readonly deviations?: {
    readonly kind?: { readonly is: SpanKindName; readonly why: string }
    readonly name?: { readonly is: string; readonly why: string }
  }
}

/**
 * `span.gen_ai.inference.client`: extends `attributes.gen_ai.inference.client`; adds `gen_ai.provider.name`
 * (required) and `gen_ai.request.top_k` (recommended). Used for `chat` calls, streamed or not (v1.41 has no span of
 * its own for streaming: `gen_ai.request.stream` and `gen_ai.response.time_to_first_chunk` are attributes of this
 * one).
 */
export const inference: SpanDefinition = {
  id: "span.gen_ai.inference.client",
  source: "v1.41.0 model/gen-ai/spans.yaml span.gen_ai.inference.client; docs/gen-ai/gen-ai-spans.md#inference",
  operationName: "chat",
  kind: "client",
  name: "{gen_ai.operation.name} {gen_ai.request.model}",
  attributes: notWritten(
    extend(inferenceClient, {
      "gen_ai.provider.name": required,
      "gen_ai.request.top_k": recommended
    }),
    inferenceNotWritten
  )
}

/**
 * `span.gen_ai.embeddings.client`: extends `attributes.gen_ai.common.client`; `gen_ai.operation.name` SHOULD be
 * `embeddings`.
 */
export const embeddings: SpanDefinition = {
  id: "span.gen_ai.embeddings.client",
  source: "v1.41.0 model/gen-ai/spans.yaml span.gen_ai.embeddings.client; docs/gen-ai/gen-ai-spans.md#embeddings",
  operationName: "embeddings",
  kind: "client",
  name: "{gen_ai.operation.name} {gen_ai.request.model}",
  attributes: notWritten(
    extend(commonClient, {
      "gen_ai.provider.name": required,
      "gen_ai.request.encoding_formats": recommended,
      "gen_ai.usage.input_tokens": recommended,
      "gen_ai.embeddings.dimension.count": recommended,
      "gen_ai.response.model": recommended
    }),
    {
      "gen_ai.request.encoding_formats": noOption("the requested encoding formats"),
      "gen_ai.embeddings.dimension.count": noOption("the embeddings' dimension count")
    }
  )
}

/** `span.gen_ai.execute_tool.internal`: no `extends`; its own refs only. */
export const executeTool: SpanDefinition = {
  id: "span.gen_ai.execute_tool.internal",
  source:
    "v1.41.0 model/gen-ai/spans.yaml span.gen_ai.execute_tool.internal; docs/gen-ai/gen-ai-spans.md#execute-tool-span",
  operationName: "execute_tool",
  kind: "internal",
  name: "execute_tool {gen_ai.tool.name}",
  attributes: notWritten({
    "gen_ai.operation.name": required,
    "gen_ai.tool.name": required,
    "gen_ai.tool.call.id": recommendedIf("if available"),
    "gen_ai.tool.description": recommendedIf("if available"),
    "gen_ai.tool.type": recommendedIf("if available"),
    "gen_ai.tool.call.arguments": optIn,
    "gen_ai.tool.call.result": optIn,
    "error.type": conditionally(ifError),
    // Not in the span's definition: the library writes the tool's provider when the caller names one (the
    // provider a tool is bound to, for the tool metrics); a registry attribute, and a deliberate extra.
    "gen_ai.provider.name": deviating(
      recommendedIf("when the `provider` option is given"),
      "not part of v1.41's execute_tool span; written only when the caller names the tool's provider"
    )
  }, {})
}

/**
 * `span.gen_ai.invoke_agent.internal`: extends `attributes.gen_ai.invoke_agent.internal` (which extends
 * `attributes.gen_ai.invoke_agent.common`, adding nothing); adds `gen_ai.provider.name` (required).
 */
export const invokeAgent: SpanDefinition = {
  id: "span.gen_ai.invoke_agent.internal",
  source: "v1.41.0 model/gen-ai/spans.yaml span.gen_ai.invoke_agent.internal; " +
    "docs/gen-ai/gen-ai-agent-spans.md#invoke-agent-internal-span",
  operationName: "invoke_agent",
  kind: "internal",
  name: "invoke_agent {gen_ai.agent.name}",
  attributes: notWritten(
    extend(invokeAgentCommon, {
      "gen_ai.provider.name": deviating(
        required,
        "written only when `trackAgent` is given `provider`: an agent may call several providers, and the library " +
          "does not guess one"
      )
    }),
    {
      // An agent's own request settings: the calls inside it have theirs, on their own spans.
      "gen_ai.request.model": noOption("an agent-level model (each call inside records its own)"),
      "gen_ai.request.max_tokens": noOption("agent-level request settings (each call inside records its own)"),
      "gen_ai.request.choice.count": noOption("agent-level request settings"),
      "gen_ai.request.temperature": noOption("agent-level request settings (each call inside records its own)"),
      "gen_ai.request.top_p": noOption("agent-level request settings (each call inside records its own)"),
      "gen_ai.request.stop_sequences": noOption("agent-level request settings (each call inside records its own)"),
      "gen_ai.request.frequency_penalty": noOption("agent-level request settings"),
      "gen_ai.request.presence_penalty": noOption("agent-level request settings"),
      "gen_ai.request.seed": noOption("agent-level request settings"),
      "gen_ai.output.type": noOption("the requested output type"),
      "gen_ai.response.finish_reasons": noOption("agent-level finish reasons (each call inside records its own)"),
      // The agent's totals are botanu.agent.* keys, not gen_ai.usage.*: a backend that adds up gen_ai.usage.* over
      // all spans would otherwise count every call twice (once on the call, once on the agent).
      "gen_ai.usage.input_tokens": "the agent's totals are `botanu.agent.input_tokens`: as gen_ai.usage.* they " +
        "would be counted twice by backends that sum gen_ai.usage.* over spans",
      "gen_ai.usage.output_tokens": "the agent's totals are `botanu.agent.output_tokens` (see input_tokens)",
      "gen_ai.usage.cache_read.input_tokens": "per call only, on the LLM spans (see input_tokens)",
      "gen_ai.usage.cache_creation.input_tokens": "per call only, on the LLM spans (see input_tokens)",
      "gen_ai.conversation.id": noOption("a conversation id"),
      "gen_ai.agent.version": noOption("an agent version"),
      "gen_ai.data_source.id": noOption("a data source id"),
      "gen_ai.system_instructions": noAggregateContent("agent"),
      "gen_ai.input.messages": noAggregateContent("agent"),
      "gen_ai.output.messages": noAggregateContent("agent"),
      "gen_ai.tool.definitions": noToolDefinitions
    }
  )
}

/** `span.gen_ai.invoke_workflow.internal`: no `extends`; its own refs only. The library's run span. */
export const invokeWorkflow: SpanDefinition = {
  id: "span.gen_ai.invoke_workflow.internal",
  source: "v1.41.0 model/gen-ai/spans.yaml span.gen_ai.invoke_workflow.internal; " +
    "docs/gen-ai/gen-ai-agent-spans.md#invoke-workflow-span",
  operationName: "invoke_workflow",
  kind: "internal",
  name: "invoke_workflow {gen_ai.workflow.name}",
  attributes: notWritten({
    "gen_ai.operation.name": required,
    "error.type": conditionally(ifError),
    "gen_ai.workflow.name": conditionally("when available"),
    "gen_ai.input.messages": optIn,
    "gen_ai.output.messages": optIn
  }, {
    "gen_ai.input.messages": noAggregateContent("run"),
    "gen_ai.output.messages": noAggregateContent("run")
  }),
  deviations: {
    kind: {
      is: "server",
      why: "a run is usually the handling of a request or event, so its span is SERVER unless `spanKind` says " +
        "otherwise (the seed's contract)"
    },
    name: {
      is: "botanu.run/{gen_ai.workflow.name}",
      why: "the seed's run span name, which the Botanu platform keys on; gen_ai.operation.name and " +
        "gen_ai.workflow.name say what v1.41's name would"
    }
  }
}

// --- the client metrics of v1.41 model/gen-ai/metrics.yaml -------------------------------------------------------

export interface MetricDefinition {
  readonly name: string
  readonly source: string
  readonly instrument: "histogram"
  readonly unit: string
  readonly attributes: AttributeRules
}

/** `metric_attributes.gen_ai` */
const metricAttributes: AttributeRules = {
  "server.address": recommended,
  "server.port": conditionally("If `server.address` is set."),
  "gen_ai.response.model": recommended,
  "gen_ai.request.model": conditionally("If available."),
  "gen_ai.provider.name": required,
  "gen_ai.operation.name": required
}

/** `metric.gen_ai.client.token.usage`: extends `metric_attributes.gen_ai`, adds `gen_ai.token.type` (required). */
export const tokenUsage: MetricDefinition = {
  name: "gen_ai.client.token.usage",
  source: "v1.41.0 model/gen-ai/metrics.yaml metric.gen_ai.client.token.usage; docs/gen-ai/gen-ai-metrics.md",
  instrument: "histogram",
  unit: "{token}",
  attributes: extend(metricAttributes, {
    "gen_ai.token.type": required,
    // Not in v1.41's attribute set for this metric (only operation.duration has error.type).
    "error.type": deviating(
      conditionally(ifError),
      "not part of v1.41's token usage attributes; the library adds it to the usage a failed call reported, as " +
        "on operation.duration, so that spend on failures can be told apart"
    )
  })
}

/** `metric.gen_ai.client.operation.duration`: extends `metric_attributes.gen_ai`, adds `error.type`. */
export const operationDuration: MetricDefinition = {
  name: "gen_ai.client.operation.duration",
  source: "v1.41.0 model/gen-ai/metrics.yaml metric.gen_ai.client.operation.duration; docs/gen-ai/gen-ai-metrics.md",
  instrument: "histogram",
  unit: "s",
  attributes: extend(metricAttributes, {
    "error.type": conditionally(ifError)
  })
}

/**
 * `gen_ai.*` keys that are the library's own, outside the conventions, and when they may appear. Any other
 * `gen_ai.*` key that is not in a definition above fails the conformance test.
 */
export const libraryGenAiKeys: Readonly<Record<string, { readonly type: AttributeType; readonly when: string }>> = {
  // Langfuse and OpenLIT read a call's cost from this key; off unless a tracking layer turns it on.
  "gen_ai.usage.cost": { type: "double", when: "`usageCostAttribute: true` on a tracking layer (off by default)" }
}
