import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createBackend } from '../../src/export/backend.js';
import { createHandoverBackend } from '../../src/export/handover-backend.js';
import type { Signal } from '../../src/otlp/types.js';
import type { ExportResult, Transport } from '../../src/transport/types.js';
import { resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

/** A transport that records each body's first byte and answers ok. */
function recording() {
  const sent: number[] = [];
  const t: Transport & { sent: number[] } = {
    encoding: 'protobuf',
    sent,
    export(_signal: Signal, body: Uint8Array): Promise<ExportResult> {
      sent.push(body[0]!);
      return Promise.resolve({ kind: 'ok' });
    },
    async close() {},
  };
  return t;
}
const body = (fill: number, n = 10) => new Uint8Array(n).fill(fill);
const handover = (maxBytes = 1000, maxRequests = 10) =>
  createHandoverBackend({ name: 'h', encoding: 'protobuf', signals: new Set<Signal>(['metrics']), queue: { maxBytes, maxRequests } });

const test = suite('export/handover-backend');
const warnings: string[] = [];
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});

test('what is enqueued before the handover waits, bounded (oldest dropped, counted), and goes first, in order', async () => {
  const h = handover(1000, 3);
  for (let i = 1; i <= 4; i++) assert.ok(h.enqueue('metrics', body(i), 2));
  assert.equal([h.stats().queueRequests, h.stats().queueBytes, h.stats().itemsDropped, h.queuedBytes], [3, 30, 2, 30]);
  assert.not.ok(h.hasRoom(1), 'full: 3 requests');
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /backend "h" queue is full while its storage opens/);
  const t = recording();
  assert.ok(h.handOver(createBackend({ name: 'target', transport: t })));
  assert.ok(h.enqueue('metrics', body(5), 2), 'forwarded');
  assert.ok(await h.flush(1000));
  assert.equal(t.sent, [2, 3, 4, 5]);
  const s = h.stats();
  assert.equal([s.name, s.itemsSent, s.itemsDropped, s.queueRequests], ['h', 8, 2, 0], 'the target counts, plus what was dropped before it');
  assert.not.ok(h.handOver(createBackend({ name: 'again', transport: recording() })), 'once');
  await h.shutdown(100);
});

test('flush waits for the handover (within its timeout); false when it did not come and requests wait', async () => {
  const h = handover();
  assert.ok(await h.flush(10), 'nothing waits: done');
  h.enqueue('metrics', body(1), 1);
  const started = performance.now();
  assert.not.ok(await h.flush(30));
  assert.ok(performance.now() - started >= 25);
  const t = recording();
  const flushed = h.flush(1000);
  setTimeout(() => h.handOver(createBackend({ name: 'target', transport: t })), 20);
  assert.ok(await flushed);
  assert.equal(t.sent, [1]);
  await h.shutdown(100);
});

test('shutdown with no handover in time: what waits is undelivered; a late handover is refused and the caller stops it', async () => {
  const h = handover();
  h.enqueue('metrics', body(1), 3);
  h.enqueue('metrics', body(2), 4);
  assert.equal(await h.shutdown(20), { name: 'h', undeliveredRequests: 2, undeliveredItems: 7 });
  assert.not.ok(h.enqueue('metrics', body(3), 1), 'refused after shutdown');
  assert.is(h.stats().itemsDropped, 8);
  assert.not.ok(h.handOver(createBackend({ name: 'late', transport: recording() })));
});

test('shutdown waits for a handover that comes in time and reports what the target reports', async () => {
  const h = handover();
  h.enqueue('metrics', body(1), 3);
  const t = recording();
  const stopping = h.shutdown(1000);
  setTimeout(() => h.handOver(createBackend({ name: 'target', transport: t })), 20);
  assert.equal(await stopping, { name: 'h', undeliveredRequests: 0, undeliveredItems: 0 });
  assert.equal(t.sent, [1]);
});

test.run();
