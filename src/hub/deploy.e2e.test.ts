import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { type HubProcess, hubAdmin, hubUser, startHubProcess } from './test-helpers/index.ts'

// One hub for the file; ada pushes a project with a registry and deployments, real git and real
// child processes. Builds need no package registry: no npm dependencies, stdlib-only python.
const root = tempDir('mlvc-hub-deploy')
const data = join(root, 'hub')
const ada = gitSandbox(root, 'ada')
const repo = join(root, 'app')
let hub: HubProcess
let token: string

const HANDLER = `
import { statSync } from 'node:fs'
import { join } from 'node:path'
export default function handle(input, { modelsDir }) {
  if (input.fail) throw new Error('asked to fail')
  return { model: statSync(join(modelsDir, 'clf', 'clf.bin')).size, got: input }
}
`

async function mlvc(...args: string[]) {
  const result = await ada.mlvc(repo, ...args)
  expect(result.code, `mlvc ${args.join(' ')}\n${result.stderr}`).toBe(0)
  return result.stdout
}

function model(size: number, seed: number): string {
  const path = join(root, 'clf.bin')
  writeFileSync(path, pseudoRandomBytes(size, seed))
  return path
}

async function call(branch: string, deployment: string, body: string, version = '') {
  const response = await fetch(`${hub.url}/v1/ada/app/${branch}/${deployment}${version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  })
  return {
    status: response.status,
    version: response.headers.get('x-mlvc-version'),
    json: JSON.parse(await response.text()),
  }
}

interface Version {
  version: number
  status: string
  error: string | null
  inputsHash: string
  commit: string
}

async function versions(branch: string, deployment: string): Promise<Version[]> {
  const response = await fetch(
    `${hub.url}/api/v1/repos/ada/app/deployments/${deployment}/versions?branch=${branch}`,
    {
      headers: { authorization: `Bearer ${token}` },
    },
  )
  return response.status === 200
    ? ((await response.json()) as { versions: Version[] }).versions
    : []
}

/** Waits until the deployment has version `number` and it is no longer building. */
async function settled(branch: string, deployment: string, number: number): Promise<Version> {
  for (;;) {
    const found = (await versions(branch, deployment)).find((v) => v.version === number)
    if (found && found.status !== 'building') return found
    await new Promise((done) => setTimeout(done, 100))
  }
}

async function push(branch: string) {
  const result = await ada.gitResult(repo, 'push', '-q', 'origin', `HEAD:${branch}`)
  expect(result.code, result.stderr).toBe(0)
}

beforeAll(async () => {
  await hubAdmin(data, 'user', 'add', 'ada')
  token = await hubAdmin(data, 'token', 'create', 'ada')
  await hubAdmin(data, 'repo', 'create', 'ada/app')
  hub = await startHubProcess(data)
  await hubUser(ada, hub.url, 'ada', token)
  await ada.git(root, 'clone', '-q', `${hub.url}/ada/app`, repo)
  await mlvc('init')
  mkdirSync(join(repo, 'deployments/api'), { recursive: true })
  writeFileSync(
    join(repo, 'deployments/api/deployment.yaml'),
    'runtime: node\nentry: index.mjs\nmodels: [clf]\n',
  )
  writeFileSync(join(repo, 'deployments/api/index.mjs'), HANDLER)
  writeFileSync(
    join(repo, 'deployments/api/package.json'),
    '{ "private": true, "type": "module" }\n',
  )
  await ada.git(repo, 'add', '-A')
  await ada.git(repo, 'commit', '-qm', 'api')
  await mlvc('registry', 'add', 'clf', model(1000, 1), '--meta', 'description=churn')
  await push('main')
}, 120_000)
afterAll(() => hub?.stop())

describe('deployments on the hub', () => {
  test('a push makes version 1, built in the background; a call runs the handler with its registry model', async () => {
    expect(await settled('main', 'api', 1)).toMatchObject({ status: 'ready', error: null })
    const answer = await call('main', 'api', '{"x":1}')
    expect(answer).toEqual({ status: 200, version: '1', json: { model: 1000, got: { x: 1 } } })
    expect(JSON.parse(await mlvc('--json', 'deployments', 'call', 'api', '{"y":2}'))).toEqual({
      model: 1000,
      got: { y: 2 },
    })
    expect(await mlvc('deployments', 'list')).toMatch(
      /^api {2}node {2}v1 ready {2}serving v1 {2}POST http/,
    )
    const logs = await mlvc('deployments', 'logs', 'api')
    expect(logs).toContain('environment ready')
    expect(logs).toContain('started process')
  })

  test('a dev branch changes its model only; promote and push moves it to main; revert + push rolls back at once', async () => {
    await ada.git(repo, 'checkout', '-qb', 'dev')
    await mlvc('registry', 'add', 'clf', model(2000, 2))
    await push('dev')
    expect((await settled('dev', 'api', 1)).status).toBe('ready')
    expect((await call('dev', 'api', '{}')).json.model).toBe(2000)
    expect((await call('main', 'api', '{}')).json.model).toBe(1000)
    expect(await versions('main', 'api')).toHaveLength(1)

    await ada.git(repo, 'checkout', '-q', 'main')
    await mlvc('registry', 'promote', 'clf', '--from', 'dev', '--to', 'main')
    await push('main')
    expect((await settled('main', 'api', 2)).status).toBe('ready')
    expect(await call('main', 'api', '{}')).toMatchObject({ version: '2', json: { model: 2000 } })
    // The old version is still there by number.
    expect((await call('main', 'api', '{}', '/v1')).json.model).toBe(1000)

    await ada.git(repo, 'revert', '--no-edit', 'HEAD')
    await push('main')
    const v3 = await settled('main', 'api', 3)
    const all = await versions('main', 'api')
    expect(v3.inputsHash).toBe(all[0]?.inputsHash)
    expect(await call('main', 'api', '{}')).toMatchObject({ version: '3', json: { model: 1000 } })
  })

  test('a push whose layout has errors is refused with the lines of mlvc validate', async () => {
    writeFileSync(
      join(repo, 'deployments/api/deployment.yaml'),
      'runtime: node\nentry: main.mjs\nmodels: [clf, gone]\n',
    )
    await ada.git(repo, 'commit', '-qam', 'broken')
    const refused = await ada.gitResult(repo, 'push', 'origin', 'HEAD:main')
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('push refused: mlvc validate found errors')
    expect(refused.stderr).toContain(
      'deployments/api/deployment.yaml: entry: deployments/api/main.mjs does not exist',
    )
    expect(refused.stderr).toContain(
      'deployments/api/deployment.yaml: models: no registry model gone',
    )
    await ada.git(repo, 'reset', '-q', '--hard', 'HEAD~1')
    expect(await versions('main', 'api')).toHaveLength(3)
  })

  test('bad calls are clear JSON errors and the hub keeps serving', async () => {
    const thrown = await call('main', 'api', '{"fail":true}')
    expect(thrown.status).toBe(500)
    expect(thrown.json.error).toMatchObject({
      code: 'DEPLOYMENT',
      message: 'api v3: the handler failed: asked to fail',
    })
    const notJson = await call('main', 'api', '{nope')
    expect(notJson).toMatchObject({
      status: 400,
      json: { error: { message: 'request body is not JSON' } },
    })
    const unknown = await call('main', 'nothing', '{}')
    expect(unknown.status).toBe(404)
    const tooBig = await call('main', 'api', JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }))
    expect(tooBig.status).toBe(413)
    expect((await call('main', 'api', '{}')).status).toBe(200)
  })

  test('a python deployment is served from its venv; requirements that cannot install fail the build and the previous version keeps serving', async () => {
    mkdirSync(join(repo, 'deployments/py'), { recursive: true })
    writeFileSync(
      join(repo, 'deployments/py/deployment.yaml'),
      'runtime: python\nentry: app.py\nfunction: predict\n',
    )
    writeFileSync(
      join(repo, 'deployments/py/app.py'),
      'import json\ndef predict(x):\n    return {"sum": sum(x["values"])}\n',
    )
    writeFileSync(
      join(repo, 'deployments/py/requirements.txt'),
      '# the standard library is enough\n',
    )
    await ada.git(repo, 'add', '-A')
    await ada.git(repo, 'commit', '-qm', 'py')
    await push('main')
    expect((await settled('main', 'py', 1)).status).toBe('ready')
    expect(await call('main', 'py', '{"values":[1,2,3]}')).toMatchObject({
      status: 200,
      json: { sum: 6 },
    })

    writeFileSync(join(repo, 'deployments/py/requirements.txt'), 'mlvc-no-such-package==0.0.1\n')
    await ada.git(repo, 'commit', '-qam', 'a requirement that cannot install')
    await push('main')
    const failed = await settled('main', 'py', 2)
    expect(failed.status).toBe('failed')
    expect(failed.error).toContain(
      'environment build failed: pip install -r requirements.txt exited with status 1',
    )
    const logs = await mlvc('deployments', 'logs', 'py', '--number', '2')
    expect(logs).toContain('mlvc-no-such-package')
    expect(await call('main', 'py', '{"values":[4]}')).toMatchObject({
      status: 200,
      version: '1',
      json: { sum: 4 },
    })
    const pinned = await call('main', 'py', '{}', '/v2')
    expect(pinned.status).toBe(503)
    expect(pinned.json.error.message).toContain('py v2 failed to build')
  })

  test('the registry and validate through the API; promote through the API applies the target branch', async () => {
    const get = async (path: string) =>
      JSON.parse(
        await (
          await fetch(`${hub.url}/api/v1/repos/ada/app/${path}`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).text(),
      )
    const registry = await get('registry?branch=dev')
    expect(registry.models.map((m: { name: string }) => m.name)).toEqual(['clf'])
    expect((await get('registry/clf?branch=dev')).spec.description).toBe('churn')
    expect(await get('validate?branch=main')).toMatchObject({
      valid: true,
      deployments: ['api', 'py'],
    })
    const promoted = await fetch(`${hub.url}/api/v1/repos/ada/app/registry/clf/promote`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'dev', to: 'main' }),
    })
    expect(promoted.status).toBe(200)
    expect(JSON.parse(await promoted.text()).commit).toMatch(/^[0-9a-f]{40}$/)
    expect((await settled('main', 'api', 4)).status).toBe('ready')
    expect((await call('main', 'api', '{}')).json.model).toBe(2000)
  })

  test('an onnx deployment serves a registry model with no code', async () => {
    const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'fixtures')
    const expected = JSON.parse(readFileSync(join(fixtures, 'mlp.expected.json'), 'utf8'))
    // The promotion through the API moved main on the hub.
    await ada.git(repo, 'pull', '-q', '--ff-only', 'origin', 'main')
    await mlvc('registry', 'add', 'mlp', join(fixtures, 'mlp.onnx'))
    mkdirSync(join(repo, 'deployments/mlp'), { recursive: true })
    writeFileSync(join(repo, 'deployments/mlp/deployment.yaml'), 'runtime: onnx\nmodels: [mlp]\n')
    await ada.git(repo, 'add', '-A')
    await ada.git(repo, 'commit', '-qm', 'onnx')
    await push('main')
    expect((await settled('main', 'mlp', 1)).status).toBe('ready')
    const answer = await call('main', 'mlp', JSON.stringify({ inputs: { x: expected.input } }))
    expect(answer.status).toBe(200)
    expect(answer.json.outputs.y.dims).toEqual(expected.output.dims)
    for (const [i, value] of (expected.output.data as number[]).entries())
      expect(answer.json.outputs.y.data[i]).toBeCloseTo(value, 3)
  })

  test('two pushes racing on one branch: Git takes one, and exactly one version records it', async () => {
    const other = join(root, 'app-2')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/app`, other)
    const before = (await versions('main', 'api')).length
    for (const [dir, text] of [
      [repo, 'one'],
      [other, 'two'],
    ] as const) {
      writeFileSync(join(dir, 'deployments/api/index.mjs'), `${HANDLER}// ${text}\n`)
      await ada.git(dir, 'commit', '-qam', text)
    }
    const results = await Promise.all([
      ada.gitResult(repo, 'push', '-q', 'origin', 'HEAD:main'),
      ada.gitResult(other, 'push', '-q', 'origin', 'HEAD:main'),
    ])
    expect(results.map((r) => r.code === 0).filter(Boolean)).toHaveLength(1)
    const head = (await ada.git(repo, 'ls-remote', 'origin', 'refs/heads/main')).split('\t')[0]
    const added = await settled('main', 'api', before + 1)
    expect(added).toMatchObject({ status: 'ready', commit: head })
    expect(await versions('main', 'api')).toHaveLength(before + 1)
    expect((await call('main', 'api', '{}')).version).toBe(String(before + 1))
  })
})
