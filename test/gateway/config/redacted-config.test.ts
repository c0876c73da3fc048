/**
 * redactedConfig: a configuration full of secrets (tenant tokens and API keys, upstream and
 * self-telemetry headers, an API key in an endpoint's query, TLS private keys, the inspector's and
 * /metrics' credentials) shows none of them, nor their digests, and still shows what is not secret.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { REDACTED, redactedConfig } from '../../../src/gateway/config/redacted-config.js';

const test = suite('gateway/config/redacted-config');
const fixtures = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));

const SECRETS = {
  TENANT_TOKEN: 'tenant-token-0001',
  TENANT_KEY: 'tenant-apikey-0002',
  UPSTREAM_AUTH: 'Bearer upstream-secret-0003',
  VENDOR_KEY: 'vendor-key-0004',
  QUERY_KEY: 'query-key-0005',
  SELF_KEY: 'self-key-0006',
  UI_TOKEN: 'ui-token-0007',
  METRICS_PASSWORD: 'metrics-password-0008',
};

const text = `
receivers:
  http: { address: 127.0.0.1:0, tls: { certFile: server.pem, keyFile: server-key.pem } }
tenants:
  acme:
    tokens: ["\${TENANT_TOKEN}"]
    apiKeys: ["\${TENANT_KEY}"]
    upstreams:
      own: { endpoint: "https://vendor.example/otlp", headers: { api-key: "\${VENDOR_KEY}" } }
upstreams:
  main:
    endpoint: "https://collector.example:4318/otlp?api-key=\${QUERY_KEY}&encoding=json"
    headers: { authorization: "\${UPSTREAM_AUTH}" }
    tls: { caFile: ca.pem, certFile: client.pem, keyFile: client-key.pem }
    processors:
      - resource: [{ action: upsert, key: deployment.environment.name, value: prod }]
routes:
  - { name: all, match: { service.name: "checkout-*" }, upstreams: [main] }
observe:
  ui: { address: 127.0.0.1:4319, auth: { token: "\${UI_TOKEN}" } }
  metrics: { address: 127.0.0.1:9464, auth: { basic: { username: prom, password: "\${METRICS_PASSWORD}" } } }
selfTelemetry:
  upstreams:
    self: { endpoint: "http://127.0.0.1:4318", headers: { x-api-key: "\${SELF_KEY}" } }
`;

test('no secret, digest or private key appears; the rest does', () => {
  const config = loadGatewayConfig({ text, label: 'test', env: SECRETS, baseDir: fixtures });
  const shown = JSON.stringify(redactedConfig(config));
  const forbidden: string[] = [];
  for (const s of Object.values(SECRETS)) {
    forbidden.push(s, s.replace(/^Bearer /, ''), encodeURIComponent(s));
    const digest = createHash('sha256').update(s).digest();
    forbidden.push(digest.toString('hex'), digest.toString('base64'));
  }
  forbidden.push(createHash('sha256').update(`prom:${SECRETS.METRICS_PASSWORD}`).digest('hex'));
  for (const key of ['server-key.pem', 'client-key.pem']) {
    const pem = readFileSync(fixtures + key, 'utf8');
    forbidden.push(pem.split('\n')[1]!, 'PRIVATE KEY');
  }
  for (const f of forbidden) assert.not.ok(shown.includes(f), `shown: ${f}`);
  // What is not secret stays readable.
  for (const s of ['acme', 'api-key', 'authorization', 'x-api-key', 'checkout-*', 'deployment.environment.name', 'prom', '4319', 'encoding=json']) {
    assert.ok(shown.includes(s), `kept: ${s}`);
  }
  const r = redactedConfig(config) as { upstreams: { headers: Record<string, string>; tls: Record<string, string>; endpoint: string }[] };
  assert.equal(r.upstreams[0]!.headers, { authorization: REDACTED });
  assert.is(r.upstreams[0]!.tls['key'], REDACTED);
  assert.match(r.upstreams[0]!.tls['cert']!, /^\(PEM, \d+ bytes\)$/);
  assert.match(r.upstreams[0]!.endpoint, /api-key=\(redacted\)/);
});

test('a section the redaction does not know is walked by the same rules', () => {
  const r = redactedConfig({
    opamp: { endpoint: 'wss://x.example/v1/opamp?token=abc12345', headers: { authorization: 'Bearer zzz' }, tls: { key: 'k' } },
    future: { token: 'abc', password: 'p', apiKeys: ['a', 'b'], digest: new Uint8Array([1, 2]), list: new Set(['x']), fn: () => 1 },
  });
  const shown = JSON.stringify(r);
  for (const s of ['abc12345', 'zzz', '"k"', '"abc"', '"p"', '"a"']) assert.not.ok(shown.includes(s), s);
  assert.equal((r as { future: unknown }).future, { token: REDACTED, password: REDACTED, apiKeys: '(2 redacted)', digest: REDACTED, list: ['x'] });
});

test.run();
