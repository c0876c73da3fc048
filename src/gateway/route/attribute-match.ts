/**
 * Resource attribute conditions: compiled once from a route's `match` (exact value, or a
 * `*` glob as a regular expression), evaluated per resource entry on the request path.
 * A new kind of matcher goes here: its compiled form and its test in {@link matchesAll}.
 */
import type { MatchCondition } from '../config/routes.js';

/** One resource attribute condition, compiled: exact value, or a `*` glob as `regex`. */
export interface AttributeMatch {
  readonly key: string;
  readonly pattern: string;
  /** null for an exact match. */
  readonly regex: RegExp | null;
}

/** Compiles a route's conditions; a pattern without `*` stays an exact string compare. */
export function compileMatches(conditions: readonly MatchCondition[]): readonly AttributeMatch[] {
  return Object.freeze(
    conditions.map((c) => Object.freeze({ key: c.key, pattern: c.pattern, regex: c.pattern.includes('*') ? globToRegex(c.pattern) : null })),
  );
}

/** Whether every condition holds on `attributes` (AND); a missing attribute never matches. */
export function matchesAll(conditions: readonly AttributeMatch[], attributes: ReadonlyMap<string, string>): boolean {
  for (const c of conditions) {
    const v = attributes.get(c.key);
    if (v === undefined) return false;
    if (c.regex === null ? v !== c.pattern : !c.regex.test(v)) return false;
  }
  return true;
}

/** `*` matches any run of characters (empty included); everything else is literal. */
export function globToRegex(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}
