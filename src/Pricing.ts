/**
 * What a call costs: the `Pricing` service prices recorded token usage, by default from the maintained catalogue
 * of `@pydantic/genai-prices`, with custom prices and aliases taking precedence where the app provides them.
 *
 * Everything the catalogue prices and a usage can count is priced: text, cached, 5-minute and 1-hour cache-write,
 * audio, cached audio, image, cached image, reasoning, audio and image output tokens, each at its own rate, and
 * per-request and web-search fees. Units a usage cannot count (document pages, audio hours, video tokens, storage
 * searches) are not; a model priced only by them is `unknown_model`. Service tiers are priced where a price for the
 * tier is known, and `estimated` at the standard rate where not.
 *
 * Money is exact: every amount is a `bigint` of attodollars (1e-18 USD), the exact product of a count and a price
 * per million tokens (or per thousand requests) with up to 12 (or 15) decimals, so sums never drift. It is converted
 * to a JS number of USD once, when it is recorded.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as catalogueData from "./internal/catalogue.js"
import * as internal from "./internal/pricing.js"

/**
 * `priced` from the catalogue, `custom` from the app's own prices, `free` when every price that applies is 0,
 * `no_usage` when the call reported no tokens, `unknown_model` when no price is known (never recorded as $0).
 *
 * `estimated`: the call was answered with a service tier that is not the standard one (OpenAI `flex`, `priority`,
 * `scale`; Anthropic `priority`, `batch`; standard is none, OpenAI `default` / `auto` or Anthropic `standard`) and
 * no price is known for that tier, neither in the catalogue (0.1.8 has none) nor among the app's custom prices (see
 * `CustomPrice.serviceTier`): it is priced at the standard rates, its amounts are written and added up like any
 * other, and a warning on the span says so (`cost: no price known for service tier "flex"; priced at the standard
 * rate`).
 *
 * Two say why a call with usage could not be priced, with the reason in the span's `botanu.tracking.warnings`:
 * `invalid_price` when the app's custom price (or alias) for the model is invalid (see `makeCustom`), and
 * `invalid_cost` when the pricing service threw or answered something that is not a cost (see `Cost`). Like
 * `unknown_model`, neither writes an amount or adds to any total: the call counts as unpriced.
 *
 * @since 0.1.0
 * @category models
 */
export type CostStatus =
  | "priced"
  | "estimated"
  | "unknown_model"
  | "no_usage"
  | "custom"
  | "free"
  | "invalid_price"
  | "invalid_cost"

/**
 * Token usage as recorded on the span: `input` is all the input (text, audio, image, cache reads and writes),
 * `output` all the output (text, audio, image, reasoning); every other count is a part of one of them.
 *
 * The fields after `reasoning` are optional, so that a pricing service of the app's own that builds or reads a
 * usage of the first five still compiles: absent, they are 0 (and `requests` is 1). A part larger than its whole is
 * read as a larger whole (every token is priced once): audio input at least its cache reads, and so on.
 *
 * @since 0.1.0
 * @category models
 */
