import { describe, expect, it } from 'vitest'
import type { Series } from '../measure.ts'
import { SCENARIOS } from '../scenarios/index.ts'
import { MANY_FILE_SIZE, MANY_FILES, manyFileCount } from '../scenarios/s3-many.ts'
import type { Target } from '../types.ts'
import { speedRatioRow } from './compare.ts'
import { checkFetchReport, checkPushReport } from './mlvc.ts'
import { rcloneEnv, rclonePath } from './rclone.ts'
import { resumedNote } from './resume.ts'

const series = (seconds: number[]): Series => ({ seconds, peakRssMiB: [], samples: [] })

describe('S3 scenarios', () => {
  it('are registered for issue 13', () => {
    const names = SCENARIOS.filter((s) => s.issue === 13).map((s) => s.name)
    expect(names).toEqual(['s3-transfer', 's3-many'])
  })

  it('use 10,000 files of 100 KiB, fewer (at least one) for a smaller --size', () => {
    expect(manyFileCount(2 ** 30)).toBe(MANY_FILES)
    expect(manyFileCount(64 * 2 ** 20)).toBe(655)
    expect(manyFileCount(1000)).toBe(1)
    expect(manyFileCount(MANY_FILES * MANY_FILE_SIZE)).toBe(MANY_FILES)
  })
})

describe('rclone', () => {
  const server = { endpoint: 'http://127.0.0.1:9', accessKeyId: 'AK', secretAccessKey: 'SK' }

  it('is configured by environment variables alone, on top of the sandbox', () => {
    const env = rcloneEnv({ HOME: '/h', PATH: '/bin' }, server)
    expect(env).toEqual({
      HOME: '/h',
      PATH: '/bin',
      RCLONE_CONFIG: '/dev/null',
      RCLONE_CONFIG_BENCH_TYPE: 's3',
      RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
      RCLONE_CONFIG_BENCH_ENDPOINT: 'http://127.0.0.1:9',
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: 'AK',
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: 'SK',
      RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
    })
  })

  it('names prefixes and objects in the bench bucket', () => {
    expect(rclonePath('up-1')).toBe('bench:bench/up-1')
    expect(rclonePath('src', 'model.safetensors')).toBe('bench:bench/src/model.safetensors')
  })
})

describe('mlvc reports', () => {
  const push = (r: object) => JSON.stringify({ remote: 'push-1', files: 1, ...r })

  it('a push to an empty remote must send every object and the files’ bytes', () => {
    const whole = { objects: 10, present: 0, uploadedObjects: 10, uploadedBytes: 1000 }
    expect(() => checkPushReport(push(whole), 1000, 'p')).not.toThrow()
    expect(() => checkPushReport(push({ ...whole, present: 2 }), 1000, 'p')).toThrow(
      /p: 10 of 10 objects sent, 2 already there/,
    )
    expect(() => checkPushReport(push({ ...whole, uploadedObjects: 9 }), 1000, 'p')).toThrow()
    expect(() => checkPushReport(push({ ...whole, uploadedBytes: 999 }), 1000, 'p')).toThrow(
      /sent 999 bytes, less than the 1000/,
    )
    expect(() =>
      checkPushReport(push({ ...whole, objects: 0, uploadedObjects: 0 }), 0, 'p'),
    ).toThrow()
    expect(() => checkPushReport('mlvc: error', 1000, 'p')).toThrow(/p printed no JSON/)
  })

  it('a fetch into an empty store must get every object and the files’ bytes', () => {
    const whole = { objects: 10, fetchedObjects: 10, fetchedBytes: 1000, missing: [] }
    expect(() => checkFetchReport(JSON.stringify(whole), 1000, 'f')).not.toThrow()
    const missing = { ...whole, fetchedObjects: 9, missing: ['bafk'] }
    expect(() => checkFetchReport(JSON.stringify(missing), 1000, 'f')).toThrow(
      /f: fetched 9 of 10 objects, missing 1/,
    )
    const short = { ...whole, fetchedBytes: 10 }
    expect(() => checkFetchReport(JSON.stringify(short), 1000, 'f')).toThrow(/fetched 10 bytes/)
  })
})

describe('speed ratios', () => {
  const target: Target = { on: 'value', op: '>=', threshold: 0.9, text: '', source: 'test' }
  const pair = { a: 'mlvc', b: 'rclone', metric: 'speed', target }

  it('are b’s time over a’s, round by round, judged as a row of a', () => {
    const compared = {
      rows: [],
      series: new Map([
        ['mlvc', series([2, 4, 5])],
        ['rclone', series([4, 4, 1])],
      ]),
    }
    const r = speedRatioRow('s', compared, pair)
    expect(r).toMatchObject({ subject: 'mlvc', metric: 'speed', unit: 'x', target })
    expect(r.runs).toEqual([2, 1, 0.2])
    expect(r.value).toBe(1)
  })

  it('are not available, with their target, when a side did not run', () => {
    const compared = { rows: [], series: new Map([['mlvc', series([2])]]) }
    const r = speedRatioRow('s', compared, pair)
    expect(r).toMatchObject({ value: null, target, note: 'not available: rclone did not run' })
  })
})

describe('resumed pushes', () => {
  it('are noted with their exact bytes, what they sent more, and where they stopped', () => {
    expect(resumedNote([{ total: 1100, at: 510 }], 1000)).toBe(
      '1,100 B (+100 B, +10.00%), the first run stopped at 51%',
    )
    expect(
      resumedNote(
        [
          { total: 1000, at: 500 },
          { total: 990, at: 700 },
        ],
        1000,
      ),
    ).toBe(
      '1,000 B (+0 B, +0.00%), the first run stopped at 50%; 990 B (-10 B, -1.00%), the first run stopped at 70%',
    )
  })
})
