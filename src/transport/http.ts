/**
 * OTLP/HTTP (binary protobuf or JSON) over undici, with keep-alive through one
 * dispatcher per transport.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { StatusSchema } from '../../gen/google/rpc/status_pb.js';
import { decodeJson } from '../otlp/json.js';
import { readPartialSuccess, signalSchemas } from '../otlp/signal-schemas.js';
import type { ExportServiceResponse } from '../otlp/signal-schemas.js';
import { SIGNALS } from '../otlp/signals.js';
import type { Signal } from '../otlp/types.js';
import { isFailed, openCallScope, precheck } from './call-scope.js';
import { closableTransport } from './closable.js';
import type { AbortListener, CallScope } from './call-scope.js';
import { gunzipBounded, gzipBody } from './compression.js';
import { TransportOptionError } from './errors.js';
import { failureFromError } from './error-mapping.js';
import { nodeTlsOptions, positiveInt, USER_AGENT, validateTransportOptions } from './options.js';
import type { OtlpTransportOptions, ResolvedTransportOptions } from './options.js';
import { failed, httpFailure } from './retryable.js';
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
  // Built once, not per call.
  const headers = opts.compression === 'gzip' ? { ...baseHeaders, 'content-encoding': 'gzip' } : baseHeaders;
  const targets = {} as Record<Signal, { origin: string; path: string }>;
  for (const signal of SIGNALS) {
    const url = opts.urls[signal];
    targets[signal] = { origin: url.origin, path: `${url.pathname}${url.search}` };
  }

  async function call(signal: Signal, body: Uint8Array, callOptions: ExportCallOptions | undefined): Promise<ExportResult> {
    const refused = precheck(signal, body, opts.maxRequestBytes);
    if (refused !== undefined) return refused;
    const scope = openCallScope(opts.timeoutMillis, callOptions);
    if (isFailed(scope)) return scope;
    try {
      const payload = opts.compression === 'gzip' ? await gzipBody(body) : body;
      if (scope.aborted) throw toError(scope.reason);
      const response = await send(agent, targets[signal], headers, payload, scope, opts.maxResponseBytes);
      return await readResponse(signal, response, opts);
    } catch (e) {
      return failureFromError(e, scope);
    } finally {
      scope.dispose();
    }
  }

  return closableTransport(opts.encoding, call, () => agent.close());
}

/** A response as `send` collected it: its body in memory, or 'too_large' past the limit. */
export interface Collected {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array | 'too_large';
}

/**
 * One POST through `dispatcher.dispatch` with a handler that collects the response
 * (at most `max` bytes) itself. Why not `dispatcher.request()`: it wraps every response
 * in a Readable stream that we then iterate, which cost more than the rest of our side
 * of a small call (bench/transport.bench.ts profiles); the limits stay as they were
 * (Content-Length checked first, reading stops past `max`, the connection is dropped then).
 */
export function send(
  dispatcher: Dispatcher,
  target: { readonly origin: string; readonly path: string },
  headers: Record<string, string>,
  body: Uint8Array,
  scope: CallScope,
  max: number,
): Promise<Collected> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers, body }, new Collector(scope, max, resolve, reject));
  });
}

/** Undici handler that settles `send`'s promise once: on the end, the limit, an error or an abort. */
class Collector implements Dispatcher.DispatchHandler, AbortListener {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  readonly #chunks: Buffer[] = [];
  #total = 0;
  #settled = false;
  #controller: Dispatcher.DispatchController | undefined;

  constructor(
    readonly scope: CallScope,
    readonly max: number,
    readonly resolve: (c: Collected) => void,
    readonly reject: (e: unknown) => void,
  ) {
    scope.listen(this);
  }

  /** The call's scope aborted: settle at once, and stop the request if it has started. */
  onAbort(reason: unknown): void {
    this.#fail(reason);
    // A request not started yet is stopped in onRequestStart.
    this.#controller?.abort(toError(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.scope.aborted) controller.abort(toError(this.scope.reason));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
    const length = Number(first(headers['content-length']) ?? Number.NaN);
    if (length > this.max) this.#tooLarge(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#total += chunk.length;
    // The compressed form is never larger than the limit either, so both stay bounded.
    if (this.#total > this.max) this.#tooLarge(controller);
    else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.scope.listen(undefined);
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body: concat(this.#chunks, this.#total) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#fail(error);
  }

  #tooLarge(controller: Dispatcher.DispatchController): void {
    if (this.#settled) return;
    this.#settled = true;
    this.scope.listen(undefined);
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body: 'too_large' });
    // The rest is not read: the connection goes with it rather than being drained.
    controller.abort(new Error(`response exceeds maxResponseBytes ${this.max}`));
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.scope.listen(undefined);
    this.reject(error);
  }
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason), { cause: reason });
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

async function readResponse(signal: Signal, res: Collected, opts: ResolvedHttpTransportOptions): Promise<ExportResult> {
  const status = res.statusCode;
  const ok = status >= 200 && status < 300;
  const contentType = mediaType(header(res, 'content-type'));
  const body = await decodeBody(res, opts.maxResponseBytes);
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
 * The collected body after Content-Encoding: at most `max` bytes after gzip
 * decompression (zlib stops at the limit).
 */
async function decodeBody(res: Collected, max: number): Promise<Uint8Array | 'too_large' | 'bad_encoding'> {
  if (res.body === 'too_large') return 'too_large';
  const encoding = (header(res, 'content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') return 'bad_encoding';
  const raw = res.body;
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

function header(res: Collected, name: string): string | undefined {
  return first(res.headers[name]);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
