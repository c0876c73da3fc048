/**
 * A delivery queue on disk: one durable log (durable/log.ts) shared by every backend of a process,
 * each backend reading it through its own persisted cursor and taking its own part of each record
 * (durable/queue-record.ts). The memory queue's contract (backend.ts) holds, with the disk as the
 * queue: a request is acknowledged once written; memory holds the batches in flight, never the
 * backlog; a crash repeats at most what was in flight.
 *
 * The outage-vs-overload rule of the memory queues, applied to the log's one bound (`maxBytes`):
 * when an append does not fit, the readers holding the oldest segment decide. A failing one (its
 * last attempt failed: an outage) sheds its oldest data, counted as dropped, so that the others go
 * on; a healthy one that fell behind (overload) makes the append answer `full`, which the caller
 * turns into backpressure. Nothing is ever dropped for a healthy destination.
 */
import { setMaxListeners } from 'node:events';
import { SIGNALS } from '../otlp/signals.js';
import type { Signal } from '../otlp/types.js';
import type { Encoding } from '../transport/types.js';
import { warnOnce } from '../internal/warn.js';
import type { Backend, BackendOptions, BackendShutdownReport, BackendStats } from './backend.js';
import { createDeliverer, sleep } from './delivery.js';
import { DurableLogError } from './durable/errors.js';
import type { DurableLog } from './durable/log.js';
import { encodeQueueName, encodeQueueRecord, queuedPart, QueueRecordError } from './durable/queue-record.js';
import type { QueuedPart } from './durable/queue-record.js';
import type { DurableLogReader, ReadBatch } from './durable/reader.js';

/** A backend whose queue is the durable log. */
export interface DurableBackend extends Backend {
  /**
   * Drops this backend's data before log position `to` (in flight included), counted in
   * itemsDropped; resolves once its cursor passed `to`, or at shutdown.
   */
  shed(to: number): Promise<void>;
  /** Records that did not parse as queue records (skipped, never delivered). */
  readonly malformedRecords: number;
  /** Resolves once the backend stopped reading (its shutdown ended): a successor may read. */
  readonly stopped: Promise<void>;
}

/** The answer to an append. */
export type AppendOutcome =
  | { readonly kind: 'written' }
  /** maxBytes reached and held by destinations that are healthy but behind: back off. */
  | { readonly kind: 'full'; readonly holders: readonly string[] }
  /** The append failed (disk full, an I/O error, closed): nothing of it is acknowledged. */
  | { readonly kind: 'failed'; readonly error: DurableLogError };

export interface DurableQueue {
  readonly log: DurableLog;
  /** Opens (creating) the cursors of `names`, so that {@link backend} can be called for them. */
  open(names: readonly string[]): Promise<void>;
  /**
   * The backend reading the log as `options.name` (its cursor persists under that name; opened
   * by {@link open} first). At most one backend per name reads at a time: a backend that replaces
   * another of its name (a reload) starts once the other is shut down.
   */
  backend(options: BackendOptions): DurableBackend;
  /**
   * Appends one record (queue-record.ts), making room first when failing destinations hold the
   * oldest data (each sheds what frees it). Never rejects.
   */
  append(record: Uint8Array): Promise<AppendOutcome>;
  /** Whether a record of `bytes` fits now without shedding. */
  hasRoom(bytes: number): boolean;
  /**
   * Deletes the cursors of destinations not in `keep` (destinations removed from the
   * configuration: their data is dropped); returns each one's backlog when removed.
   */
  forget(keep: ReadonlySet<string>): Promise<{ name: string; records: number; bytes: number }[]>;
}

/** Longest an append waits for failing destinations to shed before answering `full`. */
const SHED_WAIT_MILLIS = 5000;
/** Appends that find the log full again after shedding (others took the room) try this many times. */
const MAX_APPEND_TRIES = 4;

