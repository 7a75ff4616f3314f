import { describe, expect, it } from 'vitest'
import { scaledCount } from './exp-common.ts'
import { checkSyncReport } from './exp-sync.ts'

describe('experiment counts', () => {
  it('are the issue’s at 1 GiB and above, and scale down below it', () => {
    expect(scaledCount(10_000, 2 ** 30)).toBe(10_000)
    expect(scaledCount(10_000, 4 * 2 ** 30)).toBe(10_000)
    expect(scaledCount(10_000, 64 * 2 ** 20)).toBe(625)
    expect(scaledCount(1000, 1)).toBe(10)
    expect(scaledCount(5, 1)).toBe(5)
  })
})

describe('sync reports', () => {
  const report = (changes: Array<{ action: string; on: string }>, conflicts: unknown[] = []) =>
    JSON.stringify({ changes, conflicts, errors: [], skipped: [] })

  it('pass when exactly the expected experiments were copied', () => {
    const copies = [1, 2, 3].map(() => ({ action: 'copy', on: 'b' }))
    expect(() => checkSyncReport(report(copies), 3)).not.toThrow()
    expect(() => checkSyncReport(report([]), 0)).not.toThrow()
  })

  it('fail on missing copies, other changes or conflicts', () => {
    expect(() => checkSyncReport(report([{ action: 'copy', on: 'b' }]), 2)).toThrow(/expected 2/)
    expect(() => checkSyncReport(report([{ action: 'delete', on: 'a' }]), 0)).toThrow()
    expect(() => checkSyncReport(report([], [{ id: 'x' }]), 0)).toThrow(/conflicts/)
  })
})
