/**
 * Computes tensor statistics off the main thread, while the ingest pipeline chunks the same file.
 * Request: { id, path, tensors }; reply: { id, stats } (null where a tensor cannot be decoded) or
 * { id, error }.
 */
import { parentPort } from 'node:worker_threads'
import { isDType, readTensor, type TensorLayout } from '../formats/index.ts'
import { statsToJSON, type TensorStatsJSON, tensorStats } from '../tensors/index.ts'

export interface StatsRequest {
  id: number
  path: string
  tensors: TensorLayout[]
}

export type StatsReply =
  | { id: number; stats: Array<TensorStatsJSON | null> }
  | { id: number; error: string }

async function statsOf(path: string, tensor: TensorLayout): Promise<TensorStatsJSON | null> {
  if (!isDType(tensor.dtype) || tensor.file !== undefined) return null
  try {
    return statsToJSON(await tensorStats(tensor.dtype, readTensor(path, tensor)))
  } catch {
    return null
  }
}

parentPort?.on('message', async (req: StatsRequest) => {
  try {
    const stats: Array<TensorStatsJSON | null> = []
    for (const tensor of req.tensors) stats.push(await statsOf(req.path, tensor))
    parentPort?.postMessage({ id: req.id, stats } satisfies StatsReply)
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: (err as Error).message } satisfies StatsReply)
  }
})
