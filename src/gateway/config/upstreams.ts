/**
 * Upstreams: the `upstreams` sections (shared, a tenant's own, self-telemetry's) and
 * `--forward` URLs, each validated into an {@link UpstreamConfig} ready for a transport and
 * a backend (forward/upstream.ts). The endpoint's URL scheme picks the protocol.
 */
import { DEFAULT_RETRY_POLICY } from '../../export/retry.js';
import type { RetryPolicy } from '../../export/retry.js';
import type { QueueLimits } from '../../export/backend.js';
import { COMPRESSIONS, DEFAULT_COMPRESSION } from '../../transport/options.js';
import type { Compression, TlsOptions } from '../../transport/options.js';
import { TransportOptionError } from '../../transport/errors.js';
import { PROTOCOLS, UPSTREAM_PROTOCOL_NAMES, URL_SCHEMES, validateProtocolOptions } from '../../transport/protocols.js';
import type { UpstreamProtocol, UrlScheme } from '../../transport/protocols.js';
import { at, GatewayConfigError, problemAt, show } from './config-error.js';
import { processorConfigs, TEMPORALITY_DEFAULTS, temporalityConfig } from './processors.js';
import type { ProcessorConfig, TemporalityConfig } from './processors.js';
import { GATEWAY_DEFAULTS, MAX_BYTES, MAX_MS, NAME } from './defaults.js';
import { byteSize, formatAddress, listenAddress, mapping, millis, number, oneOf, optional, sameConfigData, string } from './values.js';
import type { FileReader } from './values.js';

/** One upstream, ready for a transport and a backend (forward/upstream.ts). */
export interface UpstreamConfig {
  /** Unique name: the config key; a tenant's own upstream is `<tenant>/<key>`. */
  readonly name: string;
  readonly protocol: UpstreamProtocol;
  /** Base URL handed to the transport (`http(s)://host:port[/path]`). */
  readonly endpoint: string;
  /** The endpoint as configured (`grpc://…`), for display; never holds credentials. */
  readonly display: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: Compression;
  readonly timeoutMillis: number;
  readonly maxConcurrency: number;
  readonly queue: QueueLimits;
  /** Largest merged request to a protobuf upstream; 0: never merge (docs/gateway.md, Forwarding). */
  readonly batchMaxBytes: number;
  readonly retry: RetryPolicy;
  /** PEM text read from the configured files; no `insecure`: the URL's scheme decides. */
  readonly tls: Pick<TlsOptions, 'ca' | 'cert' | 'key'>;
  /** Owning tenant, or undefined for a shared upstream. */
  readonly tenant: string | undefined;
  /** Applied to everything forwarded to it, after the routes' (forward/processors/); empty: none. */
  readonly processors: readonly ProcessorConfig[];
  /** Metrics temporality the upstream gets (forward/processors/temporality.ts); undefined: as received. */
  readonly temporality: TemporalityConfig | undefined;
  /** `prometheus/remote-write` only: external labels (flat map); undefined for other protocols. */
  readonly remoteWrite?: { readonly externalLabels: Readonly<Record<string, string>> } | undefined;
  /** `kind: prometheus` (protocol `prometheus/scrape`) only: the page it serves. */
  readonly scrape?: ScrapeConfig | undefined;
}

/** A scrape upstream's page (docs/gateway.md, Prometheus). */
export interface ScrapeConfig {
  /** `host:port` to listen on. */
  readonly address: string;
  readonly path: string;
  readonly stalenessMillis: number;
  readonly maxSeries: number;
  readonly auth: { readonly basic?: { readonly username: string; readonly password: string }; readonly bearerToken?: string } | undefined;
}

/** Defaults of a scrape upstream, with their reasons. */
export const SCRAPE_DEFAULTS = Object.freeze({
  /** The conventional path of every scrape config. */
  path: '/metrics',
  /** 5 min, the Collector's Prometheus exporter's `metric_expiration`: a few missed pushes do not drop a series. */
  stalenessMillis: 5 * 60_000,
  /** 50,000 series: a fleet's worth of services on one page, ~100 MiB at most with histograms; past it new series are dropped, counted. */
  maxSeries: 50_000,
});

