import { api, rawUrl, repoApi } from './api.js'
import { CompareView } from './compare.js'
import { DatasetsView } from './datasets.js'
import { DeploymentsView } from './deployments.js'
import { RunsView } from './runs.js'
import { TensorTable } from './tensors.js'
import { bytes, html, link, loadState, short, useLoad, when } from './ui.js'

const TABS = [
  ['files', 'Files'],
  ['commits', 'Commits'],
  ['compare', 'Compare'],
  ['runs', 'Experiments'],
  ['datasets', 'Datasets'],
  ['mirror', 'Mirror'],
  ['deployments', 'Deployments'],
]

function Tabs({ repo, tab, rev }) {
  const target = (id) => {
    if (id === 'files') return link('r', repo.owner, repo.name, 'tree', rev)
    if (id === 'commits' || id === 'runs') return link('r', repo.owner, repo.name, id, rev)
    return link('r', repo.owner, repo.name, id)
  }
  return html`<nav class="tabs" aria-label="Repository">
    ${TABS.map(
      ([id, label]) =>
        html`<a href=${target(id)} aria-current=${tab === id ? 'page' : undefined}>${label}</a>`,
    )}
  </nav>`
}

function Breadcrumbs({ repo, rev, path }) {
  const parts = path ? path.split('/') : []
  return html`<nav class="crumbs" aria-label="Path">
    <a href=${link('r', repo.owner, repo.name, 'tree', rev)}>${repo.name}</a>
    ${parts.map(
      (p, i) =>
        html` / <a href=${link('r', repo.owner, repo.name, 'tree', rev, ...parts.slice(0, i + 1))}>${p}</a>`,
    )}
  </nav>`
}

function RevPicker({ repo, rev, branches, view, path }) {
  const go = (event) => {
    const parts = path ? path.split('/') : []
    location.hash = link('r', repo.owner, repo.name, view, event.currentTarget.value, ...parts)
  }
  const names = branches.map((b) => b.name)
  return html`<label class="rev">Branch or commit
    <select onChange=${go} value=${rev}>
      ${names.includes(rev) ? null : html`<option value=${rev}>${short(rev)}</option>`}
      ${names.map((n) => html`<option value=${n}>${n}</option>`)}
    </select>
  </label>`
}

