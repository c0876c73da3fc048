/**
 * `createTelemetry()`: one recording (a MeterProvider and a LoggerProvider), many
 * backends. Metrics are collected once per distinct temporality preference at each
 * interval, encoded once, and the same bytes are queued for every backend that wants
 * them; logs are batched once and fanned out the same way. Each backend (per signal) has
 * its own bounded queue, retries and concurrency, so one that is slow or down delays no
 * other and never blocks the application.
 */
import { resolveConfig, type ResolvedBackend, type ResolvedConfig } from './config/validate.js';
import type { EnvRecord } from './config/env.js';
import type { ExportSignal, TelemetryOptions, Temporality } from './config/options.js';
import { createBackend, type Backend, type BackendStats } from './export/backend.js';
import { createConsoleTransport } from './export/console.js';
import { fanOut } from './export/fanout.js';
import { createMemoryTransport, type MemoryStore } from './export/memory.js';
import { createTargetTransport } from './export/transport-factory.js';
import type { RetryPolicy } from './export/retry.js';
import { createLoggerProvider, type LoggerProvider } from './logs/logger-provider.js';
import { createMeterProvider, type MeterProvider, type MetricConsumer } from './metrics/meter-provider.js';
import { registerRuntimeMetrics } from './metrics/runtime/runtime-metrics.js';
import { scanRequest } from './otlp/scan.js';
import type { Clock } from './internal/clock.js';
import { warnOnce } from './internal/warn.js';
import { DEFAULT_MAX_REQUEST_BYTES } from './transport/options.js';
import type { Transport } from './transport/types.js';

/** Options of {@link createTelemetry}: the configuration options plus a few for tests and embedding. */
export interface CreateTelemetryOptions extends TelemetryOptions {
  /**
   * Export the SDK's own backend counters (`otlp_fanout.exporter.*`, see README) with the application's metrics.
   * Default true: a backend that silently drops data is the failure users most need to see.
   */
  readonly selfMetrics?: boolean;
  /** Environment to read `OTEL_*` from. Default `process.env`. */
  readonly env?: EnvRecord;
  /** Time source for the metrics and logs; tests inject a manual clock. Default: the system clock. */
  readonly clock?: Clock;
}

/** What `shutdown()` could not deliver, per backend and signal. */
export interface ShutdownReport {
  readonly undelivered: ReadonlyArray<{
    readonly backend: string;
    readonly signal: ExportSignal;
    readonly requests: number;
    readonly items: number;
  }>;
}

/** Per-backend, per-signal counters. */
export interface TelemetryBackendStats extends BackendStats {
  readonly signal: ExportSignal;
}

export interface Telemetry {
  readonly meterProvider: MeterProvider;
  readonly loggerProvider: LoggerProvider;
  /** The resolved configuration (frozen), for diagnostics. */
  readonly config: ResolvedConfig;
  /** Collects metrics now, exports pending logs, and waits (up to the export timeout) for every backend to deliver. */
  forceFlush(): Promise<void>;
  /** Flushes within the export timeout, stops all timers and connections, and reports what was not delivered. Idempotent. */
  shutdown(): Promise<ShutdownReport>;
  /** Counters of every backend and signal. */
  stats(): TelemetryBackendStats[];
  /** What an in-memory backend (kind 'memory') has received, by backend name. */
  memory(name: string): MemoryStore | undefined;
}

interface Lane {
  readonly backend: Backend;
  readonly name: string;
  readonly signal: ExportSignal;
  readonly temporality: Temporality;
  readonly maxPointsPerRequest: number;
  readonly maxRequestBytes: number;
}

interface MetricGroup {
  readonly consumer: MetricConsumer;
  readonly lanes: Lane[];
  maxPointsPerRequest: number;
  maxRequestBytes: number;
}

