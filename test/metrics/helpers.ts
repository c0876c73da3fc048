/**
 * Test helpers: flatten decoded ExportMetricsServiceRequests into plain points, and a
 * seeded PRNG. Not a test file (uvu runs `*.test.ts` only).
 */
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { AnyValue, KeyValue } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { MetricConsumer } from '../../src/metrics/meter-provider.js';
import { setDiagnosticSink, resetWarnings } from '../../src/internal/warn.js';

/** One data point, flattened. */
export interface FlatPoint {
  scope: string;
  metric: string;
  unit: string;
  description: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'other';
  temporality: number;
  monotonic: boolean;
  /** Attributes as `k=v` joined by ',' in key order. */
  attrs: string;
  start: bigint;
  time: bigint;
  value: number;
  isInt: boolean;
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  buckets: number[];
  bounds: number[];
  scale: number;
  zeroCount: number;
  posOffset: number;
  pos: number[];
  negOffset: number;
  neg: number[];
}

function anyText(v: AnyValue | undefined): string {
  const x = v?.value;
  if (x === undefined || x.case === undefined) return 'null';
  switch (x.case) {
    case 'arrayValue':
      return '[' + x.value.values.map(anyText).join(';') + ']';
    case 'kvlistValue':
      return '{' + attrsText(x.value.values) + '}';
    case 'bytesValue':
      return Buffer.from(x.value).toString('hex');
    default:
      return String(x.value);
  }
}

/** `k=v,...` sorted by key. */
export function attrsText(kvs: KeyValue[]): string {
  return kvs
    .map((kv) => `${kv.key}=${anyText(kv.value)}`)
    .sort()
    .join(',');
}

/** Flattens every point of `reqs`. */
export function flatten(reqs: ExportMetricsServiceRequest[]): FlatPoint[] {
  const out: FlatPoint[] = [];
  for (const req of reqs) {
    for (const rm of req.resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          const base = {
            scope: sm.scope?.name ?? '',
            metric: m.name,
            unit: m.unit,
            description: m.description,
            value: 0,
            isInt: false,
            count: 0,
            sum: undefined,
            min: undefined,
            max: undefined,
            buckets: [],
            bounds: [],
            scale: 0,
            zeroCount: 0,
            posOffset: 0,
            pos: [],
            negOffset: 0,
            neg: [],
          };
          const d = m.data;
          if (d.case === 'sum' || d.case === 'gauge') {
            for (const p of d.value.dataPoints) {
              out.push({
                ...base,
                kind: d.case,
                temporality: d.case === 'sum' ? d.value.aggregationTemporality : 0,
                monotonic: d.case === 'sum' ? d.value.isMonotonic : false,
                attrs: attrsText(p.attributes),
                start: p.startTimeUnixNano,
                time: p.timeUnixNano,
                value: p.value.case === 'asInt' ? Number(p.value.value) : p.value.case === 'asDouble' ? p.value.value : NaN,
                isInt: p.value.case === 'asInt',
              });
            }
          } else if (d.case === 'histogram') {
            for (const p of d.value.dataPoints) {
              out.push({
                ...base,
                kind: 'histogram',
                temporality: d.value.aggregationTemporality,
                monotonic: false,
                attrs: attrsText(p.attributes),
                start: p.startTimeUnixNano,
                time: p.timeUnixNano,
                count: Number(p.count),
                sum: p.sum,
                min: p.min,
                max: p.max,
                buckets: p.bucketCounts.map(Number),
                bounds: [...p.explicitBounds],
              });
            }
          } else if (d.case === 'exponentialHistogram') {
            for (const p of d.value.dataPoints) {
              out.push({
                ...base,
                kind: 'exponentialHistogram',
                temporality: d.value.aggregationTemporality,
                monotonic: false,
                attrs: attrsText(p.attributes),
                start: p.startTimeUnixNano,
                time: p.timeUnixNano,
                count: Number(p.count),
                sum: p.sum,
                min: p.min,
                max: p.max,
                scale: p.scale,
                zeroCount: Number(p.zeroCount),
                posOffset: p.positive?.offset ?? 0,
                pos: (p.positive?.bucketCounts ?? []).map(Number),
                negOffset: p.negative?.offset ?? 0,
                neg: (p.negative?.bucketCounts ?? []).map(Number),
              });
            }
          }
        }
      }
    }
  }
  return out;
}

/** Collects `c` and flattens the result. */
export async function points(c: MetricConsumer): Promise<FlatPoint[]> {
  return flatten(await c.collectMessages());
}

/** The single point of `metric` with `attrs` (or undefined). */
export function point(ps: FlatPoint[], metric: string, attrs = ''): FlatPoint | undefined {
  const found = ps.filter((p) => p.metric === metric && p.attrs === attrs);
  if (found.length > 1) throw new Error(`several points for ${metric} {${attrs}}`);
  return found[0];
}

/** The seeded PRNG of every property test (test/support/prng.ts). */
export { prng } from '../support/prng.js';

/** Captures warnings while `f` runs (warn-once state reset before and after). */
export async function captureWarnings<T>(f: () => T | Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
  try {
    const result = await f();
    return { result, warnings };
  } finally {
    setDiagnosticSink((m) => process.emitWarning(m, { code: 'OTLP_FANOUT' }));
    resetWarnings();
  }
}
