import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { AnyValueSchema, KeyValueSchema } from '../../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { MetricsDataSchema, type ExemplarSchema, type MetricSchema } from '../../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { encodeMetricsRequest, type ExportMetricsRequestShape } from '../../../src/otlp/encode/metrics-request.js';
import { prng } from '../../support/prng.js';

type Init<T extends Parameters<typeof create>[0]> = MessageInitShape<T>;
/** The random generator writes `undefined` for an absent field, which create() and our encoder read as unset. */
type Loose<T> = T extends Uint8Array | bigint | string | number | boolean
  ? T
  : T extends readonly (infer E)[]
    ? Loose<E>[]
    : T extends object
      ? { [K in keyof T]?: Loose<T[K]> | undefined }
      : T;

/** Asserts byte identity with toBinary and a lossless round trip. */
function check(init: ExportMetricsRequestShape, label = ''): Uint8Array {
  const msg = create(ExportMetricsServiceRequestSchema, init);
  const ours = encodeMetricsRequest(msg);
  assert.equal(ours, toBinary(ExportMetricsServiceRequestSchema, msg), `bytes differ from toBinary ${label}`);
  // dequal treats NaN as equal to NaN; -0 is covered by the byte comparison.
  assert.equal(fromBinary(ExportMetricsServiceRequestSchema, ours), msg, `round trip ${label}`);
  // The plain init object (fields left out, no $typeName) encodes the same.
  assert.equal(encodeMetricsRequest(init), ours, `init shape ${label}`);
  return ours;
}

function metricRequest(metric: Init<typeof MetricSchema>): ExportMetricsRequestShape {
  return { resourceMetrics: [{ scopeMetrics: [{ metrics: [metric] }] }] };
}

const edges = suite('otlp/encode/metrics-request: edge cases');

edges('empty messages', () => {
  assert.is(check({}).length, 0);
  assert.is(check({ resourceMetrics: [] }).length, 0);
  assert.equal(check({ resourceMetrics: [{}] }), new Uint8Array([0x0a, 0x00]));
  check({ resourceMetrics: [{ resource: {}, scopeMetrics: [{}, { scope: {} }] }] });
  check(metricRequest({}));
  check(metricRequest({ name: 'g', data: { case: 'gauge', value: {} } }));
  check(metricRequest({ name: 'g', data: { case: 'gauge', value: { dataPoints: [{}] } } }));
  check(metricRequest({ data: { case: 'histogram', value: { dataPoints: [{}] } } }));
  check(metricRequest({ data: { case: 'exponentialHistogram', value: { dataPoints: [{ positive: {}, negative: {} }] } } }));
  check(metricRequest({ data: { case: 'summary', value: { dataPoints: [{ quantileValues: [{}] }] } } }));
});

edges('int vs double points, negative int64, huge fixed64, NaN sum', () => {
  const max64 = 2n ** 64n - 1n;
  check(
    metricRequest({
      name: 'mixed',
      data: {
        case: 'sum',
        value: {
          aggregationTemporality: 2,
          isMonotonic: false,
          dataPoints: [
            { startTimeUnixNano: max64, timeUnixNano: max64, value: { case: 'asInt', value: -1n } },
            { timeUnixNano: 1n, value: { case: 'asInt', value: -(2n ** 63n) } },
            { timeUnixNano: 1n, value: { case: 'asInt', value: 2n ** 63n - 1n } },
            { timeUnixNano: 1n, value: { case: 'asInt', value: 0n } },
            { timeUnixNano: 1n, value: { case: 'asDouble', value: 0 } },
            { timeUnixNano: 1n, value: { case: 'asDouble', value: -0 } },
            { timeUnixNano: 1n, value: { case: 'asDouble', value: Number.NaN } },
            { timeUnixNano: 1n, value: { case: 'asDouble', value: Number.NEGATIVE_INFINITY } },
          ],
        },
      },
    }),
  );
  check(
    metricRequest({
      name: 'h',
      data: {
        case: 'histogram',
        value: {
          aggregationTemporality: 1,
          dataPoints: [
            {
              count: max64,
              sum: Number.NaN,
              bucketCounts: [max64, 0n, 1n],
              explicitBounds: [-0, Number.POSITIVE_INFINITY],
              min: Number.NaN,
              max: -0,
            },
          ],
        },
      },
    }),
  );
  check(
    metricRequest({
      data: {
        case: 'exponentialHistogram',
        value: {
          dataPoints: [
            {
              count: max64,
              zeroCount: max64,
              sum: Number.NaN,
              scale: -2147483648,
              zeroThreshold: -0,
              positive: { offset: 2147483647, bucketCounts: [max64, 2n ** 32n, 2n ** 32n - 1n, 0n] },
              negative: { offset: -1, bucketCounts: [] },
            },
          ],
        },
      },
    }),
  );
});

