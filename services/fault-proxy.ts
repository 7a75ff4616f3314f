import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * What the proxy does to one request:
 * - `reset`: closes the connection before answering;
 * - `slowdown`: answers 503 with S3's SlowDown error;
 * - `error500`: answers 500 InternalError;
 * - `truncate`: forwards, but cuts the answer's body in half and closes the connection;
 * - `stall`: never answers (the client must time out);
 * - `corrupt`: forwards with one byte of the body flipped;
 * - `html`: answers 200 with an HTML page (a captive portal, a misconfigured proxy).
 */
export type Fault = 'reset' | 'slowdown' | 'error500' | 'truncate' | 'stall' | 'corrupt' | 'html'

export interface FaultRequest {
  method: string
  /** Path and query, as sent. */
  url: string
  /** 1 for the first request the proxy sees. */
  n: number
  /** The request's x-amz-content-sha256 header: the payload's hash as signed, or UNSIGNED-PAYLOAD. */
  payloadHash?: string | undefined
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  endpoint: string
  /** Decides each request's fault; undefined forwards it untouched. Replace at any time. */
  rule: (req: FaultRequest) => Fault | undefined
  /** Requests seen, with the fault applied to each. */
  log: Array<FaultRequest & { fault: Fault | undefined }>
  /**
   * Body bytes of the requests forwarded to the server (what it received through the proxy, an
   * upload cut short included); a fault that answers by itself forwards nothing. Reset at will.
   */
  requestBytes: number
  /** Body bytes of the answers passed back to the client (a truncated one: the half it got). */
  responseBytes: number
  close(): Promise<void>
}

const S3_ERROR = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId></Error>`

/**
 * A small HTTP proxy between a client and a real server that injects faults into chosen requests
 * (for tests of retries, timeouts and verification) and counts the body bytes that pass (for
 * benchmarks of what a transfer sends). Requests are forwarded with their headers unchanged, so
 * AWS SigV4 signatures (which cover the Host header the client sent) still verify.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target)
  const stalled = new Set<ServerResponse>()
  let n = 0
  const proxy: FaultProxy = {
    endpoint: '',
    rule: () => undefined,
    log: [],
    requestBytes: 0,
    responseBytes: 0,
    close: () =>
      new Promise((done) => {
        for (const res of stalled) res.destroy()
        server.closeAllConnections()
        server.close(() => done())
      }),
  }

  function forward(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined) {
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (fault !== 'truncate' && fault !== 'corrupt') {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.on('data', (c: Buffer) => {
            proxy.responseBytes += c.length
          })
          answer.pipe(res)
          return
        }
        const chunks: Buffer[] = []
        answer.on('data', (c: Buffer) => chunks.push(c))
        answer.on('end', () => {
          const body = Buffer.concat(chunks)
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          if (fault === 'truncate') {
            const half = body.subarray(0, Math.floor(body.length / 2))
            proxy.responseBytes += half.length
            res.write(half)
            setTimeout(() => res.socket?.destroy(), 10)
            return
          }
          const at = Math.floor(body.length / 2)
          if (body.length > 0) body[at] = (body[at] ?? 0) ^ 0x01
          proxy.responseBytes += body.length
          res.end(body)
        })
      },
    )
    upstream.on('error', () => res.destroy())
    req.on('data', (c: Buffer) => {
      proxy.requestBytes += c.length
    })
    req.pipe(upstream)
  }

  const server = createServer((req, res) => {
    const hash = req.headers['x-amz-content-sha256']
    const info = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      n: ++n,
      payloadHash: typeof hash === 'string' ? hash : undefined,
    }
    const fault = proxy.rule(info)
    proxy.log.push({ ...info, fault })
    // Faults that answer without the server still read the request body, as a real server would.
    const answer = (status: number, type: string, body: string) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
        res.end(body)
      })
    }
    switch (fault) {
      case 'reset':
        req.socket.destroy()
        return
      case 'stall':
        req.resume()
        stalled.add(res)
        return
      case 'slowdown':
        return answer(
          503,
          'application/xml',
          S3_ERROR('SlowDown', 'Please reduce your request rate.'),
        )
      case 'error500':
        return answer(
          500,
          'application/xml',
          S3_ERROR('InternalError', 'We encountered an internal error.'),
        )
      case 'html':
        return answer(
          200,
          'text/html',
          '<html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>',
        )
      default:
        return forward(req, res, fault)
    }
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return proxy
}
