import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../core/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { keepAttachment } from './attach.ts'
import { createExperiment } from './experiment.ts'
import { gcRepoFiles } from './gc.ts'
import { initExpRepo, openExpRepo } from './repo.ts'
import { removeExperiments } from './rm.ts'
import { copyFixture } from './test-helpers/index.ts'

describe('gcRepoFiles', () => {
  it('keeps referenced RepoFiles and those listed in attachments', async () => {
    const repo = await openExpRepo(copyFixture(tempDir()))
    const report = await gcRepoFiles(repo, { graceMs: 0 })
    expect(report.removed).toEqual([])
    expect(report.kept).toBe(2)
  })

  it('removes RepoFiles nothing references once they are old enough', async () => {
    const tmp = tempDir()
    const repo = await initExpRepo(join(tmp, 'r'))
    const exp = await createExperiment(repo, { git: false })
    writeFileSync(join(tmp, 'a'), 'aaa')
    writeFileSync(join(tmp, 'b'), 'bbb')
    const a = await exp.attach(join(tmp, 'a'), 'a.bin')
    await keepAttachment(repo, join(tmp, 'b'), 'b.bin')
    expect(readFileSync(join(repo.dbx, 'attachments'), 'utf8')).toBe(`${sha256Hex('bbb')} b.bin\n`)
    await removeExperiments(repo, [exp.id])
    expect((await gcRepoFiles(repo)).removed).toEqual([])
    const dry = await gcRepoFiles(repo, { graceMs: 0, dryRun: true })
    expect(dry.removed).toEqual([{ sha256: a.sha256, size: 3 }])
    expect(existsSync(join(repo.dbx, 'attach', `SHA256-${a.sha256}`))).toBe(true)
    const real = await gcRepoFiles(repo, { graceMs: 0 })
    expect(real.removed).toEqual([{ sha256: a.sha256, size: 3 }])
    expect(existsSync(join(repo.dbx, 'attach', `SHA256-${a.sha256}`))).toBe(false)
    expect(existsSync(join(repo.dbx, 'attach', `SHA256-${sha256Hex('bbb')}`))).toBe(true)
  })
})
