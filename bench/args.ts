import { parseArgs } from 'node:util'
import { PEERS } from './peers/repos.ts'
import { parseSize } from './sizes.ts'
import type { BenchOptions, PeerName } from './types.ts'

export interface CliArgs {
  options: BenchOptions
  /** Scenario names from --only; undefined runs them all. */
  only: string[] | undefined
  /** @default <package root>/.bench */
  work: string | undefined
  /** @default <package root>/BENCHMARKS.md */
  out: string | undefined
  write: boolean
  list: boolean
  help: boolean
}

export const USAGE = `usage: npm run bench -- [options]

  --only NAME,NAME     scenarios to run (default: all; --list shows them)
  --size SIZE          main input size: 1g, 256m, 64MiB, bytes (default 1g)
  --runs N             timed runs per subject (default 3)
  --warmup N           untimed runs before them (default 1)
  --quick              rss, git-checkout, ckpt-rss: 4×SIZE instead of 4 GiB as the large size
  --peers LIST         peers to run: git-lfs,git-annex,git (default: all; "none" for none)
  --work DIR           work folder for generated inputs and temporary stores (default .bench)
  --out FILE           report to (re)write (default BENCHMARKS.md)
  --no-write           print the table only
  --list               list the scenarios
  -h, --help           this text`

function positiveInt(text: string, name: string, min: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer ≥ ${min}`)
  return n
}

function parsePeers(text: string | undefined): PeerName[] {
  if (text === undefined) return [...PEERS]
  if (text === 'none') return []
  const names = text.split(',').filter(Boolean)
  const bad = names.filter((n) => !PEERS.includes(n as PeerName))
  if (bad.length > 0)
    throw new RangeError(`unknown peer ${bad.join(', ')} (known: ${PEERS.join(', ')})`)
  return names as PeerName[]
}

/** Parses the harness's command line (without node and the script). Throws RangeError on misuse. */
export function parseCli(argv: string[]): CliArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string' },
      size: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean' },
      peers: { type: 'string' },
      work: { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const size = parseSize(values.size ?? '1g')
  const quick = values.quick === true
  const large = quick ? 4 * size : Math.max(size, 4 * 2 ** 30)
  return {
    options: {
      size,
      rssSizes: [...new Set([size, large])],
      runs: positiveInt(values.runs ?? '3', 'runs', 1),
      warmup: positiveInt(values.warmup ?? '1', 'warmup', 0),
      peers: parsePeers(values.peers),
      quick,
    },
    only: values.only?.split(',').filter(Boolean),
    work: values.work,
    out: values.out,
    write: values['no-write'] !== true,
    list: values.list === true,
    help: values.help === true,
  }
}
