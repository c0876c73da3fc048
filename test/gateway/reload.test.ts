/**
 * Live reload of an in-process gateway with real loopback upstreams (test/support/receiver.ts):
 * an invalid configuration changes nothing and names the key; upstreams and tenants added,
 * changed and removed; a changed upstream inherits its queued data (delivered once); a removed
 * upstream drains, then reports; shutdown takes the retiring upstreams along; token rotation;
 * receivers moved, turned off and on, certificates rotated; settings that need a restart;
 * serialized, coalesced reloads. CLI triggers (SIGHUP, --watch): lifecycle.test.ts and
 * cli.test.ts; the reload under load: reload-load.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { loadGatewayConfig } from '../../src/gateway/config/load.js';
import type { GatewayConfig } from '../../src/gateway/config/gateway-config.js';
import { startGateway } from '../../src/gateway/gateway.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { GatewayObserver, ReloadResult, RequestEvent, RetiredEvent } from '../../src/gateway/observe/events.js';
import { startReceiver } from '../support/receiver.js';
import type { ReceivedRequest } from '../support/receiver.js';
import { bin, eventually, metricsRequest, post, PROTOBUF } from './harness.js';

const test = suite('gateway/reload');
const fixtures = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const LOOPBACK = { grpc: { address: '127.0.0.1:0' }, http: { address: '127.0.0.1:0' } };
const FAST_RETRY = { initialBackoff: '20ms', maxBackoff: '50ms' };

/** A configuration from a document; both receivers on loopback port 0 unless it says otherwise. */
function config(document: Record<string, unknown>): GatewayConfig {
  return loadGatewayConfig({ document: { ...document, receivers: document['receivers'] ?? LOOPBACK }, env: {}, baseDir: fixtures });
}

interface Started {
  readonly gw: Gateway;
  readonly reloads: ReloadResult[];
  readonly retired: RetiredEvent[];
  readonly accepted: Array<Pick<RequestEvent, 'serviceNames' | 'upstreams' | 'tenant'>>;
  /** POSTs metrics for `services` to the gateway's HTTP receiver; the status. */
  send(services: readonly string[], headers?: Record<string, string>, points?: number): Promise<number>;
}

async function start(document: Record<string, unknown>): Promise<Started> {
  const reloads: ReloadResult[] = [];
  const retired: RetiredEvent[] = [];
  const accepted: Started['accepted'] = [];
  const observer: GatewayObserver = {
    onRequest: (e) => accepted.push({ serviceNames: e.serviceNames, upstreams: e.upstreams, tenant: e.tenant }),
    onRefused() {},
    onReload: (r) => reloads.push(r),
    onRetired: (e) => retired.push(e),
  };
  const gw = await startGateway(config(document), { observer });
  return {
    gw,
    reloads,
    retired,
    accepted,
    async send(services, headers = {}, points = 1) {
      const res = await post(`http://${gw.addresses.http}/v1/metrics`, bin.metrics(metricsRequest(services, points)), { ...PROTOBUF, ...headers });
      await res.arrayBuffer();
      return res.status;
    },
  };
}

