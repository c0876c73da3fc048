/**
 * Builds our gen/ request messages from the official SDK's in-memory data, so that our encoders
 * can serialize the very data the official serializers do. The mapping is the one normalize.ts
 * documents (JS number → int when integral, INT instruments → as_int, kind + 1, span flags with
 * the HAS_IS_REMOTE / IS_REMOTE bits); it is written independently of the official transformer.
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { HrTime, Link, SpanContext, SpanStatusCode as SdkStatusCode } from '@opentelemetry/api';
import type { InstrumentationScope as SdkScope } from '@opentelemetry/core';
import type { Resource as SdkResource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { AggregationTemporality as SdkTemporality } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportTraceServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { ExportTraceServiceRequest } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { AnyValueSchema, KeyValueSchema } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { AggregationTemporality } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { MetricSchema } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { LogRecordSchema } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import type { SpanSchema } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { Status_StatusCode } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { api, sdkMetrics } from './official.js';

const { SpanStatusCode, ValueType } = api;
const { DataPointType } = sdkMetrics;

type AnyValueInit = MessageInitShape<typeof AnyValueSchema>;
type KeyValueInit = MessageInitShape<typeof KeyValueSchema>;

/** A JS value as the official exporters map it to AnyValue. */
export function anyValue(v: unknown): AnyValueInit {
  switch (typeof v) {
    case 'string':
      return { value: { case: 'stringValue', value: v } };
    case 'boolean':
      return { value: { case: 'boolValue', value: v } };
    case 'number':
      return Number.isInteger(v) ? { value: { case: 'intValue', value: BigInt(v) } } : { value: { case: 'doubleValue', value: v } };
    case 'object':
      if (v === null) return {};
      if (v instanceof Uint8Array) return { value: { case: 'bytesValue', value: v } };
      if (Array.isArray(v)) return { value: { case: 'arrayValue', value: { values: (v as unknown[]).map(anyValue) } } };
      return { value: { case: 'kvlistValue', value: { values: keyValues(v as Record<string, unknown>) } } };
    default:
      return {};
  }
}

/** SDK attributes → KeyValues, in the attributes' own order. */
export function keyValues(attrs: Readonly<Record<string, unknown>> | undefined): KeyValueInit[] {
  if (attrs === undefined) return [];
  return Object.keys(attrs).map((key) => ({ key, value: anyValue(attrs[key]) }));
}

/** HrTime → bigint nanoseconds. */
export function nanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

function hexBytes(hex: string | undefined): Uint8Array {
  return hex === undefined || hex === '' ? new Uint8Array(0) : new Uint8Array(Buffer.from(hex, 'hex'));
}

function resource(r: SdkResource) {
  return { attributes: keyValues(r.attributes) };
}

function scope(s: SdkScope & { attributes?: Readonly<Record<string, unknown>>; droppedAttributesCount?: number }) {
  return { name: s.name, version: s.version ?? '', attributes: keyValues(s.attributes), droppedAttributesCount: s.droppedAttributesCount ?? 0 };
}

function temporality(t: SdkTemporality): AggregationTemporality {
  return t === sdkMetrics.AggregationTemporality.DELTA ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
}

function metric(m: MetricData): MessageInitShape<typeof MetricSchema> {
  const base = { name: m.descriptor.name, description: m.descriptor.description, unit: m.descriptor.unit };
  const times = (p: { startTime: HrTime; endTime: HrTime; attributes: Record<string, unknown> }) => ({
    attributes: keyValues(p.attributes),
    startTimeUnixNano: nanos(p.startTime),
    timeUnixNano: nanos(p.endTime),
  });
  const number = (v: number) =>
    m.descriptor.valueType === ValueType.INT ? { case: 'asInt' as const, value: BigInt(v) } : { case: 'asDouble' as const, value: v };
  switch (m.dataPointType) {
    case DataPointType.SUM:
      return {
        ...base,
        data: {
          case: 'sum',
          value: {
            aggregationTemporality: temporality(m.aggregationTemporality),
            isMonotonic: m.isMonotonic,
            dataPoints: m.dataPoints.map((p) => ({ ...times(p), value: number(p.value) })),
          },
        },
      };
    case DataPointType.GAUGE:
      return { ...base, data: { case: 'gauge', value: { dataPoints: m.dataPoints.map((p) => ({ ...times(p), value: number(p.value) })) } } };
    case DataPointType.HISTOGRAM:
      return {
        ...base,
        data: {
          case: 'histogram',
          value: {
            aggregationTemporality: temporality(m.aggregationTemporality),
            dataPoints: m.dataPoints.map((p) => ({
              ...times(p),
              count: BigInt(p.value.count),
              sum: p.value.sum,
              min: p.value.min,
              max: p.value.max,
              explicitBounds: p.value.buckets.boundaries,
              bucketCounts: p.value.buckets.counts.map(BigInt),
            })),
          },
        },
      };
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return {
        ...base,
        data: {
          case: 'exponentialHistogram',
          value: {
            aggregationTemporality: temporality(m.aggregationTemporality),
            dataPoints: m.dataPoints.map((p) => ({
              ...times(p),
              count: BigInt(p.value.count),
              sum: p.value.sum,
              min: p.value.min,
              max: p.value.max,
              scale: p.value.scale,
              zeroCount: BigInt(p.value.zeroCount),
              positive: { offset: p.value.positive.offset, bucketCounts: p.value.positive.bucketCounts.map(BigInt) },
              negative: { offset: p.value.negative.offset, bucketCounts: p.value.negative.bucketCounts.map(BigInt) },
            })),
          },
        },
      };
  }
}

