/**
 * The gateway's observer: counts what the gateway reports (events.ts), prints a periodic
 * console summary, records the gateway's own metrics through our SDK and serves them as
 * Prometheus text at `GET /metrics`.
 *
 * Verbosity, as the Collector's debug exporter names its levels:
 * - `basic`: one summary line per interval;
 * - `normal`: a compact table per interval (signals, refusals, tenants, top services,
 *   upstreams with interval p50/p99);
 * - `detailed`: the table, plus every accepted request decoded and printed item by item
 *   (print-detailed.ts) and every refusal. Only this level decodes request bodies.
 * An interval with nothing to report (no request, no refusal, no upstream activity,
 * empty queues) prints nothing, so an idle gateway does not fill its log.
 *
 * Cost on the request path (basic/normal): a few counter additions on bound handles and
 * map lookups per service name; no decoding, no allocation per request beyond the
 * first sight of a name.
 */
import type { BackendStats } from '../../export/backend.js';
import { warnOnce } from '../../internal/warn.js';
import type { MeterProvider } from '../../metrics/meter-provider.js';
import { GatewayConfigError } from '../config/config-error.js';
import type { GatewayObserver, GatewayView, MetricsPage, ObserverOptions, RefusedEvent, RequestEvent, UpstreamView } from './events.js';
import type { Verbosity } from '../config/gateway-config.js';
import { LatencyDelta } from './latency.js';
import { createGatewayMeterProvider, createGatewayMetrics, type GatewayMetrics, type GatewayMetricsOptions } from './gateway-metrics.js';
import { Tally } from './tally.js';
import { formatRequest } from './print-detailed.js';
import { formatBasicSummary, formatNormalSummary, type SummaryInput, type UpstreamInterval } from './print-summary.js';
import { formatReload, formatRetired } from './print-reload.js';
import { createPrometheusPage, type PrometheusPage } from './prometheus-page.js';

/** `createObserver` options: the gateway's `ObserverOptions` plus tuning the CLI need not set. */
export interface CreateObserverOptions extends ObserverOptions {
  /**
   * Rows of the tenant and service tables in the `normal` summary (the rest are summed
   * in `(other)`). Default 10: a glance, not a report.
   */
  readonly topRows?: number;
  /**
   * Distinct service names (and tenants) counted per summary interval; names beyond it
   * in one interval go to `(other)`. Default 1000: bounds memory against a flood of
   * names while keeping the top rows exact for any realistic fleet.
   */
  readonly maxNamesPerInterval?: number;
  /** Bounds of the self-metrics' client-supplied attributes; see `GatewayMetricsOptions`. */
  readonly metrics?: GatewayMetricsOptions;
  /** Serve `GET /metrics` (Prometheus text). Default true. */
  readonly prometheus?: boolean;
  /** Wall clock in ms, for summaries' timestamps and rates. Default `Date.now`; tests inject one. */
  readonly now?: () => number;
}

/** The observer, with a way to print the summary on demand. */
export interface Observer extends GatewayObserver {
  /** Prints the summary of the interval so far (if anything happened) and starts a new one. */
  printSummary(): void;
  onRequest(event: RequestEvent): void;
  onRefused(event: RefusedEvent): void;
  metricsPage(): Promise<MetricsPage | undefined>;
  close(): Promise<void>;
}

interface ValidObserverOptions {
  readonly verbosity: Verbosity;
  readonly intervalMillis: number;
  readonly out: { write(chunk: string): unknown };
  readonly meterProvider: MeterProvider | undefined;
  readonly topRows: number;
  readonly maxNamesPerInterval: number;
  readonly metrics: GatewayMetricsOptions;
  readonly prometheus: boolean;
  readonly now: () => number;
}

const VERBOSITIES: readonly Verbosity[] = ['basic', 'normal', 'detailed'];