/**
 * Whether two upstream configs are equal, field by field: an upstream whose config did not
 * change can be kept across pipelines (its queue, retries and connections with it).
 * `processors` and `temporality` are not compared: they belong to the pipeline, which compiles
 * them from its own config (the conversion state is handed over by the pipeline, keyed by the
 * upstream's name and temporality settings), so changing them never drops a queue.
 */
export function sameUpstreamConfig(a: UpstreamConfig, b: UpstreamConfig): boolean {
  return a === b || sameConfigData({ ...a, processors: null, temporality: null }, { ...b, processors: null, temporality: null });
}

/** An `upstreams` mapping; `names` holds every upstream name so far (they are unique gateway-wide). */
export function upstreamMap(value: unknown, p: string, tenant: string | undefined, files: FileReader, names: Set<string>): UpstreamConfig[] {
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

/** A `--forward` URL as a shared upstream named after it. */
export function forwardUpstream(url: string, p: string, names: Set<string>): UpstreamConfig {
  const target = parseTarget(url, p, undefined);
  // The URL is the name users recognise in summaries; a suffix keeps repeated URLs apart.
  let name = target.display;
  for (let n = 2; names.has(name); n++) name = `${target.display}#${n}`;
  names.add(name);
  return upstream({ endpoint: url }, p, name, undefined, () => '');
}

interface Target {
  readonly protocol: UpstreamProtocol;
  readonly endpoint: string;
  readonly display: string;
}

/**
 * The endpoint's scheme picks the protocol (transport/protocols.ts, URL_SCHEMES): grpc:// and
 * grpcs:// are OTLP/gRPC (h2c or TLS); http:// and https:// are OTLP/HTTP protobuf, or JSON
 * with `?encoding=json`. An explicit `protocol` overrides the guess where the scheme allows it.
 */
function parseTarget(value: unknown, p: string, protocol: UpstreamProtocol | undefined): Target {
  const text = string(value, p, { nonEmpty: true });
  const schemes = Object.keys(URL_SCHEMES);
  const orList = (items: readonly string[]): string => `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayConfigError(p, `${show(text)} is not a URL; expected ${orList(schemes.map((s) => `${s}://`))}HOST:PORT`);
  }
  if (url.username !== '' || url.password !== '') throw new GatewayConfigError(p, 'credentials in the URL are not supported; use headers');
  const scheme = url.protocol.slice(0, -1);
  if (!Object.hasOwn(URL_SCHEMES, scheme)) {
    throw new GatewayConfigError(p, `scheme ${show(scheme)} is not supported; expected ${orList(schemes)}`);
  }
  const implied = URL_SCHEMES[scheme as UrlScheme];
  const encoding = url.searchParams.get('encoding');
  if (encoding !== null && encoding !== 'json' && encoding !== 'protobuf') {
    throw new GatewayConfigError(p, `encoding=${show(encoding)} is not supported; expected json or protobuf`);
  }
  url.searchParams.delete('encoding');
  const resolved: UpstreamProtocol = protocol ?? (implied.protocol === 'http/protobuf' && encoding === 'json' ? 'http/json' : implied.protocol);
  if (!PROTOCOLS[resolved].schemes.includes(scheme as UrlScheme)) {
    const what = implied.protocol === 'grpc' ? 'OTLP/gRPC' : implied.protocol === 'prometheus/remote-write' ? 'Prometheus remote write' : 'OTLP/HTTP';
    throw new GatewayConfigError(p, `a ${scheme}:// endpoint is ${what}, but protocol is ${resolved}`);
  }
  if (encoding === 'json' && PROTOCOLS[resolved].transport === 'grpc') throw new GatewayConfigError(p, 'OTLP/gRPC has no JSON encoding');
  if (encoding === 'json' && resolved === 'prometheus/remote-write') throw new GatewayConfigError(p, 'Prometheus remote write has no JSON encoding');
  const hostPort = url.host;
  if (hostPort === '') throw new GatewayConfigError(p, 'the URL names no host');
  const pathPart = url.pathname === '/' ? '' : url.pathname;
  if (PROTOCOLS[resolved].transport === 'grpc' && pathPart !== '') throw new GatewayConfigError(p, 'an OTLP/gRPC endpoint has no path');
  const search = url.search;
  return {
    protocol: resolved,
    endpoint: `${implied.secure ? 'https' : 'http'}://${hostPort}${pathPart}${search}`,
    display: `${scheme}://${hostPort}${pathPart}${search}${encoding === 'json' ? `${search === '' ? '?' : '&'}encoding=json` : ''}`,
  };
}

