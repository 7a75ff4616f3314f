/**
 * Reads chunks from packs and checks them against their ids, off the main thread. Request:
 * { id, data, fds, offsets, lengths, digests } — chunk i is read from pack file descriptor fds[i]
 * at offsets[i] (lengths[i] bytes) into `data` (shared memory), right after chunk i - 1, and
 * compared with the 32-byte sha-256 digests[32i, 32i + 32). Reply: { id, bad, truncated }: the
 * index of the first chunk that does not match (or could not be read whole), or -1.
 */
import { createHash } from 'node:crypto'
import { readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

export interface VerifyRequest {
  id: number
  data: Uint8Array
  fds: Int32Array
  offsets: Float64Array
  lengths: Int32Array
  digests: Uint8Array
}

export interface VerifyReply {
  id: number
  bad: number
  /** The bad chunk could not be read whole: its pack is shorter than the index says. */
  truncated: boolean
  /** A read failed: the error's message. */
  error?: string
}

function check(req: VerifyRequest): VerifyReply {
  let at = 0
  for (let i = 0; i < req.lengths.length; i++) {
    const length = req.lengths[i] as number
    const offset = req.offsets[i] as number
    let done = 0
    while (done < length) {
      const n = readSync(req.fds[i] as number, req.data, at + done, length - done, offset + done)
      if (n === 0) return { id: req.id, bad: i, truncated: true }
      done += n
    }
    const digest = createHash('sha256')
      .update(req.data.subarray(at, at + length))
      .digest()
    if (!digest.equals(req.digests.subarray(i * 32, i * 32 + 32))) {
      return { id: req.id, bad: i, truncated: false }
    }
    at += length
  }
  return { id: req.id, bad: -1, truncated: false }
}

parentPort?.on('message', (req: VerifyRequest) => {
  let reply: VerifyReply
  try {
    reply = check(req)
  } catch (err) {
    reply = { id: req.id, bad: -1, truncated: false, error: (err as Error).message }
  }
  parentPort?.postMessage(reply)
})
