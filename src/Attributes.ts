/**
 * Every span attribute and event name that the library writes, in one place.
 *
 * GenAI names follow the OpenTelemetry GenAI semantic conventions v1.41, with the names and values of the
 * `@opentelemetry/semantic-conventions/incubating` constants where one exists; `botanu.*` names are the library's own.
 *
 * @since 0.1.0
 */
// Copied from `@opentelemetry/semantic-conventions/incubating` 1.45.0, not imported: the package's own advice for
// unstable names, and an app may have an older 1.x (the peer range of @effect/opentelemetry allows 1.33) that lacks
// some of them, which would make these keys `undefined` at run time.
const ATTR_ERROR_MESSAGE = "error.message" as const
const ATTR_ERROR_TYPE = "error.type" as const
const ATTR_SERVER_ADDRESS = "server.address" as const
const ATTR_SERVER_PORT = "server.port" as const
const ATTR_GEN_AI_AGENT_DESCRIPTION = "gen_ai.agent.description" as const
const ATTR_GEN_AI_AGENT_ID = "gen_ai.agent.id" as const
const ATTR_GEN_AI_AGENT_NAME = "gen_ai.agent.name" as const
const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name" as const
const ATTR_GEN_AI_PROVIDER_NAME = "gen_ai.provider.name" as const
const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty" as const
const ATTR_GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens" as const
const ATTR_GEN_AI_REQUEST_MODEL = "gen_ai.request.model" as const
const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty" as const
const ATTR_GEN_AI_REQUEST_SEED = "gen_ai.request.seed" as const
const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences" as const
const ATTR_GEN_AI_REQUEST_STREAM = "gen_ai.request.stream" as const
const ATTR_GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature" as const
const ATTR_GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k" as const
const ATTR_GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p" as const
const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons" as const
const ATTR_GEN_AI_RESPONSE_ID = "gen_ai.response.id" as const
const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model" as const
const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk" as const
const ATTR_GEN_AI_TOKEN_TYPE = "gen_ai.token.type" as const
const ATTR_GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id" as const
const ATTR_GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description" as const
const ATTR_GEN_AI_TOOL_NAME = "gen_ai.tool.name" as const
const ATTR_GEN_AI_TOOL_TYPE = "gen_ai.tool.type" as const
const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens" as const
const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens" as const
const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens" as const
const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens" as const
const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens" as const
const ATTR_GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name" as const

