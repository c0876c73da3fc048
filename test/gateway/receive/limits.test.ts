/**
 * Protection: size limits (received and after gunzip, a gzip bomb), malformed input,
 * wrong content type / encoding / path / method, backpressure and /healthz. Every refusal
 * is checked on the wire and in the observer's count by reason.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { fromBinary, fromJsonString, createRegistry } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { RetryInfoSchema } from '../../../gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../../gen/google/rpc/status_pb.js';
import type { Status } from '../../../gen/google/rpc/status_pb.js';
import { startReceiver } from '../../support/receiver.js';
import {
  bin,
  eventually,
  grpcCall,
  JSON_TYPE,
  json,
  logsRequest,
  metricsRequest,
  post,
  PROTOBUF,
  startTestGateway,
  tracesRequest,
} from '../harness.js';
import type { TestGateway } from '../harness.js';
import { prng } from '../../support/prng.js';

const registry = createRegistry(RetryInfoSchema);

async function protoStatus(res: Response): Promise<Status> {
  assert.is(res.headers.get('content-type'), 'application/x-protobuf');
  return fromBinary(StatusSchema, new Uint8Array(await res.arrayBuffer()));
}

async function jsonStatus(res: Response): Promise<Status> {
  assert.is(res.headers.get('content-type'), 'application/json');
  return fromJsonString(StatusSchema, await res.text(), { registry });
}

function retryDelayMs(status: Status): number | undefined {
  for (const any of status.details) {
    const info = anyUnpack(any, RetryInfoSchema);
    if (info?.retryDelay !== undefined) return Number(info.retryDelay.seconds) * 1000 + info.retryDelay.nanos / 1e6;
  }
  return undefined;
}

const MAX = 64 * 1024;

const bad = suite('gateway/limits: bad input');
let t: TestGateway;

bad.before(async () => {
  t = await startTestGateway({ limits: { maxRequestBytes: `${MAX}` } });
});
bad.after(() => t.close());
bad.before.each(() => {
  t.seen.refused.length = 0;
});

const reasons = (): string[] => t.seen.refused.map((r) => r.reason);

bad('413 when Content-Length is over the limit, before reading the body', async () => {
  const res = await post(`${t.httpUrl}/v1/metrics`, new Uint8Array(MAX + 1), PROTOBUF);
  assert.is(res.status, 413);
  const status = await protoStatus(res);
  assert.is(status.code, Code.ResourceExhausted);
  assert.match(status.message, `over ${MAX} bytes`);
  assert.equal(reasons(), ['too_large']);
});

bad('413 for a chunked body that grows past the limit', async () => {
  const chunk = new Uint8Array(16 * 1024);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      // Bounded: stops well past the limit even if nobody reads.
      if (sent >= 8 * MAX) controller.close();
      else {
        sent += chunk.length;
        controller.enqueue(chunk);
      }
    },
  });
  const res = await fetch(`${t.httpUrl}/v1/metrics`, {
    method: 'POST',
    body: stream,
    headers: PROTOBUF,
    duplex: 'half',
    signal: AbortSignal.timeout(3000),
  } as RequestInit & { duplex: 'half' });
  assert.is(res.status, 413);
  await res.arrayBuffer();
  assert.equal(reasons(), ['too_large']);
});

bad('413 for a gzip bomb, stopped after the limit without inflating it all', async () => {
  // 32 gzip members of 16 MiB of zeros: 512 MiB inflated from about 0.5 MB.
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024));
  const bomb = Buffer.concat(Array.from({ length: 32 }, () => member));
  assert.ok(bomb.length < 1024 * 1024);
  const limited = await startTestGateway({ limits: { maxRequestBytes: '1MiB' } });
  try {
    const rssBefore = process.resourceUsage().maxRSS;
    const started = performance.now();
    const res = await post(`${limited.httpUrl}/v1/logs`, bomb, { ...PROTOBUF, 'content-encoding': 'gzip' });
    const elapsed = performance.now() - started;
    assert.is(res.status, 413);
    const status = await protoStatus(res);
    assert.match(status.message, 'after gunzip');
    assert.equal(
      limited.seen.refused.map((r) => r.reason),
      ['too_large'],
    );
    // Inflating all of it would hold 512 MiB; the cap keeps the peak near 1 MiB.
    const grownMiB = (process.resourceUsage().maxRSS - rssBefore) / 1024;
    assert.ok(grownMiB < 128, `peak RSS grew by ${grownMiB.toFixed(0)} MiB`);
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
  } finally {
    await limited.close();
  }
});

bad('400 with the scanner message for malformed protobuf', async () => {
  const res = await post(`${t.httpUrl}/v1/metrics`, new Uint8Array([0x0a, 0x05, 0x0a, 0x01]), PROTOBUF);
  assert.is(res.status, 400);
  const status = await protoStatus(res);
  assert.is(status.code, Code.InvalidArgument);
  assert.match(status.message, 'runs past the end');
  assert.equal(reasons(), ['malformed']);
  assert.is(t.seen.refused[0]!.status, 400);
  assert.is(t.seen.refused[0]!.protocol, 'http/protobuf');
});

bad('400 with the JSON path for malformed OTLP/JSON, answered in JSON', async () => {
  const res = await post(`${t.httpUrl}/v1/traces`, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"xyz"}]}]}]}', JSON_TYPE);
  assert.is(res.status, 400);
  const status = await jsonStatus(res);
  assert.is(status.code, Code.InvalidArgument);
  assert.match(status.message, '$.resourceSpans[0].scopeSpans[0].spans[0].spanId');
  const notJson = await post(`${t.httpUrl}/v1/traces`, '{"resourceSpans": [', JSON_TYPE);
  assert.is(notJson.status, 400);
  assert.match((await jsonStatus(notJson)).message, 'not JSON');
  assert.equal(reasons(), ['malformed', 'malformed']);
});

bad('400 for a body that is not gzip although it says so', async () => {
  const res = await post(`${t.httpUrl}/v1/metrics`, new Uint8Array([1, 2, 3, 4, 5]), { ...PROTOBUF, 'content-encoding': 'gzip' });
  assert.is(res.status, 400);
  assert.match((await protoStatus(res)).message, 'gzip');
  assert.equal(reasons(), ['malformed']);
});

bad('415 for another content type or content encoding', async () => {
  const text = await post(`${t.httpUrl}/v1/metrics`, 'hello', { 'content-type': 'text/plain' });
  assert.is(text.status, 415);
  assert.match(await text.text(), 'expected application/x-protobuf or application/json');
  const br = await post(`${t.httpUrl}/v1/metrics`, new Uint8Array(4), { ...PROTOBUF, 'content-encoding': 'br' });
  assert.is(br.status, 415);
  assert.is(br.headers.get('accept-encoding'), 'gzip');
  await br.arrayBuffer();
  assert.equal(reasons(), ['unsupported_media_type', 'unsupported_media_type']);
});

bad('404 for an unknown path, 405 for a method other than POST', async () => {
  const missing = await post(`${t.httpUrl}/v1/profiles`, new Uint8Array(0), PROTOBUF);
  assert.is(missing.status, 404);
  assert.match(await missing.text(), '/v1/metrics');
  const get = await post(`${t.httpUrl}/v1/metrics`, '', {}, 'GET');
  assert.is(get.status, 405);
  assert.is(get.headers.get('allow'), 'POST');
  await get.arrayBuffer();
  assert.equal(reasons(), ['not_found', 'method_not_allowed']);
});

bad('a valid JSON body with the protobuf content type is malformed protobuf, not a crash', async () => {
  const res = await post(`${t.httpUrl}/v1/metrics`, json.metrics(metricsRequest(['a'])), PROTOBUF);
  assert.is(res.status, 400);
  await res.arrayBuffer();
  // Still serving.
  const ok = await post(`${t.httpUrl}/v1/metrics`, bin.metrics(metricsRequest(['a'])), PROTOBUF);
  assert.is(ok.status, 200);
});

bad('gRPC: RESOURCE_EXHAUSTED over the limit, plain and gzip (connect readMaxBytes)', async () => {
  const big = bin.metrics(metricsRequest(['a'], 10_000));
  assert.ok(big.length > MAX);
  for (const gzip of [false, true]) {
    const r = await grpcCall(t.grpcUrl, 'metrics', big, {}, gzip);
    assert.is(r.ok, false);
    if (!r.ok) assert.is(r.error.code, Code.ResourceExhausted);
  }
  assert.equal(reasons(), ['too_large', 'too_large']);
  assert.is(t.seen.refused[0]!.status, Code.ResourceExhausted);
});

bad('gRPC: INVALID_ARGUMENT with the scanner message', async () => {
  const r = await grpcCall(t.grpcUrl, 'logs', new Uint8Array([0x0a, 0x02, 0x12, 0x09]));
  assert.is(r.ok, false);
  if (!r.ok) {
    assert.is(r.error.code, Code.InvalidArgument);
    assert.match(r.error.rawMessage, 'resource_logs[0]');
  }
  assert.equal(reasons(), ['malformed']);
});

bad('gRPC: an unknown method is 404 / UNIMPLEMENTED and counted', async () => {
  const session = http2.connect(t.grpcUrl);
  session.on('error', () => undefined);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export',
        'content-type': 'application/grpc',
      });
      req.setTimeout(3000, () => reject(new Error('timeout')));
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.end();
      req.resume();
    });
    assert.is(status, 404);
  } finally {
    session.close();
  }
  assert.equal(reasons(), ['not_found']);
});

const pressure = suite('gateway/limits: backpressure');

pressure('429 + Retry-After / RESOURCE_EXHAUSTED + RetryInfo past the queue limit, accepting again once drained', async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const upstream = await startReceiver({ grpc: false, respond: () => gate.then(() => ({ kind: 'ok' as const })) });
  const gw = await startTestGateway({
    upstreams: { slow: { endpoint: upstream.httpUrl, maxConcurrency: 1 } },
    limits: { maxQueuedBytes: 1000, retryAfter: '2s' },
  });
  try {
    const body = bin.metrics(metricsRequest(['a'], 25));
    assert.ok(body.length > 500 && body.length < 1000, `body of ${body.length} bytes`);
    // One in flight (not queued), then the queue grows past 1000 bytes.
    let accepted = 0;
    let refused: Response | undefined;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const res = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
      if (res.status === 200) {
        accepted++;
        await res.arrayBuffer();
      } else refused = res;
    }
    assert.ok(refused !== undefined, 'refused before 10 requests');
    assert.is(accepted, 3, 'one in flight, two queued (the second passes the limit)');
    assert.is(refused.status, 429);
    assert.is(refused.headers.get('retry-after'), '2');
    const status = await protoStatus(refused);
    assert.is(status.code, Code.ResourceExhausted);
    assert.is(retryDelayMs(status), 2000);
    const jsonRefusal = await post(`${gw.httpUrl}/v1/metrics`, json.metrics(metricsRequest(['a'])), JSON_TYPE);
    assert.is(jsonRefusal.status, 429);
    assert.is(retryDelayMs(await jsonStatus(jsonRefusal)), 2000);

    const g = await grpcCall(gw.grpcUrl, 'metrics', body);
    assert.is(g.ok, false);
    if (!g.ok) {
      assert.is(g.error.code, Code.ResourceExhausted);
      const info = g.error.findDetails(RetryInfoSchema)[0];
      assert.is(Number(info?.retryDelay?.seconds), 2);
    }
    assert.equal(
      gw.seen.refused.map((r) => r.reason),
      ['backpressure', 'backpressure', 'backpressure'],
    );

    open();
    await eventually(() => gw.gw.queuedBytes() === 0, 3000, 'the queue to drain');
    const again = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
    assert.is(again.status, 200);
    await again.arrayBuffer();
    // The two queued behind the stalled one may go out merged into one request: count resource entries.
    const entriesUpstream = (): number =>
      upstream.requests.reduce((n, r) => n + (r.message as { resourceMetrics: unknown[] }).resourceMetrics.length, 0);
    await eventually(() => entriesUpstream() === 4, 3000, 'all four accepted requests upstream');
  } finally {
    open();
    await gw.close();
    await upstream.close();
  }
});

pressure('/healthz: 200 while serving, 503 while draining; data refused with 503 / UNAVAILABLE during the drain', async () => {
  const upstream = await startReceiver({ grpc: false, respond: () => ({ kind: 'stall' }) });
  const gw = await startTestGateway({ upstreams: { stalled: { endpoint: upstream.httpUrl } } });
  try {
    const ok = await post(`${gw.httpUrl}/healthz`, '', {}, 'GET');
    assert.is(ok.status, 200);
    assert.is(await ok.text(), 'ok\n');
    const posted = await post(`${gw.httpUrl}/healthz`, 'x', {});
    assert.is(posted.status, 405);
    await posted.arrayBuffer();
    assert.is((await post(`${gw.httpUrl}/v1/metrics`, bin.metrics(metricsRequest(['a'])), PROTOBUF)).status, 200);
    const stopping = gw.gw.shutdown(600);
    const health = await post(`${gw.httpUrl}/healthz`, '', {}, 'GET');
    assert.is(health.status, 503);
    assert.is(await health.text(), 'draining\n');
    const refused = await post(`${gw.httpUrl}/v1/metrics`, bin.metrics(metricsRequest(['a'])), PROTOBUF);
    assert.is(refused.status, 503);
    assert.is((await protoStatus(refused)).code, Code.Unavailable);
    const g = await grpcCall(gw.grpcUrl, 'metrics', bin.metrics(metricsRequest(['a'])));
    assert.is(g.ok, false);
    if (!g.ok) assert.is(g.error.code, Code.Unavailable);
    const report = await stopping;
    assert.is(report.drained, false);
    assert.equal(report.upstreams, [{ name: 'stalled', undeliveredRequests: 1, undeliveredItems: 1 }]);
    assert.equal(
      gw.seen.refused.map((r) => r.reason).filter((r) => r === 'draining'),
      ['draining', 'draining'],
    );
  } finally {
    await gw.close();
    await upstream.close();
  }
});

const fuzz = suite('gateway/limits: fuzz');

/** A valid request with a few random bytes changed, a cut, or a splice of itself. */
function mutate(valid: Uint8Array, random: () => number): Uint8Array {
  const out = Uint8Array.from(valid);
  const kind = Math.floor(random() * 3);
  if (kind === 0) {
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(random() * out.length));
  const at = Math.floor(random() * out.length);
  return Uint8Array.from([...out.subarray(0, at), ...out.subarray(Math.floor(random() * out.length))]);
}

