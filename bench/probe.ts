// The machine-limit probe, run as its own process by the put scenario:
//   node dist/bench/probe.js read|sha256 FILE…
// prints {"seconds": …, "bytes": …} for all the files together, timed inside the process (without node's start-up), so the
// figure is the limit itself. Reads with readSync into one 8 MiB buffer: measurements.md shows
// MiB-sized blocks are needed to reach the limit (64 KiB streams cut sha256 throughput 4–5×).
import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'

function probe(kind: string, paths: string[]): { seconds: number; bytes: number; sha256?: string } {
  const buffer = Buffer.allocUnsafe(8 << 20)
  const hash = kind === 'sha256' ? createHash('sha256') : undefined
  const start = process.hrtime.bigint()
  let bytes = 0
  for (const path of paths) {
    const fd = openSync(path, 'r')
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) break
      hash?.update(buffer.subarray(0, n))
      bytes += n
    }
    closeSync(fd)
  }
  const sha256 = hash?.digest('hex')
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return sha256 ? { seconds, bytes, sha256 } : { seconds, bytes }
}

const [kind, ...paths] = process.argv.slice(2)
if ((kind !== 'read' && kind !== 'sha256') || paths.length === 0) {
  process.stderr.write('usage: probe.js read|sha256 FILE…\n')
  process.exit(2)
}
process.stdout.write(`${JSON.stringify(probe(kind, paths))}\n`)
