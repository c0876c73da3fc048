/**
 * Endpoint rules of the OTLP exporter spec ("Endpoint URLs for OTLP/HTTP", "Configuration
 * Options"), in one place:
 * - a per-signal endpoint is used as is;
 * - a backend (base) endpoint gets `v1/<signal>` appended to its path for the HTTP protocols;
 * - gRPC uses scheme, host and port only (the service path is fixed), as the other SDKs do;
 * - an endpoint without a scheme (`collector:4317`) is https unless `insecure` is set;
 * - nothing set: `http://localhost:4317` for gRPC, `http://localhost:4318` (+ path) for HTTP.
 */
import type { ExportSignal, Protocol } from './options.js';
import { DEFAULTS } from './options.js';
import { PROTOCOLS } from '../transport/protocols.js';
import { SIGNAL_SPECS } from '../otlp/signals.js';
import { warnConfig } from './config-error.js';

/** An endpoint as configured, with where it came from (for messages). */
export interface EndpointSetting {
  readonly value: string;
  /** The variable or option path that set it. */
  readonly field: string;
  /** True when it names the full signal URL (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `metrics.endpoint`). */
  readonly perSignal: boolean;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Checks an endpoint; returns what is wrong in words, or undefined when it is usable.
 * Credentials in the URL are refused: the transports would not send them, and they would
 * leak into every diagnostic that prints the endpoint.
 */
export function endpointProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(SCHEME.test(value) ? value : `https://${value}`);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'the scheme must be http or https';
  if (url.hostname === '') return 'no host';
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not supported (use headers)';
  return undefined;
}

/** Whether an endpoint string carries its own scheme. */
export function hasScheme(value: string): boolean {
  return SCHEME.test(value);
}

/**
 * The URL a transport should use for `signal`: the full request URL for HTTP, the origin for
 * gRPC. `endpoint` must have passed `endpointProblem()`.
 */
export function targetUrl(endpoint: EndpointSetting | undefined, protocol: Protocol, signal: ExportSignal, insecure: boolean): string {
  const grpc = PROTOCOLS[protocol].transport === 'grpc';
  if (endpoint === undefined) {
    return grpc ? DEFAULTS.backend.grpcEndpoint : `${DEFAULTS.backend.httpEndpoint}${SIGNAL_SPECS[signal].httpPath}`;
  }
  const raw = hasScheme(endpoint.value) ? endpoint.value : `${insecure ? 'http' : 'https'}://${endpoint.value}`;
  const url = new URL(raw);
  url.hash = '';
  if (grpc) {
    if (url.pathname !== '/' || url.search !== '') {
      warnConfig(
        `grpc-path:${endpoint.field}:${endpoint.value}`,
        `${endpoint.field}: gRPC uses only scheme, host and port; ignoring the path of ${JSON.stringify(endpoint.value)}`,
      );
    }
    return url.origin;
  }
  if (!endpoint.perSignal) url.pathname = `${url.pathname.replace(/\/+$/, '')}${SIGNAL_SPECS[signal].httpPath}`;
  return url.href;
}
