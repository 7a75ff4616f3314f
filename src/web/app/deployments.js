import { useState } from 'preact/hooks'
import { api, callDeployment, repoApi } from './api.js'
import { html, loadState, short, useLoad, when } from './ui.js'

// A branch as an environment: its deployments (versions, status, logs, a form that calls one,
// roll back to a version) and its model registry (promote to another branch). The buttons make
// commits through the hub's API and show the commit they made.

const base = (repo) => `repos/${repo.owner}/${repo.name}`

function Logs({ repo, branch, name, version }) {
  const state = useLoad(
    () =>
      api(
        `${base(repo)}/deployments/${name}/versions/${version}/logs?branch=${encodeURIComponent(branch)}`,
      ),
    [repo.name, branch, name, version],
  )
  const shown = loadState(state, 'logs')
  if (shown) return shown
  return html`<div class="logs">
    <h4>Build log of v${version}</h4>
    <pre aria-label=${`Build log of ${name} v${version}`}>${state.data.build || '(empty)'}</pre>
    <h4>Serving log of v${version}</h4>
    <pre aria-label=${`Serving log of ${name} v${version}`}>${state.data.runtime || '(not started yet)'}</pre>
  </div>`
}

function TryIt({ deployment }) {
  const [input, setInput] = useState('{}')
  const [answer, setAnswer] = useState(null)
  const send = async (event) => {
    event.preventDefault()
    setAnswer({ pending: true })
    try {
      setAnswer(await callDeployment(deployment.url, input))
    } catch (err) {
      setAnswer({ status: 0, body: err.message })
    }
  }
  return html`<form class="try" onSubmit=${send} aria-label=${`Try ${deployment.name}`}>
    <label>Request JSON for ${deployment.name}
      <textarea name="input" rows="3" value=${input} onInput=${(e) => setInput(e.currentTarget.value)}></textarea>
    </label>
    <button type="submit" class="primary">Call ${deployment.name}</button>
    ${
      answer && !answer.pending
        ? html`<div role="status" class=${answer.status === 200 ? 'notice' : 'error'}>
            <p>HTTP ${answer.status}${answer.version ? ` from v${answer.version}` : ''}</p>
            <pre aria-label=${`Answer of ${deployment.name}`}>${answer.body}</pre>
          </div>`
        : null
    }
  </form>`
}

