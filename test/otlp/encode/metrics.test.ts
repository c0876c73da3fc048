import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { BinaryWriter } from '../../../src/otlp/encode/binary-writer.js';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { MetricSchema } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { encodeKeyValues } from '../../../src/otlp/encode/common.js';
import {
  beginMetric,
  beginResourceMetrics,
  beginScopeMetrics,
  encodeResource,
  encodeScope,
  endMetric,
  endResourceMetrics,
  endScopeMetrics,
  POINT_ATTRIBUTES_FIELD,
  type ExponentialBuckets,
  type MetricDataKind,
  type TemporalityValue,
} from '../../../src/otlp/encode/metrics.js';
import * as enc from '../../../src/otlp/encode/metrics.js';
import { varintSize } from '../../../src/otlp/wire.js';

type MetricInit = MessageInitShape<typeof MetricSchema>;

// The writers take point shapes; these build one per call from the fields in the order the
// cases below list them (setup only: the collection path refills one shape per writer).
function writeNumberDataPoint(
  w: BinaryWriter,
  attrs: Uint8Array,
  startNs: bigint,
  timeNs: bigint,
  value: number | bigint,
  isInt: boolean,
  flags = 0,
): void {
  enc.writeNumberDataPoint(w, { attrs, startNs, timeNs, value, isInt, flags });
}
function writeHistogramDataPoint(
  w: BinaryWriter,
  attrs: Uint8Array,
  startNs: bigint,
  timeNs: bigint,
  count: number,
  sum: number | undefined,
  bucketCounts: ArrayLike<number>,
  bounds: ArrayLike<number>,
  min: number | undefined,
  max: number | undefined,
  flags = 0,
): void {
  enc.writeHistogramDataPoint(w, { attrs, startNs, timeNs, count, sum, bucketCounts, bounds, min, max, flags });
}
function writeExponentialHistogramDataPoint(
  w: BinaryWriter,
  attrs: Uint8Array,
  startNs: bigint,
  timeNs: bigint,
  count: number,
  sum: number | undefined,
  scale: number,
  zeroCount: number,
  zeroThreshold: number,
  positive: ExponentialBuckets | undefined,
  negative: ExponentialBuckets | undefined,
  min: number | undefined,
  max: number | undefined,
  flags = 0,
): void {
  enc.writeExponentialHistogramDataPoint(w, {
    attrs,
    startNs,
    timeNs,
    count,
    sum,
    scale,
    zeroCount,
    zeroThreshold,
    positive,
    negative,
    min,
    max,
    flags,
  });
}

const START = 1_700_000_000_000_000_000n;
const TIME = 1_700_000_060_123_456_789n;

/** Our bytes for one metric written with the primitives inside a bare resource and scope. */
function ours(
  kind: MetricDataKind,
  temporality: TemporalityValue,
  monotonic: boolean,
  points: (w: BinaryWriter) => void,
  meta: { name?: string; description?: string; unit?: string; metadata?: Uint8Array } = {},
): Uint8Array {
  const w = new BinaryWriter();
  beginResourceMetrics(w, undefined);
  beginScopeMetrics(w, undefined);
  beginMetric(w, meta.name ?? 'm', meta.description ?? '', meta.unit ?? '', kind);
  points(w);
  endMetric(w, temporality, monotonic, meta.metadata);
  endScopeMetrics(w);
  endResourceMetrics(w);
  return w.finish();
}

/** toBinary of the same request built with create(). */
function want(metric: MetricInit): Uint8Array {
  return toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, { resourceMetrics: [{ scopeMetrics: [{ metrics: [metric] }] }] }),
  );
}

function kv(key: string, value: string) {
  return { key, value: { value: { case: 'stringValue' as const, value } } };
}

const attrs7 = encodeKeyValues(7, { host: 'a', port: 8080 });
const attrs7Msg = [kv('host', 'a'), { key: 'port', value: { value: { case: 'intValue' as const, value: 8080n } } }];

const numberPoints = suite('otlp/encode/metrics: NumberDataPoint');

