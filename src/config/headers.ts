/**
 * Request headers (gRPC metadata) as configuration gives them: names lower-cased (gRPC metadata
 * keys must be, HTTP does not care), checked against the HTTP token grammar, values refused if
 * they could split a header. Warnings never print a value: headers carry credentials.
 */
import { warnInvalid } from './config-error.js';

// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
// Header values are bytes: tab, visible ASCII and Latin-1 only. Control characters would end or
// split the header line; characters beyond U+00FF have no single-byte form and the transports refuse them.
const GOOD_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/**
 * Headers the transports derive from the protocol, compression and deadline; a configured value
 * would contradict the request actually sent, so they are dropped with a warning.
 */
const RESERVED = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'host',
  'te',
  'upgrade',
  'accept-encoding',
]);

/**
 * Validated, lower-cased headers; later entries win over earlier ones with the same name.
 * Each rejected entry is one warning naming `field` and the header name.
 */
export function normalizeHeaders(
  entries: Iterable<readonly [string, unknown]>,
  field: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of entries) {
    const name = rawName.trim().toLowerCase();
    if (!TOKEN.test(name)) {
      warnInvalid(`${field}`, rawName, 'header names made of letters, digits and !#$%&\'*+.^_`|~-', 'header skipped');
      continue;
    }
    if (RESERVED.has(name) || name.startsWith('grpc-')) {
      warnInvalid(`${field}.${name}`, name, 'a header the transport does not set itself', 'header skipped');
      continue;
    }
    if (typeof value !== 'string' || !GOOD_VALUE.test(value)) {
      warnInvalid(`${field}.${name}`, value, 'a string of visible ASCII or Latin-1 characters', 'header skipped', true);
      continue;
    }
    out[name] = value;
  }
  return out;
}
