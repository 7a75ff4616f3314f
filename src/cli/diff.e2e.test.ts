import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { diffFigures } from '../checkpoint/test-helpers/index.ts'
import { buildSafetensors } from '../formats/test-helpers/builders.ts'
import { gitSandbox } from '../test-helpers/git.ts'
import { pseudoRandomBytes, ROOT, tempDir } from '../test-helpers/index.ts'

const root = tempDir('mlvc-diff-e2e')
const ada = gitSandbox(root, 'ada')
/** A user without mlvc installed: a clone keeps the stubs, as on a machine without the data. */
const bob = gitSandbox(root, 'bob')
let n = 0

// ---- checkpoints and the figures expected of them, computed here the plain way -------------------

function f32(count: number, seed: number): Float32Array {
  const raw = pseudoRandomBytes(count * 4, seed)
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) out[i] = (raw.readUInt32LE(i * 4) / 2 ** 32 - 0.5) * 0.1
  return out
}

type Model = Record<string, { data: Float32Array; shape: number[] }>

function writeModel(path: string, model: Model): void {
  const tensors = Object.entries(model).map(([name, t]) => ({
    name,
    dtype: 'F32',
    shape: t.shape,
    data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  }))
  writeFileSync(path, buildSafetensors(tensors, { format: 'pt' }))
}

/** Fixed significant digits with a two-digit exponent: 1.234e-03. */
function fmt(x: number): string {
  const [mantissa, exponent = '0'] = x.toExponential(3).split('e')
  const e = Number(exponent)
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
}

type Figures = ReturnType<typeof diffFigures>

/** The row the report prints for a changed tensor. */
function row(name: string, shape: string, f: Figures): RegExp {
  const pct = `${((f.changed / f.count) * 100).toFixed(2)}%`
  const counts = `(${f.changed.toLocaleString('en-US')}/${f.count.toLocaleString('en-US')})`
  const cells = [
    name,
    'F32',
    shape,
    `${pct} ${counts}`,
    fmt(f.l2Delta),
    fmt(f.relChange),
    fmt(f.maxAbsDelta),
    fmt(f.cosine),
  ]
  const escaped = cells.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  // How the new bytes are stored follows a delta's status: `changed (sparse delta)`.
  return new RegExp(`^ {2}changed(?: \\([a-z ,0-9-]+\\))? +${escaped.join(' +')}$`, 'm')
}

function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected) + 1e-15)
}

// ---- repositories ----------------------------------------------------------------------------------

async function newRepo(): Promise<string> {
  const dir = join(root, `repo-${n++}`)
  mkdirSync(dir)
  await ada.git(dir, 'init', '-q')
  expect((await ada.mlvc(dir, 'track', '*.safetensors', '*.bin')).code).toBe(0)
  await ada.git(dir, 'add', '.gitattributes')
  await ada.git(dir, 'commit', '-qm', 'track')
  return dir
}

async function mlvcJson(dir: string, ...args: string[]) {
  const result = await ada.mlvc(dir, '--json', ...args)
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout)
}

function packBytes(dir: string): number {
  const packs = join(dir, '.git/mlvc/packs')
  return readdirSync(packs)
    .filter((f) => f.endsWith('.pack'))
    .reduce((sum, f) => sum + statSync(join(packs, f)).size, 0)
}

beforeAll(async () => {
  const install = await ada.mlvc(root, 'install')
  expect(install.code, install.stderr).toBe(0)
})

// v1 → v2, a fine-tune: `a` nudged in 1% of its elements, `c` retrained, `b` and `d` untouched.
const a1 = f32(256 * 256, 1)
const a2 = Float32Array.from(a1)
for (let i = 0; i < a2.length; i += 100) a2[i] = (a2[i] as number) + 0.01
const c1 = f32(64 * 64, 3)
const c2 = f32(64 * 64, 30)
const v1: Model = {
  a: { data: a1, shape: [256, 256] },
  b: { data: f32(256, 2), shape: [256] },
  c: { data: c1, shape: [64, 64] },
  d: { data: f32(100, 4), shape: [100] },
}
const v2: Model = { ...v1, a: { data: a2, shape: [256, 256] }, c: { data: c2, shape: [64, 64] } }
const fa = diffFigures(a1, a2)
const fc = diffFigures(c1, c2)

