import { writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, runCommand, tempDir } from '../src/test-helpers/index.ts'

// The repository's own biome.json, so this checks the plugin as `npm test` (biome check .) runs it.
const BIOME = join(ROOT, 'node_modules/.bin/biome')
const dir = tempDir('mlvc-lint')

interface Diagnostic {
  category: string
  location: { path: string; start: { line: number } }
}

/** Lints the files (name → source) in one run; the lines the spread plugin reports, per file. */
async function flagged(files: Record<string, string>): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {}
  for (const [name, source] of Object.entries(files)) {
    writeFileSync(join(dir, name), source)
    out[name] = []
  }
  const paths = Object.keys(files).map((name) => join(dir, name))
  const args = ['lint', `--config-path=${ROOT}`, '--reporter=json', ...paths]
  const result = await runCommand(BIOME, args)
  const report = JSON.parse(result.stdout) as { diagnostics: Diagnostic[] }
  for (const d of report.diagnostics) {
    if (d.category === 'plugin') out[basename(d.location.path)]?.push(d.location.start.line)
  }
  return out
}

const VIOLATIONS = `declare const xs: number[]
declare function f<T>(...a: T[]): T
declare const o: { g?: (...a: number[]) => void }
const out: number[] = []
out.push(...xs)
Math.max(...xs)
f<number>(1, ...xs)
o.g?.(...xs)
new Set(...[xs])
String.fromCharCode.apply(null, xs)
Reflect.apply(f, undefined, xs)
f(
  0,
  ...xs,
)
export class A extends Array<number> {
  constructor(...args: number[]) {
    super(...args)
  }
}
`

const ALLOWED = `declare const xs: number[]
declare const patcher: { apply(out: number[], n: number): boolean }
// out.push(...xs) in a comment
export const text = 'Math.max(...xs) in a string'
export const both = [...xs, ...xs]
export const copy = { ...{ a: 1 } }
export function rest(...args: number[]): number[] {
  return args
}
export const ok = patcher.apply(both, 0)
`

describe('lint: no array spread into call arguments', () => {
  it('reports spreads and apply() into calls; allows literals, rest parameters, strings, tests', async () => {
    const lines = await flagged({
      'violations.ts': VIOLATIONS,
      'allowed.ts': ALLOWED,
      // Tests run on fixed data, and fast-check has no array form of constantFrom.
      'violations.test.ts': VIOLATIONS,
    })
    expect(lines).toEqual({
      'violations.ts': [5, 6, 7, 8, 9, 10, 11, 14, 18],
      'allowed.ts': [],
      'violations.test.ts': [],
    })
  }, 60_000)
})
