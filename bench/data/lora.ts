import { closeSync, copyFileSync, openSync, readSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { readLayout } from '../../src/formats/index.ts'
import { decode, encode } from '../../src/tensors/index.ts'
import { cachedFile } from './cache.ts'
import { keystream } from './keystream.ts'
import { type WeightDtype, weightsFile } from './weights.ts'

/** Bump when the bytes the generator writes change, so cached files are not reused. */
const VERSION = 1
/** The adapter's rank, and its scale alpha / r (PEFT's default alpha is 2r here). */
export const LORA_RANK = 16
/** Square matrices of a 7B model's hidden size: what LoRA adapts (attention projections). */
export const LORA_COLS = 4096
const SCALE = 2
/** Standard deviation of B after training: the merged change is about a tenth of the weights. */
const B_STD = 0.002

/** `count` normal values (Box-Muller over the keystream) with the given deviation, as f32. */
function normals(seed: string, count: number, std: number): Float64Array {
  const next = keystream(seed)
  const out = new Float64Array(count)
  for (let done = 0; done < count; ) {
    const n = Math.min(count - done, 1 << 20)
    const bits = next(8 * n)
    for (let i = 0; i < n; i++) {
      const u = (bits.readUInt32LE(8 * i) + 1) / 2 ** 32
      const v = bits.readUInt32LE(8 * i + 4) / 2 ** 32
      out[done + i] = Math.fround(std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))
    }
    done += n
  }
  return out
}

/** Rows [from, to) of W + SCALE·B·A, in f64, rounded once to the dtype. */
function mergedRows(
  base: Uint8Array,
  adapter: { a: Float64Array; b: Float64Array; cols: number },
  dtype: WeightDtype,
  from: number,
): Uint8Array {
  const { a, b, cols } = adapter
  const w = decode(dtype, base)
  for (let i = 0; i < w.length / cols; i++) {
    for (let k = 0; k < LORA_RANK; k++) {
      const c = SCALE * (b[(from + i) * LORA_RANK + k] as number)
      const o = k * cols
      for (let j = 0; j < cols; j++)
        w[i * cols + j] = (w[i * cols + j] as number) + c * (a[o + j] as number)
    }
  }
  return encode(dtype, w)
}

async function writeMerged(tmp: string, base: string, dtype: WeightDtype): Promise<void> {
  copyFileSync(base, tmp)
  const layout = await readLayout(base)
  const width = dtype === 'F32' ? 4 : 2
  const fd = openSync(tmp, 'r+')
  try {
    for (const t of layout.tensors) {
      const [rows = 0, cols = 0] = t.shape
      const a = normals(`lora-a-${t.name}`, LORA_RANK * cols, 1 / Math.sqrt(cols))
      const b = normals(`lora-b-${t.name}`, rows * LORA_RANK, B_STD)
      const step = Math.max(1, Math.floor((4 << 20) / (cols * width)))
      for (let from = 0; from < rows; from += step) {
        const n = Math.min(step, rows - from)
        const at = t.start + from * cols * width
        const block = Buffer.alloc(n * cols * width)
        readSync(fd, block, 0, block.length, at)
        const out = mergedRows(block, { a, b, cols }, dtype, from)
        for (let done = 0; done < out.length; )
          done += writeSync(fd, out, done, out.length - done, at + done)
      }
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * A weights checkpoint of `weightsFile` (SIZE, one dtype, 4096 × 4096 matrices) and its fine-tune with a rank-16 LoRA
 * adapter merged into every matrix: W + 2·B·A with A (16 × cols) normal with deviation 1/√cols and
 * B (rows × 16) normal with deviation 0.002 (f32 values), summed in f64 and rounded once to the
 * dtype, like merging in full precision and saving in the model's dtype. Written once.
 */
export async function loraPair(
  dataDir: string,
  size: number,
  dtype: WeightDtype,
): Promise<{ base: string; merged: string }> {
  const base = await weightsFile(dataDir, size, dtype, LORA_COLS)
  const path = join(dataDir, `lora-g${VERSION}-${size}-${dtype}.safetensors`)
  const merged = await cachedFile(path, (tmp) => writeMerged(tmp, base, dtype))
  return { base, merged }
}
