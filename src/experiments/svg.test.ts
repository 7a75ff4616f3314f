import { describe, expect, it } from 'vitest'
import { plotMetric } from './plot.ts'
import { openExpRepo } from './repo.ts'
import { loadExperiments } from './scan.ts'
import { formatTick, niceTicks, renderLineChart } from './svg.ts'
import { FIXTURE } from './test-helpers/index.ts'

describe('niceTicks', () => {
  it('picks round steps that cover the range', () => {
    expect(niceTicks(0, 1, 6)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(niceTicks(0.98, 2.31, 6)).toEqual([0.5, 1, 1.5, 2, 2.5])
    expect(niceTicks(1, 4, 8)).toEqual([1, 1.5, 2, 2.5, 3, 3.5, 4])
    expect(niceTicks(5, 5)).toEqual([4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6])
    expect(niceTicks(1, 4, 8, true)).toEqual([1, 2, 3, 4])
    expect(niceTicks(0, 1000, 8, true)).toEqual([0, 200, 400, 600, 800, 1000])
  })

  it('formats ticks briefly', () => {
    expect([0, 0.25, 1500, 25000, 3e6, 1e-5].map(formatTick)).toEqual([
      '0',
      '0.25',
      '1500',
      '25k',
      '3e6',
      '1e-5',
    ])
  })
})

describe('renderLineChart', () => {
  it('draws axes, ticks, one line per series broken at NaN, and a legend', () => {
    const svg = renderLineChart(
      [
        {
          label: 'a <1>',
          points: [
            [0, 1],
            [1, 0.5],
            [2, Number.NaN],
            [3, 0.2],
            [4, 0.1],
          ],
        },
        {
          label: 'b',
          points: [
            [0, 0.9],
            [4, 0.3],
          ],
        },
      ],
      { title: 'loss', xLabel: 'step', yLabel: 'loss' },
    )
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg.match(/<polyline /g)).toHaveLength(3)
    expect(svg).toContain('a &lt;1&gt;')
    expect(svg).toContain('>loss</text>')
    expect(svg).not.toContain('NaN')
  })

  it('says so when there is nothing to draw', () => {
    expect(renderLineChart([{ label: 'x', points: [] }])).toContain('no data')
  })
})

describe('plotMetric', () => {
  it('plots a metric of several experiments over the steps in their event names', async () => {
    const { experiments } = await loadExperiments(await openExpRepo(FIXTURE))
    const plot = await plotMetric(experiments.slice(0, 2), { metric: 'train:acc' })
    expect(plot.series.map((s) => s.points.map((p) => p.x))).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ])
    expect(plot.svg).toContain('cifar10/simple_idea (fjd08ayvu_xk2)')
  })
})