// --- OpenTelemetry GenAI semantic conventions -------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiOperationName: typeof ATTR_GEN_AI_OPERATION_NAME = ATTR_GEN_AI_OPERATION_NAME
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiProviderName: typeof ATTR_GEN_AI_PROVIDER_NAME = ATTR_GEN_AI_PROVIDER_NAME
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestModel: typeof ATTR_GEN_AI_REQUEST_MODEL = ATTR_GEN_AI_REQUEST_MODEL
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiResponseModel: typeof ATTR_GEN_AI_RESPONSE_MODEL = ATTR_GEN_AI_RESPONSE_MODEL
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiResponseId: typeof ATTR_GEN_AI_RESPONSE_ID = ATTR_GEN_AI_RESPONSE_ID
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiResponseFinishReasons: typeof ATTR_GEN_AI_RESPONSE_FINISH_REASONS =
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiUsageInputTokens: typeof ATTR_GEN_AI_USAGE_INPUT_TOKENS = ATTR_GEN_AI_USAGE_INPUT_TOKENS
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiUsageOutputTokens: typeof ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = ATTR_GEN_AI_USAGE_OUTPUT_TOKENS
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiUsageCacheReadInputTokens: typeof ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS =
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiUsageCacheCreationInputTokens: typeof ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS =
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
/**
 * The GenAI semantic-conventions repository's current name for cache writes (after v1.41, which calls them
 * `gen_ai.usage.cache_creation.input_tokens`). Cache writes are written under this name instead of that one, never
 * both, when `OTEL_SEMCONV_STABILITY_OPT_IN` lists `gen_ai_latest_experimental` as the process starts.
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiUsageCacheWriteInputTokens = "gen_ai.usage.cache_write.input_tokens" as const
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiUsageReasoningOutputTokens: typeof ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS =
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestTemperature: typeof ATTR_GEN_AI_REQUEST_TEMPERATURE = ATTR_GEN_AI_REQUEST_TEMPERATURE
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestTopP: typeof ATTR_GEN_AI_REQUEST_TOP_P = ATTR_GEN_AI_REQUEST_TOP_P
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestTopK: typeof ATTR_GEN_AI_REQUEST_TOP_K = ATTR_GEN_AI_REQUEST_TOP_K
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestMaxTokens: typeof ATTR_GEN_AI_REQUEST_MAX_TOKENS = ATTR_GEN_AI_REQUEST_MAX_TOKENS
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestStopSequences: typeof ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = ATTR_GEN_AI_REQUEST_STOP_SEQUENCES
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestFrequencyPenalty: typeof ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY =
  ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestPresencePenalty: typeof ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY =
  ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestSeed: typeof ATTR_GEN_AI_REQUEST_SEED = ATTR_GEN_AI_REQUEST_SEED
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiRequestStream: typeof ATTR_GEN_AI_REQUEST_STREAM = ATTR_GEN_AI_REQUEST_STREAM
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiToolName: typeof ATTR_GEN_AI_TOOL_NAME = ATTR_GEN_AI_TOOL_NAME
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiToolCallId: typeof ATTR_GEN_AI_TOOL_CALL_ID = ATTR_GEN_AI_TOOL_CALL_ID
/**
 * `function`, `extension` or `datastore`.
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiToolType: typeof ATTR_GEN_AI_TOOL_TYPE = ATTR_GEN_AI_TOOL_TYPE
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiToolDescription: typeof ATTR_GEN_AI_TOOL_DESCRIPTION = ATTR_GEN_AI_TOOL_DESCRIPTION
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiAgentName: typeof ATTR_GEN_AI_AGENT_NAME = ATTR_GEN_AI_AGENT_NAME
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiAgentId: typeof ATTR_GEN_AI_AGENT_ID = ATTR_GEN_AI_AGENT_ID
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiAgentDescription: typeof ATTR_GEN_AI_AGENT_DESCRIPTION = ATTR_GEN_AI_AGENT_DESCRIPTION
/**
 * On run spans: the workflow's name (the same as `botanu.workflow`).
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiWorkflowName: typeof ATTR_GEN_AI_WORKFLOW_NAME = ATTR_GEN_AI_WORKFLOW_NAME
/**
 * A metric attribute: `input` or `output`.
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const GenAiTokenType: typeof ATTR_GEN_AI_TOKEN_TYPE = ATTR_GEN_AI_TOKEN_TYPE
/**
 * @since 0.1.0
 * @category gen_ai
 */
export const ErrorType: typeof ATTR_ERROR_TYPE = ATTR_ERROR_TYPE
/**
 * Written by `setError`, whose call may still succeed (the span's status message is then empty).
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const ErrorMessage: typeof ATTR_ERROR_MESSAGE = ATTR_ERROR_MESSAGE
/**
 * The GenAI server's host name or address, on LLM spans and on the `gen_ai.client.*` metrics.
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const ServerAddress: typeof ATTR_SERVER_ADDRESS = ATTR_SERVER_ADDRESS
/**
 * The GenAI server's port (an integer), on LLM spans and on the `gen_ai.client.*` metrics.
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const ServerPort: typeof ATTR_SERVER_PORT = ATTR_SERVER_PORT
/**
 * The prefix of `server.*` keys, which extra attributes and metadata keep as they are.
 *
 * @since 0.1.0
 * @category prefixes
 */
export const ServerPrefix = "server." as const

// --- botanu ------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category botanu
 */
