/**
 * `resolveConfig()`: code options over the environment over the defaults, checked once into a
 * frozen, fully-populated `ResolvedConfig` that the rest of otlp-fanout reads without checks.
 *
 * Error policy (a library must not take its application down over telemetry):
 * - a bad value, from code or environment → one warning naming the field or variable, the value
 *   and what is allowed, then the default (or, for an endpoint or TLS file, the backend or signal
 *   is left out: sending elsewhere, or with weaker TLS than asked, is not a safe fallback);
 * - `ConfigError` is thrown only for code options whose shape leaves no way to tell which
 *   backends exist: options or a backend that is not an object, `backends` that is not an array,
 *   a backend without a valid name, two backends with one name. TypeScript already rules these
 *   out, so they are bugs in the caller, and guessing would export to the wrong place.
 *
 * Backends merge by name: a code backend takes its missing fields from the environment backend
 * of the same name (`otlp` ← OTEL_EXPORTER_OTLP_*, `x` ← OTEL_FANOUT_BACKEND_X_*). Within one
 * source a per-signal value beats the backend-wide one; code beats environment; headers merge by
 * name in that same order.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Attributes } from '../otlp/types.js';
import type { BackendKind, Compression, ExportSignal, HistogramAggregation, Protocol, TelemetryOptions, Temporality } from './options.js';
import { DEFAULTS } from './options.js';
import type { QueueLimits } from '../export/backend.js';
import type { RetryPolicy } from '../export/retry.js';
import { PROTOCOL_NAMES } from '../transport/protocols.js';
import { COMPRESSIONS } from '../transport/options.js';
import { ConfigError, warnConfig, warnInvalid } from './config-error.js';
import { readBackendEnv, readEnv, STORAGE_OFF, type EnvConfig, type EnvRecord } from './env.js';
import { DurableLogOptionError, validateDurableLogOptions, type ResolvedDurableLogOptions } from '../export/durable/options.js';
import type { BackendLayer, PemSource, TargetLayer } from './backend-layer.js';
import { BACKEND_NAME } from './backend-layer.js';
import { normalizeHeaders } from './headers.js';
import { endpointProblem, targetUrl, type EndpointSetting } from './endpoint.js';
import { buildCommonAttributes, buildResource } from './resource.js';
import { MetricsConfigError } from '../metrics/errors.js';
import { validateView, type ViewOptions } from '../metrics/view.js';

/** TLS material, read and checked. PEM bytes are Buffers, what node:tls and undici take. */
export interface ResolvedTls {
  readonly ca: Buffer | undefined;
  /** Set together with `key`, or neither. */
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly insecure: boolean;
}

/**
 * The views the metrics module accepts, in order; each other one is skipped with one warning
 * (the metrics module's own check, so a view means the same from createTelemetry() and from
 * createMeterProvider(), which throws instead).
 */
function usableViews(list: readonly unknown[]): ViewOptions[] {
  const out: ViewOptions[] = [];
  list.forEach((v, i) => {
    try {
      validateView(v, `metrics.views[${i}]`);
      out.push(v as ViewOptions);
    } catch (err) {
      if (!(err instanceof MetricsConfigError)) throw err;
      warnInvalid(err.field, err.value, err.allowed, `view metrics.views[${i}] skipped`);
    }
  });
  return out;
}

/** Everything a transport needs for one signal of one backend. */
export interface ResolvedTarget {
  /** HTTP: the full request URL (`…/v1/metrics`). gRPC: the origin (`http://host:4317`). */
  readonly url: string;
  readonly protocol: Protocol;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: Compression;
  readonly timeoutMillis: number;
  readonly tls: ResolvedTls;
}

/** See `QueueOptions`: the export layer's limits, every field filled. */
export type ResolvedQueue = QueueLimits;

/** See `RetryOptions`: the export layer's policy, every field filled, and whether to retry at all. */
export interface ResolvedRetry extends RetryPolicy {
  readonly enabled: boolean;
}

interface ResolvedBackendBase {
  readonly name: string;
  /** Where its settings came from. */
  readonly source: 'code' | 'env' | 'code+env';
  /** Non-empty: a backend with nothing to send is left out. */
  readonly signals: readonly ExportSignal[];
  readonly temporality: Temporality;
}

