import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

/** The store: init, put, get, fsck, gc, pin, unpin. */
export function storeCommands(program: Command): void {
  program
    .command('init')
    .description('create .mlvc/ and the store (inside Git the store lives in .git/mlvc)')
    .action(runs(async () => (await import('../commands/init.ts')).init))

  program
    .command('put')
    .description('store files; print the id of each')
    .argument('<file...>', 'files to store')
    .option('--no-pin', 'do not keep the files from gc (they are kept until mlvc unpin otherwise)')
    .action(runs(async () => (await import('../commands/put.ts')).put))

  program
    .command('get')
    .description('write the file an id names to OUT, verified against its sha256')
    .argument('<id>', 'an id printed by mlvc put')
    .argument(
      '<out>',
      'where to write the file: a new path, or "-" for standard output (every chunk is verified before it is written, the whole file at the end; if that fails, mlvc exits non-zero and standard output may have received a correct prefix of the file)',
    )
    .option(
      '-f, --force',
      'replace OUT if it is a regular file (devices, FIFOs, sockets, directories and symbolic links are never replaced)',
    )
    .action(runs(async () => (await import('../commands/get.ts')).get))

  program
    .command('fsck')
    .description(
      'verify every object in the store and the stubs of HEAD and the index, or (--remote) a remote; exit 1 on any problem',
    )
    .option('--repair', 'replace damaged and missing objects with good copies from a remote')
    .option(
      '--remote <name>',
      'check this remote: every pack index, every object against its id, and everything the local branches, tags and refs/remotes/NAME/* reference (with --repair: the remote to repair from)',
    )
    .option(
      '--quick',
      'with --remote: check the indexes and pack sizes only, not the objects’ bytes',
    )
    .action(runs(async () => (await import('../commands/fsck.ts')).fsck))

  program
    .command('gc')
    .description(
      'remove objects nothing references (never anything written in the last hour); --remote: from a remote',
    )
    .option('-n, --dry-run', 'report what would be removed')
    .option(
      '--remote <name>',
      'gc this remote: keep what the commits of refs/remotes/NAME/* (the Git remote of the same name) reference',
    )
    .option('--keep <branch...>', 'with --remote: keep what these branches reference too')
    .option(
      '--grace <duration>',
      'with --remote: never remove what was written in this period (30s, 10m, 1h, 2d, 0; default 1h)',
    )
    .action(runs(async () => (await import('../commands/gc.ts')).gc))

  program
    .command('pin')
    .description('keep objects from gc; without ids, list the pins')
    .argument('[id...]', 'ids to pin')
    .action(runs(async () => (await import('../commands/pin.ts')).pin))

  program
    .command('unpin')
    .description('let gc remove objects once nothing else references them')
    .argument('<id...>', 'ids to unpin')
    .action(runs(async () => (await import('../commands/pin.ts')).unpin))
}
