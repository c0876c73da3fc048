/**
 * The page formats and resource modes of render.ts over one translation: OpenMetrics 1.0 (family
 * names without `_total`, UNIT, info-typed target, `# EOF`) beside text 0.0.4, and collector mode
 * (job/instance on every sample, target_info per source without them repeated as attributes).
 */
import { create } from '@bufbuild/protobuf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { AggregationTemporality } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { renderPrometheus } from '../../../src/otlp/prometheus/render.js';

const test = suite('otlp/prometheus page formats');
const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });

const request = create(ExportMetricsServiceRequestSchema, {
  resourceMetrics: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: str('api') },
          { key: 'service.instance.id', value: str('i-1') },
          { key: 'region', value: str('eu') },
        ],
      },
      scopeMetrics: [
        {
          scope: { name: 'm', version: '1' },
          metrics: [
            {
              name: 'requests',
              description: 'Requests "served"',
              data: {
                case: 'sum',
                value: {
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  isMonotonic: true,
                  dataPoints: [{ value: { case: 'asInt', value: 5n }, attributes: [{ key: 'code', value: str('200') }] }],
                },
              },
            },
            {
              name: 'latency',
              unit: 's',
              data: {
                case: 'histogram',
                value: {
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  dataPoints: [{ count: 3n, sum: 1.5, bucketCounts: [1n, 2n], explicitBounds: [0.5] }],
                },
              },
            },
          ],
        },
      ],
    },
  ],
});

test('OpenMetrics 1.0', () => {
  assert.is(
    renderPrometheus([request], { format: 'openmetrics' }),
    '# TYPE target info\n' +
      '# HELP target Target metadata\n' +
      'target_info{service_name="api",service_instance_id="i-1",region="eu"} 1\n' +
      '# TYPE requests counter\n' +
      '# HELP requests Requests \\"served\\"\n' +
      'requests_total{code="200",otel_scope_name="m",otel_scope_version="1"} 5\n' +
      '# TYPE latency_seconds histogram\n' +
      '# UNIT latency_seconds seconds\n' +
      'latency_seconds_bucket{otel_scope_name="m",otel_scope_version="1",le="0.5"} 1\n' +
      'latency_seconds_bucket{otel_scope_name="m",otel_scope_version="1",le="+Inf"} 3\n' +
      'latency_seconds_sum{otel_scope_name="m",otel_scope_version="1"} 1.5\n' +
      'latency_seconds_count{otel_scope_name="m",otel_scope_version="1"} 3\n' +
      '# EOF\n',
  );
});

test('collector mode: job/instance on samples, the rest of the resource on target_info', () => {
  const text = renderPrometheus([request], { resource: 'collector', scopeLabels: false });
  assert.ok(text.includes('target_info{job="api",instance="i-1",region="eu"} 1\n'), text);
  assert.ok(text.includes('# HELP requests_total Requests "served"\n# TYPE requests_total counter\n'), text);
  assert.ok(text.includes('requests_total{code="200",job="api",instance="i-1"} 5\n'), text);
  assert.ok(text.includes('latency_seconds_count{job="api",instance="i-1"} 3\n'), text);
});

test.run();
