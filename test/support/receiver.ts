/**
 * A real OTLP receiver on loopback for tests, built on our gen/ schema:
 * - OTLP/gRPC: connect-node routes for the three collector services on an h2c server;
 * - OTLP/HTTP: `POST /v1/{metrics,logs,traces}` with protobuf or JSON bodies (JSON through
 *   our own `decodeJson`), gzip request bodies, answers in the request's encoding.
 * Every decoded request is recorded with the exact bytes the client serialized. A responder,
 * replaceable at any time, decides each answer, so export tests can script faults: error
 * statuses, Retry-After / RetryInfo, partial success, delays, stalls and connection resets.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { create, createRegistry, fromBinary, toBinary, toJsonString } from '@bufbuild/protobuf';
import type { DescMessage, Message, MessageShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createContextKey, createContextValues } from '@connectrpc/connect';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
  LogsService,
} from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportLogsServiceRequest } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import {
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
  MetricsService,
} from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import {
  ExportTraceServiceRequestSchema,
  ExportTraceServiceResponseSchema,
  TraceService,
} from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import type { ExportTraceServiceRequest } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js';
import { RetryInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../gen/google/rpc/status_pb.js';
import type { Signal } from '../../src/otlp/types.js';
import { decodeJson } from '../../src/otlp/json.js';
import { bracketIpv6Authority } from '../../src/gateway/receive/grpc-authority.js';

/** How a request reached the receiver. */
export type ReceiverProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** The decoded request message type of each signal. */
export interface RequestBySignal {
  metrics: ExportMetricsServiceRequest;
  logs: ExportLogsServiceRequest;
  traces: ExportTraceServiceRequest;
}

/** One recorded request of signal `S`. */
export interface ReceivedOf<S extends Signal> {
  readonly signal: S;
  readonly protocol: ReceiverProtocol;
  /** Request headers (gRPC: metadata), lower-case names, repeated values joined by ", "; no HTTP/2 pseudo-headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request decoded with our gen/ schema (unknown protobuf fields kept in `$unknown`). */
  readonly message: RequestBySignal[S];
  /** The body as the client serialized it, after decompression: protobuf bytes, or JSON text as UTF-8. */
  readonly bytes: Uint8Array;
  /** Whether the body arrived compressed (HTTP Content-Encoding, or a compressed gRPC frame). */
  readonly compressed: boolean;
}

/** One recorded request, discriminated by `signal`. */
export type ReceivedRequest = ReceivedOf<'metrics'> | ReceivedOf<'logs'> | ReceivedOf<'traces'>;

/**
 * What the receiver answers to one request. `delayMs` waits before answering (cut short by `close()`).
 * - `ok`: success with an empty response message.
 * - `partial`: success carrying partial_success (`rejected` items, `message`).
 * - `error`: HTTP `httpStatus` (default 503) with a google.rpc.Status body in the request's
 *   encoding, or gRPC status `grpcCode` (default: derived from `httpStatus`, see {@link grpcCodeForHttp}).
 *   `retryAfter` is sent verbatim as the HTTP Retry-After header (delta-seconds or an HTTP-date);
 *   `retryDelayMs` adds a google.rpc.RetryInfo detail (gRPC status details and the HTTP Status body).
 * - `reset`: drops the connection without answering, with a TCP reset (gRPC: the HTTP/2 connection carrying it).
 * - `stall`: never answers; the request ends when the client gives up or the receiver closes.
 */
export type Reply =
  | { readonly kind: 'ok'; readonly delayMs?: number }
  | { readonly kind: 'partial'; readonly rejected: number; readonly message?: string; readonly delayMs?: number }
  | {
      readonly kind: 'error';
      readonly httpStatus?: number;
      readonly grpcCode?: Code;
      readonly message?: string;
      readonly retryAfter?: string;
      readonly retryDelayMs?: number;
      readonly delayMs?: number;
    }
  | { readonly kind: 'reset'; readonly delayMs?: number }
  | { readonly kind: 'stall' };

/**
 * Decides the answer to a request. `index` is the request's position in `Receiver.requests`.
 * A responder that throws makes the receiver answer HTTP 500 / gRPC INTERNAL with the error's message.
 */
export type Responder = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>;

