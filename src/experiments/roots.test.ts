import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type ConfigTree, isMlvcError, layeredConfig } from '../core/index.ts'
import { openStore } from '../store/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { createExperiment } from './experiment.ts'
import { fetchRepoFiles } from './fetch.ts'
import { fsckRepo } from './fsck.ts'
import { initExpRepo, openExpRepo, saveConfig } from './repo.ts'
import { hasRepoFile } from './repofiles.ts'
import { storageRoots } from './roots.ts'
import { localSide, syncAndClose } from './sync/index.ts'

describe('named storage roots', () => {
  it('reads experiments.roots from mlvc config', () => {
    const configOf = (tree: ConfigTree) => layeredConfig([{ file: 'config.yaml', tree }])
    const roots = { storage: '/storage/lfs/dbx_store' }
    expect(storageRoots(configOf({ experiments: { roots } }))).toEqual(roots)
    expect(() => storageRoots(configOf({ experiments: { roots: { s: 'relative' } } }))).toThrow(
      'config.yaml: experiments.roots.s must be an absolute path, not "relative"',
    )
    expect(storageRoots(configOf({}))).toEqual({})
  })

  it('keeps RepoFiles at each machine’s own path for the same root name', async () => {
    const tmp = tempDir()
    const machineA = { storage: join(tmp, 'storage-a') }
    const machineB = { storage: join(tmp, 'storage-b') }
    const a = await initExpRepo(join(tmp, 'a'), { roots: machineA })
    await saveConfig(a, { repofiles: { root: 'storage' } })
    const b = await initExpRepo(join(tmp, 'b'), { roots: machineB })
    await saveConfig(b, { repofiles: { root: 'storage' } })
    const exp = await createExperiment(a, { name: 'r', git: false })
    writeFileSync(join(tmp, 'ckpt'), 'big weights')
    const ref = await exp.attach(join(tmp, 'ckpt'), 'model.ckpt')
    const name = `SHA256-${ref.sha256}`
    expect(readFileSync(join(machineA.storage, name), 'utf8')).toBe('big weights')
    expect(readlinkSync(join(a.dbx, 'attach', name))).toBe(join(machineA.storage, name))
    await syncAndClose(localSide(a), localSide(b))
    expect(readFileSync(join(machineB.storage, name), 'utf8')).toBe('big weights')
    expect(readFileSync(join(b.root, exp.path, 'model.ckpt'), 'utf8')).toBe('big weights')
    expect((await fsckRepo(b)).issues).toEqual([])
    const unconfigured = await openExpRepo(b.root)
    await expect(hasRepoFile(unconfigured, ref.sha256)).rejects.toSatisfy(
      (e) =>
        isMlvcError(e, 'BAD_CONFIG') &&
        /storage root "storage", which this machine does not define/.test((e as Error).message),
    )
  })
})

describe('RepoFiles kept in the mlvc store', () => {
  it('are fetched back from the store when attach/ lacks them (a Git clone)', async () => {
    const tmp = tempDir()
    const repo = await initExpRepo(join(tmp, 'repo'))
    const store = await openStore(join(tmp, 'store'), { create: true, fsync: false })
    try {
      const exp = await createExperiment(repo, { git: false })
      writeFileSync(join(tmp, 'w'), 'stored weights')
      const ref = await exp.attach(join(tmp, 'w'), 'w.bin', { store })
      rmSync(join(repo.dbx, 'attach', `SHA256-${ref.sha256}`))
      expect(lstatSync(join(exp.dir, 'w.bin')).isSymbolicLink()).toBe(true)
      expect(existsSync(join(exp.dir, 'w.bin'))).toBe(false)
      const report = await fetchRepoFiles(repo, { store })
      expect(report.fetched).toEqual([
        { sha256: ref.sha256, where: `${exp.path}/w.bin`, from: 'mlvc store' },
      ])
      expect(readFileSync(join(exp.dir, 'w.bin'), 'utf8')).toBe('stored weights')
    } finally {
      await store.close()
    }
  })
})
