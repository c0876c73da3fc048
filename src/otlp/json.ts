/**
 * The OTLP/JSON mapping ("JSON Protobuf Encoding" in the OTLP specification): the
 * proto3 JSON mapping with these OTLP differences, all handled here:
 * - trace and span ids (Span trace_id/span_id/parent_span_id, Span.Link, LogRecord,
 *   Exemplar) are hex strings, not base64; decoding accepts either letter case;
 * - enums are written as integers; decoding also accepts their names;
 * - keys are lowerCamelCase; decoding also accepts the proto (snake_case) names;
 * - 64-bit integers are written as decimal strings; decoding accepts strings or numbers,
 *   and keeps unquoted numbers of 16+ digits exact (JSON.parse alone would round them);
 * - unknown fields are ignored when decoding.
 *
 * Built on protobuf-es `toJson`/`fromJson` (compiled per schema, and the reference for
 * the proto3 rules) plus one walk over the parts of the JSON tree that can hold ids.
 * The walk skips attributes and other id-free subtrees, which carry most of the bytes.
 */
import { fromJson, toJson } from '@bufbuild/protobuf';
import type { DescField, DescMessage, JsonObject, MessageShape } from '@bufbuild/protobuf';
import { ScalarType } from '@bufbuild/protobuf';
import { base64Decode } from '@bufbuild/protobuf/wire';
import { hexIdFields as idFields } from './json-ids.js';

/**
 * A body that is not valid OTLP/JSON. `path` locates the offending value in the
 * input (`$.resourceSpans[0].scopeSpans[0].spans[3].traceId`, keys as the input
 * spelled them; `$` for the whole document).
 */
export class OtlpJsonError extends Error {
  override readonly name = 'OtlpJsonError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid OTLP/JSON at ${path}: ${message}`, options);
  }
}

/** Serializes `message` as OTLP/JSON, UTF-8 encoded. */
export function encodeJson<D extends DescMessage>(schema: D, message: MessageShape<D>): Uint8Array {
  return utf8.encode(encodeJsonString(schema, message));
}

/** Serializes `message` as an OTLP/JSON string. */
export function encodeJsonString<D extends DescMessage>(schema: D, message: MessageShape<D>): string {
  // enumAsInteger: OTLP requires enum values as integers.
  const json = toJson(schema, message, { enumAsInteger: true });
  const plan = planFor(schema);
  if (plan !== undefined && isObject(json)) idsToHex(plan, json);
  return JSON.stringify(json);
}

/**
 * Parses an OTLP/JSON body (bytes are UTF-8) into a message of `schema`.
 * Throws {@link OtlpJsonError} for bad UTF-8, bad JSON or a value the field cannot hold.
 */
export function decodeJson<D extends DescMessage>(schema: D, body: Uint8Array | string): MessageShape<D> {
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    try {
      text = utf8Strict.decode(body);
    } catch (cause) {
      throw new OtlpJsonError('$', 'the body is not valid UTF-8', { cause });
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(UNQUOTED_BIG_INT.test(text) ? quoteBigIntegers(text) : text);
  } catch (cause) {
    throw new OtlpJsonError('$', `the body is not JSON (${cause instanceof Error ? cause.message : String(cause)})`, {
      cause,
    });
  }
  return decodeJsonValue(schema, json);
}

/**
 * Like {@link decodeJson} for an already parsed JSON value. The id strings inside
 * `json` are rewritten in place, so pass a value you own. Unquoted 64-bit numbers were
 * already rounded by whoever parsed the text; prefer {@link decodeJson} for bodies.
 */