/** A request the receiver refused before it could be recorded (bad path, content type, body). */
export interface Rejection {
  readonly protocol: 'http';
  readonly path: string;
  readonly status: number;
  readonly message: string;
}

/** Options of {@link startReceiver}. */
export interface ReceiverOptions {
  /** Loopback address to listen on. Default `127.0.0.1`; `::1` for IPv6 tests. */
  readonly host?: string;
  /** Serve OTLP/gRPC. Default true. */
  readonly grpc?: boolean;
  /** Serve OTLP/HTTP. Default true. */
  readonly http?: boolean;
  /** The initial responder. Default: always `{ kind: 'ok' }`. */
  readonly respond?: Responder;
  /**
   * Largest body accepted, compressed and again after decompression; larger HTTP bodies get 413 before
   * they are buffered. Default 64 MiB, the transports' default `maxRequestBytes`, so a test may go up to it.
   */
  readonly maxBodyBytes?: number;
}

/** A running receiver; see {@link startReceiver}. */
export interface Receiver {
  /** Base URL for OTLP/gRPC clients (h2c), e.g. `http://127.0.0.1:40123`. Empty when gRPC is off. */
  readonly grpcUrl: string;
  /** Base URL for OTLP/HTTP clients; the signal paths are `/v1/<signal>`. Empty when HTTP is off. */
  readonly httpUrl: string;
  /** The full OTLP/HTTP URL of one signal. */
  httpEndpoint(signal: Signal): string;
  /** Every request decoded so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Every HTTP request refused before decoding succeeded. */
  readonly rejections: readonly Rejection[];
  /** Replaces the responder for the following requests (`undefined`: always ok). */
  respondWith(responder: Responder | undefined): void;
  /**
   * Resolves with the first recorded request (already recorded or still to come) that matches
   * `predicate`; rejects with {@link ReceiverTimeoutError} after `timeoutMs` (default 2000, so a
   * missing request fails a test quickly) or {@link ReceiverClosedError} on `close()`.
   */
  waitFor<R extends ReceivedRequest>(predicate: (r: ReceivedRequest, index: number) => r is R, timeoutMs?: number): Promise<R>;
  waitFor(predicate: (r: ReceivedRequest, index: number) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  /** Forgets the recorded requests and rejections; indexes start again at 0. */
  clear(): void;
  /** Ends stalled and delayed requests, drops every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** `waitFor` found no matching request in time. */
export class ReceiverTimeoutError extends Error {
  override readonly name = 'ReceiverTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly seen: number,
  ) {
    super(`no matching request within ${timeoutMs} ms (${seen} requests recorded)`);
  }
}

/** The receiver closed while `waitFor` was pending. */
export class ReceiverClosedError extends Error {
  override readonly name = 'ReceiverClosedError';
  constructor() {
    super('the receiver was closed');
  }
}

/** A type guard for `waitFor`/`filter`: requests of `signal`, optionally over one `protocol`. */
export function ofSignal<S extends Signal>(
  signal: S,
  protocol?: ReceiverProtocol,
): (r: ReceivedRequest) => r is Extract<ReceivedRequest, { signal: S }> {
  return (r): r is Extract<ReceivedRequest, { signal: S }> => r.signal === signal && (protocol === undefined || r.protocol === protocol);
}

/**
 * The gRPC code a test usually means by an HTTP status, for `error` replies that give only
 * `httpStatus`: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED,
 * 408/504 DEADLINE_EXCEEDED, 413/429 RESOURCE_EXHAUSTED, 500 INTERNAL, 502/503 UNAVAILABLE, else UNKNOWN.
 */
export function grpcCodeForHttp(status: number): Code {
  switch (status) {
    case 400:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.Unimplemented;
    case 408:
    case 504:
      return Code.DeadlineExceeded;
    case 413:
    case 429:
      return Code.ResourceExhausted;
    case 500:
      return Code.Internal;
    case 502:
    case 503:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

const DEFAULT_MAX_BODY = 64 * 1024 * 1024;
const DEFAULT_WAIT_MS = 2000;
const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotli = promisify(zlib.brotliDecompress);
const statusRegistry = createRegistry(RetryInfoSchema);
const alwaysOk: Responder = () => ({ kind: 'ok' });

/** Per gRPC request: the node request (to reach its session) and the raw body chunks as read. */
interface GrpcTap {
  readonly req: http2.Http2ServerRequest;
  readonly chunks: Buffer[];
}
const tapKey = createContextKey<GrpcTap | undefined>(undefined, { description: 'receiver gRPC tap' });

interface Waiter {
  readonly predicate: (r: ReceivedRequest, index: number) => boolean;
  readonly resolve: (r: ReceivedRequest) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** What a reply resolved to once delays, stalls and resets are dealt with. */
type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'partial'; readonly rejected: number; readonly message: string }
  | Extract<Reply, { kind: 'error' }>
  | { readonly kind: 'reset' }
  | { readonly kind: 'closed' };

/** Starts a receiver on `options.host` (default 127.0.0.1), port 0 for each protocol. */
export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  let responder = options.respond ?? alwaysOk;
  const requests: ReceivedRequest[] = [];
  const rejections: Rejection[] = [];
  let waiters: Waiter[] = [];
  // Aborted by close(): ends delays and stalls.
  const closing = new AbortController();

  function record(r: ReceivedRequest): number {
    const index = requests.push(r) - 1;
    const still: Waiter[] = [];
    for (const w of waiters) {
      let hit = false;
      try {
        hit = w.predicate(r, index);
      } catch (e) {
        clearTimeout(w.timer);
        w.reject(e instanceof Error ? e : new Error(String(e)));
        continue;
      }
      if (hit) {
        clearTimeout(w.timer);
        w.resolve(r);
      } else {
        still.push(w);
      }
    }
    waiters = still;
    return index;
  }

  /** Runs the responder and waits out delays and stalls. */
  async function decide(r: ReceivedRequest, index: number, clientGone: AbortSignal): Promise<Outcome> {
    let reply: Reply;
    try {
      reply = await responder(r, index);
    } catch (e) {
      return { kind: 'error', httpStatus: 500, grpcCode: Code.Internal, message: `responder failed: ${String(e)}` };
    }
    const either = AbortSignal.any([closing.signal, clientGone]);
    if (reply.kind === 'stall') {
      await wait(undefined, either);
      return { kind: 'closed' };
    }
    if (reply.delayMs !== undefined && reply.delayMs > 0 && !(await wait(reply.delayMs, either))) return { kind: 'closed' };
    if (reply.kind === 'partial') return { kind: 'partial', rejected: reply.rejected, message: reply.message ?? '' };
    return reply;
  }

  // ---- gRPC -------------------------------------------------------------------------------
  let grpcServer: http2.Http2Server | undefined;
  const sessions = new Set<http2.ServerHttp2Session>();
  // Raw sockets by client port: a session only exposes a proxy that refuses destroy/reset.
  const sockets = new Map<number, net.Socket>();
  const taps = new WeakMap<object, GrpcTap>();

  async function grpcOutcome(signal: Signal, ctx: HandlerContext): Promise<{ rejected: number; message: string } | undefined> {
    const tap = ctx.values.get(tapKey);
    if (tap === undefined) throw new ConnectError('receiver: request was not tapped', Code.Internal);
    const { bytes, compressed } = await grpcPayload(tap.chunks, ctx.requestHeader.get('grpc-encoding') ?? undefined, maxBody);
    // Decoded again from our copy: connect's message may hold Buffer views (after gunzip), which
    // deep equality tells apart from the Uint8Arrays that fromBinary gives for HTTP bodies.
    const r = decodeRequest(signal, 'grpc', plainHeaders(tap.req.headers), bytes, compressed);
    const outcome = await decide(r, record(r), ctx.signal);
    switch (outcome.kind) {
      case 'ok':
        return undefined;
      case 'partial':
        return outcome;
      case 'error': {
        const code = outcome.grpcCode ?? grpcCodeForHttp(outcome.httpStatus ?? 503);
        const details = outcome.retryDelayMs === undefined ? [] : [{ desc: RetryInfoSchema, value: { retryDelay: duration(outcome.retryDelayMs) } }];
        throw new ConnectError(outcome.message ?? 'receiver error', code, undefined, details);
      }
      case 'reset': {
        const socket = sockets.get(tap.req.socket.remotePort ?? -1);
        if (socket !== undefined) socket.resetAndDestroy();
        else tap.req.stream.session?.destroy();
        throw new ConnectError('receiver reset the connection', Code.Aborted);
      }
      case 'closed':
        throw new ConnectError('receiver stopped answering', Code.Aborted);
    }
  }

  if (options.grpc !== false) {
    const routes = (router: ConnectRouter): void => {
      router.service(MetricsService, {
        export: async (_, ctx) => {
          const p = await grpcOutcome('metrics', ctx);
          return p === undefined ? {} : { partialSuccess: { rejectedDataPoints: BigInt(p.rejected), errorMessage: p.message } };
        },
      });
      router.service(LogsService, {
        export: async (_, ctx) => {
          const p = await grpcOutcome('logs', ctx);
          return p === undefined ? {} : { partialSuccess: { rejectedLogRecords: BigInt(p.rejected), errorMessage: p.message } };
        },
      });
      router.service(TraceService, {
        export: async (_, ctx) => {
          const p = await grpcOutcome('traces', ctx);
          return p === undefined ? {} : { partialSuccess: { rejectedSpans: BigInt(p.rejected), errorMessage: p.message } };
        },
      });
    };
    const adapter = connectNodeAdapter({
      routes,
      grpc: true,
      grpcWeb: false,
      connect: false,
      readMaxBytes: maxBody,
      contextValues: (req) => createContextValues().set(tapKey, taps.get(req)),
    });
    grpcServer = http2.createServer((req, res) => {
      const tap: GrpcTap = { req, chunks: [] };
      tapBody(req, tap.chunks);
      taps.set(req, tap);
      bracketIpv6Authority(req);
      try {
        adapter(req, res);
      } catch (e) {
        // connect-node throws synchronously on requests it cannot even parse (a bad :authority).
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(String(e));
      }
    });
    grpcServer.on('connection', (socket: net.Socket) => {
      const port = socket.remotePort ?? -1;
      sockets.set(port, socket);
      socket.once('close', () => sockets.delete(port));
    });
    grpcServer.on('session', (s) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
      // A client that vanishes mid-stream surfaces here; the request itself already failed.
      s.on('error', () => {});
    });
    await listen(grpcServer, host);
  }

  // ---- HTTP -------------------------------------------------------------------------------
  let httpServer: http.Server | undefined;

  function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, message: string, json: boolean): void {
    rejections.push({ protocol: 'http', path: req.url ?? '', status, message });
    writeStatus(res, status, { message, code: grpcCodeForHttp(status) }, json, undefined);
  }

