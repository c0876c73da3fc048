/**
 * The correctness oracle of the temporality conversion: our own metrics library records one
 * workload and produces both temporalities from one recording (a cumulative and a delta consumer
 * collecting at the same instants). Over random workloads (seeded) — int and double sums,
 * up-down counters, explicit and exponential histograms (a small maxSize, so the scale drops as
 * values spread), series that appear, go quiet and vanish, and process restarts (a new provider:
 * new start times, values from zero); and a second resource with sums only, whose requests take
 * the converter's steady-state path (the layout memo) whenever their series did not change —
 * - the library's cumulative output converted by the gateway to delta equals the library's delta
 *   output (a series the library left out, having nothing new, comes out as a zero delta);
 * - the library's delta output converted to cumulative equals the library's cumulative output,
 *   over each run the converter makes: from the series' start, or, after a quiet interval (a gap
 *   in the delta stream, which starts a new run), the library's cumulative at the run's end minus
 *   its cumulative at the run's start.
 * Exponential histograms are compared at the lower of the two scales. Every request is also
 * sometimes refused after conversion (rolled back) and converted again, which must change nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ProcessContext } from '../../../../src/gateway/forward/processors/chain.js';
import type { EntryStep } from '../../../../src/gateway/forward/processors/chain.js';
import { compileTemporality, createTemporalityState } from '../../../../src/gateway/forward/processors/temporality.js';
import type { TemporalityState } from '../../../../src/gateway/forward/processors/temporality.js';
import { manualClock } from '../../../../src/internal/clock.js';
import { ValueType } from '../../../../src/metrics/instrument-descriptor.js';
import { createMeterProvider } from '../../../../src/metrics/meter-provider.js';
import type { MetricConsumer } from '../../../../src/metrics/meter-provider.js';
import type { Counter, Histogram, UpDownCounter } from '../../../../src/metrics/instruments.js';
import { scanRequest } from '../../../../src/otlp/scan.js';
import { flatten } from '../../../metrics/helpers.js';
import type { FlatPoint } from '../../../metrics/helpers.js';
import { below, pick, prng } from '../../../support/prng.js';
import type { Rng } from '../../../support/prng.js';

const test = suite('gateway/processors/temporality: library oracle (property)');

const START = 1_700_000_000_000_000_000n;

interface Gateway {
  readonly state: TemporalityState;
  readonly step: EntryStep;
}

function gateway(to: 'delta' | 'cumulative'): Gateway {
  // The gateway started before the workload: every series begins after its horizon.
  const clock = manualClock(START - 1_000_000_000n);
  const state = createTemporalityState({ to, maxStreams: 10_000, staleAfterMillis: 3_600_000, firstPoint: 'auto' }, clock);
  return { state, step: compileTemporality(state, clock) };
}

/** Converts the bodies as the gateway would; sometimes refuses (rolls back) and converts again first. */
function convert(g: Gateway, bodies: Uint8Array[], rnd: Rng): FlatPoint[] {
  const once = (): { points: FlatPoint[]; bytes: string } => {
    const out: FlatPoint[] = [];
    let bytes = '';
    for (const body of bodies) {
      const ctx = new ProcessContext('metrics');
      const parts = scanRequest('metrics', body).entries.map((e) => g.step(body.subarray(e.start, e.end), ctx));
      assert.is(ctx.dropped, undefined, `nothing dropped: ${JSON.stringify([...(ctx.dropped ?? [])])}`);
      const joined = Buffer.concat(parts);
      bytes += joined.toString('hex');
      out.push(...flatten([fromBinary(ExportMetricsServiceRequestSchema, joined)]));
    }
    return { points: out, bytes };
  };
  if (rnd() < 0.2) {
    const refused = once();
    g.state.table.rollback();
    const again = once();
    assert.is(again.bytes, refused.bytes, 'a refused request converts the same way when sent again');
    g.state.table.commit();
    return again.points;
  }
  const r = once();
  g.state.table.commit();
  return r.points;
}

const keyOf = (p: FlatPoint): string => `${p.metric}|${p.attrs}`;
const byKey = (ps: FlatPoint[]): Map<string, FlatPoint> => new Map(ps.map((p) => [keyOf(p), p]));

/** An exponential point's buckets at a lower `scale`: index → count (positive, and negative as -index-1). */
function expAt(p: FlatPoint | undefined, scale: number): Map<number, number> {
  const out = new Map<number, number>();
  if (p === undefined) return out;
  const shift = p.scale - scale;
  assert.ok(shift >= 0, `scale ${p.scale} below ${scale}`);
  p.pos.forEach((c, i) => c !== 0 && out.set((p.posOffset + i) >> shift, (out.get((p.posOffset + i) >> shift) ?? 0) + c));
  p.neg.forEach((c, i) => c !== 0 && out.set(-1 - ((p.negOffset + i) >> shift), (out.get(-1 - ((p.negOffset + i) >> shift)) ?? 0) + c));
  return out;
}

