import { cpSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { normalValues, pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { formatId, parseId, sha256Digest } from './cid.ts'
import { readChunk, readChunksVerified, readManifest } from './content.ts'
import { createDigestList } from './digest-list.ts'
import { BYTEGROUP, DEFLATE, RAW } from './encoding.ts'
import { fsckStore } from './fsck.ts'
import { gcStore } from './gc.ts'
import { ingestFile } from './ingest.ts'
import { encodeBlobManifest } from './manifest.ts'
import { materialize, readBlob } from './materialize.ts'
import { openStore, type Store } from './store.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-encoded')
let n = 0

/** Float32 weights of a trained layer: normal, std 0.02. */
function weights(bytes: number, seed: number): Buffer {
  const values = Float32Array.from(normalValues(Math.ceil(bytes / 4), seed))
  return Buffer.from(values.buffer).subarray(0, bytes)
}

function storeBytes(store: Store): number {
  const packs = join(store.layout.root, 'packs')
  return readdirSync(packs)
    .filter((f) => f.endsWith('.pack'))
    .reduce((sum, f) => sum + readFileSync(join(packs, f)).length, 0)
}

async function put(store: Store, data: Buffer, options: Parameters<typeof ingestFile>[2] = {}) {
  const path = join(dir, `in-${n++}`)
  writeFileSync(path, data)
  const result = await ingestFile(store, path, options)
  await store.commit()
  return result
}

async function expectMaterialized(store: Store, id: string, data: Buffer): Promise<void> {
  const out = join(dir, `out-${n++}`)
  await materialize(store, id, out)
  expect(readFileSync(out).equals(data)).toBe(true)
}

describe('encoded objects', () => {
  test('float weights are stored byte-grouped, inline and on the workers, and read back whole', async () => {
    // Text first (plain bytes: the general codec), then float32 weights from byte 100,003 on: a
    // region that starts inside a chunk, so chunks are cut inside an element.
    const text = Buffer.from('a line of text that repeats; '.repeat(3449)).subarray(0, 100_003)
    const data = Buffer.concat([text, weights(12 * MiB, 7)])
    const regions = [{ start: 100_003, kind: 'float32' as const }]
    for (const inlineLimit of [undefined, 64 * MiB]) {
      const store = await openStore(join(dir, `store-${n++}`), { create: true, compress: true })
      const { id } = await put(store, data, { regions, ...(inlineLimit ? { inlineLimit } : {}) })
      // The exponent byte of normal float32 weights takes about a third of its size.
      expect(storeBytes(store)).toBeLessThan(data.length * 0.9)
      await expectMaterialized(store, id, data)
      expect((await readBlob(store, id)).equals(data)).toBe(true)
      const manifest = await readManifest(store, id)
      const chunks = manifest.type === 'blob' ? manifest.chunks : []
      expect((await readChunksVerified(store, chunks)).equals(data)).toBe(true)
      const codecs = new Set(chunks.map(([c]) => store.lookup(parseId(c).digest)?.codec))
      expect(codecs).toEqual(new Set([DEFLATE, BYTEGROUP]))
      const report = await fsckStore(store)
      expect(report.issues).toEqual([])
      expect(report.size).toBeGreaterThan(data.length)
      expect(report.bytes).toBeLessThan(report.size * 0.9)
      await store.close()
    }
  })

  test('a store opened without compress (the default) writes file content raw, and still reads what was encoded', async () => {
    const text = Buffer.from('a line of text that repeats; '.repeat(3449)).subarray(0, 100_003)
    const data = Buffer.concat([text, weights(12 * MiB, 8)])
    const regions = [{ start: 100_003, kind: 'float32' as const }]
    const root = join(dir, `store-${n++}`)
    const encoded = await openStore(root, { create: true, compress: true })
    const first = await put(encoded, data, { regions })
    await encoded.close()
    for (const [k, inlineLimit] of [undefined, 64 * MiB].entries()) {
      const other = Buffer.concat([text, weights(12 * MiB, 9 + k)])
      const raw = await openStore(root)
      const before = storeBytes(raw)
      const extra = { regions, ...(inlineLimit ? { inlineLimit } : {}) }
      const { id, chunks } = await put(raw, other, extra)
      const manifest = await readManifest(raw, id)
      const codecs = new Set(
        (manifest.type === 'blob' ? manifest.chunks : []).map(
          ([c]) => raw.lookup(parseId(c).digest)?.codec,
        ),
      )
      expect(codecs).toEqual(new Set([RAW]))
      // Raw: the data and its records, nothing saved.
      expect(storeBytes(raw) - before).toBeGreaterThanOrEqual(other.length)
      expect(storeBytes(raw) - before).toBeLessThan(other.length + 64 * chunks + 64 * 1024)
      await expectMaterialized(raw, id, other)
      await expectMaterialized(raw, first.id, data)
      await raw.close()
    }
  })

  test('random bytes stay raw and cost nothing more than their records', async () => {
    const store = await openStore(join(dir, `store-${n++}`), { create: true, compress: true })
    const data = pseudoRandomBytes(10 * MiB, 3)
    const { id, chunks } = await put(store, data, { regions: [{ start: 0, kind: 'float32' }] })
    expect(storeBytes(store)).toBeLessThan(data.length + 64 * chunks + 64 * 1024)
    await expectMaterialized(store, id, data)
    await store.close()
  })
})

describe('a store written before encodings (version 1)', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'store-v1')
  const files = {
    'data.bin': 'bagaaierarp4dah6nkt5qqjwlnlsxy2zizqmspxzccsdudfc4kywhsm4ray2q',
    'notes.txt': 'bagaaierabhagpxh4y6y32geb54iubn7v6ford7st7cizbpopctflwxskrpua',
  }

  function copyFixture(): string {
    const root = join(dir, `v1-${n++}`)
    cpSync(join(fixture, 'store'), root, { recursive: true })
    mkdirSync(join(root, 'tmp'))
    mkdirSync(join(root, 'locks'))
    return root
  }

  test('is read and checked as it is, then marked version 2 when written to', async () => {
    const root = copyFixture()
    let store = await openStore(root)
    for (const [name, id] of Object.entries(files)) {
      const data = readFileSync(join(fixture, name))
      expect((await readBlob(store, id)).equals(data)).toBe(true)
      await expectMaterialized(store, id, data)
    }
    const report = await fsckStore(store)
    expect(report.issues).toEqual([])
    expect(report.bytes).toBe(report.size)
    expect(readFileSync(join(root, 'VERSION'), 'utf8')).toBe('mlvc-store 1\n')
    const added = Buffer.from('more text, compressible text, '.repeat(1000))
    const { id } = await put(store, added)
    await store.close()
    expect(readFileSync(join(root, 'VERSION'), 'utf8')).toBe('mlvc-store 2\n')
    store = await openStore(root)
    expect((await fsckStore(store)).issues).toEqual([])
    expect((await readBlob(store, id)).equals(added)).toBe(true)
    // gc copies objects of an old pack into a new one: they stay readable.
    unlinkSync(join(root, 'pins', files['data.bin']))
    const gc = await gcStore(store, { roots: [files['notes.txt'], id], graceMs: 0 })
    expect(gc.packsRewritten).toBe(1)
    expect(
      (await readBlob(store, files['notes.txt'])).equals(readFileSync(join(fixture, 'notes.txt'))),
    ).toBe(true)
    expect((await fsckStore(store)).issues).toEqual([])
    await store.close()
  })
})

