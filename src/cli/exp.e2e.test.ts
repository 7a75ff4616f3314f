import {
  appendFileSync,
  existsSync,
  lstatSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { copyFixture } from '../experiments/test-helpers/index.ts'
import { CLI, ROOT, runCli, runCommand, tempDir } from '../test-helpers/index.ts'

const LIB = pathToFileURL(join(ROOT, 'dist/src/experiments/index.js')).href

async function mlvc(cwd: string, ...args: string[]) {
  const result = await runCli(args, { cwd, env: { ...process.env, DBX_REPO: '', NO_COLOR: '1' } })
  return { ...result, json: () => JSON.parse(result.stdout) as unknown }
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('build first: npx tsc -p tsconfig.build.json')
})

describe('mlvc exp on a dbxlogger repository', () => {
  it('lists, filters, sorts, shows, compares, prints metrics and plots', async () => {
    const repo = copyFixture(tempDir('mlvc-exp'))
    const list = await mlvc(
      repo,
      '--json',
      'exp',
      'list',
      '--where',
      'lr<0.05',
      '--sort=-last(acc)',
    )
    expect(list.code).toBe(0)
    expect((list.json() as Array<{ id: string }>).map((e) => e.id)).toEqual([
      'uv89_kxzfQ0a',
      'j482_fuzxvAbC',
    ])
    const table = await mlvc(repo, 'exp', 'list', 'cifar10/', '-c', 'min(loss)')
    expect(table.stdout.trim().split('\n')).toHaveLength(3)
    expect(table.stdout).toMatch(/^id\s+name\s+kind\s+created\s+lr\s+note\s+min\(loss\)/)
    const show = await mlvc(repo, 'exp', 'show', 'fjd')
    expect(show.stdout).toContain('checkpoint.pth')
    expect(show.stdout).toMatch(/git\s+master 9fceb02d0a \+ uncommitted changes/)
    const compare = await mlvc(repo, 'exp', 'compare', 'fjd', 'uv89', '-m', 'loss')
    expect(compare.stdout).toMatch(/^\* lr\s+0\.1\s+0\.01$/m)
    expect(compare.stdout).toMatch(/^min\(loss\)\s+0\.98\s+0\.5$/m)
    const csv = await mlvc(repo, 'exp', 'metrics', 'uv89', '-e', 'train', '-k', 'loss', '--csv')
    expect(csv.stdout.trim().split('\n')).toEqual([
      'step,event,loss',
      '1,train/epoch/1/end,2.2',
      '2,train/epoch/2/end,1.3',
      '3,train/epoch/3/end,0.7',
      '4,train/epoch/4/end,0.5',
    ])
    const plot = await mlvc(
      repo,
      'exp',
      'plot',
      'fjd',
      'uv89',
      '-m',
      'train:loss',
      '-o',
      'loss.svg',
    )
    expect(plot.code).toBe(0)
    const svg = readFileSync(join(repo, 'loss.svg'), 'utf8')
    expect(svg.match(/<polyline /g)).toHaveLength(2)
    symlinkSync(join(repo, 'loss.svg'), join(repo, 'link.svg'))
    const linked = await mlvc(repo, 'exp', 'plot', 'fjd', '-m', 'train:loss', '-o', 'link.svg')
    expect(linked.code).toBe(2)
    expect(linked.stderr).toContain('link.svg is a symbolic link')
    expect(lstatSync(join(repo, 'link.svg')).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(repo, 'loss.svg'), 'utf8')).toBe(svg)
    expect((await mlvc(repo, 'exp', 'fsck')).stdout).toMatch(/^ok: 3 experiments, 2 RepoFiles/m)
  })

  it('gives one clear line naming the file for hostile input, and loses nothing', async () => {
    const repo = copyFixture(tempDir('mlvc-exp'))
    const meta = join(repo, 'j482_fuzxvAbC/meta.json')
    writeFileSync(meta, '{"id": oops')
    const list = await mlvc(repo, 'exp', 'list')
    expect(list.code).toBe(0)
    expect(list.stdout.trim().split('\n')).toHaveLength(3)
    expect(list.stderr.trim()).toMatch(new RegExp(`^warning: ${meta}: not valid JSON`))
    appendFileSync(
      join(repo, 'cifar10/simple_idea/uv89_kxzfQ0a/log.jsonl'),
      '{"event": "train/epoch/5/end", "lo',
    )
    const metrics = await mlvc(repo, 'exp', 'metrics', 'uv89', '-k', 'loss')
    expect(metrics.stdout.trim().split('\n')).toHaveLength(5)
    expect(metrics.stderr).toMatch(/uv89_kxzfQ0a\/log\.jsonl: line 5 is cut off/)
    const bad = await mlvc(repo, 'exp', 'create', '--name', '../../outside', '--no-git')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(
      /^mlvc: experiment name: "\.\.\/\.\.\/outside" is not a safe relative path/,
    )
    const fsck = await mlvc(repo, 'exp', 'fsck')
    expect(fsck.code).toBe(1)
    expect(fsck.stdout).toMatch(/^error: .*j482_fuzxvAbC\/meta\.json: not valid JSON/m)
    expect(fsck.stdout).toMatch(/^warning: .*line 5 is cut off/m)
    expect(readFileSync(meta, 'utf8')).toBe('{"id": oops')
  })
})