/** The service names of every resource a receiver was sent (each once per delivery). */
function servicesOf(requests: readonly ReceivedRequest[]): string[] {
  const out: string[] = [];
  for (const r of requests) {
    if (r.signal !== 'metrics') continue;
    for (const rm of r.message.resourceMetrics) {
      const v = rm.resource?.attributes.find((a) => a.key === 'service.name')?.value?.value;
      if (v?.case === 'stringValue') out.push(v.value);
    }
  }
  return out;
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('an invalid configuration is rejected naming the key; the running one serves on, unchanged', async () => {
  const up = await startReceiver({ grpc: false });
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as net.AddressInfo).port;
  const g = await start({ upstreams: { a: { endpoint: up.httpUrl } } });
  try {
    const running = g.gw.config;
    const a = `upstreams:\n  a:\n    endpoint: "${up.httpUrl}"\n`;
    // One at a time: reloads asked together would be coalesced into the last.
    const cases: Array<[() => Promise<ReloadResult>, string, RegExp]> = [
      [() => g.gw.reloadFrom({ text: 'upstreams: [\n', label: 'remote config 1' }, 'opamp'), '', /remote config 1 is not valid YAML/],
      [() => g.gw.reloadFrom({ text: `${a}    timeout: soon\n`, env: {} }, 'api'), 'upstreams.a.timeout', /expected a duration/],
      [
        () => g.gw.reloadFrom({ text: `${a}    tls: { caFile: missing.pem }\n`, baseDir: fixtures }, 'api'),
        'upstreams.a.tls.caFile',
        /cannot read "missing\.pem"/,
      ],
      [() => g.gw.reloadFrom({ text: `${a}    headers: { "bad header": x }\n` }, 'api'), 'upstreams.a.headers.bad header', /RFC 9110 token/],
      [() => g.gw.reloadFrom({ file: '/nonexistent/gateway.yaml' }, 'SIGHUP'), '--config', /cannot read/],
      [() => g.gw.reload(config({ receivers: { grpc: false, http: false } })), 'receivers', /both receivers would be off/],
      [() => g.gw.reload(config({ receivers: { grpc: false, http: { address: `127.0.0.1:${taken}` } } })), 'receivers.http.address', /EADDRINUSE/],
    ];
    for (const [reload, key, problem] of cases) {
      const r = await reload();
      assert.is(r.outcome, 'rejected', key);
      assert.is(r.error?.path, key);
      assert.match(r.error!.message, problem);
      assert.is(g.gw.config, running, 'the running configuration is the same object');
    }
    assert.equal(
      g.reloads.map((r) => [r.outcome, r.trigger]),
      [
        ['rejected', 'opamp'],
        ['rejected', 'api'],
        ['rejected', 'api'],
        ['rejected', 'api'],
        ['rejected', 'SIGHUP'],
        ['rejected', 'api'],
        ['rejected', 'api'],
      ],
      'every outcome reported to the observer',
    );
    assert.ok(g.gw.addresses.grpc !== undefined, 'the gRPC receiver is still up (the bind failure closed only what it opened)');
    assert.is(await g.send(['after']), 200);
    await eventually(() => servicesOf(up.requests).includes('after'), 3000, 'data at the running upstream');
  } finally {
    await g.gw.shutdown(500);
    await up.close();
    blocker.close();
  }
});

test('upstreams and tenants added, changed and removed: each request goes where the configuration of its moment says', async () => {
  const [r1, r2, r3] = await Promise.all([1, 2, 3].map(() => startReceiver({ grpc: false })));
  const g = await start({ upstreams: { a: { endpoint: r1!.httpUrl } } });
  try {
    const first = g.gw.upstreams[0]!;
    assert.is(await g.send(['v1']), 200);
    const v2 = await g.gw.reload(
      config({
        upstreams: { a: { endpoint: r1!.httpUrl }, b: { endpoint: r2!.httpUrl } },
        tenants: { acme: { tokens: ['acme-token-1'], upstreams: { own: { endpoint: r3!.httpUrl } } } },
      }),
    );
    assert.is(v2.outcome, 'applied');
    assert.equal(v2.upstreams, { added: ['b', 'acme/own'], changed: [], removed: [] });
    assert.equal(v2.tenants, { added: ['acme'], changed: [], removed: [] });
    assert.is(g.gw.upstreams[0], first, 'an unchanged upstream is kept (queue, connections)');
    assert.is(await g.send(['anonymous']), 401, 'authentication is on from the swap');
    assert.is(await g.send(['v2'], { authorization: 'Bearer acme-token-1' }), 200);

    const v3 = await g.gw.reload(
      config({
        upstreams: { a: { endpoint: r1!.httpUrl, timeout: '5s' } },
        tenants: { acme: { tokens: ['acme-token-1'], apiKeys: ['acme-key-0001'] } },
        drainTimeout: '2s',
      }),
    );
    assert.is(v3.outcome, 'applied');
    assert.equal(v3.upstreams, { added: [], changed: ['a'], removed: ['b', 'acme/own'] });
    assert.equal(v3.tenants, { added: [], changed: ['acme'], removed: [] });
    assert.equal(v3.settings, ['drainTimeout']);
    assert.is.not(g.gw.upstreams[0], first, 'a changed upstream is rebuilt');
    assert.is(await g.send(['v3'], { 'x-api-key': 'acme-key-0001' }), 200);

    await eventually(() => g.retired.length === 3, 3000, 'the replaced and removed upstreams to retire');
    assert.equal(g.retired.map((e) => [e.name, e.reason, e.undeliveredRequests]).sort(), [
      ['a', 'replaced', 0],
      ['acme/own', 'removed', 0],
      ['b', 'removed', 0],
    ]);
    await eventually(() => servicesOf(r1!.requests).length === 3, 3000, 'every request at a');
    assert.equal(servicesOf(r1!.requests), ['v1', 'v2', 'v3']);
    assert.equal(servicesOf(r2!.requests), ['v2']);
    assert.equal(servicesOf(r3!.requests), ['v2']);
    assert.equal(
      g.accepted.map((e) => [e.serviceNames[0], e.upstreams.join(',')]),
      [
        ['v1', 'a'],
        ['v2', 'a,b,acme/own'],
        ['v3', 'a'],
      ],
    );
    const report = await g.gw.shutdown(1000);
    assert.equal(
      report.upstreams.map((u) => u.name),
      ['a'],
      'retired upstreams are forgotten once drained',
    );
  } finally {
    await g.gw.shutdown(500);
    await Promise.all([r1, r2, r3].map((r) => r!.close()));
  }
});

