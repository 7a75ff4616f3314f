import { resolve } from 'node:path'
import {
  addModel,
  commitTree,
  listModels,
  parseMeta,
  promoteModel,
  type RegistryModel,
  removeModel,
  resolveCommit,
  showModel,
} from '../../deploy/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { formatBytes } from '../io.ts'
import { requireGit } from '../repo.ts'

async function branchSource(io: Io, branch: string | undefined) {
  const ctx = requireGit(await repoContext(io.cwd))
  const rev = branch ?? 'HEAD'
  return { ctx, source: commitTree(ctx.workTree, await resolveCommit(ctx.workTree, rev), rev) }
}

function modelLine(model: RegistryModel): string {
  const size = model.files.reduce((sum, f) => sum + (f.size ?? 0), 0)
  const about = model.spec
    ? `${model.spec.framework}  ${model.spec.description}`
    : '(invalid model.yaml: run mlvc validate)'
  return `${model.name}  ${model.files.length} file(s)  ${formatBytes(size)} in Git  ${about}`
}

/** `mlvc registry list [--branch B]`: the models of a branch, read without checking it out. */
export async function registryList(
  io: Io,
  _operands: [],
  options: { branch?: string },
): Promise<CommandResult> {
  const { source } = await branchSource(io, options.branch)
  const models = await listModels(source)
  return {
    data: { branch: source.label, models },
    text:
      models.length === 0
        ? `no registry models in ${source.label}`
        : models.map(modelLine).join('\n'),
  }
}

/** `mlvc registry show NAME [--branch B]`. */
export async function registryShow(
  io: Io,
  [name]: [string],
  options: { branch?: string },
): Promise<CommandResult> {
  const { source } = await branchSource(io, options.branch)
  const model = await showModel(source, name)
  const lines = [
    `${model.name} (${source.label})`,
    ...(model.spec
      ? [
          `  description: ${model.spec.description}`,
          `  framework: ${model.spec.framework}`,
          ...Object.entries(model.spec.metrics ?? {}).map(([k, v]) => `  metric ${k}: ${v}`),
          ...Object.entries(model.spec.lineage ?? {}).map(([k, v]) => `  lineage ${k}: ${v}`),
        ]
      : ['  (invalid model.yaml: run mlvc validate)']),
    ...model.files.map((f) => `  ${f.path}${f.id ? `  ${f.id}` : '  (raw in Git)'}`),
  ]
  return { data: { branch: source.label, ...model }, text: lines.join('\n') }
}

/** `mlvc registry add NAME FILE… [--meta k=v]…`: writes the entry and commits it. */
export async function registryAdd(
  io: Io,
  [name, files]: [string, string[]],
  options: { meta?: string[] },
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const { commit, model } = await addModel({
    workTree: ctx.workTree,
    name,
    files: files.map((f) => resolve(io.cwd, f)),
    meta: parseMeta(options.meta ?? []),
  })
  return {
    data: { commit, ...model },
    text: `added ${name} to the registry (commit ${commit.slice(0, 12)})`,
  }
}

/** `mlvc registry rm NAME`: removes the entry and commits that. */
export async function registryRm(io: Io, [name]: [string]): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const { commit } = await removeModel(ctx.workTree, name)
  return {
    data: { name, commit },
    text: `removed ${name} from the registry (commit ${commit.slice(0, 12)})`,
  }
}

/** `mlvc registry promote NAME --from A --to B`: a commit on B that copies A's entry. */
export async function registryPromote(
  io: Io,
  [name]: [string],
  options: { from: string; to: string },
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const result = await promoteModel({ cwd: ctx.workTree, name, from: options.from, to: options.to })
  return {
    data: result,
    text: result.commit
      ? `promoted ${name} from ${options.from} to ${options.to} (commit ${result.commit.slice(0, 12)})`
      : `${options.to} already has ${name} as on ${options.from}: nothing to commit`,
  }
}
