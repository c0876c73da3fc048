/**
 * The gateway configuration's one error, and the helpers every reader uses to name the
 * key path and the value in it.
 */

/**
 * An invalid gateway configuration. `path` is the key path (`upstreams.primary.endpoint`,
 * `routes[1].match`, `--forward[0]`), empty for the document as a whole.
 */
export class GatewayConfigError extends Error {
  override readonly name = 'GatewayConfigError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path === '' ? `invalid gateway config: ${problem}` : `invalid gateway config at ${path}: ${problem}`);
  }
}

/** A short printable form of a value for error messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}..."` : s;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Joins a key onto a path: `a.b`, or `a["odd.key"]` is not needed: keys print as given. */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}
