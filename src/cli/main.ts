#!/usr/bin/env node
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { Command } from '@commander-js/extra-typings'
import { registerCheckpointCommands } from './checkpoint-commands.ts'
import { registerExperimentCommands } from './exp.ts'
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
  .argument(
    '<out>',
    'where to write the file: a new path, or "-" for standard output (every chunk is verified before it is written, the whole file at the end; if that fails, mlvc exits non-zero and standard output may have received a correct prefix of the file)',
  )
  .option(
    '-f, --force',
    'replace OUT if it is a regular file (devices, FIFOs, sockets, directories and symbolic links are never replaced)',
  )
  .action((id, out, options) =>
    run(shell(), async (io) =>
      (await import('./commands/get.ts')).get(id, out, { force: options.force === true }, io),
    ),
  )

program
  .command('fsck')
  .description(
    'verify every object in the store and the stubs of HEAD and the index; exit 1 on any problem',
  )
  .option('--repair', 'replace damaged and missing objects with good copies from a remote')
  .option('--remote <name>', 'the remote to repair from (default: the default remote)')
  .action((o) =>
    run(shell(), async (io) =>
      (await import('./commands/fsck.ts')).fsck(
        { repair: o.repair === true, remote: o.remote },
        io,
      ),
    ),
  )

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

const scope = (o: { local?: boolean; global?: boolean; system?: boolean }) =>
  o.local ? 'local' : o.system ? 'system' : 'global'

program
  .command('install')
  .description(
    "set up git's filter and merge driver (for your user by default) and this repository's hooks",
  )
  .option('--local', "in this repository's .git/config only")
  .option('--global', 'for your user (~/.gitconfig; the default)')
  .option('--system', 'for every user (/etc/gitconfig)')
  .action((o) =>
    run(shell(), async (io) => (await import('./commands/install.ts')).install(scope(o), io)),
  )

program
  .command('uninstall')
  .description('remove what mlvc install wrote (hooks that were there before are put back)')
  .option('--local', "from this repository's .git/config")
  .option('--global', 'from ~/.gitconfig (the default)')
  .option('--system', 'from /etc/gitconfig')
  .action((o) =>
    run(shell(), async (io) => (await import('./commands/install.ts')).uninstall(scope(o), io)),
  )

program
  .command('track')
  .description(
    'store files matching the patterns with mlvc (edits .gitattributes); without patterns, list them',
  )
  .argument('[pattern...]', 'gitattributes patterns, e.g. "*.safetensors"')
  .action((patterns) =>
    run(shell(), async (io) => (await import('./commands/track.ts')).track(patterns, io)),
  )

program
  .command('untrack')
  .description('stop storing files matching the patterns with mlvc')
  .argument('<pattern...>', 'patterns given to mlvc track')
  .action((patterns) =>
    run(shell(), async (io) => (await import('./commands/track.ts')).untrack(patterns, io)),
  )

program
  .command('status')
  .description(
    'tracked files: materialized, stubs, modified, missing from the store, not on the remote',
  )
  .action(() => run(shell(), async (io) => (await import('./commands/status.ts')).status(io)))

program
  .command('ls-files')
  .description('files stored by mlvc in a commit')
  .argument('[rev]', 'a commit (default HEAD)')
  .action((rev) =>
    run(shell(), async (io) => (await import('./commands/status.ts')).lsFiles(rev, io)),
  )

const remote = program
  .command('remote')
  .description('manage mlvc remotes (where the store syncs to)')
remote
  .command('add')
  .description(
    'add a remote: a folder path, file:// URL or s3://BUCKET/PREFIX (written to .mlvc/config.yaml, which you commit)',
  )
  .argument('<name>')
  .argument('<url>')
  .option('--local', 'write to .mlvc/config.local.yaml (this machine only)')
  .option('--default', 'make it the default remote (the first one added is)')
  .option('--endpoint <url>', 'S3: a custom endpoint (MinIO, Ceph, R2, GCS); omit for AWS')
  .option('--region <region>', "S3: the bucket's region")
  .option('--profile <name>', 'S3: an AWS profile (written to config.local.yaml)')
  .option('--path-style', 'S3: path-style addressing (the default with --endpoint)')
  .option('--no-path-style', 'S3: virtual-hosted addressing')
  .option('--encrypt', 'encrypt everything sent to it, with a new key kept outside Git')
  .option('--key <id>', 'encrypt with this imported key (mlvc key import) instead of a new one')
  .action((name, url, o) =>
    run(shell(), async (io) =>
      (await import('./commands/remote.ts')).remoteAdd(
        name,
        url,
        {
          local: o.local === true,
          default: o.default === true,
          endpoint: o.endpoint,
          region: o.region,
          profile: o.profile,
          pathStyle: o.pathStyle,
          encrypt: o.encrypt === true || o.key !== undefined,
          key: o.key,
        },
        io,
      ),
    ),
  )
