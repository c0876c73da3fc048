/**
 * OTLP/HTTP (binary protobuf or JSON) over undici, with keep-alive through one
 * dispatcher per transport.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { StatusSchema } from '../../gen/google/rpc/status_pb.js';
import { decodeJson } from '../otlp/json.js';
import { readPartialSuccess } from '../otlp/partial-success.js';
import type { ExportServiceResponse } from '../otlp/partial-success.js';
import type { Signal } from '../otlp/types.js';
import { isFailed, openCallScope, precheck } from './call-scope.js';
import { gunzipBounded, gzipBody } from './compression.js';
import { TransportOptionError } from './errors.js';
import { failureFromError } from './error-mapping.js';
import { nodeTlsOptions, positiveInt, USER_AGENT, validateTransportOptions } from './options.js';
import type { OtlpTransportOptions, ResolvedTransportOptions } from './options.js';
import { failed, httpFailure } from './retryable.js';
import { signalSchemas } from './signals.js';
import type { Encoding, ExportCallOptions, ExportResult, Transport } from './types.js';

/** Options of {@link createOtlpHttpTransport}. */
export interface OtlpHttpTransportOptions extends OtlpTransportOptions {
  /**
   * Body encoding: `protobuf` (application/x-protobuf) or `json` (application/json;
   * encode bodies with `encodeJson` or `protobufToJsonBody`). Default: `protobuf`, the
   * OTLP/HTTP default and the smaller, faster encoding.
   */
  readonly encoding?: Encoding;
  /**
   * Most connections opened to one origin. Default: no limit, because the export layer
   * already bounds how many calls are in flight; a second limit here would only queue
   * requests where their deadlines cannot see them.
   */
  readonly maxConnections?: number;
  /**
   * How long an idle keep-alive connection is kept, in ms (a server's Keep-Alive hint
   * may shorten it). Default: 4000 (undici's default): below the 5 s after which Node's
   * http server drops idle sockets, so we close first instead of racing the server's close.
   */
  readonly keepAliveTimeoutMillis?: number;
}

/** The validated options of an HTTP transport. */
export interface ResolvedHttpTransportOptions extends ResolvedTransportOptions {
  readonly encoding: Encoding;
  /** `null`: no limit. */
  readonly maxConnections: number | null;
  readonly keepAliveTimeoutMillis: number;
}

/** Validates HTTP transport options into their frozen, fully populated form. */
export function validateHttpTransportOptions(options?: OtlpHttpTransportOptions): ResolvedHttpTransportOptions {
  const common = validateTransportOptions(options, 'http');
  const encoding = options?.encoding ?? 'protobuf';
  if (encoding !== 'protobuf' && encoding !== 'json') {
    throw new TransportOptionError('encoding', encoding, 'expected "protobuf" or "json"');
  }
  return Object.freeze({
    ...common,
    encoding,
    maxConnections: options?.maxConnections === undefined ? null : positiveInt('maxConnections', options.maxConnections, 1, 65_535),
    keepAliveTimeoutMillis: positiveInt('keepAliveTimeoutMillis', options?.keepAliveTimeoutMillis, 4000, 2 ** 31 - 1),
  });
}

const CONTENT_TYPE: Readonly<Record<Encoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/**
 * Creates an OTLP/HTTP transport: `POST` to `{endpoint}/v1/{signal}` (or the signal's
 * own endpoint, as given), keep-alive connections through one undici Agent that
 * `close()` closes.
 * - gzip request bodies with Content-Encoding when `compression: 'gzip'`;
 * - responses read up to `maxResponseBytes` after decompression, then abandoned;
 * - 2xx bodies decoded (protobuf or JSON, by Content-Type) for partial success;
 *   error bodies (google.rpc.Status) decoded for the server's message;
 * - 429/502/503/504 retryable with Retry-After; everything else not (retryable.ts);
 * - 3xx redirects are not followed: they fail, not retryable, naming the Location,
 *   because following one would send the configured headers (often credentials) to
 *   another origin.
 */
export function createOtlpHttpTransport(options?: OtlpHttpTransportOptions): Transport {
  const opts = validateHttpTransportOptions(options);
  const agent = new Agent({
    keepAliveTimeout: opts.keepAliveTimeoutMillis,
    ...(opts.maxConnections === null ? {} : { connections: opts.maxConnections }),
    connect: nodeTlsOptions(opts.tls),
  });
  const baseHeaders: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers, 'content-type': CONTENT_TYPE[opts.encoding] };
  const targets = {} as Record<Signal, { origin: string; path: string }>;
  for (const signal of ['metrics', 'logs', 'traces'] as const) {
    const url = opts.urls[signal];
    targets[signal] = { origin: url.origin, path: `${url.pathname}${url.search}` };
  }
  const inFlight = new Set<Promise<ExportResult>>();
  let closed = false;

  async function call(signal: Signal, body: Uint8Array, callOptions: ExportCallOptions | undefined): Promise<ExportResult> {
    if (closed) return failed('unavailable', 'the transport is closed', false);
    const refused = precheck(signal, body, opts.maxRequestBytes);
    if (refused !== undefined) return refused;
    const scope = openCallScope(opts.timeoutMillis, callOptions);
    if (isFailed(scope)) return scope;
    let response: Dispatcher.ResponseData | undefined;
    try {
      const headers = opts.compression === 'gzip' ? { ...baseHeaders, 'content-encoding': 'gzip' } : baseHeaders;
      const payload = opts.compression === 'gzip' ? await gzipBody(body) : body;
      scope.signal.throwIfAborted();
      response = await agent.request({
        ...targets[signal],
        method: 'POST',
        headers,
        body: payload,
        signal: scope.signal,
      });
      return await readResponse(signal, response, opts);
    } catch (e) {
      return failureFromError(e, scope);
    } finally {
      scope.dispose();
      // Whatever was not read is dropped with its socket rather than drained.
      if (response !== undefined && !response.body.destroyed) response.body.destroy();
    }
  }

  return {
    encoding: opts.encoding,
    export(signal, body, callOptions) {
      const p = call(signal, body, callOptions);
      inFlight.add(p);
      // call() never rejects; the catch only keeps the bookkeeping chain from ever reporting one.
      p.finally(() => inFlight.delete(p)).catch(() => undefined);
      return p;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      await agent.close();
    },
  };
}

