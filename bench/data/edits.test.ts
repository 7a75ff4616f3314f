import { describe, expect, it } from 'vitest'
import { denseEditor, mulberry32, seedOf, sparseCount, sparseEditor } from './edits.ts'

/** Words that look like the generator's F32 values (exponent in [2^-7, 2^-3)). */
function weights(n: number, seed: string): Uint32Array {
  const random = mulberry32(seedOf(seed))
  return Uint32Array.from({ length: n }, () => (random() & 0x81ffffff) | 0x3c000000)
}

/** Runs an editor over `words` in blocks of `block` elements, as the generator streams them. */
function edit(words: Uint32Array, make: () => (w: Uint32Array, n: number) => void, block: number) {
  const out = words.slice()
  const editor = make()
  for (let i = 0; i < out.length; i += block) {
    const part = out.subarray(i, Math.min(out.length, i + block))
    editor(part, part.length)
  }
  return out
}

function changedIndexes(a: Uint32Array, b: Uint32Array): number[] {
  const out: number[] = []
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i)
  return out
}

describe('sparse edits', () => {
  const n = 100_003
  const base = weights(n, 'base')
  const make = () => sparseEditor(n, 0.001, 'seed')

  it('change 0.1% of the elements, one in each equal window, whatever the block size', () => {
    const changed = changedIndexes(base, edit(base, make, 4096))
    expect(changed.length).toBe(sparseCount(n, 0.001))
    const k = changed.length
    const outside = changed.filter(
      (index, j) => index < Math.floor((j * n) / k) || index >= Math.floor(((j + 1) * n) / k),
    )
    expect(outside).toEqual([])
    expect(edit(base, make, 7)).toEqual(edit(base, make, 4096))
    expect(edit(base, make, n)).toEqual(edit(base, make, 4096))
  })

  it('keep sign and exponent, so values stay finite and weight-like', () => {
    const after = edit(base, make, 1000)
    for (const i of changedIndexes(base, after)) {
      expect((after[i] as number) & 0xff800000).toBe((base[i] as number) & 0xff800000)
    }
  })

  it('change at least one element of a tiny tensor, and depend on the seed', () => {
    expect(sparseCount(8, 0.001)).toBe(1)
    expect(sparseCount(0, 0.001)).toBe(0)
    const small = weights(8, 'small')
    expect(
      changedIndexes(
        small,
        edit(small, () => sparseEditor(8, 0.001, 's'), 3),
      ).length,
    ).toBe(1)
    const other = edit(base, () => sparseEditor(n, 0.001, 'other'), 4096)
    expect(other).not.toEqual(edit(base, make, 4096))
  })
})

describe('dense edits', () => {
  it('change every element in its low 16 bits only, deterministically', () => {
    const base = weights(50_000, 'dense')
    const make = () => denseEditor('ours')
    const after = edit(base, make, 4096)
    expect(changedIndexes(base, after).length).toBe(base.length)
    const high = after.filter((w, i) => (w ^ (base[i] as number)) >>> 16 !== 0)
    expect(high.length).toBe(0)
    expect(edit(base, make, 4096)).toEqual(after)
    expect(edit(base, () => denseEditor('theirs'), 4096)).not.toEqual(after)
  })
})
