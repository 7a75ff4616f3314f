import { type ChildProcess, spawn } from 'node:child_process'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchContext, Scenario } from '../context.ts'
import { initRepo } from '../git/repos.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { exec } from '../proc.ts'
import { row } from '../rows.ts'
import { median } from '../stats.ts'
import type { ResultRow, Target } from '../types.ts'
import { type BenchHub, startBenchHub } from './hub.ts'

const NAME = 'deploy'
const CONCURRENCY = 16
/**
 * Requests per load run (after 10% of them as warm-up). Runs of 4,000 measured mostly the JIT
 * warming up: both servers answered at about half their steady rate.
 */
const REQUESTS = 20_000
const ONNX_REQUESTS = 400
const FIXTURES = fileURLToPath(new URL('../../../src/deploy/fixtures/', import.meta.url))

const target = (on: Target['on'], op: Target['op'], threshold: number, text: string): Target => ({
  on,
  op,
  threshold,
  text,
  source: 'issue 16',
})

const ECHO = 'export default function echo(input) {\n  return { ok: true, echo: input }\n}\n'
const BARE = `const http = require('node:http')
http.createServer((req, res) => {
  const parts = []
  req.on('data', (d) => parts.push(d))
  req.on('end', () => {
    const text = JSON.stringify({ ok: true, echo: JSON.parse(Buffer.concat(parts).toString()) }) + '\\n'
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  })
}).listen(0, '127.0.0.1', function () { console.log(this.address().port) })
`

interface Load {
  /** Per request, in ms. */
  latencies: number[]
  perSecond: number
}

function post(
  agent: Agent,
  url: URL,
  body: string,
  auth: string,
): Promise<{ status: number; text: string; version: string }> {
  return new Promise((done, fail) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: auth,
        },
      },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (d: Buffer) => parts.push(d))
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            text: Buffer.concat(parts).toString(),
            version: String(res.headers['x-mlvc-version'] ?? ''),
          }),
        )
        res.on('error', fail)
      },
    )
    req.on('error', fail)
    req.end(body)
  })
}

/** `total` POSTs, `concurrency` at a time on kept-alive connections; every answer must be 200. */
async function load(
  url: string,
  body: string,
  auth: string,
  concurrency: number,
  total: number,
): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const target = new URL(url)
  const latencies: number[] = []
  let next = 0
  const warm = Math.ceil(total / 10)
  const worker = async (measure: boolean, count: number) => {
    while (next < count) {
      next++
      const started = process.hrtime.bigint()
      const answer = await post(agent, target, body, auth)
      if (answer.status !== 200) throw new Error(`${url}: ${answer.status} ${answer.text}`)
      if (measure) latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker(false, warm)))
  next = 0
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: concurrency }, () => worker(true, total)))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  agent.destroy()
  return { latencies, perSecond: total / seconds }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

function startBare(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', BARE], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((done, fail) => {
    child.stdout?.once('data', (d: Buffer) =>
      done({ url: `http://127.0.0.1:${d.toString().trim()}/`, child }),
    )
    child.once('exit', (code) => fail(new Error(`the bare server exited (${code})`)))
  })
}

interface Project {
  sb: Sandbox
  dir: string
  hub: BenchHub
  auth: string
  git(...args: string[]): Promise<string>
  /** Polls until version `n` of `deployment` on main is no longer building; its status. */
  settled(deployment: string, n: number): Promise<string>
  call(
    deployment: string,
    body: string,
    version?: string,
  ): Promise<{ status: number; text: string; version: string }>
}

async function project(ctx: BenchContext): Promise<Project> {
  const sb = await openSandbox(ctx, 'mlvc')
  const hub = await startBenchHub(ctx, sb)
  const base = await ctx.work.tempDir('deploy-src')
  const dir = join(base, 'app')
  await initRepo(sb, dir)
  const url = await hub.newRepo()
  const git = (...args: string[]) => exec(sb.git(dir, args))
  await git('remote', 'add', 'origin', url)
  const auth = `Bearer ${hub.token}`
  const repoPath = new URL(url).pathname
  const agent = new Agent({ keepAlive: true })
  return {
    sb,
    dir,
    hub,
    auth,
    git,
    async settled(deployment, n) {
      for (;;) {
        const response = await fetch(
          `${hub.url}/api/v1/repos${repoPath}/deployments/${deployment}/versions/${n}?branch=main`,
          {
            headers: { authorization: auth },
          },
        )
        if (response.status === 200) {
          const status = ((await response.json()) as { status: string }).status
          if (status !== 'building') return status
        }
        await new Promise((done) => setTimeout(done, 20))
      }
    },
    call: (deployment, body, version = '') =>
      post(agent, new URL(`${hub.url}/v1${repoPath}/main/${deployment}${version}`), body, auth),
  }
}

