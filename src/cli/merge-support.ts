import { readdir } from 'node:fs/promises'
import { join, posix } from 'node:path'
import {
  checkpointStubLines,
  describeStrategy,
  type MergeOutcome,
  mergeCheckpoints,
  parseStrategy,
  type StrategySpec,
} from '../checkpoint/index.ts'
import { configString, configValue, MlvcError } from '../core/index.ts'
import { readOnnxExternalFiles } from '../formats/index.ts'
import { formatStub, git, readStub, type Stub } from '../git/index.ts'
import { fetchObjects } from '../remote/index.ts'
import { isComplete, type Store } from '../store/index.ts'
import type { Io } from './io.ts'
import { openTerminal } from './prompt.ts'
import { freshConfig, type GitContext, openConfiguredRemote } from './repo.ts'
import { quote } from './text.ts'

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`)
}

/**
 * How a tensor changed differently on both sides is merged, most specific rule first:
 *  1. `merge.tensors` in .mlvc/config.yaml — tensor-name patterns (`"*.bias": ours`);
 *  2. this merge's choice: `mlvc merge --strategy` / `mlvc resolve --strategy` / MLVC_MERGE_STRATEGY;
 *  3. the path's `mlvc-merge` attribute in .gitattributes (`*.safetensors mlvc-merge=average`);
 *  4. `merge.strategy` in config;
 *  5. `fail`: a conflict.
 */
export async function strategyChooser(
  ctx: GitContext,
  path: string,
  override?: string,
): Promise<(tensor: string) => StrategySpec> {
  const tree = await freshConfig(ctx)
  const rules = configValue(tree, 'merge.tensors')
  const patterns: Array<[RegExp, StrategySpec]> = []
  if (rules && typeof rules === 'object' && !Array.isArray(rules)) {
    for (const [glob, value] of Object.entries(rules)) {
      patterns.push([
        globToRegExp(glob),
        parseStrategy(String(value), `merge.tensors "${glob}" in config`),
      ])
    }
  }
  const chosen = override ?? process.env.MLVC_MERGE_STRATEGY
  const attr = (await git(['check-attr', 'mlvc-merge', '--', path], { cwd: ctx.workTree }))
    .trim()
    .split(': ')
    .at(-1)
  const fallback = chosen
    ? parseStrategy(chosen, override ? '--strategy' : 'MLVC_MERGE_STRATEGY')
    : attr && attr !== 'unspecified' && attr !== 'unset' && attr !== 'set'
      ? parseStrategy(attr, `mlvc-merge attribute of ${path}`)
      : parseStrategy(configString(tree, 'merge.strategy') ?? 'fail', 'merge.strategy in config')
  return (tensor) => patterns.find(([re]) => re.test(tensor))?.[1] ?? fallback
}

/** Fetches the versions the store lacks from the default remote; throws naming what is missing. */
async function ensureLocal(
  ctx: GitContext,
  store: Store,
  stubs: Record<string, Stub>,
  path: string,
  io: Io,
): Promise<void> {
  const ids = Object.values(stubs).map((s) => s.id)
  const missing: string[] = []
  for (const id of ids) if (!(await isComplete(store, id))) missing.push(id)
  if (missing.length === 0) return
  try {
    await fetchObjects(store, await openConfiguredRemote(ctx), missing, { signal: io.signal })
  } catch (err) {
    io.warn(`mlvc: could not fetch the versions of ${quote(path)}: ${(err as Error).message}`)
  }
  for (const [side, stub] of Object.entries(stubs)) {
    if (!(await isComplete(store, stub.id))) {
      throw new MlvcError(
        'MISSING_OBJECT',
        `${path}: the ${side} version (${stub.id}) is not in the local store or on the remote`,
        {
          hint: 'fetch it (mlvc fetch --all), then run mlvc resolve',
        },
      )
    }
  }
}

export type MergeReport =
  | { kind: 'merged'; stub: string; outcome: MergeOutcome }
  /** `together`: files (work-tree paths) of which only one side of all can be taken. */
  | { kind: 'conflict'; lines: string[]; together?: string[] | undefined }

/** Merges three stubs of a checkpoint; returns the merged stub or the conflict report. */
export async function mergeStubs(
  ctx: GitContext,
  store: Store,
  stubs: { base: Stub; ours: Stub; theirs: Stub },
  path: string,
  io: Io,
  override?: string,
): Promise<MergeReport> {
  await ensureLocal(ctx, store, stubs, path, io)
  const chooser = await strategyChooser(ctx, path, override)
  const answers = new Map<string, StrategySpec>()
  const choose = (tensor: string) => answers.get(tensor) ?? chooser(tensor)
  const input = {
    base: stubs.base.id,
    ours: stubs.ours.id,
    theirs: stubs.theirs.id,
    path,
    choose,
    signal: io.signal,
  }
  let outcome = await mergeCheckpoints(store, input)
  if (outcome.conflicts.length > 0 && process.env.MLVC_MERGE_INTERACTIVE === '1') {
    if (askStrategies(path, outcome, answers)) outcome = await mergeCheckpoints(store, input)
  }
  if (outcome.conflicts.length > 0 || !outcome.result) {
    const lines = outcome.conflicts.map(
      (c) => `  ${c.name === '*' ? '(file)' : quote(c.name)}: ${c.why}`,
    )
    const together = outcome.external && [
      path,
      ...outcome.external.map((f) => posix.join(posix.dirname(path), f)),
    ]
    return { kind: 'conflict', lines, together }
  }
  await store.commit()
  const { id, size, sha256, meta } = outcome.result
  return {
    kind: 'merged',
    stub: formatStub({ id, size, sha256, extra: checkpointStubLines(meta) }),
    outcome,
  }
}

const ANSWERS: Record<string, string> = {
  o: 'ours',
  t: 'theirs',
  b: 'base',
  a: 'average',
  r: 'task-arithmetic',
  i: 'ties',
  f: 'fail',
}

/**
 * `mlvc merge --interactive`: asks, on the terminal, for a strategy for each tensor changed on
 * both sides. Returns false when there is no terminal or nothing to ask.
 */
function askStrategies(
  path: string,
  outcome: MergeOutcome,
  answers: Map<string, StrategySpec>,
): boolean {
  const open = outcome.conflicts.filter((c) => c.why === 'changed on both sides')
  if (open.length === 0) return false
  const terminal = openTerminal()
  if (!terminal) return false
  try {
    for (const conflict of open) {
      for (;;) {
        const reply = terminal.ask(
          `${quote(path)}: ${quote(conflict.name)} changed on both sides. [o]urs [t]heirs [b]ase [a]verage task-a[r]ithmetic t[i]es [f]ail (or a spec like average:weights=3/1)? `,
        )
        const text = ANSWERS[reply] ?? reply
        try {
          answers.set(conflict.name, parseStrategy(text, 'your answer'))
          break
        } catch (err) {
          terminal.ask(`${(err as Error).message}; press Enter to try again `)
        }
      }
    }
  } finally {
    terminal.close()
  }
  return true
}

export function summarize(outcome: MergeOutcome): string {
  const counts = new Map<string, number>()
  for (const d of outcome.decisions) {
    const label =
      d.action === 'merge'
        ? describeStrategy(d.spec)
        : d.action === 'take'
          ? d.why === 'same on both sides'
            ? 'unchanged'
            : `from ${d.side}`
          : d.action
    counts.set(label, (counts.get(label) ?? 0) + 1)
  }
  return [...counts].map(([label, n]) => `${n} ${label}`).join(', ')
}

/**
 * When `path` (work-tree relative) is the external data of ONNX models in the work tree: those
 * models and every external file they use, `path` included, sorted; else an empty list. ONNX
 * locations never contain '..', so the models are in `path`'s folder or one above it.
 */
export async function externalDataGroup(workTree: string, path: string): Promise<string[]> {
  const group = new Set<string>()
  let dir = posix.dirname(path)
  for (;;) {
    let names: string[] = []
    try {
      names = await readdir(join(workTree, dir))
    } catch {}
    for (const name of names.filter((n) => n.endsWith('.onnx'))) {
      const model = posix.join(dir, name)
      const files = await readOnnxExternalFiles(join(workTree, model)).catch(() => [])
      const paths = files.map((f) => posix.join(dir, f))
      if (!paths.includes(path)) continue
      group.add(model)
      for (const p of paths) group.add(p)
    }
    if (dir === '.') break
    dir = posix.dirname(dir)
  }
  return [...group].sort()
}

/** Why a file of an externalDataGroup is not merged. */
export function externalDataReason(group: readonly string[]): string {
  const models = group.filter((f) => f.endsWith('.onnx')).join(', ')
  return `it holds tensors of ${models} (ONNX external data), which mlvc does not merge tensor by tensor`
}

/** `text` as one word for a POSIX shell: single-quoted, its own quotes closed and escaped. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

/** For an ONNX model and its external data: only one side of all the files is consistent. */
export function keepOneSide(files: readonly string[]): string {
  const quoted = files.map(shellQuote).join(' ')
  return `keep one side of all of them: git checkout --theirs -- ${quoted} && git add ${quoted}   (or --ours)`
}

export type Side = 'base' | 'ours' | 'theirs'

/** Each side's stub; a side that is not a stub is undefined. */
export type SideStubs = Record<Side, Stub | undefined>

/**
 * Reads the three sides of a merge as stubs. Throws BAD_STUB when a side is an unusable stub
 * (malformed, or from a newer mlvc), naming the side ("their side: malformed mlvc stub (…)").
 */
export function readSides(texts: Record<Side, Buffer>): SideStubs {
  const label = { base: 'the merge base', ours: 'our side', theirs: 'their side' } as const
  const sides = {} as SideStubs
  for (const side of ['ours', 'theirs', 'base'] as const) {
    const reading = readStub(texts[side], label[side])
    if (reading && 'problem' in reading)
      throw new MlvcError('BAD_STUB', reading.problem.message, { hint: reading.problem.hint })
    sides[side] = reading?.stub
  }
  return sides
}
