/**
 * The `processors` list of an upstream or a route (docs/gateway.md, Processors): steps that
 * edit or filter the data forwarded, validated here and compiled by forward/processors/ when the
 * pipeline is built.
 *
 * Each list item is a mapping with one key naming the processor, its settings as the value, so
 * that a new kind is one more key, not a new shape:
 * ```yaml
 * processors:
 *   - resource:
 *       - { action: upsert, key: deployment.environment.name, value: prod }
 *   - attributes:                     # data point, log record and span attributes
 *       - { action: delete, key: http.request.header.cookie }
 *   - redact: [user.email, client.address]
 *   - filter:
 *       metrics: { names: ["debug.*"] }
 *       logs: { minSeverity: INFO, bodies: ["*health check*"], attributes: { http.route: /healthz } }
 *       spans: { names: ["GET /healthz"] }
 * ```
 */
import { at, GatewayConfigError, show } from './config-error.js';
import { list, mapping, millis, number, oneOf, optional, string } from './values.js';

/** What an attribute edit does; see {@link AttributeEdit}. */
export type EditAction = 'insert' | 'update' | 'upsert' | 'delete' | 'hash';

/** A value written by an edit: strings as strings, integers as int, other numbers as double, booleans as bool. */
export type EditValue = string | number | boolean;

/**
 * One attribute edit, of the resource (`resource`) or of data points, log records and spans
 * (`attributes`). Every attribute with the key is affected (duplicate keys stay duplicates):
 * `insert` adds `key: value` when no attribute has the key; `update` sets the value of those that
 * have it; `upsert` does either; `delete` removes them; `hash` replaces each value with the
 * lowercase hex SHA-256 of its string form (otlp/resource-entry.ts `anyValueStringForm`).
 */
export type AttributeEdit =
  | { readonly action: 'insert' | 'update' | 'upsert'; readonly key: string; readonly value: EditValue }
  | { readonly action: 'delete' | 'hash'; readonly key: string };

/** What a `filter` drops. Each list or mapping is optional; an item matching any condition is dropped. */
export interface FilterConfig {
  /** Metrics whose name matches one of these `*` globs, all their points. */
  readonly metricNames: readonly string[];
  /**
   * Log records whose `severity_number` is set (not 0, UNSPECIFIED) and below this (1-24, the
   * OTLP SeverityNumber: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21); 0: none.
   * Records without a severity number are kept: nothing says they are below.
   */
  readonly minSeverity: number;
  /** Log records whose body, in its string form, matches one of these globs. */
  readonly logBodies: readonly string[];
  /** Log records with an attribute of this key whose string form matches the glob. */
  readonly logAttributes: readonly { readonly key: string; readonly pattern: string }[];
  /** Spans whose name matches one of these globs. */
  readonly spanNames: readonly string[];
}

/** One configured processor. `redact` is `hash` edits of the resource and the items' attributes. */
export type ProcessorConfig =
  | { readonly kind: 'resource' | 'attributes'; readonly edits: readonly AttributeEdit[] }
  | { readonly kind: 'redact'; readonly keys: readonly string[] }
  | ({ readonly kind: 'filter' } & FilterConfig);

/** Processor kinds, as the list items name them. */
const KINDS = ['resource', 'attributes', 'redact', 'filter'] as const;
const ACTIONS: readonly EditAction[] = ['insert', 'update', 'upsert', 'delete', 'hash'];
/** OTLP SeverityNumber names (logs data model): the first of each range of four. */
const SEVERITIES: Readonly<Record<string, number>> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

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
  if (kind === 'redact') {
    const names = list(doc[kind], ep);
    if (names.length === 0) throw new GatewayConfigError(ep, 'expected at least one attribute key');
    return Object.freeze({ kind, keys: Object.freeze(names.map((k, i) => string(k, at(ep, i), { nonEmpty: true }))) });
  }
  if (kind === 'filter') return filter(doc[kind], ep);
  const edits = list(doc[kind], ep);
  if (edits.length === 0) throw new GatewayConfigError(ep, 'expected at least one edit ({ action, key, value })');
  return Object.freeze({ kind: kind as 'resource' | 'attributes', edits: Object.freeze(edits.map((e, i) => attributeEdit(e, at(ep, i), kind))) });
}

function filter(value: unknown, p: string): ProcessorConfig {
  const doc = mapping(value, p, ['metrics', 'logs', 'spans']);
  const globs = (v: unknown, path: string): readonly string[] =>
    v === undefined || v === null ? Object.freeze([]) : Object.freeze(list(v, path).map((g, i) => string(g, at(path, i), { nonEmpty: true })));
  const metrics = mapping(doc['metrics'] ?? {}, at(p, 'metrics'), ['names']);
  const logs = mapping(doc['logs'] ?? {}, at(p, 'logs'), ['minSeverity', 'bodies', 'attributes']);
  const spans = mapping(doc['spans'] ?? {}, at(p, 'spans'), ['names']);
  const sp = at(at(p, 'logs'), 'minSeverity');
  let minSeverity = 0;
  const sev = logs['minSeverity'];
  if (sev !== undefined && sev !== null) {
    const named = typeof sev === 'string' ? /^([A-Za-z]+)([2-4])?$/.exec(sev.trim()) : null;
    if (named !== null && SEVERITIES[named[1]!.toUpperCase()] !== undefined)
      minSeverity = SEVERITIES[named[1]!.toUpperCase()]! + (named[2] === undefined ? 0 : Number(named[2]) - 1);
    else if (typeof sev === 'number' || (typeof sev === 'string' && /^\d+$/.test(sev.trim()))) minSeverity = number(sev, sp, 1, 24, true);
    else
      throw new GatewayConfigError(
        sp,
        `expected a severity: 1 to 24, or ${Object.keys(SEVERITIES).join(', ')} (with 2-4 appended for the finer levels), got ${show(sev)}`,
      );
  }
  const attributes = logs['attributes'] ?? {};
  const ap = at(at(p, 'logs'), 'attributes');
  const config: FilterConfig = {
    metricNames: globs(metrics['names'], at(at(p, 'metrics'), 'names')),
    minSeverity,
    logBodies: globs(logs['bodies'], at(at(p, 'logs'), 'bodies')),
    logAttributes: Object.freeze(
      Object.entries(attributes === null ? {} : mapping(attributes, ap)).map(([key, pattern]) =>
        Object.freeze({ key, pattern: string(pattern, at(ap, key)) }),
      ),
    ),
    spanNames: globs(spans['names'], at(at(p, 'spans'), 'names')),
  };
  if (
    config.metricNames.length === 0 &&
    config.minSeverity === 0 &&
    config.logBodies.length === 0 &&
    config.logAttributes.length === 0 &&
    config.spanNames.length === 0
  ) {
    throw new GatewayConfigError(p, 'expected something to drop: metrics.names, logs.minSeverity, logs.bodies, logs.attributes or spans.names');
  }
  return Object.freeze({ kind: 'filter', ...config });
}

function attributeEdit(value: unknown, p: string, kind: string): AttributeEdit {
  const doc = mapping(value, p, ['action', 'key', 'value']);
  if (doc['action'] === undefined) throw new GatewayConfigError(at(p, 'action'), `required: one of ${ACTIONS.join(', ')}`);
  const action = oneOf<EditAction>(doc['action'], at(p, 'action'), ACTIONS);
  if (doc['key'] === undefined) throw new GatewayConfigError(at(p, 'key'), `required: the ${kind === 'resource' ? 'resource ' : ''}attribute key`);
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
