import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { repoApi } from './api.js'
import { html, loadState, num, SortHeader, sortRows, useLoad, when } from './ui.js'

const PALETTE = [
  '#1f6feb',
  '#d1242f',
  '#1a7f37',
  '#9a6700',
  '#8250df',
  '#bf3989',
  '#0a7f8c',
  '#6e7781',
]
const color = (i) => PALETTE[i % PALETTE.length]

/** Metric curves of the given runs, drawn by uPlot; resizes with its box. */
function Curves({ repo, rev, ids, metric }) {
  const box = useRef(null)
  const state = useLoad(
    () => repoApi(repo, 'curves', { rev, key: metric, ids: ids.join(','), points: 1000 }),
    [repo.name, rev, metric, ids.join(',')],
  )
  useEffect(() => {
    const el = box.current
    const d = state.data
    if (!el || !d || d.x.length === 0) return
    let plot
    let resize
    let live = true
    // uPlot is loaded with the first chart: the other pages do without its 40 kB.
    import('uplot')
      .then(({ default: uPlot }) => {
        if (!live) return
        const width = () => Math.max(280, el.clientWidth)
        const opts = {
          width: width(),
          height: 320,
          title: metric,
          scales: { x: { time: false } },
          axes: [{ label: 'step' }, { label: metric }],
          legend: { live: d.runs.length <= 12 },
          series: [
            { label: 'step' },
            ...d.runs.map((r, i) => ({
              label: r.id,
              stroke: color(i),
              width: 1.5,
              spanGaps: true,
              points: { show: false },
            })),
          ],
        }
        plot = new uPlot(opts, [d.x, ...d.runs.map((r) => r.y)], el)
        resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 320 }))
        resize.observe(el)
      })
      .catch((err) => {
        el.textContent = `The chart could not be drawn: ${err.message}`
      })
    return () => {
      live = false
      resize?.disconnect()
      plot?.destroy()
    }
  }, [state.data])
  const shown = loadState(state, `curves of ${metric}`)
  return html`<figure class="curves">
    ${shown}
    <div ref=${box} class="uplot-box" role="img" aria-label=${`${metric} per step for ${ids.length || 'all'} run(s)`}></div>
    ${state.data ? html`<figcaption class="muted">${state.data.runs.length} run(s), ${state.data.x.length} points per curve shown of ${state.data.runs.reduce((m, r) => Math.max(m, r.total), 0)} logged</figcaption>` : null}
  </figure>`
}

function ParamsCompare({ runs }) {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort()
  const differs = (k, pick) => new Set(runs.map((r) => JSON.stringify(pick(r)[k] ?? null))).size > 1
  return html`<div class="scroll"><table class="grid compare-runs">
    <caption>Selected runs side by side (differing values marked)</caption>
    <thead><tr><th scope="col">Key</th>${runs.map((r) => html`<th scope="col">${r.id}</th>`)}</tr></thead>
    <tbody>
      ${keys.map((k) => html`<tr class=${differs(k, (r) => r.params) ? 'differs' : ''}><th scope="row">${k}</th>${runs.map((r) => html`<td>${String(r.params[k] ?? '—')}</td>`)}</tr>`)}
      ${metricKeys.map((k) => html`<tr class=${differs(k, (r) => r.metrics) ? 'differs' : ''}><th scope="row">final ${k}</th>${runs.map((r) => html`<td class="n">${num(r.metrics[k])}</td>`)}</tr>`)}
    </tbody>
  </table></div>`
}

