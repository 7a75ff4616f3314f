import { at } from '../core/index.ts'

/** A view of elements in a flat buffer: element [i0, i1, …] is at `offset + Σ ik·strides[k]`. */
export interface StridedView {
  shape: readonly number[]
  strides: readonly number[]
  offset: number
}

export function cStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length)
  let step = 1
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = step
    step *= at(shape, k, 'a dimension')
  }
  return strides
}

export function fStrides(shape: readonly number[]): number[] {
  let step = 1
  return shape.map((d) => {
    const stride = step
    step *= d
    return stride
  })
}

/** Like torch's is_contiguous: C order, where dimensions of size 1 may have any stride. */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let step = 1
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = at(shape, k, 'a dimension')
    if (d === 0) return true
    if (d !== 1 && strides[k] !== step) return false
    step *= d
  }
  return true
}

/** First and last element index the view touches; the view must have elements and strides ≥ 0. */
export function viewSpan(view: StridedView): [number, number] {
  let last = view.offset
  view.shape.forEach((d, k) => {
    last += (d - 1) * at(view.strides, k, 'a stride')
  })
  return [view.offset, last]
}

/** Fills `out[0..count)` with the buffer indices of the view's elements first…first+count-1, in C order. */
export function viewIndices(
  view: StridedView,
  first: number,
  count: number,
  out: Float64Array,
): void {
  const { shape, strides } = view
  const rank = shape.length
  if (rank === 0) {
    out.fill(view.offset, 0, count)
    return
  }
  const index = new Array<number>(rank).fill(0)
  let rest = first
  let position = view.offset
  for (let k = rank - 1; k >= 0; k--) {
    const d = at(shape, k, 'a dimension')
    const ik = rest % d
    index[k] = ik
    rest = Math.floor(rest / d)
    position += ik * at(strides, k, 'a stride')
  }
  const inner = at(shape, rank - 1, 'a dimension')
  const innerStride = at(strides, rank - 1, 'a stride')
  // In range: k < rank, the length of shape, strides and index alike. Per-element loop: its reads
  // stay unchecked.
  for (let i = 0; i < count; i++) {
    out[i] = position
    if ((index[rank - 1] as number) + 1 < inner) {
      index[rank - 1] = (index[rank - 1] as number) + 1
      position += innerStride
      continue
    }
    for (let k = rank - 1; k >= 0; k--) {
      const next = (index[k] as number) + 1
      if (next < (shape[k] as number)) {
        index[k] = next
        position += strides[k] as number
        break
      }
      position -= (index[k] as number) * (strides[k] as number)
      index[k] = 0
    }
  }
}