numberPoints('double and int points of a cumulative monotonic sum match toBinary', () => {
  const got = ours(
    'sum',
    2,
    true,
    (w) => {
      writeNumberDataPoint(w, attrs7, START, TIME, 1.5, false);
      writeNumberDataPoint(w, attrs7, START, TIME, 42, true);
      writeNumberDataPoint(w, attrs7, START, TIME, -7, true);
    },
    { name: 'requests', description: 'handled', unit: '{request}' },
  );
  const expected = want({
    name: 'requests',
    description: 'handled',
    unit: '{request}',
    data: {
      case: 'sum',
      value: {
        aggregationTemporality: 2,
        isMonotonic: true,
        dataPoints: [
          { attributes: attrs7Msg, startTimeUnixNano: START, timeUnixNano: TIME, value: { case: 'asDouble', value: 1.5 } },
          { attributes: attrs7Msg, startTimeUnixNano: START, timeUnixNano: TIME, value: { case: 'asInt', value: 42n } },
          { attributes: attrs7Msg, startTimeUnixNano: START, timeUnixNano: TIME, value: { case: 'asInt', value: -7n } },
        ],
      },
    },
  });
  assert.equal(got, expected);
});

numberPoints('int64 extremes from numbers and bigints', () => {
  const values: Array<[number | bigint, bigint]> = [
    [2 ** 53 - 1, 2n ** 53n - 1n],
    [-(2 ** 53), -(2n ** 53n)],
    [2 ** 62, 2n ** 62n],
    [-(2 ** 63), -(2n ** 63n)],
    [9_223_372_036_854_775_807n, 9_223_372_036_854_775_807n],
    [-9_223_372_036_854_775_808n, -9_223_372_036_854_775_808n],
    [-1n, -1n],
    [0, 0n],
  ];
  const got = ours('gauge', 0, false, (w) => {
    for (const [v] of values) writeNumberDataPoint(w, new Uint8Array(0), START, TIME, v, true);
  });
  const expected = want({
    name: 'm',
    data: {
      case: 'gauge',
      value: {
        dataPoints: values.map(([, v]) => ({ startTimeUnixNano: START, timeUnixNano: TIME, value: { case: 'asInt' as const, value: v } })),
      },
    },
  });
  assert.equal(got, expected);
});

numberPoints('isInt truncates fractions and writes non-finite numbers as 0', () => {
  const got = ours('gauge', 0, false, (w) => {
    writeNumberDataPoint(w, new Uint8Array(0), START, TIME, 2.9, true);
    writeNumberDataPoint(w, new Uint8Array(0), START, TIME, Number.NaN, true);
  });
  const msg = fromBinary(ExportMetricsServiceRequestSchema, got);
  const data = msg.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  assert.is(data.case, 'gauge');
  if (data.case !== 'gauge') return;
  assert.equal(
    data.value.dataPoints.map((p) => p.value.value),
    [2n, 0n],
  );
});

numberPoints('NaN, ±Infinity and -0 doubles survive bit for bit', () => {
  const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, Number.MIN_VALUE, Number.MAX_VALUE];
  const got = ours('gauge', 0, false, (w) => {
    for (const v of values) writeNumberDataPoint(w, new Uint8Array(0), START, TIME, v, false);
  });
  const expected = want({
    name: 'm',
    data: {
      case: 'gauge',
      value: {
        dataPoints: values.map((v) => ({ startTimeUnixNano: START, timeUnixNano: TIME, value: { case: 'asDouble' as const, value: v } })),
      },
    },
  });
  assert.equal(got, expected);
  const back = fromBinary(ExportMetricsServiceRequestSchema, got).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  if (back.case !== 'gauge') throw new Error('gauge expected');
  assert.ok(Object.is(back.value.dataPoints[3]!.value.value, -0));
  assert.ok(Number.isNaN(back.value.dataPoints[0]!.value.value));
});

