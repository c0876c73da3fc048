/**
 * Request headers (gRPC metadata) as configuration gives them: names lower-cased (gRPC metadata
 * keys must be, HTTP does not care), checked against the HTTP token grammar, values refused if
 * they could split a header. Warnings never print a value: headers carry credentials.
 */
import { headerProblem } from '../transport/options.js';
import { warnInvalid } from './config-error.js';

/**
 * Validated, lower-cased headers; later entries win over earlier ones with the same name.
 * Each rejected entry is one warning naming `field` and the header name.
 */
export function normalizeHeaders(entries: Iterable<readonly [string, unknown]>, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of entries) {
    const name = rawName.trim().toLowerCase();
    // The transports' own rules; `grpc-*` is refused for every protocol, since a backend's headers may
    // serve a gRPC target of another signal.
    const problem = headerProblem(name, value, true);
    if (problem === 'name') {
      warnInvalid(`${field}`, rawName, "header names made of letters, digits and !#$%&'*+.^_`|~-", 'header skipped');
      continue;
    }
    if (problem === 'reserved') {
      warnInvalid(`${field}.${name}`, name, 'a header the transport does not set itself', 'header skipped');
      continue;
    }
    if (problem === 'value') {
      warnInvalid(`${field}.${name}`, value, 'a string of visible ASCII or Latin-1 characters', 'header skipped', true);
      continue;
    }
    out[name] = value as string;
  }
  return out;
}
