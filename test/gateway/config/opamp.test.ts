/**
 * The gateway's `opamp` section (src/gateway/config/opamp.ts): defaults, PEM files read, errors
 * naming the key path, `--opamp`, and the docs' example (docs/gateway.md, OpAMP) loaded as written.
 * A remote config's own section: remote.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { opampConfig } from '../../../src/gateway/config/opamp.js';
import { pemFile } from '../../../src/gateway/config/values.js';

const test = suite('gateway/config/opamp');
const fixtures = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));
const files = (value: unknown, p: string): string => pemFile(value, p, fixtures);
const read = (value: unknown) => opampConfig(value, 'opamp', files);

function errorOf(fn: () => unknown): GatewayConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayConfigError) return e;
    throw e;
  }
  throw new Error('expected a GatewayConfigError');
}

test('absent: null (no OpAMP)', () => {
  assert.is(read(undefined), null);
  assert.is(read(null), null);
});

test('the smallest section: an endpoint; 30 s polling', () => {
  const c = read({ endpoint: 'http://127.0.0.1:4320/v1/opamp' })!;
  assert.equal(c, { endpoint: 'http://127.0.0.1:4320/v1/opamp', headers: {}, tls: {}, pollingIntervalMillis: 30_000 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.tls));
});

test('everything: headers (names lower-cased), TLS files read, a duration', () => {
  const c = read({
    endpoint: 'wss://opamp.example/v1/opamp',
    headers: { Authorization: 'Bearer x' },
    tls: { caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client-key.pem' },
    pollingInterval: '2m',
  })!;
  assert.equal(c.headers, { authorization: 'Bearer x' });
  assert.match(c.tls.ca!, /BEGIN CERTIFICATE/);
  assert.match(c.tls.key!, /PRIVATE KEY/);
  assert.is(c.pollingIntervalMillis, 120_000);
});

const refusals: ReadonlyArray<{ doc: unknown; path: string; problem: RegExp }> = [
  { doc: 'http://x', path: 'opamp', problem: /expected a mapping/ },
  { doc: {}, path: 'opamp.endpoint', problem: /required/ },
  { doc: { endpoint: 'http://x', poll: '1s' }, path: 'opamp.poll', problem: /unknown key; allowed here: endpoint, headers, tls, pollingInterval/ },
  {
    doc: { endpoint: 'grpc://x:4317' },
    path: 'opamp.endpoint',
    problem: /"grpc:\/\/x:4317": expected an http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ URL/,
  },
  { doc: { endpoint: 'https://u:p@x/' }, path: 'opamp.endpoint', problem: /without user:password@/ },
  { doc: { endpoint: 'ws://x/', tls: { caFile: 'ca.pem' } }, path: 'opamp.tls', problem: /use wss:\/\// },
  { doc: { endpoint: 'https://x/', tls: { certFile: 'client.pem' } }, path: 'opamp.tls.keyFile', problem: /together/ },
  { doc: { endpoint: 'https://x/', tls: { caFile: 'missing.pem' } }, path: 'opamp.tls.caFile', problem: /cannot read "missing.pem"/ },
  { doc: { endpoint: 'https://x/', tls: { ca: 'ca.pem' } }, path: 'opamp.tls.ca', problem: /unknown key; allowed here: caFile, certFile, keyFile/ },
  { doc: { endpoint: 'http://x/', headers: { 'content-type': 'text/plain' } }, path: 'opamp.headers.content-type', problem: /set by the transport/ },
  { doc: { endpoint: 'http://x/', pollingInterval: '500ms' }, path: 'opamp.pollingInterval', problem: /from 1000 to/ },
  { doc: { endpoint: 'http://x/', pollingInterval: 'often' }, path: 'opamp.pollingInterval', problem: /expected a duration/ },
];

for (const r of refusals) {
  test(`refused at ${r.path}`, () => {
    const e = errorOf(() => read(r.doc));
    assert.is(e.path, r.path);
    assert.match(e.problem, r.problem);
  });
}

test('a header value is never printed', () => {
  const e = errorOf(() => read({ endpoint: 'http://x/', headers: { authorization: 'Bearer s3cret\r\nx: y' } }));
  assert.is(e.path, 'opamp.headers.authorization');
  assert.not.match(e.message, /s3cret/);
});

test("the docs' example (docs/gateway.md, OpAMP) loads through loadGatewayConfig", () => {
  const doc = readFileSync(path.join(fileURLToPath(new URL('../../../', import.meta.url)), 'docs/gateway.md'), 'utf8');
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^opamp:/m.test(b));
  assert.is(blocks.length, 1, 'one example with an opamp section');
  const c = loadGatewayConfig({ document: parse(blocks[0]!), env: { OPAMP_TOKEN: 'token' }, baseDir: fixtures }).opamp!;
  assert.match(c.endpoint, /^wss:\/\//);
  assert.is(c.headers['authorization'], 'Bearer token');
});

test("loadGatewayConfig: no section, no OpAMP; --opamp alone, or over the file's endpoint (its other keys kept); a bad flag is named", () => {
  assert.is(loadGatewayConfig({ document: {}, env: {} }).opamp, null);
  const flag = loadGatewayConfig({ document: {}, flags: { opamp: 'http://127.0.0.1:4320/v1/opamp' }, env: {} }).opamp!;
  assert.equal(flag, { endpoint: 'http://127.0.0.1:4320/v1/opamp', headers: {}, tls: {}, pollingIntervalMillis: 30_000 });
  const document = { opamp: { endpoint: 'http://file/v1/opamp', headers: { authorization: 'Bearer x' }, pollingInterval: '5s' } };
  const both = loadGatewayConfig({ document, flags: { opamp: 'ws://flag:4320/v1/opamp' }, env: {} }).opamp!;
  assert.equal(both, { endpoint: 'ws://flag:4320/v1/opamp', headers: { authorization: 'Bearer x' }, tls: {}, pollingIntervalMillis: 5000 });
  const e = errorOf(() => loadGatewayConfig({ document: {}, flags: { opamp: 'grpc://x:1' }, env: {} }));
  assert.is(e.path, '--opamp');
  assert.match(e.problem, /expected an http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ URL/);
  assert.is(errorOf(() => loadGatewayConfig({ document: { opamp: { endpoint: 'x' } }, env: {} })).path, 'opamp.endpoint');
});

test.run();
