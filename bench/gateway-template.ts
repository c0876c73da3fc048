/**
 * The request the gateway benchmark sends: one OTLP ExportMetricsServiceRequest of 100
 * data points (10 cumulative sums × 10 series, 3 attributes each), 12 KiB of protobuf.
 *
 * Its first resource attribute, `bench.sent_at`, holds 20 ASCII digits that the load
 * generator overwrites with the send time (µs since the epoch) just before sending. The
 * gateway forwards a single-route request as received (byte for byte), so a receiver can
 * read the same 20 bytes at the same offset and compute the delivery latency, whether the
 * request came straight from the load generator or through the gateway.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';

/** Data points per request, as the brief asks. */
export const POINTS_PER_REQUEST = 100;

const PLACEHOLDER = 'T'.repeat(20);
const DIGITS = 20;

/** The encoded request and where its send-time digits are. */
export interface BenchRequest {
  readonly body: Uint8Array;
  readonly sentAtOffset: number;
}

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

/** Builds the request (deterministic: the same bytes in every process). */
export function benchRequest(): BenchRequest {
  const t = 1_700_000_000_000_000_000n;
  const metrics = [];
  for (let m = 0; m < 10; m++) {
    const dataPoints = [];
    for (let s = 0; s < 10; s++) {
      dataPoints.push({
        attributes: [
          { key: 'host.name', value: str(`host-${s}`) },
          { key: 'http.route', value: str(`/api/v1/items/${m}`) },
          { key: 'http.response.status_code', value: { value: { case: 'intValue' as const, value: 200n } } },
        ],
        startTimeUnixNano: t,
        timeUnixNano: t + 10_000_000_000n,
        value: { case: 'asDouble' as const, value: m * 1000 + s + 0.5 },
      });
    }
    metrics.push({
      name: `bench.requests.${m}`,
      unit: '{request}',
      data: { case: 'sum' as const, value: { aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true, dataPoints } },
    });
  }
  const message = create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'bench.sent_at', value: str(PLACEHOLDER) },
            { key: 'service.name', value: str('bench-load') },
          ],
        },
        scopeMetrics: [{ scope: { name: 'bench', version: '1' }, metrics }],
      },
    ],
  });
  const body = toBinary(ExportMetricsServiceRequestSchema, message);
  const sentAtOffset = Buffer.from(body.buffer, body.byteOffset, body.byteLength).indexOf(PLACEHOLDER, 0, 'latin1');
  if (sentAtOffset < 0) throw new Error('bench request: placeholder not found');
  return { body, sentAtOffset };
}

/** Now, in µs since the epoch, with sub-ms resolution (comparable across processes on one host). */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Writes `micros` as 20 zero-padded ASCII digits at `offset`. */
export function writeSentAt(body: Uint8Array, offset: number, micros: number): void {
  let v = micros;
  for (let i = DIGITS - 1; i >= 0; i--) {
    body[offset + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

/** Reads the digits back; undefined when they are not digits (the body was not forwarded as is). */
export function readSentAt(body: Uint8Array, offset: number): number | undefined {
  if (offset + DIGITS > body.length) return undefined;
  let v = 0;
  for (let i = 0; i < DIGITS; i++) {
    const c = body[offset + i]! - 48;
    if (c < 0 || c > 9) return undefined;
    v = v * 10 + c;
  }
  return v;
}
