/**
 * Entry edits: patches over one copy, splices written back with every enclosing length fixed
 * (a length prefix that grows from one byte to two included), removals, and the untouched case.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { NumberDataPointSchema } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { applyEdits, EntryEdits } from '../../src/otlp/entry-edits.js';
import { scanRequest } from '../../src/otlp/scan.js';

const test = suite('otlp/entry-edits');

const point = (v: number, t: bigint) => ({ timeUnixNano: t, value: { case: 'asDouble' as const, value: v } });

/** One entry: scope s with metrics a (2 points) and b (1 point). */
function entry(): Uint8Array {
  const body = toBinary(
    ExportMetricsServiceRequestSchema,
    create(ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              scope: { name: 's' },
              metrics: [
                { name: 'a', data: { case: 'gauge', value: { dataPoints: [point(1, 10n), point(2, 20n)] } } },
                { name: 'b', data: { case: 'gauge', value: { dataPoints: [point(3, 30n)] } } },
              ],
            },
          ],
        },
      ],
    }),
  );
  assert.is(scanRequest('metrics', body).entries.length, 1);
  return body;
}

/** Byte ranges of every data point field (tag included), by finding each encoded point in the entry. */
function pointFields(bytes: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [v, t] of [
    [1, 10n],
    [2, 20n],
    [3, 30n],
  ] as const) {
    const p = toBinary(NumberDataPointSchema, create(NumberDataPointSchema, point(v, t)));
    const field = new Uint8Array([0x0a, p.length, ...p]);
    const at = Buffer.from(bytes).indexOf(Buffer.from(field));
    assert.ok(at >= 0);
    out.push([at, at + field.length]);
  }
  return out;
}

const decode = (b: Uint8Array) => fromBinary(ExportMetricsServiceRequestSchema, b);
const values = (b: Uint8Array) =>
  decode(b).resourceMetrics.flatMap((r) =>
    r.scopeMetrics.flatMap((s) => s.metrics.map((m) => [m.name, m.data.case === 'gauge' ? m.data.value.dataPoints.map((p) => p.value.value) : []])),
  );

test('no edits: the same bytes', () => {
  const e = entry();
  const edits = new EntryEdits();
  edits.reset(e);
  assert.is(applyEdits(e, edits), e);
});

test('patches are written over a copy', () => {
  const e = entry();
  const [first] = pointFields(e);
  const edits = new EntryEdits();
  edits.reset(e);
  // as_double of the first point: the last 8 bytes of its field.
  edits.patchDouble(first![1] - 8, 42);
  const out = applyEdits(e, edits);
  assert.is.not(out, e);
  assert.equal(values(out), [
    ['a', [42, 2]],
    ['b', [3]],
  ]);
  assert.equal(values(e)[0], ['a', [1, 2]], 'the input is untouched');
});

test('a removed point, a grown point: enclosing lengths follow, a one-byte length becoming two', () => {
  const e = entry();
  const [p1, p2] = pointFields(e);
  const big = toBinary(NumberDataPointSchema, create(NumberDataPointSchema, { ...point(7, 70n), startTimeUnixNano: 1n, flags: 0 }));
  // A point padded with an unknown field to 200 bytes: its length prefix takes 2 bytes.
  const padded = new Uint8Array([...big, 0x7a, ...varint(189), ...new Uint8Array(189)]); // field 15, unknown
  const field = new Uint8Array([0x0a, ...varint(padded.length), ...padded]);
  const edits = new EntryEdits();
  edits.reset(e);
  edits.splice(p1![0], p1![1], new Uint8Array(0));
  edits.splice(p2![0], p2![1], field);
  const out = applyEdits(e, edits);
  const m = decode(out).resourceMetrics[0]!.scopeMetrics[0]!.metrics;
  assert.equal(
    m.map((x) => x.name),
    ['a', 'b'],
  );
  const pts = m[0]!.data.case === 'gauge' ? m[0]!.data.value.dataPoints : [];
  assert.is(pts.length, 1);
  assert.is(pts[0]!.value.value, 7);
  assert.is(pts[0]!.startTimeUnixNano, 1n);
});

test('a whole metric, a whole entry removed', () => {
  const e = entry();
  const edits = new EntryEdits();
  edits.reset(e);
  const [, , p3] = pointFields(e);
  // Metric b: find its field by its name, then remove the point and the metric as one splice of the metric.
  const name = Buffer.from(e).indexOf(Buffer.from([0x0a, 0x01, 0x62])); // name = "b"
  const metricStart = name - 2; // tag 0x12 and a one-byte length
  edits.splice(metricStart, p3![1], new Uint8Array(0));
  assert.equal(values(applyEdits(e, edits)), [['a', [1, 2]]]);
  edits.reset(e);
  edits.splice(0, e.length, new Uint8Array(0));
  assert.is(applyEdits(e, edits).length, 0);
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

test.run();