describe('damaged encoded records are CORRUPT errors naming the object and the pack', () => {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(2000))
  const digest = sha256Digest(text)
  const chunkId = formatId('chunk', digest)
  const deflated = deflateRawSync(text)

  /** A store holding `text` as a chunk stored as given, and a blob manifest of it. */
  async function storeWith(stored: Buffer, codec: number, size: number) {
    const store = await openStore(join(dir, `bad-${n++}`), { create: true, compress: true })
    store.writer().append(digest, 'chunk', [stored], { codec, size })
    const list = createDigestList()
    list.push(digest, text.length)
    const id = store.putObject('manifest', encodeBlobManifest(text.length, '0'.repeat(64), list))
    await store.commit()
    return { store, id }
  }

  const cases: Array<[string, Buffer, number, number, RegExp]> = [
    ['an unknown codec byte', deflated, 9, text.length, /unknown encoding \(9\)/],
    [
      'a stream that expands past its size',
      deflated,
      DEFLATE,
      text.length - 10,
      /states 89990 bytes, its manifest 90000|expands past/,
    ],
    [
      'a stream that ends early',
      deflated.subarray(0, deflated.length >> 1),
      DEFLATE,
      text.length,
      /not a valid deflate stream|ends early/,
    ],
    [
      'a wrong raw length',
      deflated,
      DEFLATE,
      text.length + 10,
      /states 90010 bytes, its manifest 90000|ends early/,
    ],
    ['a raw record whose size differs from its length', text, RAW, text.length + 1, /states|holds/],
  ]

  test.each(cases)('%s', async (_what, stored, codec, size, why) => {
    const { store } = await storeWith(stored, codec, size)
    const named = new RegExp(`chunk ${chunkId} at offset \\d+ of pack pack-[\\w-]+ is damaged: `)
    const corrupt = (err: unknown) =>
      isMlvcError(err, 'CORRUPT') && named.test(err.message) && why.test(err.message)
    // On the calling thread, on a worker, and from a fresh open (the index says the same).
    expect(() => readChunk(store, [chunkId, text.length])).toThrow(expect.toSatisfy(corrupt))
    await expect(readChunksVerified(store, [[chunkId, text.length]])).rejects.toSatisfy(corrupt)
    await store.close()
    const again = await openStore(store.layout.root)
    expect(() => again.readAt(chunkId, again.lookup(digest) ?? fail())).toThrow(
      expect.toSatisfy(corrupt),
    )
    const report = await fsckStore(again)
    expect(report.issues).toEqual([expect.objectContaining({ kind: 'corrupt', id: chunkId })])
    await again.close()
  })

  test('a damaged encoded manifest is CORRUPT when read', async () => {
    const store = await openStore(join(dir, `bad-${n++}`), { create: true, compress: true })
    const manifest = Buffer.from(
      `{"mlvc":1,"type":"blob","size":0,"sha256":"${'0'.repeat(64)}","chunks":[]}${' '.repeat(5000)}`,
    )
    const id = formatId('manifest', sha256Digest(manifest))
    const bad = deflateRawSync(manifest).subarray(0, 20)
    store
      .writer()
      .append(sha256Digest(manifest), 'manifest', [bad], { codec: DEFLATE, size: manifest.length })
    await expect(store.readObject(id)).rejects.toSatisfy(
      (err) => isMlvcError(err, 'CORRUPT') && err.message.includes(`manifest ${id} at offset`),
    )
    await store.close()
  })
})

function fail(): never {
  throw new Error('not found')
}
