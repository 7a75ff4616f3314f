import { createHash } from 'node:crypto'
import {
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import {
  damageFile,
  onlyPack,
  pseudoRandomBytes,
  tempDir,
  writeRandomFile,
} from '../test-helpers/index.ts'
import { readChunksVerified, readManifest } from './content.ts'
import { fsckStore } from './fsck.ts'
import { gcStore } from './gc.ts'
import { ingestFile } from './ingest.ts'
import type { BlobManifest } from './manifest.ts'
import { materialize } from './materialize.ts'
import { pin } from './pins.ts'
import { offerReady } from './ready.ts'
import { openStore, type Store } from './store.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-store')
let n = 0

async function freshStore(): Promise<Store> {
  return openStore(join(dir, `store-${n++}`), { create: true })
}

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

async function roundTrip(store: Store, data: Buffer, inlineLimit?: number) {
  const path = join(dir, `in-${n++}`)
  writeFileSync(path, data)
  const result = await ingestFile(store, path, inlineLimit === undefined ? {} : { inlineLimit })
  await store.commit()
  const out = join(dir, `out-${n++}`)
  await materialize(store, result.id, out)
  expect(sha(readFileSync(out))).toBe(sha(data))
  return result
}

describe('store round trip', () => {
  test.each([0, 1, 100_000, 8 * MiB, 8 * MiB + 1, 24 * MiB, 20_000_003])(
    '%i bytes, byte-identical',
    async (size) => {
      const store = await freshStore()
      const data = pseudoRandomBytes(size, size + 11)
      const result = await roundTrip(store, data)
      expect(result.size).toBe(size)
      expect(result.sha256).toBe(sha(data))
      await store.close()
    },
  )

  test('the worker pipeline and the inline path cut identically (same id)', async () => {
    const data = pseudoRandomBytes(9 * MiB + 12345, 5)
    const piped = await roundTrip(await freshStore(), data, 0)
    const inline = await roundTrip(await freshStore(), data, 64 * MiB)
    expect(piped.id).toBe(inline.id)
    expect(piped.chunks).toBe(inline.chunks)
  })

  test('objects survive closing and reopening the store', async () => {
    const root = join(dir, 'reopen')
    const first = await openStore(root, { create: true })
    const path = join(dir, 'reopen.bin')
    const data = writeRandomFile(path, 3 * MiB, 77)
    const { id } = await ingestFile(first, path)
    await first.close()
    const second = await openStore(root)
    await materialize(second, id, join(dir, 'reopen.out'))
    expect(readFileSync(join(dir, 'reopen.out')).equals(data)).toBe(true)
    await second.close()
  })
})

describe('deduplication', () => {
  test('the same file twice adds nothing; 1 MiB inserted in the middle adds under 2 MiB', async () => {
    const store = await freshStore()
    const data = pseudoRandomBytes(32 * MiB, 21)
    const first = await roundTrip(store, data)
    expect(first.newBytes).toBe(32 * MiB)
    const again = await roundTrip(store, data)
    expect(again.newBytes).toBe(0)
    expect(again.id).toBe(first.id)
    const inserted = Buffer.concat([
      data.subarray(0, 16 * MiB),
      pseudoRandomBytes(MiB, 99),
      data.subarray(16 * MiB),
    ])
    const edited = await roundTrip(store, inserted)
    expect(edited.newBytes).toBeGreaterThan(MiB)
    expect(edited.newBytes).toBeLessThan(2 * MiB)
    await store.close()
  })
})