test('a changed upstream inherits its queued data: upstream down, data queued, its timeout changed, upstream up → everything arrives once', async () => {
  let down = true;
  const delivered: string[] = [];
  const up = await startReceiver({
    grpc: false,
    respond: (r) => {
      if (down) return { kind: 'error', httpStatus: 503 };
      delivered.push(...servicesOf([r]));
      return { kind: 'ok' };
    },
  });
  const upstream = (timeout: string) => ({ main: { endpoint: up.httpUrl, timeout, maxConcurrency: 2, retry: FAST_RETRY } });
  const g = await start({ upstreams: upstream('2s'), drainTimeout: '5s' });
  try {
    const ids = Array.from({ length: 30 }, (_, i) => `r${i}`);
    for (const id of ids) assert.is(await g.send([id]), 200);
    const before = g.gw.upstreams[0]!;
    await eventually(() => before.stats().retries > 2, 3000, 'retries against the down upstream');
    assert.ok(before.stats().queueRequests + before.stats().inFlightRequests > 0, 'data is held');

    const r = await g.gw.reload(config({ upstreams: upstream('3s'), drainTimeout: '5s' }));
    assert.equal([r.outcome, r.upstreams.changed], ['applied', ['main']]);
    const after = g.gw.upstreams[0]!;
    assert.is.not(after, before);
    assert.is(after.config.timeoutMillis, 3000);
    assert.is(before.stats().queueRequests, 0, 'the queue moved to the rebuilt upstream');

    down = false;
    await eventually(() => new Set(delivered).size === ids.length, 5000, 'every id delivered');
    await eventually(() => g.retired.length === 1, 5000, 'the replaced upstream to finish');
    // Nothing more is coming: no retry left anywhere.
    await new Promise((res) => setTimeout(res, 200));
    assert.equal([...delivered].sort(), [...ids].sort(), 'each once');
    assert.equal(
      g.retired.map((e) => [e.name, e.reason, e.undeliveredRequests]),
      [['main', 'replaced', 0]],
    );
    assert.is(before.stats().itemsDropped + before.stats().itemsFailed + after.stats().itemsDropped + after.stats().itemsFailed, 0);
  } finally {
    await g.gw.shutdown(500);
    await up.close();
  }
});

