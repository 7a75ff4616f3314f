import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'

// One user and one repository for the file: the registry and validate through the CLI, real git.
const root = tempDir('mlvc-registry')
const ada = gitSandbox(root, 'ada')
const repo = join(root, 'repo')
const model = join(root, 'clf.onnx')

async function ok(...args: string[]) {
  const result = await ada.mlvc(repo, ...args)
  expect(result.code, `mlvc ${args.join(' ')}\n${result.stderr}`).toBe(0)
  return result.stdout
}

beforeAll(async () => {
  expect((await ada.mlvc(root, 'install')).code).toBe(0)
  mkdirSync(repo)
  await ada.git(repo, 'init', '-q')
  await ok('init')
  await ada.git(repo, 'add', '-A')
  await ada.git(repo, 'commit', '-qm', 'init')
  writeFileSync(model, pseudoRandomBytes(20_000, 3))
})

describe('mlvc registry', () => {
  test('add stores the files with mlvc, writes model.yaml and commits; list and show read it back', async () => {
    const added = await ok(
      'registry',
      'add',
      'clf',
      model,
      '--meta',
      'description=churn',
      '--meta',
      'metrics.auc=0.91',
    )
    expect(added).toContain('added clf to the registry')
    expect(await ada.git(repo, 'status', '--porcelain')).toBe('')
    const stub = await ada.git(repo, 'show', 'HEAD:models/clf/clf.onnx')
    expect(stub).toMatch(/^# mlvc stub v1/)
    const yaml = readFileSync(join(repo, 'models/clf/model.yaml'), 'utf8')
    expect(yaml).toContain('framework: onnx')
    expect(yaml).toContain('auc: 0.91')
    const list = JSON.parse(await ok('--json', 'registry', 'list'))
    expect(list.models.map((m: { name: string }) => m.name)).toEqual(['clf'])
    expect(list.models[0].files[0].id).toMatch(/^b/)
    expect(await ok('registry', 'show', 'clf')).toContain('metric auc: 0.91')
    expect(await ok('validate')).toContain('1 model(s), 0 deployment(s) in the work tree: valid')
  })

  test('list --branch reads another branch without checking it out; promote copies an entry with one commit', async () => {
    await ada.git(repo, 'checkout', '-qb', 'dev')
    writeFileSync(model, pseudoRandomBytes(20_000, 4))
    await ok('registry', 'add', 'clf', model, '--meta', 'description=churn v2')
    await ok('registry', 'add', 'ranker', model)
    await ada.git(repo, 'checkout', '-q', 'main')
    const dev = JSON.parse(await ok('--json', 'registry', 'list', '--branch', 'dev'))
    expect(dev.models.map((m: { name: string }) => m.name)).toEqual(['clf', 'ranker'])
    const main = JSON.parse(await ok('--json', 'registry', 'list'))
    expect(main.models.map((m: { name: string }) => m.name)).toEqual(['clf'])
    const devId = dev.models[0].files[0].id
    expect(main.models[0].files[0].id).not.toBe(devId)

    // main is checked out: its work tree follows the promotion.
    expect(await ok('registry', 'promote', 'clf', '--from', 'dev', '--to', 'main')).toContain(
      'promoted clf from dev to main',
    )
    expect((await ada.git(repo, 'log', '-1', '--format=%s')).trim()).toBe(
      'registry: promote clf from dev',
    )
    expect(await ada.git(repo, 'status', '--porcelain')).toBe('')
    expect(readFileSync(join(repo, 'models/clf/model.yaml'), 'utf8')).toContain('churn v2')
    const after = JSON.parse(await ok('--json', 'registry', 'list', '--branch', 'main'))
    expect(
      after.models.map((m: { name: string; files: Array<{ id: string }> }) => [
        m.name,
        m.files[0]?.id,
      ]),
    ).toEqual([['clf', devId]])
    // Promoting again changes nothing.
    expect(await ok('registry', 'promote', 'clf', '--from', 'dev', '--to', 'main')).toContain(
      'nothing to commit',
    )

    // A branch that is not checked out: only its ref moves.
    await ada.git(repo, 'branch', 'prod', 'main~1')
    await ok('registry', 'promote', 'ranker', '--from', 'dev', '--to', 'prod')
    const prod = JSON.parse(await ok('--json', 'registry', 'list', '--branch', 'prod'))
    expect(prod.models.map((m: { name: string }) => m.name)).toEqual(['clf', 'ranker'])
    expect((await ada.git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).trim()).toBe('main')
    // The target's .gitattributes keeps the promoted files tracked.
    expect(await ada.git(repo, 'show', 'prod:.gitattributes')).toContain(
      '/models/ranker/clf.onnx filter=mlvc',
    )
  })

  test('unknown models and branches are clear errors; rm removes an entry with a commit', async () => {
    const missing = await ada.mlvc(repo, 'registry', 'show', 'nope')
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('no registry model nope in HEAD')
    const branch = await ada.mlvc(
      repo,
      'registry',
      'promote',
      'clf',
      '--from',
      'dev',
      '--to',
      'nowhere',
    )
    expect(branch.stderr).toContain('no branch nowhere to promote to')
    const rev = await ada.mlvc(repo, 'registry', 'list', '--branch', 'nowhere')
    expect(rev.stderr).toContain('no branch or commit "nowhere"')
    await ok('registry', 'rm', 'clf')
    expect(JSON.parse(await ok('--json', 'registry', 'list')).models).toEqual([])
  })

  test('validate exits 1 on errors and names file and field; --rev checks a commit', async () => {
    mkdirSync(join(repo, 'deployments/api'), { recursive: true })
    writeFileSync(
      join(repo, 'deployments/api/deployment.yaml'),
      'runtime: node\nentry: index.mjs\nmodels: [clf]\n',
    )
    const bad = await ada.mlvc(repo, 'validate')
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain(
      'deployments/api/deployment.yaml: entry: deployments/api/index.mjs does not exist',
    )
    expect(bad.stdout).toContain(
      'deployments/api/deployment.yaml: models: no registry model clf (models/clf/model.yaml)',
    )
    const json = JSON.parse((await ada.mlvc(repo, '--json', 'validate')).stdout)
    expect(json.valid).toBe(false)
    expect(await ok('validate', '--rev', 'dev')).toContain(
      '2 model(s), 0 deployment(s) in dev: valid',
    )
  })
})
