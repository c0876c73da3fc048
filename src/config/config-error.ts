/**
 * How configuration problems are reported. A library must not take an application down over a
 * telemetry setting, so almost every bad value becomes one warning and a safe fallback
 * (`warnInvalid`). Only structural mistakes in code options throw `ConfigError` (see validate.ts).
 * Both name the field (a variable name or an option path), the value and what is allowed.
 */
import { warnOnce } from '../internal/warn.js';

/** A configuration that has no meaning; thrown by `resolveConfig()` for programmer errors only. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** Option path (`backends[1].name`) or environment variable. */
    readonly field: string,
    /** The offending value. */
    readonly value: unknown,
    /** What is allowed, in words. */
    readonly allowed: string,
  ) {
    super(`${field}: ${showValue(value)} is not allowed; expected ${allowed}`);
  }
}

/** A short, printable form of a value; `redacted` hides secrets (header values). */
export function showValue(value: unknown, redacted = false): string {
  if (redacted) return '(value hidden)';
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    // A pasted certificate or a huge value would drown the message.
    return s.length > 120 ? `${s.slice(0, 117)}..."` : s;
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/**
 * One warning per distinct (field, value): "<field>: <value> is not allowed; expected <allowed>;
 * <fallback>". Resolving the same configuration twice stays quiet.
 */
export function warnInvalid(
  field: string,
  value: unknown,
  allowed: string,
  fallback: string,
  redacted = false,
): void {
  const shown = showValue(value, redacted);
  warnOnce(
    `config:${field}:${shown}`,
    `${field}: ${shown} is not allowed; expected ${allowed}; ${fallback}`,
  );
}

/** A one-time warning about the configuration that is not about one bad value. */
export function warnConfig(key: string, message: string): void {
  warnOnce(`config:${key}`, message);
}
