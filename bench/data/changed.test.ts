import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { changedRegion, writeChangedCopy } from './changed.ts'
import { BLOCK } from './keystream.ts'

const dir = mkdtempSync(join(tmpdir(), 'mlvc-bench-changed-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the changed region', () => {
  it('is 1% of the file in one piece, inside it, away from the start', () => {
    const size = 2 ** 30
    const r = changedRegion(size, 0.01)
    expect(r.length).toBe(Math.round(size / 100))
    expect(r.offset).toBe(Math.floor(size * 0.37))
    expect(r.offset + r.length).toBeLessThanOrEqual(size)
  })

  it('stays inside tiny files', () => {
    expect(changedRegion(10, 0.01)).toEqual({ offset: 3, length: 1 })
    expect(changedRegion(1, 0.5)).toEqual({ offset: 0, length: 1 })
  })
})

describe('a changed copy', () => {
  it('differs from its source in every byte of the region and nowhere else', () => {
    const size = BLOCK + 4096
    const data = Buffer.alloc(size)
    for (let i = 0; i < size; i++) data[i] = (i * 31) & 0xff
    const src = join(dir, 'v1.bin')
    const dst = join(dir, 'v2.bin')
    writeFileSync(src, data)
    // Longer than one block, so the copy loop runs twice.
    const region = { offset: 1000, length: BLOCK + 10 }
    writeChangedCopy(src, dst, region)
    const out = readFileSync(dst)
    expect(out.length).toBe(size)
    let differing = 0
    for (let i = 0; i < size; i++) {
      const inside = i >= region.offset && i < region.offset + region.length
      if (out[i] !== data[i]) differing++
      else expect(inside).toBe(false)
    }
    expect(differing).toBe(region.length)
  })
})
