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
  const counts = translateMetrics(
    requests,
    {
      timestamps: true,
      family: () => true,
      sample(name, labels, value, timeUnixNano, extraName, extraValue) {
        const pairs: Array<[string, string]> = [['__name__', name]];
        for (let i = 0; i < labels.length; i += 2) if (labels[i + 1] !== '') pairs.push([labels[i]!, labels[i + 1]!]);
        if (extraName !== undefined) pairs.push([extraName, extraValue!]);
        for (let i = 0; i < externalLabels.length; i += 2) {
          const n = externalLabels[i]!;
          if (externalLabels[i + 1] !== '' && !pairs.some((p) => p[0] === n)) pairs.push([n, externalLabels[i + 1]!]);
        }
        pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        const flat = pairs.flat();
        // \u0000 and \u0001 cannot appear in label names, so the key is unambiguous.
        const key = flat.join('\u0000\u0001');
        let s = byKey.get(key);
        if (s === undefined) {
          s = { labels: flat, key, samples: [] };
          byKey.set(key, s);
        }
        s.samples.push([Number(timeUnixNano / 1_000_000n), Number(value)]);
        samples++;
      },
    },
    { resource: 'collector' },
  );
  const series = [...byKey.values()];
  for (const s of series) if (s.samples.length > 1) s.samples.sort((a, b) => a[0] - b[0]);
  return { series, samples, deltaPoints: counts.deltaPoints };
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
