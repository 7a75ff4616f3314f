import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import {
  CLI,
  pseudoRandomBytes,
  runCommand,
  type S3Server,
  startRgw,
  tempDir,
} from '../test-helpers/index.ts'
import { s3Client } from '../test-helpers/s3.ts'
import { basic, type HubProcess, hubAdmin, hubUser, startHubProcess } from './test-helpers/index.ts'

// The hub with its objects in S3 (Ceph RGW): the production part that the S3 remote code serves.
const MiB = 1024 * 1024
const root = tempDir('mlvc-hub-s3')
const data = join(root, 'hub')
const ada = gitSandbox(root, 'ada')
let server: S3Server
let hub: HubProcess
let token: string

beforeAll(async () => {
  server = await startRgw()
  await s3Client(server).send(new CreateBucketCommand({ Bucket: 'hub-objects' }))
  await hubAdmin(data, 'user', 'add', 'ada')
  token = await hubAdmin(data, 'token', 'create', 'ada')
  await hubAdmin(data, 'repo', 'create', 'ada/models')
  writeFileSync(
    join(data, 'hub.yaml'),
    `objects:\n  url: s3://hub-objects/hub\n  endpoint: ${server.endpoint}\n  region: ${server.region}\n  pathStyle: true\n`,
  )
  hub = await startHubProcess(data, {
    env: { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey },
  })
  await hubUser(ada, hub.url, 'ada', token)
}, 120_000)
afterAll(async () => {
  await hub?.stop()
  await server?.stop()
})

describe('a hub with its objects in S3', () => {
  test('git push stores the objects in the bucket (nothing on local disk); a clone gets every byte', async () => {
    const repo = join(root, 'repo')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/models`, repo)
    expect((await ada.mlvc(repo, 'init')).code).toBe(0)
    expect((await ada.mlvc(repo, 'track', '*.bin')).code).toBe(0)
    expect((await ada.mlvc(repo, 'remote', 'add', 'origin', `${hub.url}/ada/models`)).code).toBe(0)
    const model = pseudoRandomBytes(3 * MiB, 31)
    writeFileSync(join(repo, 'model.bin'), model)
    await ada.git(repo, 'add', '.')
    await ada.git(repo, 'commit', '-qm', 'model')
    const push = await ada.gitResult(repo, 'push', 'origin', 'HEAD:main')
    expect(push.code, push.stderr).toBe(0)
    const listed = await s3Client(server).send(
      new ListObjectsV2Command({ Bucket: 'hub-objects', Prefix: 'hub/' }),
    )
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '')
    expect(keys.some((k) => /^hub\/r_[0-9a-f]+\/packs\/.+\.idx$/.test(k))).toBe(true)

    const clone = join(root, 'clone')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/models`, clone)
    expect(readFileSync(join(clone, 'model.bin')).equals(model)).toBe(true)
    const fsck = await runCommand(process.execPath, [CLI, 'hub', 'fsck', '--data', data], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: server.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      },
    })
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0)
    expect(fsck.stdout).toContain('1 repositories, 1 packs, 1 stubs checked: clean')
    // The web app's download streams the content from the bucket (through the hub's cache store).
    const raw = await fetch(`${hub.url}/api/v1/repos/ada/models/raw?path=model.bin`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(raw.status).toBe(200)
    expect(Buffer.from(await raw.arrayBuffer()).equals(model)).toBe(true)
  })

  test('racing exclusive creates of one key (If-None-Match: *): exactly one wins, the others get 412', async () => {
    const url = `${hub.url}/ada/models/mlvc/objects/locks/race.json`
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(url, {
          method: 'PUT',
          headers: { authorization: basic('ada', token), 'if-none-match': '*' },
          body: JSON.stringify({ holder: i }),
        }).then(async (response) => {
          await response.arrayBuffer()
          return response.status
        }),
      ),
    )
    expect(answers.filter((status) => status === 201)).toHaveLength(1)
    expect(answers.filter((status) => status === 412)).toHaveLength(7)
    const held = await fetch(url, { headers: { authorization: basic('ada', token) } })
    expect(Object.keys(JSON.parse(await held.text()) as object)).toEqual(['holder'])
  })
})
