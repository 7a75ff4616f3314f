import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type HubProcess, hubAdmin, hubUser, startHubProcess } from '../hub/test-helpers/index.ts'
import { gitSandbox } from '../test-helpers/git.ts'
import { ROOT, runCli, tempDir } from '../test-helpers/index.ts'
import { type DemoRepo, pushDemoRepo } from './test-helpers/demo-repo.ts'

// One hub on loopback with a repository pushed by real git and mlvc (a checkpoint in two versions,
// a checkpoint of 10,000 tensors, code, two experiment runs), driven in Debian's chromium.
const CHROMIUM = '/usr/bin/chromium'
const SCREENS = join(ROOT, 'test-results', 'screens')
const PASSWORD = 'correct horse battery staple'
const root = tempDir('mlvc-web')
const data = join(root, 'hub')
const ada = gitSandbox(root, 'ada')
let hub: HubProcess
let browser: Browser
let demo: DemoRepo
const tokens: Record<string, string> = {}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install chromium; npm test installs it when run as root)`,
    )
  mkdirSync(SCREENS, { recursive: true })
  for (const name of ['ada', 'bob']) {
    await hubAdmin(data, 'user', 'add', name)
    tokens[name] = await hubAdmin(data, 'token', 'create', name, '--scope', 'admin')
  }
  await hubAdmin(data, 'repo', 'create', 'ada/models')
  await hubAdmin(data, 'repo', 'create', 'ada/notes')
  const set = await runCli(['hub', 'user', 'password', 'ada', '--data', data], {
    input: `${PASSWORD}\n`,
  })
  expect(set.code, set.stderr).toBe(0)
  hub = await startHubProcess(data)
  await hubUser(ada, hub.url, 'ada', tokens.ada as string)
  demo = await pushDemoRepo(ada, { url: `${hub.url}/ada/models`, dir: join(root, 'models') })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await hub?.stop()
})

async function signedIn(
  options: { width?: number; user?: string } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
  })
  const page = await context.newPage()
  await page.goto(`${hub.url}/#/signin`)
  await page.getByLabel('User').fill(options.user ?? 'ada')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('heading', { name: 'Repositories' }).waitFor()
  return { context, page }
}

/**
 * Runs in the page: the contrast ratio (WCAG 2) of every text element of the main content and the
 * header against the nearest opaque background behind it.
 */
const CONTRAST = `(() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) ?? []).slice(0, 3).map(Number)
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      const x = v / 255
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4
    })
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
  }
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor
      if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg
    }
    return 'rgb(255, 255, 255)'
  }
  return [...document.querySelectorAll('main a, main td, main th, main p, .muted, header a')]
    .filter((el) => el.textContent.trim() !== '')
    .map((el) => {
      const a = lum(rgb(getComputedStyle(el).color))
      const b = lum(rgb(bgOf(el)))
      return { text: el.textContent.slice(0, 30), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) }
    })
})()`

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true })

