/**
 * The gateway's composition root: receivers (gRPC, HTTP) → the forwarding pipeline
 * (authentication → routing → one backend per upstream), plus self-telemetry and graceful
 * shutdown. `startGateway` is the programmatic entry point; the CLI (src/cli.ts) adds flags,
 * the config file, signals and console output around it.
 *
 * Ownership: the upstream registry owns every upstream (forwarding and self-telemetry) and
 * this root shuts them down; the pipeline (pipeline.ts) is rebuilt whole from a config and
 * read by the receivers through `holder.current`; the drain state is the gateway's. The
 * rooms: config/ (load and validate), receive/ (the receiver contract and its two
 * implementations), route/ (the router), forward/ (ingest, bodies, upstreams), observe/
 * (the observer contract and the observer). Only this file and pipeline.ts import them all.
 */
import type { GatewayConfig } from './config/gateway-config.js';
import type { UpstreamConfig } from './config/upstreams.js';
import { formatAddress } from './config/values.js';
import type { Upstream } from './forward/upstream.js';
import { createUpstreamRegistry } from './forward/upstream-registry.js';
import type { GatewayObserver, GatewayView, ListenAddresses, ShutdownReport, UpstreamShutdownReport } from './observe/events.js';
import { noopObserver } from './observe/events.js';
import { guardObserver } from './observe/guard.js';
import { startSelfTelemetry } from './observe/self-telemetry.js';
import type { SelfTelemetry } from './observe/self-telemetry.js';
import { buildPipeline } from './pipeline.js';
import type { PipelineHolder } from './pipeline.js';
import { startHttpReceiver } from './receive/http-receiver.js';
import type { ReceiverHandle } from './receive/receiver.js';
import type { MeterProvider } from '../metrics/meter-provider.js';
import { createDurableQueue } from '../export/durable-queue.js';
import type { DurableQueue } from '../export/durable-queue.js';
import { openDurableLog } from '../export/durable/log.js';
import type { DurableLogStats } from '../export/durable/log.js';
import type { Transport } from '../transport/types.js';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** Receives request, refusal and lifecycle events. Default: none (a no-op observer). */
  readonly observer?: GatewayObserver;
  /**
   * The provider of the gateway's own metrics, exported to `selfTelemetry.upstreams`.
   * Default: none (self-telemetry upstreams then stay idle).
   */
  readonly meterProvider?: MeterProvider;
  /** For tests: a transport to use instead of the configured one (return undefined to keep it). */
  readonly transportFor?: (upstream: UpstreamConfig) => Transport | undefined;
}

/** A running gateway. */
export interface Gateway {
  readonly addresses: ListenAddresses;
  /** Forwarding upstreams: shared first, then tenants' own. */
  readonly upstreams: readonly Upstream[];
  /** Bytes queued across the forwarding upstreams. */
  queuedBytes(): number;
  /** The durable queue, when storage is on: what it held at start and its counters now. */
  readonly storage: StorageView | undefined;
  /**
   * Stops accepting (503 / UNAVAILABLE; /healthz answers 503), lets the upstreams deliver
   * for at most `deadlineMillis` (default: the config's drainTimeout), then closes
   * everything and reports what could not be delivered. Idempotent.
   */
  shutdown(deadlineMillis?: number): Promise<ShutdownReport>;
  /**
   * Cuts a drain short (or stops at once without one): every upstream aborts what it has in
   * flight and drops its queue, and the report says what each abandoned, queued and in flight.
   * The receivers are left open for the caller's exit; for a second stop signal.
   */
  abandon(): Promise<ShutdownReport>;
}

/** Durable storage as the gateway opened it. */
export interface StorageView {
  readonly directory: string;
  /** The log's counters when it was opened (recovery: torn tails, corrupt records, the backlog). */
  readonly atStart: DurableLogStats;
  /** Cursors of upstreams no longer configured, deleted at start with their backlog (dropped). */
  readonly forgotten: readonly { readonly name: string; readonly records: number; readonly bytes: number }[];
  stats(): DurableLogStats;
}

