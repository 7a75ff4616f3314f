import { open, rename, rm, stat } from 'node:fs/promises'
import { MlvcError, readFull, uniqueName } from '../core/index.ts'
import {
  HEADER_BYTES,
  type MasterKey,
  nameCipher,
  type Opener,
  opener,
  openObject,
  SEALED_SEGMENT_BYTES,
  SEGMENT,
  sealedRange,
  sealedSize,
  sealer,
  sealObject,
} from './crypt.ts'
import type { Remote, RemoteObjectInfo } from './remote.ts'

/**
 * The marker an encrypted remote keeps at its root, in the clear: which key encrypts it, and a
 * sealed check value that proves a key is that one. Plain remotes never have it.
 */
export const MARKER_KEY = 'mlvc-encryption.json'
const CHECK = 'mlvc key check v1'

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** Plaintext size of a sealed object of `size` bytes. */
function plainSize(size: number): number {
  const segments = Math.max(1, Math.ceil((size - HEADER_BYTES) / SEALED_SEGMENT_BYTES))
  return Math.max(0, size - HEADER_BYTES - segments * (SEALED_SEGMENT_BYTES - SEGMENT))
}

/**
 * Wraps a remote so that the storage provider sees neither content nor names: every object is
 * sealed (crypt.ts: AES-256-GCM in 64 KiB segments, bound to its name) and every key segment is
 * encrypted deterministically (`packs/x.pack` → `<sealed packs>/<sealed x.pack>`), so lookups,
 * listings and range reads still work and holders of the key still deduplicate through the pack
 * indexes. Range reads fetch the whole segments around the range and authenticate each one.
 */
