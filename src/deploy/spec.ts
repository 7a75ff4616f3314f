import { parse } from 'yaml'

/**
 * The two files of the project layout (docs/deployments.md): `models/NAME/model.yaml`, a registry
 * entry, and `deployments/NAME/deployment.yaml`. Parsing never throws: it returns the spec it could
 * read and one problem per wrong field, so `validate` reports them all at once.
 */
export type Runtime = 'node' | 'python' | 'onnx'

export const RUNTIMES: readonly Runtime[] = ['node', 'python', 'onnx']

export interface TensorSpec {
  name: string
  dtype: string
  shape: Array<number | string>
}

export interface ModelSpec {
  description: string
  framework: string
  /** The model's files, relative to its folder. @default every file beside model.yaml */
  files?: string[]
  signature?: { inputs: TensorSpec[]; outputs: TensorSpec[] }
  metrics?: Record<string, number>
  lineage?: { dataset?: string; labels?: string; experiment?: string; parent?: string }
}

export interface DeploymentLimits {
  /** Time one request may take before it is answered 504. @default 10000 */
  timeoutMs: number
  /** Requests handed to the process at once; more wait in a queue. @default 4 (python: 1) */
  concurrency: number
  /** Requests that may wait; more are answered 503. @default 64 */
  queue: number
  /** Memory of the process (node: the JS heap; python: its address space). @default 256 */
  memoryMb: number
  /** The process stops after this long without a request. @default 300000 */
  idleMs: number
  /** Bytes of a request body. @default 1 MiB */
  requestBytes: number
  /** Bytes of a response. @default 4 MiB */
  responseBytes: number
}

export interface DeploymentSpec {
  runtime: Runtime
  /** The handler file, relative to the deployment's folder (none for onnx). */
  entry?: string
  /** The function the entry file exports. @default node: `default`; python: `predict` */
  function?: string
  /** Registry models it uses (names under models/). */
  models: string[]
  limits: DeploymentLimits
}

export const DEFAULT_LIMITS: DeploymentLimits = {
  timeoutMs: 10_000,
  concurrency: 4,
  queue: 64,
  memoryMb: 256,
  idleMs: 300_000,
  requestBytes: 1024 * 1024,
  responseBytes: 4 * 1024 * 1024,
}

/** One wrong field: `FILE: FIELD: MESSAGE`. */
export interface Problem {
  file: string
  field: string
  message: string
  severity: 'error' | 'warning'
}

export function problemLine(p: Problem): string {
  return `${p.severity === 'warning' ? 'warning: ' : ''}${p.file}: ${p.field}: ${p.message}`
}

interface Reader {
  file: string
  tree: Record<string, unknown>
  problems: Problem[]
}

function fail(r: Reader, field: string, message: string): undefined {
  r.problems.push({ file: r.file, field, message, severity: 'error' })
  return undefined
}

function readYaml(
  text: string,
  file: string,
  problems: Problem[],
): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = parse(text)
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err)
    problems.push({ file, field: '(file)', message: `not YAML: ${message}`, severity: 'error' })
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ file, field: '(file)', message: 'must be a YAML mapping', severity: 'error' })
    return undefined
  }
  return value as Record<string, unknown>
}

function text(r: Reader, key: string, required: boolean): string | undefined {
  const value = r.tree[key]
  if (value === undefined || value === null)
    return required ? fail(r, key, 'is required') : undefined
  if (typeof value !== 'string' || value.trim() === '')
    return fail(r, key, 'must be a non-empty string')
  return value
}

function strings(r: Reader, key: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    return fail(r, key, 'must be a list of names')
  }
  return value as string[]
}

function unknownKeys(
  r: Reader,
  prefix: string,
  value: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      r.problems.push({
        file: r.file,
        field: `${prefix}${key}`,
        message: `unknown field (known: ${known.join(', ')})`,
        severity: 'warning',
      })
    }
  }
}

function tensors(r: Reader, field: string, value: unknown): TensorSpec[] | undefined {
  if (!Array.isArray(value)) return fail(r, field, 'must be a list of { name, dtype, shape }')
  const out: TensorSpec[] = []
  for (const [i, item] of value.entries()) {
    const t = item as Partial<TensorSpec> | null
    const ok =
      typeof t === 'object' &&
      t !== null &&
      typeof t.name === 'string' &&
      typeof t.dtype === 'string' &&
      Array.isArray(t.shape) &&
      t.shape.every(
        (d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0) || typeof d === 'string',
      )
    if (!ok)
      fail(
        r,
        `${field}[${i}]`,
        'must be { name: string, dtype: string, shape: [size or axis name, …] }',
      )
    else
      out.push({
        name: t.name as string,
        dtype: t.dtype as string,
        shape: t.shape as TensorSpec['shape'],
      })
  }
  return out
}

function signature(r: Reader): ModelSpec['signature'] {
  const value = r.tree.signature
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value))
    return fail(r, 'signature', 'must be { inputs, outputs }')
  const sig = value as Record<string, unknown>
  unknownKeys(r, 'signature.', sig, ['inputs', 'outputs'])
  const inputs = tensors(r, 'signature.inputs', sig.inputs ?? [])
  const outputs = tensors(r, 'signature.outputs', sig.outputs ?? [])
  return inputs && outputs ? { inputs, outputs } : undefined
}

