import { access, constants } from 'node:fs/promises'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => done(port))
    })
  })
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    try {
      await access(join(dir, command), constants.X_OK)
      return true
    } catch {
      // not in this folder
    }
  }
  return false
}

/** The commands of `commands` that are not on the PATH. */
export async function missingCommands(commands: readonly string[]): Promise<string[]> {
  const found = await Promise.all(commands.map(onPath))
  return commands.filter((_, i) => !found[i])
}

/** Polls `ready` every 50 ms until it is true; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
