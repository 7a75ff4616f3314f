import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pushAll } from '../../src/core/index.ts'
import type { BenchContext, Scenario } from '../context.ts'
import { type WeightDtype, weightsFile } from '../data/weights.ts'
import { removeTree, treeSize } from '../fsutil.ts'
import { measureInterleaved, perBytePairs, type SeriesSpec } from '../measure.ts'
import { mlvcCommand, mlvcPut, parsePut } from '../mlvc.ts'
import { exec } from '../proc.ts'
import { row, timingRows } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'compress'
const PUT = 'mlvc put'
const GET = 'mlvc get'

/** Issue 12's bounds on what a checkpoint of trained-like weights takes in the store. */
const STORED: Record<WeightDtype, Target> = {
  BF16: { on: 'value', op: '<=', threshold: 0.7, text: '≤ 0.70× the file', source: 'issue 12' },
  F16: { on: 'value', op: '<=', threshold: 0.7, text: '≤ 0.70× the file', source: 'issue 12' },
  F32: { on: 'value', op: '<=', threshold: 0.86, text: '≤ 0.86× the file', source: 'issue 12' },
}

/** Committed checkpoint fixtures (written by the real libraries), relative to the repository. */
const FIXTURE_DIRS = ['src/formats/fixtures', 'src/checkpoint/fixtures']
const CHECKPOINT = /\.(safetensors|pt|gguf|npy|npz|onnx|data)$/

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) pushAll(out, await filesUnder(path))
    else if (CHECKPOINT.test(entry.name)) out.push(path)
  }
  return out.sort()
}

/** What a put's throughput may lose to encoding, and a get's (issue 12). */
const PUT_COST: Target = {
  on: 'value',
  op: '<=',
  threshold: 1 / 0.85,
  text: '≤ 1.18× (throughput drops ≤ 15%)',
  source: 'issue 12',
}
const GET_COST: Target = {
  on: 'value',
  op: '<=',
  threshold: 1 / 0.9,
  text: '≤ 1.11× (throughput drops ≤ 10%)',
  source: 'issue 12',
}

/** Config homes whose config.yaml sets store.compress true (`on`) and false (`off`). */
async function configHomes(ctx: BenchContext): Promise<{ on: string; off: string }> {
  const homes = { on: join(ctx.work.run, 'mlvc-compress'), off: join(ctx.work.run, 'mlvc-raw') }
  for (const [which, dir] of Object.entries(homes)) {
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'config.yaml'), `store:\n  compress: ${which === 'on'}\n`)
  }
  return homes
}

/** A fresh store holding `file`, and its id; the store's apparent size after the put. */
async function storeOf(ctx: BenchContext, file: string, configHome: string) {
  const dir = await ctx.work.tempDir('mlvc-store')
  const [put] = parsePut(await exec(mlvcPut(ctx, dir, [file], configHome)))
  if (!put) throw new Error(`mlvc put ${file} reported nothing`)
  return { dir, id: put.id, bytes: await treeSize(dir) }
}

function putSpec(ctx: BenchContext, label: string, file: string, configHome: string): SeriesSpec {
  return {
    label,
    warm: [file],
    setup: async () => {
      const dir = await ctx.work.tempDir('mlvc-store')
      return {
        command: mlvcPut(ctx, dir, [file], configHome),
        cleanup: () => removeTree(dir),
      }
    },
  }
}

function getSpec(ctx: BenchContext, label: string, store: { dir: string; id: string }): SeriesSpec {
  return {
    label,
    setup: async () => {
      const out = await ctx.work.tempDir('mlvc-get')
      const files = (await readdir(join(store.dir, 'packs'))).map((f) =>
        join(store.dir, 'packs', f),
      )
      return {
        command: mlvcCommand(ctx, store.dir, ['get', store.id, join(out, 'out.bin')]),
        warm: files,
        cleanup: () => removeTree(out),
      }
    },
  }
}

