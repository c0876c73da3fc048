/**
 * Options shared by the OTLP transports, validated once into a frozen, fully
 * populated shape. Defaults follow the OTLP exporter specification
 * (https://opentelemetry.io/docs/specs/otel/protocol/exporter/) where it has one.
 */
import { SIGNAL_SPECS, SIGNALS } from '../otlp/signals.js';
import type { Signal } from '../otlp/types.js';
import { TransportOptionError } from './errors.js';

/** Request compression. `none` is the OTLP exporter default. */
export type Compression = 'gzip' | 'none';

/** Every compression, for validation. */
export const COMPRESSIONS: readonly Compression[] = Object.freeze(['gzip', 'none']);

/** Default compression: `none`, the spec default; gzip costs CPU that loopback peers do not need. */
export const DEFAULT_COMPRESSION: Compression = 'none';

/** PEM text or bytes (a `Buffer` is a `Uint8Array`). */
export type Pem = string | Uint8Array;

/** TLS settings for `https://` endpoints (and scheme-less gRPC endpoints without `insecure`). */
export interface TlsOptions {
  /**
   * Certificate authorities that sign the server certificate, replacing Node's bundled roots.
   * Default: Node's bundled roots (OTEL_EXPORTER_OTLP_CERTIFICATE unset).
   */
  readonly ca?: Pem | ReadonlyArray<Pem>;
  /** Client certificate chain for mutual TLS (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE). Needs `key`. */
  readonly cert?: Pem;
  /** Private key of `cert` (OTEL_EXPORTER_OTLP_CLIENT_KEY). Needs `cert`. */
  readonly key?: Pem;
  /**
   * OTEL_EXPORTER_OTLP_INSECURE, exactly as the exporter spec defines it: it only
   * chooses plaintext (true) or TLS (false) for a gRPC endpoint written without a
   * scheme (`collector:4317`). A scheme, when present, always wins, and the HTTP
   * transport ignores the option. It never turns off certificate verification.
   * Default: false (TLS), the spec default.
   */
  readonly insecure?: boolean;
}

/** Per-signal endpoints; each is used exactly as given (no `/v1/<signal>` appended). */
export type SignalEndpoints = { readonly [S in Signal]?: string };

/** Options common to the gRPC and HTTP transports. */
export interface OtlpTransportOptions {
  /**
   * Where to send. HTTP: a base URL to which `/v1/<signal>` is appended.
   * gRPC: `http://host:port` (h2c), `https://host:port` (TLS) or `host:port` (see `tls.insecure`).
   * Default: `http://localhost:4318` (HTTP) or `http://localhost:4317` (gRPC), the spec defaults.
   */
  readonly endpoint?: string;
  /** Per-signal endpoints, used as given (OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT). Default: none. */
  readonly signalEndpoints?: SignalEndpoints;
  /** Headers (gRPC metadata) sent with every request. Default: none. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Request compression. Default: `none`, the spec default; gzip costs CPU that loopback peers do not need. */
  readonly compression?: Compression;
  /**
   * Upper bound on one export call, connection and response included. Default: 10000,
   * the spec default. A per-call `deadline` can only shorten it.
   */
  readonly timeoutMillis?: number;
  /** TLS settings. Default: Node's defaults (bundled roots, no client certificate). */
  readonly tls?: TlsOptions;
  /**
   * A body larger than this (before compression) is never sent: the call fails with
   * code `too_large`, not retryable. Default: 64 MiB, so only pathological batches stop
   * here; the OTLP spec recommends servers accept at least 20 MiB, and many gRPC
   * servers accept only 4 MiB, so set it to your peer's limit.
   */
  readonly maxRequestBytes?: number;
  /**
   * At most this many response bytes are read (after decompression); a bigger response
   * fails with `bad_response` without being read further. Default: 4 MiB, far above
   * any Export response (a few bytes, or an error message).
   */
  readonly maxResponseBytes?: number;
}

/** The validated, frozen form of the common options. */
export interface ResolvedTransportOptions {
  /** Fully resolved target per signal: a URL for HTTP, a base URL for gRPC. */
  readonly urls: Readonly<Record<Signal, URL>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: Compression;
  readonly timeoutMillis: number;
  readonly tls: Readonly<{ ca?: Pem | Pem[]; cert?: Pem; key?: Pem; insecure: boolean }>;
  readonly maxRequestBytes: number;
  readonly maxResponseBytes: number;
}

/** Default timeout of one export call (OTEL_EXPORTER_OTLP_TIMEOUT default). */
export const DEFAULT_TIMEOUT_MILLIS = 10_000;
/** Default `maxRequestBytes`: 64 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** Default `maxResponseBytes`: 4 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Default OTLP/HTTP endpoint (spec). */
export const DEFAULT_HTTP_ENDPOINT = 'http://localhost:4318';
/** Default OTLP/gRPC endpoint (spec). */
export const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';
/** Sent as User-Agent unless the caller sets one; the exporter spec asks exporters to name themselves. */
export const USER_AGENT = 'otlp-fanout-js/0.1.0';