numberPoints('zero times are omitted and the times cache follows changes', () => {
  const got = ours('gauge', 0, false, (w) => {
    writeNumberDataPoint(w, attrs7, 0n, TIME, 1, false);
    writeNumberDataPoint(w, attrs7, START, 0n, 2, false);
    writeNumberDataPoint(w, attrs7, 0n, 0n, 3, false);
    writeNumberDataPoint(w, attrs7, START, TIME, 4, false);
    writeNumberDataPoint(w, attrs7, START + 1n, TIME, 5, false);
    writeNumberDataPoint(w, attrs7, START, TIME, 6, false);
  });
  const times: Array<[bigint, bigint]> = [
    [0n, TIME],
    [START, 0n],
    [0n, 0n],
    [START, TIME],
    [START + 1n, TIME],
    [START, TIME],
  ];
  const expected = want({
    name: 'm',
    data: {
      case: 'gauge',
      value: {
        dataPoints: times.map(([s, t], i) => ({
          attributes: attrs7Msg,
          startTimeUnixNano: s,
          timeUnixNano: t,
          value: { case: 'asDouble' as const, value: i + 1 },
        })),
      },
    },
  });
  assert.equal(got, expected);
});

numberPoints('flags and large attribute blocks', () => {
  const bigAttrs: Record<string, string> = {};
  for (let i = 0; i < 200; i++) bigAttrs[`key.${i}`] = `value-${i}-${'x'.repeat(80 + (i % 50))}`;
  const big = encodeKeyValues(7, bigAttrs);
  assert.ok(big.length > 16384, 'attributes need a 3-byte length');
  const got = ours('sum', 1, false, (w) => {
    writeNumberDataPoint(w, attrs7, START, TIME, 7, true, 1);
    writeNumberDataPoint(w, attrs7, START, TIME, 7.5, false, 300);
    writeNumberDataPoint(w, big, START, TIME, 1, false);
  });
  const expected = want({
    name: 'm',
    data: {
      case: 'sum',
      value: {
        aggregationTemporality: 1,
        dataPoints: [
          { attributes: attrs7Msg, startTimeUnixNano: START, timeUnixNano: TIME, value: { case: 'asInt', value: 7n }, flags: 1 },
          { attributes: attrs7Msg, startTimeUnixNano: START, timeUnixNano: TIME, value: { case: 'asDouble', value: 7.5 }, flags: 300 },
          {
            attributes: Object.entries(bigAttrs).map(([k, v]) => kv(k, v)),
            startTimeUnixNano: START,
            timeUnixNano: TIME,
            value: { case: 'asDouble', value: 1 },
          },
        ],
      },
    },
  });
  assert.equal(got, expected);
});

numberPoints.run();

const histograms = suite('otlp/encode/metrics: HistogramDataPoint');