async function readResponse(
  signal: Signal,
  res: Dispatcher.ResponseData,
  opts: ResolvedHttpTransportOptions,
): Promise<ExportResult> {
  const status = res.statusCode;
  const ok = status >= 200 && status < 300;
  const contentType = mediaType(header(res, 'content-type'));
  const body = await readBody(res, opts.maxResponseBytes);
  if (body === 'too_large') {
    // Spec-wise a 2xx means the data was taken, but an unreadable answer cannot say
    // whether all of it was: report it, and never retry (that could duplicate data).
    return failed('bad_response', `HTTP ${status} response exceeds maxResponseBytes ${opts.maxResponseBytes}; not read`, false, { status });
  }
  if (body === 'bad_encoding') {
    return ok
      ? failed('bad_response', `HTTP ${status} response has an unsupported Content-Encoding`, false, { status })
      : httpFailure(status, `HTTP ${status}`, header(res, 'retry-after'), Date.now());
  }
  if (ok) {
    if (body.length === 0) return { kind: 'ok' };
    const schema = signalSchemas[signal].response;
    const encoding = contentType === 'application/json' ? 'json' : isProtobuf(contentType) ? 'protobuf' : opts.encoding;
    let decoded: ExportServiceResponse;
    try {
      decoded = encoding === 'json' ? decodeJson(schema, body) : fromBinary(schema, body);
    } catch (e) {
      return failed('bad_response', `HTTP ${status} response is not a valid ${schema.typeName} (${encoding})`, false, { status, cause: e });
    }
    const partial = readPartialSuccess(decoded);
    return partial === undefined ? { kind: 'ok' } : { kind: 'partial', rejected: partial.rejected, message: partial.message };
  }
  if (status >= 300 && status < 400) {
    const location = header(res, 'location');
    return failed('rejected', `HTTP ${status} redirect${location === undefined ? '' : ` to ${location}`} not followed`, false, { status });
  }
  const message = errorMessage(body, contentType);
  return httpFailure(status, message === undefined ? `HTTP ${status}` : `HTTP ${status}: ${message}`, header(res, 'retry-after'), Date.now());
}

/**
 * Reads at most `max` bytes of the body (after gzip decompression). Stops as soon as
 * the limit is crossed, or before reading at all when Content-Length says so.
 */
async function readBody(res: Dispatcher.ResponseData, max: number): Promise<Uint8Array | 'too_large' | 'bad_encoding'> {
  const length = Number(header(res, 'content-length') ?? Number.NaN);
  if (length > max) return 'too_large';
  const encoding = (header(res, 'content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') return 'bad_encoding';
  const chunks: Uint8Array[] = [];
  let total = 0;
  // The compressed form is never larger than the limit either, so both stay bounded.
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > max) return 'too_large';
    chunks.push(chunk);
  }
  const raw = concat(chunks, total);
  if (encoding === 'identity' || raw.length === 0) return raw;
  try {
    return (await gunzipBounded(raw, max)) ?? 'too_large';
  } catch {
    return 'bad_encoding';
  }
}

/** The server's own message from an error body: google.rpc.Status (protobuf or JSON) or plain text. */
function errorMessage(body: Uint8Array, contentType: string | undefined): string | undefined {
  if (body.length === 0) return undefined;
  if (contentType === 'application/json') {
    try {
      const json: unknown = JSON.parse(new TextDecoder().decode(body));
      if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
        return clip((json as { message: string }).message);
      }
    } catch {
      // Not JSON after all: fall through to text.
    }
    return clip(new TextDecoder().decode(body));
  }
  if (contentType === undefined || isProtobuf(contentType)) {
    try {
      const st = fromBinary(StatusSchema, body);
      if (st.message !== '') return clip(st.message);
    } catch {
      // Not a Status (some proxies answer in text without a Content-Type).
    }
    if (isProtobuf(contentType)) return undefined;
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body).trim();
  return text === '' ? undefined : clip(text);
}

// Error messages end up in logs; a proxy's HTML error page should not fill them.
function clip(s: string): string {
  return s.length > 1024 ? `${s.slice(0, 1021)}...` : s;
}

function isProtobuf(contentType: string | undefined): boolean {
  return contentType === 'application/x-protobuf' || contentType === 'application/protobuf';
}

function mediaType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.split(';', 1)[0]!.trim().toLowerCase();
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
