/**
 * An explicit normal form for OTLP data, so that what a receiver decoded (our gen/ messages)
 * can be compared field by field with what the official OpenTelemetry JS SDK holds in memory
 * (ResourceMetrics, ReadableLogRecord, ReadableSpan).
 *
 * Rules, written once here so that a difference is a real difference:
 * - attributes and kvlists become `[key, value]` pairs sorted by key (order carries no meaning);
 * - AnyValue keeps its kind: `{ int: '42' }` is not `{ double: 42 }`; the empty AnyValue is `null`;
 * - 64-bit integers and nanosecond times become decimal strings, ids and bytes lowercase hex;
 * - an absent optional double (histogram sum/min/max) is `null`; an absent nested message
 *   (exponential buckets) is its default, as proto3 reads it;
 * - the SDK side follows the OTLP mapping of the official JS exporters: a JS number is an
 *   `int` when `Number.isInteger`, else a `double`; a sum of an INT instrument is `as_int`;
 *   API span kinds are shifted by one; span flags carry the W3C trace flags plus the
 *   HAS_IS_REMOTE bit (0x100) and IS_REMOTE (0x200) when the parent/link context is remote.
 */
import type { HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { AnyValue as SdkAnyValue } from '@opentelemetry/api-logs';
import type { InstrumentationScope as SdkScope } from '@opentelemetry/core';
import type { Resource as SdkResource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { MetricData, ResourceMetrics as SdkResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { AggregationTemporality as SdkTemporality } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportTraceServiceRequest } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { AnyValue, InstrumentationScope, KeyValue } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { ExponentialHistogramDataPoint_Buckets, Metric, NumberDataPoint } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { AggregationTemporality } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import type { Resource } from '../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import { api, sdkMetrics } from './official.js';

const { ValueType } = api;
const { DataPointType } = sdkMetrics;

// ---- the normal form ---------------------------------------------------------------------

/** An AnyValue that remembers its kind; `null` is the empty AnyValue. */
export type NValue =
  | null
  | { readonly string: string }
  | { readonly bool: boolean }
  | { readonly int: string }
  | { readonly double: number }
  | { readonly bytes: string }
  | { readonly array: readonly NValue[] }
  | { readonly kvlist: NAttrs };

/** Attributes as `[key, value]` pairs sorted by key. */
export type NAttrs = ReadonlyArray<readonly [string, NValue]>;

export interface NResource {
  readonly attributes: NAttrs;
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
}

export interface NScope {
  readonly name: string;
  readonly version: string;
  readonly attributes: NAttrs;
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
}

interface NPointBase {
  readonly attributes: NAttrs;
  readonly start: string;
  readonly time: string;
  readonly flags: number;
  readonly exemplars: number;
}
export interface NNumberPoint extends NPointBase {
  readonly value: { readonly int: string } | { readonly double: number } | null;
}
export interface NHistogramPoint extends NPointBase {
  readonly count: string;
  readonly sum: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly bounds: readonly number[];
  readonly counts: readonly string[];
}
export interface NBuckets {
  readonly offset: number;
  readonly counts: readonly string[];
}
export interface NExpPoint extends NPointBase {
  readonly count: string;
  readonly sum: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly scale: number;
  readonly zeroCount: string;
  readonly zeroThreshold: number;
  readonly positive: NBuckets;
  readonly negative: NBuckets;
}
export type NTemporality = 'unspecified' | 'delta' | 'cumulative';
export type NData =
  | { readonly type: 'sum'; readonly temporality: NTemporality; readonly monotonic: boolean; readonly points: readonly NNumberPoint[] }
  | { readonly type: 'gauge'; readonly points: readonly NNumberPoint[] }
  | { readonly type: 'histogram'; readonly temporality: NTemporality; readonly points: readonly NHistogramPoint[] }
  | { readonly type: 'exponentialHistogram'; readonly temporality: NTemporality; readonly points: readonly NExpPoint[] }
  | { readonly type: 'other'; readonly case: string };

export interface NMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly metadata: NAttrs;
  readonly data: NData;
}

/** Metrics keep their nesting: resource → scope → metric, in order. */
export interface NResourceMetrics {
  readonly resource: NResource;
  readonly scopes: ReadonlyArray<{ readonly scope: NScope; readonly metrics: readonly NMetric[] }>;
}

/** One log record with its resource and scope (logs and spans are compared as flat sets). */
export interface NLogRecord {
  readonly resource: NResource;
  readonly scope: NScope;
  readonly time: string;
  readonly observedTime: string;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly eventName: string;
  readonly body: NValue;
  readonly attributes: NAttrs;
  readonly droppedAttributesCount: number;
  readonly flags: number;
  readonly traceId: string;
  readonly spanId: string;
}

export interface NEvent {
  readonly time: string;
  readonly name: string;
  readonly attributes: NAttrs;
  readonly droppedAttributesCount: number;
}

export interface NLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly flags: number;
  readonly attributes: NAttrs;
  readonly droppedAttributesCount: number;
}

