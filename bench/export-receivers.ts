/**
 * Lean loopback OTLP metrics receivers for the export benchmark: one OTLP/gRPC (h2c) and
 * one OTLP/HTTP protobuf server that read each request, count its data points with the
 * zero-decode scanner and answer success at once.
 *
 * Why not test/support/receiver.ts: it decodes every request into messages (tens of ms
 * for 11,000 points) before answering, which would add the receiver's decode time to
 * the wall figure of every cycle and shrink the visible difference between exporters.
 * Here only the first request of each run is fully decoded, to check that the scanner's
 * count is right and to see which temporality the backend was sent.
 *
 * The benchmark's parent process hosts these servers, so their CPU is never charged to
 * the exporting child process being measured.
 */
import { fromBinary } from '@bufbuild/protobuf';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { scanRequest } from '../src/otlp/scan.js';

const GRPC_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
/** A gRPC message frame holding an empty ExportMetricsServiceResponse: flag 0, length 0. */
const EMPTY_GRPC_FRAME = new Uint8Array(5);
/** Requests bigger than this are refused: far above the 11,000-point workload (~1.5 MB). */
const MAX_BODY = 64 * 1024 * 1024;

/** What one backend received since the last `reset()`. */
export interface BackendTally {
  requests: number;
  points: number;
  /** Temporality names seen in the first request (sums and histograms), e.g. ['delta']. */
  temporalities: string[];
  /** Requests refused or unparseable, with the reason. */
  errors: string[];
}

/** One lean receiver: a URL to export to and what arrived there. */
export interface BenchReceiver {
  readonly url: string;
  readonly tally: BackendTally;
  reset(): void;
  close(): Promise<void>;
}

function emptyTally(): BackendTally {
  return { requests: 0, points: 0, temporalities: [], errors: [] };
}

/** Counts one request body into `tally`; fully decodes the first one to cross-check the count. */
function countInto(tally: BackendTally, body: Uint8Array): void {
  const points = scanRequest('metrics', body).items;
  if (tally.requests === 0) {
    const req = fromBinary(ExportMetricsServiceRequestSchema, body);
    let decoded = 0;
    const seen = new Set<string>();
    for (const rm of req.resourceMetrics)
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics) {
          if (m.data.case === 'sum' || m.data.case === 'histogram') {
            decoded += m.data.value.dataPoints.length;
            seen.add(m.data.value.aggregationTemporality === AggregationTemporality.DELTA ? 'delta' : 'cumulative');
          } else if (m.data.case !== undefined) {
            decoded += m.data.value.dataPoints.length;
          }
        }
    if (decoded !== points) tally.errors.push(`scanner counted ${points} points, decoding found ${decoded}`);
    tally.temporalities = [...seen].sort();
  }
  tally.requests++;
  tally.points += points;
}

function listen(server: http.Server | http2.Http2Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** An OTLP/gRPC metrics receiver on h2c: unary Export only, uncompressed messages. */
export async function startGrpcReceiver(): Promise<BenchReceiver> {
  let tally = emptyTally();
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.on('error', () => {}); // a client process that exits mid-stream; its run is already over
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    stream.on('end', () => {
      let status = '0';
      let message = '';
      const body = Buffer.concat(chunks);
      if (headers[':path'] !== GRPC_PATH) {
        status = '12'; // UNIMPLEMENTED
        message = `no method ${String(headers[':path'])}`;
      } else if (size > MAX_BODY || body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
        status = '3'; // INVALID_ARGUMENT
        message = 'expected one uncompressed gRPC message frame';
      } else {
        try {
          countInto(tally, new Uint8Array(body.buffer, body.byteOffset + 5, body.length - 5));
        } catch (e) {
          status = '3';
          message = String(e);
        }
      }
      if (status !== '0') tally.errors.push(`grpc ${status}: ${message}`);
      if (stream.destroyed) return;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': status, 'grpc-message': encodeURIComponent(message) }));
      stream.end(status === '0' ? EMPTY_GRPC_FRAME : undefined);
    });
  });
  const url = await listen(server);
  return {
    url,
    get tally() {
      return tally;
    },
    reset() {
      tally = emptyTally();
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
      });
    },
  };
}

/** An OTLP/HTTP metrics receiver: `POST /v1/metrics` with a protobuf body, no content encoding. */
export async function startHttpReceiver(): Promise<BenchReceiver> {
  let tally = emptyTally();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('error', () => {});
    req.on('end', () => {
      const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim();
      let problem: string | undefined;
      if (req.method !== 'POST' || req.url !== '/v1/metrics') problem = `no route ${String(req.method)} ${String(req.url)}`;
      else if (type !== 'application/x-protobuf') problem = `content-type ${type}`;
      else if ((req.headers['content-encoding'] ?? 'identity') !== 'identity') problem = 'compressed body';
      else if (size > MAX_BODY) problem = `body of ${size} bytes`;
      else {
        try {
          const body = Buffer.concat(chunks);
          countInto(tally, new Uint8Array(body.buffer, body.byteOffset, body.length));
        } catch (e) {
          problem = String(e);
        }
      }
      if (problem !== undefined) {
        tally.errors.push(`http 400: ${problem}`);
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(problem);
        return;
      }
      // An empty ExportMetricsServiceResponse encodes to zero bytes.
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
      res.end();
    });
  });
  const url = await listen(server);
  return {
    url,
    get tally() {
      return tally;
    },
    reset() {
      tally = emptyTally();
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
