/**
 * The inspector's and /metrics' HTTP side on real loopback sockets: credentials (token with the
 * login cookie, basic), the Host check without credentials, /metrics on its own address or beside
 * the inspector, and on the OTLP HTTP receiver only while that listens on loopback.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { startGateway } from '../../../src/gateway/gateway.js';
import { createObserver } from '../../../src/gateway/observe/observer.js';
import { hostIsAddress } from '../../../src/gateway/inspect/access.js';
import { createInspector } from '../../../src/gateway/inspect/inspector.js';
import { startInspection } from '../../../src/gateway/inspect/inspection.js';
import { startObserveEndpoints } from '../../../src/gateway/inspect/observe-server.js';

const test = suite('gateway/inspect/observe-server');

const page = async () => ({ contentType: 'text/plain; version=0.0.4', body: 'metric_total 1\n' });

/** GET with raw headers (fetch forbids setting Host). */
function get(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const uiConfig = (observe: unknown) => loadGatewayConfig({ document: { observe }, env: {} }).observe;

test('token: 401 and a login form without it; Bearer works; the login form sets a session cookie that works; a wrong token does not', async () => {
  const o = uiConfig({ ui: { address: '127.0.0.1:0', auth: { token: 'inspector-token' } } });
  const inspector = createInspector({ tickMillis: 3_600_000 });
  const ep = await startObserveEndpoints({
    ui: o.ui,
    metrics: null,
    inspector,
    config: () => ({ secret: 'x' }),
    metricsPage: page,
    assetsDir: '/nonexistent',
  });
  const base = `http://${ep.ui}`;
  try {
    const anonymous = await get(`${base}/`);
    assert.is(anonymous.status, 401);
    assert.match(anonymous.body, 'name="token"');
    assert.is((await get(`${base}/api/config`)).status, 401);
    assert.is((await get(`${base}/metrics`)).status, 401, '/metrics beside the inspector takes its credentials');
    const bearer = await get(`${base}/api/config`, { authorization: 'Bearer inspector-token' });
    assert.is(bearer.status, 200);
    assert.equal(JSON.parse(bearer.body), { secret: '(redacted)' });
    assert.is((await get(`${base}/metrics`, { authorization: 'Bearer inspector-token' })).body, 'metric_total 1\n');
    const wrong = await get(`${base}/login`, { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', 'token=nope-nope');
    assert.is(wrong.status, 401);
    assert.is(wrong.headers['set-cookie'], undefined);
    const login = await get(`${base}/login`, { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', 'token=inspector-token');
    assert.is(login.status, 303);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    assert.is((await get(`${base}/api/config`, { cookie })).status, 200);
    assert.is((await get(`${base}/api/config`, { cookie: `${cookie.split('=')[0]}=forged` })).status, 401);
    assert.is((await get(`${base}/api/config`, { authorization: 'Bearer inspector-token' }, 'POST')).status, 405, 'read-only');
  } finally {
    await ep.close();
    await inspector.close();
  }
});

test('basic: a challenge, then the right user and password only', async () => {
  const o = uiConfig({ ui: { address: '127.0.0.1:0', auth: { basic: { username: 'ops', password: 'correct-horse' } } } });
  const inspector = createInspector({ tickMillis: 3_600_000 });
  const ep = await startObserveEndpoints({ ui: o.ui, metrics: null, inspector, assetsDir: '/nonexistent' });
  const basic = (s: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
  try {
    const r = await get(`http://${ep.ui}/api/config`);
    assert.is(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /^Basic realm=/);
    assert.is((await get(`http://${ep.ui}/api/config`, basic('ops:correct-horse'))).status, 200);
    assert.is((await get(`http://${ep.ui}/api/config`, basic('ops:wrong-horse!'))).status, 401);
    assert.is((await get(`http://${ep.ui}/api/config`, basic('other:correct-horse'))).status, 401);
  } finally {
    await ep.close();
    await inspector.close();
  }
});

test('without credentials: only a Host that is an address or localhost (a DNS name rebound to loopback is refused)', async () => {
  const o = uiConfig({ ui: { address: '127.0.0.1:0' } });
  const inspector = createInspector({ tickMillis: 3_600_000 });
  const ep = await startObserveEndpoints({ ui: o.ui, metrics: null, inspector, assetsDir: '/nonexistent' });
  try {
    const port = ep.ui!.split(':')[1];
    assert.is((await get(`http://${ep.ui}/api/config`)).status, 200);
    assert.is((await get(`http://${ep.ui}/api/config`, { host: `localhost:${port}` })).status, 200);
    const evil = await get(`http://${ep.ui}/api/config`, { host: `attacker.example:${port}` });
    assert.is(evil.status, 403);
    const notBuilt = await get(`http://${ep.ui}/`);
    assert.match(notBuilt.body, 'npm run build');
    assert.match(String(notBuilt.headers['content-security-policy']), "default-src 'none'");
  } finally {
    await ep.close();
    await inspector.close();
  }
  for (const [h, ok] of [
    ['127.0.0.1:4319', true],
    ['[::1]:4319', true],
    ['localhost:1', true],
    ['localhost', true],
    ['evil.example:4319', false],
    ['127.0.0.1.nip.io:4319', false],
    [undefined, false],
  ] as const) {
    assert.is(hostIsAddress(h), ok, String(h));
  }
});

test('/metrics on its own address, with its own credentials, and not on the OTLP port then', async () => {
  const config = loadGatewayConfig({
    document: {
      receivers: { grpc: false, http: { address: '127.0.0.1:0' } },
      observe: { metrics: { address: '127.0.0.1:0', auth: { token: 'scrape-token' } } },
    },
    env: {},
  });
  const observer = createObserver({ out: { write: () => true }, intervalMillis: 0 });
  const inspection = await startInspection({ config, observer });
  const gw = await startGateway(config, { observer: inspection.observer });
  try {
    assert.is(inspection.endpoints.ui, undefined);
    const at = `http://${inspection.endpoints.metrics}/metrics`;
    assert.is((await get(at)).status, 401);
    const ok = await get(at, { authorization: 'Bearer scrape-token' });
    assert.is(ok.status, 200);
    assert.match(ok.body, 'target_info');
    assert.is((await get(`http://${gw.addresses.http}/metrics`)).status, 404, 'moved off the OTLP port');
  } finally {
    await gw.shutdown(100);
  }
});

test('compatibility: /metrics stays on the OTLP HTTP receiver while it listens on loopback, and only then', async () => {
  for (const [host, served] of [
    ['127.0.0.1', true],
    ['0.0.0.0', false],
  ] as const) {
    const config = loadGatewayConfig({ document: { receivers: { grpc: false, http: { address: `${host}:0` } } }, env: {} });
    const observer = createObserver({ out: { write: () => true }, intervalMillis: 0 });
    const inspection = await startInspection({ config, observer });
    const gw = await startGateway(config, { observer: inspection.observer });
    try {
      const port = gw.addresses.http!.split(':').at(-1);
      const r = await get(`http://127.0.0.1:${port}/metrics`);
      assert.is(r.status, served ? 200 : 404, `${host}: ${r.status}`);
    } finally {
      await gw.shutdown(100);
    }
  }
});

test('an address in use: the endpoints refuse to start and leave nothing listening', async () => {
  const o = uiConfig({ ui: { address: '127.0.0.1:0' } });
  const inspector = createInspector({ tickMillis: 3_600_000 });
  const first = await startObserveEndpoints({ ui: o.ui, metrics: null, inspector, assetsDir: '/nonexistent' });
  const [host, port] = first.ui!.split(':');
  try {
    const taken = { host: host!, port: Number(port), auth: null };
    let error: unknown;
    try {
      await startObserveEndpoints({ ui: { ...taken, port: 0 }, metrics: taken, inspector, metricsPage: page });
    } catch (e) {
      error = e;
    }
    assert.match(String(error), 'EADDRINUSE');
  } finally {
    await first.close();
    await inspector.close();
  }
});

test.run();
