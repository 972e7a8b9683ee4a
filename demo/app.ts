/**
 * The demo's customer-support app, written with Effect against the real `openai` and `@anthropic-ai/sdk` clients.
 *
 * Two workflows, one run per ticket:
 * - `support_ticket`: classify the ticket (OpenAI gpt-4o-mini, retried on rate limits), look the order up (a tool
 *   call), draft the reply (Anthropic Claude Sonnet, retried once, falling back to OpenAI gpt-4o when still
 *   rate-limited); outcome `success`, or `partial` when the order is unknown and the ticket goes to a human.
 * - `refund_request`: check eligibility (OpenAI o3-mini, a reasoning model), issue the refund (a tool call that
 *   refuses amounts above the automatic limit), confirm (Anthropic Claude Haiku); outcome `success` or `failed`.
 *
 * Every call is tracked; cost lands in a `CostLedger` that the report reads. Every LLM call is also checked against
 * the customers' budgets before it starts (`Budget.enforce`): each customer has a soft daily budget, and initech, on a
 * trial plan, a hard one, which its second ticket finds used up.
 */
import type Anthropic from "@anthropic-ai/sdk"
import { Data, Duration, Effect, Layer, Schedule } from "effect"
import type OpenAI from "openai"
import {
  Budget,
  CostLedger,
  emitOutcome,
  fallbackTracked,
  type OutcomeStatus,
  retryTracked,
  ToolTracker,
  trackLlmCall,
  trackToolCall,
  Workflow
} from "../src/index.js"

// --- errors -------------------------------------------------------------------------------------------------------

/** A 429 from a provider, with how long it asked us to wait. */
export class RateLimited extends Data.TaggedError("RateLimited")<{
  readonly provider: string
  readonly retryAfterMs: number
  readonly message: string
}> {}

/** Any other failed provider request. */
export class ProviderError extends Data.TaggedError("ProviderError")<{
  readonly provider: string
  readonly status: number | undefined
  readonly message: string
}> {}

export type LlmError = RateLimited | ProviderError

/** What an LLM call of the app can fail with: the provider's errors, and the budget's refusals. */
export type CallError = LlmError | Budget.BudgetExceeded | Budget.BudgetUnavailable

export class RefundLimitExceeded extends Data.TaggedError("RefundLimitExceeded")<{
  readonly amount: number
  readonly limit: number
  readonly message: string
}> {}

/** `retry-after-ms` (OpenAI), else `retry-after` in seconds or as an HTTP date; 1 s when absent. */
const retryAfterMs = (headers: unknown): number => {
  const get = (name: string): string | null =>
    headers instanceof Headers ? headers.get(name) : (headers as Record<string, string> | undefined)?.[name] ?? null
  const ms = Number(get("retry-after-ms"))
  if (get("retry-after-ms") !== null && Number.isFinite(ms)) return ms
  const value = get("retry-after")
  if (value === null) return 1000
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return seconds * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? 1000 : Math.max(0, date - Date.now())
}

/** Both SDKs throw an `APIError` with `status` and `headers`; a 429 becomes `RateLimited`. */
const toLlmError = (provider: string) => (cause: unknown): LlmError => {
  const error = cause as { status?: unknown; headers?: unknown; message?: unknown }
  const message = typeof error?.message === "string" ? error.message : String(cause)
  return error?.status === 429
    ? new RateLimited({ provider, retryAfterMs: retryAfterMs(error.headers), message })
    : new ProviderError({ provider, status: typeof error?.status === "number" ? error.status : undefined, message })
}

// --- the app's data -----------------------------------------------------------------------------------------------

export interface Ticket {
  readonly id: string
  readonly customerId: string
  readonly workflow: "support_ticket" | "refund_request"
  readonly orderId: string
  readonly text: string
}

interface Order {
  readonly id: string
  readonly customerId: string
  readonly status: string
  readonly amount: number
}

