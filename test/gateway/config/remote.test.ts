/**
 * Remote configurations (src/gateway/config/remote.ts): read as the local file is (flags over them,
 * `${ENV}`), with the local `opamp` and `storage` (their own sections ignored and reported), checked
 * against the log that runs; and what a gateway starts with when an earlier run stored one.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { loadRemoteGatewayConfig, remoteConfigLabel, startingConfig } from '../../../src/gateway/config/remote.js';
import { storeRemoteConfig } from '../../../src/opamp/remote-config.js';

const test = suite('gateway/config/remote');

function errorOf(fn: () => unknown): GatewayConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayConfigError) return e;
    throw e;
  }
  throw new Error('expected a GatewayConfigError');
}

const NONE = { opamp: null, storage: null };

test('its own opamp and storage sections are ignored (reported) and the local ones kept; flags and ${ENV} apply, --opamp and --storage aside', () => {
  const local = loadGatewayConfig({ document: { opamp: { endpoint: 'http://local/v1/opamp' } }, flags: { storage: '/tmp/local-queue' }, env: {} });
  const ignored: Array<{ path: string; reason: string }> = [];
  const text = [
    'opamp: { endpoint: "http://elsewhere/v1/opamp", tls: { caFile: missing.pem } }',
    'storage: { directory: /elsewhere, fsync: sometimes }',
    'upstreams:',
    '  u: { endpoint: "${UP}" }',
  ].join('\n');
  const options = { flags: { grpc: 'off', opamp: 'http://flag/v1/opamp', storage: '/tmp/flag-queue' }, env: { UP: 'http://127.0.0.1:9' } };
  const c = loadRemoteGatewayConfig(text, 'remote config 1', options, local, (s) => ignored.push(s));
  assert.is(c.opamp, local.opamp);
  assert.is(c.storage, local.storage);
  assert.is(c.grpc, null, 'the flags win over a remote config as over the file');
  assert.is(c.upstreams[0]!.endpoint, 'http://127.0.0.1:9');
  assert.equal(
    ignored.map((s) => s.path),
    ['opamp', 'storage'],
  );
  assert.match(ignored[0]!.reason, /local file or --opamp/);
  assert.match(ignored[1]!.reason, /local file or --storage/);
  const none: unknown[] = [];
  assert.is(loadRemoteGatewayConfig('upstreams: {}', 'r', {}, NONE, (s) => none.push(s)).opamp, null);
  assert.equal(none, [], 'nothing ignored without those sections');
});

test('errors name the document and the key', () => {
  assert.match(
    errorOf(() => loadRemoteGatewayConfig('upstreams: [', 'remote config 2', {}, NONE, () => undefined)).message,
    /remote config 2 is not valid YAML/,
  );
  const e = errorOf(() => loadRemoteGatewayConfig('upstreams: { u: { endpoint: "${NOPE}" } }', 'r', { env: {} }, NONE, () => undefined));
  assert.is(e.path, 'upstreams.u.endpoint');
  assert.is(errorOf(() => loadRemoteGatewayConfig('- a list', 'r', {}, NONE, () => undefined)).path, '');
});

test('checked against the local durable log: a request must fit one record; memory queue sizes do not apply', () => {
  const local = loadGatewayConfig({ document: { storage: { directory: '/tmp/q', maxBytes: '128MiB' } }, env: {} });
  // 128 MiB of log holds records of 64 MiB: an 80 MiB request limit cannot be.
  const e = errorOf(() => loadRemoteGatewayConfig('limits: { maxRequestBytes: 80MiB }', 'r', {}, local, () => undefined));
  assert.is(e.path, 'storage.maxBytes');
  // With storage the log is the queue: a queue below the request limit is fine, as it is in the local file.
  const c = loadRemoteGatewayConfig(
    'limits: { maxRequestBytes: 8MiB }\nupstreams: { u: { endpoint: "http://127.0.0.1:9", queue: { maxBytes: 1MiB } } }',
    'r',
    {},
    local,
    () => undefined,
  );
  assert.is(c.limits.maxRequestBytes, 8 * 1024 * 1024);
  assert.is(
    errorOf(() =>
      loadRemoteGatewayConfig(
        'limits: { maxRequestBytes: 8MiB }\nupstreams: { u: { endpoint: "http://127.0.0.1:9", queue: { maxBytes: 1MiB } } }',
        'r',
        {},
        NONE,
        () => undefined,
      ),
    ).path,
    'upstreams.u.queue.maxBytes',
  );
});

test('startingConfig: a stored remote config starts in full (but opamp and storage), only with OpAMP and storage', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-remote-'));
  try {
    const document = { opamp: { endpoint: 'http://local/v1/opamp' }, storage: { directory: dir }, observe: { verbosity: 'basic' } };
    const local = loadGatewayConfig({ document, env: {} });
    assert.is(await startingConfig(local, {}), local, 'nothing stored');
    const body =
      'observe: { verbosity: detailed }\nupstreams: { extra: { endpoint: "http://127.0.0.1:9" } }\nopamp: { endpoint: "http://elsewhere/" }\n';
    await storeRemoteConfig(dir, { body, contentType: 'text/yaml', name: '', hash: new Uint8Array([1, 2, 3]) });
    const c = await startingConfig(local, {});
    assert.equal(
      c.upstreams.map((u) => u.name),
      ['extra'],
    );
    assert.is(c.observe.verbosity, 'detailed', 'a restart is when the settings a reload cannot change take effect');
    assert.is(c.opamp, local.opamp);
    assert.is(c.storage, local.storage);
    const again = await startingConfig(c, {});
    assert.ok(again !== c && again.observe.verbosity === 'detailed' && again.upstreams.length === 1, 'the same again from its own result');
    const noOpamp = loadGatewayConfig({ document: { storage: { directory: dir } }, env: {} });
    assert.is(await startingConfig(noOpamp, {}), noOpamp, 'without OpAMP the stored file is not read');
    const flags = { grpc: 'off', http: 'off' };
    const bothOff = loadGatewayConfig({ document: { ...document, receivers: { grpc: false } }, env: {} });
    assert.is(await startingConfig(bothOff, { flags }), bothOff, 'one that would receive nothing is not started');
    await storeRemoteConfig(dir, {
      body: 'upstreams: { x: { endpoint: "${GONE}" } }',
      contentType: 'text/yaml',
      name: '',
      hash: new Uint8Array([4]),
    });
    assert.is(await startingConfig(local, { env: {} }), local, 'one that no longer loads: the local file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('remoteConfigLabel: the hash, as a server shows it', () => {
  assert.is(remoteConfigLabel(new Uint8Array(0)), 'remote config');
  assert.is(remoteConfigLabel(new Uint8Array(32).fill(0xab)), 'remote config abababababab');
});

test.run();
