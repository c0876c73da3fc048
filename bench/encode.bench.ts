/**
 * Encode benchmark: one ExportMetricsServiceRequest of 11,000 points (10 cumulative
 * monotonic sums × 1,000 series + one explicit histogram × 1,000 series, 3 attributes per
 * series), recorded and collected once per process by the official SDK.
 *
 * - protobuf: ours = `encodeMetricsRequest` on the same data converted (untimed) to our gen
 *   shape; official = `ProtobufMetricsSerializer.serializeRequest` on the SDK's
 *   ResourceMetrics; protobuf-es = reflective `toBinary`, for reference. Setup checks that
 *   ours and official decode (with our schema) to equal messages.
 * - JSON: ours = `encodeJson` (src/otlp/json.ts); official = `JsonMetricsSerializer`.
 * - collect path: the point writers of metrics.ts from primitive values and pre-encoded
 *   attribute bytes, as the metrics collection uses them (no aggregation): the floor
 *   under any collect + encode figure. Also run with protobuf-es's `BinaryWriter` in place of
 *   ours (src/otlp/encode/binary-writer.ts, same API and bytes), to show what our own writer costs.
 *
 * Run: `npm run bench:encode` (flags: see bench/lib/harness.ts).
 */
import { equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter as ProtobufEsWriter } from '@bufbuild/protobuf/wire';
import { BinaryWriter } from '../src/otlp/encode/binary-writer.js';
import { ValueType, type HrTime } from '@opentelemetry/api';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { encodeKeyValues } from '../src/otlp/encode/common.js';
import * as m from '../src/otlp/encode/metrics.js';
import { encodeMetricsRequest } from '../src/otlp/encode/metrics-request.js';
import { encodeJson } from '../src/otlp/json.js';
import type { Attributes } from '../src/otlp/types.js';
import { runBench } from './lib/harness.js';
import { collectOfficialWorkload, countPoints, toGenRequest } from './lib/otel-metrics.js';

const POINTS = 11_000;

async function workload(): Promise<ResourceMetrics> {
  const rm = await collectOfficialWorkload();
  if (countPoints(rm) !== POINTS) throw new Error(`workload has ${countPoints(rm)} points, expected ${POINTS}`);
  return rm;
}

/** Throws unless both protobuf bodies decode to equal messages. */
function checkSameMessage(ours: Uint8Array, theirs: Uint8Array): void {
  const a = fromBinary(ExportMetricsServiceRequestSchema, ours);
  const b = fromBinary(ExportMetricsServiceRequestSchema, theirs);
  if (!equals(ExportMetricsServiceRequestSchema, a, b)) {
    throw new Error('ours and the official serializer encode different messages');
  }
}

function nanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

