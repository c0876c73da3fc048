/**
 * The validated gateway configuration: {@link validateGatewayConfig} turns a parsed,
 * env-expanded document plus the command-line flags into a frozen, fully populated
 * {@link GatewayConfig}. Every problem is a GatewayConfigError naming the key path; the
 * CLI prints it and exits with code 2 before listening. Each section has its own reader
 * (receivers.ts, tenants.ts, upstreams.ts, routes.ts); limits, observe and self-telemetry
 * are small enough to read here. Loading the file is load.ts.
 */
import { at, GatewayConfigError, show } from './config-error.js';
import { GATEWAY_DEFAULTS, MAX_BYTES, MAX_MS } from './defaults.js';
import { opampConfig } from './opamp.js';
import type { OpampConfig } from './opamp.js';
import { metricsEndpointConfig, uiEndpointConfig } from './observe-endpoints.js';
import type { ObserveEndpointConfig } from './observe-endpoints.js';
import { receiverConfig } from './receivers.js';
import type { ReceiverConfig } from './receivers.js';
import { routeConfigs } from './routes.js';
import type { RouteConfig } from './routes.js';
import { storageConfig } from './storage.js';
import type { StorageConfig } from './storage.js';
import { tenantConfigs } from './tenants.js';
import type { TenantConfig } from './tenants.js';
import { forwardUpstream, upstreamMap } from './upstreams.js';
import type { UpstreamConfig } from './upstreams.js';
import { byteSize, mapping, millis, oneOf, optional, pemFile, string } from './values.js';
import type { FileReader } from './values.js';

/** Console detail, as the Collector's debug exporter names its levels. */
export type Verbosity = 'basic' | 'normal' | 'detailed';

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

/** The `observe` section: the console, and the addresses of the web inspector and `GET /metrics` (observe-endpoints.ts). */
export interface ObserveConfig {
  readonly verbosity: Verbosity;
  readonly intervalMillis: number;
  /** The web inspector; null: off. */
  readonly ui: ObserveEndpointConfig | null;
  /** `GET /metrics` on an address of its own; null: none (docs/gateway-metrics.md says where it answers then). */
  readonly metrics: ObserveEndpointConfig | null;
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
  readonly observe: ObserveConfig;
  readonly selfTelemetry: SelfTelemetryConfig;
  /** The durable queue (docs/gateway.md, Durable storage); null: queues in memory, nothing on disk. */
  readonly storage: StorageConfig | null;
  /**
   * The OpAMP server the gateway reports to and takes remote configs from (docs/gateway.md, OpAMP);
   * null: no OpAMP. Always the local file's (or `--opamp`): a remote config's own section is ignored.
   */
  readonly opamp: OpampConfig | null;
}

