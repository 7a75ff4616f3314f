import { createHash } from 'node:crypto'
import { DEPLOYMENT_FILE, dependencyFiles, deploymentDir, filesUnder, modelDir } from './layout.ts'
import { type DeploymentSpec, parseDeploymentSpec } from './spec.ts'
import type { TreeFile, TreeSource } from './tree.ts'

/** A file a version needs, where it goes in the version's folder, and what names its bytes. */
export interface VersionFile {
  /** Path in the repository. */
  path: string
  /** Path in the version's folder: the deployment's files at its root, models under models/NAME/. */
  target: string
  /** The Git blob. */
  sha: string
  /** The content id when the blob is a stub (the bytes come from the hub's store). */
  id?: string
}

/** What a deployment is made of at one commit. */
export interface DeploymentPlan {
  name: string
  spec: DeploymentSpec
  files: VersionFile[]
  /** sha-256 of the source, config, dependency files and the content ids of the models used. */
  inputsHash: string
  /** sha-256 of the runtime and its dependency files: the environment cache's key. */
  depsHash: string
}

function digest(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

async function planOne(
  source: TreeSource,
  all: readonly TreeFile[],
  name: string,
): Promise<DeploymentPlan | undefined> {
  const dir = deploymentDir(name)
  const yaml = await source.read(`${dir}/${DEPLOYMENT_FILE}`)
  if (!yaml) return undefined
  const { spec, problems } = parseDeploymentSpec(yaml.toString('utf8'), `${dir}/${DEPLOYMENT_FILE}`)
  if (!spec || problems.some((p) => p.severity === 'error')) return undefined
  const files: VersionFile[] = filesUnder(all, dir).map((f) => ({
    path: `${dir}/${f.path}`,
    target: f.path,
    sha: f.sha ?? '',
  }))
  for (const model of spec.models) {
    for (const f of filesUnder(all, modelDir(model))) {
      const path = `${modelDir(model)}/${f.path}`
      const id = await source.contentId(path)
      files.push({
        path,
        target: `models/${model}/${f.path}`,
        sha: f.sha ?? '',
        ...(id ? { id } : {}),
      })
    }
  }
  const deps = dependencyFiles(spec.runtime)
  const depLines = files.filter(
    (f) => f.target === f.path.slice(dir.length + 1) && deps.includes(f.target),
  )
  return {
    name,
    spec,
    files,
    inputsHash: digest(files.map((f) => `${f.target} ${f.id ?? f.sha}`).sort()),
    depsHash: digest([spec.runtime, ...depLines.map((f) => `${f.target} ${f.sha}`).sort()]),
  }
}

/** Every valid deployment of a tree (an invalid one is skipped: the push gate refuses those). */
export async function planDeployments(
  source: TreeSource,
  names: readonly string[],
): Promise<DeploymentPlan[]> {
  const all = await source.files()
  const plans: DeploymentPlan[] = []
  for (const name of names) {
    const plan = await planOne(source, all, name)
    if (plan) plans.push(plan)
  }
  return plans
}
