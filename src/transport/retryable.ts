/**
 * Every OTLP retry rule, in one place. References are to the OTLP specification
 * (opentelemetry-proto docs/specification.md, "OTLP/gRPC Response > Failures",
 * "OTLP/gRPC Throttling", "OTLP/HTTP Response > Retryable Response Codes",
 * "OTLP/HTTP Throttling", "All Other Responses", "OTLP/HTTP Connection").
 * Transports decide *whether* a failure may be retried and *how long the server asked
 * to wait*; the export layer decides when (backoff, jitter, caps).
 */
import { GrpcCode } from './grpc-codes.js';
import type { ExportResult } from './types.js';
import { TransportError } from './errors.js';
import type { TransportErrorCode } from './errors.js';

/** The `failed` member of {@link ExportResult}. */
export type FailedResult = Extract<ExportResult, { kind: 'failed' }>;

/** Builds a `failed` result; `retryAfterMs` is only kept for a retryable failure. */
export function failed(
  code: TransportErrorCode,
  message: string,
  retryable: boolean,
  extra?: { status?: number; retryAfterMs?: number | undefined; cause?: unknown },
): FailedResult {
  const error = new TransportError(code, message, extra?.status, extra?.cause === undefined ? undefined : { cause: extra.cause });
  return retryable && extra?.retryAfterMs !== undefined
    ? { kind: 'failed', retryable, retryAfterMs: extra.retryAfterMs, error }
    : { kind: 'failed', retryable, error };
}

// ---- OTLP/gRPC ------------------------------------------------------------------

/**
 * gRPC codes the client SHOULD retry (spec table "OTLP/gRPC Response > Failures"):
 * CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS.
 * RESOURCE_EXHAUSTED is retryable only with RetryInfo (see {@link grpcFailure}).
 * All other codes (UNKNOWN, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
 * PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION, UNIMPLEMENTED, INTERNAL) are not.
 */
export const RETRYABLE_GRPC_CODES: ReadonlySet<number> = new Set([
  GrpcCode.Canceled,
  GrpcCode.DeadlineExceeded,
  GrpcCode.Aborted,
  GrpcCode.OutOfRange,
  GrpcCode.Unavailable,
  GrpcCode.DataLoss,
]);

/**
 * The result for a gRPC status sent by the server. `retryDelayMs` is the
 * google.rpc.RetryInfo delay when the status carried one.
 * - RESOURCE_EXHAUSTED: retryable only when RetryInfo is present, "signalling that
 *   recovery from resource exhaustion is possible" (spec); code `throttled`.
 * - A RetryInfo delay is honoured for every retryable code ("OTLP/gRPC Throttling":
 *   UNAVAILABLE with RetryInfo is the recommended backpressure signal).
 */
export function grpcFailure(code: number, message: string, retryDelayMs: number | undefined, cause?: unknown): FailedResult {
  if (code === GrpcCode.ResourceExhausted) {
    return failed('throttled', message, retryDelayMs !== undefined, { status: code, retryAfterMs: retryDelayMs, cause });
  }
  const retryable = RETRYABLE_GRPC_CODES.has(code);
  const ours: TransportErrorCode = code === GrpcCode.DeadlineExceeded ? 'deadline_exceeded' : retryable ? 'unavailable' : 'rejected';
  return failed(ours, message, retryable, { status: code, retryAfterMs: retryDelayMs, cause });
}

/** google.protobuf.Duration → milliseconds (rounded up, so a 1 ns delay still waits). */
export function durationToMillis(seconds: bigint, nanos: number): number {
  const ms = Number(seconds) * 1000 + Math.ceil(nanos / 1e6);
  return Math.max(0, ms);
}

// ---- OTLP/HTTP --------------------------------------------------------------------

/**
 * HTTP statuses the client SHOULD retry ("Retryable Response Codes"): 429, 502, 503, 504.
 * "All other 4xx or 5xx response status codes MUST NOT be retried" — 400 (bad data) and
 * 413 (too large) by name.
 */
export const RETRYABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * The result for a non-2xx HTTP response. `retryAfter` is the raw Retry-After header;
 * it is honoured on retryable statuses ("OTLP/HTTP Throttling": the client SHOULD
 * honour it; without it, exponential backoff).
 */
export function httpFailure(status: number, message: string, retryAfter: string | undefined, nowMs: number): FailedResult {
  const retryable = RETRYABLE_HTTP_STATUSES.has(status);
  const code: TransportErrorCode = status === 429 ? 'throttled' : retryable ? 'unavailable' : 'rejected';
  const retryAfterMs = retryable ? parseRetryAfter(retryAfter, nowMs) : undefined;
  return failed(code, message, retryable, { status, retryAfterMs });
}

/**
 * Parses Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date. Returns
 * milliseconds from `nowMs` (0 for a date in the past), or undefined when absent or
 * malformed, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  // An HTTP-date names a weekday and a month; requiring a letter rejects bare numbers such as "1.5".
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

// ---- Prometheus remote write ------------------------------------------------------

/**
 * The result for a non-2xx answer to a remote write (Prometheus remote write 1.0 spec, "Retries &
 * Backoff"): 5xx MUST be retried and 429 MAY be (we do: it is how Mimir and Cortex push back), with
 * Retry-After honoured; every other 4xx MUST NOT be retried (the data itself was refused: out of
 * order, too old, a bad label set).
 */
export function remoteWriteFailure(status: number, message: string, retryAfter: string | undefined, nowMs: number): FailedResult {
  const retryable = status >= 500 || status === 429;
  const code: TransportErrorCode = status === 429 ? 'throttled' : retryable ? 'unavailable' : 'rejected';
  return failed(code, message, retryable, { status, retryAfterMs: retryable ? parseRetryAfter(retryAfter, nowMs) : undefined });
}
