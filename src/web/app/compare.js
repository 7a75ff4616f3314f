import { useMemo, useState } from 'preact/hooks'
import { repoApi } from './api.js'
import {
  bytes,
  html,
  link,
  loadState,
  num,
  SortHeader,
  short,
  sortRows,
  useLoad,
  when,
} from './ui.js'

function Patch({ patch, truncated }) {
  if (!patch) return html`<p class="muted">No text changes to show (binary, or a rename only).</p>`
  const lines = patch.split('\n')
  return html`<pre class="diff" tabindex="0">${lines.map((l) => {
    const cls = l.startsWith('+')
      ? 'add'
      : l.startsWith('-')
        ? 'del'
        : l.startsWith('@@')
          ? 'hunk'
          : ''
    return html`<span class=${cls}>${l}\n</span>`
  })}${truncated ? html`<span class="hunk">… (diff cut short)</span>` : null}</pre>`
}

/** The layer a tensor belongs to: its name without the last part (model.layers.3.attn.q.weight → model.layers.3.attn.q). */
function layerOf(name) {
  const at = name.lastIndexOf('.')
  return at > 0 ? name.slice(0, at) : name
}

const rel = (t) => t.exact?.relChange ?? (t.bounds ? t.bounds.relChange.max : null)

/** A small bar chart of the relative change (‖Δ‖/‖A‖) per layer, largest first. */
function LayerChart({ tensors }) {
  const layers = new Map()
  for (const t of tensors) {
    if (t.status !== 'changed') continue
    const v = rel(t)
    if (v === null || !Number.isFinite(v)) continue
    const key = layerOf(t.name)
    layers.set(key, Math.max(layers.get(key) ?? 0, v))
  }
  const rows = [...layers].sort((a, b) => b[1] - a[1]).slice(0, 24)
  if (rows.length === 0) return null
  const max = rows.reduce((m, r) => Math.max(m, r[1]), 0) || 1
  const barH = 18
  const width = 560
  const labelW = 220
  return html`<figure class="chart">
    <figcaption>Relative change ‖Δ‖/‖A‖ per layer (largest ${rows.length})</figcaption>
    <svg role="img" aria-label="Relative change per layer" viewBox=${`0 0 ${width} ${rows.length * barH + 4}`} width="100%">
      ${rows.map(([name, v], i) => {
        const w = Math.max(1, ((width - labelW - 70) * v) / max)
        return html`<g transform=${`translate(0 ${i * barH + 2})`}>
          <text x=${labelW - 6} y="13" text-anchor="end" class="lbl">${name.length > 34 ? `…${name.slice(-33)}` : name}</text>
          <rect x=${labelW} y="2" width=${w} height=${barH - 5} class="bar"><title>${name}: ${num(v)}</title></rect>
          <text x=${labelW + w + 4} y="13" class="val">${num(v, 3)}</text>
        </g>`
      })}
    </svg>
  </figure>`
}

const DIFF_COLUMNS = [
  { id: 'name', label: 'Tensor', key: (t) => t.name },
  { id: 'status', label: 'Status', key: (t) => t.status },
  { id: 'shape', label: 'Shape', key: (t) => (t.new ?? t.old)?.shape.join('×') ?? '' },
  {
    id: 'changed',
    label: 'Changed',
    numeric: true,
    key: (t) => t.exact?.changedFraction ?? null,
    show: (v) => (v === null ? '—' : `${(v * 100).toFixed(v < 0.01 && v > 0 ? 3 : 1)}%`),
  },
  {
    id: 'rel',
    label: '‖Δ‖/‖A‖',
    numeric: true,
    key: rel,
    // Without the data (large checkpoints) the statistics bound the figure.
    show: (v, t) => (v !== null && !t.exact ? `≤ ${num(v)}` : num(v)),
  },
  {
    id: 'cos',
    label: 'Cosine',
    numeric: true,
    key: (t) => t.exact?.cosine ?? null,
    show: (v) => num(v, 6),
  },
  {
    id: 'max',
    label: 'max |Δ|',
    numeric: true,
    key: (t) => t.exact?.maxAbsDelta ?? null,
    show: (v) => num(v),
  },
]

