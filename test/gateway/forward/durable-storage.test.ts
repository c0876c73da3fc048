/**
 * The gateway with durable storage (`storage:` / `--storage`): a request is acknowledged once
 * written to the log; each upstream reads it through its own cursor; undelivered data survives a
 * stop and is delivered after the next start; a dead upstream sheds its oldest data (counted) when
 * the log is full while a healthy one behind makes clients back off; removed upstreams' cursors are
 * forgotten, and said so. Crashes (kill -9) are durable-kill.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import { startReceiver } from '../../support/receiver.js';
import type { Receiver } from '../../support/receiver.js';
import { bin, eventually, grpcEndpoint, metricsRequest, post, PROTOBUF, startTestGateway } from '../harness.js';

const test = suite('gateway/forward: durable storage');
let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-storage-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

/** Service names of every resource an upstream received, in order (repeats included). */
function services(r: Receiver): string[] {
  return r.requests.flatMap((q) =>
    (q.message as { resourceMetrics: { resource?: { attributes: { key: string; value?: { value: { value: unknown } } }[] } }[] }).resourceMetrics.map(
      (rm) => String(rm.resource?.attributes.find((a) => a.key === 'service.name')?.value?.value.value),
    ),
  );
}
const send = async (url: string, service: string, points = 1): Promise<number> => {
  const res = await post(`${url}/v1/metrics`, bin.metrics(metricsRequest([service], points)), PROTOBUF);
  await res.arrayBuffer();
  return res.status;
};

test('each upstream gets its own body from one record: protobuf over gRPC, JSON over HTTP', async () => {
  const a = await startReceiver();
  const b = await startReceiver({ grpc: false });
  const gw = await startTestGateway({
    storage: { directory: dir },
    upstreams: { a: { endpoint: grpcEndpoint(a.grpcUrl) }, b: { endpoint: `${b.httpUrl}?encoding=json` } },
  });
  try {
    for (let i = 0; i < 5; i++) assert.is(await send(gw.httpUrl, `s${i}`), 200);
    await eventually(() => services(a).length === 5 && services(b).length === 5, 5000, 'both upstreams');
    // Sorted: an upstream with maxConcurrency > 1 may deliver batches out of order.
    assert.equal(services(a).sort(), ['s0', 's1', 's2', 's3', 's4']);
    assert.equal(services(b).sort(), ['s0', 's1', 's2', 's3', 's4']);
    assert.is(b.requests[0]!.protocol, 'http/json');
    assert.is(a.requests[0]!.protocol, 'grpc');
    const log = gw.gw.storage!.stats();
    assert.is(log.appendedRecords, 5, 'one record per request, not one per upstream');
  } finally {
    await gw.close();
    await Promise.all([a.close(), b.close()]);
  }
});

test('what an upstream did not get before a stop is kept on disk and delivered after the next start', async () => {
  const up = await startReceiver({ grpc: false, respond: () => ({ kind: 'error', httpStatus: 503, message: 'down' }) });
  const doc = {
    storage: { directory: dir },
    upstreams: { up: { endpoint: up.httpUrl, retry: { initialBackoff: '50ms', maxBackoff: '100ms' } } },
  };
  const first = await startTestGateway(doc);
  for (let i = 0; i < 20; i++) assert.is(await send(first.httpUrl, `s${i}`), 200);
  const report = await first.gw.shutdown(200);
  assert.is(report.upstreams[0]!.undeliveredRequests, 0, 'nothing lost');
  assert.is(report.upstreams[0]!.keptRequests, 20, 'everything kept');
  up.respondWith(undefined);
  up.clear();
  const second = await startTestGateway(doc);
  try {
    assert.is(second.gw.storage!.atStart.readers[0]!.backlogRecords, 20);
    await eventually(() => services(up).length >= 20, 5000, 'the backlog delivered');
    assert.equal([...new Set(services(up))].sort(), Array.from({ length: 20 }, (_, i) => `s${i}`).sort());
  } finally {
    await second.close();
    await up.close();
  }
});

