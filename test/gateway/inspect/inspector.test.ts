/**
 * The inspector's state: with no browser connected it only counts (no request is decoded); with
 * one, it decodes within its budget, keeps byte-bounded rings and sends each frame to every
 * client; its windows are bounded by name and forget idle rows.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RequestEvent } from '../../../src/gateway/observe/events.js';
import { ByteRing } from '../../../src/gateway/inspect/byte-ring.js';
import { createInspector, type Inspector } from '../../../src/gateway/inspect/inspector.js';
import { OTHER, WindowTable } from '../../../src/gateway/inspect/windows.js';
import { severityName } from '../../../src/gateway/inspect/entries.js';
import type { Hello, RequestEntry, Tick } from '../../../src/gateway/inspect/wire.js';
import { bin, logsRequest, metricsRequest } from '../harness.js';
import { decodeExportRequest } from '../../../src/otlp/decode.js';

const test = suite('gateway/inspect/inspector');

let decodes = 0;
function metricsEvent(service: string, points = 2, tenant?: string): RequestEvent {
  const body = bin.metrics(metricsRequest([service], points));
  return {
    signal: 'metrics',
    protocol: 'http/protobuf',
    tenant,
    serviceNames: [service],
    items: points,
    bytes: body.length,
    wireBytes: body.length,
    upstreams: ['main'],
    unrouted: 0,
    body,
    encoding: 'protobuf',
    decode() {
      decodes++;
      return { signal: 'metrics', message: decodeExportRequest('metrics', body) };
    },
  };
}

function logsEvent(service: string): RequestEvent {
  const body = bin.logs(logsRequest([service]));
  return {
    ...metricsEvent(service),
    signal: 'logs',
    body,
    bytes: body.length,
    decode: () => ({ signal: 'logs', message: decodeExportRequest('logs', body) }),
  };
}

/** A client that records the frames it gets, parsed. */
function recorder(): { frames: { event: string; data: unknown }[]; write(f: string): boolean } {
  const frames: { event: string; data: unknown }[] = [];
  return {
    frames,
    write(f) {
      const m = /^event: (\S+)\ndata: (.*)\n\n$/s.exec(f);
      assert.ok(m !== null, `a well-formed frame: ${f.slice(0, 80)}`);
      frames.push({ event: m[1]!, data: JSON.parse(m[2]!) });
      return true;
    },
  };
}

let inspector: Inspector | undefined;
test.after.each(async () => {
  await inspector?.close();
  inspector = undefined;
  decodes = 0;
});

test('with no browser connected nothing is decoded; the windows count every request', () => {
  inspector = createInspector({ tickMillis: 3_600_000, now: () => 1000 });
  for (let i = 0; i < 10; i++) inspector.onRequest(metricsEvent('checkout', 2, 'acme'));
  inspector.onRefused({ reason: 'backpressure', signal: 'metrics', protocol: 'grpc', status: 8, message: 'full', tenant: undefined });
  assert.is(decodes, 0);
  inspector.tick();
  const c = recorder();
  inspector.connect(c);
  const hello = c.frames[0]!.data as Hello;
  assert.is(c.frames[0]!.event, 'hello');
  assert.is(c.frames.length, 1, 'no entries: nothing was decoded');
  assert.is(hello.signals['metrics']!.requests.at(-1), 10);
  assert.is(hello.signals['metrics']!.items.at(-1), 20);
  assert.is(hello.services['checkout']!.items.at(-1), 20);
  assert.is(hello.tenants['acme']!.requests.at(-1), 10);
  assert.is(hello.refusals['backpressure']!.at(-1), 1);
  assert.is(hello.queuedBytes.length, 299, 'the window less the open second');
});

test('with a browser: each request decoded once into frames for every client, kept for the next one', () => {
  inspector = createInspector({ tickMillis: 3_600_000 });
  const a = recorder();
  const b = recorder();
  inspector.connect(a);
  inspector.connect(b);
  inspector.onRequest(metricsEvent('checkout', 3));
  inspector.onRequest(logsEvent('checkout'));
  assert.is(decodes, 1);
  assert.equal(
    a.frames.map((f) => f.event),
    ['hello', 'request', 'points', 'request', 'logs'],
  );
  assert.equal(a.frames.slice(1), b.frames.slice(1));
  const request = a.frames[1]!.data as RequestEntry;
  assert.equal([request.signal, request.services, request.items, request.names], ['metrics', ['checkout'], 3, ['checkout.gauge']]);
  assert.is((a.frames[2]!.data as unknown[]).length, 3);
  const late = recorder();
  inspector.connect(late);
  assert.equal(
    late.frames.map((f) => f.event),
    ['hello', 'request', 'request', 'points', 'logs'],
    'the rings, kind by kind',
  );
});

