/**
 * The state of a stateful processor (temporality.ts): one slot per metric stream, found by the
 * stream's 64-bit identity hash (internal/byte-hash.ts), bounded and observable, with undo for
 * the request being processed.
 *
 * - Bounded: at most `maxStreams` slots; a new stream past it takes the slot of the least recently
 *   seen one (an LRU list), and `sweep()` forgets streams not seen for `staleAfterMillis` (by the
 *   gateway's clock). Both are counted (`evictedLru`, `evictedStale`), and each raises `horizon`
 *   to the forgotten stream's last point time: a later first point must start after it to be
 *   trusted (temporality.ts, first-point rule).
 * - Compact: the fixed part of a slot lives in typed arrays (struct of arrays: no object, no
 *   bigint per stream), and the identity index is an open-addressing table of slot numbers.
 *   ~80 bytes per sum stream plus growth slack (BENCHMARKS.md, Temporality state); histograms
 *   keep their buckets in `extra`.
 * - Undo: a request's bodies are built before it is admitted (forward/ingest.ts), and a refused
 *   request will be sent again. Every change made while processing one request is journaled
 *   (`save()` before a slot changes, slots created) and either kept (`commit()`) or undone
 *   (`rollback()`), so a refused request leaves the state as it was and its retry converts the
 *   same way. `extra` objects are never changed in place: a change stores a new object, so the
 *   journal keeps the old one by reference.
 *
 * Times are fixed64 nanoseconds kept as two uint32 words (`hi`, `lo`), as read from the wire.
 */

// What a slot holds (`held`). HELD_NONE: nothing yet, or a stream that ended (a no-recorded-value point).
export const HELD_NONE = 0;
export const HELD_DOUBLE = 1;
export const HELD_INT = 2;
export const HELD_HISTOGRAM = 3;
export const HELD_EXPONENTIAL = 4;

/** Fields saved per journaled slot: slot, generation, held, startHi, startLo, timeHi, timeLo, value words (2), extra's index. */
const SAVED = 10;

export class StreamTable {
  readonly maxStreams: number;
  readonly staleAfterMillis: number;
  /** Slots in use. */
  count = 0;
  /** Streams forgotten to make room for new ones, and for not being seen for `staleAfterMillis`. */
  evictedLru = 0;
  evictedStale = 0;
  /** The latest last-point time of any forgotten stream (0 before any). */
  horizonHi = 0;
  horizonLo = 0;

  // Per slot.
  idHi: Uint32Array;
  idLo: Uint32Array;
  held: Uint8Array;
  startHi: Uint32Array;
  startLo: Uint32Array;
  timeHi: Uint32Array;
  timeLo: Uint32Array;
  /** A double value, or an int64 as two words in `words` (same buffer): [lo, hi] per slot. */
  value: Float64Array;
  words: Uint32Array;
  /** Gateway clock (ms) when last seen. */
  seen: Float64Array;
  /** LRU list: `prev` towards the most recent (`head`), `next` towards the least (`tail`); -1 ends. */
  prev: Int32Array;
  next: Int32Array;
  /** Bumped when a slot is given to another stream, so that an undo never touches a slot's new owner. */
  gen: Uint32Array;
  /** The request (transaction) that last journaled the slot. */
  tx: Uint32Array;
  /** Histogram state; replaced, never changed in place. */
  extra: unknown[] = [];
  head = -1;
  tail = -1;
  /** Free slots (below `used`). */
  free: number[] = [];
  used = 0;

  /** Identity index: open addressing, linear probing, load ≤ 1/2; a cell holds slot + 1 (0: empty). */
  index: Int32Array;
  mask: number;

  txn = 1;
  /**
   * The journal: SAVED numbers per saved slot, and the slots created (slot, generation), in typed
   * arrays with counts (a plain array emptied by `length = 0` per request gives its storage back,
   * and refilling it allocated again: measured a tenth of a conversion). `journalExtra` holds the
   * old `extra` of saved slots that had one, its index in the journal's last column.
   */
  journal = new Float64Array(SAVED * 256);
  saved = 0;
  readonly journalExtra: unknown[] = [];
  createdSlots = new Uint32Array(512);
  created = 0;

