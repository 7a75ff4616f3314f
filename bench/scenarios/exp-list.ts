import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Scenario } from '../context.ts'
import { experimentRepo } from '../data/experiments.ts'
import { removeTree } from '../fsutil.ts'
import { measureSeries } from '../measure.ts'
import type { Target } from '../types.ts'
import { execToFile, expSandbox, scaledCount, timeRows, warmTree } from './exp-common.ts'

const NAME = 'exp-list'
const EXPERIMENTS = 10_000
const LINES = 10
const TARGET: Target = {
  on: 'value',
  op: '<',
  threshold: 1,
  text: '< 1 s (10,000)',
  source: 'issue 6',
}

export const expList: Scenario = {
  name: NAME,
  title: '`mlvc exp list` over a large experiment repository',
  issue: 6,
  about: [
    'A dbx repository of 10,000 experiments (10 names, parameters that vary; meta.json and 10',
    'log lines each), written once by mlvc’s logger API into `.bench/data/` and reused (--size',
    'under 1 GiB scales the count down). Timed: `mlvc exp list -r REPO`, the table as a user sees',
    'it, with the repository in the page cache; the count is checked once with `--json`. The',
    'command only reads, so every run uses the same repository.',
  ].join('\n'),
  async run(ctx) {
    const count = scaledCount(EXPERIMENTS, ctx.options.size)
    ctx.log(`${NAME}: repository of ${count} experiments (${LINES} log lines each)`)
    const repo = await experimentRepo(ctx.work.data, { experiments: count, lines: LINES })
    const sb = await expSandbox(ctx)
    try {
      const out = join(sb.home, 'list.json')
      execToFile(sb.mlvc(repo, ['exp', 'list', '-r', repo, '--json']), out)
      const listed = JSON.parse(await readFile(out, 'utf8')) as unknown[]
      if (!Array.isArray(listed) || listed.length !== count) {
        throw new Error(
          `mlvc exp list --json listed ${listed?.length} experiments, expected ${count}`,
        )
      }
      const subject = `mlvc exp list, ${count.toLocaleString('en-US')} experiments`
      const series = await measureSeries(ctx, {
        label: subject,
        setup: async () => {
          warmTree(repo)
          return { command: sb.mlvc(repo, ['exp', 'list', '-r', repo]) }
        },
      })
      return timeRows({ scenario: NAME, subject }, series, TARGET)
    } finally {
      await removeTree(sb.home)
    }
  },
}
