/**
 * Direct wire encoder for `ExportLogsServiceRequest`: ResourceLogs → ScopeLogs → LogRecord written
 * straight from in-memory records with a `BinaryWriter`, no generated message per record.
 * Field numbers are those of proto/opentelemetry/proto/logs/v1/logs.proto; fields are written in
 * field-number order, the order `toBinary` uses, so the bytes are identical to it (tests compare).
 */
import { BinaryWriter } from './binary-writer.js';
import type { AnyValueInput, Attributes } from '../types.js';
import { I32, I64, LEN, VARINT } from '../wire.js';
import { writeAnyValueFields, writeKeyValues, writeResourceFields } from './common.js';

/** A map of AnyValues, as log attributes and scope attributes are. */
export type AnyValueMap = { readonly [key: string]: AnyValueInput };

/**
 * One log record as the encoder reads it. Empty values (`0`, `0n`, `''`, `undefined`) are not
 * written, as proto3 implicit presence prescribes.
 */
export interface LogRecordFields {
  /** Event time; `0n` when the source gave none. */
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  /** 0..24 (SeverityNumber). */
  readonly severityNumber: number;
  readonly severityText: string;
  /** `undefined` and `null` leave the body out. */
  readonly body: AnyValueInput;
  readonly attributes: AnyValueMap | undefined;
  readonly droppedAttributesCount: number;
  /** W3C trace flags in the low byte. */
  readonly flags: number;
  /** 32 lowercase hex digits, or `''`. Kept as text so the hot path never allocates bytes. */
  readonly traceId: string;
  /** 16 lowercase hex digits, or `''`. */
  readonly spanId: string;
  readonly eventName: string;
}

/** An instrumentation scope encoded once, when its logger is created. */
export interface EncodedLogScope {
  /** `InstrumentationScope` message body (no tag, no length). */
  readonly bytes: Uint8Array;
  /** `ScopeLogs.schema_url`. */
  readonly schemaUrl: string;
}

/** The resource of a provider, encoded once. */
export interface EncodedLogResource {
  /** `Resource` message body (no tag, no length). */
  readonly bytes: Uint8Array;
  /** `ResourceLogs.schema_url`. */
  readonly schemaUrl: string;
}

/** A record with the scope it was emitted through; the encoder groups records by scope identity. */
export interface ScopedLogRecord extends LogRecordFields {
  readonly scope: EncodedLogScope;
}

/** Encodes a `Resource` once (attributes 1, dropped_attributes_count 2). */
export function encodeLogResource(attributes: Attributes, schemaUrl = '', droppedAttributesCount = 0): EncodedLogResource {
  const w = new BinaryWriter();
  writeResourceFields(w, attributes, droppedAttributesCount);
  return { bytes: w.finish(), schemaUrl };
}

/**
 * Encodes an `InstrumentationScope` once (name 1, version 2, attributes 3, dropped_attributes_count 4).
 * Scope attributes may be any AnyValue, as api-logs' LoggerOptions allows.
 */
export function encodeLogScope(
  scope: { readonly name: string; readonly version?: string; readonly schemaUrl?: string; readonly attributes?: AnyValueMap },
  droppedAttributesCount = 0,
): EncodedLogScope {
  const w = new BinaryWriter();
  if (scope.name !== '') w.tag(1, LEN).string(scope.name);
  if (scope.version !== undefined && scope.version !== '') w.tag(2, LEN).string(scope.version);
  if (scope.attributes !== undefined) writeKeyValues(w, 3, scope.attributes);
  if (droppedAttributesCount > 0) w.tag(4, VARINT).uint32(droppedAttributesCount);
  return { bytes: w.finish(), schemaUrl: scope.schemaUrl ?? '' };
}

// BinaryWriter.bytes() copies its argument into the writer's buffer (binary-writer.ts), so one
// scratch array per id width serves every record of every batch without an allocation.
const traceScratch = new Uint8Array(16);
const spanScratch = new Uint8Array(8);

function hexNibble(c: number): number {
  // '0'..'9' → 0..9, 'a'..'f' → 10..15; input is validated lowercase hex.
  return c <= 57 ? c - 48 : c - 87;
}

function hexInto(hex: string, out: Uint8Array): Uint8Array {
  for (let i = 0; i < out.length; i++) {
    out[i] = (hexNibble(hex.charCodeAt(2 * i)) << 4) | hexNibble(hex.charCodeAt(2 * i + 1));
  }
  return out;
}

/** Writes the fields of one `LogRecord` message (not its tag or length), in field-number order. */
export function writeLogRecordFields(w: BinaryWriter, r: LogRecordFields): void {
  if (r.timeUnixNano !== 0n) w.tag(1, I64).fixed64(r.timeUnixNano);
  if (r.severityNumber !== 0) w.tag(2, VARINT).int32(r.severityNumber);
  if (r.severityText !== '') w.tag(3, LEN).string(r.severityText);
  if (r.body !== undefined && r.body !== null) {
    w.tag(5, LEN).fork();
    writeAnyValueFields(w, r.body);
    w.join();
  }
  if (r.attributes !== undefined) writeKeyValues(w, 6, r.attributes);
  if (r.droppedAttributesCount > 0) w.tag(7, VARINT).uint32(r.droppedAttributesCount);
  if (r.flags !== 0) w.tag(8, I32).fixed32(r.flags);
  if (r.traceId.length === 32) w.tag(9, LEN).bytes(hexInto(r.traceId, traceScratch));
  if (r.spanId.length === 16) w.tag(10, LEN).bytes(hexInto(r.spanId, spanScratch));
  if (r.observedTimeUnixNano !== 0n) w.tag(11, I64).fixed64(r.observedTimeUnixNano);
  if (r.eventName !== '') w.tag(12, LEN).string(r.eventName);
}

function writeScopeLogs(w: BinaryWriter, scope: EncodedLogScope, records: readonly LogRecordFields[]): void {
  w.tag(2, LEN).fork();
  w.tag(1, LEN).bytes(scope.bytes);
  for (const r of records) {
    w.tag(2, LEN).fork();
    writeLogRecordFields(w, r);
    w.join();
  }
  if (scope.schemaUrl !== '') w.tag(3, LEN).string(scope.schemaUrl);
  w.join();
}

/**
 * Encodes one `ExportLogsServiceRequest`: a single ResourceLogs for `resource`, one ScopeLogs per
 * distinct scope (in order of first appearance), records in their given order within each scope.
 */
export function encodeExportLogsRequest(resource: EncodedLogResource, records: readonly ScopedLogRecord[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, LEN).fork();
  w.tag(1, LEN).bytes(resource.bytes);
  if (records.length > 0) {
    const first = records[0]!.scope;
    let single = true;
    for (let i = 1; i < records.length; i++) {
      if (records[i]!.scope !== first) {
        single = false;
        break;
      }
    }
    // Most batches come from one logger: skip the grouping map then.
    if (single) {
      writeScopeLogs(w, first, records);
    } else {
      const groups = new Map<EncodedLogScope, LogRecordFields[]>();
      for (const r of records) {
        const group = groups.get(r.scope);
        if (group === undefined) groups.set(r.scope, [r]);
        else group.push(r);
      }
      for (const [scope, group] of groups) writeScopeLogs(w, scope, group);
    }
  }
  if (resource.schemaUrl !== '') w.tag(3, LEN).string(resource.schemaUrl);
  w.join();
  return w.finish();
}
