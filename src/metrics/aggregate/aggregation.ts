/**
 * Aggregation options (metrics SDK spec, "Aggregation") and their resolution for an
 * instrument: the spec's defaults per instrument kind, view overrides, advice.
 */
import { MetricsConfigError } from '../errors.js';
import { isMonotonicKind, recordsNegative, ValueType, type InstrumentDescriptor } from '../instrument-descriptor.js';
import type { Aggregator } from '../series.js';
import { exponentialAggregator } from './base2-exponential.js';
import { DEFAULT_EXPONENTIAL_MAX_SIZE, MAX_EXPONENTIAL_MAX_SIZE, MIN_EXPONENTIAL_MAX_SIZE } from './exponential-histogram.js';
import { MAX_SCALE, MIN_SCALE } from './exponential-mapping.js';
import { DEFAULT_HISTOGRAM_BOUNDARIES, histogramAggregator } from './histogram.js';
import { lastValueAggregator } from './last-value.js';
import { sumAggregator } from './sum.js';

/** How a stream aggregates its measurements. */
export type Aggregation =
  /** The spec's default for the instrument kind (see `resolveAggregation`). */
  | { readonly type: 'default' }
  /** No stream at all: measurements are ignored. */
  | { readonly type: 'drop' }
  /** Arithmetic sum; monotonic for counters and histograms. */
  | { readonly type: 'sum' }
  /** The last measurement, exported as a Gauge. */
  | { readonly type: 'last_value' }
  | {
      readonly type: 'explicit_bucket_histogram';
      /**
       * Strictly increasing finite boundaries. Default: the instrument's advice, else
       * the spec's `[0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]`
       * (milliseconds of a typical request). `[]` keeps count/sum/min/max only.
       */
      readonly boundaries?: readonly number[];
      /** Record min and max; default true (spec default; two compares per measurement). */
      readonly recordMinMax?: boolean;
    }
  | {
      readonly type: 'base2_exponential_bucket_histogram';
      /** Buckets per range (positive, negative), 2..65536; default 160 (spec default). */
      readonly maxSize?: number;
      /** Starting, finest scale, -10..20; default 20 (spec default: scale drops as data spreads). */
      readonly maxScale?: number;
      /** Record min and max; default true (spec default). */
      readonly recordMinMax?: boolean;
    };

/** The histogram aggregation used when none is configured (`OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`). */
export type DefaultHistogramAggregation = 'explicit_bucket_histogram' | 'base2_exponential_bucket_histogram';

/** An aggregation with every parameter filled in, for one stream. */
export type ResolvedAggregation =
  | { readonly type: 'drop' }
  | { readonly type: 'sum'; readonly monotonic: boolean }
  | { readonly type: 'last_value' }
  | { readonly type: 'explicit_bucket_histogram'; readonly boundaries: readonly number[]; readonly recordMinMax: boolean; readonly withSum: boolean }
  | {
      readonly type: 'base2_exponential_bucket_histogram';
      readonly maxSize: number;
      readonly maxScale: number;
      readonly recordMinMax: boolean;
      readonly withSum: boolean;
    };

const TYPES = new Set(['default', 'drop', 'sum', 'last_value', 'explicit_bucket_histogram', 'base2_exponential_bucket_histogram']);

/** Checks that `b` is a strictly increasing list of finite numbers. */
export function validateBoundaries(b: unknown, field: string): readonly number[] {
  if (!Array.isArray(b)) throw new MetricsConfigError(field, b, 'an array of numbers');
  let prev = -Infinity;
  for (let i = 0; i < b.length; i++) {
    const v: unknown = b[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new MetricsConfigError(`${field}[${i}]`, v, 'a finite number');
    if (!(v > prev)) throw new MetricsConfigError(`${field}[${i}]`, v, `a boundary above the previous one (${prev}): strictly increasing`);
    prev = v;
  }
  return Object.freeze((b as number[]).slice());
}

function optionalInt(v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new MetricsConfigError(field, v, `an integer in [${min}, ${max}]`);
  }
  return v;
}

function optionalBool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw new MetricsConfigError(field, v, 'a boolean');
}

