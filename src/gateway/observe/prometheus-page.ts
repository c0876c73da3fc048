/**
 * `GET /metrics`: a cumulative consumer on a meter provider, collected and rendered
 * (src/otlp/prometheus/render.ts) per scrape. The consumer is registered when the page is created, not
 * at the first scrape, so the first scrape already shows totals since start.
 */
import type { MeterProvider } from '../../metrics/meter-provider.js';
import type { MetricsPage } from './events.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type PrometheusRenderOptions } from '../../otlp/prometheus/render.js';

/** Options of `createPrometheusPage`. */
export interface PrometheusPageOptions extends PrometheusRenderOptions {
  /**
   * Longest wait for asynchronous observable callbacks per scrape. Default 5000 ms: under
   * Prometheus's default 10 s scrape timeout, so a slow callback costs its points, not the scrape.
   */
  readonly timeoutMillis?: number;
}

/** A Prometheus scrape page over one meter provider. */
export interface PrometheusPage {
  /** Collects and renders the page. */
  page(): Promise<MetricsPage>;
  /** Unregisters the consumer. Idempotent. */
  close(): void;
}

/** Registers a cumulative consumer on `provider` and returns its scrape page. */
export function createPrometheusPage(provider: MeterProvider, options: PrometheusPageOptions = {}): PrometheusPage {
  const consumer = provider.registerConsumer({ temporality: 'cumulative' });
  const timeoutMillis = options.timeoutMillis ?? 5000;
  return {
    async page() {
      const bodies = await consumer.collect({ signal: AbortSignal.timeout(timeoutMillis) });
      return { contentType: PROMETHEUS_CONTENT_TYPE, body: renderPrometheus(bodies, options) };
    },
    close() {
      consumer.unregister();
    },
  };
}