edges('attribute values of every kind, unicode and long strings', () => {
  const long = 'a'.repeat(127);
  const any: Array<Init<typeof AnyValueSchema>> = [
    {},
    { value: { case: 'stringValue', value: '' } },
    { value: { case: 'stringValue', value: long } },
    { value: { case: 'stringValue', value: `${long}b` } },
    { value: { case: 'stringValue', value: 'é'.repeat(100) } },
    { value: { case: 'stringValue', value: '😀 emoji ☃ \u0000 nul' } },
    { value: { case: 'stringValue', value: 'ж'.repeat(20_000) } },
    { value: { case: 'boolValue', value: false } },
    { value: { case: 'intValue', value: -1n } },
    { value: { case: 'intValue', value: 2n ** 32n } },
    { value: { case: 'intValue', value: -(2n ** 63n) } },
    { value: { case: 'doubleValue', value: Number.NaN } },
    { value: { case: 'doubleValue', value: -0 } },
    { value: { case: 'bytesValue', value: new Uint8Array([0, 255, 7]) } },
    { value: { case: 'bytesValue', value: new Uint8Array(0) } },
    {
      value: {
        case: 'arrayValue',
        value: { values: [{}, { value: { case: 'intValue', value: 3n } }, { value: { case: 'arrayValue', value: {} } }] },
      },
    },
    {
      value: {
        case: 'kvlistValue',
        value: { values: [{ key: 'inner', value: { value: { case: 'kvlistValue', value: { values: [{ key: 'deep' }] } } } }, {}] },
      },
    },
  ];
  const attributes: Array<Init<typeof KeyValueSchema>> = any.map((value, i) => ({ key: i === 0 ? '' : `k${i}`, value }));
  attributes.push({ key: 'no-value' });
  const exemplar: Init<typeof ExemplarSchema> = {
    filteredAttributes: attributes,
    timeUnixNano: 5n,
    value: { case: 'asInt', value: -5n },
    spanId: new Uint8Array(8).fill(1),
    traceId: new Uint8Array(16).fill(2),
  };
  check({
    resourceMetrics: [
      {
        resource: {
          attributes,
          droppedAttributesCount: 3,
          entityRefs: [{ schemaUrl: 's', type: 'service', idKeys: ['service.name', 'service.namespace'], descriptionKeys: ['d'] }, {}],
        },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeMetrics: [
          {
            scope: { name: 'scope', version: 'v', attributes, droppedAttributesCount: 1 },
            schemaUrl: 'https://scope',
            metrics: [
              {
                name: 'ünïcode.metric',
                description: 'd'.repeat(300),
                unit: 'By',
                metadata: attributes,
                data: {
                  case: 'gauge',
                  value: { dataPoints: [{ attributes, exemplars: [exemplar, {}], flags: 1, value: { case: 'asDouble', value: 1 } }] },
                },
              },
              { name: 'h', data: { case: 'histogram', value: { dataPoints: [{ attributes, exemplars: [exemplar], flags: 2 ** 32 - 1 }] } } },
              { name: 'e', data: { case: 'exponentialHistogram', value: { dataPoints: [{ attributes, exemplars: [exemplar], flags: 3 }] } } },
              { name: 's', data: { case: 'summary', value: { dataPoints: [{ attributes, flags: 1, sum: -0 }] } } },
            ],
          },
        ],
      },
    ],
  });
});

edges('the output is also a valid MetricsData', () => {
  const init = metricRequest({
    name: 'x',
    data: { case: 'gauge', value: { dataPoints: [{ timeUnixNano: 9n, value: { case: 'asInt', value: 1n } }] } },
  });
  const bytes = encodeMetricsRequest(init);
  const data = fromBinary(MetricsDataSchema, bytes);
  assert.is(data.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.name, 'x');
});

