import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Api from "../Budget.js"
import {
  type BudgetStore,
  type Counter,
  type CounterState,
  decodeDuration,
  invalid,
  type ReserveResult,
  rollingBuckets,
  storeFactory,
  StoreUnavailable
} from "./budget.js"
import { errorMessage } from "./errors.js"
import { cut, maxBudgetPending } from "./limits.js"
import { describe } from "./sanitize.js"

// Spend in Redis, shared by every process with the same Redis and prefix.
//
// Units: integer nano-dollars (1e-9 USD), so that INCRBY (64-bit) adds them exactly up to $9.2e9 a counter. A cost
// or a reservation is rounded up to the next nano-dollar and a limit down, so that Redis never counts less than was
// spent (at most a nano-dollar a call more: a thousandth of a dollar per million calls).
//
// Keys, under the prefix: `<scope>:<key, URI-encoded>:<period>` holds a window's spend (`d2026-12-01`, `m2026-12`,
// `run`), a rolling window has one key per bucket (`r3600000:<bucket>`), and `<...>:reserved` the reservations of
// the enforced calls in flight. Spend keys expire when their window ends (an hour later, for clocks that differ a
// little between processes); a reservation key `reservationTtl` after the latest reservation on it.
//
// Nothing waits on Redis for long: every command has a timeout, the client keeps no offline queue and retries no
// command (a command retried after a lost connection could be counted twice), and a command is not even sent while
// the client is not connected. Spend that could not be sent is kept here and added when Redis is back; a command
// that was sent but timed out may or may not have been applied, and is not sent again (never counted twice).

const nano = 1_000_000_000n
const toNanoUp = (atto: bigint): bigint => (atto + nano - 1n) / nano
const toNanoDown = (atto: bigint): bigint => atto / nano
const fromNano = (raw: unknown): bigint => {
  if (typeof raw === "string" && /^-?\d+$/.test(raw)) return BigInt(raw) * nano
  if (typeof raw === "number" && Number.isSafeInteger(raw)) return BigInt(raw) * nano
  return 0n
}

const hour = 3_600_000

// Lua numbers are doubles: the comparisons below are exact while sums stay under 2^53 nano-dollars ($9,007,199);
// the amounts themselves are added by INCRBY (64-bit integers) and the sums read back are added up exactly here.

/**
 * KEYS, per counter: its reservation key, then its spend keys. ARGV: the amount to reserve, the reservations' time to
 * live (ms), then per counter: its limit (-1: read only), what enforced effects around this one hold on it, and its
 * number of spend keys. Returns {admitted (1/0), index of the refusing counter (0: none), then per counter: the raw
 * reservation, the raw spend keys}.
 */
const reserveScript = `
local amount = tonumber(ARGV[1])
local k, a, counter = 1, 3, 0
local reply = {1, 0}
local reserved_keys = {}
while a <= #ARGV do
  counter = counter + 1
  local limit = tonumber(ARGV[a])
  local held = -tonumber(ARGV[a + 1])
  local n = tonumber(ARGV[a + 2])
  a = a + 3
  local reserved_key = KEYS[k]
  k = k + 1
  local raw = redis.call('GET', reserved_key)
  reply[#reply + 1] = raw
  held = held + (tonumber(raw) or 0)
  for j = 1, n do
    raw = redis.call('GET', KEYS[k])
    k = k + 1
    reply[#reply + 1] = raw
    held = held + (tonumber(raw) or 0)
  end
  if reply[1] == 1 and limit >= 0 then
    local over
    if amount > 0 then over = held + amount > limit else over = held >= limit end
    if over then
      reply[1] = 0
      reply[2] = counter
    end
  end
  reserved_keys[counter] = reserved_key
end
if reply[1] == 1 and amount > 0 then
  for _, key in ipairs(reserved_keys) do
    redis.call('INCRBY', key, ARGV[1])
    redis.call('PEXPIRE', key, ARGV[2])
  end
end
return reply
`

/**
 * KEYS, per counter: the key to add to, then the keys whose sum is the window's spend. ARGV: the amount, then per
 * counter: when the key expires (epoch ms) and its number of sum keys. Returns the raw sum keys, in order.
 */
