/**
 * The gateway configuration: the YAML file, the command-line flags on top of it, and
 * the embedded defaults, validated once into a frozen, fully populated
 * {@link GatewayConfig}. Every problem is a {@link GatewayConfigError} naming the key
 * path; the CLI prints it and exits with code 2 before listening.
 *
 * Secrets never stay in the resolved config: tenant tokens and API keys are kept only
 * as SHA-256 digests (auth.ts compares digests in constant time).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { DEFAULT_RETRY_POLICY } from '../export/retry.js';
import type { RetryPolicy } from '../export/retry.js';
import type { Signal } from '../otlp/types.js';
import { TransportOptionError } from '../transport/errors.js';
import { validateTransportOptions } from '../transport/options.js';
import type { UpstreamProtocol, Verbosity } from './events.js';
import {
  at,
  byteSize,
  expandEnvDeep,
  GatewayConfigError,
  list,
  listenAddress,
  mapping,
  millis,
  number,
  oneOf,
  show,
  string,
} from './config-values.js';
import type { ListenAddress } from './config-values.js';

// The YAML parser is loaded on first use: a gateway started from flags alone never needs it
// (it is ~8 MiB resident). Its Node build is CommonJS, so a synchronous require keeps
// loadGatewayConfig synchronous.
const requireModule = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (requireModule('yaml') as typeof Yaml).parse(text);
}

export { GatewayConfigError } from './config-values.js';
export type { ListenAddress } from './config-values.js';

/** A receiver's listen address and optional TLS (PEM contents, read from the files at load time). */
export interface ReceiverConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string } | null;
}

/** One upstream, ready for a transport and a backend (upstream.ts). */
export interface UpstreamConfig {
  /** Unique name: the config key; a tenant's own upstream is `<tenant>/<key>`. */
  readonly name: string;
  readonly protocol: UpstreamProtocol;
  /** Base URL handed to the transport (`http(s)://host:port[/path]`). */
  readonly endpoint: string;
  /** The endpoint as configured (`grpc://…`), for display; never holds credentials. */
  readonly display: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  readonly timeoutMillis: number;
  readonly maxConcurrency: number;
  readonly queue: { readonly maxBytes: number; readonly maxRequests: number };
  /** Largest merged request to a protobuf upstream; 0: never merge (docs/gateway.md, Forwarding). */
  readonly batchMaxBytes: number;
  readonly retry: RetryPolicy;
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Owning tenant, or undefined for a shared upstream. */
  readonly tenant: string | undefined;
}

/** A credential, kept as the SHA-256 digest of the secret. */
export interface Credential {
  readonly kind: 'bearer' | 'apiKey';
  readonly digest: Uint8Array;
}

export interface TenantConfig {
  readonly name: string;
  readonly credentials: readonly Credential[];
  /** The tenant's own upstreams: they get all of this tenant's data and nobody else's. */
  readonly upstreams: readonly UpstreamConfig[];
}

/** One resource attribute condition: exact value, or a `*` glob compiled to `regex`. */
export interface AttributeMatch {
  readonly key: string;
  readonly pattern: string;
  /** null for an exact match. */
  readonly regex: RegExp | null;
}

export interface RouteConfig {
  readonly name: string;
  readonly signals: ReadonlySet<Signal>;
  /** null: any tenant (and requests without one). */
  readonly tenants: ReadonlySet<string> | null;
  /** All must hold (AND); empty: every resource. */
  readonly match: readonly AttributeMatch[];
  /** Names of shared upstreams. */
  readonly upstreams: readonly string[];
}

export interface LimitsConfig {
  /** Largest request body, as received and again after gunzip. */
  readonly maxRequestBytes: number;
  /** Backpressure threshold on the bytes queued across all upstreams. */
  readonly maxQueuedBytes: number;
  /** Retry-After / RetryInfo delay sent with a backpressure refusal. */
  readonly retryAfterMillis: number;
}

export interface SelfTelemetryConfig {
  readonly intervalMillis: number;
  readonly resource: Readonly<Record<string, string>>;
  readonly upstreams: readonly UpstreamConfig[];
}

