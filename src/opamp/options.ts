/**
 * The OpAMP client's options, validated once into a frozen, fully populated shape. Defaults follow
 * the OpAMP specification (opamp-spec v0.18.0) where it recommends a value.
 */
import { hostname } from 'node:os';
import { DEFAULT_RETRY_POLICY } from '../export/retry.js';
import type { RetryPolicy } from '../export/retry.js';
import { ConfigProblemError } from '../internal/config-problem.js';
import { packageVersion } from '../internal/package-version.js';
import { DEFAULT_MAX_RESPONSE_BYTES, validateHeaders, validateTls } from '../transport/options.js';
import type { Compression, Pem, ResolvedTransportOptions } from '../transport/options.js';
import { OpampOptionError } from './errors.js';
import type { ComponentHealthReport } from './health.js';
import type { RemoteConfigDocument, RemoteConfigResult } from './remote-config.js';

/** What the agent says about itself (AgentDescription). */
export interface AgentDescriptionOptions {
  /** `service.name` (identifying). Default `otlp-fanout-gateway`, the name issue 12 gives the gateway. */
  readonly serviceName?: string;
  /** `service.version` (identifying). Default: our package version. */
  readonly serviceVersion?: string;
  /** `service.instance.id` (identifying). Default: the instance UID as UUID text, the one id already unique per agent. */
  readonly instanceId?: string;
  /** `host.name` (non-identifying). Default `os.hostname()`. */
  readonly hostName?: string;
  /** `os.type` (non-identifying), a semantic-conventions value. Default: from `process.platform` (`linux`, `darwin`, `windows`, ...). */
  readonly osType?: string;
  /** More non-identifying attributes (`deployment.environment.name`, `cloud.region`, ...). Default none. */
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** Options of {@link createOpampClient}. Every callback is optional; each one given adds its capability. */
export interface OpampClientOptions {
  /**
   * The OpAMP server: `http://` or `https://` for the plain HTTP transport (a POST per message, polling),
   * `ws://` or `wss://` for WebSocket (one connection; the server can push at any time). Required.
   */
  readonly endpoint: string;
  /** Headers sent with every request or with the WebSocket handshake (credentials, typically). Never printed. Default none. */
  readonly headers?: Readonly<Record<string, string>>;
  /** TLS for `https://` and `wss://`: trusted CAs (default Node's bundled roots) and a client certificate for mutual TLS. */
  readonly tls?: { readonly ca?: Pem | ReadonlyArray<Pem>; readonly cert?: Pem; readonly key?: Pem };
  /**
   * How often the client talks to the server when it has nothing new to say: the HTTP poll period
   * (the only way an HTTP server can hand over a new config) and the WebSocket heartbeat period.
   * Default 30000, the spec's recommendation for both. A server's
   * `connection_settings.opamp.heartbeat_interval_seconds` replaces it while connected.
   */
  readonly pollingIntervalMillis?: number;
  /** Limit on one HTTP exchange or one WebSocket handshake. Default 10000, the OTLP exporters' timeout. */
  readonly timeoutMillis?: number;
  /**
   * HTTP request bodies: `gzip` compresses a body of 1 KiB or more (a heartbeat of ~30 bytes would only
   * grow; an effective config shrinks several times). Default `gzip`: servers must accept it (spec,
   * Plain HTTP Transport). Responses are always accepted gzipped.
   */
  readonly compression?: Compression;
  /**
   * Backoff after a failed exchange or connection: waits grow from `initialBackoffMillis` by 1.5× to
   * `maxBackoffMillis`, ±20 %, and never stop. Defaults 1000 and 60000: quick to come back after a
   * server restart, at most one attempt a minute per agent while it is down. A server's own delay
   * (Retry-After, RetryInfo) wins; throttling without one waits at least 30 s (spec, Throttling).
   */
  readonly retry?: { readonly initialBackoffMillis?: number; readonly maxBackoffMillis?: number };
  /** 16 bytes. Default: the UID stored in `stateDirectory` (`instanceUid()`), or a new UUIDv7 without one. */
  readonly instanceUid?: Uint8Array;
  /**
   * Where the client keeps its state across restarts: the instance UID (when `instanceUid` is not given)
   * and the last applied remote config, which `start()` applies again before talking to the server.
   * Default none: a new agent each start, starting on its local config.
   */
  readonly stateDirectory?: string;
  /** Default: the defaults of each {@link AgentDescriptionOptions} field. */
  readonly description?: AgentDescriptionOptions;
  /** The agent's health now (ReportsHealth). Called when a report is built: after `healthChanged()`, on heartbeats and full reports. */
  readonly health?: () => ComponentHealthReport;
  /** The effective configuration as YAML, secrets already redacted by the caller (ReportsEffectiveConfig). */
  readonly effectiveConfig?: () => string;
  /**
   * Applies a remote config (AcceptsRemoteConfig, ReportsRemoteConfig): resolve `{ applied: true }`, or
   * `{ applied: false, error }` to leave the running config in place; the error goes to the server.
   * A rejection counts as `applied: false` with its message. Never called twice at once.
   */
  readonly onRemoteConfig?: (document: RemoteConfigDocument) => Promise<RemoteConfigResult>;
  /**
   * Where the server wants the agent's own metrics sent (ReportsOwnMetrics; ConnectionSettingsOffers.own_metrics):
   * called with each new offer, not again for the same one. Only the endpoint and headers are passed on;
   * offered certificates and TLS settings are not supported.
   */
  readonly onOwnMetrics?: (destination: OwnTelemetryDestination) => void;
}

/** An OTLP destination offered by the server for the agent's own telemetry. */
export interface OwnTelemetryDestination {
  /** An OTLP/HTTP URL, as the server gave it. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The validated options. */
export interface ResolvedOpampClientOptions {
  readonly transport: 'http' | 'websocket';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: ResolvedTransportOptions['tls'];
  readonly pollingIntervalMillis: number;
  readonly timeoutMillis: number;
  readonly compression: Compression;
  readonly retry: RetryPolicy;
  /** Largest ServerToAgent read (after gunzip): the transports' response limit, far above a gateway's YAML. */
  readonly maxMessageBytes: number;
  readonly instanceUid: Uint8Array | undefined;
  readonly stateDirectory: string | undefined;
  readonly description: Readonly<Required<Omit<AgentDescriptionOptions, 'instanceId'>>> & { readonly instanceId: string | undefined };
  readonly health: (() => ComponentHealthReport) | undefined;
  readonly effectiveConfig: (() => string) | undefined;
  readonly onRemoteConfig: ((document: RemoteConfigDocument) => Promise<RemoteConfigResult>) | undefined;
  readonly onOwnMetrics: ((destination: OwnTelemetryDestination) => void) | undefined;
}

/** Defaults, with the reasons in {@link OpampClientOptions}. */
export const OPAMP_DEFAULTS = Object.freeze({
  serviceName: 'otlp-fanout-gateway',
  pollingIntervalMillis: 30_000,
  timeoutMillis: 10_000,
  compression: 'gzip' as Compression,
  initialBackoffMillis: 1000,
  maxBackoffMillis: 60_000,
});

const MAX_TIMER_MS = 2 ** 31 - 1;
const SCHEMES: Readonly<Record<string, 'http' | 'websocket'>> = { 'http:': 'http', 'https:': 'http', 'ws:': 'websocket', 'wss:': 'websocket' };

// process.platform → the semantic conventions' os.type values.
const OS_TYPES: Readonly<Record<string, string>> = { win32: 'windows', sunos: 'solaris', os390: 'z_os' };

/** Validates `options`; throws {@link OpampOptionError} naming the field, the value and what is allowed. */
export function validateOpampClientOptions(options: OpampClientOptions): ResolvedOpampClientOptions {
  if (typeof options !== 'object' || options === null) throw new OpampOptionError('options', options, 'an object');
  const url = endpoint(options.endpoint);
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const tls = fromTransport(() => validateTls(options.tls));
  if (!secure && (tls.ca !== undefined || tls.cert !== undefined)) {
    throw new OpampOptionError(
      'tls',
      options.tls,
      `TLS settings with a ${url.protocol}// endpoint; use ${url.protocol === 'ws:' ? 'wss' : 'https'}://`,
    );
  }
  const retryDoc = options.retry ?? {};
  const initialBackoffMillis = int('retry.initialBackoffMillis', retryDoc.initialBackoffMillis, OPAMP_DEFAULTS.initialBackoffMillis, 1);
  const maxBackoffMillis = int(
    'retry.maxBackoffMillis',
    retryDoc.maxBackoffMillis,
    Math.max(OPAMP_DEFAULTS.maxBackoffMillis, initialBackoffMillis),
    1,
  );
  if (maxBackoffMillis < initialBackoffMillis) {
    throw new OpampOptionError('retry.maxBackoffMillis', maxBackoffMillis, `at least retry.initialBackoffMillis (${initialBackoffMillis})`);
  }
  const compression = options.compression ?? OPAMP_DEFAULTS.compression;
  if (compression !== 'gzip' && compression !== 'none') throw new OpampOptionError('compression', compression, '"gzip" or "none"');
  if (options.instanceUid !== undefined && !(options.instanceUid instanceof Uint8Array && options.instanceUid.length === 16)) {
    throw new OpampOptionError('instanceUid', options.instanceUid, '16 bytes (a UUID)');
  }
  if (options.stateDirectory !== undefined && (typeof options.stateDirectory !== 'string' || options.stateDirectory === '')) {
    throw new OpampOptionError('stateDirectory', options.stateDirectory, 'a directory path');
  }
  for (const name of ['health', 'effectiveConfig', 'onRemoteConfig', 'onOwnMetrics'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new OpampOptionError(name, options[name], 'a function');
  }
  return Object.freeze({
    transport: SCHEMES[url.protocol]!,
    url,
    headers: fromTransport(() => validateHeaders(options.headers, 'http')),
    tls,
    pollingIntervalMillis: int('pollingIntervalMillis', options.pollingIntervalMillis, OPAMP_DEFAULTS.pollingIntervalMillis, 10),
    timeoutMillis: int('timeoutMillis', options.timeoutMillis, OPAMP_DEFAULTS.timeoutMillis, 1),
    compression,
    retry: Object.freeze({ ...DEFAULT_RETRY_POLICY, initialBackoffMillis, maxBackoffMillis }),
    maxMessageBytes: DEFAULT_MAX_RESPONSE_BYTES,
    instanceUid: options.instanceUid === undefined ? undefined : new Uint8Array(options.instanceUid),
    stateDirectory: options.stateDirectory,
    description: description(options.description ?? {}),
    health: options.health,
    effectiveConfig: options.effectiveConfig,
    onRemoteConfig: options.onRemoteConfig,
    onOwnMetrics: options.onOwnMetrics,
  });
}

function endpoint(value: unknown): URL {
  const allowed = 'an http://, https://, ws:// or wss:// URL';
  if (typeof value !== 'string' || value === '') throw new OpampOptionError('endpoint', value, allowed);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OpampOptionError('endpoint', value, allowed);
  }
  if (SCHEMES[url.protocol] === undefined) throw new OpampOptionError('endpoint', value, allowed);
  if (url.username !== '' || url.password !== '')
    throw new OpampOptionError('endpoint', '(URL with credentials)', 'a URL without user:password@; use headers');
  return url;
}

function description(d: AgentDescriptionOptions): ResolvedOpampClientOptions['description'] {
  if (typeof d !== 'object' || d === null) throw new OpampOptionError('description', d, 'an object');
  const text = (field: keyof AgentDescriptionOptions, value: unknown, fallback: string): string => {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '') throw new OpampOptionError(`description.${field}`, value, 'a non-empty string');
    return value;
  };
  const attributes: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(d.attributes ?? {})) {
    if (k === '' || !['string', 'number', 'boolean'].includes(typeof v)) {
      throw new OpampOptionError(`description.attributes[${JSON.stringify(k)}]`, v, 'a non-empty key with a string, number or boolean');
    }
    attributes[k] = v;
  }
  return Object.freeze({
    serviceName: text('serviceName', d.serviceName, OPAMP_DEFAULTS.serviceName),
    serviceVersion: text('serviceVersion', d.serviceVersion, packageVersion()),
    instanceId: d.instanceId === undefined ? undefined : text('instanceId', d.instanceId, ''),
    hostName: text('hostName', d.hostName, hostname()),
    osType: text('osType', d.osType, OS_TYPES[process.platform] ?? process.platform),
    attributes: Object.freeze(attributes),
  });
}

function int(field: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw new OpampOptionError(field, value, `an integer from ${min} to ${MAX_TIMER_MS}`);
  }
  return value;
}

/** A transport-layer check (headers, TLS), its problem re-thrown as ours: same fields, our error class. */
function fromTransport<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    // The transport layer words `allowed` as "expected …"; ours adds the verb itself.
    if (e instanceof ConfigProblemError) throw new OpampOptionError(e.field, e.value, e.allowed.replace(/^expected /, ''));
    throw e;
  }
}
