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
