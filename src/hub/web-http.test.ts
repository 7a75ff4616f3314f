import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { loadHubConfig, type RunningHub, startHub } from './index.ts'
import { loadWebAssets } from './web-http.ts'

/**
 * The page weight budget: everything the app loads (page, modules, stylesheet, preact, htm, uPlot),
 * gzip-compressed as the hub sends it. BENCHMARKS.md says what it is today.
 */
const BUDGET_GZIP_BYTES = 100 * 1024

let running: RunningHub

beforeAll(async () => {
  const config = await loadHubConfig({
    data: join(tempDir('mlvc-web-http'), 'hub'),
    listen: '127.0.0.1:0',
  })
  running = await startHub(config, { hookCommand: ['true'] })
})
afterAll(() => running?.close())

describe('the web app’s files', () => {
  test('the page is served at / with an import map whose hash the CSP allows, and revalidated on every load', async () => {
    const res = await fetch(`${running.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const html = await res.text()
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? ''
    expect(JSON.parse(map).imports.preact).toMatch(/^\/-\/vendor\/preact\.mjs\?v=\d+\.\d+\.\d+$/)
    const hash = createHash('sha256').update(map).digest('base64')
    expect(res.headers.get('content-security-policy')).toContain(
      `script-src 'self' 'sha256-${hash}'`,
    )
    const again = await fetch(`${running.url}/`, {
      headers: { 'if-none-match': res.headers.get('etag') ?? '' },
    })
    expect(again.status).toBe(304)
  })

  test('vendor files are served from node_modules, versioned and cached for a year; app modules are revalidated', async () => {
    const vendor = await fetch(`${running.url}/-/vendor/uplot.mjs?v=1`)
    expect(vendor.status).toBe(200)
    expect(vendor.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await vendor.text()).toContain('uPlot')
    const app = await fetch(`${running.url}/-/app/main.js`, {
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(app.headers.get('cache-control')).toBe('no-cache')
    expect(app.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(app.headers.get('content-encoding')).toBe('gzip')
    expect((await fetch(`${running.url}/-/app/nope.js`)).status).toBe(404)
    expect((await fetch(`${running.url}/-/vendor/../../package.json`)).status).toBe(404)
    expect((await fetch(`${running.url}/-/app/main.js`, { method: 'POST' })).status).toBe(405)
  })

  test(`everything the app loads weighs at most ${BUDGET_GZIP_BYTES / 1024} kB gzip-compressed`, async () => {
    const { files } = await loadWebAssets()
    let total = 0
    for (const asset of files.values()) {
      expect(gunzipSync(asset.gzip).equals(asset.body)).toBe(true)
      total += asset.gzip.length
    }
    expect(files.size).toBeGreaterThanOrEqual(12)
    expect(total).toBeLessThanOrEqual(BUDGET_GZIP_BYTES)
  })
})
