import * as Cause from "effect/Cause"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import { ErrorTypeOther } from "../Attributes.js"

/**
 * `error.type` of a failure: its `_tag` when it has one, else its class name when it is an `Error`, else `_OTHER`.
 *
 * @internal
 */
export const errorType = (error: unknown): string => {
  try {
    if (typeof error === "object" && error !== null) {
      const tag = (error as { readonly _tag?: unknown })._tag
      if (typeof tag === "string" && tag.length > 0) return tag
      if (error instanceof Error) {
        const name = error.constructor?.name
        return typeof name === "string" && name.length > 0 ? name : error.name || "Error"
      }
    }
  } catch {
    // a hostile getter: the call's own outcome matters more than a precise type
  }
  return ErrorTypeOther
}

/** @internal */
export const errorMessage = (error: unknown): string => {
  try {
    if (typeof error === "string") return error
    if (typeof error === "object" && error !== null) {
      const message = (error as { readonly message?: unknown }).message
      if (typeof message === "string" && message.length > 0) return message
    }
    return Inspectable.toStringUnknown(error)
  } catch {
    return "<unprintable error>"
  }
}

/** @internal */
export const errorStack = (error: unknown): string | undefined => {
  try {
    if (typeof error === "object" && error !== null) {
      const stack = (error as { readonly stack?: unknown }).stack
      if (typeof stack === "string") return stack
    }
  } catch {
    // ignored for the same reason as in errorType
  }
  return undefined
}

/**
 * The error that decides a failed call's `error.type`: the first typed failure, else the first defect.
 *
 * @internal
 */
export const causeError = (cause: Cause.Cause<unknown>): unknown =>
  Option.getOrUndefined(Option.orElse(Cause.failureOption(cause), () => Cause.dieOption(cause)))
