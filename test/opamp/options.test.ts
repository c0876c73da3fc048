/** OpAMP client options: defaults, the transport chosen by scheme, and errors naming field, value and what is allowed. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { OpampOptionError } from '../../src/opamp/errors.js';
import { OPAMP_DEFAULTS, validateOpampClientOptions } from '../../src/opamp/options.js';
import type { OpampClientOptions } from '../../src/opamp/options.js';
import { packageVersion } from '../../src/internal/package-version.js';

const test = suite('opamp/options');
const ca = readFileSync(new URL('../fixtures/tls/ca.pem', import.meta.url), 'utf8');

test('defaults: 30 s polling, 10 s timeout, gzip, 1 s → 60 s backoff, the gateway description', () => {
  const o = validateOpampClientOptions({ endpoint: 'http://127.0.0.1:4320/v1/opamp' });
  assert.is(o.transport, 'http');
  assert.is(o.pollingIntervalMillis, 30_000);
  assert.is(o.timeoutMillis, 10_000);
  assert.is(o.compression, 'gzip');
  assert.is(o.retry.initialBackoffMillis, 1000);
  assert.is(o.retry.maxBackoffMillis, 60_000);
  assert.is(o.description.serviceName, 'otlp-fanout-gateway');
  assert.is(o.description.serviceVersion, packageVersion());
  assert.is(o.description.instanceId, undefined);
  assert.ok(o.description.osType !== '' && o.description.hostName !== '');
  assert.is(OPAMP_DEFAULTS.pollingIntervalMillis, 30_000);
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.description));
});

test('the scheme picks the transport', () => {
  assert.is(validateOpampClientOptions({ endpoint: 'https://x/v1/opamp' }).transport, 'http');
  assert.is(validateOpampClientOptions({ endpoint: 'ws://x/v1/opamp' }).transport, 'websocket');
  assert.is(validateOpampClientOptions({ endpoint: 'wss://x/v1/opamp', tls: { ca } }).transport, 'websocket');
});

const refusals: ReadonlyArray<{ options: Partial<OpampClientOptions>; field: string; allowed: RegExp }> = [
  { options: { endpoint: 'grpc://x:4317' }, field: 'endpoint', allowed: /http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ URL/ },
  { options: { endpoint: 'not a url' }, field: 'endpoint', allowed: /URL/ },
  { options: { endpoint: 'https://user:pw@x/' }, field: 'endpoint', allowed: /without user:password@/ },
  { options: { endpoint: 'ws://x/', tls: { ca } }, field: 'tls', allowed: /use wss:\/\// },
  { options: { endpoint: 'https://x/', tls: { ca: 'not pem' } }, field: 'tls.ca', allowed: /PEM/ },
  { options: { endpoint: 'https://x/', tls: { cert: ca } }, field: 'tls.key', allowed: /together/ },
  { options: { endpoint: 'http://x/', headers: { 'content-type': 'text/plain' } }, field: 'headers.content-type', allowed: /set by the transport/ },
  { options: { endpoint: 'http://x/', pollingIntervalMillis: 0 }, field: 'pollingIntervalMillis', allowed: /integer from 10/ },
  { options: { endpoint: 'http://x/', timeoutMillis: 1.5 }, field: 'timeoutMillis', allowed: /integer/ },
  {
    options: { endpoint: 'http://x/', retry: { initialBackoffMillis: 500, maxBackoffMillis: 100 } },
    field: 'retry.maxBackoffMillis',
    allowed: /at least retry.initialBackoffMillis/,
  },
  { options: { endpoint: 'http://x/', compression: 'br' as 'gzip' }, field: 'compression', allowed: /"gzip" or "none"/ },
  { options: { endpoint: 'http://x/', instanceUid: new Uint8Array(8) }, field: 'instanceUid', allowed: /16 bytes/ },
  { options: { endpoint: 'http://x/', stateDirectory: '' }, field: 'stateDirectory', allowed: /directory/ },
  { options: { endpoint: 'http://x/', description: { serviceName: '' } }, field: 'description.serviceName', allowed: /non-empty/ },
  {
    options: { endpoint: 'http://x/', description: { attributes: { k: {} as string } } },
    field: 'description.attributes["k"]',
    allowed: /string, number or boolean/,
  },
  { options: { endpoint: 'http://x/', health: 'yes' as unknown as () => never }, field: 'health', allowed: /function/ },
];

for (const r of refusals) {
  test(`refused: ${r.field} = ${JSON.stringify(r.options[r.field.split(/[.[]/)[0] as keyof OpampClientOptions])?.slice(0, 40)}`, () => {
    try {
      validateOpampClientOptions(r.options as OpampClientOptions);
      assert.unreachable('accepted');
    } catch (e) {
      if (!(e instanceof OpampOptionError)) throw e;
      assert.is(e.field, r.field);
      assert.match(e.allowed, r.allowed);
      assert.match(e.message, new RegExp(`^invalid OpAMP client option ${r.field.replace(/[[\]]/g, '\\$&')} = `));
    }
  });
}

test('a bad header value is neither printed nor kept', () => {
  try {
    validateOpampClientOptions({ endpoint: 'http://x/', headers: { authorization: 'Bearer s3cret\n' } });
    assert.unreachable('accepted');
  } catch (e) {
    if (!(e instanceof OpampOptionError)) throw e;
    assert.is(e.field, 'headers.authorization');
    assert.not.match(e.message, /s3cret/);
    assert.not.match(String(e.value), /s3cret/);
  }
});

test.run();
