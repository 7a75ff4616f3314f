import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { cachedFile } from './cache.ts'
import { denseEditor, type Editor, sparseEditor } from './edits.ts'
import { BLOCK, keystream } from './keystream.ts'

/** Bump when the bytes the generator writes change, so cached files are not reused. */
const VERSION = 1
/** 25 layers of 8 tensors: 200 tensors, plus one `embed.weight` that fills up to the size. */
const LAYERS = 25
/** Room left for the JSON header when choosing the width (it is about 20 KiB). */
const HEADER_ALLOWANCE = 32 << 10
const ATTENTION = ['o', 'v', 'q', 'k'] as const
/** The fraction of the tensors a fine-tune rewrites entirely (issue 4). */
export const FINETUNE_TENSORS = 0.01
/** The fraction of the elements of every tensor an update changes (issue 4). */
export const UPDATE_ELEMENTS = 0.001

/**
 * The versions the scenarios use, all of one plan (same header, names, shapes and offsets):
 * - `v1`: the base;
 * - `v2`: v1 with 3 tensors rewritten (about 1.2% of the bytes, `ckpt-dedup`);
 * - `finetune`: v1 with 1% of the tensors rewritten entirely (2 of 201 attention matrices);
 * - `update`: `finetune` with 0.1% of the elements of every tensor changed, spread across it;
 * - `ours`, `theirs`: v1 with every element of every tensor changed a little, differently.
 */
export type CheckpointVersion = 'v1' | 'v2' | 'finetune' | 'update' | 'ours' | 'theirs'

export const CHECKPOINT_VERSIONS: readonly CheckpointVersion[] = [
  'v1',
  'v2',
  'finetune',
  'update',
  'ours',
  'theirs',
]

export interface TensorSpec {
  name: string
  shape: number[]
  /** Byte offsets relative to the start of the data section, as in `data_offsets`. */
  begin: number
  end: number
}

export interface CheckpointPlan {
  /** 8-byte little-endian length, then the JSON header padded with spaces to 8-byte alignment. */
  header: Buffer
  /** In file order (sorted by name, as the safetensors library writes tensors of one dtype). */
  tensors: TensorSpec[]
  /** Total file size. */
  size: number
  /** The tensors that version 2 rewrites: about 1.2% of the bytes, in three places. */
  changed: string[]
  /**
   * The tensors a fine-tune rewrites: 1% of them (2 of 201), attention matrices, whose size is
   * the average tensor's, so they are also about 1% of the bytes.
   */
  finetuned: string[]
}

type Shape = [name: string, shape: number[]]

function layerShapes(i: number, d: number): Shape[] {
  const p = `layers.${i}`
  return [
    [`${p}.attn.q`, [d, d]],
    [`${p}.attn.k`, [d, d]],
    [`${p}.attn.v`, [d, d]],
    [`${p}.attn.o`, [d, d]],
    [`${p}.mlp.up`, [2 * d, d]],
    [`${p}.mlp.down`, [d, 2 * d]],
    [`${p}.norm1`, [d]],
    [`${p}.norm2`, [d]],
  ]
}

/** Bytes of the layers at width d: per layer 8·d² + 2·d floats. */
function layersBytes(d: number): number {
  return LAYERS * 4 * (8 * d * d + 2 * d)
}

/** The largest width (a multiple of 8, at least 8) whose layers fit the size. */
function chooseWidth(size: number): number {
  const budget = Math.max(0, size - HEADER_ALLOWANCE)
  return Math.max(8, Math.floor(Math.sqrt(budget / (LAYERS * 32)) / 8) * 8)
}

