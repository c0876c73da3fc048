/**
 * The gateway configuration's defaults, with the reason for each; the readers of every
 * section (receivers, upstreams, limits, observe) take theirs from here.
 */
import { DEFAULT_QUEUE_LIMITS } from '../../export/backend.js';
import type { QueueLimits } from '../../export/backend.js';
import { DEFAULT_TIMEOUT_MILLIS } from '../../transport/options.js';
import type { Verbosity } from './gateway-config.js';

/** Defaults, with the reason for each. */
export const GATEWAY_DEFAULTS = Object.freeze({
  /** The OTLP spec's ports, on loopback: nothing is exposed unless asked. */
  grpcAddress: '127.0.0.1:4317',
  httpAddress: '127.0.0.1:4318',
  /** A common name for API-key headers; configurable for existing clients. */
  apiKeyHeader: 'x-api-key',
  /** 64 MiB: far above the 4 MiB gRPC default and the spec's 20 MiB recommendation, below harm. */
  maxRequestBytes: 64 * 1024 * 1024,
  /**
   * 256 MiB across upstreams: a few minutes of a busy fleet's data while upstreams are slow;
   * past it clients are told to back off (they keep the data) instead of the gateway growing.
   */
  maxQueuedBytes: 256 * 1024 * 1024,
  /** 1 s: short enough to resume quickly after a spike; clients add their own backoff. */
  retryAfterMillis: 1000,
  /** 10 s: under the 30 s Kubernetes grace period, with room to print the report. */
  drainTimeoutMillis: 10_000,
  verbosity: 'normal' as Verbosity,
  /** 10 s summaries: readable while watching, quiet enough for a log. */
  observeIntervalMillis: 10_000,
  /** 60 s: the OTel SDK's default export interval. */
  selfTelemetryIntervalMillis: 60_000,
  /** Per upstream: more than an application's 1, since a gateway carries many clients' traffic. */
  maxConcurrency: 4,
  /**
   * Per-upstream queue: the export layer's limits (64 MiB), with 8192 requests instead of 512: a
   * gateway queues many clients' small requests where an application queues one per interval.
   * A healthy upstream that falls behind makes clients back off before its queue overflows; a
   * dead one fills its own queue and drops its oldest data instead of pushing back on clients,
   * so the healthy upstreams keep receiving.
   */
  queue: Object.freeze({ ...DEFAULT_QUEUE_LIMITS, maxRequests: 8192 }) as QueueLimits,
  /**
   * Per protobuf upstream, merged requests of up to 1 MiB: a backlog of small requests goes out as
   * few large ones (one exchange and a few syscalls instead of one each, the gateway's main
   * per-request cost); 1 MiB stays well under the 4 MiB default receive limit of gRPC servers
   * (the Collector's included) and the usual HTTP body limits.
   */
  batchMaxBytes: 1024 * 1024,
  /** The transports' default, the OTLP exporter spec's. */
  timeoutMillis: DEFAULT_TIMEOUT_MILLIS,
});

/** Largest byte size a 32-bit length can carry. */
export const MAX_BYTES = 2 ** 32 - 1;
/** Largest delay `setTimeout` takes. */
export const MAX_MS = 2 ** 31 - 1;
/** Names of tenants and upstreams: they appear in metrics labels and summaries. */
export const NAME = /^[A-Za-z0-9_.:-]+$/;
