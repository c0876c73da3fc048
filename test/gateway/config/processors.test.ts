/**
 * The `processors` lists of upstreams and routes: what is accepted, and a step table of bad
 * configurations with the key path and the message each is refused with.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { sameUpstreamConfig } from '../../../src/gateway/config/upstreams.js';

const test = suite('gateway/config/processors');

const load = (document: Record<string, unknown>) => loadGatewayConfig({ env: {}, document });

test('upstream and route processors, values typed as written', () => {
  const c = load({
    upstreams: {
      central: {
        endpoint: 'http://127.0.0.1:4318',
        processors: [
          {
            resource: [
              { action: 'upsert', key: 'deployment.environment.name', value: 'prod' },
              { action: 'hash', key: 'user.email' },
            ],
          },
          {
            resource: [
              { action: 'delete', key: 'host.ip' },
              { action: 'insert', key: 'shard', value: 3 },
              { action: 'update', key: 'on', value: true },
            ],
          },
        ],
      },
      plain: { endpoint: 'http://127.0.0.1:4319' },
    },
    routes: [
      {
        name: 'eu',
        match: { 'cloud.region': 'eu-*' },
        upstreams: ['central'],
        processors: [{ resource: [{ action: 'insert', key: 'region.group', value: 'eu' }] }],
      },
    ],
  });
  assert.equal(c.upstreams[0]!.processors, [
    {
      kind: 'resource',
      edits: [
        { action: 'upsert', key: 'deployment.environment.name', value: 'prod' },
        { action: 'hash', key: 'user.email' },
      ],
    },
    {
      kind: 'resource',
      edits: [
        { action: 'delete', key: 'host.ip' },
        { action: 'insert', key: 'shard', value: 3 },
        { action: 'update', key: 'on', value: true },
      ],
    },
  ]);
  assert.equal(c.upstreams[1]!.processors, []);
  assert.equal(c.routes[0]!.processors, [{ kind: 'resource', edits: [{ action: 'insert', key: 'region.group', value: 'eu' }] }]);
});

test("a tenant's own upstream takes processors too", () => {
  const c = load({
    tenants: {
      acme: {
        tokens: ['acme-token-1'],
        upstreams: { own: { endpoint: 'http://own', processors: [{ resource: [{ action: 'delete', key: 'x' }] }] } },
      },
    },
  });
  assert.equal(c.tenants[0]!.upstreams[0]!.processors, [{ kind: 'resource', edits: [{ action: 'delete', key: 'x' }] }]);
});

const up = (processors: unknown) => ({ upstreams: { u: { endpoint: 'http://u', processors } } });
const edit = (e: unknown) => up([{ resource: [e] }]);

test('step table: bad processor configurations name the path, the value and what is allowed', () => {
  const rows: Array<[Record<string, unknown>, string, string]> = [
    [up({ resource: [] }), 'upstreams.u.processors', 'expected a list, got a mapping'],
    [up(['resource']), 'upstreams.u.processors[0]', 'expected a mapping, got "resource"'],
    [
      up([{}]),
      'upstreams.u.processors[0]',
      'expected a mapping with one key naming the processor (resource, attributes, redact, filter), got 0 keys',
    ],
    [
      up([{ resource: [], filter: [] }]),
      'upstreams.u.processors[0]',
      'expected a mapping with one key naming the processor (resource, attributes, redact, filter), got 2 keys',
    ],
    [up([{ transform: [] }]), 'upstreams.u.processors[0].transform', 'unknown processor; known: resource, attributes, redact, filter'],
    [up([{ attributes: [{ action: 'delete' }] }]), 'upstreams.u.processors[0].attributes[0].key', 'required: the attribute key'],
    [up([{ redact: [] }]), 'upstreams.u.processors[0].redact', 'expected at least one attribute key'],
    [up([{ redact: 'user.email' }]), 'upstreams.u.processors[0].redact', 'expected a list, got "user.email"'],
    [
      up([{ filter: {} }]),
      'upstreams.u.processors[0].filter',
      'expected something to drop: metrics.names, logs.minSeverity, logs.bodies, logs.attributes or spans.names',
    ],
    [up([{ filter: { traces: {} } }]), 'upstreams.u.processors[0].filter.traces', 'unknown key; allowed here: metrics, logs, spans'],
    [up([{ filter: { metrics: { names: 'debug.*' } } }]), 'upstreams.u.processors[0].filter.metrics.names', 'expected a list, got "debug.*"'],
    [
      up([{ filter: { logs: { minSeverity: 'LOUD' } } }]),
      'upstreams.u.processors[0].filter.logs.minSeverity',
      'expected a severity: 1 to 24, or TRACE, DEBUG, INFO, WARN, ERROR, FATAL (with 2-4 appended for the finer levels), got "LOUD"',
    ],
    [
      up([{ filter: { logs: { minSeverity: 25 } } }]),
      'upstreams.u.processors[0].filter.logs.minSeverity',
      'expected an integer from 1 to 24, got 25',
    ],
    [up([{ filter: { logs: { attributes: { k: ['a'] } } } }]), 'upstreams.u.processors[0].filter.logs.attributes.k', 'expected a string, got a list'],
    [up([{ resource: { action: 'delete', key: 'x' } }]), 'upstreams.u.processors[0].resource', 'expected a list, got a mapping'],
    [up([{ resource: [] }]), 'upstreams.u.processors[0].resource', 'expected at least one edit ({ action, key, value })'],
    [edit('delete x'), 'upstreams.u.processors[0].resource[0]', 'expected a mapping, got "delete x"'],
    [edit({ key: 'x' }), 'upstreams.u.processors[0].resource[0].action', 'required: one of insert, update, upsert, delete, hash'],
    [
      edit({ action: 'add', key: 'x', value: 1 }),
      'upstreams.u.processors[0].resource[0].action',
      'expected one of insert, update, upsert, delete, hash, got "add"',
    ],
    [edit({ action: 'delete' }), 'upstreams.u.processors[0].resource[0].key', 'required: the resource attribute key'],
    [edit({ action: 'delete', key: '' }), 'upstreams.u.processors[0].resource[0].key', 'must not be empty'],
    [edit({ action: 'delete', key: ['x'] }), 'upstreams.u.processors[0].resource[0].key', 'expected a string, got a list'],
    [edit({ action: 'upsert', key: 'x' }), 'upstreams.u.processors[0].resource[0].value', 'required for upsert: a string, number or boolean'],
    [
      edit({ action: 'insert', key: 'x', value: null }),
      'upstreams.u.processors[0].resource[0].value',
      'required for insert: a string, number or boolean',
    ],
    [
      edit({ action: 'update', key: 'x', value: { a: 1 } }),
      'upstreams.u.processors[0].resource[0].value',
      'expected a string, number or boolean, got a mapping',
    ],
    [
      edit({ action: 'update', key: 'x', value: [1] }),
      'upstreams.u.processors[0].resource[0].value',
      'expected a string, number or boolean, got a list',
    ],
    [edit({ action: 'hash', key: 'x', value: 'salt' }), 'upstreams.u.processors[0].resource[0].value', 'hash takes no value'],
    [edit({ action: 'delete', key: 'x', value: 'y' }), 'upstreams.u.processors[0].resource[0].value', 'delete takes no value'],
    [
      edit({ action: 'delete', key: 'x', when: 'always' }),
      'upstreams.u.processors[0].resource[0].when',
      'unknown key; allowed here: action, key, value',
    ],
    [
      { upstreams: { u: { endpoint: 'http://u' } }, routes: [{ upstreams: ['u'], processors: [{ resource: [{ action: 'zap', key: 'x' }] }] }] },
      'routes[0].processors[0].resource[0].action',
      'expected one of insert, update, upsert, delete, hash, got "zap"',
    ],
    [
      { tenants: { acme: { tokens: ['acme-token-1'], upstreams: { own: { endpoint: 'http://own', processors: 'resource' } } } } },
      'tenants.acme.upstreams.own.processors',
      'expected a list, got "resource"',
    ],
    [
      { selfTelemetry: { upstreams: { self: { endpoint: 'http://self', processors: [{ resource: [{ action: 'delete', key: 'x' }] }] } } } },
      'selfTelemetry.upstreams.self.processors',
      "not applied to the gateway's own telemetry; set its resource in selfTelemetry.resource",
    ],
  ];
  for (const [document, path, problem] of rows) {
    try {
      load(document);
      assert.unreachable(`accepted: ${path} ${problem}`);
    } catch (e) {
      if (!(e instanceof GatewayConfigError)) throw e;
      assert.equal([e.path, e.problem], [path, problem]);
    }
  }
});

test('attributes, redact and filter: parsed as written', () => {
  const c = load({
    upstreams: {
      u: {
        endpoint: 'http://u',
        processors: [
          { attributes: [{ action: 'delete', key: 'http.request.header.cookie' }] },
          { redact: ['user.email', 'client.address'] },
          {
            filter: {
              metrics: { names: ['debug.*'] },
              logs: { minSeverity: 'warn2', bodies: ['*health*'], attributes: { 'http.route': '/healthz' } },
              spans: { names: ['GET /healthz'] },
            },
          },
          { filter: { logs: { minSeverity: 9 } } },
        ],
      },
    },
  });
  assert.equal(c.upstreams[0]!.processors, [
    { kind: 'attributes', edits: [{ action: 'delete', key: 'http.request.header.cookie' }] },
    { kind: 'redact', keys: ['user.email', 'client.address'] },
    {
      kind: 'filter',
      metricNames: ['debug.*'],
      minSeverity: 14,
      logBodies: ['*health*'],
      logAttributes: [{ key: 'http.route', pattern: '/healthz' }],
      spanNames: ['GET /healthz'],
    },
    { kind: 'filter', metricNames: [], minSeverity: 9, logBodies: [], logAttributes: [], spanNames: [] },
  ]);
});

test('temporality: a word, or a mapping with defaults filled', () => {
  const c = load({
    upstreams: {
      vendor: { endpoint: 'http://v', temporality: 'delta' },
      central: { endpoint: 'http://c', temporality: { to: 'cumulative', maxStreams: 5000, staleAfter: '2m', firstPoint: 'drop' } },
      plain: { endpoint: 'http://p' },
    },
  });
  assert.equal(
    c.upstreams.map((u) => u.temporality),
    [
      { to: 'delta', maxStreams: 100_000, staleAfterMillis: 900_000, firstPoint: 'auto' },
      { to: 'cumulative', maxStreams: 5000, staleAfterMillis: 120_000, firstPoint: 'drop' },
      undefined,
    ],
  );
});

test("temporality is not part of an upstream's identity: changing it keeps the queue", () => {
  const a = load({ upstreams: { u: { endpoint: 'http://u', temporality: 'delta' } } }).upstreams[0]!;
  const b = load({ upstreams: { u: { endpoint: 'http://u' } } }).upstreams[0]!;
  assert.ok(sameUpstreamConfig(a, b));
});

test('step table: bad temporality settings', () => {
  const t = (temporality: unknown) => ({ upstreams: { u: { endpoint: 'http://u', temporality } } });
  const rows: Array<[Record<string, unknown>, string, string]> = [
    [t('deltas'), 'upstreams.u.temporality', 'expected one of delta, cumulative, got "deltas"'],
    [t({ maxStreams: 5 }), 'upstreams.u.temporality.to', 'required: one of delta, cumulative'],
    [t({ to: 'delta', maxStreams: 0 }), 'upstreams.u.temporality.maxStreams', 'expected an integer from 1 to 10000000, got 0'],
    [t({ to: 'delta', staleAfter: '10ms' }), 'upstreams.u.temporality.staleAfter', 'expected an integer from 1000 to 2147483647, got 10'],
    [t({ to: 'delta', firstPoint: 'keep' }), 'upstreams.u.temporality.firstPoint', 'expected one of auto, drop, got "keep"'],
    [t({ to: 'delta', max: 1 }), 'upstreams.u.temporality.max', 'unknown key; allowed here: to, maxStreams, staleAfter, firstPoint'],
    [
      { selfTelemetry: { upstreams: { self: { endpoint: 'http://self', temporality: 'delta' } } } },
      'selfTelemetry.upstreams.self.temporality',
      "not applied to the gateway's own telemetry (always cumulative)",
    ],
  ];
  for (const [document, path, problem] of rows) {
    try {
      load(document);
      assert.unreachable(`accepted: ${path} ${problem}`);
    } catch (e) {
      if (!(e instanceof GatewayConfigError)) throw e;
      assert.equal([e.path, e.problem], [path, problem]);
    }
  }
});

test.run();
