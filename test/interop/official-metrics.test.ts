/**
 * Conformance, direction 1 (metrics): the official OTLP metric exporters send to our receiver;
 * what our gen/ schema decodes must equal what the official SDK collected, field by field.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ExportMetricsServiceRequest } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { KeyValue } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { Metric } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { AggregationTemporality } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { ofSignal, startReceiver } from '../support/receiver.js';
import type { Receiver } from '../support/receiver.js';
import { nMetricsRequest, nSdkResourceMetrics } from './normalize.js';
import { exportMetrics, officialMetricExporter, PROTOCOLS } from './official-exporters.js';
import { RESOURCE_SCHEMA_URL, recordOfficialMetrics, SCOPE_SCHEMA_URL } from './official-sdk.js';
import { core } from './official.js';

const { ExportResultCode } = core;

const test = suite('interop/official metric exporters → our receiver');

let rx: Receiver;
let sdk: ResourceMetrics;

test.before(async () => {
  rx = await startReceiver();
  sdk = await recordOfficialMetrics();
});

test.after(async () => {
  await rx.close();
});

function metric(req: ExportMetricsServiceRequest, name: string): Metric {
  const m = req.resourceMetrics[0]?.scopeMetrics[0]?.metrics.find((x) => x.name === name);
  if (m === undefined) throw new Error(`metric ${name} missing`);
  return m;
}

function attr(kvs: readonly KeyValue[], key: string): KeyValue['value'] {
  return kvs.find((kv) => kv.key === key)?.value;
}

/** Direct checks of values we know, independent of the normaliser. */
function assertKeyValues(req: ExportMetricsServiceRequest): void {
  const rm = req.resourceMetrics[0]!;
  assert.is(req.resourceMetrics.length, 1);
  assert.is(rm.schemaUrl, RESOURCE_SCHEMA_URL);
  const res = rm.resource!.attributes;
  assert.equal(attr(res, 'attr.string')?.value, { case: 'stringValue', value: 'héllo ✓' });
  assert.equal(attr(res, 'attr.bool')?.value, { case: 'boolValue', value: true });
  assert.equal(attr(res, 'attr.int')?.value, { case: 'intValue', value: 42n });
  assert.equal(attr(res, 'attr.int.large')?.value, { case: 'intValue', value: 9007199254740991n });
  assert.equal(attr(res, 'attr.double')?.value, { case: 'doubleValue', value: 3.25 });
  const ints = attr(res, 'attr.array.int')?.value;
  assert.is(ints?.case, 'arrayValue');
  if (ints?.case === 'arrayValue')
    assert.equal(
      ints.value.values.map((v) => v.value.value),
      [1n, -2n, 3n],
    );
  const sm = rm.scopeMetrics[0]!;
  assert.is(sm.scope?.name, 'interop.metrics');
  assert.is(sm.scope?.version, '1.2.3');
  assert.is(sm.schemaUrl, SCOPE_SCHEMA_URL);

  const requests = metric(req, 'http.requests');
  assert.is(requests.unit, '{request}');
  assert.is(requests.description, 'Requests served');
  assert.is(requests.data.case, 'sum');
  if (requests.data.case === 'sum') {
    const sum = requests.data.value;
    assert.ok(sum.isMonotonic);
    assert.is(sum.aggregationTemporality, AggregationTemporality.DELTA);
    const a = sum.dataPoints.find((p) => attr(p.attributes, 'http.route')?.value.value === '/a')!;
    assert.equal(a.value, { case: 'asInt', value: 7n });
    assert.equal(attr(a.attributes, 'code')?.value, { case: 'intValue', value: 200n });
    const b = sum.dataPoints.find((p) => attr(p.attributes, 'http.route')?.value.value === '/b')!;
    assert.equal(b.value, { case: 'asInt', value: 1n });
    assert.equal(attr(b.attributes, 'ratio')?.value, { case: 'doubleValue', value: 0.5 });
    assert.ok(a.startTimeUnixNano > 0n && a.timeUnixNano >= a.startTimeUnixNano);
  }
  const ratio = metric(req, 'bytes.ratio').data;
  assert.ok(ratio.case === 'sum' && ratio.value.isMonotonic);
  if (ratio.case === 'sum') assert.equal(ratio.value.dataPoints[0]?.value, { case: 'asDouble', value: 3.75 });
  const depth = metric(req, 'queue.depth').data;
  assert.ok(depth.case === 'sum' && !depth.value.isMonotonic);
  if (depth.case === 'sum') {
    assert.is(depth.value.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    assert.equal(depth.value.dataPoints[0]?.value, { case: 'asInt', value: -3n });
  }
  const balance = metric(req, 'balance').data;
  if (balance.case !== 'sum') throw new Error('balance is not a sum');
  assert.equal(balance.value.dataPoints[0]?.value, { case: 'asDouble', value: -1.75 });

  const cpu = metric(req, 'cpu.count').data;
  if (cpu.case !== 'gauge') throw new Error('cpu.count is not a gauge');
  assert.equal(cpu.value.dataPoints[0]?.value, { case: 'asInt', value: 8n });
  const temp = metric(req, 'temperature').data;
  if (temp.case !== 'gauge') throw new Error('temperature is not a gauge');
  assert.equal(temp.value.dataPoints.map((p) => p.value.value).sort(), [-3.25, 21.5]);
  const mem = metric(req, 'memory.usage').data;
  if (mem.case !== 'gauge') throw new Error('memory.usage is not a gauge');
  assert.equal(mem.value.dataPoints[0]?.value, { case: 'asDouble', value: 123.5 });

  const hist = metric(req, 'request.duration').data;
  if (hist.case !== 'histogram') throw new Error('request.duration is not a histogram');
  assert.is(hist.value.aggregationTemporality, AggregationTemporality.DELTA);
  const hp = hist.value.dataPoints[0]!;
  assert.equal(hp.explicitBounds, [0, 5, 10, 100]);
  assert.equal(hp.bucketCounts, [1n, 1n, 2n, 1n, 1n]);
  assert.is(hp.count, 6n);
  assert.is(hp.sum, 1065);
  assert.is(hp.min, 0);
  assert.is(hp.max, 1000);

  const payload = metric(req, 'payload.size').data;
  if (payload.case !== 'exponentialHistogram') throw new Error('payload.size is not exponential');
  const pp = payload.value.dataPoints[0]!;
  assert.is(pp.count, 7n);
  assert.is(pp.zeroCount, 2n);
  assert.is(pp.sum, 1_001_030);
  assert.is(pp.min, 0);
  assert.is(pp.max, 1e6);
  assert.ok(pp.positive !== undefined && pp.positive.bucketCounts.reduce((a, b) => a + b, 0n) === 5n);
  assert.is(pp.negative?.bucketCounts.length ?? 0, 0);

  const offset = metric(req, 'clock.offset').data;
  if (offset.case !== 'exponentialHistogram') throw new Error('clock.offset is not exponential');
  const op = offset.value.dataPoints[0]!;
  assert.is(op.count, 6n);
  assert.is(op.zeroCount, 1n);
  assert.is(op.sum, undefined, 'a gauge histogram has no sum');
  assert.is(op.min, -100);
  assert.is(op.max, 3);
  assert.ok(op.negative !== undefined && op.negative.bucketCounts.reduce((a, b) => a + b, 0n) === 3n);
  assert.ok(op.negative !== undefined && op.negative.offset !== 0, 'negative offset carried');
  assert.ok(op.positive !== undefined && op.positive.bucketCounts.reduce((a, b) => a + b, 0n) === 2n);
  assert.is(op.zeroThreshold, 0);
}

for (const protocol of PROTOCOLS) {
  for (const gzip of [false, true]) {
    test(`${protocol}${gzip ? ' + gzip' : ''}: every field arrives unchanged`, async () => {
      rx.clear();
      const exporter = officialMetricExporter(protocol, rx, gzip);
      try {
        const result = await exportMetrics(exporter, sdk);
        assert.is(result.code, ExportResultCode.SUCCESS, String(result.error));
      } finally {
        await exporter.shutdown();
      }
      const r = await rx.waitFor(ofSignal('metrics', protocol));
      assert.is(rx.requests.length, 1);
      assert.is(r.compressed, gzip);
      if (protocol !== 'grpc') assert.is(r.headers['x-interop'], 'official');
      assert.equal(nMetricsRequest(r.message), nSdkResourceMetrics(sdk));
      assertKeyValues(r.message);
    });
  }
}

test('the three protocols decode to the same message', async () => {
  rx.clear();
  for (const protocol of PROTOCOLS) {
    const exporter = officialMetricExporter(protocol, rx);
    try {
      assert.is((await exportMetrics(exporter, sdk)).code, ExportResultCode.SUCCESS);
    } finally {
      await exporter.shutdown();
    }
  }
  await rx.waitFor((_, i) => i === 2);
  const [grpc, proto, json] = rx.requests.map((r) => r.message);
  assert.equal(proto, grpc);
  assert.equal(json, grpc);
});

test.run();
