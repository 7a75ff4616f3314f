import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkAveraged, compareAverage, readTensors, ulpDistance } from './average.ts'
import { planCheckpoint, writeCheckpoint } from './safetensors.ts'

const dir = mkdtempSync(join(tmpdir(), 'mlvc-bench-avg-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ulp distance', () => {
  it('counts the float32 values between two numbers, across zero', () => {
    expect(ulpDistance(1, 1)).toBe(0)
    const next = new Float32Array(new Uint32Array([0x3f800001]).buffer)[0] as number
    expect(ulpDistance(1, next)).toBe(1)
    expect(ulpDistance(0, -0)).toBe(0)
    expect(ulpDistance(1.5e-45, -1.5e-45)).toBe(2)
  })
})

describe('average check', () => {
  it('accepts the correctly rounded average and measures anything else', () => {
    const a = Float32Array.from([1, 0.1, -3, 1e-3])
    const b = Float32Array.from([2, 0.2, 5, 3e-3])
    const exact = Float32Array.from(a, (x, i) => Math.fround((x + (b[i] as number)) / 2))
    const check = { elements: 0, inexact: 0, maxUlp: 0 }
    compareAverage(a, b, exact, check)
    expect(check).toEqual({ elements: 4, inexact: 0, maxUlp: 0 })
    const off = exact.slice()
    const bits = new Uint32Array(off.buffer)
    bits[2] = (bits[2] as number) + 3
    compareAverage(a, b, off, check)
    expect(check).toEqual({ elements: 8, inexact: 1, maxUlp: 3 })
  })

  it('reads a file the generator wrote and checks a merge of ours and theirs', () => {
    const plan = planCheckpoint(256 << 10)
    const [ours, theirs, base] = ['ours', 'theirs', 'v1'].map((v) => join(dir, `${v}.st`)) as [
      string,
      string,
      string,
    ]
    writeCheckpoint(ours, plan, 'ours')
    writeCheckpoint(theirs, plan, 'theirs')
    writeCheckpoint(base, plan, 'v1')
    expect(readTensors(ours).map((t) => t.name)).toEqual(plan.tensors.map((t) => t.name))
    const check = checkAveraged(base, ours, theirs)
    expect(check.elements).toBe((plan.tensors.at(-1)?.end ?? 0) / 4)
    expect(check.inexact).toBeGreaterThan(check.elements / 2)
    expect(checkAveraged(ours, ours, ours)).toMatchObject({ inexact: 0, maxUlp: 0 })
  })

  it('refuses a file with other tensors', () => {
    const other = join(dir, 'other.st')
    writeCheckpoint(other, planCheckpoint(512 << 10), 'v1')
    const ours = join(dir, 'ours2.st')
    writeCheckpoint(ours, planCheckpoint(256 << 10), 'ours')
    expect(() => checkAveraged(other, ours, ours)).toThrow(/layout/)
    writeFileSync(join(dir, 'short.st'), Buffer.alloc(4))
    expect(() => readTensors(join(dir, 'short.st'))).toThrow(/end of file/)
  })
})
