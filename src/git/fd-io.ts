import { readSync, writeSync } from 'node:fs'
import { isErrno } from '../core/index.ts'

const pause = () => new Promise((resolve) => setTimeout(resolve, 1))

/**
 * Reads a file descriptor (a pipe from git), yielding each read as a view into one of four reused
 * 1 MiB buffers. A view stays valid until three more buffers have been filled: consumers copy what
 * they keep (the packet reader and iterableSource do). Reusing memory matters here: fresh buffers
 * cost a page fault per 4 KiB, which on this VM made reading a 1 GiB pipe take 1.4 s.
 * Reads are synchronous: one blocking read returns whatever git has written (it never waits for
 * more), and an async read's thread-pool hop per 64 KiB pipe read costs more than the hashing.
 */
export async function* readFd(fd: number, size = 1024 * 1024): AsyncIterable<Buffer> {
  const buffers = Array.from({ length: 4 }, () => Buffer.allocUnsafeSlow(size))
  let current = 0
  let offset = 0
  for (;;) {
    if (size - offset < 128 * 1024) {
      current = (current + 1) % buffers.length
      offset = 0
    }
    const buffer = buffers[current] as Buffer
    let bytesRead: number
    try {
      bytesRead = readSync(fd, buffer, offset, size - offset, null)
    } catch (err) {
      if (isErrno(err, 'EAGAIN')) {
        await pause()
        continue
      }
      throw err
    }
    if (bytesRead === 0) return
    yield buffer.subarray(offset, offset + bytesRead)
    offset += bytesRead
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