/** A backend that sends OTLP: one target per signal in `signals`. */
export interface ResolvedOtlpBackend extends ResolvedBackendBase {
  readonly kind: 'otlp';
  readonly metrics: ResolvedTarget | undefined;
  readonly logs: ResolvedTarget | undefined;
  readonly queue: ResolvedQueue;
  readonly retry: ResolvedRetry;
  readonly maxRequestBytes: number;
  readonly maxPointsPerRequest: number;
}

/** A backend that stays in the process (console output, in-memory for tests). */
export interface ResolvedLocalBackend extends ResolvedBackendBase {
  readonly kind: Exclude<BackendKind, 'otlp' | 'prometheus'>;
}

/** A scrape endpoint (kind `prometheus`): metrics only, cumulative, collected when scraped. */
export interface ResolvedPrometheusBackend extends ResolvedBackendBase {
  readonly kind: 'prometheus';
  readonly host: string;
  readonly port: number;
  /** Starts with `/`. */
  readonly path: string;
}

/** A backend, ready to build. */
export type ResolvedBackend = ResolvedOtlpBackend | ResolvedLocalBackend | ResolvedPrometheusBackend;

/** The configuration the rest of otlp-fanout runs on. Deeply frozen. */
export interface ResolvedConfig {
  /** True: build nothing, export nothing (`backends` is then empty). */
  readonly disabled: boolean;
  readonly serviceName: string;
  readonly resource: Readonly<Attributes>;
  /** Attributes of every metric point and log record (`attributes`, `OTEL_FANOUT_ATTRIBUTES`). */
  readonly attributes: Readonly<Attributes>;
  readonly exportIntervalMillis: number;
  readonly exportTimeoutMillis: number;
  readonly runtimeMetrics: boolean;
  readonly metrics: {
    readonly cardinalityLimit: number;
    readonly defaultHistogramAggregation: HistogramAggregation;
    readonly views: readonly ViewOptions[];
  };
  readonly logs: {
    readonly batch: {
      readonly maxQueueSize: number;
      readonly maxExportBatchSize: number;
      readonly scheduledDelayMillis: number;
      readonly exportTimeoutMillis: number;
    };
    readonly limits: {
      readonly attributeCountLimit: number;
      readonly attributeValueLengthLimit: number;
    };
  };
  /** In code order, then the environment's own. Empty: nothing is exported, nothing connects. */
  readonly backends: readonly ResolvedBackend[];
  /**
   * Durable queues of the `otlp` backends (`storage`, `OTEL_FANOUT_STORAGE_*`), the directory
   * absolute; undefined: queues in memory, nothing touches the disk.
   */
  readonly storage: ResolvedDurableLogOptions | undefined;
}

const MAX_MILLIS = 2 ** 31 - 1;
const SIGNALS: readonly ExportSignal[] = ['metrics', 'logs'];
const TEMPORALITIES: readonly Temporality[] = ['cumulative', 'delta', 'lowmemory'];
const HISTOGRAMS: readonly HistogramAggregation[] = ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'];
const KINDS: readonly BackendKind[] = ['otlp', 'console', 'memory', 'prometheus'];

/**
 * Resolves `options` over `env`. Throws `ConfigError` only for the structural mistakes listed at
 * the top of this file; everything else warns once and falls back. Reads TLS files synchronously,
 * once per call (it runs at start-up, before anything is exported).
 */
