import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createBackend } from '../../src/export/backend.js';
import { TransportError } from '../../src/transport/errors.js';
import type { ExportCallOptions, ExportResult, Transport } from '../../src/transport/types.js';
import type { Signal } from '../../src/otlp/types.js';
import { setDiagnosticSink, resetWarnings } from '../../src/internal/warn.js';

// A Transport whose answers the test scripts; the backend's queue/retry logic is the unit under test here
// (end-to-end tests against real receivers live in test/export/e2e*.test.ts).
type Step = ExportResult | 'stall';
function scripted(steps: Step[]) {
  const calls: { signal: Signal; body: Uint8Array; at: number }[] = [];
  let closed = false;
  const t: Transport & { calls: typeof calls; closed: () => boolean } = {
    encoding: 'protobuf',
    calls,
    closed: () => closed,
    export(signal: Signal, body: Uint8Array, options?: ExportCallOptions): Promise<ExportResult> {
      calls.push({ signal, body, at: Date.now() });
      const step = steps.length > 0 ? steps.shift()! : ({ kind: 'ok' } as const);
      if (step !== 'stall') return Promise.resolve(step);
      return new Promise((resolve) => {
        const abort = (): void => resolve({ kind: 'failed', retryable: true, error: new TransportError('aborted', 'aborted') });
        if (options?.signal?.aborted) abort();
        options?.signal?.addEventListener('abort', abort, { once: true });
      });
    },
    async close() {
      closed = true;
    },
  };
  return t;
}
const fail = (retryable: boolean, retryAfterMs?: number): ExportResult => ({
  kind: 'failed',
  retryable,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  error: new TransportError(retryable ? 'unavailable' : 'rejected', retryable ? 'server unavailable' : 'bad request'),
});
const body = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const fastRetry = { initialBackoffMillis: 5, maxBackoffMillis: 20, multiplier: 2, jitter: 0, maxElapsedMillis: 2000 };

const test = suite('export/backend');
const warnings: string[] = [];
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});

test('delivers queued requests in order and counts items', async () => {
  const t = scripted([]);
  const b = createBackend({ name: 'a', transport: t });
  b.enqueue('metrics', body(3, 1), 10);
  b.enqueue('logs', body(4, 2), 5);
  assert.ok(await b.flush(1000));
  assert.equal(
    t.calls.map((c) => [c.signal, c.body[0]]),
    [
      ['metrics', 1],
      ['logs', 2],
    ],
  );
  const s = b.stats();
  assert.is(s.itemsSent, 15);
  assert.is(s.requestsSent, 2);
  assert.is(s.queueBytes, 0);
  await b.shutdown(100);
  assert.ok(t.closed());
});

test('retries a retryable failure with backoff, then succeeds; the same bytes are resent', async () => {
  const t = scripted([fail(true), fail(true), { kind: 'ok' }]);
  const b = createBackend({ name: 'a', transport: t, retry: fastRetry });
  const payload = body(8, 7);
  b.enqueue('metrics', payload, 4);
  assert.ok(await b.flush(2000));
  assert.is(t.calls.length, 3);
  assert.ok(
    t.calls.every((c) => c.body === payload),
    'no copy per attempt',
  );
  assert.ok(t.calls[2]!.at - t.calls[1]!.at >= 8, 'second backoff is doubled (10 ms)');
  const s = b.stats();
  assert.is(s.retries, 2);
  assert.is(s.itemsSent, 4);
  assert.is(s.itemsFailed, 0);
  await b.shutdown(100);
});

test("honours the server's retry delay over the computed backoff", async () => {
  const t = scripted([fail(true, 120), { kind: 'ok' }]);
  const b = createBackend({ name: 'a', transport: t, retry: fastRetry });
  b.enqueue('metrics', body(1), 1);
  assert.ok(await b.flush(2000));
  assert.ok(t.calls[1]!.at - t.calls[0]!.at >= 115, `waited ${t.calls[1]!.at - t.calls[0]!.at} ms`);
  await b.shutdown(100);
});

test('a non-retryable failure is not retried, counted and reported once', async () => {
  const t = scripted([fail(false), fail(false)]);
  const b = createBackend({ name: 'bad', transport: t, retry: fastRetry });
  b.enqueue('metrics', body(1), 3);
  b.enqueue('metrics', body(1), 2);
  assert.ok(await b.flush(1000));
  assert.is(t.calls.length, 2);
  assert.is(b.stats().itemsFailed, 5);
  assert.is(warnings.filter((w) => w.includes('backend "bad" failed')).length, 1);
  await b.shutdown(100);
});