test('with durable storage: a changed upstream reads on from the same cursor (everything once); a removed one delivers what it holds, then its cursor is forgotten', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-reload-storage-'));
  let down = true;
  const delivered: string[] = [];
  const main = await startReceiver({
    grpc: false,
    respond: (r) => {
      if (down) return { kind: 'error', httpStatus: 503 };
      delivered.push(...servicesOf([r]));
      return { kind: 'ok' };
    },
  });
  const extra = await startReceiver({ grpc: false });
  const doc = (timeout: string, withExtra: boolean) => ({
    storage: { directory: dir },
    upstreams: {
      main: { endpoint: main.httpUrl, timeout, maxConcurrency: 2, retry: FAST_RETRY },
      ...(withExtra ? { extra: { endpoint: extra.httpUrl } } : {}),
    },
  });
  const g = await start(doc('2s', true));
  try {
    const ids = Array.from({ length: 20 }, (_, i) => `d${i}`);
    for (const id of ids) assert.is(await g.send([id]), 200);
    await eventually(() => g.gw.upstreams[0]!.stats().retries > 2, 3000, 'retries against the down upstream');
    const r = await g.gw.reload(config(doc('3s', false)));
    assert.equal([r.outcome, r.upstreams.changed, r.upstreams.removed], ['applied', ['main'], ['extra']]);
    down = false;
    await eventually(() => new Set(delivered).size === ids.length, 5000, 'every id delivered by the rebuilt upstream');
    await eventually(() => g.retired.length === 2, 5000, 'the replaced and the removed upstream to retire');
    await new Promise((res) => setTimeout(res, 200));
    assert.equal([...delivered].sort(), [...ids].sort(), 'each once');
    assert.equal(servicesOf(extra.requests).sort(), [...ids].sort(), 'the removed upstream delivered what it held');
    assert.equal(g.retired.map((e) => `${e.name} ${e.reason} ${e.undeliveredRequests}`).sort(), ['extra removed 0', 'main replaced 0']);
    assert.equal(
      g.gw.storage!.stats().readers.map((x) => x.name),
      ['main'],
      "the removed upstream's cursor is forgotten",
    );
    const report = await g.gw.shutdown(1000);
    assert.equal(
      report.upstreams.map((u) => [u.name, u.undeliveredRequests, u.keptRequests]),
      [['main', 0, 0]],
    );
  } finally {
    await g.gw.shutdown(500);
    await Promise.all([main.close(), extra.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a removed upstream drains for drainTimeout in the background, then reports what it could not deliver', async () => {
  const [ok, gone] = await Promise.all([startReceiver({ grpc: false }), startReceiver({ grpc: false, respond: () => ({ kind: 'stall' }) })]);
  const g = await start({
    upstreams: { keep: { endpoint: ok.httpUrl }, gone: { endpoint: gone.httpUrl, maxConcurrency: 1 }, idle: { endpoint: ok.httpUrl } },
    drainTimeout: '300ms',
  });
  try {
    for (let i = 0; i < 3; i++) assert.is(await g.send([`s${i}`], {}, 2), 200);
    await eventually(() => gone.requests.length > 0, 3000, 'a delivery stalled at gone');
    const started = Date.now();
    const r = await g.gw.reload(config({ upstreams: { keep: { endpoint: ok.httpUrl } }, drainTimeout: '300ms' }));
    assert.equal(r.upstreams.removed, ['gone', 'idle']);
    assert.ok(Date.now() - started < 250, 'the reload does not wait for the drain');
    await eventually(() => g.retired.length === 2, 3000, 'both removed upstreams to report');
    const byName = new Map(g.retired.map((e) => [e.name, e]));
    assert.equal(
      { ...byName.get('gone')!, elapsedMs: 0 },
      { name: 'gone', undeliveredRequests: 3, undeliveredItems: 6, reason: 'removed', elapsedMs: 0 },
    );
    assert.ok(byName.get('gone')!.elapsedMs >= 280, `drained for drainTimeout (${byName.get('gone')!.elapsedMs} ms)`);
    assert.equal(byName.get('idle')!.undeliveredRequests, 0);
    assert.is(await g.send(['after']), 200);
  } finally {
    await g.gw.shutdown(500);
    await Promise.all([ok.close(), gone.close()]);
  }
});

test('shutdown takes the upstreams still draining after a reload along: its deadline, its report; no retired event after it began', async () => {
  const gone = await startReceiver({ grpc: false, respond: () => ({ kind: 'stall' }) });
  const ok = await startReceiver({ grpc: false });
  const g = await start({ upstreams: { keep: { endpoint: ok.httpUrl }, gone: { endpoint: gone.httpUrl, maxConcurrency: 1 } }, drainTimeout: '60s' });
  try {
    for (let i = 0; i < 2; i++) assert.is(await g.send([`s${i}`], {}, 2), 200);
    await eventually(() => gone.requests.length > 0, 3000, 'a delivery stalled at gone');
    assert.is((await g.gw.reload(config({ upstreams: { keep: { endpoint: ok.httpUrl } }, drainTimeout: '60s' }))).outcome, 'applied');
    const started = Date.now();
    const report = await g.gw.shutdown(200);
    assert.ok(Date.now() - started < 3000, 'the shutdown deadline, not the 60 s drain');
    assert.equal(
      report.upstreams.map((u) => [u.name, u.undeliveredRequests, u.undeliveredItems]),
      [
        ['keep', 0, 0],
        ['gone', 2, 4],
      ],
    );
    assert.not.ok(report.drained);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(g.retired, []);
    const late = await g.gw.reload(config({ upstreams: {} }));
    assert.equal([late.outcome, late.error?.problem], ['rejected', 'the gateway is shutting down']);
  } finally {
    await g.gw.shutdown(500);
    await Promise.all([ok.close(), gone.close()]);
  }
});

test('token rotation: the old token is refused right after the swap, the new one accepted', async () => {
  const up = await startReceiver({ grpc: false });
  const tenant = (tokens: string[]) => ({ upstreams: { a: { endpoint: up.httpUrl } }, tenants: { acme: { tokens } } });
  const g = await start(tenant(['old-token-123']));
  try {
    assert.is(await g.send(['x'], { authorization: 'Bearer old-token-123' }), 200);
    assert.is(await g.send(['x'], { authorization: 'Bearer new-token-456' }), 401);
    const pending = g.gw.reload(config(tenant(['new-token-456'])));
    const r = await pending;
    assert.equal([r.outcome, r.tenants.changed], ['applied', ['acme']]);
    assert.is(await g.send(['x'], { authorization: 'Bearer old-token-123' }), 401);
    assert.is(await g.send(['x'], { authorization: 'Bearer new-token-456' }), 200);
    assert.is(g.gw.upstreams[0]!.name, 'a');
  } finally {
    await g.gw.shutdown(500);
    await up.close();
  }
});

test('receivers: a new address listens before the old one closes (its request in flight completes), off and on again', async () => {
  const up = await startReceiver({ grpc: false });
  const g = await start({ upstreams: { a: { endpoint: up.httpUrl } } });
  try {
    const oldHttp = g.gw.addresses.http!;
    const oldPort = Number(oldHttp.split(':')[1]);
    // A request on the old receiver whose body is still coming when the receiver moves.
    const body = bin.metrics(metricsRequest(['in-flight']));
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = http.request(
        `http://${oldHttp}/v1/metrics`,
        { method: 'POST', headers: { ...PROTOBUF, 'content-length': String(body.byteLength) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, 1));
      setTimeout(() => req.end(body.subarray(1)), 300);
    });
    await new Promise((r) => setTimeout(r, 50));
    const port = await freePort();
    const r = await g.gw.reload(
      config({ upstreams: { a: { endpoint: up.httpUrl } }, receivers: { grpc: false, http: { address: `127.0.0.1:${port}` } } }),
    );
    assert.is(r.outcome, 'applied');
    assert.equal(r.receivers, [
      { receiver: 'grpc', change: 'stopped', address: undefined },
      { receiver: 'http', change: 'rebound', address: `127.0.0.1:${port}` },
    ]);
    assert.equal(g.gw.addresses, { grpc: undefined, http: `127.0.0.1:${port}` });
    assert.is(await g.send(['moved']), 200);
    assert.is(await inFlight, 200, 'the old receiver let its request finish');
    await eventually(() => servicesOf(up.requests).includes('in-flight') && servicesOf(up.requests).includes('moved'), 3000, 'both delivered');
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(oldPort, '127.0.0.1', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    assert.ok(refused, 'the old address no longer listens');

    const again = await g.gw.reload(config({ upstreams: { a: { endpoint: up.httpUrl } }, receivers: { http: { address: `127.0.0.1:${port}` } } }));
    assert.equal(
      again.receivers.map((c) => [c.receiver, c.change]),
      [['grpc', 'started']],
    );
    assert.match(g.gw.addresses.grpc!, /^127\.0\.0\.1:\d+$/);
  } finally {
    await g.gw.shutdown(500);
    await up.close();
  }
});

test('a rotated certificate (same files, new contents) is served to new TLS connections without a rebind; a mismatched pair is rejected', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-reload-tls-'));
  const file = path.join(dir, 'gateway.yaml');
  const install = (cert: string, key: string) => {
    copyFileSync(path.join(fixtures, cert), path.join(dir, 'cert.pem'));
    copyFileSync(path.join(fixtures, key), path.join(dir, 'key.pem'));
  };
  install('server.pem', 'server-key.pem');
  writeFileSync(file, 'receivers:\n  grpc: false\n  http: { address: 127.0.0.1:0, tls: { certFile: cert.pem, keyFile: key.pem } }\n');
  const g = await startGateway(loadGatewayConfig({ file, env: {} }));
  const subject = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const [host, port] = g.addresses.http!.split(':');
      const s = tls.connect({ host, port: Number(port), rejectUnauthorized: false }, () => {
        resolve(String(s.getPeerCertificate().subject.CN));
        s.destroy();
      });
      s.on('error', reject);
    });
  try {
    const address = g.addresses.http;
    assert.is(await subject(), 'localhost');
    install('server-rotated.pem', 'server-rotated-key.pem');
    const r = await g.reloadFrom({ file, env: {} }, 'SIGHUP');
    assert.is(r.outcome, 'applied');
    assert.equal(r.receivers, [{ receiver: 'http', change: 'certificate', address }]);
    assert.is(g.addresses.http, address, 'same port');
    assert.is(await subject(), 'otlp-fanout test server (rotated)');

    install('server.pem', 'server-rotated-key.pem');
    const bad = await g.reloadFrom({ file, env: {} }, 'SIGHUP');
    assert.equal([bad.outcome, bad.error?.path], ['rejected', 'receivers.http.tls']);
    assert.is(await subject(), 'otlp-fanout test server (rotated)', 'still the last good pair');
  } finally {
    await g.shutdown(500);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('settings that need a restart keep their running values and are reported, never silently ignored', async () => {
  const g = await start({ limits: { maxRequestBytes: '1MiB' } });
  try {
    const r = await g.gw.reload(config({ limits: { maxRequestBytes: '2MiB' }, observe: { interval: '5s' }, selfTelemetry: { interval: '10s' } }));
    assert.is(r.outcome, 'unchanged');
    assert.equal(
      r.needsRestart.map((n) => n.path),
      ['limits.maxRequestBytes', 'observe.interval', 'selfTelemetry.interval'],
    );
    assert.is(g.gw.config.limits.maxRequestBytes, 1024 * 1024);
    const tlsOn = await g.gw.reload(
      config({
        limits: { maxRequestBytes: '1MiB', maxQueuedBytes: '100MiB' },
        receivers: { grpc: { address: '127.0.0.1:0' }, http: { address: '127.0.0.1:0', tls: { certFile: 'server.pem', keyFile: 'server-key.pem' } } },
      }),
    );
    assert.is(tlsOn.outcome, 'applied');
    assert.equal(tlsOn.settings, ['limits.maxQueuedBytes']);
    assert.equal(
      tlsOn.needsRestart.map((n) => n.path),
      ['receivers.http.tls'],
    );
    assert.is(g.gw.config.http?.tls, null, 'the receiver is kept as it runs');
    assert.is(g.gw.config.limits.maxQueuedBytes, 100 * 1024 * 1024);
  } finally {
    await g.gw.shutdown(500);
  }
});

test('reloads run one at a time; those asked meanwhile are coalesced into one, the latest winning', async () => {
  const g = await start({});
  try {
    const configs = ['a', 'b', 'c'].map((name) => config({ upstreams: { [name]: { endpoint: 'http://127.0.0.1:1' } } }));
    const [ra, rb, rc] = await Promise.all(configs.map((c, i) => g.gw.reload(c, `t${i}`)));
    assert.equal([ra!.outcome, ra!.upstreams.added, ra!.trigger], ['applied', ['a'], 't0']);
    assert.is(rb, rc, 'one reload for both');
    assert.equal([rc!.outcome, rc!.upstreams.added, rc!.upstreams.removed, rc!.trigger], ['applied', ['c'], ['a'], 't2']);
    assert.equal(
      g.reloads.map((r) => r.trigger),
      ['t0', 't2'],
    );
    assert.equal(
      g.gw.upstreams.map((u) => u.name),
      ['c'],
    );
    const same = await g.gw.reload(configs[2]!);
    assert.is(same.outcome, 'unchanged');
  } finally {
    await g.gw.shutdown(500);
  }
});

test.run();
