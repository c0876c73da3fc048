/**
 * One backend: a bounded queue of encoded requests in front of a transport, drained
 * by a small number of concurrent deliveries that retry with backoff.
 *
 * Isolation is the point: `enqueue()` never waits and never throws, so a slow or dead
 * backend cannot delay the application or another backend; memory is bounded by
 * `queue.maxBytes` + `queue.maxRequests` (plus what is in flight, at most
 * `maxConcurrency` deliveries of at most one request or `maxBatchBytes` each); when full,
 * the oldest queued request is dropped and counted.
 * Queued bodies are the caller's immutable bytes, shared between backends, never copied.
 */
import { setMaxListeners } from 'node:events';
import { SIGNALS } from '../otlp/signals.js';
import type { Signal } from '../otlp/types.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../transport/options.js';
import type { Encoding, Transport } from '../transport/types.js';
import { Deque } from '../internal/deque.js';
import type { LatencyHistogram } from '../internal/latency.js';
import { warnOnce } from '../internal/warn.js';
import { createDeliverer } from './delivery.js';
import type { RetryPolicy } from './retry.js';

/**
 * Bounds of what a backend holds while its server is slow or down: the one shape, which the
 * library's options (config/options.ts `QueueOptions`) and the gateway's upstreams fill.
 */
export interface QueueLimits {
  /**
   * Bytes of encoded requests waiting for (or being retried to) this backend. Default 64 MiB:
   * one request of the largest allowed size (the transports' `maxRequestBytes` default) must fit,
   * and since backends share the same immutable request bytes, N backends queueing the same data
   * hold it once.
   */
  readonly maxBytes: number;
  /**
   * Requests waiting for this backend. Default 512: it bounds per-request bookkeeping when
   * requests are tiny; hours of metrics at a 60 s interval, minutes of 1 s log batches.
   */
  readonly maxRequests: number;
}

/** The defaults of {@link QueueLimits}, with their reasons there. */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = Object.freeze({ maxBytes: DEFAULT_MAX_REQUEST_BYTES, maxRequests: 512 });

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
  /**
   * Merge requests that are already queued, same signal, into one delivery of at most
   * this many bytes (protobuf only: concatenated Export requests are one valid request).
   * What is merged is a backlog, or what arrived in the same event-loop turn (sending then
   * waits for the end of that turn, microseconds). Default 0 (off): an
   * application's exporter sends one request per interval anyway; the gateway turns it on.
   */
  readonly maxBatchBytes?: number;
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
  /**
   * Durable queues only: records of the log this backend had not passed yet, kept on disk for the
   * next start (not lost; some may hold nothing for this backend).
   */
  readonly keptRequests?: number;
  readonly keptBytes?: number;
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
  /** Bytes of queued request bodies (what `stats().queueBytes` says, without building the stats). */
  readonly queuedBytes: number;
  /**
   * Whether a body of `bytes` would be queued without dropping older requests (queue
   * limits in bytes and requests). O(1), for admission checks on every request.
   */
  hasRoom(bytes: number): boolean;
  /**
   * True while the backend's last export attempt failed (an outage, not mere slowness);
   * false before any attempt and once an attempt succeeds again.
   */
  readonly failing: boolean;
  /** While `failing`: the last failed attempt's error message (never a header value); undefined otherwise. */
  readonly lastError: string | undefined;
  /** The latency histogram itself, for exporters of self-telemetry. */
  readonly latency: LatencyHistogram;
  /**
   * Hands what this backend holds to `heir`, the backend replacing it (a reconfigured gateway
   * upstream): the queue at once, oldest first; every later `enqueue()`; and each delivery in flight
   * whose attempt fails retryably or is aborted, instead of retrying it here (delivery.ts,
   * `handOver`). A call already sent is never aborted or repeated for the handover (it may have
   * arrived). Afterwards `shutdown()` only waits for the calls in flight and reports nothing
   * undelivered: the heir has it. Call it before the heir queues data of its own (order is kept),
   * once. An entry the heir refuses (`enqueue` false) is counted as dropped here. A durable
   * backend's queue is its cursor in the log, which its heir (same name) reads on. Implemented by
   * the backends a gateway upstream can have (this memory queue, the durable queue); optional for
   * the others, which are never replaced live.
   */
  transferTo?(heir: Pick<Backend, 'enqueue'>): void;
}

