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
    step *= shape[k] as number
  }
  return strides
}

export function fStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length)
  let step = 1
  for (let k = 0; k < shape.length; k++) {
    strides[k] = step
    step *= shape[k] as number
  }
  return strides
}

/** Like torch's is_contiguous: C order, where dimensions of size 1 may have any stride. */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let step = 1
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] as number
    if (d === 0) return true
    if (d !== 1 && strides[k] !== step) return false
    step *= d
  }
  return true
}

/** First and last element index the view touches; the view must have elements and strides ≥ 0. */
export function viewSpan(view: StridedView): [number, number] {
  let last = view.offset
  for (let k = 0; k < view.shape.length; k++)
    last += ((view.shape[k] as number) - 1) * (view.strides[k] as number)
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
  let at = view.offset
  for (let k = rank - 1; k >= 0; k--) {
    const d = shape[k] as number
    index[k] = rest % d
    rest = Math.floor(rest / d)
    at += (index[k] as number) * (strides[k] as number)
  }
  const inner = shape[rank - 1] as number
  const innerStride = strides[rank - 1] as number
  for (let i = 0; i < count; i++) {
    out[i] = at
    if ((index[rank - 1] as number) + 1 < inner) {
      index[rank - 1] = (index[rank - 1] as number) + 1
      at += innerStride
      continue
    }
    for (let k = rank - 1; k >= 0; k--) {
      const next = (index[k] as number) + 1
      if (next < (shape[k] as number)) {
        index[k] = next
        at += strides[k] as number
        break
      }
      at -= (index[k] as number) * (strides[k] as number)
      index[k] = 0
    }
  }
}
