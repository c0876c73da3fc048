/**
 * The gateway's composition root: receivers (gRPC, HTTP) → the forwarding pipeline
 * (authentication → routing → one backend per upstream), plus self-telemetry and graceful
 * shutdown. `startGateway` is the programmatic entry point; the CLI (src/cli.ts) adds flags,
 * the config file, signals and console output around it.
 *
 * Ownership: the upstream registry owns every upstream (forwarding and self-telemetry) and
 * this root shuts them down; the pipeline (pipeline.ts) is rebuilt whole from a config and
 * read by the receivers through `holder.current`; the receivers are a set a reload changes
 * (receiver-set.ts); the drain state is the gateway's; a reload (reload.ts) swaps the pipeline
 * and retires what it no longer uses. The rooms: config/ (load and validate), receive/ (the
 * receiver contract and its two implementations), route/ (the router), forward/ (ingest, bodies,
 * upstreams), observe/ (the observer contract and the observer). Only the files of this folder
 * (this one, pipeline.ts, receiver-set.ts, reload.ts, opamp-agent.ts) import them all. With an
 * `opamp` section the OpAMP agent (opamp-agent.ts) is started last and stopped first.
 */
import type { GatewayConfig } from './config/gateway-config.js';
import { loadGatewayConfig } from './config/load.js';
import type { LoadOptions } from './config/load.js';
import { startingConfig } from './config/remote.js';
import type { RemoteLoadOptions } from './config/remote.js';
import type { UpstreamConfig } from './config/upstreams.js';
import type { Upstream } from './forward/upstream.js';
import { createUpstreamRegistry } from './forward/upstream-registry.js';
import type { GatewayObserver, GatewayView, ListenAddresses, ReloadResult, ShutdownReport, UpstreamShutdownReport } from './observe/events.js';
import { noopObserver } from './observe/events.js';
import { guardObserver } from './observe/guard.js';
import { startSelfTelemetry } from './observe/self-telemetry.js';
import type { SelfTelemetry } from './observe/self-telemetry.js';
import { buildPipeline } from './pipeline.js';
import type { PipelineHolder } from './pipeline.js';
import { createReceiverSet, preloadReceivers, ReceiverBindError } from './receiver-set.js';
import { createReloader } from './reload.js';
import type { ConfigLoader } from './reload.js';
import type { OpampAgent } from './opamp-agent.js';
import type { OpampClientStatus } from '../opamp/client.js';
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
  /**
   * How remote configurations (OpAMP, with an `opamp` section) are read: pass what the config was
   * loaded with — the flags (they win over a remote config as over the file), the environment for
   * `${NAME}`, the base of relative file paths. Default: no flags, process.env, the working directory.
   */
  readonly remoteConfig?: RemoteLoadOptions;
}

