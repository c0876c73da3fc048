/**
 * Live reload: the one path every trigger takes (SIGHUP, `--watch`, `Gateway.reload()`, remote
 * configuration), owned by the composition root.
 *
 * 1. **Serialized**: one reload at a time; those asked during one are coalesced into one more,
 *    which loads its configuration when its turn comes (the latest request wins, every caller
 *    gets its result).
 * 2. **Validate first**: the configuration is loaded and validated, the settings that cannot
 *    change while running are kept at their running values (and reported as needing a restart),
 *    TLS pairs are checked and new receiver addresses bound, and the next pipeline is built
 *    against the upstream registry without changing it. Any failure is a `rejected` result:
 *    nothing changed, the running pipeline serves on.
 * 3. **Swap**, synchronously, so no request sees half of it: `holder.current` is assigned (every
 *    request that arrives from now on authenticates, routes and is limited by the new pipeline;
 *    the ones already in flight finish on theirs), the registry commits the new upstream set, the
 *    receivers switch. An upstream whose settings are unchanged is the same object, with its
 *    queue and connections. A changed one is rebuilt and inherits the old one's data
 *    (`Backend.transferTo`). A removed one drains in the background: once the replaced
 *    pipelines have served their last request (an HTTP request reads its body after choosing its
 *    pipeline, and may still queue for it), for at most `drainTimeout`; then it reports what it
 *    could not deliver (`onRetired`) and the registry forgets it.
 */
import { warnOnce } from '../internal/warn.js';
import { ConfigProblemError, showValue } from '../internal/config-problem.js';
import type { Backend } from '../export/backend.js';
import type { DurableQueue } from '../export/durable-queue.js';
import { protobufToJsonBody } from '../transport/json-body.js';
import { at, GatewayConfigError, show } from './config/config-error.js';
import type { GatewayConfig } from './config/gateway-config.js';
import type { ReceiverConfig } from './config/receivers.js';
import type { UpstreamConfig } from './config/upstreams.js';
import { sameConfigData } from './config/values.js';
import type { DrainState } from './forward/ingest.js';
import { decodeRequest, encodeRequest } from './forward/requests.js';
import type { Upstream } from './forward/upstream.js';
import type { UpstreamRegistry } from './forward/upstream-registry.js';
import type {
  GatewayObserver,
  IgnoredSetting,
  ReloadDiff,
  ReloadProblem,
  ReloadResult,
  RestartNeeded,
  UpstreamShutdownReport,
} from './observe/events.js';
import { buildPipeline } from './pipeline.js';
import type { Pipeline, PipelineHolder } from './pipeline.js';
import { ReceiverBindError } from './receiver-set.js';
import type { ReceiverPlan, ReceiverSet } from './receiver-set.js';

export interface ReloaderOptions {
  readonly holder: PipelineHolder;
  readonly registry: UpstreamRegistry;
  readonly receivers: ReceiverSet;
  /** Already guarded. */
  readonly observer: GatewayObserver;
  readonly drain: DrainState;
  /** Self-telemetry's upstreams: held for the gateway's life (their settings change only at a restart). */
  readonly selfUpstreams: readonly Upstream[];
  /** The durable queue, when storage is on (opened at start; its settings change only at a restart). */
  readonly storage?: DurableQueue | undefined;
}

export interface Reloader {
  /**
   * Reloads from the configuration `load` returns (called when this reload's turn comes; it may
   * throw a configuration error, and report through `ignore` what it left out on purpose, such as
   * a remote config's `opamp` section). Never rejects.
   */
  reload(load: ConfigLoader, trigger: string, source: string): Promise<ReloadResult>;
  /**
   * For shutdown: refuses every reload from now on (a pending one resolves rejected) and waits for
   * the one running; retiring upstreams no longer report (the shutdown report has them).
   */
  stop(): Promise<void>;
  /**
   * For shutdown, after stop(): when `upstream` is one a reload replaced or removed, ends its drain
   * within `remainingMillis` and resolves with what it could not deliver; undefined for any other.
   */
  finishRetiring(upstream: Upstream, remainingMillis: number): Promise<UpstreamShutdownReport> | undefined;
}

