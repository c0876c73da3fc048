/**
 * Backoff between delivery attempts. The OTLP exporter spec asks for exponential
 * backoff with jitter and for honouring the server's throttling delay
 * (Retry-After / RetryInfo); which failures are retryable at all is decided in
 * transport/retryable.ts, not here.
 */

/**
 * Retry knobs for one backend: the one shape, which the library's options (config/options.ts
 * `RetryOptions`) and the gateway's upstreams (gateway/config/upstreams.ts) fill. The n-th wait
 * is `min(maxBackoffMillis, initialBackoffMillis * multiplier^(n-1))` ± `jitter`, or the
 * server's Retry-After/RetryInfo delay; no retry starts past `maxElapsedMillis` after the first
 * attempt.
 */
export interface RetryPolicy {
  /**
   * First wait, in ms. Default 1000 (the Java exporter's): short enough for a 10 s export interval,
   * long enough not to hammer a restarting collector; the Go exporter's 5 s would hold a request
   * past the next export.
   */
  readonly initialBackoffMillis: number;
  /** Longest wait, in ms. Default 30000 (the Go exporter's): an overloaded server gets room, a down one is probed twice a minute. */
  readonly maxBackoffMillis: number;
  /** Growth factor between waits, ≥ 1. Default 1.5, as both the Go and Java exporters. */
  readonly multiplier: number;
  /**
   * Random spread of each wait, as a fraction in [0, 1]: a delay d becomes d × (1 ± jitter).
   * Default 0.2 (the Java exporter's ±20%): enough to break lock-step retries from many processes
   * without making waits unpredictable.
   */
  readonly jitter: number;
  /**
   * Give up on a request this long after its first attempt, in ms. Default 300000 (5 minutes): it
   * spans a collector restart or a rolling deploy, where the Go exporter's one minute would drop
   * data; the bounded queue limits what waits meanwhile.
   */
  readonly maxElapsedMillis: number;
}

/** The defaults of {@link RetryPolicy}, with their reasons there. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  initialBackoffMillis: 1000,
  maxBackoffMillis: 30_000,
  multiplier: 1.5,
  jitter: 0.2,
  maxElapsedMillis: 300_000,
});

/**
 * Delay before retry number `attempt` (1 for the first retry). A server-provided delay wins over the computed
 * backoff (it knows its load); it is still subject to `maxElapsedMillis` by the caller.
 */
export function retryDelayMillis(
  policy: RetryPolicy,
  attempt: number,
  serverDelayMillis: number | undefined,
  random: () => number = Math.random,
): number {
  if (serverDelayMillis !== undefined && serverDelayMillis >= 0) return serverDelayMillis;
  const base = Math.min(policy.maxBackoffMillis, policy.initialBackoffMillis * policy.multiplier ** Math.max(0, attempt - 1));
  const spread = policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * (1 + spread)));
}
