/**
 * The spec's Batch LogRecord Processor, shared by every backend: one bounded buffer, batches encoded
 * once to protobuf and handed to a single `LogBatchSink`, which fans the bytes out.
 *
 * Scheduling (OpenTelemetry Logs SDK spec, "Batching processor"):
 * - a batch leaves when `maxExportBatchSize` records are queued, or `scheduledDelayMillis` after the
 *   first record queued since the last export, whichever comes first;
 * - at most one export is in progress; a full buffer drops the new record and counts it;
 * - when a sink completes synchronously the next full batch leaves at once, so a burst is never
 *   held back by the schedule (the official SDK behaves the same way).
 */
import { warnOnce } from '../internal/warn.js';
import { encodeExportLogsRequest, type EncodedLogResource } from '../otlp/encode/logs.js';
import type { LogRecordData } from './log-record.js';
import { RecordQueue } from './record-queue.js';
import type { LogBatchSink } from './sink.js';

/** Batch processor options; env parsing (OTEL_BLRP_*) is the config layer's job. */
export interface LogBatchOptions {
  /**
   * Records buffered at most; a record emitted into a full buffer is dropped and counted.
   * Default 2048 (spec default): bounds memory to a few MB of records.
   */
  maxQueueSize?: number;
  /**
   * Records per export request; clamped to `maxQueueSize`. Default 512 (spec default): requests stay
   * well under collectors' default 4 MiB gRPC message limit for typical records.
   */
  maxExportBatchSize?: number;
  /**
   * Longest wait before a partial batch is exported. Default 1000 ms (spec default): logs reach the
   * backend within about a second without a request per record.
   */
  scheduledDelayMillis?: number;
  /**
   * How long one `sink.export()` (and the sink's `forceFlush`/`shutdown`) may run before it is
   * abandoned (its signal aborted, the batch counted as failed). Default 30000 ms (spec default).
   */
  exportTimeoutMillis?: number;
}

/** Batch options with every field filled in. */
export interface ResolvedLogBatchOptions {
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
}

const DEFAULT_BATCH: ResolvedLogBatchOptions = Object.freeze({
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 30000,
});

// setTimeout's ceiling; larger delays would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Fills in defaults. A bad value is reported once (field, value, what is allowed) and replaced by
 * its default; `maxExportBatchSize` above `maxQueueSize` is clamped to it, as the spec requires.
 */
export function validateLogBatchOptions(options: LogBatchOptions = {}): ResolvedLogBatchOptions {
  const pick = (field: keyof LogBatchOptions, min: number, max: number): number => {
    const v = options[field];
    if (v === undefined) return DEFAULT_BATCH[field];
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    warnOnce(
      `logs.batch.${field}`,
      `logs batch.${field} = ${String(v)} is not allowed (an integer in ${min}..${max}); using ${DEFAULT_BATCH[field]}`,
    );
    return DEFAULT_BATCH[field];
  };
  const maxQueueSize = pick('maxQueueSize', 1, 2 ** 24);
  let maxExportBatchSize = pick('maxExportBatchSize', 1, 2 ** 24);
  if (maxExportBatchSize > maxQueueSize) {
    warnOnce(
      'logs.batch.maxExportBatchSize.clamp',
      `logs batch.maxExportBatchSize = ${maxExportBatchSize} exceeds maxQueueSize = ${maxQueueSize}; using ${maxQueueSize}`,
    );
    maxExportBatchSize = maxQueueSize;
  }
  return Object.freeze({
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis: pick('scheduledDelayMillis', 0, MAX_TIMER_MS),
    exportTimeoutMillis: pick('exportTimeoutMillis', 1, MAX_TIMER_MS),
  });
}

/** Counters of a logs pipeline, since it was created. */
export interface LogProcessorStats {
  /** Records waiting in the buffer now. */
  readonly queuedRecords: number;
  /** Records refused because the buffer was full. */
  readonly droppedRecords: number;
  /** Records in batches the sink accepted. */
  readonly exportedRecords: number;
  /** Records in batches that failed: the sink threw, rejected or timed out, or encoding failed. */
  readonly failedRecords: number;
}

/** Why a batch export was abandoned; the `reason` of the aborted signal. */
export class LogExportTimeoutError extends Error {
  override readonly name = 'LogExportTimeoutError';
  constructor(readonly timeoutMillis: number) {
    super(`log export did not settle within ${timeoutMillis} ms`);
  }
}