/** One unary gRPC call with an arbitrary payload in an uncompressed frame; resolves with grpc-status. */
function grpcRaw(session: http2.ClientHttp2Session, path: string, payload: Uint8Array): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    req.setTimeout(3000, () => reject(new Error('timeout')));
    let status: string | undefined;
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    });
    req.on('trailers', (h) => {
      status = String(h['grpc-status']);
    });
    req.on('end', () => resolve(status ?? 'none'));
    req.on('error', reject);
    req.resume();
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt32BE(payload.length, 1);
    frame.set(payload, 5);
    req.end(frame);
  });
}

fuzz('mutated protobuf bodies get 200 or 400 (never a crash, never a 500), over HTTP and gRPC', async () => {
  const pb = await startReceiver({ grpc: false });
  const js = await startReceiver({ grpc: false });
  // A JSON upstream makes the gateway decode every accepted body fully, the strictest path.
  const gw = await startTestGateway({ upstreams: { pb: { endpoint: pb.httpUrl }, js: { endpoint: `${js.httpUrl}?encoding=json` } } });
  const random = prng(0x5eed);
  const valid = [bin.metrics(metricsRequest(['a', 'b'], 3, { 'k8s.pod': 'p' })), bin.logs(logsRequest(['x'])), bin.traces(tracesRequest(['y', 'z']))];
  const signals = ['metrics', 'logs', 'traces'] as const;
  try {
    const seen = new Set<number>();
    for (let i = 0; i < 150; i++) {
      const which = i % 3;
      const body = mutate(valid[which]!, random);
      const res = await post(`${gw.httpUrl}/v1/${signals[which]}`, body, PROTOBUF);
      seen.add(res.status);
      assert.ok(res.status === 200 || res.status === 400, `case ${i}: HTTP ${res.status}`);
      await res.arrayBuffer();
    }
    assert.equal([...seen].sort(), [200, 400], 'both outcomes occur');
    const services = ['metrics.v1.MetricsService', 'logs.v1.LogsService', 'trace.v1.TraceService'];
    const session = http2.connect(gw.grpcUrl);
    session.on('error', () => undefined);
    try {
      const codes = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const which = i % 3;
        const status = await grpcRaw(session, `/opentelemetry.proto.collector.${services[which]}/Export`, mutate(valid[which]!, random));
        codes.add(status);
        assert.ok(status === '0' || status === String(Code.InvalidArgument), `gRPC case ${i}: grpc-status ${status}`);
      }
      assert.equal([...codes].sort(), ['0', String(Code.InvalidArgument)]);
    } finally {
      session.close();
    }
    assert.ok(gw.seen.refused.every((r) => r.reason === 'malformed'));
    assert.is((await post(`${gw.httpUrl}/healthz`, '', {}, 'GET')).status, 200);
  } finally {
    await gw.close();
    await Promise.all([pb.close(), js.close()]);
  }
});

