/**
 * OTLP/gRPC receiver: the three collector services on HTTP/2 (h2c, or TLS with a
 * certificate), served by connect-node.
 *
 * Requests are never decoded: each Export method is registered with `Opaque` as its
 * input, which keeps every top-level field as raw bytes; the body is those bytes again,
 * as a zero-copy view when (as always in practice) they lie back to back in connect's
 * buffer (transport/pass-through.ts, `opaqueBody`, explains the trick). connect enforces `readMaxBytes` (RESOURCE_EXHAUSTED, before and after gunzip)
 * and refuses bad framing before our code runs, so the node handler here is a small
 * adapter around connect's router that reads the final grpc-status of every call and
 * reports the refusals connect made on its own.
 *
 * Two mistakes get a clear answer before connect sees them: `application/grpc+json` (which
 * connect would parse into our internal Opaque type and refuse naming it) is UNIMPLEMENTED
 * with the same message as the docs' status table; and an HTTP/1.1 request — OTLP/HTTP sent
 * to the gRPC port, the most common OTLP misconfiguration — gets a 400 naming the HTTP port
 * instead of a connection closed without a word.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { DescMessage, DescMethodUnary } from '@bufbuild/protobuf';
import { Code, ConnectError, createConnectRouter, createContextKey, createContextValues } from '@connectrpc/connect';
import type { HandlerContext } from '@connectrpc/connect';
import { compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import { RetryInfoSchema } from '../../../gen/google/rpc/error_details_pb.js';
import { OpaqueSchema } from '../../../gen/otlp_fanout/internal/v1/opaque_pb.js';
import type { Opaque } from '../../../gen/otlp_fanout/internal/v1/opaque_pb.js';
import { exportResponse, signalSchemas } from '../../otlp/signal-schemas.js';
import { SIGNAL_BY_GRPC_PATH, SIGNAL_BY_HTTP_PATH, SIGNALS } from '../../otlp/signals.js';
import type { Signal } from '../../otlp/types.js';
import { opaqueBody } from '../../transport/pass-through.js';
import type { IngestOutcome } from '../forward/ingest.js';
import type { RefusalReason } from '../observe/events.js';
import { bracketIpv6Authority } from './grpc-authority.js';
import { listen } from './listen.js';
import type { ReceiverHandle, ReceiverOptions } from './receiver.js';
import { REFUSAL_STATUS, retryDelay } from './refusal-status.js';

/** Per call: whether our implementation already reported its refusal. */
interface CallState {
  reported: boolean;
}
const callKey = createContextKey<CallState>({ reported: true }, { description: 'otlp-fanout gateway call' });

/** The receiver contract (receiver.ts) plus where OTLP/HTTP is served, for requests sent to the wrong port. */
export interface GrpcReceiverOptions extends ReceiverOptions {
  /** The HTTP receiver's URL (`http://127.0.0.1:4318`) once bound; undefined while unknown or when it is off. */
  readonly httpUrl: () => string | undefined;
}