test('partial success is counted and never retried; its message surfaces once', async () => {
  const t = scripted([
    { kind: 'partial', rejected: 2, message: 'too old' },
    { kind: 'partial', rejected: 1, message: 'too old' },
  ]);
  const b = createBackend({ name: 'p', transport: t });
  b.enqueue('metrics', body(1), 10);
  b.enqueue('metrics', body(1), 10);
  assert.ok(await b.flush(1000));
  assert.is(t.calls.length, 2);
  const s = b.stats();
  assert.is(s.itemsRejected, 3);
  assert.is(s.itemsSent, 17);
  assert.is(warnings.filter((w) => w.includes('too old')).length, 1);
  await b.shutdown(100);
});

test('gives up after maxElapsedMillis', async () => {
  const steps: Step[] = Array.from({ length: 100 }, () => fail(true));
  const t = scripted(steps);
  const b = createBackend({ name: 'a', transport: t, retry: { ...fastRetry, maxElapsedMillis: 60 } });
  b.enqueue('metrics', body(1), 1);
  assert.ok(await b.flush(2000));
  assert.is(b.stats().itemsFailed, 1);
  assert.ok(t.calls.length >= 3 && t.calls.length < 20, `attempts ${t.calls.length}`);
  await b.shutdown(100);
});

test('a stalled backend never blocks enqueue; the queue stays within its limits, dropping the oldest', async () => {
  const t = scripted(['stall']);
  const b = createBackend({ name: 's', transport: t, queue: { maxBytes: 1000, maxRequests: 5 } });
  const started = performance.now();
  for (let i = 0; i < 200; i++) assert.ok(b.enqueue('metrics', body(100, i % 256), 1));
  assert.ok(performance.now() - started < 50, 'enqueue is synchronous and cheap');
  const s = b.stats();
  assert.ok(s.queueBytes <= 1000, `queue bytes ${s.queueBytes}`);
  assert.ok(s.queueRequests <= 5);
  assert.is(s.inFlightRequests, 1);
  assert.is(s.itemsDropped, 200 - 1 - s.queueRequests);
  assert.is(warnings.filter((w) => w.includes('queue is full')).length, 1);
  const report = await b.shutdown(50);
  assert.is(report.undeliveredRequests, s.queueRequests + 1);
  assert.is(report.undeliveredItems, s.queueRequests + 1);
  assert.is(b.enqueue('metrics', body(1), 1), false, 'refused after shutdown');
});

test('shutdown delivers what is pending when the backend is healthy', async () => {
  const t = scripted([fail(true), { kind: 'ok' }, { kind: 'ok' }]);
  const b = createBackend({ name: 'a', transport: t, retry: fastRetry });
  b.enqueue('metrics', body(1), 1);
  b.enqueue('logs', body(1), 1);
  const report = await b.shutdown(2000);
  assert.equal(report, { name: 'a', undeliveredRequests: 0, undeliveredItems: 0 });
  assert.is(b.stats().itemsSent, 2);
});

