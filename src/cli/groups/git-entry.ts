import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

/** What git runs (hidden): the filter process, the merge and diff drivers, the hooks. */
export function gitEntryCommands(program: Command): void {
  program
    .command('filter-process', { hidden: true })
    .description("git's long-running filter (filter.mlvc.process)")
    .action(runs(async () => (await import('../commands/filter-process.ts')).filterProcess))

  program
    .command('merge-driver', { hidden: true })
    .description("git's merge driver (merge.mlvc.driver)")
    .arguments('<base> <ours> <theirs> <path>')
    .action(runs(async () => (await import('../commands/merge-driver.ts')).mergeDriver))

  program
    .command('diff-driver', { hidden: true })
    .description("git's external diff driver (diff.mlvc.command)")
    .argument(
      '<args...>',
      'path old-file old-hex old-mode new-file new-hex new-mode [new-path xfrm]',
    )
    .allowUnknownOption()
    .action(runs(async () => (await import('../commands/diff-driver.ts')).diffDriver))

  program
    .command('hook', { hidden: true })
    .description('git hooks installed by mlvc install')
    .argument('<name>')
    .argument('[args...]')
    .action(runs(async () => (await import('../commands/hook.ts')).hook))
}