function upstream(value: unknown, p: string, name: string, tenant: string | undefined, files: FileReader): UpstreamConfig {
  const kind = mapping(value, p)['kind'];
  if (kind !== undefined && kind !== null && oneOf(kind, at(p, 'kind'), ['otlp', 'prometheus']) === 'prometheus')
    return scrapeUpstream(value, p, name, tenant);
  const doc = mapping(value, p, [
    'kind',
    'endpoint',
    'protocol',
    'headers',
    'compression',
    'timeout',
    'maxConcurrency',
    'queue',
    'batch',
    'retry',
    'tls',
    'processors',
    'temporality',
    'externalLabels',
    'basicAuth',
  ]);
  if (doc['endpoint'] === undefined) throw new GatewayConfigError(at(p, 'endpoint'), 'required');
  const protocol = doc['protocol'] === undefined ? undefined : oneOf<UpstreamProtocol>(doc['protocol'], at(p, 'protocol'), UPSTREAM_PROTOCOL_NAMES);
  const target = parseTarget(doc['endpoint'], at(p, 'endpoint'), protocol);
  const remote = target.protocol === 'prometheus/remote-write';
  for (const key of ['externalLabels', 'basicAuth']) {
    if (!remote && doc[key] !== undefined) throw new GatewayConfigError(at(p, key), 'only for protocol prometheus/remote-write');
  }
  if (remote && doc['compression'] !== undefined)
    throw new GatewayConfigError(at(p, 'compression'), 'remote write bodies are always snappy-compressed');
  const headers: Record<string, string> = {};
  if (doc['headers'] !== undefined && doc['headers'] !== null) {
    for (const [k, v] of Object.entries(mapping(doc['headers'], at(p, 'headers')))) headers[k] = string(v, at(at(p, 'headers'), k));
  }
  if (doc['basicAuth'] !== undefined && doc['basicAuth'] !== null) {
    if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
      throw new GatewayConfigError(at(p, 'basicAuth'), 'give basicAuth or an authorization header, not both');
    }
    const auth = basicAuth(doc['basicAuth'], at(p, 'basicAuth'));
    headers['authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }
  const externalLabels: Record<string, string> = {};
  if (doc['externalLabels'] !== undefined && doc['externalLabels'] !== null) {
    for (const [k, v] of Object.entries(mapping(doc['externalLabels'], at(p, 'externalLabels')))) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith('__')) {
        throw new GatewayConfigError(at(p, 'externalLabels'), `${show(k)} is not a label name (letters, digits, _; not starting with a digit or __)`);
      }
      externalLabels[k] = string(v, at(at(p, 'externalLabels'), k));
    }
  }
  const queue = mapping(doc['queue'] ?? {}, at(p, 'queue'), ['maxBytes', 'maxRequests']);
  const batch = mapping(doc['batch'] ?? {}, at(p, 'batch'), ['maxBytes']);
  const retryDoc = mapping(doc['retry'] ?? {}, at(p, 'retry'), ['initialBackoff', 'maxBackoff', 'multiplier', 'jitter', 'maxElapsed']);
  const rp = at(p, 'retry');
  const retry: RetryPolicy = Object.freeze({
    initialBackoffMillis: optional(retryDoc['initialBackoff'], DEFAULT_RETRY_POLICY.initialBackoffMillis, (v) =>
      millis(v, at(rp, 'initialBackoff'), 1, MAX_MS),
    ),
    maxBackoffMillis: optional(retryDoc['maxBackoff'], DEFAULT_RETRY_POLICY.maxBackoffMillis, (v) => millis(v, at(rp, 'maxBackoff'), 1, MAX_MS)),
    multiplier: optional(retryDoc['multiplier'], DEFAULT_RETRY_POLICY.multiplier, (v) => number(v, at(rp, 'multiplier'), 1, 10, false)),
    jitter: optional(retryDoc['jitter'], DEFAULT_RETRY_POLICY.jitter, (v) => number(v, at(rp, 'jitter'), 0, 1, false)),
    maxElapsedMillis: optional(retryDoc['maxElapsed'], DEFAULT_RETRY_POLICY.maxElapsedMillis, (v) => millis(v, at(rp, 'maxElapsed'), 0, MAX_MS)),
  });
  const tlsDoc = mapping(doc['tls'] ?? {}, at(p, 'tls'), ['caFile', 'certFile', 'keyFile']);
  const tls: { -readonly [K in keyof UpstreamConfig['tls']]: string } = {};
  if (tlsDoc['caFile'] !== undefined) tls.ca = files(tlsDoc['caFile'], at(p, 'tls.caFile'));
  if (tlsDoc['certFile'] !== undefined) tls.cert = files(tlsDoc['certFile'], at(p, 'tls.certFile'));
  if (tlsDoc['keyFile'] !== undefined) tls.key = files(tlsDoc['keyFile'], at(p, 'tls.keyFile'));
  const cfg: UpstreamConfig = Object.freeze({
    name,
    protocol: target.protocol,
    endpoint: target.endpoint,
    display: target.display,
    headers: Object.freeze(headers),
    compression: optional(doc['compression'], DEFAULT_COMPRESSION, (v) => oneOf<Compression>(v, at(p, 'compression'), COMPRESSIONS)),
    timeoutMillis: optional(doc['timeout'], GATEWAY_DEFAULTS.timeoutMillis, (v) => millis(v, at(p, 'timeout'), 1, MAX_MS)),
    maxConcurrency: optional(doc['maxConcurrency'], GATEWAY_DEFAULTS.maxConcurrency, (v) => number(v, at(p, 'maxConcurrency'), 1, 1024, true)),
    queue: Object.freeze({
      maxBytes: optional(queue['maxBytes'], GATEWAY_DEFAULTS.queue.maxBytes, (v) => byteSize(v, at(p, 'queue.maxBytes'), 1, Number.MAX_SAFE_INTEGER)),
      maxRequests: optional(queue['maxRequests'], GATEWAY_DEFAULTS.queue.maxRequests, (v) =>
        number(v, at(p, 'queue.maxRequests'), 1, 10_000_000, true),
      ),
    }),
    batchMaxBytes: optional(batch['maxBytes'], GATEWAY_DEFAULTS.batchMaxBytes, (v) => byteSize(v, at(p, 'batch.maxBytes'), 0, MAX_BYTES)),
    retry,
    tls: Object.freeze(tls),
    tenant,
    processors: processorConfigs(doc['processors'], at(p, 'processors')),
    temporality: remote
      ? remoteWriteTemporality(doc['temporality'], at(p, 'temporality'))
      : temporalityConfig(doc['temporality'], at(p, 'temporality')),
    ...(remote ? { remoteWrite: Object.freeze({ externalLabels: Object.freeze(externalLabels) }) } : {}),
  });
  // The transports validate headers, TLS pairs and URLs themselves; report their verdict at the config path.
  try {
    const common = { endpoint: cfg.endpoint, headers: cfg.headers, compression: cfg.compression, timeoutMillis: cfg.timeoutMillis, tls: cfg.tls };
    validateProtocolOptions(cfg.protocol, common);
  } catch (e) {
    if (e instanceof TransportOptionError) throw problemAt(at(p, e.field), e);
    throw e;
  }
  return cfg;
}

