/**
 * A reader of the durable log: one consumer (a gateway upstream, a library backend) with its own
 * persisted cursor. Batches are read from the segment files on demand, never cached: the reader's
 * memory is its in-flight batches.
 *
 * Positions, in order: `acked` (persisted as the cursor: everything before it was delivered) ≤ `read`
 * (the next new record to hand out). The batches between them are in flight, retried after a nack, or
 * delivered out of order; `acked` moves over the contiguous delivered prefix only, so a crash repeats
 * at most what was in flight.
 */
import { FRAME_HEADER_BYTES, FrameCursor, SEGMENT_HEADER_BYTES, nextFrame } from './format.js';
import { DurableLogError } from './errors.js';
import type { CursorState, CursorWriter } from './cursor-file.js';
import type { Segment } from './segment.js';
import type { CachedRun } from './tail-cache.js';
import type { FileHandle } from 'node:fs/promises';

/** Records handed to one delivery. Acknowledge or nack the object itself. */
export interface ReadBatch {
  /**
   * Payloads, in log order; views of one read buffer, valid until the batch is acknowledged or nacked
   * (the buffer is then reused for another batch) or dropped.
   */
  readonly records: readonly Uint8Array[];
  /** Position of the first record's frame. */
  readonly start: number;
  /** Position after the batch (and after any damaged bytes skipped on the way). */
  readonly end: number;
  /** Sequence number of the first record. */
  readonly firstSeq: number;
  /** Payload bytes of `records`. */
  readonly bytes: number;
}

/** Records and bytes (positions: frames and damaged stretches) a reader moved past without delivering. */
export interface Dropped {
  readonly records: number;
  readonly bytes: number;
}

/** A reader's backlog: what it has not acknowledged yet (in flight included). */
export interface Backlog {
  /** Bytes of the log from the reader's acknowledged position to the end (frame headers included). */
  readonly bytes: number;
  readonly records: number;
}

export interface DurableLogReader {
  readonly name: string;
  /**
   * The next batch: first a nacked batch again (the same records), else new records from the read
   * position, at most `maxRecords` and `maxBytes` of payload (at least one record, however large).
   * Undefined when there is nothing to read (see `whenReadable`) or the log is closed. Reads of one
   * reader are served one at a time; the deliveries that follow may run concurrently.
   */
  read(maxBytes?: number, maxRecords?: number): Promise<ReadBatch | undefined>;
  /**
   * Marks `batch` delivered. The persisted cursor moves over the contiguous delivered prefix. Resolves
   * once the persisted cursor has passed the batch (after the earlier batches in flight are acknowledged
   * too; a crash after that never repeats it), and the segments it freed are deleted; or when the log
   * closes. Never rejects: a failed cursor write resolves it, is counted in stats, and means repeats
   * after a restart. A batch dropped meanwhile (`dropOldest`, `skipTo`) or acknowledged twice is ignored.
   */
  ack(batch: ReadBatch): Promise<void>;
  /** Makes `batch` readable again (the next `read` returns it first). */
  nack(batch: ReadBatch): void;
  /** Resolves when `read` has something to return (or the log closed, or the reader was removed). */
  whenReadable(): Promise<void>;
  /**
   * Drops at least `bytes` of this reader's oldest data, rounded up to whole segments (what frees disk),
   * in flight included: for a reader whose destination is failing, so that the others keep going.
   */
  dropOldest(bytes: number): Promise<Dropped>;
  /**
   * Moves the cursor forward to `position`, dropping what lies before it: positions are rounded up to
   * the next segment start unless they are the end of the log.
   */
  skipTo(position: number): Promise<Dropped>;
  backlog(): Backlog;
  /** Acknowledged position (what the cursor file says once written). */
  readonly position: number;
  /** Records and bytes this reader dropped since the log was opened. */
  readonly dropped: Dropped;
  /** Batches handed out and not yet acknowledged (retries included). */
  readonly inFlight: number;
}

/** What a reader needs from its log (implemented by the log, kept narrow for tests of the reader's rules). */
export interface ReaderHost {
  readonly closed: boolean;
  readonly end: number;
  readonly nextSeq: number;
  /** The segment holding `position`, or the first one after it; undefined past the end. */
  segmentFrom(position: number): Segment | undefined;
  isActive(segment: Segment): boolean;
  /** The records from `position` (sequence number `seq`) still in memory (tail-cache.ts), within `segment`. */
  recent(position: number, seq: number, segment: Segment, maxBytes: number, maxRecords: number): CachedRun | undefined;
  /** Counts damaged data met at `position` once for the whole log, whichever reader meets it first. */
  countCorrupt(position: number, records: number, bytes: number): void;
  /** A reader left `segment`: the log may close its read handle. */
  left(segment: Segment): void;
  /** The reader's cursor moved and was written: segments behind every reader can go (resolves once gone). */
  cursorMoved(reader: Reader): Promise<void>;
  cursorWriteFailed(error: unknown): void;
}

