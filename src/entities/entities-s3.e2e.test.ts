import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import type { GitSandbox } from '../test-helpers/git.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { s3Team } from '../test-helpers/s3.ts'

const root = tempDir('mlvc-entities-s3')
const { ada, bob, server } = s3Team(root, 'datasets')

async function ok(user: GitSandbox, cwd: string, ...args: string[]) {
  const result = await user.mlvc(cwd, ...args)
  expect(result.code, `mlvc ${args.join(' ')}\n${result.stderr}`).toBe(0)
  return result
}

function files(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${e.name}` : e.name
    if (!prefix && (e.name === 'MANIFEST' || e.name === '.gitignore' || e.name.endsWith('.spec')))
      continue
    if (e.isDirectory()) for (const [p, d] of files(dir, path)) out.set(p, d)
    else out.set(path, readFileSync(join(dir, path)))
  }
  return out
}

describe('entities with an S3 remote (Ceph RGW)', () => {
  test('push a dataset to S3, a clone checks it out; export to a bucket prefix and import it back', async () => {
    const bare = join(root, 'shared.git')
    await ada.git(root, 'init', '-q', '--bare', bare)
    const repo = join(root, 'ada')
    await ada.git(root, 'clone', '-q', bare, repo)
    await ok(
      ada,
      repo,
      'remote',
      'add',
      'origin',
      's3://datasets/store',
      '--endpoint',
      server().endpoint,
    )
    await ada.git(repo, 'add', '.mlvc')
    await ada.git(repo, 'commit', '-qm', 'remote')
    await ok(ada, repo, 'dataset', 'init', 'scans', '--category', 'medical')
    const dir = join(repo, 'dataset/scans')
    for (let i = 0; i < 60; i++) {
      mkdirSync(join(dir, `s${i % 4}`), { recursive: true })
      writeFileSync(join(dir, `s${i % 4}/scan-${i}.raw`), pseudoRandomBytes(2000 + i * 500, 40 + i))
    }
    const original = files(dir)
    await ok(ada, repo, 'dataset', 'add', 'scans')
    await ok(ada, repo, 'dataset', 'commit', 'scans')
    await ok(ada, repo, 'dataset', 'push', 'scans')
    await ada.git(repo, 'push', '-q', '--tags', 'origin', 'HEAD:main')

    const clone = join(root, 'bob')
    await bob.git(root, 'clone', '-q', bare, clone)
    const fetched = JSON.parse(
      (await ok(bob, clone, '--json', 'dataset', 'fetch', 'medical__scans__1')).stdout,
    )
    expect(fetched).toMatchObject({ files: 60, fetchedFiles: 60 })
    await ok(bob, clone, 'dataset', 'checkout', 'scans@1')
    expect(files(join(clone, 'dataset/scans'))).toEqual(original)

    await ok(
      bob,
      clone,
      'dataset',
      'export',
      'scans',
      's3://datasets/export/scans',
      '--endpoint',
      server().endpoint,
    )
    await ok(
      bob,
      clone,
      'dataset',
      'import',
      's3://datasets/export/scans',
      'copy',
      '--endpoint',
      server().endpoint,
    )
    expect(files(join(clone, 'dataset/copy'))).toEqual(original)
  })
})
