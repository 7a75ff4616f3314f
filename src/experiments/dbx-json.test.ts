import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dbxNumber, formatDbxJson, formatLogLine, parseDbxJson } from './dbx-json.ts'
import { FIXTURE } from './test-helpers/index.ts'

const E1 = join(FIXTURE, 'cifar10/simple_idea/fjd08ayvu_xk2')

describe('parseDbxJson', () => {
  it('reads the NaN and infinity tokens Python writes, outside strings only', () => {
    const v = parseDbxJson('{"a": NaN, "b": -Infinity, "c": Infinity, "s": "NaN Infinity"}')
    expect(v).toEqual({
      a: { _dbx: 'nan' },
      b: { _dbx: '-inf' },
      c: { _dbx: 'inf' },
      s: 'NaN Infinity',
    })
    expect(dbxNumber((v as Record<string, unknown>).a)).toBeNaN()
    expect(dbxNumber((v as Record<string, unknown>).b)).toBe(Number.NEGATIVE_INFINITY)
  })

  it('reads the event-without-data line dbxlogger writes', () => {
    expect(parseDbxJson('{"event": "start", }')).toEqual({ event: 'start' })
  })

  it('still rejects what is not JSON', () => {
    expect(() => parseDbxJson('{"event": "x"')).toThrow(SyntaxError)
    expect(() => parseDbxJson('{"a": "b",, }')).toThrow(SyntaxError)
  })
})

describe('formatDbxJson', () => {
  it('writes meta.json byte for byte as dbxlogger (Python json.dump indent=4, sort_keys)', () => {
    for (const path of [
      join(E1, 'meta.json'),
      join(FIXTURE, 'cifar10/simple_idea/uv89_kxzfQ0a/meta.json'),
      join(FIXTURE, 'j482_fuzxvAbC/meta.json'),
      join(E1, 'files.json'),
    ]) {
      const text = readFileSync(path, 'utf8')
      expect(formatDbxJson(parseDbxJson(text), 4)).toBe(text)
    }
  })

  it('writes log lines as dbxlogger: event first, sorted keys, ", " and ": "', () => {
    const lines = readFileSync(join(E1, 'log.jsonl'), 'utf8').trimEnd().split('\n')
    const plain = lines.filter((l) => !/NaN|Infinity|, }/.test(l))
    expect(plain.length).toBeGreaterThan(4)
    for (const line of plain) {
      const { event, ...values } = parseDbxJson(line) as Record<string, unknown>
      expect(formatLogLine(event as string, values)).toBe(line)
    }
  })

  it('tags what JSON cannot hold and escapes non-ASCII as Python does', () => {
    expect(formatLogLine('e', { x: Number.NaN, y: Number.POSITIVE_INFINITY, s: 'café ✓' })).toBe(
      '{"event": "e", "s": "caf\\u00e9 \\u2713", "x": {"_dbx": "nan"}, "y": {"_dbx": "inf"}}',
    )
    expect(formatLogLine('empty', {})).toBe('{"event": "empty"}')
    expect(formatLogLine('e', { event: 'ignored', a: 1 })).toBe('{"event": "e", "a": 1}')
  })
})