/** Creates the upstreams, starts the receivers and returns once both are listening. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const observer = guardObserver(options.observer ?? noopObserver);
  // Module loads overlap: connect's router for the gRPC receiver while the upstreams' transports load.
  const grpcModule = config.grpc === null ? undefined : import('./receive/grpc-receiver.js');
  // Observed here too, so a failed load cannot go unhandled if the transports fail first; awaited below.
  grpcModule?.catch(() => undefined);
  const forwardingConfigs = [...config.upstreams, ...config.tenants.flatMap((t) => t.upstreams)];
  let storage: DurableQueue | undefined;
  let storageView: StorageView | undefined;
  if (config.storage !== null) {
    // Opening recovers (torn tails, damaged records: skipped and counted); only an unusable or
    // locked directory throws, and the gateway then cannot start.
    const log = await openDurableLog(config.storage);
    storage = createDurableQueue(log);
    const atStart = log.stats();
    // Upstreams removed from the configuration while they had data: dropped by that rule, reported.
    const forgotten = await storage.forget(new Set(forwardingConfigs.map((c) => c.name)));
    storageView = Object.freeze({ directory: config.storage.directory, atStart, forgotten: Object.freeze(forgotten), stats: () => log.stats() });
  }
  const registry = createUpstreamRegistry({ transportFor: options.transportFor, storage });
  // Every transport in one go (self-telemetry's too), so the two modules load side by side; the
  // pipeline opens the forwarding upstreams' durable cursors.
  await registry.prepare([...forwardingConfigs, ...config.selfTelemetry.upstreams], true);
  const drain = { draining: false };
  const holder: PipelineHolder = { current: await buildPipeline(config, { registry, observer, drain, storage }) };
  const selfUpstreams = config.selfTelemetry.upstreams.map((c) => registry.acquire(c, true));
  const common = { maxRequestBytes: config.limits.maxRequestBytes, pipeline: holder, observer };

  let grpc: ReceiverHandle | undefined;
  let http: ReceiverHandle | undefined;
  // For the gRPC receiver's answer to OTLP/HTTP sent to its port; set once the HTTP receiver is bound.
  let httpUrl: string | undefined;
  try {
    // Loaded only when gRPC is on: connect and its HTTP/2 router are most of an HTTP-only gateway's start-up.
    if (config.grpc !== null && grpcModule !== undefined)
      grpc = await (await grpcModule).startGrpcReceiver({ ...common, config: config.grpc, httpUrl: () => httpUrl });
    if (config.http !== null) {
      http = await startHttpReceiver({ ...common, config: config.http });
      httpUrl = `${config.http.tls === null ? 'http' : 'https'}://${formatAddress(http.host, http.port)}`;
    }
  } catch (e) {
    await grpc?.close();
    await Promise.all(registry.held().map((u) => u.backend.shutdown(0)));
    await storage?.log.close();
    throw e;
  }

  const addresses: ListenAddresses = Object.freeze({
    grpc: grpc === undefined ? undefined : formatAddress(grpc.host, grpc.port),
    http: http === undefined ? undefined : formatAddress(http.host, http.port),
  });
  const selfTelemetry: SelfTelemetry =
    options.meterProvider === undefined
      ? { stop: () => Promise.resolve() }
      : startSelfTelemetry(options.meterProvider, selfUpstreams, config.selfTelemetry.intervalMillis);
  const view: GatewayView = {
    addresses,
    get upstreams() {
      return holder.current.upstreams;
    },
    queuedBytes: () => holder.current.ingest.queuedBytes(),
    get maxQueuedBytes() {
      return holder.current.config.limits.maxQueuedBytes;
    },
    draining: () => drain.draining,
    storage: storageView,
  };
  observer.attach?.(view);

  let stopping: Promise<ShutdownReport> | undefined;
  let drainStarted: number | undefined;
  async function shutdown(deadlineMillis: number): Promise<ShutdownReport> {
    const started = (drainStarted = performance.now());
    drain.draining = true;
    observer.onDrain?.(deadlineMillis);
    // The last self-metrics go out with everything else.
    await selfTelemetry.stop();
    const remaining = Math.max(0, deadlineMillis - (performance.now() - started));
    // Every upstream the registry holds: forwarding (shared, tenants' own), then self-telemetry's.
    const reports: UpstreamShutdownReport[] = await Promise.all(registry.held().map((u) => u.backend.shutdown(remaining)));
    // After every reader stopped: the cursors are written and synced, what is left stays for the next start.
    await storage?.log.close();
    await Promise.all([grpc?.close(), http?.close()]);
    const report: ShutdownReport = Object.freeze({
      drained: reports.every((r) => r.undeliveredRequests === 0),
      elapsedMs: Math.round(performance.now() - started),
      upstreams: Object.freeze(reports),
    });
    observer.onStop?.(report);
    await observer.close?.();
    return report;
  }

  return {
    addresses,
    get upstreams() {
      return holder.current.upstreams;
    },
    queuedBytes: () => holder.current.ingest.queuedBytes(),
    storage: storageView,
    shutdown(deadlineMillis = config.drainTimeoutMillis) {
      stopping ??= shutdown(deadlineMillis);
      return stopping;
    },
    async abandon() {
      // Counted from the start of the drain it cuts short, as the shutdown report would be.
      const started = drainStarted ?? performance.now();
      drain.draining = true;
      // A backend shut down again with no time left reports what the first shutdown still waits for.
      const reports = await Promise.all(registry.held().map((u) => u.backend.shutdown(0)));
      await storage?.log.close();
      return Object.freeze({
        drained: reports.every((r) => r.undeliveredRequests === 0),
        elapsedMs: Math.round(performance.now() - started),
        upstreams: Object.freeze(reports),
      });
    },
  };
}
