/**
 * The HTTP side of the inspector and of `GET /metrics`, on the addresses of `observe.ui` and
 * `observe.metrics` (one server when they are the same address, or when /metrics has none of its
 * own: it is then served beside the inspector, behind the inspector's credentials).
 *
 * Inspector paths: `/` (the page), `/assets/*` (its script and stylesheet), `/api/events` (server-sent
 * events: inspector.ts), `/api/config` (the configuration in effect, redacted by
 * config/redacted-config.ts), `POST /login` and `/logout` (token auth: access.ts). Read-only:
 * nothing here changes the gateway. Every answer carries no-store caching and, for the page, a
 * Content-Security-Policy that allows only its own script and styles (no CDN: the page works offline).
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import { warnOnce } from '../../internal/warn.js';
import type { ObserveEndpointConfig } from '../config/observe-endpoints.js';
import { formatAddress } from '../config/values.js';
import { redactedConfig } from '../config/redacted-config.js';
import type { MetricsPage } from '../observe/events.js';
import { createAccessCheck, type AccessCheck } from './access.js';
import { defaultAssetsDir, loadAssets } from './assets.js';
import type { Asset } from './assets.js';
import type { Inspector } from './inspector.js';

/** Options of {@link startObserveEndpoints}. */
export interface ObserveEndpointsOptions {
  /** The inspector's address (null: off). */
  readonly ui: ObserveEndpointConfig | null;
  /** /metrics' own address (null: served with the inspector, if on). */
  readonly metrics: ObserveEndpointConfig | null;
  /** Required when `ui` is set. */
  readonly inspector?: Inspector | undefined;
  /** The configuration in effect (shown redacted). */
  readonly config?: (() => unknown) | undefined;
  /** The Prometheus page (the CLI observer's); undefined: /metrics answers 404. */
  readonly metricsPage?: (() => Promise<MetricsPage | undefined>) | undefined;
  /** Where the built page is. Default: dist/ui of our package (assets.ts). */
  readonly assetsDir?: string | undefined;
}

/** The listening endpoints. */
export interface ObserveEndpoints {
  /** `host:port` of the inspector and of /metrics, as bound (real ports when 0 was asked); undefined when off. */
  readonly ui: string | undefined;
  readonly metrics: string | undefined;
  close(): Promise<void>;
}

const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>otlp-fanout inspector</title>
<p>The inspector's page is not built: run <code>npm run build</code> (npm install does it through <code>prepare</code>).</p>`;

const LOGIN = (failed: boolean): string => `<!doctype html><meta charset="utf-8"><title>otlp-fanout inspector: sign in</title>
<link rel="stylesheet" href="/assets/app.css"><body class="login"><form method="post" action="/login">
<h1>otlp-fanout inspector</h1><p>This inspector is protected by a token (<code>observe.ui.auth.token</code>).</p>
${failed ? '<p class="error">That token is not the configured one.</p>' : ''}
<label>Token <input name="token" type="password" autocomplete="current-password" autofocus required></label> <button>Sign in</button>
</form></body>`;

