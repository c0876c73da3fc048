/**
 * The benchmark's OTLP/HTTP receiver, run as a child process (`fork`, IPC): answers every
 * POST with 200 and an empty protobuf ExportMetricsServiceResponse, and records each
 * request's delivery latency from the send time the load generator wrote into the body
 * (gateway-template.ts). With `--decode` (the benchmark's default) it also decodes each
 * body with our gen/ schema, as any real OTLP backend must; without, it is a null sink.
 *
 * IPC: sends `{ type: 'ready', port }` once listening; answers `{ type: 'reset' }` with
 * `{ type: 'reset' }` and `{ type: 'stats' }` with the counts since the last reset; exits
 * on `{ type: 'exit' }` or when the parent goes away.
 */
import * as http from 'node:http';
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { LatencyHistogram } from '../src/internal/latency.js';
import { benchRequest, nowMicros, readSentAt } from './gateway-template.js';

/** What the receiver reports. */
export interface ReceiverStats {
  readonly type: 'stats';
  readonly requests: number;
  readonly bytes: number;
  /** Requests whose send time could not be read (not forwarded byte for byte). */
  readonly unreadable: number;
  readonly deliveryP50Ms: number;
  readonly deliveryP99Ms: number;
  readonly deliveryMaxMs: number;
}

const { sentAtOffset } = benchRequest();
const decode = process.argv.includes('--decode');
const latency = new LatencyHistogram();
let requests = 0;
let bytes = 0;
let unreadable = 0;

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const arrived = nowMicros();
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    requests++;
    bytes += body.length;
    if (decode) fromBinary(ExportMetricsServiceRequestSchema, body);
    const sent = readSentAt(body, sentAtOffset);
    if (sent === undefined) unreadable++;
    else latency.record((arrived - sent) / 1000);
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
    res.end();
  });
});

function send(message: unknown): void {
  process.send?.(message);
}

process.on('message', (m: { type?: string }) => {
  if (m.type === 'reset') {
    requests = 0;
    bytes = 0;
    unreadable = 0;
    latency.reset();
    send({ type: 'reset' });
  } else if (m.type === 'stats') {
    const s: ReceiverStats = {
      type: 'stats',
      requests,
      bytes,
      unreadable,
      deliveryP50Ms: latency.quantile(0.5),
      deliveryP99Ms: latency.quantile(0.99),
      deliveryMaxMs: latency.max,
    };
    send(s);
  } else if (m.type === 'exit') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  send({ type: 'ready', port: typeof addr === 'object' && addr !== null ? addr.port : 0 });
});
