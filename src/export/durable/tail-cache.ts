/**
 * The newest records this process appended, kept in memory up to a byte bound, so that readers
 * that keep up with the writer (the live case) take them from here instead of reading them back
 * from the file: no read call, no read buffer, no checksum. Readers that fall behind the cache,
 * and every reader after a restart, read the file as before; the cache never holds the backlog.
 *
 * Measured in the gateway benchmark at 1,000 requests/s with 2 upstreams (BENCHMARKS.md, Durable
 * storage): reading every small batch back from the file cost each upstream a read call through
 * the thread pool and a buffer per batch.
 */
import { FRAME_HEADER_BYTES } from './format.js';

/** One cached record: its frame's position, the position after it, its sequence number and payload. */
interface Cached {
  readonly position: number;
  readonly end: number;
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** What a cache hit hands a reader, in the shape of a scan of the file. */
export interface CachedRun {
  readonly records: Uint8Array[];
  readonly bytes: number;
  /** Position after the last record. */
  readonly end: number;
  /** Sequence number after the last record. */
  readonly seq: number;
  readonly firstSeq: number;
}

export class TailCache {
  #items: Cached[] = [];
  /** Index of the oldest live item in `#items` (evicted ones before it are compacted away in bulk). */
  #head = 0;
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** Remembers a record just written (records arrive in log order). */
  add(position: number, seq: number, payload: Uint8Array): void {
    if (this.maxBytes === 0) return;
    this.#items.push({ position, end: position + FRAME_HEADER_BYTES + payload.byteLength, seq, payload });
    this.#bytes += payload.byteLength;
    while (this.#bytes > this.maxBytes && this.#head < this.#items.length) {
      this.#bytes -= this.#items[this.#head]!.payload.byteLength;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * The cached records from `position` (which must be a record's frame and have sequence number
   * `seq`), contiguous and before `limit` (the end of the segment being read), at most `maxBytes` of
   * payload (at least one record) and `maxRecords`; undefined when `position` is not cached.
   */
  run(position: number, seq: number, limit: number, maxBytes: number, maxRecords: number): CachedRun | undefined {
    const items = this.#items;
    let lo = this.#head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (items[mid]!.position < position) lo = mid + 1;
      else hi = mid;
    }
    const first = items[lo];
    if (first === undefined || first.position !== position || first.seq !== seq) return undefined;
    const records: Uint8Array[] = [];
    let bytes = 0;
    let end = position;
    let next = seq;
    for (let i = lo; i < items.length; i++) {
      const it = items[i]!;
      // Contiguous frames of one segment only: the next segment starts after a header.
      if (it.position !== end || it.end > limit) break;
      if (records.length > 0 && (records.length >= maxRecords || bytes + it.payload.byteLength > maxBytes)) break;
      records.push(it.payload);
      bytes += it.payload.byteLength;
      end = it.end;
      next = it.seq + 1;
    }
    if (records.length === 0) return undefined;
    return { records, bytes, end, seq: next, firstSeq: seq };
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
