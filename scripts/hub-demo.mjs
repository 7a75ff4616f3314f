#!/usr/bin/env node
// The hub demo: starts an mlvc hub on loopback (embedded defaults: SQLite and objects in a
// temporary folder), creates a user, a token and a repository, logs in, pushes a repository with a
// model to it with git push, clones it back and checks every byte; then fine-tunes the model,
// commits two experiment runs, deploys the model with a node handler and calls it, and shows what
// the web app sees. Run with `npm run hub-demo`
// (which builds first); `npm run hub-demo -- --serve` keeps the hub running afterwards so that
// you can open the web app (Ctrl-C ends it). A temporary HOME keeps your own git config and
// credentials untouched.
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = resolve(fileURLToPath(import.meta.url), '../../dist/bundle/cli/main.js')
const lib = resolve(fileURLToPath(import.meta.url), '../../dist/src/index.js')
const fixtures = resolve(
  fileURLToPath(import.meta.url),
  '../../src/checkpoint/fixtures/merge/safetensors',
)
const serve = process.argv.includes('--serve')
const work = mkdtempSync(join(tmpdir(), 'mlvc-hub-demo-'))
const data = join(work, 'hub')
const env = {
  PATH: process.env.PATH,
  HOME: join(work, 'home'),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Hub Demo',
  GIT_AUTHOR_EMAIL: 'hub-demo@example.com',
  GIT_COMMITTER_NAME: 'Hub Demo',
  GIT_COMMITTER_EMAIL: 'hub-demo@example.com',
}
mkdirSync(env.HOME)

function show(cwd, cmd, args, { shown = `${cmd} ${args.join(' ')}`, input } = {}) {
  process.stdout.write(`\n${cwd === work ? '' : `(${cwd.slice(work.length + 1)}) `}$ ${shown}\n`)
  const out = execFileSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  process.stdout.write(out)
  return out.trim()
}
const mlvc = (cwd, args, options = {}) =>
  show(cwd, process.execPath, [cli, ...args], { shown: `mlvc ${args.join(' ')}`, ...options })
const git = (cwd, ...args) => show(cwd, 'git', args)
const say = (text) => process.stdout.write(`\n# ${text}\n`)
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex')