test('concurrency lets a second request go while the first is stalled', async () => {
  const t = scripted(['stall', { kind: 'ok' }]);
  const b = createBackend({ name: 'c', transport: t, maxConcurrency: 2 });
  b.enqueue('metrics', body(1), 1);
  b.enqueue('metrics', body(1), 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.is(b.stats().itemsSent, 1);
  assert.is(await b.flush(30), false, 'flush waits for the stalled one and times out');
  await b.shutdown(10);
});

test('queuedBytes, hasRoom, failing and lastError: O(1) admission facts that match stats()', async () => {
  const t = scripted(['stall', fail(true), { kind: 'ok' }]);
  const b = createBackend({ name: 'h', transport: t, queue: { maxBytes: 250, maxRequests: 3 }, retry: fastRetry });
  assert.is(b.failing, false, 'not failing before any attempt');
  assert.is(b.lastError, undefined);
  b.enqueue('metrics', body(100), 1); // in flight (stalled), not queued
  b.enqueue('metrics', body(100), 1);
  b.enqueue('metrics', body(100), 1);
  assert.is(b.queuedBytes, 200);
  assert.is(b.queuedBytes, b.stats().queueBytes);
  assert.ok(b.hasRoom(50), '250 bytes fit exactly');
  assert.not.ok(b.hasRoom(51), 'one byte more would drop the oldest');
  b.enqueue('metrics', body(10), 1);
  assert.not.ok(b.hasRoom(1), 'three requests queued: a fourth would drop one');
  await b.shutdown(10);

  const t2 = scripted([fail(true), { kind: 'ok' }]);
  const b2 = createBackend({ name: 'f', transport: t2, retry: { ...fastRetry, initialBackoffMillis: 40 } });
  b2.enqueue('logs', body(1), 1);
  await new Promise((r) => setTimeout(r, 15));
  assert.is(b2.failing, true, 'failing while retrying after a failed attempt');
  assert.is(b2.lastError, 'server unavailable', "with the failed attempt's error");
  assert.ok(await b2.flush(1000));
  assert.is(b2.failing, false, 'a success ends it');
  assert.is(b2.lastError, undefined, 'and its error');
  await b2.shutdown(10);
});

test('maxBatchBytes merges a backlog of one signal into one delivery, in order, within the limit', async () => {
  const t = scripted([]);
  const b = createBackend({ name: 'm', transport: t, maxBatchBytes: 25 });
  b.enqueue('metrics', body(10, 2), 2);
  b.enqueue('metrics', body(10, 3), 3);
  b.enqueue('metrics', body(10, 4), 4); // would pass 25 bytes: next delivery
  b.enqueue('logs', body(5, 5), 5); // another signal: never merged with metrics
  b.enqueue('metrics', body(30, 6), 6); // larger than the limit alone: sent alone, whole
  assert.ok(await b.flush(1000));
  assert.equal(
    t.calls.map((c) => [c.signal, [...c.body].join('')]),
    [
      ['metrics', '2'.repeat(10) + '3'.repeat(10)],
      ['metrics', '4'.repeat(10)],
      ['logs', '5'.repeat(5)],
      ['metrics', '6'.repeat(30)],
    ],
  );
  const s = b.stats();
  assert.is(s.itemsSent, 20);
  assert.is(s.requestsSent, 4);
  await b.shutdown(10);
});

test('a stalled merged delivery counts its queued requests as in flight and undelivered', async () => {
  const t = scripted(['stall']);
  const b = createBackend({ name: 'u', transport: t, maxBatchBytes: 100 });
  for (let i = 1; i <= 3; i++) b.enqueue('metrics', body(10, i), i);
  await new Promise((r) => setImmediate(r));
  assert.is(t.calls.length, 1);
  assert.is(b.stats().inFlightRequests, 3);
  assert.is(b.queuedBytes, 0);
  const report = await b.shutdown(10);
  assert.equal(report, { name: 'u', undeliveredRequests: 3, undeliveredItems: 6 });
});

test('a merged delivery that fails is retried whole, and partial success counts against its items', async () => {
  const t = scripted([fail(true), { kind: 'partial', rejected: 2, message: '' }]);
  const b = createBackend({ name: 'r', transport: t, maxBatchBytes: 100, retry: fastRetry });
  b.enqueue('traces', body(3, 1), 4);
  b.enqueue('traces', body(3, 2), 6);
  assert.ok(await b.flush(1000));
  assert.is(t.calls.length, 2);
  assert.equal([...t.calls[0]!.body], [1, 1, 1, 2, 2, 2], 'merged in the same turn');
  assert.is(t.calls[1]!.body, t.calls[0]!.body, 'the retry resends the same merged bytes');
  const s = b.stats();
  assert.is(s.itemsRejected, 2);
  assert.is(s.itemsSent, 8);
  await b.shutdown(10);
});

test('JSON backends never merge (concatenated JSON is not a request)', async () => {
  const t = { ...scripted([]), encoding: 'json' as const };
  const b = createBackend({ name: 'j', transport: t, maxBatchBytes: 1000 });
  b.enqueue('metrics', body(3), 1);
  b.enqueue('metrics', body(3), 1);
  assert.ok(await b.flush(1000));
  assert.is(t.calls.length, 2);
  await b.shutdown(10);
});

test('transferTo hands the queue, later enqueues and failed deliveries in flight to the heir; a call in flight is not aborted', async () => {
  // The old backend: its first delivery stalls until released, the second fails once; the rest wait in its queue.
  let release: ((r: ExportResult) => void) | undefined;
  const calls: number[] = [];
  const old: Transport = {
    encoding: 'protobuf',
    export(_signal, b) {
      calls.push(b[0]!);
      if (b[0] === 1) return new Promise((resolve) => (release = resolve));
      return Promise.resolve(fail(true));
    },
    close: () => Promise.resolve(),
  };
  const heirTransport = scripted([]);
  const a = createBackend({
    name: 'u',
    transport: old,
    maxConcurrency: 2,
    retry: { ...fastRetry, initialBackoffMillis: 60_000, maxBackoffMillis: 60_000, maxElapsedMillis: 600_000 },
  });
  const b = createBackend({ name: 'u', transport: heirTransport });
  for (let i = 1; i <= 4; i++) a.enqueue('metrics', body(2, i), i);
  // 1 is in flight (stalled), 2 failed and sleeps a minute before its retry, 3 and 4 are queued.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, [1, 2]);
  a.transferTo!(b);
  a.enqueue('metrics', body(2, 5), 5);
  // The woken retry is handed over once its sleep ends, a promise turn later.
  await new Promise((r) => setImmediate(r));
  assert.ok(await b.flush(1000));
  assert.equal(
    heirTransport.calls.map((c) => c.body[0]),
    [3, 4, 5, 2],
    'the queue in order and the later enqueue at once, then the retry that was sleeping (woken)',
  );
  assert.equal(calls, [1, 2], 'nothing retried by the old backend');
  // The call in flight is not aborted: when it fails it goes to the heir too.
  const report = a.shutdown(5000);
  await new Promise((r) => setTimeout(r, 20));
  release!(fail(true));
  assert.equal(await report, { name: 'u', undeliveredRequests: 0, undeliveredItems: 0 });
  assert.ok(await b.flush(1000));
  assert.equal(
    heirTransport.calls.map((c) => c.body[0]),
    [3, 4, 5, 2, 1],
  );
  assert.is(b.stats().itemsSent, 15, 'every item once');
  assert.is(a.stats().itemsSent + a.stats().itemsFailed + a.stats().itemsDropped, 0);
  assert.throws(() => a.transferTo!(b), /already handed over/);
  await b.shutdown(10);
});

test("transferTo: a call in flight aborted at the end of the old backend's shutdown goes to the heir, not into the report", async () => {
  const a = createBackend({ name: 'u', transport: scripted(['stall']) });
  const heir = scripted([]);
  const b = createBackend({ name: 'u', transport: heir });
  a.enqueue('logs', body(2, 7), 3);
  a.transferTo!(b);
  assert.equal(await a.shutdown(10), { name: 'u', undeliveredRequests: 0, undeliveredItems: 0 });
  assert.ok(await b.flush(1000));
  assert.equal(
    heir.calls.map((c) => [c.signal, c.body[0]]),
    [['logs', 7]],
  );
  await b.shutdown(10);
});

test('transferTo: what the heir refuses is counted as dropped by the old backend', async () => {
  const a = createBackend({ name: 'u', transport: scripted(['stall']) });
  a.enqueue('metrics', body(2), 1);
  a.enqueue('metrics', body(2), 4);
  a.transferTo!({ enqueue: () => false });
  assert.is(a.stats().itemsDropped, 4);
  assert.is(a.queuedBytes, 0);
  assert.is(a.enqueue('metrics', body(2), 2), false);
  await a.shutdown(10);
  assert.is(a.stats().itemsDropped, 4 + 1, 'the aborted call in flight, refused too');
});

test('sixteen deliveries in flight, each listening to its abort signal: no MaxListenersExceededWarning, shutdown aborts all', async () => {
  const processWarnings: string[] = [];
  const onWarning = (w: Error): void => {
    processWarnings.push(w.name);
  };
  process.on('warning', onWarning);
  const t = scripted(Array.from({ length: 16 }, () => 'stall' as const));
  let aborted = 0;
  let listening = 0;
  const wrapped: Transport = {
    encoding: 'protobuf',
    export(signal, b, options) {
      // As the real transports do: one listener per call on the caller's signal.
      if (options?.signal !== undefined) {
        listening++;
        options.signal.addEventListener('abort', () => aborted++, { once: true });
      }
      return t.export(signal, b, options);
    },
    close: () => t.close(),
  };
  const b = createBackend({ name: 'l', transport: wrapped, maxConcurrency: 16 });
  for (let i = 0; i < 16; i++) b.enqueue('metrics', body(1), 1);
  assert.is(b.stats().inFlightRequests, 16);
  assert.is(listening, 16);
  const report = await b.shutdown(10);
  assert.is(report.undeliveredRequests, 16);
  assert.is(aborted, 16, 'shutdown aborts every delivery');
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.equal(
    processWarnings.filter((n) => n === 'MaxListenersExceededWarning'),
    [],
  );
});

test.run();