export const Vendor = "botanu.vendor" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const ProviderRequestId = "botanu.provider.request_id" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const ProviderClientRequestId = "botanu.provider.client_request_id" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const UsageCachedTokens = "botanu.usage.cached_tokens" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const UsageCacheReadTokens = "botanu.usage.cache_read_tokens" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const UsageCacheWriteTokens = "botanu.usage.cache_write_tokens" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const RequestStreaming = "botanu.request.streaming" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const RequestCacheHit = "botanu.request.cache_hit" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const RequestAttempt = "botanu.request.attempt" as const
/**
 * The position in a fallback chain of the call that made this span (0 for the first).
 *
 * @since 0.1.0
 * @category botanu
 */
export const RequestFallbackIndex = "botanu.request.fallback_index" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const ToolSuccess = "botanu.tool.success" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const ToolItemsReturned = "botanu.tool.items_returned" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const ToolBytesProcessed = "botanu.tool.bytes_processed" as const
/**
 * @since 0.1.0
 * @category botanu
 */
export const ToolDurationMs = "botanu.tool.duration_ms" as const
/**
 * One short line per value that tracking dropped or changed (a string array).
 *
 * @since 0.1.0
 * @category botanu
 */
export const TrackingWarnings = "botanu.tracking.warnings" as const
/**
 * On a tracked LLM call that other tracked LLM calls started inside (a wrapper, such as a tracked helper tracked
 * again): how many started directly inside it, each attempt counted. Those calls are the model invocations; the
 * wrapper keeps its span but adds nothing to run totals, the `CostLedger`, or the token, cost, duration and attempt
 * metrics, and carries no `botanu.cost.*` attributes. An LLM call inside a tool call inside an LLM call does not
 * make the outer one a wrapper: both are invocations.
 *
 * @since 0.1.0
 * @category botanu
 */
export const CallWrappedCalls = "botanu.call.wrapped_calls" as const

/**
 * The prefix given to extra attributes and metadata keys of LLM spans that are not already `botanu.*` or `gen_ai.*`.
 *
 * @since 0.1.0
 * @category prefixes
 */
export const BotanuPrefix = "botanu." as const
/**
 * The prefix given to extra attributes and metadata keys of tool spans that are not already `botanu.*` or `gen_ai.*`.
 *
 * @since 0.1.0
 * @category prefixes
 */
export const ToolPrefix = "botanu.tool." as const
/**
 * The prefix given to extra attributes of agent spans that are not already `botanu.*` or `gen_ai.*`.
 *
 * @since 0.1.0
 * @category prefixes
 */
export const AgentPrefix = "botanu.agent." as const
/**
 * @since 0.1.0
 * @category prefixes
 */
export const GenAiPrefix = "gen_ai." as const

/**
 * A metric attribute of `botanu.gen_ai.attempts`, `botanu.tool.duration` and `botanu.tool.executions`:
 * `success` or `error`.
 *
 * @since 0.1.0
 * @category botanu
 */
export const MetricStatus = "status" as const

// --- values and events -------------------------------------------------------------------------------------------

/**
 * The `error.type` of a call that was interrupted.
 *
 * @since 0.1.0
 * @category values
 */
export const ErrorTypeInterrupted = "interrupted" as const
/**
 * The `error.type` of an error that has neither a `_tag` nor an `Error` class name.
 *
 * @since 0.1.0
 * @category values
 */
export const ErrorTypeOther = "_OTHER" as const
/**
 * @since 0.1.0
 * @category events
 */
export const ExceptionEvent = "exception" as const
/**
 * @since 0.1.0
 * @category events
 */
export const ExceptionType = "exception.type" as const
/**
 * @since 0.1.0
 * @category events
 */
export const ExceptionMessage = "exception.message" as const
/**
 * @since 0.1.0
 * @category events
 */
export const ExceptionStacktrace = "exception.stacktrace" as const

// --- workflow runs and outcomes ----------------------------------------------------------------------------------