export function encryptedRemote(inner: Remote, loadKey: () => Promise<MasterKey>): Remote {
  let ready: Promise<{ key: MasterKey; names: ReturnType<typeof nameCipher> }> | undefined
  const openers = new Map<string, Opener>()

  function unlock() {
    ready ??= (async () => {
      const key = await loadKey()
      await checkMarker(inner, key)
      return { key, names: nameCipher(key) }
    })()
    return ready
  }

  async function sealedKey(key: string): Promise<string> {
    const { names } = await unlock()
    return key
      .split('/')
      .map((part) => names.seal(part))
      .join('/')
  }

  const where = (key: string) => `remote ${inner.name}: ${key}`

  async function headerOf(key: string, stored: string): Promise<Opener> {
    const known = openers.get(stored)
    if (known) return known
    const { key: master } = await unlock()
    const header = await inner.getRange(stored, 0, HEADER_BYTES)
    const o = opener(master, key, header, where(key))
    if (openers.size >= 4096) openers.clear()
    openers.set(stored, o)
    return o
  }

  /**
   * Opens the sealed segments `data` (the first is segment `first`) and writes their plaintext
   * from byte `skip` on into `out`, as much as it holds; returns the bytes written.
   */
  function openSegments(o: Opener, data: Buffer, first: number, out: Buffer, skip = 0): number {
    let written = 0
    let at = -skip // where the current segment's plaintext starts in `out`
    for (let i = 0, pos = 0; pos < data.length && at < out.length; i++) {
      const size = Math.min(SEALED_SEGMENT_BYTES, data.length - pos)
      const plain = o.open(first + i, data.subarray(pos, pos + size))
      const from = Math.max(0, -at)
      written += plain.copy(out, at + from, from, Math.min(plain.length, out.length - at))
      at += plain.length
      pos += size
    }
    return written
  }

  /** Buffers the sealed bytes of ranges are read into, reused (see getRange). */
  const sealedSpare: Buffer[] = []

  return {
    name: inner.name,
    url: inner.url,
    async *list(prefix, options) {
      const { names } = await unlock()
      const slash = prefix.lastIndexOf('/')
      const dir = prefix.slice(0, slash + 1)
      const sealedDir = dir === '' ? '' : `${await sealedKey(dir.slice(0, -1))}/`
      for await (const info of inner.list(sealedDir, options)) {
        const parts = info.key.split('/').map((p) => names.open(p))
        if (parts.some((p) => p === undefined)) continue // the marker, or foreign objects
        const key = parts.join('/')
        if (key.startsWith(prefix))
          yield { key, size: plainSize(info.size) } satisfies RemoteObjectInfo
      }
    },
    async head(key, options) {
      const info = await inner.head(await sealedKey(key), options)
      return info ? { key, size: plainSize(info.size) } : undefined
    },
    async get(key, options) {
      const { key: master } = await unlock()
      return openObject(master, key, await inner.get(await sealedKey(key), options), where(key))
    },
    async getRange(key, offset, length, options) {
      if (length === 0) return Buffer.alloc(0)
      const stored = await sealedKey(key)
      const o = await headerOf(key, stored)
      if (offset + length > o.length) {
        throw new MlvcError(
          'REMOTE',
          `${where(key)} has ${o.length} bytes; wanted ${length} at ${offset}`,
          {
            hint: `the object is shorter than its index says: run mlvc fsck --remote ${inner.name}`,
          },
        )
      }
      const span = sealedRange(offset, length, o.length)
      const sealedLength = span.end - span.start
      let spare = sealedSpare.pop()
      if (!spare || spare.length < sealedLength) spare = Buffer.allocUnsafe(sealedLength)
      try {
        const data = await inner.getRange(stored, span.start, sealedLength, {
          ...options,
          into: spare,
        })
        // Whole segments are opened: the plaintext starts `skip` bytes before `offset`. It goes
        // into the caller's buffer when there is one (a fetch's shared memory, which its verify
        // workers read without a copy).
        const into = options?.into
        const plain =
          into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length)
        openSegments(o, data, span.first, plain, offset - span.first * SEGMENT)
        return plain
      } finally {
        sealedSpare.push(spare)
      }
    },
    async download(key, path, options) {
      const tmp = `${path}.${uniqueName('sealed')}`
      try {
        await inner.download(await sealedKey(key), tmp, options)
        await decryptFile(key, tmp, path)
      } finally {
        await rm(tmp, { force: true })
      }
    },
    async put(key, data, options) {
      const { key: master } = await unlock()
      const plain = typeof data === 'string' ? Buffer.from(data) : data
      await inner.put(await sealedKey(key), sealObject(master, key, plain), options)
    },
    async create(key, data, options) {
      const { key: master } = await unlock()
      const plain = typeof data === 'string' ? Buffer.from(data) : data
      return inner.create(await sealedKey(key), sealObject(master, key, plain), options)
    },
    async upload(path, key, options) {
      // A resumable upload reuses the sealed file an interrupted one left (sealing again would
      // draw a new salt: other bytes, so nothing already sent could be kept).
      const sealed = options?.resumable ? `${path}.sealed` : `${path}.${uniqueName('sealed')}`
      let keep = false
      try {
        if (!options?.resumable || !(await isFile(sealed))) {
          const tmp = `${sealed}.${uniqueName('tmp')}`
          try {
            await encryptFile(path, key, tmp)
            await rename(tmp, sealed)
          } finally {
            await rm(tmp, { force: true })
          }
        }
        keep = options?.resumable === true
        await inner.upload(sealed, await sealedKey(key), options)
        keep = false
      } finally {
        if (!keep) await rm(sealed, { force: true })
      }
    },
    async delete(key, options) {
      await inner.delete(await sealedKey(key), options)
    },
    ...(inner.abandonedUploads ? { abandonedUploads: inner.abandonedUploads.bind(inner) } : {}),
  }

  async function encryptFile(path: string, name: string, out: string): Promise<void> {
    const { key: master } = await unlock()
    const input = await open(path, 'r')
    const output = await open(out, 'wx')
    try {
      const size = (await input.stat()).size
      const s = sealer(master, name, size)
      await output.write(s.header)
      const segments = Math.max(1, Math.ceil(size / SEGMENT))
      const block = Buffer.allocUnsafe(SEGMENT * 64)
      for (let i = 0; i < segments; ) {
        const batch = Math.min(64, segments - i)
        const want = Math.min(batch * SEGMENT, size - i * SEGMENT)
        if ((await readFull(input, block.subarray(0, want), i * SEGMENT)) !== want) {
          throw new MlvcError('IO', `${path} shrank while it was encrypted`)
        }
        const sealed: Buffer[] = []
        for (let j = 0; j < batch; j++) {
          sealed.push(s.seal(i + j, block.subarray(j * SEGMENT, Math.min(want, (j + 1) * SEGMENT))))
        }
        await output.writev(sealed)
        i += batch
      }
    } finally {
      await Promise.all([input.close(), output.close()])
    }
  }

  async function decryptFile(name: string, sealedPath: string, out: string): Promise<void> {
    const { key: master } = await unlock()
    const input = await open(sealedPath, 'r')
    const tmp = `${out}.${uniqueName('plain')}`
    const output = await open(tmp, 'wx')
    try {
      const header = Buffer.alloc(HEADER_BYTES)
      await input.read(header, 0, HEADER_BYTES, 0)
      const o = opener(master, name, header, where(name))
      const size = (await input.stat()).size
      if (size !== sealedSize(o.length)) {
        throw new MlvcError(
          'CORRUPT',
          `${where(name)}: encrypted object has ${size} bytes, its header says ${sealedSize(o.length)}`,
        )
      }
      const block = Buffer.allocUnsafe(SEALED_SEGMENT_BYTES * 64)
      const plain = Buffer.allocUnsafe(SEGMENT * 64)
      let index = 0
      for (let pos = HEADER_BYTES; pos < size; ) {
        const { bytesRead } = await input.read(block, 0, Math.min(block.length, size - pos), pos)
        const opened = openSegments(o, block.subarray(0, bytesRead), index, plain)
        await output.write(plain, 0, opened)
        index += Math.ceil(bytesRead / SEALED_SEGMENT_BYTES)
        pos += bytesRead
      }
      await output.close()
      await rename(tmp, out)
    } catch (err) {
      await output.close().catch(() => undefined)
      await rm(tmp, { force: true })
      throw err
    } finally {
      await input.close()
    }
  }
}