function Deployment({ repo, branch, deployment, onCommit }) {
  const [logs, setLogs] = useState(null)
  const [error, setError] = useState('')
  const state = useLoad(
    () =>
      api(
        `${base(repo)}/deployments/${deployment.name}/versions?branch=${encodeURIComponent(branch)}`,
      ),
    [repo.name, branch, deployment.name, deployment.latest.version, deployment.latest.status],
  )
  const rollback = async (version) => {
    setError('')
    try {
      const made = await api(
        `${base(repo)}/deployments/${deployment.name}/rollback?branch=${encodeURIComponent(branch)}`,
        { method: 'POST', body: { version } },
      )
      onCommit(
        made.commit
          ? `Rolled ${deployment.name} back to v${version}: commit ${short(made.commit)} on ${branch}`
          : `${branch} already had ${deployment.name} as in v${version}: no commit`,
      )
    } catch (err) {
      setError(err.message)
    }
  }
  const shown = loadState(state, 'versions')
  return html`<section class="deployment" aria-labelledby=${`dep-${deployment.name}`}>
    <h3 id=${`dep-${deployment.name}`}>${deployment.name} <span class="badge">${deployment.runtime}</span></h3>
    <p>Serving ${deployment.serving === null ? 'no version yet' : `v${deployment.serving}`} at <code>POST ${location.origin}${deployment.url}</code></p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      shown ??
      html`<div class="scroll"><table>
        <caption class="sr">Versions of ${deployment.name}</caption>
        <thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Commit</th><th scope="col">Created</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          ${state.data.versions
            .slice()
            .reverse()
            .map(
              (v) => html`<tr>
                <td>v${v.version}</td>
                <td>${v.status}${v.error ? html` <span class="error">${v.error}</span>` : null}</td>
                <td><a href=${`#/r/${repo.owner}/${repo.name}/commit/${v.commit}`}><code>${short(v.commit)}</code></a></td>
                <td>${when(v.created)}</td>
                <td>
                  <button type="button" onClick=${() => setLogs(v.version)} aria-label=${`Logs of ${deployment.name} v${v.version}`}>Logs</button>
                  ${
                    v.version === deployment.latest.version
                      ? null
                      : html`<button type="button" onClick=${() => rollback(v.version)} aria-label=${`Roll ${deployment.name} back to v${v.version}`}>Roll back to v${v.version}</button>`
                  }
                </td>
              </tr>`,
            )}
        </tbody>
      </table></div>`
    }
    <${TryIt} deployment=${deployment} />
    ${logs === null ? null : html`<${Logs} repo=${repo} branch=${branch} name=${deployment.name} version=${logs} />`}
  </section>`
}

const BOX = { w: 190, h: 30, gap: 12 }

/** A node of the lineage graph: a box with its kind above its name. */
function Node({ x, y, kind, name }) {
  return html`<g>
    <rect x=${x} y=${y} width=${BOX.w} height=${BOX.h} rx="4" class=${`node ${kind}`} />
    <text x=${x + 8} y=${y + 19}><tspan class="kind">${kind}</tspan> ${name.length > 22 ? `${name.slice(0, 21)}…` : name}</text>
  </g>`
}

/**
 * A model's lineage as a graph, left to right: what it came from (its dataset and labels
 * versions, the experiment and parent model its model.yaml names) → the model → the deployments on
 * this branch that use it.
 */
export function Lineage({ model, deployments }) {
  const l = model.spec?.lineage ?? {}
  const inputs = [
    ['dataset', l.dataset],
    ['labels', l.labels],
    ['experiment', l.experiment],
    ['parent', l.parent],
  ].filter(([, v]) => v)
  const users = deployments.filter((d) => (d.latest.models ?? []).includes(model.name))
  const rows = Math.max(inputs.length, users.length, 1)
  const height = rows * (BOX.h + BOX.gap)
  const yOf = (i, n) => (height - n * (BOX.h + BOX.gap)) / 2 + i * (BOX.h + BOX.gap) + BOX.gap / 2
  const cols = [0, BOX.w + 60, 2 * (BOX.w + 60)]
  const my = yOf(0, 1)
  const arrow = (x1, y1, x2, y2) =>
    html`<line x1=${x1} y1=${y1 + BOX.h / 2} x2=${x2} y2=${y2 + BOX.h / 2} marker-end="url(#arrow)" />`
  return html`<svg class="lineage" role="img" viewBox=${`0 0 ${cols[2] + BOX.w} ${height}`}
      aria-label=${`Lineage of ${model.name}: ${[...inputs.map(([k, v]) => `${k} ${v}`), `model ${model.name}`, ...users.map((d) => `deployment ${d.name}`)].join(' → ')}`}>
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" /></marker></defs>
    ${inputs.map(([kind, name], i) => html`${arrow(cols[0] + BOX.w, yOf(i, inputs.length), cols[1], my)}<${Node} x=${cols[0]} y=${yOf(i, inputs.length)} kind=${kind} name=${name} />`)}
    <${Node} x=${cols[1]} y=${my} kind="model" name=${model.name} />
    ${users.map((d, i) => html`${arrow(cols[1] + BOX.w, my, cols[2], yOf(i, users.length))}<${Node} x=${cols[2]} y=${yOf(i, users.length)} kind="deployment" name=${d.name} />`)}
  </svg>`
}

function Registry({ repo, branch, branches, deployments, onCommit }) {
  const state = useLoad(() => repoApi(repo, 'registry', { branch }), [repo.name, branch])
  const [error, setError] = useState('')
  const others = branches.map((b) => b.name).filter((n) => n !== branch)
  const promote = async (event, model) => {
    event.preventDefault()
    const to = new FormData(event.currentTarget).get('to')
    setError('')
    try {
      const made = await api(`${base(repo)}/registry/${model}/promote`, {
        method: 'POST',
        body: { from: branch, to },
      })
      onCommit(
        made.commit
          ? `Promoted ${model} from ${branch} to ${to}: commit ${short(made.commit)}`
          : `${to} already had ${model} as on ${branch}: no commit`,
      )
    } catch (err) {
      setError(err.message)
    }
  }
  const shown = loadState(state, 'registry')
  if (shown) return shown
  const models = state.data.models ?? []
  return html`<section aria-labelledby="registry-title">
    <h2 id="registry-title">Registry on ${branch}</h2>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      models.length === 0
        ? html`<p class="muted">No models in models/ on ${branch}.</p>`
        : html`<div class="scroll"><table>
            <caption class="sr">Models on ${branch}</caption>
            <thead><tr><th scope="col">Model</th><th scope="col">Description</th><th scope="col">Files and lineage</th><th scope="col">Promote</th></tr></thead>
            <tbody>
              ${models.map(
                (m) => html`<tr>
                  <td>${m.name}</td>
                  <td>${m.spec?.description ?? ''}</td>
                  <td>${(m.files ?? []).map((f) => f.path).join(', ')}
                    <${Lineage} model=${m} deployments=${deployments} /></td>
                  <td>${
                    others.length === 0
                      ? html`<span class="muted">no other branch</span>`
                      : html`<form class="inline" onSubmit=${(e) => promote(e, m.name)} aria-label=${`Promote ${m.name}`}>
                          <label>to <select name="to">${others.map((o) => html`<option value=${o}>${o}</option>`)}</select></label>
                          <button type="submit">Promote ${m.name}</button>
                        </form>`
                  }</td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
    }
  </section>`
}

export function DeploymentsView({ repo, branches }) {
  const names = branches.map((b) => b.name)
  const [branch, setBranch] = useState(names.includes('main') ? 'main' : (names[0] ?? 'main'))
  const [made, setMade] = useState('')
  const [tick, setTick] = useState(0)
  const state = useLoad(() => repoApi(repo, 'deployments', { branch }), [repo.name, branch, tick])
  const onCommit = (text) => {
    setMade(text)
    // The hub applies the commit in the background: look again a few times.
    for (const ms of [500, 1500, 3000, 6000]) setTimeout(() => setTick((t) => t + 1), ms)
  }
  // Until the new branch's answer is in, the old one is not shown under the new name.
  const stale = state.data && state.data.branch !== branch
  const shown = stale
    ? html`<p class="muted">Loading deployments…</p>`
    : loadState(state, 'deployments')
  return html`<section aria-labelledby="deploy-title">
    <h2 id="deploy-title">Deployments on ${branch}</h2>
    <label class="rev">Branch (environment)
      <select value=${branch} onChange=${(e) => setBranch(e.currentTarget.value)}>
        ${names.map((n) => html`<option value=${n}>${n}</option>`)}
      </select>
    </label>
    <button type="button" onClick=${() => setTick((t) => t + 1)}>Refresh</button>
    ${made ? html`<p class="notice" role="status">${made}</p>` : null}
    ${
      shown ??
      (state.data.deployments.length === 0
        ? html`<p class="muted">No deployments on ${branch} (deployments/NAME/deployment.yaml).</p>`
        : state.data.deployments.map(
            (d) =>
              html`<${Deployment} key=${`${branch}/${d.name}`} repo=${repo} branch=${branch} deployment=${d} onCommit=${onCommit} />`,
          ))
    }
    <${Registry} repo=${repo} branch=${branch} branches=${branches} deployments=${stale ? [] : (state.data?.deployments ?? [])} onCommit=${onCommit} />
  </section>`
}