/**
 * A fresh UUIDv7 per run; written on the run span and on every span made inside the run.
 *
 * @since 0.1.0
 * @category runs
 */
export const RunId = "botanu.run_id" as const
/**
 * The workflow's name; written on the run span and on every span made inside the run.
 *
 * @since 0.1.0
 * @category runs
 */
export const WorkflowName = "botanu.workflow" as const
/**
 * The business event the run served; written on the run span and on every span made inside the run.
 *
 * @since 0.1.0
 * @category runs
 */
export const EventId = "botanu.event_id" as const
/**
 * The customer the run served; written on the run span and on every span made inside the run.
 *
 * @since 0.1.0
 * @category runs
 */
export const CustomerId = "botanu.customer_id" as const
/**
 * @since 0.1.0
 * @category runs
 */
export const Environment = "botanu.environment" as const
/**
 * @since 0.1.0
 * @category runs
 */
export const TenantId = "botanu.tenant_id" as const
/**
 * The run id of the outermost run: the run's own id when it is not nested.
 *
 * @since 0.1.0
 * @category runs
 */
export const RootRunId = "botanu.root_run_id" as const
/**
 * The run id of the enclosing run, for a run nested in another (in this process or, through baggage, upstream).
 *
 * @since 0.1.0
 * @category runs
 */
export const ParentRunId = "botanu.parent_run_id" as const
/**
 * ISO 8601, from effect's `Clock`.
 *
 * @since 0.1.0
 * @category runs
 */
export const RunStartTime = "botanu.run.start_time" as const
/**
 * @since 0.1.0
 * @category runs
 */
export const RunDurationMs = "botanu.run.duration_ms" as const
/**
 * @since 0.1.0
 * @category outcomes
 */
export const OutcomeStatus = "botanu.outcome.status" as const
/**
 * @since 0.1.0
 * @category outcomes
 */
export const OutcomeValueType = "botanu.outcome.value_type" as const
/**
 * @since 0.1.0
 * @category outcomes
 */
export const OutcomeValueAmount = "botanu.outcome.value_amount" as const
/**
 * @since 0.1.0
 * @category outcomes
 */
export const OutcomeConfidence = "botanu.outcome.confidence" as const
/**
 * @since 0.1.0
 * @category outcomes
 */
export const OutcomeReason = "botanu.outcome.reason" as const
/**
 * @since 0.1.0
 * @category outcomes
 */
export const OutcomeErrorType = "botanu.outcome.error_type" as const

/**
 * The name of a run span is this prefix followed by the workflow's name.
 *
 * @since 0.1.0
 * @category prefixes
 */
export const RunSpanPrefix = "botanu.run/" as const
/**
 * Every key of an outcome's `metadata` gets this prefix, whatever it starts with, so that metadata can never
 * overwrite a run attribute.
 *
 * @since 0.1.0
 * @category prefixes
 */
export const OutcomeMetadataPrefix = "botanu.outcome.metadata." as const

/**
 * @since 0.1.0
 * @category events
 */
export const RunStartedEvent = "botanu.run.started" as const
/**
 * @since 0.1.0
 * @category events
 */
export const RunCompletedEvent = "botanu.run.completed" as const
/**
 * @since 0.1.0
 * @category events
 */
export const OutcomeEmittedEvent = "botanu.outcome_emitted" as const
/**
 * An attribute of the run and outcome events.
 *
 * @since 0.1.0
 * @category events
 */
export const EventRunId = "run_id" as const
/**
 * An attribute of the run events.
 *
 * @since 0.1.0
 * @category events
 */
export const EventWorkflow = "workflow" as const
/**
 * An attribute of `botanu.run.completed` (`success` / `failure`) and `botanu.outcome_emitted` (the outcome).
 *
 * @since 0.1.0
 * @category events
 */
export const EventStatus = "status" as const
/**
 * An attribute of `botanu.run.completed` on failure: the error's `_tag`, else its class name, else `_OTHER`;
 * `interrupted` for an interrupted run.
 *
 * @since 0.1.0
 * @category events
 */
