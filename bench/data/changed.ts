import { closeSync, copyFileSync, openSync, readSync, writeSync } from 'node:fs'
import { BLOCK } from './keystream.ts'

export interface Region {
  offset: number
  length: number
}

/**
 * The one contiguous run of bytes a second version changes: `fraction` of the file, starting at
 * 37% of it (not at a round offset, so no chunker is favoured by alignment).
 */
export function changedRegion(size: number, fraction: number): Region {
  const length = Math.max(1, Math.round(size * fraction))
  const offset = Math.min(Math.floor(size * 0.37), size - length)
  return { offset: Math.max(0, offset), length: Math.min(length, size) }
}

/** Inverts every byte of `data` in place: each one is then certain to differ. */
export function invert(data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) ^ 0xff
}

/**
 * Writes `dst`: a copy of `src` with every byte of `region` changed. Used for a second version
 * that is written into the run folder and removed with it, not cached (it would be another copy
 * of the input in .bench/data).
 */
export function writeChangedCopy(src: string, dst: string, region: Region): void {
  copyFileSync(src, dst)
  const fd = openSync(dst, 'r+')
  const buffer = Buffer.allocUnsafe(BLOCK)
  try {
    for (let done = 0; done < region.length; ) {
      const pos = region.offset + done
      const n = readSync(fd, buffer, 0, Math.min(BLOCK, region.length - done), pos)
      if (n === 0) throw new Error(`${dst}: unexpected end of file at byte ${pos}`)
      const part = buffer.subarray(0, n)
      invert(part)
      for (let w = 0; w < n; ) w += writeSync(fd, part, w, n - w, pos + w)
      done += n
    }
  } finally {
    closeSync(fd)
  }
}
