import * as Cause from "effect/Cause"
import * as Option from "effect/Option"
import { ErrorTypeOther } from "../Attributes.js"
import { cut, maxNameChars, maxTextChars, maxValueChars } from "./limits.js"

/**
 * `error.type` of a failure: its `_tag` when it has one, else its class name when it is an `Error`, else `_OTHER`.
 *
 * @internal
 */
export const errorType = (error: unknown): string => {
  try {
    if (typeof error === "object" && error !== null) {
      const tag = (error as { readonly _tag?: unknown })._tag
      if (typeof tag === "string" && tag.trim().length > 0) return cut(tag, maxNameChars)
      if (error instanceof Error) {
        const name = error.constructor?.name
        const type = typeof name === "string" && name.trim().length > 0 ? name : String(error.name || "Error")
        return type.trim().length > 0 ? cut(type, maxNameChars) : "Error"
      }
    }
  } catch {
    // a hostile getter: the call's own outcome matters more than a precise type
  }
  return ErrorTypeOther
}

const bounded = (text: string): string => cut(text, maxValueChars)

/**
 * Error text is cut twice: here to a few times its bound, so that redacting it costs a bounded time, and to its bound
 * once redacted, so that no credential is cut in half before the redactor could see it whole.
 */
const preRedaction = 4 * maxTextChars

const nameOf = (value: object): string | undefined => {
  const tag = (value as { readonly _tag?: unknown })._tag
  if (typeof tag === "string" && tag.length > 0) return tag
  if (Array.isArray(value)) return "an array"
  const name = (value as { readonly constructor?: { readonly name?: unknown } }).constructor?.name
  return typeof name === "string" && name.length > 0 && name !== "Object" ? name : undefined
}

/**
 * A value that is not an `Error`, described rather than dumped: its `_tag` or class name and its `message` when it
 * has a string one (`RateLimited: slow down`, `an object`), never the rest of it (headers, a prompt), at most
 * `maxValueChars` characters (see `limits.ts`). Strings are their own message; numbers, booleans and bigints are shown.
 *
 * @internal
 */
export const describeValue = (value: unknown): string => {
  try {
    switch (typeof value) {
      case "string":
        return bounded(value)
      case "number":
      case "boolean":
      case "bigint":
        return String(value)
      case "undefined":
        return "undefined"
      case "object": {
        if (value === null) return "null"
        const message = (value as { readonly message?: unknown }).message
        const name = nameOf(value)
        if (typeof message === "string" && message.length > 0) return bounded(`${name ?? "an object"}: ${message}`)
        return bounded(name ?? "an object")
      }
      default:
        return `a ${typeof value}`
    }
  } catch {
    return "<unprintable error>"
  }
}

/**
 * The text recorded for an error (`error.message`, `exception.message`): an `Error`'s message (else its name), any
 * other value described by `describeValue`. Not yet redacted (the span recorder does that, then cuts it to `maxTextChars`).
 *
 * @internal
 */
export const errorMessage = (error: unknown): string => {
  try {
    if (error instanceof Error) {
      const message = error.message
      if (typeof message === "string" && message.length > 0) return cut(message, preRedaction)
      return errorType(error)
    }
  } catch {
    return "<unprintable error>"
  }
  return describeValue(error)
}

/** @internal */
export const errorStack = (error: unknown): string | undefined => {
  try {
    if (typeof error === "object" && error !== null) {
      const stack = (error as { readonly stack?: unknown }).stack
      if (typeof stack === "string") return cut(stack, preRedaction)
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
