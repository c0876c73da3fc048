/**
 * Routing decisions as a step table: signals, tenants, attribute matches (exact, glob,
 * missing), the union of several routes, tenants' own upstreams and unrouted items.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { createRouter } from '../../../src/gateway/route/router.js';
import type { RouteConfig } from '../../../src/gateway/config/routes.js';
import type { Upstream } from '../../../src/gateway/forward/upstream.js';
import type { ResourceEntry } from '../../../src/otlp/scan.js';
import type { Signal } from '../../../src/otlp/types.js';

const test = suite('gateway/routes');

/** Only `name` matters to the router. */
const fake = (name: string): Upstream => ({ name }) as unknown as Upstream;

function entry(items: number, attributes: Record<string, string>): ResourceEntry {
  return { start: 0, end: 0, items, attributes: new Map(Object.entries(attributes)) };
}

const config = loadGatewayConfig({
  env: {},
  document: {
    tenants: { acme: { tokens: ['acme-token-1'] }, beta: { tokens: ['beta-token-1'] } },
    upstreams: { a: { endpoint: 'http://a' }, b: { endpoint: 'http://b' }, c: { endpoint: 'http://c' } },
    routes: [
      { match: { 'service.name': 'checkout*' }, upstreams: ['a'] },
      { signals: ['logs'], upstreams: ['b'] },
      { tenants: ['beta'], match: { 'k8s.namespace': 'prod' }, upstreams: ['c', 'a'] },
    ],
  },
});
const shared = ['a', 'b', 'c'].map(fake);
const router = createRouter(config.routes, shared, new Map([['acme', [fake('acme/own')]]]));

const checkout = entry(3, { 'service.name': 'checkout-eu' });
const cart = entry(5, { 'service.name': 'cart', 'k8s.namespace': 'prod' });
const bare = entry(7, {});

type Row = [Signal, string | undefined, ResourceEntry[], Array<[string, number[] | null, number]>, number];

test('step table', () => {
  const rows: Row[] = [
    ['metrics', undefined, [checkout], [['a', null, 3]], 0],
    ['metrics', undefined, [checkout, cart], [['a', [0], 3]], 5],
    [
      'logs',
      undefined,
      [checkout, cart, bare],
      [
        ['a', [0], 3],
        ['b', null, 15],
      ],
      0,
    ],
    [
      'traces',
      'beta',
      [checkout, cart],
      [
        ['a', null, 8],
        ['c', [1], 5],
      ],
      0,
    ],
    ['traces', 'beta', [bare], [], 7],
    ['metrics', 'acme', [cart], [['acme/own', null, 5]], 0],
    [
      'logs',
      'acme',
      [bare, checkout],
      [
        ['a', [1], 3],
        ['b', null, 10],
        ['acme/own', null, 10],
      ],
      0,
    ],
  ];
  for (const [signal, tenant, entries, expected, unrouted] of rows) {
    const total = entries.reduce((n, e) => n + e.items, 0);
    const plan = router.plan(signal, tenant, entries, total);
    assert.equal(
      plan.selections.map((s) => [s.upstream.name, s.entries, s.items]),
      expected,
      `${signal} ${tenant} ${entries.length}`,
    );
    assert.is(plan.unrouted, unrouted);
  }
});

test('without routes every entry goes to every shared upstream; the routes name the attributes to scan', () => {
  const open = createRouter([], shared, new Map());
  const plan = open.plan('metrics', undefined, [checkout, bare], 10);
  assert.equal(
    plan.selections.map((s) => [s.upstream.name, s.entries, s.items]),
    [
      ['a', null, 10],
      ['b', null, 10],
      ['c', null, 10],
    ],
  );
  assert.is(plan.unrouted, 0);
  assert.equal([...router.wantedAttributes].sort(), ['k8s.namespace', 'service.name']);
  const none = createRouter([], [], new Map());
  assert.is(none.plan('logs', undefined, [bare], 7).unrouted, 7, 'unrouted is reported; the gateway ignores it when there are no upstreams');
});

// Processor chains: labels stand for chains; chainOf is called when the router is built.
const chained = loadGatewayConfig({
  env: {},
  document: {
    upstreams: { a: { endpoint: 'http://a' }, b: { endpoint: 'http://b' }, d: { endpoint: 'http://d' } },
    routes: [
      { name: 'eu', match: { region: 'eu-*' }, upstreams: ['a', 'b'] },
      { name: 'all', upstreams: ['a', 'd'] },
      { name: 'checkout', match: { 'service.name': 'checkout*' }, upstreams: ['b'] },
      { name: 'cart', match: { 'service.name': 'cart' }, upstreams: ['b'] },
    ],
  },
});
const routeLabel: Record<string, string> = { eu: 'E', checkout: 'C' };
const upstreamLabel: Record<string, string> = { a: 'A', 'acme/own': 'O' };
const chainOf = (r: RouteConfig | null, u: Upstream): string | null =>
  [r === null ? undefined : routeLabel[r.name], upstreamLabel[u.name]].filter((x) => x !== undefined).join('+') || null;
const abd = ['a', 'b', 'd'].map(fake);

test("chains: the first matching route in config order that targets an upstream decides an entry's chain", () => {
  const r = createRouter(chained.routes, abd, new Map(), chainOf);
  const euCheckout = entry(1, { region: 'eu-west', 'service.name': 'checkout' });
  const usCheckout = entry(2, { region: 'us-east', 'service.name': 'checkout' });
  const usCart = entry(4, { region: 'us-east', 'service.name': 'cart' });
  const plan = r.plan('metrics', undefined, [euCheckout, usCheckout, usCart], 7);
  assert.equal(
    plan.selections.map((s) => [s.upstream.name, s.entries, s.chains, s.items]),
    [
      ['a', [0, 1, 2], ['E+A', 'A', 'A'], 7],
      ['b', [0, 1, 2], ['E', 'C', null], 7],
      ['d', null, null, 7],
    ],
    'a: route eu then its own; b: eu before checkout, cart has none; d: no chains at all, as received',
  );
  const cartOnly = r.plan('metrics', undefined, [usCart], 4);
  assert.equal(
    cartOnly.selections.map((s) => [s.upstream.name, s.entries, s.chains]),
    [
      ['a', [0], ['A']],
      ['b', null, null],
      ['d', null, null],
    ],
    'b took its entry through a route without chains: as an upstream without processors',
  );
});

test("chains without routes, and for a tenant's own upstreams: the upstream's chain on every entry", () => {
  const r = createRouter([], abd, new Map([['acme', [fake('acme/own')]]]), chainOf);
  const two = [entry(1, {}), entry(2, {})];
  assert.equal(
    r.plan('logs', undefined, two, 3).selections.map((s) => [s.upstream.name, s.entries, s.chains]),
    [
      ['a', [0, 1], ['A', 'A']],
      ['b', null, null],
      ['d', null, null],
    ],
  );
  assert.equal(
    r.plan('logs', 'acme', two, 3).selections.map((s) => [s.upstream.name, s.entries, s.chains]),
    [
      ['a', [0, 1], ['A', 'A']],
      ['b', null, null],
      ['d', null, null],
      ['acme/own', [0, 1], ['O', 'O']],
    ],
  );
  const plain = router.plan('logs', 'acme', [checkout, cart, bare], 15).selections;
  assert.ok(plain.length > 0 && plain.every((s) => s.chains === null), 'a router built without chains never sets any');
});

test.run();
