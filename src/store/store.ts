import { closeSync, fstatSync, openSync, utimesSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import {
  ensureDir,
  fsError,
  isErrno,
  isMlvcError,
  MlvcError,
  matchesDigest,
  readFullSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../core/index.ts'
import { formatId, hex, type ObjectKind, parseId, sha256Digest } from './cid.ts'
import { recordDamage } from './damage.ts'
import {
  checkEncodedSize,
  decodeObject,
  type Encoding,
  encodeObject,
  MIN_ENCODED_SIZE,
} from './encoding.ts'
import { decodeIdx } from './idx.ts'
import {
  idxFilePath,
  packFilePath,
  STORE_VERSION,
  STORE_VERSION_1,
  type StoreLayout,
  storeLayout,
} from './layout.ts'
import { createPackWriter, type PackWriter } from './pack-writer.ts'
import { addPackEntries, createObjectTable, type Location, type ObjectTable } from './table.ts'

export interface StoreOptions {
  /** Create the folders if the store does not exist yet. @default false */
  create?: boolean
  /** fsync packs and indexes before reporting success. @default true */
  fsync?: boolean
  /**
   * Encode the file content this process writes (byte planes of floats, deflate of other data)
   * where it shrinks it; otherwise content is stored raw. Metadata (manifests, tensor tables) and
   * a checkpoint's deltas are deflated either way: small, and cheap to code. Objects already
   * stored keep their encoding, and every store reads every encoding. Off by default: with
   * node:zlib's Huffman coder it makes adding and reading tensor data 2–3× slower (BENCHMARKS.md,
   * compress). @default false
   */
  compress?: boolean
}

export interface PackInfo {
  name: string
  /** Written by this process (and not yet indexed on disk, possibly). */
  own: boolean
}

/**
 * An open content-addressed store. Objects are named by the sha-256 of their bytes and live in
 * packs; every read is checked against its digest.
 */
export interface Store {
  readonly layout: StoreLayout
  /** Whether new file content is encoded where it shrinks it (StoreOptions.compress). */
  readonly compress: boolean
  readonly packs: readonly PackInfo[]
  readonly table: ObjectTable
  lookup(digest: Uint8Array): Location | undefined
  /** True if the object is present (looking again on disk for packs other processes added). */
  has(id: string): Promise<boolean>
  /** Reads a whole object and verifies it. */
  readObject(id: string): Promise<Buffer>
  /**
   * Reads the object stored at `location`, decodes it and verifies it against `id`; damage is
   * recorded and thrown (see damaged).
   */
  readAt(id: string, location: Location): Buffer
  /** Reads `target.length` bytes at `offset` of pack `pack` into `target` (no verification). */
  readPack(pack: number, offset: number, target: Uint8Array): void
  /** The open file descriptor of pack `pack`, for worker threads reading it (see verify-pool). */
  packFd(pack: number): number
  /**
   * Stores a small object given whole (encoded with the general codec when that pays); returns its
   * id.
   */
  putObject(kind: ObjectKind, data: Uint8Array): string
  /**
   * Appends an object the store lacks, given whole as pieces, encoded with the general codec
   * when that pays (a manifest).
   */
  addObject(digest: Uint8Array, kind: ObjectKind, pieces: readonly Uint8Array[]): void
  /**
   * Stores a good copy of an object whose stored copy is damaged (checked by the caller): `data`
   * as stored (the raw object, without `encoding`). Reads use it from now on; other processes do
   * once the damaged copy leaves its pack's index (retireDamaged, after commit).
   */
  replace(digest: Uint8Array, kind: ObjectKind, data: Uint8Array, encoding?: Encoding): void
  /**
   * Records that the copy of `id` at `location` failed verification (so that fetch, pull and
   * `fsck --repair` replace it) and returns the error to throw: it names the object, the pack and
   * the offset, and says how to repair it.
   */
  damaged(id: string, location: Location, why: string): MlvcError
  writer(): PackWriter
  /** Makes every object written so far durable and visible to other processes. */
  commit(): Promise<void>
  /** Marks a pack as recently used so that gc keeps it (an object in it was reused). */
  freshen(pack: number): void
  /** Loads indexes that other processes wrote since the store was opened. */
  refresh(): Promise<void>
  close(): Promise<void>
}

/** What to do about a damaged object: fetch a good copy. */
export const REPAIR_HINT =
  'run mlvc fsck --repair to replace damaged objects with good copies from a remote'

/** The store's version: its own, or version 1 (read as it is, marked 2 on the first write). */
async function checkVersion(layout: StoreLayout, create: boolean): Promise<string> {
  try {
    const version = (await readFile(layout.version, 'utf8')).trim()
    if (version !== STORE_VERSION && version !== STORE_VERSION_1) {
      throw new MlvcError('CORRUPT', `${layout.root}: unsupported store version "${version}"`, {
        hint: 'this store was written by a newer mlvc; upgrade mlvc',
      })
    }
    return version
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError(err, 'reading', layout.version)
    if (!create) {
      throw new MlvcError('NOT_FOUND', `no mlvc store at ${layout.root}`, {
        hint: 'run mlvc init, or set store.path in .mlvc/config.yaml',
      })
    }
    for (const dir of [layout.root, layout.packs, layout.pins, layout.tmp, layout.locks]) {
      await ensureDir(dir)
    }
    await writeFileAtomic(layout.version, `${STORE_VERSION}\n`)
    return STORE_VERSION
  }
}

export async function openStore(root: string, options: StoreOptions = {}): Promise<Store> {
  const layout = storeLayout(root)
  let version = await checkVersion(layout, options.create === true)
  const packs: PackInfo[] = []
  const byName = new Map<string, number>()
  const table = createObjectTable()
  const readFds = new Map<number, number>()
  const freshened = new Set<number>()
  const loadedIdx = new Map<string, string>()
  let packWriter: PackWriter | undefined

  function addPack(name: string, own: boolean): number {
    const known = byName.get(name)
    if (known !== undefined) return known
    packs.push({ name, own })
    byName.set(name, packs.length - 1)
    return packs.length - 1
  }

  async function loadIndexes(): Promise<void> {
    let names: string[]
    try {
      names = await readdir(layout.packs)
    } catch (err) {
      throw fsError(err, 'listing', layout.packs)
    }
    for (const file of names.sort()) {
      if (!file.endsWith('.idx')) continue
      const name = file.slice(0, -4)
      const known = byName.get(name)
      if (known !== undefined && packs[known]?.own) continue
      const path = idxFilePath(layout, name)
      let data: Buffer
      try {
        const info = await stat(path)
        const version = `${info.size}:${info.mtimeMs}:${info.ino}`
        if (loadedIdx.get(name) === version) continue
        data = await readFile(path)
        loadedIdx.set(name, version)
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue
        throw fsError(err, 'reading', path)
      }
      let entries: ReturnType<typeof decodeIdx>
      try {
        entries = decodeIdx(data, path)
      } catch (err) {
        // A garbled index hides only its own pack's objects (they read as missing, so fetch and
        // pull get them again); fsck reports it and `fsck --repair` rebuilds it from the pack.
        if (err instanceof MlvcError && err.code === 'CORRUPT') continue
        throw err
      }
      const number = addPack(name, false)
      addPackEntries(table, number, entries)
    }
  }

  /** A pack's descriptor for reading; records this process still buffers are written first. */
  function fdOf(pack: number): number {
    if (packs[pack]?.own) packWriter?.flush()
    let fd = readFds.get(pack)
    if (fd === undefined) {
      const path = packFilePath(layout, packs[pack]?.name ?? '')
      try {
        fd = openSync(path, 'r')
      } catch (err) {
        throw fsError(err, 'opening pack', path)
      }
      readFds.set(pack, fd)
    }
    return fd
  }

  function readPack(pack: number, offset: number, target: Uint8Array): void {
    const fd = fdOf(pack)
    if (readFullSync(fd, target, offset) < target.length) {
      const size = fstatSync(fd).size
      throw new MlvcError(
        'CORRUPT',
        `pack ${packs[pack]?.name} is truncated: it has ${size} bytes, bytes ${offset} to ${offset + target.length} were wanted`,
        { hint: REPAIR_HINT },
      )
    }
  }

  function damaged(id: string, location: Location, why: string): MlvcError {
    const name = packs[location.pack]?.name ?? `#${location.pack}`
    recordDamage(layout, { id, pack: name, offset: location.offset })
    const what = parseId(id).kind === 'chunk' ? 'chunk' : 'manifest'
    return new MlvcError(
      'CORRUPT',
      `${what} ${id} at offset ${location.offset} of pack ${name} is damaged: ${why}`,
      { hint: REPAIR_HINT },
    )
  }

  function readAt(id: string, location: Location): Buffer {
    let data: Buffer
    try {
      checkEncodedSize(location.codec, location.length, location.size)
      const stored = Buffer.allocUnsafe(location.length)
      readPack(location.pack, location.offset, stored)
      data = decodeObject(stored, location.codec, location.size)
    } catch (err) {
      if (isMlvcError(err, 'CORRUPT')) throw damaged(id, location, err.message)
      throw err
    }
    if (!matchesDigest(data, parseId(id).digest))
      throw damaged(id, location, 'its bytes do not match its id')
    return data
  }

  /** Marks a version 1 store as version 2 before the first pack of format 2 goes into it. */
  function upgrade(): void {
    if (version === STORE_VERSION) return
    try {
      writeFileAtomicSync(layout.version, `${STORE_VERSION}\n`)
    } catch (err) {
      throw fsError(err, 'writing', layout.version)
    }
    version = STORE_VERSION
  }

  function addObject(digest: Uint8Array, kind: ObjectKind, pieces: readonly Uint8Array[]): void {
    let size = 0
    for (const piece of pieces) size += piece.length
    const whole = size < MIN_ENCODED_SIZE ? undefined : Buffer.concat(pieces, size)
    // Manifests are deflated whatever Store.compress says: small, and text.
    const encoded = whole && encodeObject(whole, 'bytes')
    if (encoded)
      store.writer().append(digest, kind, [encoded.bytes], { codec: encoded.codec, size })
    else store.writer().append(digest, kind, pieces)
  }

  await loadIndexes()

  const store: Store = {
    layout,
    compress: options.compress === true,
    packs,
    table,
    lookup: (digest) => table.get(digest),
    async has(id) {
      const { digest } = parseId(id)
      if (table.get(digest)) return true
      await loadIndexes()
      return table.get(digest) !== undefined
    },
    async readObject(id) {
      const { digest, kind } = parseId(id)
      let location = table.get(digest)
      if (!location) {
        await loadIndexes()
        location = table.get(digest)
      }
      if (!location || location.kind !== kind) {
        throw new MlvcError('MISSING_OBJECT', `object ${id} is not in the store at ${root}`, {
          hint: 'fetch it from a remote (mlvc pull), or check the id',
        })
      }
      return readAt(id, location)
    },
    readAt,
    readPack,
    packFd: fdOf,
    damaged,
    replace(digest, kind, data, encoding) {
      table.set(digest, store.writer().append(digest, kind, [data], encoding))
    },
    putObject(kind, data) {
      const digest = sha256Digest(data)
      const known = table.get(digest)
      if (known) store.freshen(known.pack)
      else addObject(digest, kind, [data])
      return formatId(kind, digest)
    },
    addObject,
    writer() {
      if (!packWriter) upgrade()
      packWriter ??= createPackWriter({
        layout,
        fsync: options.fsync !== false,
        sink: { addPack: (name) => addPack(name, true), addObject: (d, l) => table.add(d, l) },
      })
      return packWriter
    },
    async commit() {
      await packWriter?.commit()
    },
    freshen(pack) {
      if (freshened.has(pack) || packs[pack]?.own) return
      freshened.add(pack)
      const now = new Date()
      try {
        utimesSync(packFilePath(layout, packs[pack]?.name ?? ''), now, now)
      } catch {
        // A pack that vanished (a concurrent gc) is caught when the object is read.
      }
    },
    refresh: loadIndexes,
    async close() {
      try {
        await packWriter?.close()
      } finally {
        packWriter = undefined
        for (const fd of readFds.values()) closeSync(fd)
        readFds.clear()
      }
    },
  }
  return store
}

/** Bytes the store takes on disk (packs and indexes). */
export async function storeSize(store: Store): Promise<number> {
  let total = 0
  for (const file of await readdir(store.layout.packs)) {
    total += (await stat(`${store.layout.packs}/${file}`)).size
  }
  return total
}

export { hex }
