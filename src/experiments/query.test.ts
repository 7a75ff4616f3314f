import { describe, expect, it } from 'vitest'
import { compareExperiments } from './compare.ts'
import { eventMatches } from './metrics.ts'
import { fieldLabel, parseField, parseWhere, queryExperiments } from './query.ts'
import { openExpRepo } from './repo.ts'
import { loadExperiments } from './scan.ts'
import { FIXTURE } from './test-helpers/index.ts'

async function fixtureExperiments() {
  return (await loadExperiments(await openExpRepo(FIXTURE))).experiments
}

describe('eventMatches', () => {
  it.each([
    ['train', 'train/epoch/3/end', true],
    ['train', 'training', false],
    ['train/*/3/end', 'train/epoch/3/end', true],
    ['train/*/end', 'train/epoch/3/end', false],
    ['train/**/end', 'train/epoch/3/end', true],
    ['train/**/end', 'train/end', true],
    ['eval/epoch/*', 'eval/epoch/12', true],
    ['**', 'anything/at/all', true],
  ])('%s ~ %s: %s', (pattern, event, expected) => {
    expect(eventMatches(pattern, event)).toBe(expected)
  })
})

describe('fields and filters', () => {
  it('parses params, meta fields and metrics', () => {
    expect(parseField('model.depth')).toEqual({ kind: 'param', path: ['model', 'depth'] })
    expect(parseField('params.lr')).toEqual({ kind: 'param', path: ['lr'] })
    expect(parseField('@kind')).toEqual({ kind: 'meta', key: 'kind' })
    expect(parseField('min(train/*:loss)')).toEqual({
      kind: 'metric',
      agg: 'min',
      key: 'loss',
      event: 'train/*',
    })
    expect(fieldLabel(parseField('last(acc)'))).toBe('last(acc)')
    expect(parseWhere('lr<0.01')).toMatchObject({ op: '<', value: '0.01' })
    expect(parseWhere('optimizer == sgd')).toMatchObject({ op: '=', value: 'sgd' })
    expect(() => parseWhere('lr')).toThrow(/FIELD OP VALUE/)
    expect(() => parseField('@nope')).toThrow(/unknown field/)
  })

  it('filters by prefix, kind, params and metrics, and sorts by a metric', async () => {
    const exps = await fixtureExperiments()
    const ids = async (options: Parameters<typeof queryExperiments>[1]) =>
      (await queryExperiments(exps, options)).map((r) => r.exp.id)
    expect(await ids({ prefix: 'cifar10/' })).toEqual(['fjd08ayvu_xk2', 'uv89_kxzfQ0a'])
    expect(await ids({ kind: 'eval.py' })).toEqual(['j482_fuzxvAbC'])
    expect(await ids({ where: [parseWhere('lr<0.05')] })).toEqual(['uv89_kxzfQ0a', 'j482_fuzxvAbC'])
    expect(await ids({ where: [parseWhere('min(loss)<0.9')] })).toEqual(['uv89_kxzfQ0a'])
    expect(await ids({ sort: parseField('last(acc)'), descending: true })).toEqual([
      'uv89_kxzfQ0a',
      'fjd08ayvu_xk2',
      'j482_fuzxvAbC',
    ])
    const rows = await queryExperiments(exps, { columns: [parseField('max(acc)')] })
    expect(rows[0]?.values['max(acc)']).toBe(0.62)
  })
})

describe('compareExperiments', () => {
  it('puts params side by side, flags the differing ones, summarizes metrics', async () => {
    const exps = (await fixtureExperiments()).slice(0, 2)
    const c = await compareExperiments(exps, ['loss', 'eval:val_acc'])
    const row = (key: string) => c.params.find((p) => p.key === key)
    expect(row('lr')).toEqual({ key: 'lr', values: [0.1, 0.01], differs: true })
    expect(row('batch_size')?.differs).toBe(false)
    expect(row('layers')?.differs).toBe(false)
    expect(c.metrics[0]?.values[0]).toMatchObject({ min: 0.98, max: 2.31, count: 4 })
    expect(c.metrics[0]?.values[0]?.last).toBeNaN()
    expect(c.metrics[0]?.values[1]).toMatchObject({ last: 0.5, min: 0.5 })
    expect(c.metrics[1]?.values[0]).toMatchObject({ last: 0.6, count: 3 })
  })
})
