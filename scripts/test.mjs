#!/usr/bin/env node
// npm test: lint, type check, build (the tests run the built CLI and workers), then every test.
// Ends with one plain line, "N passed, N failed", counting the lint and type checks as one each.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'

const report = '.vitest-report.json'
const extra = process.argv.slice(2)
let passed = 0
let failed = 0

function step(name, cmd, args) {
  process.stdout.write(`\n> ${name}: ${cmd} ${args.join(' ')}\n`)
  const result = spawnSync(cmd, args, { stdio: 'inherit' })
  const ok = result.status === 0
  if (ok) passed++
  else failed++
  return ok
}

// Debian packages for the services the tests start (installed when root; otherwise one line).
spawnSync(process.execPath, ['scripts/setup.mjs'], { stdio: 'inherit' })
step('lint', 'npx', ['biome', 'check', '.'])
step('types', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])
const built = step('build', 'npm', ['run', 'build'])
if (built) {
  rmSync(report, { force: true })
  spawnSync(
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...extra],
    { stdio: 'inherit' },
  )
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'))
    passed += json.numPassedTests
    // A skipped or todo test is a test that cannot fail: it counts as a failure.
    failed += json.numFailedTests + json.numPendingTests + (json.numTodoTests ?? 0)
    for (const suite of json.testResults) {
      if (suite.status === 'failed' && suite.assertionResults.length === 0) failed++
    }
  } else {
    failed++
  }
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exit(failed === 0 ? 0 : 1)