/**
 * A remote write upstream's temporality: always cumulative (remote write carries running totals), so by
 * default delta sums and histograms are converted before they are translated (forward/processors/
 * temporality.ts), instead of left out; its settings (`maxStreams`, `staleAfter`) may be given.
 */
function remoteWriteTemporality(value: unknown, p: string): TemporalityConfig {
  const t = temporalityConfig(value, p) ?? Object.freeze({ to: 'cumulative' as const, ...TEMPORALITY_DEFAULTS });
  if (t.to !== 'cumulative') throw new GatewayConfigError(p, 'a remote write upstream takes cumulative metrics only (the default)');
  return t;
}

function basicAuth(value: unknown, p: string): { username: string; password: string } {
  const doc = mapping(value, p, ['username', 'password']);
  if (doc['username'] === undefined) throw new GatewayConfigError(at(p, 'username'), 'required');
  if (doc['password'] === undefined) throw new GatewayConfigError(at(p, 'password'), 'required');
  const username = string(doc['username'], at(p, 'username'), { nonEmpty: true });
  if (username.includes(':')) throw new GatewayConfigError(at(p, 'username'), 'a basic auth user name cannot contain ":"');
  return { username, password: string(doc['password'], at(p, 'password')) };
}

/**
 * `kind: prometheus`: an upstream that serves what it receives as a scrape page on its own address
 * (transport/prometheus/scrape.ts). It has a queue like every upstream (what waits is decoded in
 * order), but no endpoint, TLS or retries to configure: nothing is sent anywhere.
 */
