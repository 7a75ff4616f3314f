import { readFullSync } from '../core/index.ts'

/**
 * Bytes to store, read front to back. `read` fills `target` completely unless the source ends
 * first, and returns how many bytes it wrote (0 at the end).
 */
export interface ByteSource {
  read(target: Uint8Array): number | Promise<number>
  /** The total, when known up front (a file); lets small inputs skip the probe. */
  readonly size?: number
}

export function fileSource(fd: number, size?: number): ByteSource {
  let position = 0
  return {
    ...(size === undefined ? {} : { size }),
    read(target) {
      const done = readFullSync(fd, target, position)
      position += done
      return done
    },
  }
}

export function bufferSource(data: Uint8Array): ByteSource {
  let position = 0
  return {
    size: data.length,
    read(target) {
      const n = Math.min(target.length, data.length - position)
      target.set(data.subarray(position, position + n))
      position += n
      return n
    },
  }
}

/** A source that first serves `head`, then continues with `rest`. */
export function prefixedSource(head: Uint8Array, rest: ByteSource): ByteSource {
  let served = 0
  return {
    async read(target) {
      let done = 0
      if (served < head.length) {
        const n = Math.min(target.length, head.length - served)
        target.set(head.subarray(served, served + n))
        served += n
        done = n
      }
      if (done < target.length) done += await rest.read(target.subarray(done))
      return done
    },
  }
}

/** Adapts a stream of byte pieces (pkt-line payloads, a socket) to a ByteSource. */
export function iterableSource(pieces: AsyncIterable<Uint8Array>): ByteSource {
  const iterator = pieces[Symbol.asyncIterator]()
  let pending: Uint8Array | undefined
  let ended = false
  return {
    async read(target) {
      let done = 0
      while (done < target.length && !ended) {
        if (!pending || pending.length === 0) {
          const next = await iterator.next()
          if (next.done) {
            ended = true
            break
          }
          pending = next.value
        }
        const n = Math.min(target.length - done, pending.length)
        target.set(pending.subarray(0, n), done)
        pending = pending.subarray(n)
        done += n
      }
      return done
    },
  }
}
