#!/usr/bin/env node
// The quickstart: a short scripted tour of what mlvc does, in a temporary folder, on embedded
// defaults (a folder remote, no services). Run with `npm run quickstart` (which builds first).
// It runs with a temporary HOME, so `mlvc install` does not touch your own git config.
import { execFileSync } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = resolve(fileURLToPath(import.meta.url), '../../dist/bundle/cli/main.js')
const work = mkdtempSync(join(tmpdir(), 'mlvc-quickstart-'))
const env = {
  PATH: process.env.PATH,
  HOME: join(work, 'home'),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Quick Start',
  GIT_AUTHOR_EMAIL: 'quickstart@example.com',
  GIT_COMMITTER_NAME: 'Quick Start',
  GIT_COMMITTER_EMAIL: 'quickstart@example.com',
}
mkdirSync(env.HOME)

function show(cwd, cmd, args, shown = `${cmd} ${args.join(' ')}`) {
  process.stdout.write(`\n${cwd === work ? '' : `(${cwd.slice(work.length + 1)}) `}$ ${shown}\n`)
  const out = execFileSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  process.stdout.write(out)
  return out.trim()
}
const mlvc = (cwd, ...args) => show(cwd, process.execPath, [cli, ...args], `mlvc ${args.join(' ')}`)
const git = (cwd, ...args) => show(cwd, 'git', args)
const say = (text) => process.stdout.write(`\n# ${text}\n`)
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex')
const fileSize = (path) => statSync(path).size

/** Deterministic float32 values in [-0.05, 0.05). */
function floats(count, seed) {
  const out = new Float32Array(count)
  let x = seed + 1
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = (x / 2 ** 32 - 0.5) * 0.1
  }
  return out
}

/** A safetensors file: 8-byte header length, JSON header, then the tensors' bytes. */
function writeSafetensors(path, tensors) {
  const header = {}
  let offset = 0
  for (const [name, data] of tensors) {
    header[name] = {
      dtype: 'F32',
      shape: [data.length],
      data_offsets: [offset, offset + data.byteLength],
    }
    offset += data.byteLength
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8)
  const length = Buffer.alloc(8)
  length.writeBigUInt64LE(BigInt(json.length))
  writeFileSync(
    path,
    Buffer.concat([length, Buffer.from(json), ...tensors.map(([, d]) => Buffer.from(d.buffer))]),
  )
}

/** Bytes of objects in the repository's store (from mlvc fsck --json). */
function storedBytes(cwd) {
  const out = execFileSync(process.execPath, [cli, '--json', 'fsck'], {
    cwd,
    env,
    encoding: 'utf8',
  })
  return JSON.parse(out).bytes
}

function randomModel(path, size, base) {
  const data = base ? Buffer.from(base) : Buffer.alloc(size)
  if (!base) randomFillSync(data)
  writeFileSync(path, data)
  return data
}