export function createDurableQueue(log: DurableLog): DurableQueue {
  const backends = new Map<string, DurableBackend>();
  const readers = new Map<string, DurableLogReader>();

  async function makeRoom(): Promise<readonly string[]> {
    const holders = log.holders();
    const healthy = holders.filter((h) => backends.get(h.name)?.failing === false).map((h) => h.name);
    if (healthy.length > 0 || holders.length === 0) return healthy;
    const to = log.oldestSegmentEnd();
    // A reader with no backend (its destination is gone) is failing by definition: nobody reads it.
    const shedding = holders.map((h) => backends.get(h.name)?.shed(to) ?? log.reader(h.name).then((r) => r.skipTo(to)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), SHED_WAIT_MILLIS);
      timer.unref();
    });
    const done = await Promise.race([Promise.all(shedding).then(() => 'done' as const), late]);
    clearTimeout(timer);
    return done === 'late' ? holders.map((h) => h.name) : [];
  }

  return {
    log,
    hasRoom: (bytes) => log.hasRoom(bytes),
    async open(names) {
      for (const name of names) if (!readers.has(name)) readers.set(name, await log.reader(name));
    },
    backend(options) {
      const reader = readers.get(options.name);
      if (reader === undefined) throw new Error(`durable queue: no cursor opened for "${options.name}"`);
      const previous = backends.get(options.name);
      const backend = createDurableBackend(options, log, reader, (record) => this.append(record), previous?.stopped);
      backends.set(options.name, backend);
      return backend;
    },
    async append(record) {
      let holders: readonly string[] = [];
      for (let tries = 0; tries < MAX_APPEND_TRIES; tries++) {
        if (!log.hasRoom(record.byteLength)) {
          holders = await makeRoom();
          if (holders.length > 0) return { kind: 'full', holders };
          if (!log.hasRoom(record.byteLength)) continue;
        }
        try {
          await log.append(record);
          return { kind: 'written' };
        } catch (e) {
          const error = DurableLogError.from(e, 'appending');
          if (error.code !== 'full') return { kind: 'failed', error };
          holders = error.holders.map((h) => h.name);
        }
      }
      return { kind: 'full', holders };
    },
    async forget(keep) {
      const out: { name: string; records: number; bytes: number }[] = [];
      for (const name of log.readerNames()) {
        if (keep.has(name)) continue;
        const b = (await log.reader(name)).backlog();
        await log.removeReader(name);
        backends.delete(name);
        readers.delete(name);
        out.push({ name, records: b.records, bytes: b.bytes });
      }
      return out;
    },
  };
}

const ALL_SIGNALS: ReadonlySet<Signal> = new Set(SIGNALS);

/** One delivery: a part, or several of one signal merged into a pooled buffer. */
interface Delivery extends QueuedPart {
  /** The pooled buffer `body` is a view of, when merged. */
  readonly pooled: Buffer | undefined;
}
const DEFAULT_READ_BYTES = 1024 * 1024;

