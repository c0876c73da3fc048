/**
 * The in-memory log record and its construction from `emit()` input. Everything is validated and
 * limited here, once, so the batch encoder only reads plain, bounded fields.
 */
import type { Clock } from '../internal/clock.js';
import { warnOnce } from '../internal/warn.js';
import type { EncodedLogScope, ScopedLogRecord } from '../otlp/encode/logs.js';
import type { AnyValueInput } from '../otlp/types.js';
import { INVALID, limitAnyValue, limitAttributesInto, warnInvalid, type ResolvedLogRecordLimits } from './limits.js';
import { toEpochNanos } from './time-input.js';
import { normalizeHexId, traceFromContext } from './trace-context.js';
import type { LogRecordInput } from './types.js';

/**
 * One emitted record, held in the batch buffer until encoded. A class so every record has the same
 * hidden shape (all fields set in the constructor, in one order).
 */
export class LogRecordData implements ScopedLogRecord {
  timeUnixNano = 0n;
  observedTimeUnixNano = 0n;
  severityNumber = 0;
  severityText = '';
  body: AnyValueInput = undefined;
  attributes: { [key: string]: AnyValueInput } | undefined = undefined;
  droppedAttributesCount = 0;
  flags = 0;
  traceId = '';
  spanId = '';
  eventName = '';
  constructor(readonly scope: EncodedLogScope) {}
}

/** The provider's attributes of every record, limited once; `keys` precomputed for the merge at emit. */
export interface CommonAttributes {
  readonly values: { readonly [key: string]: AnyValueInput };
  readonly keys: readonly string[];
}

/**
 * Builds a record from `emit()` input; never throws on bad input (one-time warnings, safe defaults).
 * `common` attributes are added last, under the record's own (which win), outside the count limit.
 */
export function buildLogRecord(
  scope: EncodedLogScope,
  input: LogRecordInput,
  limits: ResolvedLogRecordLimits,
  clock: Clock,
  common?: CommonAttributes,
): LogRecordData {
  const r = new LogRecordData(scope);
  if (input.timestamp !== undefined) r.timeUnixNano = toEpochNanos(input.timestamp, 'timestamp') ?? 0n;
  const observed = input.observedTimestamp === undefined ? undefined : toEpochNanos(input.observedTimestamp, 'observedTimestamp');
  r.observedTimeUnixNano = observed ?? clock.nowNanos();

  const severity = input.severityNumber;
  if (severity !== undefined) {
    if (Number.isInteger(severity) && severity >= 0 && severity <= 24) r.severityNumber = severity;
    else warnOnce('logs.severityNumber', `log severityNumber = ${String(severity)} is not an integer in 0..24; using 0 (UNSPECIFIED)`);
  }
  r.severityText = stringField(input.severityText, 'severityText');
  r.eventName = stringField(input.eventName, 'eventName');

  if (input.body !== undefined) {
    // The spec limits attribute values only; the body is validated, not truncated.
    const body = limitAnyValue(input.body, Infinity);
    if (body === INVALID) warnInvalid(input.body);
    else r.body = body;
  }

  const attrs = input.attributes;
  if (attrs !== undefined && attrs !== null) {
    if (typeof attrs === 'object') limitAttributesInto(r, attrs, limits);
    else warnOnce('logs.attributes', `log attributes must be an object, got ${typeof attrs}; ignored`);
  }
  if (input.exception !== undefined && input.exception !== null) addException(r, input.exception, limits);

  if (input.traceId !== undefined || input.spanId !== undefined) explicitTrace(r, input);
  else traceFromContext(input.context, r);
  if (input.traceFlags !== undefined) {
    const f = input.traceFlags;
    if (!(Number.isInteger(f) && f >= 0 && f <= 255)) {
      warnOnce('logs.traceFlags', `log traceFlags = ${String(f)} is not an integer in 0..255; ignored`);
    } else if (r.traceId !== '') {
      // Trace flags describe a trace; without a trace id they mean nothing.
      r.flags = f;
    }
  }
  if (common !== undefined) addCommon(r, common);
  return r;
}

function addCommon(r: LogRecordData, common: CommonAttributes): void {
  const own = r.attributes;
  // No own attributes (the usual record): share the frozen object, the encoder only reads it.
  if (own === undefined) {
    r.attributes = common.values as { [key: string]: AnyValueInput };
    return;
  }
  // `own` is this record's copy (limitAttributesInto), so adding to it is safe.
  const keys = common.keys;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!Object.hasOwn(own, k)) own[k] = common.values[k];
  }
}

function stringField(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  warnOnce(`logs.${field}`, `log ${field} must be a string, got ${typeof v}; ignored`);
  return '';
}

function explicitTrace(r: LogRecordData, input: LogRecordInput): void {
  const traceId = input.traceId === undefined ? '' : normalizeHexId(input.traceId, 32);
  const spanId = input.spanId === undefined ? '' : normalizeHexId(input.spanId, 16);
  if (traceId === undefined || spanId === undefined) {
    warnOnce(
      'logs.traceIds',
      `log traceId/spanId must be 32/16 hex digits, not all zero (got ${String(input.traceId)}/${String(input.spanId)}); the ids are dropped`,
    );
    return;
  }
  r.traceId = traceId;
  r.spanId = spanId;
}

function setIfAbsent(r: LogRecordData, key: string, value: string, limits: ResolvedLogRecordLimits): void {
  const attrs = (r.attributes ??= {});
  if (Object.hasOwn(attrs, key)) return;
  if (Object.keys(attrs).length >= limits.attributeCountLimit) {
    r.droppedAttributesCount++;
    return;
  }
  attrs[key] = limitAnyValue(value, limits.attributeValueLengthLimit) as string;
}

/** api-logs' experimental `exception` field, described with the semantic-convention attributes. */
function addException(r: LogRecordData, exception: unknown, limits: ResolvedLogRecordLimits): void {
  if (typeof exception === 'string' || typeof exception === 'number') {
    setIfAbsent(r, 'exception.message', String(exception), limits);
  } else if (typeof exception === 'object' && exception !== null) {
    const e = exception as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown };
    const type = e.code !== undefined && e.code !== null && e.code !== '' ? String(e.code) : typeof e.name === 'string' ? e.name : '';
    if (type !== '') setIfAbsent(r, 'exception.type', type, limits);
    if (typeof e.message === 'string' && e.message !== '') setIfAbsent(r, 'exception.message', e.message, limits);
    if (typeof e.stack === 'string' && e.stack !== '') setIfAbsent(r, 'exception.stacktrace', e.stack, limits);
  }
  if (r.attributes !== undefined && Object.keys(r.attributes).length === 0) r.attributes = undefined;
}
