import { closeSync, fsync, openSync, writeSync } from 'node:fs'
import { promisify } from 'node:util'
import { fsError, uniqueName, writeFileAtomic } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { createDigestList, type DigestList } from './digest-list.ts'
import { type Encoding, RAW } from './encoding.ts'
import { encodeIdxList } from './idx.ts'
import { idxFilePath, packFilePath, type StoreLayout } from './layout.ts'
import { MAX_PACK_BYTES, PACK_MAGIC, RECORD_HEADER } from './pack-format.ts'
import { createRecordSink, type RecordSink } from './record-sink.ts'
import type { Location } from './table.ts'

const fsyncAsync = promisify(fsync)

/** How a writer tells its store about a new pack and a new object. */
export interface PackSink {
  /** A new pack file was created; returns its number in the store's pack list. */
  addPack(name: string): number
  addObject(digest: Uint8Array, location: Location): void
}

export interface PackWriterOptions {
  layout: StoreLayout
  sink: PackSink
  /** @default true */
  fsync?: boolean
}

export interface PackWriter {
  /**
   * Appends one object's stored bytes (given as one or more pieces) and returns where they went.
   * Without `encoding` they are the raw object.
   */
  append(
    digest: Uint8Array,
    kind: ObjectKind,
    pieces: readonly Uint8Array[],
    encoding?: Encoding,
  ): Location
  /** Makes everything appended so far durable and visible to other processes (writes the indexes). */
  commit(): Promise<void>
  /** Commits and closes the pack files. */
  close(): Promise<void>
  /** Writes records still buffered to the open pack file (before reading it). */
  flush(): void
  readonly bytesWritten: number
}

interface OpenPack {
  name: string
  number: number
  fd: number
  sink: RecordSink
  size: number
  entries: DigestList
  committed: number
}

export function createPackWriter(options: PackWriterOptions): PackWriter {
  const { layout, sink } = options
  const durable = options.fsync !== false
  let current: OpenPack | undefined
  const closing: Promise<void>[] = []
  let bytesWritten = 0

  function openPack(): OpenPack {
    const name = uniqueName('pack')
    const path = packFilePath(layout, name)
    let fd: number
    try {
      fd = openSync(path, 'wx+')
      writeSync(fd, PACK_MAGIC)
    } catch (err) {
      throw fsError(err, 'creating pack', path)
    }
    return {
      name,
      number: sink.addPack(name),
      fd,
      sink: createRecordSink(fd, path),
      size: PACK_MAGIC.length,
      entries: createDigestList(),
      committed: 0,
    }
  }

  async function commitPack(pack: OpenPack): Promise<void> {
    if (pack.committed === pack.entries.count) return
    const count = pack.entries.count
    const path = packFilePath(layout, pack.name)
    pack.sink.flush()
    try {
      if (durable) await fsyncAsync(pack.fd)
    } catch (err) {
      throw fsError(err, 'syncing pack', path)
    }
    await writeFileAtomic(idxFilePath(layout, pack.name), encodeIdxList(pack.entries, count), {
      fsync: durable,
    })
    pack.committed = Math.max(pack.committed, count)
  }

  async function retire(pack: OpenPack): Promise<void> {
    try {
      await commitPack(pack)
    } finally {
      closeSync(pack.fd)
    }
  }

  /** Commits a full pack in the background; its fsync overlaps with filling the next one. */
  function retireLater(pack: OpenPack): void {
    const done = retire(pack)
    // Observed by the next commit(); this keeps a failure from being an unhandled rejection meanwhile.
    done.catch(() => undefined)
    closing.push(done)
  }

  return {
    get bytesWritten() {
      return bytesWritten
    },
    append(digest, kind, pieces, encoding) {
      if (current === undefined) current = openPack()
      const pack = current
      let length = 0
      for (const piece of pieces) length += piece.length
      const { codec, size } = encoding ?? { codec: RAW, size: length }
      const total = RECORD_HEADER + length
      pack.sink.write(pack.size, { digest, kind, codec, size }, pieces)
      const offset = pack.size + RECORD_HEADER
      pack.size += total
      bytesWritten += total
      pack.entries.push(digest, length, offset, kind, codec, size)
      const location: Location = { pack: pack.number, offset, length, kind, codec, size }
      sink.addObject(digest, location)
      if (pack.size >= MAX_PACK_BYTES) {
        current = undefined
        retireLater(pack)
      }
      return location
    },
    async commit() {
      const pending = closing.splice(0)
      const results = await Promise.allSettled([
        ...pending,
        current ? commitPack(current) : Promise.resolve(),
      ])
      for (const result of results) if (result.status === 'rejected') throw result.reason
    },
    flush() {
      current?.sink.flush()
    },
    async close() {
      const pack = current
      current = undefined
      if (pack) retireLater(pack)
      await this.commit()
    },
  }
}