function metrics(r: Reader): Record<string, number> | undefined {
  const value = r.tree.metrics
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value))
    return fail(r, 'metrics', 'must map names to numbers')
  const out: Record<string, number> = {}
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(r, `metrics.${key}`, 'must be a number')
    else out[key] = v
  }
  return out
}

const LINEAGE_KEYS = ['dataset', 'labels', 'experiment', 'parent'] as const

function lineage(r: Reader): ModelSpec['lineage'] {
  const value = r.tree.lineage
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value))
    return fail(r, 'lineage', `must be a mapping of ${LINEAGE_KEYS.join(', ')}`)
  const tree = value as Record<string, unknown>
  unknownKeys(r, 'lineage.', tree, LINEAGE_KEYS)
  const out: NonNullable<ModelSpec['lineage']> = {}
  for (const key of LINEAGE_KEYS) {
    const v = tree[key]
    if (v === undefined || v === null) continue
    if (typeof v !== 'string' || v === '') fail(r, `lineage.${key}`, 'must be a non-empty string')
    else out[key] = v
  }
  return out
}

const MODEL_KEYS = ['description', 'framework', 'files', 'signature', 'metrics', 'lineage'] as const

/**
 * Reads a model.yaml: `spec` holds what could be read (undefined when the file is not a YAML
 * mapping); any error among `problems` makes the entry invalid.
 */
export function parseModelSpec(
  source: string,
  file: string,
): { spec?: ModelSpec; problems: Problem[] } {
  const problems: Problem[] = []
  const tree = readYaml(source, file, problems)
  if (!tree) return { problems }
  const r: Reader = { file, tree, problems }
  unknownKeys(r, '', tree, MODEL_KEYS)
  const description = text(r, 'description', true)
  const framework = text(r, 'framework', true)
  const files = strings(r, 'files', tree.files)
  const spec: ModelSpec = {
    description: description ?? '',
    framework: framework ?? '',
    ...(files ? { files } : {}),
  }
  const sig = signature(r)
  if (sig) spec.signature = sig
  const m = metrics(r)
  if (m) spec.metrics = m
  const l = lineage(r)
  if (l) spec.lineage = l
  return { spec, problems }
}

function limits(r: Reader, runtime: Runtime | undefined): DeploymentLimits {
  const out = {
    ...DEFAULT_LIMITS,
    concurrency: runtime === 'python' ? 1 : DEFAULT_LIMITS.concurrency,
  }
  const value = r.tree.limits
  if (value === undefined || value === null) return out
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail(r, 'limits', 'must be a mapping')
    return out
  }
  const keys = Object.keys(DEFAULT_LIMITS) as Array<keyof DeploymentLimits>
  unknownKeys(r, 'limits.', value as Record<string, unknown>, keys)
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key]
    if (v === undefined || v === null) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      fail(r, `limits.${key}`, 'must be a whole number above 0')
    else out[key] = v
  }
  return out
}

const DEPLOYMENT_KEYS = ['runtime', 'entry', 'function', 'models', 'limits'] as const

/**
 * Reads a deployment.yaml: `spec` holds what could be read, wrong limits replaced by defaults
 * (undefined without a valid runtime); any error among `problems` makes it invalid.
 */
export function parseDeploymentSpec(
  source: string,
  file: string,
): { spec?: DeploymentSpec; problems: Problem[] } {
  const problems: Problem[] = []
  const tree = readYaml(source, file, problems)
  if (!tree) return { problems }
  const r: Reader = { file, tree, problems }
  unknownKeys(r, '', tree, DEPLOYMENT_KEYS)
  const raw = text(r, 'runtime', true)
  let runtime: Runtime | undefined
  if (raw !== undefined) {
    if ((RUNTIMES as readonly string[]).includes(raw)) runtime = raw as Runtime
    else fail(r, 'runtime', `must be one of ${RUNTIMES.join(', ')}, got ${JSON.stringify(raw)}`)
  }
  const entry = text(r, 'entry', runtime === 'node' || runtime === 'python')
  if (entry !== undefined && (entry.startsWith('/') || entry.split('/').includes('..'))) {
    fail(r, 'entry', 'must be a path inside the deployment folder')
  }
  const fn = text(r, 'function', false)
  if (fn !== undefined && !/^[A-Za-z_$][\w$]*$/.test(fn))
    fail(r, 'function', 'must be an identifier')
  const models = strings(r, 'models', tree.models) ?? []
  if (runtime === 'onnx' && models.length !== 1)
    fail(r, 'models', 'an onnx deployment serves exactly one registry model')
  const lim = limits(r, runtime)
  if (!runtime) return { problems }
  return {
    spec: {
      runtime,
      ...(entry ? { entry } : {}),
      ...(fn ? { function: fn } : {}),
      models,
      limits: lim,
    },
    problems,
  }
}
