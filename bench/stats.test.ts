import { describe, expect, it } from 'vitest'
import { formatSize, parseSize } from './sizes.ts'
import { median, range, throughput } from './stats.ts'

describe('median and range', () => {
  it('takes the middle value of an odd list, in any order', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([12.7])).toBe(12.7)
  })
  it('averages the middle two of an even list and does not sort its input in place', () => {
    const runs = [4, 1, 3, 2]
    expect(median(runs)).toBe(2.5)
    expect(runs).toEqual([4, 1, 3, 2])
  })
  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError)
  })
  it('gives min and max', () => {
    expect(range([5, 2, 9])).toEqual({ min: 2, max: 9 })
  })
  it('computes MB/s with MB = 10^6', () => {
    expect(throughput(2 ** 30, 1)).toBeCloseTo(1073.74, 2)
  })
})

describe('sizes', () => {
  it('parses binary units', () => {
    expect(parseSize('1g')).toBe(2 ** 30)
    expect(parseSize('256m')).toBe(256 * 2 ** 20)
    expect(parseSize('64MiB')).toBe(64 * 2 ** 20)
    expect(parseSize('4096')).toBe(4096)
    expect(parseSize('1.5k')).toBe(1536)
  })
  it('rejects what is not a size', () => {
    expect(() => parseSize('big')).toThrow(RangeError)
    expect(() => parseSize('0')).toThrow(RangeError)
    expect(() => parseSize('1x')).toThrow(RangeError)
  })
  it('formats', () => {
    expect(formatSize(2 ** 30)).toBe('1 GiB')
    expect(formatSize(1_493_192)).toBe('1.42 MiB')
    expect(formatSize(300)).toBe('300 B')
  })
})