async function dtypeRows(
  ctx: BenchContext,
  dtype: WeightDtype,
  homes: { on: string; off: string },
) {
  const file = await weightsFile(ctx.work.data, ctx.options.size, dtype)
  const bytes = (await stat(file)).size
  const who = (subject: string) => ({ scenario: NAME, subject: `${subject}, ${dtype} weights` })
  const raw = (subject: string) => who(`${subject} (store.compress false)`)
  const encoded = await storeOf(ctx, file, homes.on)
  const plain = await storeOf(ctx, file, homes.off)
  try {
    const rows: ResultRow[] = [
      row(who(PUT), 'store / file size', 'x', [encoded.bytes / bytes], {
        target: STORED[dtype],
        note: `${encoded.bytes.toLocaleString('en-US')} B stored for ${bytes.toLocaleString('en-US')} B`,
      }),
    ]
    const [put, putRaw] = await measureInterleaved(ctx, [
      putSpec(ctx, `${PUT} ${dtype}`, file, homes.on),
      putSpec(ctx, `${PUT} ${dtype} raw`, file, homes.off),
    ])
    const [get, getRaw] = await measureInterleaved(ctx, [
      getSpec(ctx, `${GET} ${dtype}`, encoded),
      getSpec(ctx, `${GET} ${dtype} raw`, plain),
    ])
    if (!put || !putRaw || !get || !getRaw) throw new Error('a series is missing')
    pushAll(rows, timingRows(who(PUT), put, bytes))
    pushAll(rows, timingRows(raw(PUT), putRaw, bytes))
    rows.push(
      row(who(PUT), 'time / store.compress false', 'x', perBytePairs(put, bytes, putRaw, bytes), {
        target: PUT_COST,
      }),
    )
    pushAll(rows, timingRows(who(GET), get, bytes))
    pushAll(rows, timingRows(raw(GET), getRaw, bytes))
    rows.push(
      row(who(GET), 'time / store.compress false', 'x', perBytePairs(get, bytes, getRaw, bytes), {
        target: GET_COST,
      }),
    )
    return rows
  } finally {
    await Promise.all([removeTree(encoded.dir), removeTree(plain.dir)])
  }
}

async function fixtureRows(ctx: BenchContext, configHome: string): Promise<ResultRow[]> {
  const root = resolve(ctx.tools.mlvcCli, '../../../..')
  const files = (await Promise.all(FIXTURE_DIRS.map((d) => filesUnder(join(root, d))))).flat()
  let total = 0
  for (const f of files) total += (await stat(f)).size
  const dir = await ctx.work.tempDir('mlvc-store')
  try {
    const before = await treeSize(dir)
    await exec(mlvcPut(ctx, dir, files, configHome))
    const stored = (await treeSize(dir)) - before
    const note = `${files.length} files, ${total.toLocaleString('en-US')} B; ${stored.toLocaleString('en-US')} B stored (records, indexes and manifests included)`
    return [
      row(
        { scenario: NAME, subject: `${PUT}, committed fixtures` },
        'store / files size',
        'x',
        [stored / total],
        { note },
      ),
    ]
  } finally {
    await removeTree(dir)
  }
}

export const compress: Scenario = {
  name: NAME,
  title: 'what checkpoints of trained-like weights take in the store, and what encoding them costs',
  issue: 12,
  about: [
    'Synthetic safetensors checkpoints of SIZE each, in BF16, F16 and F32: 16 matrices of rows ×',
    '1024 elements drawn from a normal distribution with mean 0 and std 0.02 (like trained',
    'transformer layers; Box-Muller over a seeded keystream, rounded to the dtype by src/tensors).',
    '"store / file size" is the apparent size of a fresh store after `mlvc put` of the file (packs,',
    'indexes, manifests) with `store.compress: true`, over the file size. Timed, with runs',
    'alternating between `store.compress: true` and `false` (the default; content raw) on the',
    'same file: `mlvc put` into a fresh store, and `mlvc get` of the stored file from the store',
    '(in the page cache) to a fresh path; the ratio rows divide the encoded time by the raw one,',
    'pair by pair. Also: every committed checkpoint fixture (src/formats/fixtures,',
    'src/checkpoint/fixtures) put into one store with compression.',
  ].join('\n'),
  async run(ctx) {
    ctx.log(`${NAME}: weights of ${formatSize(ctx.options.size)} in BF16, F16 and F32`)
    const homes = await configHomes(ctx)
    const rows: ResultRow[] = []
    for (const dtype of ['BF16', 'F16', 'F32'] as const)
      pushAll(rows, await dtypeRows(ctx, dtype, homes))
    pushAll(rows, await fixtureRows(ctx, homes.on))
    return rows
  },
}
