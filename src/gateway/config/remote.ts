/**
 * Remote configurations (OpAMP; docs/gateway.md, OpAMP): a complete gateway YAML document, read as
 * the local file is — `${ENV}` from this process, the command-line flags over it, relative paths
 * from the file's directory — except for what belongs to this machine and this process, which always
 * comes from the local configuration: the `opamp` section (a remote config must not move the gateway
 * to another server or change its credentials) and `storage` (the directory that holds the remote
 * config itself, the instance UID and the durable log). A remote config's own sections of those are
 * ignored and reported.
 *
 * Also what the gateway starts with when a remote config was stored by an earlier run.
 */
import { loadRemoteConfig } from '../../opamp/remote-config.js';
import { expandEnvDeep } from './env.js';
import { validateGatewayConfig } from './gateway-config.js';
import type { GatewayConfig, GatewayFlags } from './gateway-config.js';
import { yamlDocument } from './load.js';

/** How remote configurations are read: like the file the gateway started with. */
export interface RemoteLoadOptions {
  /** The flags the gateway started with: they win over a remote config as over the file (`--opamp`, `--storage` aside). Default none. */
  readonly flags?: GatewayFlags;
  /** For `${ENV}` expansion: the gateway's own environment. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative file paths (TLS files on this machine): the local file's directory. Default the working directory. */
  readonly baseDir?: string;
}

/** Why each section of a remote config is not applied (ReloadResult.ignored). */
export const REMOTE_IGNORED: Readonly<Record<'opamp' | 'storage', string>> = Object.freeze({
  opamp: 'the OpAMP connection always comes from the local file or --opamp: a remote config cannot move the gateway to another server',
  storage: 'durable storage always comes from the local file or --storage: it holds the remote config itself',
});

/**
 * A remote config's YAML `text` (named `label` in errors) as a configuration: the module comment's
 * rules, with `local`'s `opamp` and `storage`, and each section left out reported through `ignore`.
 * Throws GatewayConfigError naming the key.
 */
export function loadRemoteGatewayConfig(
  text: string,
  label: string,
  options: RemoteLoadOptions,
  local: Pick<GatewayConfig, 'opamp' | 'storage'>,
  ignore: (setting: { readonly path: string; readonly reason: string }) => void,
): GatewayConfig {
  let doc = yamlDocument(text, label);
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    const rest: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
    for (const key of ['opamp', 'storage'] as const) {
      if (!Object.hasOwn(rest, key)) continue;
      delete rest[key];
      ignore({ path: key, reason: REMOTE_IGNORED[key] });
    }
    doc = expandEnvDeep(rest, options.env ?? process.env);
    // The local storage, as a section: validated with it, the rest is checked against the log that runs
    // (a request must fit one record), not against memory queues. Added after expansion: a path is not a template.
    if (local.storage !== null) {
      const s = local.storage;
      (doc as Record<string, unknown>)['storage'] = {
        directory: s.directory,
        maxBytes: s.maxBytes,
        segmentBytes: s.segmentBytes,
        fsync: s.fsync,
        fsyncInterval: s.fsyncIntervalMillis,
      };
    }
  }
  const { opamp: _opamp, storage: _storage, ...flags } = options.flags ?? {};
  const config = validateGatewayConfig(doc, flags, options.baseDir ?? process.cwd());
  return Object.freeze({ ...config, storage: local.storage, opamp: local.opamp });
}

/**
 * The configuration to start with. With OpAMP and durable storage, a remote config applied by an
 * earlier run (stored by the OpAMP client) is what starts, in full — a restart is when the settings
 * a reload could not change take effect — with `local`'s `opamp` and `storage`. It must start before
 * the upstreams are created: durable storage deletes at start the cursors of upstreams no longer
 * configured, and those the remote config added keep their queued data. The OpAMP client applies it
 * again once started (then unchanged) and reports it. A stored config that no longer loads (an
 * environment variable gone) starts `local`; the client's apply reports it FAILED.
 */
export async function startingConfig(local: GatewayConfig, options: RemoteLoadOptions): Promise<GatewayConfig> {
  if (local.opamp === null || local.storage === null) return local;
  const stored = await loadRemoteConfig(local.storage.directory);
  if (stored === undefined) return local;
  try {
    const config = loadRemoteGatewayConfig(stored.body, remoteConfigLabel(stored.hash), options, local, () => undefined);
    return config.grpc === null && config.http === null ? local : config;
  } catch {
    return local;
  }
}

/** What a remote config is called in reload lines and errors: its hash's first bytes, as a server's UI shows them. */
export function remoteConfigLabel(hash: Uint8Array): string {
  return hash.length === 0 ? 'remote config' : `remote config ${Buffer.from(hash).toString('hex').slice(0, 12)}`;
}
