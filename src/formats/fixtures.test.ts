import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { detectFormat, readLayout, readTensor } from './index.ts'
import {
  checkLayout,
  checkpointFixtures,
  decodeValues,
  expectBadFormat,
  FACTS,
  fixture,
  sha256,
  tensorBytes,
  tensorNamed,
} from './test-helpers/fixtures.ts'

const dir = tempDir('mlvc-formats')

describe('fixtures written by the real libraries', () => {
  test.each(checkpointFixtures())(
    '%s: names, dtypes, shapes, decoded bytes, values',
    async (rel, fact) => {
      const path = fixture(rel)
      expect(sha256(readFileSync(path))).toBe(fact.file_sha256)
      expect(await detectFormat(path)).toBe(fact.format)
      const layout = await readLayout(path)
      expect(layout.format).toBe(fact.format)
      checkLayout(layout, statSync(path).size)
      expect(layout.tensors.map((t) => t.name).sort()).toEqual(
        fact.tensors.map((t) => t.name).sort(),
      )
      for (const t of fact.tensors) {
        const lt = tensorNamed(layout, t.name)
        expect([lt.name, lt.dtype, lt.shape]).toEqual([t.name, t.dtype, t.shape])
        const bytes = await tensorBytes(path, lt)
        expect(bytes.length).toBe(lt.nbytes)
        expect(sha256(bytes), t.name).toBe(t.sha256)
        if (t.values) expect(decodeValues(bytes, t.dtype, t.values.length)).toEqual(t.values)
        if (t.nbytes !== undefined) expect(lt.nbytes).toBe(t.nbytes)
      }
    },
  )

  test.each(checkpointFixtures())('%s: the same bytes in tiny blocks', async (rel, fact) => {
    const path = fixture(rel)
    const layout = await readLayout(path)
    for (const t of fact.tensors) {
      const lt = tensorNamed(layout, t.name)
      const blocks: number[] = []
      const parts: Uint8Array[] = []
      for await (const b of readTensor(path, lt, { blockSize: 3 })) {
        blocks.push(b.length)
        parts.push(b)
      }
      expect(sha256(Buffer.concat(parts))).toBe(t.sha256)
      const item = blocks.length ? Math.max(...blocks) : 0
      expect(blocks.slice(0, -1).every((n) => n === item)).toBe(true)
    }
  })
})

