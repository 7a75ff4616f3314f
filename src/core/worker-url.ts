/**
 * The URL of a worker script that sits beside `moduleUrl`. Workers always run compiled JavaScript:
 * when the caller runs from TypeScript sources (tests), the worker comes from the build in `dist/`,
 * which `npm test` produces before running the tests.
 */
export function workerUrl(moduleUrl: string, name: string): URL {
  if (moduleUrl.endsWith('.ts')) {
    const inDist = moduleUrl.replace(/\/src\/([^/]+)\/[^/]+\.ts$/, '/dist/src/$1/')
    return new URL(`${name}.js`, inDist)
  }
  return new URL(`./${name}.js`, moduleUrl)
}
