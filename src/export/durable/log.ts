/**
 * The durable log: one append-only, segmented log in a directory, read by any number of named
 * readers, each through its own persisted cursor (format: format.ts, cursor-file.ts).
 *
 * Appends are group-committed: records appended in one turn of the event loop (and while a write is
 * in flight) go to disk in one `writev` at the end of the turn (`setImmediate`), then one `fdatasync`
 * under `fsync: 'always'`; each append resolves after its records' write returned (and sync, under
 * `always`). Positions and sequence numbers are assigned when the batch is written, so a failed write
 * leaves no hole: the file is truncated back and every append of the batch is rejected.
 *
 * Memory holds the segment index (one small object per file), the readers' positions and in-flight
 * batches, and the records of appends not yet written: never the backlog.
 *
 * Disk is bounded by `maxBytes`: an append that would pass it is refused before anything is written,
 * with the readers that hold the oldest segment; a segment is deleted once every reader's persisted
 * cursor has passed it. With no reader at all nothing is deleted.
 *
 * Opening never fails on the log's own files: a damaged segment header sets the file aside
 * (`<name>.corrupt`, not counted in maxBytes), a torn tail of the last segment is truncated, damaged
 * records are skipped by readers, unreadable cursors start over from the oldest data (repeats, never
 * loss); each is counted in `stats()`. What does throw: an unusable directory (permissions, not a
 * directory) and a directory another live process has open (`locked`).
 */
