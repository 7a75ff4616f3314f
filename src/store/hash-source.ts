import { sha256Hex } from '../core/index.ts'
import { SLOT_DATA, SLOT_HEAD, SLOTS, withIngestPool } from './ingest-pool.ts'
import type { IngestReply } from './ingest-worker.ts'
import type { ByteSource } from './source.ts'

/**
 * The sha-256 and size of a source, hashed on the SHA worker while this thread reads the next
 * block (reading git's pipe and hashing then overlap). Small sources are hashed here.
 */
export async function hashSource(source: ByteSource): Promise<{ sha256: string; size: number }> {
  const first = Buffer.allocUnsafe(SLOT_DATA)
  const n = await source.read(first)
  if (n < SLOT_DATA) return { sha256: sha256Hex(first.subarray(0, n)), size: n }
  return withIngestPool(async (pool) => {
    pool.sha.tell({ type: 'sha-start' })
    const hashing: Array<Promise<unknown>> = []
    let size = 0
    for (let index = 0; ; index++) {
      const slot = index % SLOTS
      const start = slot * (SLOT_HEAD + SLOT_DATA)
      await hashing[slot]
      const target = pool.ring.subarray(start, start + SLOT_DATA)
      if (index === 0) target.set(first)
      const got = index === 0 ? n : await source.read(target)
      if (got === 0) break
      hashing[slot] = pool.sha.ask({ type: 'sha', id: index, from: start, to: start + got })
      size += got
      if (got < SLOT_DATA) break
    }
    await Promise.all(hashing)
    const end = await pool.sha.ask<Extract<IngestReply, { type: 'sha-end' }>>({
      type: 'sha-end',
      id: -1,
    })
    return { sha256: Buffer.from(end.digest).toString('hex'), size }
  })
}
