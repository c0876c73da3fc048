/**
 * Backoff between delivery attempts. The OTLP exporter spec asks for exponential
 * backoff with jitter and for honouring the server's throttling delay
 * (Retry-After / RetryInfo); which failures are retryable at all is decided in
 * transport/retryable.ts, not here.
 */

/** Retry knobs for one backend. */
export interface RetryPolicy {
  /** First delay. Default 1000 ms: long enough not to hammer a restarting collector. */
  readonly initialBackoffMillis: number;
  /** Cap on one delay. Default 30000 ms: a down backend is probed at least twice a minute. */
  readonly maxBackoffMillis: number;
  /** Growth factor per attempt. Default 1.5 (the OTLP JS/Java exporters' value). */
  readonly multiplier: number;
  /** Relative jitter in [0, 1]: a delay d becomes d × (1 ± jitter). Default 0.2, spreads synchronized clients. */
  readonly jitter: number;
  /**
   * Give up on a request this long after its first attempt. Default 300000 ms (5 minutes): covers a collector
   * restart or a rolling deploy, while the bounded queue limits what waits meanwhile.
   */
  readonly maxElapsedMillis: number;
}

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
  const base = Math.min(
    policy.maxBackoffMillis,
    policy.initialBackoffMillis * Math.pow(policy.multiplier, Math.max(0, attempt - 1)),
  );
  const spread = policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * (1 + spread)));
}
