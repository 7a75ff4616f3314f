#!/usr/bin/env node
// The services the tests start themselves come from Debian's packages. Run as root (CI does), this
// installs the missing ones; otherwise it says in one line what to install. It never fails the
// run: a test that needs a missing service fails with the same line.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** command that proves the package is installed → Debian package */
const NEEDED = {
  'ceph-mon': 'ceph-mon',
  'ceph-osd': 'ceph-osd',
  radosgw: 'radosgw',
  'radosgw-admin': 'ceph-common',
  ceph: 'ceph-common',
  monmaptool: 'ceph-common',
  // The hub's multi-process tests start a throwaway PostgreSQL server.
  initdb: 'postgresql',
  pg_ctl: 'postgresql',
  // The web app's browser tests drive Debian's chromium (playwright-core downloads no browser).
  chromium: 'chromium',
}

/** Debian keeps PostgreSQL's server programs off the PATH, in /usr/lib/postgresql/VERSION/bin. */
function inPostgresLib(command) {
  const base = '/usr/lib/postgresql'
  return (
    existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, 'bin', command)))
  )
}

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      if (dir) {
        accessSync(join(dir, command), constants.X_OK)
        return true
      }
    } catch {}
  }
  return false
}

const missing = [
  ...new Set(
    Object.entries(NEEDED)
      .filter(([cmd]) => !onPath(cmd) && !inPostgresLib(cmd))
      .map(([, pkg]) => pkg),
  ),
]
if (missing.length === 0) process.exit(0)
const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing]
if (process.getuid?.() !== 0) {
  process.stdout.write(
    `setup: the S3 and hub tests need Debian packages: run \`sudo ${install.join(' ')}\`\n`,
  )
  process.exit(0)
}
process.stdout.write(`setup: installing ${missing.join(' ')} (apt-get)\n`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
let result = spawnSync(install[0], install.slice(1), { stdio: 'inherit', env })
if (result.status !== 0) {
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env })
  result = spawnSync(install[0], install.slice(1), { stdio: 'inherit', env })
}
if (result.status !== 0)
  process.stdout.write(
    `setup: ${install.join(' ')} failed; the S3, hub and browser tests will fail\n`,
  )
