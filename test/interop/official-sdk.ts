/**
 * Deterministic data recorded with the official OpenTelemetry JS SDK, shared by the conformance
 * suites. Each maker covers every field its signal can carry through the SDK: attributes of every
 * value type, sums (monotonic or not, int and double, delta and cumulative), gauges, explicit and
 * exponential histograms (negative buckets, zero counts), log bodies of every AnyValue kind, span
 * events, links, status, kinds, flags, trace state and remote parents. Nothing starts a timer:
 * metrics come from a manual reader, logs and spans from simple processors into memory.
 */
import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import type { AnyValueMap } from '@opentelemetry/api-logs';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { IdGenerator, ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { api, core, line, logsApi, resources, sdkLogs, sdkMetrics, sdkTrace } from './official.js';

const { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, ValueType, trace } = api;
const { SeverityNumber } = logsApi;
const { TraceState } = core;
const { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } = sdkLogs;
const { AggregationTemporality, AggregationType, InstrumentType, MeterProvider, MetricReader } = sdkMetrics;
const { InMemorySpanExporter } = sdkTrace;

// 3.x (sdk-trace, the successor of sdk-trace-base) names the provider TracerProvider and gives
// SimpleSpanProcessor an options object; 2.x's sdk-trace-base keeps BasicTracerProvider and the
// positional exporter. Same options and behaviour otherwise.
type TracerProviderClass = typeof sdkTrace.BasicTracerProvider;
const TracerProvider: TracerProviderClass =
  line.major >= 3 ? (sdkTrace as unknown as { TracerProvider: TracerProviderClass }).TracerProvider : sdkTrace.BasicTracerProvider;
const SimpleSpanProcessor = sdkTrace.SimpleSpanProcessor as unknown as new (arg: SpanExporter | { exporter: SpanExporter }) => SpanProcessor;
const simpleSpanProcessor = (exporter: SpanExporter): SpanProcessor => new SimpleSpanProcessor(line.major >= 3 ? { exporter } : exporter);

/** Resource attributes of every attribute value type. */
export const RESOURCE_ATTRIBUTES: Attributes = {
  'service.name': 'interop',
  'attr.string': 'héllo ✓',
  'attr.bool': true,
  'attr.int': 42,
  'attr.int.negative': -7,
  'attr.int.large': 2 ** 53 - 1,
  'attr.double': 3.25,
  'attr.double.tiny': 1e-300,
  'attr.array.string': ['a', 'b', ''],
  'attr.array.bool': [true, false],
  'attr.array.int': [1, -2, 3],
  'attr.array.double': [1.5, -2.5],
  'attr.array.empty': [],
};

export const RESOURCE_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.30.0';
export const SCOPE_SCHEMA_URL = 'https://example.com/scope-schema';

/** The SDK resource every maker uses. */
export function officialResource(): Resource {
  return resources.resourceFromAttributes(RESOURCE_ATTRIBUTES, { schemaUrl: RESOURCE_SCHEMA_URL });
}

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/**
 * Records one set of metrics and collects it once. Counters and histograms are delta, the rest
 * cumulative, so both temporalities appear in sums and histograms.
 */
export async function recordOfficialMetrics(): Promise<ResourceMetrics> {
  const reader = new ManualReader({
    aggregationTemporalitySelector: (t) =>
      t === InstrumentType.COUNTER || t === InstrumentType.HISTOGRAM ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
  });
  const provider = new MeterProvider({
    resource: officialResource(),
    readers: [reader],
    views: [
      { instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 16 } } },
      { instrumentName: 'clock.offset', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 32 } } },
    ],
  });
  try {
    const meter = provider.getMeter('interop.metrics', '1.2.3', { schemaUrl: SCOPE_SCHEMA_URL });
    const requests = meter.createCounter('http.requests', { valueType: ValueType.INT, unit: '{request}', description: 'Requests served' });
    const ok = { 'http.route': '/a', ok: true, code: 200 };
    requests.add(3, ok);
    requests.add(4, ok);
    requests.add(1, { 'http.route': '/b', ok: false, code: 500, ratio: 0.5, tags: ['x', 'y'], flags: [true], codes: [1, 2], ratios: [0.25] });
    meter.createCounter('bytes.ratio', { unit: '1' }).add(1.25);
    meter.createCounter('bytes.ratio', { unit: '1' }).add(2.5);
    const depth = meter.createUpDownCounter('queue.depth', { valueType: ValueType.INT });
    depth.add(5);
    depth.add(-8);
    const balance = meter.createUpDownCounter('balance', { description: 'non-monotonic double' });
    balance.add(-2.5);
    balance.add(0.75);
    meter.createGauge('cpu.count', { valueType: ValueType.INT }).record(8);
    const temperature = meter.createGauge('temperature', { unit: 'Cel' });
    temperature.record(21.5, { room: 'a' });
    temperature.record(-3.25, { room: 'b' });
    meter.createObservableGauge('memory.usage', { unit: 'By' }).addCallback((r) => r.observe(123.5, { pool: 'heap' }));
    const duration = meter.createHistogram('request.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [0, 5, 10, 100] } });
    for (const v of [1, 7, 7, 50, 1000, 0]) duration.record(v, { method: 'GET' });
    const payload = meter.createHistogram('payload.size', { unit: 'By' });
    for (const v of [0, 0, 1, 2, 3, 1024, 1e6]) payload.record(v);
    // A gauge may be negative, so its exponential histogram fills negative buckets (and has no sum).
    const offset = meter.createGauge('clock.offset', { unit: 's' });
    for (const v of [-100, -1, -0.25, 0, 0.5, 3]) offset.record(v);
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics;
  } finally {
    await provider.shutdown();
  }
}

