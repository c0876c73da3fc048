/**
 * Issue 12's reload test: 1,000 requests/s for 10 s through an in-process gateway while five
 * reloads add, change and remove upstreams and tenants (and rotate a token) → no answer other
 * than 2xx, and every item acknowledged is at every upstream its request was queued for, once.
 *
 * The client runs in a worker thread (its own event loop and core), sending pre-encoded requests
 * over keep-alive HTTP at a fixed rate; each request carries a unique id as its `service.name`.
 * The gateway's observer says which upstreams each accepted request was queued for, under the
 * configuration of its moment; the loopback receivers standing in for the upstreams say what
 * arrived. The client stops using a tenant's credentials (and waits for its requests in flight)
 * before the reload that removes them, as an operator rotating a token would.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { loadGatewayConfig } from '../../src/gateway/config/load.js';
import type { GatewayConfig } from '../../src/gateway/config/gateway-config.js';
import { startGateway } from '../../src/gateway/gateway.js';
import type { GatewayObserver, ReloadResult, RetiredEvent } from '../../src/gateway/observe/events.js';
import { startReceiver } from '../support/receiver.js';
import type { Receiver } from '../support/receiver.js';
import { bin, eventually, metricsRequest } from './harness.js';

const test = suite('gateway/reload under load');

const RATE = 1000;
const SECONDS = 10;
const TOTAL = RATE * SECONDS;

/** The client: sends `bodies[i]` at `rate`/s with the credentials of the current phase, round-robin. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, bodies, rate } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const statuses = new Int16Array(bodies.length);
let creds = [];
let generation = 0;
const inFlight = new Map(); // generation -> requests in flight
let waiting; // { generation, id }: acknowledge once no request of an older generation is in flight
let sent = 0;
let done = 0;
function settle(gen, i, status) {
  statuses[i] = status;
  inFlight.set(gen, inFlight.get(gen) - 1);
  done++;
  checkAck();
  if (done === bodies.length) parentPort.postMessage({ type: 'done', statuses });
}
function checkAck() {
  if (waiting === undefined) return;
  for (const [g, n] of inFlight) if (g < waiting.generation && n > 0) return;
  parentPort.postMessage({ type: 'ack', id: waiting.id });
  waiting = undefined;
}
function send(i) {
  const gen = generation;
  const [name, value] = creds[i % creds.length];
  inFlight.set(gen, (inFlight.get(gen) ?? 0) + 1);
  const body = bodies[i];
  const req = http.request(
    { agent, host: '127.0.0.1', port, path: '/v1/metrics', method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength, [name]: value } },
    (res) => { res.resume(); res.on('end', () => settle(gen, i, res.statusCode)); },
  );
  req.on('error', () => settle(gen, i, -1));
  req.end(body);
}
let started;
parentPort.on('message', (m) => {
  creds = m.creds;
  generation++;
  if (m.ack !== undefined) { waiting = { generation, id: m.ack }; checkAck(); }
  if (started !== undefined) return;
  started = performance.now();
  const timer = setInterval(() => {
    const due = Math.min(bodies.length, Math.floor(((performance.now() - started) * rate) / 1000));
    while (sent < due) send(sent++);
    if (sent === bodies.length) clearInterval(timer);
  }, 2);
});
`;

interface Client {
  /** Credentials for the requests sent from now on; with `drained`, resolves once the older ones are answered. */
  use(creds: ReadonlyArray<readonly [string, string]>, drained?: boolean): Promise<void>;
  /** Every request's status (or -1 for a network error), in id order. */
  readonly finished: Promise<Int16Array>;
  close(): Promise<number>;
}

function startClient(port: number, bodies: Uint8Array[]): Client {
  const worker = new Worker(CLIENT, { eval: true, workerData: { port, bodies, rate: RATE } });
  let acks = 0;
  const waiting = new Map<number, () => void>();
  let finish!: (s: Int16Array) => void;
  const finished = new Promise<Int16Array>((r) => (finish = r));
  worker.on('message', (m: { type: 'ack'; id: number } | { type: 'done'; statuses: Int16Array }) => {
    if (m.type === 'ack') waiting.get(m.id)?.();
    else finish(m.statuses);
  });
  return {
    use(creds, drained = false) {
      if (!drained) {
        worker.postMessage({ creds });
        return Promise.resolve();
      }
      const id = ++acks;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage({ creds, ack: id });
      });
    },
    finished,
    close: () => worker.terminate(),
  };
}