test('dead upstreams shed their oldest data when storage is full; the healthy one gets everything; no client backs off', async () => {
  const dead = await startReceiver({ grpc: false, respond: () => ({ kind: 'error', httpStatus: 503, message: 'down' }) });
  const healthy = await startReceiver({ grpc: false });
  const gw = await startTestGateway({
    storage: { directory: dir, maxBytes: '512KiB', segmentBytes: '32KiB' },
    limits: { maxRequestBytes: '64KiB' },
    upstreams: {
      healthy: { endpoint: healthy.httpUrl },
      dead: { endpoint: dead.httpUrl, retry: { initialBackoff: '10s', maxBackoff: '10s' } },
    },
  });
  try {
    assert.is(await send(gw.httpUrl, 'first', 100), 200);
    const deadBackend = gw.gw.upstreams.find((u) => u.name === 'dead')!.backend;
    await eventually(() => deadBackend.failing, 3000, 'the dead upstream to fail once');
    const n = 120; // 8 KiB each: twice the storage
    for (let i = 0; i < n; i++) assert.is(await send(gw.httpUrl, `s${i}`, 400), 200, `request ${i}`);
    await eventually(() => services(healthy).length === n + 1, 10_000, 'everything at the healthy upstream');
    assert.equal(gw.seen.refused, []);
    const s = deadBackend.stats();
    assert.ok(s.itemsDropped > 0, 'the dead upstream shed data');
    assert.ok(gw.gw.storage!.stats().bytesOnDisk <= 512 * 1024);
    assert.is(gw.gw.upstreams.find((u) => u.name === 'healthy')!.backend.stats().itemsDropped, 0);
  } finally {
    await gw.close();
    await Promise.all([dead.close(), healthy.close()]);
  }
});

test('a healthy upstream that falls behind fills storage: clients get 429 with Retry-After, nothing is dropped', async () => {
  let stall = false;
  const slow = await startReceiver({ grpc: false, respond: () => (stall ? { kind: 'stall' } : { kind: 'ok' }) });
  const gw = await startTestGateway({
    storage: { directory: dir, maxBytes: '256KiB', segmentBytes: '32KiB' },
    limits: { maxRequestBytes: '64KiB', retryAfter: '2s' },
    upstreams: { slow: { endpoint: slow.httpUrl, timeout: '30s' } },
  });
  try {
    assert.is(await send(gw.httpUrl, 'first'), 200);
    await eventually(() => slow.requests.length === 1, 3000, 'a first success');
    stall = true;
    let refused: Response | undefined;
    let accepted = 1;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const res = await post(`${gw.httpUrl}/v1/metrics`, bin.metrics(metricsRequest([`s${i}`], 400)), PROTOBUF);
      await res.arrayBuffer();
      if (res.status === 200) accepted++;
      else refused = res;
    }
    assert.ok(refused !== undefined, 'refused once storage is full');
    assert.is(refused.status, 429);
    assert.is(refused.headers.get('retry-after'), '2');
    assert.match(gw.seen.refused[0]!.message, 'upstreams are behind (slow)');
    const backend = gw.gw.upstreams[0]!.backend;
    assert.is(backend.stats().itemsDropped, 0);
    // Everything acknowledged after the first is still queued for it, on disk.
    assert.is(backend.stats().queueRequests, accepted - 1);
    assert.ok(accepted > 10, `${accepted} accepted before storage was full`);
  } finally {
    await gw.close();
    await slow.close();
  }
});

test('an upstream removed from the configuration: its cursor is forgotten at start and its backlog reported dropped', async () => {
  const up = await startReceiver({ grpc: false, respond: () => ({ kind: 'error', httpStatus: 503, message: 'down' }) });
  const keep = await startReceiver({ grpc: false });
  const first = await startTestGateway({
    storage: { directory: dir },
    upstreams: { old: { endpoint: up.httpUrl }, keep: { endpoint: keep.httpUrl } },
  });
  for (let i = 0; i < 3; i++) assert.is(await send(first.httpUrl, `s${i}`), 200);
  await eventually(() => services(keep).length === 3, 3000, 'keep has everything');
  await first.gw.shutdown(100);
  const second = await startTestGateway({ storage: { directory: dir }, upstreams: { keep: { endpoint: keep.httpUrl } } });
  try {
    assert.equal(
      second.gw.storage!.forgotten.map((f) => [f.name, f.records]),
      [['old', 3]],
    );
  } finally {
    await second.close();
    await Promise.all([up.close(), keep.close()]);
  }
});