export interface NSpan {
  readonly resource: NResource;
  readonly scope: NScope;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly flags: number;
  readonly name: string;
  readonly kind: number;
  readonly start: string;
  readonly end: string;
  readonly attributes: NAttrs;
  readonly droppedAttributesCount: number;
  readonly events: readonly NEvent[];
  readonly droppedEventsCount: number;
  readonly links: readonly NLink[];
  readonly droppedLinksCount: number;
  readonly status: { readonly code: number; readonly message: string };
}

const byKey = (a: readonly [string, NValue], b: readonly [string, NValue]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Lowercase hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// ---- gen (what a receiver decoded) --------------------------------------------------------

/** Normalises a decoded AnyValue. */
export function nAnyValue(v: AnyValue | undefined): NValue {
  const value = v?.value;
  switch (value?.case) {
    case undefined:
      return null;
    case 'stringValue':
      return { string: value.value };
    case 'boolValue':
      return { bool: value.value };
    case 'intValue':
      return { int: value.value.toString() };
    case 'doubleValue':
      return { double: value.value };
    case 'bytesValue':
      return { bytes: hex(value.value) };
    case 'arrayValue':
      return { array: value.value.values.map(nAnyValue) };
    case 'kvlistValue':
      return { kvlist: nAttrs(value.value.values) };
  }
}

/** Normalises decoded attributes. */
export function nAttrs(kvs: readonly KeyValue[]): NAttrs {
  return kvs.map((kv) => [kv.key, nAnyValue(kv.value)] as const).sort(byKey);
}

function nResource(r: Resource | undefined, schemaUrl: string): NResource {
  return { attributes: nAttrs(r?.attributes ?? []), droppedAttributesCount: r?.droppedAttributesCount ?? 0, schemaUrl };
}

function nScope(s: InstrumentationScope | undefined, schemaUrl: string): NScope {
  return {
    name: s?.name ?? '',
    version: s?.version ?? '',
    attributes: nAttrs(s?.attributes ?? []),
    droppedAttributesCount: s?.droppedAttributesCount ?? 0,
    schemaUrl,
  };
}

function nTemporality(t: AggregationTemporality): NTemporality {
  switch (t) {
    case AggregationTemporality.DELTA:
      return 'delta';
    case AggregationTemporality.CUMULATIVE:
      return 'cumulative';
    default:
      return 'unspecified';
  }
}

const opt = (v: number | undefined): number | null => v ?? null;

function nNumberPoint(p: NumberDataPoint): NNumberPoint {
  const value = p.value.case === 'asInt' ? { int: p.value.value.toString() } : p.value.case === 'asDouble' ? { double: p.value.value } : null;
  return {
    attributes: nAttrs(p.attributes),
    start: p.startTimeUnixNano.toString(),
    time: p.timeUnixNano.toString(),
    flags: p.flags,
    exemplars: p.exemplars.length,
    value,
  };
}

function nBuckets(b: ExponentialHistogramDataPoint_Buckets | undefined): NBuckets {
  return { offset: b?.offset ?? 0, counts: (b?.bucketCounts ?? []).map(String) };
}

/** Normalises one decoded metric. */
export function nMetric(m: Metric): NMetric {
  const base = { name: m.name, description: m.description, unit: m.unit, metadata: nAttrs(m.metadata) };
  const d = m.data;
  switch (d.case) {
    case 'sum':
      return {
        ...base,
        data: {
          type: 'sum',
          temporality: nTemporality(d.value.aggregationTemporality),
          monotonic: d.value.isMonotonic,
          points: d.value.dataPoints.map(nNumberPoint),
        },
      };
    case 'gauge':
      return { ...base, data: { type: 'gauge', points: d.value.dataPoints.map(nNumberPoint) } };
    case 'histogram':
      return {
        ...base,
        data: {
          type: 'histogram',
          temporality: nTemporality(d.value.aggregationTemporality),
          points: d.value.dataPoints.map((p) => ({
            ...nDistribution(p),
            bounds: [...p.explicitBounds],
            counts: p.bucketCounts.map(String),
          })),
        },
      };
    case 'exponentialHistogram':
      return {
        ...base,
        data: {
          type: 'exponentialHistogram',
          temporality: nTemporality(d.value.aggregationTemporality),
          points: d.value.dataPoints.map((p) => ({
            ...nDistribution(p),
            scale: p.scale,
            zeroCount: p.zeroCount.toString(),
            zeroThreshold: p.zeroThreshold,
            positive: nBuckets(p.positive),
            negative: nBuckets(p.negative),
          })),
        },
      };
    default:
      return { ...base, data: { type: 'other', case: String(d.case) } };
  }
}

/** Normalises a decoded metrics request. */
export function nMetricsRequest(req: ExportMetricsServiceRequest): NResourceMetrics[] {
  return req.resourceMetrics.map((rm) => ({
    resource: nResource(rm.resource, rm.schemaUrl),
    scopes: rm.scopeMetrics.map((sm) => ({ scope: nScope(sm.scope, sm.schemaUrl), metrics: sm.metrics.map(nMetric) })),
  }));
}

/** Normalises the log records of decoded requests, in order. */
export function nLogsRequests(reqs: readonly ExportLogsServiceRequest[]): NLogRecord[] {
  const out: NLogRecord[] = [];
  for (const req of reqs)
    for (const rl of req.resourceLogs)
      for (const sl of rl.scopeLogs)
        for (const r of sl.logRecords) {
          out.push({
            resource: nResource(rl.resource, rl.schemaUrl),
            scope: nScope(sl.scope, sl.schemaUrl),
            time: r.timeUnixNano.toString(),
            observedTime: r.observedTimeUnixNano.toString(),
            severityNumber: r.severityNumber,
            severityText: r.severityText,
            eventName: r.eventName,
            body: nAnyValue(r.body),
            attributes: nAttrs(r.attributes),
            droppedAttributesCount: r.droppedAttributesCount,
            flags: r.flags,
            traceId: hex(r.traceId),
            spanId: hex(r.spanId),
          });
        }
  return out;
}

/** Normalises the spans of decoded requests, in order. */
export function nTraceRequests(reqs: readonly ExportTraceServiceRequest[]): NSpan[] {
  const out: NSpan[] = [];
  for (const req of reqs)
    for (const rs of req.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans) {
          out.push({
            resource: nResource(rs.resource, rs.schemaUrl),
            scope: nScope(ss.scope, ss.schemaUrl),
            traceId: hex(s.traceId),
            spanId: hex(s.spanId),
            parentSpanId: hex(s.parentSpanId),
            traceState: s.traceState,
            flags: s.flags,
            name: s.name,
            kind: s.kind,
            start: s.startTimeUnixNano.toString(),
            end: s.endTimeUnixNano.toString(),
            attributes: nAttrs(s.attributes),
            droppedAttributesCount: s.droppedAttributesCount,
            events: s.events.map((e) => ({
              time: e.timeUnixNano.toString(),
              name: e.name,
              attributes: nAttrs(e.attributes),
              droppedAttributesCount: e.droppedAttributesCount,
            })),
            droppedEventsCount: s.droppedEventsCount,
            links: s.links.map((l) => ({
              traceId: hex(l.traceId),
              spanId: hex(l.spanId),
              traceState: l.traceState,
              flags: l.flags,
              attributes: nAttrs(l.attributes),
              droppedAttributesCount: l.droppedAttributesCount,
            })),
            droppedLinksCount: s.droppedLinksCount,
            status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          });
        }
  return out;
}

// ---- official SDK (what was recorded) -----------------------------------------------------

/** Normalises a JS value the way the official exporters map it to AnyValue. */
export function nSdkValue(v: SdkAnyValue | unknown): NValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
      return { string: v };
    case 'boolean':
      return { bool: v };
    case 'number':
      return Number.isInteger(v) ? { int: String(v) } : { double: v };
    case 'object':
      if (v instanceof Uint8Array) return { bytes: hex(v) };
      if (Array.isArray(v)) return { array: (v as unknown[]).map(nSdkValue) };
      return { kvlist: nSdkAttrs(v as Record<string, unknown>) };
    default:
      return null;
  }
}

