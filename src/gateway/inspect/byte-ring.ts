/**
 * A FIFO of serialized entries bounded by bytes and count: pushing past either bound drops the
 * oldest. The inspector keeps what it decoded (tail, metric points, log records, spans) in these,
 * already serialized for the browser, so an entry is encoded once whatever the number of clients,
 * and its size is its string's length (UTF-16 code units: what V8 keeps, up to 2 bytes each).
 */
export class ByteRing {
  #ring: (string | undefined)[];
  #head = 0;
  #size = 0;
  #bytes = 0;
  /** Entries dropped for room since creation. */
  dropped = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxEntries: number,
  ) {
    this.#ring = new Array<string | undefined>(Math.min(maxEntries, 1024));
  }

  get size(): number {
    return this.#size;
  }

  /** Characters held (the bound is on this). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds `entry` (an entry larger than the whole bound is not kept); drops the oldest while over a bound. */
  push(entry: string): void {
    if (entry.length > this.maxBytes) {
      this.dropped++;
      return;
    }
    while (this.#size > 0 && (this.#bytes + entry.length > this.maxBytes || this.#size >= this.maxEntries)) this.#shift();
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#size) % this.#ring.length] = entry;
    this.#size++;
    this.#bytes += entry.length;
  }

  /** The entries, oldest first. */
  toArray(): string[] {
    const out = new Array<string>(this.#size);
    for (let i = 0; i < this.#size; i++) out[i] = this.#ring[(this.#head + i) % this.#ring.length]!;
    return out;
  }

  clear(): void {
    this.#ring.fill(undefined);
    this.#head = 0;
    this.#size = 0;
    this.#bytes = 0;
  }

  #shift(): void {
    const e = this.#ring[this.#head]!;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
    this.#bytes -= e.length;
    this.dropped++;
  }

  #grow(): void {
    const next = new Array<string | undefined>(Math.min(this.#ring.length * 2, this.maxEntries));
    for (let i = 0; i < this.#size; i++) next[i] = this.#ring[(this.#head + i) % this.#ring.length];
    this.#ring = next;
    this.#head = 0;
  }
}
