/**
 * The gateway's scrape upstream (`kind: prometheus`), end to end on loopback: OTLP in through the
 * gateway's HTTP receiver, a page out on the upstream's own address; job/instance and target_info per
 * source, delta sums accumulated, routes decide what arrives, auth on the page, logs refused and counted.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ExportMetricsServiceRequestSchema,
  type ExportMetricsServiceRequest,
} from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { bin, eventually, logsRequest, post, PROTOBUF, startTestGateway } from '../harness.js';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { freePort } from '../../support/free-port.js';

const test = suite('gateway: prometheus scrape upstream');

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

/** One resource (service, instance), one delta counter `requests` with `value`, one gauge `temp`. */
function request(service: string, instance: string, value: number, time: bigint): ExportMetricsServiceRequest {
  return create(ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str(service) },
            { key: 'service.namespace', value: str('shop') },
            { key: 'service.instance.id', value: str(instance) },
            { key: 'host.name', value: str(`host-${instance}`) },
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'app' },
            metrics: [
              {
                name: 'requests',
                unit: '{request}',
                data: {
                  case: 'sum',
                  value: {
                    aggregationTemporality: AggregationTemporality.DELTA,
                    isMonotonic: true,
                    dataPoints: [
                      { timeUnixNano: time, value: { case: 'asInt', value: BigInt(value) }, attributes: [{ key: 'code', value: str('200') }] },
                    ],
                  },
                },
              },
              {
                name: 'temp',
                unit: 'Cel',
                data: { case: 'gauge', value: { dataPoints: [{ timeUnixNano: time, value: { case: 'asDouble', value: value / 2 } }] } },
              },
            ],
          },
        ],
      },
    ],
  });
}

const send = async (url: string, req: ExportMetricsServiceRequest): Promise<void> => {
  const res = await post(`${url}/v1/metrics`, toBinary(ExportMetricsServiceRequestSchema, req), PROTOBUF);
  assert.is(res.status, 200, await res.text());
};

test('serves what it received: job/instance, target_info per source, deltas accumulated, latest gauge', async () => {
  const port = await freePort();
  const g = await startTestGateway({ upstreams: { node: { kind: 'prometheus', address: `127.0.0.1:${port}`, path: '/metrics' } } });
  try {
    await send(g.httpUrl, request('api', 'a1', 3, 1_000_000_000n));
    await send(g.httpUrl, request('api', 'a1', 4, 2_000_000_000n));
    await send(g.httpUrl, request('api', 'a2', 10, 2_000_000_000n));
    const page = `http://127.0.0.1:${port}/metrics`;
    let text = '';
    const poll = async (): Promise<void> => {
      text = await (await fetch(page)).text();
    };
    await poll();
    for (let i = 0; i < 50 && !text.includes('instance="a2"'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      await poll();
    }
    assert.ok(text.includes('# TYPE requests_total counter\n'), text);
    assert.ok(text.includes('requests_total{code="200",job="shop/api",instance="a1",otel_scope_name="app"} 7\n'), text);
    assert.ok(text.includes('requests_total{code="200",job="shop/api",instance="a2",otel_scope_name="app"} 10\n'), text);
    assert.ok(text.includes('temp_celsius{job="shop/api",instance="a1",otel_scope_name="app"} 2\n'), text);
    assert.ok(text.includes('target_info{job="shop/api",instance="a1",host_name="host-a1"} 1\n'), text);
    assert.ok(text.includes('target_info{job="shop/api",instance="a2",host_name="host-a2"} 1\n'), text);
    const stats = g.gw.upstreams.find((u) => u.name === 'node')!.stats();
    assert.is(stats.itemsSent, 6);
  } finally {
    await g.close();
  }
});

test('logs routed to it are refused and counted; bearer token guards the page', async () => {
  const port = await freePort();
  const g = await startTestGateway({
    upstreams: { node: { kind: 'prometheus', address: `127.0.0.1:${port}`, auth: { bearerToken: 's3cret' } } },
  });
  try {
    await send(g.httpUrl, request('api', 'a1', 1, 1n));
    assert.is((await post(`${g.httpUrl}/v1/logs`, bin.logs(logsRequest(['api'])), PROTOBUF)).status, 200);
    const page = `http://127.0.0.1:${port}/metrics`;
    assert.is((await fetch(page)).status, 401);
    assert.is((await fetch(page, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    await eventually(() => g.gw.upstreams[0]!.stats().itemsRejected === 1, 3000, 'the log record to be refused');
    const ok = await fetch(page, { headers: { authorization: 'Bearer s3cret' } });
    assert.is(ok.status, 200);
    assert.match(await ok.text(), /requests_total\{[^}]*\} 1\n/);
  } finally {
    await g.close();
  }
});

test('a reload: an unchanged page keeps its state; a changed one starts over on the same address', async () => {
  const port = await freePort();
  const doc = (staleness: string) => ({
    receivers: { grpc: { address: '127.0.0.1:0' }, http: { address: '127.0.0.1:0' } },
    upstreams: { node: { kind: 'prometheus', address: `127.0.0.1:${port}`, staleness } },
  });
  const g = await startTestGateway(doc('5m'));
  try {
    const page = `http://127.0.0.1:${port}/metrics`;
    await send(g.httpUrl, request('api', 'a1', 3, 1_000_000_000n));
    const reloaded = await g.gw.reload(loadGatewayConfig({ document: doc('5m'), env: {} }));
    assert.is(reloaded.outcome, 'unchanged');
    assert.match(await (await fetch(page)).text(), /requests_total\{[^}]*instance="a1"[^}]*\} 3\n/);
    const changed = await g.gw.reload(loadGatewayConfig({ document: doc('10m'), env: {} }));
    assert.is(changed.outcome, 'applied', JSON.stringify(changed));
    await send(g.httpUrl, request('api', 'a1', 4, 2_000_000_000n));
    let text = '';
    for (let i = 0; i < 100 && !text.includes('} 4\n'); i++) {
      text = await fetch(page).then(
        (r) => r.text(),
        () => '',
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(text, /requests_total\{[^}]*instance="a1"[^}]*\} 4\n/);
  } finally {
    await g.close();
  }
});

test.run();
