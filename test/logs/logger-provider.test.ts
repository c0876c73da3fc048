import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { context, trace, ROOT_CONTEXT, TraceFlags, type Context } from '@opentelemetry/api';
import { logs, SeverityNumber as ApiSeverity, type LoggerProvider as ApiLoggerProvider } from '@opentelemetry/api-logs';
import { manualClock } from '../../src/internal/clock.js';
import { createInMemoryLogSink } from '../../src/logs/in-memory-sink.js';
import { createLoggerProvider } from '../../src/logs/logger-provider.js';
import { SeverityNumber } from '../../src/logs/types.js';
import type { LogRecord } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import type { AnyValue } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import { captureWarnings, createAlsContextManager } from './helpers.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function str(v: AnyValue | undefined): unknown {
  return v?.value.value;
}

function attrMap(r: LogRecord): Record<string, unknown> {
  return Object.fromEntries(r.attributes.map((kv) => [kv.key, str(kv.value)]));
}

function spanCtx(traceId: string, spanId: string, traceFlags = TraceFlags.SAMPLED): Context {
  return trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId, spanId, traceFlags }));
}

function setup(options: Parameters<typeof createLoggerProvider>[0] = {}) {
  const sink = createInMemoryLogSink();
  const clock = manualClock(1_700_000_000_000_000_000n);
  const provider = createLoggerProvider({ sink, clock, batch: { scheduledDelayMillis: 60_000 }, ...options });
  return { sink, clock, provider };
}

const api = suite('logs/logger-provider api-logs compatibility');

