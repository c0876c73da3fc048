/**
 * What identifies an instrument (metrics API spec, "Instrument"): name, kind, unit,
 * description and value type, plus the validation rules the spec gives for them.
 */

/** The seven instrument kinds of the metrics API. */
export type InstrumentKind =
  | 'counter'
  | 'updowncounter'
  | 'histogram'
  | 'gauge'
  | 'observablecounter'
  | 'observableupdowncounter'
  | 'observablegauge';

/** Every instrument kind, for validation and tests. */
export const INSTRUMENT_KINDS: readonly InstrumentKind[] = [
  'counter',
  'updowncounter',
  'histogram',
  'gauge',
  'observablecounter',
  'observableupdowncounter',
  'observablegauge',
];

/**
 * Numeric value types, numbered as `@opentelemetry/api`'s `ValueType` enum (INT = 0,
 * DOUBLE = 1) so that options written against that API pass through unchanged.
 */
export const ValueType = { INT: 0, DOUBLE: 1 } as const;
/** `ValueType.INT` or `ValueType.DOUBLE`. */
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** Advisory parameters an instrument author may give (API spec, "Instrument advisory parameters"). */
export interface MetricAdvice {
  /** Boundaries for the explicit bucket histogram, used when no view sets any. */
  readonly explicitBucketBoundaries?: readonly number[];
}

/** Instrument options, structurally those of `@opentelemetry/api`'s `MetricOptions`. */
export interface MetricOptions {
  /** Free text; default ''. */
  readonly description?: string;
  /** UCUM unit, ≤ 63 ASCII characters; default '' (dimensionless). */
  readonly unit?: string;
  /** `ValueType.INT` (0) or `ValueType.DOUBLE` (1); default DOUBLE, as in the API. */
  readonly valueType?: number;
  /** Advisory parameters; see `MetricAdvice`. */
  readonly advice?: MetricAdvice;
}

/** A validated instrument identity. */
export interface InstrumentDescriptor {
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly unit: string;
  readonly description: string;
  readonly valueType: ValueType;
  readonly advice: MetricAdvice;
}

// Metrics API spec, "Instrument name syntax": an ASCII letter, then up to 254 of
// letters, digits, '_', '.', '-' and '/'.
const NAME_RE = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;
// Metrics API spec, "Instrument unit": case-sensitive ASCII, at most 63 characters.
const UNIT_RE = /^[\x00-\x7f]{0,63}$/;

/** Whether `name` is a valid instrument name per the metrics API spec. */
export function isValidInstrumentName(name: unknown): name is string {
  return typeof name === 'string' && NAME_RE.test(name);
}

/** Whether `unit` is a valid instrument unit per the metrics API spec. */
export function isValidInstrumentUnit(unit: unknown): unit is string {
  return typeof unit === 'string' && UNIT_RE.test(unit);
}

/** Whether measurements of `kind` are made in callbacks. */
export function isObservableKind(kind: InstrumentKind): boolean {
  return kind === 'observablecounter' || kind === 'observableupdowncounter' || kind === 'observablegauge';
}

/** Whether a Sum over `kind` is monotonic (counters only). */
export function isMonotonicKind(kind: InstrumentKind): boolean {
  return kind === 'counter' || kind === 'observablecounter' || kind === 'histogram';
}

/**
 * Whether `kind` may record negative values; histogram aggregations of such kinds
 * leave `sum` out (metrics SDK spec, "Explicit Bucket Histogram Aggregation").
 */
export function recordsNegative(kind: InstrumentKind): boolean {
  return kind === 'updowncounter' || kind === 'observableupdowncounter' || kind === 'gauge' || kind === 'observablegauge';
}
