import * as MetricLabel from "effect/MetricLabel"
import {
  CustomerId,
  ErrorType,
  GenAiOperationName,
  GenAiProviderName,
  GenAiRequestModel,
  GenAiResponseModel,
  GenAiTokenType,
  GenAiToolName,
  MetricStatus,
  ServerAddress,
  ServerPort
} from "../Attributes.js"
import type { ServerTarget } from "./server.js"

// Effect caches a metric's hook per label-array instance, so handing it the same arrays every time is what keeps
// a metric update from rebuilding and hashing its key. Every array here is built once per distinct combination.

/** @internal */
export interface LlmOutcomeLabels {
  readonly input: ReadonlyArray<MetricLabel.MetricLabel>
  readonly output: ReadonlyArray<MetricLabel.MetricLabel>
  readonly duration: ReadonlyArray<MetricLabel.MetricLabel>
}

const noResponseModel = ""
const noError = ""

/**
 * The label arrays of one (operation, provider, request model, server), by response model and error type. The
 * server labels only the `gen_ai.client.*` metrics (the conventions' recommendation), not attempts or cost.
 *
 * @internal
 */
export class LlmSeries {
  readonly attemptSuccess: ReadonlyArray<MetricLabel.MetricLabel>
  readonly attemptError: ReadonlyArray<MetricLabel.MetricLabel>
  readonly cost: ReadonlyArray<MetricLabel.MetricLabel>
  private readonly base: ReadonlyArray<MetricLabel.MetricLabel>
  private readonly clientBase: ReadonlyArray<MetricLabel.MetricLabel>
  private readonly outcomes = new Map<string, Map<string, LlmOutcomeLabels>>()
  private readonly costByCustomer = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()

  constructor(operation: string, provider: string, model: string, server: ServerTarget) {
    this.base = [
      MetricLabel.make(GenAiOperationName, operation),
      MetricLabel.make(GenAiProviderName, provider),
      MetricLabel.make(GenAiRequestModel, model)
    ]
    const clientBase = [...this.base]
    if (server.address !== undefined) clientBase.push(MetricLabel.make(ServerAddress, server.address))
    // Label values are strings; the library's metric producer exports this one as the integer it is.
    if (server.port !== undefined) clientBase.push(MetricLabel.make(ServerPort, String(server.port)))
    this.clientBase = clientBase
    this.attemptSuccess = [...this.base, MetricLabel.make(MetricStatus, "success")]
    this.attemptError = [...this.base, MetricLabel.make(MetricStatus, "error")]
    this.cost = this.base
  }

  /** Bounded by the cost-by-customer policy, which maps every customer beyond its set to one value. */
  costFor(customerLabel: string): ReadonlyArray<MetricLabel.MetricLabel> {
    let labels = this.costByCustomer.get(customerLabel)
    if (labels === undefined) {
      labels = [...this.base, MetricLabel.make(CustomerId, customerLabel)]
      this.costByCustomer.set(customerLabel, labels)
    }
    return labels
  }

  outcome(responseModel: string | undefined, errorType: string | undefined): LlmOutcomeLabels {
    const modelKey = responseModel ?? noResponseModel
    let byError = this.outcomes.get(modelKey)
    if (byError === undefined) {
      byError = new Map()
      this.outcomes.set(modelKey, byError)
    }
    const errorKey = errorType ?? noError
    let labels = byError.get(errorKey)
    if (labels === undefined) {
      const duration = [...this.clientBase]
      if (responseModel !== undefined) duration.push(MetricLabel.make(GenAiResponseModel, responseModel))
      if (errorType !== undefined) duration.push(MetricLabel.make(ErrorType, errorType))
      labels = {
        input: [...duration, MetricLabel.make(GenAiTokenType, "input")],
        output: [...duration, MetricLabel.make(GenAiTokenType, "output")],
        duration
      }
      byError.set(errorKey, labels)
    }
    return labels
  }
}

const llmSeries = new Map<string, Map<string, Map<string, Map<string, LlmSeries>>>>()

const child = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}

/** Called once per call plan, so building the server's key here costs nothing per call. */
const serverKey = (server: ServerTarget): string =>
  server.address === undefined && server.port === undefined ? "" : `${server.address ?? ""}\u0000${server.port ?? ""}`

/** @internal */
export const llm = (operation: string, provider: string, model: string, server: ServerTarget): LlmSeries =>
  child(
    child(child(child(llmSeries, operation, () => new Map()), provider, () => new Map()), model, () => new Map()),
    serverKey(server),
    () => new LlmSeries(operation, provider, model, server)
  )

/** @internal */
export interface ToolSeries {
  readonly success: ReadonlyArray<MetricLabel.MetricLabel>
  readonly error: ReadonlyArray<MetricLabel.MetricLabel>
}

const toolSeries = new Map<string, Map<string, ToolSeries>>()

/** @internal */
export const tool = (toolName: string, provider: string | undefined): ToolSeries =>
  child(child(toolSeries, toolName, () => new Map()), provider ?? "", () => {
    const base = [MetricLabel.make(GenAiToolName, toolName)]
    if (provider !== undefined) base.push(MetricLabel.make(GenAiProviderName, provider))
    return {
      success: [...base, MetricLabel.make(MetricStatus, "success")],
      error: [...base, MetricLabel.make(MetricStatus, "error")]
    }
  })
