import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { RetryInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { ExportLogsServiceResponseSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceResponseSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceResponseSchema } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { readPartialSuccess } from '../../src/otlp/signal-schemas.js';
import { gunzipBounded, gzipBody } from '../../src/transport/compression.js';
import { failureFromConnectError, failureFromError, failureFromNodeError } from '../../src/transport/error-mapping.js';
import type { CallEnd } from '../../src/transport/error-mapping.js';

const running: CallEnd = { callerAborted: false, deadlineExpired: false, timeoutMs: 1000 };

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

const platform = suite('transport/error-mapping platform errors');

platform('step table: code → (our code, retryable)', () => {
  const table: Array<[unknown, string, boolean]> = [
    [nodeError('ECONNREFUSED'), 'unavailable', true],
    [nodeError('ECONNRESET'), 'unavailable', true],
    [nodeError('EPIPE'), 'unavailable', true],
    [nodeError('ENOTFOUND'), 'unavailable', true],
    [nodeError('EAI_AGAIN'), 'unavailable', true],
    [nodeError('UND_ERR_SOCKET', 'other side closed'), 'unavailable', true],
    [new Error('socket hang up'), 'unavailable', true],
    [nodeError('ETIMEDOUT'), 'deadline_exceeded', true],
    [nodeError('UND_ERR_HEADERS_TIMEOUT'), 'deadline_exceeded', true],
    [nodeError('UND_ERR_CONNECT_TIMEOUT'), 'deadline_exceeded', true],
    [nodeError('DEPTH_ZERO_SELF_SIGNED_CERT'), 'unavailable', false],
    [nodeError('ERR_TLS_CERT_ALTNAME_INVALID'), 'unavailable', false],
    [nodeError('CERT_HAS_EXPIRED'), 'unavailable', false],
    [nodeError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'unavailable', false],
    // The code is found anywhere in the cause chain.
    [new Error('fetch failed', { cause: nodeError('ECONNREFUSED') }), 'unavailable', true],
    [new AggregateError([nodeError('ECONNREFUSED')], 'all addresses failed'), 'unavailable', true],
    [new TypeError('x is not a function'), 'internal', false],
    ['a string', 'internal', false],
  ];
  for (const [err, code, retryable] of table) {
    const r = failureFromError(err, running);
    assert.is(r.error.code, code, String(err));
    assert.is(r.retryable, retryable, String(err));
    assert.is(r.error.cause, err);
  }
  assert.is(failureFromNodeError(new TypeError('bug'), running), undefined);
});

platform('the caller abort and our deadline win over whatever error they caused', () => {
  const err = nodeError('UND_ERR_ABORTED', 'aborted');
  const a = failureFromError(err, { ...running, callerAborted: true });
  assert.is(a.error.code, 'aborted');
  assert.is(a.retryable, false);
  const d = failureFromError(err, { ...running, deadlineExpired: true, timeoutMs: 250 });
  assert.is(d.error.code, 'deadline_exceeded');
  assert.is(d.retryable, true);
  assert.ok(d.error.message.includes('250 ms'));
});

platform('a cause cycle does not loop', () => {
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  (a as { cause?: unknown }).cause = b;
  assert.is(failureFromError(a, running).error.code, 'internal');
});

platform.run();

const connect = suite('transport/error-mapping ConnectError');

connect('server statuses use the OTLP table and keep the message', () => {
  const r = failureFromConnectError(new ConnectError('bad batch', Code.InvalidArgument), running);
  assert.is(r.error.code, 'rejected');
  assert.is(r.retryable, false);
  assert.is(r.error.message, 'INVALID_ARGUMENT: bad batch');
  assert.is(r.error.status, Code.InvalidArgument);
});

connect('RetryInfo is read from the details', () => {
  const err = new ConnectError('busy', Code.ResourceExhausted, undefined, [
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: { seconds: 0n, nanos: 250_000_000 } }) },
  ]);
  // Outgoing details become incoming ones once they cross the wire; findDetails reads both.
  const r = failureFromConnectError(err, running);
  assert.is(r.retryable, true);
  assert.is(r.retryAfterMs, 250);
  assert.is(r.error.code, 'throttled');
});

connect('socket causes under connect map by the platform rules', () => {
  const err = new ConnectError('connect failed', Code.Internal, undefined, undefined, nodeError('DEPTH_ZERO_SELF_SIGNED_CERT'));
  const r = failureFromConnectError(err, running);
  assert.is(r.error.code, 'unavailable');
  assert.is(r.retryable, false);
  const reset = new ConnectError('reset', Code.Aborted, undefined, undefined, nodeError('ECONNRESET'));
  assert.is(failureFromConnectError(reset, running).retryable, true);
});

connect('our readMaxBytes limit is bad_response, not throttling', () => {
  const err = new ConnectError('message size 5000 is larger than configured readMaxBytes 1024', Code.ResourceExhausted);
  const r = failureFromConnectError(err, running);
  assert.is(r.error.code, 'bad_response');
  assert.is(r.retryable, false);
});

connect('caller abort over Canceled', () => {
  const r = failureFromConnectError(new ConnectError('canceled', Code.Canceled), { ...running, callerAborted: true });
  assert.is(r.error.code, 'aborted');
  assert.is(r.retryable, false);
});

connect.run();

const partial = suite('otlp/partial-success');

partial('reads each signal and treats an all-default value as full success', () => {
  assert.equal(readPartialSuccess(create(ExportMetricsServiceResponseSchema, { partialSuccess: { rejectedDataPoints: 4n, errorMessage: 'm' } })), {
    rejected: 4,
    message: 'm',
  });
  assert.equal(readPartialSuccess(create(ExportLogsServiceResponseSchema, { partialSuccess: { rejectedLogRecords: 1n } })), {
    rejected: 1,
    message: '',
  });
  assert.equal(readPartialSuccess(create(ExportTraceServiceResponseSchema, { partialSuccess: { errorMessage: 'warning only' } })), {
    rejected: 0,
    message: 'warning only',
  });
  assert.is(readPartialSuccess(create(ExportTraceServiceResponseSchema, { partialSuccess: {} })), undefined);
  assert.is(readPartialSuccess(create(ExportTraceServiceResponseSchema)), undefined);
  assert.equal(readPartialSuccess(create(ExportMetricsServiceResponseSchema, { partialSuccess: { rejectedDataPoints: -3n, errorMessage: 'x' } })), {
    rejected: 0,
    message: 'x',
  });
});

partial.run();

const compression = suite('transport/compression');

compression('gzipBody compresses once per body object', async () => {
  const body = new TextEncoder().encode('otlp '.repeat(1000));
  const a = gzipBody(body);
  const b = gzipBody(body);
  assert.is(a, b);
  const other = gzipBody(new TextEncoder().encode('otlp '.repeat(1000)));
  assert.is.not(other, a);
  const gz = await a;
  assert.ok(gz.length < body.length / 10);
  assert.equal(await gunzipBounded(gz, body.length), body);
});

compression('gunzipBounded stops at the limit and rejects non-gzip', async () => {
  const gz = await gzipBody(new Uint8Array(1 << 20));
  assert.is(await gunzipBounded(gz, 1000), undefined);
  let threw = false;
  try {
    await gunzipBounded(Uint8Array.from([1, 2, 3]), 1000);
  } catch {
    threw = true;
  }
  assert.ok(threw);
});

compression.run();
