import { fileError } from '../core/index.ts'
import { type Manifest, readManifest, type Store } from '../store/index.ts'
import type { Stub } from './stub.ts'

/**
 * What is wrong with a stub given the manifest its id names, or undefined when the stub agrees with
 * it. The manifest (read verified against its id) records the whole file's size and sha256, so the
 * check costs no hashing of the content.
 */
export function stubMismatch(stub: Stub, manifest: Manifest): string | undefined {
  if (manifest.type !== 'blob' && manifest.type !== 'file')
    return `stub's id ${stub.id} names a ${manifest.type} manifest, not a whole file`
  const problems: string[] = []
  if (manifest.size !== stub.size)
    problems.push(`stub says size ${stub.size} but its content id names ${manifest.size} bytes`)
  if (manifest.sha256 !== stub.sha256) {
    problems.push(
      `stub says sha256 ${stub.sha256} but its content id names content with sha256 ${manifest.sha256}`,
    )
  }
  return problems.length > 0 ? problems.join('; ') : undefined
}

/**
 * Reads the manifest a stub names (it must be in the store) and checks the stub against it; throws
 * BAD_STUB naming the file and the mismatch. A stub whose id names other content than its size
 * and sha256 say is hand-edited or damaged: its content must not be written under its name.
 */
export async function checkStubContent(store: Store, stub: Stub, path: string): Promise<Manifest> {
  const manifest = await readManifest(store, stub.id)
  const mismatch = stubMismatch(stub, manifest)
  if (mismatch !== undefined) {
    throw fileError('BAD_STUB', path, mismatch, {
      hint: 'check out a good version of the file (git checkout COMMIT -- FILE) or add the real file again',
    })
  }
  return manifest
}
