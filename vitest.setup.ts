import { appendFileSync } from 'node:fs'
import { fc } from '@fast-check/vitest'
import { afterEach, beforeEach } from 'vitest'

// A property run is synchronous, and vitest cannot time out a test that never yields: a rare
// failing input whose shrinking takes hours would hold its worker (and the whole run) that long.
// Past a minute a property stops: with a failure found, it fails with the smallest input reached
// so far; without one, it passes on the runs made (a property here takes a few seconds at most).
fc.configureGlobal({ interruptAfterTimeLimit: 60_000 })

// `npm test` names a file here and, should vitest not finish, prints the tests that started and
// never ended (scripts/test.mjs): the one stuck is among them.
const trace = process.env.MLVC_TEST_TRACE
if (trace) {
  const mark = (kind: string, file: string | undefined, name: string) =>
    appendFileSync(trace, `${kind}\t${process.pid}\t${file ?? ''}\t${name}\n`)
  beforeEach((ctx) => mark('start', ctx.task.file?.name, ctx.task.name))
  afterEach((ctx) => mark('end', ctx.task.file?.name, ctx.task.name))
}