export const EventErrorClass = "error_class" as const
/**
 * @since 0.1.0
 * @category events
 */
export const EventDurationMs = "duration_ms" as const
/**
 * An attribute of `botanu.run.completed` and `botanu.outcome_emitted`, when the outcome gave one.
 *
 * @since 0.1.0
 * @category events
 */
export const EventValueType = "value_type" as const
/**
 * An attribute of `botanu.run.completed` and `botanu.outcome_emitted`, when the outcome gave one.
 *
 * @since 0.1.0
 * @category events
 */
export const EventValueAmount = "value_amount" as const
/**
 * An attribute of `botanu.outcome_emitted`, when the outcome gave one.
 *
 * @since 0.1.0
 * @category events
 */
export const EventErrorType = "error_type" as const
/**
 * The `status` of `botanu.run.completed` for a run whose effect succeeded.
 *
 * @since 0.1.0
 * @category values
 */
export const RunStatusSuccess = "success" as const
/**
 * The `status` of `botanu.run.completed` for a run whose effect failed, died or was interrupted.
 *
 * @since 0.1.0
 * @category values
 */
export const RunStatusFailure = "failure" as const

// --- cost ----------------------------------------------------------------------------------------------------

/**
 * USD; the whole input, cache reads and writes included.
 *
 * @since 0.1.0
 * @category cost
 */
export const CostInputUsd = "botanu.cost.input_usd" as const
/**
 * USD; the whole output, reasoning included.
 *
 * @since 0.1.0
 * @category cost
 */
export const CostOutputUsd = "botanu.cost.output_usd" as const
/**
 * USD; input + output + request fees + tool fees (`botanu.cost.request_fees_usd`, `botanu.cost.tool_fees_usd`).
 *
 * @since 0.1.0
 * @category cost
 */
export const CostTotalUsd = "botanu.cost.total_usd" as const
/**
 * USD; the same number as `botanu.cost.total_usd`, under the key that Langfuse and OpenLIT read a call's cost from.
 * Not a semantic-conventions name: written only when a tracking layer is given `usageCostAttribute: true`.
 *
 * @since 0.1.0
 * @category cost
 */
export const GenAiUsageCost = "gen_ai.usage.cost" as const
/**
 * USD; the part of `botanu.cost.input_usd` spent on cache reads.
 *
 * @since 0.1.0
 * @category cost
 */
export const CostCacheReadUsd = "botanu.cost.cache_read_usd" as const
/**
 * USD; the part of `botanu.cost.input_usd` spent on cache writes.
 *
 * @since 0.1.0
 * @category cost
 */
export const CostCacheWriteUsd = "botanu.cost.cache_write_usd" as const
/**
 * USD; the part of `botanu.cost.output_usd` spent on reasoning tokens (never added to the total again).
 *
 * @since 0.1.0
 * @category cost
 */
export const CostReasoningUsd = "botanu.cost.reasoning_usd" as const
/**
 * `genai-prices@<version>`, `custom`, or both joined with ` + ` (a call whose iterations were priced from both).
 *
 * @since 0.1.0
 * @category cost
 */
export const CostPricingSource = "botanu.cost.pricing_source" as const
/**
 * `priced`, `estimated`, `unknown_model`, `no_usage`, `custom`, `free`, `invalid_price` or `invalid_cost` (see
 * `Pricing.CostStatus`).
 *
 * @since 0.1.0
 * @category cost
 */
export const CostStatus = "botanu.cost.status" as const
/**
 * USD spent by every LLM call in the run, nested runs included.
 *
 * @since 0.1.0
 * @category cost
 */
export const RunCostUsd = "botanu.run.cost_usd" as const
/**
 * @since 0.1.0
 * @category cost
 */
export const RunInputTokens = "botanu.run.input_tokens" as const
/**
 * @since 0.1.0
 * @category cost
 */
