import { describe, expect, it } from 'vitest'
import type { Machine } from './machine.ts'
import { mergeDocument, parseSections, type RunInfo, renderSection } from './markdown.ts'
import type { ResultRow } from './types.ts'

const machine: Machine = {
  cpu: 'Test CPU',
  cores: 2,
  features: ['sha_ni'],
  ram: '24 GiB',
  kernel: 'Linux 6.0',
  fileSystem: 'ext4 rw',
  versions: { node: 'v20.0.0', git: '2.39.5' },
}

function run(date: string, command: string): RunInfo {
  return {
    date,
    command,
    settings: 'size 1 GiB',
    loadBefore: '0.10 0.20 0.30',
    loadAfter: '1.00 0.50 0.40',
    machine,
  }
}

function rows(scenario: string, value: number): ResultRow[] {
  return [{ scenario, subject: 'mlvc put', metric: 'time', value, unit: 's', runs: [value] }]
}

function section(name: string, value: number, at: RunInfo): string {
  return renderSection(
    { name, title: `${name} title`, issue: 2, about: 'About.', rows: rows(name, value) },
    at,
  )
}

describe('BENCHMARKS.md', () => {
  const first = run('2026-11-22T19:00:00.000Z', 'npm run bench')
  const second = run('2026-11-23T08:30:00.000Z', 'npm run bench -- --only dedup')
  const order = ['put', 'dedup', 'rss']

  it('renders a section with its command, date, load, machine and table', () => {
    const text = section('put', 1.5, first)
    expect(text.startsWith('<!-- bench:begin put -->')).toBe(true)
    expect(text.endsWith('<!-- bench:end put -->')).toBe(true)
    expect(text).toContain('`npm run bench`')
    expect(text).toContain('2026-11-22 19:00 UTC')
    expect(text).toContain('0.10 0.20 0.30')
    expect(text).toContain('Test CPU')
    expect(text).toContain('| mlvc put | time | 1.50 s |')
  })

  it('keeps the sections of scenarios that did not run, and replaces those that did', () => {
    const all = mergeDocument(
      undefined,
      new Map([
        ['put', section('put', 1.5, first)],
        ['dedup', section('dedup', 2.5, first)],
      ]),
      order,
      first,
    )
    const partial = mergeDocument(
      all,
      new Map([['dedup', section('dedup', 9.5, second)]]),
      order,
      second,
    )
    const sections = parseSections(partial)
    expect([...sections.keys()]).toEqual(['put', 'dedup'])
    expect(sections.get('put')).toContain('1.50 s')
    expect(sections.get('put')).toContain('2026-11-22 19:00 UTC')
    expect(sections.get('dedup')).toContain('9.50 s')
    expect(sections.get('dedup')).not.toContain('2.50 s')
    expect(partial).toContain('Latest run: 2026-11-23 08:30 UTC')
    expect(partial.match(/bench:begin/g)).toHaveLength(2)
  })

  it('orders sections by the registry and keeps unknown ones after them', () => {
    const old = mergeDocument(
      undefined,
      new Map([['retired', section('retired', 1, first)]]),
      [],
      first,
    )
    const merged = mergeDocument(
      old,
      new Map([
        ['rss', section('rss', 3, second)],
        ['put', section('put', 1, second)],
      ]),
      order,
      second,
    )
    expect([...parseSections(merged).keys()]).toEqual(['put', 'rss', 'retired'])
  })

  it('is stable: merging a document with nothing new changes only the preamble', () => {
    const doc = mergeDocument(
      undefined,
      new Map([['put', section('put', 1.5, first)]]),
      order,
      first,
    )
    expect(mergeDocument(doc, new Map(), order, first)).toBe(doc)
  })
})
