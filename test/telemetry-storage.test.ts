import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelemetry } from '../src/telemetry.js';
import { getDiagnosticSink, resetWarnings, setDiagnosticSink } from '../src/internal/warn.js';
import { ofSignal, startReceiver, type Receiver, type Reply } from './support/receiver.js';
import { root, watch, type Run } from './support/child-run.js';

// The library's durable queues (issue 11, "Durable queues", last bullet): an edge process that
// restarts during an outage still delivers its delta data after the restart; without storage,
// nothing touches the disk. Real processes (test/support/storage-child.ts) against a real loopback
// receiver that refuses (503) while "down".

const test = suite('telemetry storage');
const previousSink = getDiagnosticSink();
const warnings: string[] = [];
let receiver: Receiver;
let dirs: string[] = [];
const DOWN: Reply = { kind: 'error', httpStatus: 503, message: 'down' };

test.before(async () => {
  receiver = await startReceiver({ grpc: false });
});
test.after(async () => {
  setDiagnosticSink(previousSink);
  await receiver.close();
});
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
  receiver.respondWith(undefined);
  receiver.clear();
});
test.after.each(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDir(prefix = 'telemetry-storage-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** An edge process; `timeout`: its export timeout, all that a flush or shutdown waits while the receiver refuses. */
function child(directory: string, run: string, mode: 'shutdown' | 'hold', timeout: number): Run {
  const args = [directory, receiver.httpUrl, run, mode, String(timeout)];
  return watch(
    spawn(process.execPath, ['--import', 'tsx/esm', 'test/support/storage-child.ts', ...args], {
      cwd: root,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Sum points of `edge.orders` and log bodies the receiver accepted, in arrival order. */
function delivered(r: Receiver): { orders: string[]; logs: string[] } {
  const orders: string[] = [];
  for (const q of r.requests.filter(ofSignal('metrics'))) {
    for (const rm of q.message.resourceMetrics)
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics) {
          if (m.name !== 'edge.orders' || m.data.case !== 'sum') continue;
          for (const p of m.data.value.dataPoints) {
            const run = p.attributes.find((a) => a.key === 'run')?.value?.value.value;
            orders.push(`run ${String(run)}: ${String(p.value.value)} (temporality ${m.data.value.aggregationTemporality})`);
          }
        }
  }
  const logs: string[] = [];
  for (const q of r.requests.filter(ofSignal('logs'))) {
    for (const rl of q.message.resourceLogs) for (const sl of rl.scopeLogs) for (const l of sl.logRecords) logs.push(String(l.body?.value.value));
  }
  return { orders, logs };
}

const DELTA = 1; // AggregationTemporality.DELTA

/** The second run, with the receiver up: delivers its own data and the first run's, once each. */
async function restartDelivers(directory: string): Promise<void> {
  receiver.respondWith(undefined);
  receiver.clear();
  const second = child(directory, '2', 'shutdown', 20_000);
  const code = await second.exit();
  assert.is(code, 0, second.stderr());
  const report = JSON.parse((await second.line(/^REPORT (.*)$/m))[1]!) as { undelivered: unknown[]; kept: unknown[] };
  assert.equal(report, { undelivered: [], kept: [] }, 'everything delivered, nothing left on disk');
  const got = delivered(receiver);
  assert.equal(
    got.orders.sort(),
    [`run 1: 7 (temporality ${DELTA})`, `run 2: 7 (temporality ${DELTA})`],
    "the first run's delta points arrive, once",
  );
  assert.equal(got.logs.sort(), ['run 1', 'run 2']);
  assert.not.match(second.stdout(), /WARN/, 'no warning in the second run');
}

test('graceful shutdown during an outage: the data stays on disk (reported as kept) and the next run delivers it', async () => {
  const directory = tempDir();
  receiver.respondWith(() => DOWN);
  const first = child(directory, '1', 'shutdown', 300);
  assert.is(await first.exit(), 0, first.stderr());
  const report = JSON.parse((await first.line(/^REPORT (.*)$/m))[1]!) as {
    undelivered: unknown[];
    kept: { backend: string; signal: string; records: number }[];
  };
  assert.equal(report.undelivered, [], 'nothing reported lost');
  assert.equal(
    report.kept.map((k) => `${k.backend}/${k.signal}`),
    ['central/metrics', 'central/logs'],
  );
  assert.ok(
    report.kept.every((k) => k.records >= 1),
    JSON.stringify(report.kept),
  );
  assert.equal([...new Set(delivered(receiver).logs)], ['run 1'], 'the first run tried to export');
  assert.not.ok(existsSync(join(directory, 'LOCK')), 'the log was closed');
  await restartDelivers(directory);
});

test('kill -9 after the data was written: the next run delivers it; meanwhile the live owner keeps others out (they warn and queue in memory)', async () => {
  const directory = tempDir();
  receiver.respondWith(() => DOWN);
  const first = child(directory, '1', 'hold', 300);
  try {
    await first.line(/^FLUSHED /m);

    // The directory is the live child's: another process (this one) warns once and keeps memory queues.
    const other = createTelemetry({
      env: {},
      storage: { directory },
      backends: [{ name: 'other', endpoint: receiver.httpUrl, temporality: 'delta', retry: { initialBackoffMillis: 20, maxBackoffMillis: 50 } }],
      exportIntervalMillis: 3_600_000,
      exportTimeoutMillis: 2000,
      selfMetrics: false,
    });
    other.meterProvider.getMeter('other').createCounter('other.orders').add(3);
    receiver.respondWith((r) => (isOther(r) ? { kind: 'ok' } : DOWN));
    await other.forceFlush();
    const report = await other.shutdown();
    assert.equal(report, { undelivered: [], kept: [] });
    assert.is(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, new RegExp(`storage ${escape(directory)} cannot be used \\(durable log: .* is in use by process ${first.child.pid}`));
    assert.match(warnings[0]!, /storage off: queues stay in memory/);
    assert.ok(receiver.requests.some(isOther), 'delivered from the memory queue');
    assert.is(readdirSync(directory).filter((f) => f.startsWith('other')).length, 0, 'no cursor of its own in the directory');
  } finally {
    first.child.kill('SIGKILL');
    await first.exit();
  }
  assert.is(first.child.signalCode, 'SIGKILL');
  assert.ok(existsSync(join(directory, 'LOCK')), 'the killed owner left its lock (stale: taken over at the next open)');
  await restartDelivers(directory);
});

test('OTEL_FANOUT_STORAGE_*: the environment alone turns storage on; the next start delivers what was kept', async () => {
  const directory = join(tempDir(), 'queue'); // created by the first start
  const env = {
    OTEL_FANOUT_STORAGE_DIRECTORY: directory,
    OTEL_FANOUT_STORAGE_MAX_BYTES: '1048576',
    OTEL_FANOUT_STORAGE_FSYNC: 'Always',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.httpEndpoint('metrics'),
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
  };
  const options = { env, exportIntervalMillis: 3_600_000, selfMetrics: false };
  receiver.respondWith(() => DOWN);
  const first = createTelemetry({ ...options, exportTimeoutMillis: 300 });
  const s = first.config.storage!;
  assert.equal([s.directory, s.maxBytes, s.fsync], [directory, 1048576, 'always']);
  first.meterProvider.getMeter('edge').createCounter('edge.orders').add(4, { run: '1' });
  await first.forceFlush();
  const report = await first.shutdown();
  assert.equal(report.undelivered, []);
  assert.equal(
    report.kept.map((k) => [k.backend, k.signal, k.records]),
    [['otlp', 'metrics', 1]],
  );
  assert.ok(readdirSync(directory).includes('otlp%2Fmetrics.cursor'), readdirSync(directory).join());

  receiver.respondWith(undefined);
  receiver.clear();
  const second = createTelemetry({ ...options, exportTimeoutMillis: 10_000 });
  await second.forceFlush();
  assert.equal(await second.shutdown(), { undelivered: [], kept: [] });
  assert.equal(delivered(receiver).orders, [`run 1: 4 (temporality ${DELTA})`]);
  assert.equal(warnings, []);
});

test('backends no longer configured: their cursors are deleted at start with one warning saying what was dropped', async () => {
  const directory = tempDir();
  const backend = (name: string) => ({ name, endpoint: receiver.httpUrl, temporality: 'delta' as const, signals: ['metrics' as const] });
  const options = { env: {}, storage: { directory }, exportIntervalMillis: 3_600_000, selfMetrics: false };
  receiver.respondWith(() => DOWN);
  const first = createTelemetry({ ...options, backends: [backend('kept'), backend('gone')], exportTimeoutMillis: 300 });
  first.meterProvider.getMeter('edge').createCounter('edge.orders').add(1, { run: '1' });
  await first.forceFlush();
  assert.equal(
    (await first.shutdown()).kept.map((k) => k.backend),
    ['kept', 'gone'],
  );
  receiver.respondWith(undefined);
  receiver.clear();
  const second = createTelemetry({ ...options, backends: [backend('kept')], exportTimeoutMillis: 10_000 });
  await second.forceFlush();
  assert.equal(await second.shutdown(), { undelivered: [], kept: [] });
  assert.equal(delivered(receiver).orders, [`run 1: 1 (temporality ${DELTA})`], 'delivered once, to the backend still configured');
  assert.is(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, `storage ${directory}: backends no longer configured; dropped what they had not delivered (gone/metrics: `);
  assert.equal(
    readdirSync(directory).filter((f) => f.endsWith('.cursor')),
    ['kept%2Fmetrics.cursor'],
  );
});

test('a storage option that cannot be used: one warning naming it, memory queues, nothing on disk', async () => {
  const directory = join(tempDir(), 'queue');
  const telemetry = createTelemetry({
    env: {},
    storage: { directory, maxBytes: 1000 },
    backends: [{ name: 'central', endpoint: receiver.httpUrl, temporality: 'delta' }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  assert.is(telemetry.config.storage, undefined);
  assert.equal(warnings, [
    `otlp-fanout: storage.maxBytes: 1000 is not allowed; expected an integer from 8192 to ${Number.MAX_SAFE_INTEGER}; storage off: queues stay in memory`,
  ]);
  telemetry.meterProvider.getMeter('edge').createCounter('edge.orders').add(2, { run: 'm' });
  await telemetry.forceFlush();
  assert.equal(await telemetry.shutdown(), { undelivered: [], kept: [] });
  assert.equal(delivered(receiver).orders, [`run m: 2 (temporality ${DELTA})`]);
  assert.not.ok(existsSync(directory));
});

test('a directory that cannot be opened: one warning, memory queues, nothing recorded meanwhile is lost', async () => {
  const file = join(tempDir(), 'not-a-directory');
  writeFileSync(file, '');
  const telemetry = createTelemetry({
    env: {},
    storage: { directory: file },
    backends: [{ name: 'central', endpoint: receiver.httpUrl, temporality: 'delta' }],
    exportIntervalMillis: 3_600_000,
    selfMetrics: false,
  });
  // Recorded and collected before the log could even be tried: kept by the handover queue.
  telemetry.meterProvider.getMeter('edge').createCounter('edge.orders').add(6, { run: 'h' });
  await telemetry.forceFlush();
  assert.equal(await telemetry.shutdown(), { undelivered: [], kept: [] });
  assert.equal(delivered(receiver).orders, [`run h: 6 (temporality ${DELTA})`]);
  assert.is(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, `storage ${file} cannot be used (EEXIST: `);
  assert.match(warnings[0]!, /; storage off: queues stay in memory$/);
});

test('without storage nothing touches the disk: no file in the working directory, the durable log never loaded', async () => {
  const cwd = tempDir('telemetry-no-storage-');
  const run = watch(
    spawn(process.execPath, ['--import', import.meta.resolve('tsx/esm'), join(root, 'test/support/no-storage-child.ts'), receiver.httpUrl], {
      cwd,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  assert.is(await run.exit(), 0, run.stderr());
  assert.equal(JSON.parse((await run.line(/^REPORT (.*)$/m))[1]!), { undelivered: [], kept: [] });
  const loaded = JSON.parse((await run.line(/^LOADED (.*)$/m))[1]!) as string[];
  assert.ok(loaded.includes('transport/http.ts'), 'the hook saw what loaded on the first export');
  assert.equal(
    loaded.filter((f) => f.startsWith('export/durable')),
    ['export/durable/options.ts'],
    'only the storage options check (no file access) loads',
  );
  assert.equal(readdirSync(cwd), []);
  assert.equal(delivered(receiver).orders, [`run undefined: 1 (temporality ${DELTA})`]);
});

function isOther(r: Receiver['requests'][number]): boolean {
  return (
    r.signal === 'metrics' && r.message.resourceMetrics.some((rm) => rm.scopeMetrics.some((sm) => sm.metrics.some((m) => m.name === 'other.orders')))
  );
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test.run();
