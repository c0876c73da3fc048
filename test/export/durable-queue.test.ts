import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDurableQueue } from '../../src/export/durable-queue.js';
import { encodeQueueName, encodeQueueRecord, queuedPart, QueueRecordError } from '../../src/export/durable/queue-record.js';
import { TransportError } from '../../src/transport/errors.js';
import type { ExportCallOptions, ExportResult, Transport } from '../../src/transport/types.js';
import type { Signal } from '../../src/otlp/types.js';
import { resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';
import { logFixture } from './durable/support.js';

/** A transport that answers ok, fails (retryably) or stalls until aborted, as `mode()` says at each call. */
function transport(mode: () => 'ok' | 'fail' | 'stall' = () => 'ok') {
  const calls: { signal: Signal; body: Buffer }[] = [];
  const t: Transport & { calls: typeof calls } = {
    encoding: 'protobuf',
    calls,
    export(signal: Signal, body: Uint8Array, options?: ExportCallOptions): Promise<ExportResult> {
      const m = mode();
      if (m === 'ok') calls.push({ signal, body: Buffer.from(body) });
      if (m === 'ok') return Promise.resolve({ kind: 'ok' });
      const failed: ExportResult = { kind: 'failed', retryable: true, error: new TransportError('unavailable', 'down') };
      if (m === 'fail') return Promise.resolve(failed);
      return new Promise((resolve) => {
        if (options?.signal?.aborted) resolve(failed);
        options?.signal?.addEventListener('abort', () => resolve(failed), { once: true });
      });
    },
    async close() {},
  };
  return t;
}
const fastRetry = { initialBackoffMillis: 5, maxBackoffMillis: 20, multiplier: 2, jitter: 0, maxElapsedMillis: 100 };
const body = (n: number, fill: number) => Buffer.alloc(n, fill);
const A = encodeQueueName('a');
const B = encodeQueueName('b');
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const test = suite('export/durable-queue');
const fx = logFixture(test);
const warnings: string[] = [];
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});

test('a record holds each destination its body once; each takes its own part by name', () => {
  const shared = body(5, 7);
  const other = body(3, 9);
  const r = encodeQueueRecord(
    'logs',
    [
      { name: A, items: 4, body: 0 },
      { name: B, items: 2, body: 1 },
      { name: encodeQueueName('c'), items: 4, body: 0 },
    ],
    [shared, other],
  );
  assert.equal(r.byteLength, 8 + 3 * 9 + 2 * 4 + 8);
  const a = queuedPart(r, A)!;
  assert.equal([a.signal, a.items, [...a.body]], ['logs', 4, [...shared]]);
  const b = queuedPart(r, B)!;
  assert.equal([b.signal, b.items, [...b.body]], ['logs', 2, [...other]]);
  assert.is(queuedPart(r, encodeQueueName('nobody')), undefined);
});