function scrapeUpstream(value: unknown, p: string, name: string, tenant: string | undefined): UpstreamConfig {
  const doc = mapping(value, p, ['kind', 'address', 'path', 'staleness', 'maxSeries', 'auth', 'queue', 'processors']);
  if (doc['address'] === undefined) throw new GatewayConfigError(at(p, 'address'), 'required');
  const address = listenAddress(doc['address'], at(p, 'address'));
  const path = optional(doc['path'], SCRAPE_DEFAULTS.path, (v) => {
    const text = string(v, at(p, 'path'), { nonEmpty: true });
    if (!/^\/[^\s?#]*$/.test(text)) throw new GatewayConfigError(at(p, 'path'), `expected a path starting with /, got ${show(text)}`);
    return text;
  });
  let auth: ScrapeConfig['auth'];
  if (doc['auth'] !== undefined && doc['auth'] !== null) {
    const a = mapping(doc['auth'], at(p, 'auth'), ['basic', 'bearerToken']);
    if (a['basic'] !== undefined && a['bearerToken'] !== undefined) throw new GatewayConfigError(at(p, 'auth'), 'basic or bearerToken, not both');
    if (a['basic'] !== undefined) auth = Object.freeze({ basic: Object.freeze(basicAuth(a['basic'], at(p, 'auth.basic'))) });
    else if (a['bearerToken'] !== undefined)
      auth = Object.freeze({ bearerToken: string(a['bearerToken'], at(p, 'auth.bearerToken'), { nonEmpty: true }) });
  }
  const queue = mapping(doc['queue'] ?? {}, at(p, 'queue'), ['maxBytes', 'maxRequests']);
  const hostPort = formatAddress(address.host, address.port);
  const scrape: ScrapeConfig = Object.freeze({
    address: hostPort,
    path,
    stalenessMillis: optional(doc['staleness'], SCRAPE_DEFAULTS.stalenessMillis, (v) => millis(v, at(p, 'staleness'), 1000, MAX_MS)),
    maxSeries: optional(doc['maxSeries'], SCRAPE_DEFAULTS.maxSeries, (v) => number(v, at(p, 'maxSeries'), 1, 10_000_000, true)),
    auth,
  });
  return Object.freeze({
    name,
    protocol: 'prometheus/scrape',
    // The page accumulates deltas itself (its series store).
    temporality: undefined,
    endpoint: `http://${hostPort}${path}`,
    display: `scrape://${hostPort}${path}`,
    headers: Object.freeze({}),
    compression: DEFAULT_COMPRESSION,
    timeoutMillis: GATEWAY_DEFAULTS.timeoutMillis,
    // Taking a request is a decode in this process: one at a time keeps the store's order.
    maxConcurrency: 1,
    queue: Object.freeze({
      maxBytes: optional(queue['maxBytes'], GATEWAY_DEFAULTS.queue.maxBytes, (v) => byteSize(v, at(p, 'queue.maxBytes'), 1, Number.MAX_SAFE_INTEGER)),
      maxRequests: optional(queue['maxRequests'], GATEWAY_DEFAULTS.queue.maxRequests, (v) =>
        number(v, at(p, 'queue.maxRequests'), 1, 10_000_000, true),
      ),
    }),
    batchMaxBytes: GATEWAY_DEFAULTS.batchMaxBytes,
    retry: DEFAULT_RETRY_POLICY,
    tls: Object.freeze({}),
    tenant,
    processors: processorConfigs(doc['processors'], at(p, 'processors')),
    scrape,
  });
}
