import { globalValue } from "effect/GlobalValue"
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
  OtelMetricOverflow,
  OutcomeStatus,
  ServerAddress,
  ServerPort,
  WorkflowName
} from "../Attributes.js"
import { maxSeriesPerMetric } from "./limits.js"
import type { ServerTarget } from "./server.js"

// Effect caches a metric's hook per label-array instance, so handing it the same arrays every time is what keeps
// a metric update from rebuilding and hashing its key. Every array here is built once per distinct combination.
//
// Effect's registry keeps a series for every (metric, label set) it was ever handed, and model, tool and customer
// names can come from callers: so the label sets each metric gets are counted here, and past the bound a new
// combination gets the overflow array instead, as the OpenTelemetry SDK does with its own instruments. The caches
// stop growing at the same point: past it, a new combination shares the overflow objects and is not remembered.

type Labels = ReadonlyArray<MetricLabel.MetricLabel>

/**
 * The labels of every metric's overflow series: only `otel.metric.overflow` (a string, as Effect's labels are; the
 * library's metric producer exports it as the boolean `true`).
 *
 * @internal
 */
export const overflow: Labels = [MetricLabel.make(OtelMetricOverflow, "true")]

/**
 * Series of their own per metric: the overflow series is the last one within the limit, as in the SDK (whose
 * default cardinality limit of 2,000 counts it).
 */
const ownSeries = maxSeriesPerMetric - 1

/** The label sets one metric (or metrics that are always handed the same arrays) has been given so far. */
class Budget {
  private used = 0
  /** Whether there is room for one more label set, which it then counts. */
  take(): boolean {
    if (this.used >= ownSeries) return false
    this.used++
    return true
  }
}

interface State {
  readonly llmByName: Map<string, Map<string, Map<string, Map<string, LlmSeries>>>>
  readonly toolByName: Map<string, Map<string, ToolSeries>>
  /** `LlmSeries` made: each one in use has an `operation.duration` series of its own. */
  readonly llmSeries: Budget
  /** `ToolSeries` made: each one in use has a `botanu.tool.*` series of its own. */
  readonly toolSeries: Budget
  readonly tokenUsage: Budget
  /** The duration arrays: `operation.duration`, `time_to_first_chunk` and `time_per_output_chunk` share them. */
  readonly duration: Budget
  readonly attempts: Budget
  readonly cost: Budget
  /** `botanu.tool.duration` and `botanu.tool.executions`, which share their arrays. */
  readonly tool: Budget
  readonly lateByWorkflow: Map<string, Map<string, Labels>>
  readonly lateOutcomes: Budget
}

// In a global, like Effect's registry itself: two copies of this module must not give that one registry twice the
// series.
const state = globalValue("@botanu/effect/internal/metricLabels", (): State => ({
  llmByName: new Map(),
  toolByName: new Map(),
  llmSeries: new Budget(),
  toolSeries: new Budget(),
  tokenUsage: new Budget(),
  duration: new Budget(),
  attempts: new Budget(),
  cost: new Budget(),
  tool: new Budget(),
  lateByWorkflow: new Map(),
  lateOutcomes: new Budget()
}))

/** @internal */
export interface LlmOutcomeLabels {
  readonly input: Labels
  readonly output: Labels
  readonly duration: Labels
}

/**
 * The label arrays of one (operation, provider, request model, server), by response model and error type. The
 * server labels only the `gen_ai.client.*` metrics (the conventions' recommendation), not attempts or cost.
 *
 * @internal
 */
export interface LlmSeries {
  readonly attemptSuccess: Labels
  readonly attemptError: Labels
  readonly cost: Labels
  /** Bounded by the cost-by-customer policy, which maps every customer beyond its set to one value. */
  readonly costFor: (customerLabel: string) => Labels
  readonly outcome: (responseModel: string | undefined, errorType: string | undefined) => LlmOutcomeLabels
}

const overflowOutcome: LlmOutcomeLabels = { input: overflow, output: overflow, duration: overflow }

const overflowLlm: LlmSeries = {
  attemptSuccess: overflow,
  attemptError: overflow,
  cost: overflow,
  costFor: () => overflow,
  outcome: () => overflowOutcome
}

const noResponseModel = ""
const noError = ""

// Every array that is a series is made on first use, so that a budget counts the series there are (a call that
// never fails takes no `status=error` series). Two servers of one model share their attempts and cost label sets
// and count them twice: the bound is then reached early, never passed.

class OutcomeLabels implements LlmOutcomeLabels {
  private inputLabels: Labels | undefined = undefined
  private outputLabels: Labels | undefined = undefined
  constructor(readonly duration: Labels) {}
  get input(): Labels {
    return this.inputLabels ??= state.tokenUsage.take()
      ? [...this.duration, MetricLabel.make(GenAiTokenType, "input")]
      : overflow
  }
  get output(): Labels {
    return this.outputLabels ??= state.tokenUsage.take()
      ? [...this.duration, MetricLabel.make(GenAiTokenType, "output")]
      : overflow
  }
}

