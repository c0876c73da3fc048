/**
 * Shared pieces of the gateway suites: a gateway on loopback port 0 with a recording
 * observer, sample requests, and small HTTP/gRPC client helpers with timeouts.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ConnectError, createClient } from '@connectrpc/connect';
import { compressionGzip, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { ExportLogsServiceRequestSchema, type ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import {
  ExportMetricsServiceRequestSchema,
  type MetricsService,
  type ExportMetricsServiceRequest,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportTraceServiceRequestSchema,
  type ExportTraceServiceRequest,
} from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { loadGatewayConfig } from '../../src/gateway/config/load.js';
import type { ForwardedEvent, GatewayObserver, RefusedEvent, RequestEvent } from '../../src/gateway/observe/events.js';
import { startGateway } from '../../src/gateway/gateway.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { encodeJson } from '../../src/otlp/json.js';
import { readPartialSuccess, signalSchemas } from '../../src/otlp/signal-schemas.js';
import { createOtlpGrpcTransport } from '../../src/transport/grpc.js';
import { rawMessage } from '../../src/transport/pass-through.js';
import type { ExportResult } from '../../src/transport/types.js';
import type { Signal } from '../../src/otlp/types.js';

/** What the recording observer saw; `body` of each request is copied. */
export interface Recorded {
  readonly requests: Array<Omit<RequestEvent, 'body' | 'decode'> & { body: Uint8Array }>;
  readonly refused: RefusedEvent[];
  readonly forwarded: ForwardedEvent[];
}

export function recordingObserver(): GatewayObserver & { seen: Recorded } {
  const seen: Recorded = { requests: [], refused: [], forwarded: [] };
  return {
    seen,
    onRequest(e) {
      const { decode: _decode, ...rest } = e;
      seen.requests.push({ ...rest, body: e.body.slice() });
    },
    onRefused(e) {
      seen.refused.push(e);
    },
    onForwarded(e) {
      seen.forwarded.push(e);
    },
  };
}

export interface TestGateway {
  readonly gw: Gateway;
  /** `http://127.0.0.1:port` of each receiver. */
  readonly httpUrl: string;
  readonly grpcUrl: string;
  readonly seen: Recorded;
  close(): Promise<void>;
}

/** Starts a gateway from a config document; receivers on 127.0.0.1:0 unless the document says otherwise. */
export async function startTestGateway(document: Record<string, unknown>, env: Record<string, string> = {}): Promise<TestGateway> {
  const receivers = { grpc: { address: '127.0.0.1:0' }, http: { address: '127.0.0.1:0' }, ...(document['receivers'] as object | undefined) };
  const config = loadGatewayConfig({ document: { ...document, receivers }, env });
  const observer = recordingObserver();
  const gw = await startGateway(config, { observer });
  return {
    gw,
    httpUrl: `http://${gw.addresses.http}`,
    grpcUrl: `http://${gw.addresses.grpc}`,
    seen: observer.seen,
    async close() {
      await gw.shutdown(500);
    },
  };
}

/** A gRPC endpoint for the gateway's config, from a test receiver's `http://` URL. */
export function grpcEndpoint(url: string): string {
  return url.replace(/^http:/, 'grpc:');
}

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

/** A metrics request with one resource per service name, `points` gauge points each. */
export function metricsRequest(services: readonly string[], points = 1, extra: Record<string, string> = {}): ExportMetricsServiceRequest {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: services.map((s) => ({
      resource: { attributes: [{ key: 'service.name', value: str(s) }, ...Object.entries(extra).map(([key, v]) => ({ key, value: str(v) }))] },
      scopeMetrics: [
        {
          scope: { name: 'test' },
          metrics: [
            {
              name: `${s}.gauge`,
              data: {
                case: 'gauge' as const,
                value: {
                  dataPoints: Array.from({ length: points }, (_, i) => ({
                    timeUnixNano: BigInt(1_700_000_000_000_000_000 + i),
                    value: { case: 'asInt' as const, value: BigInt(i) },
                  })),
                },
              },
            },
          ],
        },
      ],
    })),
  });
}

