import htm from 'htm'
import { h } from 'preact'
import { useEffect, useState } from 'preact/hooks'

export const html = htm.bind(h)

/** Loads `load()` whenever `deps` change: { data, error, loading }. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined, loading: true })
  useEffect(() => {
    let live = true
    setState((s) => ({ ...s, loading: true }))
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error) => live && setState({ data: undefined, error, loading: false }),
    )
    return () => {
      live = false
    }
  }, deps)
  return state
}

/** What a load shows while it runs or when it failed; undefined once it has data. */
export function loadState(state, what) {
  if (state.error)
    return html`<div class="error" role="alert">
      <strong>${what}: ${state.error.message}</strong>
      ${state.error.hint ? html`<p>${state.error.hint}</p>` : null}
    </div>`
  if (state.data === undefined)
    return html`<p class="loading" aria-busy="true">Loading ${what}…</p>`
  return undefined
}

export function bytes(n) {
  if (n === null || n === undefined) return '—'
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = n
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}

export function num(v, digits = 4) {
  if (v === null || v === undefined) return '—'
  if (typeof v !== 'number') return String(v)
  if (!Number.isFinite(v)) return String(v)
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(digits - 1)
  return Number(v.toPrecision(digits)).toString()
}

export function when(iso) {
  if (!iso) return '—'
  const d = new Date(iso)
  return d.toISOString().slice(0, 16).replace('T', ' ')
}

export function short(sha) {
  return sha ? sha.slice(0, 10) : ''
}

/** A hash route: #/a/b with each part encoded. */
export function link(...parts) {
  return `#/${parts.map((p) => encodeURIComponent(p)).join('/')}`
}

/** Sort rows by a key (a function of a row); numbers numerically, nulls last. */
export function sortRows(rows, keyOf, dir) {
  const sign = dir === 'desc' ? -1 : 1
  return [...rows].sort((a, b) => {
    const x = keyOf(a)
    const y = keyOf(b)
    if (x === y) return 0
    if (x === null || x === undefined || Number.isNaN(x)) return 1
    if (y === null || y === undefined || Number.isNaN(y)) return -1
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * sign
    return String(x).localeCompare(String(y)) * sign
  })
}

/** A column header that sorts: a button (keyboard reachable) with aria-sort on the cell. */
export function SortHeader({ id, label, sort, setSort, numeric }) {
  const active = sort.key === id
  const ariaSort = active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'
  const next = () =>
    setSort({
      key: id,
      dir:
        active && sort.dir === (numeric ? 'desc' : 'asc')
          ? numeric
            ? 'asc'
            : 'desc'
          : numeric
            ? 'desc'
            : 'asc',
    })
  return html`<th scope="col" aria-sort=${ariaSort} class=${numeric ? 'n' : ''}>
    <button type="button" class="sort" onClick=${next}>
      ${label}${active ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
    </button>
  </th>`
}
