import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Code } from '@connectrpc/connect';
import {
  durationToMillis,
  grpcFailure,
  httpFailure,
  parseRetryAfter,
  RETRYABLE_GRPC_CODES,
  RETRYABLE_HTTP_STATUSES,
} from '../../src/transport/retryable.js';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

const grpc = suite('transport/retryable gRPC');

grpc('the OTLP/gRPC table, code by code', () => {
  // [code, retryable without RetryInfo, our error code]
  const table: Array<[Code, boolean, string]> = [
    [Code.Canceled, true, 'unavailable'],
    [Code.Unknown, false, 'rejected'],
    [Code.InvalidArgument, false, 'rejected'],
    [Code.DeadlineExceeded, true, 'deadline_exceeded'],
    [Code.NotFound, false, 'rejected'],
    [Code.AlreadyExists, false, 'rejected'],
    [Code.PermissionDenied, false, 'rejected'],
    [Code.Unauthenticated, false, 'rejected'],
    [Code.ResourceExhausted, false, 'throttled'],
    [Code.FailedPrecondition, false, 'rejected'],
    [Code.Aborted, true, 'unavailable'],
    [Code.OutOfRange, true, 'unavailable'],
    [Code.Unimplemented, false, 'rejected'],
    [Code.Internal, false, 'rejected'],
    [Code.Unavailable, true, 'unavailable'],
    [Code.DataLoss, true, 'unavailable'],
  ];
  assert.is(table.length, 16);
  for (const [code, retryable, ours] of table) {
    const r = grpcFailure(code, 'm', undefined);
    assert.is(r.retryable, retryable, `code ${code}`);
    assert.is(r.error.code, ours, `code ${code}`);
    assert.is(r.error.status, code);
    assert.is(r.retryAfterMs, undefined);
    assert.is(RETRYABLE_GRPC_CODES.has(code), retryable && code !== Code.ResourceExhausted, `set for ${code}`);
  }
});

grpc('RetryInfo makes RESOURCE_EXHAUSTED retryable and sets the delay on retryable codes only', () => {
  const a = grpcFailure(Code.ResourceExhausted, 'm', 1500);
  assert.is(a.retryable, true);
  assert.is(a.retryAfterMs, 1500);
  assert.is(grpcFailure(Code.Unavailable, 'm', 0).retryAfterMs, 0);
  assert.is(grpcFailure(Code.InvalidArgument, 'm', 1000).retryAfterMs, undefined);
  assert.is(grpcFailure(Code.InvalidArgument, 'm', 1000).retryable, false);
});

grpc('durations round nanoseconds up to whole milliseconds', () => {
  assert.is(durationToMillis(0n, 0), 0);
  assert.is(durationToMillis(1n, 500_000_000), 1500);
  assert.is(durationToMillis(0n, 1), 1);
  assert.is(durationToMillis(-5n, 0), 0);
});

grpc.run();

const http = suite('transport/retryable HTTP');

http('429, 502, 503, 504 retryable; every other 4xx/5xx not', () => {
  for (let status = 400; status < 600; status++) {
    const r = httpFailure(status, 'm', undefined, NOW);
    const want = status === 429 || status === 502 || status === 503 || status === 504;
    assert.is(r.retryable, want, `status ${status}`);
    assert.is(RETRYABLE_HTTP_STATUSES.has(status), want);
    assert.is(r.error.code, status === 429 ? 'throttled' : want ? 'unavailable' : 'rejected');
    assert.is(r.error.status, status);
  }
});

http('Retry-After is honoured on retryable statuses only', () => {
  assert.is(httpFailure(503, 'm', '3', NOW).retryAfterMs, 3000);
  assert.is(httpFailure(429, 'm', '0', NOW).retryAfterMs, 0);
  assert.is(httpFailure(400, 'm', '3', NOW).retryAfterMs, undefined);
  assert.ok(!('retryAfterMs' in httpFailure(503, 'm', undefined, NOW)));
});

http('parseRetryAfter: delta-seconds, HTTP-date, junk', () => {
  const table: Array<[string | undefined, number | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['120', 120_000],
    [' 5 ', 5000],
    ['1.5', undefined],
    ['-1', undefined],
    ['soon', undefined],
    ['Wed, 01 Jan 2025 12:00:30 GMT', 30_000],
    ['Wednesday, 01-Jan-25 12:01:00 GMT', 60_000],
    ['Wed, 01 Jan 2025 11:00:00 GMT', 0],
    ['99999999999999999999', undefined],
  ];
  for (const [value, want] of table) assert.is(parseRetryAfter(value, NOW), want, String(value));
});

http.run();
