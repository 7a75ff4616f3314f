import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { isErrno } from '../core/index.ts'
import { safeForTerminal } from './text.ts'

/**
 * Asks questions on the controlling terminal (/dev/tty), not on stdin/stdout: under `git merge`
 * those belong to git. Returns undefined when there is no terminal.
 */
export function openTerminal(): { ask(question: string): string; close(): void } | undefined {
  let fd: number
  try {
    fd = openSync('/dev/tty', 'r+')
  } catch (err) {
    if (isErrno(err, 'ENXIO') || isErrno(err, 'ENOENT') || isErrno(err, 'EACCES')) return undefined
    throw err
  }
  return {
    ask(question) {
      writeSync(fd, safeForTerminal(question))
      const bytes: number[] = []
      const one = Buffer.alloc(1)
      while (readSync(fd, one, 0, 1, null) === 1 && one.readUInt8(0) !== 0x0a)
        bytes.push(one.readUInt8(0))
      return Buffer.from(bytes).toString('utf8').trim()
    },
    close: () => closeSync(fd),
  }
}
