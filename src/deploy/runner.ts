import { type ChildProcess, fork, spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { workerUrl, writeFileAtomic } from '../core/index.ts'
import { PYTHON_RUNNER } from './runner-python.ts'
import type { DeploymentSpec } from './spec.ts'

/** A ready version, as the runner needs it. */
export interface RunnerTarget {
  /** The version's id (one process per version). */
  key: string
  spec: DeploymentSpec
  /** The version's folder: the deployment's files, models under models/NAME/. */
  dir: string
  /** Its environment (build.ts). */
  envDir: string
  /** The version's runtime log (appended). */
  logFile: string
  /** onnx: the model file, relative to `dir`. */
  onnxFile?: string
}

/** What a call gets: the handler's JSON (status 200) or an error with the status that answers it. */
export type CallOutcome =
  | { status: 200; json: string }
  | { status: number; message: string; hint?: string }

/** What the hub sends a `node` or `onnx` process: the calls of one turn of its event loop. */
export interface CallBatch {
  calls: Array<{ id: number; body: string }>
}

interface Reply {
  id?: number
  type?: 'ready' | 'fatal'
  ok?: boolean
  json?: string
  kind?: 'throw' | 'output' | 'memory'
  message?: string
}

interface Pending {
  resolve(outcome: CallOutcome): void
}

interface Proc {
  child: ChildProcess
  ready: Promise<CallOutcome | undefined>
  /** Set once it said it is ready: calls then go straight to it. */
  isReady: boolean
  pending: Map<number, Pending>
  send(id: number, body: string): void
  /** Why the runner killed it, for the other calls it was answering. */
  killedFor?: string
  /** The end of its stderr (to recognise V8's out-of-memory abort). */
  tail: string
}

export interface Runner {
  call(body: string): Promise<CallOutcome>
  /** Calls being answered and waiting. */
  load(): { active: number; waiting: number; running: boolean }
  stop(): Promise<void>
}

/** How long a process may take to load its handler (and model) before its first call. */
const START_MS = 60_000

const runnerScript = () => fileURLToPath(workerUrl(import.meta.url, 'runner-node'))

function childEnv(target: RunnerTarget): NodeJS.ProcessEnv {
  const { spec } = target
  const entry = join(target.dir, (spec.runtime === 'onnx' ? target.onnxFile : spec.entry) ?? '')
  return {
    PATH: process.env.PATH,
    HOME: target.dir,
    LANG: 'C.UTF-8',
    MLVC_RUNTIME: spec.runtime,
    MLVC_ENTRY: entry,
    MLVC_ENTRY_NAME: spec.entry ?? '',
    MLVC_FUNCTION: spec.function ?? '',
    MLVC_MODELS: join(target.dir, 'models'),
    MLVC_RESPONSE_BYTES: String(spec.limits.responseBytes),
    MLVC_MEMORY_BYTES: String(spec.limits.memoryMb * 1024 * 1024),
  }
}

async function startChild(target: RunnerTarget): Promise<ChildProcess> {
  const env = childEnv(target)
  if (target.spec.runtime === 'python') {
    const script = join(target.envDir, 'mlvc-runner.py')
    // Atomic: versions sharing the environment may start at once.
    await writeFileAtomic(script, PYTHON_RUNNER, { fsync: false })
    return spawn(join(target.envDir, 'venv', 'bin', 'python3'), ['-u', script], {
      cwd: target.dir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
  }
  return fork(runnerScript(), [], {
    cwd: target.dir,
    env,
    execArgv: [`--max-old-space-size=${target.spec.limits.memoryMb}`],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
}

function lineReader(onLine: (line: string) => void): (d: Buffer) => void {
  let rest = ''
  return (d) => {
    rest += d.toString('utf8')
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      onLine(rest.slice(0, nl))
      rest = rest.slice(nl + 1)
    }
  }
}

function outcomeOf(reply: Reply, limit: number): CallOutcome {
  if (reply.ok && typeof reply.json === 'string') {
    if (Buffer.byteLength(reply.json) > limit) {
      return {
        status: 502,
        message: `the handler returned more than limits.responseBytes (${limit} bytes)`,
      }
    }
    return { status: 200, json: reply.json }
  }
  const message = reply.message ?? 'no message'
  switch (reply.kind) {
    case 'throw':
      return { status: 500, message: `the handler failed: ${message}` }
    case 'memory':
      return {
        status: 503,
        message,
        hint: 'raise limits.memoryMb in deployment.yaml, or send less',
      }
    default:
      return { status: 502, message: `the handler ${message}` }
  }
}

/**
 * One version's process manager: starts the process on the first call, keeps it warm, stops it
 * after `limits.idleMs` without calls, starts it again after a crash. At most
 * `limits.concurrency` calls are in the process at once; up to `limits.queue` more wait, beyond
 * that a call is answered 503 at once. A call that takes longer than `limits.timeoutMs` (from
 * when the process has it; starting has its own bound, START_MS) is answered 504 and the process is stopped (a hung handler may hold its event loop); a process
 * that exhausts its memory answers 503, one that exits 502. Nothing a handler does reaches the
 * caller's process.
 */
export function createRunner(target: RunnerTarget): Runner {
  const { limits } = target.spec
  mkdirSync(dirname(target.logFile), { recursive: true })
  const log: WriteStream = createWriteStream(target.logFile, { flags: 'a' })
  // A log that cannot be written never takes the caller's process down.
  log.on('error', () => undefined)
  const note = (text: string) => log.write(`[${new Date().toISOString()}] ${text}\n`)
  let proc: Proc | undefined
  let launching: Promise<Proc> | undefined
  let nextId = 1
  let active = 0
  const waiting: Array<() => void> = []
  let idle: NodeJS.Timeout | undefined
  let stopped = false

  function finishAll(p: Proc, outcome: CallOutcome): void {
    for (const pending of p.pending.values()) pending.resolve(outcome)
    p.pending.clear()
  }

  function exitOutcome(p: Proc, code: number | null, signal: NodeJS.Signals | null): CallOutcome {
    if (p.killedFor) return { status: 503, message: p.killedFor }
    const how = signal ? `signal ${signal}` : `status ${code}`
    if (signal === 'SIGABRT' || code === 134 || /heap out of memory|MemoryError/.test(p.tail)) {
      return {
        status: 503,
        message: `the deployment's process ran out of memory (limits.memoryMb ${limits.memoryMb}) and exited; it restarts on the next call`,
        hint: 'raise limits.memoryMb in deployment.yaml, or send less',
      }
    }
    return {
      status: 502,
      message: `the deployment's process exited (${how}) during the call; it restarts on the next call`,
    }
  }

  async function launch(): Promise<Proc> {
    const child = await startChild(target)
    let readyDone: (o: CallOutcome | undefined) => void = () => undefined
    // Calls that arrive in one turn of the event loop (many sockets are read in one) go to a
    // node process in one message: a write and a read per turn instead of per call.
    let batch: CallBatch['calls'] = []
    const flush = () => {
      const calls = batch
      batch = []
      if (child.connected) child.send({ calls } satisfies CallBatch)
    }
    const p: Proc = {
      child,
      pending: new Map(),
      tail: '',
      isReady: false,
      ready: new Promise((done) => {
        readyDone = done
      }),
      send: (id, body) => {
        if (target.spec.runtime === 'python')
          child.stdin?.write(`${JSON.stringify({ id, body })}\n`)
        else if (batch.push({ id, body }) === 1) setImmediate(flush)
      },
    }
    const onReply = (reply: Reply) => {
      if (reply.type === 'ready') {
        p.isReady = true
        return readyDone(undefined)
      }
      if (reply.type === 'fatal') {
        note(`failed to start: ${reply.message}`)
        return readyDone({
          status: 502,
          message: `the deployment failed to start: ${reply.message}`,
        })
      }
      const pending = reply.id === undefined ? undefined : p.pending.get(reply.id)
      if (!pending || reply.id === undefined) return
      p.pending.delete(reply.id)
      pending.resolve(outcomeOf(reply, limits.responseBytes))
    }
    if (target.spec.runtime === 'python') {
      child.stdout?.on(
        'data',
        lineReader((line) => {
          try {
            onReply(JSON.parse(line) as Reply)
          } catch {
            note(`unreadable line from the runner: ${line.slice(0, 200)}`)
          }
        }),
      )
      child.stdin?.on('error', () => undefined)
    } else {
      child.stdout?.on('data', (d: Buffer) => log.write(d))
      child.on('message', (m: Reply | { replies: Reply[] }) => {
        if ('replies' in m) for (const reply of m.replies) onReply(reply)
        else onReply(m)
      })
    }
    child.stderr?.on('data', (d: Buffer) => {
      log.write(d)
      p.tail = (p.tail + d.toString('utf8')).slice(-2048)
    })
    child.on('error', (err) => note(`process error: ${err.message}`))
    child.on('exit', (code, signal) => {
      note(`process ${child.pid} exited (${signal ?? code})`)
      const outcome = exitOutcome(p, code, signal)
      readyDone(
        outcome.status === 503 && !p.killedFor
          ? outcome
          : {
              status: 502,
              message: `the deployment failed to start: its process exited (${signal ?? code})`,
            },
      )
      finishAll(p, outcome)
      if (proc === p) proc = undefined
    })
    note(`started process ${child.pid} (${target.spec.runtime})`)
    return p
  }

  /** Kills a process; the next call starts a new one at once, without waiting for the exit. */
  function kill(p: Proc, why: string): void {
    p.killedFor ??= why
    if (proc === p) proc = undefined
    p.child.kill('SIGKILL')
  }

  function armIdle(): void {
    if (idle) clearTimeout(idle)
    idle = undefined
    if (active > 0 || waiting.length > 0 || !proc) return
    idle = setTimeout(() => {
      if (proc && active === 0) {
        note(`stopping after ${limits.idleMs} ms without calls`)
        kill(proc, 'the deployment was stopped while idle')
      }
    }, limits.idleMs)
    idle.unref()
  }

  /** Resolves to `value` after `ms`, unless cleared by `clear()`. */
  function after<T>(ms: number, value: T): { done: Promise<T>; clear(): void } {
    let timer: NodeJS.Timeout | undefined
    const done = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(value), ms)
    })
    return { done, clear: () => clearTimeout(timer) }
  }

  /** The running process, started if needed; an outcome when it cannot start. */
  async function started(): Promise<Proc | CallOutcome> {
    if (proc?.isReady) return proc
    if (!proc) {
      // Calls that arrive together share one start.
      launching ??= launch().finally(() => {
        launching = undefined
      })
      proc = await launching
    }
    const p = proc
    const limit = after(START_MS, 'timeout' as const)
    try {
      const ready = await Promise.race([p.ready, limit.done])
      if (ready === 'timeout') {
        kill(p, 'the deployment was restarted: it did not start in time')
        return {
          status: 504,
          message: `the deployment did not start within ${START_MS / 1000} s; its process was stopped`,
        }
      }
      if (ready) {
        if (proc === p) proc = undefined
        return ready
      }
      return p
    } finally {
      limit.clear()
    }
  }

  async function run(body: string): Promise<CallOutcome> {
    const p = await started()
    if (!('child' in p)) return p
    const id = nextId++
    const answered = new Promise<CallOutcome>((resolve) => p.pending.set(id, { resolve }))
    const limit = after(limits.timeoutMs, 'timeout' as const)
    p.send(id, body)
    try {
      const outcome = await Promise.race([answered, limit.done])
      if (outcome !== 'timeout') return outcome
    } finally {
      limit.clear()
    }
    p.pending.delete(id)
    note(`call ${id} timed out after ${limits.timeoutMs} ms`)
    kill(p, 'the deployment was restarted: another call timed out')
    return {
      status: 504,
      message: `the handler did not answer within limits.timeoutMs (${limits.timeoutMs} ms); its process was stopped`,
    }
  }

  return {
    async call(body) {
      if (stopped) return { status: 503, message: 'the deployment is stopping' }
      if (active >= limits.concurrency) {
        if (waiting.length >= limits.queue) {
          return {
            status: 503,
            message: `the deployment is busy: ${active} calls running and ${waiting.length} waiting (limits.concurrency, limits.queue)`,
          }
        }
        // A finishing call hands its slot over: `active` stays as it is.
        await new Promise<void>((go) => waiting.push(go))
      } else active++
      if (idle) clearTimeout(idle)
      try {
        return await run(body)
      } finally {
        const next = waiting.shift()
        if (next) next()
        else active--
        armIdle()
      }
    },
    load: () => ({ active, waiting: waiting.length, running: proc !== undefined }),
    async stop() {
      stopped = true
      if (idle) clearTimeout(idle)
      const p = proc
      if (p) {
        const exited = new Promise<void>((done) => p.child.once('exit', () => done()))
        kill(p, 'the deployment is stopping')
        await exited
      }
      await new Promise<void>((done) => log.end(() => done()))
    },
  }
}
