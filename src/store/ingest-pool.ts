import { MessageChannel, type Transferable, Worker } from 'node:worker_threads'
import { MlvcError, workerUrl } from '../core/index.ts'
import type { IngestReply, IngestRequest } from './ingest-worker.ts'

/** Ring geometry: each slot has room for a carried-over open chunk before its new data. */
export const SLOT_HEAD = 1024 * 1024
export const SLOT_DATA = 8 * 1024 * 1024
export const SLOTS = 6

export interface WorkerChannel {
  /** Sends a request whose reply comes back in order; resolves with it. */
  ask<R extends IngestReply>(req: IngestRequest): Promise<R>
  /** Waits for the next reply without sending (its request went to another worker). */
  expect<R extends IngestReply>(): Promise<R>
  tell(req: IngestRequest, transfer?: Transferable[]): void
}

export interface IngestPool {
  ring: Uint8Array
  cdc: WorkerChannel
  sha: WorkerChannel
  digests: WorkerChannel
  ref(): void
  unref(): void
  terminate(): Promise<void>
}

function channel(worker: Worker): WorkerChannel {
  const waiting: Array<{ resolve: (r: IngestReply) => void; reject: (e: unknown) => void }> = []
  const failAll = (err: unknown) => {
    for (const w of waiting.splice(0)) w.reject(err)
  }
  worker.on('message', (reply: IngestReply) => waiting.shift()?.resolve(reply))
  worker.on('error', (err) =>
    failAll(new MlvcError('IO', `ingest worker failed: ${err.message}`, { cause: err })),
  )
  worker.on('exit', (code) => failAll(new MlvcError('IO', `ingest worker exited (${code})`)))
  const expect = <R extends IngestReply>() => {
    const reply = new Promise<R>((resolve, reject) => {
      waiting.push({ resolve: resolve as (r: IngestReply) => void, reject })
    })
    // Replies to read-ahead requests are abandoned when a run fails; their rejections are expected.
    reply.catch(() => undefined)
    return reply
  }
  return {
    ask<R extends IngestReply>(req: IngestRequest) {
      const reply = expect<R>()
      worker.postMessage(req)
      return reply
    },
    expect,
    tell(req, transfer) {
      worker.postMessage(req, transfer)
    },
  }
}

let pool: IngestPool | undefined

/**
 * The process's three ingest workers and their shared ring, started on first use. Workers are unref'd
 * while idle so that they never keep the process alive.
 */
export function ingestPool(): IngestPool {
  if (pool) return pool
  const shared = new SharedArrayBuffer(SLOTS * (SLOT_HEAD + SLOT_DATA))
  const url = workerUrl(import.meta.url, 'ingest-worker')
  const workers = [new Worker(url), new Worker(url), new Worker(url)]
  const [cdcWorker, shaWorker, digestWorker] = workers as [Worker, Worker, Worker]
  const { port1, port2 } = new MessageChannel()
  cdcWorker.postMessage({ type: 'init', ring: shared, next: port1 } satisfies IngestRequest, [
    port1,
  ])
  digestWorker.postMessage({ type: 'init', ring: shared, next: port2 } satisfies IngestRequest, [
    port2,
  ])
  shaWorker.postMessage({ type: 'init', ring: shared } satisfies IngestRequest)
  for (const worker of workers) worker.unref()
  let users = 0
  const created: IngestPool = {
    ring: new Uint8Array(shared),
    cdc: channel(cdcWorker),
    sha: channel(shaWorker),
    digests: channel(digestWorker),
    ref() {
      if (users++ === 0) for (const worker of workers) worker.ref()
    },
    unref() {
      if (--users === 0) for (const worker of workers) worker.unref()
    },
    async terminate() {
      if (pool === created) pool = undefined
      await Promise.all(workers.map((worker) => worker.terminate()))
    },
  }
  pool = created
  return created
}

/** Stops the workers (after a failure or an abort, when their state is unknown). */
export async function resetIngestPool(): Promise<void> {
  await pool?.terminate()
}

let queue: Promise<unknown> = Promise.resolve()

/** Runs `task` with the pool to itself: calls are queued, one file in the ring at a time. */
export function withIngestPool<T>(task: (pool: IngestPool) => Promise<T>): Promise<T> {
  const run = queue.then(async () => {
    const active = ingestPool()
    active.ref()
    try {
      return await task(active)
    } catch (err) {
      await active.terminate()
      throw err
    } finally {
      active.unref()
    }
  })
  queue = run.catch(() => undefined)
  return run
}
