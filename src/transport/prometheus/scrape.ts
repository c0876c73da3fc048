/**
 * The gateway's scrape upstream as a Transport: its "wire" is a page Prometheus pulls. `export()`
 * decodes an OTLP metrics request into a series store (otlp/prometheus/series-store.ts) and answers at
 * once; the endpoint (endpoint.ts) renders the store per scrape, resources as `job`/`instance` labels and
 * one `target_info` per job/instance (the collector mode of otlp/prometheus/translate.ts). Being a
 * Transport, it sits behind the same backend as every upstream (queue, stats, routes, reload), and its
 * failures are values like theirs: a request that does not decode is refused, never retried; logs and
 * traces routed here are rejected (partial success, counted), since a page shows metrics only.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { warnOnce } from '../../internal/warn.js';
import { renderPrometheusBytes } from '../../otlp/prometheus/render.js';
import { createSeriesStore, type SeriesStoreStats } from '../../otlp/prometheus/series-store.js';
import { scanRequest } from '../../otlp/scan.js';
import { failed } from '../retryable.js';
import type { ExportResult, Transport } from '../types.js';
import { type Endpoint, type EndpointAuth, listenEndpoint } from './endpoint.js';

/** Options of {@link createScrapeTransport}. */
export interface ScrapeTransportOptions {
  /** Listen address, `host:port` (`[::1]:9464` for IPv6); port 0 picks a free one. */
  readonly address: string;
  /** The page's path. */
  readonly path: string;
  readonly auth?: EndpointAuth | undefined;
  /** Series not updated for this long leave the page. */
  readonly stalenessMillis: number;
  /** Series held at most (new ones past it are dropped and counted). */
  readonly maxSeries: number;
  /** For tests: the store's clock. */
  readonly now?: () => number;
}

/** A scrape upstream's transport. */
export interface ScrapeTransport extends Transport {
  /** The page URL once listening; rejects with the listen error. */
  readonly listening: Promise<string>;
  stats(): SeriesStoreStats;
}

/** How long a reload's successor waits for its predecessor to free the address (EADDRINUSE). */
const LISTEN_RETRY_MS = 5000;

/** Starts listening at once; a listen failure is warned about and fails `listening`. */
export function createScrapeTransport(options: ScrapeTransportOptions): ScrapeTransport {
  const store = createSeriesStore({
    maxSeries: options.maxSeries,
    stalenessMillis: options.stalenessMillis,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const { host, port } = splitAddress(options.address);
  let closed = false;
  const endpoint: Promise<Endpoint> = listenRetrying(() =>
    listenEndpoint({
      host,
      port,
      path: options.path,
      auth: options.auth,
      defaultTimeoutMillis: 10_000,
      page: async (format) => renderPrometheusBytes([store.snapshot()], { format, resource: 'collector' }),
    }),
  );
  const listening = endpoint.then((e) => e.url);
  listening.catch((err: unknown) => {
    if (!closed) warnOnce(`scrape-listen:${options.address}`, `prometheus scrape upstream: cannot listen on ${options.address}: ${String(err)}`);
  });
  return {
    encoding: 'protobuf',
    listening,
    stats: () => store.stats(),
    async export(signal, body): Promise<ExportResult> {
      if (signal !== 'metrics') {
        return {
          kind: 'partial',
          rejected: itemsOf(signal, body),
          message: `a Prometheus scrape upstream shows metrics only; ${signal} are not kept`,
        };
      }
      let request: ReturnType<typeof fromBinary<typeof ExportMetricsServiceRequestSchema>>;
      try {
        request = fromBinary(ExportMetricsServiceRequestSchema, body);
      } catch (err) {
        return failed('rejected', `undecodable metrics request: ${String(err)}`, false, { cause: err });
      }
      const dropped = store.ingest(request);
      if (dropped > 0) {
        warnOnce(
          `scrape-limit:${options.address}`,
          `prometheus scrape upstream ${options.address}: ${options.maxSeries} series held; points of new series are dropped`,
        );
        return { kind: 'partial', rejected: dropped, message: `series limit (${options.maxSeries}) reached` };
      }
      return { kind: 'ok' };
    },
    async close() {
      closed = true;
      const e = await endpoint.catch(() => undefined);
      await e?.close();
    },
  };
}

function itemsOf(signal: 'logs' | 'traces', body: Uint8Array): number {
  try {
    return scanRequest(signal, body).items;
  } catch {
    return 0;
  }
}

async function listenRetrying(listen: () => Promise<Endpoint>): Promise<Endpoint> {
  const deadline = Date.now() + LISTEN_RETRY_MS;
  for (;;) {
    try {
      return await listen();
    } catch (err) {
      // A reload replaces an upstream before it shuts the old one down: wait for the address to free.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 100).unref());
    }
  }
}

/** `host:port` or `[v6]:port` → parts; the config layer has validated it. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(colon + 1)) };
}
