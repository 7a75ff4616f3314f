import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

const collect = (value: string, previous: string[]) => [...previous, value]
const REPO = '-r, --repo <dir>'
const REPO_HELP = 'the experiment repository (default: $DBX_REPO, or the nearest .dbx/ above)'

/**
 * `mlvc exp …`: a dbx experiment repository (`.dbx/`, `<name>/<id>/meta.json` and `log.jsonl`,
 * ExpFiles, RepoFiles in `.dbx/attach/`) — query, compare, plot, maintain and sync it.
 */
export function experimentCommands(program: Command): void {
  const exp = program
    .command('exp')
    .description(
      'experiments: runs with params, logs and files in a dbx repository; query, plot, sync',
    )
    .configureHelp({ sortSubcommands: false })

  exp
    .command('init')
    .description(
      'create an experiment repository (.dbx/) in DIR, keeping experiments already there',
    )
    .argument('[dir]', 'the folder (default: here)')
    .action(runs(async () => (await import('../exp/init.ts')).expInit))

  exp
    .command('list')
    .alias('ls')
    .description('experiments as a table; filter and sort by params, meta fields and metrics')
    .argument('[prefix]', 'only experiments whose name starts with this')
    .option(REPO, REPO_HELP)
    .option('-k, --kind <kind>', 'only experiments of this kind')
    .option(
      '-w, --where <expr>',
      'filter, repeatable: "lr<0.01", optimizer=adam, "min(loss)<0.5", @host=box1',
      collect,
      [],
    )
    .option(
      '-s, --sort <field>',
      'sort by a field: lr, @created, last(acc), min(val/*:loss); "-" first for descending',
    )
    .option('--desc', 'sort in descending order')
    .option('-c, --column <field>', 'add a column, repeatable (same fields as --sort)', collect, [])
    .option('-n, --limit <n>', 'show at most N experiments')
    .action(runs(async () => (await import('../exp/list.ts')).expList))

  exp
    .command('show')
    .description('one experiment: meta, params, files, RepoFiles, logs and last values')
    .argument('<id>', 'an id or a unique prefix of one')
    .option(REPO, REPO_HELP)
    .action(runs(async () => (await import('../exp/show.ts')).expShow))

  exp
    .command('compare')
    .description('params side by side (differing ones highlighted) and last/min/max of metrics')
    .argument('<id...>', 'two or more experiments')
    .option(REPO, REPO_HELP)
    .option(
      '-m, --metric <metric>',
      'a metric key, or PATTERN:KEY (e.g. val/*:acc); repeatable',
      collect,
      [],
    )
    .option('--diff', 'only the params that differ')
    .action(runs(async () => (await import('../exp/compare.ts')).expCompare))

  exp
    .command('metrics')
    .description('the series of an experiment’s metrics, as a table or CSV')
    .argument('<id>', 'an experiment')
    .option(REPO, REPO_HELP)
    .option(
      '-e, --event <pattern>',
      'events to read: "train" (and below), "train/*/end", "eval/**"',
    )
    .option(
      '-k, --key <key>',
      'a value key to show, repeatable (default: every numeric key)',
      collect,
      [],
    )
    .option(
      '--x <key>',
      'the x column: a value key, or "index" (default: step, or the number in the event name)',
    )
    .option('--csv', 'print CSV')
    .action(runs(async () => (await import('../exp/metrics.ts')).expMetrics))

  exp
    .command('plot')
    .description('an SVG chart of a metric over steps, one line per experiment, written to a file')
    .argument('[id...]', 'experiments (default: those matching --where, or all)')
    .requiredOption('-m, --metric <metric>', 'the metric: a key, or PATTERN:KEY (e.g. train:loss)')
    .option(REPO, REPO_HELP)
    .option(
      '-o, --output <file>',
      'where to write the SVG (default: <metric>.svg); a regular file there is replaced, anything else refused',
    )
    .option(
      '-w, --where <expr>',
      'choose experiments by filter, repeatable (as in list)',
      collect,
      [],
    )
    .option('--x <key>', 'the x values: a value key, or "index"')
    .option('--log-y', 'logarithmic y axis')
    .option('--title <title>', 'chart title (default: the metric)')
    .option('--width <px>', 'width in pixels (default 860)')
    .option('--height <px>', 'height in pixels (default 500)')
    .action(runs(async () => (await import('../exp/metrics.ts')).expPlot))

  exp
    .command('rm')
    .description('delete experiments; the deletion is recorded so sync carries it to other copies')
    .argument('<id...>', 'experiments')
    .option(REPO, REPO_HELP)
    .action(runs(async () => (await import('../exp/maintain.ts')).expRm))

  exp
    .command('gc')
    .description('remove RepoFiles no experiment links to (keeping those in .dbx/attachments)')
    .option(REPO, REPO_HELP)
    .option('-n, --dry-run', 'report what would be removed')
    .option('--grace <seconds>', 'keep RepoFiles younger than this (default 3600)')
    .action(runs(async () => (await import('../exp/maintain.ts')).expGc))

  exp
    .command('fsck')
    .description(
      'verify meta.json, ExpFiles (files.json), RepoFile links and bytes, log lines; exit 1 on errors',
    )
    .option(REPO, REPO_HELP)
    .action(runs(async () => (await import('../exp/maintain.ts')).expFsck))

  exp
    .command('sync')
    .description(
      'two-way sync of SRC and DST (DST is created if missing); with one argument, of this repository and that remote',
    )
    .argument('<src>', 'a repository folder, a file:// URL, or (alone) a remote name')
    .argument('[dst]', 'a repository folder or a file:// URL')
    .option(REPO, REPO_HELP)
    .option('--no-repofiles', 'leave RepoFile bytes behind (mlvc exp fetch gets them later)')
    .option('-n, --dry-run', 'report what would change')
    .option('--prefer <side>', 'settle conflicts: "src" or "dst" wins')
    .action(runs(async () => (await import('../exp/sync.ts')).expSync))

  const transfer = (name: 'push' | 'pull', what: string) =>
    exp
      .command(name)
      .description(`${what} (default remote: origin)`)
      .argument('[remote]', 'a name from mlvc exp remote, a folder or a file:// URL')
      .option(REPO, REPO_HELP)
      .option('--no-repofiles', 'leave RepoFile bytes behind (mlvc exp fetch gets them later)')
      .option('-n, --dry-run', 'report what would change')
      .option('--prefer <side>', 'settle conflicts: "local" or "remote" wins')
  transfer(
    'push',
    'send this repository’s new experiments, versions and deletions to a remote',
  ).action(runs(async () => (await import('../exp/sync.ts')).expPush))
  transfer('pull', 'bring a remote’s new experiments, versions and deletions here').action(
    runs(async () => (await import('../exp/sync.ts')).expPull),
  )

  exp
    .command('fetch')
    .description('get the RepoFiles experiments link to but this machine lacks')
    .argument('[id...]', 'only for these experiments')
    .option(REPO, REPO_HELP)
    .option(
      '--from <source>',
      'where to look (a remote name, folder or URL), repeatable',
      collect,
      [],
    )
    .action(runs(async () => (await import('../exp/sync.ts')).expFetch))

  const remote = exp
    .command('remote')
    .description('remotes of the repository (in .dbx/config.json)')
  remote
    .command('list', { isDefault: true })
    .description('list remotes')
    .option(REPO, REPO_HELP)
    .action(runs(async () => (await import('../exp/init.ts')).expRemoteList))
  remote
    .command('add')
    .description('add or change a remote')
    .argument('<name>')
    .argument('<url>', 'a folder (a repository) or a file:// URL (object layout)')
    .option(REPO, REPO_HELP)
    .action(runs(async () => (await import('../exp/init.ts')).expRemoteAdd))
  remote
    .command('remove')
    .alias('rm')
    .description('remove a remote')
    .argument('<name>')
    .option(REPO, REPO_HELP)
    .action(runs(async () => (await import('../exp/init.ts')).expRemoteRemove))

  exp
    .command('create')
    .description('create an experiment (for shell scripts); prints its id')
    .option(REPO, REPO_HELP)
    .option('--name <name>', 'group name, may hold "/"')
    .option('--kind <kind>', 'the kind of run (default: shell)')
    .option(
      '-p, --param <key=value>',
      'a parameter, repeatable; values are JSON when they parse',
      collect,
      [],
    )
    .option('--no-git', 'do not record Git state')
    .action(runs(async () => (await import('../exp/write.ts')).expCreate))

  exp
    .command('log')
    .description('append an event to an experiment’s log (safe alongside other writers)')
    .argument('<id>', 'the experiment')
    .argument('<event>', 'event name, e.g. train/epoch/3')
    .argument('[values...]', 'key=value pairs; values are JSON when they parse')
    .option(REPO, REPO_HELP)
    .option('--stream <name>', 'write to <name>.log.jsonl instead of log.jsonl')
    .action(runs(async () => (await import('../exp/write.ts')).expLog))

  exp
    .command('attach')
    .description(
      'store FILE as a RepoFile linked into experiment ID ("-" keeps it in .dbx/attachments)',
    )
    .argument('<id>', 'the experiment, or "-"')
    .argument('<file>', 'the file')
    .option(REPO, REPO_HELP)
    .option('--name <name>', 'its name in the experiment (default: the file name)')
    .action(runs(async () => (await import('../exp/write.ts')).expAttach))
}
