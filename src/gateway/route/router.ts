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
export interface Selection<U extends RouteTarget> {
  readonly upstream: U;
  /** null: every entry (the received body can be forwarded as is). */
  readonly entries: readonly number[] | null;
  readonly items: number;
}

/** Where a request goes. */
export interface RoutePlan<U extends RouteTarget> {
  readonly selections: readonly Selection<U>[];
  /** Items of entries that no upstream gets. */
  readonly unrouted: number;
}

export interface Router<U extends RouteTarget> {
  /** Resource attributes the routes read (plus service.name for the observer); scanRequest's filter. */
  readonly wantedAttributes: ReadonlySet<string>;
  plan(signal: Signal, tenant: string | undefined, entries: readonly ResourceEntry[], totalItems: number): RoutePlan<U>;
}

interface CompiledRoute {
  readonly signals: ReadonlySet<Signal>;
  readonly tenants: ReadonlySet<string> | null;
  readonly match: readonly AttributeMatch[];
  readonly targets: readonly number[];
}

/**
 * Compiles the routes against the upstream list. `shared` are the shared upstreams (route
 * targets, by name); `own` maps a tenant to its own upstreams.
 */
export function createRouter<U extends RouteTarget>(
  routes: readonly RouteConfig[],
  shared: readonly U[],
  own: ReadonlyMap<string, readonly U[]>,
): Router<U> {
  const index = new Map(shared.map((u, i) => [u.name, i]));
  const compiled: CompiledRoute[] = routes.map((r) => ({
    signals: r.signals,
    tenants: r.tenants,
    match: compileMatches(r.match),
    targets: r.upstreams.map((n) => index.get(n)!),
  }));
  const wanted = new Set<string>(['service.name']);
  for (const r of routes) for (const m of r.match) wanted.add(m.key);
  const everyShared: readonly number[] = shared.map((_, i) => i);
  const noRoutes = compiled.length === 0;

  return {
    wantedAttributes: wanted,
    plan(signal, tenant, entries, totalItems) {
      const selections: Selection<U>[] = [];
      const ownUpstreams = tenant === undefined ? undefined : own.get(tenant);
      // No routes, every entry to every shared upstream: the gateway's default, decided without a mask.
      if (noRoutes && everyShared.length > 0 && ownUpstreams === undefined) {
        for (const u of shared) selections.push({ upstream: u, entries: null, items: totalItems });
        return { selections, unrouted: 0 };
      }
      const routed = new Uint8Array(entries.length);
      if (noRoutes) {
        for (const i of everyShared) selections.push({ upstream: shared[i]!, entries: null, items: totalItems });
        if (everyShared.length > 0) routed.fill(1);
      } else {
        // Per shared upstream, the entries it gets; allocated only for upstreams that get any.
        const picked: (Uint8Array | undefined)[] = new Array(shared.length);
        for (const r of compiled) {
          if (!r.signals.has(signal)) continue;
          if (r.tenants !== null && (tenant === undefined || !r.tenants.has(tenant))) continue;
          for (let e = 0; e < entries.length; e++) {
            if (!matchesAll(r.match, entries[e]!.attributes)) continue;
            routed[e] = 1;
            for (const t of r.targets) (picked[t] ??= new Uint8Array(entries.length))[e] = 1;
          }
        }
        for (let u = 0; u < shared.length; u++) {
          const mask = picked[u];
          if (mask !== undefined) selections.push(select(shared[u]!, mask, entries, totalItems));
        }
      }
      if (ownUpstreams !== undefined) {
        for (const u of ownUpstreams) selections.push({ upstream: u, entries: null, items: totalItems });
        if (ownUpstreams.length > 0) routed.fill(1);
      }
      let unrouted = 0;
      for (let e = 0; e < entries.length; e++) if (routed[e] === 0) unrouted += entries[e]!.items;
      return { selections, unrouted };
    },
  };
}

function select<U extends RouteTarget>(upstream: U, mask: Uint8Array, entries: readonly ResourceEntry[], totalItems: number): Selection<U> {
  const chosen: number[] = [];
  let items = 0;
  for (let e = 0; e < mask.length; e++) {
    if (mask[e] === 1) {
      chosen.push(e);
      items += entries[e]!.items;
    }
  }
  // Every entry chosen: the whole body can go as received.
  return chosen.length === entries.length ? { upstream, entries: null, items: totalItems } : { upstream, entries: chosen, items };
}
