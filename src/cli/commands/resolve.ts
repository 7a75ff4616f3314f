import { spawn } from 'node:child_process'
import { tensorDeltas } from '../../checkpoint/index.ts'
import { checkNoLinkedParents, checkWriteTarget, MlvcError } from '../../core/index.ts'
import {
  fileIdentity,
  git,
  openStatCache,
  parseStub,
  readObjects,
  recheckInIndex,
  statEntry,
} from '../../git/index.ts'
import { materialize } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import {
  externalDataGroup,
  externalDataReason,
  keepOneSide,
  mergeStubs,
  summarize,
} from '../merge-support.ts'
import { requireGit } from '../repo.ts'
import { quote } from '../text.ts'

/**
 * Finishes a conflicted merge of a checkpoint: merges the index's three stages with the given
 * strategy, stages the result and writes it into the work tree.
 */
export async function resolve(path: string, strategy: string, io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const stages = new Map<string, { mode: string; sha: string }>()
  for (const line of (await git(['ls-files', '-u', '-z', '--', path], { cwd: ctx.workTree })).split(
    '\0',
  )) {
    const match = /^(\d+) ([0-9a-f]+) ([123])\t/.exec(line)
    if (match) stages.set(match[3] as string, { mode: match[1] as string, sha: match[2] as string })
  }
  if (stages.size < 3) {
    throw new MlvcError(
      'USAGE',
      `${path} is not in a conflicted merge with a base, ours and theirs`,
      {
        hint: 'mlvc resolve works during a merge that stopped on this file (git status shows it)',
      },
    )
  }
  // Checked before the merge's work as well as when the file is written.
  const abs = `${ctx.workTree}/${path}`
  checkNoLinkedParents(ctx.workTree, path)
  checkWriteTarget(abs, 'file')
  const blobs = await readObjects(
    ctx.workTree,
    [...stages.values()].map((s) => s.sha),
  )
  const stub = (stage: string, side: string) => {
    const parsed = parseStub(
      blobs.get(stages.get(stage)?.sha ?? '') ?? Buffer.alloc(0),
      `${path} (${side})`,
    )
    if (!parsed) throw new MlvcError('USAGE', `${path}: the ${side} version is not stored by mlvc`)
    return parsed
  }
  const stubs = { base: stub('1', 'base'), ours: stub('2', 'ours'), theirs: stub('3', 'theirs') }
  if (!stubs.ours.extra || !stubs.theirs.extra) {
    const group = await externalDataGroup(ctx.workTree, path)
    if (group.length > 0) {
      throw new MlvcError('USAGE', `${path}: ${externalDataReason(group)}`, {
        hint: keepOneSide(group),
      })
    }
  }
  const result = await withRepoStore(ctx, async (store) => {
    const report = await mergeStubs(ctx, store, stubs, path, io, strategy)
    if (report.kind === 'conflict') {
      throw new MlvcError(
        'USAGE',
        `${path}: still conflicts with ${strategy}:\n${report.lines.join('\n')}`,
        {
          hint: report.together
            ? keepOneSide(report.together)
            : 'choose another strategy, or keep one side with git checkout --ours/--theirs',
        },
      )
    }
    const merged = parseStub(Buffer.from(report.stub), path)
    if (!merged) throw new Error('merged stub does not parse')
    await materialize(store, merged.id, abs, {
      deltas: tensorDeltas(),
      signal: io.signal,
      onProgress: io.onProgress,
    })
    const cache = await openStatCache(ctx.git.gitDir)
    const identity = await fileIdentity(abs)
    if (identity)
      cache.set(path, { ...statEntry(identity, merged.sha256, report.stub), racy: false })
    await cache.save()
    return { stub: report.stub, summary: summarize(report.outcome) }
  })
  const sha = (
    await git(['hash-object', '-w', '--no-filters', '--stdin'], {
      cwd: ctx.workTree,
      input: result.stub,
    })
  ).trim()
  const mode = stages.get('2')?.mode ?? '100644'
  await git(['update-index', '--cacheinfo', `${mode},${sha},${path}`], { cwd: ctx.workTree })
  await recheckInIndex(ctx.workTree, [path])
  return {
    data: { path, strategy, summary: result.summary },
    text: `resolved ${quote(path)}: ${result.summary}`,
  }
}

/**
 * `git merge` with a strategy for the checkpoints' tensors changed on both sides, or asking for
 * one on the terminal (--interactive; the merge driver reads /dev/tty, as git owns stdin).
 */
export async function merge(
  args: string[],
  strategy: string | undefined,
  interactive: boolean,
  io: Io,
): Promise<CommandResult> {
  const env = { ...process.env }
  if (strategy) env.MLVC_MERGE_STRATEGY = strategy
  if (interactive) env.MLVC_MERGE_INTERACTIVE = '1'
  const code = await new Promise<number>((done, fail) => {
    const child = spawn('git', ['merge', ...args], { cwd: io.cwd, env, stdio: 'inherit' })
    child.on('error', fail)
    child.on('close', (c) => done(c ?? 1))
  })
  return { data: { exitCode: code }, text: '', exitCode: code }
}
