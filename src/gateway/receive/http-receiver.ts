/**
 * OTLP/HTTP receiver (node:http, or node:https with a certificate):
 * - `POST /v1/metrics|logs|traces`, protobuf (`application/x-protobuf`) or JSON
 *   (`application/json`), optionally gzip; the answer is in the request's encoding;
 * - `GET /healthz`: 200 `ok` while serving, 503 `draining` during shutdown;
 * - `GET /metrics`: the observer's page (Prometheus text), when it has one.
 * Refusals carry a google.rpc.Status body in the request's encoding (plain text when the
 * encoding is not known) and are reported to the observer by reason.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { SIGNAL_BY_HTTP_PATH, SIGNAL_SPECS, SIGNALS } from '../../otlp/signals.js';
import type { Signal } from '../../otlp/types.js';
import { encodeExportResponse } from '../forward/requests.js';
import type { RefusalReason } from '../observe/events.js';
import { HTTP_PROTOCOL } from '../../transport/protocols.js';
import type { Protocol } from '../../transport/protocols.js';
import { readBody } from './body-reader.js';
import { listen } from './listen.js';
import type { ReceiverHandle, ReceiverOptions, ReceiverPipeline } from './receiver.js';
import { REFUSAL_STATUS, statusBody } from './refusal-status.js';

const CONTENT_TYPES: Readonly<Record<string, 'protobuf' | 'json'>> = {
  'application/x-protobuf': 'protobuf',
  'application/protobuf': 'protobuf',
  'application/json': 'json',
};

const MEDIA = { protobuf: 'application/x-protobuf', json: 'application/json' } as const;

const PATHS_TEXT = SIGNALS.map((s) => SIGNAL_SPECS[s].httpPath).join(', ');

// Shared: writeHead() reads it and never changes it.
const EMPTY_PROTOBUF_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': MEDIA.protobuf, 'content-length': '0' });

/** Starts listening; rejects when the address cannot be bound. The receiver contract is receiver.ts. */
export async function startHttpReceiver(options: ReceiverOptions): Promise<ReceiverHandle> {
  const { config, maxRequestBytes, pipeline, observer } = options;

  function refuse(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    r: { reason: RefusalReason; message: string; retryAfterMillis?: number | undefined },
    signal: Signal | undefined,
    encoding: 'protobuf' | 'json' | undefined,
    tenant: string | undefined,
    bodyRead: boolean,
    extraHeaders: Record<string, string> = {},
  ): void {
    const status = REFUSAL_STATUS[r.reason].http;
    const headers: Record<string, string> = { ...extraHeaders };
    let body: Uint8Array | string;
    if (encoding === undefined) {
      headers['content-type'] = 'text/plain; charset=utf-8';
      body = `${r.message}\n`;
    } else {
      headers['content-type'] = MEDIA[encoding];
      body = statusBody(REFUSAL_STATUS[r.reason].grpc, r.message, encoding, r.retryAfterMillis);
    }
    if (r.retryAfterMillis !== undefined) headers['retry-after'] = String(Math.ceil(r.retryAfterMillis / 1000));
    // An unread body of unknown or excessive size is not drained for keep-alive: close instead.
    if (!bodyRead && !smallDeclaredBody(req, maxRequestBytes)) headers['connection'] = 'close';
    res.writeHead(status, headers);
    res.end(body);
    const protocol: Protocol | 'http' | undefined = encoding === undefined ? (signal === undefined ? undefined : 'http') : HTTP_PROTOCOL[encoding];
    observer.onRefused({ reason: r.reason, signal, protocol, status, message: r.message, tenant });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, current: ReceiverPipeline): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const method = req.method ?? 'GET';
    const { auth, ingest } = current;
    if (path === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') {
        refuse(req, res, { reason: 'method_not_allowed', message: 'use GET /healthz' }, undefined, undefined, undefined, false, {
          allow: 'GET, HEAD',
        });
        return;
      }
      const draining = ingest.draining;
      res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(draining ? 'draining\n' : 'ok\n');
      return;
    }
    if (path === '/metrics' && observer.metricsPage !== undefined && (method === 'GET' || method === 'HEAD')) {
      const page = await observer.metricsPage();
      if (page !== undefined) {
        res.writeHead(200, { 'content-type': page.contentType });
        res.end(page.body);
        return;
      }
    }
    const signal = SIGNAL_BY_HTTP_PATH.get(path);
    if (signal === undefined) {
      refuse(
        req,
        res,
        { reason: 'not_found', message: `no such path ${JSON.stringify(path.slice(0, 100))}; OTLP/HTTP paths are ${PATHS_TEXT}` },
        undefined,
        undefined,
        undefined,
        false,
      );
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    const encoding = CONTENT_TYPES[contentType];
    if (method !== 'POST') {
      refuse(
        req,
        res,
        { reason: 'method_not_allowed', message: `${method} is not allowed on ${path}; use POST` },
        signal,
        encoding,
        undefined,
        false,
        { allow: 'POST' },
      );
      return;
    }
    if (encoding === undefined) {
      const got = contentType === '' ? 'no Content-Type' : `Content-Type ${JSON.stringify(contentType.slice(0, 100))}`;
      refuse(
        req,
        res,
        { reason: 'unsupported_media_type', message: `${got}; expected application/x-protobuf or application/json` },
        signal,
        undefined,
        undefined,
        false,
      );
      return;
    }
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const gzip = contentEncoding === 'gzip' || contentEncoding === 'x-gzip';
    if (!gzip && contentEncoding !== 'identity' && contentEncoding !== '') {
      refuse(
        req,
        res,
        {
          reason: 'unsupported_media_type',
          message: `Content-Encoding ${JSON.stringify(contentEncoding.slice(0, 100))} is not supported; use gzip or none`,
        },
        signal,
        encoding,
        undefined,
        false,
        { 'accept-encoding': 'gzip' },
      );
      return;
    }
    const who = auth.authenticate((name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    });
    if (who.kind === 'missing' || who.kind === 'unknown') {
      const message = who.kind === 'missing' ? 'credentials required (Authorization: Bearer <token>, or an API key header)' : 'unknown credentials';
      refuse(req, res, { reason: 'unauthenticated', message }, signal, encoding, undefined, false, {
        'www-authenticate': 'Bearer realm="otlp-fanout"',
      });
      return;
    }
    const tenant = who.kind === 'tenant' ? who.tenant : undefined;
    const refusal = ingest.admit();
    if (refusal !== undefined) {
      refuse(req, res, refusal, signal, encoding, tenant, false);
      return;
    }
    const read = await readBody(req, gzip, maxRequestBytes);
    switch (read.kind) {
      case 'aborted':
        res.destroy();
        return;
      case 'too_large':
        refuse(
          req,
          res,
          { reason: 'too_large', message: `request body over ${maxRequestBytes} bytes${read.stage === 'decompressed' ? ' after gunzip' : ''}` },
          signal,
          encoding,
          tenant,
          false,
        );
        return;
      case 'bad_gzip':
        refuse(req, res, { reason: 'malformed', message: read.message }, signal, encoding, tenant, true);
        return;
      case 'ok':
        break;
    }
    let outcome = ingest.ingest({ signal, protocol: HTTP_PROTOCOL[encoding], tenant, body: read.body, wireBytes: read.wireBytes });
    // A promise with durable storage (answered once on disk); no await for memory queues' answer.
    if (outcome instanceof Promise) outcome = await outcome;
    if (outcome.kind === 'refused') {
      refuse(req, res, outcome, signal, encoding, tenant, true);
      return;
    }
    const answer = encodeExportResponse(signal, outcome.rejected, outcome.message, encoding);
    // An explicit length: writeHead() fixes the headers, so without it Node would chunk even an empty body.
    const length = typeof answer === 'string' ? Buffer.byteLength(answer) : answer.byteLength;
    if (length === 0) {
      // The usual protobuf answer: headers only, written as one string, not a writev of headers and an empty
      // chunk (that path cost ~3 µs of Node's stream machinery per request in the gateway benchmark's profile).
      res.writeHead(200, EMPTY_PROTOBUF_HEADERS);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': MEDIA[encoding], 'content-length': String(length) });
    res.end(answer);
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // Read once: the whole request (auth, admission, ingest) uses the pipeline current when it
    // arrived, held until it is done (the body comes in between; receiver.ts).
    const current = pipeline.current;
    current.enter();
    handle(req, res, current).then(current.leave, (e: unknown) => {
      current.leave();
      // A bug, not an input problem: answer 500 when still possible and keep serving.
      const message = `internal error: ${e instanceof Error ? e.message : String(e)}`;
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`${message}\n`);
      } else {
        res.destroy();
      }
      observer.onRefused({ reason: 'internal', signal: undefined, protocol: 'http', status: 500, message, tenant: undefined });
    });
  };
  const server = config.tls === null ? http.createServer(listener) : https.createServer({ cert: config.tls.cert, key: config.tls.key }, listener);
  return listen(server, config.host, config.port, { all: () => server.closeAllConnections(), idle: () => server.closeIdleConnections() });
}

function smallDeclaredBody(req: http.IncomingMessage, max: number): boolean {
  const n = Number(req.headers['content-length'] ?? Number.NaN);
  return Number.isFinite(n) && n <= max;
}
