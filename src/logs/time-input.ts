/**
 * Conversion of the api's `TimeInput` (plus bigint nanoseconds) to OTLP's bigint epoch nanoseconds.
 */
import { performance } from 'node:perf_hooks';
import { warnOnce } from '../internal/warn.js';

const timeOriginMs = performance.timeOrigin;
// Numbers below this are performance.now() readings, as in the official SDK: the process would have
// to run for decades to reach it, while a real epoch time just under timeOrigin (the monotonic origin
// may lead the wall clock slightly) stays an epoch time.
const relativeBelowMs = timeOriginMs / 2;
const UINT64_MAX = 2n ** 64n - 1n;

function millisToNanos(ms: number): bigint {
  const whole = Math.floor(ms);
  // Split so the integer part keeps full precision; a double holds only ~16 digits of ms*1e6.
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/**
 * Epoch nanoseconds of `t`, or `undefined` (with a one-time warning naming `field`) when `t` is not
 * a time: a negative or non-finite number, an invalid Date, a malformed HrTime, a bigint outside uint64.
 */
export function toEpochNanos(t: unknown, field: string): bigint | undefined {
  switch (typeof t) {
    case 'number':
      if (Number.isFinite(t) && t >= 0) return millisToNanos(t < relativeBelowMs ? timeOriginMs + t : t);
      break;
    case 'bigint':
      if (t >= 0n && t <= UINT64_MAX) return t;
      break;
    case 'object':
      if (t instanceof Date) {
        const ms = t.getTime();
        if (Number.isFinite(ms) && ms >= 0) return millisToNanos(ms);
      } else if (Array.isArray(t) && t.length === 2) {
        const [s, ns] = t as readonly unknown[];
        if (Number.isSafeInteger(s) && Number.isSafeInteger(ns) && (s as number) >= 0 && (ns as number) >= 0) {
          return BigInt(s as number) * 1_000_000_000n + BigInt(ns as number);
        }
      }
      break;
    default:
      break;
  }
  warnOnce(
    `logs.time.${field}`,
    `log record ${field} = ${describe(t)} is not a time (epoch ms or performance.now() number, [s, ns], Date, bigint ns); it is ignored`,
  );
  return undefined;
}

function describe(v: unknown): string {
  try {
    return typeof v === 'object' && v !== null && !(v instanceof Date) ? (JSON.stringify(v) ?? String(v)) : String(v);
  } catch {
    return typeof v;
  }
}
