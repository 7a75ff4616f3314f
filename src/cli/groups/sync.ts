import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

/** Between the store and a remote: push, fetch, pull. */
export function syncCommands(program: Command): void {
  program
    .command('push')
    .description(
      'upload what the commits reference and the remote lacks (git push does this through the pre-push hook)',
    )
    .argument('[remote]', 'an mlvc remote (default: the default remote)')
    .argument('[rev...]', 'commits whose history to push (default HEAD)')
    .option('--all', 'every branch and tag')
    .action(runs(async () => (await import('../commands/sync.ts')).push))

  program
    .command('fetch')
    .description('download what the commits (default HEAD) need')
    .argument('[remote]', 'an mlvc remote (default: the default remote)')
    .argument('[rev...]', 'commits whose files to fetch (default HEAD)')
    .option('--all', 'the tips of every branch and tag')
    .action(runs(async () => (await import('../commands/sync.ts')).fetch))

  program
    .command('pull')
    .description('fetch what the checked-out files need and write them into the work tree')
    .argument('[remote]', 'an mlvc remote (default: the default remote)')
    .action(runs(async () => (await import('../commands/sync.ts')).pull))
}
