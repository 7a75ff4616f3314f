#!/usr/bin/env node
// The experiments page at scale: RUNS runs × POINTS logged points each (default 100 × 10,000),
// committed with plain git and pushed to a hub on loopback, then loaded in Debian's chromium.
// Prints the API's answer times (runs table, aligned curves) and the page's: navigation → table,
// → chart drawn, and the longest main-thread task while drawing. Not a test; BENCHMARKS.md
// records what it measured. Usage: node scripts/web-curves.mjs [RUNS] [POINTS] (after npm run build).
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const runs = Number(process.argv[2] ?? 100)
const points = Number(process.argv[3] ?? 10_000)
const cli = resolve(fileURLToPath(import.meta.url), '../../dist/src/cli/main.js')
const lib = resolve(fileURLToPath(import.meta.url), '../../dist/src/index.js')
const work = mkdtempSync(join(tmpdir(), 'mlvc-web-curves-'))
const data = join(work, 'hub')
const env = {
  ...process.env,
  HOME: join(work, 'home'),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
}
mkdirSync(env.HOME)
const run = (cwd, cmd, args) => execFileSync(cmd, args, { cwd, env, encoding: 'utf8' }).trim()
const mlvc = (args) => run(work, process.execPath, [cli, 'hub', ...args, '--data', data])
const ms = (started) => `${Math.round(performance.now() - started)} ms`

let hub
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
})
try {
  mlvc(['user', 'add', 'ada'])
  const token = mlvc(['token', 'create', 'ada', '--scope', 'admin'])
  mlvc(['repo', 'create', 'ada/runs'])
  hub = spawn(process.execPath, [cli, 'hub', 'serve', '--data', data, '--listen', '127.0.0.1:0'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((done) => {
    let log = ''
    hub.stdout.on('data', (d) => {
      log += d
      const found = /"msg":"hub listening","url":"([^"]+)"/.exec(log)?.[1]
      if (found) done(found)
    })
  })
  const repo = join(work, 'runs')
  mkdirSync(repo)
  run(repo, 'git', ['init', '-q', '-b', 'main'])
  const { createExperiment, initExpRepo } = await import(lib)
  const exps = await initExpRepo(join(repo, 'exps'))
  let started = performance.now()
  for (let r = 0; r < runs; r++) {
    const exp = await createExperiment(exps, {
      name: 'sweep',
      kind: 'train',
      params: { lr: 0.001 * (1 + (r % 10)), seed: r },
      git: false,
      cmd: ['train.py'],
    })
    const lr = 0.001 * (1 + (r % 10))
    for (let step = 1; step <= points; step++)
      exp
        .sub(`train/step/${step}`)
        .log('end', { loss: 2 / (1 + step * lr) + 0.01 * Math.sin(step + r) })
    exp.close()
  }
  process.stdout.write(`logged ${runs} runs × ${points} points in ${ms(started)}\n`)
  run(repo, 'git', ['add', '.'])
  run(repo, 'git', ['commit', '-qm', 'sweep'])
  const remote = url.replace('http://', `http://ada:${token}@`)
  started = performance.now()
  run(repo, 'git', ['push', '-q', `${remote}/ada/runs`, 'HEAD:main'])
  process.stdout.write(`git push in ${ms(started)}\n`)

  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  for (const [name, path] of [
    ['runs table', 'runs?rev=main'],
    ['curves (all runs, 1,000 buckets)', 'curves?rev=main&key=loss&points=1000'],
  ]) {
    started = performance.now()
    const body = await (
      await fetch(`${url}/api/v1/repos/ada/runs/${path}`, { headers: auth })
    ).text()
    process.stdout.write(
      `API ${name}: ${ms(started)}, ${(body.length / 1024).toFixed(0)} kB of JSON\n`,
    )
  }

  const password = 'bench password 1234'
  await fetch(`${url}/api/v1/user/password`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ password }),
  })
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await page.goto(`${url}/#/signin`)
  await page.getByLabel('User').fill('ada')
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('heading', { name: 'Repositories' }).waitFor()
  await page.evaluate(`(() => {
    window.__longest = 0
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration)
    }).observe({ type: 'longtask', buffered: false })
  })()`)
  started = performance.now()
  await page.goto(`${url}/#/r/ada/runs/runs/main`)
  await page.locator('table.runs tbody tr').first().waitFor({ timeout: 600_000 })
  process.stdout.write(`page: runs table shown after ${ms(started)}\n`)
  await page.locator('.uplot canvas').first().waitFor({ timeout: 600_000 })
  process.stdout.write(`page: chart of ${runs} runs drawn after ${ms(started)}\n`)
  started = performance.now()
  await page.setViewportSize({ width: 900, height: 900 })
  await page.waitForTimeout(500)
  process.stdout.write(
    `longest main-thread task while loading and resizing: ${Math.round(await page.evaluate('window.__longest'))} ms\n`,
  )
  process.stdout.write(`caption: ${await page.locator('figure.curves figcaption').textContent()}\n`)
} finally {
  await browser.close()
  hub?.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}
