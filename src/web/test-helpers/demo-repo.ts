import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { createExperiment, initExpRepo } from '../../experiments/index.ts'
import type { GitSandbox } from '../../test-helpers/git.ts'
import { ROOT } from '../../test-helpers/index.ts'

const FIXTURES = join(ROOT, 'src/checkpoint/fixtures/merge/safetensors')

/** A safetensors file of `count` F32 tensors of 4 values each (names layers.N.{attn,mlp}.weight). */
export function manyTensors(path: string, count: number): void {
  const header: Record<string, unknown> = { __metadata__: { note: 'wide' } }
  const data = Buffer.alloc(count * 16)
  for (let i = 0; i < count; i++) {
    const name = `layers.${Math.floor(i / 2)}.${i % 2 === 0 ? 'attn' : 'mlp'}.weight`
    header[name] = { dtype: 'F32', shape: [4], data_offsets: [i * 16, i * 16 + 16] }
    for (let j = 0; j < 4; j++) data.writeFloatLE(Math.sin(i * 4 + j), i * 16 + j * 4)
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (json.length % 8)) % 8)
  const size = Buffer.alloc(8)
  size.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))
  writeFileSync(path, Buffer.concat([size, Buffer.from(json), data]))
}

/** Two runs of a dbx experiment repository in `dir`/runs, each logging `steps` losses. */
async function logRuns(dir: string, steps: number): Promise<string[]> {
  const repo = await initExpRepo(join(dir, 'runs'))
  const ids = []
  for (const [i, lr] of [0.01, 0.003].entries()) {
    const exp = await createExperiment(repo, {
      name: 'finetune',
      kind: 'train',
      params: { lr, batch: 32, optimizer: 'adamw' },
      git: false,
      cmd: ['train.py', `--lr=${lr}`],
      id: `run${i + 1}aaaaaaaaa`,
      createdAt: new Date(Date.UTC(2026, 11, 1, 10 + i)),
    })
    for (let step = 1; step <= steps; step++)
      exp.sub(`train/step/${step}`).log('end', {
        loss: 2 / (1 + step * lr * 10) + (i === 0 ? 0.05 : 0),
        acc: 1 - 1 / (1 + step * lr),
      })
    exp.logger('eval').log('eval', { acc: i === 0 ? 0.81 : 0.86 })
    exp.close()
    ids.push(exp.id)
  }
  return ids
}

async function mlvcOk(user: GitSandbox, dir: string, ...args: string[]): Promise<void> {
  const result = await user.mlvc(dir, ...args)
  expect(result.code, `mlvc ${args.join(' ')}\n${result.stderr}`).toBe(0)
}

/**
 * A dataset `faces` in two versions: 20 files, then 3 changed, 2 added and 1 removed; its data
 * pushed to the hub (the version tags go with the next git push --tags).
 */
async function commitDataset(user: GitSandbox, dir: string): Promise<void> {
  await mlvcOk(
    user,
    dir,
    'dataset',
    'init',
    'faces',
    '--category',
    'cv/faces',
    '--mutability',
    'flexible',
  )
  const folder = join(dir, 'dataset', 'faces')
  for (let i = 0; i < 20; i++)
    writeFileSync(join(folder, `img-${i}.bin`), `face ${i}\n`.repeat(50 + i))
  await mlvcOk(user, dir, 'dataset', 'add', 'faces')
  await mlvcOk(user, dir, 'dataset', 'commit', 'faces', '-m', 'faces v1')
  for (const i of [1, 2, 3]) writeFileSync(join(folder, `img-${i}.bin`), `changed ${i}\n`)
  for (const i of [20, 21]) writeFileSync(join(folder, `img-${i}.bin`), `new ${i}\n`)
  rmSync(join(folder, 'img-0.bin'))
  await mlvcOk(user, dir, 'dataset', 'add', 'faces')
  await mlvcOk(user, dir, 'dataset', 'commit', 'faces', '-m', 'faces v2')
  await mlvcOk(user, dir, 'dataset', 'push', 'faces')
}

export interface DemoRepo {
  dir: string
  /** Commit ids on main: the base model, then the fine-tune. */
  base: string
  tuned: string
  runs: string[]
}

/**
 * Pushes, with real git and mlvc, a repository with a tracked checkpoint (the committed merge
 * fixture: base, then "ours" as a fine-tune), a checkpoint of 10,000 tensors, code, and two
 * experiment runs; a branch `experiment` holds "theirs". `user` must be logged in to the hub.
 */
export async function pushDemoRepo(
  user: GitSandbox,
  options: { url: string; dir: string; steps?: number },
): Promise<DemoRepo> {
  const { dir } = options
  await user.git(join(dir, '..'), 'clone', '-q', options.url, dir)
  expect((await user.mlvc(dir, 'init')).code).toBe(0)
  expect((await user.mlvc(dir, 'track', '*.safetensors')).code).toBe(0)
  const remote = await user.mlvc(dir, 'remote', 'add', 'origin', options.url)
  expect(remote.code, remote.stderr).toBe(0)
  writeFileSync(join(dir, 'README.md'), '# models\n\nA small model and its runs.\n')
  writeFileSync(join(dir, 'train.py'), 'lr = 0.01\nepochs = 3\nprint("training")\n')
  copyFileSync(join(FIXTURES, 'base.safetensors'), join(dir, 'model.safetensors'))
  mkdirSync(join(dir, 'wide'))
  manyTensors(join(dir, 'wide', 'many.safetensors'), 10_000)
  const runs = await logRuns(dir, options.steps ?? 200)
  await user.git(dir, 'add', '.')
  await user.git(dir, 'commit', '-qm', 'Base model, a wide checkpoint and two runs')
  const push = await user.gitResult(dir, 'push', 'origin', 'HEAD:main')
  expect(push.code, push.stderr).toBe(0)
  const base = (await user.git(dir, 'rev-parse', 'HEAD')).trim()
  await commitDataset(user, dir)
  copyFileSync(join(FIXTURES, 'ours.safetensors'), join(dir, 'model.safetensors'))
  writeFileSync(join(dir, 'train.py'), 'lr = 0.003\nepochs = 5\nprint("fine-tuning")\n')
  await user.git(dir, 'commit', '-qam', 'Fine-tune the model at a lower learning rate')
  const tuned = (await user.git(dir, 'rev-parse', 'HEAD')).trim()
  const again = await user.gitResult(dir, 'push', '--tags', 'origin', 'HEAD:main')
  expect(again.code, again.stderr).toBe(0)
  await user.git(dir, 'checkout', '-qb', 'experiment', base)
  copyFileSync(join(FIXTURES, 'theirs.safetensors'), join(dir, 'model.safetensors'))
  await user.git(dir, 'commit', '-qam', 'Try another direction')
  const branch = await user.gitResult(dir, 'push', 'origin', 'HEAD:experiment')
  expect(branch.code, branch.stderr).toBe(0)
  await user.git(dir, 'checkout', '-q', 'main')
  return { dir, base, tuned, runs }
}