/** Command-line settings, applied over the file. */
export interface GatewayFlags {
  /** `HOST:PORT`, or `off`. */
  readonly grpc?: string;
  readonly http?: string;
  /** Added to the file's shared upstreams, in order. */
  readonly forward?: readonly string[];
  readonly verbosity?: string;
  /** `--storage DIR`: the durable queue's directory, over the file's `storage.directory`. */
  readonly storage?: string;
  /** `--opamp URL`: the OpAMP server's endpoint, over the file's `opamp.endpoint` (its other keys still apply). */
  readonly opamp?: string;
  /** `--ui HOST:PORT` (or `off`): the web inspector's address, over the file's `observe.ui.address`. */
  readonly ui?: string;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

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
    'storage',
    'opamp',
  ]);
  const files = (value: unknown, p: string): string => pemFile(value, p, baseDir);

  const receivers = mapping(root['receivers'] ?? {}, 'receivers', ['grpc', 'http']);
  const grpc = receiverConfig(receivers['grpc'], 'receivers.grpc', GATEWAY_DEFAULTS.grpcAddress, flags.grpc, '--grpc', files);
  const http = receiverConfig(receivers['http'], 'receivers.http', GATEWAY_DEFAULTS.httpAddress, flags.http, '--http', files);

  const auth = mapping(root['auth'] ?? {}, 'auth', ['apiKeyHeader']);
  const apiKeyHeader = headerName(auth['apiKeyHeader'] ?? GATEWAY_DEFAULTS.apiKeyHeader, 'auth.apiKeyHeader');
  if (apiKeyHeader === 'authorization') throw new GatewayConfigError('auth.apiKeyHeader', 'Authorization carries bearer tokens; pick another header');

  const names = new Set<string>();
  const upstreams = upstreamMap(root['upstreams'], 'upstreams', undefined, files, names);
  (flags.forward ?? []).forEach((url, i) => {
    const cfg = forwardUpstream(url, `--forward[${i}]`, names);
    upstreams.push(cfg);
  });

  const tenants = tenantConfigs(root['tenants'], files, names);

  const tenantNames = new Set(tenants.map((t) => t.name));
  const sharedNames = new Set(upstreams.map((u) => u.name));
  const routes = routeConfigs(root['routes'], sharedNames, tenantNames);

  const limitsDoc = mapping(root['limits'] ?? {}, 'limits', ['maxRequestBytes', 'maxQueuedBytes', 'retryAfter']);
  const limits: LimitsConfig = Object.freeze({
    maxRequestBytes: optional(limitsDoc['maxRequestBytes'], GATEWAY_DEFAULTS.maxRequestBytes, (v) =>
      byteSize(v, 'limits.maxRequestBytes', 1, MAX_BYTES),
    ),
    maxQueuedBytes: optional(limitsDoc['maxQueuedBytes'], GATEWAY_DEFAULTS.maxQueuedBytes, (v) =>
      byteSize(v, 'limits.maxQueuedBytes', 1, Number.MAX_SAFE_INTEGER),
    ),
    retryAfterMillis: optional(limitsDoc['retryAfter'], GATEWAY_DEFAULTS.retryAfterMillis, (v) => millis(v, 'limits.retryAfter', 1000, 3_600_000)),
  });

  const storage = storageConfig(root['storage'], flags.storage, 'storage', baseDir);
  checkStorageFits(storage, limits);

  // A request the gateway accepts must fit every queue it may go to: one that cannot would be
  // acknowledged and dropped at once (forward/ingest.ts refuses any such body that still occurs).
  // With storage the queue is the log (checked above).
  const forwarded = new Set(upstreams.slice(upstreams.length - (flags.forward ?? []).length));
  for (const u of storage !== null ? [] : [...upstreams, ...tenants.flatMap((t) => t.upstreams)]) {
    if (u.queue.maxBytes >= limits.maxRequestBytes) continue;
    const key = u.tenant === undefined ? u.name : u.name.slice(u.tenant.length + 1);
    const where = u.tenant === undefined ? at('upstreams', key) : at(at(at('tenants', u.tenant), 'upstreams'), key);
    throw forwarded.has(u)
      ? new GatewayConfigError(
          'limits.maxRequestBytes',
          `${limits.maxRequestBytes} is above the queue of --forward upstream ${show(u.name)} (${u.queue.maxBytes} bytes): configure it under upstreams with a queue.maxBytes of at least limits.maxRequestBytes`,
        )
      : new GatewayConfigError(
          at(where, 'queue.maxBytes'),
          `${u.queue.maxBytes} is below limits.maxRequestBytes (${limits.maxRequestBytes}): every request the gateway accepts must fit the queue; raise it or lower limits.maxRequestBytes`,
        );
  }

  const observeDoc = mapping(root['observe'] ?? {}, 'observe', ['verbosity', 'interval', 'ui', 'metrics']);
  const verbosityValue = flags.verbosity ?? observeDoc['verbosity'] ?? GATEWAY_DEFAULTS.verbosity;
  const observe = Object.freeze({
    verbosity: oneOf<Verbosity>(verbosityValue, flags.verbosity !== undefined ? '--verbosity' : 'observe.verbosity', ['basic', 'normal', 'detailed']),
    intervalMillis: optional(observeDoc['interval'], GATEWAY_DEFAULTS.observeIntervalMillis, (v) => millis(v, 'observe.interval', 100, MAX_MS)),
    ui: uiEndpointConfig(observeDoc['ui'], flags.ui),
    metrics: metricsEndpointConfig(observeDoc['metrics']),
  });

  const selfDoc = mapping(root['selfTelemetry'] ?? {}, 'selfTelemetry', ['interval', 'resource', 'upstreams']);
  const resource: Record<string, string> = { 'service.name': 'otlp-fanout-gateway' };
  if (selfDoc['resource'] !== undefined) {
    for (const [k, v] of Object.entries(mapping(selfDoc['resource'], 'selfTelemetry.resource'))) {
      resource[k] = string(v, at('selfTelemetry.resource', k));
    }
  }
  const selfTelemetry: SelfTelemetryConfig = Object.freeze({
    intervalMillis: optional(selfDoc['interval'], GATEWAY_DEFAULTS.selfTelemetryIntervalMillis, (v) =>
      millis(v, 'selfTelemetry.interval', 100, MAX_MS),
    ),
    resource: Object.freeze(resource),
    upstreams: Object.freeze(selfUpstreams(selfDoc['upstreams'], files, names)),
  });

  const opamp = opampSection(root['opamp'], flags.opamp, files);

  return Object.freeze({
    grpc,
    http,
    apiKeyHeader,
    tenants: Object.freeze(tenants),
    upstreams: Object.freeze(upstreams),
    routes: Object.freeze(routes),
    limits,
    drainTimeoutMillis: optional(root['drainTimeout'], GATEWAY_DEFAULTS.drainTimeoutMillis, (v) => millis(v, 'drainTimeout', 0, MAX_MS)),
    observe,
    selfTelemetry,
    storage,
    opamp,
  });
}

