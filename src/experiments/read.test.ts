import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { readFilesJson } from './files.ts'
import { fsckRepo } from './fsck.ts'
import { parseLog, readAllLogs, readLog } from './log-read.ts'
import { metricSeries } from './metrics.ts'
import { openExpRepo } from './repo.ts'
import { hasRepoFile, listRepoFiles } from './repofiles.ts'
import { loadExperiments, pickExperiment } from './scan.ts'
import { copyFixture, FIXTURE } from './test-helpers/index.ts'
import { readLinks } from './version.ts'

describe('a repository written by dbxlogger', () => {
  it('lists its experiments with their meta.json', async () => {
    const repo = await openExpRepo(FIXTURE)
    const { experiments, problems } = await loadExperiments(repo)
    expect(problems).toEqual([])
    expect(experiments.map((e) => e.path)).toEqual([
      'cifar10/simple_idea/fjd08ayvu_xk2',
      'cifar10/simple_idea/uv89_kxzfQ0a',
      'j482_fuzxvAbC',
    ])
    const e1 = pickExperiment(experiments, 'fjd')
    expect(e1.name).toBe('cifar10/simple_idea')
    expect(e1.meta.kind).toBe('train.py')
    expect(e1.meta.params).toMatchObject({ lr: 0.1, note: 'café ✓', layers: [64, 64] })
    expect(e1.meta.createdAt).toBe('2020-08-03T09:00:00.123456Z')
    expect(e1.meta.git).toMatchObject({ branch: 'master', uncommited_changes: true })
    expect(e1.meta.git?.commit).toMatch(/^[0-9a-f]{40}$/)
    const unnamed = pickExperiment(experiments, 'j482_fuzxvAbC')
    expect(unnamed.name).toBeNull()
    expect(unnamed.path).toBe('j482_fuzxvAbC')
  })

  it('reads its logs: empty events, NaN, infinities, ExpFile and RefFile values, streams', async () => {
    const dir = join(FIXTURE, 'cifar10/simple_idea/fjd08ayvu_xk2')
    const { events, problems } = await readLog(dir)
    expect(problems).toEqual([])
    expect(events[0]).toMatchObject({ event: 'start', values: {}, line: 1 })
    expect(events[4]?.values.loss).toEqual({ _dbx: 'nan' })
    expect(events[5]?.values['my-file']).toMatchObject({ _dbx: 'expfile', name: 'hello.txt' })
    expect(events[6]?.values.dataset).toMatchObject({
      _dbx: 'reffile',
      path: '/data/cifar10.tar.gz',
    })
    expect(events[7]?.values).toMatchObject({ grad_norm: { _dbx: 'inf' }, f32: { _dbx: 'nan' } })
    const all = await readAllLogs(dir)
    expect(all.events.filter((e) => e.stream === 'eval')).toHaveLength(3)
    const loss = metricSeries(events, 'loss', { event: 'train' })
    expect(loss.map((p) => p.x)).toEqual([1, 2, 3, 4])
    expect(loss[3]?.y).toBeNaN()
  })

  it('knows its ExpFiles and RepoFiles', async () => {
    const repo = await openExpRepo(FIXTURE)
    const dir = join(FIXTURE, 'cifar10/simple_idea/fjd08ayvu_xk2')
    expect(Object.keys(await readFilesJson(dir))).toEqual(['_patch_uncommitted.diff', 'hello.txt'])
    const links = await readLinks(repo, dir)
    expect(links).toHaveLength(1)
    expect(links[0]?.name).toBe('checkpoint.pth')
    expect(await hasRepoFile(repo, links[0]?.sha256 as string)).toBe(true)
    expect((await listRepoFiles(repo)).size).toBe(2)
  })

  it('passes fsck', async () => {
    const report = await fsckRepo(await openExpRepo(FIXTURE))
    expect(report.issues).toEqual([])
    expect(report.experiments).toBe(3)
    expect(report.repofiles).toBe(2)
  })
})

describe('reading damaged logs', () => {
  it('reads the whole lines before a cut-off last line and reports it', () => {
    const text = '{"event": "a", "x": 1}\n{"event": "b", "x": 2}\n{"event": "c", "x'
    const read = parseLog(text, '/r/e/log.jsonl', '')
    expect(read.events.map((e) => e.event)).toEqual(['a', 'b'])
    expect(read.problems).toEqual([
      {
        path: '/r/e/log.jsonl',
        message: expect.stringMatching(/line 3 is cut off.*2 whole events/),
      },
    ])
    // Said as a field, so that fsck calls it a warning without reading the message.
    expect(read.cutOff).toEqual(read.problems)
  })

  it('skips a bad line in the middle and lines without an event', () => {
    const read = parseLog('{"event": "a"}\nnot json\n{"x": 1}\n[1]\n{"event": "b"}\n', 'f', '')
    expect(read.events.map((e) => e.event)).toEqual(['a', 'b'])
    expect(read.problems.map((p) => p.message)).toEqual([
      'line 2 is not valid JSON; skipped',
      'line 3 has no "event" name; skipped',
      'line 4 has no "event" name; skipped',
    ])
    expect(read.cutOff).toEqual([])
  })
})

describe('a repository with a damaged meta.json', () => {
  it('reports the file and still lists the rest', async () => {
    const root = copyFixture(tempDir())
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(root, 'j482_fuzxvAbC/meta.json'), '{"id": "j482_fuzxvAbC", ')
    const { experiments, problems } = await loadExperiments(await openExpRepo(root))
    expect(experiments).toHaveLength(2)
    expect(problems).toHaveLength(1)
    expect(problems[0]?.path).toBe(join(root, 'j482_fuzxvAbC/meta.json'))
    expect(problems[0]?.message).toMatch(/j482_fuzxvAbC\/meta\.json: not valid JSON/)
  })
})
