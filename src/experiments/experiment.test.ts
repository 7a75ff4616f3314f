import { lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isMlvcError, sha256Hex } from '../core/index.ts'
import { listPins, openStore } from '../store/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { readStoreIds } from './attach.ts'
import { createExperiment, openExperiment, PATCH_FILE } from './experiment.ts'
import { readFilesJson, refFile } from './files.ts'
import { fsckRepo } from './fsck.ts'
import { ID_ALPHABET, newExperimentId } from './ids.ts'
import { readAllLogs, readLog } from './log-read.ts'
import { ATOMIC_LINE } from './log-write.ts'
import { readMeta } from './meta.ts'
import { initExpRepo } from './repo.ts'
import { makeGitRepo } from './test-helpers/index.ts'

describe('newExperimentId', () => {
  it('makes 13 characters of dbxlogger’s alphabet', () => {
    const ids = new Set(Array.from({ length: 2000 }, newExperimentId))
    expect(ids.size).toBe(2000)
    for (const id of ids) {
      expect(id).toHaveLength(13)
      expect([...id].every((c) => ID_ALPHABET.includes(c))).toBe(true)
    }
  })
})

describe('createExperiment', () => {
  it('writes meta.json with command, host, time and Git state, and the uncommitted diff', async () => {
    const work = await makeGitRepo(join(tempDir(), 'work'))
    writeFileSync(join(work, 'train.py'), 'lr = 0.1\n')
    const repo = await initExpRepo(join(work, 'exps'))
    const exp = await createExperiment(repo, {
      name: 'mnist/baseline',
      kind: 'train',
      params: { lr: 0.1, layers: [32, 32], model: { depth: 3 } },
      cwd: work,
      cmd: ['train.py', '--lr', '0.1'],
      createdAt: new Date('2024-05-06T07:08:09.010Z'),
    })
    expect(exp.path).toBe(`mnist/baseline/${exp.id}`)
    const meta = await readMeta(exp.dir)
    expect(meta).toMatchObject({
      id: exp.id,
      name: 'mnist/baseline',
      kind: 'train',
      cmd: ['train.py', '--lr', '0.1'],
      createdAt: '2024-05-06T07:08:09.010000Z',
      pwd: work,
      script: join(work, 'train.py'),
    })
    expect(meta.env).toBeUndefined()
    expect(meta.git).toMatchObject({ branch: 'main', uncommited_changes: true, patch: PATCH_FILE })
    expect(meta.git?.commit_long).toMatch(/^commit [0-9a-f]{40}/)
    const patch = readFileSync(join(exp.dir, PATCH_FILE), 'utf8')
    expect(patch).toContain('+lr = 0.1')
    expect(await readFilesJson(exp.dir)).toEqual({ [PATCH_FILE]: sha256Hex(patch) })
    const text = readFileSync(join(exp.dir, 'meta.json'), 'utf8')
    expect(text.startsWith('{\n    "cmd": [\n')).toBe(true)
  })

  it('records no git state outside Git and no patch when clean', async () => {
    const repo = await initExpRepo(tempDir())
    const exp = await createExperiment(repo, { cwd: repo.root, env: ['HOME'] })
    expect(exp.path).toBe(exp.id)
    const meta = await readMeta(exp.dir)
    expect(meta.git).toBeUndefined()
    expect(meta.name).toBeNull()
    expect(meta.env).toEqual({ HOME: process.env.HOME })
  })

  it('refuses names that leave the repository and reserved meta keys', async () => {
    const repo = await initExpRepo(tempDir())
    for (const name of ['../escape', 'a/../../b', '/abs', 'a//b', '.hidden/x']) {
      await expect(createExperiment(repo, { name, git: false })).rejects.toSatisfy((e) =>
        isMlvcError(e, 'UNSAFE_PATH'),
      )
    }
    await expect(createExperiment(repo, { git: false, extraMeta: { params: 1 } })).rejects.toThrow(
      /reserved/,
    )
  })
})

describe('logging', () => {
  it('appends events with context prefixes to log.jsonl and named streams', async () => {
    const repo = await initExpRepo(tempDir())
    const exp = await createExperiment(repo, { name: 'x', git: false })
    exp.log('start')
    const epoch = exp.sub('train').sub('epoch/3')
    epoch.log('end', { loss: 0.5, acc: Number.NaN })
    exp.logger('eval').log('eval', { acc: 0.9 })
    exp.close()
    const main = await readLog(exp.dir)
    expect(main.events.map((e) => e.event)).toEqual(['start', 'train/epoch/3/end'])
    expect(main.events[1]?.values).toEqual({ loss: 0.5, acc: { _dbx: 'nan' } })
    expect((await readLog(exp.dir, 'eval')).events).toHaveLength(1)
    const again = await openExperiment(repo, exp.id.slice(0, 6))
    again.log('resumed', { big: 'x'.repeat(ATOMIC_LINE * 2) })
    again.close()
    expect((await readAllLogs(exp.dir)).events.map((e) => e.event)).toEqual([
      'start',
      'train/epoch/3/end',
      'resumed',
      'eval',
    ])
  })
})

describe('files', () => {
  it('writes ExpFiles, attaches RepoFiles as relative links, references RefFiles', async () => {
    const tmp = tempDir()
    const repo = await initExpRepo(join(tmp, 'repo'))
    const exp = await createExperiment(repo, { name: 'a/b', git: false })
    const ref = await exp.writeFile('config.yaml', 'lr: 0.1\n')
    expect(ref).toEqual({
      _dbx: 'expfile',
      exp: exp.id,
      name: 'config.yaml',
      sha256: sha256Hex('lr: 0.1\n'),
    })
    writeFileSync(join(tmp, 'notes.txt'), 'notes')
    await exp.copyFile('docs/notes.txt', join(tmp, 'notes.txt'))
    expect(Object.keys(await readFilesJson(exp.dir)).sort()).toEqual([
      'config.yaml',
      'docs/notes.txt',
    ])
    writeFileSync(join(tmp, 'model.ckpt'), 'weights v1')
    const repoFile = await exp.attach(join(tmp, 'model.ckpt'), 'checkpoints/last.ckpt')
    const link = join(exp.dir, 'checkpoints/last.ckpt')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readlinkSync(link)).toBe(`../../../../.dbx/attach/SHA256-${repoFile.sha256}`)
    expect(readFileSync(link, 'utf8')).toBe('weights v1')
    const rf = await refFile(join(tmp, 'notes.txt'))
    expect(rf).toMatchObject({
      _dbx: 'reffile',
      path: join(tmp, 'notes.txt'),
      sha256: sha256Hex('notes'),
    })
    for (const bad of ['meta.json', 'files.json', 'log.jsonl', 'x.log.jsonl', '../up']) {
      await expect(exp.writeFile(bad, 'x')).rejects.toThrow()
    }
    expect((await fsckRepo(repo)).issues).toEqual([])
  })

  it('also keeps RepoFiles in an mlvc store, pinned', async () => {
    const tmp = tempDir()
    const repo = await initExpRepo(join(tmp, 'repo'))
    const store = await openStore(join(tmp, 'store'), { create: true, fsync: false })
    try {
      const exp = await createExperiment(repo, { git: false })
      writeFileSync(join(tmp, 'w.bin'), 'weights')
      const ref = await exp.attach(join(tmp, 'w.bin'), undefined, { store })
      const ids = await readStoreIds(repo)
      const id = ids.get(ref.sha256) as string
      expect(await store.has(id)).toBe(true)
      expect(await listPins(store)).toContain(id)
    } finally {
      await store.close()
    }
  })
})
