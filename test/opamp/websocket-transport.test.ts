/**
 * OpAMP over WebSocket: the message header (a varint, 0 in this version of the spec), the handshake's
 * headers, wss with a client certificate, pushes from the server, reconnection (at once after a
 * working connection ends; with backoff when connections never get an answer) and heartbeats the
 * server turns off.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { RemoteConfigStatuses, ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import { createOpampClient } from '../../src/opamp/client.js';
import type { OpampClient } from '../../src/opamp/client.js';
import { uuidV7 } from '../../src/opamp/instance-uid.js';
import type { OpampClientOptions } from '../../src/opamp/options.js';
import { frameMessage, unframeMessage } from '../../src/opamp/websocket-transport.js';
import { messagesOf, startOpampServer } from '../support/opamp-server.js';
import type { OpampTestServer } from '../support/opamp-server.js';

const test = suite('opamp/websocket-transport');
const tlsDir = new URL('../fixtures/tls/', import.meta.url);
const pem = (name: string): string => readFileSync(new URL(name, tlsDir), 'utf8');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('framing: one zero byte before the message; a header that is not 0, or not a varint, is refused', () => {
  assert.equal([...frameMessage(new Uint8Array([8, 1]))], [0, 8, 1]);
  assert.equal([...unframeMessage(new Uint8Array([0, 8, 1]))], [8, 1]);
  assert.equal([...unframeMessage(new Uint8Array([0]))], [], 'an empty message is valid');
  assert.equal([...unframeMessage(new Uint8Array([0x80, 0x00, 8]))], [8], 'a zero written in two bytes is still 0');
  assert.throws(() => unframeMessage(new Uint8Array([1, 8])), /header is 1/);
  assert.throws(() => unframeMessage(new Uint8Array([0x80])), /not a valid varint/);
  assert.throws(() => unframeMessage(new Uint8Array([])), /not a valid varint/);
});

let server: OpampTestServer;
const clients: OpampClient[] = [];
test.before.each(async () => {
  server = await startOpampServer();
});
test.after.each(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await server.stop();
});

function client(options: Partial<OpampClientOptions> = {}): { client: OpampClient; uid: Uint8Array } {
  const uid = uuidV7();
  const c = createOpampClient({
    endpoint: server.wsUrl,
    instanceUid: uid,
    pollingIntervalMillis: 60_000,
    retry: { initialBackoffMillis: 50, maxBackoffMillis: 200 },
    timeoutMillis: 2000,
    ...options,
  });
  clients.push(c);
  return { client: c, uid };
}

test('the handshake carries the headers and OpAMP-Instance-UID; one connection for every message', async () => {
  const { client: c, uid } = client({ headers: { authorization: 'Bearer t0ken' }, pollingIntervalMillis: 50 });
  await c.start();
  await server.until(() => messagesOf(server, uid).length >= 3);
  assert.is(server.seen[0]!.transport, 'websocket');
  assert.is(server.seen[0]!.headers['authorization'], 'Bearer t0ken');
  assert.is(server.seen[0]!.headers['opamp-instance-uid'], c.status().instanceUid);
  assert.is(server.connections, 1);
});

test('the server pushes a config between heartbeats: applied, APPLYING then APPLIED reported at once', async () => {
  const applied: string[] = [];
  const { client: c, uid } = client({
    onRemoteConfig: async (doc) => {
      applied.push(doc.body);
      await server.until(() => messagesOf(server, uid).some((m) => m.remoteConfigStatus?.status === RemoteConfigStatuses.APPLYING));
      return { applied: true };
    },
  });
  await c.start();
  await server.until(() => messagesOf(server, uid).length >= 1);
  server.offer({
    config: { configMap: { 'gateway.yaml': { body: utf8('x: 1\n'), contentType: 'application/yaml' } } },
    configHash: new Uint8Array([1]),
  });
  await server.until(() => messagesOf(server, uid).some((m) => m.remoteConfigStatus?.status === RemoteConfigStatuses.APPLIED), 3000, 'APPLIED');
  assert.equal(applied, ['x: 1\n']);
  server.push({ flags: BigInt(ServerToAgentFlags.REPORT_FULL_STATE) });
  await server.until(() => messagesOf(server, uid).at(-1)?.agentDescription !== undefined, 3000, 'a full report');
});

test('wss with a private CA and a client certificate', async () => {
  const secure = await startOpampServer({ tls: { cert: pem('server.pem'), key: pem('server-key.pem'), ca: pem('ca.pem') } });
  try {
    const { client: c, uid } = client({ endpoint: secure.wsUrl, tls: { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client-key.pem') } });
    await c.start();
    await secure.until(() => messagesOf(secure, uid).length >= 1, 3000, 'a message over wss');
    assert.ok(secure.seen[0]!.clientCN !== undefined);
    assert.is(c.status().connected, true);
  } finally {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await secure.stop();
  }
});

test('a working connection that drops is reopened at once, with the full state first', async () => {
  const { client: c, uid } = client({ retry: { initialBackoffMillis: 5000, maxBackoffMillis: 5000 }, health: () => ({ status: 'ok' }) });
  await c.start();
  await server.until(() => messagesOf(server, uid).length >= 1 && c.status().connected);
  await server.stop();
  await server.start();
  await server.until(() => messagesOf(server, uid).length >= 2, 3000, 'reconnected without waiting for the 5 s backoff');
  const m = messagesOf(server, uid)[1]!;
  assert.ok(m.agentDescription !== undefined && m.health !== undefined);
  assert.is(m.sequenceNum, 2n);
});

test('a server that accepts connections and never answers gets backoff, not a reconnection storm', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.on('message', () => ws.close());
  });
  await new Promise((r) => wss.once('listening', r));
  try {
    const { client: c } = client({
      endpoint: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
      retry: { initialBackoffMillis: 100, maxBackoffMillis: 400 },
    });
    await c.start();
    await sleep(1000);
    assert.ok(connections >= 2 && connections <= 8, `${connections} connections in 1 s`);
    assert.match(c.status().lastError!, /closed the connection/);
  } finally {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((r) => wss.close(r));
  }
});

test('a message with a header other than 0 ends the connection (and the client reconnects)', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.on('message', () => ws.send(Buffer.from([1, 0x08, 0x01])));
  });
  await new Promise((r) => wss.once('listening', r));
  try {
    const { client: c } = client({ endpoint: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` });
    await c.start();
    await server.until(() => /not a ServerToAgent: the message header is 1/.test(c.status().lastError ?? ''), 3000, 'the bad message reported');
    await server.until(() => connections >= 2, 3000, 'a second connection');
  } finally {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((r) => wss.close(r));
  }
});

test('heartbeat_interval_seconds 0 turns WebSocket heartbeats off', async () => {
  server.respond(() => ({ kind: 'message', message: { connectionSettings: { opamp: { heartbeatIntervalSeconds: 0n } } } }));
  const { client: c, uid } = client({ pollingIntervalMillis: 100 });
  await c.start();
  await server.until(() => messagesOf(server, uid).length >= 1);
  await sleep(400);
  assert.is(messagesOf(server, uid).length, 1);
});

test('a connection that cannot be opened is a failure, retried with backoff', async () => {
  const { client: c } = client({ endpoint: server.httpUrl.replace('http:', 'ws:').replace(/:\d+\//, ':1/') });
  await c.start();
  await server.until(() => c.status().lastError !== undefined, 3000, 'the failure');
  assert.match(c.status().lastError!, /WebSocket connection failed/);
  assert.is(c.status().connected, false);
});

test.run();