describe('a fine-tune that changes a few tensors', () => {
  let dir: string
  let storeBefore: number
  beforeAll(async () => {
    dir = await newRepo()
    writeModel(join(dir, 'model.safetensors'), v1)
    await ada.git(dir, 'add', 'model.safetensors')
    await ada.git(dir, 'commit', '-qm', 'v1')
    storeBefore = packBytes(dir)
    writeModel(join(dir, 'model.safetensors'), v2)
  })

  test('mlvc diff and git diff (the driver) give the exact figures of the changed tensors', async () => {
    // Before git diff: the new version is not stored yet (git diff cleans it, which stores it).
    const notStored = await mlvcJson(dir, 'diff')
    expect(notStored.files[0].storedBytes).toBeNull()
    expect((await ada.mlvc(dir, 'diff')).stdout).toMatch(/not stored yet: git add\)$/m)
    const gitDiff = await ada.git(dir, 'diff')
    expect(gitDiff).toMatch(/^mlvc diff a\/model\.safetensors b\/model\.safetensors$/m)
    expect(gitDiff).toMatch(row('a', '[256,256]', fa))
    expect(gitDiff).toMatch(row('c', '[64,64]', fc))
    expect(gitDiff).not.toMatch(/^ {2}\S+ +[bd] /m)
    const changed = fa.changed + fc.changed
    expect(gitDiff).toContain(
      `2 of 4 tensors changed (0 added, 0 removed, 2 unchanged); ${changed.toLocaleString('en-US')} of 69,988 parameters changed`,
    )
    const text = (await ada.mlvc(dir, 'diff')).stdout
    expect(text).toMatch(row('a', '[256,256]', fa))
    const json = await mlvcJson(dir, 'diff')
    expect(json.files).toHaveLength(1)
    const [file] = json.files
    expect(file).toMatchObject({
      path: 'model.safetensors',
      kind: 'checkpoint',
      status: 'modified',
    })
    const a = file.tensors.find((t: { name: string }) => t.name === 'a')
    expect(a).toMatchObject({ status: 'changed', basis: 'data' })
    expect(a.exact.changed).toBe(fa.changed)
    for (const key of ['l2Delta', 'relChange', 'maxAbsDelta', 'cosine'] as const)
      expectClose(a.exact[key], fa[key])
    expect(file.tensors.find((t: { name: string }) => t.name === 'b').status).toBe('unchanged')
    expect(file.summary).toMatchObject({ changed: 2, unchanged: 2, parametersChanged: changed })
  })

  test('after the commit: git log -p shows the stubs, --ext-diff and mlvc diff the figures and the cost', async () => {
    await ada.git(dir, 'commit', '-qam', 'v2')
    const growth = packBytes(dir) - storeBefore
    const log = await ada.git(dir, 'log', '-p', '-1')
    expect(log).toMatch(/^-tensor: a F32 \[256,256\] bagaaiera\w+ mean=\S+ std=\S+/m)
    expect(log).toMatch(/^\+tensor: c F32 \[64,64\] bagaaiera\w+ mean=/m)
    expect(log).toMatch(/^ tensor: b F32 \[256\] /m)
    for (const args of [
      ['log', '-p', '--ext-diff', '-1'],
      ['show', '--ext-diff', 'HEAD'],
    ]) {
      const out = await ada.git(dir, ...args)
      expect(out).toMatch(row('a', '[256,256]', fa))
      expect(out).toMatch(row('c', '[64,64]', fc))
    }
    const json = await mlvcJson(dir, 'diff', 'HEAD~1', 'HEAD')
    const [file] = json.files
    expect(file.tensors.find((t: { name: string }) => t.name === 'c').exact.changed).toBe(
      fc.changed,
    )
    // c was stored whole (16 KiB of new data), a as a small delta; b and d cost nothing.
    expect(file.storedBytes).toBeGreaterThan(64 * 64 * 4)
    expect(file.storedBytes).toBeLessThanOrEqual(growth)
    expect(file.storedBytes).toBeLessThan(64 * 64 * 4 + 256 * 256 * 4)
    const text = (await ada.mlvc(dir, 'diff', 'HEAD~1..HEAD')).stdout
    expect(text).toMatch(/added to the store$/m)
  })

  test('--no-data in a clone without the data: content ids and bounds that hold', async () => {
    const clone = join(root, `clone-${n++}`)
    await bob.git(root, 'clone', '-q', dir, clone)
    const result = await bob.mlvc(clone, '--json', 'diff', '--no-data', 'HEAD~1', 'HEAD')
    expect(result.code, result.stderr).toBe(0)
    // Answered from the stubs: nothing was fetched into a store (the speed is bench ckpt-diff's).
    expect(existsSync(join(clone, '.git/mlvc'))).toBe(false)
    const [file] = JSON.parse(result.stdout).files
    const byName = new Map(file.tensors.map((t: { name: string }) => [t.name, t]))
    expect(byName.get('b')).toMatchObject({ status: 'unchanged', basis: 'content' })
    for (const [name, want] of [
      ['a', fa],
      ['c', fc],
    ] as const) {
      const t = byName.get(name) as { status: string; basis: string; bounds: never; exact?: never }
      expect(t).toMatchObject({ status: 'changed', basis: 'content' })
      expect(t.exact).toBeUndefined()
      for (const key of ['l2Delta', 'relChange', 'maxAbsDelta', 'cosine'] as const) {
        const { min, max } = (t.bounds as Record<string, { min: number; max: number }>)[key] ?? {}
        expect(min).toBeLessThanOrEqual(want[key])
        expect(max).toBeGreaterThanOrEqual(want[key])
      }
    }
    expect(file.summary).toMatchObject({ parametersExact: false, changed: 2 })
    expect(file.storedBytes).toBeNull()
    expect(file.storedBytesEstimate).toBe((256 * 256 + 64 * 64) * 4)
    const text = (await bob.mlvc(clone, 'diff', '--no-data', 'HEAD~1', 'HEAD')).stdout
    expect(text).toMatch(/bounds from the statistics in the stubs/)
    expect(text).toMatch(/at most 69,632 of 69,988 parameters changed/)
    // Without --no-data the data is still not here: the same bounds, from the stubs.
    const full = JSON.parse((await bob.mlvc(clone, '--json', 'diff', 'HEAD~1', 'HEAD')).stdout)
    expect(full.files[0].tensors[0].basis).toBe('content')
    const inspect = JSON.parse(
      (await bob.mlvc(clone, '--json', 'inspect', 'HEAD:model.safetensors')).stdout,
    )
    expect(inspect.tensors.map((t: { name: string }) => t.name)).toEqual(['a', 'b', 'c', 'd'])
    expect(inspect.tensors[0]).toMatchObject({ rounded: true, bytes: 256 * 256 * 4 })
  })
})

