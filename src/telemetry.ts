/**
 * `createTelemetry()`: one recording (a MeterProvider and a LoggerProvider), many
 * backends. Metrics are collected once per distinct temporality preference at each
 * interval, encoded once, and the same bytes are queued for every backend that wants
 * them; logs are batched once and fanned out the same way. Each backend (per signal) has
 * its own bounded queue, retries and concurrency, so one that is slow or down delays no
 * other and never blocks the application.
 *
 * With storage (`storage`, OTEL_FANOUT_STORAGE_*), the queues of `otlp` backends are one durable log
 * on disk, each backend × signal reading it through its own cursor (export/durable-queue.ts). The
 * log's modules load, and the log opens, only then, after createTelemetry() returned: each such lane
 * starts as a handover backend (export/handover-backend.ts) that keeps what is recorded meanwhile.
 */
import { resolveConfig, type ResolvedBackend, type ResolvedConfig, type ResolvedPrometheusBackend } from './config/validate.js';
import type { EnvRecord } from './config/env.js';
import type { ExportSignal, TelemetryOptions, Temporality } from './config/options.js';
import { STORAGE_OFF } from './config/env.js';
import { createBackend, type Backend, type BackendOptions, type BackendStats } from './export/backend.js';
import { createConsoleTransport } from './export/console.js';
import type { DurableLog, ResolvedDurableLogOptions } from './export/durable/log.js';
import { fanOut } from './export/fanout.js';
import { createHandoverBackend, type HandoverBackend } from './export/handover-backend.js';
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
  /**
   * With storage: what stays on disk for the next start (not lost), per backend and signal: the
   * records of the log its cursor had not passed (some may hold only other backends' data) and
   * their bytes. Empty without storage.
   */
  readonly kept: ReadonlyArray<{
    readonly backend: string;
    readonly signal: ExportSignal;
    readonly records: number;
    readonly bytes: number;
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
  /**
   * The page URL of a Prometheus backend (kind 'prometheus') once it listens (the real port when
   * `port: 0`); undefined for no such backend, or one that could not listen (warned about).
   */
  prometheusEndpoint(name: string): Promise<string | undefined>;
}

interface Lane {
  readonly backend: Backend;
  readonly name: string;
  readonly signal: ExportSignal;
  readonly temporality: Temporality;
  readonly maxPointsPerRequest: number;
  readonly maxRequestBytes: number;
}

/** A lane whose queue is the durable log once it is open. */
interface StorageLane {
  readonly handover: HandoverBackend;
  /** The memory backend's options, also the durable backend's (named by its cursor instead). */
  readonly options: BackendOptions;
  /** Its cursor and the name its records carry: `<backend>/<signal>`. */
  readonly cursor: string;
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
  const storageLanes: StorageLane[] = [];
  for (const b of config.backends) for (const lane of buildLanes(b, memories, config.storage, storageLanes)) lanes.push(lane);
  // Opened only when an otlp backend uses it: a directory with no backend to read it is left alone.
  const storage = config.storage !== undefined && storageLanes.length > 0 ? openStorage(config.storage, storageLanes) : undefined;

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

  // Prometheus pull backends: a cumulative consumer each, collected when scraped, so no timer.
  const pulls = new Map<string, Promise<PullEndpoint | undefined>>();
  for (const b of config.backends) {
    if (b.kind !== 'prometheus') continue;
    const consumer = meterProvider.registerConsumer({ temporality: 'cumulative' });
    pulls.set(b.name, startPull(b, consumer, config.exportTimeoutMillis));
  }

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
        await Promise.all([...pulls.values()].map(async (p) => (await p)?.close()));
        await collect();
        runtime?.stop();
        await loggerProvider.shutdown();
        const reports = await Promise.all(lanes.map((l) => l.backend.shutdown(config.exportTimeoutMillis)));
        // After every durable backend stopped reading: cursors written and synced, the rest kept for the next start.
        await (await storage)?.close();
        await meterProvider.shutdown();
        return {
          undelivered: reports
            .map((r, i) => ({ backend: lanes[i]!.name, signal: lanes[i]!.signal, requests: r.undeliveredRequests, items: r.undeliveredItems }))
            .filter((r) => r.requests > 0),
          kept: reports
            .map((r, i) => ({ backend: lanes[i]!.name, signal: lanes[i]!.signal, records: r.keptRequests ?? 0, bytes: r.keptBytes ?? 0 }))
            .filter((r) => r.records > 0),
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
    async prometheusEndpoint(name) {
      return (await pulls.get(name))?.url;
    },
  };
  return telemetry;
}

