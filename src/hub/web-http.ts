import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { MlvcError } from '../core/index.ts'
import { HubHttpError } from './http.ts'

/**
 * The web app (src/web/), served by the hub itself so that it works with no internet: the page at
 * `/`, its modules under `/-/app/`, and the libraries it imports (preact, htm, uPlot) under
 * `/-/vendor/`, read from node_modules (never copied into the repository). `-` can start no
 * account name, so these paths never shadow a repository. No bundler: the browser loads ES modules
 * and an import map names the libraries.
 *
 * Caching: a vendor file's URL carries its package version and is cached for a year
 * (`immutable`); the page and the app's modules are revalidated on every load (`no-cache` with an
 * ETag). Every asset is sent gzip-compressed when the browser accepts it.
 */
export const WEB_PREFIX = '/-/'

interface Asset {
  body: Buffer
  gzip: Buffer
  type: string
  etag: string
  immutable: boolean
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}

/** Vendor URL name → package and file inside it. */
const VENDOR: Record<string, { pkg: string; file: string }> = {
  'preact.mjs': { pkg: 'preact', file: 'dist/preact.mjs' },
  'preact-hooks.mjs': { pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  'htm.mjs': { pkg: 'htm', file: 'dist/htm.mjs' },
  'uplot.mjs': { pkg: 'uplot', file: 'dist/uPlot.esm.js' },
  'uplot.css': { pkg: 'uplot', file: 'dist/uPlot.min.css' },
}

const here = dirname(fileURLToPath(import.meta.url))

/** src/web, from src/hub (tests) or dist/src/hub (the built CLI). */
export function webRoot(): string {
  for (const dir of [join(here, '..', 'web'), join(here, '..', '..', '..', 'src', 'web')])
    if (existsSync(join(dir, 'index.html'))) return dir
  throw new MlvcError('NOT_FOUND', `the web app's files are missing (looked beside ${here})`, {
    hint: 'reinstall mlvc: its package carries src/web',
  })
}

/** A package's folder in the nearest node_modules at or above this module. */
function packageDir(pkg: string): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir)
      throw new MlvcError('NOT_FOUND', `the web app needs the package ${pkg}, which is missing`, {
        hint: 'npm install (the hub serves it from node_modules)',
      })
  }
}

function packageVersion(pkg: string): string {
  const json = JSON.parse(readFileSync(join(packageDir(pkg), 'package.json'), 'utf8'))
  return String(json.version)
}

/** The versioned URL of a vendor file (what the import map names). */
export function vendorUrl(name: string): string {
  const entry = VENDOR[name]
  if (!entry) throw new MlvcError('INTERNAL', `no vendor file ${name}`)
  return `${WEB_PREFIX}vendor/${name}?v=${packageVersion(entry.pkg)}`
}

function asset(body: Buffer, type: string, immutable: boolean): Asset {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    immutable,
  }
}

/** The page: index.html with the import map filled in (its hash goes into the CSP). */
function pageAsset(root: string): { page: Asset; csp: string } {
  const imports = {
    preact: vendorUrl('preact.mjs'),
    'preact/hooks': vendorUrl('preact-hooks.mjs'),
    htm: vendorUrl('htm.mjs'),
    uplot: vendorUrl('uplot.mjs'),
  }
  const map = JSON.stringify({ imports }, null, 2)
  const html = readFileSync(join(root, 'index.html'), 'utf8')
    .replace('<!--importmap-->', `<script type="importmap">${map}</script>`)
    .replace('{{uplot.css}}', vendorUrl('uplot.css'))
  const hash = createHash('sha256').update(map).digest('base64')
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ')
  return { page: asset(Buffer.from(html), TYPES.html as string, false), csp }
}

export interface WebAssets {
  /** URL path → asset. */
  files: Map<string, Asset>
  csp: string
}

/** Reads every asset once (they are small: see webBudget in web-http.test.ts). */
export async function loadWebAssets(): Promise<WebAssets> {
  const root = webRoot()
  const files = new Map<string, Asset>()
  const { page, csp } = pageAsset(root)
  files.set('/', page)
  for (const name of await readdir(join(root, 'app'))) {
    const ext = name.split('.').at(-1) ?? ''
    if (!TYPES[ext]) continue
    const body = await readFile(join(root, 'app', name))
    files.set(`${WEB_PREFIX}app/${name}`, asset(body, TYPES[ext], false))
  }
  for (const [name, { pkg, file }] of Object.entries(VENDOR)) {
    const body = await readFile(join(packageDir(pkg), file))
    const type = TYPES[name.split('.').at(-1) ?? ''] as string
    files.set(`${WEB_PREFIX}vendor/${name}`, asset(body, type, true))
  }
  return { files, csp }
}

/** True for the paths the web app answers. */
export function isWebPath(pathname: string): boolean {
  return pathname === '/' || pathname === '/index.html' || pathname.startsWith(WEB_PREFIX)
}

/** Serves one asset (GET/HEAD), with its cache headers, gzip when accepted, 304 on a match. */
export function serveWeb(assets: WebAssets, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET'
  if (method !== 'GET' && method !== 'HEAD')
    throw new HubHttpError(405, 'USAGE', `${method} is not served here`)
  req.resume()
  const pathname = new URL(req.url ?? '/', 'http://hub').pathname
  const found = assets.files.get(pathname === '/index.html' ? '/' : pathname)
  if (!found) throw new HubHttpError(404, 'NOT_FOUND', `no file ${pathname}`)
  const headers: Record<string, string> = {
    'content-type': found.type,
    etag: found.etag,
    'cache-control': found.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
  }
  if (pathname === '/' || pathname === '/index.html') {
    headers['content-security-policy'] = assets.csp
    headers['referrer-policy'] = 'same-origin'
  }
  if (req.headers['if-none-match'] === found.etag) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  const body = gzip ? found.gzip : found.body
  if (gzip) headers['content-encoding'] = 'gzip'
  headers['content-length'] = String(body.length)
  res.writeHead(200, headers)
  res.end(method === 'HEAD' ? undefined : body)
}