remote
  .command('list', { isDefault: true })
  .description('list remotes: kind, URL, encryption (* marks the default)')
  .option('--no-check', 'do not ask each remote whether it answers')
  .action((o) =>
    run(shell(), async (io) =>
      (await import('./commands/remote.ts')).remoteList({ check: o.check !== false }, io),
    ),
  )
remote
  .command('remove')
  .description('remove a remote from the config (its data stays where it is)')
  .argument('<name>')
  .action((name) =>
    run(shell(), async (io) => (await import('./commands/remote.ts')).remoteRemove(name, io)),
  )
remote
  .command('default')
  .description('set the default remote')
  .argument('<name>')
  .action((name) =>
    run(shell(), async (io) => (await import('./commands/remote.ts')).remoteDefault(name, io)),
  )

const key = program
  .command('key')
  .description('encryption keys of encrypted remotes (kept outside Git, in ~/.config/mlvc/keys)')
key
  .command('list', { isDefault: true })
  .description('the keys on this machine, and which remotes of this repository use them')
  .action(() => run(shell(), async (io) => (await import('./commands/key.ts')).keyList(io)))
key
  .command('export')
  .description('print a key, to give to a teammate over a safe channel')
  .argument('[id-or-remote]', 'a key id (k-…) or a remote name (default: the default remote)')
  .action((which) =>
    run(shell(), async (io) => (await import('./commands/key.ts')).keyExport(which, io)),
  )
key
  .command('import')
  .description("store a teammate's key on this machine")
  .argument('<file>', 'a file written by mlvc key export, or - for standard input')
  .action((file) =>
    run(shell(), async (io) => (await import('./commands/key.ts')).keyImport(file, io)),
  )

program
  .command('push')
  .description(
    'upload what the commits reference and the remote lacks (git push does this through the pre-push hook)',
  )
  .argument('[remote]', 'an mlvc remote (default: the default remote)')
  .argument('[rev...]', 'commits whose history to push (default HEAD)')
  .option('--all', 'every branch and tag')
  .action((name, revs, o) =>
    run(shell(), async (io) =>
      (await import('./commands/sync.ts')).push(name, revs, { all: o.all === true }, io),
    ),
  )

program
  .command('fetch')
  .description('download what the commits (default HEAD) need')
  .argument('[remote]', 'an mlvc remote (default: the default remote)')
  .argument('[rev...]', 'commits whose files to fetch (default HEAD)')
  .option('--all', 'the tips of every branch and tag')
  .action((name, revs, o) =>
    run(shell(), async (io) =>
      (await import('./commands/sync.ts')).fetch(name, revs, { all: o.all === true }, io),
    ),
  )

program
  .command('pull')
  .description('fetch what the checked-out files need and write them into the work tree')
  .argument('[remote]', 'an mlvc remote (default: the default remote)')
  .action((name) => run(shell(), async (io) => (await import('./commands/sync.ts')).pull(name, io)))

program
  .command('filter-process', { hidden: true })
  .description("git's long-running filter (filter.mlvc.process)")
  .action(() =>
    run(shell(), async (io) => (await import('./commands/filter-process.ts')).filterProcess(io)),
  )

program
  .command('merge-driver', { hidden: true })
  .description("git's merge driver (merge.mlvc.driver)")
  .arguments('<base> <ours> <theirs> <path>')
  .action((base, ours, theirs, path) =>
    run(shell(), async (io) =>
      (await import('./commands/merge-driver.ts')).mergeDriver(base, ours, theirs, path, io),
    ),
  )

program
  .command('hook', { hidden: true })
  .description('git hooks installed by mlvc install')
  .argument('<name>')
  .argument('[args...]')
  .action((name, args) =>
    run(shell(), async (io) => {
      if (name !== 'pre-push')
        throw new (await import('../core/index.ts')).MlvcError('USAGE', `unknown hook ${name}`)
      return (await import('./commands/hook.ts')).prePush(args[0] ?? 'origin', io)
    }),
  )

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
  .action((args, o) =>
    run(shell(), async (io) =>
      (await import('./commands/resolve.ts')).merge(args, o.strategy, o.interactive === true, io),
    ),
  )

program
  .command('resolve')
  .description('finish a conflicted checkpoint merge with a strategy, and stage the result')
  .argument('<path>', 'the conflicted file')
  .requiredOption(
    '-s, --strategy <spec>',
    'ours, theirs, base, average[:weights=a/b], task-arithmetic[:lambda=x], ties[:density=x,lambda=y]',
  )
  .action((path, o) =>
    run(shell(), async (io) =>
      (await import('./commands/resolve.ts')).resolve(path, o.strategy, io),
    ),
  )

// Command groups that live in their own files register themselves here.
registerCheckpointCommands(program, shell)
registerExperimentCommands(program, shell)

await program.parseAsync(process.argv)
