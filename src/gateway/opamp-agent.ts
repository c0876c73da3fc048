/**
 * The gateway as an OpAMP agent (docs/gateway.md, OpAMP): the client of src/opamp/ wired to the
 * running gateway. Started by the composition root (gateway.ts) when the config has an `opamp`
 * section, stopped first at shutdown (agent_disconnect before the upstreams drain). Loaded only
 * then: the client, its schema and the YAML writer cost a gateway without OpAMP nothing.
 *
 * - Identity and remote-config state live in the storage directory when durable storage is on
 *   (the client's `stateDirectory`): the same instance UID after a restart, and the last applied
 *   remote config applied again at start. Without storage, a new agent per process.
 * - Health: one component per receiver and per forwarding upstream, under `receivers` and
 *   `upstreams`, rolled up to the gateway by opamp/health.ts. An upstream is unhealthy while its
 *   backend is failing (its last attempt failed), with that attempt's error. The state is polled
 *   once a second (a few field reads per upstream) and after every reload; the client is told only
 *   when something changed, and status times move only when a status does, so an unchanged health
 *   is never sent again.
 * - Effective config: config/effective-yaml.ts (secrets redacted), rendered once per applied config.
 * - Remote config: loaded like the local file (config/remote.ts: the flags over it, `${ENV}` from
 *   this process, its own `opamp` and `storage` sections ignored) and applied through the gateway's
 *   one reload path; `rejected` is FAILED with the reload's error (key path, value, what is
 *   allowed), anything else APPLIED. What a stored one starts with: config/remote.ts, startingConfig.
 *
 * Nothing here can stop the gateway from serving: the client never throws after creation, and a
 * failure to start it is warned about once and leaves the gateway without OpAMP.
 */
import { createOpampClient } from '../opamp/client.js';
import type { OpampClient, OpampClientStatus } from '../opamp/client.js';
import type { ComponentHealthReport } from '../opamp/health.js';
import type { RemoteConfigDocument, RemoteConfigResult } from '../opamp/remote-config.js';
import { warnOnce } from '../internal/warn.js';
import { effectiveConfigYaml } from './config/effective-yaml.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { loadRemoteGatewayConfig, remoteConfigLabel } from './config/remote.js';
import type { RemoteLoadOptions } from './config/remote.js';
import type { Upstream } from './forward/upstream.js';
import type { ListenAddresses, ReloadResult } from './observe/events.js';
import type { ConfigLoader } from './reload.js';

/** What the agent reads of the gateway; every member reads the current state (a reload changes it). */
export interface AgentGatewayView {
  readonly config: GatewayConfig;
  readonly addresses: ListenAddresses;
  readonly upstreams: readonly Upstream[];
}

export interface OpampAgentOptions {
  readonly gateway: AgentGatewayView;
  /** The gateway's reload path (reload.ts); never rejects. */
  readonly reload: (load: ConfigLoader, trigger: string, source: string) => Promise<ReloadResult>;
  /** How remote configs are read (flags, environment, base directory): as the local file was. */
  readonly remoteConfig: RemoteLoadOptions;
  /** Unix milliseconds, for health times. Default `Date.now`. */
  readonly now?: () => number;
  /** How often health is polled for changes. Default 1000 ms: a flip reaches the server within a second, for a few reads per upstream. */
  readonly pollMillis?: number;
}

/** The running agent. */
export interface OpampAgent {
  /** The client's state: connected, last error, instance UID, the remote config's status. */
  status(): OpampClientStatus;
  /** A reload ended (whatever its trigger): the effective config and health are reported again if they changed. */
  reloaded(result: ReloadResult): void;
  /** Sends agent_disconnect and stops, waiting at most `limitMillis` (a server that does not answer is left behind). */
  stop(limitMillis: number): Promise<void>;
}

/** Per upstream: when it started and its last status. */
interface UpstreamState {
  readonly startNanos: bigint;
  failing: boolean;
  lastError: string | undefined;
  sinceNanos: bigint;
}

/**
 * Starts the agent: creates the client, applies the stored remote config (with storage) and starts
 * talking to the server in the background. Resolves once the client started; undefined (warned
 * once) when it could not be, and the gateway serves on without OpAMP.
 */