/** Validates an `Aggregation` from configuration; returns a frozen copy. */
export function validateAggregation(a: unknown, field: string): Aggregation {
  if (typeof a !== 'object' || a === null) throw new MetricsConfigError(field, a, 'an object with a "type"');
  const o = a as { [k: string]: unknown };
  const type = o['type'];
  if (typeof type !== 'string' || !TYPES.has(type)) {
    throw new MetricsConfigError(`${field}.type`, type, `one of ${[...TYPES].join(', ')}`);
  }
  switch (type) {
    case 'explicit_bucket_histogram': {
      const out: { type: 'explicit_bucket_histogram'; boundaries?: readonly number[]; recordMinMax?: boolean } = { type };
      if (o['boundaries'] !== undefined) out.boundaries = validateBoundaries(o['boundaries'], `${field}.boundaries`);
      const rm = optionalBool(o['recordMinMax'], `${field}.recordMinMax`);
      if (rm !== undefined) out.recordMinMax = rm;
      return Object.freeze(out);
    }
    case 'base2_exponential_bucket_histogram': {
      const out: { type: 'base2_exponential_bucket_histogram'; maxSize?: number; maxScale?: number; recordMinMax?: boolean } = { type };
      const maxSize = optionalInt(o['maxSize'], `${field}.maxSize`, MIN_EXPONENTIAL_MAX_SIZE, MAX_EXPONENTIAL_MAX_SIZE);
      if (maxSize !== undefined) out.maxSize = maxSize;
      const maxScale = optionalInt(o['maxScale'], `${field}.maxScale`, MIN_SCALE, MAX_SCALE);
      if (maxScale !== undefined) out.maxScale = maxScale;
      const rm = optionalBool(o['recordMinMax'], `${field}.recordMinMax`);
      if (rm !== undefined) out.recordMinMax = rm;
      return Object.freeze(out);
    }
    default:
      return Object.freeze({ type }) as Aggregation;
  }
}

/**
 * Resolves `agg` for an instrument (metrics SDK spec, "Default Aggregation"):
 * counters and up-down counters → Sum, gauges → Last Value, histograms →
 * `defaultHistogram` with the instrument's advised boundaries when no view gives any.
 */
export function resolveAggregation(desc: InstrumentDescriptor, agg: Aggregation, defaultHistogram: DefaultHistogramAggregation): ResolvedAggregation {
  const withSum = !recordsNegative(desc.kind);
  let a = agg;
  if (a.type === 'default') {
    switch (desc.kind) {
      case 'counter':
      case 'observablecounter':
      case 'updowncounter':
      case 'observableupdowncounter':
        a = { type: 'sum' };
        break;
      case 'gauge':
      case 'observablegauge':
        a = { type: 'last_value' };
        break;
      case 'histogram':
        a = { type: defaultHistogram };
        break;
    }
  }
  switch (a.type) {
    case 'drop':
    case 'last_value':
      return { type: a.type };
    case 'sum':
      return { type: 'sum', monotonic: isMonotonicKind(desc.kind) };
    case 'explicit_bucket_histogram':
      return {
        type: a.type,
        boundaries: a.boundaries ?? desc.advice.explicitBucketBoundaries ?? DEFAULT_HISTOGRAM_BOUNDARIES,
        recordMinMax: a.recordMinMax ?? true,
        withSum,
      };
    case 'base2_exponential_bucket_histogram':
      return {
        type: a.type,
        maxSize: a.maxSize ?? DEFAULT_EXPONENTIAL_MAX_SIZE,
        maxScale: a.maxScale ?? MAX_SCALE,
        recordMinMax: a.recordMinMax ?? true,
        withSum,
      };
    default:
      return { type: 'drop' };
  }
}

/** Builds the aggregator of a synchronous stream; `undefined` for drop. */
export function buildAggregator(r: ResolvedAggregation, desc: InstrumentDescriptor): Aggregator | undefined {
  const isInt = desc.valueType === ValueType.INT;
  switch (r.type) {
    case 'drop':
      return undefined;
    case 'sum':
      return sumAggregator(r.monotonic, isInt);
    case 'last_value':
      return lastValueAggregator(isInt);
    case 'explicit_bucket_histogram':
      return histogramAggregator(r.boundaries, r.withSum, r.recordMinMax);
    case 'base2_exponential_bucket_histogram':
      return exponentialAggregator(r.maxSize, r.maxScale, r.withSum, r.recordMinMax);
  }
}

/** Whether two resolved aggregations produce the same kind of data with the same parameters. */
export function sameAggregation(a: ResolvedAggregation, b: ResolvedAggregation): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'explicit_bucket_histogram' && b.type === 'explicit_bucket_histogram') {
    return a.boundaries.length === b.boundaries.length && a.boundaries.every((v, i) => v === b.boundaries[i]) && a.recordMinMax === b.recordMinMax;
  }
  if (a.type === 'base2_exponential_bucket_histogram' && b.type === 'base2_exponential_bucket_histogram') {
    return a.maxSize === b.maxSize && a.maxScale === b.maxScale && a.recordMinMax === b.recordMinMax;
  }
  return true;
}
