/**
 * A backend whose real backend is not built yet. `createTelemetry()` is synchronous and opening the
 * durable log is not: each storage lane starts as one of these, so that what is recorded while the
 * log opens is kept, in a memory queue bounded like the lane's own (the oldest dropped and counted
 * when full), and handed over in order to the durable backend once the log is open, or to a memory
 * backend if it could not be opened. From then on every call goes straight to that backend.
 *
 * The log opens in milliseconds, so the queue here usually holds nothing: the first collection
 * comes an export interval later. `forceFlush()` or `shutdown()` in that window waits (within its
 * timeout) for the handover.
 */
import type { Signal } from '../otlp/types.js';
import type { Encoding } from '../transport/types.js';
import { Deque } from '../internal/deque.js';
import { LatencyHistogram } from '../internal/latency.js';
import { warnOnce } from '../internal/warn.js';
import type { Backend, BackendShutdownReport, BackendStats, QueueLimits } from './backend.js';

export interface HandoverBackend extends Backend {
  /**
   * Hands what waits to `backend`, oldest first, and forwards every later call to it. False when
   * this backend was shut down before (its report counted what waited as undelivered): the caller
   * then shuts `backend` down itself.
   */
  handOver(backend: Backend): boolean;
}

export interface HandoverOptions {
  readonly name: string;
  /** The transport's encoding: the backend handed over sends with the same transport. */
  readonly encoding: Encoding;
  readonly signals: ReadonlySet<Signal>;
  /** Bounds of what waits for the handover: the lane's queue limits. */
  readonly queue: QueueLimits;
}

interface Waiting {
  readonly signal: Signal;
  readonly body: Uint8Array;
  readonly items: number;
}

export function createHandoverBackend(options: HandoverOptions): HandoverBackend {
  const { name, queue: limits } = options;
  const waiting = new Deque<Waiting>();
  let waitingBytes = 0;
  let dropped = 0;
  let target: Backend | undefined;
  let closed = false;
  // Shut down before any handover: a late one is refused.
  let ended = false;
  let arrive: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  // Until the target's: self-telemetry reads it before the handover.
  const noLatency = new LatencyHistogram();

  /** Resolves true once handed over, false after `timeout` ms. */
  function handedOver(timeout: number): Promise<boolean> {
    if (target !== undefined) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      // Not unref'd, as in the memory queue's flush: the caller awaits it, bounded.
      const timer = setTimeout(() => resolve(false), timeout);
      void arrived.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  return {
    name,
    encoding: options.encoding,
    signals: options.signals,
    get latency() {
      return target?.latency ?? noLatency;
    },
    get queuedBytes() {
      return target?.queuedBytes ?? waitingBytes;
    },
    get failing() {
      return target?.failing ?? false;
    },
    get lastError() {
      return target?.lastError;
    },
    hasRoom(bytes) {
      if (target !== undefined) return target.hasRoom(bytes);
      return waitingBytes + bytes <= limits.maxBytes && waiting.size < limits.maxRequests;
    },
    enqueue(signal, body, items) {
      if (target !== undefined) return target.enqueue(signal, body, items);
      if (closed) {
        dropped += items;
        return false;
      }
      waiting.push({ signal, body, items });
      waitingBytes += body.byteLength;
      // Oldest first, as the memory queue drops.
      while ((waitingBytes > limits.maxBytes || waiting.size > limits.maxRequests) && waiting.size > 0) {
        const old = waiting.shift()!;
        waitingBytes -= old.body.byteLength;
        dropped += old.items;
        warnOnce(`queue-full:${name}`, `backend "${name}" queue is full while its storage opens: dropping the oldest requests`);
      }
      return true;
    },
    async flush(timeout) {
      if (target !== undefined) return target.flush(timeout);
      const started = performance.now();
      if (!(await handedOver(timeout))) return waiting.size === 0;
      return target!.flush(Math.max(0, timeout - (performance.now() - started)));
    },
    async shutdown(timeout): Promise<BackendShutdownReport> {
      closed = true;
      const started = performance.now();
      if (await handedOver(timeout)) {
        const report = await target!.shutdown(Math.max(0, timeout - (performance.now() - started)));
        return { ...report, name };
      }
      ended = true;
      let undeliveredItems = 0;
      const undeliveredRequests = waiting.size;
      for (const w of waiting.drain()) undeliveredItems += w.items;
      waitingBytes = 0;
      dropped += undeliveredItems;
      return { name, undeliveredRequests, undeliveredItems };
    },
    handOver(backend) {
      if (ended || target !== undefined) return false;
      for (const w of waiting.drain()) backend.enqueue(w.signal, w.body, w.items);
      waitingBytes = 0;
      target = backend;
      arrive();
      return true;
    },
    stats(): BackendStats {
      if (target !== undefined) {
        const s = target.stats();
        return { ...s, name, itemsDropped: s.itemsDropped + dropped };
      }
      return {
        name,
        itemsSent: 0,
        itemsRejected: 0,
        itemsFailed: 0,
        itemsDropped: dropped,
        requestsSent: 0,
        requestsFailed: 0,
        retries: 0,
        queueBytes: waitingBytes,
        queueRequests: waiting.size,
        inFlightRequests: 0,
        latencyP50Ms: 0,
        latencyP99Ms: 0,
      };
    },
  };
}