describe('bad input', () => {
  test('a missing file is NOT_FOUND naming it', async () => {
    const store = await freshStore()
    await expect(ingestFile(store, join(dir, 'nope.bin'))).rejects.toThrow(
      /nope\.bin: no such file/,
    )
    await store.close()
  })

  test('an unknown id is MISSING_OBJECT; a chunk id is not a file id', async () => {
    const store = await freshStore()
    const missing = 'bagaaieraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa'
    await expect(materialize(store, missing, join(dir, 'x'))).rejects.toSatisfy((e) =>
      isMlvcError(e, 'MISSING_OBJECT'),
    )
    await expect(
      readManifest(store, 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'),
    ).rejects.toSatisfy((e) => isMlvcError(e, 'BAD_ID'))
    await store.close()
  })

  test('a corrupted pack: get fails naming the chunk, leaves no file; fsck reports it', async () => {
    const store = await freshStore()
    const path = join(dir, 'corrupt.bin')
    writeRandomFile(path, 12 * MiB, 31)
    const { id } = await ingestFile(store, path)
    await store.close()
    const packs = join(store.layout.root, 'packs')
    const pack = join(packs, readdirSync(packs).find((f) => f.endsWith('.pack')) as string)
    const bytes = readFileSync(pack)
    bytes[5 * MiB] = (bytes[5 * MiB] as number) ^ 0xff
    writeFileSync(pack, bytes)
    const reopened = await openStore(store.layout.root)
    const out = join(dir, 'corrupt.out')
    await expect(materialize(reopened, id, out)).rejects.toThrow(
      /corrupt\.out: .*chunk bafkrei\w+ at offset \d+ of pack pack-[\w-]+ is damaged: its bytes do not match its id/,
    )
    expect(() => statSync(out)).toThrow()
    expect(readdirSync(dir).filter((f) => f.includes('corrupt.out'))).toEqual([])
    const report = await fsckStore(reopened)
    expect(report.issues.filter((i) => i.severity === 'error')).toEqual([
      expect.objectContaining({
        kind: 'corrupt',
        message: expect.stringMatching(
          /^chunk bafkrei\w+ at offset \d+ of pack pack-[\w-]+ is damaged: its bytes do not match its id$/,
        ),
      }),
    ])
    await reopened.close()
  })
})

describe('fsck and gc', () => {
  test('a clean store checks clean', async () => {
    const store = await freshStore()
    await roundTrip(store, pseudoRandomBytes(2 * MiB, 1))
    const report = await fsckStore(store)
    expect(report.issues).toEqual([])
    expect(report.manifests).toBe(1)
    await store.close()
  })

  test('gc keeps pinned and rooted files, removes the rest, and never touches young packs', async () => {
    const store = await freshStore()
    const keep = await roundTrip(store, pseudoRandomBytes(3 * MiB, 1))
    const root = await roundTrip(store, pseudoRandomBytes(3 * MiB, 2))
    const drop = await roundTrip(store, pseudoRandomBytes(3 * MiB, 3))
    await pin(store, keep.id)
    const young = await gcStore(store, { roots: [root.id] })
    expect(young.objectsRemoved).toBe(0)
    const old = new Date(Date.now() - 2 * 3600_000)
    for (const f of readdirSync(store.layout.packs))
      utimesSync(join(store.layout.packs, f), old, old)
    await store.close()
    const reopened = await openStore(store.layout.root)
    const report = await gcStore(reopened, { roots: [root.id] })
    expect(report.objectsRemoved).toBe(drop.chunks + 1)
    expect(report.packsRewritten).toBe(1)
    await reopened.close()
    const after = await openStore(store.layout.root)
    expect(await after.has(keep.id)).toBe(true)
    expect(await after.has(root.id)).toBe(true)
    expect(await after.has(drop.id)).toBe(false)
    await materialize(after, keep.id, join(dir, 'kept.out'))
    expect((await fsckStore(after)).issues).toEqual([])
    await after.close()
  })
})

describe('forced boundaries (tensor-aligned chunking)', () => {
  test('every boundary is a chunk end, inline and piped alike', async () => {
    const data = pseudoRandomBytes(20 * MiB + 777, 41)
    const boundaries = [100, 4096, 3 * MiB + 5, 8 * MiB, 8 * MiB + 1, 17 * MiB - 3]
    const { chunkSource } = await import('./ingest.ts')
    const { bufferSource } = await import('./source.ts')
    const ends = async (inlineLimit: number) => {
      const store = await freshStore()
      const content = await chunkSource(store, bufferSource(data), {
        path: 'x',
        boundaries,
        inlineLimit,
      })
      await store.close()
      return Array.from(
        { length: content.chunks.count },
        (_, i) => content.chunks.offset(i) + content.chunks.length(i),
      )
    }
    const piped = await ends(0)
    expect(await ends(64 * MiB)).toEqual(piped)
    for (const b of boundaries) expect(piped).toContain(b)
  })

  test('a region between boundaries yields the same chunks wherever it sits', async () => {
    const { chunkSource } = await import('./ingest.ts')
    const { bufferSource } = await import('./source.ts')
    const tensor = pseudoRandomBytes(10 * MiB, 42)
    const store = await freshStore()
    const a = Buffer.concat([pseudoRandomBytes(1000, 1), tensor])
    const b = Buffer.concat([pseudoRandomBytes(54321, 2), tensor])
    await chunkSource(store, bufferSource(a), { path: 'a', boundaries: [1000], inlineLimit: 0 })
    const second = await chunkSource(store, bufferSource(b), {
      path: 'b',
      boundaries: [54321],
      inlineLimit: 0,
    })
    expect(second.newBytes).toBeLessThan(60_000)
    await store.close()
  })
})

describe('reading chunks on worker threads', () => {
  test('consecutive chunks come back whole and checked; a damaged or cut pack is named', async () => {
    const root = join(dir, `store-${n++}`)
    const store = await openStore(root, { create: true })
    const data = pseudoRandomBytes(3 * MiB, 5)
    const { id } = await roundTrip(store, data)
    const { chunks } = (await readManifest(store, id)) as BlobManifest
    expect(chunks.length).toBeGreaterThan(10)
    expect((await readChunksVerified(store, chunks)).equals(data)).toBe(true)
    const memory = new SharedArrayBuffer(4 * MiB)
    const into = await readChunksVerified(store, chunks.slice(2, 5), memory)
    expect(into.buffer).toBe(memory)
    await store.close()
    const pack = onlyPack(root)
    const original = damageFile(pack, MiB)
    let reopened = await openStore(root)
    await expect(readChunksVerified(reopened, chunks)).rejects.toThrow(
      /chunk \w+ at offset \d+ of pack pack-[\w-]+ is damaged: its bytes do not match its id/,
    )
    await reopened.close()
    writeFileSync(pack, original)
    truncateSync(pack, 2 * MiB)
    reopened = await openStore(root)
    await expect(readChunksVerified(reopened, chunks)).rejects.toThrow(
      /of pack pack-[\w-]+ is damaged: the pack has 2097152 bytes, the chunk ends at byte \d+/,
    )
    await reopened.close()
  })
})

describe('ready files', () => {
  test('materializing an id moves its ready file into place; one of the wrong size is dropped', async () => {
    const store = await freshStore()
    const data = pseudoRandomBytes(100_000, 9)
    const { id } = await roundTrip(store, data)
    const prepared = join(store.layout.tmp, 'prepared')
    writeFileSync(prepared, data)
    offerReady(store, id, prepared)
    expect(readdirSync(store.layout.tmp)).toEqual([`ready-${id}`])
    const out = join(dir, `out-${n++}`)
    await materialize(store, id, out)
    expect(readFileSync(out).equals(data)).toBe(true)
    expect(readdirSync(store.layout.tmp)).toEqual([])
    writeFileSync(prepared, data.subarray(1))
    offerReady(store, id, prepared)
    await materialize(store, id, out)
    expect(readFileSync(out).equals(data)).toBe(true)
    expect(readdirSync(store.layout.tmp)).toEqual([])
    await store.close()
  })
})
