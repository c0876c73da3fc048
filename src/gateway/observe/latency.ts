/**
 * Interval views of an upstream's cumulative `LatencyHistogram` (src/internal/latency.ts):
 * the console wants p50/p99 of the last interval, the self-metrics want the calls since
 * the previous collection as histogram measurements. Both diff the bucket counts against
 * a snapshot; nothing is recorded twice and the backend's hot path is untouched.
 */
import { LatencyHistogram } from '../../internal/latency.js';

let bounds: Float64Array | undefined;

/**
 * Upper bound (ms) of each bucket of `LatencyHistogram`, found through its public
 * `quantile()` so that this file does not restate its constants. Built once (≈460
 * buckets, ~100k steps).
 */
export function latencyBucketBoundsMs(): Float64Array {
  if (bounds !== undefined) return bounds;
  const probe = new LatencyHistogram();
  const out = new Float64Array(probe.counts.length);
  probe.count = 1;
  probe.max = Infinity;
  for (let i = 0; i < out.length; i++) {
    probe.counts.fill(0);
    probe.counts[i] = 1;
    out[i] = probe.quantile(1);
  }
  bounds = out;
  return out;
}

/** The calls of `source` since the previous `next()`, as a histogram of their own. */
export class LatencyDelta {
  readonly #source: LatencyHistogram;
  readonly #prev: Float64Array;
  readonly #interval = new LatencyHistogram();
  #prevCount: number;

  constructor(source: LatencyHistogram) {
    this.#source = source;
    this.#prev = Float64Array.from(source.counts);
    this.#prevCount = source.count;
  }

  /**
   * The histogram of calls recorded since the last call (or construction). The returned
   * object is reused by the next call. Its `max` is the source's all-time max, an upper
   * bound that only caps `quantile()`; `sum` is not tracked.
   */
  next(): LatencyHistogram {
    const src = this.#source.counts;
    const prev = this.#prev;
    const out = this.#interval;
    out.reset();
    // A source that was reset since (fewer calls than before) restarts the diff: its
    // buckets cannot be told apart from the old ones, so this interval reports nothing.
    const restarted = this.#source.count < this.#prevCount;
    this.#prevCount = this.#source.count;
    for (let i = 0; i < src.length; i++) {
      const d = src[i]! - prev[i]!;
      if (d > 0 && !restarted) {
        out.counts[i] = d;
        out.count += d;
      }
      prev[i] = src[i]!;
    }
    out.max = out.count > 0 ? this.#source.max : 0;
    return out;
  }
}