function Branches({ repo, branches }) {
  return html`<section aria-labelledby="branches-title">
    <h2 id="branches-title">Branches</h2>
    <p class="muted">Each branch is an environment: its deployments and registry are under Deployments.</p>
    <div class="scroll"><table class="branches">
      <thead><tr><th scope="col">Branch</th><th scope="col">Latest commit</th><th scope="col">Author</th><th scope="col">Date</th></tr></thead>
      <tbody>
        ${branches.map(
          (b) => html`<tr>
            <td><a href=${link('r', repo.owner, repo.name, 'tree', b.name)}>${b.name}</a></td>
            <td><a href=${link('r', repo.owner, repo.name, 'commit', b.commit.sha)}><code>${short(b.commit.sha)}</code></a> ${b.commit.subject}</td>
            <td>${b.commit.author}</td>
            <td>${when(b.commit.date)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
  </section>`
}

function Tree({ repo, rev, path }) {
  const state = useLoad(() => repoApi(repo, 'tree', { rev, path }), [repo.name, rev, path])
  const shown = loadState(state, 'files')
  if (shown) return shown
  const { entries } = state.data
  return html`<div class="scroll"><table class="files">
    <caption class="sr">Files in ${path || 'the top folder'} at ${rev}</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">What</th><th scope="col" class="n">Size</th></tr></thead>
    <tbody>
      ${entries.map((e) => {
        const view = e.type === 'tree' ? 'tree' : 'blob'
        const what =
          e.type === 'tree'
            ? 'folder'
            : e.tracked
              ? e.format
                ? `checkpoint (${e.format})`
                : 'tracked file'
              : 'file'
        return html`<tr>
          <td><a href=${link('r', repo.owner, repo.name, view, rev, ...e.path.split('/'))}>${e.name}${e.type === 'tree' ? '/' : ''}</a></td>
          <td>${e.tracked ? html`<span class="badge">mlvc</span> ` : null}${what}</td>
          <td class="n">${e.type === 'tree' ? '' : bytes(e.size)}</td>
        </tr>`
      })}
    </tbody>
  </table></div>`
}

function FileView({ repo, rev, path }) {
  const state = useLoad(() => repoApi(repo, 'file', { rev, path }), [repo.name, rev, path])
  const shown = loadState(state, path)
  if (shown) return shown
  const f = state.data
  const download = html`<a class="button" href=${rawUrl(repo, f.commit, path)} download>Download</a>`
  const history = html`<a href=${`${link('r', repo.owner, repo.name, 'commits', rev)}?path=${encodeURIComponent(path)}`}>History</a>`
  if (f.kind === 'checkpoint' || f.kind === 'tracked')
    return html`<section aria-labelledby="file-title">
      <h2 id="file-title">${path.split('/').at(-1)}</h2>
      <dl class="facts">
        <dt>What</dt><dd>${f.kind === 'checkpoint' ? `checkpoint, ${f.format} format` : 'tracked file (content in the mlvc store)'}</dd>
        <dt>Size</dt><dd>${bytes(f.size)} (${f.size.toLocaleString('en')} bytes)</dd>
        <dt>sha256</dt><dd><code class="hash">${f.sha256}</code></dd>
        <dt>mlvc id</dt><dd><code class="hash">${f.id}</code></dd>
        ${f.tensors !== null ? html`<dt>Tensors</dt><dd>${f.tensors}</dd>` : null}
      </dl>
      <p>${download} ${history}</p>
      ${f.kind === 'checkpoint' ? html`<${TensorTable} repo=${repo} rev=${f.commit} path=${path} />` : null}
    </section>`
  return html`<section aria-labelledby="file-title">
    <h2 id="file-title">${path.split('/').at(-1)}</h2>
    <p class="muted">${bytes(f.size)} · Git blob <code>${short(f.blob)}</code> · ${download} ${history}</p>
    ${f.kind === 'text' ? html`<pre class="code">${f.text}</pre>` : null}
    ${f.kind === 'binary' ? html`<p>Binary file, not shown.</p>` : null}
    ${f.kind === 'bad-stub' ? html`<p class="error">${f.problem}</p>` : null}
  </section>`
}

function Commits({ repo, rev, path }) {
  const state = useLoad(
    () => repoApi(repo, 'commits', { rev, path, limit: 100 }),
    [repo.name, rev, path],
  )
  const shown = loadState(state, 'commits')
  if (shown) return shown
  return html`<section aria-labelledby="commits-title">
    <h2 id="commits-title">Commits on ${rev}${path ? ` touching ${path}` : ''}</h2>
    <ol class="commits">
      ${state.data.commits.map(
        (c) => html`<li>
          <a href=${link('r', repo.owner, repo.name, 'commit', c.sha)}><code>${short(c.sha)}</code></a>
          <span class="subject">${c.subject}</span>
          <span class="muted">${c.author} · ${when(c.date)}</span>
        </li>`,
      )}
    </ol>
  </section>`
}

function ComparePicker({ repo, branches }) {
  const go = (event) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    location.hash = link('r', repo.owner, repo.name, 'compare', form.get('base'), form.get('head'))
  }
  const names = branches.map((b) => b.name)
  return html`<form class="inline" onSubmit=${go} aria-label="Compare two revisions">
    <label>Base <input name="base" list="revs" required defaultValue=${names[1] ?? names[0] ?? ''} /></label>
    <label>Head <input name="head" list="revs" required defaultValue=${names[0] ?? ''} /></label>
    <datalist id="revs">${names.map((n) => html`<option value=${n} />`)}</datalist>
    <button type="submit" class="primary">Compare</button>
  </form>`
}

function Mirror({ repo }) {
  const state = useLoad(
    () =>
      api(`repos/${repo.owner}/${repo.name}/mirror`).catch((err) =>
        err.status === 404 ? null : Promise.reject(err),
      ),
    [repo.name],
  )
  const shown = loadState(state, 'mirror status')
  if (shown) return shown
  const m = state.data
  if (!m) return html`<p>This repository has no mirror.</p>`
  return html`<section aria-labelledby="mirror-title">
    <h2 id="mirror-title">Mirror</h2>
    <dl class="facts">
      <dt>Mirrors</dt><dd><code>${m.url}</code></dd>
      <dt>Last sync</dt><dd>${when(m.lastSync)}</dd>
      <dt>Last error</dt><dd>${m.lastError ?? 'none'}</dd>
    </dl>
    <h3>Conflicts</h3>
    ${
      m.conflicts.length === 0
        ? html`<p>None: every branch follows one side.</p>`
        : html`<div class="scroll"><table class="grid">
            <thead><tr><th scope="col">Branch</th><th scope="col">Hub</th><th scope="col">Mirror</th><th scope="col">Found</th></tr></thead>
            <tbody>${m.conflicts.map(
              (c) =>
                html`<tr><td>${c.ref}</td><td><code>${short(c.hub)}</code></td><td><code>${short(c.mirror)}</code></td><td>${when(c.found)}</td></tr>`,
            )}</tbody>
          </table></div>
          <p class="muted">Both sides moved: merge the mirror's head (<code>git fetch origin refs/mirror/heads/BRANCH && git merge FETCH_HEAD</code>) and push to the hub.</p>`
    }
  </section>`
}

export function RepoPage({ route, session }) {
  const [owner, name, tab = '', ...rest] = route
  const repo = { owner, name }
  const state = useLoad(
    () => Promise.all([api(`repos/${owner}/${name}`), repoApi(repo, 'branches')]),
    [owner, name, session?.user],
  )
  const shown = loadState(state, `${owner}/${name}`)
  if (shown) return html`<h1>${owner}/${name}</h1>${shown}`
  const [info, { branches, default: main }] = state.data
  const rev =
    ['tree', 'blob', 'commits', 'runs'].includes(tab) && rest[0] ? rest[0] : (main ?? 'main')
  const path = rest.slice(1).join('/')
  const activeTab =
    tab === 'tree' || tab === 'blob' || tab === '' ? 'files' : tab === 'commit' ? 'commits' : tab
  let body
  if (branches.length === 0)
    body = html`<p>This repository is empty. Push to it with Git: <code>git push ${location.origin}/${owner}/${name} main</code></p>`
  else if (tab === '')
    body = html`<${Branches} repo=${repo} branches=${branches} /><h2>Files on ${rev}</h2><${Tree} repo=${repo} rev=${rev} path="" />`
  else if (tab === 'tree')
    body = html`<${RevPicker} repo=${repo} rev=${rev} branches=${branches} view="tree" path=${path} />
      <${Breadcrumbs} repo=${repo} rev=${rev} path=${path} />
      <${Tree} repo=${repo} rev=${rev} path=${path} />`
  else if (tab === 'blob')
    body = html`<${Breadcrumbs} repo=${repo} rev=${rev} path=${path} /><${FileView} repo=${repo} rev=${rev} path=${path} />`
  else if (tab === 'commits') {
    const filter = new URLSearchParams(location.hash.split('?')[1] ?? '').get('path') ?? ''
    body = html`<${RevPicker} repo=${repo} rev=${rev} branches=${branches} view="commits" />
      <${Commits} repo=${repo} rev=${rev} path=${filter} />`
  } else if (tab === 'commit') body = html`<${CompareView} repo=${repo} head=${rest[0]} />`
  else if (tab === 'compare')
    body = html`<${ComparePicker} repo=${repo} branches=${branches} />
      ${rest.length >= 2 ? html`<${CompareView} repo=${repo} base=${rest[0]} head=${rest[1]} />` : null}`
  else if (tab === 'runs')
    body = html`<${RevPicker} repo=${repo} rev=${rev} branches=${branches} view="runs" />
      <${RunsView} repo=${repo} rev=${rev} />`
  else if (tab === 'mirror') body = html`<${Mirror} repo=${repo} />`
  else if (tab === 'datasets') body = html`<${DatasetsView} repo=${repo} />`
  else if (tab === 'deployments')
    body = html`<${DeploymentsView} repo=${repo} branches=${branches} />`
  else body = html`<p>No such page.</p>`
  return html`<div class="repo">
    <h1><a href=${link('r', owner, name)}>${owner}/${name}</a> <span class="badge">${info.private ? 'private' : 'public'}</span></h1>
    <${Tabs} repo=${repo} tab=${activeTab} rev=${rev} />
    ${body}
  </div>`
}
