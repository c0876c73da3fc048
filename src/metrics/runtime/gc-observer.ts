/**
 * `v8js.gc.duration`: every garbage collection V8 reports to a `PerformanceObserver`,
 * recorded into a histogram by `v8js.gc.type`.
 *
 * The observer is the only way to see GC pauses; it costs nothing between collections
 * and does not keep the process alive. Every entry of a delivered list is recorded (the
 * observer batches entries that arrive close together, so taking only the first would
 * undercount bursts of minor GCs).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { Attributes } from '../../otlp/types.js';
import type { Histogram } from '../instruments.js';

/** Attribute key of the GC kind (semantic conventions, V8 JS metrics). */
export const GC_TYPE = 'v8js.gc.type';

// One frozen attributes object per kind: the histogram's series lookup then hits its
// identity cache instead of hashing the attributes on every GC.
const KINDS = new Map<number, Attributes>([
  [constants.NODE_PERFORMANCE_GC_MAJOR, Object.freeze({ [GC_TYPE]: 'major' })],
  [constants.NODE_PERFORMANCE_GC_MINOR, Object.freeze({ [GC_TYPE]: 'minor' })],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, Object.freeze({ [GC_TYPE]: 'incremental' })],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, Object.freeze({ [GC_TYPE]: 'weakcb' })],
]);

/** The attributes of GC kind `kind` (a `perf_hooks.constants.NODE_PERFORMANCE_GC_*`). */
export function gcAttributes(kind: unknown): Attributes {
  if (typeof kind === 'number') {
    const known = KINDS.get(kind);
    if (known !== undefined) return known;
  }
  // The convention allows a custom value for kinds it does not list; a number keeps the
  // cardinality bounded by V8's own set.
  return { [GC_TYPE]: String(kind) };
}

/** Starts recording GC pauses (in seconds) into `histogram`; returns the function that stops. */
export function observeGc(histogram: Histogram): () => void {
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // `detail.kind` since Node.js 16 (the entry's own `kind` is deprecated).
      // (Typed only on marks and measures: read as unknown and narrowed.)
      const detail: unknown = (e as { detail?: unknown }).detail;
      const kind = typeof detail === 'object' && detail !== null ? (detail as { kind?: unknown }).kind : undefined;
      histogram.record(e.duration / 1000, gcAttributes(kind));
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