const TIMED_OUT: unique symbol = Symbol('timed out');

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Settles with TIMED_OUT after `ms`, or with `p`'s outcome; aborts `ac` on timeout. */
async function raceTimeout(p: PromiseLike<unknown>, ms: number, ac?: AbortController): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
    timer.unref();
  });
  try {
    const outcome = await Promise.race([p, timeout]);
    if (outcome === TIMED_OUT) ac?.abort(new LogExportTimeoutError(ms));
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The bounded buffer and its export schedule. A class: it is hot state (the ring, the counters)
 * touched by every emit.
 */
export class BatchLogProcessor {
  readonly #queue: RecordQueue<LogRecordData>;
  readonly #options: ResolvedLogBatchOptions;
  readonly #resource: EncodedLogResource;
  #sink: LogBatchSink;
  /** The export whose promise has not settled yet. */
  #inFlight: Promise<void> | undefined;
  /** True while `sink.export()` runs synchronously: a sink that logs must not start a nested export. */
  #busy = false;
  /** Number of forceFlush/shutdown drains running; the schedule stands aside while they run. */
  #draining = 0;
  #timer: NodeJS.Timeout | undefined;
  #shutdown: Promise<void> | undefined;
  #dropped = 0;
  #exported = 0;
  #failed = 0;

  constructor(resource: EncodedLogResource, options: ResolvedLogBatchOptions, sink: LogBatchSink) {
    this.#resource = resource;
    this.#options = options;
    this.#sink = sink;
    this.#queue = new RecordQueue(options.maxQueueSize);
  }

  /** Routes later batches to `sink`. */
  setSink(sink: LogBatchSink): void {
    this.#sink = sink;
  }

  /** Buffers `record`; drops and counts it when the buffer is full. Never throws, never awaits. */
  onEmit(record: LogRecordData): void {
    if (this.#shutdown !== undefined) return;
    if (!this.#queue.push(record)) {
      this.#dropped++;
      warnOnce('logs.queue.full', `log buffer full (maxQueueSize ${this.#options.maxQueueSize}); new records are dropped until it drains`);
      return;
    }
    if (this.#busy || this.#inFlight !== undefined || this.#draining > 0) return;
    if (this.#queue.length >= this.#options.maxExportBatchSize) this.#pump();
    else this.#armTimer();
  }

  /**
   * Exports everything buffered now, in batches, then asks the sink to flush. Resolves when done;
   * never rejects (failures are counted and warned about). After shutdown, waits for the shutdown.
   */
  async forceFlush(): Promise<void> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    await this.#drain();
    await this.#callHook('forceFlush');
  }

  /** Stops accepting records, exports what is buffered, then shuts the sink down. Idempotent. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      await this.#drain();
      await this.#callHook('shutdown');
    })();
    return this.#shutdown;
  }

  /** A snapshot of the counters. */
  stats(): LogProcessorStats {
    return {
      queuedRecords: this.#queue.length,
      droppedRecords: this.#dropped,
      exportedRecords: this.#exported,
      failedRecords: this.#failed,
    };
  }

  /** Exports full batches while the sink keeps up synchronously; then waits on the schedule. */
  #pump(): void {
    const batchSize = this.#options.maxExportBatchSize;
    while (!this.#busy && this.#inFlight === undefined && this.#queue.length >= batchSize) this.#startExport();
    if (!this.#busy && this.#inFlight === undefined && this.#queue.length > 0) this.#armTimer();
  }

  #armTimer(): void {
    if (this.#timer !== undefined || this.#shutdown !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#busy || this.#inFlight !== undefined || this.#draining > 0) return;
      this.#startExport();
      this.#pump();
    }, this.#options.scheduledDelayMillis);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one batch, encodes it once and hands it to the sink. Returns the records taken. */
  #startExport(): number {
    this.#clearTimer();
    const batch = this.#queue.take(this.#options.maxExportBatchSize);
    const n = batch.length;
    if (n === 0) return 0;
    let body: Uint8Array;
    try {
      body = encodeExportLogsRequest(this.#resource, batch);
    } catch (e) {
      // Records are validated at emit, so this is a bug; lose the batch, not the process.
      this.#fail(n, 'encode', e);
      return n;
    }
    const ac = new AbortController();
    let result: unknown;
    this.#busy = true;
    try {
      result = this.#sink.export(body, n, ac.signal);
    } catch (e) {
      this.#fail(n, 'export', e);
      return n;
    } finally {
      this.#busy = false;
    }
    if (!isPromiseLike(result)) {
      this.#exported += n;
      return n;
    }
    this.#inFlight = this.#settle(result, n, ac);
    return n;
  }

  async #settle(result: PromiseLike<unknown>, n: number, ac: AbortController): Promise<void> {
    try {
      const outcome = await raceTimeout(result, this.#options.exportTimeoutMillis, ac);
      if (outcome === TIMED_OUT) this.#fail(n, 'export', new LogExportTimeoutError(this.#options.exportTimeoutMillis));
      else this.#exported += n;
    } catch (e) {
      this.#fail(n, 'export', e);
    } finally {
      this.#inFlight = undefined;
      if (this.#draining === 0 && this.#shutdown === undefined) this.#pump();
    }
  }

  #fail(n: number, stage: string, e: unknown): void {
    this.#failed += n;
    warnOnce(`logs.${stage}.failed`, `log batch ${stage} failed (${n} records lost): ${errorText(e)}`);
  }

  /**
   * Exports what is buffered when the drain starts (records emitted meanwhile may ride along, but a
   * steady stream cannot keep it going forever), one export at a time.
   */
  async #drain(): Promise<void> {
    this.#draining++;
    this.#clearTimer();
    try {
      let budget = this.#queue.length;
      for (;;) {
        while (this.#busy || this.#inFlight !== undefined) await (this.#inFlight ?? null);
        if (budget <= 0 || this.#queue.length === 0) break;
        budget -= this.#startExport();
      }
    } finally {
      this.#draining--;
      if (this.#draining === 0 && this.#shutdown === undefined) this.#pump();
    }
  }

  async #callHook(hook: 'forceFlush' | 'shutdown'): Promise<void> {
    try {
      const result: unknown = this.#sink[hook]?.();
      if (!isPromiseLike(result)) return;
      const outcome = await raceTimeout(result, this.#options.exportTimeoutMillis);
      if (outcome === TIMED_OUT) {
        warnOnce(`logs.sink.${hook}.timeout`, `log sink ${hook}() did not settle within ${this.#options.exportTimeoutMillis} ms`);
      }
    } catch (e) {
      warnOnce(`logs.sink.${hook}.failed`, `log sink ${hook}() failed: ${errorText(e)}`);
    }
  }
}
