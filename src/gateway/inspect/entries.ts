/**
 * A decoded request turned into what the browser shows: one tail entry, and its metric points,
 * log records and spans, flattened with their resource's `service.name` and the tenant. Runs only
 * for requests the inspector decodes (a browser connected, within the decode budget), so it may
 * allocate freely; it bounds what one request yields (`ITEMS_PER_REQUEST` of each kind, attribute
 * values and bodies cut at `MAX_VALUE` characters) so that no single request fills a ring.
 */
import type { AnyValue, KeyValue } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { Resource } from '../../../gen/opentelemetry/proto/resource/v1/resource_pb.js';
import type { DecodedRequest } from '../observe/events.js';
import type { Attrs, AttrValue, LogEntry, PointEntry, RequestEntry, SpanEntry } from './wire.js';

/** Items of each kind taken from one request; the rest are counted in the tail entry only. */
export const ITEMS_PER_REQUEST = 1000;
/** Longest attribute value or log body kept, in characters. */
export const MAX_VALUE = 1024;
const MAX_NAMES = 50;
const MAX_PREVIEW = 20;
const MAX_TEXT = 4096;

/** What the request event tells besides its body. */
export interface RequestMeta {
  readonly seq: number;
  readonly t: number;
  readonly protocol: string;
  readonly tenant: string | undefined;
  readonly services: readonly string[];
  readonly items: number;
  readonly bytes: number;
  readonly upstreams: readonly string[];
}

export interface Entries {
  readonly request: RequestEntry;
  readonly points: PointEntry[];
  readonly logs: LogEntry[];
  readonly spans: SpanEntry[];
}

const cut = (s: string): string => (s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}…` : s);

/** An AnyValue as shown: scalars as themselves (int64 as a number when exact, else its decimal text), the rest as text. */
export function shownValue(v: AnyValue | undefined): AttrValue {
  const x = v?.value;
  switch (x?.case) {
    case 'stringValue':
      return cut(x.value);
    case 'boolValue':
    case 'doubleValue':
      return x.value;
    case 'intValue':
      return x.value >= BigInt(Number.MIN_SAFE_INTEGER) && x.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x.value) : x.value.toString();
    default:
      return cut(valueText(v));
  }
}

function valueText(v: AnyValue | undefined): string {
  const x = v?.value;
  switch (x?.case) {
    case undefined:
      return '';
    case 'stringValue':
      return JSON.stringify(x.value);
    case 'bytesValue':
      return `0x${Buffer.from(x.value).toString('hex')}`;
    case 'arrayValue':
      return `[${x.value.values.map(valueText).join(', ')}]`;
    case 'kvlistValue':
      return `{${x.value.values.map((kv) => `${kv.key}: ${valueText(kv.value)}`).join(', ')}}`;
    default:
      return String(x?.value);
  }
}

function attrs(list: readonly KeyValue[]): Attrs {
  const out: Attrs = {};
  for (const kv of list) out[kv.key] = shownValue(kv.value);
  return out;
}

function serviceOf(r: Resource | undefined): string {
  const v = r?.attributes.find((kv) => kv.key === 'service.name')?.value?.value;
  return v?.case === 'stringValue' ? v.value : '';
}

const ms = (nanos: bigint): number => Number(nanos / 1000n) / 1000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Collects the tail entry's names, severities, preview and searchable text, each bounded. */
class TailText {
  readonly names = new Set<string>();
  readonly severities = new Set<string>();
  readonly preview: string[] = [];
  text = '';

  name(n: string): void {
    if (this.names.size < MAX_NAMES) this.names.add(n);
  }

  line(l: string): void {
    if (this.preview.length < MAX_PREVIEW) this.preview.push(l.length > 300 ? `${l.slice(0, 300)}…` : l);
  }

  search(...parts: string[]): void {
    if (this.text.length >= MAX_TEXT) return;
    this.text = `${this.text} ${parts.join(' ')}`.slice(0, MAX_TEXT);
  }
}

const attrText = (a: Attrs): string =>
  Object.entries(a)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : String(v)}`)
    .join(' ');