export function resolveConfig(options: TelemetryOptions = {}, env: EnvRecord = process.env): ResolvedConfig {
  const opts = record(options);
  if (opts === undefined) throw new ConfigError('options', options, 'an object');
  const e = readEnv(env);
  const codeBackends = codeBackendList(opts.backends);

  const metrics = group(opts.metrics, 'metrics');
  const logs = group(opts.logs, 'logs');
  const batch = group(logs.batch, 'logs.batch');
  const limits = group(logs.limits, 'logs.limits');
  const D = DEFAULTS;

  const interval = setting(
    opts.exportIntervalMillis,
    'exportIntervalMillis',
    MILLIS,
    e.exportIntervalMillis,
    'OTEL_METRIC_EXPORT_INTERVAL',
    D.exportIntervalMillis,
  );
  let timeout = setting(
    opts.exportTimeoutMillis,
    'exportTimeoutMillis',
    MILLIS,
    e.exportTimeoutMillis,
    'OTEL_METRIC_EXPORT_TIMEOUT',
    D.exportTimeoutMillis,
  );
  if (timeout.value > interval.value) {
    // An export still running when the next one starts would pile up without bound. Our own
    // default meeting a short interval is no mistake of the user's: clamp it quietly.
    if (timeout.explicit) {
      warnInvalid(timeout.field, timeout.value, `at most ${interval.field} (${interval.value})`, `using ${interval.value}`);
    }
    timeout = { ...timeout, value: interval.value };
  }

  const eb = e.logs.batch;
  const queueSize = setting(
    batch.maxQueueSize,
    'logs.batch.maxQueueSize',
    COUNT,
    eb.maxQueueSize,
    'OTEL_BLRP_MAX_QUEUE_SIZE',
    D.logs.batch.maxQueueSize,
  );
  let batchSize = setting(
    batch.maxExportBatchSize,
    'logs.batch.maxExportBatchSize',
    COUNT,
    eb.maxExportBatchSize,
    'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
    D.logs.batch.maxExportBatchSize,
  );
  if (batchSize.value > queueSize.value) {
    // Spec: the batch size must not exceed the queue size; a batch could never fill.
    if (batchSize.explicit) {
      warnInvalid(batchSize.field, batchSize.value, `at most ${queueSize.field} (${queueSize.value})`, `using ${queueSize.value}`);
    }
    batchSize = { ...batchSize, value: queueSize.value };
  }
  const delay = setting(
    batch.scheduledDelayMillis,
    'logs.batch.scheduledDelayMillis',
    DELAY,
    eb.scheduledDelayMillis,
    'OTEL_BLRP_SCHEDULE_DELAY',
    D.logs.batch.scheduledDelayMillis,
  );
  const logTimeout = setting(
    batch.exportTimeoutMillis,
    'logs.batch.exportTimeoutMillis',
    MILLIS,
    eb.exportTimeoutMillis,
    'OTEL_BLRP_EXPORT_TIMEOUT',
    D.logs.batch.exportTimeoutMillis,
  );

  const el = e.logs.limits;
  const countLimit = setting(
    limits.attributeCountLimit,
    'logs.limits.attributeCountLimit',
    LIMIT,
    el.attributeCountLimit,
    'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT',
    D.logs.limits.attributeCountLimit,
  );
  const lengthLimit = setting(
    limits.attributeValueLengthLimit,
    'logs.limits.attributeValueLengthLimit',
    NO_LIMIT,
    el.attributeValueLengthLimit,
    'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    D.logs.limits.attributeValueLengthLimit,
  );
  const cardinality = setting(
    metrics.cardinalityLimit,
    'metrics.cardinalityLimit',
    COUNT,
    e.metrics.cardinalityLimit,
    'OTEL_FANOUT_METRICS_CARDINALITY_LIMIT',
    D.metrics.cardinalityLimit,
  );
  const histogram =
    word(metrics.defaultHistogramAggregation, 'metrics.defaultHistogramAggregation', HISTOGRAMS) ??
    e.metrics.defaultHistogramAggregation ??
    D.metrics.defaultHistogramAggregation;

  let views: readonly ViewOptions[] = Object.freeze([]);
  if (metrics.views !== undefined) {
    if (Array.isArray(metrics.views)) views = Object.freeze(usableViews(metrics.views as readonly unknown[]));
    else warnInvalid('metrics.views', metrics.views, 'an array of views', 'no views');
  }

  const resource = buildResource({ serviceName: opts.serviceName, resource: opts.resource }, e.serviceName, e.resourceAttributes);
  const disabled = flag(opts.disabled, 'disabled') ?? e.disabled ?? D.disabled;
  return Object.freeze({
    disabled,
    serviceName: resource['service.name'] as string,
    resource,
    attributes: buildCommonAttributes(opts.attributes, e.attributes),
    exportIntervalMillis: interval.value,
    exportTimeoutMillis: timeout.value,
    runtimeMetrics: flag(opts.runtimeMetrics, 'runtimeMetrics') ?? e.runtimeMetrics ?? D.runtimeMetrics,
    metrics: Object.freeze({ cardinalityLimit: cardinality.value, defaultHistogramAggregation: histogram, views }),
    logs: Object.freeze({
      batch: Object.freeze({
        maxQueueSize: queueSize.value,
        maxExportBatchSize: batchSize.value,
        scheduledDelayMillis: delay.value,
        exportTimeoutMillis: logTimeout.value,
      }),
      limits: Object.freeze({ attributeCountLimit: countLimit.value, attributeValueLengthLimit: lengthLimit.value }),
    }),
    // Disabled means no connection at all: no TLS files read, no backend built.
    backends: disabled ? Object.freeze([]) : resolveBackends(codeBackends, e, env),
    storage: disabled ? undefined : resolveStorage(opts.storage, e.storage),
  });
}

