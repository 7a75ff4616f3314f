import { S3Client } from '@aws-sdk/client-s3'
import { expect } from 'vitest'
import type { S3Server } from '../../services/rgw.ts'
import type { GitSandbox } from './git.ts'

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
