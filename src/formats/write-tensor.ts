import { scatter, swapItems } from './gather.ts'
import type { TensorLayout } from './layout.ts'
import { isBigEndian, isRun, itemSize, tensorView } from './tensor-info.ts'
import { type OutFile, readerOf, writeAt } from './write-io.ts'

export interface Replacement {
  tensor: TensorLayout
  /** Exact whole-element blocks, little-endian C order (exactBlocks). */
  blocks: AsyncIterable<Uint8Array>
}

/**
 * Writes a tensor's new elements into `out`, whose bytes of the tensor's range start at `base`,
 * in the tensor's own encoding: byte order, Fortran order or strided view. Bytes of the range the
 * view does not touch are left alone.
 */
export async function writeTensorAt(out: OutFile, base: number, r: Replacement): Promise<void> {
  const { tensor } = r
  const e = tensor.encoding
  const item = itemSize(tensor)
  const big = isBigEndian(tensor)
  async function* encoded() {
    for await (const b of r.blocks) yield big ? swapItems(b, item) : b
  }
  if (isRun(tensor)) {
    let pos = base + (e.kind === 'strided' ? e.storageOffset * item : 0)
    for await (const b of encoded()) {
      await writeAt(out, pos, b)
      pos += b.length
    }
    return
  }
  const read = readerOf(out)
  await scatter(
    {
      view: tensorView(tensor),
      item,
      read: (offset, length) => read(base + offset, length),
      write: (offset, data) => writeAt(out, base + offset, data),
    },
    encoded(),
  )
}