const INFLIGHT = 0;
const RETRY = 1;
const ACKED = 2;

interface Entry {
  readonly start: number;
  readonly end: number;
  readonly startSeq: number;
  readonly endSeq: number;
  readonly count: number;
  state: number;
  batch: ReadBatch | undefined;
  /** The read buffer the batch's records are views of: back to the pool once the batch is settled. */
  buffer: Buffer | undefined;
}

/** What a scan of a segment found; `buffer` holds the records (undefined when there are none). */
interface Scanned {
  readonly records: Uint8Array[];
  readonly bytes: number;
  readonly end: number;
  readonly seq: number;
  readonly firstSeq: number;
  readonly buffer: Buffer | undefined;
}

const EMPTY: Buffer = Buffer.alloc(0);
const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;
const DEFAULT_MAX_BATCH_RECORDS = 1024;
/**
 * Read buffers kept for reuse per reader. A buffer per read, left to the garbage collector, let a
 * draining gateway's RSS grow by ~60 MiB of dead 1 MiB buffers between collections (V8 collects
 * external memory late); reusing the buffers of settled batches keeps it flat. 4 covers the
 * gateway's default of 4 deliveries in flight per upstream.
 */
const POOLED_BUFFERS = 4;

export class Reader implements DurableLogReader {
  #acked: CursorState;
  #persisted: CursorState;
  #readPos: number;
  #readSeq: number;
  readonly #entries: Entry[] = [];
  #waiters: (() => void)[] = [];
  /** `ack` promises waiting for the persisted cursor to pass their batch. */
  #ackWaiters: { end: number; resolve: () => void }[] = [];
  #serial: Promise<unknown> = Promise.resolve();
  #wanted = false;
  #persisting: Promise<void> | undefined = undefined;
  #droppedRecords = 0;
  #droppedBytes = 0;
  #removed = false;
  readonly #frame = new FrameCursor();
  /** Free read buffers, all of `#pooledSize` bytes (the size of the last batch size asked for). */
  #pool: Buffer[] = [];
  #pooledSize = 0;

  constructor(
    readonly name: string,
    readonly host: ReaderHost,
    readonly writer: CursorWriter,
    start: CursorState,
  ) {
    this.#acked = start;
    this.#persisted = start;
    this.#readPos = start.position;
    this.#readSeq = start.seq;
  }

  get position(): number {
    return this.#acked.position;
  }

  /** Position written to the cursor file: segments before it may be deleted. */
  get persistedPosition(): number {
    return this.#persisted.position;
  }

  get readPosition(): number {
    return this.#readPos;
  }

