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
  // A test's id is unique in the run; its name may repeat in other describe blocks.
  const mark = (kind: string, task: { id: string; name: string; file?: { name: string } }) =>
    appendFileSync(trace, `${kind}\t${task.id}\t${task.file?.name ?? ''} > ${task.name}\n`)
  beforeEach((ctx) => mark('start', ctx.task))
  afterEach((ctx) => mark('end', ctx.task))
}