class ModelSeries implements LlmSeries {
  private readonly base: Labels
  private readonly clientBase: Labels
  private readonly outcomes = new Map<string, Map<string, LlmOutcomeLabels>>()
  private readonly costByCustomer = new Map<string, Labels>()
  private successLabels: Labels | undefined = undefined
  private errorLabels: Labels | undefined = undefined
  private costLabels: Labels | undefined = undefined

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
  }

  get attemptSuccess(): Labels {
    return this.successLabels ??= state.attempts.take()
      ? [...this.base, MetricLabel.make(MetricStatus, "success")]
      : overflow
  }

  get attemptError(): Labels {
    return this.errorLabels ??= state.attempts.take()
      ? [...this.base, MetricLabel.make(MetricStatus, "error")]
      : overflow
  }

  get cost(): Labels {
    return this.costLabels ??= state.cost.take() ? this.base : overflow
  }

  costFor(customerLabel: string): Labels {
    const known = this.costByCustomer.get(customerLabel)
    if (known !== undefined) return known
    // Past the bound nothing is remembered, so that the map stops growing with it.
    if (!state.cost.take()) return overflow
    const labels = [...this.base, MetricLabel.make(CustomerId, customerLabel)]
    this.costByCustomer.set(customerLabel, labels)
    return labels
  }

  outcome(responseModel: string | undefined, errorType: string | undefined): LlmOutcomeLabels {
    const modelKey = responseModel ?? noResponseModel
    const errorKey = errorType ?? noError
    let byError = this.outcomes.get(modelKey)
    const known = byError?.get(errorKey)
    if (known !== undefined) return known
    if (!state.duration.take()) return overflowOutcome
    if (byError === undefined) {
      byError = new Map()
      this.outcomes.set(modelKey, byError)
    }
    const duration = [...this.clientBase]
    if (responseModel !== undefined) duration.push(MetricLabel.make(GenAiResponseModel, responseModel))
    if (errorType !== undefined) duration.push(MetricLabel.make(ErrorType, errorType))
    const labels = new OutcomeLabels(duration)
    byError.set(errorKey, labels)
    return labels
  }
}

/** Called once per call plan, so building the server's key here costs nothing per call. */
const serverKey = (server: ServerTarget): string =>
  server.address === undefined && server.port === undefined ? "" : `${server.address ?? ""}\u0000${server.port ?? ""}`

const child = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}

/** @internal */
export const llm = (operation: string, provider: string, model: string, server: ServerTarget): LlmSeries => {
  const key = serverKey(server)
  const known = state.llmByName.get(operation)?.get(provider)?.get(model)?.get(key)
  if (known !== undefined) return known
  if (!state.llmSeries.take()) return overflowLlm
  const series = new ModelSeries(operation, provider, model, server)
  const byServer = child(
    child(child(state.llmByName, operation, () => new Map()), provider, () => new Map()),
    model,
    () => new Map()
  )
  byServer.set(key, series)
  return series
}

/** @internal */
export interface ToolSeries {
  readonly success: Labels
  readonly error: Labels
}

const overflowTool: ToolSeries = { success: overflow, error: overflow }

class ToolLabels implements ToolSeries {
  private readonly base: Labels
  private successLabels: Labels | undefined = undefined
  private errorLabels: Labels | undefined = undefined
  constructor(toolName: string, provider: string | undefined) {
    const base = [MetricLabel.make(GenAiToolName, toolName)]
    if (provider !== undefined) base.push(MetricLabel.make(GenAiProviderName, provider))
    this.base = base
  }
  get success(): Labels {
    return this.successLabels ??= state.tool.take()
      ? [...this.base, MetricLabel.make(MetricStatus, "success")]
      : overflow
  }
  get error(): Labels {
    return this.errorLabels ??= state.tool.take() ? [...this.base, MetricLabel.make(MetricStatus, "error")] : overflow
  }
}

/** @internal */
export const tool = (toolName: string, provider: string | undefined): ToolSeries => {
  const providerKey = provider ?? ""
  const known = state.toolByName.get(toolName)?.get(providerKey)
  if (known !== undefined) return known
  if (!state.toolSeries.take()) return overflowTool
  const series = new ToolLabels(toolName, provider)
  child(state.toolByName, toolName, () => new Map()).set(providerKey, series)
  return series
}

/**
 * The labels of `botanu.outcomes.late`: the workflow (none outside a run) and the outcome status.
 *
 * @internal
 */
export const lateOutcome = (workflow: string | undefined, status: string): Labels => {
  const key = workflow ?? ""
  const known = state.lateByWorkflow.get(key)?.get(status)
  if (known !== undefined) return known
  if (!state.lateOutcomes.take()) return overflow
  const labels = [MetricLabel.make(OutcomeStatus, status)]
  if (workflow !== undefined) labels.unshift(MetricLabel.make(WorkflowName, workflow))
  child(state.lateByWorkflow, key, () => new Map()).set(status, labels)
  return labels
}
