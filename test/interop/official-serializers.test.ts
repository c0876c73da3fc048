/**
 * Conformance, direction 2: the same SDK data serialized by the official otlp-transformer
 * (Protobuf*Serializer, Json*Serializer) and by ours (encodeMetricsRequest, the direct logs
 * encoder, toBinary / encodeJson of the gen message built from the data), each body sent through
 * OUR transports (gRPC, HTTP/protobuf, HTTP/JSON) to the test receiver, decoded there and
 * compared field by field — with each other and with the SDK's own data.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { toBinary } from '@bufbuild/protobuf';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { encodeExportLogsRequest, encodeLogResource, encodeLogScope } from '../../src/otlp/encode/logs.js';
import type { ScopedLogRecord } from '../../src/otlp/encode/logs.js';
import { encodeMetricsRequest } from '../../src/otlp/encode/metrics-request.js';
import { encodeJson } from '../../src/otlp/json.js';
import type { Signal } from '../../src/otlp/types.js';
import { createOtlpGrpcTransport } from '../../src/transport/grpc.js';
import { createOtlpHttpTransport } from '../../src/transport/http.js';
import type { Transport } from '../../src/transport/types.js';
import { startReceiver } from '../support/receiver.js';
import type { Receiver, ReceivedRequest, ReceiverProtocol } from '../support/receiver.js';
import { nLogsRequests, nMetricsRequest, nSdkLogRecords, nSdkResourceMetrics, nSdkSpans, nTraceRequests } from './normalize.js';
import { emitOfficialLogs, recordOfficialMetrics, recordOfficialSpans } from './official-sdk.js';
import { genLogsRequest, genMetricsRequest, genTraceRequest, nanos } from './sdk-to-gen.js';
import { transformer } from './official.js';

const { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } =
  transformer;

const test = suite('interop/official serializers vs ours, through our transports');

let rx: Receiver;
let transports: Record<ReceiverProtocol, Transport>;
let metrics: ResourceMetrics;
let logs: ReadableLogRecord[];
let spans: ReadableSpan[];

test.before(async () => {
  rx = await startReceiver();
  transports = {
    grpc: createOtlpGrpcTransport({ endpoint: rx.grpcUrl, timeoutMillis: 2000 }),
    'http/protobuf': createOtlpHttpTransport({ endpoint: rx.httpUrl, encoding: 'protobuf', timeoutMillis: 2000 }),
    'http/json': createOtlpHttpTransport({ endpoint: rx.httpUrl, encoding: 'json', timeoutMillis: 2000 }),
  };
  metrics = await recordOfficialMetrics();
  logs = await emitOfficialLogs([]);
  spans = await recordOfficialSpans([]);
});

test.after(async () => {
  await Promise.all(Object.values(transports).map((t) => t.close()));
  await rx.close();
});

/** Sends `body` through our transport for `protocol` and returns what the receiver decoded. */
async function send(protocol: ReceiverProtocol, signal: Signal, body: Uint8Array): Promise<ReceivedRequest> {
  rx.clear();
  const result = await transports[protocol].export(signal, body);
  assert.equal(result, { kind: 'ok' }, `${protocol} ${signal}: ${JSON.stringify(result)}`);
  const r = await rx.waitFor(() => true);
  assert.is(r.protocol, protocol);
  assert.is(r.signal, signal);
  // Our transports pass the caller's bytes through untouched.
  assert.equal(r.bytes, body, `${protocol} ${signal}: bytes arrive unchanged`);
  return r;
}

/** The bodies to compare per signal: official and ours, protobuf and JSON. */
interface Bodies {
  readonly official: { readonly protobuf: Uint8Array; readonly json: Uint8Array };
  readonly ours: Record<string, { readonly protobuf?: Uint8Array; readonly json?: Uint8Array }>;
}

function must(bytes: Uint8Array | undefined, what: string): Uint8Array {
  if (bytes === undefined) throw new Error(`${what} serialized nothing`);
  return bytes;
}

function metricBodies(): Bodies {
  const gen = genMetricsRequest(metrics);
  return {
    official: {
      protobuf: must(ProtobufMetricsSerializer.serializeRequest(metrics), 'ProtobufMetricsSerializer'),
      json: must(JsonMetricsSerializer.serializeRequest(metrics), 'JsonMetricsSerializer'),
    },
    ours: {
      encodeMetricsRequest: { protobuf: encodeMetricsRequest(gen) },
      'toBinary/encodeJson': {
        protobuf: toBinary(ExportMetricsServiceRequestSchema, gen),
        json: encodeJson(ExportMetricsServiceRequestSchema, gen),
      },
    },
  };
}

