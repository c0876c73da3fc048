/**
 * The pipeline swap contract: receivers read `holder.current` once per request, so swapping
 * the pipeline object changes what the next request goes through and nothing else: a request
 * that arrived before the swap (even with its body still coming) finishes on the old
 * pipeline. Upstreams come from one registry, so an unchanged upstream is the same object
 * (same queue, same connections) in both pipelines.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import { loadGatewayConfig } from '../../src/gateway/config/load.js';
import { createUpstreamRegistry } from '../../src/gateway/forward/upstream-registry.js';
import type { ForwardedEvent, GatewayObserver, RefusedEvent } from '../../src/gateway/observe/events.js';
import { buildPipeline } from '../../src/gateway/pipeline.js';
import type { Pipeline } from '../../src/gateway/pipeline.js';
import { startHttpReceiver } from '../../src/gateway/receive/http-receiver.js';
import type { ReceiverHandle } from '../../src/gateway/receive/receiver.js';
import { createMemoryTransport } from '../../src/export/memory.js';
import { bin, metricsRequest, post, PROTOBUF } from './harness.js';

const test = suite('gateway/pipeline swap');

const upstreams = { x: { endpoint: 'http://127.0.0.1:1' }, y: { endpoint: 'http://127.0.0.1:2' } };
const configA = loadGatewayConfig({ env: {}, document: { upstreams, routes: [{ upstreams: ['x'] }] } });
const configB = loadGatewayConfig({
  env: {},
  document: { upstreams, tenants: { acme: { tokens: ['acme-token-1'] } }, routes: [{ upstreams: ['y'] }] },
});

interface Setup {
  readonly a: Pipeline;
  readonly b: Pipeline;
  readonly holder: { readonly current: Pipeline; swap(next: Pipeline): void; reads: number };
  readonly receiver: ReceiverHandle;
  readonly forwarded: ForwardedEvent[];
  readonly refused: RefusedEvent[];
  readonly url: string;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const forwarded: ForwardedEvent[] = [];
  const refused: RefusedEvent[] = [];
  const observer: GatewayObserver = {
    onRequest() {},
    onRefused: (e) => refused.push(e),
    onForwarded: (e) => forwarded.push(e),
  };
  const registry = createUpstreamRegistry({ transportFor: () => createMemoryTransport() });
  const drain = { draining: false };
  const a = await buildPipeline(configA, { registry, observer, drain });
  const b = await buildPipeline(configB, { registry, observer, drain });
  // Counts reads, so the test knows when a request has picked its pipeline.
  let current = a;
  const holder = {
    reads: 0,
    get current() {
      holder.reads++;
      return current;
    },
    swap(next: Pipeline) {
      current = next;
    },
  };
  const receiver = await startHttpReceiver({
    config: { host: '127.0.0.1', port: 0, tls: null },
    maxRequestBytes: 1 << 20,
    pipeline: holder,
    observer,
  });
  return {
    a,
    b,
    holder,
    receiver,
    forwarded,
    refused,
    url: `http://127.0.0.1:${receiver.port}/v1/metrics`,
    async close() {
      await receiver.close();
      await Promise.all(registry.held().map((u) => u.backend.shutdown(0)));
    },
  };
}

test('unchanged upstreams are the same objects in both pipelines', async () => {
  const s = await setup();
  try {
    assert.equal(
      s.a.upstreams.map((u) => u.name),
      ['x', 'y'],
    );
    assert.ok(s.a.upstreams[0] === s.b.upstreams[0] && s.a.upstreams[1] === s.b.upstreams[1], 'drawn from the registry, not rebuilt');
    assert.is.not(s.a.router, s.b.router);
    assert.is.not(s.a.auth, s.b.auth);
  } finally {
    await s.close();
  }
});

test('a request before the swap uses pipeline A, one after uses B (routes and tenants)', async () => {
  const s = await setup();
  try {
    const body = bin.metrics(metricsRequest(['svc']));
    assert.is((await post(s.url, body, PROTOBUF)).status, 200);
    assert.equal(
      s.forwarded.map((f) => f.upstream),
      ['x'],
    );

    s.holder.swap(s.b);
    // B turns authentication on: the same anonymous request is now refused...
    assert.is((await post(s.url, body, PROTOBUF)).status, 401);
    assert.equal(
      s.refused.map((r) => r.reason),
      ['unauthenticated'],
    );
    // ...and an authenticated one follows B's route.
    assert.is((await post(s.url, body, { ...PROTOBUF, authorization: 'Bearer acme-token-1' })).status, 200);
    assert.equal(
      s.forwarded.map((f) => f.upstream),
      ['x', 'y'],
    );
  } finally {
    await s.close();
  }
});

test('a request that arrived before the swap finishes on A, even when its body comes after', async () => {
  const s = await setup();
  try {
    const body = bin.metrics(metricsRequest(['svc']));
    const status = new Promise<number>((resolve, reject) => {
      const req = http.request(s.url, { method: 'POST', headers: { ...PROTOBUF, 'content-length': String(body.byteLength) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(body.subarray(0, 1));
      // The rest only once the receiver has read the pipeline for this request, and after the swap.
      const wait = (): void => {
        if (s.holder.reads === 0) {
          setTimeout(wait, 1);
          return;
        }
        s.holder.swap(s.b);
        req.end(body.subarray(1));
      };
      wait();
    });
    assert.is(await status, 200, 'A has no authentication');
    assert.equal(
      s.forwarded.map((f) => f.upstream),
      ['x'],
      "A's route",
    );
    assert.is(s.holder.reads, 1, 'one read per request');
  } finally {
    await s.close();
  }
});

test.run();