/** The validated, frozen configuration. */
export interface GatewayConfig {
  /** null: the receiver is off. */
  readonly grpc: ReceiverConfig | null;
  readonly http: ReceiverConfig | null;
  /** Lower-case header carrying API keys. */
  readonly apiKeyHeader: string;
  /** Empty: authentication is off. */
  readonly tenants: readonly TenantConfig[];
  readonly upstreams: readonly UpstreamConfig[];
  /** Empty: every request goes to every shared upstream. */
  readonly routes: readonly RouteConfig[];
  readonly limits: LimitsConfig;
  readonly drainTimeoutMillis: number;
  readonly observe: { readonly verbosity: Verbosity; readonly intervalMillis: number };
  readonly selfTelemetry: SelfTelemetryConfig;
}

/** Command-line settings, applied over the file. */
export interface GatewayFlags {
  /** `HOST:PORT`, or `off`. */
  readonly grpc?: string;
  readonly http?: string;
  /** Added to the file's shared upstreams, in order. */
  readonly forward?: readonly string[];
  readonly verbosity?: string;
}

/** Defaults, with the reason for each. */
export const GATEWAY_DEFAULTS = Object.freeze({
  /** The OTLP spec's ports, on loopback: nothing is exposed unless asked. */
  grpcAddress: '127.0.0.1:4317',
  httpAddress: '127.0.0.1:4318',
  /** A common name for API-key headers; configurable for existing clients. */
  apiKeyHeader: 'x-api-key',
  /** 64 MiB: far above the 4 MiB gRPC default and the spec's 20 MiB recommendation, below harm. */
  maxRequestBytes: 64 * 1024 * 1024,
  /**
   * 256 MiB across upstreams: a few minutes of a busy fleet's data while upstreams are slow;
   * past it clients are told to back off (they keep the data) instead of the gateway growing.
   */
  maxQueuedBytes: 256 * 1024 * 1024,
  /** 1 s: short enough to resume quickly after a spike; clients add their own backoff. */
  retryAfterMillis: 1000,
  /** 10 s: under the 30 s Kubernetes grace period, with room to print the report. */
  drainTimeoutMillis: 10_000,
  verbosity: 'normal' as Verbosity,
  /** 10 s summaries: readable while watching, quiet enough for a log. */
  observeIntervalMillis: 10_000,
  /** 60 s: the OTel SDK's default export interval. */
  selfTelemetryIntervalMillis: 60_000,
  /** Per upstream: more than an application's 1, since a gateway carries many clients' traffic. */
  maxConcurrency: 4,
  /**
   * Per-upstream queue: 64 MiB / 8192 requests. A healthy upstream that falls behind makes clients
   * back off before its queue overflows; a dead one fills its own queue and drops its oldest data
   * instead of pushing back on clients, so the healthy upstreams keep receiving.
   */
  queueMaxBytes: 64 * 1024 * 1024,
  queueMaxRequests: 8192,
  /**
   * Per protobuf upstream, merged requests of up to 1 MiB: a backlog of small requests goes out as
   * few large ones (one exchange and a few syscalls instead of one each, the gateway's main
   * per-request cost); 1 MiB stays well under the 4 MiB default receive limit of gRPC servers
   * (the Collector's included) and the usual HTTP body limits.
   */
  batchMaxBytes: 1024 * 1024,
  /** The OTLP exporter default. */
  timeoutMillis: 10_000,
});

const SIGNALS: readonly Signal[] = ['metrics', 'logs', 'traces'];
const ALL_SIGNALS: ReadonlySet<Signal> = new Set(SIGNALS);
const MAX_BYTES = 2 ** 32 - 1;
const MAX_MS = 2 ** 31 - 1;
const NAME = /^[A-Za-z0-9_.:-]+$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Where the configuration comes from. */
export interface LoadOptions {
  /** A YAML file path; relative TLS file paths in it resolve against its directory. */
  readonly file?: string;
  /** Already parsed document (tests), instead of `file`. */
  readonly document?: unknown;
  readonly flags?: GatewayFlags;
  /** For `${ENV}` expansion. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative file paths when `document` is given. Default the working directory. */
  readonly baseDir?: string;
}

