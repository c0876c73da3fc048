/**
 * The library's Prometheus pull backend: a cumulative consumer of the meter provider, collected
 * when scraped (no timer) and rendered in the scraper's format by the same translation as every
 * other Prometheus output (otlp/prometheus/). Loaded by telemetry.ts only when such a backend is
 * configured: it brings `node:http` and the translation, which the main entry does not load
 * (test/layering.test.ts).
 */
import { renderPrometheusBytes } from '../otlp/prometheus/render.js';
import { listenEndpoint, type Endpoint } from '../transport/prometheus/endpoint.js';

/** Where to listen, and the longest collection when the scraper names no timeout. */
export interface PullOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly timeoutMillis: number;
}

/** What the page collects from: a cumulative `MetricConsumer` (metrics/meter-provider.ts). */
export interface PullSource {
  /** Encoded Export requests: the translation reads bytes, so the page never decodes into messages. */
  collect(options: { readonly signal: AbortSignal }): Promise<Uint8Array[]>;
}

/** Listens; rejects with the listen error. */
export function servePull(consumer: PullSource, options: PullOptions): Promise<Endpoint> {
  return listenEndpoint({
    host: options.host,
    port: options.port,
    path: options.path,
    defaultTimeoutMillis: options.timeoutMillis,
    async page(format, timeoutMillis) {
      return renderPrometheusBytes(await consumer.collect({ signal: AbortSignal.timeout(timeoutMillis) }), { format });
    },
  });
}
