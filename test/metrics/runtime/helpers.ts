/**
 * Helpers of the runtime metrics tests. Not a test file (uvu runs `*.test.ts` only).
 */
import type { MetricConsumer } from '../../../src/metrics/meter-provider.js';
import { RUNTIME_METER_NAME } from '../../../src/metrics/runtime/runtime-metrics.js';
import { flatten, type FlatPoint } from '../helpers.js';

/** The runtime metrics' points of one collection of `c`. */
export async function runtimePoints(c: MetricConsumer): Promise<FlatPoint[]> {
  return flatten(await c.collectMessages()).filter((p) => p.scope === RUNTIME_METER_NAME);
}

/** The value of `metric` {attrs}; throws when there is no such point, so a test fails with a name. */
export function valueOf(ps: readonly FlatPoint[], metric: string, attrs = ''): number {
  const p = ps.find((x) => x.metric === metric && x.attrs === attrs);
  if (p === undefined) throw new Error(`no point ${metric} {${attrs}} among ${[...new Set(ps.map((x) => x.metric))].join(', ')}`);
  return p.value;
}

/** Sum of `metric` over all its points (e.g. heap used over spaces). */
export function total(ps: readonly FlatPoint[], metric: string): number {
  return ps.filter((x) => x.metric === metric).reduce((n, x) => n + (x.kind === 'histogram' ? x.count : x.value), 0);
}

/** Blocks the event loop for `ms` milliseconds of wall time. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  // Bounded by the clock; the arithmetic keeps the loop from being optimised away.
  while (performance.now() < end) x = (x * 31 + 7) % 1_000_003;
  return x;
}

/**
 * Burns `ms` milliseconds of this process's CPU time (user + system), or gives up after
 * 20× that in wall time: on a loaded machine, wall time is not CPU time.
 */
export function burnCpu(ms: number): number {
  const start = process.cpuUsage();
  const giveUp = performance.now() + 20 * ms;
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x = (x * 31 + 7) % 1_000_003;
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms || performance.now() > giveUp) return x;
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits, one event-loop turn at a time and at most `timeoutMs`, until `cond()` holds; returns whether it did. */
export async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(5);
  }
  return true;
}
