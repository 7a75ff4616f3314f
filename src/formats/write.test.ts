import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { itemSize, readLayout, readTensor, type TensorBytes, writeWithTensors } from './index.ts'
import { bufferSource } from './source.ts'
import {
  checkLayout,
  FACTS,
  fixture,
  reverseItems,
  sha256,
  tensorBytes,
  tensorNamed,
} from './test-helpers/fixtures.ts'
import { readZipDirectory } from './zip.ts'
import { readZipEntry } from './zip-data.ts'

const dir = tempDir('mlvc-write')

const written = Object.entries(FACTS).filter(([, f]) => f.written !== undefined)

/** Every zip entry's CRC-32 matches its content, as zipfile.testzip() checks. */
async function checkZipCrcs(path: string): Promise<void> {
  const src = bufferSource(path, readFileSync(path))
  for (const entry of (await readZipDirectory(src, 1 << 30)).entries) {
    expect(crc32(await readZipEntry(src, entry, 1 << 30)), entry.name).toBe(entry.crc32)
  }
}

/** Writes the replacement gen-fixtures.py wrote and verified with the real library. */
async function writeLikeGenerator(rel: string, out: string) {
  const src = fixture(rel)
  const w = FACTS[rel]?.written
  if (!w) throw new Error(rel)
  const layout = await readLayout(src)
  const replacements = new Map<string, TensorBytes>()
  for (const name of w.zero)
    replacements.set(name, new Uint8Array(tensorNamed(layout, name).nbytes))
  for (const name of w.replace) {
    const t = tensorNamed(layout, name)
    replacements.set(name, reverseItems(await tensorBytes(src, t), itemSize(t)))
  }
  mkdirSync(dirname(out), { recursive: true })
  if (rel === 'onnx/external.onnx')
    copyFileSync(fixture('onnx/external.data'), join(dirname(out), 'external.data'))
  return writeWithTensors(src, layout, replacements, out, { fsync: false })
}

describe('writeWithTensors: what the real libraries loaded', () => {
  test.each(written)('%s', async (rel, fact) => {
    const out = join(dir, 'generator', rel)
    const layout = await writeLikeGenerator(rel, out)
    const bytes = readFileSync(out)
    checkLayout(layout, bytes.length)
    // Recompressed npz members depend on the zlib build; everything else is byte-exact.
    if (rel !== 'npz/compressed.npz') expect(sha256(bytes)).toBe(fact.written?.sha256)
    for (const [name, digest] of Object.entries(fact.written?.tensors ?? {})) {
      expect(sha256(await tensorBytes(out, tensorNamed(layout, name))), name).toBe(digest)
    }
    if (fact.format === 'pytorch' || fact.format === 'npz') await checkZipCrcs(out)
  })

  test('the replaced ONNX varints are shorter, and the message lengths follow', async () => {
    const out = join(dir, 'varint', 'model.onnx')
    const layout = await writeLikeGenerator('onnx/model.onnx', out)
    expect(layout.size).toBeLessThan(FACTS['onnx/model.onnx']?.size ?? 0)
  })

  test('unchanged bytes stay unchanged: writing nothing copies the file', async () => {
    for (const rel of [
      'torch/state.pt',
      'npz/compressed.npz',
      'onnx/model.onnx',
      'gguf/model.gguf',
    ]) {
      const out = join(dir, 'same', rel)
      mkdirSync(dirname(out), { recursive: true })
      await writeWithTensors(fixture(rel), await readLayout(fixture(rel)), new Map(), out, {
        fsync: false,
      })
      expect(sha256(readFileSync(out)), rel).toBe(FACTS[rel]?.file_sha256)
    }
  })
})