export const RunOutputTokens = "botanu.run.output_tokens" as const
/**
 * LLM call attempts in the run, failed ones included.
 *
 * @since 0.1.0
 * @category cost
 */
export const RunLlmCalls = "botanu.run.llm_calls" as const
/**
 * @since 0.1.0
 * @category cost
 */
export const RunToolCalls = "botanu.run.tool_calls" as const
/**
 * LLM calls in the run that reported usage but could not be priced (their cost is not in `botanu.run.cost_usd`).
 *
 * @since 0.1.0
 * @category cost
 */
export const RunUnpricedCalls = "botanu.run.unpriced_calls" as const
/**
 * On an agent span: USD spent by every LLM call inside the agent, nested agents included. Deliberately not a
 * `gen_ai.usage.*` key: a backend that sums those over spans would count each call twice.
 *
 * @since 0.1.0
 * @category cost
 */
export const AgentCostUsd = "botanu.agent.cost_usd" as const
/**
 * @since 0.1.0
 * @category cost
 */
export const AgentInputTokens = "botanu.agent.input_tokens" as const
/**
 * @since 0.1.0
 * @category cost
 */
export const AgentOutputTokens = "botanu.agent.output_tokens" as const
/**
 * LLM call attempts inside the agent, failed ones included.
 *
 * @since 0.1.0
 * @category cost
 */
export const AgentLlmCalls = "botanu.agent.llm_calls" as const
/**
 * @since 0.1.0
 * @category cost
 */
export const AgentToolCalls = "botanu.agent.tool_calls" as const
/**
 * LLM calls inside the agent that reported usage but could not be priced (their cost is not in
 * `botanu.agent.cost_usd`).
 *
 * @since 0.1.0
 * @category cost
 */
export const AgentUnpricedCalls = "botanu.agent.unpriced_calls" as const

// --- Streaming ---------------------------------------------------------------------------------------------------

/**
 * Seconds from the start of a streamed call to its first chunk, measured with Effect's `Clock`.
 *
 * @since 0.1.0
 * @category streaming
 */
export const GenAiResponseTimeToFirstChunk: typeof ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK =
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
/**
 * `true` when a streamed call ended before its stream did (abandoned by its consumer, failed or interrupted):
 * the usage on the span is what the chunks seen so far reported.
 *
 * @since 0.1.0
 * @category streaming
 */
export const UsagePartial = "botanu.usage.partial" as const
/**
 * How many chunks (stream elements) a streamed call passed through.
 *
 * @since 0.1.0
 * @category streaming
 */
export const StreamChunks = "botanu.stream.chunks" as const

// --- late outcomes -----------------------------------------------------------------------------------------------

/**
 * A log annotation, `true` on the record of an outcome emitted after its run completed (or, outside a run, after
 * the current span ended): the outcome is in the record only, not on any span.
 *
 * @since 0.1.0
 * @category outcomes
 */
export const OutcomeLate = "botanu.outcome.late" as const

// --- metric overflow ---------------------------------------------------------------------------------------------

/**
 * The one attribute of a metric's overflow series, `true`: once a metric has as many series as its cardinality
 * limit allows (2,000, the OpenTelemetry SDK's default), values with a new combination of attributes are recorded
 * there, so that totals over all series stay exact. The OpenTelemetry SDK's own name and convention.
 *
 * @since 0.1.0
 * @category metrics
 */
export const OtelMetricOverflow = "otel.metric.overflow" as const

// --- usage parts, tiers and billed steps -------------------------------------------------------------------------

// Copied from `@opentelemetry/semantic-conventions/incubating` 1.45.0, like the names at the top of this module.
const ATTR_OPENAI_RESPONSE_SERVICE_TIER = "openai.response.service_tier" as const

