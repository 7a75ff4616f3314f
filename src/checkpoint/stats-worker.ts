/**
 * Computes tensor statistics off the main thread, while the ingest pipeline chunks the same file.
 * Request: a StatsRequest (stats-request.ts); reply: { id, stats } packed (stats-pack.ts), or
 * { id, error }.
 */
import { parentPort } from 'node:worker_threads'
import {
  isDType,
  openTensorReader,
  type TensorLayout,
  type TensorReader,
} from '../formats/index.ts'
import { statsOf as statsOfBytes, type TensorStats, tensorStats } from '../tensors/index.ts'
import { createPackedStats, setPackedStats } from './stats-pack.ts'
import { requestOthers, requestStarts, requestTensor, type StatsRequest } from './stats-request.ts'

export type StatsReply = { id: number; stats: Float64Array } | { id: number; error: string }

const NOTHING = new Uint8Array(0)

async function statsOf(reader: TensorReader, tensor: TensorLayout): Promise<TensorStats | null> {
  if (!isDType(tensor.dtype) || tensor.file !== undefined) return null
  if (tensor.nbytes === 0) return statsOfBytes(tensor.dtype, NOTHING)
  try {
    return await tensorStats(tensor.dtype, reader.read(tensor))
  } catch {
    return null
  }
}

/**
 * Statistics in the request's order, packed as they are computed; the tensors are read in file
 * order (front to back) and one at a time, so the worker holds no object per tensor.
 */
async function statsOfAll(req: StatsRequest): Promise<Float64Array<ArrayBuffer>> {
  const others = requestOthers(req)
  const starts = requestStarts(req, others)
  const order = Int32Array.from({ length: req.count }, (_, i) => i)
  // In range: a and b come from order, 0..count-1, and starts has count entries. The comparator
  // runs n·log n times: its reads stay unchecked.
  order.sort((a, b) => (starts[a] as number) - (starts[b] as number))
  const packed = createPackedStats(req.count)
  const reader = openTensorReader(req.path)
  try {
    for (const i of order) {
      const stats = await statsOf(reader, requestTensor(req, others, i))
      if (stats) setPackedStats(packed, i, stats)
    }
  } finally {
    reader.close()
  }
  return packed
}

parentPort?.on('message', async (req: StatsRequest) => {
  try {
    const stats = await statsOfAll(req)
    parentPort?.postMessage({ id: req.id, stats } satisfies StatsReply, [
      stats.buffer as ArrayBuffer,
    ])
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: (err as Error).message } satisfies StatsReply)
  }
})
