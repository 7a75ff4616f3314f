import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { buildEnvironment } from './build.ts'
import { createRunnerPool } from './pool.ts'
import type { RunnerTarget } from './runner.ts'
import { DEFAULT_LIMITS, type DeploymentLimits, type Runtime } from './spec.ts'

// Real child processes: every failure of a handler is answered, and the next call is served.
const root = tempDir('mlvc-runner')
const pool = createRunnerPool()
let pythonEnv: string

const NODE_HANDLER = `
export default async function handle(input) {
  switch (input.do) {
    case 'echo': return { echo: input.value, pid: process.pid }
    case 'throw': throw new Error('bad input: ' + input.value)
    case 'bigint': return { n: 1n }
    case 'undefined': return undefined
    case 'huge': return 'x'.repeat(input.bytes)
    case 'hang': for (;;) {}
    case 'wait': return new Promise((done) => setTimeout(() => done({ waited: true }), input.ms))
    case 'exit': process.exit(3)
    case 'oom': { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())) }
  }
}
`

const PYTHON_HANDLER = `
import os
def predict(x):
    if x["do"] == "echo":
        print("a print goes to the log")
        return {"echo": x["value"], "pid": os.getpid()}
    if x["do"] == "throw":
        raise ValueError("bad input: " + str(x["value"]))
    if x["do"] == "set":
        return {1, 2}
    if x["do"] == "oom":
        return len(bytearray(2 * 1024 * 1024 * 1024))
`

function target(
  runtime: Runtime,
  name: string,
  limits: Partial<DeploymentLimits> = {},
): RunnerTarget {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  const entry = runtime === 'node' ? 'handler.mjs' : 'app.py'
  writeFileSync(join(dir, entry), runtime === 'node' ? NODE_HANDLER : PYTHON_HANDLER)
  return {
    key: name,
    dir,
    envDir: runtime === 'python' ? pythonEnv : dir,
    logFile: join(root, `${name}.log`),
    spec: {
      runtime,
      entry,
      models: [],
      limits: { ...DEFAULT_LIMITS, timeoutMs: 20_000, ...limits },
    },
  }
}

const call = (t: RunnerTarget, body: unknown) => pool.call(t, JSON.stringify(body))

beforeAll(async () => {
  const env = await buildEnvironment({
    runtime: 'python',
    depsHash: 'stdlib',
    depFiles: new Map([['requirements.txt', Buffer.from('# the standard library only\n')]]),
    root: join(root, 'envs'),
  })
  pythonEnv = env.dir
})
afterAll(() => pool.stopAll())

describe('the node runtime', () => {
  const node = target('node', 'node-a')

  test('answers, keeps its process warm, and reports handler failures with their status', async () => {
    const first = await call(node, { do: 'echo', value: 1 })
    expect(first.status).toBe(200)
    const pid = JSON.parse((first as { json: string }).json).pid
    expect(pid).not.toBe(process.pid)
    const second = await call(node, { do: 'echo', value: 2 })
    expect(JSON.parse((second as { json: string }).json)).toEqual({ echo: 2, pid })
    expect(await call(node, { do: 'throw', value: 7 })).toMatchObject({
      status: 500,
      message: 'the handler failed: bad input: 7',
    })
    expect(await call(node, { do: 'bigint' })).toMatchObject({
      status: 502,
      message: expect.stringContaining('not JSON'),
    })
    expect(await call(node, { do: 'undefined' })).toMatchObject({
      status: 502,
      message: 'the handler returned undefined, which is not JSON',
    })
    expect(
      await call(node, { do: 'huge', bytes: DEFAULT_LIMITS.responseBytes + 10 }),
    ).toMatchObject({
      status: 502,
      message: expect.stringContaining('more than limits.responseBytes'),
    })
    // None of these cost the process.
    expect(
      JSON.parse(((await call(node, { do: 'echo', value: 3 })) as { json: string }).json).pid,
    ).toBe(pid)
  })

  test('calls made together go in one batch and each gets its own answer', async () => {
    // All sent in one turn of the event loop: one message to the process, one back.
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(node, i % 3 === 2 ? { do: 'throw', value: i } : { do: 'echo', value: i }),
      ),
    )
    outcomes.forEach((outcome, i) => {
      if (i % 3 === 2)
        expect(outcome).toMatchObject({
          status: 500,
          message: `the handler failed: bad input: ${i}`,
        })
      else expect(JSON.parse((outcome as { json: string }).json)).toMatchObject({ echo: i })
    })
  })

  test('a process that exits is answered 502 and started again on the next call', async () => {
    const t = target('node', 'node-exit')
    expect(await call(t, { do: 'exit' })).toMatchObject({
      status: 502,
      message: expect.stringContaining('exited (status 3)'),
    })
    expect((await call(t, { do: 'echo', value: 'back' })).status).toBe(200)
  })

  test('a hung handler is answered 504 and its process replaced', async () => {
    const t = target('node', 'node-hang', { timeoutMs: 1500 })
    const before = JSON.parse(((await call(t, { do: 'echo' })) as { json: string }).json).pid
    expect(await call(t, { do: 'hang' })).toMatchObject({
      status: 504,
      message: expect.stringContaining('did not answer within limits.timeoutMs (1500 ms)'),
    })
    const after = JSON.parse(((await call(t, { do: 'echo' })) as { json: string }).json).pid
    expect(after).not.toBe(before)
  })

  test('a handler that exhausts its memory is answered 503; the next call is served', async () => {
    const t = target('node', 'node-oom', { memoryMb: 64 })
    expect(await call(t, { do: 'oom' })).toMatchObject({
      status: 503,
      message: expect.stringContaining('ran out of memory'),
    })
    expect((await call(t, { do: 'echo' })).status).toBe(200)
    expect(readFileSync(t.logFile, 'utf8')).toContain('heap')
  })

  test('beyond concurrency + queue a call is answered 503 at once', async () => {
    const t = target('node', 'node-busy', { concurrency: 1, queue: 1 })
    expect((await call(t, { do: 'echo' })).status).toBe(200)
    const slow = call(t, { do: 'wait', ms: 2000 })
    const queued = call(t, { do: 'echo', value: 'queued' })
    const refused = await call(t, { do: 'echo', value: 'refused' })
    expect(refused).toMatchObject({
      status: 503,
      message: expect.stringContaining('busy: 1 calls running and 1 waiting'),
    })
    expect((await slow).status).toBe(200)
    expect((await queued).status).toBe(200)
  })

  test('a handler that does not load is a 502 naming it', async () => {
    const t = target('node', 'node-broken')
    writeFileSync(join(t.dir, 'handler.mjs'), 'export const other = 1\n')
    expect(await call(t, {})).toMatchObject({
      status: 502,
      message: 'the deployment failed to start: handler.mjs exports no function "default"',
    })
  })
})