import { constants, writevSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import { crc32c } from './crc32c.js';
import {
  FRAME_HEADER_BYTES,
  FrameCursor,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  encodeFrameHeader,
  encodeSegmentHeader,
  nextFrame,
  parseSegmentFileName,
  segmentFileName,
} from './format.js';
import { CursorWriter, cursorFileName, parseCursorFileName, readCursorFile, type CursorState } from './cursor-file.js';
import { DurableLogError, type ReaderHold } from './errors.js';
import { validateDurableLogOptions, type DurableLogOptions, type ResolvedDurableLogOptions } from './options.js';
import { Reader, type DurableLogReader, type ReaderHost } from './reader.js';
import { Segment } from './segment.js';
import { TailCache, type CachedRun } from './tail-cache.js';

/** Counters of one reader, in `DurableLogStats.readers`. */
export interface DurableLogReaderStats {
  readonly name: string;
  /** Acknowledged position. */
  readonly position: number;
  readonly backlogBytes: number;
  readonly backlogRecords: number;
  readonly inFlight: number;
  readonly droppedRecords: number;
  readonly droppedBytes: number;
}

export interface DurableLogStats {
  readonly segments: number;
  /** Bytes of the segments in the index (what counts against maxBytes), appends being written included. */
  readonly bytesOnDisk: number;
  readonly maxBytes: number;
  /** Position after the last written record. */
  readonly end: number;
  /** Records in the retained segments. */
  readonly records: number;
  /** Records and payload bytes appended since the log was opened. */
  readonly appendedRecords: number;
  readonly appendedBytes: number;
  /** Write system calls made for appends (group commit: many appends per write). */
  readonly writes: number;
  /** Appends refused because maxBytes was reached (nothing written). */
  readonly refusedFull: number;
  /** Appends rejected by an I/O error (disk full included). */
  readonly appendFailures: number;
  readonly fsyncs: number;
  readonly fsyncFailures: number;
  /** Records lost to damage (bad checksum, or missing from a damaged stretch), counted once for the log. */
  readonly corruptRecords: number;
  /** Bytes skipped as damaged (frames with a bad checksum, unparsable stretches). */
  readonly corruptBytes: number;
  /** Segment files set aside at open because their header was unreadable. */
  readonly corruptSegments: number;
  /** Torn tails truncated at open (a write cut short by a crash or power loss), and their bytes. */
  readonly tornTails: number;
  readonly tornBytes: number;
  /** Readers whose cursor file was unreadable at open: they restarted from the oldest data. */
  readonly cursorsLost: number;
  readonly cursorWriteFailures: number;
  /** Files in the directory that are none of the log's (left alone). */
  readonly ignoredFiles: number;
  readonly readers: readonly DurableLogReaderStats[];
}

/** Where a new reader (one without a cursor file) starts. */
export interface ReaderOptions {
  /**
   * `oldest` (default): the oldest retained record: a reader whose cursor file was lost repeats data
   * rather than skipping it. `end`: only records appended from now on.
   */
  readonly from?: 'oldest' | 'end';
}

export interface DurableLog {
  readonly options: ResolvedDurableLogOptions;
  /**
   * Appends records (one frame each; the bytes are not copied, and the newest are kept for readers
   * that keep up: never change them afterwards). Resolves with the position of the first once written
   * per the fsync policy. Rejects with
   * `DurableLogError`: `full` (checked before anything is written; `holders` names the readers that hold
   * the space), `no_space` / `io` (nothing of this append is acknowledged; later appends try again),
   * `too_large`, `closed`.
   */
  append(records: Uint8Array | readonly Uint8Array[]): Promise<number>;
  /** Whether `records` records of `bytes` payload bytes in all fit under maxBytes now. O(1). */
  hasRoom(bytes: number, records?: number): boolean;
  /** The readers whose cursor is in the oldest segment (what keeps it on disk), most behind first. */
  holders(): ReaderHold[];
  /** The reader `name` (1–200 characters), created with a cursor file if it has none. */
  reader(name: string, options?: ReaderOptions): Promise<DurableLogReader>;
  /** Names of the readers with a cursor (found at open or created since). */
  readerNames(): string[];
  /** Deletes reader `name` and its cursor; the space only it held is freed. False when there was none. */
  removeReader(name: string): Promise<boolean>;
  /** Position after the last written record. */
  readonly end: number;
  /** Where the oldest segment ends: what each of `holders()` must pass to free it. */
  oldestSegmentEnd(): number;
  /** True once `close()` was called. */
  readonly closed: boolean;
  stats(): DurableLogStats;
  /** Waits for the appends made so far to be written, then syncs data, directory and cursors (any policy). */
  sync(): Promise<void>;
  /**
   * Refuses new appends, finishes the ones being written, writes and syncs the cursors (batches in
   * flight stay unacknowledged: they are read again after the next open), closes the files.
   */
  close(): Promise<void>;
}

/** Opens (creating, recovering) the log in `options.directory`. */
export async function openDurableLog(options: DurableLogOptions): Promise<DurableLog> {
  const o = validateDurableLogOptions(options);
  const directory = resolve(o.directory);
  if (openDirectories.has(directory)) throw new DurableLogError('locked', `durable log: ${directory} is already open in this process`);
  openDirectories.add(directory);
  let log: Log | undefined;
  try {
    await mkdir(directory, { recursive: true });
    await lock(directory);
    log = new Log(o, directory);
    await log.recover();
    return log;
  } catch (e) {
    await log?.close().catch(() => undefined); // releases the lock and what recovery opened
    openDirectories.delete(directory);
    throw e;
  }
}

const openDirectories = new Set<string>();
const LOCK_FILE = 'LOCK';

/**
 * One process at a time: a LOCK file holding the owner's pid. A stale one (owner dead, or ourselves:
 * pid 1 again in a restarted container) is taken over. Limit: a pid reused by an unrelated live
 * process after a reboot makes opening fail until the file is deleted; the message says which file.
 */
async function lock(directory: string): Promise<void> {
  const path = join(directory, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const h = await open(path, 'wx');
      try {
        await h.writeFile(`${process.pid}\n`);
      } finally {
        await h.close();
      }
      return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST' || attempt > 0) throw DurableLogError.from(e, `locking ${path}`);
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new DurableLogError(
        'locked',
        `durable log: ${directory} is in use by process ${pid} (delete ${path} if that process is not an otlp-fanout)`,
      );
    }
    await unlink(path).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

interface AppendOp {
  remaining: number;
  position: number;
  settled: boolean;
  resolve(position: number): void;
  reject(error: DurableLogError): void;
}

interface PendingRecord {
  readonly payload: Uint8Array;
  readonly crc: number;
  readonly op: AppendOp;
}

const NAME_LIMIT = 200;
/** Payload bytes of the newest records kept for readers that keep up (tail-cache.ts). */
const TAIL_CACHE_BYTES = 4 * 1024 * 1024;

class Log implements DurableLog, ReaderHost {
  readonly options: ResolvedDurableLogOptions;
  readonly #dir: string;
  readonly #segments: Segment[] = [];
  #writeHandle: FileHandle | undefined = undefined;
  nextSeq = 0;
  #bytesOnDisk = 0;
  #pendingBytes = 0;
  #pending: PendingRecord[] = [];
  #writing: Promise<void> | undefined = undefined;
  #scheduled = false;
  closed = false;
  readonly #readers = new Map<string, Reader>();
  #timer: NodeJS.Timeout | undefined = undefined;
  #dataDirty = false;
  #dirDirty = false;
  readonly #cursorsDirty = new Set<Reader>();
  #syncing: Promise<void> | undefined = undefined;
  #collecting: Promise<void> | undefined = undefined;
  #collectAgain = false;
  /** Damage before this position was counted already (by the reader that met it first). */
  #countedTo = 0;
  readonly #tail = new TailCache(TAIL_CACHE_BYTES);
  readonly #c = {
    appendedRecords: 0,
    appendedBytes: 0,
    writes: 0,
    refusedFull: 0,
    appendFailures: 0,
    fsyncs: 0,
    fsyncFailures: 0,
    corruptRecords: 0,
    corruptBytes: 0,
    corruptSegments: 0,
    tornTails: 0,
    tornBytes: 0,
    cursorsLost: 0,
    cursorWriteFailures: 0,
    ignoredFiles: 0,
  };

  constructor(options: ResolvedDurableLogOptions, directory: string) {
    this.options = options;
    this.#dir = directory;
  }

  // ---- recovery -------------------------------------------------------------------------------

  async recover(): Promise<void> {
    const names = await readdir(this.#dir);
    const segments: { base: number; name: string }[] = [];
    const cursors: { name: string; file: string }[] = [];
    for (const file of names) {
      const base = parseSegmentFileName(file);
      if (base !== undefined) segments.push({ base, name: file });
      else if (file.endsWith('.tmp')) await unlink(join(this.#dir, file)).catch(() => undefined);
      else {
        const name = parseCursorFileName(file);
        if (name !== undefined) cursors.push({ name, file });
        else if (file !== LOCK_FILE && !file.endsWith('.corrupt')) this.#c.ignoredFiles++;
      }
    }
    segments.sort((a, b) => a.base - b.base);
    let floor = 0; // positions already used by set-aside segments: new ones start after them
    const setAside: number[] = [];
    for (let i = 0; i < segments.length; i++) {
      const { base, name } = segments[i]!;
      const path = join(this.#dir, name);
      const found = await readSegmentHead(path);
      const header = found.header;
      const prev = this.#segments.at(-1);
      let problem = typeof header === 'string' ? header : header.base !== base ? 'base differs from the file name' : undefined;
      if (problem === undefined && prev !== undefined && base < prev.base + SEGMENT_HEADER_BYTES) problem = 'overlaps the previous segment';
      if (problem !== undefined || typeof header === 'string') {
        if (i === segments.length - 1 && found.torn) {
          // Created, header not (fully) written before a crash: a torn tail.
          this.#c.tornTails++;
          this.#c.tornBytes += found.size;
          await unlink(path).catch(() => undefined);
        } else {
          this.#c.corruptSegments++;
          floor = Math.max(floor, base + found.size);
          setAside.push(base);
          await rename(path, `${path}.corrupt`).catch(() => undefined);
        }
        continue;
      }
      // A segment whose write failed and could not be truncated has bytes past its logical end: the
      // next segment's base says where it ended.
      if (prev !== undefined && base < prev.end) prev.size = base - prev.base;
      this.#segments.push(new Segment(base, header.firstSeq, header.nonce, path, found.size, SEGMENT_HEADER_BYTES));
    }
    const states = new Map<string, { state: CursorState; generation: number } | 'corrupt'>();
    let cursorFloor = 0;
    let seqFloor = 0;
    for (const { name, file } of cursors) {
      const read = await readCursorFile(join(this.#dir, file));
      if (read === 'missing') continue;
      if (read === 'corrupt') {
        states.set(name, 'corrupt');
        continue;
      }
      states.set(name, read);
      cursorFloor = Math.max(cursorFloor, read.state.position);
      seqFloor = Math.max(seqFloor, read.state.seq);
    }
    const last = this.#segments.at(-1);
    if (last === undefined) {
      // Positions never go back: a reader's cursor must stay behind every future record.
      this.nextSeq = seqFloor;
      await this.#createSegment(Math.max(floor, cursorFloor), this.nextSeq);
    } else {
      for (const s of this.#segments) this.#bytesOnDisk += s.size;
      await this.#recoverTail(last);
    }
    for (const [name, read] of states) {
      const start = read === 'corrupt' ? this.#oldest() : this.#place(read.state);
      if (read !== 'corrupt' && setAside.some((b) => b >= read.state.position - SEGMENT_HEADER_BYTES && b < start.position)) {
        // The reader had not read the segments set aside: their records are lost to it.
        this.countCorrupt(read.state.position, start.seq - read.state.seq, 0);
      }
      if (read === 'corrupt') this.#c.cursorsLost++;
      // A cursor file that cannot be opened for writing is a permission or device problem, like an
      // unusable directory: opening fails rather than run without a reader whose data would be deleted.
      const path = join(this.#dir, cursorFileName(name));
      const writer = await CursorWriter.open(path, read === 'corrupt' ? 0 : read.generation).catch((e: unknown) => {
        throw DurableLogError.from(e, `opening ${path}`);
      });
      const reader = new Reader(name, this, writer, start);
      this.#readers.set(name, reader);
      if (read === 'corrupt' || start.position !== read.state.position || start.seq !== read.state.seq) {
        try {
          writer.write(start);
        } catch {
          this.cursorWriteFailed();
        }
      }
    }
    if (this.options.fsync !== 'never') {
      this.#timer = setInterval(() => void this.#syncNow(), this.options.fsync === 'always' ? 1000 : this.options.fsyncIntervalMillis);
      this.#timer.unref();
    }
    await this.#collect();
  }

  /** Checks every frame of the last segment; truncates what follows the last valid one. */
  async #recoverTail(seg: Segment): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(seg.path, 'r+');
      const f = new FrameCursor();
      let limit = seg.size;
      let at = SEGMENT_HEADER_BYTES;
      let seq = seg.firstSeq;
      let validEnd = SEGMENT_HEADER_BYTES;
      let seqAtValidEnd = seq;
      let need = FRAME_HEADER_BYTES;
      let damageAt = Infinity;
      while (at < limit) {
        const len = Math.min(limit - at, Math.max(4 * 1024 * 1024, need));
        const buf = Buffer.allocUnsafe(len);
        let avail = 0;
        while (avail < len) {
          const { bytesRead } = await handle.read(buf, avail, len - avail, at + avail);
          if (bytesRead === 0) break;
          avail += bytesRead;
        }
        if (avail < len) limit = at + avail; // shorter than it was a moment ago
        let p = 0;
        need = FRAME_HEADER_BYTES;
        for (;;) {
          const step = nextFrame(buf, p, avail, limit - at, seg.nonce, seq, true, f);
          if (step === 'record') {
            seq = f.seq + 1;
            p = f.end;
            validEnd = at + p;
            seqAtValidEnd = seq;
          } else if (step === 'corrupt') {
            damageAt = Math.min(damageAt, at + p);
            seq = f.seq + 1;
            p = f.end;
          } else if (step === 'garbage') {
            damageAt = Math.min(damageAt, at + p);
            p = f.end;
          } else {
            if (step === 'partial') need = f.end - p;
            break;
          }
        }
        if (at + avail >= limit) break;
        at += p;
      }
      // Readers skip checksums below verifiedTo, so it stops at the first damage (they must skip it).
      seg.verifiedTo = Math.min(validEnd, damageAt);
      this.nextSeq = seqAtValidEnd;
      if (validEnd < seg.size) {
        this.#c.tornTails++;
        this.#c.tornBytes += seg.size - validEnd;
        this.#bytesOnDisk -= seg.size - validEnd;
        seg.size = validEnd;
        try {
          await handle.truncate(validEnd);
        } catch {
          seg.broken = true;
        }
      }
      this.#writeHandle = handle;
      handle = undefined;
    } catch {
      // Unreadable now: leave it to the readers (they count what they cannot read); write elsewhere.
      seg.broken = true;
      this.nextSeq = Math.max(this.nextSeq, seg.firstSeq);
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /** Where a cursor read at open stands in what is on disk now. */
  #place(state: CursorState): CursorState {
    const first = this.#segments[0]!;
    if (state.position >= this.end) return { position: this.end, seq: this.nextSeq };
    if (state.position <= first.base + SEGMENT_HEADER_BYTES) return this.#oldest();
    const seg = this.segmentFrom(state.position)!;
    // In a gap or a header: the segment's first record.
    if (state.position <= seg.base + SEGMENT_HEADER_BYTES) return { position: seg.base + SEGMENT_HEADER_BYTES, seq: seg.firstSeq };
    return state;
  }

  #oldest(): CursorState {
    const first = this.#segments[0]!;
    return { position: first.base + SEGMENT_HEADER_BYTES, seq: first.firstSeq };
  }

  // ---- appending ------------------------------------------------------------------------------

  get end(): number {
    return this.#segments.at(-1)!.end;
  }

  hasRoom(bytes: number, records = 1): boolean {
    return this.#bytesOnDisk + this.#pendingBytes + bytes + records * FRAME_HEADER_BYTES <= this.options.maxBytes;
  }

  oldestSegmentEnd(): number {
    return this.#segments[0]!.end;
  }

  holders(): ReaderHold[] {
    const oldest = this.#segments[0]!;
    const out: { reader: Reader; position: number }[] = [];
    for (const r of this.#readers.values()) if (r.persistedPosition < oldest.end) out.push({ reader: r, position: r.persistedPosition });
    out.sort((a, b) => a.position - b.position);
    return out.map(({ reader }) => {
      const b = reader.backlog();
      return { name: reader.name, backlogBytes: b.bytes, backlogRecords: b.records };
    });
  }

  append(records: Uint8Array | readonly Uint8Array[]): Promise<number> {
    if (this.closed) return Promise.reject(new DurableLogError('closed', 'durable log: closed'));
    const list: readonly Uint8Array[] = records instanceof Uint8Array ? [records] : records;
    if (list.length === 0) return Promise.resolve(this.end);
    let bytes = 0;
    for (const r of list) {
      if (r.length > this.options.maxRecordBytes) {
        return Promise.reject(
          new DurableLogError('too_large', `durable log: a record of ${r.length} bytes is over maxRecordBytes (${this.options.maxRecordBytes})`),
        );
      }
      bytes += r.length;
    }
    if (!this.hasRoom(bytes, list.length)) {
      this.#c.refusedFull++;
      const holders = this.holders();
      return Promise.reject(
        new DurableLogError(
          'full',
          `durable log: maxBytes (${this.options.maxBytes}) reached; the oldest segment is held by ${holders.length === 0 ? 'no reader' : holders.map((h) => h.name).join(', ')}`,
          holders,
        ),
      );
    }
    this.#pendingBytes += bytes + list.length * FRAME_HEADER_BYTES;
    return new Promise<number>((resolve, reject) => {
      const op: AppendOp = { remaining: list.length, position: -1, settled: false, resolve, reject };
      // The checksum is computed here, on the caller's turn: the write batch only adds 24-byte headers.
      for (const payload of list) this.#pending.push({ payload, crc: crc32c(payload), op });
      if (!this.#scheduled && this.#writing === undefined) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#writing ??= this.#drain();
        });
      }
    });
  }

  /** Writes pending records batch after batch until none is left (appends made meanwhile join the next). */
  async #drain(): Promise<void> {
    await Promise.resolve(); // `finally` must run after `#writing` is assigned, never before
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        await this.#writeBatch(batch);
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #writeBatch(items: PendingRecord[]): Promise<void> {
    const { segmentBytes, fsync } = this.options;
    let i = 0;
    while (i < items.length) {
      let seg = this.#segments.at(-1)!;
      try {
        const first = FRAME_HEADER_BYTES + items[i]!.payload.length;
        if (this.#writeHandle === undefined || seg.broken || (seg.size > SEGMENT_HEADER_BYTES && seg.size + first > segmentBytes)) {
          seg = await this.#roll();
        }
      } catch (e) {
        this.#fail(items, i, DurableLogError.from(e, 'starting a segment'));
        return;
      }
      let j = i;
      let bytes = 0;
      while (j < items.length) {
        const len = FRAME_HEADER_BYTES + items[j]!.payload.length;
        if (j > i && seg.size + bytes + len > segmentBytes) break;
        bytes += len;
        j++;
      }
      const headers = Buffer.allocUnsafe((j - i) * FRAME_HEADER_BYTES);
      const buffers: Uint8Array[] = [];
      for (let k = i; k < j; k++) {
        const item = items[k]!;
        const h = (k - i) * FRAME_HEADER_BYTES;
        encodeFrameHeader(headers, h, seg.nonce, item.payload.length, this.nextSeq + (k - i), item.crc);
        buffers.push(headers.subarray(h, h + FRAME_HEADER_BYTES), item.payload);
      }
      const handle = this.#writeHandle!;
      try {
        this.#c.writes++;
        writeAll(handle, buffers, seg.size);
        if (fsync === 'always') await this.#datasync(handle);
      } catch (e) {
        // Undo the partial write so the next batch starts on a frame boundary; if even that fails, the
        // segment is closed to writes at its logical size (readers never look past it).
        await handle.truncate(seg.size).catch(() => {
          seg.broken = true;
        });
        this.#fail(items, i, DurableLogError.from(e, `writing ${seg.path}`));
        return;
      }
      let pos = seg.end;
      // What this process wrote is not verified again when read back: it was checksummed from these
      // very buffers and comes back from the page cache. Readers verify what an earlier run wrote
      // (recovery), the damage a crash, a disk or another writer can cause. Saves ~5 µs per 10 KiB read.
      if (seg.verifiedTo >= seg.size) seg.verifiedTo = seg.size + bytes;
      seg.size += bytes;
      this.#bytesOnDisk += bytes;
      this.#pendingBytes -= bytes;
      this.nextSeq += j - i;
      this.#dataDirty = true;
      for (let k = i; k < j; k++) {
        const item = items[k]!;
        const op = item.op;
        if (op.position < 0) op.position = pos;
        this.#tail.add(pos, this.nextSeq - (j - i) + (k - i), item.payload);
        pos += FRAME_HEADER_BYTES + item.payload.length;
        this.#c.appendedRecords++;
        this.#c.appendedBytes += item.payload.length;
        if (--op.remaining === 0 && !op.settled) {
          op.settled = true;
          op.resolve(op.position);
        }
      }
      for (const r of this.#readers.values()) r.wake();
      i = j;
    }
  }

  #fail(items: PendingRecord[], from: number, error: DurableLogError): void {
    for (let k = from; k < items.length; k++) {
      const item = items[k]!;
      this.#pendingBytes -= FRAME_HEADER_BYTES + item.payload.length;
      if (!item.op.settled) {
        item.op.settled = true;
        this.#c.appendFailures++;
        item.op.reject(error);
      }
    }
  }

  /** Seals the last segment and starts the next one; the old stays the active one if this fails. */
  async #roll(): Promise<Segment> {
    const old = this.#segments.at(-1)!;
    const fresh = await this.#createSegment(old.end, this.nextSeq);
    const oldHandle = this.#writeHandle;
    this.#writeHandle = fresh;
    if (oldHandle !== undefined) {
      // Under `interval` the timer only syncs the active file: sync the sealed one now.
      if (this.options.fsync === 'interval' && this.#dataDirty) await this.#datasync(oldHandle).catch(() => undefined);
      await oldHandle.close().catch(() => undefined);
    }
    this.#dataDirty = false;
    return this.#segments.at(-1)!;
  }

  /** Creates the segment file at `base` and makes it the last one (with its write handle open). */
  async #createSegment(base: number, firstSeq: number): Promise<FileHandle> {
    const path = join(this.#dir, segmentFileName(base));
    const nonce = randomInt(1, 0x1_0000_0000 - 1);
    let handle: FileHandle | undefined = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC);
    try {
      writeAll(handle, [encodeSegmentHeader({ base, firstSeq, nonce })], 0);
      if (this.options.fsync === 'always') {
        await this.#datasync(handle);
        await syncDirectory(this.#dir);
      } else this.#dirDirty = true;
      const seg = new Segment(base, firstSeq, nonce, path, SEGMENT_HEADER_BYTES, SEGMENT_HEADER_BYTES);
      this.#segments.push(seg);
      this.#bytesOnDisk += SEGMENT_HEADER_BYTES;
      const h = handle;
      handle = undefined;
      this.#writeHandle ??= h;
      return h;
    } finally {
      if (handle !== undefined) {
        await handle.close().catch(() => undefined);
        await unlink(path).catch(() => undefined);
      }
    }
  }

  async #datasync(handle: FileHandle): Promise<void> {
    try {
      await handle.datasync();
      this.#c.fsyncs++;
    } catch (e) {
      this.#c.fsyncFailures++;
      throw e;
    }
  }

  /** The background sync (`interval`), and `sync()`: active segment, directory, moved cursors. */
  #syncNow(): Promise<void> {
    this.#syncing ??= (async () => {
      await Promise.resolve(); // as in #collect: `finally` after the assignment
      try {
        const tasks: Promise<unknown>[] = [];
        if (this.#dataDirty && this.#writeHandle !== undefined) {
          this.#dataDirty = false;
          tasks.push(this.#datasync(this.#writeHandle).catch(() => (this.#dataDirty = true)));
        }
        if (this.#dirDirty) {
          this.#dirDirty = false;
          tasks.push(syncDirectory(this.#dir).catch(() => (this.#dirDirty = true)));
        }
        for (const r of this.#cursorsDirty) tasks.push(r.writer.sync().catch(() => undefined));
        this.#cursorsDirty.clear();
        await Promise.all(tasks);
      } finally {
        this.#syncing = undefined;
      }
    })();
    return this.#syncing;
  }

  async sync(): Promise<void> {
    while (this.#writing !== undefined || this.#scheduled) {
      if (this.#writing !== undefined) await this.#writing;
      else await new Promise<void>((r) => setImmediate(r));
    }
    for (const r of this.#readers.values()) await r.settle();
    if (this.#syncing !== undefined) await this.#syncing;
    await this.#syncNow();
  }

  // ---- readers --------------------------------------------------------------------------------

  async reader(name: string, options: ReaderOptions = {}): Promise<DurableLogReader> {
    if (typeof name !== 'string' || name.length === 0 || name.length > NAME_LIMIT) {
      throw new RangeError(`durable log: reader name must be a string of 1 to ${NAME_LIMIT} characters`);
    }
    if (this.closed) throw new DurableLogError('closed', 'durable log: closed');
    const known = this.#readers.get(name);
    if (known !== undefined) return known;
    const start = options.from === 'end' ? { position: this.end, seq: this.nextSeq } : this.#oldest();
    let writer: CursorWriter;
    try {
      writer = await CursorWriter.open(join(this.#dir, cursorFileName(name)), 0);
      writer.write(start);
    } catch (e) {
      throw DurableLogError.from(e, `creating the cursor of reader ${JSON.stringify(name)}`);
    }
    const again = this.#readers.get(name); // created by a concurrent call meanwhile
    if (again !== undefined) {
      await writer.close().catch(() => undefined);
      return again;
    }
    const reader = new Reader(name, this, writer, start);
    this.#readers.set(name, reader);
    this.#dirDirty = true;
    return reader;
  }

  readerNames(): string[] {
    return [...this.#readers.keys()];
  }

  async removeReader(name: string): Promise<boolean> {
    const reader = this.#readers.get(name);
    if (reader === undefined) return false;
    this.#readers.delete(name);
    this.#cursorsDirty.delete(reader);
    reader.detach(true);
    await reader.settle();
    await reader.writer.close().catch(() => undefined);
    await unlink(reader.writer.path).catch(() => undefined);
    this.#dirDirty = true;
    await this.#collect();
    return true;
  }

  // ReaderHost

  segmentFrom(position: number): Segment | undefined {
    const segs = this.#segments;
    // Binary search for the first segment that ends after `position`.
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.end > position) hi = mid;
      else lo = mid + 1;
    }
    if (lo < segs.length) return segs[lo];
    const last = segs.at(-1);
    return last !== undefined && position >= last.base ? last : undefined;
  }

  recent(position: number, seq: number, segment: Segment, maxBytes: number, maxRecords: number): CachedRun | undefined {
    return this.#tail.run(position, seq, segment.base + segment.size, maxBytes, maxRecords);
  }

  isActive(segment: Segment): boolean {
    return segment === this.#segments.at(-1);
  }

  countCorrupt(position: number, records: number, bytes: number): void {
    if (position < this.#countedTo) return;
    this.#countedTo = position + Math.max(1, bytes);
    this.#c.corruptRecords += records;
    this.#c.corruptBytes += bytes;
  }

  left(segment: Segment): void {
    for (const r of this.#readers.values()) {
      if (r.readPosition >= segment.base && r.readPosition < segment.end) return;
    }
    void segment.release();
  }

  cursorMoved(reader: Reader): Promise<void> {
    if (this.#readers.get(reader.name) === reader) this.#cursorsDirty.add(reader);
    return this.#collect();
  }

  cursorWriteFailed(): void {
    this.#c.cursorWriteFailures++;
  }

  /**
   * Deletes the segments every reader's persisted cursor has passed (the last one always stays).
   * One pass at a time; a call during a pass makes it go round again, and resolves with it.
   */
  #collect(): Promise<void> {
    if (this.#collecting !== undefined) {
      this.#collectAgain = true;
      return this.#collecting;
    }
    this.#collecting = (async () => {
      // Yield first: `finally` must run after the assignment of this promise, never before.
      await Promise.resolve();
      try {
        do {
          this.#collectAgain = false;
          if (this.#readers.size === 0) break;
          let min = Infinity;
          for (const r of this.#readers.values()) min = Math.min(min, r.persistedPosition);
          while (this.#segments.length > 1 && this.#segments[0]!.end <= min) {
            const seg = this.#segments.shift()!;
            // Counted free at once: an append waiting for room need not wait for the unlink.
            this.#bytesOnDisk -= seg.size;
            await seg.release();
            await unlink(seg.path).catch(() => undefined);
            this.#dirDirty = true;
          }
        } while (this.#collectAgain);
      } finally {
        this.#collecting = undefined;
      }
    })();
    return this.#collecting;
  }

  // ---- observing and closing ------------------------------------------------------------------

  stats(): DurableLogStats {
    const first = this.#segments[0]!;
    const readers: DurableLogReaderStats[] = [];
    for (const r of this.#readers.values()) {
      const b = r.backlog();
      const d = r.dropped;
      readers.push({
        name: r.name,
        position: r.position,
        backlogBytes: b.bytes,
        backlogRecords: b.records,
        inFlight: r.inFlight,
        droppedRecords: d.records,
        droppedBytes: d.bytes,
      });
    }
    return {
      segments: this.#segments.length,
      bytesOnDisk: this.#bytesOnDisk + this.#pendingBytes,
      maxBytes: this.options.maxBytes,
      end: this.end,
      records: this.nextSeq - first.firstSeq,
      ...this.#c,
      readers,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.#tail.clear();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    while (this.#writing !== undefined || this.#scheduled) {
      if (this.#writing !== undefined) await this.#writing;
      else await new Promise<void>((r) => setImmediate(r));
    }
    for (const r of this.#readers.values()) {
      await r.settle(); // cursor writes started before close() finish; later ones are not made
      r.detach(false);
      await r.idle();
    }
    if (this.options.fsync !== 'never') await this.#syncNow().catch(() => undefined);
    for (const r of this.#readers.values()) await r.writer.close().catch(() => undefined);
    await this.#writeHandle?.close().catch(() => undefined);
    this.#writeHandle = undefined;
    for (const s of this.#segments) await s.release();
    await this.#collecting;
    await unlink(join(this.#dir, LOCK_FILE)).catch(() => undefined);
    openDirectories.delete(this.#dir);
  }
}

/**
 * Header and size of a segment file; a string header says why it is unreadable. `torn`: a regular
 * file shorter than a header (created, then a crash before its header was written).
 */
async function readSegmentHead(path: string): Promise<{ header: ReturnType<typeof decodeSegmentHeader>; size: number; torn: boolean }> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const st = await handle.stat();
    if (!st.isFile()) return { header: 'not a regular file', size: 0, torn: false };
    const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const { bytesRead } = await handle.read(b, 0, SEGMENT_HEADER_BYTES, 0);
    return { header: decodeSegmentHeader(b.subarray(0, bytesRead)), size: st.size, torn: st.size < SEGMENT_HEADER_BYTES };
  } catch (e) {
    return { header: `unreadable: ${(e as Error).message}`, size: 0, torn: false };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * pwritev of all of `buffers` at `position`, continuing after short writes (a short write is how an
 * error after a partial write shows; the retry reports it).
 *
 * Synchronous on purpose: into the page cache a writev of a group of 10 KiB records takes a few µs
 * of CPU, where the same write through libuv's thread pool costs 30–80 µs of CPU on this 2-core
 * machine (thread hand-off and wake-ups; bench:durable, "append … 1 per turn"), which at one append
 * per turn would be most of a request's budget. It blocks the event loop only while the kernel
 * copies the bytes, or when the kernel throttles writers because the disk is behind, when the
 * gateway cannot go faster anyway. `fdatasync` (milliseconds) stays off the event loop.
 */
function writeAll(handle: FileHandle, buffers: Uint8Array[], position: number): void {
  let total = 0;
  for (const b of buffers) total += b.length;
  let done = 0;
  let bufs = buffers;
  while (done < total) {
    const written = writevSync(handle.fd, bufs, position + done);
    if (written === 0) throw new Error('write returned 0 bytes');
    done += written;
    if (done >= total) break;
    let skip = written;
    const rest: Uint8Array[] = [];
    for (const b of bufs) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    bufs = rest;
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const h = await open(directory, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

// One import for users of the log (the gateway's upstreams, the library's backends).
export type { Backlog, DurableLogReader, Dropped, ReadBatch } from './reader.js';
export { DurableLogError, type DurableLogErrorCode, type ReaderHold } from './errors.js';
export {
  DURABLE_LOG_DEFAULTS,
  validateDurableLogOptions,
  type DurableLogOptions,
  type FsyncPolicy,
  type ResolvedDurableLogOptions,
} from './options.js';
