import { useState } from 'preact/hooks'
import { repoApi } from './api.js'
import { bytes, html, loadState, useLoad } from './ui.js'

function ChangeList({ title, changes }) {
  if (changes.length === 0) return null
  return html`<details open=${changes.length <= 20}>
    <summary>${title} (${changes.length})</summary>
    <ul class="changes">
      ${changes
        .slice(0, 500)
        .map(
          (c) =>
            html`<li><code>${c.path}</code> <span class="muted">${c.before === null ? '' : bytes(c.before)}${c.before !== null && c.after !== null ? ' → ' : ''}${c.after === null ? '' : bytes(c.after)}</span></li>`,
        )}
    </ul>
  </details>`
}

function VersionDiff({ repo, kind, from, to }) {
  const state = useLoad(
    () => repoApi(repo, 'entity-diff', { kind, from, to }),
    [repo.name, kind, from, to],
  )
  const shown = loadState(state, 'the changes')
  if (shown) return shown
  const d = state.data
  return html`<div class="entity-diff" role="region" aria-label=${`Changes from ${from} to ${to}`}>
    <p class="summary">${d.added.length} added · ${d.removed.length} removed · ${d.changed.length} changed · ${bytes(d.newBytes)} new</p>
    <${ChangeList} title="Added" changes=${d.added} />
    <${ChangeList} title="Removed" changes=${d.removed} />
    <${ChangeList} title="Changed" changes=${d.changed} />
  </div>`
}

function Entity({ repo, entity }) {
  const tags = entity.versions.map((v) => v.tag)
  const [pair, setPair] = useState(tags.length >= 2 ? [tags.at(-2), tags.at(-1)] : null)
  const pick = (event) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    setPair([form.get('from'), form.get('to')])
  }
  return html`<article class="entity" aria-labelledby=${`e-${entity.kind}-${entity.name}`}>
    <h3 id=${`e-${entity.kind}-${entity.name}`}>${entity.name} <span class="badge">${entity.kind}</span> <span class="muted">${entity.categories.join(' / ')}</span></h3>
    <div class="scroll"><table class="grid versions">
      <thead><tr><th scope="col">Version</th><th scope="col">Tag</th><th scope="col" class="n">Files</th><th scope="col" class="n">Size</th><th scope="col">Lineage</th></tr></thead>
      <tbody>
        ${entity.versions.map(
          (v) => html`<tr>
            <td>${v.version}</td><td><code>${v.tag}</code></td><td class="n">${v.files}</td><td class="n">${bytes(v.bytes)}</td>
            <td>${
              v.lineage
                ? Object.entries(v.lineage)
                    .map(([k, x]) => `${k}: ${Array.isArray(x) ? x.join(', ') : x}`)
                    .join('; ')
                : '—'
            }</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${
      tags.length >= 2
        ? html`<form class="inline" onSubmit=${pick} aria-label=${`Compare versions of ${entity.name}`}>
            <label>From <select name="from">${tags.map((t) => html`<option selected=${pair?.[0] === t}>${t}</option>`)}</select></label>
            <label>To <select name="to">${tags.map((t) => html`<option selected=${pair?.[1] === t}>${t}</option>`)}</select></label>
            <button type="submit">Show changes</button>
          </form>
          ${pair ? html`<${VersionDiff} repo=${repo} kind=${entity.kind} from=${pair[0]} to=${pair[1]} />` : null}`
        : null
    }
  </article>`
}

/** Datasets, labels and models: versions (file counts, sizes, lineage) and what changed between two. */
export function DatasetsView({ repo }) {
  const state = useLoad(() => repoApi(repo, 'entities'), [repo.name])
  const shown = loadState(state, 'datasets')
  if (shown) return shown
  const { entities } = state.data
  if (entities.length === 0)
    return html`<p>No datasets, labels or models are pushed here (mlvc dataset commit, then git push --tags).</p>`
  return html`<section aria-labelledby="datasets-title">
    <h2 id="datasets-title">Datasets, labels and models</h2>
    ${entities.map((e) => html`<${Entity} key=${`${e.kind}/${e.name}`} repo=${repo} entity=${e} />`)}
  </section>`
}
