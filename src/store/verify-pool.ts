import { availableParallelism } from 'node:os'
import { type Transferable, Worker } from 'node:worker_threads'
import { MlvcError, workerUrl } from '../core/index.ts'
import type { CheckReply, EncodeReply, WorkReply, WorkRequest } from './verify-worker.ts'

interface Slot {
  worker: Worker
  busy: number
}

const slots: Slot[] = []
const waiting = new Map<
  number,
  { resolve: (reply: WorkReply) => void; reject: (e: unknown) => void }
>()
let nextId = 0

function failAll(err: unknown): void {
  for (const w of waiting.values()) w.reject(err)
  waiting.clear()
  for (const slot of slots.splice(0)) void slot.worker.terminate()
}

function start(): Slot {
  const worker = new Worker(workerUrl(import.meta.url, 'verify-worker'))
  const slot: Slot = { worker, busy: 0 }
  worker.on('message', (reply: WorkReply) => {
    const w = waiting.get(reply.id)
    waiting.delete(reply.id)
    if (--slot.busy === 0) worker.unref()
    w?.resolve(reply)
  })
  worker.on('error', (err) =>
    failAll(new MlvcError('IO', `a store worker failed: ${err.message}`, { cause: err })),
  )
  worker.on('exit', () => failAll(new MlvcError('IO', 'a store worker exited')))
  worker.unref()
  slots.push(slot)
  return slot
}

/** Workers at most: one per core, and 8 (about 12 GB/s of sha256) on large machines. */
export const MAX_WORKERS = Math.max(1, Math.min(8, availableParallelism()))

/** The least busy worker, started on first use; workers never keep the process alive. */
function pick(): Slot {
  const idle = slots.find((s) => s.busy === 0)
  if (idle) return idle
  if (slots.length < MAX_WORKERS) return start()
  return slots.reduce((a, b) => (b.busy < a.busy ? b : a))
}

type Request<T extends WorkRequest['type']> = Omit<Extract<WorkRequest, { type: T }>, 'id'>

function ask(request: Omit<WorkRequest, 'id'>, transfer: Transferable[] = []): Promise<WorkReply> {
  const slot = pick()
  const id = nextId++
  const result = new Promise<WorkReply>((resolve, reject) => waiting.set(id, { resolve, reject }))
  if (slot.busy++ === 0) slot.worker.ref()
  slot.worker.postMessage({ id, ...request }, transfer)
  return result
}

/**
 * Reads objects from packs into shared memory, decodes them and (given digests) checks them, or
 * only checks them (`check`), on a worker thread (see verify-worker).
 */
export async function readInPool(
  request: Request<'read'> | Request<'check'>,
  transfer?: Transferable[],
): Promise<CheckReply> {
  const reply = await ask(request, transfer)
  if (reply.type === 'encode') throw new MlvcError('IO', 'a store worker replied out of turn')
  return reply
}

/** Reads chunks of a file, checks and encodes them on a worker thread (verify-worker's `encode`). */
export async function encodeInPool(request: Request<'encode'>): Promise<EncodeReply> {
  const reply = await ask(request)
  if (reply.type !== 'encode') throw new MlvcError('IO', 'a store worker replied out of turn')
  return reply
}