/** Starts the endpoints; rejects when an address cannot be bound (nothing is left listening then). */
export async function startObserveEndpoints(options: ObserveEndpointsOptions): Promise<ObserveEndpoints> {
  const { ui, metrics } = options;
  const servers: http.Server[] = [];
  const bound: { ui?: string; metrics?: string } = {};
  try {
    if (ui !== null) {
      const inspector = options.inspector;
      if (inspector === undefined) throw new Error('observe.ui needs an inspector');
      const shareMetrics = metrics === null || (metrics.host === ui.host && metrics.port === ui.port);
      const uiAccess = createAccessCheck(ui.auth, true);
      const metricsAccess = shareMetrics ? (metrics === null ? uiAccess : createAccessCheck(metrics.auth, false)) : undefined;
      const handler = inspectorHandler(inspector, uiAccess, metricsAccess, options);
      const s = await serve(handler, ui.host, ui.port);
      servers.push(s);
      bound.ui = addressOf(s);
      if (shareMetrics && options.metricsPage !== undefined) bound.metrics = bound.ui;
    }
    if (metrics !== null && bound.metrics === undefined) {
      const access = createAccessCheck(metrics.auth, false);
      const s = await serve(
        (req, res) =>
          pathOf(req) === '/metrics'
            ? metricsAnswer(req, res, access, options.metricsPage)
            : text(res, 404, 'not found: this address serves GET /metrics\n'),
        metrics.host,
        metrics.port,
      );
      servers.push(s);
      bound.metrics = addressOf(s);
    }
  } catch (e) {
    await Promise.all(servers.map(closeServer));
    throw e;
  }
  return {
    ui: bound.ui,
    metrics: bound.metrics,
    async close() {
      await Promise.all(servers.map(closeServer));
    },
  };
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

function serve(handler: Handler, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((e: unknown) => {
      warnOnce(`inspector-handler:${String(e)}`, `gateway inspector: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // Server-sent event streams stay open for as long as the page is.
  server.requestTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (e: Error) => warnOnce(`inspector-listen:${e.message}`, `gateway inspector on ${host}:${port}: ${e.message}`));
      resolve(server);
    });
  });
}

function closeServer(s: http.Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

function addressOf(s: http.Server): string {
  const a = s.address() as net.AddressInfo;
  return formatAddress(a.address, a.port);
}

function pathOf(req: http.IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function text(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function refuse(req: http.IncomingMessage, res: http.ServerResponse, access: AccessCheck, verdict: 'denied' | 'bad-host', page: boolean): void {
  if (verdict === 'bad-host') {
    text(res, 403, 'the inspector answers only at an IP address or localhost (e.g. http://127.0.0.1:PORT/), not at a DNS name\n');
    return;
  }
  // A browser asking for the page with token auth gets the login form; everything else a challenge.
  if (page && access.auth?.kind === 'token' && req.method === 'GET') {
    res.writeHead(401, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'www-authenticate': access.challenge });
    res.end(LOGIN(false));
    return;
  }
  text(res, 401, 'credentials required\n', { 'www-authenticate': access.challenge });
}

async function metricsAnswer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  access: AccessCheck,
  metricsPage: (() => Promise<MetricsPage | undefined>) | undefined,
): Promise<void> {
  const verdict = access.check(req, true);
  if (verdict !== 'allowed') return refuse(req, res, access, verdict, false);
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'use GET /metrics\n', { allow: 'GET, HEAD' });
  const page = await metricsPage?.();
  if (page === undefined) return text(res, 404, 'no metrics page\n');
  res.writeHead(200, { 'content-type': page.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : page.body);
}

/** Bytes a browser may leave unread on its event stream before frames are skipped for it (counted, then told). */
const MAX_UNREAD = 4 * 1024 * 1024;

function inspectorHandler(
  inspector: Inspector,
  access: AccessCheck,
  metricsAccess: AccessCheck | undefined,
  options: ObserveEndpointsOptions,
): Handler {
  let assets: Map<string, Asset> | undefined;
  const assetsOf = (): Map<string, Asset> => (assets ??= loadAssets(options.assetsDir ?? defaultAssetsDir()));
  assetsOf();

  function sendAsset(req: http.IncomingMessage, res: http.ServerResponse, asset: Asset): void {
    const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    res.writeHead(200, {
      ...PAGE_HEADERS,
      'content-type': asset.type,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : gzip ? asset.gzip : asset.body);
  }

  return async (req, res) => {
    const path = pathOf(req);
    const method = req.method ?? 'GET';
    if (path === '/metrics' && metricsAccess !== undefined) return metricsAnswer(req, res, metricsAccess, options.metricsPage);
    // The stylesheet is public so that the login form is styled; it holds no data.
    if (path === '/assets/app.css' && (method === 'GET' || method === 'HEAD')) {
      const css = assetsOf().get(path);
      if (css !== undefined) return sendAsset(req, res, css);
    }
    if (path === '/login' && method === 'POST' && access.auth?.kind === 'token') {
      const form = await readForm(req);
      if (form === undefined || !access.tokenMatches(form.get('token') ?? '')) {
        res.writeHead(401, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' });
        res.end(LOGIN(true));
        return;
      }
      res.writeHead(303, { location: '/', 'set-cookie': access.sessionCookie(), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const verdict = access.check(req, true);
    if (verdict !== 'allowed') return refuse(req, res, access, verdict, path === '/' || path === '/index.html');
    if (method !== 'GET' && method !== 'HEAD') return text(res, 405, 'the inspector is read-only: use GET\n', { allow: 'GET, HEAD' });
    if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      res.socket?.setNoDelay(true);
      let lost = 0;
      const client = {
        write(f: string): boolean {
          if (res.writableLength > MAX_UNREAD) {
            lost++;
            return false;
          }
          if (lost > 0) {
            res.write(`event: lost\ndata: {"events":${lost}}\n\n`);
            lost = 0;
          }
          res.write(f);
          return true;
        },
      };
      const leave = inspector.connect(client);
      // A comment every 15 s keeps proxies and idle timeouts from closing a quiet stream.
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      keepAlive.unref();
      const done = (): void => {
        clearInterval(keepAlive);
        leave();
      };
      req.once('close', done);
      res.once('close', done);
      return;
    }
    if (path === '/api/config') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(JSON.stringify(redactedConfig(options.config?.() ?? null), null, 2));
      return;
    }
    if (path === '/logout') {
      res.writeHead(303, { location: '/', 'set-cookie': `${access.sessionCookie().split('=')[0]}=; Max-Age=0; Path=/`, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const asset = assetsOf().get(path === '/' ? '/index.html' : path);
    if (asset !== undefined) return sendAsset(req, res, asset);
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' });
      res.end(NOT_BUILT);
      return;
    }
    text(res, 404, 'not found\n');
  };
}

/** A small urlencoded form body (the login), at most 4 KiB. */
async function readForm(req: http.IncomingMessage): Promise<URLSearchParams | undefined> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 4096) return undefined;
  }
  return new URLSearchParams(body);
}