/** A running gateway. */
export interface Gateway {
  /** Where the receivers listen now (a reload may move them). */
  readonly addresses: ListenAddresses;
  /** The configuration in effect: the last one applied, with the settings that need a restart at their running values. */
  readonly config: GatewayConfig;
  /** Forwarding upstreams: shared first, then tenants' own. */
  readonly upstreams: readonly Upstream[];
  /** Bytes queued across the forwarding upstreams. */
  queuedBytes(): number;
  /** The durable queue, when storage is on: what it held at start and its counters now. */
  readonly storage: StorageView | undefined;
  /** The OpAMP agent, with an `opamp` section: the client's `status()` (connected, instance UID, remote config state). */
  readonly opamp: { status(): OpampClientStatus } | undefined;
  /**
   * Applies `config` (docs/gateway.md, Reload): the forwarding pipeline is swapped whole
   * (tenants, credentials, routes, processors, limits), unchanged upstreams keep their queue and
   * connections, changed ones are rebuilt with their queued data, removed ones drain in the
   * background; receivers move only when their address changed, and take new certificates.
   * Reloads run one at a time; those asked meanwhile are coalesced into one (the latest wins).
   * Never rejects: a configuration that cannot be applied is a `rejected` result and changes
   * nothing. `trigger` labels it in the result and the observer's event (default `api`).
   */
  reload(config: GatewayConfig, trigger?: string): Promise<ReloadResult>;
  /**
   * The same, from a file or YAML text (`loadGatewayConfig`'s options: `file`, or `text` with a
   * `label`, plus `flags` and `env`), loaded when the reload's turn comes: a file that cannot be
   * read, invalid YAML or an invalid value is a `rejected` result naming the key. Pass the flags
   * the gateway started with: they are part of the configuration (receiver addresses, `--forward`).
   */
  reloadFrom(source: LoadOptions, trigger: string): Promise<ReloadResult>;
  /**
   * Stops accepting (503 / UNAVAILABLE; /healthz answers 503), lets the upstreams deliver
   * for at most `deadlineMillis` (default: the config's drainTimeout), then closes
   * everything and reports what could not be delivered, upstreams a reload removed and still
   * draining included. Refuses reloads from the start; waits for one that is running. Idempotent.
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

/**
 * Creates the upstreams, starts the receivers and returns once both are listening (and, with an
 * `opamp` section, once the OpAMP client started: it never waits for the server).
 */
export async function startGateway(local: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const observer = guardObserver(options.observer ?? noopObserver);
  const remoteConfig = options.remoteConfig ?? {};
  // With OpAMP and storage, a remote config stored by an earlier run is what starts (config/remote.ts).
  const config = await startingConfig(local, remoteConfig);
  // Loaded only with an opamp section: the client, its schema and the YAML writer.
  const opampModule = config.opamp === null ? undefined : await import('./opamp-agent.js');
  // Module loads overlap: connect's router for the gRPC receiver while the upstreams' transports load.
  preloadReceivers(config);
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
  const receivers = createReceiverSet({ maxRequestBytes: config.limits.maxRequestBytes, pipeline: holder, observer });
  const selfUpstreams = config.selfTelemetry.upstreams.map((c) => registry.acquire(c, true));
  registry.commit([...holder.current.upstreams, ...selfUpstreams]);

  try {
    (await receivers.prepare(config)).commit();
  } catch (e) {
    await Promise.all(registry.held().map((u) => u.backend.shutdown(0)));
    await storage?.log.close();
    // At start, a bind failure is the system's own error (EADDRINUSE), as before any reload existed.
    throw e instanceof ReceiverBindError ? e.cause : e;
  }

  const selfTelemetry: SelfTelemetry =
    options.meterProvider === undefined
      ? { stop: () => Promise.resolve() }
      : startSelfTelemetry(options.meterProvider, selfUpstreams, config.selfTelemetry.intervalMillis);
  const reloader = createReloader({ holder, registry, receivers, observer, drain, selfUpstreams, storage });
  const view: GatewayView = {
    get addresses() {
      return receivers.addresses;
    },
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

  let opamp: OpampAgent | undefined;
  // Every reload, whatever its trigger, is reported to the OpAMP server (effective config, health).
  const reload = (load: ConfigLoader, trigger: string, source: string): Promise<ReloadResult> =>
    reloader.reload(load, trigger, source).then((result) => {
      opamp?.reloaded(result);
      return result;
    });

  let stopping: Promise<ShutdownReport> | undefined;
  let drainStarted: number | undefined;
  async function shutdown(deadlineMillis: number): Promise<ShutdownReport> {
    const started = (drainStarted = performance.now());
    drain.draining = true;
    observer.onDrain?.(deadlineMillis);
    // The server hears agent_disconnect before anything drains; a server that does not answer costs at most a second of the drain.
    await opamp?.stop(Math.min(OPAMP_GOODBYE_MILLIS, deadlineMillis));
    // A reload under way finishes first (it is short: validation, binding, a swap), so what it creates is shut down below.
    await reloader.stop();
    // The last self-metrics go out with everything else.
    await selfTelemetry.stop();
    const remaining = Math.max(0, deadlineMillis - (performance.now() - started));
    // Every upstream the registry holds: forwarding (shared, tenants' own), self-telemetry's, and
    // those a reload replaced or removed that are still draining (their drain now ends with this one).
    const reports: UpstreamShutdownReport[] = await Promise.all(
      registry.held().map((u) => reloader.finishRetiring(u, remaining) ?? u.backend.shutdown(remaining)),
    );
    // After every reader stopped: the cursors are written and synced, what is left stays for the next start.
    await storage?.log.close();
    await receivers.close();
    const report: ShutdownReport = Object.freeze({
      drained: reports.every((r) => r.undeliveredRequests === 0),
      elapsedMs: Math.round(performance.now() - started),
      upstreams: Object.freeze(reports),
    });
    observer.onStop?.(report);
    await observer.close?.();
    return report;
  }

  const gateway: Gateway = {
    get addresses() {
      return receivers.addresses;
    },
    get config() {
      return holder.current.config;
    },
    get upstreams() {
      return holder.current.upstreams;
    },
    queuedBytes: () => holder.current.ingest.queuedBytes(),
    storage: storageView,
    get opamp() {
      return opamp;
    },
    reload(next, trigger = 'api') {
      return reload(() => next, trigger, 'api');
    },
    reloadFrom(source, trigger) {
      return reload(() => loadGatewayConfig(source), trigger, source.file ?? source.label ?? (source.text === undefined ? 'document' : 'text'));
    },
    shutdown(deadlineMillis = holder.current.config.drainTimeoutMillis) {
      stopping ??= shutdown(deadlineMillis);
      return stopping;
    },
    async abandon() {
      // Counted from the start of the drain it cuts short, as the shutdown report would be.
      const started = drainStarted ?? performance.now();
      drain.draining = true;
      void opamp?.stop(0);
      await reloader.stop();
      // A backend shut down again with no time left reports what the first shutdown still waits for.
      const reports = await Promise.all(
        registry.held().map((u) => {
          // An upstream a reload retires stops waiting too (its own report is caught and unused); the report is this call's.
          void reloader.finishRetiring(u, 0);
          return u.backend.shutdown(0);
        }),
      );
      await storage?.log.close();
      return Object.freeze({
        drained: reports.every((r) => r.undeliveredRequests === 0),
        elapsedMs: Math.round(performance.now() - started),
        upstreams: Object.freeze(reports),
      });
    },
  };
  if (opampModule !== undefined) opamp = await opampModule.startOpampAgent({ gateway, reload, remoteConfig });
  return gateway;
}

/** The longest a stop waits for the OpAMP server to take agent_disconnect (it is a courtesy; the drain is not). */
const OPAMP_GOODBYE_MILLIS = 1000;