function logBodies(): Bodies {
  const gen = genLogsRequest(logs);
  const first = logs[0]!;
  const scope = encodeLogScope(first.instrumentationScope);
  const direct: ScopedLogRecord[] = logs.map((r) => ({
    scope,
    timeUnixNano: nanos(r.hrTime),
    observedTimeUnixNano: nanos(r.hrTimeObserved),
    severityNumber: r.severityNumber ?? 0,
    severityText: r.severityText ?? '',
    body: r.body,
    attributes: r.attributes,
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.spanContext?.traceFlags ?? 0,
    traceId: r.spanContext?.traceId ?? '',
    spanId: r.spanContext?.spanId ?? '',
    eventName: r.eventName ?? '',
  }));
  return {
    official: {
      protobuf: must(ProtobufLogsSerializer.serializeRequest(logs), 'ProtobufLogsSerializer'),
      json: must(JsonLogsSerializer.serializeRequest(logs), 'JsonLogsSerializer'),
    },
    ours: {
      encodeExportLogsRequest: {
        protobuf: encodeExportLogsRequest(encodeLogResource(first.resource.attributes, first.resource.schemaUrl ?? ''), direct),
      },
      'toBinary/encodeJson': {
        protobuf: toBinary(ExportLogsServiceRequestSchema, gen),
        json: encodeJson(ExportLogsServiceRequestSchema, gen),
      },
    },
  };
}

function traceBodies(): Bodies {
  const gen = genTraceRequest(spans);
  return {
    official: {
      protobuf: must(ProtobufTraceSerializer.serializeRequest(spans), 'ProtobufTraceSerializer'),
      json: must(JsonTraceSerializer.serializeRequest(spans), 'JsonTraceSerializer'),
    },
    ours: {
      'toBinary/encodeJson': {
        protobuf: toBinary(ExportTraceServiceRequestSchema, gen),
        json: encodeJson(ExportTraceServiceRequestSchema, gen),
      },
    },
  };
}

/** Normal form of a received request, for the signal it carries. */
function normal(r: ReceivedRequest): unknown {
  switch (r.signal) {
    case 'metrics':
      return nMetricsRequest(r.message);
    case 'logs':
      return nLogsRequests([r.message]);
    case 'traces':
      return nTraceRequests([r.message]);
  }
}

const signals: ReadonlyArray<[Signal, () => Bodies, () => unknown]> = [
  ['metrics', metricBodies, () => nSdkResourceMetrics(metrics)],
  ['logs', logBodies, () => nSdkLogRecords(logs)],
  ['traces', traceBodies, () => nSdkSpans(spans)],
];

for (const [signal, bodies, sdkNormal] of signals) {
  for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
    const encoding = protocol === 'http/json' ? 'json' : 'protobuf';
    test(`${signal} over ${protocol}: official and our ${encoding} bodies decode to the same data`, async () => {
      const b = bodies();
      const official = await send(protocol, signal, b.official[encoding]);
      const expected = sdkNormal();
      assert.equal(normal(official), expected, `official ${encoding} vs SDK data`);
      let compared = 0;
      for (const [name, ours] of Object.entries(b.ours)) {
        const body = ours[encoding];
        if (body === undefined) continue;
        compared++;
        const got = await send(protocol, signal, body);
        assert.equal(normal(got), expected, `${name} vs SDK data`);
        assert.equal(normal(got), normal(official), `${name} vs official`);
        // Protobuf carries no presence ambiguity for these fields: the decoded messages are equal outright.
        if (encoding === 'protobuf') assert.equal(got.message, official.message, `${name}: decoded message equals the official one`);
      }
      assert.ok(compared > 0, 'at least one of our encoders compared');
    });
  }
}

test('gzip through our transports: official and our bodies arrive compressed and decode the same', async () => {
  const gz: Record<ReceiverProtocol, Transport> = {
    grpc: createOtlpGrpcTransport({ endpoint: rx.grpcUrl, timeoutMillis: 2000, compression: 'gzip' }),
    'http/protobuf': createOtlpHttpTransport({ endpoint: rx.httpUrl, timeoutMillis: 2000, compression: 'gzip' }),
    'http/json': createOtlpHttpTransport({ endpoint: rx.httpUrl, encoding: 'json', timeoutMillis: 2000, compression: 'gzip' }),
  };
  try {
    const b = metricBodies();
    for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
      const json = protocol === 'http/json';
      const got: ReceivedRequest[] = [];
      const official = json ? b.official.json : b.official.protobuf;
      const ours = json ? b.ours['toBinary/encodeJson']!.json! : b.ours.encodeMetricsRequest!.protobuf!;
      for (const body of [official, ours]) {
        rx.clear();
        assert.equal(await gz[protocol].export('metrics', body), { kind: 'ok' });
        const r = await rx.waitFor(() => true);
        assert.ok(r.compressed, `${protocol} compressed`);
        assert.equal(r.bytes, body);
        got.push(r);
      }
      assert.equal(normal(got[1]!), normal(got[0]!), protocol);
      assert.equal(normal(got[0]!), nSdkResourceMetrics(metrics), protocol);
    }
  } finally {
    await Promise.all(Object.values(gz).map((t) => t.close()));
  }
});

test('protobuf bytes: every one of our encoders is byte-identical to toBinary', () => {
  for (const [signal, bodies] of signals) {
    const b = bodies();
    for (const [name, ours] of Object.entries(b.ours)) {
      if (ours.protobuf === undefined) continue;
      assert.equal(ours.protobuf, b.ours['toBinary/encodeJson']!.protobuf, `${signal} ${name} bytes equal toBinary`);
    }
  }
});

test.run();
