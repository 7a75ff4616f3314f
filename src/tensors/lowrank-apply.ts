import type { DType } from '../formats/index.ts'
import { checkAborted } from './blocks.ts'
import { named } from './delta-apply.ts'
import { badDelta } from './delta-parse.ts'
import { parseLowRank } from './lowrank-format.ts'
import { createResidualReader, reconstructRow, rowScratch } from './lowrank-rows.ts'

export interface ApplyLowRankOptions {
  /** When given, the delta must be for this dtype. */
  dtype?: DType | string | undefined
  /** When given, the delta must rebuild this many bytes. */
  size?: number | undefined
  /** The tensor's name, for errors. */
  name?: string | undefined
  signal?: AbortSignal | undefined
}

/** Rows rebuilt per block: about 1 MiB of output. */
const BLOCK_BYTES = 1 << 20

/**
 * Rebuilds the new version of a 2-D tensor from its old version (streamed, in blocks of any size)
 * and a low-rank delta (lowrank-format.ts); yields the new bytes in blocks of whole rows. Bit-exact.
 * A malformed delta, or one made for another tensor, throws BAD_DELTA; as with any stream, discard
 * what was yielded when it throws.
 */
export async function* applyLowRank(
  old: AsyncIterable<Uint8Array>,
  patch: Uint8Array,
  options: ApplyLowRankOptions = {},
): AsyncGenerator<Uint8Array> {
  try {
    const { factors, residuals, residual } = parseLowRank(patch)
    const { dtype, rows, cols, rank } = factors
    const size = dtype === 'F32' ? 4 : 2
    const rowBytes = cols * size
    const total = rows * rowBytes
    if (options.dtype !== undefined && options.dtype !== dtype) {
      throw badDelta(`it is a delta of ${dtype} elements, not ${options.dtype}`)
    }
    if (options.size !== undefined && options.size !== total) {
      throw badDelta(`it is for a tensor of ${total} bytes, not ${options.size}`)
    }
    const reader = createResidualReader(residual, residuals, rows * cols, size)
    const scratch = rowScratch(cols)
    const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / rowBytes))
    let block = new Uint8Array(Math.min(rows, blockRows) * rowBytes)
    let filled = 0
    let row = 0
    const flush = (): Uint8Array => {
      const count = filled / rowBytes
      const out = new Uint8Array(filled)
      for (let r = 0; r < count; r++) {
        const at = r * rowBytes
        const oldRow = block.subarray(at, at + rowBytes)
        reconstructRow(
          factors,
          factors.u,
          (row + r) * rank,
          oldRow,
          out.subarray(at, at + rowBytes),
          scratch,
        )
      }
      reader.apply(out, row * cols)
      row += count
      filled = 0
      block = new Uint8Array(Math.min(rows - row, blockRows) * rowBytes)
      return out
    }
    for await (const piece of old) {
      checkAborted(options.signal)
      let from = 0
      while (from < piece.length) {
        if (block.length === 0) throw badDelta(`the old version has more than ${total} bytes`)
        const n = Math.min(block.length - filled, piece.length - from)
        block.set(piece.subarray(from, from + n), filled)
        filled += n
        from += n
        if (filled === block.length) yield flush()
      }
    }
    if (row !== rows) {
      throw badDelta(
        `it is for a tensor of ${total} bytes, the old version has ${row * rowBytes + filled}`,
      )
    }
    reader.end()
  } catch (err) {
    throw named(err, options.name)
  }
}
