/**
 * The same measurements through @opentelemetry/sdk-metrics (+ its protobuf serializer)
 * and through ours give the same points: values, attributes, buckets, flags of every
 * kind, for both temporalities. Times and point order are left out (they differ by
 * design: see meter-provider.ts for our start times).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromBinary } from '@bufbuild/protobuf';
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, AggregationType, InstrumentType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { createMeterProvider } from '../../src/metrics/meter-provider.js';
import type { Meter } from '../../src/metrics/meter.js';
import { flatten, prng, type FlatPoint } from './helpers.js';

const test = suite('metrics/official-parity');

class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Anything that creates instruments the way the API does. */
type AnyMeter = Pick<
  Meter,
  | 'createCounter'
  | 'createUpDownCounter'
  | 'createHistogram'
  | 'createGauge'
  | 'createObservableCounter'
  | 'createObservableGauge'
  | 'createObservableUpDownCounter'
>;

/** Records one random round of measurements; returns a function recording the next round. */
function instrument(m: AnyMeter, seed: number): (round: number) => void {
  const ctrInt = m.createCounter('ctr.int', { valueType: ValueType.INT, unit: '{req}', description: 'int counter' });
  const ctrDbl = m.createCounter('ctr.dbl');
  const ud = m.createUpDownCounter('updown', { valueType: ValueType.INT });
  const h = m.createHistogram('hist', { unit: 'ms' });
  const ha = m.createHistogram('hist.advice', { advice: { explicitBucketBoundaries: [1, 10, 100] } });
  const he = m.createHistogram('hist.exp');
  const g = m.createGauge('gauge');
  let observed = 0;
  m.createObservableCounter('obs.ctr').addCallback((r) => r.observe(observed, { k: 'x' }));
  m.createObservableGauge('obs.gauge').addCallback((r) => r.observe(observed / 3, { k: 'y' }));
  m.createObservableUpDownCounter('obs.ud').addCallback((r) => r.observe(-observed));
  return (round: number) => {
    const rnd = prng(seed * 1000 + round);
    for (let i = 0; i < 40; i++) {
      const attrs = { route: `/r${Math.floor(rnd() * 4)}`, ok: rnd() < 0.8, code: 200 + Math.floor(rnd() * 3) };
      const v = Math.floor(rnd() * 1000) / 8;
      ctrInt.add(Math.floor(v), attrs);
      ctrDbl.add(v, attrs);
      ud.add(rnd() < 0.5 ? -Math.floor(v) : Math.floor(v), attrs);
      h.record(v * 20, attrs);
      ha.record(v, attrs);
      he.record(rnd() < 0.05 ? 0 : v * (1 + rnd() * 50), attrs);
      g.record(v - 50, { route: attrs.route });
    }
    observed += 10 + round;
  };
}

/** Positive buckets re-bucketed at `scale` (≤ the point's), as index:count pairs. */
function bucketsAt(p: FlatPoint, scale: number): string {
  const out = new Map<number, number>();
  p.pos.forEach((c, i) => {
    if (c === 0) return;
    const j = (p.posOffset + i) >> (p.scale - scale);
    out.set(j, (out.get(j) ?? 0) + c);
  });
  return [...out].map(([i, c]) => `${i}:${c}`).join(',');
}

/**
 * Exponential points compared at the coarser of the two scales: the official SDK lowers
 * a cumulative point's scale after an interval that saw only zeros (it merges the
 * interval's meaningless scale 0); ours keeps the resolution the data needs.
 */
function sameExponential(mine: FlatPoint[], theirs: FlatPoint[]): void {
  const byAttrs = new Map(theirs.filter((p) => p.kind === 'exponentialHistogram').map((p) => [p.attrs, p]));
  for (const a of mine.filter((p) => p.kind === 'exponentialHistogram')) {
    const b = byAttrs.get(a.attrs);
    assert.ok(b, a.attrs);
    const scale = Math.min(a.pos.length === 0 ? 20 : a.scale, b.pos.length === 0 ? 20 : b.scale);
    assert.ok(a.pos.length === 0 || a.scale >= b.scale || b.pos.length === 0, 'ours never coarser');
    assert.is(bucketsAt(a, scale), bucketsAt(b, scale), a.attrs);
    assert.equal([a.count, a.zeroCount, a.neg], [b.count, b.zeroCount, b.neg]);
  }
}

function comparable(ps: FlatPoint[]): string[] {
  return ps
    .map((p) =>
      JSON.stringify([
        p.metric,
        p.unit,
        p.description,
        p.kind,
        p.temporality,
        p.monotonic,
        p.attrs,
        p.kind === 'sum' || p.kind === 'gauge' ? [Math.round(p.value * 1e6) / 1e6, p.isInt] : [],
        p.count,
        p.sum === undefined ? null : Math.round(p.sum * 1e6) / 1e6,
        p.min ?? null,
        p.max ?? null,
        p.buckets,
        p.bounds,
        // Exponential buckets: see sameExponential.
      ]),
    )
    .sort();
}

for (const temporality of ['cumulative', 'delta'] as const) {
  test(`${temporality}: same points as the official SDK over three collections`, async () => {
    const reader = new PullReader({
      aggregationTemporalitySelector: (t: InstrumentType) =>
        temporality === 'cumulative' || t === InstrumentType.UP_DOWN_COUNTER || t === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
          ? AggregationTemporality.CUMULATIVE
          : AggregationTemporality.DELTA,
    });
    const official = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'parity' }),
      readers: [reader],
      views: [{ instrumentName: 'hist.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 20 } } }],
    });
    const ours = createMeterProvider({
      resource: { 'service.name': 'parity' },
      views: [{ instrumentName: 'hist.exp', aggregation: { type: 'base2_exponential_bucket_histogram', maxSize: 20 } }],
    });
    const consumer = ours.registerConsumer({ temporality });
    const recordOfficial = instrument(official.getMeter('parity', '1.0') as unknown as AnyMeter, 5);
    const recordOurs = instrument(ours.getMeter('parity', '1.0'), 5);
    for (let round = 0; round < 3; round++) {
      recordOfficial(round);
      recordOurs(round);
      const { resourceMetrics, errors } = await reader.collect();
      assert.equal(errors, []);
      const theirs = flatten([
        fromBinary(ExportMetricsServiceRequestSchema, ProtobufMetricsSerializer.serializeRequest(resourceMetrics) as Uint8Array),
      ]);
      const mine = flatten(await consumer.collectMessages());
      assert.ok(mine.length > 30);
      assert.equal(comparable(mine), comparable(theirs), `round ${round}`);
      sameExponential(mine, theirs);
    }
    await official.shutdown();
  });
}

test.run();
