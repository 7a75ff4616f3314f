import { Worker } from 'node:worker_threads'
import { MlvcError, workerUrl } from '../core/index.ts'
import type { TensorLayout } from '../formats/index.ts'
import type { TensorStatsJSON } from '../tensors/index.ts'
import { unpackStats } from './stats-pack.ts'
import { encodeStatsRequest, requestBuffers } from './stats-request.ts'
import type { StatsReply } from './stats-worker.ts'

let worker: Worker | undefined
let nextId = 0
let busy = 0
/**
 * A worker that was given this many tensors at once has grown its heap by tens of MiB: it is let
 * go once idle (the next file starts another) rather than kept beside the rest of the command.
 */
const RETIRE_AFTER = 50_000
let retireWhenIdle = false
const waiting = new Map<
  number,
  { resolve: (s: Array<TensorStatsJSON | null>) => void; reject: (e: unknown) => void }
>()

function failAll(err: unknown): void {
  for (const w of waiting.values()) w.reject(err)
  waiting.clear()
  worker = undefined
  busy = 0
}

function started(): Worker {
  if (worker) return worker
  const created = new Worker(workerUrl(import.meta.url, 'stats-worker'))
  retireWhenIdle = false
  created.on('message', (reply: StatsReply) => {
    const w = waiting.get(reply.id)
    waiting.delete(reply.id)
    if (--busy === 0) {
      created.unref()
      if (retireWhenIdle) {
        worker = undefined
        void created.terminate()
      }
    }
    if ('error' in reply) w?.reject(new MlvcError('IO', `statistics: ${reply.error}`))
    else w?.resolve(unpackStats(reply.stats))
  })
  // A retired worker's exit concerns nobody: its requests were all answered.
  created.on('error', (err) => {
    if (worker === created)
      failAll(new MlvcError('IO', `statistics worker failed: ${err.message}`, { cause: err }))
  })
  created.on('exit', () => {
    if (worker === created) failAll(new MlvcError('IO', 'statistics worker exited'))
  })
  created.unref()
  worker = created
  return created
}

/**
 * Statistics of tensors of a file, computed on a worker thread (so that they overlap with the
 * chunking of the same file). The worker is started on first use and never keeps the process alive.
 */
export function statsInWorker(
  path: string,
  tensors: TensorLayout[],
): Promise<Array<TensorStatsJSON | null>> {
  const w = started()
  const id = nextId++
  const result = new Promise<Array<TensorStatsJSON | null>>((resolve, reject) =>
    waiting.set(id, { resolve, reject }),
  )
  result.catch(() => undefined)
  if (busy++ === 0) w.ref()
  if (tensors.length >= RETIRE_AFTER) retireWhenIdle = true
  const request = encodeStatsRequest(id, path, tensors)
  w.postMessage(request, requestBuffers(request))
  return result
}