test('the decode budget: requests over it are skipped and counted; the next second starts afresh', () => {
  inspector = createInspector({ tickMillis: 3_600_000, decodeRequestsPerSecond: 2 });
  const c = recorder();
  inspector.connect(c);
  for (let i = 0; i < 5; i++) inspector.onRequest(metricsEvent('checkout'));
  assert.is(decodes, 2);
  inspector.tick();
  const tick = c.frames.find((f) => f.event === 'tick')!.data as Tick;
  assert.equal([tick.decode.decoded, tick.decode.skipped, tick.decode.clients], [2, 3, 1]);
  assert.is(tick.signals['metrics']![0], 5, 'counted all the same');
  inspector.onRequest(metricsEvent('checkout'));
  assert.is(decodes, 3);
});

test('a body a full decode refuses is counted, not shown', () => {
  inspector = createInspector({ tickMillis: 3_600_000 });
  const c = recorder();
  inspector.connect(c);
  inspector.onRequest({
    ...metricsEvent('x'),
    decode() {
      throw new Error('bad item');
    },
  });
  inspector.tick();
  assert.is((c.frames.at(-1)!.data as Tick).decode.errors, 1);
  assert.not.ok(c.frames.some((f) => f.event === 'request'));
});

test('a disconnected client gets nothing more; with none left, decoding stops', () => {
  inspector = createInspector({ tickMillis: 3_600_000 });
  const c = recorder();
  const leave = inspector.connect(c);
  leave();
  inspector.onRequest(metricsEvent('checkout'));
  assert.is(decodes, 0);
  assert.is(c.frames.length, 1);
  assert.is(inspector.clients, 0);
});

test('ByteRing: bounded by characters and by count, oldest dropped first', () => {
  const r = new ByteRing(10, 3);
  for (const s of ['aaaa', 'bbbb', 'cc']) r.push(s);
  assert.equal(r.toArray(), ['aaaa', 'bbbb', 'cc']);
  r.push('ddd');
  assert.equal(r.toArray(), ['bbbb', 'cc', 'ddd'], '13 characters: the oldest went');
  r.push('e');
  assert.equal(r.toArray(), ['cc', 'ddd', 'e'], '3 entries at most');
  r.push('x'.repeat(11));
  assert.equal(r.toArray(), ['cc', 'ddd', 'e'], 'larger than the whole bound: not kept');
  assert.is(r.bytes, 6);
  for (let i = 0; i < 5000; i++) r.push(String(i % 10));
  assert.ok(r.size <= 3 && r.bytes <= 10);
});

test('WindowTable: names beyond the capacity go to (other); idle rows are forgotten after a whole window', () => {
  const t = new WindowTable(4, 2);
  t.add('a', 1);
  t.add('b', 2);
  t.add('c', 3);
  t.add('d', 4);
  assert.equal(t.advance(), { a: [1, 1], b: [1, 2], [OTHER]: [2, 7] });
  assert.equal(t.history()['a'], { requests: [0, 0, 1], items: [0, 0, 1] });
  for (let i = 0; i < 3; i++) t.advance();
  assert.is(t.rows.size, 0, 'a window without traffic: every row forgotten');
  t.add('e', 1);
  assert.ok(t.rows.has('e'), 'room again');
});

test('severityName: the spec short names', () => {
  assert.equal([1, 2, 5, 9, 12, 13, 17, 21, 24, 0, 25].map(severityName), [
    'TRACE',
    'TRACE2',
    'DEBUG',
    'INFO',
    'INFO4',
    'WARN',
    'ERROR',
    'FATAL',
    'FATAL4',
    'SEVERITY_NUMBER_0',
    'SEVERITY_NUMBER_25',
  ]);
});

test.run();
