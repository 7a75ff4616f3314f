import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { tempDir } from '../test-helpers/index.ts'
import { recheckInIndex } from './worktree.ts'

const root = tempDir('mlvc-worktree')
const user = gitSandbox(root, 'ada')

/** The size git's index records for a path (0 once its stat data is cleared). */
async function indexedSize(dir: string, path: string): Promise<number> {
  const debug = await user.git(dir, 'ls-files', '--debug', '--', path)
  return Number(/size: (\d+)/.exec(debug)?.[1])
}

describe('recheckInIndex', () => {
  it('clears the stat data of exactly the given paths, 100,000 of them at once', async () => {
    const dir = join(root, 'repo')
    await user.git(root, 'init', '-q', dir)
    for (const name of ['model.bin', 'm*.bin', 'other.bin'])
      writeFileSync(join(dir, name), 'data\n')
    await user.git(dir, 'add', '.')
    // Paths that are not in the index count for nothing, but used to be pathspecs on one command
    // line: 100,000 × 60 bytes is three times Linux's usual 2 MiB limit.
    const absent = Array.from(
      { length: 100_000 },
      (_, i) => `absent/${String(i).padStart(52, '0')}`,
    )
    await recheckInIndex(dir, [...absent, 'm*.bin'])
    expect(await indexedSize(dir, 'm*.bin')).toBe(0)
    // "m*.bin" as a pathspec would have matched model.bin too.
    expect(await indexedSize(dir, 'model.bin')).toBe(5)
    expect(await indexedSize(dir, 'other.bin')).toBe(5)
    expect(await user.git(dir, 'status', '--porcelain')).toBe(
      'A  m*.bin\nA  model.bin\nA  other.bin\n',
    )
  })
})