export function decodeJsonValue<D extends DescMessage>(schema: D, json: unknown): MessageShape<D> {
  if (!isObject(json)) {
    throw new OtlpJsonError('$', `expected an object for ${schema.typeName}, got ${describe(json)}`);
  }
  const plan = planFor(schema);
  if (plan !== undefined) idsFromHex(plan, json, '$');
  try {
    return fromJson(schema, json, readOptions);
  } catch (cause) {
    // Cold path: find the exact value protobuf-es refused, to name it with its path.
    const found = locate(schema, json, '$');
    if (found !== undefined) throw new OtlpJsonError(found.path, found.reason, { cause });
    throw new OtlpJsonError('$', cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

// OTLP receivers MUST ignore unknown fields (and protobuf-es then also skips unknown enum names).
const readOptions = { ignoreUnknownFields: true } as const;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// ---- 64-bit integers written as JSON numbers --------------------------------------

// A number of 16+ digits right after `:`, `[` or `,`: a 64-bit value some senders write
// unquoted, which JSON.parse would round to a double (…789 becomes …768).
const UNQUOTED_BIG_INT = /[:[,]\s*-?\d{16}/;

/**
 * Puts quotes around integer literals of 16 or more digits outside strings, so they
 * reach protobuf-es as exact decimal strings (which every numeric field accepts).
 * Only runs when {@link UNQUOTED_BIG_INT} matches, so bodies that follow the spec
 * (64-bit values as strings) never pay for it.
 */
function quoteBigIntegers(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip the string, honouring escapes.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      let integral = true;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d >= 48 && d <= 57) i++;
        else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
          integral = false; // . e E + - : not an integer literal
          i++;
        } else break;
      }
      const digits = i - start - (c === 45 ? 1 : 0);
      if (integral && digits >= 16) {
        out += `${text.slice(from, start)}"${text.slice(start, i)}"`;
        from = i;
      }
      continue;
    }
    i++;
  }
  return from === 0 ? text : out + text.slice(from);
}

// ---- id rewriting -------------------------------------------------------------

/** An id field: its JSON keys and its length in bytes. */
interface IdField {
  readonly jsonName: string;
  readonly protoName: string;
  readonly bytes: number;
}

/** A message or list-of-messages field whose subtree holds ids. */
interface ChildField {
  readonly jsonName: string;
  readonly protoName: string;
  readonly list: boolean;
  readonly plan: Plan;
}

/** What the walk visits in one message type; only types that can reach an id have one. */
interface Plan {
  readonly ids: IdField[];
  readonly children: ChildField[];
}

const plans = new WeakMap<DescMessage, Plan | null>();

function planFor(desc: DescMessage): Plan | undefined {
  const cached = plans.get(desc);
  if (cached !== undefined) return cached ?? undefined;
  return buildPlan(desc, new Set()) ?? undefined;
}

function buildPlan(desc: DescMessage, visiting: Set<DescMessage>): Plan | null {
  const cached = plans.get(desc);
  if (cached !== undefined) return cached;
  // A message on the current path (AnyValue inside AnyValue) adds nothing new.
  if (visiting.has(desc)) return null;
  visiting.add(desc);
  const ids: IdField[] = [];
  const children: ChildField[] = [];
  for (const field of desc.fields) {
    const bytes = idFields.get(field);
    if (bytes !== undefined) {
      ids.push({ jsonName: field.jsonName, protoName: field.name, bytes });
      continue;
    }
    const child =
      field.fieldKind === 'message' ? field.message : field.fieldKind === 'list' && field.listKind === 'message' ? field.message : undefined;
    if (child === undefined) continue;
    const plan = buildPlan(child, visiting);
    if (plan !== null) children.push({ jsonName: field.jsonName, protoName: field.name, list: field.fieldKind === 'list', plan });
  }
  visiting.delete(desc);
  const plan = ids.length === 0 && children.length === 0 ? null : { ids, children };
  plans.set(desc, plan);
  return plan;
}