/** Starts listening; rejects when the address cannot be bound. The receiver contract is receiver.ts. */
export async function startGrpcReceiver(options: GrpcReceiverOptions): Promise<ReceiverHandle> {
  const { config, maxRequestBytes, pipeline, observer } = options;

  type Accepted = IngestOutcome & { kind: 'accepted' };
  function exportRequest(signal: Signal, req: Opaque, ctx: HandlerContext): Accepted | Promise<Accepted> {
    const fail = (reason: RefusalReason, message: string, tenant: string | undefined, retryAfterMillis?: number): never => {
      ctx.values.get(callKey).reported = true;
      observer.onRefused({ reason, signal, protocol: 'grpc', status: REFUSAL_STATUS[reason].grpc, message, tenant });
      throw refusalError(reason, message, retryAfterMillis);
    };
    // Read once: the whole call (auth, admission, ingest) uses the pipeline current when it arrived.
    const { auth, ingest } = pipeline.current;
    const who = auth.authenticate((name) => ctx.requestHeader.get(name) ?? undefined);
    if (who.kind === 'missing') fail('unauthenticated', 'credentials required (authorization: Bearer <token>, or an API key header)', undefined);
    if (who.kind === 'unknown') fail('unauthenticated', 'unknown credentials', undefined);
    const tenant = who.kind === 'tenant' ? who.tenant : undefined;
    const refusal = ingest.admit();
    if (refusal !== undefined) fail(refusal.reason, refusal.message, tenant, refusal.retryAfterMillis);
    const body = opaqueBody(req);
    const outcome = ingest.ingest({ signal, protocol: 'grpc', tenant, body, wireBytes: body.byteLength });
    // A promise with durable storage (answered once on disk); memory queues answer at once.
    if (outcome instanceof Promise) return outcome.then((o) => (o.kind === 'refused' ? fail(o.reason, o.message, tenant, o.retryAfterMillis) : o));
    if (outcome.kind === 'refused') return fail(outcome.reason, outcome.message, tenant, outcome.retryAfterMillis);
    return outcome;
  }

  const router = createConnectRouter({
    // OTLP/gRPC is plain gRPC; gRPC-Web and the Connect protocol would only widen the surface.
    grpc: true,
    grpcWeb: false,
    connect: false,
    readMaxBytes: maxRequestBytes,
    acceptCompression: [compressionGzip],
  });
  for (const signal of SIGNALS) {
    // Widened once here: the three signals differ only in their message types. The answer
    // follows the one partial-success rule (otlp/signals.ts), as the HTTP receiver's does.
    const method: DescMethodUnary<typeof OpaqueSchema, DescMessage> = { ...signalSchemas[signal].service.method.export, input: OpaqueSchema };
    router.rpc(method, (req, ctx) => {
      const o = exportRequest(signal, req, ctx);
      if (o instanceof Promise) return o.then((a) => exportResponse(signal, a.rejected, a.message));
      return exportResponse(signal, o.rejected, o.message);
    });
  }
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));

  /** Reports a refusal that connect made before (or instead of) our implementation. */
  function reportConnect(signal: Signal | undefined, status: number, grpcStatus: string | null, grpcMessage: string | null): void {
    let reason: RefusalReason;
    let code: number = status;
    if (status === 415) reason = 'unsupported_media_type';
    else if (status === 405) reason = 'method_not_allowed';
    else {
      code = Number(grpcStatus ?? Code.Internal);
      reason =
        code === Code.ResourceExhausted
          ? 'too_large'
          : code === Code.InvalidArgument
            ? 'malformed'
            : code === Code.Unimplemented
              ? 'unsupported_media_type'
              : 'internal';
    }
    let message = `HTTP ${status}`;
    if (grpcMessage !== null) {
      try {
        message = decodeURIComponent(grpcMessage);
      } catch {
        message = grpcMessage;
      }
    }
    observer.onRefused({ reason, signal, protocol: 'grpc', status: code, message, tenant: undefined });
  }

  const listener = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    const path = req.url.split('?', 1)[0]!;
    const handler = handlers.get(path);
    if (handler === undefined) {
      res.writeHead(404);
      res.end();
      observer.onRefused({
        reason: 'not_found',
        signal: undefined,
        protocol: 'grpc',
        status: Code.Unimplemented,
        message: `no such method ${path.slice(0, 200)}`,
        tenant: undefined,
      });
      return;
    }
    if (!isGrpcProtobuf(req.headers['content-type'])) {
      // connect serves application/grpc+json too, which OTLP does not define: answered here, trailers-only.
      const message = 'OTLP/gRPC is protobuf only; send application/grpc';
      res.writeHead(200, {
        'content-type': 'application/grpc',
        'grpc-status': String(Code.Unimplemented),
        'grpc-message': encodeURIComponent(message),
      });
      res.end();
      observer.onRefused({
        reason: 'unsupported_media_type',
        signal: SIGNAL_BY_GRPC_PATH.get(path),
        protocol: 'grpc',
        status: Code.Unimplemented,
        message,
        tenant: undefined,
      });
      return;
    }
    const state: CallState = { reported: false };
    let uReq: ReturnType<typeof universalRequestFromNodeRequest>;
    try {
      bracketIpv6Authority(req);
      // Anything else connect-node cannot parse throws synchronously; it must not escape the http2 handler.
      uReq = universalRequestFromNodeRequest(req, res, undefined, createContextValues().set(callKey, state));
    } catch (e) {
      reportConnect(SIGNAL_BY_GRPC_PATH.get(path), 400, String(Code.InvalidArgument), e instanceof Error ? e.message : String(e));
      if (!res.headersSent) {
        res.writeHead(400);
        res.end();
      }
      return;
    }
    handler(uReq)
      .then((uRes) => {
        // Once the stream is closed the trailers are final (the write promise itself never settles for HTTP/2 responses).
        res.once('close', () => {
          if (state.reported) return;
          const grpcStatus = uRes.trailer?.get('grpc-status') ?? uRes.header?.get('grpc-status') ?? null;
          if (uRes.status === 200 && (grpcStatus === null || grpcStatus === '0')) return;
          const grpcMessage = uRes.trailer?.get('grpc-message') ?? uRes.header?.get('grpc-message') ?? null;
          reportConnect(SIGNAL_BY_GRPC_PATH.get(path), uRes.status, grpcStatus, grpcMessage);
        });
        const body = uRes.body;
        return universalResponseToNodeResponse(body === undefined ? uRes : { ...uRes, body: fixParseStatus(body, uRes.trailer) }, res);
      })
      .catch((e: unknown) => {
        // The client went away mid-answer (connect reports Aborted), or a bug: never crash.
        if (ConnectError.from(e).code !== Code.Aborted && !state.reported) {
          state.reported = true;
          reportConnect(SIGNAL_BY_GRPC_PATH.get(path), 500, String(Code.Internal), e instanceof Error ? e.message : String(e));
        }
        if (!res.headersSent) {
          res.writeHead(500);
          res.end();
        } else if (!res.stream.closed) {
          res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        }
      });
  };

  /** An HTTP/1.x request at this port: OTLP/HTTP sent to the gRPC port. Answered 400, naming the right port. */
  const wrongPort = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const httpUrl = options.httpUrl();
    const message = `this is the OTLP/gRPC port (HTTP/2); ${httpUrl === undefined ? 'the OTLP/HTTP receiver is off' : `send OTLP/HTTP to ${httpUrl}`}`;
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end(`${message}\n`);
    // Whatever body is still coming is read and dropped, so the answer reaches the client.
    req.resume();
    const signal = SIGNAL_BY_HTTP_PATH.get((req.url ?? '').split('?', 1)[0]!);
    observer.onRefused({ reason: 'wrong_port', signal, protocol: 'http', status: 400, message, tenant: undefined });
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  let server: net.Server;
  let closeOthers = (): void => undefined;
  let closeOthersIdle = (): void => undefined;
  if (config.tls === null) {
    // h2c has no ALPN to tell HTTP/1.1 from HTTP/2, so the first bytes do: HTTP/2 begins with its connection preface.
    const h2 = http2.createServer(listener);
    const h1 = http.createServer(wrongPort);
    h2.on('session', (s: http2.ServerHttp2Session) => trackSession(s));
    // Connections whose first bytes have not come yet belong to neither server: closed here on close().
    const undecided = new Set<net.Socket>();
    closeOthers = () => {
      h1.closeAllConnections();
      for (const s of undecided) s.destroy();
    };
    closeOthersIdle = () => {
      h1.closeIdleConnections();
      for (const s of undecided) s.destroy();
    };
    server = net.createServer((socket) => {
      // A client's socket errors are its own.
      socket.on('error', () => undefined);
      undecided.add(socket);
      socket.once('close', () => undecided.delete(socket));
      let head: Buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const n = Math.min(head.length, H2_PREFACE.length);
        // Wait for more only while what came so far could still be the preface.
        if (n < H2_PREFACE.length && head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return;
        socket.off('data', onData);
        undecided.delete(socket);
        socket.pause();
        socket.unshift(head);
        if (head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
          // The HTTP/2 session reads what is already buffered on its next tick (node's http2 core); resuming
          // here would flow those bytes to no listener and lose them.
          h2.emit('connection', socket);
        } else {
          h1.emit('connection', socket);
          socket.resume();
        }
      };
      socket.on('data', onData);
    });
  } else {
    // With TLS, ALPN tells the protocols apart: HTTP/1.1 clients reach `wrongPort`.
    const secure = http2.createSecureServer({ cert: config.tls.cert, key: config.tls.key, allowHTTP1: true }, (req, res) =>
      req.httpVersionMajor === 1 ? wrongPort(req, res) : listener(req, res),
    );
    secure.on('session', (s: http2.ServerHttp2Session) => trackSession(s));
    server = secure;
  }
  function trackSession(s: http2.ServerHttp2Session): void {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    // Session errors (a client resetting the connection) are the client's problem, not a crash.
    s.on('error', () => undefined);
  }
  return listen(server, config.host, config.port, {
    all() {
      for (const s of sessions) s.destroy();
      closeOthers();
    },
    idle() {
      // A GOAWAY: the client opens no new stream here, the calls in flight finish, then the session closes.
      for (const s of sessions) if (!s.closed) s.close();
      closeOthersIdle();
    },
  });
}

