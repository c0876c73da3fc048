/**
 * The benchmark's OTLP/HTTP receiver, run as a child process (`fork`, IPC): answers every
 * POST with 200 and an empty protobuf ExportMetricsServiceResponse, and records each
 * request's delivery latency from the send time the load generator wrote into the body
 * (gateway-template.ts). With `--decode` (the benchmark's default) it also decodes each
 * body with our gen/ schema, as any real OTLP backend must; without, it is a null sink.
 *
 * The gateway may merge a backlog of requests into one (their resource entries
 * concatenated), so the receiver counts client requests as top-level resource entries (the
 * template has exactly one) and reads each entry's own send time; `posts` counts HTTP requests.
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
  /** Client requests delivered (resource entries; one per request the load generator sent). */
  readonly requests: number;
  /** HTTP requests received (fewer than `requests` when the gateway merged some). */
  readonly posts: number;
  readonly bytes: number;
  /** Requests whose send time could not be read (not forwarded byte for byte). */
  readonly unreadable: number;
  readonly deliveryP50Ms: number;
  readonly deliveryP99Ms: number;
  readonly deliveryMaxMs: number;
}

const { body: template, sentAtOffset } = benchRequest();
// Offset of the send time inside the template's (only) resource entry payload.
const entryOffset = sentAtOffset - payloadStart(template, 0);
const decode = process.argv.includes('--decode');
const latency = new LatencyHistogram();
let requests = 0;
let posts = 0;
let bytes = 0;
let unreadable = 0;

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const arrived = nowMicros();
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    posts++;
    bytes += body.length;
    if (decode) fromBinary(ExportMetricsServiceRequestSchema, body);
    // Each top-level field is one resource entry (tag 0x0a, varint length, payload).
    let at = 0;
    let entries = 0;
    while (at < body.length && entries < 100_000) {
      if (body[at] !== 0x0a) break;
      const start = payloadStart(body, at);
      const length = varintAt(body, at + 1);
      entries++;
      const sent = readSentAt(body, start + entryOffset);
      if (sent === undefined) unreadable++;
      else latency.record((arrived - sent) / 1000);
      at = start + length;
    }
    if (entries === 0) unreadable++;
    requests += entries;
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
    res.end();
  });
});

/** The varint at `at` (lengths here stay far below 2^31). */
function varintAt(b: Uint8Array, at: number): number {
  let v = 0;
  for (let shift = 0, i = at; i < b.length && shift < 35; shift += 7, i++) {
    v |= (b[i]! & 0x7f) << shift;
    if (b[i]! < 0x80) return v;
  }
  return v;
}

/** Where the payload of the length-delimited field whose tag is at `at` starts. */
function payloadStart(b: Uint8Array, at: number): number {
  let i = at + 1;
  while (i < b.length && b[i]! >= 0x80) i++;
  return i + 1;
}

function send(message: unknown): void {
  process.send?.(message);
}

process.on('message', (m: { type?: string }) => {
  if (m.type === 'reset') {
    requests = 0;
    posts = 0;
    bytes = 0;
    unreadable = 0;
    latency.reset();
    send({ type: 'reset' });
  } else if (m.type === 'stats') {
    const s: ReceiverStats = {
      type: 'stats',
      requests,
      posts,
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

// `--port N`: a fixed port (a gateway may already be sending to it while it is down).
const portArg = process.argv.indexOf('--port');
server.listen(portArg > 0 ? Number(process.argv[portArg + 1]) : 0, '127.0.0.1', () => {
  const addr = server.address();
  send({ type: 'ready', port: typeof addr === 'object' && addr !== null ? addr.port : 0 });
});
