import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { readLayout } from './index.ts'
import { openTensorReader } from './tensor-reader.ts'
import { buildSafetensors } from './test-helpers/builders.ts'
import { checkpointFixtures, fixture, tensorBytes } from './test-helpers/fixtures.ts'

const dir = tempDir('mlvc-tensor-reader')

async function readAll(read: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = []
  for await (const piece of read) pieces.push(piece)
  return Buffer.concat(pieces)
}

describe('openTensorReader', () => {
  test('every fixture (all formats): each tensor as readTensor gives it, in any order', async () => {
    for (const [rel] of checkpointFixtures()) {
      const path = fixture(rel)
      const layout = await readLayout(path)
      const reader = openTensorReader(path)
      try {
        for (const tensor of [...layout.tensors].reverse()) {
          const bytes = await readAll(reader.read(tensor))
          expect(bytes.equals(await tensorBytes(path, tensor)), `${rel}: ${tensor.name}`).toBe(true)
        }
      } finally {
        reader.close()
      }
    }
  })

  test('thousands of small tensors and some larger than a window; bytes handed out stay valid', async () => {
    const tensors = Array.from({ length: 3000 }, (_, i) => {
      const size = i % 500 === 0 ? 600_000 : 4 * (1 + (i % 7))
      return { name: `t${i}`, dtype: 'F32', shape: [size / 4], data: pseudoRandomBytes(size, i) }
    })
    const path = join(dir, 'many.safetensors')
    writeFileSync(path, buildSafetensors(tensors))
    const layout = await readLayout(path)
    const reader = openTensorReader(path)
    const kept: Array<[Uint8Array[], Buffer]> = []
    try {
      for (const tensor of layout.tensors) {
        const pieces: Uint8Array[] = []
        for await (const piece of reader.read(tensor, { blockSize: 256 * 1024 })) pieces.push(piece)
        kept.push([pieces, (tensors[Number(tensor.name.slice(1))] as { data: Buffer }).data])
      }
    } finally {
      reader.close()
    }
    for (const [pieces, data] of kept) expect(Buffer.concat(pieces).equals(data)).toBe(true)
  })
})