/** Every request the gateway accepts must fit one record of the durable log; throws GatewayConfigError when it cannot. */
export function checkStorageFits(storage: StorageConfig | null, limits: LimitsConfig): void {
  if (storage !== null && storage.maxRecordBytes < limits.maxRequestBytes) {
    throw new GatewayConfigError(
      'storage.maxBytes',
      `${storage.maxBytes} holds records of at most ${storage.maxRecordBytes} bytes (half of it), below limits.maxRequestBytes (${limits.maxRequestBytes}): every request the gateway accepts must fit; raise it or lower limits.maxRequestBytes`,
    );
  }
}

/** The `opamp` section, with `--opamp URL` over its endpoint; a bad flag value is reported at `--opamp`. */
function opampSection(value: unknown, flag: string | undefined, files: FileReader): OpampConfig | null {
  if (flag === undefined) return opampConfig(value, 'opamp', files);
  const doc = value === undefined || value === null ? {} : mapping(value, 'opamp');
  try {
    return opampConfig({ ...doc, endpoint: flag }, 'opamp', files);
  } catch (e) {
    if (e instanceof GatewayConfigError && e.path === 'opamp.endpoint') throw new GatewayConfigError('--opamp', e.problem);
    throw e;
  }
}

/** Self-telemetry upstreams: the gateway's own metrics leave through a backend, not the pipeline, so no processors and no temporality. */
function selfUpstreams(value: unknown, files: FileReader, names: Set<string>): UpstreamConfig[] {
  const out = upstreamMap(value, 'selfTelemetry.upstreams', undefined, files, names);
  for (const u of out) {
    if (u.processors.length > 0) {
      throw new GatewayConfigError(
        `selfTelemetry.upstreams.${u.name}.processors`,
        "not applied to the gateway's own telemetry; set its resource in selfTelemetry.resource",
      );
    }
    if (u.temporality !== undefined) {
      // The gateway's own metrics are collected cumulative by our SDK; converting them would need state for nothing.
      throw new GatewayConfigError(`selfTelemetry.upstreams.${u.name}.temporality`, "not applied to the gateway's own telemetry (always cumulative)");
    }
  }
  return out;
}

function headerName(value: unknown, p: string): string {
  const name = string(value, p, { nonEmpty: true });
  if (!HEADER_NAME.test(name)) throw new GatewayConfigError(p, `${show(name)} is not a valid header name`);
  return name.toLowerCase();
}
