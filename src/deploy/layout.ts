import type { TreeFile } from './tree.ts'

/**
 * Top-level folders of the layout (docs/deployments.md): the registry, deployments, the entity
 * folders of `mlvc dataset|labels|model` and an experiments repository. Hidden folders are never
 * checked.
 */
export const LAYOUT_FOLDERS = [
  'models',
  'deployments',
  'dataset',
  'datasets',
  'labels',
  'model',
  'experiments',
] as const

export const MODEL_FILE = 'model.yaml'
export const DEPLOYMENT_FILE = 'deployment.yaml'

/** Registry and deployment names: letters, digits, `.`, `_`, `-` (they appear in URLs). */
export function isEntryName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)
}

export function modelDir(name: string): string {
  return `models/${name}`
}

export function deploymentDir(name: string): string {
  return `deployments/${name}`
}

/** The names of the folders directly under `top/` (models, deployments), sorted. */
export function entriesUnder(files: readonly TreeFile[], top: string): string[] {
  const names = new Set<string>()
  for (const { path } of files) {
    const parts = path.split('/')
    if (parts[0] === top && parts.length >= 3 && parts[1]) names.add(parts[1])
  }
  return [...names].sort()
}

/** The files under a folder, relative to it. */
export function filesUnder(files: readonly TreeFile[], dir: string): TreeFile[] {
  const prefix = `${dir}/`
  return files
    .filter((f) => f.path.startsWith(prefix))
    .map((f) => ({ ...f, path: f.path.slice(prefix.length) }))
}

/** The dependency file of each runtime (its hash keys the environment cache). */
export function dependencyFiles(runtime: string): string[] {
  switch (runtime) {
    case 'node':
      return ['package.json', 'package-lock.json']
    case 'python':
      return ['requirements.txt']
    default:
      return []
  }
}
