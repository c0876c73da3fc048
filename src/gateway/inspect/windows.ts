/**
 * Per-second counts over the last minutes, for the inspector's overview charts: requests and
 * items per signal, per `service.name`, per tenant, refusals by reason.
 *
 * The hot path adds to the current slot of a row (a map lookup and two array additions); it never
 * reads the clock. A timer calls `advance()` once a second, which moves every row to the next slot
 * and zeroes it, and forgets rows with nothing in the whole window. Names come from clients, so a
 * table holds at most `capacity` rows; a name beyond it is counted in the `(other)` row.
 */

/** The row that collects names beyond a table's capacity. */
export const OTHER = '(other)';

/** One name's counts per second, a ring of `window` slots. */
export class WindowRow {
  readonly requests: Float64Array;
  readonly items: Float64Array;

  constructor(window: number) {
    this.requests = new Float64Array(window);
    this.items = new Float64Array(window);
  }

  /** Sum over the whole window (to find idle rows). */
  total(): number {
    let n = 0;
    for (let i = 0; i < this.requests.length; i++) n += this.requests[i]!;
    return n;
  }
}

/** A bounded table of per-second rows sharing one clock (`slot`). */
export class WindowTable {
  readonly rows = new Map<string, WindowRow>();
  /** The slot being filled (the current second). */
  slot = 0;

  constructor(
    readonly window: number,
    readonly capacity: number,
  ) {}

  add(name: string, items: number): void {
    let row = this.rows.get(name);
    if (row === undefined) {
      row = this.rows.size < this.capacity ? new WindowRow(this.window) : this.#other();
      if (row !== this.rows.get(OTHER)) this.rows.set(name, row);
    }
    row.requests[this.slot]! += 1;
    row.items[this.slot]! += items;
  }

  /** The counts of the slot just closed (nonzero rows only), then the next slot, zeroed; idle rows forgotten. */
  advance(): Record<string, [number, number]> {
    const closed: Record<string, [number, number]> = {};
    const next = (this.slot + 1) % this.window;
    for (const [name, row] of this.rows) {
      const r = row.requests[this.slot]!;
      if (r > 0) closed[name] = [r, row.items[this.slot]!];
      row.requests[next] = 0;
      row.items[next] = 0;
      if (r === 0 && row.total() === 0) this.rows.delete(name);
    }
    this.slot = next;
    return closed;
  }

  /** Every row's closed slots, oldest first (the current, open slot left out): the history a new client starts from. */
  history(): Record<string, { requests: number[]; items: number[] }> {
    const out: Record<string, { requests: number[]; items: number[] }> = {};
    for (const [name, row] of this.rows) out[name] = { requests: unroll(row.requests, this.slot), items: unroll(row.items, this.slot) };
    return out;
  }

  #other(): WindowRow {
    let row = this.rows.get(OTHER);
    if (row === undefined) {
      row = new WindowRow(this.window);
      this.rows.set(OTHER, row);
    }
    return row;
  }
}

/** The ring's closed slots in time order: from the one after `open` round to the one before it. */
export function unroll(ring: ArrayLike<number>, open: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < ring.length; i++) out.push(ring[(open + i) % ring.length]!);
  return out;
}