/** The collection path's input: per metric, points as primitives with attribute bytes. */
function primitivesPlan(rm: ResourceMetrics): (w: BinaryWriter) => void {
  const resource = m.encodeResource(rm.resource.attributes as Attributes);
  const scopes = rm.scopeMetrics.map((sm) => ({
    scope: m.encodeScope({ name: sm.scope.name, version: sm.scope.version ?? '' }),
    schemaUrl: sm.scope.schemaUrl ?? '',
    metrics: sm.metrics.map((md) => {
      const temporality = md.aggregationTemporality === AggregationTemporality.DELTA ? 1 : 2;
      if (md.dataPointType === DataPointType.SUM) {
        const isInt = md.descriptor.valueType === ValueType.INT;
        const pts = md.dataPoints.map((p) => ({
          attrs: encodeKeyValues(7, p.attributes as Attributes),
          start: nanos(p.startTime),
          time: nanos(p.endTime),
          value: p.value,
        }));
        return (w: BinaryWriter) => {
          m.beginMetric(w, md.descriptor.name, md.descriptor.description, md.descriptor.unit, 'sum');
          // One point shape refilled per point, as the collection's columns do.
          const point = m.numberPoint(isInt);
          for (const p of pts) {
            point.attrs = p.attrs;
            point.startNs = p.start;
            point.timeNs = p.time;
            point.value = p.value;
            m.writeNumberDataPoint(w, point);
          }
          m.endMetric(w, temporality, md.isMonotonic);
        };
      }
      if (md.dataPointType === DataPointType.HISTOGRAM) {
        const pts = md.dataPoints.map((p) => ({
          attrs: encodeKeyValues(9, p.attributes as Attributes),
          start: nanos(p.startTime),
          time: nanos(p.endTime),
          v: p.value,
        }));
        return (w: BinaryWriter) => {
          m.beginMetric(w, md.descriptor.name, md.descriptor.description, md.descriptor.unit, 'histogram');
          const point = m.histogramPoint([], []);
          for (const p of pts) {
            const h = p.v;
            point.attrs = p.attrs;
            point.startNs = p.start;
            point.timeNs = p.time;
            point.count = h.count;
            point.sum = h.sum;
            point.bucketCounts = h.buckets.counts;
            point.bounds = h.buckets.boundaries;
            point.min = h.min;
            point.max = h.max;
            m.writeHistogramDataPoint(w, point);
          }
          m.endMetric(w, temporality, false);
        };
      }
      throw new Error(`unexpected metric type ${md.dataPointType}`);
    }),
  }));
  return (w) => {
    m.beginResourceMetrics(w, resource);
    for (const s of scopes) {
      m.beginScopeMetrics(w, s.scope);
      for (const write of s.metrics) write(w);
      m.endScopeMetrics(w, s.schemaUrl);
    }
    m.endResourceMetrics(w, rm.resource.schemaUrl ?? '');
  };
}

await runBench(import.meta.url, {
  title: 'Encode: ExportMetricsServiceRequest, 11,000 points',
  cases: [
    {
      name: 'protobuf',
      itemsPerOp: POINTS,
      itemUnit: 'points',
      impls: {
        ours: async () => {
          const rm = await workload();
          const req = toGenRequest(rm);
          checkSameMessage(encodeMetricsRequest(req), ProtobufMetricsSerializer.serializeRequest(rm)!);
          return () => encodeMetricsRequest(req);
        },
        official: async () => {
          const rm = await workload();
          return () => ProtobufMetricsSerializer.serializeRequest(rm);
        },
        'protobuf-es toBinary': async () => {
          const req = toGenRequest(await workload());
          return () => toBinary(ExportMetricsServiceRequestSchema, req);
        },
      },
    },
    {
      name: 'JSON',
      itemsPerOp: POINTS,
      itemUnit: 'points',
      impls: {
        ours: async () => {
          const req = toGenRequest(await workload());
          return () => encodeJson(ExportMetricsServiceRequestSchema, req);
        },
        official: async () => {
          const rm = await workload();
          return () => JsonMetricsSerializer.serializeRequest(rm);
        },
      },
    },
    {
      name: 'protobuf, collect path (point writers, pre-encoded attributes)',
      itemsPerOp: POINTS,
      itemUnit: 'points',
      impls: {
        ours: async () => {
          const rm = await workload();
          const write = primitivesPlan(rm);
          const w = new BinaryWriter();
          write(w);
          checkSameMessage(w.finish(), ProtobufMetricsSerializer.serializeRequest(rm)!);
          return () => {
            write(w);
            return w.finish();
          };
        },
        'protobuf-es BinaryWriter': async () => {
          const rm = await workload();
          const write = primitivesPlan(rm);
          // Same method names and argument shapes; only the types differ.
          const w = new ProtobufEsWriter() as unknown as BinaryWriter;
          write(w);
          checkSameMessage(w.finish(), ProtobufMetricsSerializer.serializeRequest(rm)!);
          return () => {
            write(w);
            return w.finish();
          };
        },
      },
    },
  ],
});