const addScript = `
local k, a = 1, 2
local reply = {}
while a <= #ARGV do
  local n = tonumber(ARGV[a + 1])
  redis.call('INCRBY', KEYS[k], ARGV[1])
  redis.call('PEXPIREAT', KEYS[k], ARGV[a])
  k = k + 1
  a = a + 2
  for j = 1, n do
    reply[#reply + 1] = redis.call('GET', KEYS[k])
    k = k + 1
  end
end
return reply
`

/**
 * KEYS: keys; ARGV, per key: a delta and when the key expires (epoch ms; "0": as it is). A key at or below 0 is
 * deleted: a reservation given back after its key expired must not leave a debt behind. Returns the number of keys.
 */
const applyScript = `
for i, key in ipairs(KEYS) do
  local v = redis.call('INCRBY', key, ARGV[2 * i - 1])
  if v <= 0 then
    redis.call('DEL', key)
  elseif ARGV[2 * i] ~= '0' then
    redis.call('PEXPIREAT', key, ARGV[2 * i])
  end
end
return #KEYS
`

/** The part of ioredis the store uses (5.x and 6.x alike). */
interface RedisClient {
  readonly status: string
  on(event: string, listener: (...args: Array<any>) => void): unknown
  once(event: string, listener: (...args: Array<any>) => void): unknown
  off(event: string, listener: (...args: Array<any>) => void): unknown
  defineCommand(name: string, definition: { readonly lua: string }): void
  quit(): Promise<unknown>
  disconnect(): void
}

type RedisConstructor = new(url: string, options: Record<string, unknown>) => RedisClient

const optionKeys = [
  "url",
  "keyPrefix",
  "timeout",
  "onUnavailable",
  "warnInterval",
  "reservationTtl",
  "clientOptions"
] as const

interface Settings {
  readonly url: string
  /** `host:port`, never the credentials of the URL: for messages. */
  readonly where: string
  readonly prefix: string
  readonly timeoutMillis: number
  readonly onUnavailable: "open" | "closed"
  readonly warnIntervalMillis: number
  readonly reservationTtlMillis: number
  readonly clientOptions: Readonly<Record<string, unknown>>
}

const settingsOf = (options: Api.RedisStoreOptions): Settings => {
  if (typeof options !== "object" || options === null) {
    return invalid(`redisStore: ${describe(options)} is not options`)
  }
  const given: Record<string, unknown> = {}
  for (const key of optionKeys) {
    try {
      given[key] = (options as unknown as Record<string, unknown>)[key]
    } catch {
      return invalid(`redisStore: options.${key} could not be read`)
    }
  }
  const url = given.url
  if (typeof url !== "string") return invalid(`redisStore: url: ${describe(url)} is not a redis:// URL`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return invalid("redisStore: url is not a URL (redis://host:port)")
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return invalid(`redisStore: url: the scheme ${JSON.stringify(parsed.protocol)} is not redis: or rediss:`)
  }
  const prefix = given.keyPrefix ?? "botanu:budget:"
  if (typeof prefix !== "string") return invalid(`redisStore: keyPrefix: ${describe(prefix)} is not a string`)
  const onUnavailable = given.onUnavailable ?? "open"
  if (onUnavailable !== "open" && onUnavailable !== "closed") {
    return invalid(`redisStore: onUnavailable: ${describe(onUnavailable)} is not "open" or "closed"`)
  }
  const clientOptions = given.clientOptions ?? {}
  if (typeof clientOptions !== "object" || clientOptions === null) {
    return invalid(`redisStore: clientOptions: ${describe(clientOptions)} is not a record`)
  }
  const duration = (key: string, fallback: number) =>
    given[key] === undefined ? fallback : decodeDuration(given[key], `redisStore: ${key}`)
  return {
    url,
    where: `${parsed.hostname}:${parsed.port === "" ? "6379" : parsed.port}`,
    prefix,
    timeoutMillis: duration("timeout", 500),
    onUnavailable,
    warnIntervalMillis: duration("warnInterval", 60_000),
    reservationTtlMillis: duration("reservationTtl", 600_000),
    clientOptions: clientOptions as Record<string, unknown>
  }
}

