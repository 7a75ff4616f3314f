#!/usr/bin/env node
// The web app's page weight and latency, measured in Debian's chromium: for each page, the bytes
// transferred (compressed, as sent) on a cold load, and the time to first contentful paint and to
// the page's content being shown. Usage: node scripts/web-weight.mjs URL USER PASSWORD [ROUTE…]
// (a hub started by `npm run hub-demo -- --serve` prints all three). Nothing here is a test:
// BENCHMARKS.md records what it measured.
import { chromium } from 'playwright-core'

const [url, user, password, ...routes] = process.argv.slice(2)
if (!url || !user || !password) {
  process.stderr.write('usage: node scripts/web-weight.mjs URL USER PASSWORD [ROUTE…]\n')
  process.exit(2)
}
const pages =
  routes.length > 0
    ? routes
    : [
        '#/',
        '#/r/ada/models',
        '#/r/ada/models/blob/main/model.safetensors',
        '#/r/ada/models/commit/main',
        '#/r/ada/models/runs/main',
      ]
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
})
try {
  const signIn = await browser.newContext()
  const page = await signIn.newPage()
  await page.goto(`${url}/#/signin`)
  await page.getByLabel('User').fill(user)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('heading', { name: 'Repositories' }).waitFor()
  const state = await signIn.storageState()
  await signIn.close()
  process.stdout.write('page\tkB transferred (cold)\tfirst contentful paint ms\tcontent shown ms\n')
  for (const route of pages) {
    const context = await browser.newContext({ storageState: state })
    const tab = await context.newPage()
    const cdp = await context.newCDPSession(tab)
    await cdp.send('Network.enable')
    let bytes = 0
    cdp.on('Network.loadingFinished', (e) => {
      bytes += e.encodedDataLength
    })
    const started = Date.now()
    await tab.goto(`${url}/${route}`)
    await tab.locator('main table, main pre, main ul, main .error').first().waitFor()
    const shown = Date.now() - started
    // Bytes count until the page is quiet (the curves of the runs page load after its table).
    await tab.waitForLoadState('networkidle')
    const fcp = await tab.evaluate(
      "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1",
    )
    process.stdout.write(`${route}\t${(bytes / 1024).toFixed(1)}\t${Math.round(fcp)}\t${shown}\n`)
    await context.close()
  }
} finally {
  await browser.close()
}
