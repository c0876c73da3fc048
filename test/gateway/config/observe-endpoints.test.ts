/**
 * `observe.ui` and `observe.metrics`: addresses, `--ui`, credentials kept as digests, and the
 * inspector refused beyond loopback without credentials (a config error: the CLI exits 2).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import type { GatewayFlags } from '../../../src/gateway/config/gateway-config.js';
import { isLoopbackHost } from '../../../src/gateway/config/observe-endpoints.js';

const test = suite('gateway/config/observe-endpoints');

const load = (observe: unknown, flags: GatewayFlags = {}) => loadGatewayConfig({ document: { observe }, flags, env: {} });

function errorOf(fn: () => unknown): GatewayConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GatewayConfigError) return e;
    throw e;
  }
  throw new Error('expected a GatewayConfigError');
}

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

test('off unless configured or --ui; --ui overrides the address and keeps the file auth; --ui off turns it off', () => {
  assert.is(load(undefined).observe.ui, null);
  assert.is(load({ ui: false }).observe.ui, null);
  assert.equal(load(undefined, { ui: '127.0.0.1:4319' }).observe.ui, { host: '127.0.0.1', port: 4319, auth: null });
  assert.equal(load({ ui: false }, { ui: '[::1]:0' }).observe.ui, { host: '::1', port: 0, auth: null });
  const c = load({ ui: { address: '127.0.0.1:4400', auth: { token: 'ui-token-123' } } }, { ui: '0.0.0.0:4401' });
  assert.is(c.observe.ui?.host, '0.0.0.0');
  assert.is(c.observe.ui?.port, 4401);
  assert.equal(c.observe.ui?.auth, { kind: 'token', digest: sha('ui-token-123') });
  assert.is(load({ ui: { address: '127.0.0.1:4400' } }, { ui: 'off' }).observe.ui, null);
});

test('credentials are kept as SHA-256 digests: a token, or basic username:password', () => {
  const c = load({ ui: { address: 'localhost:1', auth: { basic: { username: 'ops', password: 'pa55word!' } } } });
  assert.equal(c.observe.ui?.auth, { kind: 'basic', username: 'ops', digest: sha('ops:pa55word!') });
  assert.not.match(JSON.stringify(c.observe), 'pa55word!');
  const m = load({ metrics: { address: '0.0.0.0:9464' } }).observe.metrics;
  assert.equal(m, { host: '0.0.0.0', port: 9464, auth: null }, '/metrics may listen anywhere without credentials (Prometheus scrapes from afar)');
});

test('the inspector beyond loopback without credentials is a config error naming observe.ui.auth', () => {
  for (const [observe, flags] of [
    [{ ui: { address: '0.0.0.0:4319' } }, {}],
    [undefined, { ui: '0.0.0.0:4319' }],
    [undefined, { ui: '[::]:4319' }],
    [{ ui: { address: '10.1.2.3:4319' } }, {}],
  ] as const) {
    const e = errorOf(() => load(observe, flags));
    assert.is(e.path, 'observe.ui.auth');
    assert.match(e.message, 'required when the inspector listens beyond loopback');
  }
});

test('bad values name the key and never echo a secret', () => {
  const cases: Array<[unknown, GatewayFlags, string, RegExp]> = [
    [{ ui: {} }, {}, 'observe.ui.address', /required/],
    [{ ui: { address: 'nope' } }, {}, 'observe.ui.address', /HOST:PORT/],
    [undefined, { ui: 'nope' }, '--ui', /HOST:PORT/],
    [{ ui: { address: '127.0.0.1:1', auth: { token: 'short' } } }, {}, 'observe.ui.auth.token', /at least 8 characters \(value hidden\)/],
    [{ ui: { address: '127.0.0.1:1', auth: { token: 'long-enough', basic: {} } } }, {}, 'observe.ui.auth', /exactly one of token, basic/],
    [
      { ui: { address: '127.0.0.1:1', auth: { basic: { username: 'a:b', password: 'long-enough' } } } },
      {},
      'observe.ui.auth.basic.username',
      /must not contain/,
    ],
    [{ ui: { address: '127.0.0.1:1', auth: { basic: { username: 'a', password: 'tiny' } } } }, {}, 'observe.ui.auth.basic.password', /value hidden/],
    [{ metrics: { auth: { token: 'long-enough' } } }, {}, 'observe.metrics.address', /required/],
    [{ ui: { address: '127.0.0.1:1', extra: 1 } }, {}, 'observe.ui.extra', /unknown key/],
  ];
  for (const [observe, flags, path, message] of cases) {
    const e = errorOf(() => load(observe, flags));
    assert.is(e.path, path);
    assert.match(e.message, message);
    assert.not.match(e.message, /tiny|short"/);
  }
});

test('isLoopbackHost: localhost, 127/8 and ::1 only', () => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.1.example.com', '::ffff:127.0.0.1x'])
    assert.not.ok(isLoopbackHost(h), h);
});

test.run();
