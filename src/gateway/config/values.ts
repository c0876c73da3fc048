/**
 * Scalar readers for the gateway configuration: each checks one value, names its key
 * path in the error, and returns the typed value. Values from `${ENV}` expansion are
 * strings, so numbers, sizes, durations and booleans also accept their text form.
 */

import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { at, GatewayConfigError, show } from './config-error.js';

/** A plain mapping with only `allowed` keys (typos are errors, not silently ignored settings). */
export function mapping(value: unknown, path: string, allowed?: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayConfigError(path, `expected a mapping, got ${show(value)}`);
  }
  const obj = value as Record<string, unknown>;
  if (allowed !== undefined) {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        throw new GatewayConfigError(at(path, key), `unknown key; allowed here: ${allowed.join(', ')}`);
      }
    }
  }
  return obj;
}

/** A list (a single scalar is not promoted: `signals: metrics` is more likely a typo than intent). */
export function list(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new GatewayConfigError(path, `expected a list, got ${show(value)}`);
  return value;
}

export function string(value: unknown, path: string, options: { nonEmpty?: boolean } = {}): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new GatewayConfigError(path, `expected a string, got ${show(value)}`);
  if (options.nonEmpty === true && value === '') throw new GatewayConfigError(path, 'must not be empty');
  return value;
}

export function boolean(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new GatewayConfigError(path, `expected true or false, got ${show(value)}`);
}

/** A number in [min, max]; `integer` refuses fractions. */
export function number(value: unknown, path: string, min: number, max: number, integer: boolean): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new GatewayConfigError(path, `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${show(value)}`);
  }
  return n;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** A byte size: an integer, or text such as `64MiB`, `512 KiB`, `10MB` (units are case-insensitive). */
export function byteSize(value: unknown, path: string, min: number, max: number): number {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
    if (m === null || unit === undefined) {
      throw new GatewayConfigError(path, `expected a byte size (an integer, or a number with B, KB, MB, GB, KiB, MiB, GiB), got ${show(value)}`);
    }
    return number(Math.round(Number(m[1]) * unit), path, min, max, true);
  }
  return number(value, path, min, max, true);
}

const TIME_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds: an integer, or text such as `500ms`, `10s`, `2m`. */
export function millis(value: unknown, path: string, min: number, max: number): number {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
    if (m === null) throw new GatewayConfigError(path, `expected a duration (milliseconds, or a number with ms, s, m, h), got ${show(value)}`);
    return number(Math.round(Number(m[1]) * TIME_UNITS[m[2] ?? 'ms']!), path, min, max, true);
  }
  return number(value, path, min, max, true);
}

export function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new GatewayConfigError(path, `expected one of ${allowed.join(', ')}, got ${show(value)}`);
}

/** A listen address. `host` keeps IPv6 without brackets, as node's listen() wants it. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `HOST:PORT` (`127.0.0.1:4317`, `[::1]:4317`, `localhost:0`, `0.0.0.0:4318`). */
export function listenAddress(value: unknown, path: string): ListenAddress {
  const text = string(value, path, { nonEmpty: true });
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) throw new GatewayConfigError(path, `expected HOST:PORT (IPv6 as [::1]:PORT), got ${show(text)}`);
  const port = Number(m[3]);
  if (port > 65_535) throw new GatewayConfigError(path, `port ${port} is out of range 0-65535`);
  return { host: m[1] ?? m[2]!, port };
}

/** `host:port` as printed and parsed back (IPv6 bracketed). */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `read(value)`, or `fallback` when the key is absent or null. */
export function optional<T>(value: unknown, fallback: T, read: (v: unknown) => T): T {
  return value === undefined || value === null ? fallback : read(value);
}

/** An error's message, for wrapping it into a config error. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Reads files named by the config (TLS PEM), relative to the config file's directory. */
export type FileReader = (value: unknown, path: string) => string;

/** The contents of a PEM file named at `p`, resolved against `baseDir`. */
export function pemFile(value: unknown, p: string, baseDir: string): string {
  const file = string(value, p, { nonEmpty: true });
  let text: string;
  try {
    text = readFileSync(resolvePath(baseDir, file), 'utf8');
  } catch (e) {
    throw new GatewayConfigError(p, `cannot read ${show(file)}: ${errorText(e)}`);
  }
  if (!text.includes('-----BEGIN ')) throw new GatewayConfigError(p, `${show(file)} is not a PEM file`);
  return text;
}

/**
 * Deep equality of validated config data: primitives, plain objects, arrays, byte arrays
 * (credential digests) and sets (route signals and tenants). What a reload compares, to keep
 * what did not change: an upstream with its queue, a receiver with its socket.
 */
export function sameConfigData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !sameConfigData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
