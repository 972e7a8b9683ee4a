/**
 * The library's name and version, as its instrumentation scope carries them. Embedded rather than read from
 * package.json at run time, so that a bundled app (esbuild, webpack) finds it too; test/Export.test.ts checks that
 * it equals package.json's, and `npm version` rewrites it (the `version` script, scripts/version-update.mjs).
 *
 * @internal
 */
export const name = "@botanu/effect"

/** @internal */
export const version = "0.1.0"
