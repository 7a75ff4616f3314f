#!/usr/bin/env node
// The quickstart: a short scripted tour of what mlvc does, in a temporary folder, on embedded
// defaults (no services). Run with `npm run quickstart` (which builds first).
import { execFileSync } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = resolve(fileURLToPath(import.meta.url), '../../dist/src/cli/main.js')
const work = mkdtempSync(join(tmpdir(), 'mlvc-quickstart-'))
const env = { ...process.env, MLVC_STORE: '' }

function mlvc(...args) {
  process.stdout.write(`\n$ mlvc ${args.join(' ')}\n`)
  const out = execFileSync(process.execPath, [cli, ...args], {
    cwd: work,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  process.stdout.write(out)
  return out.trim()
}

function say(text) {
  process.stdout.write(`\n# ${text}\n`)
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex')

try {
  say(`Working in ${work}`)
  mlvc('init')

  say('A 64 MiB "checkpoint" goes into the content-addressed store; mlvc prints its id.')
  const model = Buffer.alloc(64 << 20)
  randomFillSync(model)
  writeFileSync(join(work, 'model-v1.bin'), model)
  const v1 = mlvc('put', 'model-v1.bin').split(/\s+/)[0]

  say('A fine-tune that rewrites 1 MiB in the middle: only about that much is stored again.')
  randomFillSync(model, 32 << 20, 1 << 20)
  writeFileSync(join(work, 'model-v2.bin'), model)
  const v2 = JSON.parse(mlvc('--json', 'put', 'model-v2.bin'))[0]
  say(`v2 added ${(v2.newBytes / 2 ** 20).toFixed(2)} MiB of ${(v2.size / 2 ** 20).toFixed(0)} MiB`)

  say('Getting v1 back: byte for byte, checked against its sha256.')
  mlvc('get', v1, 'restored.bin')
  if (sha256(join(work, 'restored.bin')) !== sha256(join(work, 'model-v1.bin')))
    throw new Error('restored file differs')
  say('restored.bin is identical to model-v1.bin')

  say('Every object verified against its id:')
  mlvc('fsck')
  say('Done. Next: `mlvc --help`.')
} finally {
  rmSync(work, { recursive: true, force: true })
}
