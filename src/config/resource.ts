/**
 * The resource every export carries. Layers, later winning (resource SDK spec: user-provided
 * attributes win over detected ones):
 *   detected (telemetry.sdk.*, process.*, host.name) < OTEL_RESOURCE_ATTRIBUTES < code `resource`;
 * `service.name` separately: code `serviceName` > code `resource['service.name']` >
 * OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > `unknown_service:<executable>` (spec).
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Attributes } from '../otlp/types.js';
import { isAttributeValue } from '../otlp/encode/common.js';
import type { TelemetryOptions } from './options.js';
import { readEnv, type EnvRecord } from './env.js';
import { warnInvalid } from './config-error.js';
import { packageVersion } from '../internal/package-version.js';

/**
 * The process's resource attributes, frozen. Reads only OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES from `env` (the rest of it is ignored here).
 */
export function detectResource(options: Pick<TelemetryOptions, 'serviceName' | 'resource'> = {}, env: EnvRecord = process.env): Readonly<Attributes> {
  const { serviceName, resourceAttributes } = readEnv({
    OTEL_SERVICE_NAME: env.OTEL_SERVICE_NAME,
    OTEL_RESOURCE_ATTRIBUTES: env.OTEL_RESOURCE_ATTRIBUTES,
  });
  return buildResource(options, serviceName, resourceAttributes);
}

/** Shared with `resolveConfig()`, which has already read the environment. */
export function buildResource(
  options: { readonly serviceName?: unknown; readonly resource?: unknown },
  envServiceName: string | undefined,
  envAttributes: Readonly<Record<string, string>>,
): Readonly<Attributes> {
  const out: Attributes = { ...detected() };
  Object.assign(out, envAttributes);
  const codeAttributes = attributesOption(options.resource, 'resource');
  Object.assign(out, codeAttributes);
  const codeName = typeof options.serviceName === 'string' && options.serviceName !== '' ? options.serviceName : undefined;
  if (options.serviceName !== undefined && codeName === undefined) {
    warnInvalid('serviceName', options.serviceName, 'a non-empty string', 'ignored');
  }
  const codeResourceName = codeAttributes['service.name'];
  out['service.name'] =
    codeName ??
    (typeof codeResourceName === 'string' ? codeResourceName : undefined) ??
    envServiceName ??
    envAttributes['service.name'] ??
    `unknown_service:${executableName()}`;
  return Object.freeze(out);
}

/**
 * The attributes every metric point and log record get: `OTEL_FANOUT_ATTRIBUTES`, then the
 * `attributes` option over it by key. Bad entries are skipped with one warning each.
 */
export function buildCommonAttributes(code: unknown, envAttributes: Readonly<Record<string, string>>): Readonly<Attributes> {
  return Object.freeze({ ...envAttributes, ...attributesOption(code, 'attributes') });
}

/** An attributes object from code (`field` names it in warnings); bad entries skipped with a warning. */
function attributesOption(attributes: unknown, field: string): Attributes {
  const out: Attributes = {};
  if (attributes === undefined) return out;
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    warnInvalid(field, attributes, 'an object of attributes', 'ignored');
    return out;
  }
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    if (key === '' || !isAttributeValue(value)) {
      const allowed = 'a non-empty key with a string, number, boolean or array of one of them';
      warnInvalid(`${field}[${JSON.stringify(key)}]`, value, allowed, 'attribute skipped');
      continue;
    }
    out[key] = value;
  }
  return out;
}

let cached: Readonly<Attributes> | undefined;

/** What the process is; computed once (nothing here changes while it runs). */
function detected(): Readonly<Attributes> {
  cached ??= Object.freeze({
    'telemetry.sdk.name': 'otlp-fanout',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': packageVersion(),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'host.name': hostname(),
  });
  return cached;
}

/** `node` for Node.js; the spec's unknown_service suffix is the executable's name. */
function executableName(): string {
  return basename(process.execPath).replace(/\.exe$/i, '') || 'node';
}
