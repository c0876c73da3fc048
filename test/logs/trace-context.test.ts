import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { context, trace, ROOT_CONTEXT, TraceFlags, type Context } from '@opentelemetry/api';
import { activeApiContext, normalizeHexId, traceFromContext, type ResolvedTrace } from '../../src/logs/trace-context.js';
import { createAlsContextManager } from './helpers.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

function ctxWithSpan(traceId: string, spanId: string, traceFlags = TraceFlags.SAMPLED): Context {
  return trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId, spanId, traceFlags }));
}

function fresh(): ResolvedTrace {
  return { traceId: '', spanId: '', flags: 0 };
}

const hex = suite('logs/trace-context normalizeHexId');

hex('step table', () => {
  const steps: [unknown, number, string | undefined][] = [
    [TRACE, 32, TRACE],
    [TRACE.toUpperCase(), 32, TRACE],
    [SPAN, 16, SPAN],
    ['0'.repeat(32), 32, undefined],
    [TRACE.slice(1), 32, undefined],
    [TRACE + '0', 32, undefined],
    ['g' + TRACE.slice(1), 32, undefined],
    [' ' + SPAN.slice(1), 16, undefined],
    [123, 16, undefined],
    [undefined, 16, undefined],
  ];
  for (const [input, len, want] of steps) assert.is(normalizeHexId(input, len), want, String(input));
});

hex.run();

const ctx = suite('logs/trace-context from contexts');

ctx('reads the span of an api Context object', () => {
  const out = fresh();
  traceFromContext(ctxWithSpan(TRACE, SPAN), out);
  assert.equal(out, { traceId: TRACE, spanId: SPAN, flags: 1 });
});

ctx('an invalid span context (api INVALID_SPAN_CONTEXT) or a context without a span leaves nothing', () => {
  const out = fresh();
  traceFromContext(ctxWithSpan('0'.repeat(32), '0'.repeat(16)), out);
  assert.equal(out, fresh());
  traceFromContext(ROOT_CONTEXT, out);
  assert.equal(out, fresh());
  traceFromContext({ getValue: () => ({ spanContext: 'not a function' }) }, out);
  assert.equal(out, fresh());
});

ctx('without a context, the active context of the registered api is used', async () => {
  // Start from no manager, whatever an earlier suite in this process left.
  context.disable();
  assert.is(activeApiContext(), undefined, 'no manager registered');
  const manager = createAlsContextManager<Context>(ROOT_CONTEXT);
  assert.ok(context.setGlobalContextManager(manager));
  try {
    const out = fresh();
    traceFromContext(undefined, out);
    assert.equal(out, fresh(), 'root context has no span');
    await context.with(ctxWithSpan(TRACE, SPAN, TraceFlags.NONE), async () => {
      // Across an await, as AsyncLocalStorage propagates.
      await new Promise((r) => setTimeout(r, 1));
      traceFromContext(undefined, out);
    });
    assert.equal(out, { traceId: TRACE, spanId: SPAN, flags: 0 });
    // An explicit context wins over the active one.
    const other = fresh();
    context.with(ctxWithSpan(TRACE, SPAN), () => traceFromContext(ctxWithSpan('1'.repeat(32), '2'.repeat(16)), other));
    assert.is(other.traceId, '1'.repeat(32));
  } finally {
    context.disable();
  }
  assert.is(activeApiContext(), undefined, 'manager unregistered');
});

ctx.run();
