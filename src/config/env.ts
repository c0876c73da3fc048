/**
 * The OTEL_* environment, read once into plain values (README, section Configuration, lists every variable).
 * Spec rules (SDK environment variables): an empty value is unset; enum values are
 * case-insensitive; a value that cannot be parsed or is out of range is reported once and
 * ignored, so the default applies. Booleans are true only for `true` (any case).
 *
 * Deliberate departure, product rule: the spec's default `OTEL_{METRICS,LOGS}_EXPORTER=otlp` would
 * make every process connect to localhost. Here the `otlp` backend exists for a signal only when
 * that exporter variable names `otlp` explicitly or an OTLP endpoint variable for the signal is set;
 * with nothing configured nothing is exported and no connection is made.
 */
import type { ExportSignal, FsyncPolicy, HistogramAggregation, Temporality } from './options.js';
import { DEFAULTS } from './options.js';
import { PROTOCOL_NAMES } from '../transport/protocols.js';
import { COMPRESSIONS } from '../transport/options.js';
import { warnConfig, warnInvalid } from './config-error.js';
import { parseKeyValueList } from './key-value-list.js';
import { normalizeHeaders } from './headers.js';
import { endpointProblem } from './endpoint.js';
import type { BackendLayer, PemSource, TargetLayer } from './backend-layer.js';
import { BACKEND_NAME, backendEnvKey } from './backend-layer.js';

/** An environment: `process.env` or a test's record. */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** The exporters `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER` may name here. */
export type ExporterName = 'otlp' | 'console' | 'prometheus' | 'none';

/** What the environment says; undefined fields were unset or invalid (already warned about). */
export interface EnvConfig {
  readonly disabled?: boolean | undefined;
  readonly serviceName?: string | undefined;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded; later duplicates win. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** OTEL_FANOUT_ATTRIBUTES (attributes of every point and record), decoded as OTEL_RESOURCE_ATTRIBUTES. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly exportIntervalMillis?: number | undefined;
  readonly exportTimeoutMillis?: number | undefined;
  readonly runtimeMetrics?: boolean | undefined;
  /** OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: the default for every backend. */
  readonly temporality?: Temporality | undefined;
  readonly metrics: {
    readonly cardinalityLimit?: number | undefined;
    readonly defaultHistogramAggregation?: HistogramAggregation | undefined;
  };
  // The option groups of TelemetryOptions as the environment can set them (validate.ts merges the two).
  readonly logs: {
    readonly batch: {
      readonly maxQueueSize?: number | undefined;
      readonly maxExportBatchSize?: number | undefined;
      readonly scheduledDelayMillis?: number | undefined;
      readonly exportTimeoutMillis?: number | undefined;
    };
    readonly limits: {
      readonly attributeCountLimit?: number | undefined;
      readonly attributeValueLengthLimit?: number | undefined;
    };
  };
  /**
   * OTEL_FANOUT_STORAGE_*: the durable queues' settings as given. `invalid`: the settings whose
   * variable could not be used (already warned about): storage stays off unless code sets them.
   */
  readonly storage: {
    readonly directory?: string | undefined;
    readonly maxBytes?: number | undefined;
    readonly fsync?: FsyncPolicy | undefined;
    readonly invalid: readonly ('maxBytes' | 'fsync')[];
    /** The variables set, for a warning when they configure nothing. */
    readonly variables: readonly string[];
  };
  /** OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER as given (undefined: unset). */
  readonly exporters: { readonly metrics?: readonly ExporterName[] | undefined; readonly logs?: readonly ExporterName[] | undefined };
  /** Backends the environment declares: `otlp` (when selected), `console`, then OTEL_FANOUT_BACKENDS in order. */
  readonly backends: readonly BackendLayer[];
  /**
   * OTEL_EXPORTER_OTLP_* settings present while no signal selects the `otlp` backend; used if
   * code declares a backend named `otlp`, otherwise reported as ignored.
   */
  readonly inactiveOtlp?: BackendLayer | undefined;
}

const MAX_MILLIS = 2 ** 31 - 1; // setTimeout's ceiling; longer delays fire at once.
const SIGNALS: readonly ExportSignal[] = ['metrics', 'logs'];
const TEMPORALITIES: readonly Temporality[] = ['cumulative', 'delta', 'lowmemory'];
const HISTOGRAMS: readonly HistogramAggregation[] = ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'];
const EXPORTERS: readonly ExporterName[] = ['otlp', 'console', 'prometheus', 'none'];
const FSYNC_POLICIES: readonly FsyncPolicy[] = ['always', 'interval', 'never'];
/** What a storage setting that cannot be used leads to (config/options.ts, StorageOptions, says why). */
export const STORAGE_OFF = 'storage off: queues stay in memory';
/** Names the environment's own backends use. */
const RESERVED_NAMES = new Set(['otlp', 'console', 'prometheus']);