export function createTelemetry(options: CreateTelemetryOptions = {}): Telemetry {
  const config = resolveConfig(options, options.env ?? process.env);
  const clock = options.clock;
  const meterProvider = createMeterProvider({
    resource: config.resource,
    attributes: config.attributes,
    cardinalityLimit: config.metrics.cardinalityLimit,
    defaultHistogramAggregation: config.metrics.defaultHistogramAggregation,
    views: config.metrics.views,
    ...(clock === undefined ? {} : { clock }),
  });
  const loggerProvider = createLoggerProvider({
    resource: config.resource,
    attributes: config.attributes,
    limits: config.logs.limits,
    batch: config.logs.batch,
    ...(clock === undefined ? {} : { clock }),
  });

  const runtime = config.runtimeMetrics && !config.disabled ? registerRuntimeMetrics(meterProvider) : undefined;

  const memories = new Map<string, MemoryStore>();
  const lanes: Lane[] = [];
  for (const b of config.backends) for (const lane of buildLanes(b, memories)) lanes.push(lane);

  // One consumer per distinct temporality: backends that agree share one collection and its bytes.
  const groups = new Map<Temporality, MetricGroup>();
  for (const lane of lanes) {
    if (lane.signal !== 'metrics') continue;
    let g = groups.get(lane.temporality);
    if (g === undefined) {
      g = {
        consumer: meterProvider.registerConsumer({ temporality: lane.temporality }),
        lanes: [],
        maxPointsPerRequest: lane.maxPointsPerRequest,
        maxRequestBytes: lane.maxRequestBytes,
      };
      groups.set(lane.temporality, g);
    }
    g.lanes.push(lane);
    g.maxPointsPerRequest = Math.min(g.maxPointsPerRequest, lane.maxPointsPerRequest);
    g.maxRequestBytes = Math.min(g.maxRequestBytes, lane.maxRequestBytes);
  }

  const logBackends = lanes.filter((l) => l.signal === 'logs').map((l) => l.backend);
  if (logBackends.length > 0) {
    loggerProvider.setSink({
      export(body, recordCount) {
        fanOut(logBackends, 'logs', body, recordCount);
      },
    });
  }

  if (options.selfMetrics !== false && groups.size > 0) registerSelfMetrics(meterProvider, lanes);

  let collecting: Promise<void> | undefined;
  async function collectOnce(): Promise<void> {
    const signal = AbortSignal.timeout(config.exportTimeoutMillis);
    await Promise.all(
      [...groups.values()].map(async (g) => {
        try {
          const bodies = await g.consumer.collect({
            maxPointsPerRequest: g.maxPointsPerRequest,
            maxRequestBytes: g.maxRequestBytes,
            signal,
          });
          const backends = g.lanes.map((l) => l.backend);
          for (const body of bodies) fanOut(backends, 'metrics', body, scanRequest('metrics', body).items);
        } catch (err) {
          warnOnce(`collect-failed`, `metrics collection failed: ${String(err)}`);
        }
      }),
    );
  }
  /** Runs a collection unless one is already running, in which case it waits for that one. */
  function collect(): Promise<void> {
    collecting ??= collectOnce().finally(() => {
      collecting = undefined;
    });
    return collecting;
  }

  const timer =
    groups.size > 0
      ? setInterval(() => {
          if (collecting !== undefined) {
            warnOnce('collect-overlap', 'a metrics collection took longer than the export interval; skipping a tick');
            return;
          }
          void collect();
        }, config.exportIntervalMillis)
      : undefined;
  timer?.unref();

  let shutdownPromise: Promise<ShutdownReport> | undefined;
  const telemetry: Telemetry = {
    meterProvider,
    loggerProvider,
    config,
    async forceFlush() {
      await collect();
      await loggerProvider.forceFlush();
      await Promise.all(lanes.map((l) => l.backend.flush(config.exportTimeoutMillis)));
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        if (timer !== undefined) clearInterval(timer);
        await collect();
        runtime?.stop();
        await loggerProvider.shutdown();
        const reports = await Promise.all(lanes.map((l) => l.backend.shutdown(config.exportTimeoutMillis)));
        await meterProvider.shutdown();
        return {
          undelivered: reports
            .map((r, i) => ({ backend: lanes[i]!.name, signal: lanes[i]!.signal, requests: r.undeliveredRequests, items: r.undeliveredItems }))
            .filter((r) => r.requests > 0),
        };
      })();
      return shutdownPromise;
    },
    stats() {
      return lanes.map((l) => ({ ...l.backend.stats(), name: l.name, signal: l.signal }));
    },
    memory(name) {
      return memories.get(name);
    },
  };
  return telemetry;
}