api('registered with logs.setGlobalLoggerProvider, records emitted through the api reach the sink', async () => {
  const { sink, provider } = setup({ resource: { 'service.name': 'svc' }, schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
  // Compile-time proof of structural compatibility.
  const asApi: ApiLoggerProvider = provider;
  logs.disable();
  // A logger obtained before registration is a ProxyLogger that delegates once a provider is set.
  const early = logs.getLogger('early-lib');
  assert.ok(logs.setGlobalLoggerProvider(asApi));
  try {
    const logger = logs.getLogger('my-lib', '1.2.3', { schemaUrl: 'https://scope/schema', attributes: { team: 'core' } });
    assert.ok(logger.enabled());
    logger.emit({
      timestamp: new Date(1_700_000_000_123),
      observedTimestamp: [1_700_000_001, 5],
      severityNumber: ApiSeverity.WARN,
      severityText: 'WARN',
      body: { msg: 'hello', n: 2 },
      attributes: { 'http.route': '/x', list: [1, 'a'] },
      eventName: 'my.event',
      context: spanCtx(TRACE, SPAN),
    });
    early.emit({ body: 'via proxy' });
    await provider.forceFlush();
    const [req] = sink.requests();
    const rl = req!.resourceLogs[0]!;
    assert.is(rl.schemaUrl, 'https://opentelemetry.io/schemas/1.30.0');
    assert.equal(
      rl.resource?.attributes.map((kv) => [kv.key, str(kv.value)]),
      [['service.name', 'svc']],
    );
    assert.is(rl.scopeLogs.length, 2);
    const mine = rl.scopeLogs[0]!;
    assert.is(mine.scope?.name, 'my-lib');
    assert.is(mine.scope?.version, '1.2.3');
    assert.is(mine.schemaUrl, 'https://scope/schema');
    assert.equal(
      mine.scope?.attributes.map((kv) => [kv.key, str(kv.value)]),
      [['team', 'core']],
    );
    const r = mine.logRecords[0]!;
    assert.is(r.timeUnixNano, 1_700_000_000_123_000_000n);
    assert.is(r.observedTimeUnixNano, 1_700_000_001_000_000_005n);
    assert.is(r.severityNumber, 13);
    assert.is(r.severityText, 'WARN');
    assert.is(r.eventName, 'my.event');
    assert.is(r.body?.value.case, 'kvlistValue');
    assert.equal(Object.keys(attrMap(r)), ['http.route', 'list']);
    assert.is(hex(r.traceId), TRACE);
    assert.is(hex(r.spanId), SPAN);
    assert.is(r.flags, 1);
    assert.is(rl.scopeLogs[1]!.scope?.name, 'early-lib');
    assert.is(str(rl.scopeLogs[1]!.logRecords[0]!.body), 'via proxy');
  } finally {
    logs.disable();
    await provider.shutdown();
  }
});

api('our SeverityNumber matches the api enum', () => {
  for (const [name, n] of Object.entries(SeverityNumber)) {
    assert.is((ApiSeverity as unknown as Record<string, number>)[name], n, name);
  }
});

api.run();

const emit = suite('logs/logger-provider emit');

emit('observed time defaults to the clock; timestamp stays unset unless given; bigint ns accepted', async () => {
  const { sink, clock, provider } = setup();
  const log = provider.getLogger('t');
  log.emit({ body: 'a' });
  clock.advance(5n);
  log.emit({ body: 'b', timestamp: 1_600_000_000_000_000_123n });
  await provider.forceFlush();
  const [a, b] = sink.logRecords();
  assert.is(a!.timeUnixNano, 0n);
  assert.is(a!.observedTimeUnixNano, 1_700_000_000_000_000_000n);
  assert.is(b!.timeUnixNano, 1_600_000_000_000_000_123n);
  assert.is(b!.observedTimeUnixNano, 1_700_000_000_000_000_005n);
  await provider.shutdown();
});

emit('trace context: explicit ids win, then the context object, then the active api context', async () => {
  const { sink, provider } = setup();
  const log = provider.getLogger('t');
  const manager = createAlsContextManager<Context>(ROOT_CONTEXT);
  context.disable();
  assert.ok(context.setGlobalContextManager(manager));
  try {
    const other = '1'.repeat(32);
    context.with(spanCtx(other, '2'.repeat(16), TraceFlags.NONE), () => {
      log.emit({ body: 'explicit', traceId: TRACE.toUpperCase(), spanId: SPAN, traceFlags: 1, context: spanCtx('3'.repeat(32), '4'.repeat(16)) });
      log.emit({ body: 'context', context: spanCtx(TRACE, SPAN) });
      log.emit({ body: 'active' });
    });
    log.emit({ body: 'none' });
  } finally {
    context.disable();
  }
  await provider.forceFlush();
  const got = sink.logRecords().map((r) => [str(r.body), hex(r.traceId), hex(r.spanId), r.flags]);
  assert.equal(got, [
    ['explicit', TRACE, SPAN, 1],
    ['context', TRACE, SPAN, 1],
    ['active', '1'.repeat(32), '2'.repeat(16), 0],
    ['none', '', '', 0],
  ]);
  await provider.shutdown();
});

emit('invalid input never throws: warnings once, safe fallbacks', async () => {
  const w = captureWarnings();
  try {
    const { sink, provider } = setup();
    const log = provider.getLogger('t');
    log.emit({ body: 'sev', severityNumber: 99 });
    log.emit({ body: 'sev2', severityNumber: 2.5 });
    log.emit({ body: 'ids', traceId: 'zz', spanId: SPAN, traceFlags: 1, context: spanCtx(TRACE, SPAN) });
    log.emit({ body: 'flags', traceFlags: 300, context: spanCtx(TRACE, SPAN) });
    log.emit({
      body: 'types',
      severityText: 5 as unknown as string,
      eventName: {} as unknown as string,
      timestamp: 'yesterday' as unknown as number,
    });
    log.emit({ body: (() => 1) as unknown as string });
    log.emit(null as unknown as object);
    log.emit({
      get body(): string {
        throw new Error('getter boom');
      },
    });
    await provider.forceFlush();
    const got = sink.logRecords().map((r) => [str(r.body), r.severityNumber, hex(r.traceId), r.flags, r.severityText, r.eventName, r.timeUnixNano]);
    assert.equal(got, [
      ['sev', 0, '', 0, '', '', 0n],
      ['sev2', 0, '', 0, '', '', 0n],
      ['ids', 0, '', 0, '', '', 0n],
      ['flags', 0, TRACE, 1, '', '', 0n],
      ['types', 0, '', 0, '', '', 0n],
      [undefined, 0, '', 0, '', '', 0n],
    ]);
    const expectations = [
      'severityNumber = 99',
      'traceId/spanId must be 32/16 hex digits',
      'traceFlags = 300',
      'severityText must be a string',
      'eventName must be a string',
      'timestamp = yesterday',
      'type function',
      'takes a log record object',
      'getter boom',
    ];
    for (const e of expectations) assert.is(w.messages.filter((m) => m.includes(e)).length, 1, e);
    assert.is(w.messages.filter((m) => m.includes('severityNumber')).length, 1, 'one warning per kind');
    await provider.shutdown();
  } finally {
    w.restore();
  }
});

emit('limits from the provider options apply to records and scopes', async () => {
  const { sink, provider } = setup({ limits: { attributeCountLimit: 2, attributeValueLengthLimit: 3 } });
  const log = provider.getLogger('t', undefined, { attributes: { a: 'scope-long', b: 1, c: 2 } });
  log.emit({ attributes: { s: 'abcdef', arr: ['abcdef', 'xy'], extra: 1, more: 2 }, body: 'body is not truncated' });
  await provider.forceFlush();
  const sl = sink.requests()[0]!.resourceLogs[0]!.scopeLogs[0]!;
  assert.equal(
    sl.scope?.attributes.map((kv) => [kv.key, str(kv.value)]),
    [
      ['a', 'sco'],
      ['b', 1n],
    ],
  );
  assert.is(sl.scope?.droppedAttributesCount, 1);
  const r = sl.logRecords[0]!;
  assert.is(str(r.body), 'body is not truncated');
  assert.is(r.droppedAttributesCount, 2);
  assert.is(str(r.attributes[0]!.value), 'abc');
  const arr = r.attributes[1]!.value?.value;
  assert.ok(arr?.case === 'arrayValue');
  assert.equal(
    arr.value.values.map((v) => v.value.value),
    ['abc', 'xy'],
  );
  await provider.shutdown();
});

emit('attributes are copied at emit: later mutation by the caller does not leak into the batch', async () => {
  const { sink, provider } = setup();
  const log = provider.getLogger('t');
  const attrs: Record<string, string> = { k: 'before' };
  log.emit({ attributes: attrs });
  attrs.k = 'after';
  attrs.added = 'x';
  await provider.forceFlush();
  assert.equal(attrMap(sink.logRecords()[0]!), { k: 'before' });
  await provider.shutdown();
});

emit('exception becomes exception.* attributes unless already set', async () => {
  const { sink, provider } = setup();
  const log = provider.getLogger('t');
  const err = new TypeError('bad thing');
  log.emit({ exception: err });
  log.emit({ exception: err, attributes: { 'exception.message': 'mine' } });
  log.emit({ exception: 'just text' });
  await provider.forceFlush();
  const [a, b, c] = sink.logRecords().map(attrMap);
  assert.is(a!['exception.type'], 'TypeError');
  assert.is(a!['exception.message'], 'bad thing');
  assert.match(String(a!['exception.stacktrace']), /TypeError: bad thing/);
  assert.is(b!['exception.message'], 'mine');
  assert.equal(c, { 'exception.message': 'just text' });
  await provider.shutdown();
});

emit.run();

const scopes = suite('logs/logger-provider loggers and scopes');

scopes('same name, version, schemaUrl and attributes give the same logger; records group by scope', async () => {
  const { sink, provider } = setup();
  const a1 = provider.getLogger('a', '1', { attributes: { x: 1, y: [1, 2] } });
  const a2 = provider.getLogger('a', '1', { attributes: { y: [1, 2], x: 1 } });
  const a3 = provider.getLogger('a', '1', { attributes: { x: 2 } });
  const b = provider.getLogger('b');
  assert.is(a1, a2);
  assert.is.not(a1, a3);
  assert.is(provider.getLogger('b'), b);
  assert.is.not(provider.getLogger('b', '2'), b);
  a1.emit({ body: 1 });
  b.emit({ body: 2 });
  a2.emit({ body: 3 });
  a3.emit({ body: 4 });
  await provider.forceFlush();
  const sl = sink.requests()[0]!.resourceLogs[0]!.scopeLogs;
  assert.equal(
    sl.map((s) => [s.scope?.name, s.logRecords.map((r) => str(r.body))]),
    [
      ['a', [1n, 3n]],
      ['b', [2n]],
      ['a', [4n]],
    ],
  );
  await provider.shutdown();
});

scopes.run();

const idle = suite('logs/logger-provider no sink');

idle('with no sink, emit() reads nothing from the record and buffers nothing', async () => {
  let reads = 0;
  const record = new Proxy(
    { body: 'x', attributes: { a: 1 } },
    {
      get(target, key) {
        reads++;
        return Reflect.get(target, key);
      },
    },
  );
  const provider = createLoggerProvider();
  const log = provider.getLogger('idle');
  assert.not.ok(log.enabled());
  for (let i = 0; i < 1000; i++) log.emit(record);
  assert.is(reads, 0);
  assert.equal({ ...provider.stats() }, { queuedRecords: 0, droppedRecords: 0, exportedRecords: 0, failedRecords: 0 });
  await provider.forceFlush();

  // Setting a sink later turns recording on for existing loggers.
  const sink = createInMemoryLogSink();
  provider.setSink(sink);
  assert.ok(log.enabled());
  log.emit(record);
  assert.ok(reads > 0);
  await provider.forceFlush();
  assert.is(sink.logRecords().length, 1);
  await provider.shutdown();
  provider.setSink(sink);
  assert.not.ok(log.enabled(), 'setSink after shutdown is ignored');
});

idle.run();

const common = suite('logs/logger-provider attributes of every record');

common("every record carries them; a record's own attribute wins", async () => {
  const { sink, provider } = setup({ attributes: { tenant: 't1', node: 'n1' } });
  const logger = provider.getLogger('app');
  logger.emit({ body: 'plain' });
  logger.emit({ body: 'own', attributes: { tenant: 'other', route: '/a' } });
  logger.emit({ body: 'exception', exception: new Error('boom') });
  await provider.forceFlush();
  const [plain, own, exception] = sink.logRecords();
  assert.equal(attrMap(plain!), { tenant: 't1', node: 'n1' });
  assert.equal(attrMap(own!), { tenant: 'other', route: '/a', node: 'n1' });
  assert.is(attrMap(exception!)['exception.message'], 'boom');
  assert.is(attrMap(exception!)['tenant'], 't1');
});

common('they do not count against the attribute count limit; the value length limit cuts them once', async () => {
  const { sink, provider } = setup({ attributes: { tenant: 'abcdef' }, limits: { attributeCountLimit: 1, attributeValueLengthLimit: 3 } });
  provider.getLogger('app').emit({ attributes: { a: 'x', b: 'y' } });
  await provider.forceFlush();
  const r = sink.logRecords()[0]!;
  assert.equal(attrMap(r), { a: 'x', tenant: 'abc' });
  assert.is(r.droppedAttributesCount, 1, 'only the own attribute over the limit');
});

common('the caller may reuse its attributes object: the merge never writes to it', async () => {
  const { provider } = setup({ attributes: { tenant: 't1' } });
  const attrs = { route: '/a' };
  provider.getLogger('app').emit({ attributes: attrs });
  await provider.forceFlush();
  assert.equal(attrs, { route: '/a' });
});

common.run();
