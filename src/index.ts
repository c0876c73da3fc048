/**
 * otlp-fanout public API. User-facing symbols first; integration symbols
 * (transports, encoders) after the marker below.
 */
export type { AttributeValue, Attributes, AnyValueInput, Signal, ScopeInfo } from './otlp/types.js';

// ---- integration API ----
export type { Encoding, ExportResult, ExportCallOptions, Transport } from './transport/types.js';
