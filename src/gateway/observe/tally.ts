/**
 * The observer's in-memory counts for the console summary: per signal, per tenant,
 * per `service.name`, refusals by reason. One interval's counts plus running totals.
 *
 * Names arrive from clients, so their tables are bounded: a table admits at most
 * `capacity` names per interval; later names of that interval are counted in the
 * `(other)` row. Tables are cleared at every interval, so a name seen once does not
 * stay forever, and the top N printed is exact unless an interval saw more than
 * `capacity` names (then the late ones are only in `(other)`). O(1) per request.
 */
import { SIGNALS } from '../../otlp/signals.js';
import type { Signal } from '../../otlp/types.js';
import type { ProcessedEvent, ProcessorDropReason, RefusalReason, StreamsSnapshot } from './events.js';

/** The row that collects names beyond a table's capacity. */
export const OTHER_ROW = '(other)';

/** Requests, items and body bytes of one key over one interval. */
export class Counts {
  requests = 0;
  items = 0;
  bytes = 0;

  add(items: number, bytes: number): void {
    this.requests += 1;
    this.items += items;
    this.bytes += bytes;
  }

  reset(): void {
    this.requests = 0;
    this.items = 0;
    this.bytes = 0;
  }
}

/** A table of `Counts` by name, bounded to `capacity` names per interval plus `(other)`. */
export class BoundedCounts {
  readonly rows = new Map<string, Counts>();
  readonly other = new Counts();

  constructor(readonly capacity: number) {}

  add(name: string, items: number, bytes: number): void {
    let c = this.rows.get(name);
    if (c === undefined) {
      if (this.rows.size >= this.capacity) {
        this.other.add(items, bytes);
        return;
      }
      c = new Counts();
      this.rows.set(name, c);
    }
    c.add(items, bytes);
  }

  /**
   * The `n` rows with most items (ties: most requests, then name), then `(other)` with
   * the rest, when there is any.
   */
  top(n: number): Array<{ readonly name: string; readonly counts: Counts }> {
    const all = [...this.rows].map(([name, counts]) => ({ name, counts }));
    all.sort((a, b) => b.counts.items - a.counts.items || b.counts.requests - a.counts.requests || (a.name < b.name ? -1 : 1));
    const out = all.slice(0, n);
    const rest = new Counts();
    rest.requests = this.other.requests;
    rest.items = this.other.items;
    rest.bytes = this.other.bytes;
    for (let i = n; i < all.length; i++) {
      const c = all[i]!.counts;
      rest.requests += c.requests;
      rest.items += c.items;
      rest.bytes += c.bytes;
    }
    if (rest.requests > 0) out.push({ name: OTHER_ROW, counts: rest });
    return out;
  }

  /** Distinct names this interval, `(other)` not counted. */
  get size(): number {
    return this.rows.size;
  }

  clear(): void {
    this.rows.clear();
    this.other.reset();
  }
}

/** Counts per signal, indexed like `SIGNALS`. */
export type BySignal = { readonly [S in Signal]: Counts };

function bySignal(): BySignal {
  return { metrics: new Counts(), logs: new Counts(), traces: new Counts() };
}

/** Summary limits. */
export interface TallyLimits {
  /** Names per interval in the service table. */
  readonly maxServiceNames: number;
  /** Names per interval in the tenant table. */
  readonly maxTenants: number;
}

/** One interval's counts and the totals since start. */
export class Tally {
  readonly interval: BySignal = bySignal();
  readonly total: BySignal = bySignal();
  readonly services: BoundedCounts;
  readonly tenants: BoundedCounts;
  /** Refusals by reason, this interval and since start. */
  readonly refusals = new Map<RefusalReason, number>();
  readonly refusalsTotal = new Map<RefusalReason, number>();
  /** Items of accepted requests that went nowhere (reason `no_route`), this interval and since start. */
  unrouted = 0;
  unroutedTotal = 0;
  /** Items the processors dropped, by reason, this interval and since start. */
  readonly dropped = new Map<ProcessorDropReason, number>();
  readonly droppedTotal = new Map<ProcessorDropReason, number>();
  /** The latest temporality state figures of each converting upstream (names come from the config: bounded). */
  readonly streams = new Map<string, StreamsSnapshot>();

  constructor(limits: TallyLimits) {
    this.services = new BoundedCounts(limits.maxServiceNames);
    this.tenants = new BoundedCounts(limits.maxTenants);
  }

  request(signal: Signal, tenant: string | undefined, serviceNames: readonly string[], items: number, bytes: number, unrouted = 0): void {
    this.unrouted += unrouted;
    this.unroutedTotal += unrouted;
    this.interval[signal].add(items, bytes);
    this.total[signal].add(items, bytes);
    if (tenant !== undefined) this.tenants.add(tenant, items, bytes);
    // The event gives items per request, not per resource: a request of several
    // services credits each of them with the request (documented in docs/gateway-metrics.md).
    for (let i = 0; i < serviceNames.length; i++) this.services.add(serviceNames[i]!, items, bytes);
  }

  processed(e: ProcessedEvent): void {
    for (const [reason, n] of e.dropped) {
      this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + n);
      this.droppedTotal.set(reason, (this.droppedTotal.get(reason) ?? 0) + n);
    }
    if (e.streams !== undefined) this.streams.set(e.upstream, e.streams);
  }

  /** Items the processors dropped this interval, all reasons. */
  intervalDropped(): number {
    let n = 0;
    for (const v of this.dropped.values()) n += v;
    return n;
  }

  refused(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    this.refusalsTotal.set(reason, (this.refusalsTotal.get(reason) ?? 0) + 1);
  }

  /** Requests accepted this interval, all signals. */
  intervalRequests(): number {
    let n = 0;
    for (const s of SIGNALS) n += this.interval[s].requests;
    return n;
  }

  /** Refusals this interval, all reasons. */
  intervalRefusals(): number {
    let n = 0;
    for (const v of this.refusals.values()) n += v;
    return n;
  }

  /** Starts the next interval (totals are kept). */
  nextInterval(): void {
    for (const s of SIGNALS) this.interval[s].reset();
    this.services.clear();
    this.tenants.clear();
    this.refusals.clear();
    this.unrouted = 0;
    this.dropped.clear();
  }
}
