/**
 * The `routes` list, validated against the configured tenants and shared upstreams. Match
 * conditions stay as written here; route/attribute-match.ts compiles and evaluates them.
 */
import { SIGNALS } from '../../otlp/signals.js';
import type { Signal } from '../../otlp/types.js';
import { at, GatewayConfigError, show } from './config-error.js';
import { processorConfigs } from './processors.js';
import type { ProcessorConfig } from './processors.js';
import { list, mapping, oneOf, string } from './values.js';

const ALL_SIGNALS: ReadonlySet<Signal> = new Set(SIGNALS);

/** One resource attribute condition as configured: an exact value, or a pattern with `*` globs. */
export interface MatchCondition {
  readonly key: string;
  readonly pattern: string;
}

export interface RouteConfig {
  readonly name: string;
  readonly signals: ReadonlySet<Signal>;
  /** null: any tenant (and requests without one). */
  readonly tenants: ReadonlySet<string> | null;
  /** All must hold (AND); empty: every resource. */
  readonly match: readonly MatchCondition[];
  /** Names of shared upstreams. */
  readonly upstreams: readonly string[];
  /** Applied to the entries this route sends, before each upstream's own (forward/processors/). */
  readonly processors: readonly ProcessorConfig[];
}

/** The `routes` list; `upstreams` are the shared upstreams' names, `tenants` the tenants'. */
export function routeConfigs(value: unknown, upstreams: ReadonlySet<string>, tenants: ReadonlySet<string>): RouteConfig[] {
  if (value === undefined || value === null) return [];
  return list(value, 'routes').map((r, i) => route(r, at('routes', i), upstreams, tenants));
}

function route(value: unknown, p: string, upstreams: ReadonlySet<string>, tenants: ReadonlySet<string>): RouteConfig {
  const doc = mapping(value, p, ['name', 'signals', 'tenants', 'match', 'upstreams', 'processors']);
  const name = doc['name'] === undefined ? p : string(doc['name'], at(p, 'name'), { nonEmpty: true });
  const signals =
    doc['signals'] === undefined
      ? ALL_SIGNALS
      : new Set(list(doc['signals'], at(p, 'signals')).map((s, i) => oneOf<Signal>(s, at(at(p, 'signals'), i), SIGNALS)));
  let routeTenants: Set<string> | null = null;
  if (doc['tenants'] !== undefined) {
    routeTenants = new Set();
    list(doc['tenants'], at(p, 'tenants')).forEach((t, i) => {
      const tp = at(at(p, 'tenants'), i);
      const tn = string(t, tp, { nonEmpty: true });
      if (!tenants.has(tn)) throw new GatewayConfigError(tp, `no tenant named ${show(tn)} is configured`);
      routeTenants!.add(tn);
    });
  }
  const match: MatchCondition[] = [];
  if (doc['match'] !== undefined && doc['match'] !== null) {
    for (const [key, v] of Object.entries(mapping(doc['match'], at(p, 'match')))) {
      const pattern = string(v, at(at(p, 'match'), key));
      match.push(Object.freeze({ key, pattern }));
    }
  }
  if (doc['upstreams'] === undefined) throw new GatewayConfigError(at(p, 'upstreams'), 'required: the names of the upstreams this route sends to');
  const targets = list(doc['upstreams'], at(p, 'upstreams')).map((u, i) => {
    const up = at(at(p, 'upstreams'), i);
    const n = string(u, up, { nonEmpty: true });
    if (!upstreams.has(n)) {
      throw new GatewayConfigError(up, `no shared upstream named ${show(n)}; known: ${[...upstreams].join(', ') || '(none)'}`);
    }
    return n;
  });
  const processors = processorConfigs(doc['processors'], at(p, 'processors'));
  return Object.freeze({ name, signals, tenants: routeTenants, match: Object.freeze(match), upstreams: Object.freeze(targets), processors });
}
