import type { Signal } from '../otlp/types.js';
import type { TransportError } from './errors.js';

/** Wire encoding of a request body. */
export type Encoding = 'protobuf' | 'json';

/**
 * What became of one export call. A remote failure is a value, never an exception.
 * - `ok`: the server took everything.
 * - `partial`: the server took the request but rejected `rejected` items (OTLP partial
 *   success); never retried. `rejected` may be 0 with a warning `message`.
 * - `failed`: nothing was taken. `retryable` follows the OTLP rules in `retryable.ts`;
 *   `retryAfterMs` is the server's own delay (Retry-After, RetryInfo) when it gave one.
 */
export type ExportResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'partial'; readonly rejected: number; readonly message: string }
  | {
      readonly kind: 'failed';
      readonly retryable: boolean;
      readonly retryAfterMs?: number;
      readonly error: TransportError;
    };

/** Per-call options. */
export interface ExportCallOptions {
  /** Absolute deadline in `Date.now()` milliseconds; the call fails (retryable) past it. */
  readonly deadline?: number;
  /** Aborts the call; the result is then `failed` with code `aborted`. */
  readonly signal?: AbortSignal;
}

/**
 * The one contract between the exporter/gateway and the network.
 * `body` is an already encoded `Export<Signal>ServiceRequest` in `encoding`; the same
 * immutable bytes may be shared by several transports and retries, so a transport
 * never writes to them.
 */
export interface Transport {
  readonly encoding: Encoding;
  export(signal: Signal, body: Uint8Array, options?: ExportCallOptions): Promise<ExportResult>;
  /** Lets in-flight calls finish, then releases connections. */
  close(): Promise<void>;
}
