import { readdir, readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { text } from 'node:stream/consumers'
import { fsError, isErrno, MlvcError } from '../../core/index.ts'
import {
  chooseRemote,
  formatKey,
  keyDir,
  listRemotes,
  loadKey,
  parseKey,
  saveKey,
} from '../../remote/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'

export async function keyList(io: Io): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  let files: string[] = []
  try {
    files = (await readdir(keyDir())).filter((f) => f.endsWith('.key'))
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError(err, 'listing', keyDir())
  }
  const remotes = ctx.root ? listRemotes(ctx.config) : []
  const rows = files.sort().map((f) => {
    const id = f.slice(0, -4)
    return { id, remotes: remotes.filter((r) => r.encryption === id).map((r) => r.name) }
  })
  const needed = remotes.filter((r) => r.encryption && !rows.some((k) => k.id === r.encryption))
  return {
    data: { keys: rows, missing: needed.map((r) => ({ remote: r.name, id: r.encryption })) },
    text: [
      ...rows.map(
        (k) => `${k.id}${k.remotes.length > 0 ? `  used by ${k.remotes.join(', ')}` : ''}`,
      ),
      ...needed.map(
        (r) => `${r.encryption}  MISSING: remote ${r.name} needs it (mlvc key import FILE)`,
      ),
    ].join('\n'),
  }
}

export async function keyExport(io: Io, [which]: [string | undefined]): Promise<CommandResult> {
  let id: string
  let remote = which ?? '(default)'
  if (which?.startsWith('k-')) id = which
  else {
    const ctx = await repoContext(io.cwd)
    const spec = chooseRemote(ctx.config, which)
    remote = spec.name
    if (!spec.encryption) throw new MlvcError('USAGE', `remote ${spec.name} is not encrypted`)
    id = spec.encryption
  }
  const key = await loadKey(id, remote)
  return { data: { id: key.id, key: formatKey(key).trim() }, text: formatKey(key).trimEnd() }
}

export async function keyImport(io: Io, [file]: [string]): Promise<CommandResult> {
  const where = file === '-' ? 'standard input' : file
  let content: string
  try {
    content =
      file === '-' ? await text(process.stdin) : await readFile(resolve(io.cwd, file), 'utf8')
  } catch (err) {
    throw fsError(err, 'reading', where)
  }
  const key = parseKey(content, where)
  const path = await saveKey(key)
  return { data: { id: key.id, path }, text: `imported key ${key.id} into ${path}` }
}
