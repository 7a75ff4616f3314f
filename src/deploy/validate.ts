import { parseConfig, pushAll } from '../core/index.ts'
import {
  DEPLOYMENT_FILE,
  deploymentDir,
  entriesUnder,
  filesUnder,
  isEntryName,
  LAYOUT_FOLDERS,
  MODEL_FILE,
  modelDir,
} from './layout.ts'
import {
  type DeploymentSpec,
  type ModelSpec,
  type Problem,
  parseDeploymentSpec,
  parseModelSpec,
} from './spec.ts'
import type { TreeFile, TreeSource } from './tree.ts'

export interface ValidateReport {
  /** Errors first, then warnings, each group sorted by file. */
  problems: Problem[]
  models: string[]
  deployments: string[]
  /** `strict: true` in .mlvc/config.yaml: unknown top-level folders are errors. */
  strict: boolean
}

function error(file: string, field: string, message: string): Problem {
  return { file, field, message, severity: 'error' }
}

async function isStrict(source: TreeSource, problems: Problem[]): Promise<boolean> {
  const path = '.mlvc/config.yaml'
  const data = await source.read(path)
  if (!data) return false
  try {
    const strict = parseConfig(data.toString('utf8'), path).strict
    if (strict !== undefined && typeof strict !== 'boolean')
      problems.push(error(path, 'strict', 'must be true or false'))
    return strict === true
  } catch (err) {
    problems.push(error(path, '(file)', err instanceof Error ? err.message : String(err)))
    return false
  }
}

function checkFolders(files: readonly TreeFile[], strict: boolean): Problem[] {
  const tops = new Set(
    files.filter((f) => f.path.includes('/')).map((f) => f.path.split('/')[0] ?? ''),
  )
  return [...tops]
    .filter((top) => !top.startsWith('.') && !(LAYOUT_FOLDERS as readonly string[]).includes(top))
    .sort()
    .map((top) => ({
      file: `${top}/`,
      field: '(folder)',
      message: `not part of the layout (${LAYOUT_FOLDERS.join(', ')})${strict ? '' : '; refused with strict: true'}`,
      severity: strict ? 'error' : 'warning',
    }))
}

/** Reads and checks one model entry; its spec when model.yaml is usable. */
async function checkModel(
  source: TreeSource,
  files: readonly TreeFile[],
  name: string,
  problems: Problem[],
): Promise<ModelSpec | undefined> {
  const dir = modelDir(name)
  const yamlPath = `${dir}/${MODEL_FILE}`
  if (!isEntryName(name))
    problems.push(error(`${dir}/`, '(name)', 'a model name uses letters, digits, ".", "_" and "-"'))
  const data = await source.read(yamlPath)
  if (!data) {
    problems.push(
      error(
        yamlPath,
        '(file)',
        'missing: every folder under models/ is a registry entry with a model.yaml',
      ),
    )
    return undefined
  }
  const { spec, problems: found } = parseModelSpec(data.toString('utf8'), yamlPath)
  pushAll(problems, found)
  if (!spec) return undefined
  const own = filesUnder(files, dir).map((f) => f.path)
  const modelFiles = spec.files ?? own.filter((p) => p !== MODEL_FILE)
  for (const file of spec.files ?? []) {
    if (!own.includes(file)) problems.push(error(yamlPath, 'files', `${file} is not in ${dir}/`))
  }
  const present = modelFiles.filter((f) => own.includes(f)).map((f) => `${dir}/${f}`)
  const tracked = await source.tracked(present)
  for (const path of present) {
    if (!tracked.has(path)) {
      problems.push(
        error(
          path,
          '(file)',
          `is not stored by mlvc (committed raw): run \`mlvc track ${path}\`, then git add it again`,
        ),
      )
    }
  }
  if (modelFiles.length === 0)
    problems.push(error(yamlPath, 'files', `${dir}/ holds no model file`))
  for (const key of ['dataset', 'labels'] as const) {
    const tag = spec.lineage?.[key]
    if (tag !== undefined && !(await source.hasTag(tag))) {
      problems.push(error(yamlPath, `lineage.${key}`, `no tag ${tag} in the repository`))
    }
  }
  return spec
}

