/**
 * Checkpoint test helpers (tests only): small F32 safetensors models, tensors read back, and the
 * reference figures (averages, diff statistics) computed the plain way, independently of
 * src/tensors.
 */
import { writeFileSync } from 'node:fs'
import { readLayout, readTensor } from '../../formats/index.ts'
import { buildSafetensors } from '../../formats/test-helpers/builders.ts'
import { pseudoRandomBytes } from '../../test-helpers/index.ts'

/** `count` deterministic float32 values in [-0.05, 0.05), as little-endian bytes. */
export function randomF32(count: number, seed: number): Buffer {
  const out = Buffer.alloc(count * 4)
  const raw = pseudoRandomBytes(count * 4, seed)
  for (let i = 0; i < count; i++)
    out.writeFloatLE((raw.readUInt32LE(i * 4) / 2 ** 32 - 0.5) * 0.1, i * 4)
  return out
}

/** A safetensors file of 1-D F32 tensors. */
export function f32Model(
  tensors: Record<string, Buffer>,
  metadata?: Record<string, string>,
): Buffer {
  const list = Object.entries(tensors).map(([name, data]) => ({
    name,
    dtype: 'F32',
    shape: [data.length / 4],
    data,
  }))
  return buildSafetensors(list, metadata)
}

export function writeF32Model(
  path: string,
  tensors: Record<string, Buffer>,
  metadata?: Record<string, string>,
): void {
  writeFileSync(path, f32Model(tensors, metadata))
}

/** One tensor's decoded bytes, read back from a checkpoint file. */
export async function tensorBytes(path: string, name: string): Promise<Buffer> {
  const tensor = (await readLayout(path)).tensors.find((t) => t.name === name)
  if (!tensor) throw new Error(`${path} has no tensor ${name}`)
  const pieces: Uint8Array[] = []
  for await (const piece of readTensor(path, tensor)) pieces.push(piece)
  return Buffer.concat(pieces)
}

/** The float32 mean of two F32 tensors, element by element (rounded once, as the merge must). */
export function averageF32(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length)
  for (let i = 0; i < a.length; i += 4)
    out.writeFloatLE(Math.fround((a.readFloatLE(i) + b.readFloatLE(i)) / 2), i)
  return out
}

/** The diff figures of two tensors computed the plain way, in f64. */
export function diffFigures(a: Float32Array, b: Float32Array) {
  let changed = 0
  let aa = 0
  let bb = 0
  let ab = 0
  let dd = 0
  let max = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number
    const y = b[i] as number
    if (x !== y) changed++
    aa += x * x
    bb += y * y
    ab += x * y
    dd += (y - x) * (y - x)
    max = Math.max(max, Math.abs(y - x))
  }
  const l2Delta = Math.sqrt(dd)
  return {
    changed,
    count: a.length,
    l2Delta,
    relChange: l2Delta / Math.sqrt(aa),
    maxAbsDelta: max,
    cosine: ab / Math.sqrt(aa * bb),
  }
}
