/**
 * Views (metrics SDK spec, "View"): select instruments, and change the name,
 * description, attribute keys, aggregation or cardinality limit of their streams.
 * An instrument matched by no view gets one default stream; matched by several, one
 * stream per view.
 */
import { validateAggregation, type Aggregation } from './aggregate/aggregation.js';
import { attributeFilter, KEEP_ALL, type AttributeFilter } from './attribute-key.js';
import { MetricsConfigError } from './errors.js';
import { INSTRUMENT_KINDS, isValidInstrumentName, type InstrumentDescriptor, type InstrumentKind } from './instrument-descriptor.js';

/** A view as configured. At least one selection criterion is required. */
export interface ViewOptions {
  /** Instrument name pattern, case-insensitive: `*` matches any run of characters, `?` one. */
  readonly instrumentName?: string;
  readonly instrumentKind?: InstrumentKind;
  /** Exact unit. */
  readonly instrumentUnit?: string;
  /** Exact meter name. */
  readonly meterName?: string;
  /** Exact meter version. */
  readonly meterVersion?: string;
  /** Exact meter schema URL. */
  readonly meterSchemaUrl?: string;
  /**
   * New stream name. Only with an `instrumentName` without wildcards: a name shared by
   * every instrument a pattern matches would make conflicting streams (spec: fail fast).
   */
  readonly name?: string;
  /** New stream description. */
  readonly description?: string;
  /** Attribute keys kept: an allow-list (`include`) or a deny-list (`exclude`). Default: all. */
  readonly attributeKeys?: { readonly include: readonly string[] } | { readonly exclude: readonly string[] };
  /** Aggregation of the stream; default: the instrument kind's default. */
  readonly aggregation?: Aggregation;
  /** Most series of the stream, overflow series included; default: the provider's. */
  readonly cardinalityLimit?: number;
}

/** The meter fields a view may select on. */
export interface MeterIdentity {
  readonly name: string;
  readonly version: string;
  readonly schemaUrl: string;
}

/** A validated view. */
export interface View {
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly filter: AttributeFilter;
  readonly aggregation: Aggregation | undefined;
  readonly cardinalityLimit: number | undefined;
  matches(instrument: InstrumentDescriptor, meter: MeterIdentity): boolean;
}

/** Compiles a `*`/`?` pattern into an anchored, case-insensitive RegExp. */
export function wildcardPattern(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(re + '$', 'is');
}

function optionalString(o: { [k: string]: unknown }, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined || typeof v === 'string') return v;
  throw new MetricsConfigError(`${field}.${key}`, v, 'a string');
}

function stringList(v: unknown, field: string): readonly string[] {
  if (!Array.isArray(v) || v.some((k) => typeof k !== 'string')) throw new MetricsConfigError(field, v, 'an array of strings');
  return v as string[];
}

/** Validates one view (`field` names it in errors, e.g. `views[2]`). */
export function validateView(v: unknown, field: string): View {
  if (typeof v !== 'object' || v === null) throw new MetricsConfigError(field, v, 'an object');
  const o = v as { [k: string]: unknown };
  const instrumentName = optionalString(o, 'instrumentName', field);
  const instrumentUnit = optionalString(o, 'instrumentUnit', field);
  const meterName = optionalString(o, 'meterName', field);
  const meterVersion = optionalString(o, 'meterVersion', field);
  const meterSchemaUrl = optionalString(o, 'meterSchemaUrl', field);
  const name = optionalString(o, 'name', field);
  const description = optionalString(o, 'description', field);
  const kind = o['instrumentKind'];
  if (kind !== undefined && !INSTRUMENT_KINDS.includes(kind as InstrumentKind)) {
    throw new MetricsConfigError(`${field}.instrumentKind`, kind, `one of ${INSTRUMENT_KINDS.join(', ')}`);
  }
  if (
    instrumentName === undefined &&
    kind === undefined &&
    instrumentUnit === undefined &&
    meterName === undefined &&
    meterVersion === undefined &&
    meterSchemaUrl === undefined
  ) {
    throw new MetricsConfigError(
      field,
      v,
      'a view with at least one selection criterion (instrumentName, instrumentKind, instrumentUnit, meterName, meterVersion, meterSchemaUrl)',
    );
  }
  if (name !== undefined) {
    if (instrumentName === undefined || /[*?]/.test(instrumentName)) {
      throw new MetricsConfigError(
        `${field}.name`,
        name,
        'a rename only in a view that selects one instrument by an exact instrumentName (no wildcard)',
      );
    }
    if (!isValidInstrumentName(name)) throw new MetricsConfigError(`${field}.name`, name, 'a valid instrument name');
  }
  let filter: AttributeFilter = KEEP_ALL;
  const ak = o['attributeKeys'];
  if (ak !== undefined) {
    if (typeof ak !== 'object' || ak === null) throw new MetricsConfigError(`${field}.attributeKeys`, ak, '{ include: [...] } or { exclude: [...] }');
    const a = ak as { [k: string]: unknown };
    if (a['include'] !== undefined && a['exclude'] !== undefined) {
      throw new MetricsConfigError(`${field}.attributeKeys`, ak, 'include or exclude, not both');
    }
    if (a['include'] !== undefined) filter = attributeFilter({ include: stringList(a['include'], `${field}.attributeKeys.include`) });
    else if (a['exclude'] !== undefined) filter = attributeFilter({ exclude: stringList(a['exclude'], `${field}.attributeKeys.exclude`) });
    else throw new MetricsConfigError(`${field}.attributeKeys`, ak, '{ include: [...] } or { exclude: [...] }');
  }
  const aggregation = o['aggregation'] === undefined ? undefined : validateAggregation(o['aggregation'], `${field}.aggregation`);
  const limit = o['cardinalityLimit'];
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new MetricsConfigError(`${field}.cardinalityLimit`, limit, 'an integer ≥ 1');
  }
  const nameRe = instrumentName === undefined ? undefined : wildcardPattern(instrumentName);
  return Object.freeze({
    name,
    description,
    filter,
    aggregation,
    cardinalityLimit: limit as number | undefined,
    matches(instrument: InstrumentDescriptor, meter: MeterIdentity): boolean {
      return (
        (nameRe === undefined || nameRe.test(instrument.name)) &&
        (kind === undefined || kind === instrument.kind) &&
        (instrumentUnit === undefined || instrumentUnit === instrument.unit) &&
        (meterName === undefined || meterName === meter.name) &&
        (meterVersion === undefined || meterVersion === meter.version) &&
        (meterSchemaUrl === undefined || meterSchemaUrl === meter.schemaUrl)
      );
    },
  });
}
