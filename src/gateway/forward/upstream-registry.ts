/**
 * The upstreams' owner. An upstream is a backend (queue, retry, connections) that outlives any
 * one pipeline: pipelines draw their upstreams from the registry by config, and an upstream
 * whose config is unchanged (same name, equal config) is handed to the next pipeline as is,
 * with its queued data and open connections.
 *
 * A pipeline is built against the registry without changing it: the upstreams it needs that are
 * not held are created *staged*, and become held only at `commit()` (the swap of a reload), or are
 * shut down by `discard()` (a reload that is not applied). `commit()` returns the held upstreams
 * the new set replaced (same name, changed config) and those it no longer uses; the reload
 * retires them (reload.ts) and `forget()`s each once it is drained. Until then they stay in
 * `held()`, so a shutdown waits for them too.
 */
import type { DurableQueue } from '../../export/durable-queue.js';
import type { Transport } from '../../transport/types.js';
import { sameUpstreamConfig } from '../config/upstreams.js';
import type { UpstreamConfig } from '../config/upstreams.js';
import { createUpstream, loadTransports } from './upstream.js';
import type { Upstream } from './upstream.js';
import { mergeTransportModules, PROTOCOLS } from '../../transport/protocols.js';
import type { TransportModules } from '../../transport/protocols.js';

/** What a commit changed: upstreams that left the registry's names, to be retired by the caller. */
export interface RegistryChange {
  /** Held upstreams replaced by a new one of the same name (changed config), with their replacement. */
  readonly replaced: readonly { readonly previous: Upstream; readonly next: Upstream }[];
  /** Held upstreams that the committed set no longer uses. */
  readonly removed: readonly Upstream[];
}

/** Upstreams by name, kept across pipelines. */
export interface UpstreamRegistry {
  /**
   * Loads the transport modules `configs` need that are not loaded yet, and opens their durable
   * queue cursors (with storage, unless `memory`); call before {@link acquire}.
   */
  prepare(configs: readonly UpstreamConfig[], memory?: boolean): Promise<void>;
  /**
   * The upstream for `config`: the one held (or staged) under its name when its config is equal,
   * else a new one, staged (throws TransportOptionError on bad options). With storage its queue is
   * durable, unless `memory` (the gateway's own metrics: acknowledged to no one, they need not
   * survive a crash); a durable one reads its name's cursor once the one it replaces stopped.
   */
  acquire(config: UpstreamConfig, memory?: boolean): Upstream;
  /**
   * Makes the staged upstreams held and `inUse` the upstreams in use (every pipeline's and
   * self-telemetry's); returns the held ones this replaced or left unused. Those leave the names
   * but stay in {@link held} as retiring until {@link forget}.
   */
  commit(inUse: readonly Upstream[]): RegistryChange;
  /**
   * Forgets the staged upstreams (their pipeline will not be used) and shuts them down, without
   * waiting: a durable one may first wait for the upstream it was to replace to stop reading.
   */
  discard(): void;
  /** Forgets a retiring upstream (it is shut down). */
  forget(upstream: Upstream): void;
  /** Whether an upstream of this name is held or staged (not only retiring). */
  inUse(name: string): boolean;
  /** Every upstream: held (in the order they were created), staged, then retiring. */
  held(): readonly Upstream[];
}

export interface UpstreamRegistryOptions {
  /** For tests: a transport to use instead of the configured one (return undefined to keep it). */
  readonly transportFor?: ((upstream: UpstreamConfig) => Transport | undefined) | undefined;
  /** The durable queue, when storage is on. */
  readonly storage?: DurableQueue | undefined;
}

export function createUpstreamRegistry(options: UpstreamRegistryOptions = {}): UpstreamRegistry {
  const byName = new Map<string, Upstream>();
  const staged = new Map<string, Upstream>();
  const retiring = new Set<Upstream>();
  let modules: TransportModules = { grpc: undefined, http: undefined };
  return {
    async prepare(configs, memory = false) {
      if (!memory) await options.storage?.open(configs.map((c) => c.name));
      const missing = configs.filter((c) => modules[PROTOCOLS[c.protocol].transport] === undefined);
      if (missing.length === 0) return;
      const loaded = await loadTransports(missing);
      modules = mergeTransportModules(modules, loaded);
    },
    acquire(config, memory = false) {
      for (const u of [staged.get(config.name), byName.get(config.name)]) {
        if (u !== undefined && sameUpstreamConfig(u.config, config)) return u;
      }
      const upstream = createUpstream(config, modules, options.transportFor?.(config), memory ? undefined : options.storage);
      // Staged twice under one name with different configs (pipelines built without a commit in between): the last wins.
      staged
        .get(config.name)
        ?.backend.shutdown(0)
        .catch(() => undefined);
      staged.set(config.name, upstream);
      return upstream;
    },
    commit(inUse) {
      const replaced: { previous: Upstream; next: Upstream }[] = [];
      for (const [name, next] of staged) {
        const previous = byName.get(name);
        if (previous !== undefined) {
          replaced.push({ previous, next });
          retiring.add(previous);
        }
        // Deleted first so that held() lists a replacement in creation order.
        byName.delete(name);
        byName.set(name, next);
      }
      staged.clear();
      const used = new Set(inUse);
      const removed: Upstream[] = [];
      for (const [name, u] of byName) {
        if (used.has(u)) continue;
        byName.delete(name);
        retiring.add(u);
        removed.push(u);
      }
      return { replaced, removed };
    },
    discard() {
      for (const u of staged.values()) u.backend.shutdown(0).catch(() => undefined);
      staged.clear();
    },
    forget(upstream) {
      retiring.delete(upstream);
    },
    inUse(name) {
      return byName.has(name) || staged.has(name);
    },
    held() {
      return [...byName.values(), ...staged.values(), ...retiring];
    },
  };
}
