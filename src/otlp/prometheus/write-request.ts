/**
 * OTLP metrics → Prometheus remote write 1.0 series, and their `WriteRequest` bytes
 * (proto/prometheus/remote_write/v1/remote_write.proto), written directly with our BinaryWriter like
 * the OTLP encoders (test/otlp/prometheus/write-request.test.ts decodes them with the generated schema).
 *
 * The translation is translate.ts's, in collector mode (a gateway forwards many sources): `job` and
 * `instance` on every series, `target_info` per resource. Then, per the remote write spec: `__name__`
 * holds the metric name; label names are sorted and unique; labels with an empty value are left out (an
 * empty value is no label in Prometheus); external labels are added where the series has no label of
 * that name; each series' samples are in timestamp order (points of one request may come from several
 * merged requests). Timestamps are the points' own, in milliseconds.
 */
import { BinaryWriter } from '../encode/binary-writer.js';
import { translateMetrics } from './translate.js';

/** One series to send. */
export interface RemoteSeries {
  /** Flat `[name, value, …]`, sorted by name, `__name__` included. */
  readonly labels: readonly string[];
  /** The label set as one string: the series' identity (and its shard, see remote-write.ts). */
  readonly key: string;
  /** `[timestampMs, value]`, sorted by time once {@link buildSeries} returns. */
  readonly samples: Array<[number, number]>;
}

/** What a translation made. */
export interface RemoteBatch {
  readonly series: RemoteSeries[];
  readonly samples: number;
  /** Delta Sum and Histogram points, left out (remote write carries cumulative values). */
  readonly deltaPoints: number;
}

/** Translates `requests` (encoded Export requests) to series; `externalLabels` flat `[name, value, …]`. Throws WireFormatError. */
export function buildSeries(requests: readonly Uint8Array[], externalLabels: readonly string[] = []): RemoteBatch {
  const byKey = new Map<string, RemoteSeries>();
  let samples = 0;
  // A point's labels (with the external ones), sorted once and keyed once: every sample of the point
  // (a histogram's buckets) shares them and adds only its name and `le` (translate.ts passes one array).
  let lastLabels: readonly string[] | undefined;
  let base: string[] = [];
  let baseKey = '';
  const counts = translateMetrics(
    requests,
    {
      timestamps: true,
      family: () => true,
      sample(name, labels, value, timeMs, extraName, extraValue) {
        if (labels !== lastLabels) {
          lastLabels = labels;
          base = sortedPairs(labels, externalLabels);
          // \u0000 and \u0001 cannot appear in label names, so the key is unambiguous.
          baseKey = base.join('\u0001');
        }
        const key = extraName === undefined ? `${name}\u0000${baseKey}` : `${name}\u0000${baseKey}\u0000${extraName}\u0001${extraValue}`;
        let s = byKey.get(key);
        if (s === undefined) {
          s = { labels: withSorted(withSorted(base, '__name__', name), extraName, extraValue), key, samples: [] };
          byKey.set(key, s);
        }
        s.samples.push([timeMs, Number(value)]);
        samples++;
      },
    },
    { resource: 'collector' },
  );
  const series = [...byKey.values()];
  for (const s of series) if (s.samples.length > 1) s.samples.sort((a, b) => a[0] - b[0]);
  return { series, samples, deltaPoints: counts.deltaPoints };
}

/**
 * Labels with a value (an empty one is no label in Prometheus), plus the external ones they lack, sorted
 * by name: an insertion sort into one flat array (a point has a handful of labels; sorting an array of
 * pairs and flattening it cost a microsecond per point, most of the translation).
 */
function sortedPairs(labels: readonly string[], external: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < labels.length; i += 2) if (labels[i + 1] !== '') insert(out, labels[i]!, labels[i + 1]!, false);
  for (let i = 0; i < external.length; i += 2) if (external[i + 1] !== '') insert(out, external[i]!, external[i + 1]!, true);
  return out;
}

/** Inserts `name = value` into sorted flat `out`; with `ifAbsent`, not when the name is there already. */
function insert(out: string[], name: string, value: string, ifAbsent: boolean): void {
  let i = out.length;
  while (i > 0 && out[i - 2]! > name) i -= 2;
  if (ifAbsent && i > 0 && out[i - 2] === name) return;
  out.splice(i, 0, name, value);
}

/** `flat` (sorted) with `name = value` inserted in order; `flat` itself when `name` is undefined or already there. */
function withSorted(flat: readonly string[], name: string | undefined, value: string | undefined): string[] {
  if (name === undefined) return flat as string[];
  const out: string[] = [];
  let placed = false;
  for (let i = 0; i < flat.length; i += 2) {
    if (!placed && flat[i]! >= name) {
      if (flat[i] === name) return flat as string[];
      out.push(name, value!);
      placed = true;
    }
    out.push(flat[i]!, flat[i + 1]!);
  }
  if (!placed) out.push(name, value!);
  return out;
}

// Reused between calls: a request is encoded synchronously, start to finish.
const writer = new BinaryWriter();

/** The `WriteRequest` bytes of `series` (uncompressed). */
export function encodeWriteRequest(series: readonly RemoteSeries[]): Uint8Array {
  const w = writer;
  for (const s of series) {
    w.tag(1, 2).fork(); // WriteRequest.timeseries
    for (let i = 0; i < s.labels.length; i += 2) {
      w.tag(1, 2).fork(); // TimeSeries.labels
      w.tag(1, 2).string(s.labels[i]!);
      w.tag(2, 2).string(s.labels[i + 1]!);
      w.join();
    }
    for (const [ts, v] of s.samples) {
      w.tag(2, 2).fork(); // TimeSeries.samples
      w.tag(1, 1).double(v);
      w.tag(2, 0).int64(ts);
      w.join();
    }
    w.join();
  }
  return w.finish();
}
