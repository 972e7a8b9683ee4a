/**
 * The `gen_ai.operation.name` values of the OpenTelemetry GenAI semantic conventions.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category constants
 */
export const ModelOperation = {
  CHAT: "chat",
  TEXT_COMPLETION: "text_completion",
  EMBEDDINGS: "embeddings",
  GENERATE_CONTENT: "generate_content",
  EXECUTE_TOOL: "execute_tool",
  CREATE_AGENT: "create_agent",
  INVOKE_AGENT: "invoke_agent",
  INVOKE_WORKFLOW: "invoke_workflow",
  RERANK: "rerank",
  IMAGE_GENERATION: "image_generation",
  SPEECH_TO_TEXT: "speech_to_text",
  TEXT_TO_SPEECH: "text_to_speech"
} as const

/**
 * @since 0.1.0
 * @category models
 */
export type ModelOperation = typeof ModelOperation[keyof typeof ModelOperation]
