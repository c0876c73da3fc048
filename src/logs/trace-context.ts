/**
 * Trace correlation of a log record: explicit ids, else the span in the record's `context`, else the
 * span in the active context of a registered `@opentelemetry/api` 1.x. The api is read through the
 * globals it registers, never imported, so it stays an optional peer.
 */
import type { ContextLike, SpanContextLike } from './types.js';

// api 1.x: createContextKey() is Symbol.for(description), so every copy of the api shares the key.
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
// api 1.x registers { version, context, trace, ... } on globalThis under this symbol (internal/global-utils).
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/**
 * `s` as lowercase hex when it is `length` hex digits and not all zeros (the W3C "invalid" id),
 * else `undefined`.
 */
export function normalizeHexId(s: unknown, length: number): string | undefined {
  if (typeof s !== 'string' || s.length !== length) return undefined;
  let nonZero = false;
  let upper = false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (c !== 48) nonZero = true;
    } else if (c >= 97 && c <= 102) {
      nonZero = true;
    } else if (c >= 65 && c <= 70) {
      nonZero = true;
      upper = true;
    } else {
      return undefined;
    }
  }
  if (!nonZero) return undefined;
  return upper ? s.toLowerCase() : s;
}

interface SpanLike {
  spanContext(): SpanContextLike;
}

function spanContextOf(ctx: ContextLike): SpanContextLike | undefined {
  const span = ctx.getValue(SPAN_KEY) as Partial<SpanLike> | undefined;
  if (span === undefined || span === null || typeof span.spanContext !== 'function') return undefined;
  return span.spanContext();
}

interface ApiGlobal {
  context?: { active?(): ContextLike | undefined };
}

/** The active context of a registered `@opentelemetry/api` context manager, if any. */
export function activeApiContext(): ContextLike | undefined {
  const api = (globalThis as { [API_GLOBAL]?: ApiGlobal })[API_GLOBAL];
  const manager = api?.context;
  if (manager === undefined || typeof manager.active !== 'function') return undefined;
  return manager.active();
}

/** Where a record's trace ids come from after resolution. */
export interface ResolvedTrace {
  traceId: string;
  spanId: string;
  flags: number;
}

/**
 * Fills `out` from the span of `ctx` (or of the api's active context when `ctx` is undefined).
 * A missing or invalid span context (api's INVALID_SPAN_CONTEXT is all zeros) leaves `out` untouched.
 */
export function traceFromContext(ctx: ContextLike | undefined, out: ResolvedTrace): void {
  const c = ctx ?? activeApiContext();
  if (c === undefined || typeof c.getValue !== 'function') return;
  const sc = spanContextOf(c);
  if (sc === undefined) return;
  const traceId = normalizeHexId(sc.traceId, 32);
  const spanId = normalizeHexId(sc.spanId, 16);
  if (traceId === undefined || spanId === undefined) return;
  out.traceId = traceId;
  out.spanId = spanId;
  out.flags = typeof sc.traceFlags === 'number' ? sc.traceFlags & 0xff : 0;
}