/** Reads, expands, merges and validates; throws {@link GatewayConfigError}. */
export function loadGatewayConfig(options: LoadOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  let doc: unknown = options.document ?? {};
  let baseDir = options.baseDir ?? process.cwd();
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (e) {
      throw new GatewayConfigError('--config', `cannot read ${show(options.file)}: ${errorText(e)}`);
    }
    try {
      doc = parseYaml(text) ?? {};
    } catch (e) {
      throw new GatewayConfigError('', `${options.file} is not valid YAML: ${errorText(e)}`);
    }
    baseDir = path.dirname(path.resolve(options.file));
  }
  return validateGatewayConfig(expandEnvDeep(doc, env), options.flags ?? {}, baseDir);
}

/** Validates an already expanded document plus flags. */
export function validateGatewayConfig(document: unknown, flags: GatewayFlags, baseDir: string): GatewayConfig {
  const root = mapping(document, '', [
    'receivers',
    'auth',
    'tenants',
    'upstreams',
    'routes',
    'limits',
    'drainTimeout',
    'observe',
    'selfTelemetry',
  ]);
  const files = (value: unknown, p: string): string => readPem(value, p, baseDir);

  const receivers = mapping(root['receivers'] ?? {}, 'receivers', ['grpc', 'http']);
  const grpc = receiver(receivers['grpc'], 'receivers.grpc', GATEWAY_DEFAULTS.grpcAddress, flags.grpc, '--grpc', files);
  const http = receiver(receivers['http'], 'receivers.http', GATEWAY_DEFAULTS.httpAddress, flags.http, '--http', files);

  const auth = mapping(root['auth'] ?? {}, 'auth', ['apiKeyHeader']);
  const apiKeyHeader = headerName(auth['apiKeyHeader'] ?? GATEWAY_DEFAULTS.apiKeyHeader, 'auth.apiKeyHeader');
  if (apiKeyHeader === 'authorization') throw new GatewayConfigError('auth.apiKeyHeader', 'Authorization carries bearer tokens; pick another header');

  const names = new Set<string>();
  const upstreams = upstreamMap(root['upstreams'], 'upstreams', undefined, files, names);
  (flags.forward ?? []).forEach((url, i) => {
    const cfg = forwardUpstream(url, `--forward[${i}]`, names);
    upstreams.push(cfg);
  });

  const tenants: TenantConfig[] = [];
  const seenSecrets = new Map<string, string>();
  const tenantsDoc = root['tenants'] === undefined || root['tenants'] === null ? {} : mapping(root['tenants'], 'tenants');
  for (const [name, value] of Object.entries(tenantsDoc)) {
    const p = at('tenants', name);
    if (!NAME.test(name)) throw new GatewayConfigError(p, 'tenant names use letters, digits, _ . : -');
    const t = mapping(value, p, ['tokens', 'apiKeys', 'upstreams']);
    const credentials: Credential[] = [];
    for (const [key, kind] of [
      ['tokens', 'bearer'],
      ['apiKeys', 'apiKey'],
    ] as const) {
      if (t[key] === undefined) continue;
      list(t[key], at(p, key)).forEach((secret, i) => {
        const sp = at(at(p, key), i);
        // Never echo the secret itself in an error.
        if (typeof secret !== 'string' || secret.length < 8) throw new GatewayConfigError(sp, 'expected a string of at least 8 characters (value hidden)');
        const id = `${kind}:${secret}`;
        const other = seenSecrets.get(id);
        if (other !== undefined) throw new GatewayConfigError(sp, `the same credential is already given to tenant ${show(other)} (value hidden)`);
        seenSecrets.set(id, name);
        credentials.push({ kind, digest: createHash('sha256').update(secret).digest() });
      });
    }
    if (credentials.length === 0) throw new GatewayConfigError(p, 'a tenant needs at least one of tokens, apiKeys');
    const own = upstreamMap(t['upstreams'], at(p, 'upstreams'), name, files, names);
    tenants.push(Object.freeze({ name, credentials: Object.freeze(credentials), upstreams: Object.freeze(own) }));
  }

  const tenantNames = new Set(tenants.map((t) => t.name));
  const sharedNames = new Set(upstreams.map((u) => u.name));
  const routes: RouteConfig[] = [];
  if (root['routes'] !== undefined && root['routes'] !== null) {
    list(root['routes'], 'routes').forEach((value, i) => routes.push(route(value, at('routes', i), sharedNames, tenantNames)));
  }

  const limitsDoc = mapping(root['limits'] ?? {}, 'limits', ['maxRequestBytes', 'maxQueuedBytes', 'retryAfter']);
  const limits: LimitsConfig = Object.freeze({
    maxRequestBytes: opt(limitsDoc['maxRequestBytes'], GATEWAY_DEFAULTS.maxRequestBytes, (v) => byteSize(v, 'limits.maxRequestBytes', 1, MAX_BYTES)),
    maxQueuedBytes: opt(limitsDoc['maxQueuedBytes'], GATEWAY_DEFAULTS.maxQueuedBytes, (v) =>
      byteSize(v, 'limits.maxQueuedBytes', 1, Number.MAX_SAFE_INTEGER),
    ),
    retryAfterMillis: opt(limitsDoc['retryAfter'], GATEWAY_DEFAULTS.retryAfterMillis, (v) => millis(v, 'limits.retryAfter', 1000, 3_600_000)),
  });

  const observeDoc = mapping(root['observe'] ?? {}, 'observe', ['verbosity', 'interval']);
  const verbosityValue = flags.verbosity ?? observeDoc['verbosity'] ?? GATEWAY_DEFAULTS.verbosity;
  const observe = Object.freeze({
    verbosity: oneOf<Verbosity>(verbosityValue, flags.verbosity !== undefined ? '--verbosity' : 'observe.verbosity', ['basic', 'normal', 'detailed']),
    intervalMillis: opt(observeDoc['interval'], GATEWAY_DEFAULTS.observeIntervalMillis, (v) => millis(v, 'observe.interval', 100, MAX_MS)),
  });

  const selfDoc = mapping(root['selfTelemetry'] ?? {}, 'selfTelemetry', ['interval', 'resource', 'upstreams']);
  const resource: Record<string, string> = { 'service.name': 'otlp-fanout-gateway' };
  if (selfDoc['resource'] !== undefined) {
    for (const [k, v] of Object.entries(mapping(selfDoc['resource'], 'selfTelemetry.resource'))) {
      resource[k] = string(v, at('selfTelemetry.resource', k));
    }
  }
  const selfTelemetry: SelfTelemetryConfig = Object.freeze({
    intervalMillis: opt(selfDoc['interval'], GATEWAY_DEFAULTS.selfTelemetryIntervalMillis, (v) => millis(v, 'selfTelemetry.interval', 100, MAX_MS)),
    resource: Object.freeze(resource),
    upstreams: Object.freeze(upstreamMap(selfDoc['upstreams'], 'selfTelemetry.upstreams', undefined, files, names)),
  });

  return Object.freeze({
    grpc,
    http,
    apiKeyHeader,
    tenants: Object.freeze(tenants),
    upstreams: Object.freeze(upstreams),
    routes: Object.freeze(routes),
    limits,
    drainTimeoutMillis: opt(root['drainTimeout'], GATEWAY_DEFAULTS.drainTimeoutMillis, (v) => millis(v, 'drainTimeout', 0, MAX_MS)),
    observe,
    selfTelemetry,
  });
}

