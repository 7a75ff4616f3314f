#!/usr/bin/env node
// npm test: lint, type check, build (the tests run the built CLI and workers), then every test.
// Ends with one plain line, "N passed, N failed", counting the lint and type checks as one each.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const report = '.vitest-report.json'
const extra = process.argv.slice(2)
// A test stuck in a synchronous loop blocks its worker, where vitest's own timeouts cannot fire:
// past this, vitest and every worker it started are killed and the run counts as failed, so the
// run still ends with its line (a whole run takes about 10 minutes here; CI allows 90).
const vitestLimitMinutes = Number(process.env.MLVC_TEST_LIMIT_MINUTES ?? 45)
// Each test's start and end, written by vitest.setup.ts: what was still running when time ran out.
const trace = join(tmpdir(), `mlvc-test-trace-${process.pid}.tsv`)

function printUnfinished() {
  const running = new Map()
  const text = existsSync(trace) ? readFileSync(trace, 'utf8') : ''
  for (const line of text.split('\n')) {
    const [kind, id, test] = line.split('\t')
    if (kind === 'start') running.set(id, test)
    else running.delete(id)
  }
  for (const test of running.values()) process.stdout.write(`still running: ${test}\n`)
}

/** Runs vitest in a process group of its own; resolves whether it was killed for taking too long. */
function runVitest(args) {
  const child = spawn('npx', ['vitest', 'run', ...args], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, MLVC_TEST_TRACE: trace },
  })
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  // Ctrl-C reaches our group only: pass it on to vitest's.
  const interrupt = () => {
    killGroup()
    process.exit(130)
  }
  process.on('SIGINT', interrupt)
  process.on('SIGTERM', interrupt)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    process.stdout.write(`\nvitest did not finish within ${vitestLimitMinutes} minutes: killed\n`)
    killGroup()
    printUnfinished()
  }, vitestLimitMinutes * 60_000)
  return new Promise((resolve) => {
    child.on('exit', () => {
      clearTimeout(timer)
      // Workers left behind by a killed vitest go with it.
      killGroup()
      rmSync(trace, { force: true })
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
      resolve(timedOut)
    })
  })
}

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
  const timedOut = await runVitest([
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${report}`,
    ...extra,
  ])
  if (!timedOut && existsSync(report)) {
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
