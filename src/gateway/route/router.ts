/**
 * Routing: which upstreams get which resource entries of a request.
 *
 * Semantics (fan-out, not first match): an entry goes to the union of the upstreams of
 * every route that matches it. A route matches when the request's signal is one of its
 * `signals`, its tenant is one of its `tenants` (when given), and every `match` condition
 * holds on the entry's resource attributes (exact value, or a `*` glob; a missing
 * attribute never matches). With no routes configured, every entry goes to every shared
 * upstream. A tenant's own upstreams get all of that tenant's entries, whatever the routes.
 */
import type { ResourceEntry } from '../../otlp/scan.js';
import type { Signal } from '../../otlp/types.js';
import type { RouteConfig } from '../config/routes.js';
import { compileMatches, matchesAll } from './attribute-match.js';
import type { AttributeMatch } from './attribute-match.js';

/** What the router needs of an upstream: its name (route targets name shared upstreams). */
export interface RouteTarget {
  readonly name: string;
}

/** One upstream's share of a request: all of it, or some resource entries (indexes, ascending). */
export interface Selection<U extends RouteTarget, C = unknown> {
  readonly upstream: U;
  /** null: every entry, unprocessed (the received body can be forwarded as is). Never null when `chains` is set. */
  readonly entries: readonly number[] | null;
  /** null: the entries go as they are. Else the chain of each of `entries` (null: that entry as it is), not all null. */
  readonly chains: readonly (C | null)[] | null;
  readonly items: number;
}

/** Where a request goes. */
export interface RoutePlan<U extends RouteTarget, C = unknown> {
  readonly selections: readonly Selection<U, C>[];
  /** Items of entries that no upstream gets. */
  readonly unrouted: number;
}

export interface Router<U extends RouteTarget, C = unknown> {
  /** Resource attributes the routes read (plus service.name for the observer); scanRequest's filter. */
  readonly wantedAttributes: ReadonlySet<string>;
  plan(signal: Signal, tenant: string | undefined, entries: readonly ResourceEntry[], totalItems: number): RoutePlan<U, C>;
}

/**
 * The chain for what reaches `upstream` through `route` (null: without a route — no routes
 * configured, or a tenant's own upstream); null for none. Called when the router is built only.
 */
export type ChainOf<U, C> = (route: RouteConfig | null, upstream: U) => C | null;

interface CompiledRoute {
  readonly signals: ReadonlySet<Signal>;
  readonly tenants: ReadonlySet<string> | null;
  readonly match: readonly AttributeMatch[];
  readonly targets: readonly number[];
  /** Per target, the slot its entries are marked with in that upstream's mask (1 when no upstream has chains). */
  readonly slots: readonly number[];
}

/** An upstream's selection from its mask of marked entries (0: not taken, else a slot). */
type Select<U extends RouteTarget, C> = (mask: Uint16Array, entries: readonly ResourceEntry[], totalItems: number) => Selection<U, C>;
/** An upstream's selection of every entry. */
type SelectAll<U extends RouteTarget, C> = (entries: readonly ResourceEntry[], totalItems: number) => Selection<U, C>;

/**
 * Compiles the routes against the upstream list. `shared` are the shared upstreams (route
 * targets, by name); `own` maps a tenant to its own upstreams; `chainOf` gives the processor
 * chains (none when absent).
 */
