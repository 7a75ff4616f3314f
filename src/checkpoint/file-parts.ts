import type { FileManifest, FilePart } from '../store/index.ts'

/** The bytes a file manifest's part holds: its inline chunks, or the part or delta it refers to. */
export function partSize(part: FilePart): number {
  if ('ref' in part) return part.size
  let size = 0
  for (const [, length] of part.chunks) size += length
  return size
}

/** A part of a file manifest and the bytes [start, end) of the file it holds. */
export interface PlacedPart {
  part: FilePart
  start: number
  end: number
}

/** The parts of a file manifest in order, each with the range of the file it holds. */
export function* placedParts(manifest: FileManifest): Generator<PlacedPart> {
  let start = 0
  for (const part of manifest.parts) {
    const end = start + partSize(part)
    yield { part, start, end }
    start = end
  }
}