describe('the python runtime', () => {
  test('answers from the venv; prints go to the log; failures are answered with their status', async () => {
    const py = target('python', 'py-a', { memoryMb: 256 })
    const ok = await call(py, { do: 'echo', value: 'hi' })
    expect(ok.status).toBe(200)
    expect(JSON.parse((ok as { json: string }).json).echo).toBe('hi')
    expect(await call(py, { do: 'throw', value: 1 })).toMatchObject({
      status: 500,
      message: 'the handler failed: ValueError: bad input: 1',
    })
    expect(await call(py, { do: 'set' })).toMatchObject({
      status: 502,
      message: expect.stringContaining('not JSON'),
    })
    expect(await call(py, { do: 'oom' })).toMatchObject({
      status: 503,
      message: expect.stringContaining('ran out of memory'),
    })
    expect((await call(py, { do: 'echo', value: 'still here' })).status).toBe(200)
    expect(readFileSync(py.logFile, 'utf8')).toContain('a print goes to the log')
  })

  test('a requirements file that cannot install is a failed build with its log', async () => {
    const failed = buildEnvironment({
      runtime: 'python',
      depsHash: 'unreachable',
      depFiles: new Map([
        ['requirements.txt', Buffer.from('mlvc-no-such-package-anywhere==1.0\n')],
      ]),
      root: join(root, 'envs'),
    })
    await expect(failed).rejects.toThrow(
      'environment build failed: pip install -r requirements.txt exited with status 1',
    )
    expect(readFileSync(join(root, 'envs', 'unreachable.log'), 'utf8')).toContain(
      'mlvc-no-such-package-anywhere',
    )
  })
})

describe('the onnx runtime', () => {
  const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')
  const expected = JSON.parse(readFileSync(join(fixtures, 'mlp.expected.json'), 'utf8'))

  test('serves an ONNX model with onnxruntime-web: named tensors in, the outputs numpy computed out', async () => {
    const dir = join(root, 'onnx')
    mkdirSync(join(dir, 'models', 'mlp'), { recursive: true })
    copyFileSync(join(fixtures, 'mlp.onnx'), join(dir, 'models', 'mlp', 'mlp.onnx'))
    const t: RunnerTarget = {
      key: 'onnx',
      dir,
      envDir: dir,
      logFile: join(root, 'onnx.log'),
      onnxFile: 'models/mlp/mlp.onnx',
      spec: { runtime: 'onnx', models: ['mlp'], limits: { ...DEFAULT_LIMITS, timeoutMs: 20_000 } },
    }
    const answer = await call(t, { inputs: { x: expected.input } })
    expect(answer.status).toBe(200)
    const y = JSON.parse((answer as { json: string }).json).outputs.y
    expect(y.dims).toEqual(expected.output.dims)
    expect(y.type).toBe('float32')
    for (const [i, value] of (expected.output.data as number[]).entries())
      expect(y.data[i]).toBeCloseTo(value, 3)
    expect(await call(t, { inputs: { x: { dims: [1, 3], data: [1, 2, 3] } } })).toMatchObject({
      status: 500,
      message: expect.stringContaining('the handler failed'),
    })
    expect(await call(t, { x: 1 })).toMatchObject({
      status: 500,
      message: expect.stringContaining('for inputs x'),
    })
  })
})