/**
 * Checks the remote's marker against the key: writes it when the remote is new, refuses a key
 * that is not the one the remote was encrypted with.
 */
async function checkMarker(remote: Remote, key: MasterKey): Promise<void> {
  let marker: { keyId?: unknown; check?: unknown } | undefined
  try {
    marker = JSON.parse((await remote.get(MARKER_KEY)).toString('utf8'))
  } catch (err) {
    if (!(err instanceof MlvcError && err.code === 'NOT_FOUND')) {
      if (err instanceof MlvcError) throw err
      throw new MlvcError('REMOTE', `remote ${remote.name}: ${MARKER_KEY} is not valid JSON`, {
        cause: err,
      })
    }
  }
  if (marker === undefined) {
    const check = sealObject(key, MARKER_KEY, Buffer.from(CHECK)).toString('base64')
    await remote.put(MARKER_KEY, `${JSON.stringify({ version: 1, keyId: key.id, check })}\n`)
    return
  }
  if (marker.keyId !== key.id) {
    throw new MlvcError(
      'MISSING_KEY',
      `remote ${remote.name} is encrypted with key ${String(marker.keyId)}, not ${key.id}`,
      {
        hint: `import key ${String(marker.keyId)} (mlvc key import FILE) and set it for this remote`,
      },
    )
  }
  const sealed = Buffer.from(typeof marker.check === 'string' ? marker.check : '', 'base64')
  if (
    openObject(key, MARKER_KEY, sealed, `remote ${remote.name}: ${MARKER_KEY}`).toString() !== CHECK
  ) {
    throw new MlvcError(
      'MISSING_KEY',
      `remote ${remote.name}: key ${key.id} does not open the remote's check value`,
    )
  }
}

/** Throws when a remote opened without encryption holds an encrypted remote's marker. */
export async function refuseIfEncrypted(remote: Remote): Promise<void> {
  if (await remote.head(MARKER_KEY)) {
    throw new MlvcError(
      'MISSING_KEY',
      `remote ${remote.name} is encrypted, but no key is configured for it`,
      {
        hint: `set its key id in config (remotes.${remote.name}.encryption: k-…) and import the key (mlvc key import FILE)`,
      },
    )
  }
}
