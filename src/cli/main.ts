#!/usr/bin/env node
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { Command } from '@commander-js/extra-typings'
import { run, type Shell } from './shell.ts'

const version = (createRequire(import.meta.url)('../../../package.json') as { version: string })
  .version

const program = new Command('mlvc')
  .description('Version control for machine learning: models, datasets and experiments in Git')
  .version(version, '-V, --version')
  .option('--json', 'print results as JSON on stdout')
  .option('-q, --quiet', 'print nothing but results and errors')
  .option('--debug', 'print stack traces on errors')
  .option('-C, --cwd <dir>', 'run as if started in <dir>')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false })

function shell(): Shell {
  const opts = program.opts()
  return {
    json: opts.json === true,
    quiet: opts.quiet === true,
    debug: opts.debug === true,
    cwd: resolve(opts.cwd ?? process.cwd()),
  }
}

program
  .command('init')
  .description('create .mlvc/ and the store (inside Git the store lives in .git/mlvc)')
  .action(() => run(shell(), async (io) => (await import('./commands/init.ts')).init(io)))

program
  .command('put')
  .description('store files; print the id of each')
  .argument('<file...>', 'files to store')
  .option('--no-pin', 'do not keep the files from gc (they are kept until mlvc unpin otherwise)')
  .action((files, options) =>
    run(shell(), async (io) =>
      (await import('./commands/put.ts')).put(files, { pin: options.pin }, io),
    ),
  )

program
  .command('get')
  .description('write the file an id names to OUT, verified against its sha256')
  .argument('<id>', 'an id printed by mlvc put')
  .argument('<out>', 'where to write the file')
  .option('-f, --force', 'replace OUT if it exists')
  .action((id, out, options) =>
    run(shell(), async (io) =>
      (await import('./commands/get.ts')).get(id, out, { force: options.force === true }, io),
    ),
  )

program
  .command('fsck')
  .description('verify every object in the store; exit 1 on corruption')
  .action(() => run(shell(), async (io) => (await import('./commands/fsck.ts')).fsck(io)))

program
  .command('gc')
  .description('remove objects nothing references (never anything written in the last hour)')
  .option('-n, --dry-run', 'report what would be removed')
  .action((options) =>
    run(shell(), async (io) =>
      (await import('./commands/gc.ts')).gc({ dryRun: options.dryRun === true }, io),
    ),
  )

program
  .command('pin')
  .description('keep objects from gc; without ids, list the pins')
  .argument('[id...]', 'ids to pin')
  .action((ids) => run(shell(), async (io) => (await import('./commands/pin.ts')).pin(ids, io)))

program
  .command('unpin')
  .description('let gc remove objects once nothing else references them')
  .argument('<id...>', 'ids to unpin')
  .action((ids) => run(shell(), async (io) => (await import('./commands/pin.ts')).unpin(ids, io)))

// Command groups that live in their own files register themselves here.

await program.parseAsync(process.argv)
