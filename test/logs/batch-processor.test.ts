import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LogExportTimeoutError, validateLogBatchOptions, type LogBatchOptions } from '../../src/logs/batch-processor.js';
import { createInMemoryLogSink } from '../../src/logs/in-memory-sink.js';
import { createLoggerProvider, type LoggerProvider } from '../../src/logs/logger-provider.js';
import type { LogBatchSink } from '../../src/logs/sink.js';
import { decodeExportRequest } from '../../src/otlp/decode.js';
import { captureWarnings, deferred, sleep, waitFor } from './helpers.js';

function bodiesOf(req: Uint8Array): string[] {
  const out: string[] = [];
  for (const rl of decodeExportRequest('logs', req).resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) out.push(r.body?.value.case === 'stringValue' ? r.body.value.value : '?');
    }
  }
  return out;
}

function provider(batch: LogBatchOptions, sink: LogBatchSink): LoggerProvider {
  return createLoggerProvider({ batch, sink });
}

const options = suite('logs/batch-processor options');

options('defaults are the spec values, frozen', () => {
  const o = validateLogBatchOptions();
  assert.equal({ ...o }, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: 30000 });
  assert.ok(Object.isFrozen(o));
});

options('batch size above queue size is clamped; bad values warn once and fall back', () => {
  const w = captureWarnings();
  try {
    assert.is(validateLogBatchOptions({ maxQueueSize: 10, maxExportBatchSize: 20 }).maxExportBatchSize, 10);
    const bad = validateLogBatchOptions({ maxQueueSize: 0, scheduledDelayMillis: -1, exportTimeoutMillis: 1.5 });
    assert.equal({ ...bad }, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: 30000 });
    assert.ok(w.messages.some((m) => m.includes('maxExportBatchSize = 20 exceeds maxQueueSize = 10')));
    assert.ok(w.messages.some((m) => m.includes('batch.maxQueueSize = 0') && m.includes('an integer in 1..')));
    assert.ok(w.messages.some((m) => m.includes('batch.exportTimeoutMillis = 1.5')));
  } finally {
    w.restore();
  }
});

options.run();

const batching = suite('logs/batch-processor batching');

batching('a full batch leaves at once; the rest waits for the schedule or forceFlush', async () => {
  const sink = createInMemoryLogSink();
  const p = provider({ maxExportBatchSize: 3, scheduledDelayMillis: 60_000 }, sink);
  const log = p.getLogger('t');
  for (let i = 0; i < 7; i++) log.emit({ body: `r${i}` });
  // A synchronous sink takes each full batch during emit().
  assert.equal(sink.bodies.map(bodiesOf), [
    ['r0', 'r1', 'r2'],
    ['r3', 'r4', 'r5'],
  ]);
  assert.is(p.stats().queuedRecords, 1);
  await p.forceFlush();
  assert.equal(sink.bodies.map(bodiesOf)[2], ['r6']);
  assert.equal({ ...p.stats() }, { queuedRecords: 0, droppedRecords: 0, exportedRecords: 7, failedRecords: 0 });
  await p.shutdown();
});

batching('a partial batch leaves after scheduledDelayMillis', async () => {
  const sink = createInMemoryLogSink();
  const p = provider({ maxExportBatchSize: 100, scheduledDelayMillis: 40 }, sink);
  const log = p.getLogger('t');
  const started = Date.now();
  log.emit({ body: 'a' });
  log.emit({ body: 'b' });
  await sleep(5);
  assert.is(sink.bodies.length, 0, 'not before the delay');
  await waitFor(() => sink.bodies.length === 1, 2000, 'scheduled export');
  assert.ok(Date.now() - started >= 35, `after ${Date.now() - started} ms`);
  assert.equal(bodiesOf(sink.bodies[0]!), ['a', 'b']);
  await p.shutdown();
});