// ---- storage ----

/**
 * `storage` merged by field over OTEL_FANOUT_STORAGE_*, checked by the durable log's own rules
 * (export/durable/options.ts). Anything that cannot be used → one warning naming the option or the
 * variable it came from, and no storage (StorageOptions says why not a default).
 */
function resolveStorage(value: unknown, env: EnvConfig['storage']): ResolvedDurableLogOptions | undefined {
  if (value === undefined && env.directory === undefined) {
    if (env.variables.length > 0) {
      warnConfig('storage-no-directory', `${env.variables.join(', ')} set, but no storage directory (OTEL_FANOUT_STORAGE_DIRECTORY); ignored`);
    }
    return undefined;
  }
  const code = value === undefined ? {} : record(value);
  if (code === undefined) {
    warnInvalid('storage', value, 'an object with a directory', STORAGE_OFF);
    return undefined;
  }
  const VARIABLES = { directory: 'OTEL_FANOUT_STORAGE_DIRECTORY', maxBytes: 'OTEL_FANOUT_STORAGE_MAX_BYTES', fsync: 'OTEL_FANOUT_STORAGE_FSYNC' };
  // Where each setting came from, to name it in a warning.
  const from: Record<string, string> = {};
  const options: Record<string, unknown> = {};
  for (const key of ['directory', 'maxBytes', 'fsync'] as const) {
    if (code[key] !== undefined) {
      options[key] = code[key];
      from[key] = `storage.${key}`;
    } else if (key !== 'directory' && env.invalid.includes(key)) {
      return undefined; // warned about by env.ts
    } else if (env[key] !== undefined) {
      options[key] = env[key];
      from[key] = VARIABLES[key];
    }
  }
  try {
    const o = validateDurableLogOptions(options as { directory: string }, '');
    return Object.freeze({ ...o, directory: resolve(o.directory) });
  } catch (err) {
    if (!(err instanceof DurableLogOptionError)) throw err;
    warnInvalid(from[err.field] ?? `storage.${err.field}`, err.value, err.allowed, STORAGE_OFF);
    return undefined;
  }
}

// ---- backends ----

/** A code backend: its layer plus the settings only code can give. */
interface CodeBackend {
  readonly layer: BackendLayer;
  readonly invalid: boolean;
  readonly queue: Record<string, unknown>;
  readonly retry: Record<string, unknown>;
  readonly maxRequestBytes: unknown;
  readonly maxPointsPerRequest: unknown;
  readonly field: string;
}

function codeBackendList(value: unknown): CodeBackend[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError('backends', value, 'an array of backend options');
  const seen = new Set<string>();
  const out: CodeBackend[] = [];
  for (let i = 0; i < value.length; i++) {
    const field = `backends[${i}]`;
    const b = record(value[i]);
    if (b === undefined) throw new ConfigError(field, value[i], 'a backend options object');
    if (typeof b.name !== 'string' || !BACKEND_NAME.test(b.name)) {
      throw new ConfigError(`${field}.name`, b.name, 'a name of letters, digits, "_", "-", "." (at most 64 characters)');
    }
    if (seen.has(b.name)) throw new ConfigError(`${field}.name`, b.name, 'a name no other backend has');
    seen.add(b.name);
    out.push(codeBackend(b, b.name, field));
  }
  return out;
}

