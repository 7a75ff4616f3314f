import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { aligned, alignedBlocks, zipBlocks } from './blocks.ts'
import { pieces } from './test-helpers/index.ts'

async function collect(
  sources: Uint8Array[],
  cuts: number[][],
  size: number,
  total = sources[0]?.length ?? 0,
): Promise<Uint8Array[][]> {
  const out: Uint8Array[][] = []
  const streams = sources.map((s, i) => pieces(s, cuts[i]))
  for await (const blocks of zipBlocks(streams, {
    elementSize: size,
    totalBytes: total,
    names: ['a', 'b', 'c'],
  })) {
    out.push(blocks.map((b) => b.slice()))
  }
  return out
}

describe('zipBlocks', () => {
  propTest.prop([
    fc.constantFrom(1, 2, 4, 8),
    fc.nat(60),
    fc.array(fc.array(fc.nat(), { maxLength: 8 }), { minLength: 3, maxLength: 3 }),
  ])(
    'yields equal aligned blocks that concatenate to each stream',
    async (size, elements, cuts) => {
      const sources = [0, 1, 2].map((k) =>
        Uint8Array.from({ length: elements * size }, (_, i) => (i * 7 + k) & 255),
      )
      const steps = await collect(sources, cuts, size)
      for (const blocks of steps) {
        expect(blocks[0]?.length).toBeGreaterThan(0)
        expect((blocks[0]?.length ?? 0) % size).toBe(0)
        for (const b of blocks) expect(b.length).toBe(blocks[0]?.length)
      }
      sources.forEach((source, k) => {
        expect(Buffer.concat(steps.map((blocks) => blocks[k] as Uint8Array))).toEqual(
          Buffer.from(source),
        )
      })
    },
  )

  test.each([
    ['a shorter stream', [8, 4], 8],
    ['a longer stream', [8, 12], 8],
    ['a partial element', [6, 6], 6],
  ])('rejects %s with CORRUPT, naming it', async (_name, lengths, total) => {
    const sources = lengths.map((n) => new Uint8Array(n))
    const error = await collect(sources, [[3], [5]], 4, total).catch((err: unknown) => err)
    expect(isMlvcError(error, 'CORRUPT')).toBe(true)
    expect(String(error)).toMatch(/^MlvcError: [ab] holds/)
  })

  test('alignedBlocks splits one stream at element boundaries', async () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i)
    const lengths: number[] = []
    for await (const block of alignedBlocks(pieces(data, [3, 5, 13]), {
      elementSize: 4,
      totalBytes: 24,
      name: 'w',
    })) {
      lengths.push(block.length)
    }
    expect(lengths).toEqual([4, 8, 12])
  })

  test('aligned() copies only misaligned bytes', () => {
    const buf = new Uint8Array(16)
    expect(aligned(buf.subarray(4, 12), 4)).toEqual(buf.subarray(4, 12))
    expect(aligned(buf.subarray(4, 12), 4).byteOffset).toBe(4)
    const copy = aligned(buf.subarray(3, 11), 4)
    expect(copy.byteOffset % 4).toBe(0)
    expect(copy.length).toBe(8)
  })
})
