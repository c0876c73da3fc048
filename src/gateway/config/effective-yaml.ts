/**
 * The effective configuration as YAML, for OpAMP's EffectiveConfig (docs/gateway.md, OpAMP): what
 * the gateway runs with — the file, the flags, `${ENV}` and the defaults resolved, a remote config
 * applied — in the file's own keys and units, so an operator reads it as they would write it.
 *
 * Redaction rule: nothing that is or may be a secret leaves. Header values (upstreams', self-telemetry's,
 * OpAMP's own) are `<redacted>` whatever their name (an `x-custom` header carries keys as often as
 * `authorization` does); tenant tokens and API keys are one `<redacted>` each (the config keeps only
 * their digests; the count is what an operator checks after a rotation); every TLS file shows as
 * `<redacted>` (the config keeps the PEM contents, not the paths, and a private key must never leave;
 * one rule for all three keeps a certificate from standing in for its key by mistake); an endpoint's
 * query parameters other than `encoding` are `<redacted>` (vendors put API keys there). Every mapping
 * is written in a fixed order, so an unchanged config renders to the same bytes (the OpAMP client
 * sends it only when they change).
 *
 * A config without secrets renders to YAML that loads back to an equal config (the tests check it);
 * `--forward` upstreams are written under their URL names, which a file cannot use.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { SIGNALS } from '../../otlp/signals.js';
import type { GatewayConfig } from './gateway-config.js';
import type { OpampConfig } from './opamp.js';
import type { ProcessorConfig } from './processors.js';
import type { ReceiverConfig } from './receivers.js';
import type { RouteConfig } from './routes.js';
import type { TenantConfig } from './tenants.js';
import type { UpstreamConfig } from './upstreams.js';
import { formatAddress } from './values.js';

/** What stands in for a secret. */
export const REDACTED = '<redacted>';

// Loaded on first use, as load.ts does: the yaml package is ~8 MiB resident.
const requireModule = createRequire(import.meta.url);

/** `config` as a YAML document, secrets redacted (the module comment's rule). */
export function effectiveConfigYaml(config: GatewayConfig): string {
  const yaml = requireModule('yaml') as typeof Yaml;
  // No anchors and aliases (`&a1` / `*a1`) for repeated values: a reader should not need to resolve them.
  return yaml.stringify(effectiveConfigDocument(config), { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** The document {@link effectiveConfigYaml} writes. */
export function effectiveConfigDocument(c: GatewayConfig): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    receivers: { grpc: receiver(c.grpc), http: receiver(c.http) },
    auth: { apiKeyHeader: c.apiKeyHeader },
    tenants: Object.fromEntries(c.tenants.map((t) => [t.name, tenant(t)])),
    upstreams: upstreamMap(c.upstreams),
    routes: c.routes.map(route),
    limits: {
      maxRequestBytes: size(c.limits.maxRequestBytes),
      maxQueuedBytes: size(c.limits.maxQueuedBytes),
      retryAfter: duration(c.limits.retryAfterMillis),
    },
    drainTimeout: duration(c.drainTimeoutMillis),
    observe: { verbosity: c.observe.verbosity, interval: duration(c.observe.intervalMillis) },
    selfTelemetry: {
      interval: duration(c.selfTelemetry.intervalMillis),
      resource: { ...c.selfTelemetry.resource },
      upstreams: upstreamMap(c.selfTelemetry.upstreams),
    },
  };
  if (c.storage !== null) {
    doc['storage'] = {
      directory: c.storage.directory,
      maxBytes: size(c.storage.maxBytes),
      segmentBytes: size(c.storage.segmentBytes),
      fsync: c.storage.fsync,
      fsyncInterval: duration(c.storage.fsyncIntervalMillis),
    };
  }
  if (c.opamp !== null) doc['opamp'] = opamp(c.opamp);
  return doc;
}

function receiver(r: ReceiverConfig | null): unknown {
  if (r === null) return false;
  const out: Record<string, unknown> = { address: formatAddress(r.host, r.port) };
  if (r.tls !== null) out['tls'] = { certFile: REDACTED, keyFile: REDACTED };
  return out;
}

function tenant(t: TenantConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const tokens = t.credentials.filter((c) => c.kind === 'bearer').map(() => REDACTED);
  const apiKeys = t.credentials.filter((c) => c.kind === 'apiKey').map(() => REDACTED);
  if (tokens.length > 0) out['tokens'] = tokens;
  if (apiKeys.length > 0) out['apiKeys'] = apiKeys;
  // A tenant's own upstream is named `<tenant>/<key>`; the file names it by its key.
  if (t.upstreams.length > 0) out['upstreams'] = upstreamMap(t.upstreams, `${t.name}/`);
  return out;
}

function upstreamMap(upstreams: readonly UpstreamConfig[], prefix = ''): Record<string, unknown> {
  return Object.fromEntries(upstreams.map((u) => [u.name.slice(prefix.length), upstream(u)]));
}

function upstream(u: UpstreamConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    endpoint: redactQuery(u.display),
    protocol: u.protocol,
    headers: redactValues(u.headers),
    compression: u.compression,
    timeout: duration(u.timeoutMillis),
    maxConcurrency: u.maxConcurrency,
    queue: { maxBytes: size(u.queue.maxBytes), maxRequests: u.queue.maxRequests },
    batch: { maxBytes: size(u.batchMaxBytes) },
    retry: {
      initialBackoff: duration(u.retry.initialBackoffMillis),
      maxBackoff: duration(u.retry.maxBackoffMillis),
      multiplier: u.retry.multiplier,
      jitter: u.retry.jitter,
      maxElapsed: duration(u.retry.maxElapsedMillis),
    },
  };
  const tls = tlsFiles(u.tls);
  if (tls !== undefined) out['tls'] = tls;
  if (u.processors.length > 0) out['processors'] = u.processors.map(processor);
  if (u.temporality !== undefined) {
    const t = u.temporality;
    out['temporality'] = { to: t.to, maxStreams: t.maxStreams, staleAfter: duration(t.staleAfterMillis), firstPoint: t.firstPoint };
  }
  return out;
}

