/**
 * The Prometheus upstreams in the gateway's configuration: `kind: prometheus` (a scrape page) and
 * `protocol: prometheus/remote-write` (also `--forward prometheus+http://…`), their defaults, and the
 * errors (each names the key path).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GatewayConfigError } from '../../../src/gateway/config/config-error.js';
import type { GatewayFlags } from '../../../src/gateway/config/gateway-config.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { SCRAPE_DEFAULTS } from '../../../src/gateway/config/upstreams.js';

const test = suite('gateway/config: prometheus upstreams');
const load = (document: unknown, flags: GatewayFlags = {}) => loadGatewayConfig({ document, flags, env: {} });

test('kind: prometheus: the page, its defaults and auth', () => {
  const c = load({
    upstreams: {
      node: { kind: 'prometheus', address: '127.0.0.1:9464', path: '/metrics' },
      guarded: { kind: 'prometheus', address: '[::1]:9465', staleness: '30s', maxSeries: 10, auth: { basic: { username: 'u', password: 'p' } } },
    },
  });
  const [node, guarded] = c.upstreams;
  assert.is(node!.protocol, 'prometheus/scrape');
  assert.is(node!.display, 'scrape://127.0.0.1:9464/metrics');
  assert.equal(node!.scrape, {
    address: '127.0.0.1:9464',
    path: '/metrics',
    stalenessMillis: SCRAPE_DEFAULTS.stalenessMillis,
    maxSeries: SCRAPE_DEFAULTS.maxSeries,
    auth: undefined,
  });
  assert.equal(guarded!.scrape, {
    address: '[::1]:9465',
    path: '/metrics',
    stalenessMillis: 30_000,
    maxSeries: 10,
    auth: { basic: { username: 'u', password: 'p' } },
  });
});

test('protocol prometheus/remote-write: endpoint as given, external labels, basic auth as a header; --forward prometheus+http', () => {
  const c = load(
    {
      upstreams: {
        mimir: {
          endpoint: 'https://mimir.example/api/v1/push',
          protocol: 'prometheus/remote-write',
          externalLabels: { cluster: 'eu' },
          basicAuth: { username: 'tenant', password: 'secret' },
        },
      },
    },
    { forward: ['prometheus+http://127.0.0.1:9090/api/v1/write'] },
  );
  const mimir = c.upstreams.find((u) => u.name === 'mimir')!;
  assert.is(mimir.protocol, 'prometheus/remote-write');
  assert.is(mimir.endpoint, 'https://mimir.example/api/v1/push');
  assert.equal(mimir.remoteWrite, { externalLabels: { cluster: 'eu' } });
  assert.is(mimir.headers['authorization'], `Basic ${Buffer.from('tenant:secret').toString('base64')}`);
  // Remote write carries running totals: delta sums and histograms are converted to cumulative by default.
  assert.is(mimir.temporality?.to, 'cumulative');
  const forward = c.upstreams.find((u) => u.name !== 'mimir')!;
  assert.is(forward.protocol, 'prometheus/remote-write');
  assert.is(forward.endpoint, 'http://127.0.0.1:9090/api/v1/write');
  assert.is(forward.display, 'prometheus+http://127.0.0.1:9090/api/v1/write');
});

test('errors name the key path and the problem', () => {
  const table: Array<[unknown, GatewayFlags, string, RegExp]> = [
    [{ upstreams: { n: { kind: 'prometheus' } } }, {}, 'upstreams.n.address', /required/],
    [{ upstreams: { n: { kind: 'prometheus', address: 'x' } } }, {}, 'upstreams.n.address', /HOST:PORT/],
    [{ upstreams: { n: { kind: 'prometheus', address: 'h:1', endpoint: 'http://x' } } }, {}, 'upstreams.n.endpoint', /unknown key/],
    [{ upstreams: { n: { kind: 'prometheus', address: 'h:1', path: 'metrics' } } }, {}, 'upstreams.n.path', /starting with \//],
    [{ upstreams: { n: { kind: 'prometheus', address: 'h:1', staleness: '10ms' } } }, {}, 'upstreams.n.staleness', /./],
    [
      { upstreams: { n: { kind: 'prometheus', address: 'h:1', auth: { basic: { username: 'u', password: 'p' }, bearerToken: 't' } } } },
      {},
      'upstreams.n.auth',
      /not both/,
    ],
    [{ upstreams: { n: { kind: 'prom', address: 'h:1' } } }, {}, 'upstreams.n.kind', /otlp, prometheus/],
    [
      { upstreams: { n: { endpoint: 'http://x', externalLabels: { a: 'b' } } } },
      {},
      'upstreams.n.externalLabels',
      /only for protocol prometheus\/remote-write/,
    ],
    [{ upstreams: { n: { endpoint: 'prometheus+http://x/w', externalLabels: { __a: 'b' } } } }, {}, 'upstreams.n.externalLabels', /not a label name/],
    [
      { upstreams: { n: { endpoint: 'prometheus+http://x/w', protocol: 'grpc' } } },
      {},
      'upstreams.n.endpoint',
      /Prometheus remote write, but protocol is grpc/,
    ],
    [{ upstreams: { n: { endpoint: 'prometheus+http://x/w?encoding=json' } } }, {}, 'upstreams.n.endpoint', /no JSON encoding/],
    [
      { upstreams: { n: { endpoint: 'prometheus+http://x/w', headers: { Authorization: 'x' }, basicAuth: { username: 'u', password: 'p' } } } },
      {},
      'upstreams.n.basicAuth',
      /not both/,
    ],
    [{ upstreams: { n: { endpoint: 'prometheus+http://x/w', basicAuth: { username: 'u' } } } }, {}, 'upstreams.n.basicAuth.password', /required/],
    [{ upstreams: { n: { endpoint: 'prometheus+http://x/w', compression: 'gzip' } } }, {}, 'upstreams.n.compression', /snappy/],
    [{ upstreams: { n: { endpoint: 'prometheus+http://x/w', temporality: 'delta' } } }, {}, 'upstreams.n.temporality', /cumulative metrics only/],
  ];
  for (const [doc, flags, at, problem] of table) {
    let e: unknown;
    try {
      load(doc, flags);
    } catch (err) {
      e = err;
    }
    assert.ok(e instanceof GatewayConfigError, `${JSON.stringify(doc)}: ${String(e)}`);
    assert.is(e.path, at, `${JSON.stringify(doc)}: ${e.message}`);
    assert.match(e.problem, problem, `${JSON.stringify(doc)}: ${e.message}`);
  }
});

test.run();
