import { at, must } from '../core/index.ts'
import { dtypeSize, isDType, type TensorLayout } from '../formats/index.ts'

/**
 * The tensors a statistics worker reads, in a form that crosses to it cheaply: plain tensors
 * (little-endian, C order, uncompressed, in the file) as flat arrays moved without a copy, the
 * others as JSON text. Cloning 200,000 layout objects one by one would cost seconds.
 */
export interface StatsRequest {
  id: number
  path: string
  count: number
  dtypes: Array<TensorLayout['dtype']>
  /** Per tensor: index into `dtypes`, or -1 for one listed in `others`. */
  dtype: Int16Array<ArrayBuffer>
  start: Float64Array<ArrayBuffer>
  nbytes: Float64Array<ArrayBuffer>
  /** JSON of [index, layout] pairs. */
  others: string
}

const DENSE = { kind: 'dense', byteOrder: 'little', order: 'C' } as const

function isPlain(t: TensorLayout): boolean {
  const e = t.encoding
  return (
    e.kind === 'dense' &&
    e.byteOrder === 'little' &&
    e.order === 'C' &&
    t.compression === undefined &&
    t.file === undefined &&
    t.end - t.start === t.nbytes
  )
}

export function encodeStatsRequest(
  id: number,
  path: string,
  tensors: readonly TensorLayout[],
): StatsRequest {
  const dtypes: Array<TensorLayout['dtype']> = []
  const dtype = new Int16Array(tensors.length)
  const start = new Float64Array(tensors.length)
  const nbytes = new Float64Array(tensors.length)
  const others: Array<[number, TensorLayout]> = []
  tensors.forEach((t, i) => {
    if (!isPlain(t)) {
      dtype[i] = -1
      others.push([i, t])
      return
    }
    let code = dtypes.indexOf(t.dtype)
    if (code < 0) code = dtypes.push(t.dtype) - 1
    dtype[i] = code
    start[i] = t.start
    nbytes[i] = t.nbytes
  })
  return {
    id,
    path,
    count: tensors.length,
    dtypes,
    dtype,
    start,
    nbytes,
    others: JSON.stringify(others),
  }
}

/** The buffers of a request, to transfer rather than copy. */
export function requestBuffers(req: StatsRequest): ArrayBuffer[] {
  return [req.dtype.buffer, req.start.buffer, req.nbytes.buffer]
}

/** Where each tensor starts, to read them front to back. */
export function requestStarts(req: StatsRequest, others: ReadonlyMap<number, TensorLayout>) {
  const starts = Float64Array.from(req.start)
  for (const [i, layout] of others) starts[i] = layout.start
  return starts
}

/** The tensors of a request listed in `others`, by index. */
export function requestOthers(req: StatsRequest): Map<number, TensorLayout> {
  return new Map(JSON.parse(req.others) as Array<[number, TensorLayout]>)
}

/**
 * Tensor `i` of a request, as far as statistics need it: a plain tensor as one flat run of
 * elements (named `#i`, for messages only).
 */
export function requestTensor(
  req: StatsRequest,
  others: ReadonlyMap<number, TensorLayout>,
  i: number,
): TensorLayout {
  const code = at(req.dtype, i, 'a dtype code')
  if (code < 0) return must(others.get(i), `tensor ${i} of a statistics request`)
  const start = at(req.start, i, 'a tensor start')
  const nbytes = at(req.nbytes, i, 'a tensor size')
  const dtype = at(req.dtypes, code, 'a dtype')
  const shape = isDType(dtype) ? [nbytes / dtypeSize(dtype)] : []
  return { name: `#${i}`, dtype, shape, start, end: start + nbytes, encoding: DENSE, nbytes }
}