interface Entry {
  readonly signal: Signal;
  readonly body: Uint8Array;
  readonly items: number;
  /** Sequence number, to let flush() wait for exactly what was queued before it. */
  readonly seq: number;
}

/** One delivery: a single queued request, or several of one signal merged. */
interface Batch {
  readonly signal: Signal;
  readonly body: Uint8Array;
  readonly items: number;
  /** Sequence number of its first (lowest) entry. */
  readonly seq: number;
  /** Queued requests it carries. */
  readonly requests: number;
}

const ALL_SIGNALS: ReadonlySet<Signal> = new Set(SIGNALS);

export function createBackend(options: BackendOptions): Backend {
  const transport = options.transport;
  const limits: QueueLimits = { ...DEFAULT_QUEUE_LIMITS, ...options.queue };
  const maxConcurrency = Math.max(1, options.maxConcurrency ?? 1);
  const name = options.name;

  const queue = new Deque<Entry>();
  const maxBatchBytes = transport.encoding === 'protobuf' ? Math.max(0, options.maxBatchBytes ?? 0) : 0;
  // Aborted at the end of shutdown. Each call in flight listens to it (at most
  // maxConcurrency, removed when the call ends), so Node's listener-count warning, meant to
  // catch leaks, is off for it; a controller per delivery instead cost an EventTarget each.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  let stopped = false;
  let queueBytes = 0;
  let inFlight = 0;
  let inFlightRequests = 0;
  let inFlightItems = 0;
  let nextSeq = 0;
  let closed = false;
  // Sequence numbers in flight; the lowest unsettled one bounds what flush() can consider done.
  const pendingSeqs = new Set<number>();
  const waiters = new Set<() => void>();
  const deliverer = createDeliverer({ name, transport, retry: options.retry, timeoutMillis: options.timeoutMillis, random: options.random });
  const counts = deliverer.counts;
  const latency = deliverer.latency;

  function notify(): void {
    for (const w of waiters) w();
  }

  function lowestUnsettled(): number {
    let low = queue.peek()?.seq ?? nextSeq;
    for (const s of pendingSeqs) if (s < low) low = s;
    return low;
  }

  function settle(batch: Batch): void {
    pendingSeqs.delete(batch.seq);
    inFlight--;
    inFlightRequests -= batch.requests;
    inFlightItems -= batch.items;
    pump();
    if (waiters.size > 0) notify();
  }

  /** Takes the head of the queue, merged with the queued requests of its signal that follow it. */
  function take(): Batch {
    const first = queue.shift()!;
    queueBytes -= first.body.byteLength;
    let next = queue.peek();
    if (maxBatchBytes === 0 || next === undefined || next.signal !== first.signal || first.body.byteLength + next.body.byteLength > maxBatchBytes) {
      return { signal: first.signal, body: first.body, items: first.items, seq: first.seq, requests: 1 };
    }
    const parts: Uint8Array[] = [first.body];
    let size = first.body.byteLength;
    let items = first.items;
    while (next !== undefined && next.signal === first.signal && size + next.body.byteLength <= maxBatchBytes) {
      queue.shift();
      queueBytes -= next.body.byteLength;
      parts.push(next.body);
      size += next.body.byteLength;
      items += next.items;
      next = queue.peek();
    }
    // Export requests hold only repeated top-level fields, so their concatenation is one request
    // with every resource entry of each (protobuf merges repeated fields by appending).
    // Not zero-filled: every byte is written below (zeroing 1 MiB cost as much as copying it).
    const body = Buffer.allocUnsafe(size);
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.byteLength;
    }
    return { signal: first.signal, body, items, seq: first.seq, requests: parts.length };
  }

  let pumpScheduled = false;
  function scheduledPump(): void {
    pumpScheduled = false;
    pump();
  }

  function pump(): void {
    while (inFlight < maxConcurrency && queue.size > 0 && !stopped) {
      const batch = take();
      inFlight++;
      inFlightRequests += batch.requests;
      inFlightItems += batch.items;
      pendingSeqs.add(batch.seq);
      deliver(batch, stop.signal).then(
        () => settle(batch),
        (err: unknown) => {
          // deliver() handles every expected failure; this is a bug guard so nothing is left unsettled.
          warnOnce(`backend-bug:${name}`, `backend "${name}": unexpected delivery error: ${String(err)}`);
          counts.itemsFailed += batch.items;
          settle(batch);
        },
      );
    }
  }

  let heir: Pick<Backend, 'enqueue'> | undefined;

  /** Gives a request (or merged batch) to the heir; counted as dropped here if it refuses it. */
  function handOver(signal: Signal, body: Uint8Array, items: number): void {
    if (!heir!.enqueue(signal, body, items)) counts.itemsDropped += items;
  }

  async function deliver(batch: Batch, signal: AbortSignal): Promise<void> {
    const outcome = await deliverer.deliver(batch.signal, batch.body, batch.items, signal);
    // Aborted at the end of shutdown: the report counts it as undelivered, unless an heir takes it.
    if (outcome === 'handed-over' || (outcome === 'aborted' && heir !== undefined)) handOver(batch.signal, batch.body, batch.items);
    else if (outcome === 'aborted') counts.itemsFailed += batch.items;
  }

  return {
    name,
    encoding: transport.encoding,
    signals: options.signals ?? ALL_SIGNALS,
    latency,
    get queuedBytes() {
      return queueBytes;
    },
    get failing() {
      return deliverer.failing;
    },
    get lastError() {
      return deliverer.lastError;
    },
    hasRoom(bytes) {
      return queueBytes + bytes <= limits.maxBytes && queue.size < limits.maxRequests;
    },
    enqueue(signal, body, items) {
      // Before `closed`: a replaced backend still hands on what late requests queue for it.
      if (heir !== undefined) return heir.enqueue(signal, body, items);
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
        warnOnce(
          `queue-full:${name}`,
          `backend "${name}" queue is full (limits ${limits.maxRequests} requests / ${limits.maxBytes} bytes): dropping the oldest requests`,
        );
      }
      if (maxBatchBytes === 0) pump();
      else if (!pumpScheduled) {
        // Send at the end of this event-loop turn rather than now, so the requests that arrived
        // in the same turn go out as one: a few microseconds later, one exchange instead of many.
        // Not unref'd: it runs within this turn's check phase, it cannot hold the process.
        pumpScheduled = true;
        setImmediate(scheduledPump);
      }
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
        // With an heir, the calls still in flight are handed over when aborted below.
        if (heir === undefined) {
          undeliveredRequests += inFlightRequests;
          undeliveredItems += inFlightItems;
        }
      }
      stopped = true;
      stop.abort();
      // In-flight calls settle promptly once aborted; give them a moment so their counts are final.
      if (inFlight > 0) await this.flush(1000);
      await transport.close().catch(() => undefined);
      return { name, undeliveredRequests, undeliveredItems };
    },
    transferTo(to) {
      if (heir !== undefined) throw new Error(`backend "${name}" was already handed over`);
      heir = to;
      for (const e of queue.drain()) handOver(e.signal, e.body, e.items);
      queueBytes = 0;
      deliverer.handOver();
      if (waiters.size > 0) notify();
    },
    stats() {
      return {
        name,
        ...counts,
        queueBytes,
        queueRequests: queue.size,
        inFlightRequests,
        latencyP50Ms: latency.quantile(0.5),
        latencyP99Ms: latency.quantile(0.99),
      };
    },
  };
}