describe('format details', () => {
  test('torch: tied weights share one segment; views keep offset and strides', async () => {
    const layout = await readLayout(fixture('torch/state.pt'))
    const embed = tensorNamed(layout, 'embed.weight')
    const head = tensorNamed(layout, 'lm_head.weight')
    expect([head.start, head.end]).toEqual([embed.start, embed.end])
    expect(layout.segments.find((s) => s.start === embed.start)?.tensors).toEqual([
      'embed.weight',
      'lm_head.weight',
    ])
    expect(tensorNamed(layout, 'view').encoding).toEqual({
      kind: 'strided',
      byteOrder: 'little',
      storageOffset: 6,
      strides: [6, 2],
      contiguous: false,
    })
    expect(tensorNamed(layout, 'view').end - tensorNamed(layout, 'view').start).toBe(24 * 4)
    expect(tensorNamed(layout, 'transposed').encoding).toMatchObject({
      strides: [1, 5],
      contiguous: false,
    })
    expect(tensorNamed(layout, 'f16').encoding).toMatchObject({ contiguous: true })
    // torch aligns storages to 64 bytes so they can be mapped in place
    for (const s of layout.segments) expect(s.start % 64).toBe(0)
  })

  test('torch: non-tensor values become sorted metadata', async () => {
    const layout = await readLayout(fixture('torch/state.pt'))
    expect(layout.metadata).toEqual(FACTS['torch/state.pt']?.metadata)
  })

  test.each([
    ['torch/malicious.pt', /posix\.system/],
    ['torch/eval.pt', /builtins\.eval/],
  ])('%s: refused by name, nothing executed', async (rel, global) => {
    const err = await expectBadFormat(readLayout(fixture(rel)), global, /allow-list/, /data\.pkl/)
    expect(err.message).toContain(fixture(rel))
    expect(await detectFormat(fixture(rel))).toBe('pytorch')
  })

  test('torch: the legacy format gets its own message', async () => {
    await expectBadFormat(readLayout(fixture('torch/legacy.pt')), /legacy \(pre-1\.6, non-zip\)/)
    expect(await detectFormat(fixture('torch/legacy.pt'))).toBeUndefined()
  })

  test('safetensors: __metadata__ is the metadata', async () => {
    const layout = await readLayout(fixture('safetensors/meta.safetensors'))
    expect(layout.metadata).toEqual(FACTS['safetensors/meta.safetensors']?.metadata)
    expect(layout.segments).toHaveLength(layout.tensors.filter((t) => t.nbytes > 0).length)
  })

  test('gguf: key-values with every value type, long arrays summarized, alignment', async () => {
    const layout = await readLayout(fixture('gguf/model.gguf'))
    const fact = FACTS['gguf/model.gguf']
    for (const [k, v] of Object.entries(fact?.metadata ?? {}))
      expect(layout.metadata[k], k).toEqual(v)
    expect(layout.metadata['t.long']).toMatchObject(fact?.summarized?.['t.long'] ?? {})
    expect(tensorNamed(layout, 'q8_0').encoding).toEqual({
      kind: 'blocks',
      blockElements: 32,
      blockBytes: 34,
    })
    for (const t of layout.tensors) expect((t.start - (layout.tensors[0]?.start ?? 0)) % 32).toBe(0)
    const aligned = await readLayout(fixture('gguf/aligned64.gguf'))
    expect(aligned.metadata['general.alignment']).toBe(64)
    for (const t of aligned.tensors) expect(t.start % 64).toBe(0)
  })

  test('onnx: model fields as metadata; typed fields as varints or dense', async () => {
    const layout = await readLayout(fixture('onnx/model.onnx'))
    expect(layout.metadata).toEqual(FACTS['onnx/model.onnx']?.metadata)
    expect(tensorNamed(layout, 'w_int32').encoding).toEqual({ kind: 'varint' })
    expect(tensorNamed(layout, 'w_float').encoding).toEqual({
      kind: 'dense',
      byteOrder: 'little',
      order: 'C',
    })
  })

  test('onnx: external data is read from the file beside the model', async () => {
    const layout = await readLayout(fixture('onnx/external.onnx'))
    for (const [name, file] of Object.entries(FACTS['onnx/external.onnx']?.external ?? {})) {
      expect(tensorNamed(layout, name).file).toBe(file)
      expect(layout.segments.some((s) => s.tensors.includes(name))).toBe(false)
    }
    expect(tensorNamed(layout, 'w_typed').file).toBeUndefined()
  })

  test('onnx: a missing external data file is BAD_FORMAT naming it', async () => {
    const path = join(dir, 'lonely.onnx')
    writeFileSync(path, readFileSync(fixture('onnx/external.onnx')))
    await expectBadFormat(readLayout(path), /external\.data/)
  })

  test('npy and npz: byte order, Fortran order, compression', async () => {
    expect(tensorNamed(await readLayout(fixture('npy/be-fortran.npy')), '').encoding).toEqual({
      kind: 'dense',
      byteOrder: 'big',
      order: 'F',
    })
    const npz = await readLayout(fixture('npz/compressed.npz'))
    const zeros = tensorNamed(npz, 'zeros')
    expect(zeros.compression).toMatchObject({ method: 'deflate', size: expect.any(Number) })
    expect(zeros.end - zeros.start).toBeLessThan(zeros.nbytes)
    const stored = await readLayout(fixture('npz/stored.npz'))
    expect(stored.tensors.every((t) => t.compression === undefined)).toBe(true)
  })
})

describe('anything else', () => {
  test.each([
    ['empty', Buffer.alloc(0)],
    ['text', Buffer.from('hello, this is not a model\n')],
    ['random', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 97 + 13) % 256))],
    ['an empty zip', Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'), Buffer.alloc(18)])],
    ['json', Buffer.from('{"weight_map": {}}')],
  ])('%s: detectFormat says undefined, readLayout BAD_FORMAT', async (name, bytes) => {
    const path = join(dir, name.replaceAll(' ', '-'))
    writeFileSync(path, bytes)
    expect(await detectFormat(path)).toBeUndefined()
    const err = await expectBadFormat(readLayout(path))
    expect(err.message.startsWith(path)).toBe(true)
  })

  test('a file that does not exist is NOT_FOUND, not BAD_FORMAT', async () => {
    await expect(readLayout(join(dir, 'nope.safetensors'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
  })
})
