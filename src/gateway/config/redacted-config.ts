/**
 * The one place that decides what of a configuration may be shown: the inspector's config page
 * shows this, and so may anything else that reports the effective configuration (OpAMP's
 * effective config, a debug dump). Everything a secret can sit in is replaced by `(redacted)`.
 *
 * The rules go by shape and key, not by section, so that a section added later (an `opamp`
 * block, a new processor kind) is walked by the same rules instead of shown as is:
 * - byte arrays (the SHA-256 digests of tenants' tokens and API keys, of the inspector's and
 *   /metrics' credentials) → `(redacted)`;
 * - every value of a `headers` mapping (upstream and OpAMP headers carry API keys) → `(redacted)`,
 *   names kept;
 * - `tls`: a private `key` → `(redacted)`, certificates → `(PEM, N bytes)` (public, but long);
 * - keys that name a secret (`token`, `tokens`, `password`, `secret`, `apiKeys`, `privateKey`, …) → `(redacted)`;
 * - URLs (`endpoint`, `display`, `url`): query parameter values → `(redacted)` (vendors take API
 *   keys as `?api-key=`); user info cannot occur (the config refuses it) and is stripped anyway.
 * Sets become lists; functions are left out. The input is not changed.
 */

/** What replaces a secret. */
export const REDACTED = '(redacted)';

const SECRET_KEYS = /^(token|tokens|password|passwords|secret|secrets|apikey|apikeys|privatekey|credential|clientsecret|bearertoken)$/i;
const URL_KEYS = new Set(['endpoint', 'display', 'url']);

/** A plain, JSON-ready copy of `config` with every secret redacted (module comment). */
export function redactedConfig(config: unknown): unknown {
  return walk(config, '', '');
}

function walk(value: unknown, key: string, parentKey: string): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof Uint8Array) return REDACTED;
  if (typeof value === 'function') return undefined;
  if (typeof value === 'string') {
    if (SECRET_KEYS.test(key) || /headers?$/i.test(parentKey) || (parentKey === 'tls' && key === 'key')) return REDACTED;
    if (parentKey === 'tls') return value.includes('-----BEGIN ') ? `(PEM, ${value.length} bytes)` : REDACTED;
    if (URL_KEYS.has(key)) return redactUrl(value);
    return value;
  }
  if (typeof value !== 'object') {
    return SECRET_KEYS.test(key) || /headers?$/i.test(parentKey) ? REDACTED : value;
  }
  if (SECRET_KEYS.test(key))
    return Array.isArray(value) || value instanceof Set ? `(${[...(value as Iterable<unknown>)].length} redacted)` : REDACTED;
  if (value instanceof Set || Array.isArray(value)) return [...(value as Iterable<unknown>)].map((v) => walk(v, '', key));
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), walk(v, String(k), key)]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const w = walk(v, k, key);
    if (w !== undefined) out[k] = w;
  }
  return out;
}

/** `scheme://host/path?name=(redacted)`; text that is not a URL is returned as is (the config never holds one). */
function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username === '' && url.password === '' && url.search === '') return text;
  url.username = '';
  url.password = '';
  const params = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${k === 'encoding' ? url.searchParams.get(k) : REDACTED}`);
  url.search = '';
  return `${url.href}?${params.join('&')}`;
}
