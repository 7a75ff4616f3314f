import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

/** Git set-up and the state of a repository: install, uninstall, track, untrack, status, ls-files. */
export function repositoryCommands(program: Command): void {
  program
    .command('install')
    .description(
      "set up git's filter and merge driver (for your user by default) and this repository's hooks",
    )
    .option('--local', "in this repository's .git/config only")
    .option('--global', 'for your user (~/.gitconfig; the default)')
    .option('--system', 'for every user (/etc/gitconfig)')
    .action(runs(async () => (await import('../commands/install.ts')).install))

  program
    .command('uninstall')
    .description('remove what mlvc install wrote (hooks that were there before are put back)')
    .option('--local', "from this repository's .git/config")
    .option('--global', 'from ~/.gitconfig (the default)')
    .option('--system', 'from /etc/gitconfig')
    .action(runs(async () => (await import('../commands/install.ts')).uninstall))

  program
    .command('track')
    .description(
      'store files matching the patterns with mlvc (edits .gitattributes); without patterns, list them',
    )
    .argument('[pattern...]', 'gitattributes patterns, e.g. "*.safetensors"')
    .action(runs(async () => (await import('../commands/track.ts')).track))

  program
    .command('untrack')
    .description('stop storing files matching the patterns with mlvc')
    .argument('<pattern...>', 'patterns given to mlvc track')
    .action(runs(async () => (await import('../commands/track.ts')).untrack))

  program
    .command('status')
    .description(
      'tracked files: materialized, stubs, modified, missing from the store, not on the remote',
    )
    .action(runs(async () => (await import('../commands/status.ts')).status))

  program
    .command('ls-files')
    .description('files stored by mlvc in a commit')
    .argument('[rev]', 'a commit (default HEAD)')
    .action(runs(async () => (await import('../commands/status.ts')).lsFiles))
}
