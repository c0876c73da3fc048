/**
 * The library's policy for configuration problems (internal/config-problem.ts has the one
 * shape; the gateway's policy is to throw and exit). A library must not take an application
 * down over a telemetry setting, so almost every bad value becomes one warning and a safe
 * fallback (`warnInvalid`). Only structural mistakes in code options throw `ConfigError` (see
 * validate.ts). Both name the field (a variable name or an option path), the value and what is
 * allowed.
 */
import { ConfigProblemError, showValue } from '../internal/config-problem.js';
import { warnOnce } from '../internal/warn.js';

/** A configuration that has no meaning; thrown by `resolveConfig()` for programmer errors only. */
export class ConfigError extends ConfigProblemError {
  override readonly name = 'ConfigError';
}

/**
 * One warning per distinct (field, value): "<field>: <value> is not allowed; expected <allowed>;
 * <fallback>". Resolving the same configuration twice stays quiet.
 */
export function warnInvalid(field: string, value: unknown, allowed: string, fallback: string, redacted = false): void {
  const shown = showValue(value, redacted);
  warnOnce(`config:${field}:${shown}`, `${field}: ${shown} is not allowed; expected ${allowed}; ${fallback}`);
}

/** A one-time warning about the configuration that is not about one bad value. */
export function warnConfig(key: string, message: string): void {
  warnOnce(`config:${key}`, message);
}