describe('mlvc exp on a 200,000-step run', () => {
  // Each command once overflowed the stack ("Maximum call stack size exceeded") on such a log.
  it('prints its metrics, sorts by them, checks and plots it', async () => {
    const repo = copyFixture(tempDir('mlvc-exp'))
    const lines = Array.from({ length: 200_000 }, (_, i) =>
      JSON.stringify({ event: 'train', step: i + 1, loss: 1 + 1 / (i + 1) }),
    )
    writeFileSync(join(repo, 'cifar10/simple_idea/uv89_kxzfQ0a/log.jsonl'), `${lines.join('\n')}\n`)
    const metrics = await mlvc(repo, 'exp', 'metrics', 'uv89', '-k', 'loss')
    expect(metrics.stderr).toBe('')
    expect(metrics.stdout.trim().split('\n')).toHaveLength(200_001)
    const list = await mlvc(repo, '--json', 'exp', 'list', 'cifar10/', '--sort=min(loss)')
    expect((list.json() as Array<{ id: string }>).map((e) => e.id)).toEqual([
      'fjd08ayvu_xk2',
      'uv89_kxzfQ0a',
    ])
    expect((await mlvc(repo, 'exp', 'fsck')).stdout).toMatch(/^ok: 3 experiments/m)
    const plot = await mlvc(repo, 'exp', 'plot', 'uv89', '-m', 'train:loss', '-o', 'loss.svg')
    expect(plot.stderr).toBe('')
    expect(readFileSync(join(repo, 'loss.svg'), 'utf8').match(/<polyline /g)).toHaveLength(1)
  })
})

