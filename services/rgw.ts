/**
 * A throwaway S3 server for tests and benchmarks: Ceph's RADOS Gateway (Debian's ceph 16.2) as a
 * single-node cluster on 127.0.0.1 — one monitor, one memstore OSD, radosgw with the beast
 * frontend — with everything (config, keyrings, data, logs, pids) inside one temporary folder.
 * Starts in 2–4 s; `stop()` kills the daemons and removes the folder.
 *
 * Settings that matter (found by trying them here):
 * - `ms mon client mode = crc` with `auth … required = none`: without it radosgw hangs at start-up
 *   until its init timeout (S3 SigV4 signatures are still checked);
 * - `paxos propose interval = 0.01`: start-up 2–4 s instead of ~12 s;
 * - pool size one, 8 PGs, no autoscale, chooseleaf type 0: a one-OSD cluster that is healthy.
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, missingCommands, waitFor } from './util.ts'

const run = promisify(execFile)

export const RGW_COMMANDS = [
  'monmaptool',
  'ceph-mon',
  'ceph-osd',
  'radosgw',
  'radosgw-admin',
  'ceph',
]
export const RGW_PACKAGES = ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph-common']

export interface S3Server {
  /** http://127.0.0.1:PORT */
  endpoint: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  /** The cluster's folder (logs in `log/`). */
  dir: string
  /**
   * Frees the space of deleted objects now. RGW deletes an object's head at once but leaves its
   * tail (everything past the first 4 MiB, multipart parts) to a garbage collector that waits
   * two hours, and the memstore OSD keeps it in memory until then: a benchmark that writes and
   * deletes gigabytes calls this after each delete.
   */
  collectGarbage(): Promise<void>
  stop(): Promise<void>
}

function config(dir: string, fsid: string, monPort: number, s3Port: number): string {
  const lines = {
    fsid,
    'mon host': `[v2:127.0.0.1:${monPort}]`,
    'public addr': '127.0.0.1',
    'cluster addr': '127.0.0.1',
    'ms bind msgr1': 'false',
    'ms bind ipv6': 'false',
    'auth cluster required': 'none',
    'auth service required': 'none',
    'auth client required': 'none',
    'ms mon client mode': 'crc',
    'run dir': `${dir}/run`,
    'crash dir': `${dir}/crash`,
    'log file': `${dir}/log/$name.log`,
    'pid file': `${dir}/run/$name.pid`,
    'admin socket': `${dir}/run/$name.asok`,
    'mon data': `${dir}/mon/$name`,
    'osd data': `${dir}/osd/$name`,
    keyring: `${dir}/keyring`,
    'paxos propose interval': '0.01',
    'mon allow pool size one': 'true',
    'osd pool default size': '1',
    'osd pool default min size': '1',
    'osd pool default pg num': '8',
    'osd pool default pgp num': '8',
    'osd pool default pg autoscale mode': 'off',
    'osd crush chooseleaf type': '0',
    'mon warn on pool no redundancy': 'false',
    'osd objectstore': 'memstore',
    'memstore device bytes': String(8 * 1024 ** 3),
    'osd memory target': String(1024 ** 3),
    'rgw frontends': `beast endpoint=127.0.0.1:${s3Port}`,
    'rgw init timeout': '60',
    'rgw max put size': String(5 * 1024 ** 3),
  }
  return `[global]\n${Object.entries(lines)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n')}\n`
}

/**
 * True when process `pid` runs with this cluster's config. The daemons get it from CEPH_CONF, not
 * from their command line ("radosgw -n client.rgw"), so that is where to look: a pid file left by
 * a dead daemon may name a process of someone else by now.
 */
function startedWith(pid: number, conf: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`CEPH_CONF=${conf}`)
  } catch {
    return false
  }
}

/** The daemons whose pid files are in `dir` and that still run with its config. */
export function clusterDaemons(dir: string): number[] {
  let names: string[] = []
  try {
    names = readdirSync(join(dir, 'run')).filter((n) => n.endsWith('.pid'))
  } catch {
    return []
  }
  const conf = join(dir, 'ceph.conf')
  return names.flatMap((name) => {
    const pid = Number(readFileSync(join(dir, 'run', name), 'utf8').trim())
    return Number.isInteger(pid) && pid > 1 && startedWith(pid, conf) ? [pid] : []
  })
}

/** Kills the cluster's daemons (only processes started with this dir's config). */
function killDaemons(dir: string): void {
  for (const pid of clusterDaemons(dir)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Starts a cluster; throws with the one-line install command when Ceph is not installed. */
export async function startRgw(): Promise<S3Server> {
  const missing = await missingCommands(RGW_COMMANDS)
  if (missing.length > 0) {
    throw new Error(
      `Ceph's RADOS Gateway is not installed (missing ${missing.join(', ')}): run \`apt-get install -y --no-install-recommends ${RGW_PACKAGES.join(' ')}\` or \`node scripts/setup.mjs\` as root`,
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'mlvc-rgw-'))
  for (const sub of ['log', 'run', 'mon', 'osd', 'crash']) mkdirSync(join(dir, sub))
  const [monPort, s3Port] = [await freePort(), await freePort()]
  const fsid = randomUUID()
  writeFileSync(join(dir, 'ceph.conf'), config(dir, fsid, monPort, s3Port))
  // Spawned daemons must not see the caller's config; every path they use is inside `dir`.
  const env = { ...process.env, CEPH_CONF: join(dir, 'ceph.conf') }
  const exec = (cmd: string, args: string[]) => run(cmd, args, { env, timeout: 60_000 })
  const server: S3Server = {
    endpoint: `http://127.0.0.1:${s3Port}`,
    region: 'us-east-1',
    accessKeyId: `MLVC${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(20).toString('base64url'),
    dir,
    async collectGarbage() {
      await exec('radosgw-admin', ['gc', 'process', '--include-all'])
    },
    async stop() {
      killDaemons(dir)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await exec('monmaptool', [
      '--create',
      '--fsid',
      fsid,
      '--addv',
      'a',
      `[v2:127.0.0.1:${monPort}]`,
      join(dir, 'monmap'),
    ])
    await exec('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')])
    await exec('ceph-mon', ['-i', 'a'])
    const osdUuid = randomUUID()
    const id = (await exec('ceph', ['osd', 'new', osdUuid])).stdout.trim()
    mkdirSync(join(dir, 'osd', `osd.${id}`))
    await exec('ceph-osd', ['-i', id, '--mkfs', '--osd-uuid', osdUuid])
    await exec('ceph-osd', ['-i', id])
    await exec('radosgw', ['-n', 'client.rgw'])
    await waitFor(
      async () => {
        const res = await fetch(`${server.endpoint}/`).catch(() => undefined)
        return res !== undefined && (await res.text()).includes('ListAllMyBucketsResult')
      },
      60_000,
      `radosgw at ${server.endpoint} (logs in ${dir}/log)`,
    )
    await exec('radosgw-admin', [
      'user',
      'create',
      '--uid=mlvc',
      '--display-name=mlvc',
      `--access-key=${server.accessKeyId}`,
      `--secret-key=${server.secretAccessKey}`,
    ])
    return server
  } catch (err) {
    await server.stop()
    throw err
  }
}

/** `node dist/services/rgw.js`: starts a server, prints its settings, stops on Ctrl-C. */
export async function main(): Promise<void> {
  const server = await startRgw()
  process.stdout.write(
    `${JSON.stringify({ endpoint: server.endpoint, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, dir: server.dir })}\n`,
  )
  const stop = () => {
    void server.stop().then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  setInterval(() => {}, 1 << 30)
}
