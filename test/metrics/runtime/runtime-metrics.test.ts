import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createMeterProvider, type MeterProvider } from '../../../src/metrics/meter-provider.js';
import { MetricsConfigError } from '../../../src/metrics/errors.js';
import {
  registerRuntimeMetrics,
  validateRuntimeMetricsOptions,
  RUNTIME_METER_NAME,
  RUNTIME_SCHEMA_URL,
  type RuntimeMetrics,
} from '../../../src/metrics/runtime/runtime-metrics.js';
import { procReaders } from '../../../src/metrics/runtime/procfs.js';
import { settledHeap } from '../../support/gc.js';
import { captureWarnings } from '../helpers.js';
import { burnCpu, runtimePoints, sleep, spin, total, valueOf } from './helpers.js';

const LINUX_PROC = procReaders().openFileDescriptors !== undefined;

/** A provider with one cumulative consumer and runtime metrics sampled on every collection. */
function setup(options: { roundMillis?: number; eventLoopDelayResolutionMillis?: number } = {}) {
  const provider = createMeterProvider();
  const consumer = provider.registerConsumer({ temporality: 'cumulative' });
  const runtime = registerRuntimeMetrics(provider, { roundMillis: 0, ...options });
  return { provider, consumer, runtime };
}

// Every registration of a test is stopped at its end, even when an assertion failed.
const started: RuntimeMetrics[] = [];
function track<T extends { runtime: RuntimeMetrics }>(s: T): T {
  started.push(s.runtime);
  return s;
}
function stopAll(): void {
  for (const r of started.splice(0)) r.stop();
}

const values = suite('metrics/runtime: values are plausible and move');
values.after.each(stopAll);

values('cpu time grows with busy work; utilization is a ratio of the available CPUs', async () => {
  const { consumer } = track(setup());
  const before = await runtimePoints(consumer);
  burnCpu(150);
  const after = await runtimePoints(consumer);
  const du =
    valueOf(after, 'process.cpu.time', 'cpu.mode=user') +
    valueOf(after, 'process.cpu.time', 'cpu.mode=system') -
    valueOf(before, 'process.cpu.time', 'cpu.mode=user') -
    valueOf(before, 'process.cpu.time', 'cpu.mode=system');
  assert.ok(du >= 0.14, `cpu time grew by ${du} s over 150 ms of CPU work`);
  const own = process.cpuUsage();
  assert.ok(valueOf(after, 'process.cpu.time', 'cpu.mode=user') <= own.user / 1e6, 'user time is not ahead of the process');
  const u = valueOf(after, 'process.cpu.utilization', 'cpu.mode=user') + valueOf(after, 'process.cpu.utilization', 'cpu.mode=system');
  assert.ok(u > 0 && u <= 1.05, `utilization ${u} over a busy interval`);
});