/**
 * The part of the cache writes written to a 1-hour cache (Anthropic `cache_creation.ephemeral_1h_input_tokens`),
 * part of `botanu.usage.cache_write_tokens`; the rest are 5-minute writes.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageCacheWrite1hTokens = "botanu.usage.cache_write_1h_tokens" as const
/**
 * The audio part of `gen_ai.usage.input_tokens`, its cache reads included.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageInputAudioTokens = "botanu.usage.input_audio_tokens" as const
/**
 * The audio part of the cache reads, and so of `botanu.usage.input_audio_tokens`.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageCacheReadAudioTokens = "botanu.usage.cache_read_audio_tokens" as const
/**
 * The image part of `gen_ai.usage.input_tokens`, its cache reads included.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageInputImageTokens = "botanu.usage.input_image_tokens" as const
/**
 * The image part of the cache reads, and so of `botanu.usage.input_image_tokens`.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageCacheReadImageTokens = "botanu.usage.cache_read_image_tokens" as const
/**
 * The audio part of `gen_ai.usage.output_tokens`.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageOutputAudioTokens = "botanu.usage.output_audio_tokens" as const
/**
 * The image part of `gen_ai.usage.output_tokens`.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageOutputImageTokens = "botanu.usage.output_image_tokens" as const
/**
 * Web-search tool uses billed on the call (Anthropic `server_tool_use.web_search_requests`, the `web_search_call`
 * output items of an OpenAI Responses answer).
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageWebSearches = "botanu.usage.web_searches" as const
/**
 * How many billed steps the provider reported for the call (Anthropic `usage.iterations`: compaction, advisor and
 * sampling steps); the call's `gen_ai.usage.*` are then the sums over those steps.
 *
 * @since 0.1.0
 * @category botanu
 */
export const UsageIterations = "botanu.usage.iterations" as const
/**
 * The service tier the provider answered with, as given (OpenAI `service_tier`, Anthropic `usage.service_tier`).
 *
 * @since 0.1.0
 * @category botanu
 */
export const RequestServiceTier = "botanu.request.service_tier" as const
/**
 * The service tier an OpenAI or Azure OpenAI response was served with: the conventions' name since v1.41, which
 * deprecated `gen_ai.openai.response.service_tier`. Written beside `botanu.request.service_tier`.
 *
 * @since 0.1.0
 * @category gen_ai
 */
export const OpenAiResponseServiceTier: typeof ATTR_OPENAI_RESPONSE_SERVICE_TIER = ATTR_OPENAI_RESPONSE_SERVICE_TIER

// --- cost: parts and fees ----------------------------------------------------------------------------------------

/**
 * USD; the part of `botanu.cost.cache_write_usd` (so of `botanu.cost.input_usd`) spent on 1-hour cache writes.
 *
 * @since 0.1.0
 * @category cost
 */
export const CostCacheWrite1hUsd = "botanu.cost.cache_write_1h_usd" as const
/**
 * USD; the part of `botanu.cost.input_usd` + `botanu.cost.output_usd` spent on audio tokens (input, cached input
 * and output; never added to the total again).
 *
 * @since 0.1.0
 * @category cost
 */
export const CostAudioUsd = "botanu.cost.audio_usd" as const
/**
 * USD; the part of `botanu.cost.input_usd` + `botanu.cost.output_usd` spent on image tokens (input, cached input
 * and output; never added to the total again).
 *
 * @since 0.1.0
 * @category cost
 */
export const CostImageUsd = "botanu.cost.image_usd" as const
/**
 * USD; the model's per-request fee, beside input and output: part of `botanu.cost.total_usd`.
 *
 * @since 0.1.0
 * @category cost
 */
export const CostRequestFeesUsd = "botanu.cost.request_fees_usd" as const
/**
 * USD; tool fees (web searches), beside input and output: part of `botanu.cost.total_usd`.
 *
 * @since 0.1.0
 * @category cost
 */
export const CostToolFeesUsd = "botanu.cost.tool_fees_usd" as const

// --- HTTP failures -----------------------------------------------------------------------------------------------