function codeBackend(b: Record<string, unknown>, name: string, field: string): CodeBackend {
  let invalid = false;
  const kind = word(b.kind, `${field}.kind`, KINDS, `backend "${name}" not used`);
  if (b.kind !== undefined && kind === undefined) invalid = true;
  let signals: ExportSignal[] | undefined;
  if (b.signals !== undefined) {
    if (Array.isArray(b.signals)) {
      signals = [];
      for (const s of b.signals as unknown[]) {
        const hit = SIGNALS.find((x) => x === s);
        if (hit === undefined) warnInvalid(`${field}.signals`, s, SIGNALS.join(' or '), 'entry ignored');
        else if (!signals.includes(hit)) signals.push(hit);
      }
    } else {
      warnInvalid(`${field}.signals`, b.signals, 'an array of signals', 'using both');
    }
  }
  const target = codeTarget(b, field, false);
  const metrics = codeTarget(group(b.metrics, `${field}.metrics`), `${field}.metrics`, true);
  const logs = codeTarget(group(b.logs, `${field}.logs`), `${field}.logs`, true);
  if (target.endpointInvalid || metrics.endpointInvalid || logs.endpointInvalid) invalid = true;
  return {
    layer: {
      name,
      kind,
      signals,
      temporality: word(b.temporality, `${field}.temporality`, TEMPORALITIES),
      target,
      metrics,
      logs,
      variables: [],
      host: hostSetting(b.host, `${field}.host`),
      port: num(b.port, `${field}.port`, PORT),
      path: pathSetting(b.path, `${field}.path`),
    },
    invalid,
    queue: group(b.queue, `${field}.queue`),
    retry: group(b.retry, `${field}.retry`),
    maxRequestBytes: b.maxRequestBytes,
    maxPointsPerRequest: b.maxPointsPerRequest,
    field,
  };
}

function codeTarget(t: Record<string, unknown>, field: string, perSignal: boolean): TargetLayer {
  let endpoint: EndpointSetting | undefined;
  let endpointInvalid: true | undefined;
  if (t.endpoint !== undefined) {
    const problem = typeof t.endpoint === 'string' ? endpointProblem(t.endpoint.trim()) : 'not a string';
    if (problem === undefined) endpoint = { value: (t.endpoint as string).trim(), field: `${field}.endpoint`, perSignal };
    else {
      warnInvalid(`${field}.endpoint`, t.endpoint, `an http:// or https:// URL (${problem})`, 'backend not used');
      endpointInvalid = true;
    }
  }
  let headers: Record<string, string> | undefined;
  if (t.headers !== undefined) {
    const h = record(t.headers);
    if (h === undefined) warnInvalid(`${field}.headers`, t.headers, 'an object of header names to strings', 'no headers');
    else headers = normalizeHeaders(Object.entries(h), `${field}.headers`);
  }
  const tls = group(t.tls, `${field}.tls`);
  return {
    endpoint,
    endpointInvalid,
    headers,
    protocol: word(t.protocol, `${field}.protocol`, PROTOCOL_NAMES),
    compression: word(t.compression, `${field}.compression`, COMPRESSIONS),
    timeoutMillis: num(t.timeoutMillis, `${field}.timeoutMillis`, MILLIS),
    ca: pem(tls, 'ca', 'caFile', `${field}.tls`),
    cert: pem(tls, 'cert', 'certFile', `${field}.tls`),
    key: pem(tls, 'key', 'keyFile', `${field}.tls`),
    insecure: flag(tls.insecure, `${field}.tls.insecure`),
  };
}

function pem(tls: Record<string, unknown>, inline: string, path: string, field: string): PemSource | undefined {
  const content = tls[inline];
  if (content !== undefined) {
    if (typeof content === 'string' || content instanceof Uint8Array) return { field: `${field}.${inline}`, pem: content };
    warnInvalid(`${field}.${inline}`, content, 'a PEM string or bytes', 'ignored');
  }
  const file = tls[path];
  if (file !== undefined) {
    if (typeof file === 'string' && file !== '') return { field: `${field}.${path}`, file };
    warnInvalid(`${field}.${path}`, file, 'a file path', 'ignored');
  }
  return undefined;
}

