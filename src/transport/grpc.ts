/**
 * OTLP/gRPC over connect-node (HTTP/2: h2c for http://, TLS for https://).
 * The already encoded request body is passed through as a raw message (raw-message.ts),
 * so connect-es frames the caller's bytes without decoding them.
 */
import type { DescMethodUnary, Message } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import type { Transport as ConnectTransport } from '@connectrpc/connect';
import { compressionGzip, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import type { Signal } from '../otlp/types.js';
import { readPartialSuccess } from '../otlp/partial-success.js';
import type { ExportServiceResponse } from '../otlp/partial-success.js';
import { isFailed, openCallScope, precheck } from './call-scope.js';
import { failureFromConnectError, failureFromError } from './error-mapping.js';
import { nodeTlsOptions, USER_AGENT, validateTransportOptions } from './options.js';
import type { OtlpTransportOptions, ResolvedTransportOptions } from './options.js';
import { rawMessage } from './raw-message.js';
import { failed } from './retryable.js';
import { signalSchemas } from './signals.js';
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
  const transports = new Map<string, ConnectTransport>();
  const perSignal = {} as Record<Signal, ConnectTransport>;
  for (const signal of ['metrics', 'logs', 'traces'] as const) {
    const baseUrl = opts.urls[signal].href.replace(/\/+$/, '');
    let t = transports.get(baseUrl);
    if (t === undefined) {
      const session = new Http2SessionManager(baseUrl, undefined, nodeTlsOptions(opts.tls));
      sessions.push(session);
      t = createGrpcTransport({
        baseUrl,
        sessionManager: session,
        // gzip only when asked; compress every message, so the setting is predictable on the server side.
        sendCompression: opts.compression === 'gzip' ? compressionGzip : undefined,
        compressMinBytes: 0,
        acceptCompression: [compressionGzip],
        readMaxBytes: opts.maxResponseBytes,
        writeMaxBytes: opts.maxRequestBytes,
      });
      transports.set(baseUrl, t);
    }
    perSignal[signal] = t;
  }
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers };
  const inFlight = new Set<Promise<ExportResult>>();
  let closed = false;

  async function call(signal: Signal, body: Uint8Array, callOptions: ExportCallOptions | undefined): Promise<ExportResult> {
    if (closed) return failed('unavailable', 'the transport is closed', false);
    const refused = precheck(signal, body, opts.maxRequestBytes);
    if (refused !== undefined) return refused;
    const schemas = signalSchemas[signal];
    // Widened once here: the three signals differ only in their message types.
    const method: DescMethodUnary = schemas.service.method.export;
    let request: Message;
    try {
      request = rawMessage(method.input, body);
    } catch (e) {
      return failed('internal', `the ${signal} body is not a protobuf message: ${e instanceof Error ? e.message : String(e)}`, false, { cause: e });
    }
    const scope = openCallScope(opts.timeoutMillis, callOptions);
    if (isFailed(scope)) return scope;
    try {
      const response = await perSignal[signal].unary(
        method,
        scope.signal,
        scope.timeoutMs,
        headers,
        request,
        undefined,
      );
      const partial = readPartialSuccess(response.message as ExportServiceResponse);
      return partial === undefined ? { kind: 'ok' } : { kind: 'partial', rejected: partial.rejected, message: partial.message };
    } catch (e) {
      return e instanceof ConnectError ? failureFromConnectError(e, scope) : failureFromError(e, scope);
    } finally {
      scope.dispose();
    }
  }

  return {
    encoding: 'protobuf',
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
      for (const s of sessions) s.abort();
    },
  };
}