function route(r: RouteConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { name: r.name, signals: SIGNALS.filter((s) => r.signals.has(s)) };
  if (r.tenants !== null) out['tenants'] = [...r.tenants];
  out['match'] = Object.fromEntries(r.match.map((m) => [m.key, m.pattern]));
  out['upstreams'] = [...r.upstreams];
  if (r.processors.length > 0) out['processors'] = r.processors.map(processor);
  return out;
}

function processor(p: ProcessorConfig): Record<string, unknown> {
  switch (p.kind) {
    case 'resource':
    case 'attributes':
      return { [p.kind]: p.edits.map((e) => ({ ...e })) };
    case 'redact':
      return { redact: [...p.keys] };
    case 'filter': {
      // Only the conditions set: a filter with none does not load.
      const metrics = p.metricNames.length > 0 ? { names: [...p.metricNames] } : undefined;
      const logs: Record<string, unknown> = {};
      if (p.minSeverity > 0) logs['minSeverity'] = p.minSeverity;
      if (p.logBodies.length > 0) logs['bodies'] = [...p.logBodies];
      if (p.logAttributes.length > 0) logs['attributes'] = Object.fromEntries(p.logAttributes.map((a) => [a.key, a.pattern]));
      const spans = p.spanNames.length > 0 ? { names: [...p.spanNames] } : undefined;
      return {
        filter: {
          ...(metrics === undefined ? {} : { metrics }),
          ...(Object.keys(logs).length === 0 ? {} : { logs }),
          ...(spans === undefined ? {} : { spans }),
        },
      };
    }
  }
}

function opamp(o: OpampConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { endpoint: redactQuery(o.endpoint), headers: redactValues(o.headers) };
  const tls = tlsFiles(o.tls);
  if (tls !== undefined) out['tls'] = tls;
  out['pollingInterval'] = duration(o.pollingIntervalMillis);
  return out;
}

function tlsFiles(tls: { readonly ca?: unknown; readonly cert?: unknown; readonly key?: unknown }): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (tls.ca !== undefined) out['caFile'] = REDACTED;
  if (tls.cert !== undefined) out['certFile'] = REDACTED;
  if (tls.key !== undefined) out['keyFile'] = REDACTED;
  return Object.keys(out).length === 0 ? undefined : out;
}

function redactValues(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((k) => [k, REDACTED]));
}

/** `https://h/p?api_key=<redacted>&encoding=json`: every query value but `encoding`'s redacted, the rest as given. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq < 0) return p;
      return p.slice(0, eq) === 'encoding' ? p : `${p.slice(0, eq)}=${REDACTED}`;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

const SIZE_UNITS: ReadonlyArray<[string, number]> = [
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];

/** `64MiB`, `1GiB`, or a byte count when no binary unit divides it. */
function size(bytes: number): string | number {
  for (const [unit, n] of SIZE_UNITS) if (bytes > 0 && bytes % n === 0) return `${bytes / n}${unit}`;
  return bytes;
}

const TIME_UNITS: ReadonlyArray<[string, number]> = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `10s`, `5m`, `250ms`: the largest unit that divides it. */
function duration(millis: number): string {
  for (const [unit, n] of TIME_UNITS) if (millis > 0 && millis % n === 0) return `${millis / n}${unit}`;
  return `${millis}ms`;
}