edges('a throwing input leaves no state behind for the next call', () => {
  const good = metricRequest({
    name: 'ok',
    data: { case: 'sum', value: { dataPoints: [{ timeUnixNano: 2n, value: { case: 'asInt', value: 2n }, attributes: [{ key: 'a' }] }] } },
  });
  const expected = encodeMetricsRequest(good);
  // A negative uint32 is refused by BinaryWriter, mid-way through the envelope.
  assert.throws(() => encodeMetricsRequest({ resourceMetrics: [{ resource: { droppedAttributesCount: -1 } }] }));
  // A number where a bigint belongs throws inside a staged data point.
  const badPoint = { timeUnixNano: 1 as unknown as bigint, value: { case: 'asInt' as const, value: 1n } };
  assert.throws(() => encodeMetricsRequest(metricRequest({ data: { case: 'gauge', value: { dataPoints: [badPoint] } } })));
  assert.equal(encodeMetricsRequest(good), expected);
  assert.equal(expected, toBinary(ExportMetricsServiceRequestSchema, create(ExportMetricsServiceRequestSchema, good)));
});

edges('returned arrays are owned by the caller', () => {
  const a = encodeMetricsRequest(metricRequest({ name: 'first' }));
  const copy = a.slice();
  encodeMetricsRequest(metricRequest({ name: 'second, longer' }));
  assert.equal(a, copy);
});

edges.run();

// --- Seeded property test -----------------------------------------------------------