/** Experiments committed at `rev`: a table of runs, a comparison of the chosen ones, their curves. */
export function RunsView({ repo, rev }) {
  const state = useLoad(() => repoApi(repo, 'runs', { rev }), [repo.name, rev])
  const [filter, setFilter] = useState('')
  const [sort, setSort] = useState({ key: 'createdAt', dir: 'desc' })
  const [selected, setSelected] = useState([])
  const [hidden, setHidden] = useState(new Set())
  const [metric, setMetric] = useState('')
  const runs = state.data?.runs ?? []
  const paramKeys = useMemo(
    () => [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(),
    [runs],
  )
  const metricKeys = useMemo(
    () => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(),
    [runs],
  )
  const columns = useMemo(
    () => [
      { id: 'id', label: 'Run', key: (r) => r.id },
      { id: 'name', label: 'Name', key: (r) => r.name },
      { id: 'createdAt', label: 'Created', key: (r) => r.createdAt, show: when },
      ...paramKeys.map((k) => ({ id: `p:${k}`, label: k, key: (r) => r.params[k] ?? null })),
      ...metricKeys.map((k) => ({
        id: `m:${k}`,
        label: k,
        numeric: true,
        key: (r) => r.metrics[k] ?? null,
        show: num,
      })),
    ],
    [paramKeys, metricKeys],
  )
  const shownColumns = columns.filter((c) => !hidden.has(c.id))
  const rows = useMemo(() => {
    const needle = filter.toLowerCase()
    const kept = needle
      ? runs.filter((r) =>
          `${r.id} ${r.name} ${JSON.stringify(r.params)}`.toLowerCase().includes(needle),
        )
      : runs
    const column = columns.find((c) => c.id === sort.key) ?? columns[0]
    return sortRows(kept, column.key, sort.dir)
  }, [runs, filter, sort, columns])
  const shown = loadState(state, 'experiments')
  if (shown) return shown
  if (runs.length === 0)
    return html`<p>No experiments are committed at ${rev} (a dbx repository: a folder with <code>.dbx/</code>).</p>`
  const chosen = metric || metricKeys.find((k) => /loss/.test(k)) || metricKeys[0] || ''
  const toggle = (id) =>
    setSelected(selected.includes(id) ? selected.filter((s) => s !== id) : [...selected, id])
  const toggleColumn = (id) => {
    const next = new Set(hidden)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    setHidden(next)
  }
  const picked = runs.filter((r) => selected.includes(r.id))
  return html`<section aria-labelledby="runs-title">
    <h2 id="runs-title">Experiments at ${rev} <span class="muted">(${rows.length} of ${runs.length} runs)</span></h2>
    <div class="inline">
      <label class="filter">Filter <input type="search" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} placeholder="id, name or parameter" /></label>
      <details class="columns"><summary>Columns</summary>
        ${columns.map((c) => html`<label class="check"><input type="checkbox" checked=${!hidden.has(c.id)} onChange=${() => toggleColumn(c.id)} /> ${c.label}</label>`)}
      </details>
    </div>
    <div class="scroll"><table class="grid runs">
      <thead><tr><th scope="col"><span class="sr">Select</span></th>${shownColumns.map((c) => html`<${SortHeader} id=${c.id} label=${c.label} sort=${sort} setSort=${setSort} numeric=${c.numeric} />`)}</tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr class=${selected.includes(r.id) ? 'selected' : ''}>
            <td><input type="checkbox" aria-label=${`Select run ${r.id}`} checked=${selected.includes(r.id)} onChange=${() => toggle(r.id)} /></td>
            ${shownColumns.map((c) => {
              const v = c.key(r)
              return html`<td class=${c.numeric ? 'n' : ''}>${c.show ? c.show(v) : (v ?? '—')}</td>`
            })}
          </tr>`,
        )}
      </tbody>
    </table></div>
    <h3>Metric curves</h3>
    <label>Metric <select value=${chosen} onChange=${(e) => setMetric(e.currentTarget.value)}>
      ${metricKeys.map((k) => html`<option value=${k}>${k}</option>`)}
    </select></label>
    <p class="muted">${picked.length > 0 ? `${picked.length} selected run(s)` : 'All runs; select runs in the table to compare them.'}</p>
    ${chosen ? html`<${Curves} repo=${repo} rev=${rev} ids=${picked.map((r) => r.id)} metric=${chosen} />` : null}
    ${picked.length >= 2 ? html`<${ParamsCompare} runs=${picked} />` : null}
  </section>`
}