try {
  say(`Part 1: the store, outside Git. Working in ${work}`)
  const plain = join(work, 'plain')
  mkdirSync(plain)
  mlvc(plain, 'init')
  say('A 64 MiB "checkpoint" goes into the content-addressed store; mlvc prints its id.')
  const model = randomModel(join(plain, 'model-v1.bin'), 64 << 20)
  const v1 = mlvc(plain, 'put', 'model-v1.bin').split(/\s+/)[0]
  say('A fine-tune that rewrites 1 MiB in the middle: only about that much is stored again.')
  randomFillSync(model, 32 << 20, 1 << 20)
  writeFileSync(join(plain, 'model-v2.bin'), model)
  const v2 = JSON.parse(mlvc(plain, '--json', 'put', 'model-v2.bin'))[0]
  say(`v2 added ${(v2.newBytes / 2 ** 20).toFixed(2)} MiB of ${(v2.size / 2 ** 20).toFixed(0)} MiB`)
  mlvc(plain, 'get', v1, 'restored.bin')
  if (sha256(join(plain, 'restored.bin')) !== sha256(join(plain, 'model-v1.bin')))
    throw new Error('restored file differs')
  say('restored.bin is byte-identical to model-v1.bin (verified against its sha256 while writing).')
  mlvc(plain, 'fsck')

  say(
    'Part 2: plain Git with big files. `mlvc install` once (here into a temporary HOME), then track.',
  )
  const repo = join(work, 'repo')
  mkdirSync(repo)
  git(repo, 'init', '-q', '-b', 'main')
  mlvc(repo, 'install')
  mlvc(repo, 'track', '*.safetensors')
  mlvc(repo, 'remote', 'add', 'origin', '../mlvc-remote')
  const weights = randomModel(join(repo, 'model.safetensors'), 48 << 20)
  git(repo, 'add', '.')
  git(repo, 'commit', '-qm', 'first model')
  say('Git stored a small stub; the work tree keeps the real 48 MiB file:')
  git(repo, 'show', 'HEAD:model.safetensors')
  mlvc(repo, 'status')

  say('git push also uploads the content to the mlvc remote (a folder), through the pre-push hook.')
  git(work, 'init', '-q', '--bare', '-b', 'main', 'origin.git')
  git(repo, 'remote', 'add', 'origin', '../origin.git')
  show(repo, 'sh', ['-c', 'git push -q origin main 2>&1'], 'git push -q origin main')

  say('A clone gets every file back, byte for byte, fetched from the remote while Git checks out.')
  git(work, 'clone', '-q', 'origin.git', 'clone')
  const cloned = join(work, 'clone')
  if (
    sha256(join(cloned, 'model.safetensors')) !== createHash('sha256').update(weights).digest('hex')
  ) {
    throw new Error('the clone differs')
  }
  say('clone/model.safetensors is identical to repo/model.safetensors')
  git(cloned, 'status', '--short')
  mlvc(cloned, 'ls-files')

  say('Part 3: a checkpoint, tensor by tensor. A 40-tensor safetensors model, then a fine-tune.')
  const tensors = Array.from({ length: 40 }, (_, i) => [`layers.${i}.weight`, floats(256 * 256, i)])
  writeSafetensors(join(repo, 'model.safetensors'), tensors)
  git(repo, 'add', 'model.safetensors')
  git(repo, 'commit', '-qm', 'base model')
  const before = storedBytes(repo)
  tensors[3][1] = floats(256 * 256, 1000)
  for (let i = 0; i < tensors[7][1].length; i += 500) tensors[7][1][i] += 0.01
  writeSafetensors(join(repo, 'model.safetensors'), tensors)
  say("git diff (through mlvc's diff driver) says which tensors moved, and by how much:")
  git(repo, 'diff', 'model.safetensors')
  git(repo, 'commit', '-qam', 'fine-tune: layer 3 retrained, layer 7 nudged')
  say('In git log -p the stubs read like a changelog of the model, one line per tensor:')
  show(
    repo,
    'sh',
    ['-c', "git log -p -1 model.safetensors | grep '^[-+]tensor'"],
    "git log -p -1 model.safetensors | grep '^[-+]tensor'",
  )
  const added = storedBytes(repo) - before
  say(
    `The fine-tune cost ${(added / 2 ** 20).toFixed(2)} MiB of a ${(fileSize(join(repo, 'model.safetensors')) / 2 ** 20).toFixed(1)} MiB checkpoint: layer 3 whole, layer 7 as an exact delta, the rest nothing.`,
  )

  say(
    'Part 4: merging two fine-tunes. Both change layer 0; with mlvc-merge=average they are averaged.',
  )
  git(repo, 'checkout', '-qb', 'left')
  tensors[0][1] = floats(256 * 256, 2000)
  writeSafetensors(join(repo, 'model.safetensors'), tensors)
  git(repo, 'commit', '-qam', 'left')
  git(repo, 'checkout', '-qb', 'right', 'main')
  tensors[0][1] = floats(256 * 256, 3000)
  writeSafetensors(join(repo, 'model.safetensors'), tensors)
  git(repo, 'commit', '-qam', 'right')
  const merge = `'${process.execPath}' '${cli}' merge --strategy average --no-edit left 2>&1 | grep mlvc:`
  show(repo, 'sh', ['-c', merge], 'mlvc merge --strategy average --no-edit left')
  git(repo, 'log', '--oneline', '-3')

  say('Part 5: a dataset as a versioned entity: spec and manifest in Git, files in the store.')
  mlvc(repo, 'dataset', 'init', 'digits', '--category', 'vision')
  for (let i = 0; i < 30; i++) {
    const dir = join(repo, 'dataset/digits', `class-${i % 3}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `img-${i}.raw`), Buffer.from(floats(256 + i, i).buffer))
  }
  mlvc(repo, 'dataset', 'add', 'digits')
  mlvc(repo, 'dataset', 'commit', 'digits', '-m', 'digits, first cut')
  say('Git holds two small files for the 30 images; the manifest is one sorted line per file:')
  git(repo, 'ls-files', 'dataset')
  show(repo, 'sh', ['-c', 'head -3 dataset/digits/MANIFEST'], 'head -3 dataset/digits/MANIFEST')
  say('A model (nothing is trained here) records the dataset version it was made from.')
  mlvc(repo, 'model', 'init', 'classifier')
  writeFileSync(join(repo, 'model/classifier/weights.bin'), Buffer.from(floats(4096, 7).buffer))
  mlvc(repo, 'model', 'add', 'classifier')
  mlvc(repo, 'model', 'commit', 'classifier', '--dataset', 'digits@1')
  mlvc(repo, 'model', 'lineage', 'classifier')
  mlvc(repo, 'dataset', 'push', 'digits')
  say('A sampled checkout: a reproducible third of the files, as read-only links to a cached copy.')
  mlvc(repo, 'dataset', 'checkout', 'digits@1', '--sample-type', 'group:1:3', '--seed', '4')
  mlvc(repo, 'dataset', 'status', 'digits')
  say('Done. Next: `mlvc --help`, and the README for every command.')
} catch (err) {
  process.stderr.write(`\nquickstart failed: ${err.stderr ?? ''}${err.message}\n`)
  process.exitCode = 1
} finally {
  rmSync(work, { recursive: true, force: true })
}
