/**
 * The upstreams' owner. An upstream is a backend (queue, retry, connections) that outlives any
 * one pipeline: pipelines draw their upstreams from the registry by config, and an upstream
 * whose config is unchanged (same name, equal config) is handed to the next pipeline as is,
 * with its queued data and open connections. A live reload builds the next pipeline from the
 * same registry; the upstreams the next pipeline no longer uses (or whose config changed) are
 * those of the previous pipeline missing from it, and the reload shuts them down.
 */
import type { DurableQueue } from '../../export/durable-queue.js';
import type { Transport } from '../../transport/types.js';
import { sameUpstreamConfig } from '../config/upstreams.js';
import type { UpstreamConfig } from '../config/upstreams.js';
import { createUpstream, loadTransports } from './upstream.js';
import type { Upstream } from './upstream.js';
import { mergeTransportModules, PROTOCOLS } from '../../transport/protocols.js';
import type { TransportModules } from '../../transport/protocols.js';

/** Upstreams by name, kept across pipelines. */
export interface UpstreamRegistry {
  /**
   * Loads the transport modules `configs` need that are not loaded yet, and opens their durable
   * queue cursors (with storage, unless `memory`); call before {@link acquire}.
   */
  prepare(configs: readonly UpstreamConfig[], memory?: boolean): Promise<void>;
  /**
   * The upstream for `config`: the one held under its name when its config is equal, else a new
   * one (throws TransportOptionError on bad options), which then takes that name in the registry.
   * With storage its queue is durable, unless `memory` (the gateway's own metrics: acknowledged to
   * no one, they need not survive a crash).
   */
  acquire(config: UpstreamConfig, memory?: boolean): Upstream;
  /** Every upstream held, in the order they were created. */
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
      const held = byName.get(config.name);
      if (held !== undefined && sameUpstreamConfig(held.config, config)) return held;
      const upstream = createUpstream(config, modules, options.transportFor?.(config), memory ? undefined : options.storage);
      // Deleted first so that held() lists a replacement in creation order.
      byName.delete(config.name);
      byName.set(config.name, upstream);
      return upstream;
    },
    held() {
      return [...byName.values()];
    },
  };
}