export interface PricedUsage {
  readonly input: number
  readonly output: number
  /** All cache reads (text, audio and image): part of `input`. */
  readonly cacheRead: number
  /** All cache writes (5-minute and 1-hour): part of `input`. */
  readonly cacheWrite: number
  /** Part of `output`. */
  readonly reasoning: number
  /** The part of `cacheWrite` written for 1 hour; the rest are 5-minute writes. */
  readonly cacheWrite1h?: number | undefined
  /** The audio part of `input`, its cache reads included. */
  readonly inputAudio?: number | undefined
  /** The audio part of `cacheRead` (so also of `inputAudio`). */
  readonly cacheReadAudio?: number | undefined
  /** The image part of `input`, its cache reads included. */
  readonly inputImage?: number | undefined
  /** The image part of `cacheRead` (so also of `inputImage`). */
  readonly cacheReadImage?: number | undefined
  /** The audio part of `output`. */
  readonly outputAudio?: number | undefined
  /** The image part of `output`. */
  readonly outputImage?: number | undefined
  /** Web-search tool uses billed on the call, charged per thousand where the model has a price for them. */
  readonly webSearches?: number | undefined
  /** Requests the usage is for, charged per thousand where the model has a per-request fee. Absent: 1. */
  readonly requests?: number | undefined
  /** The service tier the provider answered with, as given (OpenAI `service_tier`, Anthropic `service_tier`). */
  readonly serviceTier?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PriceRequest {
  /** Normalized (see `normalizeProvider`). */
  readonly provider: string
  /** The response model when known, else the request model. */
  readonly model: string
  readonly usage: PricedUsage
  /** When the call started, in epoch milliseconds: dated prices in force then apply. */
  readonly timestamp: number
}

/**
 * A call's cost in attodollars (1e-18 USD). `total = input + output + requestFees + toolFees` (an absent fee is 0);
 * `input` is everything the input tokens cost (cache reads and writes, audio and image included), `output`
 * everything the output tokens cost (reasoning, audio and image included). The parts are shares of those, present
 * where they apply (the call has tokens of that kind), never added to the total again: `cacheRead`, `cacheWrite`
 * (1-hour writes included) and `cacheWrite1h` of `input`; `reasoning` of `output`; `audio` and `image` of
 * `input + output`. The fees are beside them: `requestFees` where the model charges per request, `toolFees` for the
 * call's web searches where the model has a price for them. The amounts are 0 for every status but `priced`,
 * `custom`, `estimated` and `free`.
 *
 * A service of the app's own is held to that: a cost whose status is not a `CostStatus`, whose amounts are not
 * non-negative bigints, whose total is not `input + output + requestFees + toolFees` (or, for `free`, not 0), whose
 * part is larger than its whole, or whose total is above the most one call can cost under prices of at most
 * $10,000 per million tokens and fees of at most $1,000 per thousand (about $1.8e16, every count at its bound), is
 * recorded as `invalid_cost`, with no amounts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cost {
  readonly status: CostStatus
  /** `"genai-prices@<version>"` for the catalogue, `"custom"` for the app's prices; absent when not priced. */
  readonly source: string | undefined
  readonly input: bigint
  readonly output: bigint
  readonly total: bigint
  readonly cacheRead: bigint | undefined
  readonly cacheWrite: bigint | undefined
  readonly reasoning: bigint | undefined
  /** The part of `cacheWrite` spent on 1-hour cache writes. */
  readonly cacheWrite1h?: bigint | undefined
  /** The part of `input + output` spent on audio tokens (input, cached input and output). */
  readonly audio?: bigint | undefined
  /** The part of `input + output` spent on image tokens (input, cached input and output). */
  readonly image?: bigint | undefined
  /** Per-request fees, beside `input` and `output`. */
  readonly requestFees?: bigint | undefined
  /** Tool fees (web searches), beside `input` and `output`. */
  readonly toolFees?: bigint | undefined
  /**
   * Why the call is not priced, for `invalid_price` and `invalid_cost`, or why it is an estimate, for `estimated`:
   * written to the span's warnings.
   */
  readonly reason?: string | undefined
}

/**
 * Prices in USD per million tokens, for custom prices: each a finite number from 0 to 10,000 ($0.01 a token, about
 * 16 times the dearest price in the catalogue), so that a unit slip or a garbage number is refused rather than
 * recorded (see `makeCustom`); fees in USD per thousand requests or web searches, each from 0 to 1,000 ($1 a
 * request or a search, about 70 times the dearest fee in the catalogue).
 *
 * A price not given is the price of the nearest kind of token that holds it, as in the catalogue: cache reads,
 * cache writes, audio and image input at the input price; 1-hour cache writes at the cache write price; cached audio
 * at the audio input price when one is given, else at the cache read price (the same for images); reasoning, audio
 * and image output at the output price. A fee not given is not charged.
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelPrices {
  readonly inputPerMillion: number
  readonly outputPerMillion: number
  /** Defaults to the input price. */
  readonly cacheReadPerMillion?: number | undefined
  /** 5-minute cache writes (and writes with no time to live). Defaults to the input price. */
  readonly cacheWritePerMillion?: number | undefined
  /** 1-hour cache writes. Defaults to the cache write price. */
  readonly cacheWrite1hPerMillion?: number | undefined
  /** Audio input that is not a cache read. Defaults to the input price. */
  readonly inputAudioPerMillion?: number | undefined
  /** Cached audio input. Defaults to the audio input price when given, else to the cache read price. */
  readonly cacheReadAudioPerMillion?: number | undefined
  /** Image input that is not a cache read. Defaults to the input price. */
  readonly inputImagePerMillion?: number | undefined
  /** Cached image input. Defaults to the image input price when given, else to the cache read price. */
  readonly cacheReadImagePerMillion?: number | undefined
  /** Reasoning output. Defaults to the output price. */
  readonly reasoningPerMillion?: number | undefined
  /** Audio output. Defaults to the output price. */
  readonly outputAudioPerMillion?: number | undefined
  /** Image output. Defaults to the output price. */
  readonly outputImagePerMillion?: number | undefined
  /** USD per thousand requests: a fee per call. */
  readonly perThousandRequests?: number | undefined
  /** USD per thousand web-search tool uses. */
  readonly perThousandWebSearches?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CustomPrice {
  /** Any spelling; normalized. Omitted: the price applies to the model on every provider. */
  readonly provider?: string | undefined
  readonly model: string
  readonly prices: ModelPrices
  /**
   * The service tier these prices are for (any case): they apply to the calls answered with that tier
   * (`PricedUsage.serviceTier`), which are then `custom`, not `estimated`. At each step of an alias chain a tier's
   * price is looked up before the model's own. Omitted, or a standard tier (`default`, `auto`, `standard`): the
   * model's standard price.
   */
  readonly serviceTier?: string | undefined
}