/** Every 8-byte span id / 16-byte trace id from a counter, so runs are reproducible. */
function sequentialIds(seed: number): IdGenerator {
  let n = seed;
  const next = (bytes: number): string => (++n).toString(16).padStart(bytes * 2, '0');
  return { generateTraceId: () => next(16), generateSpanId: () => next(8) };
}

const at = (seconds: number, nanos: number): HrTime => [1_700_000_000 + seconds, nanos];

/** A remote sampled context with a trace state, as a propagator would extract it. */
export const REMOTE_PARENT: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor=a,other=b'),
};

const LOG_SPAN: SpanContext = {
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
  traceFlags: TraceFlags.SAMPLED,
};

/** Log attributes: every AnyValue kind, nested. */
export const LOG_ATTRIBUTES: AnyValueMap = {
  'log.string': 'text',
  'log.bool': false,
  'log.int': -123456789,
  'log.double': 0.125,
  'log.bytes': new Uint8Array([0, 1, 254, 255]),
  'log.array': ['a', 1, 2.5, true, null],
  'log.map': { inner: { deep: [1, { k: 'v' }] }, empty: {} },
};

/**
 * Emits one log record per body kind through `exporters` (one SimpleLogRecordProcessor each)
 * and returns the records as the SDK kept them (through an in-memory exporter).
 */
export async function emitOfficialLogs(exporters: readonly LogRecordExporter[]): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: officialResource(),
    logRecordLimits: { attributeCountLimit: 10 },
    processors: [memory, ...exporters].map((exporter) => new SimpleLogRecordProcessor({ exporter })),
  });
  const logger = provider.getLogger('interop.logs', '0.9.0', {
    schemaUrl: SCOPE_SCHEMA_URL,
    attributes: { 'scope.string': 's', 'scope.bool': true, 'scope.int': 7, 'scope.double': 7.5, 'scope.array': ['p', 'q'] },
  });
  const traced = trace.setSpanContext(ROOT_CONTEXT, LOG_SPAN);
  const unsampled = trace.setSpanContext(ROOT_CONTEXT, { ...LOG_SPAN, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE });
  const bodies: Array<[string, unknown]> = [
    ['string', 'user logged in'],
    ['bool', true],
    ['int', 42],
    ['int.negative', -9007199254740991],
    ['double', 3.5],
    ['bytes', new Uint8Array([0xde, 0xad, 0xbe, 0xef])],
    ['array', ['one', 2, 3.5, false, new Uint8Array([7]), ['nested'], { k: 'v' }]],
    ['kvlist', { user: { id: 17, name: 'ann', roles: ['admin', 'dev'] }, ok: true, score: 0.5, raw: new Uint8Array([1]) }],
  ];
  bodies.forEach(([kind, body], i) => {
    logger.emit({
      timestamp: at(i, 100 + i),
      observedTimestamp: at(i, 200 + i),
      severityNumber: SeverityNumber.INFO + (i % 4),
      severityText: `INFO${(i % 4) + 1}`,
      body: body as AnyValueMap[string],
      attributes: { 'body.kind': kind, seq: i },
      context: traced,
    });
  });
  logger.emit({
    timestamp: at(20, 1),
    observedTimestamp: at(20, 2),
    eventName: 'user.login',
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'event with every attribute kind',
    attributes: LOG_ATTRIBUTES,
    context: unsampled,
  });
  logger.emit({
    timestamp: at(21, 0),
    observedTimestamp: at(21, 5),
    severityNumber: SeverityNumber.FATAL4,
    severityText: 'FATAL4',
    // 12 attributes over a limit of 10: the SDK drops 2 and counts them.
    attributes: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i])),
  });
  // No body, no severity, no context: the empty record.
  logger.emit({ timestamp: at(22, 0), observedTimestamp: at(22, 0) });
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  await provider.shutdown();
  return records;
}