/** Reads every variable otlp-fanout knows. Pure apart from one-time warnings. */
export function readEnv(env: EnvRecord = process.env): EnvConfig {
  const countLimit = int(env, 'OTEL_ATTRIBUTE_COUNT_LIMIT', 0);
  const lengthLimit = int(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0);
  const exporters = {
    metrics: exporterList(env, 'OTEL_METRICS_EXPORTER'),
    logs: exporterList(env, 'OTEL_LOGS_EXPORTER'),
  };
  const { backends, inactiveOtlp } = envBackends(env, exporters);
  return {
    disabled: bool(env, 'OTEL_SDK_DISABLED'),
    serviceName: str(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes: keyValueAttributes(env, 'OTEL_RESOURCE_ATTRIBUTES'),
    attributes: keyValueAttributes(env, 'OTEL_FANOUT_ATTRIBUTES'),
    exportIntervalMillis: int(env, 'OTEL_METRIC_EXPORT_INTERVAL', 1, MAX_MILLIS),
    exportTimeoutMillis: int(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 1, MAX_MILLIS),
    runtimeMetrics: bool(env, 'OTEL_FANOUT_RUNTIME_METRICS'),
    temporality: oneOf(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', TEMPORALITIES),
    metrics: {
      cardinalityLimit: int(env, 'OTEL_FANOUT_METRICS_CARDINALITY_LIMIT', 1),
      defaultHistogramAggregation: oneOf(env, 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION', HISTOGRAMS),
    },
    logs: {
      batch: {
        maxQueueSize: int(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 1),
        maxExportBatchSize: int(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 1),
        scheduledDelayMillis: int(env, 'OTEL_BLRP_SCHEDULE_DELAY', 0, MAX_MILLIS),
        exportTimeoutMillis: int(env, 'OTEL_BLRP_EXPORT_TIMEOUT', 1, MAX_MILLIS),
      },
      limits: {
        // The log-specific variables win over the general ones (spec: attribute limits).
        attributeCountLimit: int(env, 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', 0) ?? countLimit,
        attributeValueLengthLimit: int(env, 'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0) ?? lengthLimit,
      },
    },
    storage: storageEnv(env),
    exporters,
    backends,
    inactiveOtlp,
  };
}

/**
 * OTEL_FANOUT_STORAGE_*. Checked here for syntax only (an integer, a policy name); the log's own
 * rules (export/durable/options.ts) apply when the configuration is resolved. A value that cannot
 * be used turns storage off rather than falling back to a default: a default maxBytes larger than
 * the one meant could fill the disk.
 */
function storageEnv(env: EnvRecord): EnvConfig['storage'] {
  const names = ['OTEL_FANOUT_STORAGE_DIRECTORY', 'OTEL_FANOUT_STORAGE_MAX_BYTES', 'OTEL_FANOUT_STORAGE_FSYNC'] as const;
  const variables = names.filter((v) => str(env, v) !== undefined);
  const maxBytes = int(env, names[1], 1, Number.MAX_SAFE_INTEGER, STORAGE_OFF);
  const fsync = oneOf(env, names[2], FSYNC_POLICIES, STORAGE_OFF);
  const invalid: ('maxBytes' | 'fsync')[] = [];
  if (variables.includes(names[1]) && maxBytes === undefined) invalid.push('maxBytes');
  if (variables.includes(names[2]) && fsync === undefined) invalid.push('fsync');
  return { directory: str(env, names[0]), maxBytes, fsync, invalid, variables };
}

/**
 * The environment's view of the backend called `name`: `OTEL_EXPORTER_OTLP_*` for `otlp`,
 * `OTEL_FANOUT_BACKEND_<NAME>_*` for any other. `resolveConfig()` uses it for code backends the
 * environment does not declare, so secrets can come from the environment.
 */
export function readBackendEnv(env: EnvRecord, name: string): BackendLayer {
  if (name === 'otlp') return readTargets(env, name, 'OTEL_EXPORTER_OTLP_');
  const prefix = `OTEL_FANOUT_BACKEND_${backendEnvKey(name)}_`;
  const layer = readTargets(env, name, prefix);
  const variables = [...layer.variables];
  const temporality = oneOf(env, `${prefix}TEMPORALITY`, TEMPORALITIES);
  const signals = list(env, `${prefix}SIGNALS`, SIGNALS);
  if (env[`${prefix}TEMPORALITY`]?.trim()) variables.push(`${prefix}TEMPORALITY`);
  if (env[`${prefix}SIGNALS`]?.trim()) variables.push(`${prefix}SIGNALS`);
  return { ...layer, temporality, signals, variables };
}

function envBackends(env: EnvRecord, exporters: EnvConfig['exporters']): { backends: BackendLayer[]; inactiveOtlp?: BackendLayer | undefined } {
  const backends: BackendLayer[] = [];
  const killed = (s: ExportSignal): boolean => exporters[s]?.includes('none') === true;

  const otlp = readBackendEnv(env, 'otlp');
  const otlpSignals = SIGNALS.filter((s) => {
    const chosen = exporters[s];
    if (chosen !== undefined) return chosen.includes('otlp') && !chosen.includes('none');
    // A broken endpoint counts as set: the operator asked for OTLP (the resolver then leaves it out).
    const set = (t: TargetLayer): boolean => t.endpoint !== undefined || t.endpointInvalid === true;
    return set(otlp.target) || set(otlp[s]);
  });
  let inactiveOtlp: BackendLayer | undefined;
  if (otlpSignals.length > 0) backends.push({ ...otlp, signals: otlpSignals });
  else if (otlp.variables.length > 0) inactiveOtlp = otlp;

  const consoleSignals = SIGNALS.filter((s) => exporters[s]?.includes('console') && !killed(s));
  if (consoleSignals.length > 0) {
    const none = {};
    backends.push({ name: 'console', kind: 'console', signals: consoleSignals, target: none, metrics: none, logs: none, variables: [] });
  }

  // A pull endpoint: metrics only (the spec defines no Prometheus logs exporter).
  if (exporters.metrics?.includes('prometheus') && !killed('metrics')) {
    const none = {};
    backends.push({
      name: 'prometheus',
      kind: 'prometheus',
      signals: ['metrics'],
      target: none,
      metrics: none,
      logs: none,
      variables: [],
      host: str(env, 'OTEL_EXPORTER_PROMETHEUS_HOST'),
      port: int(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', 0, 65_535),
    });
  }

  for (const name of declaredNames(env)) {
    const layer = readBackendEnv(env, name);
    const signals = (layer.signals ?? DEFAULTS.backend.signals).filter((s) => !killed(s));
    backends.push({ ...layer, signals });
  }
  return { backends, inactiveOtlp };
}

/** OTEL_FANOUT_BACKENDS: names, checked so that each maps to its own variables. */
function declaredNames(env: EnvRecord): string[] {
  const variable = 'OTEL_FANOUT_BACKENDS';
  const text = str(env, variable);
  if (text === undefined) return [];
  const names: string[] = [];
  const keys = new Map<string, string>();
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!BACKEND_NAME.test(name)) {
      warnInvalid(variable, name, 'names of letters, digits, "_", "-", "." (at most 64)', 'backend skipped');
      continue;
    }
    if (RESERVED_NAMES.has(name)) {
      const why = 'a name other than "otlp" and "console" (OTEL_EXPORTER_OTLP_* and OTEL_*_EXPORTER declare those)';
      warnInvalid(variable, name, why, 'backend skipped');
      continue;
    }
    const key = backendEnvKey(name);
    // `a` and `a_metrics` would both own OTEL_FANOUT_BACKEND_A_METRICS_ENDPOINT.
    const overlaps = (k: string): boolean =>
      k === key || [`${k}_METRICS`, `${k}_LOGS`].includes(key) || [`${key}_METRICS`, `${key}_LOGS`].includes(k);
    const clash = [...keys].find(([k]) => overlaps(k))?.[1];
    if (clash !== undefined) {
      warnInvalid(variable, name, `a name whose variables do not overlap those of "${clash}"`, 'backend skipped');
      continue;
    }
    keys.set(key, name);
    names.push(name);
  }
  return names;
}

function readTargets(env: EnvRecord, name: string, prefix: string): BackendLayer {
  const variables: string[] = [];
  const target = readTarget(env, name, prefix, '', variables);
  const metrics = readTarget(env, name, prefix, 'METRICS_', variables);
  const logs = readTarget(env, name, prefix, 'LOGS_', variables);
  return { name, target, metrics, logs, variables };
}

/** The nine connection variables of one signal infix ('' for the backend-wide ones). */
function readTarget(env: EnvRecord, name: string, prefix: string, infix: string, variables: string[]): TargetLayer {
  const v = (suffix: string): string => {
    const variable = `${prefix}${infix}${suffix}`;
    if (env[variable]?.trim()) variables.push(variable);
    return variable;
  };
  const endpointVar = v('ENDPOINT');
  const endpointText = str(env, endpointVar);
  let endpoint: TargetLayer['endpoint'];
  let endpointInvalid: true | undefined;
  if (endpointText !== undefined) {
    const problem = endpointProblem(endpointText);
    if (problem === undefined) endpoint = { value: endpointText, field: endpointVar, perSignal: infix !== '' };
    else {
      // Falling back to another endpoint would send data where nobody asked; the backend is left out.
      warnInvalid(endpointVar, endpointText, `an http:// or https:// URL (${problem})`, `backend "${name}" not used`);
      endpointInvalid = true;
    }
  }
  const headersVar = v('HEADERS');
  const headersText = str(env, headersVar);
  let headers: Record<string, string> | undefined;
  if (headersText !== undefined) {
    const parsed = parseKeyValueList(headersText);
    if (parsed.problems.length > 0) {
      warnInvalid(headersVar, headersText, `name=value,name2=value2 (${parsed.problems.join('; ')})`, 'bad entries skipped', true);
    }
    headers = normalizeHeaders(parsed.entries, headersVar);
  }
  return {
    endpoint,
    endpointInvalid,
    headers,
    protocol: oneOf(env, v('PROTOCOL'), PROTOCOL_NAMES),
    timeoutMillis: int(env, v('TIMEOUT'), 1, MAX_MILLIS),
    compression: oneOf(env, v('COMPRESSION'), COMPRESSIONS),
    ca: file(env, v('CERTIFICATE')),
    cert: file(env, v('CLIENT_CERTIFICATE')),
    key: file(env, v('CLIENT_KEY')),
    insecure: bool(env, v('INSECURE')),
  };
}

/** A `key=value,key2=value2` attributes variable (OTEL_RESOURCE_ATTRIBUTES' syntax and decoding). */
function keyValueAttributes(env: EnvRecord, variable: string): Record<string, string> {
  const text = str(env, variable);
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  const parsed = parseKeyValueList(text);
  if (parsed.problems.length > 0) {
    // The spec would discard the whole value; one typo costing every attribute helps nobody.
    warnInvalid(variable, text, `key=value,key2=value2 (${parsed.problems.join('; ')})`, 'bad entries skipped');
  }
  for (const [k, val] of parsed.entries) out[k] = val;
  return out;
}

function file(env: EnvRecord, variable: string): PemSource | undefined {
  const path = str(env, variable);
  return path === undefined ? undefined : { field: variable, file: path };
}

/** A trimmed value; empty or blank is unset (spec). */
function str(env: EnvRecord, variable: string): string | undefined {
  const raw = env[variable];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

function bool(env: EnvRecord, variable: string): boolean | undefined {
  const value = str(env, variable);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  warnInvalid(variable, value, '"true" or "false"', 'using false');
  return undefined;
}

/** A decimal integer in [min, max]; anything else (`1e3`, `10s`, `-1`) is reported and ignored. */
function int(env: EnvRecord, variable: string, min: number, max = Number.MAX_SAFE_INTEGER, fallback = 'using the default'): number | undefined {
  const value = str(env, variable);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    warnInvalid(variable, value, `an integer from ${min} to ${max}`, fallback);
    return undefined;
  }
  return n;
}

function oneOf<T extends string>(env: EnvRecord, variable: string, allowed: readonly T[], fallback = 'using the default'): T | undefined {
  const value = str(env, variable);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  const hit = allowed.find((a) => a === lower);
  if (hit === undefined) warnInvalid(variable, value, `one of ${allowed.join(', ')}`, fallback);
  return hit;
}

/** A comma list of allowed words (case-insensitive); unknown words are dropped, the rest kept. */
function list<T extends string>(env: EnvRecord, variable: string, allowed: readonly T[]): T[] | undefined {
  const value = str(env, variable);
  if (value === undefined) return undefined;
  const out: T[] = [];
  const bad: string[] = [];
  for (const raw of value.split(',')) {
    const word = raw.trim().toLowerCase();
    if (word === '') continue;
    const hit = allowed.find((a) => a === word);
    if (hit === undefined) bad.push(raw.trim());
    else if (!out.includes(hit)) out.push(hit);
  }
  if (bad.length > 0) {
    warnInvalid(variable, value, `a comma list of ${allowed.join(', ')}`, `ignoring ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  }
  return out;
}

function exporterList(env: EnvRecord, variable: string): ExporterName[] | undefined {
  let chosen = list(env, variable, EXPORTERS);
  if (variable === 'OTEL_LOGS_EXPORTER' && chosen?.includes('prometheus')) {
    warnInvalid(variable, str(env, variable), 'otlp, console or none (prometheus takes metrics only)', 'ignoring "prometheus"');
    chosen = chosen.filter((c) => c !== 'prometheus');
  }
  if (chosen?.includes('none') && chosen.length > 1) {
    // An operator who wrote `none` anywhere wants it off; exporting anyway would be the surprise.
    const value = str(env, variable) ?? '';
    warnConfig(`${variable}:none:${value}`, `${variable}: ${JSON.stringify(value)} names "none" together with other exporters; exporting nothing`);
    return ['none'];
  }
  return chosen;
}