// setTimeout clamps larger delays to 1 ms; connect's size limits are 32-bit.
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_BYTES = 2 ** 32 - 1;
// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values are bytes: tab, visible ASCII and Latin-1. Control characters would end or split the
// header line; characters beyond U+00FF have no single-byte form.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// Set by the transport itself from the protocol, compression and deadline; a caller value would
// corrupt framing or negotiation.
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'host',
  'te',
  'upgrade',
  'accept-encoding',
  // The gRPC transport's internal call-to-body reference (grpc.ts), removed before the wire.
  'x-otlp-fanout-body-ref',
]);

/** Why a header cannot be sent. */
export type HeaderProblem = 'name' | 'reserved' | 'value';

/**
 * The header rules, shared by the transports (which throw) and the config layer (which warns
 * and skips): `undefined` when `name: value` can be sent; `grpc` also reserves `grpc-*` names.
 */
export function headerProblem(name: string, value: unknown, grpc: boolean): HeaderProblem | undefined {
  if (!TOKEN.test(name)) return 'name';
  const lower = name.toLowerCase();
  if (RESERVED_HEADERS.has(lower) || (grpc && lower.startsWith('grpc-'))) return 'reserved';
  if (typeof value !== 'string' || !HEADER_VALUE.test(value)) return 'value';
  return undefined;
}

/**
 * Validates the common options for `protocol` and resolves the endpoints.
 * Throws {@link TransportOptionError} naming the field, the value and what is allowed.
 */
export function validateTransportOptions(options: OtlpTransportOptions | undefined, protocol: 'http' | 'grpc'): ResolvedTransportOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new TransportOptionError('options', o, 'expected an object');
  const tls = validateTls(o.tls);
  const urls = resolveUrls(o, protocol, tls.insecure);
  return Object.freeze({
    urls: Object.freeze(urls),
    headers: validateHeaders(o.headers, protocol),
    compression: validateCompression(o.compression),
    timeoutMillis: positiveInt('timeoutMillis', o.timeoutMillis, DEFAULT_TIMEOUT_MILLIS, MAX_TIMER_MS),
    tls,
    maxRequestBytes: positiveInt('maxRequestBytes', o.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, MAX_BYTES),
    maxResponseBytes: positiveInt('maxResponseBytes', o.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, MAX_BYTES),
  });
}

/** Validates an optional positive integer no larger than `max`. */
export function positiveInt(field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
    throw new TransportOptionError(field, value, `expected an integer from 1 to ${max}`);
  }
  return value;
}

function validateCompression(value: unknown): Compression {
  if (value === undefined) return DEFAULT_COMPRESSION;
  if (!COMPRESSIONS.includes(value as Compression)) throw new TransportOptionError('compression', value, 'expected "gzip" or "none"');
  return value as Compression;
}

/** Validates TLS options (PEM text or bytes; cert and key together); throws {@link TransportOptionError} naming `tls.<field>`. */
export function validateTls(value: TlsOptions | undefined): ResolvedTransportOptions['tls'] {
  if (value === undefined) return Object.freeze({ insecure: false });
  if (typeof value !== 'object' || value === null) throw new TransportOptionError('tls', value, 'expected an object');
  const out: { ca?: Pem | Pem[]; cert?: Pem; key?: Pem; insecure: boolean } = { insecure: false };
  if (value.ca !== undefined) {
    if (Array.isArray(value.ca)) {
      const list = value.ca as ReadonlyArray<unknown>;
      list.forEach((item, i) => pem(`tls.ca[${i}]`, item));
      out.ca = [...(list as Pem[])];
    } else {
      out.ca = pem('tls.ca', value.ca);
    }
  }
  if (value.cert !== undefined) out.cert = pem('tls.cert', value.cert);
  if (value.key !== undefined) out.key = pem('tls.key', value.key);
  if ((out.cert === undefined) !== (out.key === undefined)) {
    const field = out.cert === undefined ? 'tls.cert' : 'tls.key';
    throw new TransportOptionError(field, undefined, 'tls.cert and tls.key must be given together for mutual TLS');
  }
  if (value.insecure !== undefined) {
    if (typeof value.insecure !== 'boolean') throw new TransportOptionError('tls.insecure', value.insecure, 'expected true or false');
    out.insecure = value.insecure;
  }
  return Object.freeze(out);
}

