import { createWriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { MlvcError, must, uniqueName } from '../core/index.ts'
import type { RandomSource } from '../formats/index.ts'
import {
  type ByteSource,
  blocks,
  type ChunkRef,
  contentSource,
  type FileManifest,
  readChunksVerified,
  readManifest,
  type Store,
} from '../store/index.ts'
import { tensorDeltas } from './deltas.ts'
import { placedParts } from './file-parts.ts'

/**
 * A stretch of the file: chunks (with their start offsets), or a delta part read back whole. A
 * part given by reference is looked up (`ref`) when first read: a file may have 200,000 parts, and
 * a diff or merge reads only a few of them.
 */
interface Span {
  start: number
  end: number
  ref?: string | undefined
  chunks?: Chunks
  delta?: string
}

/**
 * A part's chunks, grouped into windows of about WINDOW bytes: windows[w] is the index of window
 * w's first chunk.
 */
interface Chunks {
  refs: ChunkRef[]
  windows: number[]
  /** Offset in the file of each window. */
  windowStarts: number[]
}

/** Bytes read and checked at a time (one message to a verifying worker), by default. */
const WINDOW = 4 * 1024 * 1024
/** Windows read ahead of the one asked for, and windows kept. */
const READ_AHEAD = 2
const KEPT = 6

function chunksAt(refs: ChunkRef[], offset: number, windowBytes: number): Chunks {
  const windows: number[] = []
  const windowStarts: number[] = []
  let at = offset
  let windowStart = Number.NEGATIVE_INFINITY
  for (const [i, [, n]] of refs.entries()) {
    if (at - windowStart >= windowBytes) {
      windows.push(i)
      windowStarts.push(at)
      windowStart = at
    }
    at += n
  }
  return { refs, windows, windowStarts }
}

/** Bytes skipped over when a read of a delta part starts ahead of where the last one ended. */
const SKIP = new Uint8Array(1024 * 1024)

/** Reads exactly target.length bytes from a sequential source; CORRUPT if it ends first. */
async function readFully(source: ByteSource, target: Uint8Array, path: string): Promise<number> {
  let done = 0
  while (done < target.length) {
    const n = await source.read(target.subarray(done))
    if (n === 0) throw new MlvcError('CORRUPT', `${path}: a stored part ends before its size`)
    done += n
  }
  return done
}

interface Window {
  bytes: Promise<Buffer>
  memory: SharedArrayBuffer
  /** Reads copying from it now. */
  users: number
  evicted: boolean
  settled: boolean
  recycled: boolean
}

/** The largest index i with values[i] <= x (values sorted, values[0] <= x). */
function floorIndex(values: readonly number[], x: number): number {
  let lo = 0
  let hi = values.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (must(values[mid], 'a sorted value') <= x) lo = mid
    else hi = mid - 1
  }
  return lo
}

export interface StoredFile extends RandomSource {
  /** Reads target.length bytes at `offset` into `target`; returns it. */
  readInto(offset: number, target: Uint8Array): Promise<Uint8Array>
  /** Removes the temporary files that deltas were read back into. */
  close(): Promise<void>
}

function spansOf(manifest: FileManifest, windowBytes: number): Span[] {
  const spans: Span[] = []
  for (const { part, start, end } of placedParts(manifest)) {
    if ('chunks' in part)
      spans.push({ start, end, chunks: chunksAt(part.chunks, start, windowBytes) })
    else spans.push({ start, end, ref: part.ref })
  }
  return spans
}

/** Looks up a span's part (once): its chunks, or that it is a delta. */
async function resolveSpan(store: Store, span: Span, windowBytes: number): Promise<void> {
  const ref = span.ref
  if (ref === undefined) return
  const stored = await readManifest(store, ref)
  if (stored.type === 'part') span.chunks = chunksAt(stored.chunks, span.start, windowBytes)
  else span.delta = ref
  span.ref = undefined
}

/**
 * A stored file read at offsets without writing it out — how diffs and merges read tensors of
 * versions that are only in the store. Chunks are read a window (about 4 MiB) at a time into shared
 * memory and checked against their ids on worker threads before any of their bytes is returned;
 * reads front to back have the next windows read and checked meanwhile. A part stored as a delta
 * is read with its patch applied as the bytes stream while reads go front to back; a read behind
 * (a second pass) has it rebuilt once into a temporary file in the store.
 */