/** toJson output → OTLP: base64 ids become lowercase hex. Keys are always JSON names here. */
function idsToHex(plan: Plan, obj: JsonObject): void {
  for (const id of plan.ids) {
    const v = obj[id.jsonName];
    if (typeof v === 'string') obj[id.jsonName] = base64ToHex(v);
  }
  for (const child of plan.children) {
    const v = obj[child.jsonName];
    if (v === undefined || v === null) continue;
    if (child.list) {
      if (!Array.isArray(v)) continue;
      for (const item of v) if (isObject(item)) idsToHex(child.plan, item);
    } else if (isObject(v)) {
      idsToHex(child.plan, v);
    }
  }
}

/**
 * OTLP input → what fromJson reads: hex ids become base64. Shapes that are wrong
 * elsewhere (a list that is not an array, ...) are left for fromJson to report.
 */
function idsFromHex(plan: Plan, obj: JsonObject, path: string): void {
  for (const id of plan.ids) {
    rewriteId(obj, id.jsonName, id.bytes, path);
    if (id.protoName !== id.jsonName) rewriteId(obj, id.protoName, id.bytes, path);
  }
  for (const child of plan.children) {
    walkChild(child, obj, child.jsonName, path);
    if (child.protoName !== child.jsonName) walkChild(child, obj, child.protoName, path);
  }
}

function walkChild(child: ChildField, obj: JsonObject, key: string, path: string): void {
  const v = obj[key];
  if (v === undefined || v === null) return;
  if (child.list) {
    if (!Array.isArray(v)) return;
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (isObject(item)) idsFromHex(child.plan, item, `${path}.${key}[${i}]`);
    }
  } else if (isObject(v)) {
    idsFromHex(child.plan, v, `${path}.${key}`);
  }
}

function rewriteId(obj: JsonObject, key: string, bytes: number, path: string): void {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return;
  if (typeof v !== 'string') {
    throw new OtlpJsonError(`${path}.${key}`, `${describe(v)} is not an id; expected ${bytes * 2} hex digits or ""`);
  }
  const base64 = hexToBase64(v, bytes);
  if (base64 === undefined) {
    throw new OtlpJsonError(`${path}.${key}`, `${describe(v)} is not a ${bytes}-byte id; expected ${bytes * 2} hex digits (either case) or ""`);
  }
  obj[key] = base64;
}

// Ids are converted straight between hex and base64 text, without a byte array in
// between: for span-heavy bodies this halves the cost of the id rewriting.
const hexDigits: string[] = [];
for (let i = 0; i < 256; i++) hexDigits.push(i.toString(16).padStart(2, '0'));
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64Values = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) b64Values[B64.charCodeAt(i)] = i;

/** Standard padded base64 (what toJson writes) → lowercase hex. */
function base64ToHex(v: string): string {
  let out = '';
  let bits = 0;
  let nbits = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 61 /* = */) break;
    const x = c < 128 ? b64Values[c]! : -1;
    // Not what toJson writes: let protobuf-es decode it (url-safe alphabet, ...).
    if (x < 0) return toHex(base64Decode(v));
    bits = ((bits << 6) | x) & 0xffffff;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out += hexDigits[(bits >> nbits) & 0xff];
    }
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += hexDigits[bytes[i]!];
  return s;
}

/** Exactly `bytes` bytes of hex (either case) → standard padded base64, or undefined. */
function hexToBase64(s: string, bytes: number): string | undefined {
  if (s.length !== bytes * 2) return undefined;
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes; i += 3) {
    const a = byteAt(s, i);
    const b = byteAt(s, i + 1);
    const c = byteAt(s, i + 2);
    if ((a | b | c) < 0) return undefined;
    const n = (a << 16) | (b << 8) | c;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const left = bytes - i;
  if (left === 1) {
    const a = byteAt(s, i);
    if (a < 0) return undefined;
    out += `${B64[a >> 2]!}${B64[(a & 3) << 4]!}==`;
  } else if (left === 2) {
    const a = byteAt(s, i);
    const b = byteAt(s, i + 1);
    if ((a | b) < 0) return undefined;
    const n = (a << 8) | b;
    out += `${B64[n >> 10]!}${B64[(n >> 4) & 63]!}${B64[(n & 15) << 2]!}=`;
  }
  return out;
}