/** Pushes main; resolves when git push returns. */
async function push(p: Project): Promise<void> {
  await exec(p.sb.git(p.dir, ['push', '-q', 'origin', 'HEAD:main']))
}

async function writeDeployments(p: Project): Promise<void> {
  const echo = join(p.dir, 'deployments', 'echo')
  await mkdir(echo, { recursive: true })
  await writeFile(
    join(echo, 'deployment.yaml'),
    `runtime: node\nentry: index.mjs\nlimits: { concurrency: ${CONCURRENCY}, queue: 256 }\n`,
  )
  await writeFile(join(echo, 'index.mjs'), ECHO)
  await writeFile(join(echo, 'package.json'), '{ "private": true }\n')
  const mlp = join(p.dir, 'deployments', 'mlp')
  await mkdir(mlp, { recursive: true })
  await writeFile(
    join(mlp, 'deployment.yaml'),
    'runtime: onnx\nmodels: [mlp]\nlimits: { concurrency: 2 }\n',
  )
  await copyFile(join(FIXTURES, 'mlp.onnx'), join(p.dir, 'mlp.onnx'))
  await exec(
    p.sb.mlvc(p.dir, [
      'registry',
      'add',
      'mlp',
      join(p.dir, 'mlp.onnx'),
      '--meta',
      'description=bench MLP',
    ]),
  )
  await exec(p.sb.git(p.dir, ['add', 'deployments']))
  await exec(p.sb.git(p.dir, ['commit', '-qm', 'deployments']))
}

/** Cold starts: each run changes the handler (a new version, the environment cached), pushes, waits for ready, and times the first call. */
async function coldStarts(p: Project, runs: number, first: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    await writeFile(join(p.dir, 'deployments', 'echo', 'index.mjs'), `${ECHO}// run ${i}\n`)
    await p.git('commit', '-qam', `echo ${i}`)
    await push(p)
    if ((await p.settled('echo', first + i)) !== 'ready')
      throw new Error(`echo v${first + i} did not build`)
    const started = process.hrtime.bigint()
    const answer = await p.call('echo', '{"cold":true}', `/v${first + i}`)
    if (answer.status !== 200) throw new Error(`cold call: ${answer.status} ${answer.text}`)
    times.push(Number(process.hrtime.bigint() - started) / 1e9)
  }
  return times
}

/**
 * Rollbacks: revert the last commit and push; the time from the start of `git push` until the
 * latest version answers as before it, and the part of it after `git push` returned.
 */
async function rollbacks(
  p: Project,
  runs: number,
  next: number,
): Promise<{ total: number[]; afterPush: number[] }> {
  const times: number[] = []
  const afterPush: number[] = []
  let version = next
  for (let i = 0; i < runs; i++) {
    await writeFile(
      join(p.dir, 'deployments', 'echo', 'index.mjs'),
      ECHO.replace('ok: true', `ok: ${i}`),
    )
    await p.git('commit', '-qam', `change ${i}`)
    await push(p)
    if ((await p.settled('echo', version)) !== 'ready')
      throw new Error(`echo v${version} did not build`)
    await p.call('echo', '{}')
    await p.git('revert', '--no-edit', 'HEAD')
    const started = process.hrtime.bigint()
    await push(p)
    const pushed = process.hrtime.bigint()
    for (;;) {
      const answer = await p.call('echo', '{}')
      if (
        answer.status === 200 &&
        answer.version === String(version + 1) &&
        answer.text.includes('"ok":true')
      )
        break
    }
    const done = process.hrtime.bigint()
    times.push(Number(done - started) / 1e9)
    afterPush.push(Number(done - pushed) / 1e9)
    version += 2
  }
  return { total: times, afterPush }
}

