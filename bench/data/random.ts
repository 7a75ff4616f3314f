import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { cachedFile } from './cache.ts'
import { BLOCK, keystream } from './keystream.ts'

/** Bump when the bytes a generator writes change, so cached files are not reused. */
const VERSION = 1
export const INSERT_BYTES = 1 << 20

function writeAll(fd: number, data: Uint8Array): void {
  let done = 0
  while (done < data.length) done += writeSync(fd, data, done, data.length - done)
}

function writeRandom(path: string, size: number, seed: string): void {
  const next = keystream(seed)
  const fd = openSync(path, 'w')
  try {
    for (let left = size; left > 0; left -= Math.min(BLOCK, left)) {
      writeAll(fd, next(Math.min(BLOCK, left)))
    }
  } finally {
    closeSync(fd)
  }
}

/** Copies `length` bytes of `src` from `pos` to the current end of `out`, in blocks. */
function copyRange(src: number, out: number, pos: number, length: number): void {
  const buffer = Buffer.allocUnsafe(BLOCK)
  for (let done = 0; done < length; ) {
    const n = readSync(src, buffer, 0, Math.min(BLOCK, length - done), pos + done)
    if (n === 0) throw new Error(`unexpected end of input at byte ${pos + done}`)
    writeAll(out, buffer.subarray(0, n))
    done += n
  }
}

function writeInserted(path: string, base: string, size: number): void {
  const half = Math.floor(size / 2)
  const src = openSync(base, 'r')
  const out = openSync(path, 'w')
  try {
    copyRange(src, out, 0, half)
    writeAll(out, keystream(`insert-${size}`)(INSERT_BYTES))
    copyRange(src, out, half, size - half)
  } finally {
    closeSync(src)
    closeSync(out)
  }
}

/** `size` pseudo-random bytes, written once into `dataDir` and reused. */
export function randomFile(dataDir: string, size: number): Promise<string> {
  const path = join(dataDir, `random-v${VERSION}-${size}.bin`)
  return cachedFile(path, async (tmp) => writeRandom(tmp, size, `random-${size}`))
}

/** The random file of `size` with 1 MiB of other random bytes inserted in the middle. */
export async function insertedFile(dataDir: string, size: number): Promise<string> {
  const base = await randomFile(dataDir, size)
  const path = join(dataDir, `random-v${VERSION}-${size}-insert1m.bin`)
  return cachedFile(path, async (tmp) => writeInserted(tmp, base, size))
}