function pem(field: string, value: unknown): Pem {
  if (typeof value === 'string') {
    if (!value.includes('-----BEGIN ')) throw new TransportOptionError(field, value, 'expected PEM text ("-----BEGIN ...") or its bytes');
    return value;
  }
  if (value instanceof Uint8Array) return value;
  throw new TransportOptionError(field, value, 'expected PEM text or a Buffer/Uint8Array holding it');
}

/** What an error shows instead of a header value. */
const HIDDEN_VALUE = '(value hidden)';

/** Validates headers by {@link headerProblem}'s rules, lower-casing names; throws {@link TransportOptionError} naming `headers.<name>`. */
export function validateHeaders(value: unknown, protocol: 'http' | 'grpc'): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TransportOptionError('headers', value, 'expected an object of header name to string value');
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const field = `headers.${name}`;
    const problem = headerProblem(name, v, protocol === 'grpc');
    if (problem === 'name') throw new TransportOptionError(field, name, 'expected a header name made of RFC 9110 token characters');
    // Header values are often credentials (a token, an API key): never put them in an error message.
    if (problem === 'reserved') throw new TransportOptionError(field, HIDDEN_VALUE, 'this header is set by the transport and cannot be overridden');
    if (problem === 'value') throw new TransportOptionError(field, HIDDEN_VALUE, 'expected a string without control characters (no CR, LF, NUL)');
    const lower = name.toLowerCase();
    if (lower in out) throw new TransportOptionError(field, v, 'header names are case-insensitive; this one is given twice');
    // gRPC metadata keys are lowercase on the wire (HTTP/2); lowercase for both so duplicates are found.
    out[lower] = v as string; // headerProblem() checked it is a string
  }
  return Object.freeze(out);
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function resolveUrls(o: OtlpTransportOptions, protocol: 'http' | 'grpc', insecure: boolean): Record<Signal, URL> {
  const base = o.endpoint ?? (protocol === 'http' ? DEFAULT_HTTP_ENDPOINT : DEFAULT_GRPC_ENDPOINT);
  const baseUrl = parseEndpoint('endpoint', base, protocol, insecure);
  const perSignal = o.signalEndpoints ?? {};
  if (typeof perSignal !== 'object' || perSignal === null) {
    throw new TransportOptionError('signalEndpoints', perSignal, 'expected an object with optional metrics, logs, traces URLs');
  }
  for (const key of Object.keys(perSignal)) {
    if (!SIGNALS.includes(key as Signal)) {
      throw new TransportOptionError(`signalEndpoints.${key}`, (perSignal as Record<string, unknown>)[key], 'allowed keys are metrics, logs, traces');
    }
  }
  const urls = {} as Record<Signal, URL>;
  for (const signal of SIGNALS) {
    const given = perSignal[signal];
    if (given !== undefined) {
      urls[signal] = parseEndpoint(`signalEndpoints.${signal}`, given, protocol, insecure);
    } else if (protocol === 'http') {
      // Spec: append v1/<signal> to the base path, keeping any path prefix.
      const url = new URL(baseUrl.href);
      url.pathname = `${url.pathname.replace(/\/+$/, '')}${SIGNAL_SPECS[signal].httpPath}`;
      urls[signal] = url;
    } else {
      urls[signal] = baseUrl;
    }
  }
  return urls;
}

function parseEndpoint(field: string, value: unknown, protocol: 'http' | 'grpc', insecure: boolean): URL {
  if (typeof value !== 'string' || value === '') throw new TransportOptionError(field, value, 'expected a URL string');
  let text = value;
  if (!SCHEME.test(text)) {
    if (protocol === 'http') throw new TransportOptionError(field, value, 'expected an http:// or https:// URL');
    // gRPC target without a scheme: the insecure option picks plaintext or TLS (exporter spec).
    text = `${insecure ? 'http' : 'https'}://${text}`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TransportOptionError(field, value, 'expected a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TransportOptionError(field, value, 'expected the http or https scheme');
  }
  if (url.username !== '' || url.password !== '') {
    throw new TransportOptionError(field, value, 'credentials in the URL are not sent; use headers');
  }
  return url;
}

/** The TLS material in the form node:tls takes (`Buffer` views over the given bytes, no copy). */
export function nodeTlsOptions(tls: ResolvedTransportOptions['tls']): {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
} {
  const out: { ca?: string | Buffer | Array<string | Buffer>; cert?: string | Buffer; key?: string | Buffer } = {};
  if (tls.ca !== undefined) out.ca = Array.isArray(tls.ca) ? tls.ca.map(asNode) : asNode(tls.ca as Pem);
  if (tls.cert !== undefined) out.cert = asNode(tls.cert);
  if (tls.key !== undefined) out.key = asNode(tls.key);
  return out;
}

function asNode(p: Pem): string | Buffer {
  return typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}