describe('shapes, added and removed tensors, other files, sharded checkpoints', () => {
  test('a reshaped tensor, an added and a removed one; a new checkpoint in the index', async () => {
    const dir = await newRepo()
    writeModel(join(dir, 'model.safetensors'), v1)
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'v1')
    const { d: _removed, ...rest } = v1
    writeModel(join(dir, 'model.safetensors'), {
      ...rest,
      b: { data: (v1.b as { data: Float32Array }).data, shape: [16, 16] },
      e: { data: f32(10, 5), shape: [10] },
    })
    writeModel(join(dir, 'new.safetensors'), { z: { data: f32(8, 6), shape: [2, 4] } })
    await ada.git(dir, 'add', '.')
    const json = await mlvcJson(dir, 'diff', 'HEAD')
    const [model, added] = json.files
    const byName = new Map(model.tensors.map((t: { name: string }) => [t.name, t]))
    expect(byName.get('b')).toMatchObject({ status: 'changed', shapeChanged: true })
    expect(byName.get('e')).toMatchObject({ status: 'added' })
    expect(byName.get('d')).toMatchObject({ status: 'removed' })
    expect(byName.get('a')).toMatchObject({ status: 'unchanged' })
    expect(added).toMatchObject({ path: 'new.safetensors', status: 'added' })
    const cached = await ada.git(dir, 'diff', '--cached')
    expect(cached).toMatch(/^ {2}changed +b +F32 +\[256\]→\[16,16\] +shape$/m)
    expect(cached).toMatch(/^ {2}added +e +F32 +\[10\]$/m)
    expect(cached).toMatch(/^ {2}removed +d +F32 +\[100\]$/m)
    expect(cached).toMatch(/^new\.safetensors {2}added \(safetensors, /m)
    const only = await mlvcJson(dir, 'diff', 'HEAD', '--', 'new.safetensors')
    expect(only.files.map((f: { path: string }) => f.path)).toEqual(['new.safetensors'])
  })

  test('a file that is not a checkpoint: changed, with its sizes', async () => {
    const dir = await newRepo()
    writeFileSync(join(dir, 'data.bin'), pseudoRandomBytes(100_000, 7))
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'data')
    writeFileSync(join(dir, 'data.bin'), pseudoRandomBytes(120_000, 8))
    await ada.git(dir, 'commit', '-qam', 'more data')
    const json = await mlvcJson(dir, 'diff', 'HEAD~1', 'HEAD')
    expect(json.files[0]).toMatchObject({
      path: 'data.bin',
      kind: 'file',
      status: 'modified',
      size: { old: 100_000, new: 120_000 },
    })
    expect(json.files[0].storedBytes).toBeGreaterThan(0)
    const out = await ada.git(dir, 'show', '--ext-diff', 'HEAD')
    expect(out).toMatch(/^data\.bin {2}modified \(file, 97\.7 KiB → 117 KiB\)$/m)
  })

  test('a sharded checkpoint is one table and one diff; a tensor moved between shards is unchanged', async () => {
    const dir = await newRepo()
    const fixtures = join(ROOT, 'src/formats/fixtures/safetensors/sharded')
    mkdirSync(join(dir, 'gpt'))
    for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(dir, 'gpt', f))
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'sharded')
    for (const target of [
      'gpt/model.safetensors.index.json',
      'HEAD:gpt/model.safetensors.index.json',
    ]) {
      const table = await mlvcJson(dir, 'inspect', target)
      expect(table.tensors).toHaveLength(28)
      expect(table.parameters).toBe(2144)
      expect(table.shards).toHaveLength(3)
    }
    // Re-shard: x moves from shard 1 to shard 2; w changes.
    const x = f32(64, 9)
    const w1 = f32(32, 10)
    const w2 = Float32Array.from(w1)
    w2[3] = 1
    const index = (map: Record<string, string>) =>
      writeFileSync(
        join(dir, 'gpt/small.safetensors.index.json'),
        JSON.stringify({ metadata: {}, weight_map: map }),
      )
    writeModel(join(dir, 'gpt/small-1.safetensors'), {
      x: { data: x, shape: [64] },
      w: { data: w1, shape: [32] },
    })
    writeModel(join(dir, 'gpt/small-2.safetensors'), { y: { data: f32(16, 11), shape: [16] } })
    index({ x: 'small-1.safetensors', w: 'small-1.safetensors', y: 'small-2.safetensors' })
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'small')
    writeModel(join(dir, 'gpt/small-1.safetensors'), { w: { data: w2, shape: [32] } })
    writeModel(join(dir, 'gpt/small-2.safetensors'), {
      y: { data: f32(16, 11), shape: [16] },
      x: { data: x, shape: [64] },
    })
    index({ x: 'small-2.safetensors', w: 'small-1.safetensors', y: 'small-2.safetensors' })
    await ada.git(dir, 'commit', '-qam', 're-shard')
    const json = await mlvcJson(dir, 'diff', 'HEAD~1', 'HEAD')
    expect(json.files).toHaveLength(1)
    const [file] = json.files
    expect(file).toMatchObject({ path: 'gpt/small.safetensors.index.json', kind: 'sharded' })
    const byName = new Map(file.tensors.map((t: { name: string }) => [t.name, t]))
    expect(byName.get('x')).toMatchObject({ status: 'unchanged', basis: 'content' })
    expect(byName.get('y')).toMatchObject({ status: 'unchanged' })
    expect(byName.get('w')).toMatchObject({ status: 'changed', basis: 'data' })
    const w = byName.get('w') as { exact: Figures }
    expect(w.exact.changed).toBe(1)
    expectClose(w.exact.maxAbsDelta, diffFigures(w1, w2).maxAbsDelta)
  })
})