let hub
try {
  say('an admin creates a user, a token for her, and a private repository (on the hub folder)')
  mlvc(work, ['hub', 'user', 'add', 'ada', '--data', data])
  const token = mlvc(
    work,
    ['hub', 'token', 'create', 'ada', '--scope', 'write', '--expires', '1d', '--data', data],
    {
      shown: 'mlvc hub token create ada --scope write --expires 1d   (printed once; stored hashed)',
    },
  )
  mlvc(work, ['hub', 'repo', 'create', 'ada/models', '--data', data])

  say('start the hub: nothing else to install or start')
  hub = spawn(process.execPath, [cli, 'hub', 'serve', '--data', data, '--listen', '127.0.0.1:0'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((done, fail) => {
    let log = ''
    hub.stdout.on('data', (d) => {
      log += d
      const found = /"msg":"hub listening","url":"([^"]+)"/.exec(log)?.[1]
      if (found) done(found)
    })
    hub.on('exit', (code) => fail(new Error(`the hub exited (${code})`)))
  })
  process.stdout.write(`hub listening on ${url}\n`)

  say("log in: the token goes to git's credential helper, where git and mlvc find it")
  mlvc(work, ['install'])
  mlvc(work, ['login', url, '--user', 'ada', '--token-stdin'], { input: token })

  say(
    'clone the empty repository, track models, commit one, git push (mlvc uploads its data first)',
  )
  const repo = join(work, 'models')
  git(work, 'clone', '-q', `${url}/ada/models`, repo)
  mlvc(repo, ['init'])
  mlvc(repo, ['track', '*.bin'])
  mlvc(repo, ['remote', 'add', 'origin', `${url}/ada/models`])
  const model = join(repo, 'model.bin')
  writeFileSync(model, randomFillSync(Buffer.alloc(3 * 1024 * 1024)))
  git(repo, 'add', '.')
  git(repo, 'commit', '-qm', 'first model')
  git(repo, 'push', '-q', 'origin', 'HEAD:main')
  git(repo, 'show', '--stat', '--format=%s', 'HEAD')

  say('clone it back: the checkout fetches the model from the hub')
  const clone = join(work, 'clone')
  git(work, 'clone', '-q', `${url}/ada/models`, clone)
  mlvc(clone, ['status'])
  const same = sha256(model) === sha256(join(clone, 'model.bin'))
  process.stdout.write(`\nmodel.bin in the clone is ${same ? 'byte-identical' : 'DIFFERENT'}\n`)

  say('a checkpoint in two versions and two experiment runs, for the web app to show')
  mlvc(repo, ['track', '*.safetensors'])
  copyFileSync(join(fixtures, 'base.safetensors'), join(repo, 'model.safetensors'))
  const { createExperiment, initExpRepo } = await import(lib)
  const runs = await initExpRepo(join(repo, 'experiments'))
  for (const lr of [0.01, 0.003]) {
    const exp = await createExperiment(runs, {
      name: 'finetune',
      kind: 'train',
      params: { lr, batch: 32 },
      git: false,
      cmd: ['train.py', `--lr=${lr}`],
    })
    for (let step = 1; step <= 500; step++)
      exp
        .sub(`train/step/${step}`)
        .log('end', { loss: 2 / (1 + step * lr * 10), acc: 1 - 1 / (1 + step * lr) })
    exp.close()
  }
  git(repo, 'add', '.')
  git(repo, 'commit', '-qm', 'a safetensors model and two runs')
  copyFileSync(join(fixtures, 'ours.safetensors'), join(repo, 'model.safetensors'))
  git(repo, 'commit', '-qam', 'fine-tune the model')
  git(repo, 'push', '-q', 'origin', 'HEAD:main')

  say('what the web app asks the hub (the JSON API): the fine-tune as a tensor diff')
  const password = 'demo password 1234'
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  await fetch(`${url}/api/v1/user/password`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ password }),
  })
  const diff = await (
    await fetch(`${url}/api/v1/repos/ada/models/compare?head=main`, { headers: auth })
  ).json()
  for (const file of diff.files) {
    const s = file.tensors?.summary
    process.stdout.write(
      `${file.path}: ${s ? `${s.changed} of ${s.tensors} tensors changed` : file.kind}\n`,
    )
  }

  say(
    'a deployment: the model in the registry and a node handler that uses it; the push deploys it',
  )
  mlvc(repo, ['registry', 'add', 'clf', 'model.bin', '--meta', 'description=demo classifier'])
  mkdirSync(join(repo, 'deployments/api'), { recursive: true })
  writeFileSync(
    join(repo, 'deployments/api/deployment.yaml'),
    'runtime: node\nentry: index.mjs\nmodels: [clf]\n',
  )
  writeFileSync(
    join(repo, 'deployments/api/index.mjs'),
    [
      "import { statSync } from 'node:fs'",
      "import { join } from 'node:path'",
      'export default function predict(input, { modelsDir }) {',
      "  return { modelBytes: statSync(join(modelsDir, 'clf', 'model.bin')).size, input }",
      '}',
      '',
    ].join('\n'),
  )
  mlvc(repo, ['validate'])
  git(repo, 'add', 'deployments')
  git(repo, 'commit', '-qm', 'a deployment of the registry model')
  git(repo, 'push', '-q', 'origin', 'HEAD:main')
  // The hub builds the version in the background: wait until it serves (a few seconds).
  const status = () =>
    JSON.parse(
      execFileSync(process.execPath, [cli, '--json', 'deployments', 'list'], {
        cwd: repo,
        env,
        encoding: 'utf8',
      }),
    ).deployments[0]?.latest.status
  for (let i = 0; i < 240 && status() !== 'ready'; i++)
    await new Promise((done) => setTimeout(done, 250))
  mlvc(repo, ['deployments', 'list'])
  mlvc(repo, ['deployments', 'call', 'api', '{"x": 1}'])

  say('the hub checks itself')
  mlvc(work, ['hub', 'fsck', '--data', data])
  if (!same) process.exitCode = 1
  if (serve) {
    process.stdout.write(
      `\nOpen ${url}/#/r/ada/models and sign in as ada with the password "${password}". Ctrl-C ends the hub.\n`,
    )
    await new Promise((done) => process.once('SIGINT', done))
  } else
    process.stdout.write(
      `\nThe web app is at ${url}/ (npm run hub-demo -- --serve keeps it running)\n`,
    )
} finally {
  hub?.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}