/** Loads a reload's configuration; `ignore` lists what the document held that is not applied (ReloadResult.ignored). */
export type ConfigLoader = (ignore: (setting: IgnoredSetting) => void) => GatewayConfig;

interface Request {
  load: ConfigLoader;
  trigger: string;
  source: string;
  readonly result: Promise<ReloadResult>;
  readonly resolve: (r: ReloadResult) => void;
}

const NO_CHANGE: ReloadDiff = Object.freeze({ added: Object.freeze([]), changed: Object.freeze([]), removed: Object.freeze([]) });

export function createReloader(options: ReloaderOptions): Reloader {
  const { holder, registry, receivers, observer, drain, selfUpstreams, storage } = options;
  let stopped = false;
  let running: Promise<void> | undefined;
  let pending: Request | undefined;
  // Replaced pipelines that may still be serving a request (see the file comment, 3).
  const lingering = new Set<Pipeline>();
  // Upstreams replaced or removed and not yet shut down (or shut down after stop(): the shutdown takes their reports).
  const retiring = new Map<Upstream, { readonly report: Promise<UpstreamShutdownReport>; readonly cut: (remainingMillis: number) => void }>();

  function run(load: ConfigLoader, trigger: string, source: string): Promise<ReloadResult> {
    const result = apply(load, trigger, source);
    running = result.then(() => {
      running = undefined;
      const next = pending;
      pending = undefined;
      if (next === undefined) return;
      if (stopped) next.resolve(shuttingDown(next.trigger, next.source));
      else run(next.load, next.trigger, next.source).then(next.resolve);
    });
    return result;
  }

  async function apply(load: ConfigLoader, trigger: string, source: string): Promise<ReloadResult> {
    const started = performance.now();
    const ignored: IgnoredSetting[] = [];
    const base = {
      trigger,
      source,
      upstreams: NO_CHANGE,
      tenants: NO_CHANGE,
      settings: [],
      receivers: [],
      needsRestart: [] as RestartNeeded[],
      ignored: ignored as readonly IgnoredSetting[],
    };
    const finish = (r: Omit<ReloadResult, 'elapsedMs'>): ReloadResult => {
      const result: ReloadResult = Object.freeze({ ...r, elapsedMs: Math.round(performance.now() - started) });
      observer.onReload?.(result);
      return result;
    };
    const reject = (error: ReloadProblem, needsRestart: readonly RestartNeeded[] = []): ReloadResult =>
      finish({ ...base, outcome: 'rejected', error, needsRestart });
    try {
      const previous = holder.current;
      const current = previous.config;
      let loaded: GatewayConfig;
      try {
        loaded = load((setting) => ignored.push(setting));
      } catch (e) {
        return reject(problemOf(e));
      }
      const { config, needsRestart } = effectiveConfig(current, loaded);
      const clash = selfTelemetryClash(config, selfUpstreams);
      if (clash !== undefined) return reject(clash, needsRestart);
      if (config.grpc === null && config.http === null) {
        return reject(problemOf(new GatewayConfigError('receivers', 'both receivers would be off: the gateway would receive nothing')), needsRestart);
      }
      if (sameConfigData(config, current)) return finish({ ...base, outcome: 'unchanged', error: undefined, needsRestart });

      let plan: ReceiverPlan;
      try {
        plan = await receivers.prepare(config);
      } catch (e) {
        return reject(problemOf(e), needsRestart);
      }
      let pipeline: Pipeline;
      try {
        // `previous`: each upstream's temporality state is handed over where its settings did not change.
        pipeline = await buildPipeline(config, { registry, observer, drain, storage, previous });
      } catch (e) {
        registry.discard();
        await plan.discard();
        return reject(problemOf(e), needsRestart);
      }
      // Past this point the reload is applied even if a shutdown began meanwhile (it waits for this
      // one): the shutdown then drains the new set, the retiring upstreams included.

      // The swap: synchronous from here on.
      holder.current = pipeline;
      lingering.add(previous);
      const change = registry.commit([...pipeline.upstreams, ...selfUpstreams]);
      plan.commit();
      const drainMillis = config.drainTimeoutMillis;
      for (const { previous: old, next } of change.replaced) {
        // Every upstream's backend has it (the memory and the durable queue).
        old.backend.transferTo?.(heirOf(old, next));
        retire(old, 'replaced', drainMillis);
      }
      for (const u of change.removed) retire(u, 'removed', drainMillis);

      return finish({
        ...base,
        outcome: 'applied',
        error: undefined,
        upstreams: diff(forwarding(current), forwarding(config), (u) => u.name),
        tenants: diff(current.tenants, config.tenants, (t) => t.name),
        settings: changedSettings(current, config),
        receivers: plan.changes,
        needsRestart,
      });
    } catch (e) {
      // A bug, not a configuration problem: the reload is refused and the gateway serves on.
      return reject({
        path: '',
        problem: `unexpected failure: ${String(e)}`,
        message: `reload failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      });
    }
  }

  /**
   * Drains an upstream that left the configuration (or lets a replaced one finish its calls in
   * flight) for at most `drainMillis`, then shuts it down, reports and forgets it. A shutdown of the
   * gateway meanwhile cuts the wait short through {@link Reloader.finishRetiring}, and takes the report.
   */
  function retire(upstream: Upstream, reason: 'removed' | 'replaced', drainMillis: number): void {
    const started = performance.now();
    const left = (): number => Math.max(0, drainMillis - (performance.now() - started));
    let cutDrain!: (remainingMillis: number) => void;
    const cutShort = new Promise<number>((resolve) => (cutDrain = resolve));
    let shuttingDown = false;
    const cut = (remainingMillis: number): void => {
      cutDrain(remainingMillis);
      // Already in its shutdown: a second one with less time bounds it (the first one's report stands).
      if (shuttingDown) upstream.backend.shutdown(remainingMillis).catch(() => undefined);
    };
    // With durable storage a removed upstream's data is kept until delivered (or shed by the log's
    // rule for failing destinations), not for drainTimeout; a stop leaves it on disk, and the next
    // start drops it as no longer configured (docs/gateway.md, Durable storage).
    const durable = storage !== undefined && reason === 'removed';
    // A replaced one holds only its calls in flight (the rest went to its heir): its shutdown waits for them.
    const drained =
      reason === 'replaced'
        ? Promise.resolve(drainMillis)
        : (async (): Promise<number> => {
            await replacedPipelinesIdle(drainMillis);
            // Delivers while the backend stays open: a request that chose the replaced pipeline may still queue here.
            await upstream.backend.flush(durable ? Number.POSITIVE_INFINITY : left());
            return 0;
          })();
    const report = Promise.race([drained, cutShort]).then(async (remaining) => {
      shuttingDown = true;
      let r = await upstream.backend.shutdown(remaining);
      if (!stopped) {
        if (durable && !registry.inUse(upstream.name)) {
          // Its cursor would hold the log's oldest segments forever: what is still behind it is dropped, and reported.
          const keep = new Set(storage.log.readerNames().filter((n) => n !== upstream.name));
          const dropped = (await storage.forget(keep)).find((f) => f.name === upstream.name);
          r = { name: r.name, undeliveredRequests: dropped?.records ?? 0, undeliveredItems: 0 };
        }
        retiring.delete(upstream);
        registry.forget(upstream);
        observer.onRetired?.({ ...r, reason, elapsedMs: Math.round(performance.now() - started) });
      }
      return r;
    });
    report.catch((e: unknown) => warnOnce(`gateway-retire:${upstream.name}`, `gateway: retiring upstream "${upstream.name}" failed: ${String(e)}`));
    retiring.set(upstream, { report, cut });
  }

  /** Waits (at most `timeoutMillis`) until no replaced pipeline serves a request. */
  async function replacedPipelinesIdle(timeoutMillis: number): Promise<void> {
    await Promise.all(
      [...lingering].map(async (p) => {
        if (await p.idle(timeoutMillis)) lingering.delete(p);
      }),
    );
  }

  return {
    reload(load, trigger, source) {
      if (stopped) return Promise.resolve(shuttingDown(trigger, source));
      if (running === undefined) return run(load, trigger, source);
      if (pending !== undefined) {
        Object.assign(pending, { load, trigger, source });
        return pending.result;
      }
      let resolve!: (r: ReloadResult) => void;
      const result = new Promise<ReloadResult>((r) => (resolve = r));
      pending = { load, trigger, source, result, resolve };
      return result;
    },
    finishRetiring(upstream, remainingMillis) {
      const r = retiring.get(upstream);
      if (r === undefined) return undefined;
      r.cut(remainingMillis);
      return r.report;
    },
    async stop() {
      stopped = true;
      if (pending !== undefined) {
        pending.resolve(shuttingDown(pending.trigger, pending.source));
        pending = undefined;
      }
      await running;
    },
  };
}

function shuttingDown(trigger: string, source: string): ReloadResult {
  return Object.freeze({
    outcome: 'rejected',
    trigger,
    source,
    error: { path: '', problem: 'the gateway is shutting down', message: 'reload refused: the gateway is shutting down' },
    upstreams: NO_CHANGE,
    tenants: NO_CHANGE,
    settings: [],
    receivers: [],
    needsRestart: [],
    ignored: [],
    elapsedMs: 0,
  });
}

/** A reload's failure as the result carries it: the key path, the problem, the message. */
function problemOf(e: unknown): ReloadProblem {
  if (e instanceof GatewayConfigError) return { path: e.path, problem: e.problem, message: e.message };
  if (e instanceof ReceiverBindError) {
    return { path: `receivers.${e.receiver}.address`, problem: e.message, message: `cannot apply the gateway config: ${e.message}` };
  }
  // A transport's verdict on an upstream's options (validation normally reports it first, at the key path).
  if (e instanceof ConfigProblemError) {
    return { path: e.field, problem: `${showValue(e.value)}: ${e.allowed}`, message: `invalid gateway config at ${e.field}: ${e.message}` };
  }
  const text = e instanceof Error ? e.message : String(e);
  return { path: '', problem: text, message: `cannot apply the gateway config: ${text}` };
}

const RESTART = Object.freeze({
  maxRequestBytes: "the receivers take it when they start: it is the gRPC server's read limit",
  observe: 'the console output is set up once, at start',
  observeEndpoints: 'the inspector and /metrics listen from the start on their own address',
  selfTelemetry: "the gateway's own metrics are set up once, at start",
  storage: 'the durable log is opened once, at start',
  tls: 'turning TLS on or off at the same address needs another server on the same port',
  opamp: 'the OpAMP client is started once, at start',
});

/**
 * The configuration a reload applies: `next`, with the settings that cannot change while running
 * kept at their values in `current`, each listed as needing a restart when it differs.
 */
export function effectiveConfig(current: GatewayConfig, next: GatewayConfig): { config: GatewayConfig; needsRestart: RestartNeeded[] } {
  const needsRestart: RestartNeeded[] = [];
  const keep = <T>(path: string, running: T, wanted: T, reason: string): T => {
    if (!sameConfigData(running, wanted)) needsRestart.push({ path, reason });
    return running;
  };
  const receiver = (kind: 'grpc' | 'http', running: ReceiverConfig | null, wanted: ReceiverConfig | null): ReceiverConfig | null => {
    const toggled =
      running !== null &&
      wanted !== null &&
      running.host === wanted.host &&
      running.port === wanted.port &&
      (running.tls === null) !== (wanted.tls === null);
    if (!toggled) return wanted;
    needsRestart.push({ path: `receivers.${kind}.tls`, reason: RESTART.tls });
    return running;
  };
  const maxRequestBytes = keep('limits.maxRequestBytes', current.limits.maxRequestBytes, next.limits.maxRequestBytes, RESTART.maxRequestBytes);
  keep('observe.verbosity', current.observe.verbosity, next.observe.verbosity, RESTART.observe);
  keep('observe.interval', current.observe.intervalMillis, next.observe.intervalMillis, RESTART.observe);
  keep('observe.ui', current.observe.ui, next.observe.ui, RESTART.observeEndpoints);
  keep('observe.metrics', current.observe.metrics, next.observe.metrics, RESTART.observeEndpoints);
  keep('selfTelemetry.interval', current.selfTelemetry.intervalMillis, next.selfTelemetry.intervalMillis, RESTART.selfTelemetry);
  keep('selfTelemetry.resource', current.selfTelemetry.resource, next.selfTelemetry.resource, RESTART.selfTelemetry);
  keep('selfTelemetry.upstreams', current.selfTelemetry.upstreams, next.selfTelemetry.upstreams, RESTART.selfTelemetry);
  keep('storage', current.storage, next.storage, RESTART.storage);
  keep('opamp', current.opamp, next.opamp, RESTART.opamp);
  const config: GatewayConfig = Object.freeze({
    ...next,
    grpc: receiver('grpc', current.grpc, next.grpc),
    http: receiver('http', current.http, next.http),
    limits: Object.freeze({ ...next.limits, maxRequestBytes }),
    observe: current.observe,
    selfTelemetry: current.selfTelemetry,
    storage: current.storage,
    opamp: current.opamp,
  });
  return { config, needsRestart };
}

/** A forwarding upstream named like a running self-telemetry upstream (possible only when the latter's settings changed). */
function selfTelemetryClash(config: GatewayConfig, self: readonly Upstream[]): ReloadProblem | undefined {
  const names = new Set(self.map((u) => u.name));
  for (const u of forwarding(config)) {
    if (!names.has(u.name)) continue;
    const path = u.tenant === undefined ? at('upstreams', u.name) : at(at(at('tenants', u.tenant), 'upstreams'), u.name.slice(u.tenant.length + 1));
    return problemOf(
      new GatewayConfigError(
        path,
        `${show(u.name)} is the name of a running selfTelemetry upstream, whose settings change only at a restart; use another name`,
      ),
    );
  }
  return undefined;
}

function forwarding(config: GatewayConfig): UpstreamConfig[] {
  return [...config.upstreams, ...config.tenants.flatMap((t) => t.upstreams)];
}

function diff<T>(before: readonly T[], after: readonly T[], name: (t: T) => string): ReloadDiff {
  const old = new Map(before.map((t) => [name(t), t]));
  const now = new Set(after.map(name));
  return Object.freeze({
    added: Object.freeze(after.filter((t) => !old.has(name(t))).map(name)),
    changed: Object.freeze(after.filter((t) => old.has(name(t)) && !sameConfigData(old.get(name(t)), t)).map(name)),
    removed: Object.freeze(before.filter((t) => !now.has(name(t))).map(name)),
  });
}

/** The reloadable settings besides upstreams, tenants and receivers that differ, by key path. */
function changedSettings(a: GatewayConfig, b: GatewayConfig): string[] {
  const settings: [string, unknown, unknown][] = [
    ['routes', a.routes, b.routes],
    ['limits.maxQueuedBytes', a.limits.maxQueuedBytes, b.limits.maxQueuedBytes],
    ['limits.retryAfter', a.limits.retryAfterMillis, b.limits.retryAfterMillis],
    ['auth.apiKeyHeader', a.apiKeyHeader, b.apiKeyHeader],
    ['drainTimeout', a.drainTimeoutMillis, b.drainTimeoutMillis],
  ];
  return settings.filter(([, x, y]) => !sameConfigData(x, y)).map(([path]) => path);
}

/**
 * Where a replaced upstream hands its data: its replacement, through a transcoder when the
 * protocol's encoding changed (queued bodies are in the encoding of the upstream they were made for).
 */
function heirOf(previous: Upstream, next: Upstream): Pick<Backend, 'enqueue'> {
  if (previous.encoding === next.encoding) return next.backend;
  return {
    enqueue(signal, body, items) {
      let converted: Uint8Array;
      try {
        converted = next.encoding === 'json' ? protobufToJsonBody(signal, body) : encodeRequest(decodeRequest(signal, body, 'json'), 'protobuf');
      } catch (e) {
        // Bodies the gateway made itself; counted as dropped by the old backend if this ever happens.
        warnOnce(
          `gateway-handover:${next.name}`,
          `gateway: a request queued for upstream "${next.name}" could not be converted for its new protocol: ${String(e)}`,
        );
        return false;
      }
      return next.backend.enqueue(signal, converted, items);
    },
  };
}
