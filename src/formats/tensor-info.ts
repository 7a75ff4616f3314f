import { badFormat } from './bad-format.ts'
import { type DType, dtypeSize } from './dtype.ts'
import type { TensorLayout } from './layout.ts'
import { cStrides, fStrides, type StridedView, viewSpan } from './strided.ts'

/** Bytes of one element, or of one block for GGUF quantized tensors. */
export function itemSize(tensor: TensorLayout): number {
  return tensor.encoding.kind === 'blocks'
    ? tensor.encoding.blockBytes
    : dtypeSize(tensor.dtype as DType)
}

/** The view a layout describes over its (inflated) range, in elements. */
export function tensorView(tensor: TensorLayout): StridedView {
  const e = tensor.encoding
  if (e.kind === 'strided')
    return { shape: tensor.shape, strides: e.strides, offset: e.storageOffset }
  if (e.kind === 'dense' && e.order === 'F')
    return { shape: tensor.shape, strides: fStrides(tensor.shape), offset: 0 }
  return { shape: tensor.shape, strides: cStrides(tensor.shape), offset: 0 }
}

/** Whether the elements are one C-ordered run, so the bytes can be streamed as they lie. */
export function isRun(tensor: TensorLayout): boolean {
  const e = tensor.encoding
  return (
    e.kind === 'blocks' ||
    (e.kind === 'dense' && e.order === 'C') ||
    (e.kind === 'strided' && e.contiguous)
  )
}

export function isBigEndian(tensor: TensorLayout): boolean {
  const e = tensor.encoding
  return (e.kind === 'dense' || e.kind === 'strided') && e.byteOrder === 'big'
}

/** Checks that the layout reads only inside `available` bytes of its range (a layout may come from a manifest). */
export function checkRange(path: string, tensor: TensorLayout, available: number): void {
  const item = itemSize(tensor)
  const kind = tensor.encoding.kind
  let needed = tensor.nbytes
  if (kind !== 'varint' && kind !== 'blocks' && tensor.nbytes > 0) {
    needed = (viewSpan(tensorView(tensor))[1] + 1) * item
  }
  if (!Number.isSafeInteger(needed) || needed > available || tensor.nbytes % item !== 0) {
    throw badFormat(path, `tensor ${tensor.name}: its layout reads past its byte range`)
  }
}