batching("the schedule and export timeouts never keep the process alive (timers are unref'd)", async () => {
  const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = refTimers();
  const gate = deferred();
  const p = provider({ maxExportBatchSize: 2, scheduledDelayMillis: 60_000, exportTimeoutMillis: 60_000 }, { export: () => gate.promise });
  const log = p.getLogger('t');
  log.emit({ body: 'a' }); // arms the schedule timer
  log.emit({ body: 'b' }); // starts an export with its timeout timer
  log.emit({ body: 'c' });
  assert.is(p.stats().queuedRecords, 1);
  assert.is(refTimers(), before);
  gate.resolve();
  await p.shutdown();
});

batching('a full buffer drops new records and counts them', async () => {
  const w = captureWarnings();
  try {
    const gate = deferred();
    const received: string[][] = [];
    const sink: LogBatchSink = {
      export(body) {
        received.push(bodiesOf(body));
        return gate.promise;
      },
    };
    const p = provider({ maxQueueSize: 4, maxExportBatchSize: 4, scheduledDelayMillis: 60_000 }, sink);
    const log = p.getLogger('t');
    for (let i = 0; i < 4; i++) log.emit({ body: `a${i}` }); // leaves as one batch, stays in flight
    for (let i = 0; i < 7; i++) log.emit({ body: `b${i}` }); // 4 fit, 3 are dropped
    assert.equal({ ...p.stats() }, { queuedRecords: 4, droppedRecords: 3, exportedRecords: 0, failedRecords: 0 });
    assert.is(w.messages.filter((m) => m.includes('log buffer full')).length, 1);
    gate.resolve();
    await waitFor(() => received.length === 2, 2000, 'second batch after the first settled');
    assert.equal(received[1], ['b0', 'b1', 'b2', 'b3']);
    await p.shutdown();
    assert.equal({ ...p.stats() }, { queuedRecords: 0, droppedRecords: 3, exportedRecords: 8, failedRecords: 0 });
  } finally {
    w.restore();
  }
});

batching('exports never overlap, even with a slow asynchronous sink', async () => {
  let active = 0;
  let maxActive = 0;
  const got: string[] = [];
  const sink: LogBatchSink = {
    async export(body) {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(2);
      got.push(...bodiesOf(body));
      active--;
    },
  };
  const p = provider({ maxQueueSize: 1000, maxExportBatchSize: 5, scheduledDelayMillis: 5 }, sink);
  const log = p.getLogger('t');
  for (let i = 0; i < 23; i++) {
    log.emit({ body: `r${i}` });
    if (i % 4 === 0) await sleep(1);
  }
  await p.forceFlush();
  assert.is(maxActive, 1);
  assert.equal(
    got,
    Array.from({ length: 23 }, (_, i) => `r${i}`),
  );
  await p.shutdown();
});

batching.run();

const lifecycle = suite('logs/batch-processor flush, shutdown, failures');

lifecycle('forceFlush drains everything now, then flushes the sink', async () => {
  const calls: string[] = [];
  const sink: LogBatchSink = {
    async export(body, count) {
      await sleep(1);
      calls.push(`export ${count} ${bodiesOf(body).length}`);
    },
    async forceFlush() {
      calls.push('sink.forceFlush');
    },
  };
  const p = provider({ maxExportBatchSize: 4, scheduledDelayMillis: 60_000 }, sink);
  const log = p.getLogger('t');
  for (let i = 0; i < 10; i++) log.emit({ body: `r${i}` });
  await p.forceFlush();
  assert.equal(calls, ['export 4 4', 'export 4 4', 'export 2 2', 'sink.forceFlush']);
  assert.is(p.stats().queuedRecords, 0);
  await p.shutdown();
});

lifecycle('concurrent forceFlush calls both complete', async () => {
  const sink = createInMemoryLogSink();
  const p = provider({ maxExportBatchSize: 100, scheduledDelayMillis: 60_000 }, sink);
  const log = p.getLogger('t');
  log.emit({ body: 'a' });
  const first = p.forceFlush();
  log.emit({ body: 'b' });
  await Promise.all([first, p.forceFlush()]);
  assert.equal(sink.bodies.flatMap(bodiesOf), ['a', 'b']);
  await p.shutdown();
});

