/**
 * The `opamp` section: the OpAMP server the gateway reports to and takes remote configs from
 * (docs/gateway.md, OpAMP). It always comes from the local file: a remote config cannot move the
 * gateway to another server. The endpoint and header rules are the client's own
 * (opamp/options.ts), checked here so that a mistake is a configuration error naming the key.
 *
 * ```yaml
 * opamp:
 *   endpoint: wss://opamp.example:4320/v1/opamp
 *   headers: { authorization: "Bearer ${OPAMP_TOKEN}" }
 *   tls: { caFile: ca.pem }
 *   pollingInterval: 30s
 * ```
 */
import { ConfigProblemError } from '../../internal/config-problem.js';
import { OPAMP_DEFAULTS, validateOpampClientOptions } from '../../opamp/options.js';
import { at, GatewayConfigError, problemAt } from './config-error.js';
import { MAX_MS } from './defaults.js';
import { mapping, millis, optional, string } from './values.js';
import type { FileReader } from './values.js';

/** The validated section: the connection half of the OpAMP client's options. */
export interface OpampConfig {
  /** `http(s)://` (polling) or `ws(s)://` (WebSocket). */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM text read from the configured files. */
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** HTTP poll and WebSocket heartbeat period. */
  readonly pollingIntervalMillis: number;
}

// The client's option names, as this section spells them.
const KEYS: Readonly<Record<string, string>> = {
  'tls.ca': 'tls.caFile',
  'tls.cert': 'tls.certFile',
  'tls.key': 'tls.keyFile',
  pollingIntervalMillis: 'pollingInterval',
};

/**
 * Reads the section at `path`; null when it is absent (no OpAMP). Throws GatewayConfigError naming
 * the key, the value (never a header's) and what is allowed.
 */
export function opampConfig(value: unknown, path: string, files: FileReader): OpampConfig | null {
  if (value === undefined || value === null) return null;
  const doc = mapping(value, path, ['endpoint', 'headers', 'tls', 'pollingInterval']);
  if (doc['endpoint'] === undefined) throw new GatewayConfigError(at(path, 'endpoint'), 'required');
  const endpoint = string(doc['endpoint'], at(path, 'endpoint'), { nonEmpty: true });
  const headers: Record<string, string> = {};
  if (doc['headers'] !== undefined && doc['headers'] !== null) {
    for (const [k, v] of Object.entries(mapping(doc['headers'], at(path, 'headers')))) headers[k] = string(v, at(at(path, 'headers'), k));
  }
  const tlsDoc = mapping(doc['tls'] ?? {}, at(path, 'tls'), ['caFile', 'certFile', 'keyFile']);
  const tls: { ca?: string; cert?: string; key?: string } = {};
  if (tlsDoc['caFile'] !== undefined) tls.ca = files(tlsDoc['caFile'], at(path, 'tls.caFile'));
  if (tlsDoc['certFile'] !== undefined) tls.cert = files(tlsDoc['certFile'], at(path, 'tls.certFile'));
  if (tlsDoc['keyFile'] !== undefined) tls.key = files(tlsDoc['keyFile'], at(path, 'tls.keyFile'));
  // One second at least: a fleet polling faster would be a load test of its server.
  const pollingIntervalMillis = optional(doc['pollingInterval'], OPAMP_DEFAULTS.pollingIntervalMillis, (v) =>
    millis(v, at(path, 'pollingInterval'), 1000, MAX_MS),
  );
  let checked: ReturnType<typeof validateOpampClientOptions>;
  try {
    checked = validateOpampClientOptions({ endpoint, headers, tls, pollingIntervalMillis });
  } catch (e) {
    if (!(e instanceof ConfigProblemError)) throw e;
    const field = KEYS[e.field] ?? e.field;
    throw problemAt(at(path, field), { field, value: e.value, allowed: `expected ${e.allowed}` });
  }
  return Object.freeze({
    endpoint,
    headers: checked.headers,
    tls: Object.freeze(tls),
    pollingIntervalMillis,
  });
}