/**
 * The HTTP status of a provider's failed response, on a tracked call that failed with it (an @effect/ai
 * `HttpResponseError`). The stable OpenTelemetry name.
 *
 * @since 0.1.0
 * @category errors
 */
export const HttpResponseStatusCode = "http.response.status_code" as const

// --- budgets ----------------------------------------------------------------------------------------------------
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetExceededEvent = "botanu.budget.exceeded" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetRefusedEvent = "botanu.budget.refused" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetModeKey = "botanu.budget.mode" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetLimitUsdKey = "botanu.budget.limit_usd" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetSpentUsdKey = "botanu.budget.spent_usd" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetWindowEndKey = "botanu.budget.window_end" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetScopeKey = "botanu.budget.scope" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetKeyKey = "botanu.budget.key" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetWindowKey = "botanu.budget.window" as const
/**
 * @since 0.1.0
 * @category budgets
 */
export const BudgetReasonKey = "botanu.budget.reason" as const

// --- content (opt-in: see `Content`) -----------------------------------------------------------------------------

// Copied from `@opentelemetry/semantic-conventions/incubating` 1.45.0, like the names at the top of this module.
const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions" as const
const ATTR_GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages" as const
const ATTR_GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages" as const
const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments" as const
const ATTR_GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result" as const

/**
 * The system instructions of an LLM call, a JSON array of parts (the conventions' `gen_ai-system-instructions`
 * schema). Written only when content capture is on.
 *
 * @since 0.1.0
 * @category content
 */
export const GenAiSystemInstructions: typeof ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = ATTR_GEN_AI_SYSTEM_INSTRUCTIONS
/**
 * The messages sent to the model, a JSON array of `{ role, parts, name? }` in the order sent (the conventions'
 * `gen_ai-input-messages` schema). Written only when content capture is on.
 *
 * @since 0.1.0
 * @category content
 */
export const GenAiInputMessages: typeof ATTR_GEN_AI_INPUT_MESSAGES = ATTR_GEN_AI_INPUT_MESSAGES
/**
 * The messages the model answered with, one per choice, a JSON array of `{ role, parts, name?, finish_reason }`
 * (the conventions' `gen_ai-output-messages` schema). Written only when content capture is on.
 *
 * @since 0.1.0
 * @category content
 */
export const GenAiOutputMessages: typeof ATTR_GEN_AI_OUTPUT_MESSAGES = ATTR_GEN_AI_OUTPUT_MESSAGES
/**
 * A tool call's arguments, as JSON (a plain string that is not JSON as it is). Written only when content capture
 * is on.
 *
 * @since 0.1.0
 * @category content
 */
export const GenAiToolCallArguments: typeof ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = ATTR_GEN_AI_TOOL_CALL_ARGUMENTS
/**
 * A tool call's result, as JSON (a plain string that is not JSON as it is). Written only when content capture is
 * on.
 *
 * @since 0.1.0
 * @category content
 */
export const GenAiToolCallResult: typeof ATTR_GEN_AI_TOOL_CALL_RESULT = ATTR_GEN_AI_TOOL_CALL_RESULT
/**
 * `true` when some of the call's captured content was cut (to `maxMessageChars` or `maxCallChars`, or while it was
 * read) or left out (the oldest input messages, when even the structure did not fit).
 *
 * @since 0.1.0
 * @category content
 */
export const ContentTruncated = "botanu.content.truncated" as const
/**
 * Why all of the call's captured content was dropped: `redaction_failed` (the app's `redact` hook failed, died,
 * was interrupted or answered with something that is not content) or `redaction_timeout`.
 *
 * @since 0.1.0
 * @category content
 */
export const ContentDropped = "botanu.content.dropped" as const
/**
 * @since 0.1.0
 * @category content
 */
export const ContentDroppedRedactionFailed = "redaction_failed" as const
/**
 * @since 0.1.0
 * @category content
 */
export const ContentDroppedRedactionTimeout = "redaction_timeout" as const
