import {
  compareExperiments,
  display,
  loadExperiments,
  pickExperiment,
} from '../../experiments/index.ts'
import type { CommandResult, Io } from '../io.ts'
import { quote } from '../text.ts'
import { openExpContext, type RepoOption } from './context.ts'
import { formatNumber, renderTable } from './table.ts'

export interface CompareOptions extends RepoOption {
  metric?: string[] | undefined
  /** Only the params that differ. */
  diff?: boolean | undefined
}

/** Params side by side (differing ones marked and highlighted), then last/min/max of metrics. */
export async function expCompare(
  io: Io,
  [ids]: [string[]],
  options: CompareOptions,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const { experiments } = await loadExperiments(repo)
  const chosen = ids.map((id) => pickExperiment(experiments, id))
  const c = await compareExperiments(chosen, options.metric ?? [])
  const params = options.diff ? c.params.filter((p) => p.differs) : c.params
  const highlight = new Set(params.flatMap((p, i) => (p.differs ? [i] : [])))
  const header = ['', ...chosen.map((e) => e.id)]
  const parts = [
    renderTable(
      header,
      params.map((p) => [
        `${p.differs ? '*' : ' '} ${quote(p.key)}`,
        ...p.values.map((v) => display(v)),
      ]),
      { highlight },
    ),
  ]
  if (c.metrics.length > 0) {
    const rows = c.metrics.flatMap((m) =>
      (['last', 'min', 'max'] as const).map((agg) => [
        `${agg}(${m.metric})`,
        ...m.values.map((v) => formatNumber(v[agg])),
      ]),
    )
    parts.push(
      renderTable(['metric', ...chosen.map((e) => e.id)], rows, {
        right: new Set(chosen.map((_, i) => i + 1)),
      }),
    )
  }
  const names = chosen.map((e) => `${e.id}  ${quote(e.name ?? '')}`).join('\n')
  return { data: c, text: [names, ...parts].join('\n\n') }
}