const BOUNDS = Object.freeze([0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);
const attrs9 = encodeKeyValues(POINT_ATTRIBUTES_FIELD.histogram, { route: '/a' });

histograms('full and sparse points match toBinary', () => {
  const counts = [1, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 2 ** 40];
  const got = ours(
    'histogram',
    2,
    false,
    (w) => {
      writeHistogramDataPoint(w, attrs9, START, TIME, 8 + 2 ** 40, 1234.5, counts, BOUNDS, 0.5, 9000);
      writeHistogramDataPoint(w, attrs9, START, TIME, 0, undefined, [], [], undefined, undefined);
      writeHistogramDataPoint(w, attrs9, START, TIME, 3, -0, [3], [], Number.NEGATIVE_INFINITY, Number.NaN, 1);
      writeHistogramDataPoint(w, attrs9, START, TIME, 8 + 2 ** 40, 1234.5, counts, BOUNDS, 0.5, 9000);
    },
    { unit: 'ms' },
  );
  const full = {
    attributes: [kv('route', '/a')],
    startTimeUnixNano: START,
    timeUnixNano: TIME,
    count: 8n + 2n ** 40n,
    sum: 1234.5,
    bucketCounts: counts.map(BigInt),
    explicitBounds: [...BOUNDS],
    min: 0.5,
    max: 9000,
  };
  const expected = want({
    name: 'm',
    unit: 'ms',
    data: {
      case: 'histogram',
      value: {
        aggregationTemporality: 2,
        dataPoints: [
          full,
          { attributes: [kv('route', '/a')], startTimeUnixNano: START, timeUnixNano: TIME },
          {
            attributes: [kv('route', '/a')],
            startTimeUnixNano: START,
            timeUnixNano: TIME,
            count: 3n,
            sum: -0,
            bucketCounts: [3n],
            min: Number.NEGATIVE_INFINITY,
            max: Number.NaN,
            flags: 1,
          },
          full,
        ],
      },
    },
  });
  assert.equal(got, expected);
});

histograms('bounds are read on every call, even from the same array', () => {
  const mutable = [1, 2];
  const frozenA = Object.freeze([1, 2]);
  const frozenB = Object.freeze([3, 4, 5]);
  const point = (w: BinaryWriter, b: readonly number[]) =>
    writeHistogramDataPoint(w, attrs9, START, TIME, 1, 1, new Array<number>(b.length + 1).fill(0), b, undefined, undefined);
  const got = ours('histogram', 1, false, (w) => {
    point(w, frozenA);
    point(w, frozenB);
    point(w, frozenA);
    point(w, mutable);
    mutable[0] = 1.5;
    point(w, mutable);
  });
  const msg = fromBinary(ExportMetricsServiceRequestSchema, got).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  if (msg.case !== 'histogram') throw new Error('histogram expected');
  assert.equal(
    msg.value.dataPoints.map((p) => p.explicitBounds),
    [
      [1, 2],
      [3, 4, 5],
      [1, 2],
      [1, 2],
      [1.5, 2],
    ],
  );
});

histograms('a throw inside a staged point does not corrupt the next one', () => {
  const w = new BinaryWriter();
  const bad = {
    length: 2,
    0: 1,
    get 1(): number {
      throw new Error('boom');
    },
  } as ArrayLike<number>;
  assert.throws(() => writeHistogramDataPoint(w, attrs9, START, TIME, 1, 1, [1, 0, 0], bad, undefined, undefined), /boom/);
  const got = ours('histogram', 1, false, (w2) => {
    writeHistogramDataPoint(w2, attrs9, START, TIME, 1, 1, [1, 0], [5], undefined, undefined);
  });
  const expected = want({
    name: 'm',
    data: {
      case: 'histogram',
      value: {
        aggregationTemporality: 1,
        dataPoints: [
          {
            attributes: [kv('route', '/a')],
            startTimeUnixNano: START,
            timeUnixNano: TIME,
            count: 1n,
            sum: 1,
            bucketCounts: [1n, 0n],
            explicitBounds: [5],
          },
        ],
      },
    },
  });
  assert.equal(got, expected);
});

histograms.run();

const expo = suite('otlp/encode/metrics: ExponentialHistogramDataPoint');

expo('scales, offsets, zero bucket and 64-bit counts match toBinary', () => {
  const attrs1 = encodeKeyValues(POINT_ATTRIBUTES_FIELD.exponentialHistogram, { k: 'v' });
  const got = ours('exponentialHistogram', 1, false, (w) => {
    writeExponentialHistogramDataPoint(
      w,
      attrs1,
      START,
      TIME,
      10,
      55.5,
      3,
      2,
      1e-9,
      { offset: -5, counts: [1, 0, 300, 2 ** 35] },
      { offset: 7, counts: [4] },
      -2,
      40,
    );
    writeExponentialHistogramDataPoint(w, attrs1, START, TIME, 0, undefined, 0, 0, 0, { offset: 0, counts: [] }, undefined, undefined, undefined);
    writeExponentialHistogramDataPoint(w, new Uint8Array(0), 0n, TIME, 1, 1, -10, 0, -0, undefined, { offset: -2147483648, counts: [1] }, 1, 1, 1);
  });
  const expected = want({
    name: 'm',
    data: {
      case: 'exponentialHistogram',
      value: {
        aggregationTemporality: 1,
        dataPoints: [
          {
            attributes: [kv('k', 'v')],
            startTimeUnixNano: START,
            timeUnixNano: TIME,
            count: 10n,
            sum: 55.5,
            scale: 3,
            zeroCount: 2n,
            zeroThreshold: 1e-9,
            positive: { offset: -5, bucketCounts: [1n, 0n, 300n, 2n ** 35n] },
            negative: { offset: 7, bucketCounts: [4n] },
            min: -2,
            max: 40,
          },
          { attributes: [kv('k', 'v')], startTimeUnixNano: START, timeUnixNano: TIME, positive: {} },
          {
            timeUnixNano: TIME,
            count: 1n,
            sum: 1,
            scale: -10,
            zeroThreshold: -0,
            negative: { offset: -2147483648, bucketCounts: [1n] },
            min: 1,
            max: 1,
            flags: 1,
          },
        ],
      },
    },
  });
  assert.equal(got, expected);
});

expo.run();

const envelope = suite('otlp/encode/metrics: resource, scope, metric envelope');

envelope('resource, scope, schema URLs, metadata and several metrics match toBinary', () => {
  const w = new BinaryWriter();
  beginResourceMetrics(w, encodeResource({ 'service.name': 'svc', ünïcode: 'ключ' }, 2));
  beginScopeMetrics(w, encodeScope({ name: 'lib', version: '1.2.3', attributes: { a: true } }));
  beginMetric(w, 'g', '', '', 'gauge');
  writeNumberDataPoint(w, new Uint8Array(0), 0n, TIME, 1, false);
  endMetric(w, 0, false, encodeKeyValues(12, { origin: 'test' }));
  beginMetric(w, 'empty', 'no points', '1', 'sum');
  endMetric(w, 2, true);
  endScopeMetrics(w, 'https://scope');
  beginScopeMetrics(w, encodeScope({ name: '' }));
  endScopeMetrics(w);
  endResourceMetrics(w, 'https://resource');
  beginResourceMetrics(w, new Uint8Array(0));
  endResourceMetrics(w);
  const expected = toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          resource: { attributes: [kv('service.name', 'svc'), kv('ünïcode', 'ключ')], droppedAttributesCount: 2 },
          schemaUrl: 'https://resource',
          scopeMetrics: [
            {
              scope: { name: 'lib', version: '1.2.3', attributes: [{ key: 'a', value: { value: { case: 'boolValue', value: true } } }] },
              schemaUrl: 'https://scope',
              metrics: [
                {
                  name: 'g',
                  data: { case: 'gauge', value: { dataPoints: [{ timeUnixNano: TIME, value: { case: 'asDouble', value: 1 } }] } },
                  metadata: [kv('origin', 'test')],
                },
                {
                  name: 'empty',
                  description: 'no points',
                  unit: '1',
                  data: { case: 'sum', value: { aggregationTemporality: 2, isMonotonic: true } },
                },
              ],
            },
            { scope: {} },
          ],
        },
        { resource: {} },
      ],
    }),
  );
  assert.equal(w.finish(), expected);
});

envelope('a metric with more than 127 bytes of points gets a multi-byte length', () => {
  const got = ours('sum', 2, true, (w) => {
    for (let i = 0; i < 50; i++) writeNumberDataPoint(w, attrs7, START, TIME, i, true);
  });
  const msg = fromBinary(ExportMetricsServiceRequestSchema, got).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  if (msg.case !== 'sum') throw new Error('sum expected');
  assert.is(msg.value.dataPoints.length, 50);
  assert.is(msg.value.dataPoints[49]!.value.value, 49n);
});

envelope('varintSize agrees with the writer', () => {
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1, 2 ** 35, 2 ** 42, 2 ** 49, 2 ** 53 - 1]) {
    const w = new BinaryWriter();
    w.int64(v);
    assert.is(varintSize(v), w.finish().length, `varintSize(${v})`);
  }
});

envelope.run();