const loadClient = Effect.tryPromise({
  try: async (): Promise<RedisConstructor> => {
    const module = (await import("ioredis")) as unknown as Record<string, any>
    const candidate = module.Redis ?? module.default?.Redis ?? module.default
    if (typeof candidate !== "function") throw new Error("the ioredis module has no Redis class")
    return candidate as RedisConstructor
  },
  catch: (error) =>
    new Error(
      `Budget.redisStore needs the ioredis package, an optional peer dependency of @botanu/effect ` +
        `(npm install ioredis): ${errorMessage(error)}`
    )
}).pipe(Effect.orDie)

interface Pending {
  delta: bigint
  /** Epoch ms; 0: the key's expiry is left as it is. */
  expireAt: number
}

const make = (settings: Settings): Effect.Effect<BudgetStore, never, Scope.Scope> =>
  Effect.gen(function*() {
    const Redis = yield* loadClient
    const connectMillis = Math.max(settings.timeoutMillis, 2_000)
    const client = new Redis(settings.url, {
      ...settings.clientOptions,
      // What keeps every call bounded and every amount counted at most once (see the top of this file).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.timeoutMillis,
      connectTimeout: connectMillis,
      lazyConnect: false,
      retryStrategy: (times: number) => Math.min(times * 100, 1_000)
    })
    let lastError: string | undefined
    // Without a listener, ioredis prints every connection error itself; the store reports them, once per interval.
    client.on("error", (error: unknown) => {
      lastError = cut(errorMessage(error), 200)
    })
    const scripts = { reserve: "botanuBudgetReserve", add: "botanuBudgetAdd", apply: "botanuBudgetApply" }
    client.defineCommand(scripts.reserve, { lua: reserveScript })
    client.defineCommand(scripts.add, { lua: addScript })
    client.defineCommand(scripts.apply, { lua: applyScript })

    // The first calls should not find the store unreachable only because the connection is not up yet.
    yield* Effect.async<void>((resume) => {
      if (client.status === "ready") return resume(Effect.void)
      const ready = () => resume(Effect.void)
      client.once("ready", ready)
      return Effect.sync(() => client.off("ready", ready))
    }).pipe(Effect.timeout(connectMillis), Effect.ignore)

    // --- failures, reported once per interval --------------------------------------------------------------------

    const health = { down: false, failures: 0, lastWarned: undefined as number | undefined, lost: 0, dropped: 0 }
    const consequence = settings.onUnavailable === "open"
      ? "enforced calls go on unchecked (the store fails open)"
      : "enforced calls are refused with BudgetUnavailable (the store fails closed)"
    const failed = (failure: StoreUnavailable): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        health.down = true
        health.failures++
        if (health.lastWarned !== undefined && now - health.lastWarned < settings.warnIntervalMillis) return Effect.void
        health.lastWarned = now
        const count = health.failures
        health.failures = 0
        const lost = health.lost + health.dropped
        const sent = failure.sent
          ? " (a command sent without an answer may have been applied: it is not sent again)"
          : ""
        const since = count > 1 ? ` (${count} failures since the last warning)` : ""
        const missing = lost > 0
          ? `; ${lost} amounts may be missing (sent without an answer, or past the memory bound)`
          : ""
        return Effect.logWarning(
          `botanu: Budget.redisStore: ${failure.message}${sent}${since}; ${consequence}; spend that cannot be sent ` +
            `is kept in memory and added when Redis is back${missing}`
        )
      })
    const recovered = Effect.suspend(() => {
      if (!health.down) return Effect.void
      health.down = false
      health.failures = 0
      health.lastWarned = undefined
      return Effect.logWarning(`botanu: Budget.redisStore: Redis at ${settings.where} answers again`)
    })

    const unavailable = (message: string, sent: boolean, cause?: unknown) =>
      new StoreUnavailable({ message: `Redis at ${settings.where} ${message}`, cause, sent })

    /** One script call, bounded; not sent at all while the client is not connected. */
    const call = <A>(
      script: string,
      keys: ReadonlyArray<string>,
      args: ReadonlyArray<string | number>
    ): Effect.Effect<A, StoreUnavailable> =>
      Effect.suspend(() => {
        if (client.status !== "ready") {
          const why = lastError === undefined ? client.status : `${client.status}: ${lastError}`
          return Effect.fail(unavailable(`is not connected (${why})`, false))
        }
        const invoke = (client as unknown as Record<string, (...args: Array<unknown>) => Promise<A>>)[script]
        return Effect.tryPromise({
          try: () => invoke.call(client, keys.length, ...keys, ...args),
          catch: (error) => unavailable(`failed: ${cut(errorMessage(error), 200)}`, true, error)
        }).pipe(
          Effect.timeoutFail({
            duration: settings.timeoutMillis,
            onTimeout: () => unavailable(`did not answer within ${settings.timeoutMillis} ms`, true)
          })
        )
      }).pipe(Effect.tapBoth({ onFailure: failed, onSuccess: () => recovered }))

    // --- keys ------------------------------------------------------------------------------------------------------

    const base = (counter: Counter) =>
      `${settings.prefix}${counter.scope}:${encodeURIComponent(counter.key)}:${counter.period.id}`
    const reservedKey = (counter: Counter) => `${base(counter)}:reserved`
    const rolling = (counter: Counter) => counter.plan.window.kind === "rolling"
    /** The keys whose sum is the counter's spend now. */
    const spendKeys = (counter: Counter): Array<string> => {
      if (!rolling(counter)) return [base(counter)]
      const prefix = `${base(counter)}:`
      const keys: Array<string> = []
      for (let b = counter.period.bucket - rollingBuckets + 1; b <= counter.period.bucket; b++) keys.push(prefix + b)
      return keys
    }
    const writeKey = (counter: Counter) =>
      rolling(counter) ? `${base(counter)}:${counter.period.bucket}` : base(counter)
    const expireAt = (counter: Counter) =>
      counter.period.expiresAt + (rolling(counter) ? Math.min(hour, counter.plan.window.millis) : hour)

    // --- what this process last saw, and what it could not send ----------------------------------------------------

    const seen = new Map<string, bigint>()
    const see = (counter: Counter, spent: bigint) => {
      if (seen.size >= maxBudgetPending && !seen.has(counter.id)) seen.clear()
      seen.set(counter.id, spent)
    }
    const pending = new Map<string, Pending>()
    const keep = (key: string, delta: bigint, at: number) => {
      const entry = pending.get(key)
      if (entry !== undefined) {
        entry.delta += delta
        entry.expireAt = Math.max(entry.expireAt, at)
      } else if (pending.size < maxBudgetPending) {
        pending.set(key, { delta, expireAt: at })
      } else {
        health.dropped++
      }
    }
    /** Sends what was kept, first, when there is any and the client is connected again. */
    const flush: Effect.Effect<void> = Effect.suspend(() => {
      if (pending.size === 0 || client.status !== "ready") return Effect.void
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const keys: Array<string> = []
        const args: Array<string | number> = []
        for (const [key, entry] of pending) {
          pending.delete(key)
          // A window that ended meanwhile is not brought back to life.
          if (entry.expireAt !== 0 && entry.expireAt <= now) continue
          keys.push(key)
          args.push(entry.delta.toString(), entry.expireAt)
          if (keys.length >= 1_000) break
        }
        if (keys.length === 0) return Effect.void
        return call<number>(scripts.apply, keys, args).pipe(
          Effect.catchAll((failure) => {
            if (!failure.sent) {
              for (let i = 0; i < keys.length; i++) keep(keys[i], BigInt(args[2 * i]), Number(args[2 * i + 1]))
            } else health.lost += keys.length
            return Effect.void
          })
        )
      })
    })

    const states = (counters: ReadonlyArray<Counter>, raw: ReadonlyArray<unknown>, from: number) => {
      const out: Array<CounterState> = []
      let at = from
      for (const counter of counters) {
        const reserved = fromNano(raw[at++])
        let spent = 0n
        for (let j = 0; j < spendKeys(counter).length; j++) spent += fromNano(raw[at++])
        see(counter, spent)
        out.push({ spent, reserved: reserved > 0n ? reserved : 0n })
      }
      return out
    }

    const reserveArgs = (
      counters: ReadonlyArray<Counter>,
      limits: ReadonlyArray<bigint> | undefined,
      discounts: ReadonlyArray<bigint> | undefined,
      amount: bigint
    ) => {
      const keys: Array<string> = []
      const args: Array<string | number> = [toNanoUp(amount).toString(), settings.reservationTtlMillis]
      counters.forEach((counter, i) => {
        const spend = spendKeys(counter)
        keys.push(reservedKey(counter), ...spend)
        args.push(
          limits === undefined ? "-1" : toNanoDown(limits[i]).toString(),
          discounts === undefined ? "0" : toNanoUp(discounts[i]).toString(),
          spend.length
        )
      })
      return { keys, args }
    }

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* flush
        if (client.status === "ready") {
          yield* Effect.tryPromise(() => client.quit()).pipe(Effect.timeout(settings.timeoutMillis), Effect.ignore)
        }
        client.disconnect()
      })
    )

    const store: BudgetStore = {
      name: `Redis at ${settings.where}`,
      onUnavailable: settings.onUnavailable,
      reserve: (counters, limits, discounts, amount) => {
        const { args, keys } = reserveArgs(counters, limits, discounts, amount)
        return Effect.zipRight(
          flush,
          Effect.map(call<Array<unknown>>(scripts.reserve, keys, args), (reply): ReserveResult => {
            const read = states(counters, reply, 2)
            return reply[0] === 1
              ? { _tag: "Reserved", states: read }
              : { _tag: "Refused", index: Number(reply[1]) - 1, state: read[Number(reply[1]) - 1] }
          })
        )
      },
      reserveNow: undefined,
      release: (counters, amount) =>
        Effect.suspend(() => {
          const units = toNanoUp(amount)
          const keys = counters.map(reservedKey)
          return call<number>(scripts.apply, keys, keys.flatMap(() => [(-units).toString(), 0])).pipe(
            Effect.catchAll((failure) => {
              // Kept for later unless it may have been applied; else its key expires after `reservationTtl`.
              if (!failure.sent) { for (const key of keys) keep(key, -units, 0) }
              return Effect.void
            })
          )
        }),
      read: (counters) => {
        const { args, keys } = reserveArgs(counters, undefined, undefined, 0n)
        return Effect.zipRight(
          flush,
          Effect.map(call<Array<unknown>>(scripts.reserve, keys, args), (reply) => states(counters, reply, 2))
        )
      },
      addNow: undefined,
      addLater: (counters, amount) =>
        Effect.suspend(() => {
          const units = toNanoUp(amount)
          const keys: Array<string> = []
          const args: Array<string | number> = [units.toString()]
          for (const counter of counters) {
            const spend = spendKeys(counter)
            keys.push(writeKey(counter), ...spend)
            args.push(expireAt(counter), spend.length)
            const last = seen.get(counter.id)
            if (last !== undefined) see(counter, last + units * nano)
          }
          return Effect.zipRight(
            flush,
            call<Array<unknown>>(scripts.add, keys, args).pipe(
              Effect.map((reply) => {
                let at = 0
                return counters.map((counter) => {
                  let spent = 0n
                  for (let j = 0; j < spendKeys(counter).length; j++) spent += fromNano(reply[at++])
                  see(counter, spent)
                  return spent
                })
              }),
              Effect.catchAll((failure): Effect.Effect<undefined> => {
                if (failure.sent) {
                  health.lost++
                } else {
                  for (const counter of counters) keep(writeKey(counter), units, expireAt(counter))
                }
                return Effect.succeed(undefined)
              })
            )
          )
        }),
      lastSeen: (counter) => seen.get(counter.id)
    }
    return store
  })

/** @internal */
export const redisStore = (options: Api.RedisStoreOptions): Api.Store => {
  const settings = settingsOf(options)
  return storeFactory("redis", make(settings))
}
