/**
 * Tenant authentication: a bearer token (`Authorization: Bearer …`) or an API key (a
 * configurable header) names a tenant. With no tenants configured, auth is off.
 *
 * Secrets are compared in constant time: the presented value is hashed (SHA-256) and
 * compared with every configured digest with `timingSafeEqual`, without stopping at a
 * match, so neither the secret's content nor its position in the list shows in timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenantConfig } from '../config/tenants.js';

/** The outcome of authenticating one request. */
export type AuthResult =
  | { readonly kind: 'off' }
  | { readonly kind: 'tenant'; readonly tenant: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unknown' };

/** Reads one header (lower-case name); repeated headers arrive joined or as the first value. */
export type HeaderLookup = (name: string) => string | undefined;

/** Authenticates requests against the configured tenants. */
export interface Authenticator {
  /** True when at least one tenant is configured. */
  readonly enabled: boolean;
  authenticate(header: HeaderLookup): AuthResult;
}

interface Entry {
  readonly kind: 'bearer' | 'apiKey';
  readonly digest: Uint8Array;
  readonly tenant: string;
}

const BEARER = /^bearer[ \t]+(\S.*?)[ \t]*$/i;

/** Builds an authenticator; `apiKeyHeader` is the lower-case API key header name. */
export function createAuthenticator(tenants: readonly TenantConfig[], apiKeyHeader: string): Authenticator {
  const entries: Entry[] = [];
  for (const t of tenants) for (const c of t.credentials) entries.push({ kind: c.kind, digest: c.digest, tenant: t.name });
  const hasBearer = entries.some((e) => e.kind === 'bearer');
  const hasApiKey = entries.some((e) => e.kind === 'apiKey');
  const off: AuthResult = { kind: 'off' };

  function find(kind: 'bearer' | 'apiKey', secret: string): string | undefined {
    const digest = createHash('sha256').update(secret).digest();
    let found: string | undefined;
    for (const e of entries) {
      // Every entry of the kind is compared, match or not (see the file comment).
      if (e.kind === kind && timingSafeEqual(digest, e.digest) && found === undefined) found = e.tenant;
    }
    return found;
  }

  return {
    enabled: entries.length > 0,
    authenticate(header) {
      if (entries.length === 0) return off;
      let presented = false;
      if (hasBearer) {
        const auth = header('authorization');
        const m = auth === undefined ? null : BEARER.exec(auth);
        if (m !== null) {
          presented = true;
          const tenant = find('bearer', m[1]!);
          if (tenant !== undefined) return { kind: 'tenant', tenant };
        }
      }
      if (hasApiKey) {
        const key = header(apiKeyHeader)?.trim();
        if (key !== undefined && key !== '') {
          presented = true;
          const tenant = find('apiKey', key);
          if (tenant !== undefined) return { kind: 'tenant', tenant };
        }
      }
      return presented ? { kind: 'unknown' } : { kind: 'missing' };
    },
  };
}
