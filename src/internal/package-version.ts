/**
 * Our own package.json version: the resource's `telemetry.sdk.version` and `otlp-fanout --version`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The `version` of the otlp-fanout package.json, or `unknown`. Searched upwards because this file
 * runs from src/ (tests) and from dist/src/ (the package); the name check stops at the first
 * package.json that is ours. Read once per process.
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'otlp-fanout') {
        if ('version' in pkg && typeof pkg.version === 'string') cached = pkg.version;
        break;
      }
    } catch {
      // No package.json here (or unreadable): keep climbing.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return cached;
}