test('a record that does not parse is refused with what is wrong', () => {
  const good = encodeQueueRecord('metrics', [{ name: A, items: 1, body: 0 }], [body(4, 1)]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', good.subarray(0, 5), /shorter than a header/],
    ['version', Uint8Array.from([9, ...good.subarray(1)]), /version 9/],
    ['signal', Uint8Array.from([1, 7, ...good.subarray(2)]), /signal code 7/],
    ['truncated', good.subarray(0, good.byteLength - 1), /bodies end at/],
    ['trailing', Uint8Array.from([...good, 0]), /bodies end at/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(
      () => queuedPart(bytes, A),
      (e: unknown) => e instanceof QueueRecordError && message.test(e.message),
      what,
    );
  }
});

test('a backend delivers its parts in log order, merged per signal, and moves its cursor', async () => {
  const log = await fx.open();
  const q = createDurableQueue(log);
  await q.open(['a', 'b']);
  const t = transport();
  const backend = q.backend({ name: 'a', transport: t, maxBatchBytes: 1024 });
  for (let i = 0; i < 4; i++) {
    const signal: Signal = i === 2 ? 'logs' : 'metrics';
    assert.equal(await q.append(encodeQueueRecord(signal, [{ name: A, items: 1, body: 0 }], [body(10, i)])), { kind: 'written' });
  }
  // A record for another destination only: read past, not delivered.
  await q.append(encodeQueueRecord('metrics', [{ name: B, items: 1, body: 0 }], [body(10, 99)]));
  assert.ok(await backend.flush(5000));
  const sent = t.calls.map((c) => [c.signal, [...new Set(c.body)]]);
  // Records 0 and 1 may be read in one batch (merged) or two, never merged across the logs record.
  const flat = sent.flatMap(([s, v]) => (v as number[]).map((x) => [s, x]));
  assert.equal(flat, [
    ['metrics', 0],
    ['metrics', 1],
    ['logs', 2],
    ['metrics', 3],
  ]);
  assert.is(backend.stats().itemsSent, 4);
  assert.is(backend.stats().queueRequests, 0);
  await backend.shutdown(100);
});

test('undelivered data stays on disk across a shutdown and is delivered after the next open', async () => {
  let mode: 'ok' | 'fail' = 'fail';
  const log = await fx.open();
  const q = createDurableQueue(log);
  await q.open(['a', 'b']);
  const b1 = q.backend({ name: 'a', transport: transport(() => mode), retry: fastRetry });
  for (let i = 0; i < 3; i++) await q.append(encodeQueueRecord('metrics', [{ name: A, items: 2, body: 0 }], [body(10, i)]));
  await until(() => b1.failing);
  const report = await b1.shutdown(50);
  assert.equal([report.undeliveredRequests, report.keptRequests], [0, 3]);
  // Retries of a durable queue have no time limit: nothing was given up on.
  assert.is(b1.stats().itemsFailed, 0);
  await fx.close(log);

  mode = 'ok';
  const log2 = await fx.open();
  const t = transport();
  const q2 = createDurableQueue(log2);
  await q2.open(['a']);
  const b2 = q2.backend({ name: 'a', transport: t });
  assert.ok(await b2.flush(5000));
  assert.equal(
    t.calls.map((c) => c.body[0]),
    [0, 1, 2],
  );
  await b2.shutdown(100);
});

test('a failing destination sheds its oldest data (counted) so a full log keeps taking appends for the healthy one', async () => {
  const log = await fx.open({ maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
  const q = createDurableQueue(log);
  await q.open(['a', 'b']);
  const healthy = transport();
  const dead = q.backend({ name: 'a', transport: transport(() => 'fail'), retry: fastRetry });
  const live = q.backend({ name: 'b', transport: healthy, maxBatchBytes: 64 * 1024 });
  const n = 60;
  for (let i = 0; i < n; i++) {
    const out = await q.append(
      encodeQueueRecord(
        'logs',
        [
          { name: A, items: 1, body: 0 },
          { name: B, items: 1, body: 0 },
        ],
        [body(2000, i)],
      ),
    );
    assert.equal(out, { kind: 'written' }, `append ${i}`);
    if (i === 0) await until(() => dead.failing);
  }
  assert.ok(await live.flush(5000));
  assert.is(
    healthy.calls.reduce((k, c) => k + c.body.byteLength / 2000, 0),
    n,
  );
  const s = dead.stats();
  assert.ok(s.itemsDropped > 0, 'the dead destination dropped its oldest');
  // Everything appended is either dropped (counted) or still queued for it.
  assert.ok(s.itemsDropped + s.queueRequests >= n - 1, `${s.itemsDropped} dropped + ${s.queueRequests} queued`);
  await dead.shutdown(0);
  await live.shutdown(100);
});

test('a healthy destination that is behind makes a full log answer full, naming it; nothing is dropped', async () => {
  const log = await fx.open({ maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
  const q = createDurableQueue(log);
  await q.open(['a', 'b']);
  let mode: 'ok' | 'stall' = 'ok';
  const slow = q.backend({ name: 'a', transport: transport(() => mode) });
  await q.append(encodeQueueRecord('logs', [{ name: A, items: 1, body: 0 }], [body(100, 1)]));
  assert.ok(await slow.flush(5000)); // one success: healthy
  mode = 'stall';
  let full: unknown;
  for (let i = 0; i < 100 && full === undefined; i++) {
    const out = await q.append(encodeQueueRecord('logs', [{ name: A, items: 1, body: 0 }], [body(2000, 2)]));
    if (out.kind !== 'written') full = out;
  }
  assert.equal(full, { kind: 'full', holders: ['a'] });
  assert.is(slow.stats().itemsDropped, 0);
  await slow.shutdown(0);
});

test('cursors of destinations no longer configured are forgotten, with their backlog', async () => {
  const log = await fx.open();
  const q = createDurableQueue(log);
  await q.open(['a']);
  await log.reader('gone');
  await q.append(encodeQueueRecord('logs', [{ name: encodeQueueName('gone'), items: 1, body: 0 }], [body(100, 1)]));
  const b = q.backend({ name: 'a', transport: transport() });
  const forgotten = await q.forget(new Set(['a']));
  assert.equal(
    forgotten.map((f) => [f.name, f.records]),
    [['gone', 1]],
  );
  assert.equal(log.readerNames(), ['a']);
  await b.shutdown(100);
});

test('enqueue (the library path) writes a record for this backend alone', async () => {
  const log = await fx.open();
  const q = createDurableQueue(log);
  await q.open(['a', 'b']);
  const t = transport();
  const b = q.backend({ name: 'a', transport: t });
  const other = q.backend({ name: 'b', transport: transport() });
  assert.ok(b.enqueue('metrics', body(10, 5), 3));
  await until(() => t.calls.length === 1);
  assert.is(b.stats().itemsSent, 3);
  assert.is(other.stats().itemsSent, 0);
  await b.shutdown(100);
  await other.shutdown(100);
  assert.not.ok(b.enqueue('metrics', body(10, 5), 3), 'refused after shutdown');
});

test('flush right after enqueue waits for the append, then for its delivery', async () => {
  const log = await fx.open();
  const q = createDurableQueue(log);
  await q.open(['a']);
  const t = transport();
  const b = q.backend({ name: 'a', transport: t });
  b.enqueue('logs', body(10, 7), 1);
  // The append is written at the end of this turn: log.end has not moved yet.
  assert.ok(await b.flush(5000));
  assert.equal(
    t.calls.map((c) => c.body[0]),
    [7],
  );
  await b.shutdown(100);
});

test.run();
