import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { encode } from '../../src/tensors/index.ts'
import { cachedFile } from './cache.ts'
import { keystream } from './keystream.ts'
import { headerBytes } from './safetensors.ts'

/** Bump when the bytes the generator writes change, so cached files are not reused. */
const VERSION = 1
/** Standard deviation of the weights: that of trained transformer layers (initialised at 0.02). */
export const WEIGHT_STD = 0.02
/** Elements generated and written at a time. */
const BLOCK_ELEMENTS = 1 << 20

export type WeightDtype = 'BF16' | 'F16' | 'F32'

const WIDTH: Record<WeightDtype, number> = { BF16: 2, F16: 2, F32: 4 }

/**
 * Matrices of `rows` × `cols` elements filling `size` bytes, named like a model's layers: 16 of
 * them for 1024 columns, else square ones (the last one shorter).
 */
function plan(
  size: number,
  dtype: WeightDtype,
  cols: number,
): Array<{ name: string; rows: number }> {
  const rowBytes = cols * WIDTH[dtype]
  const rows = Math.max(1, Math.floor((size - 4096) / rowBytes))
  const per = cols === 1024 ? Math.max(1, Math.ceil(rows / 16)) : cols
  const out: Array<{ name: string; rows: number }> = []
  for (let left = rows, i = 0; left > 0; left -= per, i++)
    out.push({ name: `layers.${String(i).padStart(2, '0')}.weight`, rows: Math.min(per, left) })
  return out
}

function header(
  tensors: Array<{ name: string; rows: number }>,
  dtype: WeightDtype,
  cols: number,
): Buffer {
  const entries: Record<string, unknown> = { __metadata__: { generator: 'mlvc bench weights' } }
  let offset = 0
  for (const t of tensors) {
    const end = offset + t.rows * cols * WIDTH[dtype]
    entries[t.name] = { dtype, shape: [t.rows, cols], data_offsets: [offset, end] }
    offset = end
  }
  return headerBytes(entries)
}

/** Normal values (Box-Muller over the keystream), rounded to the dtype by src/tensors. */
function normalBlock(next: (n: number) => Buffer, count: number, dtype: WeightDtype): Uint8Array {
  const bits = next(8 * count)
  const values = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const u = (bits.readUInt32LE(8 * i) + 1) / 2 ** 32
    const v = bits.readUInt32LE(8 * i + 4) / 2 ** 32
    values[i] = WEIGHT_STD * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  return encode(dtype, values)
}

function writeWeights(path: string, size: number, dtype: WeightDtype, cols: number): void {
  const tensors = plan(size, dtype, cols)
  const fd = openSync(path, 'w')
  try {
    const put = (data: Uint8Array) => {
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done)
    }
    put(header(tensors, dtype, cols))
    for (const t of tensors) {
      const seed = `weights-${dtype}-${t.name}-${t.rows}${cols === 1024 ? '' : `x${cols}`}`
      const next = keystream(seed)
      for (let left = t.rows * cols; left > 0; left -= BLOCK_ELEMENTS)
        put(normalBlock(next, Math.min(BLOCK_ELEMENTS, left), dtype))
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * A safetensors checkpoint of about `size` bytes of trained-like weights — normal, mean 0, std
 * 0.02 — in one dtype, written once: the input for storage ratios that depend on the values.
 * Matrices have `cols` columns (see plan).
 */
export function weightsFile(
  dataDir: string,
  size: number,
  dtype: WeightDtype,
  cols = 1024,
): Promise<string> {
  const shape = cols === 1024 ? '' : `-c${cols}`
  const path = join(dataDir, `weights-g${VERSION}-${size}-${dtype}${shape}.safetensors`)
  return cachedFile(path, async (tmp) => writeWeights(tmp, size, dtype, cols))
}
