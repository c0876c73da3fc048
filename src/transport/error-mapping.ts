/**
 * Platform errors (Node sockets, TLS, undici, connect-es) → `failed` results.
 * Each rule gives its reason; the retry rules themselves live in retryable.ts.
 */
import { GrpcCode, GRPC_CODE_NAMES } from './grpc-codes.js';
import type { ConnectError } from '@connectrpc/connect';
import { RetryInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { durationToMillis, failed, grpcFailure } from './retryable.js';
import type { FailedResult } from './retryable.js';

/** What the transport itself knows about why a call ended. */
export interface CallEnd {
  /** The caller's AbortSignal fired. */
  readonly callerAborted: boolean;
  /** The call's own deadline (timeoutMillis or the per-call deadline) passed. */
  readonly deadlineExpired: boolean;
  /** The effective timeout of the call, for the message. */
  readonly timeoutMs: number;
}

// Certificate problems repeat identically on every attempt: retrying only delays the report.
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
// The peer rejected our certificate (or its absence) during the handshake: as permanent as the above.
const TLS_ALERT = /^ERR_SSL_.*(CERTIFICATE|UNKNOWN_CA|ACCESS_DENIED)/;

// Timeouts inside undici/Node: the server did not answer in time, which OTLP retries like DEADLINE_EXCEEDED.
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

// Could not connect, or the server went away without an answer: "the client SHOULD retry"
// ("OTLP/HTTP Connection", "All Other Responses"), and UNAVAILABLE is retryable for gRPC.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Maps an error thrown while calling the server (HTTP transport, or under connect-es).
 * Returns undefined when no rule matches, so a caller with more context can decide.
 */
export function failureFromNodeError(err: unknown, end: CallEnd): FailedResult | undefined {
  // The caller gave up: retrying would defeat the cancellation.
  if (end.callerAborted) return failed('aborted', 'the export was aborted by the caller', false, { cause: err });
  // Our deadline: the server may simply be slow, and DEADLINE_EXCEEDED is retryable in OTLP.
  if (end.deadlineExpired) {
    return failed('deadline_exceeded', `no response within ${end.timeoutMs} ms`, true, { cause: err });
  }
  for (const e of causeChain(err)) {
    const code = errorCode(e);
    const text = e instanceof Error ? e.message : String(e);
    if (code !== undefined) {
      if (TLS_VERIFY_CODES.has(code) || TLS_ALERT.test(code)) {
        return failed('unavailable', `TLS failure (${code}): ${text}`, false, { cause: err });
      }
      if (TIMEOUT_CODES.has(code)) return failed('deadline_exceeded', `${code}: ${text}`, true, { cause: err });
      if (NETWORK_CODES.has(code)) return failed('unavailable', `${code}: ${text}`, true, { cause: err });
    }
    // node:http without a code: the server closed the socket before answering.
    if (text === 'socket hang up' || text === 'other side closed') {
      return failed('unavailable', text, true, { cause: err });
    }
  }
  return undefined;
}

/** Like {@link failureFromNodeError}, but always returns: unknown errors are `internal`, not retried (a bug must not loop). */
export function failureFromError(err: unknown, end: CallEnd): FailedResult {
  return (
    failureFromNodeError(err, end) ??
    failed('internal', `unexpected failure: ${err instanceof Error ? err.message : String(err)}`, false, { cause: err })
  );
}

/**
 * Maps a ConnectError from an OTLP/gRPC call.
 * - Caller abort, our deadline and socket/TLS causes: the platform rules above, since
 *   connect-es reports those with codes (Canceled, Internal, Aborted) that would
 *   otherwise read as server statuses.
 * - Over `readMaxBytes`: connect-es raises RESOURCE_EXHAUSTED locally; it is our limit,
 *   not server throttling, so `bad_response`, not retryable.
 * - Anything else is the server's status: the OTLP/gRPC table, with RetryInfo.
 */
export function failureFromConnectError(err: ConnectError, end: CallEnd): FailedResult {
  const platform = failureFromNodeError(err.cause, end);
  if (platform !== undefined) return platform;
  if (end.callerAborted || end.deadlineExpired) return failureFromError(err, end);
  if (err.code === GrpcCode.ResourceExhausted && err.rawMessage.includes('readMaxBytes')) {
    return failed('bad_response', `response too large: ${err.rawMessage}`, false, { cause: err });
  }
  let retryDelayMs: number | undefined;
  try {
    const info = err.findDetails(RetryInfoSchema)[0];
    if (info !== undefined) {
      const d = info.retryDelay;
      retryDelayMs = d === undefined ? 0 : durationToMillis(d.seconds, d.nanos);
    }
  } catch {
    // Undecodable details: treat as absent.
  }
  return grpcFailure(err.code, `${GRPC_CODE_NAMES[err.code] ?? `code ${err.code}`}: ${err.rawMessage}`, retryDelayMs, err);
}

function* causeChain(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let e = err;
  // Bounded: a cause cycle or a very deep chain stops the walk.
  for (let depth = 0; depth < 8 && e !== undefined && e !== null && !seen.has(e); depth++) {
    seen.add(e);
    yield e;
    if (e instanceof AggregateError) for (const inner of e.errors) yield inner;
    e = e instanceof Error ? e.cause : undefined;
  }
}

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
