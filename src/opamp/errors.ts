/**
 * The OpAMP client's one thrown error (a bad option, at creation) and the text of a caught
 * failure. Everything that goes wrong after creation is a value: `status().lastError`, a
 * RemoteConfigStatus sent to the server, or a warning printed once.
 */
import { ConfigProblemError, showValue } from '../internal/config-problem.js';

/**
 * An OpAMP client option that cannot be used: `field`, the value given, what is allowed. A header's
 * value is neither printed nor kept (headers carry credentials).
 */
export class OpampOptionError extends ConfigProblemError {
  override readonly name = 'OpampOptionError';
  constructor(field: string, value: unknown, allowed: string) {
    const secret = field.startsWith('headers.');
    const kept = secret ? '(value hidden)' : value;
    super(field, kept, allowed, `invalid OpAMP client option ${field} = ${showValue(value, secret)}: expected ${allowed}`);
  }
}

/** The message of a caught value, for status and warnings. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