  get dropped(): Dropped {
    return { records: this.#droppedRecords, bytes: this.#droppedBytes };
  }

  get inFlight(): number {
    let n = 0;
    for (const e of this.#entries) if (e.state !== ACKED) n++;
    return n;
  }

  backlog(): Backlog {
    return {
      bytes: Math.max(0, this.host.end - this.#acked.position),
      records: Math.max(0, this.host.nextSeq - this.#acked.seq),
    };
  }

  read(maxBytes = DEFAULT_MAX_BATCH_BYTES, maxRecords = DEFAULT_MAX_BATCH_RECORDS): Promise<ReadBatch | undefined> {
    const next = this.#serial.then(() => this.#read(Math.max(1, maxBytes), Math.max(1, maxRecords)));
    this.#serial = next.catch(() => undefined);
    return next;
  }

  async #read(maxBytes: number, maxRecords: number): Promise<ReadBatch | undefined> {
    if (this.#removed || this.host.closed) return undefined;
    for (const e of this.#entries) {
      if (e.state !== RETRY) continue;
      const seg = this.host.segmentFrom(e.start);
      if (seg === undefined || seg.base > e.start) continue; // cannot happen: segments behind a reader stay
      const got = await this.#scan(seg, e.start - seg.base, e.end - seg.base, Infinity, e.count, e.startSeq);
      if (e.state !== RETRY) return this.#read(maxBytes, maxRecords); // dropped meanwhile
      e.state = INFLIGHT;
      e.batch = { records: got.records, start: e.start, end: e.end, firstSeq: got.firstSeq, bytes: got.bytes };
      e.buffer = got.buffer;
      return e.batch;
    }
    for (;;) {
      if (this.#removed || this.host.closed) return undefined;
      const pos = this.#readPos;
      const seg = this.host.segmentFrom(pos);
      if (seg === undefined) return undefined;
      if (seg.base + SEGMENT_HEADER_BYTES > pos) {
        // Before the segment's first record: a gap (segments set aside as damaged at open) or its header.
        this.#moveTo(seg.base + SEGMENT_HEADER_BYTES, seg.firstSeq, true);
        continue;
      }
      const off = pos - seg.base;
      if (off >= seg.size) {
        if (this.host.isActive(seg)) return undefined;
        const next = this.host.segmentFrom(seg.end);
        if (next === undefined || next === seg) return undefined;
        this.#moveTo(next.base + SEGMENT_HEADER_BYTES, next.firstSeq, true);
        this.host.left(seg);
        continue;
      }
      const cached = this.host.recent(pos, this.#readSeq, seg, maxBytes, maxRecords);
      const got: Scanned =
        cached === undefined
          ? await this.#scan(seg, off, seg.size, maxBytes, maxRecords, this.#readSeq)
          : { ...cached, end: cached.end - seg.base, buffer: undefined };
      if (this.#readPos !== pos) continue; // skipped meanwhile
      const entry: Entry = {
        start: pos,
        end: seg.base + got.end,
        startSeq: this.#readSeq,
        endSeq: got.seq,
        count: got.records.length,
        state: got.records.length === 0 ? ACKED : INFLIGHT,
        batch: undefined,
        buffer: got.buffer,
      };
      this.#readPos = entry.end;
      this.#readSeq = entry.endSeq;
      this.#entries.push(entry);
      if (entry.count === 0) {
        // Only damaged bytes: acknowledged as read, so the cursor moves past them.
        this.#advance();
        continue;
      }
      entry.batch = { records: got.records, start: entry.start, end: entry.end, firstSeq: got.firstSeq, bytes: got.bytes };
      return entry.batch;
    }
  }

  /** Moves the read position forward over nothing readable (a gap, a segment's end or header). */
  #moveTo(position: number, seq: number, countGap: boolean): void {
    if (countGap && seq > this.#readSeq) this.host.countCorrupt(this.#readPos, seq - this.#readSeq, 0);
    const wasCaughtUp = this.#entries.length === 0 && this.#acked.position === this.#readPos;
    this.#readPos = position;
    // A segment's header is authoritative for its first sequence number.
    this.#readSeq = seq;
    if (wasCaughtUp) {
      this.#acked = { position, seq: this.#readSeq };
      void this.#persist();
    }
  }

  /**
   * Frames of `seg` from file offset `off`, within `limit`: valid records up to the limits, damaged
   * stretches skipped and counted. Reads what it needs in pieces of about `maxBytes`.
   */
  async #scan(seg: Segment, off: number, limit: number, maxBytes: number, maxRecords: number, seq: number): Promise<Scanned> {
    const handle = await seg.acquire().catch((e: unknown) => {
      throw DurableLogError.from(e, `opening ${seg.path}`);
    });
    try {
      return await this.#scanWith(handle, seg, off, limit, maxBytes, maxRecords, seq);
    } catch (e) {
      throw DurableLogError.from(e, `reading ${seg.path}`);
    } finally {
      seg.unuse();
    }
  }

  async #scanWith(handle: FileHandle, seg: Segment, off: number, limit: number, maxBytes: number, maxRecords: number, seq: number): Promise<Scanned> {
    const f = this.#frame;
    const records: Uint8Array[] = [];
    let bytes = 0;
    let firstSeq = seq;
    let at = off; // file offset of buf[0]
    let buf = EMPTY;
    // The buffer `buf` is a view of (pooled ones are larger than a read may need).
    let owner: Buffer | undefined;
    let avail = 0;
    let p = 0;
    const startOff = off;
    let damageAt = Infinity;
    const fill = async (from: number, atLeast: number): Promise<void> => {
      // Sized for the batch asked for (records are views of this buffer), at least one frame header.
      const usual = Math.min(maxBytes, 16 * 1024 * 1024) + FRAME_HEADER_BYTES;
      const len = Math.min(limit - from, Math.max(atLeast, usual));
      // The previous buffer held no record (records are only taken from the last fill): reusable.
      if (owner !== undefined) this.#give(owner);
      owner = this.#take(len, usual);
      buf = owner.subarray(0, len);
      let got = 0;
      while (got < len) {
        const { bytesRead } = await handle.read(buf, got, len - got, from + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      at = from;
      avail = got;
      p = 0;
    };
    await fill(off, FRAME_HEADER_BYTES);
    for (;;) {
      const verify = at + p >= seg.verifiedTo;
      const step = nextFrame(buf, p, avail, limit - at, seg.nonce, seq, verify, f);
      if (step === 'record') {
        const len = f.end - f.payloadStart;
        if (records.length > 0 && (records.length >= maxRecords || bytes + len > maxBytes)) break;
        if (f.seq > seq) this.host.countCorrupt(seg.base + at + p, f.seq - seq, 0);
        if (records.length === 0) firstSeq = f.seq;
        records.push(buf.subarray(f.payloadStart, f.end));
        bytes += len;
        seq = f.seq + 1;
        p = f.end;
        if (records.length >= maxRecords || bytes >= maxBytes) break;
        continue;
      }
      if (step === 'corrupt') {
        damageAt = Math.min(damageAt, at + p);
        this.host.countCorrupt(seg.base + at + p, f.seq - seq + 1, f.end - p);
        seq = f.seq + 1;
        p = f.end;
        continue;
      }
      if (step === 'garbage') {
        damageAt = Math.min(damageAt, at + p);
        this.host.countCorrupt(seg.base + at + p, 0, f.end - p);
        p = f.end;
        continue;
      }
      // 'partial' or 'short': this buffer holds no more whole frames.
      if (at + avail >= limit && step === 'short') {
        // Fewer bytes than a frame header before the segment's end: a damaged tail.
        if (avail > p) this.host.countCorrupt(seg.base + at + p, 0, avail - p);
        damageAt = Math.min(damageAt, at + p);
        p = avail;
        break;
      }
      if (records.length > 0 || avail === 0) break;
      await fill(at + p, step === 'partial' ? f.end - p : FRAME_HEADER_BYTES);
      if (avail === 0) break; // the file is shorter than the index says: nothing more to read here
    }
    const end = at + p;
    // Verified means "every frame checked and whole": the next readers must still skip damage.
    const verified = Math.min(end, damageAt);
    if (startOff <= seg.verifiedTo && verified > seg.verifiedTo) seg.verifiedTo = verified;
    if (records.length === 0 && owner !== undefined) {
      this.#give(owner);
      owner = undefined;
    }
    return { records, bytes, end, seq, firstSeq, buffer: owner };
  }

  /** A read buffer of at least `len` bytes: a pooled one of `usual` bytes when it fits, else a fresh one. */
  #take(len: number, usual: number): Buffer {
    if (usual !== this.#pooledSize) {
      // Another batch size: the pooled buffers are the wrong size.
      this.#pool = [];
      this.#pooledSize = usual;
    }
    if (len > usual) return Buffer.allocUnsafe(len);
    return this.#pool.pop() ?? Buffer.allocUnsafe(usual);
  }

  /** Takes back a read buffer no batch refers to any more. */
  #give(buffer: Buffer | undefined): void {
    if (buffer !== undefined && buffer.length === this.#pooledSize && this.#pool.length < POOLED_BUFFERS) this.#pool.push(buffer);
  }

  ack(batch: ReadBatch): Promise<void> {
    const e = this.#find(batch);
    if (e === undefined || e.state !== INFLIGHT) return Promise.resolve();
    e.state = ACKED;
    e.batch = undefined;
    this.#give(e.buffer);
    e.buffer = undefined;
    const done = new Promise<void>((resolve) => this.#ackWaiters.push({ end: e.end, resolve }));
    if (this.#advance()) void this.#persist();
    return done;
  }

  /** Resolves the `ack` promises whose batch the persisted cursor has passed (all of them when `all`). */
  #settleAcks(all: boolean): void {
    if (this.#ackWaiters.length === 0) return;
    const keep: { end: number; resolve: () => void }[] = [];
    for (const w of this.#ackWaiters) {
      if (all || w.end <= this.#persisted.position) w.resolve();
      else keep.push(w);
    }
    this.#ackWaiters = keep;
  }

  nack(batch: ReadBatch): void {
    const e = this.#find(batch);
    if (e === undefined || e.state !== INFLIGHT) return;
    e.state = RETRY;
    e.batch = undefined;
    this.#give(e.buffer);
    e.buffer = undefined;
    this.#wake();
  }

  #find(batch: ReadBatch): Entry | undefined {
    for (const e of this.#entries) if (e.batch === batch) return e;
    return undefined;
  }

  /** Moves the acknowledged position over the delivered prefix; true when it moved. */
  #advance(): boolean {
    let moved = false;
    while (this.#entries.length > 0 && this.#entries[0]!.state === ACKED) {
      const e = this.#entries.shift()!;
      this.#acked = { position: e.end, seq: e.endSeq };
      moved = true;
    }
    return moved;
  }

  /** Writes the acknowledged position; the promise covers every state set before the call. */
  #persist(): Promise<void> {
    this.#wanted = true;
    this.#persisting ??= this.#persistLoop();
    return this.#persisting;
  }

  async #persistLoop(): Promise<void> {
    // Wait for the end of the turn: acknowledgements of one turn (responses read in one poll phase)
    // make one cursor write. Also, `finally` must run after `#persisting` is assigned.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let failed = false;
    try {
      // After close the cursor file is closed too: what was acknowledged since is repeated next time.
      while (this.#wanted && !this.#removed && !this.host.closed) {
        this.#wanted = false;
        const state = this.#acked;
        this.writer.write(state);
        this.#persisted = state;
      }
    } catch (e) {
      this.host.cursorWriteFailed(e);
      failed = true;
    } finally {
      this.#persisting = undefined;
    }
    await this.host.cursorMoved(this);
    // After the segments it freed are gone, so a caller that awaited ack() sees the room.
    this.#settleAcks(failed || this.#removed);
  }

  /** Resolves once the reads asked for so far are done. */
  idle(): Promise<void> {
    return this.#serial.then(() => undefined);
  }

  /** Resolves once every cursor write started so far is done. */
  async settle(): Promise<void> {
    while (this.#persisting !== undefined) await this.#persisting;
  }

  whenReadable(): Promise<void> {
    if (this.#readable()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #readable(): boolean {
    if (this.#removed || this.host.closed) return true;
    if (this.#readPos < this.host.end) return true;
    for (const e of this.#entries) if (e.state === RETRY) return true;
    return false;
  }

  /** Wakes `whenReadable` callers when there is something to read. */
  wake(): void {
    if (this.#waiters.length > 0 && this.#readable()) this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const resolve of w) resolve();
  }

  dropOldest(bytes: number): Promise<Dropped> {
    return this.skipTo(this.#acked.position + Math.max(1, bytes));
  }

  skipTo(position: number): Promise<Dropped> {
    if (this.#removed || position <= this.#acked.position) return Promise.resolve({ records: 0, bytes: 0 });
    // A position every reader can stand on: the first record of a segment, or the end of the log.
    let target = this.host.end;
    let targetSeq = this.host.nextSeq;
    if (position < target) {
      const seg = this.host.segmentFrom(position);
      // Past a segment's first record: the next segment (for the last one, segmentFrom answers itself).
      const at = seg !== undefined && seg.base + SEGMENT_HEADER_BYTES < position ? this.host.segmentFrom(seg.end) : seg;
      if (at !== undefined && at.base + SEGMENT_HEADER_BYTES >= position) {
        target = at.base + SEGMENT_HEADER_BYTES;
        targetSeq = at.firstSeq;
      }
    }
    let records = 0;
    let bytes = 0;
    while (this.#entries.length > 0 && this.#entries[0]!.end <= target) {
      const e = this.#entries.shift()!;
      if (e.state !== ACKED) {
        records += e.count;
        bytes += e.end - e.start;
      }
      // Not given back to the pool: a consumer may still be delivering a batch dropped under it.
      e.buffer = undefined;
    }
    if (target > this.#readPos) {
      records += Math.max(0, targetSeq - this.#readSeq);
      bytes += target - this.#readPos;
      const from = this.host.segmentFrom(this.#readPos);
      this.#readPos = target;
      this.#readSeq = targetSeq;
      if (from !== undefined && from.base < target) this.host.left(from);
    }
    this.#acked = { position: target, seq: targetSeq };
    this.#advance();
    this.#droppedRecords += records;
    this.#droppedBytes += bytes;
    return this.#persist().then(() => ({ records, bytes }));
  }

  /** The reader is gone (removed, or the log closed): reads answer undefined, waiters wake. */
  detach(removed: boolean): void {
    this.#removed ||= removed;
    this.#wake();
    this.#settleAcks(true);
  }
}
