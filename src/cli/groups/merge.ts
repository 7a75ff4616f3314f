import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

/** Merging checkpoints tensor by tensor: merge, resolve. */
export function mergeCommands(program: Command): void {
  program
    .command('merge')
    .description('git merge, choosing how checkpoint tensors changed on both sides are merged')
    .argument('<args...>', 'what git merge takes (a branch, -m MESSAGE, …)')
    .option(
      '-s, --strategy <spec>',
      'fail, ours, theirs, base, average[:weights=a/b], task-arithmetic[:lambda=x], ties[:density=x,lambda=y]',
    )
    .option('-i, --interactive', 'ask on the terminal for each tensor changed on both sides')
    .allowUnknownOption()
    .action(runs(async () => (await import('../commands/resolve.ts')).merge))

  program
    .command('resolve')
    .description('finish a conflicted checkpoint merge with a strategy, and stage the result')
    .argument('<path>', 'the conflicted file')
    .requiredOption(
      '-s, --strategy <spec>',
      'ours, theirs, base, average[:weights=a/b], task-arithmetic[:lambda=x], ties[:density=x,lambda=y]',
    )
    .action(runs(async () => (await import('../commands/resolve.ts')).resolve))
}