function buildLanes(b: ResolvedBackend, memories: Map<string, MemoryStore>): Lane[] {
  const out: Lane[] = [];
  let memory: (Transport & MemoryStore) | undefined;
  for (const signal of b.signals) {
    let transport: Transport;
    let maxPointsPerRequest = Number.POSITIVE_INFINITY;
    let maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    let queue: { maxBytes: number; maxRequests: number } | undefined;
    let retry: Partial<RetryPolicy> | undefined;
    let timeoutMillis: number | undefined;
    if (b.kind === 'otlp') {
      const target = b[signal];
      if (target === undefined) continue;
      transport = createTargetTransport(signal, target, b.maxRequestBytes);
      maxPointsPerRequest = b.maxPointsPerRequest;
      maxRequestBytes = b.maxRequestBytes;
      queue = b.queue;
      timeoutMillis = target.timeoutMillis;
      retry = b.retry.enabled ? b.retry : { maxElapsedMillis: 0 };
    } else if (b.kind === 'memory') {
      memory ??= createMemoryTransport();
      memories.set(b.name, memory);
      transport = memory;
    } else {
      transport = createConsoleTransport();
    }
    const backend = createBackend({
      name: b.name,
      transport,
      signals: new Set([signal]),
      ...(queue === undefined ? {} : { queue }),
      ...(retry === undefined ? {} : { retry }),
      ...(timeoutMillis === undefined ? {} : { timeoutMillis }),
    });
    out.push({ backend, name: b.name, signal, temporality: b.temporality, maxPointsPerRequest, maxRequestBytes });
  }
  return out;
}

/** The SDK's own delivery counters as observable instruments (names documented in README). */
function registerSelfMetrics(provider: MeterProvider, lanes: readonly Lane[]): void {
  const meter = provider.getMeter('otlp-fanout');
  // One declaration per instrument: alike by design.
  const items = meter.createObservableCounter('otlp_fanout.exporter.items', {
    description: 'Items (data points, log records) handled by a backend, by outcome',
    unit: '{item}',
  });
  const retries = meter.createObservableCounter('otlp_fanout.exporter.retries', {
    description: 'Export attempts that were retried',
    unit: '{attempt}',
  });
  const queueBytes = meter.createObservableUpDownCounter('otlp_fanout.exporter.queue.size', {
    description: 'Bytes of encoded requests waiting in a backend queue',
    unit: 'By',
  });
  const latency = meter.createObservableGauge('otlp_fanout.exporter.latency.p99', {
    description: '99th percentile of export call latency since start',
    unit: 'ms',
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const l of lanes) {
        const s = l.backend.stats();
        const base = { 'otlp_fanout.backend': l.name, 'otlp_fanout.signal': l.signal };
        result.observe(items, s.itemsSent, { ...base, outcome: 'sent' });
        result.observe(items, s.itemsRejected, { ...base, outcome: 'rejected' });
        result.observe(items, s.itemsFailed, { ...base, outcome: 'failed' });
        result.observe(items, s.itemsDropped, { ...base, outcome: 'dropped' });
        result.observe(retries, s.retries, base);
        result.observe(queueBytes, s.queueBytes, base);
        result.observe(latency, s.latencyP99Ms, base);
      }
    },
    [items, retries, queueBytes, latency],
  );
}