/** Validates observer options into a frozen, fully-populated shape; throws `GatewayConfigError`. */
export function validateObserverOptions(options: CreateObserverOptions = {}): ValidObserverOptions {
  const verbosity = options.verbosity ?? 'normal';
  if (!VERBOSITIES.includes(verbosity)) {
    throw new GatewayConfigError('verbosity', `expected one of ${VERBOSITIES.join(', ')}, got ${JSON.stringify(verbosity)}`);
  }
  const intervalMillis = options.intervalMillis ?? 10_000;
  // 0 turns the periodic summary off; below 100 ms a summary is noise, not a summary.
  if (
    typeof intervalMillis !== 'number' ||
    !Number.isFinite(intervalMillis) ||
    (intervalMillis !== 0 && intervalMillis < 100) ||
    intervalMillis > 2 ** 31 - 1
  ) {
    throw new GatewayConfigError('intervalMillis', `expected 0 (off) or a number of ms from 100 to 2147483647, got ${String(intervalMillis)}`);
  }
  const out = options.out ?? process.stdout;
  if (typeof out !== 'object' || out === null || typeof out.write !== 'function') {
    throw new GatewayConfigError('out', 'expected a writable (an object with write(chunk))');
  }
  const topRows = options.topRows ?? 10;
  if (!Number.isInteger(topRows) || topRows < 1) throw new GatewayConfigError('topRows', `expected an integer ≥ 1, got ${String(topRows)}`);
  const maxNames = options.maxNamesPerInterval ?? 1000;
  if (!Number.isInteger(maxNames) || maxNames < 1) {
    throw new GatewayConfigError('maxNamesPerInterval', `expected an integer ≥ 1, got ${String(maxNames)}`);
  }
  return Object.freeze({
    verbosity,
    intervalMillis,
    out,
    meterProvider: options.meterProvider,
    topRows,
    maxNamesPerInterval: maxNames,
    metrics: Object.freeze({ ...options.metrics }),
    prometheus: options.prometheus ?? true,
    now: options.now ?? Date.now,
  });
}

interface UpstreamTracker {
  readonly view: UpstreamView;
  readonly latency: LatencyDelta;
  prev: BackendStats;
}

/** `s` as a starting point: nothing counted yet (an upstream that appears after attach started at zero). */
function counted(s: BackendStats): BackendStats {
  return { ...s, itemsSent: 0, itemsRejected: 0, itemsFailed: 0, itemsDropped: 0, requestsSent: 0, requestsFailed: 0, retries: 0 };
}

