/**
 * A real OpAMP server on loopback for tests, built on our gen/ schema: plain HTTP (`POST` of
 * `application/x-protobuf`, gzip request bodies accepted, the answer in the response) and WebSocket
 * (the `ws` package; each message a zero varint header then the protobuf) on one port. It keeps the
 * agent's state as a real server does under status compression: each report merged into what it
 * already knows, a sequence-number gap answered with ReportFullState. Every message is recorded with
 * its bytes; a responder, replaceable at any time, scripts faults (HTTP statuses with Retry-After,
 * ServerErrorResponse) and pushes (a remote config, ReportFullState, connection settings).
 *
 * Checked against an independent client in test/interop/opamp-elastic.test.ts.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { gunzipSync, gzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { WebSocketServer } from 'ws';
import type { WebSocket as WsSocket } from 'ws';
import { AgentToServerSchema, ServerCapabilities, ServerToAgentFlags, ServerToAgentSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type {
  AgentDescription,
  AgentRemoteConfig,
  AgentToServer,
  ComponentHealth,
  EffectiveConfig,
  RemoteConfigStatus,
  ServerToAgent,
} from '../../gen/opamp/v1/opamp_pb.js';

/** One AgentToServer as the server received it. */
export interface SeenMessage {
  readonly transport: 'http' | 'websocket';
  readonly message: AgentToServer;
  /** The protobuf bytes (after gunzip / after the WebSocket header). */
  readonly bytes: Uint8Array;
  /** HTTP request headers, or the WebSocket handshake's. */
  readonly headers: http.IncomingHttpHeaders;
  /** Under mutual TLS: the client certificate's subject CN. */
  readonly clientCN: string | undefined;
  /** The HTTP body arrived gzipped. */
  readonly gzipped: boolean;
  /** `performance.now()` at arrival. */
  readonly at: number;
}

/** What the server knows of one agent, merged from its reports. */
export interface AgentState {
  lastSeq: bigint;
  capabilities: bigint;
  description: AgentDescription | undefined;
  health: ComponentHealth | undefined;
  effectiveConfig: EffectiveConfig | undefined;
  remoteConfigStatus: RemoteConfigStatus | undefined;
  disconnected: boolean;
}

/** The answer to one message: a ServerToAgent (instance UID and capabilities are added), or an HTTP failure. */
export type OpampAnswer =
  | { readonly kind: 'message'; readonly message?: MessageInitShape<typeof ServerToAgentSchema> }
  | { readonly kind: 'http'; readonly status: number; readonly retryAfter?: string }
  /** No answer at all (WebSocket: nothing sent back; HTTP: the connection is destroyed). */
  | { readonly kind: 'none' };

export type OpampResponder = (seen: SeenMessage, agent: AgentState) => OpampAnswer;