function createDurableBackend(
  options: BackendOptions,
  log: DurableLog,
  reader: DurableLogReader,
  append: (record: Uint8Array) => Promise<AppendOutcome>,
  after: Promise<void> = Promise.resolve(),
): DurableBackend {
  const { name, transport } = options;
  const nameBytes = encodeQueueName(name);
  const encoding: Encoding = transport.encoding;
  const maxConcurrency = Math.max(1, options.maxConcurrency ?? 1);
  // Merging concatenates protobuf Export requests; JSON ones cannot be merged.
  const maxBatchBytes = encoding === 'protobuf' ? Math.max(0, options.maxBatchBytes ?? 0) : 0;
  const readBytes = maxBatchBytes > 0 ? maxBatchBytes : DEFAULT_READ_BYTES;
  const deliverer = createDeliverer({
    name,
    transport,
    retry: options.retry,
    timeoutMillis: options.timeoutMillis,
    random: options.random,
    retryWithoutTimeLimit: true,
  });
  const counts = deliverer.counts;
  // Aborted to cut deliveries short: by shed() (then replaced) and at the end of shutdown.
  let cut = new AbortController();
  setMaxListeners(0, cut.signal);
  let closed = false;
  let stopped = false;
  let inFlight = 0;
  let malformed = 0;
  let shedTo = 0;
  // Set by transferTo(): the backend replacing this one (same name, same cursor) reads on; this one stops reading.
  let heir: Pick<Backend, 'enqueue'> | undefined;
  let wakeLoop: (() => void) | undefined;
  const waiters = new Set<() => void>();
  /** The latest acknowledgement: resolves once the cursor is written past it and freed segments are gone. */
  let lastAck: Promise<void> = Promise.resolve();
  // Appends of enqueue() not settled yet: flush() waits for them, log.end moves only once they are written.
  const appending = new Set<Promise<void>>();

  function notify(): void {
    for (const w of waiters) w();
  }

  // Buffers for merged bodies, reused once their delivery ended, for the reason the log's reader
  // reuses its read buffers (reader.ts, POOLED_BUFFERS): at drain rates, a fresh 1 MiB per delivery
  // grew the RSS by tens of MiB of dead buffers between collections.
  const mergePool: Buffer[] = [];

  /** This backend's parts of a batch, merged per signal where allowed (log order kept). */
  function partsOf(batch: ReadBatch): Delivery[] {
    const groups: { signal: Signal; bodies: Uint8Array[]; bytes: number; items: number }[] = [];
    for (const record of batch.records) {
      let part: QueuedPart | undefined;
      try {
        part = queuedPart(record, nameBytes);
      } catch (e) {
        if (!(e instanceof QueueRecordError)) throw e;
        malformed++;
        warnOnce(`queue-record:${name}`, `backend "${name}": skipping records of the durable queue that do not parse (${e.message})`);
      }
      if (part === undefined || (options.signals !== undefined && !options.signals.has(part.signal))) continue;
      const last = groups.at(-1);
      if (last !== undefined && last.signal === part.signal && last.bytes + part.body.byteLength <= maxBatchBytes) {
        last.bodies.push(part.body);
        last.bytes += part.body.byteLength;
        last.items += part.items;
      } else groups.push({ signal: part.signal, bodies: [part.body], bytes: part.body.byteLength, items: part.items });
    }
    // Concatenated Export requests are one request (repeated top-level fields append), as in backend.ts.
    return groups.map((g) => {
      if (g.bodies.length === 1) return { signal: g.signal, items: g.items, body: g.bodies[0]!, pooled: undefined };
      const pooled = mergePool.pop() ?? Buffer.allocUnsafe(maxBatchBytes);
      let at = 0;
      for (const b of g.bodies) {
        pooled.set(b, at);
        at += b.byteLength;
      }
      return { signal: g.signal, items: g.items, body: pooled.subarray(0, g.bytes), pooled };
    });
  }

  /** Takes back the merged bodies of a batch whose deliveries ended. */
  function release(parts: readonly Delivery[]): void {
    for (const p of parts) if (p.pooled !== undefined && mergePool.length < maxConcurrency) mergePool.push(p.pooled);
  }

  async function handle(batch: ReadBatch): Promise<void> {
    const parts = partsOf(batch);
    try {
      await deliverAll(batch, parts);
    } finally {
      release(parts);
    }
  }

  /** Delivers the parts of `batch` in order, then acknowledges it (or drops it, when shed). */
  async function deliverAll(batch: ReadBatch, parts: readonly Delivery[]): Promise<void> {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      for (;;) {
        if (batch.start < shedTo) {
          for (let j = i; j < parts.length; j++) counts.itemsDropped += parts[j]!.items;
          i = parts.length;
          break;
        }
        const outcome = await deliverer.deliver(p.signal, p.body, p.items, cut.signal);
        // Handed over (transferTo): the heir reads the batch again (its parts delivered already
        // too: at least once, as after a crash).
        if (outcome === 'handed-over') {
          reader.nack(batch);
          return;
        }
        if (outcome !== 'aborted') break;
        if (stopped) {
          // Cut short at the end of shutdown: readable again, by a successor of this name (a reload)
          // or after the next start. The parts delivered before it will repeat.
          reader.nack(batch);
          return;
        }
      }
    }
    // The slot is free once delivered; waiters (flush, shed) are told once the cursor is written and
    // the segments it freed are gone, so that an append waiting for room finds it.
    lastAck = reader.ack(batch).then(() => {
      if (waiters.size > 0) notify();
    });
  }

  async function loop(): Promise<void> {
    // The backend this one replaces must have stopped reading: batches are handed out once.
    await after;
    while (!stopped && heir === undefined) {
      if (inFlight >= maxConcurrency) {
        await new Promise<void>((resolve) => (wakeLoop = resolve));
        continue;
      }
      await Promise.race([reader.whenReadable(), new Promise<void>((resolve) => (wakeLoop = resolve))]);
      if (stopped || heir !== undefined) break;
      let batch: ReadBatch | undefined;
      try {
        batch = await reader.read(readBytes);
      } catch (e) {
        warnOnce(`queue-read:${name}`, `backend "${name}": cannot read the durable queue, retrying: ${e instanceof Error ? e.message : String(e)}`);
        await sleep(1000, cut.signal);
        continue;
      }
      if (batch === undefined) {
        if (log.closed) break;
        continue;
      }
      inFlight++;
      handle(batch).then(
        () => settled(),
        (err: unknown) => {
          // handle() meets no expected failure; this guards the loop against a bug.
          warnOnce(`backend-bug:${name}`, `backend "${name}": unexpected delivery error: ${String(err)}`);
          settled();
        },
      );
    }
  }

  function settled(): void {
    inFlight--;
    const w = wakeLoop;
    wakeLoop = undefined;
    w?.();
    if (waiters.size > 0) notify();
  }

  const running = loop().catch((e: unknown) => {
    warnOnce(`backend-bug:${name}`, `backend "${name}": the durable queue's reading loop failed: ${String(e)}`);
  });

  /** Resolves true once the cursor passed `to`, false at the timeout or the end of shutdown. */
  function flushTo(to: number, timeout: number): Promise<boolean> {
    if (reader.position >= to) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      // Not unref'd, as in the memory queue: the caller awaits it and the process must live until then.
      const timer = Number.isFinite(timeout) ? setTimeout(() => done(false), timeout) : undefined;
      function done(ok: boolean): void {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(ok);
      }
      function check(): void {
        if (reader.position >= to) done(true);
        else if (stopped) done(false);
      }
      waiters.add(check);
    });
  }

  return {
    name,
    encoding,
    signals: options.signals ?? ALL_SIGNALS,
    latency: deliverer.latency,
    get malformedRecords() {
      return malformed;
    },
    stopped: running,
    get failing() {
      return deliverer.failing;
    },
    get lastError() {
      return deliverer.lastError;
    },
    get queuedBytes() {
      return reader.backlog().bytes;
    },
    hasRoom: (bytes) => log.hasRoom(bytes),
    enqueue(signal, body, items) {
      // A replaced backend passes what late requests queue for it on: the heir writes it under the same name.
      if (heir !== undefined) return heir.enqueue(signal, body, items);
      if (closed) {
        counts.itemsDropped += items;
        return false;
      }
      const record = encodeQueueRecord(signal, [{ name: nameBytes, items, body: 0 }], [body]);
      const appended = append(record).then((outcome) => {
        appending.delete(appended);
        if (outcome.kind === 'written') return;
        counts.itemsDropped += items;
        const why = outcome.kind === 'full' ? `it is full (held by ${outcome.holders.join(', ')})` : outcome.error.message;
        warnOnce(`queue-append:${name}:${outcome.kind}`, `backend "${name}": dropping data that could not be written to the durable queue: ${why}`);
      });
      appending.add(appended);
      return true;
    },
    shed(to) {
      if (to <= reader.position || stopped) return Promise.resolve();
      if (to > shedTo) {
        shedTo = to;
        const old = cut;
        cut = new AbortController();
        setMaxListeners(0, cut.signal);
        old.abort();
      }
      // Past `to`, then written: the space is free only once the cursor file says so.
      return flushTo(to, Infinity).then(() => lastAck);
    },
    async flush(timeout) {
      if (appending.size > 0) {
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          if (Number.isFinite(timeout)) timer = setTimeout(resolve, timeout);
        });
        await Promise.race([Promise.all(appending), late]);
        clearTimeout(timer);
        timeout = Math.max(0, timeout - (performance.now() - started));
      }
      return flushTo(log.end, timeout);
    },
    transferTo(to) {
      if (heir !== undefined) throw new Error(`backend "${name}" was already handed over`);
      heir = to;
      deliverer.handOver();
      wakeLoop?.();
    },
    async shutdown(timeout): Promise<BackendShutdownReport> {
      closed = true;
      if (!stopped) {
        // Handed over: only the deliveries in flight are this one's to finish; the backlog is the heir's.
        if (heir === undefined) await this.flush(timeout);
        else for (const until = Date.now() + timeout; inFlight > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
        stopped = true;
        cut.abort();
        wakeLoop?.();
        notify();
        // Deliveries cut short settle at once; give them a moment so the counts are final.
        for (let i = 0; i < 100 && inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
        await running;
        await transport.close().catch(() => undefined);
      }
      // Handed over: the heir reports the backlog (one cursor, counted once).
      const backlog = heir === undefined ? reader.backlog() : { records: 0, bytes: 0 };
      // Nothing is lost: what was not delivered stays in the log for the next start.
      return { name, undeliveredRequests: 0, undeliveredItems: 0, keptRequests: backlog.records, keptBytes: backlog.bytes };
    },
    stats(): BackendStats {
      const backlog = reader.backlog();
      return {
        name,
        ...counts,
        queueBytes: backlog.bytes,
        queueRequests: backlog.records,
        inFlightRequests: inFlight,
        latencyP50Ms: deliverer.latency.quantile(0.5),
        latencyP99Ms: deliverer.latency.quantile(0.99),
      };
    },
  };
}
