import { join } from 'node:path'
import type { BenchContext } from '../context.ts'
import { type Command, exec } from '../proc.ts'
import type { PeerName } from '../types.ts'

export const PEERS: readonly PeerName[] = ['git-lfs', 'git-annex', 'git']

/** How each peer's add is named in the tables. */
export const PEER_SUBJECT: Record<PeerName, string> = {
  'git-lfs': 'git add (git-lfs)',
  'git-annex': 'git annex add',
  git: 'git add (plain git)',
}

/** git annex add moves its input and drops write permission, so it gets a copy, not a link. */
export const PEER_PLACEMENT: Record<PeerName, 'link' | 'copy'> = {
  'git-lfs': 'link',
  'git-annex': 'copy',
  git: 'link',
}

/** Why a peer cannot run here, or undefined when it can. */
export function peerMissing(ctx: BenchContext, peer: PeerName): string | undefined {
  const { git, gitLfs, gitAnnex } = ctx.tools
  if (!git) return 'not available: git is not installed (apt-get install -y git)'
  if (peer === 'git-lfs' && !gitLfs) return 'not available (apt-get install -y git-lfs)'
  if (peer === 'git-annex' && !gitAnnex) return 'not available (apt-get install -y git-annex)'
  return undefined
}

/** Git with the user's and the system's config shut out, and an identity for commits. */
export function gitEnv(ctx: BenchContext): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_GLOBAL: ctx.work.gitConfig,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'mlvc bench',
    GIT_AUTHOR_EMAIL: 'bench@mlvc.invalid',
    GIT_COMMITTER_NAME: 'mlvc bench',
    GIT_COMMITTER_EMAIL: 'bench@mlvc.invalid',
  }
}

function git(ctx: BenchContext, dir: string, args: string[]): Command {
  return { file: ctx.tools.git ?? 'git', args, cwd: dir, env: gitEnv(ctx) }
}

/** A fresh repository set up the way each peer's documentation says. */
export async function initPeerRepo(ctx: BenchContext, peer: PeerName, dir: string): Promise<void> {
  await exec(git(ctx, dir, ['init', '-q']))
  switch (peer) {
    case 'git-lfs':
      await exec(git(ctx, dir, ['lfs', 'install', '--local']))
      await exec(git(ctx, dir, ['lfs', 'track', '*.bin', '*.safetensors']))
      return
    case 'git-annex':
      await exec(git(ctx, dir, ['annex', 'init', '--quiet', 'bench']))
      return
    case 'git':
      return
  }
}

/** The timed command: adding `name` (a file in the work tree) the peer's way. */
export function peerAddCommand(
  ctx: BenchContext,
  peer: PeerName,
  dir: string,
  name: string,
): Command {
  return peer === 'git-annex'
    ? git(ctx, dir, ['annex', 'add', '--quiet', name])
    : git(ctx, dir, ['add', name])
}

export async function commitAll(ctx: BenchContext, dir: string, message: string): Promise<void> {
  await exec(git(ctx, dir, ['commit', '-q', '-m', message]))
}

/** Where a peer keeps everything it stores: the repository's .git folder. */
export function peerStoreDir(dir: string): string {
  return join(dir, '.git')
}