bad.run();
pressure('a healthy upstream whose queue is full pushes back (429 / RESOURCE_EXHAUSTED) instead of dropping', async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const upstream = await startReceiver({ grpc: false, respond: () => gate.then(() => ({ kind: 'ok' as const })) });
  const gw = await startTestGateway({
    upstreams: { slow: { endpoint: upstream.httpUrl, maxConcurrency: 1, queue: { maxBytes: '1MiB', maxRequests: 2 } } },
    limits: { retryAfter: '3s', maxRequestBytes: '1MiB' },
  });
  try {
    const body = bin.metrics(metricsRequest(['a'], 5));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
      statuses.push(res.status);
      if (res.status === 429) assert.is(res.headers.get('retry-after'), '3');
      await res.arrayBuffer();
    }
    assert.equal(statuses, [200, 200, 200, 429], 'one in flight, two queued, the fourth would not fit');
    const g = await grpcCall(gw.grpcUrl, 'metrics', body);
    assert.is(g.ok, false);
    if (!g.ok) {
      assert.is(g.error.code, Code.ResourceExhausted);
      assert.is(Number(g.error.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds), 3);
    }
    const backend = gw.gw.upstreams[0]!.backend;
    assert.is(backend.stats().itemsDropped, 0, 'nothing dropped');
    assert.equal(
      gw.seen.refused.map((r) => r.reason),
      ['backpressure', 'backpressure'],
    );

    open();
    await eventually(() => gw.gw.queuedBytes() === 0, 3000, 'the queue to drain');
    const again = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
    assert.is(again.status, 200);
    await again.arrayBuffer();
    const entries = (): number => upstream.requests.reduce((n, r) => n + (r.message as { resourceMetrics: unknown[] }).resourceMetrics.length, 0);
    await eventually(() => entries() === 4, 3000, 'the four accepted requests upstream');
    assert.is(backend.stats().itemsSent, 4 * 5);
  } finally {
    open();
    await gw.close();
    await upstream.close();
  }
});