export interface OpampTestServer {
  /** `http://127.0.0.1:PORT/v1/opamp` (`https://` with TLS). */
  readonly httpUrl: string;
  /** `ws://127.0.0.1:PORT/v1/opamp` (`wss://` with TLS). */
  readonly wsUrl: string;
  readonly port: number;
  readonly seen: SeenMessage[];
  /** Agents by instance UID (hex). */
  readonly agents: Map<string, AgentState>;
  /** Replaces the responder; `undefined` restores the default (remote config offer + full-state requests). */
  respond(responder: OpampResponder | undefined): void;
  /**
   * Offers `config` to every agent whose reported hash differs (spec, RemoteConfigStatus hash rule):
   * in every HTTP answer and WebSocket reply, and pushed at once to connected WebSocket agents.
   */
  offer(config: MessageInitShape<typeof ServerToAgentSchema>['remoteConfig'] | undefined): void;
  /** Sends `message` to every connected WebSocket agent now. */
  push(message: MessageInitShape<typeof ServerToAgentSchema>): void;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Waits until `predicate` holds, polling every 5 ms; fails after `ms`. */
  until(predicate: () => boolean, ms?: number, what?: string): Promise<void>;
  /** Stops listening and drops every connection (the server "goes down"); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

const CAPABILITIES = BigInt(
  ServerCapabilities.ACCEPTS_STATUS | ServerCapabilities.OFFERS_REMOTE_CONFIG | ServerCapabilities.ACCEPTS_EFFECTIVE_CONFIG,
);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Server TLS (PEM); with `ca`, client certificates are required (mutual TLS). */
export interface OpampServerTls {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

/** Starts the server on 127.0.0.1 (port 0 unless `port` is given), plaintext unless `tls` is given. */
export async function startOpampServer(options: { port?: number; tls?: OpampServerTls } = {}): Promise<OpampTestServer> {
  const port = options.port ?? 0;
  const tls = options.tls;
  const seen: SeenMessage[] = [];
  const agents = new Map<string, AgentState>();
  let responder: OpampResponder | undefined;
  let offered: AgentRemoteConfig | undefined;
  const sockets = new Set<net.Socket>();
  const clients = new Set<WsSocket>();

  /** Merges a report into the agent's state; true when a sequence gap means the server lacks state. */
  function merge(m: AgentToServer): { agent: AgentState; gap: boolean } {
    const key = hex(m.instanceUid);
    let agent = agents.get(key);
    const fresh = agent === undefined;
    agent ??= {
      lastSeq: 0n,
      capabilities: 0n,
      description: undefined,
      health: undefined,
      effectiveConfig: undefined,
      remoteConfigStatus: undefined,
      disconnected: false,
    };
    agents.set(key, agent);
    // A new agent whose first message lacks its description is one we lost (e.g. we restarted).
    const gap = (!fresh && m.sequenceNum !== agent.lastSeq + 1n) || (fresh && m.agentDescription === undefined);
    agent.lastSeq = m.sequenceNum;
    agent.capabilities = m.capabilities;
    if (m.agentDescription !== undefined) agent.description = m.agentDescription;
    if (m.health !== undefined) agent.health = m.health;
    if (m.effectiveConfig !== undefined) agent.effectiveConfig = m.effectiveConfig;
    if (m.remoteConfigStatus !== undefined) agent.remoteConfigStatus = m.remoteConfigStatus;
    agent.disconnected = m.agentDisconnect !== undefined;
    return { agent, gap };
  }

  /** What a spec-following server answers: ReportFullState on a gap, the offer when the agent's hash differs. */
  function defaultAnswer(agent: AgentState, gap: boolean): OpampAnswer {
    const message: MessageInitShape<typeof ServerToAgentSchema> = {};
    if (gap) message.flags = BigInt(ServerToAgentFlags.REPORT_FULL_STATE);
    if (offered !== undefined && !sameBytes(agent.remoteConfigStatus?.lastRemoteConfigHash, offered.configHash)) message.remoteConfig = offered;
    return { kind: 'message', message };
  }

  function handle(
    transport: 'http' | 'websocket',
    bytes: Uint8Array,
    req: http.IncomingMessage,
    gzipped: boolean,
  ): { answer: OpampAnswer; uid: Uint8Array } {
    const message = fromBinary(AgentToServerSchema, bytes);
    const peer = tls?.ca === undefined ? undefined : (req.socket as TLSSocket).getPeerCertificate();
    const clientCN = peer?.subject === undefined ? undefined : String(peer.subject.CN);
    const s: SeenMessage = { transport, message, bytes, headers: req.headers, clientCN, gzipped, at: performance.now() };
    seen.push(s);
    const { agent, gap } = merge(message);
    const answer = responder === undefined ? defaultAnswer(agent, gap) : responder(s, agent);
    return { answer, uid: message.instanceUid };
  }

  function encode(uid: Uint8Array, init: MessageInitShape<typeof ServerToAgentSchema> | undefined): Uint8Array {
    return toBinary(ServerToAgentSchema, create(ServerToAgentSchema, { instanceUid: uid, capabilities: CAPABILITIES, ...init }));
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(400).end();
        return;
      }
      const gzipped = req.headers['content-encoding'] === 'gzip';
      let body: Uint8Array = Buffer.concat(chunks);
      let result: ReturnType<typeof handle>;
      try {
        if (gzipped) body = gunzipSync(body);
        result = handle('http', body, req, gzipped);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const { answer, uid } = result;
      if (answer.kind === 'none') {
        req.socket.destroy();
        return;
      }
      if (answer.kind === 'http') {
        res.writeHead(answer.status, answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter }).end();
        return;
      }
      let out = encode(uid, answer.message);
      const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        out = gzipSync(out);
        headers['content-encoding'] = 'gzip';
      }
      res.writeHead(200, headers).end(out);
    });
  };
  const server =
    tls === undefined
      ? http.createServer(listener)
      : https.createServer(
          { cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca, requestCert: true, rejectUnauthorized: true }) },
          listener,
        );
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data: Buffer) => {
        // Header: varint 0 (one zero byte) in this version of the spec.
        if (data[0] !== 0) {
          ws.close(1002, 'bad header');
          return;
        }
        const { answer, uid } = handle('websocket', new Uint8Array(data.subarray(1)), req, false);
        if (answer.kind === 'message') ws.send(frame(encode(uid, answer.message)));
        else if (answer.kind === 'http') ws.close(1013, `status ${answer.status}`);
      });
    });
  });

  let listeningPort = port;
  async function start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listeningPort, '127.0.0.1', () => {
        server.off('error', reject);
        listeningPort = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }
  async function stop(): Promise<void> {
    for (const ws of clients) ws.terminate();
    clients.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  }
  await start();

  return {
    get httpUrl() {
      return `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${listeningPort}/v1/opamp`;
    },
    get wsUrl() {
      return `${tls === undefined ? 'ws' : 'wss'}://127.0.0.1:${listeningPort}/v1/opamp`;
    },
    get port() {
      return listeningPort;
    },
    seen,
    agents,
    respond(r) {
      responder = r;
    },
    offer(config) {
      offered = config === undefined ? undefined : create(ServerToAgentSchema, { remoteConfig: config }).remoteConfig;
      if (offered === undefined) return;
      for (const [key, agent] of agents) {
        if (sameBytes(agent.remoteConfigStatus?.lastRemoteConfigHash, offered.configHash)) continue;
        for (const ws of clients) ws.send(frame(encode(Buffer.from(key, 'hex'), { remoteConfig: offered })));
      }
    },
    push(message) {
      for (const [key] of agents) for (const ws of clients) ws.send(frame(encode(Buffer.from(key, 'hex'), message)));
    },
    get connections() {
      return clients.size;
    },
    async until(predicate, ms = 5000, what = 'condition') {
      const end = performance.now() + ms;
      while (!predicate()) {
        if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    stop,
    start,
  };
}

function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 1);
  out.set(message, 1);
  return out;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(b);
}

/** The messages of `server` from one agent. */
export function messagesOf(server: OpampTestServer, uid: string | Uint8Array): AgentToServer[] {
  const want = typeof uid === 'string' ? uid.replaceAll('-', '') : hex(uid);
  return server.seen.filter((s) => hex(s.message.instanceUid) === want).map((s) => s.message);
}

export type { ServerToAgent };