function minus(a: Map<number, number>, b: Map<number, number>): Map<number, number> {
  const out = new Map(a);
  for (const [i, c] of b) out.set(i, (out.get(i) ?? 0) - c);
  for (const [i, c] of out) if (c === 0) out.delete(i);
  return out;
}

const sorted = (m: Map<number, number>): Array<[number, number]> => [...m].sort((x, y) => x[0] - y[0]);

/** What a point says about its interval, as plain numbers: `x − base` (base undefined: zero). */
function content(x: FlatPoint, base: FlatPoint | undefined, scale: number): unknown {
  switch (x.kind) {
    case 'sum':
      return { value: x.value - (base?.value ?? 0) };
    case 'histogram':
      return {
        count: x.count - (base?.count ?? 0),
        sum: (x.sum ?? 0) - (base?.sum ?? 0),
        buckets: x.buckets.map((c, i) => c - (base?.buckets[i] ?? 0)),
      };
    case 'exponentialHistogram':
      return {
        count: x.count - (base?.count ?? 0),
        sum: (x.sum ?? 0) - (base?.sum ?? 0),
        zero: x.zeroCount - (base?.zeroCount ?? 0),
        buckets: sorted(minus(expAt(x, scale), expAt(base, scale))),
      };
    default:
      return undefined;
  }
}

function isZero(x: FlatPoint): boolean {
  return x.kind === 'sum' ? x.value === 0 : x.count === 0 && (x.sum ?? 0) === 0 && x.buckets.every((c) => c === 0) && x.pos.every((c) => c === 0);
}

const monotonicOrHistogram = (x: FlatPoint): boolean => x.kind !== 'sum' || x.monotonic;

interface Process {
  /** Consumers of both providers: one records everything, the other only sums (its entries take the converter's steady-state path). */
  readonly cumulative: readonly MetricConsumer[];
  readonly delta: readonly MetricConsumer[];
  readonly ints: Counter;
  readonly sums: Counter;
  readonly sumsUpdown: UpDownCounter;
  readonly doubles: Counter;
  readonly updown: UpDownCounter;
  readonly hist: Histogram;
  readonly exp: Histogram;
}

function startProcess(clock: ReturnType<typeof manualClock>, maxSize: number): Process {
  const provider = createMeterProvider({
    clock,
    resource: { 'service.name': 'oracle' },
    views: [{ instrumentName: 'latency.exp', aggregation: { type: 'base2_exponential_bucket_histogram', maxSize } }],
  });
  const sumsOnly = createMeterProvider({ clock, resource: { 'service.name': 'oracle-sums' } });
  // Consumers first, instruments after: both temporalities start at the instruments' creation.
  const cumulative = [provider.registerConsumer({ temporality: 'cumulative' }), sumsOnly.registerConsumer({ temporality: 'cumulative' })];
  const delta = [provider.registerConsumer({ temporality: 'delta' }), sumsOnly.registerConsumer({ temporality: 'delta' })];
  clock.advance(1n);
  const m = provider.getMeter('oracle', '1.0');
  const s = sumsOnly.getMeter('oracle-sums', '1.0');
  return {
    cumulative,
    delta,
    sums: s.createCounter('sums.requests', { valueType: ValueType.INT }),
    sumsUpdown: s.createUpDownCounter('sums.inflight'),
    ints: m.createCounter('requests', { valueType: ValueType.INT }),
    doubles: m.createCounter('bytes'),
    updown: m.createUpDownCounter('inflight'),
    hist: m.createHistogram('latency', { advice: { explicitBucketBoundaries: [1, 10, 100] } }),
    exp: m.createHistogram('latency.exp'),
  };
}

