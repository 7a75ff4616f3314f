import { read, writeSync } from 'node:fs'
import { promisify } from 'node:util'
import { isErrno } from '../core/index.ts'

const readAsync = promisify(read)
const pause = () => new Promise((resolve) => setTimeout(resolve, 1))

/**
 * Reads a file descriptor (a pipe from git) in 1 MiB pieces. Raw fd reads instead of
 * process.stdin: bigger reads, and no stream machinery between git and the chunker.
 */
export async function* readFd(fd: number, size = 1024 * 1024): AsyncIterable<Buffer> {
  for (;;) {
    const buffer = Buffer.allocUnsafe(size)
    let bytesRead: number
    try {
      ;({ bytesRead } = await readAsync(fd, buffer, 0, size, null))
    } catch (err) {
      if (isErrno(err, 'EAGAIN')) {
        await pause()
        continue
      }
      throw err
    }
    if (bytesRead === 0) return
    yield buffer.subarray(0, bytesRead)
  }
}

/** Writes every byte to `fd`, waiting out EAGAIN if the descriptor is non-blocking. */
export function writeFdSync(fd: number, data: Uint8Array): void {
  let done = 0
  while (done < data.length) {
    try {
      done += writeSync(fd, data, done, data.length - done)
    } catch (err) {
      if (!isErrno(err, 'EAGAIN')) throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    }
  }
}
