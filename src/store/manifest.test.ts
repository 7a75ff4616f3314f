import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { formatId, idOf, sha256Digest } from './cid.ts'
import { createDigestList } from './digest-list.ts'
import {
  chunkRefs,
  decodeManifest,
  encodeManifest,
  encodePartManifest,
  type FilePart,
  fileManifestBuilder,
  manifestReferences,
  onePartId,
} from './manifest.ts'
import { openStore } from './store.ts'

function chunkList(count: number, seed: string) {
  const list = createDigestList()
  for (let i = 0; i < count; i++) list.push(sha256Digest(Buffer.from(`${seed} ${i}`)), 100 + i)
  return list
}

const partId = (i: number) => formatId('manifest', sha256Digest(Buffer.from(`part ${i}`)))

describe('manifest encoders that hold no object per entry', () => {
  test('onePartId is the id of the part manifest holding the bytes as one chunk', () => {
    for (const data of [Buffer.from([7]), Buffer.from('twelve bytes'), Buffer.alloc(1023, 9)]) {
      const list = createDigestList()
      list.push(sha256Digest(data), data.length)
      expect(onePartId(data)).toBe(idOf('manifest', encodePartManifest(data.length, list, 0, 1)))
    }
    expect(onePartId(Buffer.from('a'))).not.toBe(onePartId(Buffer.from('b')))
  })

  test('encodePartManifest gives the bytes of encodeManifest', () => {
    const list = chunkList(7, 'part')
    for (const [first, last] of [
      [0, 7],
      [2, 5],
      [3, 4],
    ] as const) {
      const refs = chunkRefs(list, first, last)
      const size = refs.reduce((sum, [, n]) => sum + n, 0)
      expect(encodePartManifest(size, list, first, last)).toEqual(
        encodeManifest({ type: 'part', size, chunks: refs }),
      )
    }
  })

  test('fileManifestBuilder gives the bytes of encodeManifest, with and without a table', () => {
    const list = chunkList(5, 'file')
    const meta = { kind: 'checkpoint', format: 'safetensors', metadata: { é: 'ü' }, tensors: 2 }
    for (const table of [undefined, partId(99)]) {
      const builder = fileManifestBuilder(12345, 'ab'.repeat(32))
      const parts: FilePart[] = []
      builder.addChunks(list, 0, 2)
      parts.push({ chunks: chunkRefs(list, 0, 2) })
      // Enough parts to fill several of the builder's blocks.
      for (let i = 0; i < 20_000; i++) {
        builder.addRef(partId(i), i)
        parts.push({ ref: partId(i), size: i })
      }
      builder.addChunks(list, 2, 5)
      parts.push({ chunks: chunkRefs(list, 2, 5) })
      const expected = encodeManifest({
        type: 'file',
        size: 12345,
        sha256: 'ab'.repeat(32),
        parts,
        meta,
        ...(table ? { table } : {}),
      })
      expect(builder.finish(meta, table).equals(expected)).toBe(true)
    }
  })

  test('a file manifest naming a table: decoded with it, and it is among the references', () => {
    const table = partId(1)
    const bytes = encodeManifest({
      type: 'file',
      size: 3,
      sha256: 'cd'.repeat(32),
      parts: [{ ref: partId(2), size: 3 }],
      meta: { kind: 'checkpoint' },
      table,
    })
    const manifest = decodeManifest(bytes, 'm')
    expect(manifest).toMatchObject({ type: 'file', table })
    expect(manifestReferences(manifest)).toEqual([partId(2), table])
    const bad = Buffer.from(bytes.toString().replace(table, 'not-an-id'))
    expect(() => decodeManifest(bad, 'm')).toThrow(/bad table id/)
  })
})

test('fileManifestBuilder.put stores the bytes finish gives, under their id', async () => {
  const store = await openStore(join(tempDir('mlvc-manifest'), 'store'), { create: true })
  const build = () => {
    const builder = fileManifestBuilder(10, 'ef'.repeat(32))
    for (let i = 0; i < 30_000; i++) builder.addRef(partId(i), 1)
    return builder
  }
  const bytes = build().finish({ kind: 'x' }, partId(7))
  const id = build().put(store, { kind: 'x' }, partId(7))
  expect(id).toBe(idOf('manifest', bytes))
  expect((await store.readObject(id)).equals(bytes)).toBe(true)
  expect(build().put(store, { kind: 'x' }, partId(7))).toBe(id)
  await store.close()
})