values('heap used grows when the application retains memory', async () => {
  const { consumer } = track(setup());
  settledHeap();
  const before = total(await runtimePoints(consumer), 'v8js.memory.heap.used');
  const retained = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item-${i}` }));
  const after = await runtimePoints(consumer);
  const grown = total(after, 'v8js.memory.heap.used') - before;
  assert.ok(grown > 8 * 1024 * 1024, `heap used grew by ${grown} bytes`);
  assert.is(retained.length, 200_000);
  // Every heap metric has one integer point per space, and sizes are consistent.
  const spaces = after.filter((p) => p.metric === 'v8js.memory.heap.used').map((p) => p.attrs);
  assert.ok(spaces.includes('v8js.heap.space.name=old_space') && spaces.includes('v8js.heap.space.name=new_space'), spaces.join(' '));
  for (const name of ['v8js.memory.heap.space.size', 'v8js.memory.heap.space.available_size', 'v8js.memory.heap.space.physical_size']) {
    assert.equal(
      after.filter((p) => p.metric === name).map((p) => p.attrs),
      spaces,
      name,
    );
  }
  for (const p of after.filter((x) => x.metric.startsWith('v8js.memory.'))) assert.ok(p.isInt && p.value >= 0, `${p.metric} ${p.attrs}`);
  assert.ok(
    valueOf(after, 'v8js.memory.heap.used', 'v8js.heap.space.name=old_space') <=
      valueOf(after, 'v8js.memory.heap.space.size', 'v8js.heap.space.name=old_space'),
  );
});

/**
 * Collects until the interval has event-loop delay samples, at most `timeoutMs`: Node's histogram
 * records from its second tick after a reset, and on a loaded machine both can fall into one timer
 * phase with the test's own sleep, leaving an interval without a sample (hence without a point).
 */
async function pointsWithDelay(consumer: Parameters<typeof runtimePoints>[0], timeoutMs = 3000) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    await sleep(40);
    const ps = await runtimePoints(consumer);
    if (ps.some((p) => p.metric === 'nodejs.eventloop.delay.max') || performance.now() > end) return ps;
  }
}

values('a blocked event loop raises the delay max; the histogram resets per collection', async () => {
  const BLOCK_MS = 300;
  const { consumer } = track(setup({ eventLoopDelayResolutionMillis: 10 }));
  const quiet = await pointsWithDelay(consumer);
  const quietMax = valueOf(quiet, 'nodejs.eventloop.delay.max');
  // After a reset, Node's histogram only records from its second tick (docs/runtime-metrics.md,
  // known gaps). Its timer is due before this sleep's, so it has ticked once when the block starts,
  // and its overdue tick runs before the next sleep ends: the block is recorded however late timers run.
  await sleep(30);
  spin(BLOCK_MS);
  await sleep(40);
  const blocked = await runtimePoints(consumer);
  const max = valueOf(blocked, 'nodejs.eventloop.delay.max');
  assert.ok(max >= (0.99 * BLOCK_MS) / 1000, `max delay ${max} s after a ${BLOCK_MS} ms block`);
  // Relative, not absolute: a loaded machine delays timers in a quiet interval too, but not by the block.
  assert.ok(quietMax < max, `quiet interval max ${quietMax} s, blocked ${max} s`);
  const [min, p50, p90, p99, mean, sd] = ['min', 'p50', 'p90', 'p99', 'mean', 'stddev'].map((s) =>
    valueOf(blocked, `nodejs.eventloop.delay.${s}`),
  ) as number[];
  assert.ok(min! > 0 && min! <= p50! && p50! <= p90! && p90! <= p99! && p99! <= max * 1.01, `${min} ${p50} ${p90} ${p99} ${max}`);
  assert.ok(mean! >= min! && mean! <= max && sd! >= 0);
  // Utilization of the interval: mostly the spin.
  const elu = valueOf(blocked, 'nodejs.eventloop.utilization');
  assert.ok(elu > 0.5 && elu <= 1, `event loop utilization ${elu}`);
  // Reset: the next interval does not remember the block (without the reset its max would be the block's).
  const next = await pointsWithDelay(consumer);
  const nextMax = valueOf(next, 'nodejs.eventloop.delay.max');
  assert.ok(nextMax < max, `the block belongs to the previous interval only: next max ${nextMax} s, blocked ${max} s`);
  const active = (ps: typeof next) => valueOf(ps, 'nodejs.eventloop.time', 'nodejs.eventloop.state=active');
  assert.ok(active(next) - active(quiet) >= (0.99 * BLOCK_MS) / 1000, 'event loop active time counts the block');
  assert.ok(valueOf(next, 'nodejs.eventloop.time', 'nodejs.eventloop.state=idle') > 0);
});

values('forced GCs raise the gc duration count, by type, in seconds', async () => {
  const { consumer } = track(setup());
  const major = (ps: Awaited<ReturnType<typeof runtimePoints>>) =>
    ps.find((p) => p.metric === 'v8js.gc.duration' && p.attrs === 'v8js.gc.type=major')?.count ?? 0;
  const before = major(await runtimePoints(consumer));
  settledHeap(); // two full collections
  // Observer entries are delivered asynchronously: poll, boundedly.
  let ps = await runtimePoints(consumer);
  for (let i = 0; i < 100 && major(ps) < before + 2; i++) {
    await sleep(10);
    ps = await runtimePoints(consumer);
  }
  assert.ok(major(ps) >= before + 2, `major GCs ${before} → ${major(ps)}`);
  for (const p of ps.filter((x) => x.metric === 'v8js.gc.duration')) {
    assert.equal(p.bounds, [0.01, 0.1, 1, 10]);
    assert.ok(['v8js.gc.type=major', 'v8js.gc.type=minor', 'v8js.gc.type=incremental', 'v8js.gc.type=weakcb'].includes(p.attrs), p.attrs);
    assert.ok(p.sum !== undefined && p.sum >= 0 && p.sum / p.count < 1, `mean GC pause ${p.sum! / p.count} s`);
  }
});

values('process memory, uptime; file descriptors follow opens and closes (Linux)', async () => {
  const { consumer } = track(setup());
  const ps = await runtimePoints(consumer);
  const rss = valueOf(ps, 'process.memory.usage');
  const own = process.memoryUsage.rss();
  assert.ok(rss > 0.5 * own && rss < 2 * own, `rss ${rss} vs ${own}`);
  const up = valueOf(ps, 'process.uptime');
  assert.ok(Math.abs(up - process.uptime()) < 1, `uptime ${up}`);
  if (!LINUX_PROC) {
    assert.is(
      ps.find((p) => p.metric === 'process.unix.file_descriptor.count'),
      undefined,
    );
    return;
  }
  assert.ok(valueOf(ps, 'process.memory.virtual') > rss, 'virtual ≥ resident');
  const fds0 = valueOf(ps, 'process.unix.file_descriptor.count');
  const opened = Array.from({ length: 5 }, () => openSync('/dev/null', 'r'));
  try {
    assert.is(valueOf(await runtimePoints(consumer), 'process.unix.file_descriptor.count'), fds0 + 5);
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  assert.is(valueOf(await runtimePoints(consumer), 'process.unix.file_descriptor.count'), fds0);
});

values('active resources are counted by type while they exist', async () => {
  const { consumer } = track(setup());
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const ps = await runtimePoints(consumer);
    assert.ok(valueOf(ps, 'v8js.resource.active', 'v8js.resource.type=TCPServerWrap') >= 1);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  // The closed handle leaves the list a few turns after the close callback: poll, boundedly.
  let after = await runtimePoints(consumer);
  for (let i = 0; i < 100 && after.some((p) => p.attrs === 'v8js.resource.type=TCPServerWrap'); i++) {
    await sleep(10);
    after = await runtimePoints(consumer);
  }
  assert.is(
    after.find((p) => p.attrs === 'v8js.resource.type=TCPServerWrap'),
    undefined,
  );
});

values.run();

const lifecycle = suite('metrics/runtime: registration, rounds, stop');
lifecycle.after.each(stopAll);

lifecycle('scope name and schema URL', async () => {
  const { consumer } = track(setup());
  const msgs = await consumer.collectMessages();
  const sm = msgs[0]?.resourceMetrics[0]?.scopeMetrics.find((s) => s.scope?.name === RUNTIME_METER_NAME);
  assert.ok(sm);
  assert.is(sm.schemaUrl, RUNTIME_SCHEMA_URL);
});

lifecycle('consumers collected together share one sample', async () => {
  const provider = createMeterProvider();
  const a = provider.registerConsumer({ temporality: 'cumulative' });
  const b = provider.registerConsumer({ temporality: 'delta' });
  track({ runtime: registerRuntimeMetrics(provider) }); // default roundMillis
  await sleep(80);
  const [pa, pb] = await Promise.all([runtimePoints(a), runtimePoints(b)]);
  for (const name of ['nodejs.eventloop.delay.max', 'nodejs.eventloop.utilization', 'process.uptime']) {
    assert.is(valueOf(pb, name), valueOf(pa, name), name);
  }
  assert.is(valueOf(pb, 'process.cpu.utilization', 'cpu.mode=user'), valueOf(pa, 'process.cpu.utilization', 'cpu.mode=user'));
});

lifecycle('with roundMillis 0, every collection samples anew', async () => {
  const { consumer } = track(setup({ roundMillis: 0 }));
  const u1 = valueOf(await runtimePoints(consumer), 'process.uptime');
  await sleep(5);
  const u2 = valueOf(await runtimePoints(consumer), 'process.uptime');
  assert.ok(u2 > u1);
});

lifecycle('stop() ends the observable metrics and GC recording; idempotent', async () => {
  const { consumer, runtime } = track(setup());
  const gcCount = (ps: Awaited<ReturnType<typeof runtimePoints>>) => total(ps, 'v8js.gc.duration');
  assert.ok((await runtimePoints(consumer)).some((p) => p.metric === 'process.cpu.time'));
  runtime.stop();
  runtime.stop();
  const before = gcCount(await runtimePoints(consumer));
  settledHeap();
  await sleep(50);
  const after = await runtimePoints(consumer);
  assert.equal(
    [...new Set(after.map((p) => p.metric))].filter((m) => m !== 'v8js.gc.duration'),
    [],
  );
  assert.is(gcCount(after), before, 'no GC recorded after stop');
});

lifecycle('a second registration shares the first; it ends with the last handle', async () => {
  const provider: MeterProvider = createMeterProvider();
  const consumer = provider.registerConsumer();
  const first = registerRuntimeMetrics(provider, { roundMillis: 0 });
  const { warnings, result: second } = await captureWarnings(() => registerRuntimeMetrics(provider, { roundMillis: 5 }));
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /already registered/);
  try {
    // One callback, not two: cpu time is not counted twice.
    const ps = await runtimePoints(consumer);
    assert.ok(valueOf(ps, 'process.cpu.time', 'cpu.mode=user') <= process.cpuUsage().user / 1e6);
    first.stop();
    assert.ok(
      (await runtimePoints(consumer)).some((p) => p.metric === 'process.uptime'),
      'still registered',
    );
  } finally {
    first.stop();
    second.stop();
  }
  assert.is(
    (await runtimePoints(consumer)).find((p) => p.metric === 'process.uptime'),
    undefined,
  );
  // Registering after a full stop starts afresh.
  const again = registerRuntimeMetrics(provider, { roundMillis: 0 });
  try {
    assert.ok((await runtimePoints(consumer)).some((p) => p.metric === 'process.uptime'));
  } finally {
    again.stop();
  }
});

lifecycle('invalid options throw MetricsConfigError naming the field', () => {
  const bad: Array<[object, string]> = [
    [{ eventLoopDelayResolutionMillis: 0 }, 'eventLoopDelayResolutionMillis'],
    [{ eventLoopDelayResolutionMillis: 2.5 }, 'eventLoopDelayResolutionMillis'],
    [{ eventLoopDelayResolutionMillis: '20' }, 'eventLoopDelayResolutionMillis'],
    [{ roundMillis: -1 }, 'roundMillis'],
    [{ roundMillis: Number.POSITIVE_INFINITY }, 'roundMillis'],
  ];
  for (const [o, field] of bad) {
    try {
      validateRuntimeMetricsOptions(o);
      assert.unreachable(`${JSON.stringify(o)} was accepted`);
    } catch (e) {
      assert.instance(e, MetricsConfigError);
      assert.is((e as MetricsConfigError).field, field);
    }
  }
  assert.equal(validateRuntimeMetricsOptions(), { eventLoopDelayResolutionMillis: 20, roundMillis: 100 });
  assert.ok(Object.isFrozen(validateRuntimeMetricsOptions({ roundMillis: 0 })));
});

lifecycle('the runtime metrics keep no process alive', async () => {
  const child = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx/esm', child], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => (out += d));
  const code = await new Promise<number | null | 'timeout'>((resolve) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve('timeout');
    }, 15_000);
    proc.on('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  assert.is(code, 0, `child exit: ${String(code)}`);
  assert.match(out, /collected \d+ runtime points/);
});

lifecycle.run();
