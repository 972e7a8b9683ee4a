/**
 * The bounds on what the library writes, in one place: a span, a metric or a ledger holds at most this much,
 * whatever a caller hands it. The README's "Limits" section documents each number; a test keeps the two in step.
 *
 * @internal
 */

/** A name or an identifier (model, provider, tool, workflow, agent, event/customer/tenant/request/response id). */
export const maxNameChars = 256

/** A user attribute's string value, an item of a list attribute, a finish reason, a stop sequence. */
export const maxValueChars = 1_024

/** Free text: an error message, a stack trace, a description. */
export const maxTextChars = 4_096

/** A user attribute's key: a longer one is dropped (a cut key could collide with another). */
export const maxKeyChars = 256

/** Items of any list the library writes (finish reasons, stop sequences, a list-valued user attribute). */
export const maxListItems = 64

/**
 * Attributes a caller adds to one span (`attributes` options and `addMetadata` together, distinct keys). The
 * library's own attributes on the busiest span stay below 128 minus this, the OpenTelemetry SDK's default
 * attribute count limit, so that none of them is ever dropped, even under an app's own SDK with default limits.
 */
export const maxUserAttributes = 32

/** Warning lines on one span; more are counted in one last line. */
export const maxWarnings = 32

/**
 * Series per metric: past this, new label combinations are recorded in one overflow series carrying only
 * `otel.metric.overflow=true`, the OpenTelemetry SDK's own cardinality limit and convention.
 */
export const maxSeriesPerMetric = 2_000

/** What the library's own layers set as the SDK's span limits: room for the app's attributes beside ours. */
export const sdkAttributeCountLimit = 256

/**
 * Characters of captured content per call at most (`Content.layer`'s `maxCallChars` is clamped to it): all its
 * content attributes' JSON together.
 */
export const maxContentCallChars = 65_536

/** Characters of captured content per call by default (`maxCallChars`). */
export const defaultContentCallChars = 32_768

/** Characters of captured content per message by default (`maxMessageChars`): its parts' strings together. */
export const defaultContentMessageChars = 8_192

/**
 * What captured content is read at most, before it is scrubbed or handed to the app's `redact` hook, so that
 * neither costs more than this whatever a call holds: characters of one string, messages of one list (the latest
 * input ones, the first output ones), parts of one message, nesting depth and items or keys per level of a tool's
 * arguments or result (or of a part of a type of its own), and values copied from one call.
 */
export const maxContentReadChars = 262_144
/** Characters read of all the strings of one call's content together (the newest input first). */
export const maxContentReadTotalChars = 1_048_576
/** See `maxContentReadChars`. */
export const maxContentMessages = 1_024
/** See `maxContentReadChars`. */
export const maxContentParts = 256
/** See `maxContentReadChars`. */
export const maxContentDepth = 16
/** See `maxContentReadChars`. */
export const maxContentItems = 1_024
/** See `maxContentReadChars`. */
export const maxContentValues = 65_536

/**
 * The SDK's attribute value length limit in the library's layers: a backstop for values the library does not write,
 * as long as the longest content attribute, so that the SDK never cuts one (which would break its JSON). Error text
 * of the bridge's own is cut to `maxTextChars` by the redacting span processor.
 */
export const sdkAttributeValueLengthLimit = maxContentCallChars

/** Appended to a cut string, inside its bound. */
export const truncatedMarker = "…[truncated]"

/**
 * `text` cut to at most `max` characters, the marker included, never splitting a surrogate pair; `text` itself
 * when it fits.
 */
export const cut = (text: string, max: number): string => {
  if (text.length <= max) return text
  let end = max - truncatedMarker.length
  const code = text.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end--
  return text.slice(0, end) + truncatedMarker
}

/**
 * Models (provider and model) the "no price known" warning is logged for one by one, once each; past this, one last
 * warning says that further ones are not, and their calls still get `botanu.cost.status = unknown_model`.
 */
export const maxWarnedModels = 1_000

/**
 * Keys of their own in each dimension of a `CostLedger` (customer, workflow, provider, model) by default; past
 * this, new keys are added to one `_other` row, so that the totals stay exact.
 */
export const maxLedgerKeys = 10_000

/**
 * The dearest custom price accepted, in USD per million tokens ($0.01 a token): about 16 times the dearest price in
 * the catalogue ($600 per million output tokens), so no real price is refused, while a unit slip (a price per
 * billion tokens, or in micro-dollars) or a hostile number (`1e300`) is. Below it, a call's cost stays an amount that
 * a double holds with room to spare whatever its token counts (see `maxCostAttodollars` in `money.ts`).
 */
export const maxPricePerMillion = 10_000

/**
 * Spend counters a `Budget.memoryStore` keeps at once (one per scope key and window in use: a customer's day, a
 * run). Expired ones are dropped first; past this, the oldest are, and their spend starts again from 0.
 */
export const maxBudgetCounters = 100_000

/**
 * Windows (a limit, a key, a day or month or run) remembered for the "limit reached" warning, logged once per each;
 * past this, one last warning says that further ones are not logged until windows end.
 */
export const maxBudgetWarnings = 10_000

/**
 * Keys of their own (customers, tenants, workflows) per scope on the budget metrics by default; every other key is
 * recorded as `_other`. `Budget.layer({ metricKeys })` chooses another number, at most `maxSeriesPerMetric`.
 */
export const budgetMetricKeys = 100

/**
 * Counters whose spend (or released reservation) a `Budget.redisStore` keeps in memory while Redis is unreachable,
 * to add when it is back; past this, further ones are dropped (and the warning counts them).
 */
export const maxBudgetPending = 10_000

/**
 * The dearest custom fee accepted, in USD per thousand requests or web searches ($1 a request or a search): about
 * 70 times the dearest fee in the catalogue ($14 per thousand Perplexity requests; web searches are $10), so no
 * real fee is refused, while a fee given per request instead of per thousand, or a hostile number, is.
 */
export const maxPricePerThousand = 1_000
