import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The layer rule of docs/architecture.md, enforced: a module imports from a layer below it (never
 * from one above or beside it), and only through that layer's `index.ts`. Inside a layer, files
 * import each other freely. Test files may also import any layer's `test-helpers/` folder and the
 * service launchers outside src/; source files never import either. A folder inside a layer that
 * has its own `index.ts` (experiments/sync/) is a module of that layer: the rest of the layer
 * imports it only through that index too.
 */
const LAYERS = [
  'core',
  'store',
  'formats',
  'tensors',
  'checkpoint',
  'remote',
  'git',
  'entities',
  'experiments',
  'deploy',
  'hub',
  'cli',
  // The web app's browser tests (the app itself is JavaScript the hub serves, outside this rule).
  'web',
] as const

const SRC = dirname(fileURLToPath(import.meta.url))

interface Violation {
  file: string
  specifier: string
  why: string
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g

function layerOf(path: string): string | undefined {
  const first = path.split('/')[0]
  return first !== undefined && path.includes('/') ? first : undefined
}

/** The folder below a layer with its own index.ts (not test-helpers/) that holds `path`, if any. */
function moduleOf(path: string): string | undefined {
  const parts = path.split('/')
  for (let i = 2; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/')
    if (existsSync(join(SRC, dir, 'index.ts'))) return dir
  }
  return undefined
}

/** Checks one file's relative imports; `file` and the result's paths are relative to src/. */
function checkImports(file: string, source: string): Violation[] {
  const out: Violation[] = []
  const isTest = /\.test\.ts$/.test(file) || file.split('/').includes('test-helpers')
  const from = layerOf(file)
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[2] ?? ''
    const target = relative(SRC, resolve(SRC, dirname(file), specifier))
      .split(sep)
      .join('/')
    const to = layerOf(target)
    const fail = (why: string) => out.push({ file, specifier, why })
    if (target.startsWith('..')) {
      // Tests may use the services/ launchers and bench/ helpers; the product may not.
      if (!isTest) fail('imports from outside src/')
      continue
    }
    const helper = target.split('/').includes('test-helpers')
    if (helper) {
      if (!isTest) fail('a source file imports test helpers')
      continue
    }
    if (to === undefined) continue
    if (to === from) {
      const inner = moduleOf(target)
      if (inner && !file.startsWith(`${inner}/`) && target !== `${inner}/index.ts`)
        fail(`reaches into ${inner}/ instead of importing ${inner}/index.ts`)
      continue
    }
    if (from === undefined) continue // src/index.ts: the public surface re-exports every layer
    const rankFrom = LAYERS.indexOf(from as (typeof LAYERS)[number])
    const rankTo = LAYERS.indexOf(to as (typeof LAYERS)[number])
    if (rankFrom < 0) fail(`${from}/ is not a layer of LAYERS`)
    else if (rankTo < 0) fail(`${to}/ is not a layer of LAYERS`)
    else if (rankTo > rankFrom)
      fail(`${from} (layer ${rankFrom}) imports ${to} (layer ${rankTo}), a layer above it`)
    else if (target !== `${to}/index.ts`)
      fail(`reaches into ${to}/ instead of importing ${to}/index.ts`)
  }
  return out
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures') out.push(...sourceFiles(path))
    } else if (entry.name.endsWith('.ts') && path !== fileURLToPath(import.meta.url)) {
      out.push(path)
    }
  }
  return out
}

describe('layer rule', () => {
  it('holds for every file in src/', () => {
    const violations = sourceFiles(SRC).flatMap((path) =>
      checkImports(relative(SRC, path).split(sep).join('/'), readFileSync(path, 'utf8')),
    )
    expect(violations).toEqual([])
  })

  it('catches an import from a layer above, a reach into a layer, and test helpers in source', () => {
    const bad = [
      "import { x } from '../cli/main.ts'",
      "import { y } from '../core/errors.ts'",
      "const z = await import('../test-helpers/index.ts')",
      "export { w } from '../remote/index.ts'",
    ].join('\n')
    const found = checkImports('store/thing.ts', bad)
    expect(found.map((v) => v.specifier)).toEqual([
      '../cli/main.ts',
      '../core/errors.ts',
      '../test-helpers/index.ts',
      '../remote/index.ts',
    ])
    expect(found[0]?.why).toMatch(/a layer above/)
    expect(found[1]?.why).toMatch(/instead of importing core\/index\.ts/)
    expect(found[2]?.why).toMatch(/test helpers/)
    expect(checkImports('experiments/rm.ts', "import { x } from './sync/plan.ts'")).toEqual([
      {
        file: 'experiments/rm.ts',
        specifier: './sync/plan.ts',
        why: 'reaches into experiments/sync/ instead of importing experiments/sync/index.ts',
      },
    ])
  })

  it('allows imports inside a layer, down through index.ts, and test helpers in tests', () => {
    const good = [
      "import { a } from './pack.ts'",
      "import { b } from '../core/index.ts'",
      "import { d } from '../test-helpers/index.ts'",
    ].join('\n')
    expect(checkImports('git/filter.test.ts', good)).toEqual([])
    expect(checkImports('cli/commands/x.ts', "import { c } from '../../store/index.ts'")).toEqual(
      [],
    )
    const sync = ["import { a } from './state.ts'", "import { b } from '../repo.ts'"].join('\n')
    expect(checkImports('experiments/sync/plan.ts', sync)).toEqual([])
    expect(checkImports('experiments/rm.ts', "import { c } from './sync/index.ts'")).toEqual([])
  })
})