lifecycle('shutdown flushes, shuts the sink down once, then drops emits with one warning', async () => {
  const w = captureWarnings();
  try {
    let shutdowns = 0;
    const bodies: Uint8Array[] = [];
    const sink: LogBatchSink = {
      export(body) {
        bodies.push(body);
      },
      shutdown() {
        shutdowns++;
      },
    };
    const p = provider({ scheduledDelayMillis: 60_000 }, sink);
    const log = p.getLogger('t');
    log.emit({ body: 'kept' });
    const a = p.shutdown();
    const b = p.shutdown();
    log.emit({ body: 'late-1' });
    await Promise.all([a, b, p.forceFlush()]);
    log.emit({ body: 'late-2' });
    assert.is(shutdowns, 1);
    assert.equal(bodies.flatMap(bodiesOf), ['kept']);
    assert.is(w.messages.filter((m) => m.includes('after shutdown')).length, 1);
    assert.not.ok(log.enabled());
    assert.is(p.stats().exportedRecords, 1);
  } finally {
    w.restore();
  }
});

lifecycle('an export that outlives exportTimeoutMillis is aborted and counted as failed; the next proceeds', async () => {
  const w = captureWarnings();
  try {
    const signals: AbortSignal[] = [];
    let call = 0;
    const sink: LogBatchSink = {
      export(_body, _count, signal) {
        signals.push(signal);
        call++;
        // The first call never settles.
        return call === 1 ? new Promise<void>(() => {}) : undefined;
      },
    };
    const p = provider({ maxExportBatchSize: 2, scheduledDelayMillis: 60_000, exportTimeoutMillis: 20 }, sink);
    const log = p.getLogger('t');
    log.emit({ body: 'a' });
    log.emit({ body: 'b' }); // batch 1: hangs
    log.emit({ body: 'c' });
    log.emit({ body: 'd' }); // batch 2: waits for batch 1 to time out
    assert.is(call, 1);
    await waitFor(() => call === 2, 2000, 'second export after the timeout');
    assert.ok(signals[0]!.aborted);
    assert.instance(signals[0]!.reason, LogExportTimeoutError);
    assert.not.ok(signals[1]!.aborted);
    assert.equal({ ...p.stats() }, { queuedRecords: 0, droppedRecords: 0, exportedRecords: 2, failedRecords: 2 });
    assert.ok(w.messages.some((m) => m.includes('did not settle within 20 ms')));
    await p.shutdown();
  } finally {
    w.restore();
  }
});

lifecycle('a sink that throws or rejects loses that batch only', async () => {
  const w = captureWarnings();
  try {
    let call = 0;
    const sink: LogBatchSink = {
      export() {
        call++;
        if (call === 1) throw new Error('sync boom');
        if (call === 2) return Promise.reject(new Error('async boom'));
        return undefined;
      },
      forceFlush() {
        throw new Error('flush boom');
      },
    };
    const p = provider({ maxExportBatchSize: 1, scheduledDelayMillis: 60_000 }, sink);
    const log = p.getLogger('t');
    log.emit({ body: '1' });
    log.emit({ body: '2' });
    await p.forceFlush();
    log.emit({ body: '3' });
    await p.forceFlush();
    assert.is(call, 3);
    assert.equal({ ...p.stats() }, { queuedRecords: 0, droppedRecords: 0, exportedRecords: 1, failedRecords: 2 });
    assert.ok(w.messages.some((m) => m.includes('sync boom')));
    assert.ok(w.messages.some((m) => m.includes('flush boom')));
    await p.shutdown();
  } finally {
    w.restore();
  }
});

lifecycle('a sink that logs from export() does not start a nested export', async () => {
  let depth = 0;
  let maxDepth = 0;
  let calls = 0;
  const p = createLoggerProvider({ batch: { maxExportBatchSize: 1, scheduledDelayMillis: 60_000 } });
  const log = p.getLogger('t');
  p.setSink({
    export() {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      calls++;
      // Each export logs one record of its own, up to a bound.
      if (calls < 5) log.emit({ body: `from sink ${calls}` });
      depth--;
    },
  });
  log.emit({ body: 'start' });
  await p.forceFlush();
  await p.forceFlush();
  assert.is(maxDepth, 1);
  assert.is(calls, 5);
  await p.shutdown();
});

lifecycle.run();
