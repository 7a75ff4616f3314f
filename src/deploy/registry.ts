import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { stringify } from 'yaml'
import { MlvcError } from '../core/index.ts'
import { git, trackedPaths, trackPatterns } from '../git/index.ts'
import { entriesUnder, filesUnder, isEntryName, MODEL_FILE, modelDir } from './layout.ts'
import { type ModelSpec, parseModelSpec } from './spec.ts'
import { commitTree, type TreeSource } from './tree.ts'

export interface RegistryModel {
  name: string
  /** Undefined when model.yaml is missing or invalid (`validate` says why). */
  spec: ModelSpec | undefined
  files: Array<{ path: string; size?: number; id?: string }>
}

function checkModelName(name: string): void {
  if (!isEntryName(name)) {
    throw new MlvcError('USAGE', `${JSON.stringify(name)} is not a model name`, {
      hint: 'a model name uses letters, digits, ".", "_" and "-"',
    })
  }
}

async function readModel(source: TreeSource, name: string): Promise<RegistryModel> {
  const files = filesUnder(await source.files(), modelDir(name))
  const yaml = await source.read(`${modelDir(name)}/${MODEL_FILE}`)
  const spec = yaml
    ? parseModelSpec(yaml.toString('utf8'), `${modelDir(name)}/${MODEL_FILE}`).spec
    : undefined
  const out: RegistryModel['files'] = []
  for (const file of files) {
    if (file.path === MODEL_FILE) continue
    const id = await source.contentId(`${modelDir(name)}/${file.path}`)
    out.push({
      path: file.path,
      ...(file.size === undefined ? {} : { size: file.size }),
      ...(id ? { id } : {}),
    })
  }
  return { name, spec, files: out }
}

/** The registry of a tree: every entry under models/. */
export async function listModels(source: TreeSource): Promise<RegistryModel[]> {
  const names = entriesUnder(await source.files(), 'models')
  return Promise.all(names.map((name) => readModel(source, name)))
}

/** One registry entry (NOT_FOUND when the tree has none by that name). */
export async function showModel(source: TreeSource, name: string): Promise<RegistryModel> {
  checkModelName(name)
  if (!entriesUnder(await source.files(), 'models').includes(name)) {
    throw new MlvcError('NOT_FOUND', `no registry model ${name} in ${source.label}`, {
      hint: 'mlvc registry list shows the models of a branch',
    })
  }
  return readModel(source, name)
}

/** `key=value` pairs: dotted keys nest (metrics.auc=0.9); numbers stay numbers under metrics. */
export function parseMeta(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new MlvcError('USAGE', `--meta ${JSON.stringify(pair)}: expected KEY=VALUE`)
    const keys = pair.slice(0, eq).split('.')
    const raw = pair.slice(eq + 1)
    let node = out
    for (const key of keys.slice(0, -1)) {
      const next = node[key]
      node[key] = typeof next === 'object' && next !== null ? next : {}
      node = node[key] as Record<string, unknown>
    }
    const value =
      keys[0] === 'metrics' && raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
    node[keys.at(-1) as string] = value
  }
  return out
}

function frameworkOf(files: readonly string[]): string {
  const ext = files.map((f) => f.slice(f.lastIndexOf('.') + 1).toLowerCase())
  if (ext.includes('onnx')) return 'onnx'
  if (ext.includes('safetensors')) return 'safetensors'
  if (ext.some((e) => e === 'pt' || e === 'pth')) return 'pytorch'
  if (ext.includes('gguf')) return 'gguf'
  return 'custom'
}

export interface AddModelInput {
  workTree: string
  name: string
  files: readonly string[]
  meta: Record<string, unknown>
}

/**
 * `mlvc registry add`: copies the files into models/NAME/, tracks them with mlvc (they are stored
 * as stubs), writes model.yaml and commits the entry on the checked-out branch. Returns the commit.
 */
export async function addModel(
  input: AddModelInput,
): Promise<{ commit: string; model: RegistryModel }> {
  const { workTree, name } = input
  checkModelName(name)
  if (input.files.length === 0)
    throw new MlvcError('USAGE', 'registry add needs at least one model file')
  const dir = modelDir(name)
  await mkdir(join(workTree, dir), { recursive: true })
  const names = input.files.map((f) => basename(f))
  for (const [i, file] of input.files.entries())
    await copyFile(file, join(workTree, dir, names[i] as string))
  const paths = names.map((n) => `${dir}/${n}`)
  const tracked = await trackedPaths(workTree, paths)
  await trackPatterns(
    workTree,
    paths.filter((p) => !tracked.has(p)).map((p) => `/${p}`),
  )
  const yamlPath = `${dir}/${MODEL_FILE}`
  // Adding to an existing entry (a retrained model) keeps its fields; --meta overrides them.
  const before = await readFile(join(workTree, yamlPath), 'utf8').then(
    (text) => parseModelSpec(text, yamlPath).spec,
    () => undefined,
  )
  const files = [...new Set([...(before?.files ?? []), ...names])]
  const spec = {
    description: name,
    framework: frameworkOf(names),
    ...before,
    ...input.meta,
    files,
  }
  const problems = parseModelSpec(stringify(spec), yamlPath).problems.filter(
    (p) => p.severity === 'error',
  )
  if (problems.length > 0) {
    throw new MlvcError(
      'BAD_SPEC',
      problems.map((p) => `${p.file}: ${p.field}: ${p.message}`).join('\n'),
    )
  }
  await writeFile(join(workTree, yamlPath), stringify(spec))
  await git(['add', '--', '.gitattributes', dir], { cwd: workTree })
  await git(['commit', '-q', '-m', `registry: add ${name}`, '--', '.gitattributes', dir], {
    cwd: workTree,
  })
  const commit = (await git(['rev-parse', 'HEAD'], { cwd: workTree })).trim()
  return { commit, model: await readModel(commitTree(workTree, commit), name) }
}

/** `mlvc registry rm NAME`: removes the entry and commits that on the checked-out branch. */
export async function removeModel(workTree: string, name: string): Promise<{ commit: string }> {
  checkModelName(name)
  const head = await commitTree(workTree, 'HEAD', 'HEAD')
  await showModel(head, name)
  await git(['rm', '-r', '-q', '--', modelDir(name)], { cwd: workTree })
  await git(['commit', '-q', '-m', `registry: remove ${name}`, '--', modelDir(name)], {
    cwd: workTree,
  })
  await rm(join(workTree, modelDir(name)), { recursive: true, force: true })
  return { commit: (await git(['rev-parse', 'HEAD'], { cwd: workTree })).trim() }
}