/** Every service name a receiver was sent, each once per delivery. */
function idsAt(receiver: Receiver): string[] {
  const out: string[] = [];
  for (const r of receiver.requests) {
    if (r.signal !== 'metrics') continue;
    for (const rm of r.message.resourceMetrics) {
      const v = rm.resource?.attributes.find((a) => a.key === 'service.name')?.value?.value;
      if (v?.case === 'stringValue') out.push(v.value);
    }
  }
  return out;
}

test('1,000 requests/s for 10 s with 5 reloads (upstreams and tenants added, changed, removed) → 0 non-2xx, every acknowledged item at its upstreams once', async () => {
  // `main` answers slowly, so it holds a queue when the reload that changes it comes.
  const names = ['main', 'extra', 'late', 'acme/own', 'beta/own'] as const;
  const receivers = await Promise.all(
    names.map((n) => startReceiver({ grpc: false, respond: () => ({ kind: 'ok', delayMs: n === 'main' ? 20 : 0 }) })),
  );
  const at = new Map<string, Receiver>(names.map((n, i) => [n, receivers[i]!]));
  const url = (n: (typeof names)[number]): string => at.get(n)!.httpUrl;
  const acme = (tokens: string[], timeout = '10s') => ({ tokens, upstreams: { own: { endpoint: url('acme/own'), timeout } } });
  const beta = (apiKeys: string[] = []) => ({ tokens: ['beta-token-1'], apiKeys, upstreams: { own: { endpoint: url('beta/own') } } });
  const doc = (d: Record<string, unknown>): GatewayConfig =>
    loadGatewayConfig({ env: {}, document: { receivers: { grpc: false, http: { address: '127.0.0.1:0' } }, drainTimeout: '5s', ...d } });
  const configs = [
    doc({ upstreams: { main: { endpoint: url('main') } }, tenants: { acme: acme(['acme-old-token']) } }),
    // 1: an upstream and a tenant (with its own upstream) added.
    doc({
      upstreams: { main: { endpoint: url('main') }, extra: { endpoint: url('extra') } },
      tenants: { acme: acme(['acme-old-token']), beta: beta() },
    }),
    // 2: main changed (rebuilt, inheriting its queue); acme gets a second token.
    doc({
      upstreams: { main: { endpoint: url('main'), timeout: '9s', headers: { 'x-config': '2' } }, extra: { endpoint: url('extra') } },
      tenants: { acme: acme(['acme-old-token', 'acme-new-token']), beta: beta() },
    }),
    // 3: extra changed, beta changed (an API key).
    doc({
      upstreams: {
        main: { endpoint: url('main'), timeout: '9s', headers: { 'x-config': '2' } },
        extra: { endpoint: url('extra'), retry: { maxBackoff: '10s' } },
      },
      tenants: { acme: acme(['acme-old-token', 'acme-new-token']), beta: beta(['beta-key-0001']) },
    }),
    // 4: extra and beta removed, acme's old token revoked.
    doc({
      upstreams: { main: { endpoint: url('main'), timeout: '9s', headers: { 'x-config': '2' } } },
      tenants: { acme: acme(['acme-new-token']) },
    }),
    // 5: late added, acme's own upstream changed.
    doc({
      upstreams: { main: { endpoint: url('main'), timeout: '9s', headers: { 'x-config': '2' } }, late: { endpoint: url('late') } },
      tenants: { acme: acme(['acme-new-token'], '8s') },
    }),
  ];

  const queuedFor = new Map<string, readonly string[]>();
  const refused: string[] = [];
  const retired: RetiredEvent[] = [];
  const observer: GatewayObserver = {
    onRequest: (e) => queuedFor.set(e.serviceNames[0]!, e.upstreams),
    onRefused: (e) => refused.push(`${e.reason}: ${e.message}`),
    onRetired: (e) => retired.push(e),
  };
  const gw = await startGateway(configs[0]!, { observer });
  const bodies = Array.from({ length: TOTAL }, (_, i) => bin.metrics(metricsRequest([`r${i}`])));
  const client = startClient(Number(gw.addresses.http!.split(':')[1]), bodies);
  const ACME_OLD = ['authorization', 'Bearer acme-old-token'] as const;
  const ACME_NEW = ['authorization', 'Bearer acme-new-token'] as const;
  const BETA = ['authorization', 'Bearer beta-token-1'] as const;
  const BETA_KEY = ['x-api-key', 'beta-key-0001'] as const;
  const results: ReloadResult[] = [];
  const started = performance.now();
  const until = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - (performance.now() - started))));
  try {
    await client.use([ACME_OLD]);
    await until(1500);
    results.push(await gw.reload(configs[1]!, 'load-1'));
    await client.use([ACME_OLD, BETA]);
    await until(3500);
    results.push(await gw.reload(configs[2]!, 'load-2'));
    await client.use([ACME_NEW, BETA]);
    await until(5500);
    results.push(await gw.reload(configs[3]!, 'load-3'));
    await client.use([ACME_NEW, BETA, BETA_KEY]);
    await until(7000);
    // Beta's and the old token's last requests are answered before they are revoked.
    await client.use([ACME_NEW], true);
    results.push(await gw.reload(configs[4]!, 'load-4'));
    await until(8500);
    results.push(await gw.reload(configs[5]!, 'load-5'));
    const statuses = await client.finished;
    const elapsed = performance.now() - started;

    assert.equal(
      results.map((r) => r.outcome),
      ['applied', 'applied', 'applied', 'applied', 'applied'],
      JSON.stringify(results.map((r) => r.error)),
    );
    assert.equal(
      results.map((r) => [r.upstreams, r.tenants]),
      [
        [
          { added: ['extra', 'beta/own'], changed: [], removed: [] },
          { added: ['beta'], changed: [], removed: [] },
        ],
        [
          { added: [], changed: ['main'], removed: [] },
          { added: [], changed: ['acme'], removed: [] },
        ],
        [
          { added: [], changed: ['extra'], removed: [] },
          { added: [], changed: ['beta'], removed: [] },
        ],
        [
          { added: [], changed: [], removed: ['extra', 'beta/own'] },
          { added: [], changed: ['acme'], removed: ['beta'] },
        ],
        [
          { added: ['late'], changed: ['acme/own'], removed: [] },
          { added: [], changed: ['acme'], removed: [] },
        ],
      ],
    );
    const other = [...statuses].filter((s) => s < 200 || s > 299);
    assert.equal(other, [], `non-2xx answers; refusals: ${refused.slice(0, 5).join('; ')}`);
    assert.is(queuedFor.size, TOTAL, 'every request accepted, once');

    // What each upstream must have: every id whose request was queued for it.
    const expected = new Map<string, string[]>(names.map((n) => [n, []]));
    for (const [id, ups] of queuedFor) for (const u of ups) expected.get(u)!.push(id);
    assert.is(expected.get('main')!.length, TOTAL, 'main is in every configuration');
    await eventually(() => names.every((n) => idsAt(at.get(n)!).length >= expected.get(n)!.length), 10_000, 'every delivery');
    // Anything late or duplicated would arrive now.
    await new Promise((r) => setTimeout(r, 200));
    const counts: string[] = [];
    for (const n of names) {
      const got = idsAt(at.get(n)!).sort();
      const want = expected.get(n)!.sort();
      assert.is(got.length, want.length, `${n}: as many items as acknowledged for it`);
      assert.equal(got, want, `${n}: exactly the acknowledged items, once each`);
      counts.push(`${n} ${got.length}`);
    }
    for (const n of ['extra', 'late', 'beta/own', 'acme/own']) assert.ok(expected.get(n)!.length > 0, `${n} got traffic`);
    // main, extra, acme/own replaced; extra (rebuilt) and beta/own removed.
    await eventually(() => retired.length === 5, 10_000, 'the replaced and removed upstreams to retire');
    assert.equal(retired.map((e) => `${e.name} ${e.reason} ${e.undeliveredRequests}`).sort(), [
      'acme/own replaced 0',
      'beta/own removed 0',
      'extra removed 0',
      'extra replaced 0',
      'main replaced 0',
    ]);
    console.log(
      `  reload under load: ${TOTAL} requests in ${(elapsed / 1000).toFixed(1)} s (${Math.round((TOTAL * 1000) / elapsed)}/s), 5 reloads in ${results
        .map((r) => `${r.elapsedMs} ms`)
        .join(', ')}; delivered ${counts.join(', ')}`,
    );
  } finally {
    await client.close();
    await gw.shutdown(1000);
    await Promise.all(receivers.map((r) => r.close()));
  }
});

test.run();