/** The entries of one decoded request (module comment). */
export function entriesOf(decoded: DecodedRequest, meta: RequestMeta): Entries {
  const tenant = meta.tenant ?? null;
  const points: PointEntry[] = [];
  const logs: LogEntry[] = [];
  const spans: SpanEntry[] = [];
  const tail = new TailText();
  switch (decoded.signal) {
    case 'metrics':
      for (const rm of decoded.message.resourceMetrics) {
        const service = serviceOf(rm.resource);
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            tail.name(m.name);
            tail.search(m.name, m.unit, m.description);
            const d = m.data;
            if (d.case === undefined) continue;
            const base = { metric: m.name, type: d.case, unit: m.unit, service, tenant };
            const temporality =
              'aggregationTemporality' in d.value
                ? d.value.aggregationTemporality === 1
                  ? 'delta'
                  : d.value.aggregationTemporality === 2
                    ? 'cumulative'
                    : null
                : null;
            const monotonic = d.case === 'sum' && d.value.isMonotonic;
            for (const p of d.value.dataPoints) {
              if (points.length >= ITEMS_PER_REQUEST) break;
              const a = attrs(p.attributes);
              let v: number;
              let sum: number | null = null;
              if ('value' in p && typeof p.value === 'object' && p.value !== null && 'case' in p.value) {
                const nv = p.value;
                v = nv.case === 'asInt' ? Number(nv.value) : nv.case === 'asDouble' ? nv.value : 0;
              } else {
                const hp = p as { count: bigint; sum?: number | undefined };
                v = Number(hp.count);
                sum = hp.sum ?? null;
              }
              points.push({ ...base, t: ms(p.timeUnixNano), monotonic, temporality, v, sum, attrs: a });
              tail.line(`${m.name}${Object.keys(a).length > 0 ? ` {${attrText(a)}}` : ''} ${v}${sum === null ? '' : ` sum=${sum}`}`);
              tail.search(attrText(a));
            }
          }
        }
      }
      break;
    case 'logs':
      for (const rl of decoded.message.resourceLogs) {
        const service = serviceOf(rl.resource);
        for (const sl of rl.scopeLogs) {
          for (const r of sl.logRecords) {
            const severity = r.severityText !== '' ? r.severityText : r.severityNumber > 0 ? severityName(r.severityNumber) : '';
            if (severity !== '') tail.severities.add(severity);
            const body = r.body?.value.case === 'stringValue' ? cut(r.body.value.value) : cut(valueText(r.body));
            const a = attrs(r.attributes);
            tail.line(`${severity === '' ? '-' : severity} ${body}`);
            tail.search(body, attrText(a));
            if (logs.length >= ITEMS_PER_REQUEST) continue;
            logs.push({
              t: ms(r.timeUnixNano !== 0n ? r.timeUnixNano : r.observedTimeUnixNano),
              service,
              tenant,
              severityNumber: r.severityNumber,
              severity,
              body,
              attrs: a,
              traceId: hex(r.traceId),
              spanId: hex(r.spanId),
            });
          }
        }
      }
      break;
    case 'traces':
      for (const rs of decoded.message.resourceSpans) {
        const service = serviceOf(rs.resource);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            tail.name(s.name);
            const a = attrs(s.attributes);
            const start = ms(s.startTimeUnixNano);
            const end = ms(s.endTimeUnixNano);
            tail.line(`${s.name} ${(end - start).toFixed(3)} ms trace ${hex(s.traceId)}`);
            tail.search(s.name, hex(s.traceId), attrText(a));
            if (spans.length >= ITEMS_PER_REQUEST) continue;
            spans.push({
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: s.name,
              kind: s.kind,
              start,
              end,
              status: s.status?.code ?? 0,
              statusMessage: s.status?.message ?? '',
              service,
              tenant,
              attrs: a,
            });
          }
        }
      }
      break;
  }
  tail.search(...meta.services, meta.tenant ?? '');
  const request: RequestEntry = {
    seq: meta.seq,
    t: meta.t,
    signal: decoded.signal,
    protocol: meta.protocol,
    tenant,
    services: meta.services,
    items: meta.items,
    bytes: meta.bytes,
    upstreams: meta.upstreams,
    names: [...tail.names],
    severities: [...tail.severities],
    preview: tail.preview,
    text: tail.text.trim(),
  };
  return { request, points, logs, spans };
}

const SEVERITY_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** The spec's short name of a severity number (1–4 TRACE … 21–24 FATAL, with 2–4 as TRACE2…). */
export function severityName(n: number): string {
  if (n < 1 || n > 24) return `SEVERITY_NUMBER_${n}`;
  const base = SEVERITY_NAMES[Math.floor((n - 1) / 4)]!;
  const step = (n - 1) % 4;
  return step === 0 ? base : `${base}${step + 1}`;
}