/** Creates the gateway's observer; throws `GatewayConfigError` for invalid options. */
export function createObserver(options: CreateObserverOptions = {}): Observer {
  const o = validateObserverOptions(options);
  const ownProvider = o.meterProvider === undefined;
  const provider = o.meterProvider ?? createGatewayMeterProvider();
  // The page registers its consumer before the instruments record anything, so /metrics totals start at zero with them.
  const page: PrometheusPage | undefined = o.prometheus ? createPrometheusPage(provider) : undefined;
  const metrics: GatewayMetrics = createGatewayMetrics(provider, o.metrics);
  const tally = new Tally({ maxServiceNames: o.maxNamesPerInterval, maxTenants: o.maxNamesPerInterval });
  const detailed = o.verbosity === 'detailed';
  const started = o.now();
  let intervalStart = started;
  let view: GatewayView | undefined;
  let trackers: UpstreamTracker[] = [];
  let closed = false;

  function write(text: string): void {
    try {
      o.out.write(text);
    } catch {
      // A closed or broken stdout must not break the gateway.
    }
  }

  /** Follows the view's upstreams after a reload: a new or rebuilt upstream is counted from its start. */
  function syncTrackers(): void {
    if (view === undefined) return;
    const ups = view.upstreams;
    if (ups.length === trackers.length && ups.every((u, i) => trackers[i]!.view === u)) return;
    const known = new Map(trackers.map((t) => [t.view, t]));
    trackers = ups.map((u) => known.get(u) ?? { view: u, latency: new LatencyDelta(u.latency), prev: counted(u.stats()) });
  }

  function upstreamIntervals(): UpstreamInterval[] {
    syncTrackers();
    return trackers.map((t) => {
      const s = t.view.stats();
      const p = t.prev;
      t.prev = s;
      const h = t.latency.next();
      return {
        name: t.view.name,
        protocol: t.view.protocol,
        endpoint: t.view.endpoint,
        stats: s,
        itemsSent: s.itemsSent - p.itemsSent,
        itemsRejected: s.itemsRejected - p.itemsRejected,
        itemsFailed: s.itemsFailed - p.itemsFailed,
        itemsDropped: s.itemsDropped - p.itemsDropped,
        retries: s.retries - p.retries,
        calls: h.count,
        p50Ms: h.quantile(0.5),
        p99Ms: h.quantile(0.99),
      };
    });
  }

  function printSummary(): void {
    const now = o.now();
    const ups = upstreamIntervals();
    const queued = view?.queuedBytes();
    const active =
      tally.intervalRequests() > 0 ||
      tally.intervalRefusals() > 0 ||
      tally.intervalDropped() > 0 ||
      (queued ?? 0) > 0 ||
      ups.some((u) => u.calls > 0 || u.itemsSent + u.itemsRejected + u.itemsFailed + u.itemsDropped > 0 || u.stats.queueBytes > 0);
    if (active) {
      const input: SummaryInput = {
        atMs: now,
        intervalMs: Math.max(0, now - intervalStart),
        uptimeMs: Math.max(0, now - started),
        tally,
        upstreams: ups,
        queuedBytes: queued,
        maxQueuedBytes: view?.maxQueuedBytes,
        draining: view?.draining() ?? false,
        topServices: o.topRows,
      };
      write(o.verbosity === 'basic' ? formatBasicSummary(input) : formatNormalSummary(input));
    }
    tally.nextInterval();
    intervalStart = now;
  }

  // A throw from a timer would be an uncaught exception: the summary is not worth the gateway.
  const tick = (): void => {
    try {
      printSummary();
    } catch (e) {
      warnOnce('gateway-summary', `gateway summary failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const timer = o.intervalMillis > 0 ? setInterval(tick, o.intervalMillis) : undefined;
  timer?.unref();

  return {
    attach(v) {
      view = v;
      trackers = v.upstreams.map((u) => ({ view: u, latency: new LatencyDelta(u.latency), prev: u.stats() }));
      metrics.attach(v);
      // No startup line here: the CLI prints the parseable "listening" line and its hints.
    },
    onRequest(e) {
      tally.request(e.signal, e.tenant, e.serviceNames, e.items, e.bytes, e.unrouted);
      metrics.request(e);
      if (detailed) write(formatRequest(e.decode(), { protocol: e.protocol, tenant: e.tenant, items: e.items, bytes: e.bytes }));
    },
    onRefused(e) {
      tally.refused(e.reason);
      metrics.refused(e);
      if (detailed) {
        const where = [e.signal, e.protocol, e.tenant === undefined ? undefined : `tenant ${JSON.stringify(e.tenant)}`]
          .filter((x) => x !== undefined)
          .join(', ');
        write(`refused ${e.reason} (status ${e.status}${where === '' ? '' : `, ${where}`}): ${e.message}\n`);
      }
    },
    onForwarded(e) {
      metrics.forwarded(e);
    },
    onProcessed(e) {
      tally.processed(e);
      metrics.processed(e);
    },
    onReload(r) {
      metrics.reload(r);
      syncTrackers();
      write(formatReload(r, o.verbosity, o.now()));
    },
    onRetired(e) {
      const line = formatRetired(e, o.now());
      if (line !== '') write(line);
    },
    // Drain and stop lines, and the undelivered report, are the CLI's (src/cli.ts); the
    // observer adds the summary of the last, partial interval.
    onStop() {
      printSummary();
    },
    async metricsPage() {
      return page === undefined ? undefined : page.page();
    },
    printSummary,
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      page?.close();
      if (ownProvider) await provider.shutdown();
    },
  };
}
