/**
 * One delivery with retries: export a body, back off and try again while the failure is
 * retryable, and count what happened. Shared by the memory queue (backend.ts) and the durable
 * queue (durable-backend.ts), which differ only in where bodies wait and what they do with a
 * delivery that ended.
 */
import { setMaxListeners } from 'node:events';
import type { Signal } from '../otlp/types.js';
import { DEFAULT_TIMEOUT_MILLIS } from '../transport/options.js';
import type { ExportResult, Transport } from '../transport/types.js';
import { LatencyHistogram } from '../internal/latency.js';
import { warnOnce } from '../internal/warn.js';
import { DEFAULT_RETRY_POLICY, retryDelayMillis, type RetryPolicy } from './retry.js';

/** Counters of one backend's deliveries; items are data points, log records or spans. */
export interface DeliveryCounts {
  itemsSent: number;
  /** Items the server refused through partial success. */
  itemsRejected: number;
  /** Items given up on after a non-retryable failure or when retries ran out. */
  itemsFailed: number;
  /** Items dropped without an attempt to the end: a full queue, a shutdown, a rule. */
  itemsDropped: number;
  requestsSent: number;
  requestsFailed: number;
  retries: number;
}

/**
 * How a delivery ended: `done` (sent, or partially rejected: both final), `failed` (given up:
 * not retryable, or retries ran out; counted in itemsFailed), `aborted` (the signal aborted it
 * before it was done; not counted: the caller decides), `handed-over` (after `handOver()`, an
 * attempt failed retryably or a retry was due: the backend replacing this one retries it; not counted).
 */
export type DeliveryOutcome = 'done' | 'failed' | 'aborted' | 'handed-over';

export interface DelivererOptions {
  readonly name: string;
  readonly transport: Transport;
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** Per-attempt timeout. Default 10000 ms (the OTLP exporter default). */
  readonly timeoutMillis?: number | undefined;
  /**
   * Retry retryable failures without the `retry.maxElapsedMillis` limit. For a durable queue, where
   * the bound on what waits is the disk, not the time (the drop rule is the log's `maxBytes`).
   */
  readonly retryWithoutTimeLimit?: boolean | undefined;
  /** For tests: jitter source. */
  readonly random?: (() => number) | undefined;
}

export interface Deliverer {
  /** Exports `body` until it is done, given up or `signal` aborts; never rejects. */
  deliver(signal: Signal, body: Uint8Array, items: number, abort: AbortSignal): Promise<DeliveryOutcome>;
  readonly counts: DeliveryCounts;
  /** Latency of completed export calls (ms). */
  readonly latency: LatencyHistogram;
  /**
   * True while the last export attempt failed (an outage, not mere slowness); false before any
   * attempt and once an attempt succeeds again.
   */
  readonly failing: boolean;
  /** While `failing`: the last failed attempt's error message; undefined otherwise. */
  readonly lastError: string | undefined;
  /**
   * The backend was replaced (a reconfigured gateway upstream): from now on a delivery whose attempt
   * fails retryably, or that waits to retry, ends `handed-over` instead of trying again here, so the
   * replacement retries it with its own settings. A call in flight is never aborted for it (it may arrive).
   */
  handOver(): void;
}

export function createDeliverer(options: DelivererOptions): Deliverer {
  const { name, transport } = options;
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const maxElapsedMillis = options.retryWithoutTimeLimit === true ? Infinity : retry.maxElapsedMillis;
  const timeoutMillis = options.timeoutMillis ?? DEFAULT_TIMEOUT_MILLIS;
  const random = options.random ?? Math.random;
  const latency = new LatencyHistogram();
  const counts: DeliveryCounts = { itemsSent: 0, itemsRejected: 0, itemsFailed: 0, itemsDropped: 0, requestsSent: 0, requestsFailed: 0, retries: 0 };
  let failing = false;
  let lastError: string | undefined;
  // Aborted by handOver(): ends the backoff sleeps (never a call in flight).
  const handover = new AbortController();
  setMaxListeners(0, handover.signal);

  async function deliver(signal: Signal, body: Uint8Array, items: number, abort: AbortSignal): Promise<DeliveryOutcome> {
    const firstAttempt = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (abort.aborted) return 'aborted';
      const started = performance.now();
      const result: ExportResult = await transport.export(signal, body, { deadline: Date.now() + timeoutMillis, signal: abort });
      latency.record(performance.now() - started);
      counts.requestsSent++;
      if (result.kind === 'ok') {
        failing = false;
        lastError = undefined;
        counts.itemsSent += items;
        return 'done';
      }
      if (result.kind === 'partial') {
        failing = false;
        lastError = undefined;
        // Partial success is final: the server kept the rest, a retry would duplicate it.
        counts.itemsRejected += result.rejected;
        counts.itemsSent += Math.max(0, items - result.rejected);
        if (result.message !== '') {
          warnOnce(`partial:${name}:${result.message}`, `backend "${name}" partially rejected a request: ${result.message}`);
        }
        return 'done';
      }
      // An attempt cut short by the abort says nothing about the server.
      if (abort.aborted) return 'aborted';
      failing = true;
      lastError = result.error.message;
      counts.requestsFailed++;
      if (result.retryable && handover.signal.aborted) return 'handed-over';
      const delay = retryDelayMillis(retry, attempt, result.retryAfterMs, random);
      if (!result.retryable || Date.now() + delay - firstAttempt > maxElapsedMillis) {
        counts.itemsFailed += items;
        warnOnce(
          `failed:${name}:${result.error.code}`,
          `backend "${name}" failed to export ${signal} (${result.retryable ? 'retries exhausted' : 'not retryable'}): ${result.error.message}`,
        );
        return 'failed';
      }
      counts.retries++;
      await sleep(delay, abort, handover.signal);
      if (handover.signal.aborted && !abort.aborted) return 'handed-over';
    }
  }

  return {
    deliver,
    counts,
    latency,
    get failing() {
      return failing;
    },
    get lastError() {
      return lastError;
    },
    handOver() {
      handover.abort();
    },
  };
}

/** Resolves after `ms` or as soon as `signal` (or `also`) aborts; never rejects. */
export function sleep(ms: number, signal: AbortSignal, also?: AbortSignal): Promise<void> {
  if (signal.aborted || also?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      also?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    also?.addEventListener('abort', done, { once: true });
  });
}
