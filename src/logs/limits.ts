/**
 * Log record limits (OpenTelemetry SDK spec, "LogRecord Limits" and common "Attribute Limits") and
 * the AnyValue sanitizer that enforces them. Values are checked when a record is emitted, so the
 * encoder, which runs later and for the whole batch, only ever sees valid, bounded values.
 */
import type { AnyValueInput } from '../otlp/types.js';
import { warnOnce } from '../internal/warn.js';

/** Attribute limits of log records; env parsing (OTEL_[LOGRECORD_]ATTRIBUTE_*) is the config layer's job. */
export interface LogRecordLimits {
  /**
   * Maximum attributes kept per record (and per logger scope); later keys are dropped and counted in
   * `dropped_attributes_count`. Default 128: the spec's default for OTEL_ATTRIBUTE_COUNT_LIMIT.
   */
  attributeCountLimit?: number;
  /**
   * Maximum length of an attribute value: strings are cut to this many UTF-16 code units (never
   * splitting a surrogate pair), byte arrays to this many bytes, recursively inside arrays and maps.
   * Default `Infinity`: the spec sets no default length limit.
   */
  attributeValueLengthLimit?: number;
}

/** Limits with every field filled in. */
export interface ResolvedLogRecordLimits {
  readonly attributeCountLimit: number;
  readonly attributeValueLengthLimit: number;
}

const DEFAULT_LIMITS: ResolvedLogRecordLimits = Object.freeze({
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
});

function isLimit(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && (Number.isInteger(v) || v === Infinity);
}

/**
 * Fills in defaults. A bad value (negative, fractional, not a number) is reported once, naming the
 * field, the value and what is allowed, and replaced by the default: a logging library must not
 * take the application down over a limit.
 */
export function validateLogRecordLimits(options: LogRecordLimits = {}): ResolvedLogRecordLimits {
  const pick = (field: keyof LogRecordLimits): number => {
    const v = options[field];
    if (v === undefined) return DEFAULT_LIMITS[field];
    if (isLimit(v)) return v;
    warnOnce(
      `logs.limits.${field}`,
      `logs limits.${field} = ${String(v)} is not allowed (a non-negative integer or Infinity); using ${DEFAULT_LIMITS[field]}`,
    );
    return DEFAULT_LIMITS[field];
  };
  return Object.freeze({
    attributeCountLimit: pick('attributeCountLimit'),
    attributeValueLengthLimit: pick('attributeValueLengthLimit'),
  });
}

/** Marks a value that has no OTLP form (function, symbol, class instance, cycle). */
export const INVALID: unique symbol = Symbol('invalid AnyValue');

