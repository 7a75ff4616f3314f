import { join } from 'node:path'
import { placeFile } from '../fsutil.ts'
import { exec, tryExec } from '../proc.ts'
import { addAndCommit, initRepo } from './repos.ts'
import type { Sandbox } from './sandbox.ts'

/** The checkpoint's name in every ckpt-* work tree. */
export const CKPT = 'model.safetensors'
export const CKPT_PATTERN = '*.safetensors'
/** The first line of every mlvc stub starts with this. */
export const STUB_SIGNATURE = '# mlvc stub v1'
/** A checkpoint's stub has one line per tensor: a few tens of KiB for 200 tensors. */
const STUB_LIMIT = 1 << 20

/** A fresh repository (as `initRepo`) whose tool tracks `*.safetensors` (and `extra` patterns). */
export function initCkptRepo(sb: Sandbox, dir: string, extra: string[] = []): Promise<void> {
  return initRepo(sb, dir, [CKPT_PATTERN, ...extra])
}

/** Puts a version of the checkpoint in the work tree and commits it. */
export async function commitCheckpoint(
  sb: Sandbox,
  dir: string,
  file: string,
  how: 'link' | 'copy' = 'link',
): Promise<void> {
  await placeFile(file, join(dir, CKPT), how)
  await addAndCommit(sb, dir, [CKPT])
}

/** The tensor lines of a stub, or undefined when `text` is not an mlvc stub. */
export function stubTensorLines(text: string): string[] | undefined {
  if (!text.startsWith(STUB_SIGNATURE)) return undefined
  return text.split('\n').filter((line) => line.startsWith('tensor: '))
}

/**
 * Throws unless Git holds mlvc's stub for the checkpoint at `rev` (`:` for the index, `HEAD:`)
 * with a line for each of its tensors: the checkpoint went through the tensor path, not the
 * generic one, and not raw into Git.
 */
export async function checkCheckpointStub(
  sb: Sandbox,
  dir: string,
  expected: { rev: string; tensors: number; what: string },
): Promise<void> {
  const object = `${expected.rev}${CKPT}`
  const size = Number((await exec(sb.git(dir, ['cat-file', '-s', object]))).trim())
  if (size > STUB_LIMIT) {
    throw new Error(`${expected.what}: Git stored ${size} bytes for ${CKPT}, not a stub`)
  }
  const lines = stubTensorLines(await exec(sb.git(dir, ['cat-file', 'blob', object])))
  if (lines?.length !== expected.tensors) {
    const found = lines ? `${lines.length} tensor lines` : 'no mlvc stub'
    throw new Error(`${expected.what}: ${object} has ${found}, expected ${expected.tensors}`)
  }
}

/** Command names listed under "Commands:" in a commander help text. */
export function parseCommandList(help: string): string[] {
  const lines = help.split('\n')
  const start = lines.findIndex((line) => /^Commands:/.test(line))
  if (start < 0) return []
  return lines
    .slice(start + 1)
    .map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
}

/**
 * Whether this build of mlvc has a command. `mlvc NAME --help` cannot tell (commander prints the
 * general help, exit 0, for an unknown name), so the general help's command list is read.
 */
export async function mlvcHas(sb: Sandbox, dir: string, name: string): Promise<boolean> {
  const out = await tryExec(sb.mlvc(dir, ['--help']))
  return out.code === 0 && parseCommandList(out.stdout).includes(name)
}