  constructor(maxStreams: number, staleAfterMillis: number) {
    this.maxStreams = maxStreams;
    this.staleAfterMillis = staleAfterMillis;
    const capacity = Math.min(64, maxStreams);
    this.idHi = new Uint32Array(capacity);
    this.idLo = new Uint32Array(capacity);
    this.held = new Uint8Array(capacity);
    this.startHi = new Uint32Array(capacity);
    this.startLo = new Uint32Array(capacity);
    this.timeHi = new Uint32Array(capacity);
    this.timeLo = new Uint32Array(capacity);
    this.value = new Float64Array(capacity);
    this.words = new Uint32Array(this.value.buffer);
    this.seen = new Float64Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.gen = new Uint32Array(capacity);
    this.tx = new Uint32Array(capacity);
    this.index = new Int32Array(indexSize(capacity));
    this.mask = this.index.length - 1;
  }

  /** The slot of stream `hi:lo`, or -1. Marks it seen at `now` (most recently used). */
  find(hi: number, lo: number, now: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const cell = index[i]!;
      if (cell === 0) return -1;
      const slot = cell - 1;
      if (this.idLo[slot] === lo && this.idHi[slot] === hi) {
        this.touch(slot, now);
        return slot;
      }
    }
  }

  /**
   * A new slot for stream `hi:lo` (not in the table), holding nothing yet; the least recently seen
   * stream is forgotten first when the table is full.
   */
  insert(hi: number, lo: number, now: number): number {
    if (this.count >= this.maxStreams) {
      this.evictedLru++;
      this.#forget(this.tail);
    }
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.idHi.length) this.#grow();
      slot = this.used++;
    }
    this.count++;
    this.idHi[slot] = hi;
    this.idLo[slot] = lo;
    this.held[slot] = HELD_NONE;
    this.extra[slot] = undefined;
    this.gen[slot] = (this.gen[slot]! + 1) >>> 0;
    this.tx[slot] = this.txn;
    if (this.created * 2 === this.createdSlots.length) {
      const c = new Uint32Array(this.createdSlots.length * 2);
      c.set(this.createdSlots);
      this.createdSlots = c;
    }
    this.createdSlots[this.created * 2] = slot;
    this.createdSlots[this.created * 2 + 1] = this.gen[slot]!;
    this.created++;
    if (this.count * 2 > this.index.length) this.#rehash(this.index.length * 2);
    this.#link(slot, now);
    const index = this.index;
    const mask = this.mask;
    let i = lo & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = slot + 1;
    return slot;
  }

  /** Journals `slot` before its first change in this request. */
  save(slot: number): void {
    if (this.tx[slot] === this.txn) return;
    this.tx[slot] = this.txn;
    let j = this.journal;
    const k = this.saved * SAVED;
    if (k === j.length) {
      j = new Float64Array(j.length * 2);
      j.set(this.journal);
      this.journal = j;
    }
    const w = this.words;
    const extra = this.extra[slot];
    j[k] = slot;
    j[k + 1] = this.gen[slot]!;
    j[k + 2] = this.held[slot]!;
    j[k + 3] = this.startHi[slot]!;
    j[k + 4] = this.startLo[slot]!;
    j[k + 5] = this.timeHi[slot]!;
    j[k + 6] = this.timeLo[slot]!;
    j[k + 7] = w[2 * slot]!;
    j[k + 8] = w[2 * slot + 1]!;
    j[k + 9] = extra === undefined ? -1 : this.journalExtra.push(extra) - 1;
    this.saved++;
  }

  /** Forgets streams not seen for `staleAfterMillis` before `now`. Cheap when there are none: it looks at the LRU tail. */
  sweep(now: number): void {
    const limit = now - this.staleAfterMillis;
    while (this.tail >= 0 && this.seen[this.tail]! < limit) {
      this.evictedStale++;
      this.#forget(this.tail);
    }
  }

  /** Keeps the changes of the request being processed. */
  commit(): void {
    this.saved = 0;
    this.created = 0;
    if (this.journalExtra.length > 0) this.journalExtra.length = 0;
    this.txn = (this.txn + 1) >>> 0 || 1;
  }

  /** Undoes the changes of the request being processed (slots given to other streams since are left alone). */
  rollback(): void {
    const j = this.journal;
    const w = this.words;
    for (let k = (this.saved - 1) * SAVED; k >= 0; k -= SAVED) {
      const slot = j[k]!;
      if (this.gen[slot] !== j[k + 1]) continue;
      this.held[slot] = j[k + 2]!;
      this.startHi[slot] = j[k + 3]!;
      this.startLo[slot] = j[k + 4]!;
      this.timeHi[slot] = j[k + 5]!;
      this.timeLo[slot] = j[k + 6]!;
      w[2 * slot] = j[k + 7]!;
      w[2 * slot + 1] = j[k + 8]!;
      this.extra[slot] = j[k + 9]! < 0 ? undefined : this.journalExtra[j[k + 9]!];
    }
    const c = this.createdSlots;
    for (let k = this.created - 1; k >= 0; k--) {
      const slot = c[2 * k]!;
      // Created, and not since forgotten (and maybe given to another stream).
      if (this.gen[slot] === c[2 * k + 1]) this.#forget(slot, false);
    }
    this.commit();
  }

  /** Frees `slot`; `counted` forgets a real stream (raising the horizon), else it undoes a creation. */
  #forget(slot: number, counted = true): void {
    if (counted && this.held[slot] !== HELD_NONE) this.#raiseHorizon(slot);
    this.#unlink(slot);
    this.#unindex(slot);
    this.held[slot] = HELD_NONE;
    this.extra[slot] = undefined;
    this.gen[slot] = (this.gen[slot]! + 1) >>> 0;
    this.free.push(slot);
    this.count--;
  }

  #raiseHorizon(slot: number): void {
    const hi = this.timeHi[slot]!;
    const lo = this.timeLo[slot]!;
    if (hi > this.horizonHi || (hi === this.horizonHi && lo > this.horizonLo)) {
      this.horizonHi = hi;
      this.horizonLo = lo;
    }
  }

  /** Marks `slot` seen at `now` (most recently used). */
  touch(slot: number, now: number): void {
    this.seen[slot] = now;
    if (this.head === slot) return;
    this.#unlink(slot);
    this.#link(slot, now);
  }

  #link(slot: number, now: number): void {
    this.seen[slot] = now;
    this.prev[slot] = -1;
    this.next[slot] = this.head;
    if (this.head >= 0) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail < 0) this.tail = slot;
  }

  #unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }

  /** Removes `slot` from the index; backward-shift deletion keeps every probe run unbroken. */
  #unindex(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = this.idLo[slot]! & mask;
    while (index[i] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const cell = index[j]!;
      if (cell === 0) break;
      const home = this.idLo[cell - 1]! & mask;
      // Move the cell at j into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        index[i] = cell;
        i = j;
      }
    }
    index[i] = 0;
  }

  #rehash(size: number): void {
    const index = new Int32Array(size);
    const mask = size - 1;
    // Every slot in use is on the LRU list.
    for (let slot = this.head; slot >= 0; slot = this.next[slot]!) {
      let i = this.idLo[slot]! & mask;
      while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = slot + 1;
    }
    this.index = index;
    this.mask = mask;
  }

  #grow(): void {
    const capacity = Math.min(this.idHi.length * 2, this.maxStreams);
    const grow32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(capacity);
      b.set(a);
      return b;
    };
    this.idHi = grow32(this.idHi);
    this.idLo = grow32(this.idLo);
    this.startHi = grow32(this.startHi);
    this.startLo = grow32(this.startLo);
    this.timeHi = grow32(this.timeHi);
    this.timeLo = grow32(this.timeLo);
    this.gen = grow32(this.gen);
    this.tx = grow32(this.tx);
    const held = new Uint8Array(capacity);
    held.set(this.held);
    this.held = held;
    const value = new Float64Array(capacity);
    value.set(this.value);
    this.value = value;
    this.words = new Uint32Array(value.buffer);
    const seen = new Float64Array(capacity);
    seen.set(this.seen);
    this.seen = seen;
    const prev = new Int32Array(capacity);
    prev.set(this.prev);
    this.prev = prev;
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.next = next;
  }
}

/** Index cells for `capacity` slots at load ≤ 1/2: a power of two. */
function indexSize(capacity: number): number {
  let n = 16;
  while (n < capacity * 2) n *= 2;
  return n;
}