/** The client connection preface of HTTP/2 (RFC 9113, section 3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** `application/grpc` or `application/grpc+proto`, with or without parameters. */
function isGrpcProtobuf(contentType: string | undefined): boolean {
  if (contentType === undefined) return true; // connect answers a missing one itself (415)
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/grpc' || type === 'application/grpc+proto' || !type.startsWith('application/grpc');
}

/**
 * connect answers a request whose top-level fields cannot even be split (a truncated
 * field) with INTERNAL "parse binary: …". For OTLP that is the client's malformed input:
 * INVALID_ARGUMENT, as the scanner says for everything deeper. The trailer is rewritten
 * after the body is written and before connect sends the trailers.
 */
async function* fixParseStatus(body: AsyncIterable<Uint8Array>, trailer: Headers | undefined): AsyncIterable<Uint8Array> {
  yield* body;
  if (trailer === undefined || trailer.get('grpc-status') !== String(Code.Internal)) return;
  const message = trailer.get('grpc-message') ?? '';
  if (message.startsWith('parse%20binary') || message.startsWith('parse binary')) trailer.set('grpc-status', String(Code.InvalidArgument));
}

/** The ConnectError a gRPC client receives for a refusal. */
function refusalError(reason: RefusalReason, message: string, retryAfterMillis?: number): ConnectError {
  const details = retryAfterMillis === undefined ? [] : [{ desc: RetryInfoSchema, value: { retryDelay: retryDelay(retryAfterMillis) } }];
  // Our code numbers are gRPC's, which connect's Code enum has too.
  return new ConnectError(message, REFUSAL_STATUS[reason].grpc as Code, undefined, details);
}