function resolveBackends(code: CodeBackend[], envCfg: EnvConfig, env: EnvRecord): readonly ResolvedBackend[] {
  const files = new Map<string, Buffer | Error>();
  const out: ResolvedBackend[] = [];
  const merged = new Set<string>();
  const used = new Set<string>(envCfg.backends.flatMap((b) => b.variables));
  for (const c of code) {
    const declared = envCfg.backends.find((e) => e.name === c.layer.name);
    if (declared !== undefined) merged.add(declared.name);
    // Not declared by the environment, its variables may still carry settings (secrets, typically).
    const own = declared ?? (c.layer.name === 'otlp' ? envCfg.inactiveOtlp : readBackendEnv(env, c.layer.name));
    const envLayer = own !== undefined && (declared !== undefined || own.variables.length > 0) ? own : undefined;
    for (const v of envLayer?.variables ?? []) used.add(v);
    if (c.invalid) continue;
    const b = resolveBackend(c.layer, envLayer, envCfg, c, envLayer === undefined ? 'code' : 'code+env', files);
    if (b !== undefined) out.push(b);
  }
  if (envCfg.inactiveOtlp !== undefined && !code.some((c) => c.layer.name === 'otlp')) {
    warnConfig(
      'inactive-otlp',
      `${envCfg.inactiveOtlp.variables.join(', ')} set, but no signal selects OTLP ` +
        '(set OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_METRICS_EXPORTER/OTEL_LOGS_EXPORTER=otlp); ignored',
    );
  }
  // A misspelt backend name in a variable would otherwise be silently ignored.
  for (const variable of Object.keys(env)) {
    if (variable.startsWith('OTEL_FANOUT_BACKEND_') && env[variable]?.trim() && !used.has(variable)) {
      warnConfig(`unused:${variable}`, `${variable} is set but no backend reads it (misspelt backend name or setting?)`);
    }
  }
  for (const e of envCfg.backends) {
    if (merged.has(e.name)) continue;
    const b = resolveBackend(undefined, e, envCfg, undefined, 'env', files);
    if (b !== undefined) out.push(b);
  }
  return Object.freeze(out);
}

function resolveBackend(
  code: BackendLayer | undefined,
  env: BackendLayer | undefined,
  envCfg: EnvConfig,
  extras: CodeBackend | undefined,
  source: ResolvedBackend['source'],
  files: Map<string, Buffer | Error>,
): ResolvedBackend | undefined {
  const name = (code ?? env)!.name;
  const layers = [code, env].filter((l): l is BackendLayer => l !== undefined);
  if (layers.some((l) => l.target.endpointInvalid || l.metrics.endpointInvalid || l.logs.endpointInvalid)) return undefined;
  const kind = code?.kind ?? env?.kind ?? DEFAULTS.backend.kind;
  const temporality = code?.temporality ?? env?.temporality ?? envCfg.temporality ?? DEFAULTS.backend.temporality;
  let signals = code?.signals ?? env?.signals ?? DEFAULTS.backend.signals;
  if (signals.length === 0) {
    warnConfig(`no-signals:${name}`, `backend "${name}" has no signal to export; left out`);
    return undefined;
  }
  if (kind === 'prometheus') {
    if (signals.includes('logs') && code?.signals !== undefined) {
      warnConfig(`prometheus-logs:${name}`, `backend "${name}" is a Prometheus endpoint: it serves metrics only; its logs are not exported`);
    }
    if (!signals.includes('metrics')) return undefined;
    const p = DEFAULTS.backend.prometheus;
    return Object.freeze({
      name,
      kind,
      source,
      signals: Object.freeze(['metrics'] as const),
      // A scrape shows totals: Prometheus has no delta.
      temporality: 'cumulative' as const,
      host: code?.host ?? env?.host ?? p.host,
      port: code?.port ?? env?.port ?? p.port,
      path: code?.path ?? env?.path ?? p.path,
    });
  }
  if (kind !== 'otlp') {
    return Object.freeze({ name, kind, source, signals: Object.freeze([...signals]), temporality });
  }
  const targets: Partial<Record<ExportSignal, ResolvedTarget>> = {};
  for (const s of signals) {
    const t = resolveTarget(name, s, layers, files);
    if (t !== undefined) targets[s] = t;
  }
  signals = signals.filter((s) => targets[s] !== undefined);
  if (signals.length === 0) return undefined;
  const x: Pick<CodeBackend, 'queue' | 'retry' | 'maxRequestBytes' | 'maxPointsPerRequest'> = extras ?? {
    queue: {},
    retry: {},
    maxRequestBytes: undefined,
    maxPointsPerRequest: undefined,
  };
  const f = extras?.field ?? `backend "${name}"`;
  const d = DEFAULTS.backend;
  const queue = Object.freeze({
    maxBytes: num(x.queue.maxBytes, `${f}.queue.maxBytes`, COUNT) ?? d.queue.maxBytes,
    maxRequests: num(x.queue.maxRequests, `${f}.queue.maxRequests`, COUNT) ?? d.queue.maxRequests,
  });
  const givenMax = num(x.maxRequestBytes, `${f}.maxRequestBytes`, COUNT);
  let maxRequestBytes = givenMax ?? d.maxRequestBytes;
  if (maxRequestBytes > queue.maxBytes) {
    // A request bigger than the whole queue could never be queued, so it could never be sent.
    // Only a value the user gave is worth a warning; our default just follows the smaller queue.
    if (givenMax !== undefined) {
      warnInvalid(`${f}.maxRequestBytes`, givenMax, `at most ${f}.queue.maxBytes (${queue.maxBytes})`, `using ${queue.maxBytes}`);
    }
    maxRequestBytes = queue.maxBytes;
  }
  return Object.freeze({
    name,
    kind,
    source,
    signals: Object.freeze(signals),
    temporality,
    metrics: targets.metrics,
    logs: targets.logs,
    queue,
    retry: resolveRetry(x.retry, `${f}.retry`),
    maxRequestBytes,
    maxPointsPerRequest: num(x.maxPointsPerRequest, `${f}.maxPointsPerRequest`, { ...COUNT, infinity: true }) ?? d.maxPointsPerRequest,
  });
}

