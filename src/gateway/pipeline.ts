/**
 * The forwarding pipeline: everything a received request goes through — tenants
 * (authentication), routes (the router), processors (compiled into the router's selections),
 * the upstreams and the queue limits — built as ONE object from a validated config.
 *
 * Receivers read the current pipeline once per request from a {@link PipelineHolder}, so a
 * live reload is: validate the new config, build the next pipeline from the same upstream
 * registry, assign `holder.current`. Requests that arrived before keep the pipeline they
 * started with; those after use the new one. The pipeline owns nothing that needs closing:
 * the upstreams belong to the registry (forward/upstream-registry.ts), which hands an
 * unchanged upstream to the next pipeline, and the drain state belongs to the gateway.
 * Processors are the pipeline's, compiled from ITS config (an upstream kept across pipelines
 * keeps the config it was created with, whose processors may be out of date). So are the
 * temporality conversions' states (forward/processors/conversions.ts): a pipeline built with
 * `previous` takes over the state of each upstream whose temporality settings did not change.
 */
import type { DurableQueue } from '../export/durable-queue.js';
import type { GatewayConfig } from './config/gateway-config.js';
import type { RouteConfig } from './config/routes.js';
import { createIngest } from './forward/ingest.js';
import type { DrainState, Ingest } from './forward/ingest.js';
import { createChainCompiler } from './forward/processors/chain.js';
import type { ProcessorChain } from './forward/processors/chain.js';
import { createConversions } from './forward/processors/conversions.js';
import type { Conversions } from './forward/processors/conversions.js';
import { systemClock } from '../internal/clock.js';
import type { Clock } from '../internal/clock.js';
import type { Upstream } from './forward/upstream.js';
import type { UpstreamRegistry } from './forward/upstream-registry.js';
import type { GatewayObserver } from './observe/events.js';
import { createAuthenticator } from './receive/authenticator.js';
import type { Authenticator } from './receive/authenticator.js';
import type { ReceiverPipeline } from './receive/receiver.js';
import { createRouter } from './route/router.js';
import type { Router } from './route/router.js';

/** One configuration's forwarding pipeline. Immutable: a change is a new pipeline. */
export interface Pipeline extends ReceiverPipeline {
  /** The configuration it was built from. */
  readonly config: GatewayConfig;
  readonly auth: Authenticator;
  readonly router: Router<Upstream, ProcessorChain>;
  /** Forwarding upstreams: shared first, then tenants' own, in configuration order. */
  readonly upstreams: readonly Upstream[];
  readonly ingest: Ingest;
  /** Requests a receiver is serving with this pipeline (between `enter()` and `leave()`). */
  readonly active: number;
  /** Resolves true once no request is being served with this pipeline, false after `timeoutMillis`. */
  idle(timeoutMillis: number): Promise<boolean>;
  /** The temporality conversions' states, for the next pipeline (`PipelineOptions.previous`). */
  readonly conversions: Conversions;
}

/** Where the receivers read the current pipeline; swapping is one assignment to `current`. */
export interface PipelineHolder {
  current: Pipeline;
}

export interface PipelineOptions {
  /** Where upstreams come from (and stay, across pipelines). */
  readonly registry: UpstreamRegistry;
  /** Already guarded (observe/guard.ts). */
  readonly observer: GatewayObserver;
  readonly drain: DrainState;
  /** The durable queue, when storage is on (owned by the gateway, like the drain state). */
  readonly storage?: DurableQueue | undefined;
  /** The pipeline this one replaces (a live reload): its conversion states are taken over where the settings are the same. */
  readonly previous?: Pipeline;
  /** Time source of the conversions (their horizon and `staleAfter`); default the system clock. */
  readonly clock?: Clock;
}

/**
 * Builds the pipeline of `config`, loading the transports its upstreams need first; rejects
 * with TransportOptionError when an upstream's options are bad.
 */
export async function buildPipeline(config: GatewayConfig, options: PipelineOptions): Promise<Pipeline> {
  const { registry, observer, drain, storage } = options;
  await registry.prepare([...config.upstreams, ...config.tenants.flatMap((t) => t.upstreams)]);
  const shared = config.upstreams.map((c) => registry.acquire(c));
  const own = new Map<string, Upstream[]>();
  for (const t of config.tenants)
    own.set(
      t.name,
      t.upstreams.map((c) => registry.acquire(c)),
    );
  const upstreams = [...shared, ...[...own.values()].flat()];
  const compiler = createChainCompiler();
  const configs = [...config.upstreams, ...config.tenants.flatMap((t) => t.upstreams)];
  const conversions = createConversions(configs, options.previous?.conversions, options.clock ?? systemClock);
  const upstreamChains = new Map<string, ProcessorChain | null>();
  // An upstream's conversion (the chain's tail) runs after its and its routes' processors.
  for (const c of configs) upstreamChains.set(c.name, compiler.chain(c.processors, conversions.tailFor(c)));
  const routeChains = new Map<RouteConfig, ProcessorChain | null>(config.routes.map((r) => [r, compiler.chain(r.processors)]));
  // Route processors first, then the upstream's (docs/gateway.md, Processors).
  const chainOf = (route: RouteConfig | null, u: Upstream): ProcessorChain | null =>
    compiler.concat(route === null ? null : routeChains.get(route)!, upstreamChains.get(u.name) ?? null);
  const router = createRouter(config.routes, shared, own, chainOf);
  // Requests in flight with this pipeline: once it is replaced, a reload waits for it to be idle
  // before it closes the upstreams the next pipeline no longer uses (reload.ts).
  let active = 0;
  let idleWaiters: (() => void)[] = [];
  return Object.freeze({
    enter() {
      active++;
    },
    leave() {
      if (--active > 0 || idleWaiters.length === 0) return;
      const waiting = idleWaiters;
      idleWaiters = [];
      for (const w of waiting) w();
    },
    get active() {
      return active;
    },
    idle(timeoutMillis: number) {
      if (active === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMillis);
        timer.unref();
        const done = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        idleWaiters.push(done);
      });
    },
    config,
    auth: createAuthenticator(config.tenants, config.apiKeyHeader),
    router,
    upstreams,
    ingest: conversions.transactional(
      createIngest({
        router,
        upstreams,
        maxQueuedBytes: config.limits.maxQueuedBytes,
        retryAfterMillis: config.limits.retryAfterMillis,
        observer,
        drain,
        storage,
      }),
    ),
    conversions,
  });
}
