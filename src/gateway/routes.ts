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
import type { ResourceEntry } from '../otlp/scan.js';
import type { Signal } from '../otlp/types.js';
import type { AttributeMatch, RouteConfig } from './config.js';
import type { Upstream } from './upstream.js';

/** One upstream's share of a request: all of it, or some resource entries (indexes, ascending). */
export interface Selection {
  readonly upstream: Upstream;
  /** null: every entry (the received body can be forwarded as is). */
  readonly entries: readonly number[] | null;
  readonly items: number;
}

/** Where a request goes. */
export interface RoutePlan {
  readonly selections: readonly Selection[];
  /** Items of entries that no upstream gets. */
  readonly unrouted: number;
}

export interface Router {
  /** Resource attributes the routes read (plus service.name for the observer); scanRequest's filter. */
  readonly wantedAttributes: ReadonlySet<string>;
  plan(signal: Signal, tenant: string | undefined, entries: readonly ResourceEntry[], totalItems: number): RoutePlan;
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
export function createRouter(
  routes: readonly RouteConfig[],
  shared: readonly Upstream[],
  own: ReadonlyMap<string, readonly Upstream[]>,
): Router {
  const index = new Map(shared.map((u, i) => [u.name, i]));
  const compiled: CompiledRoute[] = routes.map((r) => ({
    signals: r.signals,
    tenants: r.tenants,
    match: r.match,
    targets: r.upstreams.map((n) => index.get(n)!),
  }));
  const wanted = new Set<string>(['service.name']);
  for (const r of routes) for (const m of r.match) wanted.add(m.key);
  const everyShared: readonly number[] = shared.map((_, i) => i);
  const noRoutes = compiled.length === 0;

  return {
    wantedAttributes: wanted,
    plan(signal, tenant, entries, totalItems) {
      const selections: Selection[] = [];
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
            if (!matches(r.match, entries[e]!.attributes)) continue;
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

function matches(conditions: readonly AttributeMatch[], attributes: ReadonlyMap<string, string>): boolean {
  for (const c of conditions) {
    const v = attributes.get(c.key);
    if (v === undefined) return false;
    if (c.regex === null ? v !== c.pattern : !c.regex.test(v)) return false;
  }
  return true;
}

function select(upstream: Upstream, mask: Uint8Array, entries: readonly ResourceEntry[], totalItems: number): Selection {
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
