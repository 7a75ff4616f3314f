import { pushAll } from '../../src/core/index.ts'
import type { BenchContext } from '../context.ts'
import { removeTree } from '../fsutil.ts'
import { peerMissing } from '../peers/repos.ts'
import { unavailable } from '../rows.ts'
import type { PeerName, ResultRow, Unit } from '../types.ts'
import { subjectOf } from './repos.ts'
import { type GitTool, openSandbox, type Sandbox } from './sandbox.ts'

/** The peers a Git scenario can compare with. */
export type GitPeer = Extract<PeerName, GitTool>

export interface ToolChoice {
  /** mlvc first, then the peers that were asked for and are installed. */
  run: GitTool[]
  /** Peers asked for but not installed, with the reason. */
  missing: Array<{ tool: GitPeer; note: string }>
}

/** Which of a scenario's tools run: mlvc always, each peer if --peers lists it and it is installed. */
export function chooseTools(ctx: BenchContext, peers: readonly GitPeer[]): ToolChoice {
  const choice: ToolChoice = { run: ['mlvc'], missing: [] }
  for (const peer of peers.filter((p) => ctx.options.peers.includes(p))) {
    const note = peerMissing(ctx, peer)
    if (note) choice.missing.push({ tool: peer, note })
    else choice.run.push(peer)
  }
  return choice
}

export interface PerToolSpec {
  scenario: string
  peers: readonly GitPeer[]
  /** Names the subjects: "git add" gives "git add (mlvc)", "git annex add". */
  command: string
  /** Added to the subjects: "1000 files of 1 MiB". */
  detail?: string
  /** The row a missing peer gets. */
  metric: string
  unit: Unit
}

/**
 * Runs `rowsFor` once per tool, each in its own sandbox (removed afterwards); peers that are not
 * installed get an "unavailable" row that says how to install them.
 */
export async function rowsPerTool(
  ctx: BenchContext,
  spec: PerToolSpec,
  rowsFor: (sb: Sandbox) => Promise<ResultRow[]>,
): Promise<ResultRow[]> {
  const tools = chooseTools(ctx, spec.peers)
  const rows: ResultRow[] = []
  for (const tool of tools.run) {
    const sb = await openSandbox(ctx, tool)
    try {
      pushAll(rows, await rowsFor(sb))
    } finally {
      await removeTree(sb.home)
    }
  }
  for (const { tool, note } of tools.missing) {
    const who = { scenario: spec.scenario, subject: subjectOf(spec.command, tool, spec.detail) }
    rows.push(unavailable(who, spec.metric, spec.unit, note))
  }
  return rows
}
