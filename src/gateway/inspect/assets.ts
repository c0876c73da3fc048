/**
 * The inspector's page: the files `npm run build` writes to dist/ui (scripts/build.mjs bundles
 * ui/ with esbuild: one HTML page, one script, one stylesheet; nothing from a CDN), read once when
 * the inspector starts and kept in memory with their gzip form, so serving them costs no disk
 * access. Found by climbing from this module to our package.json, as package-version.ts does,
 * since this code runs from src/ (tests) and from a chunk in dist/src/ (the package).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One file of the page, ready to send. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The built page's directory (`<package>/dist/ui`), or undefined when our package.json is not found. */
export function defaultAssetsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'otlp-fanout') return join(dir, 'dist', 'ui');
    } catch {
      // No package.json here: keep climbing.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** The files of `dir` by URL path (`/index.html`, `/assets/app.js`); empty when it does not exist. */
export function loadAssets(dir: string | undefined): Map<string, Asset> {
  const out = new Map<string, Asset>();
  if (dir === undefined) return out;
  const walk = (d: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const f = join(d, n);
      if (statSync(f).isDirectory()) walk(f, `${prefix}/${n}`);
      else {
        const type = TYPES[extname(n)];
        if (type === undefined) continue;
        const body = readFileSync(f);
        out.set(`${prefix}/${n}`, { type, body, gzip: gzipSync(body, { level: 9 }) });
      }
    }
  };
  walk(dir, '');
  return out;
}
