/**
 * Exact money. Every amount is a `bigint` of attodollars (1e-18 USD): a price per million tokens with up to 12
 * decimals is a whole number of attodollars per token, so a cost is an exact integer product and sums never drift.
 */
import { maxPricePerMillion, maxPricePerThousand } from "./limits.js"

/**
 * 1 USD per million tokens = 1e18 attodollars / 1e6 tokens = 1e12 attodollars per token: the decimal point of a
 * per-million price moves 12 places right.
 */
const ATTO_PER_TOKEN_DIGITS = 12

/** 1 USD per thousand requests (or searches) = 1e18 / 1e3 = 1e15 attodollars per request: 15 places right. */
const ATTO_PER_USE_DIGITS = 15

// The shortest round-tripping decimal that `String(number)` prints for a finite non-negative number:
// "2.5", "0.0375", "1.1e-7", "1e+21".
const decimal = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/

/** `usd` with its decimal point moved `digits` places right, rounded half-up to a whole number. */
const shifted = (usd: number, digits: number): bigint | undefined => {
  if (typeof usd !== "number" || !Number.isFinite(usd) || usd < 0) return undefined
  const match = decimal.exec(String(usd))
  if (match === null) return undefined
  const whole = match[1]!
  const fraction = match[2] ?? ""
  const value = BigInt(whole + fraction)
  const shift = Number(match[3] ?? "0") - fraction.length + digits
  if (shift >= 0) return value * 10n ** BigInt(shift)
  const divisor = 10n ** BigInt(-shift)
  return (value + divisor / 2n) / divisor
}

/**
 * Attodollars per token from USD per million tokens, or `undefined` for a value that is not a finite number
 * `>= 0`.
 *
 * The number is read from its shortest decimal string, never multiplied as a float: `0.0375` is the decimal
 * 0.0375 its author wrote, so it gives exactly 37_500_000_000 attodollars per token. Prices with more than 12
 * decimals (the catalogue holds a few float artefacts such as `0.18000000000000002`, and `0.08333333333333334`
 * for a third of 0.25) are rounded half-up to the nearest attodollar per token, an error below 1e-18 USD a token.
 *
 * @internal
 */
export const attoPerToken = (usdPerMillion: number): bigint | undefined => shifted(usdPerMillion, ATTO_PER_TOKEN_DIGITS)

/**
 * Attodollars per request (or per web search) from USD per thousand, read from its decimal digits as
 * `attoPerToken` reads a per-million price; `undefined` for a value that is not a finite number `>= 0`.
 *
 * @internal
 */
export const attoPerUse = (usdPerThousand: number): bigint | undefined => shifted(usdPerThousand, ATTO_PER_USE_DIGITS)

/**
 * A rate that may depend on the request's total input tokens (long-context pricing): `base` until the total input
 * passes a tier's `start`, then that tier's rate.
 *
 * @internal
 */
export interface TieredRate {
  readonly base: bigint
  /** Ascending by `start`. */
  readonly tiers: ReadonlyArray<{ readonly start: number; readonly rate: bigint }>
}

/**
 * Attodollars per token: a flat rate, or one that depends on the request's total input tokens.
 *
 * @internal
 */
export type Rate = bigint | TieredRate

/**
 * The rate for a request with `totalInput` input tokens (cache included). A tier applies once the total input is
 * strictly greater than its `start`, as the catalogue's own calculation does (`totalInput > start`); the last tier
 * passed wins.
 *
 * @internal
 */
export const rateAt = (rate: Rate, totalInput: number): bigint => {
  if (typeof rate === "bigint") return rate
  let current = rate.base
  for (const tier of rate.tiers) {
    if (totalInput > tier.start) current = tier.rate
    else break
  }
  return current
}

/**
 * USD as a JS number: `Number(attodollars) / 1e18`, the one place money becomes a float.
 *
 * Below 2^53 attodollars (about $0.009) the result is the double nearest the exact amount; above, `Number()` and
 * the division each round once, so the result is within 2 ulp (a relative error below 2.3e-16: about 15 significant
 * digits, far below a cent for any realistic spend).
 *
 * @internal
 */
export const toUsd = (attodollars: bigint): number => Number(attodollars) / 1e18

/**
 * The most one call can cost, in attodollars: every token it can count at the dearest price accepted
 * (`maxPricePerMillion`), and every request and web search at the dearest fee (`maxPricePerThousand`). Each count
 * is at most `MAX_SAFE_INTEGER`, and a whole is read as at least its parts: the input as at least its audio, image,
 * text cache reads and cache writes (4 counts), the output as at least its reasoning, audio and image (3 counts).
 * That is 7 × 9.007e15 tokens × 1e16 attodollars plus 2 × 9.007e15 uses × 1e18: about 1.8e34 attodollars
 * ($1.8e16). A cost above it comes from no price within bounds and is not recorded. Below it, `toUsd` of a cost, and
 * of the sum of any number of costs a process could ever add up (about 1e292 of them), is a finite number.
 *
 * @internal
 */
export const maxCostAttodollars: bigint =
  7n * BigInt(Number.MAX_SAFE_INTEGER) * BigInt(maxPricePerMillion) * 10n ** BigInt(ATTO_PER_TOKEN_DIGITS) +
  2n * BigInt(Number.MAX_SAFE_INTEGER) * BigInt(maxPricePerThousand) * 10n ** BigInt(ATTO_PER_USE_DIGITS)