/**
 * Records a small trace through `exporters` (one SimpleSpanProcessor each) and returns the spans
 * as the SDK kept them. Ids come from a counter, times are explicit.
 */
export async function recordOfficialSpans(exporters: readonly SpanExporter[]): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: officialResource(),
    idGenerator: sequentialIds(0x1000),
    spanLimits: { attributeCountLimit: 12, eventCountLimit: 2, linkCountLimit: 2 },
    spanProcessors: [memory, ...exporters].map(simpleSpanProcessor),
  });
  const tracer = provider.getTracer('interop.traces', '2.0.0', { schemaUrl: SCOPE_SCHEMA_URL });
  const linked: SpanContext = {
    traceId: '11111111111111111111111111111111',
    spanId: '2222222222222222',
    traceFlags: TraceFlags.NONE,
    isRemote: true,
    traceState: new TraceState('congo=t61rcWkgMzE'),
  };
  const root = tracer.startSpan(
    'GET /users/:id',
    {
      kind: SpanKind.SERVER,
      startTime: at(0, 0),
      attributes: { ...RESOURCE_ATTRIBUTES, 'http.method': 'GET' },
      links: [
        // linkCountLimit 2: the SDK drops the oldest link when a third arrives.
        { context: { ...linked, spanId: '4444444444444444' } },
        { context: linked, attributes: { 'link.kind': 'follows', 'link.n': 1 } },
      ],
    },
    ROOT_CONTEXT,
  );
  const { traceState: _state, ...stateless } = linked; // this link carries no trace state
  root.addLink({ context: { ...stateless, spanId: '3333333333333333', isRemote: false, traceFlags: TraceFlags.SAMPLED } });
  root.addEvent('dropped.first', at(0, 1_000)); // eventCountLimit 2: the SDK drops the oldest event
  root.addEvent('retry', at(0, 2_000));
  root.addEvent('cache.miss', { key: 'user:17', 'size.bytes': 512, hit: false, ratio: 0.5, keys: ['a'] }, at(0, 3_000));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
  const child = tracer.startSpan(
    'SELECT users',
    { kind: SpanKind.CLIENT, startTime: at(0, 10_000), attributes: { 'db.system': 'postgresql' } },
    trace.setSpan(ROOT_CONTEXT, root),
  );
  child.setStatus({ code: SpanStatusCode.OK });
  child.end(at(0, 20_000));
  const consumer = tracer.startSpan(
    'process message',
    { kind: SpanKind.CONSUMER, startTime: at(1, 0) },
    trace.setSpanContext(ROOT_CONTEXT, REMOTE_PARENT),
  );
  consumer.end(at(1, 999_999_999));
  tracer.startSpan('enqueue', { kind: SpanKind.PRODUCER, startTime: at(2, 0) }, ROOT_CONTEXT).end(at(2, 5));
  tracer.startSpan('internal work', { startTime: at(3, 0) }, ROOT_CONTEXT).end(at(3, 1));
  root.end(at(0, 30_000));
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}
