/**
 * The `tenants` section: each tenant's credentials (bearer tokens, API keys) and its own
 * upstreams. Secrets never stay in the resolved config: they are kept only as SHA-256
 * digests (receive/authenticator.ts compares digests in constant time).
 */
import { createHash } from 'node:crypto';
import { at, GatewayConfigError, show } from './config-error.js';
import { NAME } from './defaults.js';
import { upstreamMap } from './upstreams.js';
import type { UpstreamConfig } from './upstreams.js';
import { list, mapping } from './values.js';
import type { FileReader } from './values.js';

/** A credential, kept as the SHA-256 digest of the secret. */
export interface Credential {
  readonly kind: 'bearer' | 'apiKey';
  readonly digest: Uint8Array;
}

export interface TenantConfig {
  readonly name: string;
  readonly credentials: readonly Credential[];
  /** The tenant's own upstreams: they get all of this tenant's data and nobody else's. */
  readonly upstreams: readonly UpstreamConfig[];
}

/** The `tenants` mapping; `names` is the gateway-wide set of upstream names (see upstreamMap). */
export function tenantConfigs(value: unknown, files: FileReader, names: Set<string>): TenantConfig[] {
  const tenants: TenantConfig[] = [];
  const seenSecrets = new Map<string, string>();
  const tenantsDoc = value === undefined || value === null ? {} : mapping(value, 'tenants');
  for (const [name, doc] of Object.entries(tenantsDoc)) {
    const p = at('tenants', name);
    if (!NAME.test(name)) throw new GatewayConfigError(p, 'tenant names use letters, digits, _ . : -');
    const t = mapping(doc, p, ['tokens', 'apiKeys', 'upstreams']);
    const credentials: Credential[] = [];
    for (const [key, kind] of [
      ['tokens', 'bearer'],
      ['apiKeys', 'apiKey'],
    ] as const) {
      if (t[key] === undefined) continue;
      list(t[key], at(p, key)).forEach((secret, i) => {
        const sp = at(at(p, key), i);
        // Never echo the secret itself in an error.
        if (typeof secret !== 'string' || secret.length < 8)
          throw new GatewayConfigError(sp, 'expected a string of at least 8 characters (value hidden)');
        const id = `${kind}:${secret}`;
        const other = seenSecrets.get(id);
        if (other !== undefined) throw new GatewayConfigError(sp, `the same credential is already given to tenant ${show(other)} (value hidden)`);
        seenSecrets.set(id, name);
        credentials.push({ kind, digest: createHash('sha256').update(secret).digest() });
      });
    }
    if (credentials.length === 0) throw new GatewayConfigError(p, 'a tenant needs at least one of tokens, apiKeys');
    const own = upstreamMap(t['upstreams'], at(p, 'upstreams'), name, files, names);
    tenants.push(Object.freeze({ name, credentials: Object.freeze(credentials), upstreams: Object.freeze(own) }));
  }
  return tenants;
}