export async function openStoredFile(
  store: Store,
  manifest: FileManifest,
  path: string,
  options: { windowBytes?: number } = {},
): Promise<StoredFile> {
  const windowBytes = options.windowBytes ?? WINDOW
  const spans = spansOf(manifest, windowBytes)
  const starts = spans.map((span) => span.start)
  const cache = new Map<string, Window>()
  const rebuilt = new Map<string, Promise<string>>()
  // Window memory is reused once a window has left the cache, its check has finished and no read
  // is copying from it; reads copy out of windows, so nothing else refers to it.
  const spare: SharedArrayBuffer[] = []
  const recycle = (win: Window) => {
    if (win.evicted && win.settled && win.users === 0 && !win.recycled) {
      win.recycled = true
      spare.push(win.memory)
    }
  }
  const request = (span: number, w: number): Window => {
    const key = `${span}:${w}`
    let win = cache.get(key)
    if (!win) {
      const { refs, windows } = (spans[span] as Span).chunks as Chunks
      const memory = spare.pop() ?? new SharedArrayBuffer(windowBytes + 2 * 1024 * 1024)
      const bytes = readChunksVerified(
        store,
        refs.slice(windows[w], windows[w + 1] ?? refs.length),
        memory,
      )
      const created: Window = {
        bytes,
        memory,
        users: 0,
        evicted: false,
        settled: false,
        recycled: false,
      }
      // Settling also keeps a window read ahead and never asked for from an unhandled rejection.
      const settle = () => {
        created.settled = true
        recycle(created)
      }
      bytes.then(settle, settle)
      win = created
      cache.set(key, win)
      if (cache.size > KEPT) {
        const [oldest, old] = cache.entries().next().value as [string, Window]
        cache.delete(oldest)
        old.evicted = true
        recycle(old)
      }
    }
    return win
  }
  /**
   * Window w of a span, held for a read (release it after), with the next ones requested. It is
   * held before the read-ahead, which may push it out of the cache.
   */
  const acquire = (span: number, w: number): Window => {
    const win = request(span, w)
    win.users++
    const count = ((spans[span] as Span).chunks as Chunks).windows.length
    for (let k = w + 1; k < Math.min(count, w + 1 + READ_AHEAD); k++) request(span, k)
    return win
  }
  /**
   * A delta part read front to back, its patch applied as the bytes stream: where the reads of
   * that part have got to. One read at a time (`busy`); a read behind the cursor, or while it is
   * busy, goes to the rebuilt file instead.
   */
  const cursors = new Map<string, { source: ByteSource; position: number; busy: boolean }>()
  async function readForward(
    span: Span,
    id: string,
    at: number,
    target: Uint8Array,
  ): Promise<boolean> {
    if (rebuilt.has(id)) return false
    let cursor = cursors.get(id)
    if (!cursor) {
      const source = contentSource(store, await readManifest(store, id), {
        deltas: tensorDeltas(),
        verifyChunks: true,
      })
      cursor = { source, position: 0, busy: false }
      cursors.set(id, cursor)
      // Each holds a part of its patch and base in memory: keep the last few only.
      for (const [other, c] of cursors) if (cursors.size > 4 && !c.busy) cursors.delete(other)
    }
    const relative = at - span.start
    if (cursor.busy || cursor.position > relative) return false
    cursor.busy = true
    try {
      while (cursor.position < relative) {
        const skip = Math.min(relative - cursor.position, SKIP.length)
        cursor.position += await readFully(cursor.source, SKIP.subarray(0, skip), path)
      }
      cursor.position += await readFully(cursor.source, target, path)
    } finally {
      cursor.busy = false
    }
    if (cursor.position === span.end - span.start) cursors.delete(id)
    return true
  }
  /** The delta part rebuilt into a temporary file, once even for concurrent reads. */
  function deltaFile(id: string): Promise<string> {
    let file = rebuilt.get(id)
    if (!file) {
      const tmp = join(store.layout.tmp, uniqueName('delta'))
      file = (async () => {
        const source = contentSource(store, await readManifest(store, id), {
          deltas: tensorDeltas(),
          verifyChunks: true,
        })
        await pipeline(blocks(source), createWriteStream(tmp, { flags: 'wx' }))
        return tmp
      })()
      file.catch(() => rm(tmp, { force: true }))
      rebuilt.set(id, file)
    }
    return file
  }
  const outside = (offset: number, length: number) =>
    new MlvcError(
      'CORRUPT',
      `${path}: read of ${length} bytes at ${offset} leaves the file (${manifest.size} bytes)`,
    )
  const readInto = async (offset: number, target: Uint8Array): Promise<Uint8Array> => {
    const length = target.length
    if (offset < 0 || offset + length > manifest.size) throw outside(offset, length)
    let done = 0
    for (let s = floorIndex(starts, offset); done < length; s++) {
      const span = spans[s] as Span
      await resolveSpan(store, span, windowBytes)
      const at = offset + done
      const take = Math.min(span.end, offset + length) - at
      if (span.delta) {
        const piece = target.subarray(done, done + take)
        if (!(await readForward(span, span.delta, at, piece))) {
          const handle = await open(await deltaFile(span.delta), 'r')
          try {
            await handle.read(piece, 0, take, at - span.start)
          } finally {
            await handle.close()
          }
        }
        done += take
        continue
      }
      const chunks = span.chunks as Chunks
      for (
        let w = floorIndex(chunks.windowStarts, at);
        done < length && w < chunks.windows.length;
        w++
      ) {
        const win = acquire(s, w)
        try {
          const data = await win.bytes
          const from = offset + done - must(chunks.windowStarts[w], 'a window start')
          const n = Math.min(data.length - from, length - done)
          data.copy(target, done, from, from + n)
          done += n
        } finally {
          win.users--
          recycle(win)
        }
      }
    }
    return target
  }
  return {
    path,
    size: manifest.size,
    read: async (offset, length) => {
      if (length < 0) throw outside(offset, length)
      return readInto(offset, Buffer.allocUnsafe(length))
    },
    readInto,
    async close() {
      for (const file of rebuilt.values()) {
        const path = await file.catch(() => undefined)
        if (path) await rm(path, { force: true })
      }
    },
  }
}
