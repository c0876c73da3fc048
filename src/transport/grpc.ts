/**
 * OTLP/gRPC over connect-node (HTTP/2: h2c for http://, TLS for https://).
 * connect-es runs the call (headers, deadline, response, status, trailers); the request
 * body is the caller's bytes, framed by our HTTP client wrapper (see `passThroughClient`)
 * instead of being re-serialized, so a body is never copied in JavaScript.
 */
import { create } from '@bufbuild/protobuf';
import type { DescMethodUnary, Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Transport as ConnectTransport } from '@connectrpc/connect';
import { validateReadWriteMaxBytes } from '@connectrpc/connect/protocol';
import type { UniversalClientFn } from '@connectrpc/connect/protocol';
import { createTransport } from '@connectrpc/connect/protocol-grpc';
import { compressionGzip, createNodeHttpClient, Http2SessionManager } from '@connectrpc/connect-node';
import { gzipBody } from './compression.js';
import type { Signal } from '../otlp/types.js';
import { readPartialSuccess, signalSchemas } from '../otlp/signal-schemas.js';
import type { ExportServiceResponse } from '../otlp/signal-schemas.js';
import { SIGNALS } from '../otlp/signals.js';
import { callTimeout, precheck } from './call-scope.js';
import { closableTransport } from './closable.js';
import { failureFromConnectError, failureFromError } from './error-mapping.js';
import type { CallEnd } from './error-mapping.js';
import { nodeTlsOptions, USER_AGENT, validateTransportOptions } from './options.js';
import type { OtlpTransportOptions, ResolvedTransportOptions } from './options.js';
import { assertMessageStart } from './pass-through.js';
import { failed } from './retryable.js';
import type { ExportCallOptions, ExportResult, Transport } from './types.js';

/** Options of {@link createOtlpGrpcTransport}: the common transport options. */
export type OtlpGrpcTransportOptions = OtlpTransportOptions;

/** The validated options of a gRPC transport. */
export type ResolvedGrpcTransportOptions = ResolvedTransportOptions;

/** Validates gRPC transport options into their frozen, fully populated form. */
export function validateGrpcTransportOptions(options?: OtlpGrpcTransportOptions): ResolvedGrpcTransportOptions {
  return validateTransportOptions(options, 'grpc');
}

/**
 * Creates an OTLP/gRPC transport: one HTTP/2 connection per distinct endpoint,
 * one unary `Export` call per `export()`.
 * - headers travel as metadata; `compression: 'gzip'` sets grpc-encoding gzip for every request;
 * - each call's deadline is sent as grpc-timeout and enforced locally;
 * - responses are read up to `maxResponseBytes`;
 * - failures follow the OTLP/gRPC table (retryable.ts), with RetryInfo delays.
 */
export function createOtlpGrpcTransport(options?: OtlpGrpcTransportOptions): Transport {
  const opts = validateGrpcTransportOptions(options);
  const sessions: Http2SessionManager[] = [];
  const bodies = new Map<string, Uint8Array>();
  let nextRef = 0;
  const transports = new Map<string, ConnectTransport>();
  const perSignal = {} as Record<Signal, ConnectTransport>;
  for (const signal of SIGNALS) {
    const baseUrl = opts.urls[signal].href.replace(/\/+$/, '');
    let t = transports.get(baseUrl);
    if (t === undefined) {
      const session = new Http2SessionManager(baseUrl, undefined, nodeTlsOptions(opts.tls));
      sessions.push(session);
      // What connect-node's createGrpcTransport builds, with our body pass-through around its HTTP/2 client.
      t = createTransport({
        baseUrl,
        httpClient: passThroughClient(createNodeHttpClient({ httpVersion: '2', sessionProvider: () => session }), bodies, opts.maxRequestBytes),
        useBinaryFormat: true,
        interceptors: [],
        // gzip only when asked; compress every message, so the setting is predictable on the server side.
        sendCompression: opts.compression === 'gzip' ? compressionGzip : null,
        acceptCompression: [compressionGzip],
        ...validateReadWriteMaxBytes(opts.maxResponseBytes, opts.maxRequestBytes, 0),
      });
      transports.set(baseUrl, t);
    }
    perSignal[signal] = t;
  }
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers };
  // What connect serializes in place of the body: nothing, since the client wrapper sends the body itself.
  const emptyRequests = {
    metrics: create(signalSchemas.metrics.request),
    logs: create(signalSchemas.logs.request),
    traces: create(signalSchemas.traces.request),
  } satisfies Record<Signal, Message>;

  async function call(signal: Signal, body: Uint8Array, callOptions: ExportCallOptions | undefined): Promise<ExportResult> {
    const refused = precheck(signal, body, opts.maxRequestBytes);
    if (refused !== undefined) return refused;
    const schemas = signalSchemas[signal];
    // Widened once here: the three signals differ only in their message types.
    const method: DescMethodUnary = schemas.service.method.export;
    try {
      // The bytes go out as they are; a body that does not even start like a message is refused.
      assertMessageStart(method.input, body);
    } catch (e) {
      return failed('internal', `the ${signal} body is not a protobuf message: ${e instanceof Error ? e.message : String(e)}`, false, { cause: e });
    }
    const timeoutMs = callTimeout(opts.timeoutMillis, callOptions);
    if (typeof timeoutMs !== 'number') return timeoutMs;
    const callerSignal = callOptions?.signal;
    const ref = String(nextRef++);
    bodies.set(ref, body);
    const start = performance.now();
    try {
      // No scope of our own (AbortController, timer, listener): connect already links the
      // caller's signal and runs the deadline timer for grpc-timeout; ours cost ~10 µs of
      // a ~0.9 ms call (bench/transport.bench.ts profile). Which of the two ended a failed
      // call is read off afterwards, in callEnd().
      const response = await perSignal[signal].unary(
        method,
        callerSignal,
        timeoutMs,
        { ...headers, [BODY_REF]: ref },
        emptyRequests[signal],
        undefined,
      );
      const partial = readPartialSuccess(response.message as ExportServiceResponse);
      return partial === undefined ? { kind: 'ok' } : { kind: 'partial', rejected: partial.rejected, message: partial.message };
    } catch (e) {
      const end = callEnd(e, callerSignal, timeoutMs, performance.now() - start);
      return e instanceof ConnectError ? failureFromConnectError(e, end) : failureFromError(e, end);
    } finally {
      bodies.delete(ref);
    }
  }

  return closableTransport('protobuf', call, () => {
    for (const s of sessions) s.abort();
  });
}

