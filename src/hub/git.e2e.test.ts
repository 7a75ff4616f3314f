import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { damageFile, pseudoRandomBytes, runCli, tempDir } from '../test-helpers/index.ts'
import { findRepo, loadHubConfig, openHub } from './index.ts'
import { basic, type HubProcess, hubAdmin, loginAs, startHubProcess } from './test-helpers/index.ts'

// One hub for the file; ada and bob are users of it and of real git, each with their own HOME.
const MiB = 1024 * 1024
const root = tempDir('mlvc-hub-git')
const data = join(root, 'hub')
const ada = gitSandbox(root, 'ada')
const bob = gitSandbox(root, 'bob')
let hub: HubProcess
const tokens: Record<string, string> = {}

beforeAll(async () => {
  for (const name of ['ada', 'bob']) {
    await hubAdmin(data, 'user', 'add', name)
    tokens[name] = await hubAdmin(data, 'token', 'create', name)
  }
  await hubAdmin(data, 'repo', 'create', 'ada/models')
  await hubAdmin(data, 'repo', 'create', 'ada/gated')
  await hubAdmin(data, 'repo', 'create', 'ada/auto')
  await hubAdmin(data, 'repo', 'create', 'ada/vault')
  await hubAdmin(data, 'repo', 'grant', 'ada/models', 'bob', 'read')
  hub = await startHubProcess(data)
  for (const [user, sandbox] of [
    ['ada', ada],
    ['bob', bob],
  ] as const) {
    expect((await sandbox.mlvc(root, 'install')).code).toBe(0)
    const done = await loginAs(sandbox, hub.url, user, tokens[user] as string)
    expect(done.code, done.stderr).toBe(0)
    expect(done.stdout).toContain(`logged in to ${hub.url} as ${user}`)
  }
})
afterAll(() => hub?.stop())

