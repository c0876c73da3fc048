/**
 * One backend: a bounded queue of encoded requests in front of a transport, drained
 * by a small number of concurrent deliveries that retry with backoff.
 *
 * Isolation is the point: `enqueue()` never waits and never throws, so a slow or dead
 * backend cannot delay the application or another backend; memory is bounded by
 * `queue.maxBytes` + `queue.maxRequests` (plus what is in flight, at most
 * `maxConcurrency` requests); when full, the oldest queued request is dropped and counted.
 * Queued bodies are the caller's immutable bytes, shared between backends, never copied.
 */
import type { Signal } from '../otlp/types.js';
import type { Encoding, ExportResult, Transport } from '../transport/types.js';
import { Deque } from '../internal/deque.js';
import { LatencyHistogram } from '../internal/latency.js';
import { warnOnce } from '../internal/warn.js';
import { DEFAULT_RETRY_POLICY, retryDelayMillis, type RetryPolicy } from './retry.js';

/** Queue limits for one backend. */
export interface QueueLimits {
  /** Total bytes of queued request bodies. Default 64 MiB: one request of the largest allowed size must fit. */
  readonly maxBytes: number;
  /** Number of queued requests. Default 512: with a 60 s interval, hours of metrics during an outage. */
  readonly maxRequests: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = Object.freeze({ maxBytes: 64 * 1024 * 1024, maxRequests: 512 });

export interface BackendOptions {
  readonly name: string;
  readonly transport: Transport;
  readonly signals?: ReadonlySet<Signal>;
  readonly queue?: Partial<QueueLimits>;
  readonly retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout. Default 10000 ms (the OTLP exporter default). */
  readonly timeoutMillis?: number;
  /** Deliveries in flight at once. Default 1: keeps order and the load on a struggling backend low. */
  readonly maxConcurrency?: number;
  /** For tests: jitter source. */
  readonly random?: () => number;
}

/** Counters of one backend; items are data points, log records or spans. */
export interface BackendStats {
  readonly name: string;
  readonly itemsSent: number;
  /** Items the server refused through partial success. */
  readonly itemsRejected: number;
  /** Items given up on after a non-retryable failure or when retries ran out. */
  readonly itemsFailed: number;
  /** Items dropped because the queue was full or the backend was shut down with them pending. */
  readonly itemsDropped: number;
  readonly requestsSent: number;
  readonly requestsFailed: number;
  readonly retries: number;
  readonly queueBytes: number;
  readonly queueRequests: number;
  readonly inFlightRequests: number;
  /** Latency of completed export calls (ms). */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

/** What a shutdown could not deliver. */
export interface BackendShutdownReport {
  readonly name: string;
  readonly undeliveredRequests: number;
  readonly undeliveredItems: number;
}

export interface Backend {
  readonly name: string;
  readonly encoding: Encoding;
  readonly signals: ReadonlySet<Signal>;
  /** Queues a request; returns false when it was refused (shut down). Never waits, never throws. */
  enqueue(signal: Signal, body: Uint8Array, items: number): boolean;
  /** Resolves true once everything queued before the call is settled, false at the timeout. */
  flush(timeoutMillis: number): Promise<boolean>;
  /** Stops accepting, delivers what it can within the timeout, aborts the rest and closes the transport. */
  shutdown(timeoutMillis: number): Promise<BackendShutdownReport>;
  stats(): BackendStats;
  /** The latency histogram itself, for exporters of self-telemetry. */
  readonly latency: LatencyHistogram;
}

interface Entry {
  readonly signal: Signal;
  readonly body: Uint8Array;
  readonly items: number;
  /** Sequence number, to let flush() wait for exactly what was queued before it. */
  readonly seq: number;
}

const ALL_SIGNALS: ReadonlySet<Signal> = new Set<Signal>(['metrics', 'logs', 'traces']);

export function createBackend(options: BackendOptions): Backend {
  const transport = options.transport;
  const limits: QueueLimits = { ...DEFAULT_QUEUE_LIMITS, ...options.queue };
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const timeoutMillis = options.timeoutMillis ?? 10_000;
  const maxConcurrency = Math.max(1, options.maxConcurrency ?? 1);
  const random = options.random ?? Math.random;
  const name = options.name;

  const queue = new Deque<Entry>();
  const latency = new LatencyHistogram();
  // Aborts in-flight calls and backoff waits at the end of shutdown.
  const stop = new AbortController();
  let queueBytes = 0;
  let inFlight = 0;
  let inFlightItems = 0;
  let nextSeq = 0;
  let closed = false;
  // Sequence numbers in flight; the lowest unsettled one bounds what flush() can consider done.
  const pendingSeqs = new Set<number>();
  const waiters = new Set<() => void>();
  const counts = {
    itemsSent: 0,
    itemsRejected: 0,
    itemsFailed: 0,
    itemsDropped: 0,
    requestsSent: 0,
    requestsFailed: 0,
    retries: 0,
  };

  function notify(): void {
    for (const w of waiters) w();
  }

  function lowestUnsettled(): number {
    let low = queue.peek()?.seq ?? nextSeq;
    for (const s of pendingSeqs) if (s < low) low = s;
    return low;
  }

  function settle(entry: Entry): void {
    pendingSeqs.delete(entry.seq);
    inFlight--;
    inFlightItems -= entry.items;
    pump();
    notify();
  }

  function pump(): void {
    while (inFlight < maxConcurrency && queue.size > 0 && !stop.signal.aborted) {
      const entry = queue.shift()!;
      queueBytes -= entry.body.byteLength;
      inFlight++;
      inFlightItems += entry.items;
      pendingSeqs.add(entry.seq);
      deliver(entry).then(
        () => settle(entry),
        (err: unknown) => {
          // deliver() handles every expected failure; this is a bug guard so nothing is left unsettled.
          warnOnce(`backend-bug:${name}`, `backend "${name}": unexpected delivery error: ${String(err)}`);
          counts.itemsFailed += entry.items;
          settle(entry);
        },
      );
    }
  }

  async function deliver(entry: Entry): Promise<void> {
    const firstAttempt = Date.now();
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const result: ExportResult = await transport.export(entry.signal, entry.body, {
        deadline: Date.now() + timeoutMillis,
        signal: stop.signal,
      });
      latency.record(performance.now() - started);
      counts.requestsSent++;
      if (result.kind === 'ok') {
        counts.itemsSent += entry.items;
        return;
      }
      if (result.kind === 'partial') {
        // Partial success is final: the server kept the rest, a retry would duplicate it.
        counts.itemsRejected += result.rejected;
        counts.itemsSent += Math.max(0, entry.items - result.rejected);
        if (result.message !== '') {
          warnOnce(`partial:${name}:${result.message}`, `backend "${name}" partially rejected a request: ${result.message}`);
        }
        return;
      }
      counts.requestsFailed++;
      const delay = retryDelayMillis(retry, attempt, result.retryAfterMs, random);
      const giveUp =
        !result.retryable || stop.signal.aborted || Date.now() + delay - firstAttempt > retry.maxElapsedMillis;
      if (giveUp) {
        counts.itemsFailed += entry.items;
        warnOnce(
          `failed:${name}:${result.error.code}`,
          `backend "${name}" failed to export ${entry.signal} (${result.retryable ? 'retries exhausted' : 'not retryable'}): ${result.error.message}`,
        );
        return;
      }
      counts.retries++;
      await sleep(delay, stop.signal);
    }
  }

