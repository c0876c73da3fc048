/**
 * Sends sample telemetry to a running gateway (`npm start` in another terminal):
 * - metrics and logs with otlp-fanout's own exporter (`createTelemetry`), over OTLP/HTTP
 *   protobuf, and the same metrics again over OTLP/gRPC;
 * - a few spans as raw OTLP requests (gen/ messages + toBinary), over OTLP/HTTP and gRPC.
 *
 * Usage: node --import tsx/esm scripts/demo.ts [--http http://127.0.0.1:4318]
 *          [--grpc http://127.0.0.1:4317] [--token TOKEN]
 * With `--token`, requests carry `Authorization: Bearer TOKEN` (for a gateway with tenants).
 */
import { parseArgs } from 'node:util';
import { create, toBinary } from '@bufbuild/protobuf';
import { ExportTraceServiceRequestSchema, ExportTraceServiceResponseSchema } from '../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { Span_SpanKind, Status_StatusCode } from '../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { fromBinary } from '@bufbuild/protobuf';
import { createTelemetry } from '../src/telemetry.js';
import { createOtlpGrpcTransport } from '../src/transport/grpc.js';

const { values } = parseArgs({
  options: {
    http: { type: 'string', default: 'http://127.0.0.1:4318' },
    grpc: { type: 'string', default: 'http://127.0.0.1:4317' },
    token: { type: 'string' },
  },
});
const httpBase = values.http!.replace(/\/+$/, '');
const grpcBase = values.grpc!;
const headers: Record<string, string> = values.token === undefined ? {} : { authorization: `Bearer ${values.token}` };

// ---- metrics and logs through our own SDK -------------------------------------------------
const telemetry = createTelemetry({
  serviceName: 'otlp-fanout-demo',
  resource: { 'deployment.environment': 'demo', 'service.version': '0.1.0' },
  // The demo flushes by hand; a long interval keeps the timer from sending a second batch.
  exportIntervalMillis: 60_000,
  backends: [
    { name: 'gateway-http', protocol: 'http/protobuf', endpoint: httpBase, headers, signals: ['metrics', 'logs'] },
    { name: 'gateway-grpc', protocol: 'grpc', endpoint: grpcBase, headers, signals: ['metrics'] },
  ],
});
const meter = telemetry.meterProvider.getMeter('demo', '0.1.0');
const requests = meter.createCounter('demo.requests', { unit: '{request}', description: 'Requests served by the demo' });
const latency = meter.createHistogram('demo.latency', { unit: 'ms', description: 'Demo request latency' });
const queue = meter.createUpDownCounter('demo.queue.depth', { description: 'Items waiting' });
meter.createObservableGauge('demo.memory.heap', { unit: 'By' }).addCallback((r) => r.observe(process.memoryUsage().heapUsed));
for (let i = 0; i < 20; i++) {
  const route = i % 3 === 0 ? '/checkout' : '/cart';
  requests.add(1, { 'http.route': route, 'http.response.status_code': i % 7 === 0 ? 500 : 200 });
  latency.record(5 + ((i * 37) % 120), { 'http.route': route });
}
queue.add(12);
queue.add(-5);

const logger = telemetry.loggerProvider.getLogger('demo', '0.1.0');
logger.emit({ severityNumber: 9, severityText: 'INFO', body: 'demo started', attributes: { 'demo.run': Date.now() } });
logger.emit({ severityNumber: 13, severityText: 'WARN', body: { event: 'slow request', route: '/checkout', ms: 412 } });
logger.emit({
  severityNumber: 17,
  severityText: 'ERROR',
  body: 'payment failed',
  exception: new Error('card declined'),
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
});

await telemetry.forceFlush();
const report = await telemetry.shutdown();
for (const s of telemetry.stats()) {
  console.log(`sdk ${s.name}/${s.signal}: ${s.itemsSent} items sent, ${s.itemsFailed} failed, ${s.itemsDropped} dropped`);
}
void report;

// ---- spans as raw OTLP requests ---------------------------------------------------------------
const now = BigInt(Date.now()) * 1_000_000n;
const traceId = Uint8Array.from({ length: 16 }, (_, i) => (i * 17 + 3) & 0xff);
const id = (n: number): Uint8Array => Uint8Array.from({ length: 8 }, (_, i) => (n * 31 + i) & 0xff);
const spans = create(ExportTraceServiceRequestSchema, {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'otlp-fanout-demo' } } }] },
      scopeSpans: [
        {
          scope: { name: 'demo', version: '0.1.0' },
          spans: [
            {
              traceId,
              spanId: id(1),
              name: 'GET /checkout',
              kind: Span_SpanKind.SERVER,
              startTimeUnixNano: now - 40_000_000n,
              endTimeUnixNano: now,
              status: { code: Status_StatusCode.OK },
            },
            {
              traceId,
              spanId: id(2),
              parentSpanId: id(1),
              name: 'SELECT cart',
              kind: Span_SpanKind.CLIENT,
              startTimeUnixNano: now - 30_000_000n,
              endTimeUnixNano: now - 10_000_000n,
            },
            {
              traceId,
              spanId: id(3),
              parentSpanId: id(1),
              name: 'charge card',
              kind: Span_SpanKind.CLIENT,
              startTimeUnixNano: now - 9_000_000n,
              endTimeUnixNano: now - 1_000_000n,
              status: { code: Status_StatusCode.ERROR, message: 'card declined' },
              events: [{ name: 'retry', timeUnixNano: now - 5_000_000n }],
            },
          ],
        },
      ],
    },
  ],
});
const body = toBinary(ExportTraceServiceRequestSchema, spans);
const res = await fetch(`${httpBase}/v1/traces`, {
  method: 'POST',
  body,
  headers: { 'content-type': 'application/x-protobuf', ...headers },
  signal: AbortSignal.timeout(5000),
});
const answer = res.ok ? fromBinary(ExportTraceServiceResponseSchema, new Uint8Array(await res.arrayBuffer())) : undefined;
console.log(`spans over OTLP/HTTP: HTTP ${res.status}${answer?.partialSuccess ? ` (partial: ${answer.partialSuccess.rejectedSpans} rejected)` : ''}`);

const grpc = createOtlpGrpcTransport({ endpoint: grpcBase, headers, timeoutMillis: 5000 });
const result = await grpc.export('traces', body);
await grpc.close();
console.log(`spans over OTLP/gRPC: ${result.kind}${result.kind === 'failed' ? ` (${result.error.message})` : ''}`);
