/**
 * `${ENV}` expansion of the parsed configuration document, before validation: values
 * from the environment are strings, which the scalar readers (values.ts) also accept.
 */
import { at, GatewayConfigError, show } from './config-error.js';

const ENV_REF = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands `${NAME}` and `${NAME:-default}` in a configuration string; `$$` is a literal `$`.
 * Unset (or, with `:-`, empty) variables take the default; an unset variable without one is
 * an error naming the key, because an empty token or endpoint fails later and less clearly.
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>, path: string): string {
  if (!text.includes('$')) return text;
  // Anything like `${` left once the valid references are taken out is a typo worth naming.
  const stray = /\$\{[^}]*\}?/.exec(text.replace(ENV_REF, ''));
  if (stray !== null) {
    throw new GatewayConfigError(path, `malformed environment reference ${show(stray[0])}; expected \${NAME} or \${NAME:-default}`);
  }
  return text.replace(ENV_REF, (whole: string, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    const v = env[name!];
    if (fallback !== undefined) return v === undefined || v === '' ? fallback : v;
    if (v === undefined) throw new GatewayConfigError(path, `environment variable ${name} is not set (write \${${name}:-default} for a fallback)`);
    return v;
  });
}

/** Applies {@link expandEnv} to every string value of a parsed document (keys are left alone). */
export function expandEnvDeep(value: unknown, env: Readonly<Record<string, string | undefined>>, path = ''): unknown {
  if (typeof value === 'string') return expandEnv(value, env, path);
  if (Array.isArray(value)) return value.map((v, i) => expandEnvDeep(v, env, at(path, i)));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnvDeep(v, env, at(path, k));
    return out;
  }
  return value;
}
