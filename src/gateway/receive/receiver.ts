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
}

/** Where a receiver reads the current pipeline; the composition root swaps `current` whole. */
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
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** Starts a receiver; rejects when the address cannot be bound. */
export type StartReceiver = (options: ReceiverOptions) => Promise<ReceiverHandle>;
