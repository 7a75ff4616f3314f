import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/**
 * The child process of a `node` or `onnx` version (runner.ts forks it with the version's folder as
 * its working directory): loads the handler once, then answers calls sent over IPC in batches,
 * `{ calls: [{ id, body }…] }` → `{ replies: [{ id, ok, json } or { id, ok: false, kind,
 * message }…] }` (the answers of one turn of the event loop together). A handler's return value
 * is serialized here, so a value that is not JSON is reported, never sent half-way.
 */
type Handler = (input: unknown, context: { modelsDir: string }) => unknown

interface Call {
  id: number
  body: string
}

const env = process.env
const responseBytes = Number(env.MLVC_RESPONSE_BYTES ?? 0)
const context = { modelsDir: env.MLVC_MODELS ?? 'models' }

function send(message: unknown): void {
  process.send?.(message)
}

let replies: unknown[] = []

function flushReplies(): void {
  const batch = replies
  replies = []
  send({ replies: batch })
}

/** A call's answer, sent with the others of this turn of the event loop. */
function reply(message: unknown): void {
  if (replies.push(message) === 1) setImmediate(flushReplies)
}

interface TensorJson {
  dims: number[]
  data: number[]
  type?: string
}

/** The onnx runtime: the one .onnx file of the version's model, named tensors in and out. */
async function onnxHandler(path: string): Promise<Handler> {
  const ort = await import('onnxruntime-web')
  ort.env.wasm.numThreads = 1
  const session = await ort.InferenceSession.create(readFileSync(path))
  return async (input) => {
    const tensors = (input as { inputs?: Record<string, TensorJson> }).inputs
    if (typeof tensors !== 'object' || tensors === null) {
      throw new Error(
        `send { "inputs": { NAME: { "dims": [...], "data": [...] } } } for inputs ${session.inputNames.join(', ')}`,
      )
    }
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {}
    for (const [name, t] of Object.entries(tensors)) {
      const type = t.type ?? 'float32'
      if (type !== 'float32')
        throw new Error(`input ${name}: only float32 tensors are accepted, got ${type}`)
      feeds[name] = new ort.Tensor('float32', Float32Array.from(t.data), t.dims)
    }
    const results = await session.run(feeds)
    const outputs: Record<string, TensorJson> = {}
    for (const [name, t] of Object.entries(results)) {
      outputs[name] = { type: t.type, dims: [...t.dims], data: Array.from(t.data as Float32Array) }
    }
    return { outputs }
  }
}

async function loadHandler(): Promise<Handler> {
  if (env.MLVC_RUNTIME === 'onnx') return onnxHandler(env.MLVC_ENTRY ?? '')
  const entry = env.MLVC_ENTRY ?? ''
  const name = env.MLVC_FUNCTION || 'default'
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>
  const fn = mod[name]
  if (typeof fn !== 'function')
    throw new Error(`${env.MLVC_ENTRY_NAME ?? entry} exports no function "${name}"`)
  return fn as Handler
}

async function answer(handler: Handler, call: Call): Promise<void> {
  let value: unknown
  try {
    value = await handler(JSON.parse(call.body), context)
  } catch (err) {
    reply({
      id: call.id,
      ok: false,
      kind: 'throw',
      message: err instanceof Error ? err.message : String(err),
    })
    return
  }
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    const message = `returned a value that is not JSON (${err instanceof Error ? err.message : String(err)})`
    reply({ id: call.id, ok: false, kind: 'output', message })
    return
  }
  if (json === undefined) {
    reply({
      id: call.id,
      ok: false,
      kind: 'output',
      message: `returned ${typeof value}, which is not JSON`,
    })
  } else if (responseBytes > 0 && Buffer.byteLength(json) > responseBytes) {
    const message = `returned ${Buffer.byteLength(json)} bytes of JSON, more than limits.responseBytes (${responseBytes})`
    reply({ id: call.id, ok: false, kind: 'output', message })
  } else reply({ id: call.id, ok: true, json })
}

process.on('unhandledRejection', (err) => {
  console.error('unhandled rejection:', err)
})

loadHandler().then(
  (handler) => {
    process.on('message', (batch: { calls: Call[] }) => {
      for (const call of batch.calls) void answer(handler, call)
    })
    send({ type: 'ready' })
  },
  (err: unknown) => {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) })
    process.disconnect?.()
    process.exitCode = 1
  },
)
