/** The gateway's `GET /metrics` page: the observer's provider rendered by otlp/prometheus. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrometheusPage } from '../../../src/gateway/observe/prometheus-page.js';
import { manualClock } from '../../../src/internal/clock.js';
import { createMeterProvider } from '../../../src/metrics/meter-provider.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../../src/otlp/prometheus/render.js';

const test = suite('gateway/prometheus page');
const T0 = 1_700_000_000_000_000_000n;

test('the scrape page: content type, cumulative totals across scrapes', async () => {
  const clock = manualClock(T0);
  const p = createMeterProvider({ clock });
  const page = createPrometheusPage(p);
  const c = p.getMeter('g').createCounter('hits');
  c.add(2);
  const first = await page.page();
  assert.is(first.contentType, PROMETHEUS_CONTENT_TYPE);
  assert.ok(String(first.body).includes('hits_total{otel_scope_name="g"} 2\n'), String(first.body));
  c.add(3);
  const second = await page.page();
  assert.ok(String(second.body).includes('hits_total{otel_scope_name="g"} 5\n'), String(second.body));
  page.close();
  page.close();
});

test.run();