  async function onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    const match = /^\/v1\/(metrics|logs|traces)$/.exec(path);
    const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    const json = contentType === 'application/json';
    if (match === null) return refuse(req, res, 404, `no OTLP route ${path}`, json);
    const signal = match[1] as Signal;
    if (req.method !== 'POST') return refuse(req, res, 405, `method ${req.method ?? ''} not allowed`, json);
    if (!json && contentType !== 'application/x-protobuf' && contentType !== 'application/protobuf') {
      return refuse(req, res, 415, `unsupported content-type ${JSON.stringify(contentType)}`, false);
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > maxBody) return refuse(req, res, 413, `body of ${declared} bytes over ${maxBody}`, json);
    const raw = await readBody(req, maxBody);
    if (raw === undefined) return refuse(req, res, 413, `body over ${maxBody} bytes`, json);
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    let bytes: Uint8Array;
    try {
      bytes = await decompress(contentEncoding, raw, maxBody);
    } catch (e) {
      return refuse(req, res, contentEncoding === 'gzip' ? 400 : 415, `bad ${contentEncoding} body: ${String(e)}`, json);
    }
    const protocol: ReceiverProtocol = json ? 'http/json' : 'http/protobuf';
    let r: ReceivedRequest;
    try {
      r = decodeRequest(signal, protocol, plainHeaders(req.headers), bytes, contentEncoding !== 'identity');
    } catch (e) {
      return refuse(req, res, 400, `undecodable ${protocol} body: ${e instanceof Error ? e.message : String(e)}`, json);
    }
    const clientGone = new AbortController();
    res.once('close', () => clientGone.abort());
    const outcome = await decide(r, record(r), clientGone.signal);
    switch (outcome.kind) {
      case 'ok':
      case 'partial': {
        const response = responseMessage(signal, outcome.kind === 'partial' ? outcome : undefined);
        const body = json ? toJsonString(response.schema, response.message) : toBinary(response.schema, response.message);
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(body);
        return;
      }
      case 'error': {
        const status = outcome.httpStatus ?? 503;
        const code = outcome.grpcCode ?? grpcCodeForHttp(status);
        const detail = { code, message: outcome.message ?? 'receiver error', retryDelayMs: outcome.retryDelayMs };
        writeStatus(res, status, detail, json, outcome.retryAfter);
        return;
      }
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'closed':
        res.destroy();
        return;
    }
  }

  if (options.http !== false) {
    httpServer = http.createServer((req, res) => {
      onHttp(req, res).catch((e: unknown) => {
        // A broken client connection mid-write ends up here; answer if still possible.
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(e));
        } else {
          res.destroy();
        }
      });
    });
    await listen(httpServer, host);
  }

  const urlOf = (server: http.Server | http2.Http2Server | undefined): string => {
    if (server === undefined) return '';
    const { port } = server.address() as net.AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  };
  const grpcUrl = urlOf(grpcServer);
  const httpUrl = urlOf(httpServer);
  let closed: Promise<void> | undefined;

  function waitFor(predicate: (r: ReceivedRequest, index: number) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedRequest> {
    try {
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i]!;
        if (predicate(r, i)) return Promise.resolve(r);
      }
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    if (closing.signal.aborted) return Promise.reject(new ReceiverClosedError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== waiter);
        reject(new ReceiverTimeoutError(timeoutMs, requests.length));
      }, timeoutMs);
      timer.unref();
      const waiter: Waiter = { predicate, resolve, reject, timer };
      waiters.push(waiter);
    });
  }

  return {
    grpcUrl,
    httpUrl,
    httpEndpoint: (signal) => `${httpUrl}/v1/${signal}`,
    requests,
    rejections,
    respondWith(next) {
      responder = next ?? alwaysOk;
    },
    waitFor: waitFor as Receiver['waitFor'],
    clear() {
      requests.length = 0;
      rejections.length = 0;
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        for (const w of waiters) {
          clearTimeout(w.timer);
          w.reject(new ReceiverClosedError());
        }
        waiters = [];
        const done: Promise<void>[] = [];
        if (httpServer !== undefined) {
          const s = httpServer;
          done.push(new Promise((resolve) => s.close(() => resolve())));
          s.closeAllConnections();
        }
        if (grpcServer !== undefined) {
          const s = grpcServer;
          done.push(new Promise((resolve) => s.close(() => resolve())));
          for (const session of sessions) session.destroy();
        }
        await Promise.all(done);
      })();
      return closed;
    },
  };
}