function opt<T>(value: unknown, fallback: T, read: (v: unknown) => T): T {
  return value === undefined || value === null ? fallback : read(value);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function receiver(
  value: unknown,
  p: string,
  defaultAddress: string,
  flag: string | undefined,
  flagName: string,
  files: (v: unknown, p: string) => string,
): ReceiverConfig | null {
  if (flag === 'off') return null;
  if (value === false) {
    if (flag === undefined) return null;
    value = {};
  }
  const doc = mapping(value ?? {}, p, ['address', 'tls']);
  const address: ListenAddress =
    flag !== undefined ? listenAddress(flag, flagName) : listenAddress(doc['address'] ?? defaultAddress, at(p, 'address'));
  let tls: ReceiverConfig['tls'] = null;
  if (doc['tls'] !== undefined && doc['tls'] !== null) {
    const t = mapping(doc['tls'], at(p, 'tls'), ['certFile', 'keyFile']);
    if (t['certFile'] === undefined || t['keyFile'] === undefined) {
      throw new GatewayConfigError(at(p, 'tls'), 'a TLS receiver needs both certFile and keyFile');
    }
    tls = Object.freeze({ cert: files(t['certFile'], at(p, 'tls.certFile')), key: files(t['keyFile'], at(p, 'tls.keyFile')) });
  }
  return Object.freeze({ host: address.host, port: address.port, tls });
}

function readPem(value: unknown, p: string, baseDir: string): string {
  const file = string(value, p, { nonEmpty: true });
  let text: string;
  try {
    text = readFileSync(path.resolve(baseDir, file), 'utf8');
  } catch (e) {
    throw new GatewayConfigError(p, `cannot read ${show(file)}: ${errorText(e)}`);
  }
  if (!text.includes('-----BEGIN ')) throw new GatewayConfigError(p, `${show(file)} is not a PEM file`);
  return text;
}

function headerName(value: unknown, p: string): string {
  const name = string(value, p, { nonEmpty: true });
  if (!HEADER_NAME.test(name)) throw new GatewayConfigError(p, `${show(name)} is not a valid header name`);
  return name.toLowerCase();
}

function upstreamMap(
  value: unknown,
  p: string,
  tenant: string | undefined,
  files: (v: unknown, p: string) => string,
  names: Set<string>,
): UpstreamConfig[] {
  if (value === undefined || value === null) return [];
  const out: UpstreamConfig[] = [];
  for (const [key, doc] of Object.entries(mapping(value, p))) {
    const up = at(p, key);
    if (!NAME.test(key)) throw new GatewayConfigError(up, 'upstream names use letters, digits, _ . : -');
    const name = tenant === undefined ? key : `${tenant}/${key}`;
    if (names.has(name)) throw new GatewayConfigError(up, `an upstream named ${show(name)} already exists`);
    names.add(name);
    out.push(upstream(doc, up, name, tenant, files));
  }
  return out;
}

interface Target {
  readonly protocol: UpstreamProtocol;
  readonly endpoint: string;
  readonly display: string;
}

/**
 * grpc:// and grpcs:// are OTLP/gRPC (h2c or TLS); http:// and https:// are OTLP/HTTP
 * protobuf, or JSON with `?encoding=json`. An explicit `protocol` overrides the guess.
 */
function parseTarget(value: unknown, p: string, protocol: UpstreamProtocol | undefined): Target {
  const text = string(value, p, { nonEmpty: true });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayConfigError(p, `${show(text)} is not a URL; expected grpc://, grpcs://, http:// or https://HOST:PORT`);
  }
  if (url.username !== '' || url.password !== '') throw new GatewayConfigError(p, 'credentials in the URL are not supported; use headers');
  const scheme = url.protocol.slice(0, -1);
  if (!['grpc', 'grpcs', 'http', 'https'].includes(scheme)) {
    throw new GatewayConfigError(p, `scheme ${show(scheme)} is not supported; expected grpc, grpcs, http or https`);
  }
  const encoding = url.searchParams.get('encoding');
  if (encoding !== null && encoding !== 'json' && encoding !== 'protobuf') {
    throw new GatewayConfigError(p, `encoding=${show(encoding)} is not supported; expected json or protobuf`);
  }
  url.searchParams.delete('encoding');
  const grpcScheme = scheme === 'grpc' || scheme === 'grpcs';
  const resolved: UpstreamProtocol =
    protocol ?? (grpcScheme ? 'grpc' : encoding === 'json' ? 'http/json' : 'http/protobuf');
  if (grpcScheme && resolved !== 'grpc') throw new GatewayConfigError(p, `a ${scheme}:// endpoint is OTLP/gRPC, but protocol is ${resolved}`);
  if (resolved === 'grpc' && encoding === 'json') throw new GatewayConfigError(p, 'OTLP/gRPC has no JSON encoding');
  const secure = scheme === 'grpcs' || scheme === 'https';
  const hostPort = url.host;
  if (hostPort === '') throw new GatewayConfigError(p, 'the URL names no host');
  const pathPart = url.pathname === '/' ? '' : url.pathname;
  if (resolved === 'grpc' && pathPart !== '') throw new GatewayConfigError(p, 'an OTLP/gRPC endpoint has no path');
  const search = url.search;
  return {
    protocol: resolved,
    endpoint: `${secure ? 'https' : 'http'}://${hostPort}${pathPart}${search}`,
    display: `${scheme}://${hostPort}${pathPart}${search}${encoding === 'json' ? `${search === '' ? '?' : '&'}encoding=json` : ''}`,
  };
}

