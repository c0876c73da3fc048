/**
 * The one shape of a configuration problem: which setting, the value given, what is allowed.
 * Two policies report it: the library warns once and falls back (config/config-error.ts,
 * `warnInvalid`; a library must not take its application down over telemetry), the gateway
 * throws `GatewayConfigError` and exits 2 (gateway/config/config-error.ts). Errors that carry a
 * problem expose it as fields (`ConfigError`, `TransportOptionError`), so a layer that reports
 * another layer's problem reads the fields, never the other error's message text.
 */

/** A value a setting cannot take. */
export interface ConfigProblem {
  /** The setting: an option path (`backends[1].tls.cert`, `headers.Content-Type`) or a variable name. */
  readonly field: string;
  /** The value given. */
  readonly value: unknown;
  /** What is allowed (or what is wrong with the value), in words. */
  readonly allowed: string;
}

/** A short, printable form of a value for problem messages; `redacted` hides secrets (header values). */
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
 * The error that carries a problem as fields: each layer's error (config's `ConfigError`, the
 * transports' `TransportOptionError`, the durable log's `DurableLogOptionError`) extends it with its
 * own name, and a caller that reports it elsewhere reads `field`, `value` and `allowed`.
 */
export class ConfigProblemError extends Error implements ConfigProblem {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
    message = `${field}: ${showValue(value)} is not allowed; expected ${allowed}`,
  ) {
    super(message);
  }
}
