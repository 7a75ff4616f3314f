#!/usr/bin/env node
// After tsc: bundles the CLI and its worker threads into dist/bundle/cli/ (rolldown, ESM).
//
// Why: every git filter, hook and command is a fresh node process, and each worker thread loads
// its modules again. Loading tsc's ~200 files, each resolved and compiled on its own, cost a
// process about 0.35 s of CPU and a worker about 0.3 s before any work (measured with --cpu-prof:
// module resolution, package.json lookups, compilation). One bundle resolves nothing, and each
// worker's bundle holds only what it uses. Lazily imported commands stay lazy (separate chunks).
//
// Layout contract: the bundle sits three folders below the package root (dist/bundle/cli/, like
// dist/src/cli/), so main's `../../../package.json` and the web app's `../../../src/web` hold; the
// workers (and the deployments' runner process) are entries named as their sources
// (ingest-worker.js, …) in the same folder as every chunk, so `workerUrl(import.meta.url, NAME)`
// finds them from whichever chunk calls it. The tsc output in dist/src/ stays: unit tests
// that import src/ start workers from there.
import { rmSync } from 'node:fs'
import { rolldown } from 'rolldown'

const out = 'dist/bundle/cli'
rmSync(out, { recursive: true, force: true })
const bundle = await rolldown({
  input: {
    main: 'dist/src/cli/main.js',
    'ingest-worker': 'dist/src/store/ingest-worker.js',
    'verify-worker': 'dist/src/store/verify-worker.js',
    'stats-worker': 'dist/src/checkpoint/stats-worker.js',
    // The process a node or onnx deployment version runs in (src/deploy/runner.ts forks it).
    'runner-node': 'dist/src/deploy/runner-node.js',
  },
  platform: 'node',
  // The AWS SDK is large and loaded only for S3 remotes; the database drivers are required at run
  // time (better-sqlite3 is native); onnxruntime-web finds its WebAssembly files beside itself.
  external: [/^@aws-sdk\//, /^@smithy\//, 'better-sqlite3', 'pg', 'onnxruntime-web'],
  logLevel: 'warn',
})
await bundle.write({
  dir: out,
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: 'chunk-[name]-[hash].js',
})
await bundle.close()