// ---- helpers ------------------------------------------------------------------------------

function listen(server: http.Server | http2.Http2Server, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Waits `ms` (or forever when undefined) unless `signal` aborts first; true when the time ran out. */
async function wait(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms === undefined) {
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    return false;
  }
  try {
    await sleepTimer(ms, undefined, { signal, ref: false });
    return true;
  } catch {
    return false;
  }
}

function duration(ms: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: BigInt(whole), nanos: Math.round((ms - whole * 1000) * 1e6) };
}

function plainHeaders(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Records the body chunks as connect reads them, by wrapping both ways a Readable hands out its
 * chunks: connect-node up to 2.2 consumes the request with `for await` (`Symbol.asyncIterator`),
 * 2.3 with `req.iterator({ destroyOnReturn: false })`. Either way the tap sees exactly the bytes
 * connect parses, and options (and an early `return()`) pass through to the stream's own iterator.
 */
function tapBody(req: http2.Http2ServerRequest, chunks: Buffer[]): void {
  async function* recorded(source: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
    for await (const chunk of { [Symbol.asyncIterator]: () => source }) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buf);
      yield buf;
    }
  }
  const all = req[Symbol.asyncIterator].bind(req);
  const withOptions = req.iterator.bind(req);
  Object.defineProperty(req, Symbol.asyncIterator, { value: () => recorded(all()) });
  Object.defineProperty(req, 'iterator', {
    value: (options?: { destroyOnReturn?: boolean }) => recorded(withOptions(options)),
  });
}

