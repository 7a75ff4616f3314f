import { createWriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { MlvcError, uniqueName } from '../core/index.ts'
import type { RandomSource } from '../formats/index.ts'
import {
  blocks,
  type ChunkRef,
  contentSource,
  type FileManifest,
  readChunk,
  readManifest,
  type Store,
} from '../store/index.ts'
import { tensorDeltas } from './deltas.ts'

/** A stretch of the file: chunks (with their start offsets), or a delta part read back whole. */
interface Span {
  start: number
  end: number
  chunks?: { refs: ChunkRef[]; starts: number[] }
  delta?: string
}

export interface StoredFile extends RandomSource {
  /** Removes the temporary files that deltas were read back into. */
  close(): Promise<void>
}

async function spansOf(store: Store, manifest: FileManifest): Promise<Span[]> {
  const spans: Span[] = []
  let offset = 0
  for (const part of manifest.parts) {
    let refs: ChunkRef[] | undefined
    let delta: string | undefined
    if ('chunks' in part) {
      refs = part.chunks
    } else {
      const stored = await readManifest(store, part.ref)
      if (stored.type === 'part') refs = stored.chunks
      else delta = part.ref
    }
    const size = 'size' in part ? part.size : (refs ?? []).reduce((sum, [, n]) => sum + n, 0)
    const starts: number[] = []
    let at = offset
    for (const [, n] of refs ?? []) {
      starts.push(at)
      at += n
    }
    spans.push({
      start: offset,
      end: offset + size,
      ...(refs ? { chunks: { refs, starts } } : {}),
      ...(delta ? { delta } : {}),
    })
    offset += size
  }
  return spans
}

/**
 * A stored file read at offsets without writing it out — how diffs and merges read tensors of
 * versions that are only in the store. Every chunk is checked against its id when first read; the
 * last few are kept, since tensors are read front to back. A part stored as a delta is rebuilt once
 * into a temporary file in the store.
 */
export async function openStoredFile(
  store: Store,
  manifest: FileManifest,
  path: string,
): Promise<StoredFile> {
  const spans = await spansOf(store, manifest)
  const cache = new Map<string, Buffer>()
  const rebuilt = new Map<string, string>()
  const chunkBytes = (ref: ChunkRef): Buffer => {
    let data = cache.get(ref[0])
    if (!data) {
      data = readChunk(store, ref)
      cache.set(ref[0], data)
      if (cache.size > 8) cache.delete(cache.keys().next().value as string)
    }
    return data
  }
  async function deltaFile(id: string): Promise<string> {
    let file = rebuilt.get(id)
    if (!file) {
      file = join(store.layout.tmp, uniqueName('delta'))
      const source = contentSource(store, await readManifest(store, id), {
        deltas: tensorDeltas(),
        verifyChunks: true,
      })
      await pipeline(blocks(source), createWriteStream(file, { flags: 'wx' }))
      rebuilt.set(id, file)
    }
    return file
  }
  return {
    path,
    size: manifest.size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > manifest.size) {
        throw new MlvcError(
          'CORRUPT',
          `${path}: read of ${length} bytes at ${offset} leaves the file (${manifest.size} bytes)`,
        )
      }
      const out = Buffer.allocUnsafe(length)
      let done = 0
      for (const span of spans) {
        if (done === length) break
        const at = offset + done
        if (span.end <= at || span.start >= offset + length) continue
        const take = Math.min(span.end, offset + length) - at
        if (span.delta) {
          const handle = await open(await deltaFile(span.delta), 'r')
          try {
            await handle.read(out, done, take, at - span.start)
          } finally {
            await handle.close()
          }
          done += take
          continue
        }
        const { refs, starts } = span.chunks as { refs: ChunkRef[]; starts: number[] }
        let i = starts.findLastIndex((s) => s <= at)
        while (done < length && i < refs.length && (starts[i] as number) < offset + length) {
          const data = chunkBytes(refs[i] as ChunkRef)
          const from = offset + done - (starts[i] as number)
          const n = Math.min(data.length - from, length - done)
          data.copy(out, done, from, from + n)
          done += n
          i++
        }
      }
      return out
    },
    async close() {
      for (const file of rebuilt.values()) await rm(file, { force: true })
    },
  }
}
