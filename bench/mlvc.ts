import type { BenchContext } from './context.ts'
import type { Command } from './proc.ts'

/**
 * The built CLI with its store in `storeDir` (MLVC_STORE), the user's config shut out
 * (MLVC_CONFIG_HOME: the run's own, empty unless a scenario passes another), and Git discovery
 * stopped at the run folder so the repository that holds .bench/ is not taken for the user's.
 */
export function mlvcCommand(
  ctx: BenchContext,
  storeDir: string,
  args: string[],
  configHome = ctx.work.mlvcConfigHome,
): Command {
  return {
    file: ctx.tools.node,
    args: [ctx.tools.mlvcCli, '--quiet', '--json', ...args],
    cwd: ctx.work.run,
    env: {
      ...process.env,
      MLVC_STORE: storeDir,
      MLVC_CONFIG_HOME: configHome,
      GIT_CEILING_DIRECTORIES: ctx.work.root,
    },
  }
}

export function mlvcPut(
  ctx: BenchContext,
  storeDir: string,
  files: string[],
  configHome?: string,
): Command {
  return mlvcCommand(ctx, storeDir, ['put', '--no-pin', ...files], configHome)
}

export interface PutReport {
  id: string
  size: number
  newBytes: number
}

/** The `--json` output of mlvc put. */
export function parsePut(stdout: string): PutReport[] {
  const data = JSON.parse(stdout) as unknown
  if (!Array.isArray(data))
    throw new Error(`mlvc put --json printed no list: ${stdout.slice(0, 200)}`)
  return data as PutReport[]
}
