import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

const DATA_FLAG = '--data <dir>'
const DATA_HELP = "the hub's folder (default $MLVC_HUB_DATA, else ./mlvc-hub)"

/** The hub server and its administration (hub …), and logging in to a hub (login). */
export function hubCommands(program: Command): void {
  const hub = program
    .command('hub')
    .description('run and administer an mlvc hub (Git + mlvc objects + accounts)')
  hub
    .command('serve')
    .description(
      'start the hub: embedded database and objects in DIR unless hub.yaml says otherwise',
    )
    .option(DATA_FLAG, DATA_HELP)
    .option('--listen <host:port>', 'where to listen (default 127.0.0.1:8470)')
    .option('--database <url>', 'postgres://… instead of the embedded SQLite')
    .option('--objects <url>', 's3://BUCKET/PREFIX instead of DIR/objects')
    .action(runs(async () => (await import('../commands/hub.ts')).hubServe))
  const user = hub.command('user').description('hub users')
  user
    .command('add')
    .description('add a user')
    .argument('<name>')
    .option('--admin', 'a hub admin (may add users, sees every repository)')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubUserAdd))
  user
    .command('password')
    .description("set a user's password for the web app (read from standard input)")
    .argument('<name>')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubUserPassword))
  const org = hub.command('org').description('hub organizations')
  org
    .command('add')
    .description('add an organization, with its first admin')
    .argument('<name>')
    .requiredOption('--owner <user>', 'its first admin')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubOrgAdd))
  org
    .command('member')
    .description(
      "set a user's role in an organization (read, write or admin on all its repositories)",
    )
    .argument('<org>')
    .argument('<user>')
    .argument('<role>')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubOrgMember))
  const repo = hub.command('repo').description('hub repositories')
  repo
    .command('create')
    .description('create a repository OWNER/NAME (private unless --public)')
    .argument('<owner/name>')
    .option('--public', 'anyone may read it')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubRepoCreate))
  repo
    .command('grant')
    .description('give a user a role on a repository (read, write, admin or none)')
    .argument('<owner/name>')
    .argument('<user>')
    .argument('<role>')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubRepoGrant))
  repo
    .command('list', { isDefault: true })
    .description('list repositories')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubRepoList))
  const token = hub.command('token').description("users' access tokens (stored hashed: shown once)")
  token
    .command('create')
    .description('create a token for a user and print it (once)')
    .argument('<user>')
    .option('--scope <role>', 'the most it allows: read, write or admin', 'write')
    .option('--repo <owner/name>', 'good for this repository only')
    .option('--expires <duration>', 'lifetime: 30d, 12h, … (default: never)')
    .option('--name <name>', 'what it is for', 'cli')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubTokenCreate))
  token
    .command('list')
    .description("a user's tokens (never their secrets)")
    .argument('<user>')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubTokenList))
  token
    .command('revoke')
    .description('revoke a token by id')
    .argument('<user>')
    .argument('<id>')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubTokenRevoke))
  const mirror = hub
    .command('mirror')
    .description('sync a repository both ways with another Git server')
  mirror
    .command('set')
    .description('mirror OWNER/NAME with a Git URL; prints the webhook secret (once)')
    .argument('<owner/name>')
    .argument('<url>', 'the other server: https://github.com/…, another hub, …')
    .option('--user <name>', 'user name on the mirror')
    .option('--password-stdin', 'read the password or token for the mirror from standard input')
    .option(
      '--interval <duration>',
      'pull it this often (default 5m; 0: on pushes and webhook calls only)',
    )
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubMirrorSet))
  mirror
    .command('status', { isDefault: true })
    .description('last sync, last error, and branches that moved on both sides')
    .argument('<owner/name>')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubMirrorStatus))
  mirror
    .command('sync')
    .description('sync now: fetch the mirror, push what the hub has that it lacks')
    .argument('<owner/name>')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubMirrorSync))
  hub
    .command('fsck')
    .description(
      "check every repository: git fsck, each pack's objects against their ids, every stub's data present",
    )
    .option('--quick', 'do not read every object back')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubFsck))
  hub
    .command('gc')
    .description(
      'remove what interrupted uploads and pushes left behind, and git gc every repository',
    )
    .option('--grace <duration>', 'leave what is younger (work in progress)', '1h')
    .option('--dry-run', 'only count what would go')
    .option(DATA_FLAG, DATA_HELP)
    .action(runs(async () => (await import('../commands/hub.ts')).hubGc))
  hub
    .command('hook', { hidden: true })
    .description('the hooks git runs inside the hub')
    .argument('<name>', 'pre-receive')
    .action(runs(async () => (await import('../commands/hub.ts')).hubHook))

  program
    .command('login')
    .description("store a hub token where git's credential helper and mlvc find it")
    .argument('<url>', 'the hub, http(s)://HOST[:PORT]')
    .requiredOption('--user <name>', 'your user name on the hub')
    .option('--token-stdin', 'read the token from standard input (else it is asked for)')
    .action(runs(async () => (await import('../commands/login.ts')).login))
}