interface PullEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Loads the pull module (not at import: it brings node:http and the decoder) and listens. Never
 * rejects: a port in use or a host that does not resolve is one warning, and the backend serves nothing.
 */
async function startPull(b: ResolvedPrometheusBackend, consumer: MetricConsumer, timeoutMillis: number): Promise<PullEndpoint | undefined> {
  try {
    const { servePull } = await import('./export/prometheus-pull.js');
    return await servePull(consumer, { host: b.host, port: b.port, path: b.path, timeoutMillis });
  } catch (err) {
    consumer.unregister();
    warnOnce(
      `prometheus-listen:${b.name}`,
      `backend "${b.name}": cannot listen on ${b.host}:${b.port} (${err instanceof Error ? err.message : String(err)}); it serves nothing`,
    );
    return undefined;
  }
}

/**
 * Opens the durable log for `lanes` and hands each its durable backend; if it cannot be opened
 * (another live process has it, permissions), one warning and each gets the memory backend it would
 * have had without storage. Resolves with the log to close at shutdown. Never rejects.
 */
async function openStorage(options: ResolvedDurableLogOptions, lanes: readonly StorageLane[]): Promise<DurableLog | undefined> {
  const give = (lane: StorageLane, backend: Backend): void => {
    // Shut down before the log opened (its report counted what waited): nobody reads this one.
    if (!lane.handover.handOver(backend)) void backend.shutdown(0);
  };
  let log: DurableLog | undefined;
  try {
    // Loaded here, not at import: without storage, the log's modules never load.
    const [{ openDurableLog }, { createDurableQueue }] = await Promise.all([import('./export/durable/log.js'), import('./export/durable-queue.js')]);
    log = await openDurableLog(options);
    const queue = createDurableQueue(log);
    const names = lanes.map((l) => l.cursor);
    // Backends removed from the configuration while they had data: dropped by that rule, said once.
    // (A cursor's backlog counts the log's records it had not passed, other backends' included.)
    const forgotten = (await queue.forget(new Set(names))).filter((f) => f.records > 0);
    if (forgotten.length > 0) {
      const what = forgotten.map((f) => `${f.name}: ${f.records} record${f.records === 1 ? '' : 's'}`).join(', ');
      warnOnce('storage-forgotten', `storage ${options.directory}: backends no longer configured; dropped what they had not delivered (${what})`);
    }
    await queue.open(names);
    const backends = lanes.map((l) => queue.backend({ ...l.options, name: l.cursor }));
    lanes.forEach((l, i) => give(l, backends[i]!));
    return log;
  } catch (err) {
    await log?.close().catch(() => undefined);
    warnOnce('storage-open', `storage ${options.directory} cannot be used (${err instanceof Error ? err.message : String(err)}); ${STORAGE_OFF}`);
    for (const l of lanes) give(l, createBackend(l.options));
    return undefined;
  }
}

/** Room for a queue record's header (durable/queue-record.ts) within the log's largest record. */
const QUEUE_RECORD_OVERHEAD = 1024;

function buildLanes(
  b: ResolvedBackend,
  memories: Map<string, MemoryStore>,
  storage: ResolvedDurableLogOptions | undefined,
  storageLanes: StorageLane[],
): Lane[] {
  const out: Lane[] = [];
  // Served when scraped (createTelemetry), never queued.
  if (b.kind === 'prometheus') return out;
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
      // A request must fit one record of the log: collections are split to that size, not dropped.
      maxRequestBytes = storage === undefined ? b.maxRequestBytes : Math.min(b.maxRequestBytes, storage.maxRecordBytes - QUEUE_RECORD_OVERHEAD);
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
    const options: BackendOptions = {
      name: b.name,
      transport,
      signals: new Set([signal]),
      ...(queue === undefined ? {} : { queue }),
      ...(retry === undefined ? {} : { retry }),
      ...(timeoutMillis === undefined ? {} : { timeoutMillis }),
    };
    let backend: Backend;
    if (storage !== undefined && b.kind === 'otlp') {
      const handover = createHandoverBackend({ name: b.name, encoding: transport.encoding, signals: options.signals!, queue: b.queue });
      storageLanes.push({ handover, options, cursor: `${b.name}/${signal}` });
      backend = handover;
    } else backend = createBackend(options);
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