async function checkDeployment(
  source: TreeSource,
  files: readonly TreeFile[],
  name: string,
  models: ReadonlyMap<string, ModelSpec | undefined>,
  problems: Problem[],
): Promise<DeploymentSpec | undefined> {
  const dir = deploymentDir(name)
  const yamlPath = `${dir}/${DEPLOYMENT_FILE}`
  if (!isEntryName(name))
    problems.push(
      error(`${dir}/`, '(name)', 'a deployment name uses letters, digits, ".", "_" and "-"'),
    )
  const data = await source.read(yamlPath)
  if (!data) {
    problems.push(
      error(yamlPath, '(file)', 'missing: every folder under deployments/ needs a deployment.yaml'),
    )
    return undefined
  }
  const { spec, problems: found } = parseDeploymentSpec(data.toString('utf8'), yamlPath)
  pushAll(problems, found)
  if (!spec) return undefined
  const own = filesUnder(files, dir).map((f) => f.path)
  if (spec.entry && !own.includes(spec.entry))
    problems.push(error(yamlPath, 'entry', `${dir}/${spec.entry} does not exist`))
  for (const model of spec.models) {
    if (!models.has(model))
      problems.push(
        error(yamlPath, 'models', `no registry model ${model} (models/${model}/model.yaml)`),
      )
  }
  if (spec.runtime === 'onnx') {
    const model = spec.models[0] ?? ''
    const onnx = filesUnder(files, modelDir(model)).filter((f) => f.path.endsWith('.onnx'))
    if (models.has(model) && onnx.length !== 1) {
      problems.push(
        error(
          yamlPath,
          'models',
          `models/${model}/ must hold exactly one .onnx file for the onnx runtime`,
        ),
      )
    }
  }
  if (spec.runtime === 'node' && own.includes('package.json')) {
    const pkg = await source.read(`${dir}/package.json`)
    try {
      JSON.parse(pkg?.toString('utf8') ?? '')
    } catch {
      problems.push(error(`${dir}/package.json`, '(file)', 'is not JSON'))
    }
  }
  return spec
}

function ordered(problems: Problem[]): Problem[] {
  const rank = (p: Problem) => (p.severity === 'error' ? 0 : 1)
  return problems.sort((a, b) => rank(a) - rank(b) || a.file.localeCompare(b.file))
}

/**
 * Checks the project layout of a tree (docs/deployments.md): the top-level folders, every
 * model.yaml and deployment.yaml, entry points, registry references, that model files are stored
 * by mlvc, and lineage tags. The hub runs the same check on every pushed branch.
 */
export async function validateTree(source: TreeSource): Promise<ValidateReport> {
  const problems: Problem[] = []
  const files = await source.files()
  const strict = await isStrict(source, problems)
  pushAll(problems, checkFolders(files, strict))
  const modelNames = entriesUnder(files, 'models')
  const models = new Map<string, ModelSpec | undefined>()
  for (const name of modelNames) models.set(name, await checkModel(source, files, name, problems))
  for (const [name, spec] of models) {
    const parent = spec?.lineage?.parent
    if (parent !== undefined && !models.has(parent) && parent !== name) {
      problems.push({
        file: `${modelDir(name)}/${MODEL_FILE}`,
        field: 'lineage.parent',
        message: `no registry model ${parent} on this branch`,
        severity: 'warning',
      })
    }
  }
  const deployments = entriesUnder(files, 'deployments')
  for (const name of deployments) await checkDeployment(source, files, name, models, problems)
  return { problems: ordered(problems), models: modelNames, deployments, strict }
}

export function hasErrors(report: ValidateReport): boolean {
  return report.problems.some((p) => p.severity === 'error')
}