export function createRouter<U extends RouteTarget, C = never>(
  routes: readonly RouteConfig[],
  shared: readonly U[],
  own: ReadonlyMap<string, readonly U[]>,
  chainOf: ChainOf<U, C> = () => null,
): Router<U, C> {
  const index = new Map(shared.map((u, i) => [u.name, i]));
  // Per shared upstream, the chains its mask slots stand for: slot 0 is "not taken"; an upstream
  // reached only by chain-less routes keeps the single slot 1 = no chain.
  const slotChains: (C | null)[][] = shared.map(() => [null, null]);
  const compiled: CompiledRoute[] = routes.map((r) => {
    const targets = r.upstreams.map((n) => index.get(n)!);
    const slots = targets.map((t) => {
      const c = chainOf(r, shared[t]!);
      const table = slotChains[t]!;
      const known = table.indexOf(c, 1);
      if (known > 0) return known;
      table.push(c);
      return table.length - 1;
    });
    return { signals: r.signals, tenants: r.tenants, match: compileMatches(r.match), targets, slots };
  });
  if (slotChains.some((t) => t.length > 0xffff)) throw new Error('more than 65,535 processor chains for one upstream');
  const wanted = new Set<string>(['service.name']);
  for (const r of routes) for (const m of r.match) wanted.add(m.key);
  const everyShared: readonly number[] = shared.map((_, i) => i);
  const noRoutes = compiled.length === 0;
  const select: Select<U, C>[] = shared.map((u, i) => {
    const table = slotChains[i]!;
    return table.every((c) => c === null) ? selectPlain(u) : selectChained(u, table);
  });
  const all = (u: U): SelectAll<U, C> => {
    const c = chainOf(null, u);
    return c === null ? (_, totalItems) => ({ upstream: u, entries: null, chains: null, items: totalItems }) : selectAllChained(u, c);
  };
  const allShared = shared.map(all);
  const allOwn = new Map([...own].map(([tenant, us]) => [tenant, us.map(all)]));

  return {
    wantedAttributes: wanted,
    plan(signal, tenant, entries, totalItems) {
      const selections: Selection<U, C>[] = [];
      const ownUpstreams = tenant === undefined ? undefined : allOwn.get(tenant);
      // No routes, every entry to every shared upstream: the gateway's default, decided without a mask.
      if (noRoutes && everyShared.length > 0 && ownUpstreams === undefined) {
        for (const s of allShared) selections.push(s(entries, totalItems));
        return { selections, unrouted: 0 };
      }
      const routed = new Uint8Array(entries.length);
      if (noRoutes) {
        for (const s of allShared) selections.push(s(entries, totalItems));
        if (everyShared.length > 0) routed.fill(1);
      } else {
        // Per shared upstream, the entries it gets; allocated only for upstreams that get any.
        const picked: (Uint16Array | undefined)[] = new Array(shared.length);
        // Last route first: the first matching route in config order writes an entry's slot
        // last, so its chain is the one that applies (the several-routes rule), with no test.
        for (let ri = compiled.length - 1; ri >= 0; ri--) {
          const r = compiled[ri]!;
          if (!r.signals.has(signal)) continue;
          if (r.tenants !== null && (tenant === undefined || !r.tenants.has(tenant))) continue;
          for (let e = 0; e < entries.length; e++) {
            if (!matchesAll(r.match, entries[e]!.attributes)) continue;
            routed[e] = 1;
            for (let k = 0; k < r.targets.length; k++) (picked[r.targets[k]!] ??= new Uint16Array(entries.length))[e] = r.slots[k]!;
          }
        }
        for (let u = 0; u < shared.length; u++) {
          const mask = picked[u];
          if (mask !== undefined) selections.push(select[u]!(mask, entries, totalItems));
        }
      }
      if (ownUpstreams !== undefined) {
        for (const s of ownUpstreams) selections.push(s(entries, totalItems));
        if (ownUpstreams.length > 0) routed.fill(1);
      }
      let unrouted = 0;
      for (let e = 0; e < entries.length; e++) if (routed[e] === 0) unrouted += entries[e]!.items;
      return { selections, unrouted };
    },
  };
}

/** The selection of an upstream without chains: as before processors existed. */
function selectPlain<U extends RouteTarget, C>(upstream: U): Select<U, C> {
  return (mask, entries, totalItems) => {
    const chosen: number[] = [];
    let items = 0;
    for (let e = 0; e < mask.length; e++) {
      if (mask[e] !== 0) {
        chosen.push(e);
        items += entries[e]!.items;
      }
    }
    // Every entry chosen: the whole body can go as received.
    return chosen.length === entries.length
      ? { upstream, entries: null, chains: null, items: totalItems }
      : { upstream, entries: chosen, chains: null, items };
  };
}

/** The selection of an upstream some routes give chains: each chosen entry with its slot's chain. */
function selectChained<U extends RouteTarget, C>(upstream: U, table: readonly (C | null)[]): Select<U, C> {
  const plain = selectPlain<U, C>(upstream);
  return (mask, entries, totalItems) => {
    const chosen: number[] = [];
    const chains: (C | null)[] = [];
    let any = false;
    let items = 0;
    for (let e = 0; e < mask.length; e++) {
      const slot = mask[e]!;
      if (slot === 0) continue;
      const c = table[slot]!;
      chosen.push(e);
      chains.push(c);
      if (c !== null) any = true;
      items += entries[e]!.items;
    }
    // Only chain-less routes took entries this time: as an upstream without chains.
    if (!any) return plain(mask, entries, totalItems);
    return { upstream, entries: chosen, chains, items };
  };
}

/** Every entry, through one chain. */
function selectAllChained<U extends RouteTarget, C>(upstream: U, chain: C): SelectAll<U, C> {
  return (entries, totalItems) => {
    const chosen: number[] = new Array(entries.length);
    for (let e = 0; e < entries.length; e++) chosen[e] = e;
    return { upstream, entries: chosen, chains: new Array<C>(entries.length).fill(chain), items: totalItems };
  };
}
