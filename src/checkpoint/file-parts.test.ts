import { describe, expect, it } from 'vitest'
import type { FileManifest } from '../store/index.ts'
import { partSize, placedParts } from './file-parts.ts'

const chunk = (n: number) => `bafkrei${'a'.repeat(51)}${n}`
const part = (n: number) => `bagaaiera${'a'.repeat(51)}${n}`

describe('file manifest parts', () => {
  it('partSize sums inline chunks and takes a reference at its size', () => {
    expect(partSize({ chunks: [] })).toBe(0)
    expect(
      partSize({
        chunks: [
          [chunk(1), 10],
          [chunk(2), 32],
        ],
      }),
    ).toBe(42)
    expect(partSize({ ref: part(1), size: 1000 })).toBe(1000)
  })

  it('placedParts gives each part the bytes [start, end) of the file it holds, in order', () => {
    const manifest: FileManifest = {
      type: 'file',
      size: 1050,
      sha256: '0'.repeat(64),
      meta: {},
      parts: [
        { chunks: [[chunk(1), 8]] },
        { ref: part(1), size: 1000 },
        { chunks: [[chunk(2), 42]] },
      ],
    }
    expect([...placedParts(manifest)].map(({ start, end }) => [start, end])).toEqual([
      [0, 8],
      [8, 1008],
      [1008, 1050],
    ])
  })
})
