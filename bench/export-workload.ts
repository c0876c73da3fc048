/**
 * The export benchmark's workload, identical for every implementation: 10 counters ×
 * 1,000 attribute sets (10,000 sum series, half INT, half DOUBLE) and one histogram ×
 * 1,000 attribute sets (default explicit buckets), 3 attributes per series, recorded once;
 * then before every export cycle a few hundred updates (200 counter adds, 100 histogram
 * records) on series drawn by a seeded PRNG, so both sides see the same updates and the
 * expected number of delivered points can be computed without running either.
 */
import { ValueType } from '@opentelemetry/api';
import { prng } from '../test/support/prng.js';

export const COUNTERS = 10;
export const SERIES_PER_COUNTER = 1000;
export const HISTOGRAM_SERIES = 1000;
export const SERIES = COUNTERS * SERIES_PER_COUNTER + HISTOGRAM_SERIES;
export const COUNTER_UPDATES = 200;
export const HISTOGRAM_UPDATES = 100;
/** Measurements made per cycle outside the timed part. */
export const UPDATES = COUNTER_UPDATES + HISTOGRAM_UPDATES;

type BenchAttributes = Readonly<Record<string, string | number>>;

/** The instrument surface both our Meter and @opentelemetry/api's Meter provide. */
export interface BenchMeter {
  createCounter(
    name: string,
    options: { description: string; unit: string; valueType: ValueType },
  ): {
    add(value: number, attributes: BenchAttributes): void;
  };
  createHistogram(
    name: string,
    options: { description: string; unit: string },
  ): {
    record(value: number, attributes: BenchAttributes): void;
  };
}

/** The recording side of the workload: instruments created on one meter. */
export interface Workload {
  /** Applies the updates that precede export cycle `cycle` (0-based). */
  update(cycle: number): void;
}

// One attribute object per series index, shared by every instrument (as an application
// that keeps its label sets would); built once per process.
const ATTRIBUTES: BenchAttributes[] = Array.from({ length: SERIES_PER_COUNTER }, (_, s) => ({
  'http.request.method': s % 2 === 0 ? 'GET' : 'POST',
  'http.route': `/api/v1/items/${s}`,
  'http.response.status_code': 200 + (s % 5),
}));

interface Update {
  /** Counter index, or -1 for the histogram. */
  readonly instrument: number;
  readonly series: number;
  readonly value: number;
}

/** The updates before cycle `cycle`, the same in every process. */
function updatesFor(cycle: number): Update[] {
  const next = prng(0x5eed0000 + cycle);
  const out: Update[] = [];
  for (let k = 0; k < COUNTER_UPDATES; k++) {
    const instrument = Math.floor(next() * COUNTERS);
    const series = Math.floor(next() * SERIES_PER_COUNTER);
    out.push({ instrument, series, value: instrument % 2 === 0 ? 1 : 0.5 });
  }
  for (let k = 0; k < HISTOGRAM_UPDATES; k++) {
    const series = Math.floor(next() * HISTOGRAM_SERIES);
    out.push({ instrument: -1, series, value: Math.floor(next() * 12_000) + 0.25 });
  }
  return out;
}

/** Creates the instruments on `meter` and records the initial 11,000 series. */
export function recordWorkload(meter: BenchMeter): Workload {
  const counters = Array.from({ length: COUNTERS }, (_, c) =>
    meter.createCounter(`bench.requests.${c}`, {
      description: 'Requests handled',
      unit: '{request}',
      valueType: c % 2 === 0 ? ValueType.INT : ValueType.DOUBLE,
    }),
  );
  const histogram = meter.createHistogram('bench.duration', { description: 'Request duration', unit: 'ms' });
  for (let c = 0; c < COUNTERS; c++) {
    for (let s = 0; s < SERIES_PER_COUNTER; s++) counters[c]!.add(c % 2 === 0 ? s + 1 : s + 0.5, ATTRIBUTES[s]!);
  }
  for (let s = 0; s < HISTOGRAM_SERIES; s++) {
    for (let k = 0; k < 8; k++) histogram.record(((s * 37 + k * 101) % 12_000) + 0.25, ATTRIBUTES[s]!);
  }
  return {
    update(cycle) {
      for (const u of updatesFor(cycle)) {
        if (u.instrument < 0) histogram.record(u.value, ATTRIBUTES[u.series]!);
        else counters[u.instrument]!.add(u.value, ATTRIBUTES[u.series]!);
      }
    },
  };
}

/** Temporality a backend asks for in a variant. */
export type BenchTemporality = 'delta' | 'cumulative';

/**
 * Data points a backend must receive over `collections` collections, the first `cycles`
 * of them each preceded by that cycle's updates (any later one, as shutdown's final
 * collection, by none): every series every time under cumulative; under delta, every
 * series in cycle 0 (the initial recording), then only the series updated since the
 * previous collection.
 */
export function expectedPoints(temporality: BenchTemporality, cycles: number, collections = cycles): number {
  if (temporality === 'cumulative') return SERIES * collections;
  let total = cycles > 0 ? SERIES : 0;
  for (let i = 1; i < cycles; i++) {
    const touched = new Set<number>();
    for (const u of updatesFor(i))
      touched.add(u.instrument < 0 ? COUNTERS * SERIES_PER_COUNTER + u.series : u.instrument * SERIES_PER_COUNTER + u.series);
    total += touched.size;
  }
  return total;
}
