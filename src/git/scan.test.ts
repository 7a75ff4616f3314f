import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { tempDir } from '../test-helpers/index.ts'
import { historyBlobs } from './scan.ts'

const root = tempDir('mlvc-scan')
const user = gitSandbox(root, 'ada')

describe('historyBlobs', () => {
  it('takes 100,000 revisions (a push of 100,000 tags) without exceeding the command line', async () => {
    const dir = join(root, 'repo')
    await user.git(root, 'init', '-q', dir)
    writeFileSync(join(dir, 'a.txt'), 'a\n')
    await user.git(dir, 'add', 'a.txt')
    await user.git(dir, 'commit', '-qm', 'a')
    const first = (await user.git(dir, 'rev-parse', 'HEAD')).trim()
    writeFileSync(join(dir, 'b.txt'), 'b\n')
    await user.git(dir, 'add', 'b.txt')
    await user.git(dir, 'commit', '-qm', 'b')
    const head = (await user.git(dir, 'rev-parse', 'HEAD')).trim()
    // 100,000 × 41 bytes is twice Linux's usual 2 MiB limit for a command line.
    const revs = Array.from({ length: 100_000 }, () => head)
    const all = await historyBlobs(dir, { revs })
    expect(all.map((b) => b.path).sort()).toEqual(['a.txt', 'b.txt'])
    const since = await historyBlobs(dir, { revs: [...revs, `^${first}`] })
    expect(since.map((b) => b.path)).toEqual(['b.txt'])
    const notFirst = await historyBlobs(dir, { revs: [head], options: ['--not', first] })
    expect(notFirst.map((b) => b.path)).toEqual(['b.txt'])
    expect(await historyBlobs(dir, {})).toEqual([])
    await expect(historyBlobs(dir, { revs: ['--all'] })).rejects.toThrow(/not a revision/)
  })
})