function forwardUpstream(url: string, p: string, names: Set<string>): UpstreamConfig {
  const target = parseTarget(url, p, undefined);
  // The URL is the name users recognise in summaries; a suffix keeps repeated URLs apart.
  let name = target.display;
  for (let n = 2; names.has(name); n++) name = `${target.display}#${n}`;
  names.add(name);
  return upstream({ endpoint: url }, p, name, undefined, () => '');
}

function upstream(
  value: unknown,
  p: string,
  name: string,
  tenant: string | undefined,
  files: (v: unknown, p: string) => string,
): UpstreamConfig {
  const doc = mapping(value, p, ['endpoint', 'protocol', 'headers', 'compression', 'timeout', 'maxConcurrency', 'queue', 'batch', 'retry', 'tls']);
  if (doc['endpoint'] === undefined) throw new GatewayConfigError(at(p, 'endpoint'), 'required');
  const protocol =
    doc['protocol'] === undefined ? undefined : oneOf<UpstreamProtocol>(doc['protocol'], at(p, 'protocol'), ['grpc', 'http/protobuf', 'http/json']);
  const target = parseTarget(doc['endpoint'], at(p, 'endpoint'), protocol);
  const headers: Record<string, string> = {};
  if (doc['headers'] !== undefined && doc['headers'] !== null) {
    for (const [k, v] of Object.entries(mapping(doc['headers'], at(p, 'headers')))) headers[k] = string(v, at(at(p, 'headers'), k));
  }
  const queue = mapping(doc['queue'] ?? {}, at(p, 'queue'), ['maxBytes', 'maxRequests']);
  const batch = mapping(doc['batch'] ?? {}, at(p, 'batch'), ['maxBytes']);
  const retryDoc = mapping(doc['retry'] ?? {}, at(p, 'retry'), ['initialBackoff', 'maxBackoff', 'multiplier', 'jitter', 'maxElapsed']);
  const rp = at(p, 'retry');
  const retry: RetryPolicy = Object.freeze({
    initialBackoffMillis: opt(retryDoc['initialBackoff'], DEFAULT_RETRY_POLICY.initialBackoffMillis, (v) => millis(v, at(rp, 'initialBackoff'), 1, MAX_MS)),
    maxBackoffMillis: opt(retryDoc['maxBackoff'], DEFAULT_RETRY_POLICY.maxBackoffMillis, (v) => millis(v, at(rp, 'maxBackoff'), 1, MAX_MS)),
    multiplier: opt(retryDoc['multiplier'], DEFAULT_RETRY_POLICY.multiplier, (v) => number(v, at(rp, 'multiplier'), 1, 10, false)),
    jitter: opt(retryDoc['jitter'], DEFAULT_RETRY_POLICY.jitter, (v) => number(v, at(rp, 'jitter'), 0, 1, false)),
    maxElapsedMillis: opt(retryDoc['maxElapsed'], DEFAULT_RETRY_POLICY.maxElapsedMillis, (v) => millis(v, at(rp, 'maxElapsed'), 0, MAX_MS)),
  });
  const tlsDoc = mapping(doc['tls'] ?? {}, at(p, 'tls'), ['caFile', 'certFile', 'keyFile']);
  const tls: { ca?: string; cert?: string; key?: string } = {};
  if (tlsDoc['caFile'] !== undefined) tls.ca = files(tlsDoc['caFile'], at(p, 'tls.caFile'));
  if (tlsDoc['certFile'] !== undefined) tls.cert = files(tlsDoc['certFile'], at(p, 'tls.certFile'));
  if (tlsDoc['keyFile'] !== undefined) tls.key = files(tlsDoc['keyFile'], at(p, 'tls.keyFile'));
  const cfg: UpstreamConfig = Object.freeze({
    name,
    protocol: target.protocol,
    endpoint: target.endpoint,
    display: target.display,
    headers: Object.freeze(headers),
    compression: opt(doc['compression'], 'none' as const, (v) => oneOf<'gzip' | 'none'>(v, at(p, 'compression'), ['gzip', 'none'])),
    timeoutMillis: opt(doc['timeout'], GATEWAY_DEFAULTS.timeoutMillis, (v) => millis(v, at(p, 'timeout'), 1, MAX_MS)),
    maxConcurrency: opt(doc['maxConcurrency'], GATEWAY_DEFAULTS.maxConcurrency, (v) => number(v, at(p, 'maxConcurrency'), 1, 1024, true)),
    queue: Object.freeze({
      maxBytes: opt(queue['maxBytes'], GATEWAY_DEFAULTS.queueMaxBytes, (v) => byteSize(v, at(p, 'queue.maxBytes'), 1, Number.MAX_SAFE_INTEGER)),
      maxRequests: opt(queue['maxRequests'], GATEWAY_DEFAULTS.queueMaxRequests, (v) => number(v, at(p, 'queue.maxRequests'), 1, 10_000_000, true)),
    }),
    batchMaxBytes: opt(batch['maxBytes'], GATEWAY_DEFAULTS.batchMaxBytes, (v) => byteSize(v, at(p, 'batch.maxBytes'), 0, MAX_BYTES)),
    retry,
    tls: Object.freeze(tls),
    tenant,
  });
  // The transports validate headers, TLS pairs and URLs themselves; report their verdict at the config path.
  try {
    const common = { endpoint: cfg.endpoint, headers: cfg.headers, compression: cfg.compression, timeoutMillis: cfg.timeoutMillis, tls: cfg.tls };
    validateTransportOptions(common, cfg.protocol === 'grpc' ? 'grpc' : 'http');
  } catch (e) {
    if (e instanceof TransportOptionError) {
      const field = e.field === 'endpoint' ? 'endpoint' : e.field;
      throw new GatewayConfigError(at(p, field), e.message.replace(/^invalid transport option \S+ = /, ''));
    }
    throw e;
  }
  return cfg;
}