describe('mlvc exp from shell scripts, and sync', () => {
  it('creates, logs, attaches, syncs with conflicts and deletions, fetches RepoFiles later', async () => {
    const tmp = tempDir('mlvc-exp')
    const a = join(tmp, 'a')
    expect((await mlvc(tmp, 'exp', 'init', 'a')).code).toBe(0)
    const id = (
      await mlvc(
        a,
        'exp',
        'create',
        '--name',
        'runs/sweep',
        '-p',
        'lr=0.01',
        '-p',
        'opt=adam',
        '--no-git',
      )
    ).stdout.trim()
    expect(id).toMatch(/^[_0-9a-zA-Z]{13}$/)
    for (let step = 0; step < 3; step++)
      await mlvc(a, 'exp', 'log', id, `train/step/${step}`, `loss=${1 / (step + 1)}`)
    writeFileSync(join(tmp, 'w.bin'), 'weights')
    expect(
      (await mlvc(a, 'exp', 'attach', id, join(tmp, 'w.bin'), '--name', 'model.bin')).code,
    ).toBe(0)
    const sync = await mlvc(tmp, 'exp', 'sync', 'a', 'b', '--no-repofiles')
    expect(sync.code).toBe(0)
    expect(sync.stdout).toMatch(
      /1 copied, 0 replaced, 0 deleted, 0 conflicts; RepoFiles: 0 copied \(0 B\), 1 left behind/,
    )
    const b = join(tmp, 'b')
    expect((await mlvc(b, 'exp', 'fsck')).stdout).toMatch(/^warning: .*not fetched yet/m)
    const fetched = await mlvc(b, 'exp', 'fetch')
    expect(fetched.stdout).toMatch(/1 RepoFiles fetched/)
    expect(readFileSync(join(b, 'runs/sweep', id, 'model.bin'), 'utf8')).toBe('weights')
    await mlvc(a, 'exp', 'log', id, 'on-a')
    await mlvc(b, 'exp', 'log', id, 'on-b')
    const conflict = await mlvc(tmp, 'exp', 'sync', 'a', 'b')
    expect(conflict.code).toBe(1)
    expect(conflict.stdout).toMatch(
      new RegExp(`^CONFLICT  ${id}  runs/sweep/${id}: changed on both sides`, 'm'),
    )
    expect((await mlvc(tmp, 'exp', 'sync', 'a', 'b', '--prefer', 'dst')).code).toBe(0)
    expect(readFileSync(join(a, 'runs/sweep', id, 'log.jsonl'), 'utf8')).toMatch(/on-b/)
    expect((await mlvc(b, 'exp', 'rm', id)).stdout).toMatch(`removed ${id}`)
    expect((await mlvc(tmp, 'exp', 'sync', 'b', 'a')).stdout).toMatch(
      /0 copied, 0 replaced, 1 deleted/,
    )
    expect(existsSync(join(a, 'runs'))).toBe(false)
    const gc = await mlvc(a, 'exp', 'gc', '--grace', '0')
    expect(gc.stdout).toMatch(/^removed 1 RepoFiles/)
  })

  it('pushes to and pulls from a configured remote', async () => {
    const tmp = tempDir('mlvc-exp')
    const repo = copyFixture(tmp)
    const url = pathToFileURL(join(tmp, 'remote')).href
    expect((await mlvc(repo, 'exp', 'remote', 'add', 'origin', url)).code).toBe(0)
    expect((await mlvc(repo, 'exp', 'remote')).stdout.trim()).toBe(`origin\t${url}`)
    expect((await mlvc(repo, 'exp', 'push')).stdout).toMatch(/3 copied/)
    await mlvc(tmp, 'exp', 'init', 'clone')
    const clone = join(tmp, 'clone')
    const pulled = await mlvc(clone, 'exp', 'pull', url)
    expect(pulled.stdout).toMatch(
      /3 copied, 0 replaced, 0 deleted, 0 conflicts; RepoFiles: 1 copied/,
    )
    expect((await mlvc(clone, 'exp', 'fsck')).code).toBe(0)
  })
})

describe('several processes logging into one experiment', () => {
  it('keeps every line whole and in each writer’s order', async () => {
    const tmp = tempDir('mlvc-exp')
    await mlvc(tmp, 'exp', 'init', 'r')
    const id = (await mlvc(join(tmp, 'r'), 'exp', 'create', '--no-git')).stdout.trim()
    const script = join(tmp, 'writer.mjs')
    writeFileSync(
      script,
      `import { openExpRepo, openExperiment } from ${JSON.stringify(LIB)}
const [root, id, who, n] = process.argv.slice(2)
const exp = await openExperiment(await openExpRepo(root), id)
for (let i = 0; i < Number(n); i++) {
  // every 50th line is longer than PIPE_BUF and takes the lock
  exp.log('tick', { who, i, pad: 'x'.repeat(i % 50 === 0 ? 6000 : i % 200) })
}
exp.close()
`,
    )
    const N = 1500
    const writers = ['p1', 'p2', 'p3'].map((who) =>
      runCommand(process.execPath, [script, join(tmp, 'r'), id, who, String(N)]),
    )
    const results = await Promise.all(writers)
    for (const r of results) expect(r.stderr).toBe('')
    const lines = readFileSync(join(tmp, 'r', id, 'log.jsonl'), 'utf8').split('\n')
    expect(lines.pop()).toBe('')
    expect(lines).toHaveLength(3 * N)
    const next: Record<string, number> = { p1: 0, p2: 0, p3: 0 }
    for (const line of lines) {
      const { who, i, pad } = JSON.parse(line) as { who: string; i: number; pad: string }
      expect(i).toBe(next[who])
      expect(pad.length).toBe(i % 50 === 0 ? 6000 : i % 200)
      next[who] = i + 1
    }
  })
})
