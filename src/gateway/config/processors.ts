/**
 * The `processors` list of an upstream or a route (docs/gateway.md, Processors): steps that
 * edit the data forwarded, validated here and compiled by forward/processors/ when the
 * pipeline is built.
 *
 * Each list item is a mapping with one key naming the processor, its settings as the value,
 * so that the next kinds (point/record/span attributes, filters, temporality) are one more
 * key, not a new shape:
 * ```yaml
 * processors:
 *   - resource:
 *       - { action: upsert, key: deployment.environment.name, value: prod }
 * ```
 */
import { at, GatewayConfigError, show } from './config-error.js';
import { list, mapping, millis, number, oneOf, optional, string } from './values.js';

/** What a resource attribute edit does; see {@link ResourceEdit}. */
export type ResourceAction = 'insert' | 'update' | 'upsert' | 'delete' | 'hash';

/** A value written by an edit: strings as strings, integers as int, other numbers as double, booleans as bool. */
export type EditValue = string | number | boolean;

/**
 * One resource attribute edit. Every attribute with the key is affected (duplicate keys stay
 * duplicates): `insert` adds `key: value` when no attribute has the key; `update` sets the value
 * of those that have it; `upsert` does either; `delete` removes them; `hash` replaces each value
 * with the lowercase hex SHA-256 of its string form (otlp/resource-entry.ts `anyValueStringForm`).
 */
export type ResourceEdit =
  | { readonly action: 'insert' | 'update' | 'upsert'; readonly key: string; readonly value: EditValue }
  | { readonly action: 'delete' | 'hash'; readonly key: string };

/** One configured processor. */
export type ProcessorConfig = { readonly kind: 'resource'; readonly edits: readonly ResourceEdit[] };

/** Processor kinds, as the list items name them. */
const KINDS = ['resource'] as const;
const ACTIONS: readonly ResourceAction[] = ['insert', 'update', 'upsert', 'delete', 'hash'];

/** A `processors` list at `p`; absent or null is none. */
export function processorConfigs(value: unknown, p: string): readonly ProcessorConfig[] {
  if (value === undefined || value === null) return Object.freeze([]);
  return Object.freeze(list(value, p).map((item, i) => processor(item, at(p, i))));
}

function processor(value: unknown, p: string): ProcessorConfig {
  const doc = mapping(value, p);
  const keys = Object.keys(doc);
  if (keys.length !== 1) {
    throw new GatewayConfigError(p, `expected a mapping with one key naming the processor (${KINDS.join(', ')}), got ${keys.length} keys`);
  }
  const kind = keys[0]!;
  if (!(KINDS as readonly string[]).includes(kind)) throw new GatewayConfigError(at(p, kind), `unknown processor; known: ${KINDS.join(', ')}`);
  const ep = at(p, kind);
  const edits = list(doc[kind], ep);
  if (edits.length === 0) throw new GatewayConfigError(ep, 'expected at least one edit ({ action, key, value })');
  return Object.freeze({ kind: 'resource', edits: Object.freeze(edits.map((e, i) => resourceEdit(e, at(ep, i)))) });
}

function resourceEdit(value: unknown, p: string): ResourceEdit {
  const doc = mapping(value, p, ['action', 'key', 'value']);
  if (doc['action'] === undefined) throw new GatewayConfigError(at(p, 'action'), `required: one of ${ACTIONS.join(', ')}`);
  const action = oneOf<ResourceAction>(doc['action'], at(p, 'action'), ACTIONS);
  if (doc['key'] === undefined) throw new GatewayConfigError(at(p, 'key'), 'required: the resource attribute key');
  const key = string(doc['key'], at(p, 'key'), { nonEmpty: true });
  if (action === 'delete' || action === 'hash') {
    if (doc['value'] !== undefined) throw new GatewayConfigError(at(p, 'value'), `${action} takes no value`);
    return Object.freeze({ action, key });
  }
  const v = doc['value'];
  if (v === undefined || v === null) throw new GatewayConfigError(at(p, 'value'), `required for ${action}: a string, number or boolean`);
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    throw new GatewayConfigError(at(p, 'value'), `expected a string, number or boolean, got ${show(v)}`);
  }
  return Object.freeze({ action, key, value: v });
}

/**
 * Temporality conversion of one upstream (`temporality:` on the upstream, docs/gateway.md,
 * Temporality conversion). Not a `processors` item: the conversion keeps state per stream of the
 * upstream, so it is the upstream's (a route cannot have it), and it runs last, on what the
 * upstream would otherwise receive.
 */
export interface TemporalityConfig {
  /** The temporality the upstream gets. */
  readonly to: 'delta' | 'cumulative';
  /**
   * Streams whose state is kept; past it the least recently seen stream is forgotten (counted).
   * Default 100,000: ~15 MiB of state at the measured ~150 B per sum stream (BENCHMARKS.md),
   * more series than one gateway's clients usually send.
   */
  readonly maxStreams: number;
  /**
   * Forget a stream not seen for this long. Default 15 minutes: 15 missed exports at the SDKs'
   * default 60 s interval; a stream quiet for longer is most likely gone.
   */
  readonly staleAfterMillis: number;
  /**
   * Cumulative to delta: what happens to the first point of a stream the gateway has no state
   * for. `auto` (default) passes it as it is when its start time shows the stream began after
   * the gateway could have seen it (its whole value is then new); `drop` always drops it.
   */
  readonly firstPoint: 'auto' | 'drop';
}

/** Defaults of {@link TemporalityConfig}, with the reasons given there. */
export const TEMPORALITY_DEFAULTS = Object.freeze({ maxStreams: 100_000, staleAfterMillis: 15 * 60_000, firstPoint: 'auto' as const });

const TEMPORALITIES = ['delta', 'cumulative'] as const;
const FIRST_POINT = ['auto', 'drop'] as const;

/** An upstream's `temporality`: `delta`, `cumulative`, or `{ to, maxStreams, staleAfter, firstPoint }`; absent or null: as received. */
export function temporalityConfig(value: unknown, p: string): TemporalityConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const doc = typeof value === 'string' ? { to: value } : mapping(value, p, ['to', 'maxStreams', 'staleAfter', 'firstPoint']);
  const path = typeof value === 'string' ? p : at(p, 'to');
  if (doc['to'] === undefined) throw new GatewayConfigError(path, `required: one of ${TEMPORALITIES.join(', ')}`);
  return Object.freeze({
    to: oneOf(doc['to'], path, TEMPORALITIES),
    maxStreams: optional(doc['maxStreams'], TEMPORALITY_DEFAULTS.maxStreams, (v) => number(v, at(p, 'maxStreams'), 1, 10_000_000, true)),
    // At least a second: the state is swept against the gateway's clock once per request at most.
    staleAfterMillis: optional(doc['staleAfter'], TEMPORALITY_DEFAULTS.staleAfterMillis, (v) => millis(v, at(p, 'staleAfter'), 1000, 2 ** 31 - 1)),
    firstPoint: optional(doc['firstPoint'], TEMPORALITY_DEFAULTS.firstPoint, (v) => oneOf(v, at(p, 'firstPoint'), FIRST_POINT)),
  });
}
