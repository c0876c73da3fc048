import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { manualClock } from '../../src/internal/clock.js';
import { createMeterProvider, type MetricConsumer } from '../../src/metrics/meter-provider.js';
import { temporalityFor } from '../../src/metrics/temporality.js';
import { INSTRUMENT_KINDS } from '../../src/metrics/instrument-descriptor.js';
import { points, type FlatPoint } from './helpers.js';

const presets = suite('metrics/temporality: presets');

presets('preference × kind table (OTLP exporter spec; gauges as the JS selectors)', () => {
  const want: { [k: string]: [string, string, string] } = {
    counter: ['cumulative', 'delta', 'delta'],
    updowncounter: ['cumulative', 'cumulative', 'cumulative'],
    histogram: ['cumulative', 'delta', 'delta'],
    gauge: ['cumulative', 'delta', 'cumulative'],
    observablecounter: ['cumulative', 'delta', 'cumulative'],
    observableupdowncounter: ['cumulative', 'cumulative', 'cumulative'],
    observablegauge: ['cumulative', 'delta', 'cumulative'],
  };
  for (const kind of INSTRUMENT_KINDS) {
    assert.equal(
      (['cumulative', 'delta', 'lowmemory'] as const).map((p) => temporalityFor(p, kind)),
      want[kind],
      kind,
    );
  }
  assert.is(
    temporalityFor(() => 'delta', 'updowncounter'),
    'delta',
  );
});

presets.run();

const steps = suite('metrics/temporality: start and end times (step tables)');

type Step =
  | { at: bigint; add: number; attrs?: { [k: string]: string } }
  | { at: bigint; collect: string; want: Array<[bigint, bigint, number]> }
  | { at: bigint; register: string; temporality: 'cumulative' | 'delta' | 'lowmemory' };

function summary(ps: FlatPoint[]): Array<[bigint, bigint, number]> {
  return ps.map((p) => [p.start, p.time, p.kind === 'histogram' ? p.count : p.value]);
}

async function runSteps(
  setup: (m: ReturnType<ReturnType<typeof createMeterProvider>['getMeter']>) => (v: number, attrs?: { [k: string]: string }) => void,
  table: Step[],
): Promise<void> {
  const clock = manualClock(1000n);
  const p = createMeterProvider({ clock });
  const consumers = new Map<string, MetricConsumer>();
  let record: ((v: number, attrs?: { [k: string]: string }) => void) | undefined;
  for (const step of table) {
    clock.set(step.at);
    if ('register' in step) {
      consumers.set(step.register, p.registerConsumer({ temporality: step.temporality }));
      continue;
    }
    record ??= setup(p.getMeter('m'));
    if ('add' in step) record(step.add, step.attrs);
    else {
      const c = consumers.get(step.collect);
      assert.ok(c);
      assert.equal(summary(await points(c)), step.want, `collect ${step.collect} at ${step.at}`);
    }
  }
}

steps('counter: cumulative from the last drain before the first measurement, delta from the previous collection', async () => {
  await runSteps(
    (m) => {
      const c = m.createCounter('c'); // created at 1010 (first non-register step)
      return (v, a) => c.add(v, a);
    },
    [
      { at: 1000n, register: 'C', temporality: 'cumulative' },
      { at: 1000n, register: 'D', temporality: 'delta' },
      { at: 1010n, collect: 'C', want: [] },
      { at: 1020n, add: 1 },
      // The series appeared in the interval that began at the instrument's creation.
      { at: 1030n, collect: 'C', want: [[1010n, 1030n, 1]] },
      { at: 1040n, add: 2 },
      { at: 1050n, collect: 'D', want: [[1010n, 1050n, 3]] },
      { at: 1060n, collect: 'C', want: [[1010n, 1060n, 3]] },
      { at: 1070n, collect: 'D', want: [] },
      { at: 1080n, add: 5 },
      { at: 1085n, register: 'E', temporality: 'cumulative' },
      { at: 1086n, register: 'F', temporality: 'lowmemory' },
      { at: 1090n, add: 1 },
      { at: 1100n, collect: 'E', want: [[1085n, 1100n, 1]] },
      { at: 1105n, collect: 'F', want: [[1086n, 1105n, 1]] },
      { at: 1110n, collect: 'D', want: [[1070n, 1110n, 6]] },
      { at: 1120n, collect: 'C', want: [[1010n, 1120n, 9]] },
      { at: 1130n, collect: 'E', want: [[1085n, 1130n, 1]] },
      { at: 1140n, collect: 'F', want: [] },
      { at: 1145n, add: 1, attrs: { k: 'new' } },
      // A series first measured after the last drain (F's, at 1140) starts there.
      {
        at: 1150n,
        collect: 'C',
        want: [
          [1010n, 1150n, 9],
          [1140n, 1150n, 1],
        ],
      },
      {
        at: 1160n,
        collect: 'E',
        want: [
          [1085n, 1160n, 1],
          [1140n, 1160n, 1],
        ],
      },
    ],
  );
});

