import { spawn } from 'node:child_process'
import { MlvcError } from '../core/index.ts'

export interface BlobInfo {
  sha: string
  type: string
  size: number
}

/**
 * Runs one `git cat-file --batch` (or --batch-check) for many objects: a single process and one
 * pipe, as git-lfs's scanners do, instead of a process per object.
 */
function catFile(
  cwd: string,
  shas: readonly string[],
  contents: boolean,
): Promise<Map<string, { info: BlobInfo; data?: Buffer }>> {
  return new Promise((resolve, reject) => {
    const args = ['cat-file', contents ? '--batch' : '--batch-check']
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    const out = new Map<string, { info: BlobInfo; data?: Buffer }>()
    let buffer: Buffer = Buffer.alloc(0)
    // Pieces of an object still arriving, and the bytes buffer + pending needs: concatenated once
    // they are all here (concatenating each piece would copy a large stub once per piece).
    let pending: Buffer[] = []
    let pendingBytes = 0
    let needed = 0
    let stderr = ''
    child.stdout.on('data', (piece: Buffer) => {
      if (buffer.length + pendingBytes + piece.length < needed) {
        pending.push(piece)
        pendingBytes += piece.length
        return
      }
      const chunk = pending.length === 0 ? piece : Buffer.concat([...pending, piece])
      pending = []
      pendingBytes = 0
      needed = 0
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
      for (;;) {
        const nl = buffer.indexOf(10)
        if (nl < 0) return
        const [sha = '', type = '', sizeText = ''] = buffer.toString('utf8', 0, nl).split(' ')
        if (type === 'missing') {
          buffer = buffer.subarray(nl + 1)
          continue
        }
        const size = Number(sizeText)
        if (!contents) {
          out.set(sha, { info: { sha, type, size } })
          buffer = buffer.subarray(nl + 1)
          continue
        }
        if (buffer.length < nl + 1 + size + 1) {
          needed = nl + 1 + size + 1
          return
        }
        out.set(sha, {
          info: { sha, type, size },
          data: Buffer.from(buffer.subarray(nl + 1, nl + 1 + size)),
        })
        buffer = buffer.subarray(nl + 1 + size + 1)
      }
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', (err) =>
      reject(new MlvcError('GIT', `could not run git cat-file: ${err.message}`, { cause: err })),
    )
    child.on('close', (code) => {
      if (code === 0) resolve(out)
      else reject(new MlvcError('GIT', `git cat-file failed in ${cwd}: ${stderr.trim()}`))
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(shas.length > 0 ? `${shas.join('\n')}\n` : '')
  })
}

export async function objectInfo(
  cwd: string,
  shas: readonly string[],
): Promise<Map<string, BlobInfo>> {
  const result = await catFile(cwd, shas, false)
  return new Map([...result].map(([sha, { info }]) => [sha, info]))
}

export async function readObjects(
  cwd: string,
  shas: readonly string[],
): Promise<Map<string, Buffer>> {
  const result = await catFile(cwd, shas, true)
  return new Map([...result].map(([sha, { data }]) => [sha, data ?? Buffer.alloc(0)]))
}