/** Normalises SDK attributes (entries whose value is undefined are not exported). */
export function nSdkAttrs(attrs: Readonly<Record<string, unknown>> | undefined): NAttrs {
  if (attrs === undefined) return [];
  return Object.keys(attrs)
    .map((k) => [k, nSdkValue(attrs[k])] as const)
    .sort(byKey);
}

/** HrTime → decimal nanoseconds. */
export function nHrTime(t: HrTime): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

function nSdkResource(r: SdkResource): NResource {
  return { attributes: nSdkAttrs(r.attributes), droppedAttributesCount: 0, schemaUrl: r.schemaUrl ?? '' };
}

function nSdkScope(s: SdkScope & { attributes?: Readonly<Record<string, unknown>>; droppedAttributesCount?: number }): NScope {
  return {
    name: s.name,
    version: s.version ?? '',
    attributes: nSdkAttrs(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount ?? 0,
    schemaUrl: s.schemaUrl ?? '',
  };
}

function nSdkTemporality(t: SdkTemporality): NTemporality {
  return t === sdkMetrics.AggregationTemporality.DELTA ? 'delta' : 'cumulative';
}

const sdkOpt = (v: number | undefined): number | null => v ?? null;

/** Normalises one SDK metric. */
export function nSdkMetric(m: MetricData): NMetric {
  const base = { name: m.descriptor.name, description: m.descriptor.description, unit: m.descriptor.unit, metadata: [] };
  const point = <T>(p: { startTime: HrTime; endTime: HrTime; attributes: Record<string, unknown>; value: T }) => ({
    attributes: nSdkAttrs(p.attributes),
    start: nHrTime(p.startTime),
    time: nHrTime(p.endTime),
    flags: 0,
    exemplars: 0,
  });
  const numberValue = (v: number): NNumberPoint['value'] => (m.descriptor.valueType === ValueType.INT ? { int: String(v) } : { double: v });
  switch (m.dataPointType) {
    case DataPointType.SUM:
      return {
        ...base,
        data: {
          type: 'sum',
          temporality: nSdkTemporality(m.aggregationTemporality),
          monotonic: m.isMonotonic,
          points: m.dataPoints.map((p) => ({ ...point(p), value: numberValue(p.value) })),
        },
      };
    case DataPointType.GAUGE:
      return { ...base, data: { type: 'gauge', points: m.dataPoints.map((p) => ({ ...point(p), value: numberValue(p.value) })) } };
    case DataPointType.HISTOGRAM:
      return {
        ...base,
        data: {
          type: 'histogram',
          temporality: nSdkTemporality(m.aggregationTemporality),
          points: m.dataPoints.map((p) => ({
            ...point(p),
            count: String(p.value.count),
            sum: sdkOpt(p.value.sum),
            min: sdkOpt(p.value.min),
            max: sdkOpt(p.value.max),
            bounds: [...p.value.buckets.boundaries],
            counts: p.value.buckets.counts.map(String),
          })),
        },
      };
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return {
        ...base,
        data: {
          type: 'exponentialHistogram',
          temporality: nSdkTemporality(m.aggregationTemporality),
          points: m.dataPoints.map((p) => ({
            ...point(p),
            count: String(p.value.count),
            sum: sdkOpt(p.value.sum),
            min: sdkOpt(p.value.min),
            max: sdkOpt(p.value.max),
            scale: p.value.scale,
            zeroCount: String(p.value.zeroCount),
            // The SDK's data model has no zero threshold; OTLP's default is 0.
            zeroThreshold: 0,
            positive: { offset: p.value.positive.offset, counts: p.value.positive.bucketCounts.map(String) },
            negative: { offset: p.value.negative.offset, counts: p.value.negative.bucketCounts.map(String) },
          })),
        },
      };
  }
}

/** Normalises SDK ResourceMetrics as collected by a MetricReader. */
export function nSdkResourceMetrics(rm: SdkResourceMetrics): NResourceMetrics[] {
  return [
    {
      resource: nSdkResource(rm.resource),
      scopes: rm.scopeMetrics.map((sm) => ({ scope: nSdkScope(sm.scope), metrics: sm.metrics.map(nSdkMetric) })),
    },
  ];
}

/** Normalises SDK log records. */
export function nSdkLogRecords(records: readonly ReadableLogRecord[]): NLogRecord[] {
  return records.map((r) => ({
    resource: nSdkResource(r.resource),
    scope: nSdkScope(r.instrumentationScope),
    time: nHrTime(r.hrTime),
    observedTime: nHrTime(r.hrTimeObserved),
    severityNumber: r.severityNumber ?? 0,
    severityText: r.severityText ?? '',
    eventName: r.eventName ?? '',
    body: nSdkValue(r.body),
    attributes: nSdkAttrs(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.spanContext?.traceFlags ?? 0,
    traceId: r.spanContext?.traceId ?? '',
    spanId: r.spanContext?.spanId ?? '',
  }));
}

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

function spanFlags(ctx: SpanContext, remote: boolean | undefined): number {
  return (ctx.traceFlags & 0xff) | HAS_IS_REMOTE | (remote === true ? IS_REMOTE : 0);
}

function nSdkLink(l: Link): NLink {
  return {
    traceId: l.context.traceId,
    spanId: l.context.spanId,
    traceState: l.context.traceState?.serialize() ?? '',
    flags: spanFlags(l.context, l.context.isRemote),
    attributes: nSdkAttrs(l.attributes),
    droppedAttributesCount: l.droppedAttributesCount ?? 0,
  };
}

/** Normalises SDK spans. */
export function nSdkSpans(spans: readonly ReadableSpan[]): NSpan[] {
  return spans.map((s) => {
    const ctx = s.spanContext();
    return {
      resource: nSdkResource(s.resource),
      scope: nSdkScope(s.instrumentationScope),
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      parentSpanId: s.parentSpanContext?.spanId ?? '',
      traceState: ctx.traceState?.serialize() ?? '',
      flags: spanFlags(ctx, s.parentSpanContext?.isRemote),
      name: s.name,
      kind: s.kind + 1,
      start: nHrTime(s.startTime),
      end: nHrTime(s.endTime),
      attributes: nSdkAttrs(s.attributes),
      droppedAttributesCount: s.droppedAttributesCount,
      events: s.events.map((e) => ({
        time: nHrTime(e.time),
        name: e.name,
        attributes: nSdkAttrs(e.attributes),
        droppedAttributesCount: e.droppedAttributesCount ?? 0,
      })),
      droppedEventsCount: s.droppedEventsCount,
      links: s.links.map(nSdkLink),
      droppedLinksCount: s.droppedLinksCount,
      status: { code: s.status.code, message: s.status.message ?? '' },
    };
  });
}

/** The fields explicit and exponential histogram points share. */
function nDistribution(p: {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  flags: number;
  exemplars: unknown[];
  count: bigint;
  sum?: number | undefined;
  min?: number | undefined;
  max?: number | undefined;
}) {
  return {
    attributes: nAttrs(p.attributes),
    start: p.startTimeUnixNano.toString(),
    time: p.timeUnixNano.toString(),
    flags: p.flags,
    exemplars: p.exemplars.length,
    count: p.count.toString(),
    sum: opt(p.sum),
    min: opt(p.min),
    max: opt(p.max),
  };
}