export function logsRequest(services: readonly string[]): ExportLogsServiceRequest {
  return create(ExportLogsServiceRequestSchema, {
    resourceLogs: services.map((s) => ({
      resource: { attributes: [{ key: 'service.name', value: str(s) }] },
      scopeLogs: [
        {
          logRecords: [
            {
              timeUnixNano: 5n,
              body: { value: { case: 'stringValue' as const, value: `hello from ${s}` } },
              traceId: new Uint8Array(16).fill(3),
              spanId: new Uint8Array(8).fill(4),
            },
          ],
        },
      ],
    })),
  });
}

export function tracesRequest(services: readonly string[]): ExportTraceServiceRequest {
  return create(ExportTraceServiceRequestSchema, {
    resourceSpans: services.map((s) => ({
      resource: { attributes: [{ key: 'service.name', value: str(s) }] },
      scopeSpans: [
        {
          spans: [
            { name: `${s}.span`, traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2), startTimeUnixNano: 1n, endTimeUnixNano: 2n },
          ],
        },
      ],
    })),
  });
}

export const bin = {
  metrics: (m: ExportMetricsServiceRequest) => toBinary(ExportMetricsServiceRequestSchema, m),
  logs: (m: ExportLogsServiceRequest) => toBinary(ExportLogsServiceRequestSchema, m),
  traces: (m: ExportTraceServiceRequest) => toBinary(ExportTraceServiceRequestSchema, m),
};

export const json = {
  metrics: (m: ExportMetricsServiceRequest) => encodeJson(ExportMetricsServiceRequestSchema, m),
  logs: (m: ExportLogsServiceRequest) => encodeJson(ExportLogsServiceRequestSchema, m),
  traces: (m: ExportTraceServiceRequest) => encodeJson(ExportTraceServiceRequestSchema, m),
};

/** POSTs to the gateway with a 3 s timeout. */
export function post(url: string, body: Uint8Array | string, headers: Record<string, string>, method = 'POST'): Promise<Response> {
  return fetch(url, { method, body: method === 'GET' || method === 'HEAD' ? null : body, headers, signal: AbortSignal.timeout(3000) });
}

export const PROTOBUF = { 'content-type': 'application/x-protobuf' };
export const JSON_TYPE = { 'content-type': 'application/json' };

/** Sends one encoded request over gRPC with our own transport (3 s timeout). */
export async function grpcExport(
  url: string,
  signal: Signal,
  body: Uint8Array,
  headers: Record<string, string> = {},
  gzip = false,
): Promise<ExportResult> {
  const t = createOtlpGrpcTransport({ endpoint: url, headers, timeoutMillis: 3000, compression: gzip ? 'gzip' : 'none' });
  try {
    return await t.export(signal, body);
  } finally {
    await t.close();
  }
}

/** Polls `check` every 10 ms until it is true; throws after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The outcome of a raw gRPC call: the response, or connect's error (code, message, details). */
export type GrpcOutcome = { readonly ok: true; readonly rejected: bigint } | { readonly ok: false; readonly error: ConnectError };

/**
 * Calls Export over gRPC with connect's own client (so codes and details are read as sent),
 * passing `body` through unchanged; `gzip` compresses it; 3 s timeout.
 */
export async function grpcCall(
  url: string,
  signal: Signal,
  body: Uint8Array,
  headers: Record<string, string> = {},
  gzip = false,
): Promise<GrpcOutcome> {
  const session = new Http2SessionManager(url);
  const transport = createGrpcTransport({
    baseUrl: url,
    sessionManager: session,
    ...(gzip ? { sendCompression: compressionGzip } : {}),
    compressMinBytes: 0,
  });
  const options = { headers, timeoutMs: 3000 };
  try {
    // One client type for the three services: they differ only in their message types.
    const service = signalSchemas[signal].service as typeof MetricsService;
    const r = await createClient(service, transport).export(rawMessage(service.method.export.input, body), options);
    return { ok: true, rejected: BigInt(readPartialSuccess(r)?.rejected ?? 0) };
  } catch (e) {
    return { ok: false, error: ConnectError.from(e) };
  } finally {
    session.abort();
  }
}