/**
 * Why a failed call ended, as error-mapping.ts wants it. The caller aborted when its
 * signal is aborted; our deadline passed when connect reports DEADLINE_EXCEEDED (its
 * timer's code) or CANCELED once the whole timeout has elapsed (1 ms of slack for
 * timer/clock rounding). A server's own DEADLINE_EXCEEDED before then stays the server's.
 */
function callEnd(err: unknown, callerSignal: AbortSignal | undefined, timeoutMs: number, elapsedMs: number): CallEnd {
  const code = err instanceof ConnectError ? err.code : undefined;
  return {
    callerAborted: callerSignal?.aborted === true,
    deadlineExpired: (code === Code.DeadlineExceeded || code === Code.Canceled) && elapsedMs >= timeoutMs - 1,
    timeoutMs,
  };
}

/**
 * Names the pending body of a call in the headers connect hands to its HTTP client;
 * `passThroughClient` removes it, so it never reaches the wire.
 */
const BODY_REF = 'x-otlp-fanout-body-ref';
// Below this, one 5+n byte buffer costs less than a second write on the HTTP/2 stream.
const JOIN_BELOW_BYTES = 16 * 1024;

/**
 * Wraps connect-node's HTTP/2 client so that the request body is the caller's bytes
 * behind a gRPC message prefix (gzipped first when connect asked for grpc-encoding gzip),
 * instead of what connect serialized: an empty message, never even iterated.
 * Why: toBinary of a message holding the body as one unknown field copies it twice (a
 * growing buffer, then finish()), and the envelope a third time; with a 1.7 MB body
 * those copies were most of the call's CPU and caused full GCs. Public API only
 * (UniversalClientFn, createTransport of protocol-grpc, createNodeHttpClient).
 */
function passThroughClient(inner: UniversalClientFn, bodies: ReadonlyMap<string, Uint8Array>, maxRequestBytes: number): UniversalClientFn {
  return async (req) => {
    const ref = req.header.get(BODY_REF);
    if (ref === null) return inner(req);
    req.header.delete(BODY_REF);
    const raw = bodies.get(ref);
    if (raw === undefined) throw new ConnectError('request body of the call is gone', Code.Internal);
    const gzipped = req.header.get('grpc-encoding') === 'gzip';
    const payload = gzipped ? await gzipBody(raw) : raw;
    // connect's own writeMaxBytes check, on what is actually sent (gzip can grow a body slightly).
    if (payload.length > maxRequestBytes) {
      throw new ConnectError(`message size ${payload.length} is larger than configured writeMaxBytes ${maxRequestBytes}`, Code.ResourceExhausted);
    }
    return inner({ ...req, body: framed(payload, gzipped) });
  };
}

/** The gRPC length-prefixed message: flag byte (1 = compressed), 4-byte big-endian length, bytes. */
async function* framed(payload: Uint8Array, compressed: boolean): AsyncGenerator<Uint8Array> {
  const n = payload.length;
  const out = new Uint8Array(n < JOIN_BELOW_BYTES ? 5 + n : 5);
  out[0] = compressed ? 1 : 0;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  if (n < JOIN_BELOW_BYTES) {
    out.set(payload, 5);
    yield out;
    return;
  }
  yield out;
  yield payload;
}