function resolveRetry(r: Record<string, unknown>, f: string): ResolvedRetry {
  const d = DEFAULTS.backend.retry;
  const initial = num(r.initialBackoffMillis, `${f}.initialBackoffMillis`, MILLIS) ?? d.initialBackoffMillis;
  let max = num(r.maxBackoffMillis, `${f}.maxBackoffMillis`, MILLIS) ?? d.maxBackoffMillis;
  if (max < initial) {
    warnInvalid(`${f}.maxBackoffMillis`, max, `at least initialBackoffMillis (${initial})`, `using ${initial}`);
    max = initial;
  }
  return Object.freeze({
    enabled: flag(r.enabled, `${f}.enabled`) ?? d.enabled,
    initialBackoffMillis: initial,
    maxBackoffMillis: max,
    multiplier: num(r.multiplier, `${f}.multiplier`, { min: 1 }) ?? d.multiplier,
    jitter: num(r.jitter, `${f}.jitter`, { min: 0, max: 1 }) ?? d.jitter,
    maxElapsedMillis: num(r.maxElapsedMillis, `${f}.maxElapsedMillis`, { min: 0 }) ?? d.maxElapsedMillis,
  });
}

/** Layers in precedence order: code per-signal, code, environment per-signal, environment. */
function resolveTarget(
  name: string,
  signal: ExportSignal,
  layers: readonly BackendLayer[],
  files: Map<string, Buffer | Error>,
): ResolvedTarget | undefined {
  const stack: TargetLayer[] = [];
  for (const l of layers) stack.push(l[signal], l.target);
  const first = <K extends keyof TargetLayer>(key: K): TargetLayer[K] | undefined => {
    for (const t of stack) if (t[key] !== undefined) return t[key];
    return undefined;
  };
  const protocol = first('protocol') ?? DEFAULTS.backend.protocol;
  const insecure = first('insecure') ?? DEFAULTS.backend.insecure;
  const url = targetUrl(first('endpoint'), protocol, signal, insecure);
  const headers: Record<string, string> = {};
  for (let i = stack.length - 1; i >= 0; i--) Object.assign(headers, stack[i]!.headers);

  let tls: ResolvedTls = Object.freeze({ ca: undefined, cert: undefined, key: undefined, insecure });
  const sources = { ca: first('ca'), cert: first('cert'), key: first('key') };
  if (url.startsWith('https:')) {
    const material: Record<'ca' | 'cert' | 'key', Buffer | undefined> = { ca: undefined, cert: undefined, key: undefined };
    for (const part of ['ca', 'cert', 'key'] as const) {
      const src = sources[part];
      if (src === undefined) continue;
      const got = loadPem(src, files);
      if (got instanceof Error) {
        // Without the material asked for, TLS would be weaker than configured (or fail later, obscurely).
        warnConfig(`tls:${src.field}:${src.file ?? ''}`, `${src.field}: ${got.message}; backend "${name}" does not export ${signal}`);
        return undefined;
      }
      material[part] = got;
    }
    if ((material.cert === undefined) !== (material.key === undefined)) {
      const given = material.cert !== undefined ? sources.cert! : sources.key!;
      warnConfig(
        `tls-pair:${given.field}`,
        `${given.field}: a client certificate and key go together; ` + `backend "${name}" sends ${signal} without client authentication`,
      );
      material.cert = material.key = undefined;
    }
    tls = Object.freeze({ ...material, insecure });
  } else if (sources.ca ?? sources.cert ?? sources.key) {
    const given = (sources.ca ?? sources.cert ?? sources.key)!;
    warnConfig(`tls-plain:${given.field}`, `${given.field}: TLS material ignored: ${url} is not https`);
  }
  return Object.freeze({
    url,
    protocol,
    headers: Object.freeze(headers),
    compression: first('compression') ?? DEFAULTS.backend.compression,
    timeoutMillis: first('timeoutMillis') ?? DEFAULTS.backend.timeoutMillis,
    tls,
  });
}