function route(value: unknown, p: string, upstreams: ReadonlySet<string>, tenants: ReadonlySet<string>): RouteConfig {
  const doc = mapping(value, p, ['name', 'signals', 'tenants', 'match', 'upstreams']);
  const name = doc['name'] === undefined ? p : string(doc['name'], at(p, 'name'), { nonEmpty: true });
  const signals =
    doc['signals'] === undefined
      ? ALL_SIGNALS
      : new Set(list(doc['signals'], at(p, 'signals')).map((s, i) => oneOf<Signal>(s, at(at(p, 'signals'), i), SIGNALS)));
  let routeTenants: Set<string> | null = null;
  if (doc['tenants'] !== undefined) {
    routeTenants = new Set();
    list(doc['tenants'], at(p, 'tenants')).forEach((t, i) => {
      const tp = at(at(p, 'tenants'), i);
      const tn = string(t, tp, { nonEmpty: true });
      if (!tenants.has(tn)) throw new GatewayConfigError(tp, `no tenant named ${show(tn)} is configured`);
      routeTenants!.add(tn);
    });
  }
  const match: AttributeMatch[] = [];
  if (doc['match'] !== undefined && doc['match'] !== null) {
    for (const [key, v] of Object.entries(mapping(doc['match'], at(p, 'match')))) {
      const pattern = string(v, at(at(p, 'match'), key));
      match.push(Object.freeze({ key, pattern, regex: pattern.includes('*') ? globToRegex(pattern) : null }));
    }
  }
  if (doc['upstreams'] === undefined) throw new GatewayConfigError(at(p, 'upstreams'), 'required: the names of the upstreams this route sends to');
  const targets = list(doc['upstreams'], at(p, 'upstreams')).map((u, i) => {
    const up = at(at(p, 'upstreams'), i);
    const n = string(u, up, { nonEmpty: true });
    if (!upstreams.has(n)) {
      throw new GatewayConfigError(up, `no shared upstream named ${show(n)}; known: ${[...upstreams].join(', ') || '(none)'}`);
    }
    return n;
  });
  return Object.freeze({ name, signals, tenants: routeTenants, match: Object.freeze(match), upstreams: Object.freeze(targets) });
}

/** `*` matches any run of characters (empty included); everything else is literal. */
export function globToRegex(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}
