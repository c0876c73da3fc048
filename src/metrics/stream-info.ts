/** What a metric stream reports about itself, fixed when its instrument is created. */
import type { ResolvedAggregation } from './aggregate/aggregation.js';
import type { InstrumentKind, ValueType } from './instrument-descriptor.js';
import type { Attributes } from '../otlp/types.js';

/** Identity and metadata of one stream (an instrument seen through one view). */
export interface StreamInfo {
  /** Metric name: the view's `name`, else the instrument's. */
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  /** Instrument kind: picks the temporality each consumer uses. */
  readonly kind: InstrumentKind;
  readonly valueType: ValueType;
  readonly aggregation: ResolvedAggregation;
  /** When the instrument was created: the earliest start of its points. */
  readonly created: bigint;
  /** The meter's identity, for diagnostics. */
  readonly scopeKey: string;
  /** Attributes added to every point (the provider's `attributes`); a point's own of the same key win. */
  readonly commonAttributes: Attributes;
}
