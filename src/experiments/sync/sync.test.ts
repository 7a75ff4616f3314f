import {
  appendFileSync,
  existsSync,
  lstatSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { isMlvcError } from '../../core/index.ts'
import { folderRemote } from '../../remote/index.ts'
import { tempDir } from '../../test-helpers/index.ts'
import { createExperiment } from '../experiment.ts'
import { fetchRepoFiles } from '../fetch.ts'
import { fsckRepo } from '../fsck.ts'
import { readLog } from '../log-read.ts'
import { readMissing } from '../missing.ts'
import { type ExpRepo, initExpRepo, openExpRepo } from '../repo.ts'
import { hasRepoFile } from '../repofiles.ts'
import { removeExperiments } from '../rm.ts'
import { loadExperiments } from '../scan.ts'
import { copyFixture } from '../test-helpers/index.ts'
import { makeVersion } from '../version.ts'
import type { SyncOptions } from './index.ts'
import { openSide } from './open-side.ts'
import { syncAndClose } from './sync.ts'

async function sync(a: ExpRepo | string, b: ExpRepo | string, options: SyncOptions = {}) {
  const side = (r: ExpRepo | string) =>
    openSide(typeof r === 'string' ? r : r.root, { create: true })
  return syncAndClose(await side(a), await side(b), options)
}

async function ids(repo: ExpRepo): Promise<string[]> {
  return (await loadExperiments(repo)).experiments.map((e) => e.id).sort()
}

async function newExp(repo: ExpRepo, name: string, lines = 3) {
  const exp = await createExperiment(repo, { name, git: false, params: { lr: 0.1 } })
  for (let i = 0; i < lines; i++) exp.log(`train/step/${i}`, { loss: 1 / (i + 1) })
  exp.close()
  return exp
}

describe('sync between two folders', () => {
  it('copies a dbxlogger repository into a new one, RepoFiles included', async () => {
    const tmp = tempDir()
    const src = copyFixture(tmp)
    const report = await sync(src, join(tmp, 'copy'))
    expect(report.changes.map((c) => c.action)).toEqual(['copy', 'copy', 'copy'])
    expect(report.repofiles.copied).toBe(1)
    const copy = await openExpRepo(join(tmp, 'copy'))
    expect(await ids(copy)).toEqual(['fjd08ayvu_xk2', 'j482_fuzxvAbC', 'uv89_kxzfQ0a'])
    expect(
      readFileSync(join(copy.root, 'cifar10/simple_idea/fjd08ayvu_xk2/checkpoint.pth'), 'utf8'),
    ).toMatch(/^not really/)
    expect((await fsckRepo(copy)).issues).toEqual([])
    const again = await sync(src, join(tmp, 'copy'))
    expect(again.changes).toEqual([])
    expect(again.conflicts).toEqual([])
  })

  it('is two-way: new experiments and new versions go both ways, deletions propagate', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const b = await initExpRepo(join(tmp, 'b'))
    const e1 = await newExp(a, 'one')
    const e2 = await newExp(b, 'two')
    await sync(a, b)
    expect(await ids(a)).toEqual([e1.id, e2.id].sort())
    expect(await ids(b)).toEqual([e1.id, e2.id].sort())
    // a new version on B replaces the old one on A
    appendFileSync(join(b.root, e1.path, 'log.jsonl'), '{"event": "more", "loss": 0.1}\n')
    const r2 = await sync(a, b)
    expect(r2.changes).toEqual([{ id: e1.id, path: e1.path, action: 'replace', on: a.root }])
    expect((await readLog(join(a.root, e1.path))).events.at(-1)?.event).toBe('more')
    // a deletion on A is carried to B
    await removeExperiments(a, [e2.id])
    const r3 = await sync(a, b)
    expect(r3.changes).toEqual([{ id: e2.id, path: e2.path, action: 'delete', on: b.root }])
    expect(await ids(b)).toEqual([e1.id])
    expect(existsSync(join(b.root, 'two'))).toBe(false)
    const r4 = await sync(b, a)
    expect(r4.changes).toEqual([])
  })

  it('reports a true conflict and changes neither side', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const b = await initExpRepo(join(tmp, 'b'))
    const e = await newExp(a, 'x')
    await sync(a, b)
    appendFileSync(join(a.root, e.path, 'log.jsonl'), '{"event": "on-a"}\n')
    appendFileSync(join(b.root, e.path, 'log.jsonl'), '{"event": "on-b"}\n')
    const r = await sync(a, b)
    expect(r.changes).toEqual([])
    expect(r.conflicts).toMatchObject([{ id: e.id, reason: 'changed on both sides' }])
    expect((await readLog(join(a.root, e.path))).events.at(-1)?.event).toBe('on-a')
    expect((await readLog(join(b.root, e.path))).events.at(-1)?.event).toBe('on-b')
    // still a conflict next time: nothing was merged into either history
    expect((await sync(b, a)).conflicts).toHaveLength(1)
    // resolved on request, in favour of B
    const resolved = await sync(a, b, { prefer: 'b' })
    expect(resolved.changes).toMatchObject([{ id: e.id, action: 'replace', on: a.root }])
    expect((await readLog(join(a.root, e.path))).events.at(-1)?.event).toBe('on-b')
    expect((await sync(a, b)).conflicts).toEqual([])
  })

  it('reports a deletion on one side against a change on the other', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const b = await initExpRepo(join(tmp, 'b'))
    const e = await newExp(a, 'x')
    await sync(a, b)
    await removeExperiments(a, [e.id])
    appendFileSync(join(b.root, e.path, 'log.jsonl'), '{"event": "kept"}\n')
    const r = await sync(a, b)
    expect(r.conflicts).toMatchObject([{ id: e.id, reason: 'deleted on A, changed on B since' }])
    expect(await ids(b)).toEqual([e.id])
  })

  it('reports one id naming two different experiments', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const b = await initExpRepo(join(tmp, 'b'))
    await createExperiment(a, { id: 'sameid_sameid', name: 'x', git: false, params: { lr: 1 } })
    await createExperiment(b, { id: 'sameid_sameid', name: 'x', git: false, params: { lr: 2 } })
    const r = await sync(a, b)
    expect(r.conflicts).toMatchObject([
      { id: 'sameid_sameid', reason: 'the same id names different experiments' },
    ])
  })

  it('never takes an unreadable experiment for a deleted one', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const b = await initExpRepo(join(tmp, 'b'))
    const e = await newExp(a, 'x')
    await sync(a, b)
    writeFileSync(join(a.root, e.path, 'meta.json'), 'this is not JSON')
    const r = await sync(a, b)
    expect(r.changes).toEqual([])
    expect(r.skipped).toMatchObject([
      { id: e.id, reason: expect.stringMatching(/meta\.json: not valid JSON/) },
    ])
    expect(await ids(b)).toEqual([e.id])
  })

  it('refuses an experiment holding a symlink that leaves the repository', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const e = await newExp(a, 'x')
    const ok = await newExp(a, 'y')
    writeFileSync(join(tmp, 'secret'), 'secret')
    symlinkSync(join(tmp, 'secret'), join(a.root, e.path, 'leak'))
    const r = await sync(a, join(tmp, 'b'))
    expect(r.skipped).toMatchObject([
      {
        id: e.id,
        reason: expect.stringMatching(/leak: symlink to .*secret does not point at a RepoFile/),
      },
    ])
    const b = await openExpRepo(join(tmp, 'b'))
    expect(await ids(b)).toEqual([ok.id])
  })

  it('leaves RepoFiles behind with --no-repofiles and fetches them on demand', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const e = await createExperiment(a, { name: 'big', git: false })
    writeFileSync(join(tmp, 'ckpt'), 'checkpoint bytes')
    const ref = await e.attach(join(tmp, 'ckpt'), 'model.ckpt')
    const r = await sync(a, join(tmp, 'b'), { repofiles: false })
    expect(r.repofiles).toMatchObject({ copied: 0, leftBehind: 1 })
    const b = await openExpRepo(join(tmp, 'b'))
    const link = join(b.root, e.path, 'model.ckpt')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(await hasRepoFile(b, ref.sha256)).toBe(false)
    expect(await readMissing(b)).toEqual(new Map([[ref.sha256, [a.root]]]))
    const fsck = await fsckRepo(b)
    expect(fsck.issues).toMatchObject([
      { severity: 'warning', message: expect.stringMatching(/not fetched yet/) },
    ])
    const fetched = await fetchRepoFiles(b, { ids: [e.id] })
    expect(fetched.fetched).toMatchObject([{ sha256: ref.sha256, from: a.root }])
    expect(readFileSync(link, 'utf8')).toBe('checkpoint bytes')
    expect(await readMissing(b)).toEqual(new Map())
  })

  it('refuses a RepoFile whose bytes do not match its name', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const e = await createExperiment(a, { name: 'big', git: false })
    writeFileSync(join(tmp, 'ckpt'), 'good bytes')
    const ref = await e.attach(join(tmp, 'ckpt'), 'model.ckpt')
    writeFileSync(join(a.dbx, 'attach', `SHA256-${ref.sha256}`), 'evil bytes')
    const fsck = await fsckRepo(a)
    expect(fsck.issues).toMatchObject([
      { severity: 'error', message: expect.stringMatching(/not to its name/) },
    ])
    const r = await sync(a, join(tmp, 'b'))
    expect(r.errors).toMatchObject([
      { id: `SHA256-${ref.sha256}`, message: expect.stringMatching(/not to its name/) },
    ])
    const b = await openExpRepo(join(tmp, 'b'))
    expect(await hasRepoFile(b, ref.sha256)).toBe(false)
  })

  it('is resumed after an interruption', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    for (let i = 0; i < 12; i++) await newExp(a, `g/${i}`, 2)
    const controller = new AbortController()
    const first = sync(a, join(tmp, 'b'), {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.done >= 3) controller.abort()
      },
    })
    await expect(first).rejects.toSatisfy((e) => isMlvcError(e, 'INTERRUPTED'))
    const b = await openExpRepo(join(tmp, 'b'))
    const part = (await ids(b)).length
    expect(part).toBeGreaterThan(0)
    expect(part).toBeLessThan(12)
    const second = await sync(a, b)
    expect(second.conflicts).toEqual([])
    expect(await ids(b)).toEqual(await ids(a))
    expect((await sync(a, b)).changes).toEqual([])
  })
})