async function runSeed(seed: number): Promise<number> {
  const rnd = prng(seed);
  const clock = manualClock(START);
  const maxSize = 4 + below(rnd, 5);
  let proc = startProcess(clock, maxSize);
  const toDelta = gateway('delta');
  const toCumulative = gateway('cumulative');
  // Series appear and vanish: the pool of attribute sets being recorded changes over time.
  let nextRoute = 0;
  let pool: string[] = [`/r${nextRoute++}`, `/r${nextRoute++}`];
  // The library's cumulative output at each collection time, for the runs the converter restarts.
  const snapshots = new Map<bigint, Map<string, FlatPoint>>();
  let checks = 0;
  const collections = 25 + below(rnd, 15);
  for (let k = 0; k < collections; k++) {
    // Record for a while.
    for (let n = below(rnd, 12); n > 0; n--) {
      clock.advance(BigInt(1 + below(rnd, 1000)));
      if (pool.length === 0) continue;
      const attrs = { route: pick(rnd, pool) };
      const v = below(rnd, 400) / 4;
      proc.ints.add(below(rnd, 5), attrs);
      proc.sums.add(below(rnd, 5), attrs);
      proc.sumsUpdown.add(below(rnd, 9) - 4, attrs);
      proc.doubles.add(v, attrs);
      proc.updown.add(rnd() < 0.5 ? -v : v, attrs);
      proc.hist.record(v, attrs);
      // Wide-ranging, so the exponential histograms lower their scale; some zeros and negatives.
      const e = rnd() < 0.1 ? 0 : (rnd() < 0.5 ? 1 : 2 ** below(rnd, 30)) * (1 + below(rnd, 64) / 64);
      proc.exp.record(e, attrs);
    }
    if (rnd() < 0.2) pool.push(`/r${nextRoute++}`);
    if (rnd() < 0.15 && pool.length > 0) pool = pool.filter((r) => r !== pick(rnd, pool));
    clock.advance(1n);
    // Both consumers collect at one instant.
    const cumulativeBodies = proc.cumulative.flatMap((c) => c.collectSync());
    const deltaBodies = proc.delta.flatMap((c) => c.collectSync());
    const libCumulative = byKey(flatten(cumulativeBodies.map((b) => fromBinary(ExportMetricsServiceRequestSchema, b))));
    const libDelta = byKey(flatten(deltaBodies.map((b) => fromBinary(ExportMetricsServiceRequestSchema, b))));
    const now = clock.nowNanos();
    snapshots.set(now, libCumulative);

    // Cumulative → delta equals the library's delta.
    const asDelta = byKey(convert(toDelta, cumulativeBodies, rnd));
    for (const [key, x] of asDelta) {
      const l = libDelta.get(key);
      const where = `seed ${seed}, collection ${k}, ${key}`;
      if (!monotonicOrHistogram(x)) {
        // Up-down counters stay cumulative, as the library's delta preference keeps them.
        assert.equal(x, l, where);
        continue;
      }
      assert.is(x.temporality, 1, where);
      assert.is(x.time, now, where);
      if (l === undefined) {
        assert.ok(isZero(x), `${where}: the library had nothing new, the conversion says ${JSON.stringify(content(x, undefined, x.scale))}`);
        continue;
      }
      assert.is(x.start, l.start, `${where}: start`);
      const scale = Math.min(x.scale, l.scale);
      assert.equal(content(x, undefined, scale), content(l, undefined, scale), where);
      checks++;
    }
    for (const key of libDelta.keys()) assert.ok(asDelta.has(key), `seed ${seed}, collection ${k}: ${key} lost`);

    // Delta → cumulative equals the library's cumulative over each run.
    const asCumulative = convert(toCumulative, deltaBodies, rnd);
    assert.is(asCumulative.length, libDelta.size, 'one point out per point in');
    for (const x of asCumulative) {
      const key = keyOf(x);
      const where = `seed ${seed}, collection ${k}, ${key}`;
      const l = libCumulative.get(key);
      assert.ok(l, where);
      if (!monotonicOrHistogram(x)) {
        assert.equal(x, l, where);
        continue;
      }
      assert.is(x.temporality, 2, where);
      assert.ok(x.start >= l.start, `${where}: a run starts within the library's`);
      const base = x.start === l.start ? undefined : snapshots.get(x.start)?.get(key);
      const scale = Math.min(x.scale, l.scale, base?.scale ?? 20);
      assert.equal(content(x, undefined, scale), content(l, base, scale), `${where}: run from ${x.start === l.start ? 'the start' : x.start}`);
      if (base === undefined && x.kind !== 'sum') assert.equal([x.min, x.max], [l.min, l.max], `${where}: min, max`);
      checks++;
    }

    // Sometimes the process restarts: new start times, values from zero, the same streams.
    if (rnd() < 0.08) {
      clock.advance(BigInt(1 + below(rnd, 1000)));
      proc = startProcess(clock, maxSize);
    }
  }
  return checks;
}

test('cumulative→delta equals the library’s delta, and delta→cumulative its cumulative', async () => {
  let checks = 0;
  for (let seed = 1; seed <= 20; seed++) checks += await runSeed(seed);
  assert.ok(checks > 5000, `${checks} points compared`);
});

test.run();
