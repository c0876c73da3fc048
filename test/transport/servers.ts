/**
 * Loopback servers for the transport tests: a plain node:http(s) server and raw or
 * connect-node HTTP/2 servers. Every server listens on port 0 and closes its
 * connections on close().
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type * as net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';

const tlsDir = new URL('../fixtures/tls/', import.meta.url);
/** The static test certificates. */
export const tls = {
  ca: fs.readFileSync(new URL('ca.pem', tlsDir), 'utf8'),
  serverCert: fs.readFileSync(new URL('server.pem', tlsDir), 'utf8'),
  serverKey: fs.readFileSync(new URL('server-key.pem', tlsDir), 'utf8'),
  clientCert: fs.readFileSync(new URL('client.pem', tlsDir), 'utf8'),
  clientKey: fs.readFileSync(new URL('client-key.pem', tlsDir), 'utf8'),
};

/** Server options for mutual TLS: our server certificate, client certificates required. */
const mtlsServerOptions = {
  key: tls.serverKey,
  cert: tls.serverCert,
  ca: tls.ca,
  requestCert: true,
  rejectUnauthorized: true,
};

/** One request as an HTTP server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The bytes on the wire. */
  readonly raw: Uint8Array;
  /** `raw` gunzipped when Content-Encoding was gzip. */
  readonly body: Uint8Array;
  /** The client certificate's subject CN under mTLS. */
  readonly clientCN?: string;
  /** The client's port: equal ports mean a reused (keep-alive) connection. */
  readonly remotePort: number;
}

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** node:http (or https with mTLS) server; `handler` answers once the request body is read. */
export async function startHttpServer(
  handler: (req: SeenRequest, res: http.ServerResponse) => void,
  options: { tls?: boolean } = {},
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = new Uint8Array(Buffer.concat(chunks));
      const body = req.headers['content-encoding'] === 'gzip' ? new Uint8Array(gunzipSync(raw)) : raw;
      const socket = req.socket as net.Socket & { getPeerCertificate?: () => { subject?: { CN?: string } } };
      const cn = socket.getPeerCertificate?.()?.subject?.CN;
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body,
        remotePort: req.socket.remotePort ?? 0,
        ...(cn !== undefined && { clientCN: cn }),
      };
      requests.push(seen);
      handler(seen, res);
    });
    // A client that gives up mid-request must not crash the test server.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
  };
  const server = options.tls === true ? https.createServer(mtlsServerOptions, onRequest) : http.createServer(onRequest);
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${options.tls === true ? 'https' : 'http'}://localhost:${port}`,
    port,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One gRPC call as the raw HTTP/2 server saw it. */
export interface SeenGrpcCall {
  readonly path: string;
  readonly headers: http2.IncomingHttpHeaders;
  /** Envelope flag: 1 when the message is compressed. */
  readonly compressed: boolean;
  /** The message bytes, decompressed. */
  readonly message: Uint8Array;
}

export interface RawGrpcServer extends TestServer {
  readonly calls: SeenGrpcCall[];
}

/**
 * A hand-written gRPC server on HTTP/2 that records the exact message bytes (after
 * removing the 5-byte envelope and gunzipping). `respond` writes the answer itself.
 */
export async function startRawGrpcServer(respond: (call: SeenGrpcCall, stream: http2.ServerHttp2Stream) => void): Promise<RawGrpcServer> {
  const calls: SeenGrpcCall[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const all = Buffer.concat(chunks);
      const flag = all[0] ?? 0;
      const len = all.length >= 5 ? all.readUInt32BE(1) : 0;
      const payload = all.subarray(5, 5 + len);
      const message = flag === 1 ? gunzipSync(payload) : payload;
      const call: SeenGrpcCall = { path: String(headers[':path']), headers, compressed: flag === 1, message: new Uint8Array(message) };
      calls.push(call);
      respond(call, stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: [],
    calls,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes a successful unary gRPC answer carrying `message` (uncompressed). */
export function grpcRespond(stream: http2.ServerHttp2Stream, message: Uint8Array): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(grpcEnvelope(message));
}

/** A gRPC length-prefixed message envelope (uncompressed). */
export function grpcEnvelope(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

export interface ConnectServer extends TestServer {
  /** Sessions opened so far (one per client connection). */
  sessionCount(): number;
}

/** A connect-node gRPC server (h2c, or TLS requiring a client certificate with `tls: true`). */
export async function startConnectServer(routes: (router: ConnectRouter) => void, options: { tls?: boolean } = {}): Promise<ConnectServer> {
  const handler = connectNodeAdapter({ routes, grpc: true, grpcWeb: false, connect: false });
  const server = options.tls === true ? http2.createSecureServer({ ...mtlsServerOptions, allowHTTP1: false }, handler) : http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  let opened = 0;
  server.on('session', (s) => {
    opened++;
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${options.tls === true ? 'https://localhost' : 'http://127.0.0.1'}:${port}`,
    port,
    requests: [],
    sessionCount: () => opened,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Records unhandled rejections for the file's final check; `stop()` detaches the
 * listener so other test files keep Node's default (crashing) behaviour.
 */
export function trackUnhandledRejections(): { readonly seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', listener);
  return { seen, stop: () => process.off('unhandledRejection', listener) };
}

/**
 * The file's last suite: after late socket errors had a moment to surface, no rejection
 * went unhandled while the file ran.
 */
export function runUnhandledRejectionCheck(name: string, tracker: { readonly seen: unknown[]; stop(): void }): void {
  const last = suite(`${name} hygiene`);
  last('no unhandled rejections', async () => {
    await sleep(20);
    tracker.stop();
    assert.equal(tracker.seen, []);
  });
  last.run();
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
