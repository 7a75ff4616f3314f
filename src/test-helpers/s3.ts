import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, expect } from 'vitest'
import { type S3Server, startRgw } from '../../services/rgw.ts'
import { type GitSandbox, gitSandbox } from './git.ts'

/** A client of the test server with its credentials, path-style. */
export function s3Client(server: S3Server): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  })
}

/** Gives each sandbox user the server's credentials (the SDK's environment) and runs mlvc install. */
export async function s3Users(server: S3Server, users: GitSandbox[], cwd: string): Promise<void> {
  for (const user of users) {
    Object.assign(user.env, {
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    })
    expect((await user.mlvc(cwd, 'install')).code).toBe(0)
  }
}

/**
 * A test file's S3 team: ada and bob (git sandboxes with the server's credentials and mlvc
 * installed), a Ceph RGW started before the file's tests and stopped after them, and `bucket`
 * created. Call it at the top of the file; `server()` is valid inside the tests.
 */
export function s3Team(
  root: string,
  bucket: string,
): { ada: GitSandbox; bob: GitSandbox; server(): S3Server } {
  const ada = gitSandbox(root, 'ada')
  const bob = gitSandbox(root, 'bob')
  let server: S3Server | undefined
  beforeAll(async () => {
    server = await startRgw()
    await s3Users(server, [ada, bob], root)
    await s3Client(server).send(new CreateBucketCommand({ Bucket: bucket }))
  })
  afterAll(() => server?.stop())
  return {
    ada,
    bob,
    server() {
      if (!server) throw new Error('the S3 server is not started yet (use server() inside tests)')
      return server
    },
  }
}
