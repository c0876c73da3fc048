import { ConfigProblemError, showValue } from '../internal/config-problem.js';

/**
 * The one error class transports report. `code` is a closed set so callers can
 * branch on it; `message` keeps the server's own words where it sent any.
 */
export type TransportErrorCode =
  | 'unavailable' // connection refused/reset, DNS, TLS handshake, 502/503/504, UNAVAILABLE
  | 'deadline_exceeded'
  | 'aborted' // the caller's AbortSignal
  | 'rejected' // the server refused the request (4xx, non-retryable gRPC code)
  | 'throttled' // 429 / RESOURCE_EXHAUSTED
  | 'too_large' // request over the configured maximum, never sent
  | 'bad_response' // the response could not be read (oversize, undecodable)
  | 'internal'; // a bug or an unexpected platform failure

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    /** HTTP status or gRPC status code when the server answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A transport option that cannot be used. Thrown once, when the transport is
 * created (a configuration mistake, not a remote failure); `field` names the
 * option (`tls.cert`, `headers.Content-Type`), `value` is what was given, `allowed`
 * what is allowed (internal/config-problem.ts): callers that report it elsewhere (the
 * gateway's config, at its own path) read these fields, not the message.
 */
export class TransportOptionError extends ConfigProblemError {
  override readonly name = 'TransportOptionError';
  constructor(field: string, value: unknown, allowed: string) {
    super(field, value, allowed, `invalid transport option ${field} = ${showValue(value)}: ${allowed}`);
  }
}
