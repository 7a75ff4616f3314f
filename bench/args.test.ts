import { describe, expect, it } from 'vitest'
import { parseCli } from './args.ts'

describe('command line', () => {
  it('defaults to 1 GiB, 3 runs, one warm-up, every peer, and 1 GiB + 4 GiB for rss', () => {
    const { options, only, write } = parseCli([])
    expect(options.size).toBe(2 ** 30)
    expect(options.rssSizes).toEqual([2 ** 30, 4 * 2 ** 30])
    expect(options.runs).toBe(3)
    expect(options.warmup).toBe(1)
    expect(options.peers).toEqual(['git-lfs', 'git-annex', 'git'])
    expect(only).toBeUndefined()
    expect(write).toBe(true)
  })
  it('reads --only, --size, --runs, --quick, --peers and --no-write', () => {
    const args = parseCli(
      '--only put,rss --size 64m --runs 1 --quick --peers git-lfs --no-write'.split(' '),
    )
    expect(args.only).toEqual(['put', 'rss'])
    expect(args.options.size).toBe(64 * 2 ** 20)
    expect(args.options.rssSizes).toEqual([64 * 2 ** 20, 256 * 2 ** 20])
    expect(args.options.runs).toBe(1)
    expect(args.options.peers).toEqual(['git-lfs'])
    expect(args.write).toBe(false)
  })
  it('rejects bad values', () => {
    expect(() => parseCli(['--runs', '0'])).toThrow(RangeError)
    expect(() => parseCli(['--peers', 'dvc'])).toThrow(RangeError)
    expect(() => parseCli(['--size', 'huge'])).toThrow(RangeError)
    expect(() => parseCli(['--bogus'])).toThrow()
  })
})
