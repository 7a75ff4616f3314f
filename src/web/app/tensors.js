import { useMemo, useRef, useState } from 'preact/hooks'
import { repoApi } from './api.js'
import { bytes, html, loadState, num, SortHeader, sortRows, useLoad } from './ui.js'

const ROW = 30
const VISIBLE = 18

const COLUMNS = [
  { id: 'name', label: 'Name', key: (t) => t.name },
  { id: 'dtype', label: 'dtype', key: (t) => t.dtype },
  { id: 'shape', label: 'Shape', key: (t) => t.shape.join('×'), sortKey: (t) => t.elements },
  { id: 'elements', label: 'Elements', numeric: true, key: (t) => t.elements },
  { id: 'bytes', label: 'Bytes', numeric: true, key: (t) => t.bytes, show: bytes },
  { id: 'mean', label: 'Mean', numeric: true, key: (t) => t.stats?.mean ?? null, show: num },
  { id: 'std', label: 'Std', numeric: true, key: (t) => t.stats?.std ?? null, show: num },
  { id: 'min', label: 'Min', numeric: true, key: (t) => t.stats?.min ?? null, show: num },
  { id: 'max', label: 'Max', numeric: true, key: (t) => t.stats?.max ?? null, show: num },
  { id: 'l2', label: 'L2', numeric: true, key: (t) => t.stats?.l2 ?? null, show: num },
  { id: 'zeros', label: 'Zeros', numeric: true, key: (t) => t.stats?.zeros ?? null },
]

/**
 * A checkpoint's tensors: filtered by name, sorted by any column, and virtualized (only the rows
 * in view are in the page), so 10,000 tensors scroll as smoothly as ten.
 */
export function TensorTable({ repo, rev, path }) {
  const state = useLoad(() => repoApi(repo, 'tensors', { rev, path }), [repo.name, rev, path])
  const [filter, setFilter] = useState('')
  const [sort, setSort] = useState({ key: 'name', dir: 'asc' })
  const [top, setTop] = useState(0)
  const box = useRef(null)
  const tensors = state.data?.tensors ?? []
  const rows = useMemo(() => {
    const needle = filter.toLowerCase()
    const kept = needle ? tensors.filter((t) => t.name.toLowerCase().includes(needle)) : tensors
    const column = COLUMNS.find((c) => c.id === sort.key) ?? COLUMNS[0]
    return sortRows(kept, column.sortKey ?? column.key, sort.dir)
  }, [tensors, filter, sort])
  const shown = loadState(state, 'tensors')
  if (shown) return shown
  const first = Math.max(0, Math.floor(top / ROW) - 4)
  const last = Math.min(rows.length, first + VISIBLE + 8)
  const onKey = (event) => {
    const el = box.current
    if (!el) return
    if (event.key === 'PageDown') el.scrollTop += ROW * VISIBLE
    else if (event.key === 'PageUp') el.scrollTop -= ROW * VISIBLE
    else if (event.key === 'Home') el.scrollTop = 0
    else if (event.key === 'End') el.scrollTop = el.scrollHeight
    else return
    event.preventDefault()
  }
  return html`<section class="tensors" aria-labelledby="tensors-title">
    <h3 id="tensors-title">Tensors <span class="muted">(${rows.length} of ${tensors.length}${state.data.tensors.some((t) => t.rounded) ? ', statistics rounded as the stub holds them' : ''})</span></h3>
    <label class="filter">Filter by name <input type="search" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} placeholder="e.g. attn" /></label>
    <div class="vscroll" ref=${box} tabindex="0" role="region" aria-label="Tensor table, scrollable"
      onScroll=${(e) => setTop(e.currentTarget.scrollTop)} onKeyDown=${onKey} style=${`max-height:${ROW * VISIBLE + 40}px`}>
      <table class="grid" aria-rowcount=${rows.length + 1}>
        <thead><tr>${COLUMNS.map((c) => html`<${SortHeader} id=${c.id} label=${c.label} sort=${sort} setSort=${setSort} numeric=${c.numeric} />`)}</tr></thead>
        <tbody>
          ${first > 0 ? html`<tr class="spacer" aria-hidden="true" style=${`height:${first * ROW}px`}><td colspan=${COLUMNS.length}></td></tr>` : null}
          ${rows.slice(first, last).map(
            (
              t,
              i,
            ) => html`<tr key=${t.name} aria-rowindex=${first + i + 2} style=${`height:${ROW}px`}>
              ${COLUMNS.map((c) => {
                const v = c.key(t)
                return html`<td class=${c.numeric ? 'n' : c.id === 'name' ? 'name' : ''} title=${c.id === 'name' ? t.name : undefined}>${c.show ? c.show(v) : (v ?? '—')}</td>`
              })}
            </tr>`,
          )}
          ${last < rows.length ? html`<tr class="spacer" aria-hidden="true" style=${`height:${(rows.length - last) * ROW}px`}><td colspan=${COLUMNS.length}></td></tr>` : null}
        </tbody>
      </table>
    </div>
  </section>`
}