describe('the hub web app in chromium', () => {
  test('signing in with a password sets an HttpOnly, SameSite cookie; the repositories are listed; signing out ends the session', async () => {
    const { context, page } = await signedIn()
    await expect(page.getByRole('link', { name: 'ada/models' }).isVisible()).resolves.toBe(true)
    await expect(page.getByRole('link', { name: 'ada/notes' }).isVisible()).resolves.toBe(true)
    await expect(page.getByText('Signed in as ada').isVisible()).resolves.toBe(true)
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'mlvc_session')
    expect(cookie?.httpOnly).toBe(true)
    expect(cookie?.sameSite).toBe('Strict')
    expect(await page.evaluate('document.cookie')).not.toContain('mlvc_session')
    await shot(page, 'repositories')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to the hub' }).waitFor()
    // The old cookie is worth nothing now: the session's token was revoked.
    const stale = await fetch(`${hub.url}/api/v1/user`, {
      headers: { cookie: `mlvc_session=${cookie?.value}` },
    })
    expect(stale.status).toBe(401)
    await context.close()
  })

  test('a wrong password is refused on the page; an anonymous visitor sees no private repository', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${hub.url}/#/signin`)
    await page.getByLabel('User').fill('ada')
    await page.getByLabel('Password').fill('not the password at all')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await expect(page.getByRole('alert').textContent()).resolves.toContain('sign-in refused')
    await page.goto(`${hub.url}/#/`)
    await page.getByText('No repositories you may read').waitFor()
    await page.goto(`${hub.url}/#/r/ada/models`)
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'authentication required',
    )
    await context.close()
  })

  test('bob, signed in with his token, does not see ada’s private repositories (404, as if absent)', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${hub.url}/#/signin`)
    await page.getByRole('button', { name: 'Token' }).click()
    await page.getByLabel('User').fill('bob')
    await page.getByLabel('Token').fill(tokens.bob as string)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByText('No repositories you may read').waitFor()
    await page.goto(`${hub.url}/#/r/ada/models`)
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'no repository ada/models',
    )
    await context.close()
  })

  test('a repository shows its branches with their latest commit, its files, and a file’s history', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models`)
    const branches = page.locator('table.branches tbody tr')
    await branches.first().waitFor()
    expect(await branches.count()).toBe(2)
    const text = await page.locator('table.branches').textContent()
    expect(text).toContain('Fine-tune the model at a lower learning rate')
    expect(text).toContain('Try another direction')
    expect(text).toContain(demo.tuned.slice(0, 10))
    const files = await page.locator('table.files').textContent()
    expect(files).toContain('model.safetensors')
    expect(files).toContain('checkpoint (safetensors)')
    expect(files).toContain('README.md')
    await shot(page, 'repository')
    await page.getByRole('link', { name: 'train.py' }).click()
    await expect(page.locator('pre.code').textContent()).resolves.toContain('fine-tuning')
    await page.getByRole('link', { name: 'History' }).click()
    const history = page.locator('ol.commits li')
    await history.first().waitFor()
    expect(await history.count()).toBe(2)
    // The file at the first commit: its older text.
    await page.goto(`${hub.url}/#/r/ada/models/blob/${demo.base}/train.py`)
    await expect(page.locator('pre.code').textContent()).resolves.toContain('lr = 0.01')
    await context.close()
  })

  test('a checkpoint shows its format and tensor table (not its stub); a download streams its bytes', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models/blob/main/model.safetensors`)
    await page.locator('.tensors table tbody tr').first().waitFor()
    const facts = await page.locator('dl.facts').textContent()
    expect(facts).toContain('checkpoint, safetensors format')
    expect(facts).toContain('1.06 kB')
    const names = await page.locator('.tensors td.name').allTextContents()
    expect(names).toEqual(['b', 'e', 'h', 'i', 'u', 'w'])
    const w = await page.locator('.tensors tr', { hasText: /^w/ }).textContent()
    expect(w).toContain('F32')
    expect(w).toContain('16×8')
    await shot(page, 'checkpoint')
    const download = page.waitForEvent('download')
    await page.getByRole('link', { name: 'Download' }).click()
    const file = await (await download).path()
    const { readFileSync } = await import('node:fs')
    expect(readFileSync(file).equals(readFileSync(join(demo.dir, 'model.safetensors')))).toBe(true)
    await context.close()
  })

  test('a checkpoint of 10,000 tensors: the table keeps few rows in the page, filters by name and sorts by a column', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models/blob/main/wide/many.safetensors`)
    const title = page.locator('#tensors-title')
    await title.getByText('10000 of 10000').waitFor()
    const rendered = await page.locator('.tensors tbody tr:not(.spacer)').count()
    expect(rendered).toBeLessThan(60)
    await page.getByLabel('Filter by name').fill('layers.4999.')
    await title.getByText('2 of 10000').waitFor()
    expect(await page.locator('.tensors td.name').allTextContents()).toEqual([
      'layers.4999.attn.weight',
      'layers.4999.mlp.weight',
    ])
    await page.getByLabel('Filter by name').fill('')
    await page.getByRole('button', { name: 'Max' }).click()
    await title.getByText('10000 of 10000').waitFor()
    const first = await page.locator('.tensors tbody tr:not(.spacer)').first().textContent()
    // Sorted by max, largest first: sin reaches 0.9999+ somewhere among 40,000 values.
    expect(first).toMatch(/0\.9999|1(?!\d)/)
    await shot(page, 'tensors-10000')
    await context.close()
  })

  test('a commit shows the code diff and the tensor-level diff with a chart of relative change per layer', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models/commit/${demo.tuned}`)
    await page.getByText('Fine-tune the model at a lower learning rate').first().waitFor()
    const code = page.locator('article', { hasText: 'train.py' }).locator('pre.diff')
    await expect(code.locator('.del').allTextContents()).resolves.toContain('-lr = 0.01')
    await expect(code.locator('.add').allTextContents()).resolves.toContain('+lr = 0.003')
    const model = page.locator('article', { hasText: 'model.safetensors' })
    const summary = await model.locator('.summary').textContent()
    expect(summary).toMatch(/\d+ changed/)
    expect(summary).toContain('of 6 tensors')
    await expect(
      model.locator('svg[aria-label="Relative change per layer"] rect').count(),
    ).resolves.toBeGreaterThan(0)
    const rows = await model.locator('table tbody tr').allTextContents()
    expect(rows.length).toBeGreaterThan(0)
    // Exact figures from the data: a changed fraction in percent and a cosine.
    expect(rows[0]).toMatch(/%/)
    await shot(page, 'commit-diff')
    await context.close()
  })

  test('two branches compared: their commits and the checkpoint diff', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models/compare`)
    await page.getByLabel('Base').fill('main')
    await page.getByLabel('Head').fill('experiment')
    await page.getByRole('button', { name: 'Compare', exact: true }).click()
    await page.getByText('Comparing').waitFor()
    const model = page.locator('article', { hasText: 'model.safetensors' })
    await expect(model.locator('.summary').textContent()).resolves.toContain('of 6 tensors')
    await context.close()
  })

  test('experiments: the runs table with parameters and final metrics, sorted, two runs compared with their curves', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models/runs/main`)
    const table = page.locator('table.runs')
    await table.locator('tbody tr').first().waitFor()
    expect(await table.locator('tbody tr').count()).toBe(2)
    const head = await table.locator('thead').textContent()
    for (const column of ['lr', 'batch', 'loss', 'eval:acc']) expect(head).toContain(column)
    await page.getByRole('button', { name: 'eval:acc' }).click()
    const firstRun = await table.locator('tbody tr').first().textContent()
    expect(firstRun).toContain(demo.runs[1])
    expect(firstRun).toContain('0.86')
    for (const id of demo.runs) await page.getByLabel(`Select run ${id}`).check()
    const compared = page.locator('table.compare-runs')
    await compared.waitFor()
    expect(await compared.locator('tr.differs').first().textContent()).toContain('lr')
    await page.locator('.uplot canvas').first().waitFor()
    // The curves of the first checked run show while those of both load: wait for the second.
    await page
      .locator('figure.curves figcaption', {
        hasText: '2 run(s), 200 points per curve shown of 200 logged',
      })
      .waitFor()
    await shot(page, 'experiments')
    await context.close()
  })

  test('datasets: versions with file counts and sizes, and what changed between two versions', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models/datasets`)
    const versions = page.locator('table.versions tbody tr')
    await versions.first().waitFor()
    expect(await versions.allTextContents()).toEqual([
      expect.stringMatching(/^1cv__faces__faces__120/),
      expect.stringMatching(/^2cv__faces__faces__221/),
    ])
    await expect(page.locator('.entity-diff .summary').textContent()).resolves.toContain(
      '2 added · 1 removed · 3 changed',
    )
    const changed = await page.locator('.entity-diff details', { hasText: 'Changed' }).textContent()
    expect(changed).toContain('img-1.bin')
    await shot(page, 'datasets')
    await context.close()
  })

  test('tokens: created (shown once), listed, revoked', async () => {
    const { context, page } = await signedIn()
    // The list's first load is held until the form is filled in, so the page re-renders after the
    // user typed: what was typed must survive it (Preact resets an input written value="cli" on every render).
    let release = () => {}
    const filled = new Promise<void>((resolve) => {
      release = resolve
    })
    await page.route('**/api/v1/tokens', async (route) => {
      if (route.request().method() === 'GET') await filled
      await route.continue()
    })
    await page.goto(`${hub.url}/#/tokens`)
    await page.getByLabel('Name').fill('web-made')
    await page.getByLabel('Scope').selectOption('read')
    release()
    await page.getByRole('table').waitFor()
    await page.getByRole('button', { name: 'Create token' }).click()
    const secret = await page.locator('code.secret').textContent()
    expect(secret).toMatch(/^mlvc_/)
    const me = await fetch(`${hub.url}/api/v1/user`, {
      headers: { authorization: `Bearer ${secret}` },
    })
    expect(me.status).toBe(200)
    await page.getByRole('button', { name: 'Revoke web-made' }).click()
    await page
      .locator('tr', { hasText: 'web-made' })
      .getByText(/revoked/)
      .waitFor()
    const after = await fetch(`${hub.url}/api/v1/user`, {
      headers: { authorization: `Bearer ${secret}` },
    })
    expect(after.status).toBe(401)
    await shot(page, 'tokens')
    await context.close()
  })

  test('keyboard: the sign-in form and a table’s sort buttons are reached and used with Tab and Enter', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${hub.url}/#/signin`)
    await page.getByLabel('User').focus()
    await page.keyboard.type('ada')
    await page.keyboard.press('Tab')
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Repositories' }).waitFor()
    await page.goto(`${hub.url}/#/r/ada/models/blob/main/model.safetensors`)
    await page.locator('.tensors tbody tr').first().waitFor()
    await page.getByLabel('Filter by name').focus()
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement?.textContent')).toContain('Name')
    await page.keyboard.press('Enter')
    await expect(page.locator('th[aria-sort="descending"]').textContent()).resolves.toContain(
      'Name',
    )
    expect(await page.locator('.tensors td.name').first().textContent()).toBe('w')
    await context.close()
  })

  test('at a phone’s width (390 px) the pages fit: no sideways scrolling of the page itself', async () => {
    const { context, page } = await signedIn({ width: 390 })
    for (const [route, name] of [
      ['#/r/ada/models', 'phone-repository'],
      ['#/r/ada/models/blob/main/model.safetensors', 'phone-checkpoint'],
      [`#/r/ada/models/commit/${demo.tuned}`, 'phone-commit'],
    ] as const) {
      await page.goto(`${hub.url}/${route}`)
      await page.locator('main table, main pre').first().waitFor()
      const overflow = await page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      )
      expect(overflow, route).toBeLessThanOrEqual(0)
      await shot(page, name)
    }
    await context.close()
  })

  test('text contrast: body text and links meet WCAG AA (4.5:1) against their background', async () => {
    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/models`)
    await page.locator('table.branches').waitFor()
    const ratios = (await page.evaluate(CONTRAST)) as Array<{ text: string; ratio: number }>
    expect(ratios.length).toBeGreaterThan(10)
    expect(ratios.filter((r) => r.ratio < 4.5)).toEqual([])
    await context.close()
  })

  test('deployments: each branch an environment; call one, promote a model, roll back to a version — each button shows its commit', async () => {
    // ada/app: a registry model and a node handler that reports the model's size, on main and dev.
    await hubAdmin(data, 'repo', 'create', 'ada/app')
    const app = join(root, 'app')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/app`, app)
    for (const args of [
      ['init'],
      ['track', '*.bin'],
      ['remote', 'add', 'origin', `${hub.url}/ada/app`],
    ])
      expect((await ada.mlvc(app, ...args)).code).toBe(0)
    const model = (bytes: number) => writeFileSync(join(app, 'clf.bin'), Buffer.alloc(bytes, 7))
    model(1000)
    const add = await ada.mlvc(
      app,
      'registry',
      'add',
      'clf',
      'clf.bin',
      '--meta',
      'lineage.experiment=finetune-42',
    )
    expect(add.code, add.stderr).toBe(0)
    mkdirSync(join(app, 'deployments/api'), { recursive: true })
    writeFileSync(
      join(app, 'deployments/api/deployment.yaml'),
      'runtime: node\nentry: index.mjs\nmodels: [clf]\n',
    )
    writeFileSync(
      join(app, 'deployments/api/index.mjs'),
      "import { statSync } from 'node:fs'\nimport { join } from 'node:path'\nexport default (input, { modelsDir }) => ({ modelBytes: statSync(join(modelsDir, 'clf', 'clf.bin')).size, input })\n",
    )
    await ada.git(app, 'add', 'deployments')
    await ada.git(app, 'commit', '-qm', 'the api deployment')
    await ada.git(app, 'push', '-q', 'origin', 'HEAD:main')
    await ada.git(app, 'checkout', '-qb', 'dev')
    model(2000)
    expect((await ada.mlvc(app, 'registry', 'add', 'clf', 'clf.bin')).code).toBe(0)
    await ada.git(app, 'push', '-q', 'origin', 'dev')
    const auth = { authorization: `Bearer ${tokens.ada}` }
    const latest = async (branch: string) => {
      const answer = await fetch(`${hub.url}/api/v1/repos/ada/app/deployments?branch=${branch}`, {
        headers: auth,
      })
      const json = (await answer.json()) as {
        deployments: Array<{ latest: { version: number; status: string } }>
      }
      return json.deployments[0]?.latest
    }
    const readyAt = async (branch: string, version: number) => {
      for (let i = 0; i < 600; i++) {
        const l = await latest(branch)
        if (l?.version === version && l.status === 'ready') return
        if (l?.status === 'failed') throw new Error(`${branch} v${l.version} failed to build`)
        await new Promise((done) => setTimeout(done, 200))
      }
      throw new Error(`${branch} never had v${version} ready`)
    }
    await readyAt('main', 1)
    await readyAt('dev', 1)

    const { context, page } = await signedIn()
    await page.goto(`${hub.url}/#/r/ada/app/deployments`)
    await page.getByRole('heading', { name: 'Deployments on main' }).waitFor()
    const call = async (expected: number) => {
      await page.getByLabel('Request JSON for api').fill('{"x": 1}')
      await page.getByRole('button', { name: 'Call api' }).click()
      await expect
        .poll(async () => (await page.getByLabel('Answer of api').textContent())?.trim(), {
          timeout: 30_000,
        })
        .toBe(JSON.stringify({ modelBytes: expected, input: { x: 1 } }))
    }
    await call(1000)
    await page.getByRole('button', { name: 'Logs of api v1' }).click()
    await expect.poll(async () => page.getByLabel('Build log of api v1').textContent()).not.toBe('')
    // The registry draws the model's lineage: what it came from, and the deployments using it.
    await page
      .getByRole('img', {
        name: 'Lineage of clf: experiment finetune-42 → model clf → deployment api',
      })
      .waitFor()
    await shot(page, 'deployments')

    // dev is an environment of its own; promoting its model to main is a commit on main.
    await page.getByLabel('Branch (environment)').selectOption('dev')
    await page.getByRole('heading', { name: 'Deployments on dev' }).waitFor()
    await call(2000)
    await page.getByRole('button', { name: 'Promote clf' }).click()
    const promoted = page
      .getByRole('status')
      .filter({ hasText: 'Promoted clf from dev to main: commit' })
    await promoted.waitFor()
    const promotedSha = /commit ([0-9a-f]{7,40})/.exec((await promoted.textContent()) ?? '')?.[1]
    expect(
      (await ada.git(app, 'ls-remote', 'origin', 'refs/heads/main')).startsWith(
        promotedSha ?? 'none',
      ),
    ).toBe(true)
    await readyAt('main', 2)
    await page.getByLabel('Branch (environment)').selectOption('main')
    await page.getByRole('heading', { name: 'Deployments on main' }).waitFor()
    await call(2000)

    // Roll back to v1: a commit restoring the deployment and its model as in v1; v3 = v1's build.
    await page.getByRole('button', { name: 'Roll api back to v1' }).click()
    const rolled = page.getByRole('status').filter({ hasText: 'Rolled api back to v1: commit' })
    await rolled.waitFor()
    const rolledSha = /commit ([0-9a-f]{7,40})/.exec((await rolled.textContent()) ?? '')?.[1]
    expect(
      (await ada.git(app, 'ls-remote', 'origin', 'refs/heads/main')).startsWith(
        rolledSha ?? 'none',
      ),
    ).toBe(true)
    await readyAt('main', 3)
    await page.getByRole('button', { name: 'Refresh' }).click()
    await call(1000)
    await context.close()
  })
})