describe('push and pull through a Remote', () => {
  it('goes through the object layout and back, with deletions and on-demand RepoFiles', async () => {
    const tmp = tempDir()
    const src = await openExpRepo(copyFixture(tmp))
    const url = pathToFileURL(join(tmp, 'remote')).href
    const pushed = await sync(src, url)
    expect(pushed.changes).toHaveLength(3)
    expect(pushed.repofiles.copied).toBe(1)
    const remote = folderRemote('r', url)
    expect((await remote.get('.dbx/index')).toString()).toMatch(
      /^fjd08ayvu_xk2 [0-9a-f]{64} cifar10\/simple_idea\/fjd08ayvu_xk2\n/,
    )
    const clone = await initExpRepo(join(tmp, 'clone'))
    const pulled = await sync(clone, url, { repofiles: false })
    expect(pulled.changes.map((c) => c.on)).toEqual([clone.root, clone.root, clone.root])
    expect((await fsckRepo(clone)).issues.map((i) => i.severity)).toEqual(['warning'])
    const fetched = await fetchRepoFiles(clone)
    expect(fetched.fetched).toHaveLength(1)
    expect((await fsckRepo(clone)).issues).toEqual([])
    await removeExperiments(clone, ['uv89'])
    const e = await newExp(clone, 'new/run')
    const back = await sync(clone, url)
    expect(back.changes.map((c) => c.action).sort()).toEqual(['copy', 'delete'])
    const again = await sync(src, url)
    // The new experiment's id is random: sort both sides alike.
    expect(again.changes.map((c) => [c.id, c.action]).sort()).toEqual(
      [
        [e.id, 'copy'],
        ['uv89_kxzfQ0a', 'delete'],
      ].sort(),
    )
    expect(await ids(src)).toEqual(await ids(clone))
  })

  it('rejects an index entry whose path climbs out, leaving that id alone', async () => {
    const tmp = tempDir()
    const url = pathToFileURL(join(tmp, 'remote')).href
    const remote = folderRemote('r', url)
    await remote.put('.dbx/index', `evil_evil_evi ${'a'.repeat(64)} ../../etc\n`)
    const local = await initExpRepo(join(tmp, 'local'))
    const r = await sync(local, url)
    expect(r.changes).toEqual([])
    expect(r.skipped).toMatchObject([
      {
        id: 'evil_evil_evi',
        reason: expect.stringMatching(/"\.\.\/\.\.\/etc" is not a safe relative path/),
      },
    ])
    expect(existsSync(join(tmp, 'etc'))).toBe(false)
    rmSync(join(tmp, 'remote'), { recursive: true })
  })

  it('refuses to write an experiment inside another experiment’s folder', async () => {
    const tmp = tempDir()
    const local = await initExpRepo(join(tmp, 'local'))
    const host = await newExp(local, 'host')
    const url = pathToFileURL(join(tmp, 'remote')).href
    const remote = folderRemote('r', url)
    const path = `${host.path}/inner/nested_nested`
    const version = makeVersion('nested_nested', path, [], [])
    await remote.put(`.dbx/versions/nested_nested.json`, JSON.stringify(version))
    await remote.put('.dbx/index', `nested_nested ${version.hash} ${path}\n`)
    const r = await sync(local, url, { direction: 'b-to-a' })
    expect(r.errors).toMatchObject([
      { id: 'nested_nested', message: expect.stringMatching(/lies inside the experiment at/) },
    ])
    expect(existsSync(join(local.root, host.path, 'inner'))).toBe(false)
  })
})

describe('one-way sync', () => {
  it('changes only the end it may, reporting the rest as pending', async () => {
    const tmp = tempDir()
    const a = await initExpRepo(join(tmp, 'a'))
    const b = await initExpRepo(join(tmp, 'b'))
    const ea = await newExp(a, 'a')
    const eb = await newExp(b, 'b')
    const push = await sync(a, b, { direction: 'a-to-b' })
    expect(push.changes).toMatchObject([{ id: ea.id, action: 'copy', on: b.root }])
    expect(push.pending).toMatchObject([{ id: eb.id, action: 'copy', on: a.root }])
    expect(await ids(a)).toEqual([ea.id])
    const pull = await sync(a, b, { direction: 'b-to-a' })
    expect(pull.changes).toMatchObject([{ id: eb.id, action: 'copy', on: a.root }])
    expect(pull.pending).toEqual([])
  })
})
