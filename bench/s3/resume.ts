import { type FaultProxy, startFaultProxy } from '../../services/fault-proxy.ts'
import type { BenchContext } from '../context.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { exec, interruptWhen } from '../proc.ts'
import { row } from '../rows.ts'
import type { ResultRow, Target } from '../types.ts'
import { addS3Remote, checkPushReport, type S3Source } from './mlvc.ts'
import type { BenchS3 } from './server.ts'

export const UNINTERRUPTED = 'mlvc push, uninterrupted'
export const RESUMED = 'mlvc push, interrupted at 50% and run again'
const RECEIVED = 'bytes the server received'

const RESUME_TARGET: Target = {
  on: 'value',
  op: '<=',
  threshold: 1.1,
  text: '≤ 1.10× (at most 10% more)',
  source: 'issue 13',
}

interface Setting {
  ctx: BenchContext
  sb: Sandbox
  s3: BenchS3
  source: S3Source
  proxy: FaultProxy
}

let remotes = 0

/** Runs `act` with a new remote reached through the proxy; empties and removes it afterwards. */
async function withRemote<T>(set: Setting, act: (name: string) => Promise<T>): Promise<T> {
  const name = `resume-${++remotes}`
  const { sb, s3, source, proxy } = set
  await addS3Remote(sb, source.src, s3, {
    name,
    prefix: name,
    encrypt: false,
    endpoint: proxy.endpoint,
  })
  try {
    return await act(name)
  } finally {
    await s3.empty(name)
    await exec(sb.mlvc(source.src, ['remote', 'remove', name]))
  }
}

function push(set: Setting, name: string) {
  return set.sb.mlvc(set.source.src, ['--quiet', '--json', 'push', name])
}

/** The body bytes the server received for one uninterrupted push to an empty remote. */
async function wholePush(set: Setting): Promise<number> {
  return withRemote(set, async (name) => {
    set.proxy.requestBytes = 0
    checkPushReport(await exec(push(set, name)), set.source.bytes, UNINTERRUPTED)
    return set.proxy.requestBytes
  })
}

/** Throws unless one more push finds everything on the remote (nothing to send). */
async function checkComplete(set: Setting, name: string): Promise<void> {
  const report = JSON.parse(await exec(push(set, name))) as { objects: number; present: number }
  if (report.objects === 0 || report.present !== report.objects) {
    throw new Error(
      `${RESUMED}: after the second run the remote has ${report.present} of ${report.objects} objects`,
    )
  }
}

/**
 * A push to an empty remote, sent SIGINT (to its process group, as Ctrl-C) once the server has
 * received half of `whole` bytes, then run again to the end: the bytes of both runs, and how many
 * of them came before the interruption.
 */
async function resumedPush(set: Setting, whole: number): Promise<{ total: number; at: number }> {
  return withRemote(set, async (name) => {
    const { proxy } = set
    proxy.requestBytes = 0
    const first = await interruptWhen(push(set, name), () => proxy.requestBytes >= whole / 2)
    if (!first.interrupted || first.code !== 130) {
      const how = first.interrupted ? `exit code ${first.code}: ${first.stderr.trim()}` : 'ended'
      throw new Error(`${RESUMED}: the first run was not interrupted cleanly (${how})`)
    }
    const at = proxy.requestBytes
    await exec(push(set, name))
    const total = proxy.requestBytes
    await checkComplete(set, name)
    return { total, at }
  })
}

function percent(part: number, whole: number, digits = 0): string {
  return `${((100 * part) / whole).toFixed(digits)}%`
}

function exact(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} B`
}

/** Each run's bytes exactly, and how many more than `whole` (the table's GiB round them away). */
export function resumedNote(
  runs: ReadonlyArray<{ total: number; at: number }>,
  whole: number,
): string {
  const each = runs.map((r) => {
    const extra = r.total - whole
    const sign = extra < 0 ? '-' : '+'
    const more = `${sign}${exact(Math.abs(extra))}, ${sign}${percent(Math.abs(extra), whole, 2)}`
    return `${exact(r.total)} (${more}), the first run stopped at ${percent(r.at, whole)}`
  })
  return each.join('; ')
}

/**
 * Issue 13's resumption target, through a byte-counting proxy between mlvc and the server: the
 * bytes of an uninterrupted push, then `--runs` times the bytes of a push interrupted at half of
 * that and run again, and their ratio.
 */
export async function resumeRows(
  scenario: string,
  setting: Omit<Setting, 'proxy'>,
): Promise<ResultRow[]> {
  const proxy = await startFaultProxy(setting.s3.server.endpoint)
  try {
    const set = { ...setting, proxy }
    const { ctx } = set
    ctx.log(`${scenario}: ${UNINTERRUPTED}, through a counting proxy`)
    const whole = await wholePush(set)
    ctx.log(`${UNINTERRUPTED}: ${exact(whole)}`)
    const runs: Array<{ total: number; at: number }> = []
    for (let i = 0; i < ctx.options.runs; i++) {
      const run = await resumedPush(set, whole)
      ctx.log(`${RESUMED}: run ${i + 1}/${ctx.options.runs}: ${resumedNote([run], whole)}`)
      runs.push(run)
    }
    const totals = runs.map((r) => r.total)
    return [
      row({ scenario, subject: UNINTERRUPTED }, RECEIVED, 'B', [whole], { note: exact(whole) }),
      row({ scenario, subject: RESUMED }, `${RECEIVED}, both runs`, 'B', totals, {
        note: resumedNote(runs, whole),
      }),
      row(
        { scenario, subject: RESUMED },
        `${RECEIVED} / the uninterrupted push's`,
        'x',
        runs.map((r) => r.total / whole),
        { target: RESUME_TARGET },
      ),
    ]
  } finally {
    await proxy.close()
  }
}
