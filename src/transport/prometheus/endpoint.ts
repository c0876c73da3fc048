/**
 * A Prometheus scrape endpoint: the pull side of the Prometheus wire. One `node:http` server on one
 * address that answers `GET <path>` with a page in the format the scraper's Accept header prefers
 * (OpenMetrics 1.0 or text 0.0.4), gzipped when asked, optionally behind basic auth or a bearer token.
 * What the page holds is the caller's (`page(format, timeoutMillis)`): the library's pull backend
 * collects its meter provider, the gateway's scrape upstream renders its store.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, type PageFormat } from '../../otlp/prometheus/render.js';

const gzipAsync = promisify(gzip);

/** Credentials a scraper must present; at most one kind. */
export interface EndpointAuth {
  /** HTTP basic auth (`Authorization: Basic …`). */
  readonly basic?: { readonly username: string; readonly password: string };
  /** A bearer token (`Authorization: Bearer …`). */
  readonly bearerToken?: string;
}

/** Options of {@link listenEndpoint}. */
export interface EndpointOptions {
  /** Host or IP to listen on; `localhost` may resolve to several addresses, the first is used. */
  readonly host: string;
  /** TCP port; 0 picks a free one ({@link Endpoint.url} tells which). */
  readonly port: number;
  /** The page's path, e.g. `/metrics`; other paths answer 404. */
  readonly path: string;
  readonly auth?: EndpointAuth | undefined;
  /**
   * Renders the page. `timeoutMillis`: what the scraper allows (its `X-Prometheus-Scrape-Timeout-Seconds`,
   * less a margin), or `defaultTimeoutMillis`.
   */
  readonly page: (format: PageFormat, timeoutMillis: number) => Promise<string | Uint8Array>;
  /** Default for `page`'s timeout when the scraper names none. */
  readonly defaultTimeoutMillis: number;
}

/** A listening endpoint. */
export interface Endpoint {
  /** `http://host:port/path` as bound (the real port when 0 was asked). */
  readonly url: string;
  /** Stops listening and closes idle keep-alive connections. Idempotent. */
  close(): Promise<void>;
}

/** Listens; rejects with the listen error (EADDRINUSE, EACCES, a host that does not resolve). */
export async function listenEndpoint(options: EndpointOptions): Promise<Endpoint> {
  const expected = expectedAuthorization(options.auth);
  const server: Server = createServer((req, res) => {
    serve(req, res, options, expected).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  // A scrape every 15 s keeps its connection; Node's 5 s keep-alive default would close it in between.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}${options.path}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, options: EndpointOptions, expected: Buffer | undefined): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== options.path) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  if (expected !== undefined && !authorized(req.headers.authorization, expected)) {
    const scheme = expected.toString('latin1').startsWith('Basic ') ? 'Basic realm="metrics"' : 'Bearer';
    res.writeHead(401, { 'www-authenticate': scheme, 'content-type': 'text/plain; charset=utf-8' }).end('unauthorized\n');
    return;
  }
  const format = negotiate(req.headers.accept);
  const page = await options.page(format, scrapeTimeout(req.headers['x-prometheus-scrape-timeout-seconds'], options.defaultTimeoutMillis));
  const headers: Record<string, string> = { 'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE };
  let body: Buffer = typeof page === 'string' ? Buffer.from(page) : Buffer.from(page.buffer, page.byteOffset, page.byteLength);
  // Pages compress ~10:1; below a kilobyte it is not worth the CPU.
  if (body.byteLength > 1024 && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    body = await gzipAsync(body);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(body.byteLength);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The format an Accept header prefers. Prometheus 2.x sends
 * `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`;
 * OpenMetrics wins when it is offered (version 1.0.0 or none) with a quality above text's. Text
 * otherwise, and for no header at all: every scraper reads it.
 */
export function negotiate(accept: string | undefined): PageFormat {
  if (accept === undefined || accept === '') return 'text';
  let open = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [media = '', ...params] = part.split(';').map((s) => s.trim());
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const eq = p.indexOf('=');
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim();
      if (key === 'q') q = Number.parseFloat(value) || 0;
      else if (key === 'version') version = value;
    }
    const type = media.toLowerCase();
    if (type === 'application/openmetrics-text' && (version === undefined || version === '1.0.0')) open = Math.max(open, q);
    else if ((type === 'text/plain' && (version === undefined || version === '0.0.4')) || type === 'text/*' || type === '*/*')
      text = Math.max(text, q);
  }
  return open > 0 && open > text ? 'openmetrics' : 'text';
}

/** The scraper's timeout less 10% for the answer's way back, or the default. */
function scrapeTimeout(header: string | string[] | undefined, fallback: number): number {
  const seconds = typeof header === 'string' ? Number.parseFloat(header) : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(1, Math.floor(seconds * 900)) : fallback;
}

function expectedAuthorization(auth: EndpointAuth | undefined): Buffer | undefined {
  if (auth?.basic !== undefined) {
    return Buffer.from(`Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64')}`, 'latin1');
  }
  if (auth?.bearerToken !== undefined) return Buffer.from(`Bearer ${auth.bearerToken}`, 'latin1');
  return undefined;
}

/** Constant-time comparison: the header is a credential. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const got = Buffer.from(header, 'latin1');
  return got.byteLength === expected.byteLength && timingSafeEqual(got, expected);
}