/** The message of a unary gRPC body: 1 flag byte (bit 0: compressed), 4 bytes big-endian length, payload. */
async function grpcPayload(chunks: Buffer[], encoding: string | undefined, max: number): Promise<{ bytes: Uint8Array; compressed: boolean }> {
  const body = Buffer.concat(chunks);
  if (body.length < 5) throw new ConnectError('receiver: short gRPC frame', Code.Internal);
  const compressed = (body[0]! & 1) === 1;
  const payload = body.subarray(5, 5 + body.readUInt32BE(1));
  if (!compressed) return { bytes: new Uint8Array(payload), compressed };
  return { bytes: await decompress(encoding ?? 'identity', payload, max), compressed };
}

/** Decompresses `body` into a plain Uint8Array (tests compare bytes with `toBinary` output). */
async function decompress(encoding: string, body: Buffer, max: number): Promise<Uint8Array> {
  // maxOutputLength bounds a decompression bomb before it is buffered.
  const opts = { maxOutputLength: max };
  switch (encoding) {
    case 'identity':
    case '':
      return new Uint8Array(body);
    case 'gzip':
      return new Uint8Array(await gunzip(body, opts));
    case 'deflate':
      return new Uint8Array(await inflate(body, opts));
    case 'br':
      return new Uint8Array(await brotli(body, opts));
    default:
      throw new Error(`unsupported content-encoding ${JSON.stringify(encoding)}`);
  }
}

