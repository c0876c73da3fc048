/**
 * The gateway: receivers (gRPC, HTTP) → authentication → routing → one backend per
 * upstream, plus graceful shutdown. `startGateway` is the programmatic entry point; the
 * CLI (src/cli.ts) adds flags, the config file, signals and console output around it.
 */
import { formatAddress } from './config-values.js';
import type { GatewayConfig, UpstreamConfig } from './config.js';
import { createAuthenticator } from './auth.js';
import type { GatewayObserver, GatewayView, ListenAddresses, ShutdownReport, UpstreamShutdownReport } from './events.js';
import { noopObserver } from './events.js';
import { guardObserver } from './guard.js';
import { startHttpReceiver } from './http-receiver.js';
import type { ReceiverHandle } from './http-receiver.js';
import { createIngest } from './ingest.js';
import { createRouter } from './routes.js';
import { startSelfTelemetry } from './self-telemetry.js';
import type { SelfTelemetry } from './self-telemetry.js';
import { createUpstream, loadTransports } from './upstream.js';
import type { Upstream } from './upstream.js';
import type { MeterProvider } from '../metrics/meter-provider.js';
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
  /**
   * Stops accepting (503 / UNAVAILABLE; /healthz answers 503), lets the upstreams deliver
   * for at most `deadlineMillis` (default: the config's drainTimeout), then closes
   * everything and reports what could not be delivered. Idempotent.
   */
  shutdown(deadlineMillis?: number): Promise<ShutdownReport>;
}

/** Creates the upstreams, starts the receivers and returns once both are listening. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const observer = guardObserver(options.observer ?? noopObserver);
  // Module loads overlap: connect's router for the gRPC receiver while the upstreams' transports load.
  const grpcModule = config.grpc === null ? undefined : import('./grpc-receiver.js');
  // Observed here too, so a failed load cannot go unhandled if the transports fail first; awaited below.
  grpcModule?.catch(() => undefined);
  const configs = [...config.upstreams, ...config.tenants.flatMap((t) => t.upstreams), ...config.selfTelemetry.upstreams];
  const modules = await loadTransports(configs);
  const make = (c: UpstreamConfig): Upstream => createUpstream(c, modules, options.transportFor?.(c));
  const shared = config.upstreams.map(make);
  const own = new Map<string, Upstream[]>();
  for (const t of config.tenants) own.set(t.name, t.upstreams.map(make));
  const forwarding = [...shared, ...[...own.values()].flat()];
  const selfUpstreams = config.selfTelemetry.upstreams.map(make);

  const ingest = createIngest({
    router: createRouter(config.routes, shared, own),
    upstreams: forwarding,
    maxQueuedBytes: config.limits.maxQueuedBytes,
    retryAfterMillis: config.limits.retryAfterMillis,
    observer,
  });
  const auth = createAuthenticator(config.tenants, config.apiKeyHeader);
  const common = { maxRequestBytes: config.limits.maxRequestBytes, ingest, auth, observer };

  let grpc: ReceiverHandle | undefined;
  let http: ReceiverHandle | undefined;
  try {
    // Loaded only when gRPC is on: connect and its HTTP/2 router are most of an HTTP-only gateway's start-up.
    if (config.grpc !== null && grpcModule !== undefined) grpc = await (await grpcModule).startGrpcReceiver({ ...common, config: config.grpc });
    if (config.http !== null) http = await startHttpReceiver({ ...common, config: config.http });
  } catch (e) {
    await grpc?.close();
    await Promise.all([...forwarding, ...selfUpstreams].map((u) => u.backend.shutdown(0)));
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
    upstreams: forwarding,
    queuedBytes: () => ingest.queuedBytes(),
    maxQueuedBytes: config.limits.maxQueuedBytes,
    draining: () => ingest.draining,
  };
  observer.attach?.(view);

  let stopping: Promise<ShutdownReport> | undefined;
  async function shutdown(deadlineMillis: number): Promise<ShutdownReport> {
    const started = performance.now();
    ingest.startDraining();
    observer.onDrain?.(deadlineMillis);
    // The last self-metrics go out with everything else.
    await selfTelemetry.stop();
    const remaining = Math.max(0, deadlineMillis - (performance.now() - started));
    const reports: UpstreamShutdownReport[] = await Promise.all(
      [...forwarding, ...selfUpstreams].map((u) => u.backend.shutdown(remaining)),
    );
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
    upstreams: forwarding,
    queuedBytes: () => ingest.queuedBytes(),
    shutdown(deadlineMillis = config.drainTimeoutMillis) {
      stopping ??= shutdown(deadlineMillis);
      return stopping;
    },
  };
}
