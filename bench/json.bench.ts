/**
 * OTLP/JSON benchmark: the JSON body of a request, ours vs the official serializers.
 *
 * - "metrics, 11k points": the workload of bench/encode.bench.ts (bench/lib/otel-metrics.ts).
 *   ours = `protobufToJsonBody('metrics', bytes)` on the protobuf bytes of our encoder, which
 *   is what every HTTP/JSON backend pays (the fan-out holds protobuf bytes and converts once
 *   per request); official = `JsonMetricsSerializer.serializeRequest` on the SDK's
 *   ResourceMetrics; "fromBinary + encodeJson" = the path protobufToJsonBody took before the
 *   direct transcoder, for reference.
 * - "logs, 2k records": 2,000 HTTP access-log records (body, 4 attributes, trace context)
 *   emitted through the official sdk-logs and kept in memory; official =
 *   `JsonLogsSerializer.serializeRequest`; ours = `protobufToJsonBody('logs', bytes)` on the
 *   protobuf encoding of the same records (`ProtobufLogsSerializer`, untimed).
 *
 * Before timing, "ours" checks that its JSON is the same value as encodeJson of the decoded
 * request (the reference mapping), and that it carries the same items as the official JSON.
 *
 * Run: `node --import tsx/esm bench/json.bench.ts [--rounds N --time MS --warmup MS --filter TEXT]`.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { DescMessage } from '@bufbuild/protobuf';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, JsonMetricsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ExportLogsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { encodeMetricsRequest } from '../src/otlp/encode/metrics-request.js';
import { encodeJson, encodeJsonString } from '../src/otlp/json.js';
import { protobufToJsonBody } from '../src/transport/json-body.js';
import { runBench } from './lib/harness.js';
import { collectOfficialWorkload, countPoints, toGenRequest } from './lib/otel-metrics.js';

const POINTS = 11_000;
const RECORDS = 2_000;

async function metricsWorkload(): Promise<ResourceMetrics> {
  const rm = await collectOfficialWorkload();
  if (countPoints(rm) !== POINTS) throw new Error(`workload has ${countPoints(rm)} points, expected ${POINTS}`);
  return rm;
}

async function logsWorkload(): Promise<ReadableLogRecord[]> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench', 'service.version': '1.0.0', 'host.name': 'bench-host' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('otlp-fanout-bench', '1.0.0');
  for (let i = 0; i < RECORDS; i++) {
    const hex = (i + 1).toString(16).padStart(8, '0');
    const ctx = trace.setSpanContext(context.active(), {
      traceId: `5b8efff798038103d269b633${hex}`,
      spanId: `eee19b7e${hex}`,
      traceFlags: TraceFlags.SAMPLED,
    });
    logger.emit({
      context: ctx,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: `GET /api/items/${i} 200`,
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/items/:id', 'http.response.status_code': 200, 'duration.ms': 1.5 + i / 1000 },
    });
  }
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  await provider.shutdown();
  if (records.length !== RECORDS) throw new Error(`logged ${records.length} records, expected ${RECORDS}`);
  return [...records];
}

/** Throws unless `ours` is the reference mapping of `bytes` and holds as many items as `official`. */
function check(schema: DescMessage, bytes: Uint8Array, ours: Uint8Array, official: Uint8Array, itemKey: string, items: number): void {
  const text = new TextDecoder().decode(ours);
  const reference = encodeJsonString(schema, fromBinary(schema, bytes));
  if (text !== reference && JSON.stringify(JSON.parse(text)) !== JSON.stringify(JSON.parse(reference))) {
    throw new Error('the transcoder and encodeJson disagree');
  }
  const count = (json: string) => json.split(`"${itemKey}"`).length - 1;
  const theirs = new TextDecoder().decode(official);
  if (count(text) !== items || count(theirs) !== items) {
    throw new Error(`expected ${items} "${itemKey}" in both bodies, got ${count(text)} (ours) and ${count(theirs)} (official)`);
  }
}

await runBench(import.meta.url, {
  title: 'OTLP/JSON: request body',
  cases: [
    {
      name: 'metrics, 11k points',
      itemsPerOp: POINTS,
      itemUnit: 'points',
      impls: {
        ours: async () => {
          const rm = await metricsWorkload();
          const bytes = encodeMetricsRequest(toGenRequest(rm));
          const official = JsonMetricsSerializer.serializeRequest(rm)!;
          check(ExportMetricsServiceRequestSchema, bytes, protobufToJsonBody('metrics', bytes), official, 'timeUnixNano', POINTS);
          return () => protobufToJsonBody('metrics', bytes);
        },
        official: async () => {
          const rm = await metricsWorkload();
          return () => JsonMetricsSerializer.serializeRequest(rm);
        },
        'fromBinary + encodeJson': async () => {
          const bytes = encodeMetricsRequest(toGenRequest(await metricsWorkload()));
          return () => encodeJson(ExportMetricsServiceRequestSchema, fromBinary(ExportMetricsServiceRequestSchema, bytes));
        },
      },
    },
    {
      name: 'logs, 2k records',
      itemsPerOp: RECORDS,
      itemUnit: 'records',
      impls: {
        ours: async () => {
          const records = await logsWorkload();
          const bytes = ProtobufLogsSerializer.serializeRequest(records)!;
          const official = JsonLogsSerializer.serializeRequest(records)!;
          check(ExportLogsServiceRequestSchema, bytes, protobufToJsonBody('logs', bytes), official, 'spanId', RECORDS);
          return () => protobufToJsonBody('logs', bytes);
        },
        official: async () => {
          const records = await logsWorkload();
          return () => JsonLogsSerializer.serializeRequest(records);
        },
        'fromBinary + encodeJson': async () => {
          const bytes = ProtobufLogsSerializer.serializeRequest(await logsWorkload())!;
          return () => encodeJson(ExportLogsServiceRequestSchema, fromBinary(ExportLogsServiceRequestSchema, bytes));
        },
      },
    },
  ],
});