/** Reads the whole body, or returns undefined as soon as it exceeds `max` bytes. */
async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const item of req) {
    const chunk: unknown = item;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > max) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function decode<D extends DescMessage>(schema: D, protocol: ReceiverProtocol, bytes: Uint8Array): MessageShape<D> {
  return protocol === 'http/json' ? decodeJson(schema, bytes) : fromBinary(schema, bytes);
}

function decodeRequest(
  signal: Signal,
  protocol: ReceiverProtocol,
  headers: Record<string, string>,
  bytes: Uint8Array,
  compressed: boolean,
): ReceivedRequest {
  switch (signal) {
    case 'metrics':
      return { signal, protocol, headers, bytes, compressed, message: decode(ExportMetricsServiceRequestSchema, protocol, bytes) };
    case 'logs':
      return { signal, protocol, headers, bytes, compressed, message: decode(ExportLogsServiceRequestSchema, protocol, bytes) };
    case 'traces':
      return { signal, protocol, headers, bytes, compressed, message: decode(ExportTraceServiceRequestSchema, protocol, bytes) };
  }
}

function responseMessage(signal: Signal, partial: { rejected: number; message: string } | undefined): { schema: DescMessage; message: Message } {
  const rejected = BigInt(partial?.rejected ?? 0);
  const errorMessage = partial?.message ?? '';
  switch (signal) {
    case 'metrics':
      return {
        schema: ExportMetricsServiceResponseSchema,
        message: create(ExportMetricsServiceResponseSchema, partial && { partialSuccess: { rejectedDataPoints: rejected, errorMessage } }),
      };
    case 'logs':
      return {
        schema: ExportLogsServiceResponseSchema,
        message: create(ExportLogsServiceResponseSchema, partial && { partialSuccess: { rejectedLogRecords: rejected, errorMessage } }),
      };
    case 'traces':
      return {
        schema: ExportTraceServiceResponseSchema,
        message: create(ExportTraceServiceResponseSchema, partial && { partialSuccess: { rejectedSpans: rejected, errorMessage } }),
      };
  }
}

/** Writes an OTLP/HTTP failure: a google.rpc.Status body in the request's encoding. */
function writeStatus(
  res: http.ServerResponse,
  httpStatus: number,
  status: { code: Code; message: string; retryDelayMs?: number | undefined },
  json: boolean,
  retryAfter: string | undefined,
): void {
  const message = create(StatusSchema, {
    code: status.code,
    message: status.message,
    details:
      status.retryDelayMs === undefined ? [] : [anyPack(RetryInfoSchema, create(RetryInfoSchema, { retryDelay: duration(status.retryDelayMs) }))],
  });
  const headers: Record<string, string> = { 'content-type': json ? 'application/json' : 'application/x-protobuf' };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  res.writeHead(httpStatus, headers);
  res.end(json ? toJsonString(StatusSchema, message, { registry: statusRegistry }) : toBinary(StatusSchema, message));
}
