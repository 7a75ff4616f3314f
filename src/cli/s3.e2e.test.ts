import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { s3Team } from '../test-helpers/s3.ts'

const MiB = 1024 * 1024
const root = tempDir('mlvc-s3-git')
const { ada, bob, server } = s3Team(root, 'team-models')

describe('git with an encrypted S3 remote', () => {
  test('ada pushes, bob clones: without the key one clear line, with it every byte', async () => {
    const repo = join(root, 'ada-repo')
    const bare = join(root, 'shared.git')
    await ada.git(root, 'init', '-q', '--bare', bare)
    await ada.git(root, 'clone', '-q', bare, repo)
    expect((await ada.mlvc(repo, 'init')).code).toBe(0)
    expect((await ada.mlvc(repo, 'track', '*.bin')).code).toBe(0)
    const add = await ada.mlvc(
      repo,
      'remote',
      'add',
      'origin',
      's3://team-models/project-x',
      '--endpoint',
      server().endpoint,
      '--encrypt',
    )
    expect(add.code, add.stderr).toBe(0)
    const keyId = /new key (k-[0-9a-f]{16})/.exec(add.stdout)?.[1] as string
    expect(keyId).toBeDefined()
    const config = readFileSync(join(repo, '.mlvc/config.yaml'), 'utf8')
    expect(config).toContain(`encryption: ${keyId}`)
    expect(config).toContain(`endpoint: ${server().endpoint}`)
    expect(config).not.toMatch(/secret|AKIA|MLVC[0-9A-F]{16}/)
    const list = await ada.mlvc(repo, 'remote', 'list')
    expect(list.stdout).toMatch(
      new RegExp(
        `\\* origin\\ts3\\ts3://team-models/project-x  encrypted \\(${keyId}\\)  reachable`,
      ),
    )

    const model = pseudoRandomBytes(20 * MiB + 5, 3)
    writeFileSync(join(repo, 'model.bin'), model)
    await ada.git(repo, 'add', '.')
    await ada.git(repo, 'commit', '-qm', 'model')
    await ada.git(repo, 'push', '-q', 'origin', 'HEAD:main')

    const clone = join(root, 'bob-repo')
    await bob.git(root, 'clone', '-q', bare, clone)
    expect(readFileSync(join(clone, 'model.bin'), 'utf8')).toMatch(/^# mlvc stub v1/)
    const pull = await bob.mlvc(clone, 'pull')
    expect(pull.code).toBe(1)
    expect(pull.stderr).toContain(
      `remote origin is encrypted with key ${keyId}, which this machine does not have`,
    )

    const exported = await ada.mlvc(repo, 'key', 'export')
    expect(exported.code).toBe(0)
    writeFileSync(join(root, 'key.txt'), exported.stdout)
    const imported = await bob.mlvc(clone, 'key', 'import', join(root, 'key.txt'))
    expect(imported.stdout).toContain(`imported key ${keyId}`)
    const again = await bob.mlvc(clone, 'pull')
    expect(again.code, again.stderr).toBe(0)
    expect(readFileSync(join(clone, 'model.bin')).equals(model)).toBe(true)
    expect(await bob.git(clone, 'status', '--porcelain')).toBe('')
  })

  test('two pushes at the same time from two processes: both land whole, a clone gets every byte', async () => {
    const bare = join(root, 'race.git')
    await ada.git(root, 'init', '-q', '--bare', bare)
    const repos: string[] = []
    const models: Buffer[] = []
    for (const [i, user] of [ada, bob].entries()) {
      const repo = join(root, `race-${i}`)
      await user.git(root, 'clone', '-q', bare, repo)
      expect((await user.mlvc(repo, 'init')).code).toBe(0)
      expect((await user.mlvc(repo, 'track', '*.bin')).code).toBe(0)
      const add = await user.mlvc(
        repo,
        'remote',
        'add',
        'origin',
        's3://team-models/race',
        '--endpoint',
        server().endpoint,
      )
      expect(add.code, add.stderr).toBe(0)
      // Shared bytes (the same 8 MiB in both) and bytes of each: deduplication races too.
      const model = Buffer.concat([
        pseudoRandomBytes(8 * MiB, 100),
        pseudoRandomBytes(30 * MiB, 200 + i),
      ])
      writeFileSync(join(repo, `model-${i}.bin`), model)
      models.push(model)
      await user.git(repo, 'add', '.')
      await user.git(repo, 'commit', '-qm', `model ${i}`)
      repos.push(repo)
    }
    const pushes = await Promise.all([
      ada.mlvc(repos[0] as string, 'push'),
      bob.mlvc(repos[1] as string, 'push'),
    ])
    for (const p of pushes) expect(p.code, p.stderr).toBe(0)
    await ada.git(repos[0] as string, 'push', '-q', 'origin', 'HEAD:main')
    await bob.git(
      repos[1] as string,
      'pull',
      '-q',
      '--no-rebase',
      '--allow-unrelated-histories',
      'origin',
      'main',
    )
    await bob.git(repos[1] as string, 'push', '-q', 'origin', 'HEAD:main')
    const clone = join(root, 'race-clone')
    await ada.git(root, 'clone', '-q', bare, clone)
    const pull = await ada.mlvc(clone, 'pull')
    expect(pull.code, pull.stderr).toBe(0)
    for (const [i, model] of models.entries()) {
      expect(readFileSync(join(clone, `model-${i}.bin`)).equals(model)).toBe(true)
    }
  })
})
