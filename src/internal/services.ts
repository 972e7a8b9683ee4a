import type * as Context from "effect/Context"

/**
 * A service the context may hold, or `undefined`: the one way the library reads an optional service. Synchronous,
 * for the code that runs when a tracked call starts or ends (a constructor, an exit handler), where
 * `Effect.serviceOption` would cost an Effect operation and an `Option` per call; the tag's own type is the result's,
 * so no caller casts.
 *
 * @internal
 */
export const serviceOption = <I, S>(context: Context.Context<never>, tag: Context.Tag<I, S>): S | undefined =>
  context.unsafeMap.get(tag.key) as S | undefined