  return {
    name,
    encoding: transport.encoding,
    signals: options.signals ?? ALL_SIGNALS,
    latency,
    enqueue(signal, body, items) {
      if (closed) {
        counts.itemsDropped += items;
        return false;
      }
      const entry: Entry = { signal, body, items, seq: nextSeq++ };
      queue.push(entry);
      queueBytes += body.byteLength;
      // Drop oldest first: fresh data is worth more than stale data during an outage.
      while ((queueBytes > limits.maxBytes || queue.size > limits.maxRequests) && queue.size > 0) {
        const old = queue.shift()!;
        queueBytes -= old.body.byteLength;
        counts.itemsDropped += old.items;
        warnOnce(`queue-full:${name}`, `backend "${name}" queue is full (limits ${limits.maxRequests} requests / ${limits.maxBytes} bytes): dropping the oldest requests`);
      }
      pump();
      return true;
    },
    flush(timeout) {
      const target = nextSeq - 1;
      if (lowestUnsettled() > target) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(false);
        }, timeout);
        // Not unref'd on purpose: the caller awaits this flush, and the process must live until the data is
        // delivered or the (bounded) timeout passes; otherwise `await shutdown()` at exit would deliver nothing.
        function check(): void {
          if (lowestUnsettled() > target) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(true);
          }
        }
        waiters.add(check);
      });
    },
    async shutdown(timeout) {
      closed = true;
      const drained = await this.flush(timeout);
      let undeliveredRequests = 0;
      let undeliveredItems = 0;
      if (!drained) {
        for (const e of queue.drain()) {
          undeliveredRequests++;
          undeliveredItems += e.items;
          counts.itemsDropped += e.items;
        }
        queueBytes = 0;
        undeliveredRequests += inFlight;
        undeliveredItems += inFlightItems;
      }
      stop.abort();
      // In-flight calls settle promptly once aborted; give them a moment so their counts are final.
      if (inFlight > 0) await this.flush(1000);
      await transport.close().catch(() => undefined);
      return { name, undeliveredRequests, undeliveredItems };
    },
    stats() {
      return {
        name,
        ...counts,
        queueBytes,
        queueRequests: queue.size,
        inFlightRequests: inFlight,
        latencyP50Ms: latency.quantile(0.5),
        latencyP99Ms: latency.quantile(0.99),
      };
    },
  };
}

/** Resolves after `ms` or as soon as `signal` aborts; never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}
