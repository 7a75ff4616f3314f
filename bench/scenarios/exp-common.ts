import { spawnSync } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchContext } from '../context.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import type { Series } from '../measure.ts'
import { type Command, describe } from '../proc.ts'
import { row, type Subject } from '../rows.ts'
import type { ResultRow, Target } from '../types.ts'

const GIB = 2 ** 30

/**
 * The counts at --size 1g and above; smaller sizes scale them down (for development),
 * never below `floor`. The subjects name the counts actually used.
 */
export function scaledCount(full: number, size: number, floor = 10): number {
  return Math.max(Math.min(full, floor), Math.round(full * Math.min(1, size / GIB)))
}

/** Reads every file under `dir` once, so that a timed command finds them in the page cache. */
export function warmTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) readFileSync(join(entry.parentPath, entry.name))
  }
}

/** A sandbox for `mlvc exp` (a private HOME, so neither the user's config nor DBX_REPO leak in). */
export function expSandbox(ctx: BenchContext): Promise<Sandbox> {
  return openSandbox(ctx, 'mlvc')
}

/** Time (with the target) and peak RSS of a series. */
export function timeRows(who: Subject, series: Series, target: Target): ResultRow[] {
  const rows = [row(who, 'time', 's', series.seconds, { target })]
  if (series.peakRssMiB.length > 0) rows.push(row(who, 'peak RSS', 'MiB', series.peakRssMiB))
  return rows
}

/** Runs an untimed command with its stdout in a file (for output over the harness's 1 MiB cap). */
export function execToFile(command: Command, path: string): void {
  const out = openSync(path, 'w')
  try {
    const done = spawnSync(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', out, 'pipe'],
      encoding: 'utf8',
    })
    if (done.status !== 0) {
      throw new Error(
        `${describe(command)} failed (exit code ${done.status}): ${done.stderr.trim()}`,
      )
    }
  } finally {
    closeSync(out)
  }
}
