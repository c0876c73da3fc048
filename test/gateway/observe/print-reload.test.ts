/** The console lines of reloads and of retired upstreams: exact text, by outcome and verbosity. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReloadResult } from '../../../src/gateway/observe/events.js';
import { formatReload, formatRetired } from '../../../src/gateway/observe/print-reload.js';

const test = suite('gateway/print-reload');
const AT = Date.UTC(2024, 4, 1, 12, 0, 0);
const HEAD = '2024-05-01T12:00:00.000Z otlp-fanout gateway:';
const none = { added: [], changed: [], removed: [] };

function result(over: Partial<ReloadResult>): ReloadResult {
  return {
    outcome: 'applied',
    trigger: 'SIGHUP',
    source: '/etc/otlp-fanout/gateway.yaml',
    error: undefined,
    upstreams: none,
    tenants: none,
    settings: [],
    receivers: [],
    needsRestart: [],
    ignored: [],
    elapsedMs: 12,
    ...over,
  };
}

test('applied: what changed, on one line; settings needing a restart after it (one line at basic)', () => {
  const r = result({
    upstreams: { added: ['extra', 'beta/own'], changed: ['main'], removed: ['old'] },
    tenants: { added: ['beta'], changed: [], removed: ['gamma'] },
    settings: ['routes', 'drainTimeout'],
    receivers: [
      { receiver: 'http', change: 'rebound', address: '127.0.0.1:4400' },
      { receiver: 'grpc', change: 'certificate', address: '127.0.0.1:4317' },
    ],
    needsRestart: [{ path: 'limits.maxRequestBytes', reason: 'why' }],
  });
  const line = `${HEAD} reload (SIGHUP, /etc/otlp-fanout/gateway.yaml) applied in 12 ms: upstreams +extra +beta/own ~main -old; tenants +beta -gamma; changed routes, drainTimeout; http receiver rebound on 127.0.0.1:4400; grpc receiver has a new certificate on 127.0.0.1:4317`;
  assert.is(formatReload(r, 'normal', AT), `${line}\n  limits.maxRequestBytes: not changed until a restart (why)\n`);
  assert.is(formatReload(r, 'detailed', AT), `${line}\n  limits.maxRequestBytes: not changed until a restart (why)\n`);
  assert.is(formatReload(r, 'basic', AT), `${line}; needs a restart: limits.maxRequestBytes\n`);
  assert.is(
    formatReload(result({ trigger: 'api', source: 'api', receivers: [{ receiver: 'grpc', change: 'stopped', address: undefined }] }), 'normal', AT),
    `${HEAD} reload (api) applied in 12 ms: grpc receiver stopped\n`,
  );
});

test('rejected and unchanged', () => {
  const error = {
    path: 'upstreams.main.timeout',
    problem: 'p',
    message: 'invalid gateway config at upstreams.main.timeout: expected a duration, got "soon"',
  };
  assert.is(
    formatReload(result({ outcome: 'rejected', trigger: 'watch', error }), 'basic', AT),
    `${HEAD} reload (watch, /etc/otlp-fanout/gateway.yaml) rejected, the running configuration is kept: invalid gateway config at upstreams.main.timeout: expected a duration, got "soon"\n`,
  );
  assert.is(
    formatReload(result({ outcome: 'unchanged', trigger: 'opamp', source: 'opamp' }), 'normal', AT),
    `${HEAD} reload (opamp) unchanged: the configuration is the running one\n`,
  );
});

test("a remote config's ignored opamp section: a line under the reload's (on it at basic)", () => {
  const r = result({
    trigger: 'opamp',
    source: 'remote config 0a1b2c3d',
    upstreams: { added: ['extra'], changed: [], removed: [] },
    needsRestart: [{ path: 'observe.verbosity', reason: 'why' }],
    ignored: [{ path: 'opamp', reason: 'because' }],
  });
  const line = `${HEAD} reload (opamp, remote config 0a1b2c3d) applied in 12 ms: upstreams +extra`;
  assert.is(formatReload(r, 'normal', AT), `${line}\n  observe.verbosity: not changed until a restart (why)\n  opamp: ignored (because)\n`);
  assert.is(formatReload(r, 'basic', AT), `${line}; needs a restart: observe.verbosity; ignored: opamp\n`);
  assert.is(
    formatReload(result({ outcome: 'unchanged', trigger: 'opamp', source: 'opamp', ignored: [{ path: 'opamp', reason: 'because' }] }), 'basic', AT),
    `${HEAD} reload (opamp) unchanged: the configuration is the running one; ignored: opamp\n`,
  );
});

test('retired: a removed upstream always, a replaced one only when it lost something', () => {
  const e = { name: 'old', undeliveredRequests: 0, undeliveredItems: 0, elapsedMs: 40 };
  assert.is(formatRetired({ ...e, reason: 'removed' }, AT), `${HEAD} upstream old (removed by a reload) delivered everything it held in 40 ms\n`);
  assert.is(formatRetired({ ...e, reason: 'replaced' }, AT), '');
  assert.is(
    formatRetired({ ...e, reason: 'removed', undeliveredRequests: 1200, undeliveredItems: 3400, elapsedMs: 10_002 }, AT),
    `${HEAD} upstream old (removed by a reload) could not deliver 1,200 requests, 3,400 items within 10,002 ms; they are dropped\n`,
  );
});

test.run();
