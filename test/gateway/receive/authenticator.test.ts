/**
 * Tenants: bearer tokens and API keys name a tenant; missing or unknown credentials are
 * refused (401 / UNAUTHENTICATED) with nothing forwarded; a tenant's own upstream gets
 * only that tenant's data; routes can select tenants.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromBinary } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { StatusSchema } from '../../../gen/google/rpc/status_pb.js';
import { createAuthenticator } from '../../../src/gateway/receive/authenticator.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { ofSignal, startReceiver } from '../../support/receiver.js';
import type { Receiver } from '../../support/receiver.js';
import { bin, grpcCall, logsRequest, metricsRequest, post, PROTOBUF, startTestGateway } from '../harness.js';
import type { TestGateway } from '../harness.js';

const ACME = 'acme-token-0123456789';
const BETA = 'beta-api-key-abcdefgh';

const unit = suite('gateway/auth: authenticator');

function authenticator(doc: Record<string, unknown>) {
  const config = loadGatewayConfig({ document: doc, env: {} });
  return createAuthenticator(config.tenants, config.apiKeyHeader);
}

const tenants = {
  auth: { apiKeyHeader: 'X-OTLP-Key' },
  tenants: { acme: { tokens: [ACME, 'acme-second-token'] }, beta: { apiKeys: [BETA] } },
};

const headers = (h: Record<string, string>) => (name: string) => h[name];

unit('no tenants: auth is off', () => {
  const a = authenticator({});
  assert.is(a.enabled, false);
  assert.equal(a.authenticate(headers({})), { kind: 'off' });
});

unit('step table: bearer tokens and API keys', () => {
  const a = authenticator(tenants);
  assert.is(a.enabled, true);
  const table: Array<[Record<string, string>, unknown]> = [
    [{}, { kind: 'missing' }],
    [{ authorization: `Bearer ${ACME}` }, { kind: 'tenant', tenant: 'acme' }],
    [{ authorization: `bearer   ${ACME}  ` }, { kind: 'tenant', tenant: 'acme' }],
    [{ authorization: 'Bearer acme-second-token' }, { kind: 'tenant', tenant: 'acme' }],
    [{ authorization: `Bearer ${ACME}x` }, { kind: 'unknown' }],
    [{ authorization: `Basic ${ACME}` }, { kind: 'missing' }],
    [{ 'x-otlp-key': BETA }, { kind: 'tenant', tenant: 'beta' }],
    [{ 'x-otlp-key': ACME }, { kind: 'unknown' }],
    [{ authorization: `Bearer ${BETA}` }, { kind: 'unknown' }],
    [
      { authorization: 'Bearer nope-nope-nope', 'x-otlp-key': BETA },
      { kind: 'tenant', tenant: 'beta' },
    ],
    [{ 'x-api-key': BETA }, { kind: 'missing' }],
  ];
  for (const [h, expected] of table) assert.equal(a.authenticate(headers(h)), expected, JSON.stringify(h));
});

unit('the resolved config keeps digests, never the secrets', () => {
  const config = loadGatewayConfig({ document: tenants, env: {} });
  const text = JSON.stringify(config, (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
  assert.not.match(text, ACME);
  assert.not.match(text, BETA);
  assert.is(config.tenants[0]!.credentials[0]!.digest.length, 32);
});

const live = suite('gateway/auth: on the wire');
let shared: Receiver;
let acmeOwn: Receiver;
let betaOnly: Receiver;
let t: TestGateway;

live.before(async () => {
  [shared, acmeOwn, betaOnly] = await Promise.all([startReceiver({ http: false }), startReceiver({ grpc: false }), startReceiver({ grpc: false })]);
  t = await startTestGateway(
    {
      auth: { apiKeyHeader: 'x-otlp-key' },
      tenants: {
        acme: { tokens: ['${ACME_TOKEN}'], upstreams: { own: { endpoint: acmeOwn.httpUrl } } },
        beta: { apiKeys: [BETA] },
      },
      upstreams: { shared: { endpoint: shared.grpcUrl.replace('http:', 'grpc:') }, betaOnly: { endpoint: betaOnly.httpUrl } },
      routes: [{ upstreams: ['shared'] }, { tenants: ['beta'], upstreams: ['betaOnly'] }],
    },
    { ACME_TOKEN: ACME },
  );
});

live.after(async () => {
  await t.close();
  await Promise.all([shared.close(), acmeOwn.close(), betaOnly.close()]);
});

live.before.each(() => {
  for (const rx of [shared, acmeOwn, betaOnly]) rx.clear();
  t.seen.refused.length = 0;
  t.seen.requests.length = 0;
});

const settle = () => new Promise((r) => setTimeout(r, 100));

live('HTTP: missing and unknown credentials get 401 and nothing is forwarded', async () => {
  const body = bin.metrics(metricsRequest(['a']));
  const missing = await post(`${t.httpUrl}/v1/metrics`, body, PROTOBUF);
  assert.is(missing.status, 401);
  assert.is(missing.headers.get('www-authenticate'), 'Bearer realm="otlp-fanout"');
  const status = fromBinary(StatusSchema, new Uint8Array(await missing.arrayBuffer()));
  assert.is(status.code, Code.Unauthenticated);
  assert.match(status.message, 'credentials required');
  const unknown = await post(`${t.httpUrl}/v1/metrics`, body, { ...PROTOBUF, authorization: 'Bearer not-a-real-token' });
  assert.is(unknown.status, 401);
  const unknownStatus = fromBinary(StatusSchema, new Uint8Array(await unknown.arrayBuffer()));
  assert.is(unknownStatus.message, 'unknown credentials');
  assert.not.match(unknownStatus.message, 'not-a-real-token');
  await settle();
  assert.is(shared.requests.length + acmeOwn.requests.length + betaOnly.requests.length, 0);
  assert.equal(
    t.seen.refused.map((r) => r.reason),
    ['unauthenticated', 'unauthenticated'],
  );
  assert.is(t.seen.requests.length, 0);
});

live('gRPC: missing and unknown credentials get UNAUTHENTICATED', async () => {
  const body = bin.logs(logsRequest(['a']));
  const missing = await grpcCall(t.grpcUrl, 'logs', body);
  assert.is(missing.ok, false);
  if (!missing.ok) assert.is(missing.error.code, Code.Unauthenticated);
  const unknown = await grpcCall(t.grpcUrl, 'logs', body, { 'x-otlp-key': 'wrong-key-wrong-key' });
  assert.is(unknown.ok, false);
  if (!unknown.ok) assert.is(unknown.error.code, Code.Unauthenticated);
  await settle();
  assert.is(shared.requests.length + acmeOwn.requests.length, 0);
  assert.equal(
    t.seen.refused.map((r) => [r.reason, r.status]),
    [
      ['unauthenticated', Code.Unauthenticated],
      ['unauthenticated', Code.Unauthenticated],
    ],
  );
});

live("a tenant's own upstream gets only that tenant's data; routes select tenants", async () => {
  const acmeBody = bin.metrics(metricsRequest(['acme-svc']));
  const betaBody = bin.metrics(metricsRequest(['beta-svc']));
  const a = await post(`${t.httpUrl}/v1/metrics`, acmeBody, { ...PROTOBUF, authorization: `Bearer ${ACME}` });
  assert.is(a.status, 200);
  const b = await grpcCall(t.grpcUrl, 'metrics', betaBody, { 'x-otlp-key': BETA });
  assert.equal(b, { ok: true, rejected: 0n });
  await shared.waitFor((r) => r.signal === 'metrics' && Buffer.from(r.bytes).equals(Buffer.from(betaBody)));
  await shared.waitFor((r) => r.signal === 'metrics' && Buffer.from(r.bytes).equals(Buffer.from(acmeBody)));
  const own = await acmeOwn.waitFor(ofSignal('metrics'));
  assert.ok(Buffer.from(own.bytes).equals(Buffer.from(acmeBody)));
  const beta = await betaOnly.waitFor(ofSignal('metrics'));
  assert.ok(Buffer.from(beta.bytes).equals(Buffer.from(betaBody)));
  await settle();
  assert.is(acmeOwn.requests.length, 1, 'acme-own never sees beta');
  assert.is(betaOnly.requests.length, 1, 'beta-only never sees acme');
  assert.equal(
    t.seen.requests.map((r) => [r.tenant, r.upstreams]),
    [
      ['acme', ['shared', 'acme/own']],
      ['beta', ['shared', 'betaOnly']],
    ],
  );
  // The credential never leaves the gateway.
  assert.is(own.headers['authorization'], undefined);
  assert.is(
    shared.requests.every((r) => r.headers['x-otlp-key'] === undefined),
    true,
  );
});

unit.run();
live.run();