function TensorDiffTable({ diff }) {
  const [all, setAll] = useState(false)
  const [sort, setSort] = useState({ key: 'rel', dir: 'desc' })
  const [limit, setLimit] = useState(200)
  const rows = useMemo(() => {
    const kept = all ? diff.tensors : diff.tensors.filter((t) => t.status !== 'unchanged')
    const column = DIFF_COLUMNS.find((c) => c.id === sort.key) ?? DIFF_COLUMNS[0]
    return sortRows(kept, column.key, sort.dir)
  }, [diff, all, sort])
  const s = diff.summary
  return html`<div class="tensor-diff">
    <p class="summary" role="status">
      ${[
        `${s.changed} changed`,
        `${s.added} added`,
        `${s.removed} removed`,
        `${s.unchanged} unchanged${s.unknown ? `, ${s.unknown} unknown` : ''} of ${s.tensors} tensors`,
      ].join(
        ' · ',
      )}${'; '}${s.parametersChanged.toLocaleString('en')} of ${s.parameters.toLocaleString('en')} parameters changed${s.parametersExact ? '' : ' (at most)'}
    </p>
    <${LayerChart} tensors=${diff.tensors} />
    <label class="check"><input type="checkbox" checked=${all} onChange=${(e) => setAll(e.currentTarget.checked)} /> Show unchanged tensors</label>
    <div class="scroll"><table class="grid">
      <thead><tr>${DIFF_COLUMNS.map((c) => html`<${SortHeader} id=${c.id} label=${c.label} sort=${sort} setSort=${setSort} numeric=${c.numeric} />`)}</tr></thead>
      <tbody>
        ${rows.slice(0, limit).map(
          (t) => html`<tr class=${`st-${t.status}`}>
            ${DIFF_COLUMNS.map((c) => {
              const v = c.key(t)
              return html`<td class=${c.numeric ? 'n' : c.id === 'name' ? 'name' : ''}>${c.show ? c.show(v, t) : v}</td>`
            })}
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${rows.length > limit ? html`<button type="button" onClick=${() => setLimit(limit + 1000)}>Show ${Math.min(1000, rows.length - limit)} more of ${rows.length - limit}</button>` : null}
  </div>`
}

function FileDiff({ file }) {
  const title = file.from ? `${file.from} → ${file.path}` : file.path
  const status = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', T: 'type changed' }[
    file.status
  ]
  return html`<article class="file-diff" aria-label=${`${title}, ${status}`}>
    <h3><code>${title}</code> <span class=${`badge st-${status}`}>${status}</span>${file.kind !== 'text' ? html` <span class="badge">mlvc</span>` : null}</h3>
    ${file.kind === 'text' ? html`<${Patch} patch=${file.patch} truncated=${file.truncated} />` : null}
    ${
      file.kind !== 'text'
        ? html`<p class="muted">${file.old ? `${bytes(file.old.size)} (${file.old.sha256.slice(0, 12)})` : 'absent'} → ${file.new ? `${bytes(file.new.size)} (${file.new.sha256.slice(0, 12)})` : 'absent'}</p>`
        : null
    }
    ${file.tensors ? html`<${TensorDiffTable} diff=${file.tensors} />` : null}
  </article>`
}

/** A commit (against its parent) or two revisions compared. */
export function CompareView({ repo, base, head }) {
  const state = useLoad(() => repoApi(repo, 'compare', { base, head }), [repo.name, base, head])
  const shown = loadState(state, 'the comparison')
  if (shown) return shown
  const d = state.data
  const single = !base
  const commit = single ? d.commits[0] : undefined
  return html`<section class="compare" aria-labelledby="compare-title">
    <h2 id="compare-title">${single ? html`Commit <code>${short(d.head.commit)}</code>` : html`Comparing <code>${d.base.rev}</code> … <code>${d.head.rev}</code>`}</h2>
    ${commit ? html`<p class="subject">${commit.subject}</p><p class="muted">${commit.author} · ${when(commit.date)} · parent <code>${short(d.base.commit)}</code></p>` : null}
    ${
      !single && d.commits.length > 0
        ? html`<details><summary>${d.commits.length} commit(s)</summary><ol class="commits">${d.commits.map(
            (c) =>
              html`<li><a href=${link('r', repo.owner, repo.name, 'commit', c.sha)}><code>${short(c.sha)}</code></a> ${c.subject}</li>`,
          )}</ol></details>`
        : null
    }
    <p>${d.files.length} file(s) changed${d.truncated ? ' (the first shown)' : ''}</p>
    ${d.files.map((f) => html`<${FileDiff} key=${f.path} file=${f} />`)}
  </section>`
}
