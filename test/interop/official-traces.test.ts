/**
 * Conformance, direction 1 (traces): the official OTLP span exporters, driven by a
 * BasicTracerProvider with SimpleSpanProcessor, send to our receiver; every span decoded with
 * our gen/ schema must equal the SDK's ReadableSpan, field by field.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Span } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { Span_SpanKind, SpanFlags, Status_StatusCode } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { ofSignal, startReceiver } from '../support/receiver.js';
import type { Receiver, ReceiverProtocol } from '../support/receiver.js';
import { hex, nSdkSpans, nTraceRequests } from './normalize.js';
import type { NSpan } from './normalize.js';
import { officialSpanExporter, PROTOCOLS } from './official-exporters.js';
import { recordOfficialSpans, REMOTE_PARENT, RESOURCE_SCHEMA_URL, SCOPE_SCHEMA_URL } from './official-sdk.js';

const test = suite('interop/official span exporters → our receiver');

let rx: Receiver;
let sdk: ReadableSpan[];

// All three exporters hang off one TracerProvider, so they send the very same spans.
test.before(async () => {
  rx = await startReceiver();
  sdk = await recordOfficialSpans(PROTOCOLS.map((p) => officialSpanExporter(p, rx)));
});

test.after(async () => {
  await rx.close();
});

const bySpanId = (a: NSpan, b: NSpan): number => (a.spanId < b.spanId ? -1 : 1);

function spans(protocol: ReceiverProtocol): Map<string, Span> {
  const out = new Map<string, Span>();
  for (const r of rx.requests.filter(ofSignal('traces', protocol)))
    for (const rs of r.message.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) out.set(s.name, s);
  return out;
}

for (const protocol of PROTOCOLS) {
  test(`${protocol}: every span arrives unchanged`, () => {
    // forceFlush waited for every answer; the receiver records a request before answering it.
    const requests = rx.requests.filter(ofSignal('traces', protocol));
    assert.is(sdk.length, 5);
    assert.is(requests.length, sdk.length, 'one request per span');
    assert.equal(nTraceRequests(requests.map((r) => r.message)).sort(bySpanId), nSdkSpans(sdk).sort(bySpanId));
    for (const r of requests) {
      assert.is(r.message.resourceSpans[0]?.schemaUrl, RESOURCE_SCHEMA_URL);
      assert.is(r.message.resourceSpans[0]?.scopeSpans[0]?.schemaUrl, SCOPE_SCHEMA_URL);
      assert.is(r.message.resourceSpans[0]?.scopeSpans[0]?.scope?.version, '2.0.0');
    }
  });

  test(`${protocol}: events, links, status, kinds, flags, trace state, parents`, () => {
    const got = spans(protocol);
    const root = got.get('GET /users/:id')!;
    assert.is(root.kind, Span_SpanKind.SERVER);
    assert.is(root.parentSpanId.length, 0);
    assert.equal(root.status?.code, Status_StatusCode.ERROR);
    assert.is(root.status?.message, 'upstream failed');
    assert.is(root.startTimeUnixNano, 1_700_000_000_000_000_000n);
    assert.is(root.endTimeUnixNano, 1_700_000_000_000_030_000n);
    assert.is(root.flags, SpanFlags.CONTEXT_HAS_IS_REMOTE_MASK | 1);
    assert.is(root.attributes.length, 12);
    assert.is(root.droppedAttributesCount, 2);
    assert.equal(
      root.events.map((e) => [e.name, e.timeUnixNano, e.attributes.length]),
      [
        ['retry', 1_700_000_000_000_002_000n, 0],
        ['cache.miss', 1_700_000_000_000_003_000n, 5],
      ],
    );
    assert.is(root.droppedEventsCount, 1);
    assert.is(root.links.length, 2);
    assert.is(root.droppedLinksCount, 1);
    const [remoteLink, localLink] = root.links;
    assert.is(hex(remoteLink!.traceId), '11111111111111111111111111111111');
    assert.is(hex(remoteLink!.spanId), '2222222222222222');
    assert.is(remoteLink!.traceState, 'congo=t61rcWkgMzE');
    assert.is(remoteLink!.flags, SpanFlags.CONTEXT_HAS_IS_REMOTE_MASK | SpanFlags.CONTEXT_IS_REMOTE_MASK);
    assert.is(remoteLink!.attributes.length, 2);
    assert.is(localLink!.flags, SpanFlags.CONTEXT_HAS_IS_REMOTE_MASK | 1);
    assert.is(localLink!.traceState, '');

    const child = got.get('SELECT users')!;
    assert.is(child.kind, Span_SpanKind.CLIENT);
    assert.equal(child.traceId, root.traceId);
    assert.equal(child.parentSpanId, root.spanId);
    assert.is(child.status?.code, Status_StatusCode.OK);

    const consumer = got.get('process message')!;
    assert.is(consumer.kind, Span_SpanKind.CONSUMER);
    assert.is(hex(consumer.traceId), REMOTE_PARENT.traceId);
    assert.is(hex(consumer.parentSpanId), REMOTE_PARENT.spanId);
    assert.is(consumer.traceState, 'vendor=a,other=b');
    assert.is(consumer.flags, SpanFlags.CONTEXT_HAS_IS_REMOTE_MASK | SpanFlags.CONTEXT_IS_REMOTE_MASK | 1);
    assert.is(consumer.endTimeUnixNano, 1_700_000_001_999_999_999n);

    assert.is(got.get('enqueue')?.kind, Span_SpanKind.PRODUCER);
    assert.is(got.get('internal work')?.kind, Span_SpanKind.INTERNAL);
    assert.is(got.get('internal work')?.status?.code ?? Status_StatusCode.UNSET, Status_StatusCode.UNSET);
  });
}

test.run();