const orders: ReadonlyArray<Order> = [
  { id: "A-1001", customerId: "acme-corp", status: "in transit with DHL, arriving tomorrow", amount: 42 },
  { id: "A-1002", customerId: "acme-corp", status: "delivered", amount: 89 },
  { id: "G-2001", customerId: "globex", status: "held at customs", amount: 130 },
  { id: "G-2002", customerId: "globex", status: "delivered", amount: 18 },
  { id: "U-3001", customerId: "umbrella", status: "delivered", amount: 1299 }
]

export const tickets: ReadonlyArray<Ticket> = [
  {
    id: "T-1001",
    customerId: "acme-corp",
    workflow: "support_ticket",
    orderId: "A-1001",
    text: "Hi, where is my order A-1001? It was due yesterday."
  },
  {
    id: "T-1002",
    customerId: "globex",
    workflow: "support_ticket",
    orderId: "G-2001",
    text: "My package for order G-2001 has not arrived yet."
  },
  {
    id: "T-1003",
    customerId: "initech",
    workflow: "support_ticket",
    orderId: "I-9999",
    text: "Where is my order I-9999? Nobody answers my emails."
  },
  {
    id: "T-1004",
    customerId: "acme-corp",
    workflow: "refund_request",
    orderId: "A-1002",
    text: "The blender from order A-1002 arrived broken. I'd like a refund."
  },
  {
    id: "T-1005",
    customerId: "globex",
    workflow: "support_ticket",
    orderId: "G-2002",
    text: "Order G-2002 says delivered but I can't find the package."
  },
  {
    id: "T-1006",
    customerId: "umbrella",
    workflow: "refund_request",
    orderId: "U-3001",
    text: "The TV from order U-3001 arrived damaged, please refund it."
  },
  {
    id: "T-1007",
    customerId: "initech",
    workflow: "support_ticket",
    orderId: "A-1001",
    text: "Can you check the delivery of order A-1001 for me?"
  }
]

/** Above this a refund needs a human: the tool refuses it. */
const automaticRefundLimit = 500

// --- the budgets ----------------------------------------------------------------------------------------------------

/** The trial customer, whose hard daily budget is small. */
export const trialCustomer = "initech"

/**
 * Every customer has a soft daily budget (a warning and a span event once reached, nothing refused); the trial
 * customer also has a hard one: once reached, its calls are refused before they start.
 */
export const budgets: Budget.Options = {
  limits: [
    { scope: "customer", amount: 0.012, window: "day", mode: "soft" },
    { scope: "customer", match: trialCustomer, amount: 0.0025, window: "day", mode: "hard" }
  ]
}

// --- the app ------------------------------------------------------------------------------------------------------

export interface DemoOptions {
  readonly openai: OpenAI
  readonly anthropic: Anthropic
  /** Longest wait before a retry, whatever `retry-after` says, so that the demo stays quick. Default 50 ms. */
  readonly retryCap?: Duration.DurationInput | undefined
  /** Called with one line as each run starts and ends. */
  readonly progress?: ((line: string) => void) | undefined
  readonly tickets?: ReadonlyArray<Ticket> | undefined
}

export interface RunResult {
  readonly ticket: Ticket
  readonly outcome: OutcomeStatus
  readonly detail: string
}

/** A call the budget refused: the ticket whose run it was in, and why. */
export interface RefusedCall {
  readonly ticket: Ticket
  readonly error: Budget.BudgetExceeded
}

export interface DemoResult {
  readonly runs: ReadonlyArray<RunResult>
  readonly ledger: CostLedger.Snapshot
  /** Each customer's spend against its budgets, at the end. */
  readonly budgets: ReadonlyArray<Budget.Remaining>
  readonly refused: ReadonlyArray<RefusedCall>
  /** Runs of a retried call after its first (the spans' `botanu.request.attempt` > 1 within a step). */
  readonly retries: number
  /** Times a fallback chain moved on to its next provider (spans with `botanu.request.fallback_index` > 0). */
  readonly fallbacks: number
}

const supportSystemPrompt = "You are the support assistant of Botanu Shop. Be brief, friendly and precise. " +
  "Use the order information given; never invent tracking numbers. ".repeat(8)

