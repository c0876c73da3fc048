/**
 * Aggregation temporality per consumer and instrument kind. The presets are those of
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (metrics SDK spec, OTLP exporter):
 *
 * | kind                      | cumulative | delta      | lowmemory  |
 * |---------------------------|------------|------------|------------|
 * | counter, histogram        | cumulative | delta      | delta      |
 * | observablecounter         | cumulative | delta      | cumulative |
 * | updowncounter (+ async)   | cumulative | cumulative | cumulative |
 * | gauge, observablegauge    | cumulative | delta      | cumulative |
 *
 * Gauges, which the spec's table leaves out, follow the official JS selectors.
 */
import { MetricsConfigError } from './errors.js';
import type { InstrumentKind } from './instrument-descriptor.js';

/** A temporality. */
export type Temporality = 'cumulative' | 'delta';

/** A preset, or a function of the instrument kind. */
export type TemporalityPreference = 'cumulative' | 'delta' | 'lowmemory' | ((kind: InstrumentKind) => Temporality);

/** Validates a preference (case-insensitive names, as the environment variable allows). */
export function validateTemporality(p: unknown, field: string): TemporalityPreference {
  if (p === undefined) return 'cumulative';
  if (typeof p === 'function') return p as (kind: InstrumentKind) => Temporality;
  if (typeof p === 'string') {
    const v = p.toLowerCase();
    if (v === 'cumulative' || v === 'delta' || v === 'lowmemory') return v;
  }
  throw new MetricsConfigError(field, p, "'cumulative', 'delta', 'lowmemory' or a function of the instrument kind");
}

/** The temporality a consumer with preference `p` uses for instruments of `kind`. */
export function temporalityFor(p: TemporalityPreference, kind: InstrumentKind): Temporality {
  if (typeof p === 'function') return p(kind) === 'delta' ? 'delta' : 'cumulative';
  if (p === 'cumulative') return 'cumulative';
  switch (kind) {
    case 'counter':
    case 'histogram':
      return 'delta';
    case 'observablecounter':
    case 'gauge':
    case 'observablegauge':
      return p === 'delta' ? 'delta' : 'cumulative';
    default:
      return 'cumulative';
  }
}
