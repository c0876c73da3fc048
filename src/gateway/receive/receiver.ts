/**
 * The receiver contract: what every receiver (gRPC, HTTP, and any added later) is given and
 * what it must do. A new receiver is one file in this folder implementing {@link StartReceiver},
 * started by the composition root (src/gateway/gateway.ts).
 *
 * Given ({@link ReceiverOptions}): its listen address and TLS; the request size limit; the
 * current pipeline (`pipeline.current`, read once per request when it arrives, so a request
 * authenticates and is routed by the same pipeline, and a pipeline swap takes effect from
 * the next request without touching the receiver); the guarded observer.
 *
 * Must: authenticate with the pipeline's authenticator, ask `ingest.admit()` before reading
 * a body (and `maxRequestBytes` while reading it), hand the body to `ingest.ingest()`, and
 * answer in its protocol. Every refusal is reported to `observer.onRefused` with its reason
 * from the closed set (refusal-status.ts maps each to the HTTP status and gRPC code); accepted
 * requests are reported by the ingest. It reports its bound address (the real port when 0 was
 * asked) and closes with `close()`.
 */
import type { ReceiverConfig } from '../config/receivers.js';
import type { Ingest } from '../forward/ingest.js';
import type { GatewayObserver } from '../observe/events.js';
import type { Authenticator } from './authenticator.js';

/** The part of the forwarding pipeline a receiver uses. */
export interface ReceiverPipeline {
  readonly auth: Authenticator;
  readonly ingest: Ingest;
  /**
   * A receiver that waits between reading the pipeline and ingesting (the HTTP receiver reads the
   * body then) calls `enter()` when it reads it and `leave()` when the request is done, so the
   * gateway knows when a pipeline a reload replaced has served its last request. A receiver that
   * ingests in the same turn as it reads the pipeline (gRPC: connect has the body already) need not.
   */
  enter(): void;
  leave(): void;
}

/** Where a receiver reads the current pipeline, once per request; the composition root swaps `current` whole. */
export interface PipelineSource {
  readonly current: ReceiverPipeline;
}

export interface ReceiverOptions {
  readonly config: ReceiverConfig;
  /** Largest request body, as received and after gunzip (fixed for the receiver's life: connect takes it once). */
  readonly maxRequestBytes: number;
  readonly pipeline: PipelineSource;
  /** Guarded: never throws. */
  readonly observer: GatewayObserver;
}

/** A listening receiver. */
export interface ReceiverHandle {
  /** The bound address (the real port when 0 was asked). */
  readonly host: string;
  readonly port: number;
  /**
   * Stops listening and closes every connection. With `graceMillis` (a receiver a reload moved
   * or turned off), requests in flight may finish for that long: idle connections are closed at
   * once and the rest as they become idle (HTTP/2 sessions get a GOAWAY), then whatever is left.
   * Idempotent; a later call without grace closes what is left at once.
   */
  close(graceMillis?: number): Promise<void>;
  /**
   * A TLS receiver's new certificate and key, for the connections accepted from now on (open
   * ones keep theirs). Throws when the pair is unusable, or the receiver has no TLS.
   */
  setCertificate(tls: { readonly cert: string; readonly key: string }): void;
}

/** Starts a receiver; rejects when the address cannot be bound. */
export type StartReceiver = (options: ReceiverOptions) => Promise<ReceiverHandle>;
