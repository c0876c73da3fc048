/**
 * A fixed-capacity FIFO ring: the bounded buffer of the batch processor. `push()` refuses when full
 * (the caller counts the drop) so memory never exceeds `capacity` records.
 */
export class RecordQueue<T> {
  readonly #slots: (T | undefined)[];
  #head = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    this.#slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  /** Records held now. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item`; false (nothing stored) when the queue is full. */
  push(item: T): boolean {
    if (this.#length === this.capacity) return false;
    let tail = this.#head + this.#length;
    if (tail >= this.capacity) tail -= this.capacity;
    this.#slots[tail] = item;
    this.#length++;
    return true;
  }

  /** Removes and returns the oldest `min(n, length)` items, oldest first. */
  take(n: number): T[] {
    const count = Math.min(n, this.#length);
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) {
      out[i] = this.#slots[this.#head] as T;
      // Release the reference so a drained record can be collected.
      this.#slots[this.#head] = undefined;
      this.#head = this.#head + 1 === this.capacity ? 0 : this.#head + 1;
    }
    this.#length -= count;
    return out;
  }
}