pressure('an upstream in an outage drops its own oldest data; clients and the healthy upstream carry on', async () => {
  const dead = await startReceiver({ grpc: false, respond: () => ({ kind: 'error', httpStatus: 503, message: 'down' }) });
  const healthy = await startReceiver({ grpc: false });
  const gw = await startTestGateway({
    upstreams: {
      dead: {
        endpoint: dead.httpUrl,
        maxConcurrency: 1,
        queue: { maxBytes: '1MiB', maxRequests: 2 },
        retry: { initialBackoff: '10s', maxElapsed: '1m' },
      },
      healthy: { endpoint: healthy.httpUrl },
    },
    limits: { maxRequestBytes: '1MiB' },
  });
  try {
    const body = bin.metrics(metricsRequest(['a'], 1));
    const first = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
    assert.is(first.status, 200);
    await first.arrayBuffer();
    const deadBackend = gw.gw.upstreams.find((u) => u.name === 'dead')!.backend;
    await eventually(() => deadBackend.failing, 3000, 'the dead upstream to fail once');
    for (let i = 0; i < 6; i++) {
      const res = await post(`${gw.httpUrl}/v1/metrics`, body, PROTOBUF);
      assert.is(res.status, 200, `request ${i + 2} accepted`);
      await res.arrayBuffer();
    }
    const entries = (): number => healthy.requests.reduce((n, r) => n + (r.message as { resourceMetrics: unknown[] }).resourceMetrics.length, 0);
    await eventually(() => entries() === 7, 3000, 'all seven at the healthy upstream');
    assert.is(deadBackend.stats().itemsDropped, 4, 'six queued behind the failing one, two kept');
    assert.equal(gw.seen.refused, []);
  } finally {
    await gw.close();
    await Promise.all([dead.close(), healthy.close()]);
  }
});

pressure.run();
fuzz.run();