test('a full disk: requests are refused 503 + Retry-After (not acknowledged); once space returns they are taken again', async () => {
  // A real full file system: a 1 MiB tmpfs (needs root, as the durable log's own disk-full test).
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    console.log('  (skipped: cannot mount a tmpfs here)');
    return;
  }
  let down = true;
  const up = await startReceiver({ grpc: false, respond: () => (down ? { kind: 'error', httpStatus: 503, message: 'down' } : { kind: 'ok' }) });
  const gw = await startTestGateway({
    storage: { directory: join(dir, 'queue'), maxBytes: '64MiB', segmentBytes: '128KiB', fsync: 'always' },
    limits: { maxRequestBytes: '64KiB', retryAfter: '1s' },
    upstreams: { up: { endpoint: up.httpUrl, retry: { initialBackoff: '20ms', maxBackoff: '50ms' } } },
  });
  try {
    let accepted = 0;
    let refused: Response | undefined;
    for (let i = 0; i < 400 && refused === undefined; i++) {
      const res = await post(`${gw.httpUrl}/v1/metrics`, bin.metrics(metricsRequest([`s${i}`], 400)), PROTOBUF);
      await res.arrayBuffer();
      if (res.status === 200) accepted++;
      else refused = res;
    }
    assert.ok(refused !== undefined, 'refused once the disk is full');
    assert.is(refused.status, 503);
    assert.is(refused.headers.get('retry-after'), '1');
    assert.equal(
      gw.seen.refused.map((r) => r.reason),
      ['storage_unavailable'],
    );
    assert.match(gw.seen.refused[0]!.message, 'no_space');
    down = false;
    await eventually(() => new Set(services(up)).size === accepted, 10_000, 'every acknowledged request delivered');
    // Delivered segments are deleted: room again.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await send(gw.httpUrl, 'after');
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.is(status, 200);
  } finally {
    await gw.close();
    await up.close();
    execFileSync('umount', [dir], { stdio: 'ignore' });
  }
});

test('damaged files: a corrupted record is skipped and counted, a torn tail truncated; the gateway starts and delivers the rest', async () => {
  const up = await startReceiver({ grpc: false, respond: () => ({ kind: 'error', httpStatus: 503, message: 'down' }) });
  const doc = { storage: { directory: dir }, upstreams: { up: { endpoint: up.httpUrl, retry: { initialBackoff: '20ms', maxBackoff: '50ms' } } } };
  const first = await startTestGateway(doc);
  for (let i = 0; i < 10; i++) assert.is(await send(first.httpUrl, `s${i}`, 50), 200);
  await first.gw.shutdown(100);
  // One byte of the 5th request's body flipped (found by its service name), and half a frame appended.
  const segment = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
  const path = join(dir, segment);
  const bytes = readFileSync(path);
  const at = bytes.indexOf(Buffer.from('s4'));
  assert.ok(at > 0);
  bytes[at + 1] = 'X'.charCodeAt(0);
  writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(30, 0xab)]));

  up.respondWith(undefined);
  up.clear();
  const second = await startTestGateway(doc);
  try {
    const atStart = second.gw.storage!.atStart;
    assert.is(atStart.tornTails, 1, 'the torn tail was truncated');
    await eventually(() => services(up).length >= 9, 5000, 'the undamaged records delivered');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal([...new Set(services(up))].sort(), ['s0', 's1', 's2', 's3', 's5', 's6', 's7', 's8', 's9']);
    assert.is(second.gw.storage!.stats().corruptRecords, 1, 'the damaged record counted');
  } finally {
    await second.close();
    await up.close();
  }
});

test('storage settings are checked before anything starts: field, value, what is allowed', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ storage: {} }, /storage\.directory: required/],
    [{ storage: { directory: dir, fsync: 'sometimes' } }, /storage\.fsync: "sometimes": "always", "interval" or "never"/],
    [{ storage: { directory: dir, maxBytes: '4KiB' } }, /storage\.maxBytes: 4096: an integer from 8192/],
    [{ storage: { directory: dir, color: 1 } }, /storage: unknown key "color"|storage\.color/],
    [{ storage: { directory: dir, maxBytes: '64MiB' } }, /storage\.maxBytes: .*below limits\.maxRequestBytes/],
  ];
  for (const [document, message] of cases) {
    assert.throws(
      () => loadGatewayConfig({ document }),
      (e: unknown) => e instanceof GatewayConfigError && message.test(e.message),
      JSON.stringify(document),
    );
  }
  const flagged = loadGatewayConfig({ document: {}, flags: { storage: dir } });
  assert.equal([flagged.storage?.directory, flagged.storage?.fsync, flagged.storage?.maxBytes], [dir, 'interval', 1024 ** 3]);
  assert.is(loadGatewayConfig({ document: {} }).storage, null, 'off unless asked for');
});

test.run();