/**
 * Prices `model` (on `provider`, when given) as another model: a deployment name priced as the model it runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface PriceAlias {
  readonly provider?: string | undefined
  readonly model: string
  readonly as: { readonly provider?: string | undefined; readonly model: string }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CustomOptions {
  readonly prices?: ReadonlyArray<CustomPrice> | undefined
  readonly aliases?: ReadonlyArray<PriceAlias> | undefined
}

/**
 * The pricing every tracked LLM call uses. Without a layer it is the catalogue (`catalogue`); provide
 * `layerCustom` to add your own prices and aliases in front of it.
 *
 * @since 0.1.0
 * @category tags
 */
export class Pricing extends Context.Reference<Pricing>()("@botanu/effect/Pricing", {
  defaultValue: (): Pricing.Service => internal.catalogue
}) {}

/**
 * @since 0.1.0
 */
export declare namespace Pricing {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** Never throws. Memoized per (provider, model): a repeated model costs a map lookup and some arithmetic. */
    readonly price: (request: PriceRequest) => Cost
  }
}

/**
 * The catalogue of `@pydantic/genai-prices`, bundled with the package (no network).
 *
 * @since 0.1.0
 * @category constructors
 */
export const catalogue: Pricing.Service = internal.catalogue

/**
 * Custom prices and aliases in front of `fallback` (the catalogue by default).
 *
 * Never throws, whatever the options hold (wrong types, throwing getters, Proxies). An entry whose `model` is not a
 * non-blank string (or whose `provider` is given and not a string, or whose `serviceTier` is given and not a
 * non-blank string) is ignored. An entry that names its model but cannot be used — a per-million price that is not
 * a finite number from 0 to 10,000, a per-thousand fee that is not one from 0 to 1,000, `prices` or an alias's `as`
 * that is not a record — still claims its (provider, model) (for its service tier, when it names one): the calls to
 * that model with usage get `botanu.cost.status = invalid_price`, no amounts, and the reason in
 * `botanu.tracking.warnings`, rather than a catalogue price the app meant to override. `layerCustom` also logs each
 * invalid entry when the layer is built. Later entries for the same (provider, model, tier) replace earlier ones,
 * invalid or not.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeCustom: (options: CustomOptions, fallback?: Pricing.Service) => Pricing.Service = internal.makeCustom

/**
 * The `botanu.cost.pricing_source` of catalogue prices: the package and version of the bundled price data.
 *
 * @since 0.1.0
 * @category constants
 */
export const catalogueSource: string = catalogueData.catalogueSource

/**
 * The catalogue, explicitly (it is also what tracked calls use when no pricing is provided).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Pricing> = Layer.sync(Pricing, () => internal.catalogue)

/**
 * Custom prices and aliases in front of the catalogue (see `makeCustom`). Building the layer never fails: each
 * invalid entry is logged as a warning through Effect's logger, once (at most 32 lines and a count), and its
 * model's calls are `invalid_price`.
 *
 * @example
 * ```ts
 * import { Pricing } from "@botanu/effect"
 *
 * const PricingLive = Pricing.layerCustom({
 *   prices: [{ provider: "mylab", model: "mylab-7b", prices: { inputPerMillion: 0.2, outputPerMillion: 0.6 } }],
 *   aliases: [{ provider: "azure", model: "my-gpt4-deployment", as: { provider: "openai", model: "gpt-4o" } }]
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCustom = (options: CustomOptions): Layer.Layer<Pricing> =>
  Layer.effect(
    Pricing,
    Effect.suspend(() => {
      const { problems, service } = internal.buildCustom(options)
      return Effect.as(
        Effect.forEach(problems, (line) => Effect.logWarning(`botanu: Pricing.layerCustom: ${line}`), {
          discard: true
        }),
        service
      )
    })
  )

/**
 * USD as a JS number, from attodollars: the one place money becomes a float.
 *
 * @since 0.1.0
 * @category utils
 */
export const toUsd: (attodollars: bigint) => number = internal.toUsd
