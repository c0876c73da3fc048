/**
 * The gateway configuration's one error, and the helpers every reader uses to name the
 * key path and the value in it. This is the gateway's policy for configuration problems
 * (internal/config-problem.ts has the one shape): throw, and the CLI exits 2; the library's
 * policy is to warn once and fall back.
 */
import type { ConfigProblem } from '../../internal/config-problem.js';
import { showValue } from '../../internal/config-problem.js';

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

/**
 * A problem another layer found (a transport option, say), reported at the gateway config's
 * `path`: built from the problem's fields, never from its error's message.
 */
export function problemAt(path: string, problem: ConfigProblem): GatewayConfigError {
  return new GatewayConfigError(path, `${showValue(problem.value)}: ${problem.allowed}`);
}

/**
 * A short printable form of a value for error messages, in the YAML document's words (a list,
 * a mapping) where internal/config-problem.ts's `showValue` speaks of code values (an array).
 */
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