/** PEM bytes from inline content or a file (read once per resolve); an Error says what is wrong. */
function loadPem(src: PemSource, files: Map<string, Buffer | Error>): Buffer | Error {
  let bytes: Buffer | Error;
  if (src.pem !== undefined) {
    bytes = typeof src.pem === 'string' ? Buffer.from(src.pem, 'utf8') : Buffer.from(src.pem);
  } else {
    const path = src.file!;
    const cached = files.get(path);
    if (cached !== undefined) bytes = cached;
    else {
      try {
        bytes = readFileSync(path);
      } catch (err) {
        const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
        bytes = new Error(`cannot read ${JSON.stringify(path)} (${code})`);
      }
      files.set(path, bytes);
    }
  }
  if (bytes instanceof Error) return bytes;
  // node:tls takes PEM only; a DER file or a wrong path fails later with an obscure handshake error.
  if (!bytes.includes('-----BEGIN ')) {
    return new Error(src.file !== undefined ? `${JSON.stringify(src.file)} is not PEM` : 'not PEM');
  }
  return bytes;
}

// ---- values ----

interface Range {
  readonly min: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** Infinity is allowed ("no limit"). */
  readonly infinity?: boolean;
}
const MILLIS: Range = { min: 1, max: MAX_MILLIS };
const DELAY: Range = { min: 0, max: MAX_MILLIS };
const COUNT: Range = { min: 1, integer: true };
const LIMIT: Range = { min: 0, integer: true };
const PORT: Range = { min: 0, max: 65_535, integer: true };

/** A listen host: a non-empty string without spaces or a scheme (`localhost`, `0.0.0.0`, `::1`). */
function hostSetting(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^[^\s/]+$/.test(value)) return value;
  warnInvalid(field, value, 'a host name or IP address', 'using the default');
  return undefined;
}

/** A page path: starts with `/`, no spaces, no query. */
function pathSetting(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^\/[^\s?#]*$/.test(value)) return value;
  warnInvalid(field, value, 'a path starting with "/"', 'using the default');
  return undefined;
}
const NO_LIMIT: Range = { ...LIMIT, infinity: true };

/**
 * A numeric setting: the code value (checked), else the environment's (checked by env.ts), else
 * the default; with the name to blame in later messages and whether anyone set it at all.
 */
function setting(
  code: unknown,
  field: string,
  range: Range,
  env: number | undefined,
  variable: string,
  def: number,
): { value: number; field: string; explicit: boolean } {
  const checked = num(code, field, range);
  if (checked !== undefined) return { value: checked, field, explicit: true };
  if (env !== undefined) return { value: env, field: variable, explicit: true };
  return { value: def, field, explicit: false };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** An option group: an object, or nothing (a non-object is reported and treated as nothing). */
function group(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  const r = record(value);
  if (r === undefined) {
    warnInvalid(field, value, 'an object', 'using the defaults');
    return {};
  }
  return r;
}

function num(value: unknown, field: string, range: Range): number | undefined {
  if (value === undefined) return undefined;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value === 'number') {
    if (value === Infinity && range.infinity) return value;
    if (value >= range.min && value <= max && (!range.integer || Number.isInteger(value))) return value;
  }
  const what = range.integer ? 'an integer' : 'a number';
  warnInvalid(field, value, `${what} from ${range.min} to ${range.infinity ? 'Infinity' : max}`, 'using the default');
  return undefined;
}

function flag(value: unknown, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  warnInvalid(field, value, 'true or false', 'using the default');
  return undefined;
}

function word<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback = 'using the default'): T | undefined {
  if (value === undefined) return undefined;
  const hit = allowed.find((a) => a === value);
  if (hit === undefined) warnInvalid(field, value, `one of ${allowed.join(', ')}`, fallback);
  return hit;
}