/** The gen request for one collection of the SDK. */
export function genMetricsRequest(rm: ResourceMetrics): ExportMetricsServiceRequest {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: resource(rm.resource),
        schemaUrl: rm.resource.schemaUrl ?? '',
        scopeMetrics: rm.scopeMetrics.map((sm) => ({
          scope: scope(sm.scope),
          schemaUrl: sm.scope.schemaUrl ?? '',
          metrics: sm.metrics.map(metric),
        })),
      },
    ],
  });
}

/** Groups items by resource (identity) then scope (identity), keeping first-seen order. */
function group<T>(items: readonly T[], key: (item: T) => [SdkResource, object]): Array<[SdkResource, Array<[object, T[]]>]> {
  const out = new Map<SdkResource, Map<object, T[]>>();
  for (const item of items) {
    const [r, s] = key(item);
    let scopes = out.get(r);
    if (scopes === undefined) out.set(r, (scopes = new Map()));
    let list = scopes.get(s);
    if (list === undefined) scopes.set(s, (list = []));
    list.push(item);
  }
  return [...out].map(([r, scopes]) => [r, [...scopes]]);
}

function logRecord(r: ReadableLogRecord): MessageInitShape<typeof LogRecordSchema> {
  return {
    timeUnixNano: nanos(r.hrTime),
    observedTimeUnixNano: nanos(r.hrTimeObserved),
    severityNumber: r.severityNumber ?? 0,
    severityText: r.severityText ?? '',
    eventName: r.eventName ?? '',
    ...(r.body === undefined || r.body === null ? {} : { body: anyValue(r.body) }),
    attributes: keyValues(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.spanContext?.traceFlags ?? 0,
    traceId: hexBytes(r.spanContext?.traceId),
    spanId: hexBytes(r.spanContext?.spanId),
  };
}

/** The gen request for a batch of SDK log records. */
export function genLogsRequest(records: readonly ReadableLogRecord[]): ExportLogsServiceRequest {
  return create(ExportLogsServiceRequestSchema, {
    resourceLogs: group(records, (r) => [r.resource, r.instrumentationScope]).map(([res, scopes]) => ({
      resource: resource(res),
      schemaUrl: res.schemaUrl ?? '',
      scopeLogs: scopes.map(([, list]) => ({
        scope: scope(list[0]!.instrumentationScope),
        schemaUrl: list[0]!.instrumentationScope.schemaUrl ?? '',
        logRecords: list.map(logRecord),
      })),
    })),
  });
}

function flags(ctx: SpanContext, remote: boolean | undefined): number {
  return (ctx.traceFlags & 0xff) | 0x100 | (remote === true ? 0x200 : 0);
}

function link(l: Link) {
  return {
    traceId: hexBytes(l.context.traceId),
    spanId: hexBytes(l.context.spanId),
    traceState: l.context.traceState?.serialize() ?? '',
    flags: flags(l.context, l.context.isRemote),
    attributes: keyValues(l.attributes),
    droppedAttributesCount: l.droppedAttributesCount ?? 0,
  };
}

function span(s: ReadableSpan): MessageInitShape<typeof SpanSchema> {
  const ctx = s.spanContext();
  return {
    traceId: hexBytes(ctx.traceId),
    spanId: hexBytes(ctx.spanId),
    parentSpanId: hexBytes(s.parentSpanContext?.spanId),
    traceState: ctx.traceState?.serialize() ?? '',
    flags: flags(ctx, s.parentSpanContext?.isRemote),
    name: s.name,
    kind: s.kind + 1,
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    attributes: keyValues(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      timeUnixNano: nanos(e.time),
      name: e.name,
      attributes: keyValues(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map(link),
    droppedLinksCount: s.droppedLinksCount,
    status: { code: statusCode(s.status.code), message: s.status.message ?? '' },
  };
}

function statusCode(c: SdkStatusCode): Status_StatusCode {
  switch (c) {
    case SpanStatusCode.UNSET:
      return Status_StatusCode.UNSET;
    case SpanStatusCode.OK:
      return Status_StatusCode.OK;
    case SpanStatusCode.ERROR:
      return Status_StatusCode.ERROR;
  }
}

/** The gen request for a batch of SDK spans. */
export function genTraceRequest(spans: readonly ReadableSpan[]): ExportTraceServiceRequest {
  return create(ExportTraceServiceRequestSchema, {
    resourceSpans: group(spans, (s) => [s.resource, s.instrumentationScope]).map(([res, scopes]) => ({
      resource: resource(res),
      schemaUrl: res.schemaUrl ?? '',
      scopeSpans: scopes.map(([, list]) => ({
        scope: scope(list[0]!.instrumentationScope),
        schemaUrl: list[0]!.instrumentationScope.schemaUrl ?? '',
        spans: list.map(span),
      })),
    })),
  });
}