export async function startOpampAgent(options: OpampAgentOptions): Promise<OpampAgent | undefined> {
  const { gateway, reload } = options;
  const opamp = gateway.config.opamp;
  if (opamp === null) return undefined;
  const now = options.now ?? Date.now;
  const nanos = (): bigint => BigInt(now()) * 1_000_000n;
  const startedNanos = nanos();
  const upstreams = new Map<Upstream, UpstreamState>();
  const receivers = new Map<string, bigint>(); // `grpc 127.0.0.1:4317` → when first seen there

  /** Brings the tracked state up to date; true when anything reported changed. */
  function sync(): boolean {
    let changed = false;
    const at = nanos();
    const current = new Set(gateway.upstreams);
    for (const u of current) {
      const failing = u.backend.failing;
      const lastError = failing ? u.backend.lastError : undefined;
      const s = upstreams.get(u);
      if (s === undefined) {
        upstreams.set(u, { startNanos: at, failing, lastError, sinceNanos: at });
        changed = true;
      } else if (s.failing !== failing || s.lastError !== lastError) {
        // The status time moves when the status does, not when only the error's words change.
        if (s.failing !== failing) s.sinceNanos = at;
        s.failing = failing;
        s.lastError = lastError;
        changed = true;
      }
    }
    for (const u of upstreams.keys()) {
      if (current.has(u)) continue;
      upstreams.delete(u);
      changed = true;
    }
    const listening = new Set<string>();
    for (const kind of ['grpc', 'http'] as const) {
      const address = gateway.addresses[kind];
      if (address !== undefined) listening.add(`${kind} ${address}`);
    }
    for (const key of listening) {
      if (receivers.has(key)) continue;
      receivers.set(key, at);
      changed = true;
    }
    for (const key of receivers.keys()) {
      if (listening.has(key)) continue;
      receivers.delete(key);
      changed = true;
    }
    return changed;
  }

  function health(): ComponentHealthReport {
    sync();
    const receiverHealth: Record<string, ComponentHealthReport> = {};
    for (const [key, since] of receivers) {
      const [kind, address] = key.split(' ') as [string, string];
      receiverHealth[kind] = { healthy: true, status: `listening on ${address}`, startTimeUnixNano: since, statusTimeUnixNano: since };
    }
    const upstreamHealth: Record<string, ComponentHealthReport> = {};
    for (const [u, s] of upstreams) {
      upstreamHealth[u.name] = {
        healthy: !s.failing,
        status: s.failing ? 'failing' : 'forwarding',
        ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
        startTimeUnixNano: s.startNanos,
        statusTimeUnixNano: s.sinceNanos,
      };
    }
    return {
      healthy: true,
      status: 'serving',
      startTimeUnixNano: startedNanos,
      statusTimeUnixNano: startedNanos,
      components: {
        receivers: { status: `${receivers.size} listening`, components: receiverHealth },
        upstreams: { status: `${upstreams.size} configured`, components: upstreamHealth },
      },
    };
  }

  // Rendered once per config object: the client asks on every message it builds (heartbeats included).
  let rendered: { config: GatewayConfig; yaml: string } | undefined;
  function effectiveConfig(): string {
    const config = gateway.config;
    if (rendered?.config !== config) rendered = { config, yaml: effectiveConfigYaml(config) };
    return rendered.yaml;
  }

  async function onRemoteConfig(document: RemoteConfigDocument): Promise<RemoteConfigResult> {
    const label = remoteConfigLabel(document.hash);
    const result = await reload(
      // The running `opamp` and `storage`, read when the reload's turn comes: a remote config never replaces them.
      (ignore) => loadRemoteGatewayConfig(document.body, label, options.remoteConfig, gateway.config, ignore),
      'opamp',
      label,
    );
    if (result.outcome === 'rejected') return { applied: false, error: result.error?.message ?? 'rejected' };
    return { applied: true };
  }

  let client: OpampClient;
  try {
    client = createOpampClient({
      endpoint: opamp.endpoint,
      headers: opamp.headers,
      tls: opamp.tls,
      pollingIntervalMillis: opamp.pollingIntervalMillis,
      ...(gateway.config.storage === null ? {} : { stateDirectory: gateway.config.storage.directory }),
      health,
      effectiveConfig,
      onRemoteConfig,
    });
    sync();
    await client.start();
  } catch (e) {
    warnOnce('gateway-opamp-start', `gateway: the OpAMP client could not start (${e instanceof Error ? e.message : String(e)}); serving without it`);
    return undefined;
  }

  const poll = setInterval(() => {
    if (sync()) client.healthChanged();
  }, options.pollMillis ?? 1000);
  poll.unref();

  return {
    status: () => client.status(),
    reloaded(result) {
      if (result.outcome === 'applied') client.effectiveConfigChanged();
      if (sync()) client.healthChanged();
    },
    async stop(limitMillis) {
      clearInterval(poll);
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limitMillis);
        timer.unref();
      });
      await Promise.race([client.stop().catch(() => undefined), limit]);
      clearTimeout(timer);
    },
  };
}
