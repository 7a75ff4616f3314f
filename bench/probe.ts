// The machine-limit probe, run as its own process by the put and merge scenarios:
//   node dist/bench/probe.js read|sha256 FILE…
//   node dist/bench/probe.js copy FILE… DIR
// prints {"seconds": …, "bytes": …} for all the files together, timed inside the process (without node's start-up), so the
// figure is the limit itself. Reads with readSync into one 8 MiB buffer: measurements.md shows
// MiB-sized blocks are needed to reach the limit (64 KiB streams cut sha256 throughput 4–5×).
// `copy` also writes each file into a new file in DIR (removed after the timing): what writing
// that many bytes into new files costs, page cache allocation included.
import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'

function probe(kind: string, args: string[]): { seconds: number; bytes: number; sha256?: string } {
  const buffer = Buffer.allocUnsafe(8 << 20)
  const hash = kind === 'sha256' ? createHash('sha256') : undefined
  const dir = kind === 'copy' ? (args.at(-1) as string) : undefined
  const paths = dir === undefined ? args : args.slice(0, -1)
  const copies = paths.map((_, i) => join(dir ?? '', `probe-copy-${process.pid}-${i}`))
  const start = process.hrtime.bigint()
  let bytes = 0
  for (const [i, path] of paths.entries()) {
    const fd = openSync(path, 'r')
    const out = dir === undefined ? undefined : openSync(copies[i] as string, 'wx')
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) break
      hash?.update(buffer.subarray(0, n))
      if (out !== undefined) writeSync(out, buffer, 0, n)
      bytes += n
    }
    closeSync(fd)
    if (out !== undefined) closeSync(out)
  }
  const sha256 = hash?.digest('hex')
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (dir !== undefined) for (const copy of copies) unlinkSync(copy)
  return sha256 ? { seconds, bytes, sha256 } : { seconds, bytes }
}

const [kind, ...args] = process.argv.slice(2)
const arity = kind === 'copy' ? 2 : 1
if ((kind !== 'read' && kind !== 'sha256' && kind !== 'copy') || args.length < arity) {
  process.stderr.write('usage: probe.js read|sha256 FILE…, or probe.js copy FILE… DIR\n')
  process.exit(2)
}
process.stdout.write(`${JSON.stringify(probe(kind, args))}\n`)
