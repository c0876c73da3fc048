/**
 * The scrape store (otlp/prometheus/series-store.ts) with an injected clock: step tables for what each
 * kind of point does to its cell, staleness, and the series limit (counted, decided only for new series).
 */
import { create } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality, type Metric } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MetricSchema } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { createSeriesStore } from '../../../src/otlp/prometheus/series-store.js';
import { renderPrometheus } from '../../../src/otlp/prometheus/render.js';

const test = suite('prometheus series store');
const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

function req(metric: MessageInitShape<typeof MetricSchema>, service = 'svc'): ExportMetricsServiceRequest {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: str(service) }] }, scopeMetrics: [{ metrics: [metric] }] }],
  });
}

const sum = (value: number, t: bigint, temporality: AggregationTemporality, attrs: Record<string, string> = {}) => ({
  name: 'hits',
  data: {
    case: 'sum' as const,
    value: {
      aggregationTemporality: temporality,
      isMonotonic: true,
      dataPoints: [
        {
          timeUnixNano: t,
          value: { case: 'asInt' as const, value: BigInt(value) },
          attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: str(v) })),
        },
      ],
    },
  },
});

const DELTA = AggregationTemporality.DELTA;
const CUMULATIVE = AggregationTemporality.CUMULATIVE;

function value(store: ReturnType<typeof createSeriesStore>): unknown {
  const m: Metric | undefined = store.snapshot().resourceMetrics[0]?.scopeMetrics[0]?.metrics[0];
  if (m === undefined) return undefined;
  const d = m.data;
  if (d.case === 'sum' || d.case === 'gauge') return d.value.dataPoints.map((p) => Number(p.value.value));
  if (d.case === 'histogram') return d.value.dataPoints.map((p) => [p.bucketCounts.map(Number), Number(p.count), p.sum]);
  if (d.case === 'exponentialHistogram')
    return d.value.dataPoints.map((p) => [p.scale, p.positive?.offset, p.positive?.bucketCounts.map(Number), Number(p.count)]);
  return undefined;
}

test('sums: step table (deltas accumulate, cumulative and gauges take the latest, late points ignored)', () => {
  const store = createSeriesStore({ maxSeries: 10, stalenessMillis: 60_000, now: () => 0 });
  const steps: Array<[ReturnType<typeof sum>, unknown]> = [
    [sum(3, 10n, DELTA), [3]],
    [sum(4, 20n, DELTA), [7]],
    [sum(1, 30n, DELTA), [8]],
    // A cumulative point replaces the running total, a later delta starts a new one from it.
    [sum(100, 40n, CUMULATIVE), [100]],
    [sum(90, 35n, CUMULATIVE), [100]],
    [sum(5, 50n, DELTA), [5]],
    [sum(5, 60n, DELTA), [10]],
  ];
  for (const [i, [metric, want]] of steps.entries()) {
    store.ingest(req(metric));
    assert.equal(value(store), want, `step ${i}`);
  }
  const page = renderPrometheus([store.snapshot()], { resource: 'collector' });
  assert.ok(page.includes('hits_total{job="svc"} 10\n'), page);
});

test('histograms: deltas add bucket by bucket; new bounds start over; exponential deltas merge at the coarser scale', () => {
  const store = createSeriesStore({ maxSeries: 10, stalenessMillis: 60_000, now: () => 0 });
  const hist = (counts: number[], bounds: number[], sumV: number) => ({
    name: 'lat',
    data: {
      case: 'histogram' as const,
      value: {
        aggregationTemporality: DELTA,
        dataPoints: [
          { timeUnixNano: 1n, count: BigInt(counts.reduce((a, b) => a + b, 0)), sum: sumV, bucketCounts: counts.map(BigInt), explicitBounds: bounds },
        ],
      },
    },
  });
  store.ingest(req(hist([1, 2, 0], [1, 5], 7)));
  store.ingest(req(hist([0, 1, 1], [1, 5], 10)));
  assert.equal(value(store), [[[1, 3, 1], 5, 17]]);
  store.ingest(req(hist([4, 0], [2], 1)));
  assert.equal(value(store), [[[4, 0], 4, 1]]);

  const exp = createSeriesStore({ maxSeries: 10, stalenessMillis: 60_000, now: () => 0 });
  const e = (scale: number, offset: number, counts: number[]) => ({
    name: 'e',
    data: {
      case: 'exponentialHistogram' as const,
      value: {
        aggregationTemporality: DELTA,
        dataPoints: [
          { timeUnixNano: 1n, scale, count: BigInt(counts.reduce((a, b) => a + b, 0)), positive: { offset, bucketCounts: counts.map(BigInt) } },
        ],
      },
    },
  });
  exp.ingest(req(e(2, 4, [1, 2, 3])));
  // Scale 1: indexes 4,5,6 at scale 2 become 2,2,3; plus [5] at index 3.
  exp.ingest(req(e(1, 3, [5])));
  assert.equal(value(exp), [[1, 2, [3, 8], 11]]);
});

test('staleness: a series not updated for stalenessMillis leaves the page', () => {
  let now = 0;
  const store = createSeriesStore({ maxSeries: 10, stalenessMillis: 1000, now: () => now });
  store.ingest(req(sum(1, 1n, CUMULATIVE, { k: 'a' })));
  now = 600;
  store.ingest(req(sum(1, 2n, CUMULATIVE, { k: 'b' })));
  now = 1200;
  assert.equal(value(store), [1]);
  assert.is(store.stats().seriesExpired, 1);
  now = 1700;
  assert.is(store.snapshot().resourceMetrics.length, 0, 'empty resources go too');
  assert.is(store.stats().series, 0);
});

test('the series limit: new series past it are dropped and counted; existing ones keep updating; stale ones make room', () => {
  let now = 0;
  const store = createSeriesStore({ maxSeries: 2, stalenessMillis: 10_000, now: () => now });
  assert.is(store.ingest(req(sum(1, 1n, DELTA, { k: 'a' }))), 0);
  assert.is(store.ingest(req(sum(1, 1n, DELTA, { k: 'b' }))), 0);
  assert.is(store.ingest(req(sum(1, 1n, DELTA, { k: 'c' }))), 1);
  assert.is(store.ingest(req(sum(1, 2n, DELTA, { k: 'a' }))), 0);
  assert.equal(store.stats(), { series: 2, pointsDropped: 1, seriesExpired: 0 });
  now = 20_000;
  assert.is(store.ingest(req(sum(1, 3n, DELTA, { k: 'c' }))), 0);
  assert.equal(store.stats(), { series: 1, pointsDropped: 1, seriesExpired: 2 });
});

test('sources are kept apart: same metric from two services is two series', () => {
  const store = createSeriesStore({ maxSeries: 10, stalenessMillis: 60_000, now: () => 0 });
  store.ingest(req(sum(1, 1n, DELTA), 'a'));
  store.ingest(req(sum(2, 1n, DELTA), 'b'));
  const page = renderPrometheus([store.snapshot()], { resource: 'collector' });
  assert.ok(page.includes('hits_total{job="a"} 1\n') && page.includes('hits_total{job="b"} 2\n'), page);
});

test.run();