describe('writeWithTensors: replacements', () => {
  test('a stream in odd chunk sizes gives the same file as one buffer', async () => {
    const src = fixture('torch/state.pt')
    const layout = await readLayout(src)
    const t = tensorNamed(layout, 'transposed')
    const data = reverseItems(await tensorBytes(src, t), 4)
    async function* odd() {
      for (let at = 0; at < data.length; at += 7) yield data.subarray(at, at + 7)
    }
    await writeWithTensors(src, layout, new Map([['transposed', data]]), join(dir, 'a.pt'), {
      fsync: false,
    })
    await writeWithTensors(src, layout, new Map([['transposed', odd()]]), join(dir, 'b.pt'), {
      fsync: false,
    })
    expect(readFileSync(join(dir, 'a.pt')).equals(readFileSync(join(dir, 'b.pt')))).toBe(true)
  })

  test('a big-endian Fortran array round-trips through decoded bytes', async () => {
    const src = fixture('npy/be-fortran.npy')
    const layout = await readLayout(src)
    const t = tensorNamed(layout, '')
    const data = Buffer.alloc(t.nbytes)
    for (let i = 0; i < data.length / 8; i++) data.writeDoubleLE(i + 0.5, i * 8)
    const out = join(dir, 'be.npy')
    await writeWithTensors(src, layout, new Map([['', data]]), out, { fsync: false })
    expect((await tensorBytes(out, t)).equals(data)).toBe(true)
    // Element [0, 1] is the third value on disk (column-major), stored big-endian.
    expect(readFileSync(out).readDoubleBE(t.start + 2 * 8)).toBe(1.5)
  })

  test('replacing one of two tied weights changes both', async () => {
    const src = fixture('torch/state.pt')
    const layout = await readLayout(src)
    const data = Buffer.alloc(tensorNamed(layout, 'embed.weight').nbytes, 1)
    const out = join(dir, 'tied.pt')
    const after = await writeWithTensors(src, layout, new Map([['embed.weight', data]]), out, {
      fsync: false,
    })
    expect((await tensorBytes(out, tensorNamed(after, 'lm_head.weight'))).equals(data)).toBe(true)
  })

  test('the wrong number of bytes is a USAGE error and leaves no file', async () => {
    const src = fixture('safetensors/meta.safetensors')
    const layout = await readLayout(src)
    const out = join(dir, 'short.safetensors')
    for (const bytes of [new Uint8Array(3), new Uint8Array(1000)]) {
      await expect(
        writeWithTensors(src, layout, new Map([['f32', bytes]]), out),
      ).rejects.toMatchObject({
        code: 'USAGE',
        message: expect.stringMatching(/tensor f32 has \d+ bytes; its dtype and shape need 48/),
      })
    }
    expect(() => readFileSync(out)).toThrow()
  })

  test('unknown names, external tensors and stale layouts are refused', async () => {
    const src = fixture('onnx/external.onnx')
    const layout = await readLayout(src)
    const out = join(dir, 'x.onnx')
    await expect(
      writeWithTensors(src, layout, new Map([['nope', new Uint8Array(0)]]), out),
    ).rejects.toMatchObject({
      code: 'USAGE',
    })
    await expect(
      writeWithTensors(src, layout, new Map([['w_ext_a', new Uint8Array(64)]]), out),
    ).rejects.toThrow(/external file external\.data/)
    const stale = { ...layout, size: layout.size + 1 }
    await expect(writeWithTensors(src, stale, new Map(), out)).rejects.toThrow(
      /changed since its layout was read/,
    )
  })

  test('GGUF quantized tensors are replaced block for block', async () => {
    const src = fixture('gguf/model.gguf')
    const layout = await readLayout(src)
    const q = tensorNamed(layout, 'q4_0')
    const data = Buffer.alloc(q.nbytes, 0x11)
    const out = join(dir, 'q.gguf')
    await writeWithTensors(src, layout, new Map([['q4_0', data]]), out, { fsync: false })
    const chunks: Uint8Array[] = []
    for await (const b of readTensor(out, q)) chunks.push(b)
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
  })
})