function layout(shapes: Shape[]): TensorSpec[] {
  const sorted = [...shapes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  let offset = 0
  return sorted.map(([name, shape]) => {
    const begin = offset
    offset += 4 * shape.reduce((a, b) => a * b, 1)
    return { name, shape, begin, end: offset }
  })
}

/** The header bytes: keys sorted (`__metadata__` sorts first), padded so the data is 8-aligned. */
export function encodeHeader(tensors: TensorSpec[]): Buffer {
  const entries: Record<string, unknown> = {
    __metadata__: { format: 'pt', generator: 'mlvc bench' },
  }
  for (const t of [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    entries[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [t.begin, t.end] }
  }
  return headerBytes(entries)
}

/** A safetensors header of these entries: 8-byte length, then the JSON padded to 8-byte alignment. */
export function headerBytes(entries: Record<string, unknown>): Buffer {
  let json = JSON.stringify(entries)
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8)
  const header = Buffer.alloc(8 + Buffer.byteLength(json))
  header.writeBigUInt64LE(BigInt(header.length - 8), 0)
  header.write(json, 8, 'utf8')
  return header
}

/** A checkpoint of about `size` bytes (within a row of the embedding, or larger if tiny). */
export function planCheckpoint(size: number): CheckpointPlan {
  const d = chooseWidth(size)
  const shapes = Array.from({ length: LAYERS }, (_, i) => layerShapes(i, d)).flat()
  const headerGuess = encodeHeader(layout(shapes)).length + 64
  const rows = Math.floor((size - headerGuess - layersBytes(d)) / (4 * d))
  if (rows > 0) shapes.push(['embed.weight', [rows, d]])
  const tensors = layout(shapes)
  const header = encodeHeader(tensors)
  const last = tensors[tensors.length - 1] as TensorSpec
  const changed = [
    `layers.${Math.floor(LAYERS / 5)}.attn.q`,
    `layers.${Math.floor((LAYERS * 17) / 32)}.mlp.up`,
    `layers.${LAYERS - 2}.norm1`,
  ]
  const count = Math.max(1, Math.round(tensors.length * FINETUNE_TENSORS))
  const finetuned = Array.from(
    { length: count },
    (_, i) => `layers.${Math.floor((LAYERS * (i + 1)) / (count + 1))}.attn.${ATTENTION[i % 4]}`,
  )
  return { header, tensors, size: header.length + last.end, changed, finetuned }
}

function writeAll(fd: number, data: Uint8Array): void {
  let done = 0
  while (done < data.length) done += writeSync(fd, data, done, data.length - done)
}

/** How a version's tensor is written: which seed draws its values, and an optional edit. */
interface TensorRecipe {
  seed: string
  edit: Editor | undefined
}

function recipeOf(plan: CheckpointPlan, version: CheckpointVersion, t: TensorSpec): TensorRecipe {
  const bytes = t.end - t.begin
  const drawn = (tag: string) => `tensor-${t.name}-${bytes}-v${tag}`
  const finetuned = drawn(plan.finetuned.includes(t.name) ? 'finetune' : '1')
  switch (version) {
    case 'v1':
      return { seed: drawn('1'), edit: undefined }
    case 'v2':
      return { seed: drawn(plan.changed.includes(t.name) ? '2' : '1'), edit: undefined }
    case 'finetune':
      return { seed: finetuned, edit: undefined }
    case 'update':
      return {
        seed: finetuned,
        edit: sparseEditor(bytes / 4, UPDATE_ELEMENTS, `update-${t.name}-${bytes}`),
      }
    case 'ours':
    case 'theirs':
      return { seed: drawn('1'), edit: denseEditor(`${version}-${t.name}-${bytes}`) }
  }
}

/**
 * Streams one tensor's F32 values: pseudo-random sign and mantissa, exponent forced into
 * [2^-7, 2^-3), so every value is finite and weight-like (no NaN or Inf for later diff stats),
 * then the version's edit. Assumes a little-endian host, as safetensors data is little-endian.
 */
function writeTensor(fd: number, bytes: number, recipe: TensorRecipe, scratch: Uint32Array): void {
  const next = keystream(recipe.seed)
  const view = new Uint8Array(scratch.buffer)
  for (let left = bytes; left > 0; ) {
    const n = Math.min(BLOCK, left)
    view.set(next(n))
    for (let i = 0; i < n >> 2; i++) scratch[i] = ((scratch[i] as number) & 0x81ffffff) | 0x3c000000
    recipe.edit?.(scratch, n >> 2)
    writeAll(fd, view.subarray(0, n))
    left -= n
  }
}

export function writeCheckpoint(
  path: string,
  plan: CheckpointPlan,
  version: CheckpointVersion,
): void {
  const scratch = new Uint32Array(BLOCK / 4)
  const fd = openSync(path, 'w')
  try {
    writeAll(fd, plan.header)
    for (const t of plan.tensors) {
      writeTensor(fd, t.end - t.begin, recipeOf(plan, version, t), scratch)
    }
  } finally {
    closeSync(fd)
  }
}

/** A synthetic safetensors checkpoint of about `size` bytes in one of its versions, written once. */
export function checkpointFile(
  dataDir: string,
  size: number,
  version: CheckpointVersion,
): Promise<string> {
  const path = join(dataDir, `ckpt-g${VERSION}-${size}-${version}.safetensors`)
  return cachedFile(path, async (tmp) => writeCheckpoint(tmp, planCheckpoint(size), version))
}

/** Bytes that version 2 rewrites. */
export function changedBytes(plan: CheckpointPlan): number {
  return plan.tensors
    .filter((t) => plan.changed.includes(t.name))
    .reduce((sum, t) => sum + t.end - t.begin, 0)
}

/** Bytes that a fine-tune rewrites. */
export function finetunedBytes(plan: CheckpointPlan): number {
  return plan.tensors
    .filter((t) => plan.finetuned.includes(t.name))
    .reduce((sum, t) => sum + t.end - t.begin, 0)
}