steps('histogram: delta counts per interval, cumulative keeps growing', async () => {
  await runSteps(
    (m) => {
      const h = m.createHistogram('h');
      return (v, a) => h.record(v, a);
    },
    [
      { at: 1000n, register: 'C', temporality: 'cumulative' },
      { at: 1000n, register: 'L', temporality: 'lowmemory' },
      { at: 1010n, add: 1, attrs: { r: 'a' } },
      { at: 1015n, add: 1, attrs: { r: 'b' } },
      {
        at: 1020n,
        collect: 'L',
        want: [
          [1010n, 1020n, 1],
          [1010n, 1020n, 1],
        ],
      },
      { at: 1030n, add: 2, attrs: { r: 'a' } },
      { at: 1040n, collect: 'L', want: [[1020n, 1040n, 1]] },
      {
        at: 1050n,
        collect: 'C',
        want: [
          [1010n, 1050n, 2],
          [1010n, 1050n, 1],
        ],
      },
      { at: 1060n, add: 3, attrs: { r: 'c' } },
      {
        at: 1070n,
        collect: 'C',
        want: [
          [1010n, 1070n, 2],
          [1010n, 1070n, 1],
          [1050n, 1070n, 1],
        ],
      },
    ],
  );
});

steps('sync gauge: cumulative keeps the last value, delta reports only what was measured', async () => {
  await runSteps(
    (m) => {
      const g = m.createGauge('g');
      return (v) => g.record(v);
    },
    [
      { at: 1000n, register: 'C', temporality: 'cumulative' },
      { at: 1000n, register: 'D', temporality: 'delta' },
      { at: 1010n, add: 4 },
      { at: 1011n, add: 5 },
      { at: 1020n, collect: 'D', want: [[1010n, 1020n, 5]] },
      { at: 1030n, collect: 'D', want: [] },
      { at: 1040n, collect: 'C', want: [[1010n, 1040n, 5]] },
      { at: 1050n, add: 6 },
      { at: 1060n, collect: 'C', want: [[1010n, 1060n, 6]] },
      { at: 1070n, collect: 'D', want: [[1030n, 1070n, 6]] },
    ],
  );
});

steps('up-down counter stays cumulative under the delta preset', async () => {
  await runSteps(
    (m) => {
      const u = m.createUpDownCounter('u');
      return (v) => u.add(v);
    },
    [
      { at: 1000n, register: 'D', temporality: 'delta' },
      { at: 1010n, add: 4 },
      { at: 1020n, collect: 'D', want: [[1010n, 1020n, 4]] },
      { at: 1030n, add: -1 },
      { at: 1040n, collect: 'D', want: [[1010n, 1040n, 3]] },
    ],
  );
});

steps('observable counter: cumulative from creation; delta by difference from the previous observation', async () => {
  const clock = manualClock(1000n);
  const p = createMeterProvider({ clock });
  const C = p.registerConsumer();
  const D = p.registerConsumer({ temporality: 'delta' });
  let value = 0;
  clock.set(1010n);
  const o = p.getMeter('m').createObservableCounter('o');
  o.addCallback((r) => r.observe(value, { k: 'v' }));
  const at = async (t: bigint, v: number, c: MetricConsumer): Promise<Array<[bigint, bigint, number]>> => {
    clock.set(t);
    value = v;
    return summary(await points(c));
  };
  assert.equal(await at(1030n, 5, C), [[1010n, 1030n, 5]]);
  assert.equal(await at(1050n, 7, D), [[1010n, 1050n, 7]]);
  assert.equal(await at(1070n, 9, D), [[1050n, 1070n, 2]]);
  assert.equal(await at(1090n, 12, C), [[1010n, 1090n, 12]]);
  assert.equal(await at(1100n, 3, D), [[1070n, 1100n, 3]], 'a monotonic counter that went down was reset');
  const late = p.registerConsumer({ temporality: 'delta' });
  assert.equal(await at(1110n, 4, late), [[1010n, 1110n, 4]]);
});

steps('the clock is read once per collection: every point shares one end time', async () => {
  let reads = 0;
  let now = 5000n;
  const clock = {
    nowNanos: () => {
      reads++;
      return (now += 1n);
    },
  };
  const p = createMeterProvider({ clock });
  const c = p.registerConsumer();
  const m = p.getMeter('m');
  const ctr = m.createCounter('c');
  for (let i = 0; i < 20; i++) ctr.add(1, { i: String(i) });
  m.createObservableGauge('g').addCallback((r) => r.observe(1));
  const before = reads;
  const ps = await points(c);
  assert.is(reads - before, 1);
  assert.is(new Set(ps.map((x) => x.time)).size, 1);
});

steps.run();
