/**
 * `observe.ui` and `observe.metrics`: the addresses of the web inspector and of `GET /metrics`, each
 * with optional credentials. Both show tenant names, service names and data, so they listen apart
 * from the OTLP receivers (which clients reach), on loopback unless the operator says otherwise, and
 * the inspector refuses a non-loopback address without credentials (a config error: exit 2).
 * ```yaml
 * observe:
 *   ui: { address: 127.0.0.1:4319, auth: { token: "${UI_TOKEN}" } }
 *   metrics: { address: 0.0.0.0:9464, auth: { basic: { username: prom, password: "${PROM_PASSWORD}" } } }
 * ```
 * Secrets are kept as SHA-256 digests only, as tenants' are (tenants.ts): the resolved config, and
 * so every view of it (redacted-config.ts, a reload's comparison), never holds them.
 */
import { createHash } from 'node:crypto';
import { at, GatewayConfigError, show } from './config-error.js';
import { listenAddress, mapping, string } from './values.js';

/** Credentials of an observe endpoint: a bearer token, or a user name and password (HTTP basic). */
export type ObserveAuth =
  | { readonly kind: 'token'; readonly digest: Uint8Array }
  /** `digest`: SHA-256 of `username:password`, the string HTTP basic sends (base64-encoded). */
  | { readonly kind: 'basic'; readonly username: string; readonly digest: Uint8Array };

/** Where an observe endpoint listens, and who may read it. */
export interface ObserveEndpointConfig {
  /** Host as node's listen() wants it (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** null: anyone who reaches the address (allowed for the inspector only on loopback). */
  readonly auth: ObserveAuth | null;
}

/** Shortest secret: the tenants' rule, for the same reason (a guessable token is no token). */
const MIN_SECRET = 8;

/**
 * Whether `host` names only this machine: `localhost`, 127.0.0.0/8 or ::1. `0.0.0.0` and `::` are
 * every interface, so not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * `observe.ui`: the inspector. Absent or `false`: off, unless `flag` (`--ui HOST:PORT`) turns it on
 * (`--ui off` turns off a configured one). Throws when it would listen beyond loopback with no `auth`.
 */
export function uiEndpointConfig(value: unknown, flag: string | undefined): ObserveEndpointConfig | null {
  const p = 'observe.ui';
  if (flag === 'off') return null;
  if ((value === undefined || value === null || value === false) && flag === undefined) return null;
  const doc = mapping(value === false || value === undefined || value === null ? {} : value, p, ['address', 'auth']);
  if (flag === undefined && doc['address'] === undefined) throw new GatewayConfigError(at(p, 'address'), 'required: HOST:PORT (e.g. 127.0.0.1:4319)');
  const address = flag !== undefined ? listenAddress(flag, '--ui') : listenAddress(doc['address'], at(p, 'address'));
  const auth = authConfig(doc['auth'], at(p, 'auth'));
  if (auth === null && !isLoopbackHost(address.host)) {
    throw new GatewayConfigError(
      at(p, 'auth'),
      `required when the inspector listens beyond loopback (${show(address.host)}): it shows tenants, services and their data; set auth.token or auth.basic, or listen on 127.0.0.1`,
    );
  }
  return Object.freeze({ host: address.host, port: address.port, auth });
}

/**
 * `observe.metrics`: `GET /metrics` on an address of its own. Absent: no address of its own (the
 * inspector's serves it, and the OTLP HTTP receiver's while that is on loopback: docs/gateway-metrics.md).
 */
export function metricsEndpointConfig(value: unknown): ObserveEndpointConfig | null {
  const p = 'observe.metrics';
  if (value === undefined || value === null) return null;
  const doc = mapping(value, p, ['address', 'auth']);
  if (doc['address'] === undefined) throw new GatewayConfigError(at(p, 'address'), 'required: HOST:PORT (e.g. 127.0.0.1:9464)');
  const address = listenAddress(doc['address'], at(p, 'address'));
  return Object.freeze({ host: address.host, port: address.port, auth: authConfig(doc['auth'], at(p, 'auth')) });
}

function secret(value: unknown, p: string): string {
  // Never echo the secret itself in an error.
  if (typeof value !== 'string' || value.length < MIN_SECRET)
    throw new GatewayConfigError(p, `expected a string of at least ${MIN_SECRET} characters (value hidden)`);
  return value;
}

function authConfig(value: unknown, p: string): ObserveAuth | null {
  if (value === undefined || value === null) return null;
  const doc = mapping(value, p, ['token', 'basic']);
  if ((doc['token'] === undefined) === (doc['basic'] === undefined)) throw new GatewayConfigError(p, 'expected exactly one of token, basic');
  if (doc['token'] !== undefined) {
    return Object.freeze({
      kind: 'token',
      digest: createHash('sha256')
        .update(secret(doc['token'], at(p, 'token')))
        .digest(),
    });
  }
  const basic = mapping(doc['basic'], at(p, 'basic'), ['username', 'password']);
  const username = string(basic['username'] ?? '', at(at(p, 'basic'), 'username'), { nonEmpty: true });
  if (username.includes(':'))
    throw new GatewayConfigError(at(at(p, 'basic'), 'username'), 'must not contain ":" (HTTP basic separates user and password with it)');
  const password = secret(basic['password'], at(at(p, 'basic'), 'password'));
  return Object.freeze({ kind: 'basic', username, digest: createHash('sha256').update(`${username}:${password}`).digest() });
}