class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  maybe<T>(f: () => T): T | undefined {
    return this.chance(0.5) ? f() : undefined;
  }
  list<T>(max: number, f: () => T): T[] {
    const n = this.int(max + 1);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(f());
    return out;
  }
  string(): string {
    const alphabets = ['abcdefghijklmnopqrstuvwxyz._/-0123456789', 'éßøжλ中文', '😀☃\u{10348}'];
    const n = this.chance(0.1) ? 100 + this.int(200) : this.int(24);
    let s = '';
    for (let i = 0; i < n; i++) {
      const alphabet = [...alphabets[this.chance(0.85) ? 0 : 1 + this.int(2)]!];
      s += alphabet[this.int(alphabet.length)];
    }
    return s;
  }
  u64(): bigint {
    if (this.chance(0.3)) return BigInt(this.int(1000));
    return (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32));
  }
  i64(): bigint {
    return BigInt.asIntN(64, this.u64());
  }
  double(): number {
    const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, Number.MIN_VALUE, Number.MAX_VALUE];
    if (this.chance(0.2)) return special[this.int(special.length)]!;
    return (this.r() - 0.5) * 10 ** this.int(12);
  }
  bytes(max: number): Uint8Array {
    return Uint8Array.from(this.list(max, () => this.int(256)));
  }
  anyValue(depth: number): Loose<Init<typeof AnyValueSchema>> {
    switch (this.int(depth > 0 ? 9 : 7)) {
      case 0:
        return {};
      case 1:
        return { value: { case: 'stringValue', value: this.string() } };
      case 2:
        return { value: { case: 'boolValue', value: this.chance(0.5) } };
      case 3:
        return { value: { case: 'intValue', value: this.i64() } };
      case 4:
        return { value: { case: 'doubleValue', value: this.double() } };
      case 5:
      case 6:
        return { value: { case: 'bytesValue', value: this.bytes(10) } };
      case 7:
        return { value: { case: 'arrayValue', value: { values: this.list(3, () => this.anyValue(depth - 1)) } } };
      default:
        return { value: { case: 'kvlistValue', value: { values: this.attributes(3, depth - 1) } } };
    }
  }
  attributes(max = 4, depth = 2): Array<Loose<Init<typeof KeyValueSchema>>> {
    return this.list(max, () => ({ key: this.string(), value: this.maybe(() => this.anyValue(depth)) }));
  }
  exemplars(): Array<Loose<Init<typeof ExemplarSchema>>> {
    return this.list(2, () => ({
      filteredAttributes: this.attributes(2),
      timeUnixNano: this.u64(),
      value: this.chance(0.5) ? { case: 'asDouble', value: this.double() } : this.chance(0.8) ? { case: 'asInt', value: this.i64() } : undefined,
      spanId: this.chance(0.5) ? this.bytes(8) : undefined,
      traceId: this.chance(0.5) ? this.bytes(16) : undefined,
    }));
  }
  flags(): number {
    return this.chance(0.7) ? 0 : this.chance(0.5) ? 1 : this.int(2 ** 32);
  }
  temporality(): 0 | 1 | 2 {
    return this.int(3) as 0 | 1 | 2;
  }
  metric(): Loose<Init<typeof MetricSchema>> {
    const base = {
      name: this.string(),
      description: this.maybe(() => this.string()),
      unit: this.maybe(() => this.string()),
      metadata: this.chance(0.2) ? this.attributes(2) : undefined,
    };
    const times = () => ({ startTimeUnixNano: this.maybe(() => this.u64()), timeUnixNano: this.u64() });
    const numberPoint = () => ({
      ...times(),
      attributes: this.attributes(),
      exemplars: this.chance(0.3) ? this.exemplars() : undefined,
      flags: this.flags(),
      value: this.chance(0.45)
        ? { case: 'asDouble' as const, value: this.double() }
        : this.chance(0.9)
          ? { case: 'asInt' as const, value: this.i64() }
          : undefined,
    });
    switch (this.int(6)) {
      case 0:
        return base;
      case 1:
        return { ...base, data: { case: 'gauge', value: { dataPoints: this.list(4, numberPoint) } } };
      case 2:
        return {
          ...base,
          data: {
            case: 'sum',
            value: { dataPoints: this.list(4, numberPoint), aggregationTemporality: this.temporality(), isMonotonic: this.chance(0.5) },
          },
        };
      case 3:
        return {
          ...base,
          data: {
            case: 'histogram',
            value: {
              aggregationTemporality: this.temporality(),
              dataPoints: this.list(3, () => ({
                ...times(),
                attributes: this.attributes(),
                count: this.u64(),
                sum: this.maybe(() => this.double()),
                bucketCounts: this.list(17, () => this.u64()),
                explicitBounds: this.list(16, () => this.double()),
                exemplars: this.chance(0.3) ? this.exemplars() : undefined,
                flags: this.flags(),
                min: this.maybe(() => this.double()),
                max: this.maybe(() => this.double()),
              })),
            },
          },
        };
      case 4: {
        const buckets = () => ({ offset: this.int(2 ** 32) - 2 ** 31, bucketCounts: this.list(20, () => this.u64()) });
        return {
          ...base,
          data: {
            case: 'exponentialHistogram',
            value: {
              aggregationTemporality: this.temporality(),
              dataPoints: this.list(3, () => ({
                ...times(),
                attributes: this.attributes(),
                count: this.u64(),
                sum: this.maybe(() => this.double()),
                scale: this.int(41) - 20,
                zeroCount: this.u64(),
                zeroThreshold: this.chance(0.5) ? 0 : this.double(),
                positive: this.maybe(buckets),
                negative: this.maybe(buckets),
                flags: this.flags(),
                exemplars: this.chance(0.3) ? this.exemplars() : undefined,
                min: this.maybe(() => this.double()),
                max: this.maybe(() => this.double()),
              })),
            },
          },
        };
      }
      default:
        return {
          ...base,
          data: {
            case: 'summary',
            value: {
              dataPoints: this.list(3, () => ({
                ...times(),
                attributes: this.attributes(),
                count: this.u64(),
                sum: this.double(),
                quantileValues: this.list(4, () => ({ quantile: this.maybe(() => this.r()), value: this.maybe(() => this.double()) })),
                flags: this.flags(),
              })),
            },
          },
        };
    }
  }
  request(): ExportMetricsRequestShape {
    return this.looseRequest() as ExportMetricsRequestShape;
  }
  looseRequest(): Loose<ExportMetricsRequestShape> {
    return {
      resourceMetrics: this.list(2, () => ({
        resource: this.maybe(() => ({
          attributes: this.attributes(),
          droppedAttributesCount: this.chance(0.8) ? 0 : this.int(100),
          entityRefs: this.chance(0.8) ? undefined : this.list(2, () => ({ type: this.string(), idKeys: this.list(2, () => this.string()) })),
        })),
        schemaUrl: this.maybe(() => this.string()),
        scopeMetrics: this.list(2, () => ({
          scope: this.maybe(() => ({
            name: this.string(),
            version: this.maybe(() => this.string()),
            attributes: this.attributes(2),
            droppedAttributesCount: this.int(2),
          })),
          schemaUrl: this.maybe(() => this.string()),
          metrics: this.list(4, () => this.metric()),
        })),
      })),
    };
  }
}

const property = suite('otlp/encode/metrics-request: seeded random messages');

property('byte-identical to toBinary and lossless through fromBinary (400 messages)', () => {
  const g = new Gen(prng(0x5eed));
  let points = 0;
  for (let i = 0; i < 400; i++) {
    const init = g.request();
    const bytes = check(init, `(message ${i})`);
    const msg = fromBinary(ExportMetricsServiceRequestSchema, bytes);
    for (const rm of msg.resourceMetrics)
      for (const sm of rm.scopeMetrics) for (const m of sm.metrics) points += m.data.value?.dataPoints.length ?? 0;
  }
  assert.ok(points > 1000, `the generator should produce many points, got ${points}`);
});

property.run();