export const runDemo = (options: DemoOptions): Effect.Effect<DemoResult> =>
  Effect.gen(function*() {
    const { anthropic, openai } = options
    const progress = options.progress ?? (() => {})
    const retryCap = Duration.decode(options.retryCap ?? "50 millis")
    // Counted here, as the app sees them; the test checks them against the spans' attempt and fallback numbers.
    const stats = { retries: 0, fallbacks: 0 }

    /** Retry rate limits only, at most `times` times, waiting what the provider asked (capped). */
    const onRateLimit = (times: number) =>
      Schedule.recurs(times).pipe(
        Schedule.intersect(Schedule.recurWhile((error: CallError) => error._tag === "RateLimited")),
        Schedule.addDelay(([, error]) =>
          Duration.min(Duration.millis(error._tag === "RateLimited" ? error.retryAfterMs : 0), retryCap)
        )
      )

    const retried = <A, R>(call: Effect.Effect<A, CallError, R>, times: number) => {
      let run = 0
      return Effect.suspend(() => {
        if (run++ > 0) stats.retries++
        return call
      }).pipe(retryTracked(onRateLimit(times)))
    }

    const openaiCall = (model: string, system: string, user: string) =>
      Effect.tryPromise({
        try: (signal) =>
          openai.chat.completions.create({
            model,
            messages: [{ role: "system", content: system }, { role: "user", content: user }]
          }, { signal }),
        catch: toLlmError("openai")
      }).pipe(
        trackLlmCall({ provider: "openai", model, usageFrom: "openai.chat" }),
        // Checked before each attempt starts: a customer whose hard budget is used up gets no more calls.
        Budget.enforce,
        Effect.map((completion) => completion.choices[0]?.message.content ?? "")
      )

    const anthropicCall = (model: string, system: string, user: string) =>
      Effect.tryPromise({
        try: (signal) =>
          anthropic.messages.create({
            model,
            max_tokens: 512,
            system,
            messages: [{ role: "user", content: user }]
          }, { signal }),
        catch: toLlmError("anthropic")
      }).pipe(
        trackLlmCall({ provider: "anthropic", model, usageFrom: "anthropic.messages" }),
        Budget.enforce,
        Effect.map((message) => message.content.map((block) => (block.type === "text" ? block.text : "")).join(""))
      )

    const lookupOrder = (ticket: Ticket) =>
      Effect.gen(function*() {
        const tracker = yield* ToolTracker
        yield* Effect.sleep("5 millis") // the order database
        const order = orders.find((order) => order.id === ticket.orderId && order.customerId === ticket.customerId)
        yield* tracker.setResult({ success: true, itemsReturned: order === undefined ? 0 : 1 })
        return order
      }).pipe(trackToolCall({ toolName: "lookup_order", toolCallId: `call_${ticket.id}_lookup` }))

    const issueRefund = (ticket: Ticket, order: Order) =>
      Effect.gen(function*() {
        const tracker = yield* ToolTracker
        yield* Effect.sleep("8 millis") // the payment provider
        if (order.amount > automaticRefundLimit) {
          yield* tracker.setResult({ success: false })
          return yield* new RefundLimitExceeded({
            amount: order.amount,
            limit: automaticRefundLimit,
            message: `refund of $${order.amount} is above the automatic limit of $${automaticRefundLimit}`
          })
        }
        yield* tracker.setResult({ success: true, itemsReturned: 1 })
        return `RF-${order.id}`
      }).pipe(
        trackToolCall({
          toolName: "issue_refund",
          toolCallId: `call_${ticket.id}_refund`,
          attributes: { amount_usd: order.amount }
        })
      )

    const supportTicket = Workflow.fn("support_ticket", {
      eventId: (ticket: Ticket) => ticket.id,
      customerId: (ticket) => ticket.customerId
    })(function*(ticket: Ticket) {
      const intent = yield* retried(
        openaiCall("gpt-4o-mini", "Classify the support ticket as order_status, refund or other.", ticket.text),
        2
      )
      const order = yield* lookupOrder(ticket)
      const context = order === undefined
        ? `No order ${ticket.orderId} exists for this customer.`
        : `Order ${order.id}: ${order.status}.`
      const prompt = `Ticket (${intent}): ${ticket.text}\n${context}`
      const reply = yield* fallbackTracked([
        retried(anthropicCall("claude-sonnet-4-0", supportSystemPrompt, prompt), 1),
        openaiCall("gpt-4o", supportSystemPrompt, prompt)
      ], {
        while: (error) => {
          const fallBack = error._tag === "RateLimited"
          if (fallBack) stats.fallbacks++
          return fallBack
        }
      })
      if (order === undefined) {
        yield* emitOutcome("partial", { valueType: "ticket_escalated", reason: "order not found; sent to a human" })
        return { outcome: "partial" as const, detail: "order not found, escalated" }
      }
      yield* emitOutcome("success", { valueType: "ticket_resolved", valueAmount: 1, confidence: 0.9 })
      return { outcome: "success" as const, detail: `replied (${reply.length} chars)` }
    })

    const refundRequest = Workflow.fn("refund_request", {
      eventId: (ticket: Ticket) => ticket.id,
      customerId: (ticket) => ticket.customerId
    })(function*(ticket: Ticket) {
      const verdict = yield* retried(
        openaiCall("o3-mini", "Apply the refund policy: damaged or broken goods are eligible.", ticket.text),
        2
      )
      const order = yield* lookupOrder(ticket)
      if (verdict !== "eligible" || order === undefined) {
        yield* emitOutcome("failed", { reason: "not eligible for a refund", errorType: "NotEligible" })
        return { outcome: "failed" as const, detail: "not eligible" }
      }
      const refund = yield* Effect.either(issueRefund(ticket, order))
      const confirmation = refund._tag === "Right"
        ? `Refund ${refund.right} of $${order.amount} issued for ${ticket.text}`
        : `Refund refused (${refund.left.message}) for ${ticket.text}; a human will follow up.`
      yield* retried(anthropicCall("claude-haiku-4-5", supportSystemPrompt, confirmation), 2)
      if (refund._tag === "Left") {
        yield* emitOutcome("failed", { reason: refund.left.message, errorType: refund.left._tag })
        return { outcome: "failed" as const, detail: refund.left.message }
      }
      yield* emitOutcome("success", { valueType: "refund_issued", valueAmount: order.amount })
      return { outcome: "success" as const, detail: `refunded $${order.amount}` }
    })

    const list = options.tickets ?? tickets
    const runs: Array<RunResult> = []
    const refused: Array<RefusedCall> = []
    for (const [index, ticket] of list.entries()) {
      progress(`[${index + 1}/${list.length}] ${ticket.workflow} ${ticket.id} for ${ticket.customerId} ...`)
      const handler: Effect.Effect<Omit<RunResult, "ticket">, CallError> = ticket.workflow === "support_ticket"
        ? supportTicket(ticket)
        : refundRequest(ticket)
      // A run that fails (a provider still rate-limited after every retry, a call the budget refused) is recorded by
      // its workflow span as `failed`; the demo carries on with the next ticket.
      const result = yield* handler.pipe(
        Effect.catchAll((error) => {
          if (error._tag !== "BudgetExceeded") {
            return Effect.succeed({ outcome: "failed" as OutcomeStatus, detail: error.message })
          }
          refused.push({ ticket, error })
          return Effect.succeed({
            outcome: "failed" as OutcomeStatus,
            detail: `refused: the ${error.scope}'s hard ${error.window} budget of $${error.limit} is used up`
          })
        })
      )
      runs.push({ ticket, ...result })
      progress(
        `[${index + 1}/${list.length}] ${ticket.workflow} ${ticket.id} for ${ticket.customerId}: ` +
          `${result.outcome} (${result.detail})`
      )
    }
    const ledger = yield* CostLedger.snapshot
    // The demo keeps its budgets in memory (`Budget.memoryStore`, the default), which always answers.
    const spends = yield* Effect.orDie(
      Effect.forEach([...ledger.byCustomer.keys()], (customer) => Budget.remaining("customer", customer))
    )
    return { runs, ledger, budgets: spends, refused, retries: stats.retries, fallbacks: stats.fallbacks }
  }).pipe(Effect.provide(Layer.merge(CostLedger.layer, Budget.layer(budgets))))
