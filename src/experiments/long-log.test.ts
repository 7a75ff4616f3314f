import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { compareExperiments } from './compare.ts'
import { fsckRepo } from './fsck.ts'
import { readAllLogs } from './log-read.ts'
import { aggregate, metricSeries, metricTable } from './metrics.ts'
import { plotMetric } from './plot.ts'
import { parseField, queryExperiments } from './query.ts'
import { openExpRepo } from './repo.ts'
import { type Experiment, loadExperiments, pickExperiment } from './scan.ts'
import { copyFixture } from './test-helpers/index.ts'

// One metric per step for 200k steps is an ordinary run. Spreading its events or values into a
// call's arguments (push(...events), Math.min(...values)) overflowed the stack.
const STEPS = 200_000
const ID = 'uv89_kxzfQ0a'

function longLog(steps: number): string {
  const lines: string[] = []
  for (let step = 1; step <= steps; step++) {
    lines.push(JSON.stringify({ event: 'train', step, loss: 1 + 1 / step }))
  }
  return `${lines.join('\n')}\n`
}

describe(`an experiment whose log.jsonl has ${STEPS} lines`, () => {
  let root: string
  let experiments: Experiment[]
  beforeAll(async () => {
    root = copyFixture(tempDir('mlvc-long-log'))
    writeFileSync(join(root, 'cifar10/simple_idea', ID, 'log.jsonl'), longLog(STEPS))
    experiments = (await loadExperiments(await openExpRepo(root))).experiments
  })

  it('is read whole, with every stream (exp metrics, show)', async () => {
    const logs = await readAllLogs(pickExperiment(experiments, ID).dir)
    expect(logs.problems).toEqual([])
    expect(logs.events.filter((e) => e.stream === '')).toHaveLength(STEPS)
    const table = metricTable(logs.events, { event: 'train', keys: ['loss'] })
    expect(table.rows).toHaveLength(STEPS)
    const series = metricSeries(logs.events, 'loss', { event: 'train' })
    expect(aggregate(series, 'min')).toBe(1 + 1 / STEPS)
    expect(aggregate(series, 'max')).toBe(2)
  })

  it('sorts and filters by its metrics (exp list --sort, compare)', async () => {
    const rows = await queryExperiments(experiments, {
      prefix: 'cifar10/',
      sort: parseField('min(loss)'),
      columns: [parseField('max(loss)')],
    })
    const mine = rows.find((r) => r.exp.id === ID)
    expect(mine?.values).toEqual({ 'max(loss)': 2, 'min(loss)': 1 + 1 / STEPS })
    const comparison = await compareExperiments([pickExperiment(experiments, ID)], ['train:loss'])
    expect(comparison.metrics[0]?.values[0]).toEqual({
      last: 1 + 1 / STEPS,
      min: 1 + 1 / STEPS,
      max: 2,
      count: STEPS,
    })
  })

  it('is checked by exp fsck', async () => {
    const report = await fsckRepo(await openExpRepo(root))
    expect(report.issues.filter((i) => i.severity === 'error')).toEqual([])
  })

  it('is plotted (exp plot)', async () => {
    const plot = await plotMetric([pickExperiment(experiments, ID)], { metric: 'train:loss' })
    expect(plot.series[0]?.points).toHaveLength(STEPS)
    expect(plot.svg.match(/<polyline /g)).toHaveLength(1)
  })
})