// Deeper nesting than this is almost surely a cycle or a runaway structure; the encoder recurses,
// so the bound also keeps it far from the stack limit.
const MAX_DEPTH = 32;
// Containers visited per top-level value: shared sub-objects (a DAG) would otherwise let a small
// input expand exponentially.
const MAX_CONTAINERS = 100_000;
let containerBudget = 0;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function truncateString(s: string, limit: number): string {
  let end = limit;
  // Do not leave half a surrogate pair at the end.
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return s.slice(0, end);
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks `value` and applies the length limit. Returns `value` itself when it is valid and within
 * the limit (the common case allocates nothing), a limited copy when something was cut or replaced,
 * or `INVALID` when the value as a whole has no OTLP form. Invalid items inside arrays become `null`;
 * invalid entries of maps are left out.
 */
export function limitAnyValue(value: unknown, lengthLimit: number): AnyValueInput | typeof INVALID {
  switch (typeof value) {
    case 'string':
      return value.length > lengthLimit ? truncateString(value, lengthLimit) : value;
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      // int64 is all OTLP can carry; keep the digits of a larger value rather than lose it.
      return value >= INT64_MIN && value <= INT64_MAX ? value : limitAnyValue(value.toString(), lengthLimit);
    case 'object':
      if (value === null) return null;
      containerBudget = MAX_CONTAINERS;
      return limitObject(value, lengthLimit, 0, []);
    default:
      return INVALID;
  }
}

// limitAnyValue()'s switch again, on purpose: the top level resets the container budget and has no
// path or depth to carry, so the common flat attribute value takes the short function.
function limitNested(value: unknown, lengthLimit: number, depth: number, path: object[]): AnyValueInput | typeof INVALID {
  switch (typeof value) {
    case 'string':
      return value.length > lengthLimit ? truncateString(value, lengthLimit) : value;
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? value : limitNested(value.toString(), lengthLimit, depth, path);
    case 'object':
      if (value === null) return null;
      return limitObject(value, lengthLimit, depth, path);
    default:
      return INVALID;
  }
}

function limitObject(value: object, lengthLimit: number, depth: number, path: object[]): AnyValueInput | typeof INVALID {
  if (value instanceof Uint8Array) {
    return value.byteLength > lengthLimit ? value.subarray(0, lengthLimit) : value;
  }
  if (depth >= MAX_DEPTH || path.includes(value) || --containerBudget < 0) {
    warnOnce('logs.value.depth', `a log value nests deeper than ${MAX_DEPTH} levels, is cyclic or too large; the excess is dropped`);
    return INVALID;
  }
  path.push(value);
  try {
    if (Array.isArray(value)) {
      const items = value as readonly unknown[];
      let copy: AnyValueInput[] | undefined;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        let limited = limitNested(item, lengthLimit, depth + 1, path);
        if (limited === INVALID) {
          warnInvalid(item);
          limited = null;
        }
        if (limited !== item && copy === undefined) copy = items.slice(0, i) as AnyValueInput[];
        if (copy !== undefined) copy.push(limited);
      }
      return copy ?? (value as readonly AnyValueInput[]);
    }
    if (!isPlainObject(value)) return INVALID;
    const map = value as { readonly [key: string]: unknown };
    let copy: { [key: string]: AnyValueInput } | undefined;
    for (const key in map) {
      const item = map[key];
      const limited = limitNested(item, lengthLimit, depth + 1, path);
      if (limited === INVALID) warnInvalid(item);
      if (limited !== item && copy === undefined) {
        copy = {};
        // Keys before this one were unchanged: copy them as they are.
        for (const k in map) {
          if (k === key) break;
          copy[k] = map[k] as AnyValueInput;
        }
      }
      if (copy !== undefined && limited !== INVALID) copy[key] = limited;
    }
    return copy ?? (value as { readonly [key: string]: AnyValueInput });
  } finally {
    path.pop();
  }
}

/** One warning per kind of invalid value (functions, symbols, class instances such as Date or Map). */
export function warnInvalid(value: unknown): void {
  // Arrays and plain maps are only invalid when cut for depth or a cycle, which warned already.
  if (typeof value === 'object' && value !== null && (Array.isArray(value) || isPlainObject(value))) return;
  const kind =
    typeof value === 'object' && value !== null ? ((value as { constructor?: { name?: unknown } }).constructor?.name ?? 'object') : typeof value;
  warnOnce(
    `logs.value.invalid.${String(kind)}`,
    `a log value of type ${String(kind)} has no OTLP form (allowed: string, number, bigint, boolean, Uint8Array, arrays and plain objects of these); it is dropped`,
  );
}

/** Where `limitAttributesInto` writes: a log record, or a logger scope being built. */
export interface LimitedAttributes {
  attributes: { [key: string]: AnyValueInput } | undefined;
  droppedAttributesCount: number;
}

/**
 * Copies the defined entries of `attrs` into `target.attributes` under the limits: the first
 * `attributeCountLimit` valid keys are kept (in iteration order), values cut to the length limit;
 * keys over the count, empty keys and values with no OTLP form are counted in
 * `target.droppedAttributesCount`. The copy is made even when nothing is cut, because the caller may
 * reuse its object after `emit()` returns.
 */
export function limitAttributesInto(target: LimitedAttributes, attrs: { readonly [key: string]: unknown }, limits: ResolvedLogRecordLimits): void {
  const out: { [key: string]: AnyValueInput } = {};
  const countLimit = limits.attributeCountLimit;
  const lengthLimit = limits.attributeValueLengthLimit;
  let count = 0;
  let dropped = 0;
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    if (count >= countLimit) {
      dropped++;
      continue;
    }
    if (key === '') {
      warnOnce('logs.attributes.emptyKey', 'a log attribute has an empty key; it is dropped');
      dropped++;
      continue;
    }
    const limited = limitAnyValue(v, lengthLimit);
    if (limited === INVALID) {
      warnInvalid(v);
      dropped++;
      continue;
    }
    out[key] = limited;
    count++;
  }
  if (count > 0) target.attributes = out;
  target.droppedAttributesCount = dropped;
}