describe('--no-data on a 1,000-tensor model', () => {
  test('answers from the stubs alone, though the data is in the store', async () => {
    const dir = await newRepo()
    const model: Model = {}
    for (let i = 0; i < 1000; i++)
      model[`layers.${i}.weight`] = { data: f32(16, i + 1), shape: [4, 4] }
    writeModel(join(dir, 'big.safetensors'), model)
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'v1')
    for (let i = 0; i < 1000; i += 10)
      model[`layers.${i}.weight`] = { data: f32(16, 5000 + i), shape: [4, 4] }
    writeModel(join(dir, 'big.safetensors'), model)
    await ada.git(dir, 'commit', '-qam', 'v2')
    // The data is in the store, yet --no-data answers from the stubs: bounds, never exact figures
    // (which only reading the data gives). How fast is measured by bench ckpt-diff, not here.
    const result = await ada.mlvc(dir, 'diff', '--no-data', 'HEAD~1', 'HEAD')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('100 of 1000 tensors changed')
    expect(result.stdout).toMatch(/bounds from the statistics in the stubs/)
    const changed = async (...args: string[]) =>
      (await mlvcJson(dir, 'diff', ...args, 'HEAD~1', 'HEAD')).files[0].tensors.filter(
        (t: { status: string }) => t.status === 'changed',
      )
    const fromStubs = await changed('--no-data')
    const fromData = await changed()
    expect(fromStubs).toHaveLength(100)
    expect(fromData).toHaveLength(100)
    for (const t of fromStubs) expect(t).toMatchObject({ basis: 'content' })
    for (const t of fromData) expect(t).toMatchObject({ basis: 'data' })
  })

  test('a merged LoRA fine-tune: diff names the low-rank deltas, inspect --storage shows how each tensor is stored', async () => {
    const dir = await newRepo()
    // Written by torch (scripts/gen-lowrank-fixtures.py): 128 × 160 matrices, rank-4 updates.
    const lora = (name: string, version: string) =>
      readFileSync(join(ROOT, `src/tensors/fixtures/lowrank-${name}-${version}.bin`))
    const model = (version: string) =>
      buildSafetensors([
        { name: 'attn.q.weight', dtype: 'F32', shape: [128, 160], data: lora('f32', version) },
        { name: 'attn.q.bias', dtype: 'F32', shape: [160], data: Buffer.from(f32(160, 9).buffer) },
        {
          name: 'mlp.up.weight',
          dtype: 'BF16',
          shape: [128, 160],
          data: lora('bf16-upcast', version),
        },
      ])
    writeFileSync(join(dir, 'model.safetensors'), model('base'))
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'base')
    writeFileSync(join(dir, 'model.safetensors'), model('merged'))
    await ada.git(dir, 'commit', '-qam', 'merged LoRA')

    const diff = await ada.mlvc(dir, 'diff', 'HEAD~1', 'HEAD')
    expect(diff.code, diff.stderr).toBe(0)
    expect(diff.stdout).toMatch(/changed \(low-rank, rank 4\) +attn\.q\.weight/)
    expect(diff.stdout).toMatch(/changed \(low-rank, rank 4\) +mlp\.up\.weight/)
    const json = await mlvcJson(dir, 'diff', 'HEAD~1', 'HEAD')
    const storage = Object.fromEntries(
      json.files[0].tensors.map((t: { name: string; storage?: string }) => [t.name, t.storage]),
    )
    expect(storage).toEqual({
      'attn.q.weight': 'low-rank, rank 4',
      'attn.q.bias': undefined,
      'mlp.up.weight': 'low-rank, rank 4',
    })

    const inspect = await ada.mlvc(dir, 'inspect', '--storage', 'HEAD:model.safetensors')
    expect(inspect.code, inspect.stderr).toBe(0)
    expect(inspect.stdout).toMatch(/stored as +in store/)
    expect(inspect.stdout).toMatch(
      /attn\.q\.weight +F32 +\[128,160\] +80\.0 KiB +low-rank, rank 4 +[\d.]+ KiB/,
    )
    // Under 1 KiB: in the file's own chunks, not an object of its own.
    expect(inspect.stdout).toMatch(/attn\.q\.bias +F32 +\[160\] +640 B +inline +640 B/)
    const before = await ada.mlvc(dir, 'inspect', '--storage', 'HEAD~1:model.safetensors')
    expect(before.stdout).toMatch(/attn\.q\.weight +F32 +\[128,160\] +80\.0 KiB +\d+ chunks? /)
    // A file that is not in the store has no storage to show.
    writeFileSync(join(root, 'loose.safetensors'), model('base'))
    const loose = await ada.mlvc(root, 'inspect', '--storage', join(root, 'loose.safetensors'))
    expect(loose.code).toBe(2)
    expect(loose.stderr).toContain('not in the store')
  })
})
