/**
 * OpAMP over plain HTTP, through the client against real loopback servers: the request's headers
 * and gzip, gzip answers, HTTP throttling (503/429 with and without Retry-After), TLS with a client
 * certificate, and answers that cannot be used (too large, not protobuf, a redirect).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createOpampClient } from '../../src/opamp/client.js';
import type { OpampClient } from '../../src/opamp/client.js';
import { uuidV7 } from '../../src/opamp/instance-uid.js';
import type { OpampClientOptions } from '../../src/opamp/options.js';
import { messagesOf, startOpampServer } from '../support/opamp-server.js';
import type { OpampTestServer } from '../support/opamp-server.js';

const test = suite('opamp/http-transport');
const tlsDir = new URL('../fixtures/tls/', import.meta.url);
const pem = (name: string): string => readFileSync(new URL(name, tlsDir), 'utf8');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
    endpoint: server.httpUrl,
    instanceUid: uid,
    pollingIntervalMillis: 60_000,
    retry: { initialBackoffMillis: 50, maxBackoffMillis: 200 },
    timeoutMillis: 2000,
    ...options,
  });
  clients.push(c);
  return { client: c, uid };
}

test('POST application/x-protobuf with the configured headers and OpAMP-Instance-UID; gzip answers accepted', async () => {
  const { client: c } = client({ headers: { Authorization: 'Bearer t0ken', 'x-tenant': 'acme' } });
  await c.start();
  await server.until(() => server.seen.length >= 1 && c.status().connected);
  const h = server.seen[0]!.headers;
  assert.is(h['content-type'], 'application/x-protobuf');
  assert.is(h['authorization'], 'Bearer t0ken');
  assert.is(h['x-tenant'], 'acme');
  assert.is(h['opamp-instance-uid'], c.status().instanceUid);
  assert.match(String(h['accept-encoding']), /gzip/);
  assert.match(String(h['user-agent']), /^otlp-fanout/);
  assert.is(server.seen[0]!.gzipped, false, 'a small report is sent as is');
});

test('a report of 1 KiB or more is gzipped (compression: gzip, the default); never with compression: none', async () => {
  const yaml = `upstreams:\n${Array.from({ length: 100 }, (_, i) => `  u${i}: { endpoint: "http://127.0.0.1:${10_000 + i}" }\n`).join('')}`;
  const { client: a, uid } = client({ effectiveConfig: () => yaml, pollingIntervalMillis: 100 });
  await a.start();
  await server.until(() => messagesOf(server, uid).length >= 2);
  const mine = server.seen.filter((s) => s.message.instanceUid.length === 16 && Buffer.from(s.message.instanceUid).equals(uid));
  assert.is(mine[0]!.gzipped, true);
  assert.is(new TextDecoder().decode(mine[0]!.message.effectiveConfig!.configMap!.configMap['']!.body), yaml);
  assert.is(mine[1]!.gzipped, false, 'the heartbeat is small');
  const { client: b, uid: uidB } = client({ effectiveConfig: () => yaml, compression: 'none' });
  await b.start();
  await server.until(() => messagesOf(server, uidB).length >= 1);
  assert.is(server.seen.find((s) => Buffer.from(s.message.instanceUid).equals(uidB))!.gzipped, false);
});

test('503 with Retry-After: the next attempt waits as asked, then carries the full state', async () => {
  let refuse = true;
  server.respond(() => {
    if (!refuse) return { kind: 'message' };
    refuse = false;
    return { kind: 'http', status: 503, retryAfter: '1' };
  });
  const { client: c } = client({ health: () => ({ status: 'ok' }) });
  await c.start();
  await server.until(() => c.status().lastError === 'HTTP 503', 2000, 'the 503 noticed');
  assert.is(c.status().connected, false);
  await server.until(() => server.seen.length >= 2, 4000, 'the retry');
  const gap = server.seen[1]!.at - server.seen[0]!.at;
  assert.ok(gap >= 990 && gap < 2500, `waited ${gap} ms`);
  assert.ok(server.seen[1]!.message.agentDescription !== undefined && server.seen[1]!.message.health !== undefined);
});

test('429 without Retry-After waits at least 30 s (spec, Throttling), not the short backoff', async () => {
  server.respond(() => ({ kind: 'http', status: 429 }));
  const { client: c } = client();
  await c.start();
  await server.until(() => server.seen.length >= 1);
  await sleep(800); // the backoff alone would have retried 4 times by now
  assert.is(server.seen.length, 1);
  assert.is(c.status().lastError, 'HTTP 429');
});

test('other failures back off exponentially (a bounded number of attempts) and never print credentials', async () => {
  server.respond(() => ({ kind: 'http', status: 401 }));
  const { client: c } = client({ headers: { authorization: 'Bearer s3cret' }, retry: { initialBackoffMillis: 100, maxBackoffMillis: 1000 } });
  await c.start();
  await sleep(1000);
  // 100, 150, 225, 337 ms (±20 %) after the first: about 5 attempts in a second, not hundreds.
  assert.ok(server.seen.length >= 3 && server.seen.length <= 7, `${server.seen.length} attempts`);
  assert.is(c.status().lastError, 'HTTP 401');
  assert.not.match(
    JSON.stringify(c.status(), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    /s3cret/,
  );
});

test('https with a private CA and a client certificate (mutual TLS)', async () => {
  const secure = await startOpampServer({ tls: { cert: pem('server.pem'), key: pem('server-key.pem'), ca: pem('ca.pem') } });
  try {
    const { client: c, uid } = client({ endpoint: secure.httpUrl, tls: { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client-key.pem') } });
    await c.start();
    await secure.until(() => messagesOf(secure, uid).length >= 1 && c.status().connected, 3000, 'a message over mTLS');
    assert.ok(secure.seen[0]!.clientCN !== undefined);
    // Without the CA the server's certificate is not trusted.
    const { client: d } = client({ endpoint: secure.httpUrl });
    await d.start();
    await secure.until(() => d.status().lastError !== undefined, 3000, 'a TLS failure');
    assert.match(d.status().lastError!, /certificate|self[- ]signed|issuer/i);
  } finally {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await secure.stop();
  }
});

/** A plain server answering every request with `answer`. */
async function rawServer(answer: (res: http.ServerResponse) => void): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      answer(res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/opamp`,
    hits: () => hits,
    close: () =>
      new Promise((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

test('answers that cannot be used are failures with a reason: not protobuf, a redirect, too large, a stall', async () => {
  const cases: ReadonlyArray<{ answer: (res: http.ServerResponse) => void; error: RegExp }> = [
    {
      answer: (res) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from([0xff, 0xff, 0xff])),
      error: /not a ServerToAgent/,
    },
    { answer: (res) => res.writeHead(302, { location: 'http://elsewhere.example/' }).end(), error: /^HTTP 302$/ },
    { answer: (res) => res.writeHead(200, { 'content-encoding': 'br' }).end('x'), error: /Content-Encoding br/ },
    { answer: (res) => res.writeHead(200).end(Buffer.alloc(5 * 1024 * 1024)), error: /exceeds \d+ bytes/ },
    { answer: () => undefined, error: /no answer within 300 ms/ },
  ];
  for (const c of cases) {
    const raw = await rawServer(c.answer);
    try {
      const { client: cl } = client({ endpoint: raw.url, timeoutMillis: 300 });
      await cl.start();
      await server.until(() => c.error.test(cl.status().lastError ?? ''), 5000, `${c.error} (last error: ${cl.status().lastError})`);
      assert.is(cl.status().connected, false);
      await cl.stop();
    } finally {
      await raw.close();
    }
  }
});

test.run();
