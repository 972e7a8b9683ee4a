/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Agent from "./Agent.js"

/**
 * @since 0.1.0
 */
export * as Attributes from "./Attributes.js"

/**
 * @since 0.1.0
 */
export * as Budget from "./Budget.js"

/**
 * @since 0.1.0
 */
export * as Content from "./Content.js"

/**
 * @since 0.1.0
 */
export * as CostLedger from "./CostLedger.js"

/**
 * @since 0.1.0
 */
export * as LlmCall from "./LlmCall.js"

/**
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.js"

/**
 * @since 0.1.0
 */
export * as Pricing from "./Pricing.js"

/**
 * @since 0.1.0
 */
export * as Redaction from "./Redaction.js"

/**
 * @since 0.1.0
 */
export * as Provider from "./Provider.js"

/**
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"

/**
 * @since 0.1.0
 */
export * as ToolCall from "./ToolCall.js"

/**
 * @since 0.1.0
 */
export * as Tracking from "./Tracking.js"

/**
 * @since 0.1.0
 */
export * as TrackingTest from "./TrackingTest.js"

/**
 * @since 0.1.0
 */
export {
  type LlmAttributes,
  type LlmCallOptions,
  type ServerClient,
  setLlmAttributes,
  setTokenUsage,
  trackLlmCall
} from "./LlmCall.js"

/**
 * @since 0.1.0
 */
export {
  type AttributeValue,
  LlmTracker,
  type RequestIds,
  type RequestParams,
  type ResponseFacts,
  type TokenUsage
} from "./LlmTracker.js"

/**
 * @since 0.1.0
 */
export { ModelOperation } from "./ModelOperation.js"

/**
 * @since 0.1.0
 */
export { normalizeProvider } from "./Provider.js"

/**
 * @since 0.1.0
 */
export { type FallbackOptions, fallbackTracked, retryTracked } from "./Retry.js"

/**
 * @since 0.1.0
 */
export { type ToolCallOptions, trackToolCall } from "./ToolCall.js"

/**
 * @since 0.1.0
 */
export { type AgentOptions, trackAgent } from "./Agent.js"

/**
 * @since 0.1.0
 */
export { type ToolResult, ToolTracker } from "./ToolTracker.js"

/**
 * @since 0.1.0
 */
export * as HttpPropagation from "./HttpPropagation.js"

/**
 * @since 0.1.0
 */
export * as Outcome from "./Outcome.js"

/**
 * @since 0.1.0
 */
export * as Workflow from "./Workflow.js"

/**
 * @since 0.1.0
 */
export { emitOutcome, InvalidOutcomeStatus, type OutcomeOptions, OutcomeStatus } from "./Outcome.js"

/**
 * @since 0.1.0
 */
export {
  botanuWorkflow,
  currentRun,
  type FnOptions,
  InvalidWorkflowOptions,
  type RunContext,
  type WorkflowOptions
} from "./Workflow.js"

/**
 * @since 0.1.0
 */
export * as Usage from "./Usage.js"

/**
 * @since 0.1.0
 */
export * as Instrumented from "./Instrumented.js"

/**
 * @since 0.1.0
 */
export { type ExtractedUsage, type ExtractorName, type UsageFrom } from "./Usage.js"

/**
 * @since 0.1.0
 */
export { type InstrumentedOptions, type LlmInstrument, llmInstrumented } from "./Instrumented.js"

/**
 * @since 0.1.0
 */
export * as LlmStream from "./LlmStream.js"

/**
 * @since 0.1.0
 */
export { type LlmStreamOptions, type StreamExtractorName, type StreamUsageFrom, trackLlmStream } from "./LlmStream.js"