export const deploy: Scenario = {
  name: NAME,
  title: 'deployments on the hub: serving overhead, cold start, rollback, and the onnx runtime',
  issue: 16,
  about: [
    'A hub (`mlvc hub serve`) on 127.0.0.1 with a repository holding two deployments: `echo`, a',
    '`node` handler returning `{ ok: true, echo: input }` (limits.concurrency 16), and `mlp`, the',
    '`onnx` runtime serving `src/deploy/fixtures/mlp.onnx` (a 64→1024→1024→10 MLP, 4.5 MB).',
    `Throughput: ${REQUESTS} POSTs of a small JSON body, ${CONCURRENCY} at a time on kept-alive`,
    'connections from the bench process (after 10% as warm-up), to the hub and to a bare `node:http`',
    'server in its own process returning the same JSON; the ratio of requests per second, the p50',
    'the hub adds (p50 hub − p50 bare) and both p99s. Cold start: a pushed change of the handler',
    '(environment cached), its first call timed once the version is ready. Rollback: `git revert` +',
    '`git push` of a change, timed from the push until the latest version answers as before. onnx:',
    `${ONNX_REQUESTS} calls of a 2×64 input, one at a time (p50, p99) and 4 at a time (throughput).`,
    'The client shares the machine with the hub: figures are lower bounds.',
  ].join('\n'),
  async run(ctx) {
    const p = await project(ctx)
    const bare = await startBare()
    const rows: ResultRow[] = []
    const who = (subject: string) => ({ scenario: NAME, subject })
    try {
      await writeDeployments(p)
      await push(p)
      for (const d of ['echo', 'mlp'])
        if ((await p.settled(d, 1)) !== 'ready') throw new Error(`${d} v1 did not build`)
      const body = JSON.stringify({ features: [1, 2, 3, 4], id: 'bench' })
      const echoUrl = `${p.hub.url}/v1${new URL(await p.git('remote', 'get-url', 'origin')).pathname}/main/echo`
      ctx.log(`${NAME}: load at concurrency ${CONCURRENCY}`)
      const hubLoad = await load(echoUrl, body, p.auth, CONCURRENCY, REQUESTS)
      const bareLoad = await load(bare.url, body, p.auth, CONCURRENCY, REQUESTS)
      rows.push(
        row(
          who(`hub, node handler, concurrency ${CONCURRENCY}`),
          'requests',
          'req/s',
          [hubLoad.perSecond],
          {
            ratioTo: { subject: 'bare node:http', value: hubLoad.perSecond / bareLoad.perSecond },
            target: target('ratio', '>=', 0.5, '≥ 50% of bare node:http'),
          },
        ),
        row(who(`bare node:http, concurrency ${CONCURRENCY}`), 'requests', 'req/s', [
          bareLoad.perSecond,
        ]),
        row(
          who('latency the hub adds (p50 hub − p50 bare)'),
          'p50',
          'ms',
          [median(hubLoad.latencies) - median(bareLoad.latencies)],
          { target: target('value', '<', 2, '< 2 ms') },
        ),
        row(who(`hub, node handler, concurrency ${CONCURRENCY}`), 'p99', 'ms', [
          percentile(hubLoad.latencies, 99),
        ]),
        row(who(`bare node:http, concurrency ${CONCURRENCY}`), 'p99', 'ms', [
          percentile(bareLoad.latencies, 99),
        ]),
      )
      ctx.log(`${NAME}: cold starts and rollbacks`)
      const runs = Math.max(1, ctx.options.runs)
      rows.push(
        row(
          who('cold start of a node version (environment cached)'),
          'time',
          's',
          await coldStarts(p, runs, 2),
          {
            target: target('value', '<', 1, '< 1 s'),
          },
        ),
      )
      const rollback = await rollbacks(p, runs, 2 + runs)
      rows.push(
        row(
          who('rollback: from git push returning until the old code answers'),
          'time',
          's',
          rollback.afterPush,
          {
            target: target('value', '<', 2, '< 2 s'),
          },
        ),
        row(
          who('rollback: revert + git push (hooks included) until the old code answers'),
          'time',
          's',
          rollback.total,
        ),
      )
      ctx.log(`${NAME}: onnx`)
      const input = JSON.parse(await readFile(join(FIXTURES, 'mlp.expected.json'), 'utf8')) as {
        input: unknown
      }
      const onnxBody = JSON.stringify({ inputs: { x: input.input } })
      const mlpUrl = echoUrl.replace(/\/echo$/, '/mlp')
      const one = await load(mlpUrl, onnxBody, p.auth, 1, ONNX_REQUESTS)
      const four = await load(mlpUrl, onnxBody, p.auth, 4, ONNX_REQUESTS)
      rows.push(
        row(who('onnx MLP (4.5 MB), one call at a time'), 'p50', 'ms', [median(one.latencies)]),
        row(who('onnx MLP (4.5 MB), one call at a time'), 'p99', 'ms', [
          percentile(one.latencies, 99),
        ]),
        row(who('onnx MLP (4.5 MB), 4 at a time'), 'throughput', 'req/s', [four.perSecond]),
      )
    } finally {
      bare.child.kill()
      await p.hub.stop()
    }
    return rows
  },
}