/** The byte at index `i` of a hex string, or -1 for a non-hex digit. */
function byteAt(s: string, i: number): number {
  const hi = nibble(s.charCodeAt(2 * i));
  const lo = nibble(s.charCodeAt(2 * i + 1));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

// ---- error location (cold path) ------------------------------------------------

// protobuf-es's recursion limit (fromJson and fromBinary), also json-from-protobuf.ts's.
const RECURSION_LIMIT = 100;

/**
 * Finds the first value that fromJson refuses, by decoding field by field.
 * Only runs after a failed decode, so its cost does not matter.
 */
function locate(desc: DescMessage, json: unknown, path: string, depth = 0): { path: string; reason: string } | undefined {
  if (!isObject(json)) return { path, reason: `expected an object for ${desc.typeName}, got ${describe(json)}` };
  // fromJson refuses messages nested deeper than its recursionLimit (100); this walk stops there too,
  // or a document nested a few thousand AnyValues deep overflows the stack here, and the RangeError
  // escapes decodeJson (found by test/fuzz/untrusted.ts; test/regression/json-deep-nesting-stack-overflow.test.ts).
  if (depth >= RECURSION_LIMIT) return { path, reason: `messages nested more than ${RECURSION_LIMIT} deep` };
  for (const key of Object.keys(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (field === undefined) continue;
    const value = json[key]!;
    const at = `${path}.${key}`;
    if (value === null) continue;
    if (field.fieldKind === 'message') {
      const found = locate(field.message, value, at, depth + 1);
      if (found !== undefined) return found;
      continue;
    }
    if (field.fieldKind === 'list' && field.listKind === 'message') {
      if (!Array.isArray(value)) return { path: at, reason: `expected an array, got ${describe(value)}` };
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item === null) return { path: `${at}[${i}]`, reason: 'a list item must not be null' };
        const found = locate(field.message, item, `${at}[${i}]`, depth + 1);
        if (found !== undefined) return found;
      }
      continue;
    }
    try {
      fromJson(desc, { [key]: value }, readOptions);
    } catch (e) {
      if (field.fieldKind === 'list' && Array.isArray(value)) {
        // Name the list item when one item is at fault.
        for (let i = 0; i < value.length; i++) {
          try {
            fromJson(desc, { [key]: [value[i]!] }, readOptions);
          } catch {
            return { path: `${at}[${i}]`, reason: `${describe(value[i])} is not allowed; ${allowed(field)}` };
          }
        }
      }
      return { path: at, reason: `${describe(value)} is not allowed; ${allowed(field)} (${errorText(e)})` };
    }
  }
  // Every field decodes alone: the fault is between fields (a oneof set twice, a field set by both names).
  try {
    fromJson(desc, json, readOptions);
  } catch (e) {
    return { path, reason: errorText(e) };
  }
  return undefined;
}

/** What a field accepts, in the words of the OTLP/JSON mapping. */
function allowed(field: DescField): string {
  if (field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')) {
    const names = field.enum.values.map((v) => `${v.number} (${v.name})`).join(', ');
    return `expected an integer or a name of ${field.enum.typeName}: ${names}`;
  }
  if (field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')) {
    switch (field.scalar) {
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return 'expected a signed 64-bit integer as a decimal string or a number';
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return 'expected an unsigned 64-bit integer as a decimal string or a number';
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return 'expected a signed 32-bit integer';
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return 'expected an unsigned 32-bit integer';
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return 'expected a number or "NaN", "Infinity", "-Infinity"';
      case ScalarType.BOOL:
        return 'expected true or false';
      case ScalarType.STRING:
        return 'expected a string';
      case ScalarType.BYTES:
        return 'expected base64 bytes';
    }
  }
  return `expected a value of ${field.toString()}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