describe('git and mlvc through the hub', () => {
  test('mlvc login checks the token and stores it for git', async () => {
    const wrong = await loginAs(ada, hub.url, 'ada', tokens.bob as string)
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('refused the token for ada')
    const credentials = readFileSync(join(ada.home, '.git-credentials'), 'utf8')
    expect(credentials).toContain(`http://ada:${tokens.ada}@127.0.0.1`)
  })

  test('ada pushes a model with git push, bob clones and pulls every byte; bob may not push', async () => {
    const repo = join(root, 'ada-models')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/models`, repo)
    expect((await ada.mlvc(repo, 'init')).code).toBe(0)
    expect((await ada.mlvc(repo, 'track', '*.bin')).code).toBe(0)
    const add = await ada.mlvc(repo, 'remote', 'add', 'origin', `${hub.url}/ada/models`)
    expect(add.code, add.stderr).toBe(0)
    const model = pseudoRandomBytes(3 * MiB + 3, 7)
    writeFileSync(join(repo, 'model.bin'), model)
    await ada.git(repo, 'add', '.')
    await ada.git(repo, 'commit', '-qm', 'model')
    const push = await ada.gitResult(repo, 'push', 'origin', 'HEAD:main')
    expect(push.code, push.stderr).toBe(0)
    expect(readdirSync(join(data, 'objects'))).toHaveLength(1)

    const clone = join(root, 'bob-models')
    await bob.git(root, 'clone', '-q', `${hub.url}/ada/models.git`, clone)
    // The checkout's smudge filter already fetched from the hub (bob logged in); pull has nothing left.
    expect(readFileSync(join(clone, 'model.bin')).equals(model)).toBe(true)
    const pull = await bob.mlvc(clone, 'pull')
    expect(pull.code, pull.stderr).toBe(0)
    expect(readFileSync(join(clone, 'model.bin')).equals(model)).toBe(true)

    writeFileSync(join(clone, 'notes.txt'), 'bob was here\n')
    await bob.git(clone, 'add', 'notes.txt')
    await bob.git(clone, 'commit', '-qm', 'notes')
    const denied = await bob.gitResult(clone, 'push', 'origin', 'HEAD:main')
    expect(denied.code).not.toBe(0)
    expect(denied.stderr).toMatch(/403/)
  })

  test('git push of stubs whose data the hub lacks is refused, naming the files and mlvc push; after mlvc push it lands', async () => {
    const repo = join(root, 'ada-gated')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/gated`, repo)
    expect((await ada.mlvc(repo, 'init')).code).toBe(0)
    expect((await ada.mlvc(repo, 'track', '*.bin')).code).toBe(0)
    expect((await ada.mlvc(repo, 'remote', 'add', 'origin', `${hub.url}/ada/gated`)).code).toBe(0)
    writeFileSync(join(repo, 'weights.bin'), pseudoRandomBytes(3 * MiB, 11))
    writeFileSync(join(repo, 'README'), 'gated\n')
    await ada.git(repo, 'add', '.')
    await ada.git(repo, 'commit', '-qm', 'weights')
    const refused = await ada.gitResult(repo, 'push', '--no-verify', 'origin', 'HEAD:main')
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('weights.bin')
    expect(refused.stderr).toContain('mlvc push')
    expect(refused.stderr).toContain('pre-receive hook declined')
    // Refused whole: the hub's branch did not move.
    expect((await ada.git(repo, 'ls-remote', 'origin')).trim()).toBe('')

    const upload = await ada.mlvc(repo, 'push')
    expect(upload.code, upload.stderr).toBe(0)
    const again = await ada.gitResult(repo, 'push', '--no-verify', 'origin', 'HEAD:main')
    expect(again.code, again.stderr).toBe(0)
  })

  test("with no mlvc remote configured, Git's origin on a hub is the mlvc remote", async () => {
    const repo = join(root, 'ada-auto')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/auto`, repo)
    expect((await ada.mlvc(repo, 'init')).code).toBe(0)
    expect((await ada.mlvc(repo, 'track', '*.bin')).code).toBe(0)
    const model = pseudoRandomBytes(2 * MiB, 21)
    writeFileSync(join(repo, 'auto.bin'), model)
    await ada.git(repo, 'add', '.')
    await ada.git(repo, 'commit', '-qm', 'auto')
    // The push gate would refuse the commit if pre-push had not uploaded to the hub.
    const push = await ada.gitResult(repo, 'push', 'origin', 'HEAD:main')
    expect(push.code, push.stderr).toBe(0)
    const clone = join(root, 'bob-auto')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/auto`, clone)
    expect(readFileSync(join(clone, 'auto.bin')).equals(model)).toBe(true)
  })

  test('an encrypted hub remote: the hub stores only ciphertext, a clone with the key gets every byte', async () => {
    const repo = join(root, 'ada-vault')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/vault`, repo)
    expect((await ada.mlvc(repo, 'init')).code).toBe(0)
    expect((await ada.mlvc(repo, 'track', '*.bin')).code).toBe(0)
    const add = await ada.mlvc(repo, 'remote', 'add', 'origin', `${hub.url}/ada/vault`, '--encrypt')
    expect(add.code, add.stderr).toBe(0)
    const secret = pseudoRandomBytes(MiB, 41)
    writeFileSync(join(repo, 'secret.bin'), secret)
    await ada.git(repo, 'add', '.')
    await ada.git(repo, 'commit', '-qm', 'secret')
    const push = await ada.gitResult(repo, 'push', 'origin', 'HEAD:main')
    expect(push.code, push.stderr).toBe(0)
    const hubOpen = await openHub(await loadHubConfig({ data }))
    const vault = (await findRepo(hubOpen.db, 'ada', 'vault'))?.id as string
    await hubOpen.close()
    const stored = readdirSync(join(data, 'objects', vault), { recursive: true }).map(String)
    expect(stored).toContain('mlvc-encryption.json')
    expect(stored.some((k) => k.startsWith('packs'))).toBe(false)
    const sample = secret.subarray(1000, 1032)
    for (const key of stored) {
      const path = join(data, 'objects', vault, key)
      if (statSync(path).isFile()) expect(readFileSync(path).includes(sample)).toBe(false)
    }
    const clone = join(root, 'ada-vault-clone')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/vault`, clone)
    expect(readFileSync(join(clone, 'secret.bin')).equals(secret)).toBe(true)
    // The browsing API shows the file's facts from its stub but cannot serve what it cannot read.
    const auth = { authorization: basic('ada', tokens.ada as string) }
    const api = `${hub.url}/api/v1/repos/ada/vault`
    const file = await (await fetch(`${api}/file?path=secret.bin`, { headers: auth })).json()
    expect(file).toMatchObject({ kind: 'tracked', size: MiB })
    const raw = await fetch(`${api}/raw?path=secret.bin`, { headers: auth })
    expect(raw.status).toBe(409)
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('MISSING_KEY')
  })

  test('a pack whose objects do not match its index is refused whole', async () => {
    const store = join(root, 'ada-models/.git/mlvc/packs')
    const name = readdirSync(store)
      .find((f) => f.endsWith('.idx'))
      ?.slice(0, -4) as string
    const pack = readFileSync(join(store, `${name}.pack`))
    const idx = readFileSync(join(store, `${name}.idx`))
    const damaged = Buffer.from(pack)
    damaged[damaged.length - 100] = (damaged[damaged.length - 100] as number) ^ 1
    const auth = { authorization: basic('ada', tokens.ada as string) }
    const base = `${hub.url}/ada/gated/mlvc/objects/packs/x-${name}`
    expect(
      (await fetch(`${base}.pack`, { method: 'PUT', headers: auth, body: damaged })).status,
    ).toBe(201)
    const refused = await fetch(`${base}.idx`, { method: 'PUT', headers: auth, body: idx })
    expect(refused.status).toBe(422)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /does not match|damaged|bytes/,
    )
    expect((await fetch(`${base}.pack`, { method: 'HEAD', headers: auth })).status).toBe(404)
    expect((await fetch(`${base}.idx`, { method: 'HEAD', headers: auth })).status).toBe(404)
    // The same pack, undamaged, is accepted.
    expect((await fetch(`${base}.pack`, { method: 'PUT', headers: auth, body: pack })).status).toBe(
      201,
    )
    expect((await fetch(`${base}.idx`, { method: 'PUT', headers: auth, body: idx })).status).toBe(
      201,
    )
    const have = await fetch(`${hub.url}/ada/gated/mlvc/have`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ['bafkreiaaaa'] }),
    })
    expect(((await have.json()) as { have: string[] }).have).toEqual([])
  })

  test('ranged downloads answer 206 with the asked bytes', async () => {
    const auth = { authorization: basic('ada', tokens.ada as string) }
    const listing = (await (
      await fetch(`${hub.url}/ada/models/mlvc/objects?prefix=packs/`, { headers: auth })
    ).json()) as {
      objects: Array<{ key: string; size: number }>
    }
    const pack = listing.objects.find((o) => o.key.endsWith('.pack'))
    expect(pack).toBeDefined()
    const ranged = await fetch(`${hub.url}/ada/models/mlvc/objects/${pack?.key}`, {
      headers: { ...auth, range: 'bytes=10-19' },
    })
    expect(ranged.status).toBe(206)
    expect(ranged.headers.get('content-range')).toBe(`bytes 10-19/${pack?.size}`)
    expect((await ranged.arrayBuffer()).byteLength).toBe(10)
  })

  test('mlvc hub fsck finds a damaged pack and a stub whose data is gone; mlvc hub gc removes what interrupted uploads left', async () => {
    const clean = await runCli(['hub', 'fsck', '--data', data])
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    expect(clean.stdout).toMatch(/4 repositories, \d+ packs, 3 stubs checked: clean/)

    const hubOpen = await openHub(await loadHubConfig({ data }))
    const models = (await findRepo(hubOpen.db, 'ada', 'models'))?.id as string
    const auto = (await findRepo(hubOpen.db, 'ada', 'auto'))?.id as string
    await hubOpen.close()
    const packsOf = (id: string) => join(data, 'objects', id, 'packs')
    const modelPack = readdirSync(packsOf(models)).find((f) => f.endsWith('.pack')) as string
    const original = damageFile(join(packsOf(models), modelPack), -200)
    const autoIdx = readdirSync(packsOf(auto)).find((f) => f.endsWith('.idx')) as string
    rmSync(join(packsOf(auto), autoIdx))
    const stale = join(data, 'tmp', 'upload-stale')
    writeFileSync(stale, 'half an upload')
    utimesSync(stale, new Date(0), new Date(0))

    const damaged = await runCli(['hub', 'fsck', '--data', data])
    expect(damaged.code).toBe(1)
    expect(damaged.stdout).toMatch(
      new RegExp(`ERROR ada/models: packs/${modelPack}: object \\S+ at offset \\d+`),
    )
    expect(damaged.stdout).toContain('ERROR ada/auto: auto.bin: the hub lacks its data')
    expect(damaged.stdout).toContain(
      `warning ada/auto: packs/${autoIdx.replace('.idx', '.pack')} has no index`,
    )

    const gc = await runCli(['hub', 'gc', '--grace', '0', '--data', data])
    expect(gc.code, gc.stderr).toBe(0)
    expect(gc.stdout).toContain('removed 1 unfinished upload(s), 1 pack(s) without index')
    expect(readdirSync(join(data, 'tmp'))).not.toContain('upload-stale')
    writeFileSync(join(packsOf(models), modelPack), original)
  })

  test('the log is JSON lines and holds no token', () => {
    const lines = hub.log().trim().split('\n')
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    for (const token of Object.values(tokens)) expect(hub.log()).not.toContain(token)
    expect(hub.log()).not.toContain(Buffer.from(`ada:${tokens.ada}`).toString('base64'))
  })
})
