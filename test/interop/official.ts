/**
 * The official OpenTelemetry JS packages the interop suite runs against, from one of two lines:
 * - by default the 2.x line (line-2x.ts): this repository's devDependencies, installable on Node 20;
 * - with OTLP_FANOUT_OTEL_PEERS=<folder>, the line that folder installs and exports from its
 *   line.js (test/interop/peers-3x: the 3.x line, which needs Node >= 22.15 and so cannot be a
 *   devDependency of a package whose lock file installs on 20). `.ci/run` sets it on 22 and 24.
 * Both line modules export the same names. The helpers are typed against the 2.x declarations; where
 * 3.x changed an API at run time, the helper that calls it branches on `line.major`, with a comment.
 * official-line.test.ts asserts which line loaded, so a peer package missing from the folder (which
 * Node would then resolve from the repository's node_modules, i.e. 2.x) fails instead of passing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Line from './line-2x.js';

const peers = process.env['OTLP_FANOUT_OTEL_PEERS'];

/** The folder of the peer line under test (absolute), or undefined for the devDependencies' line. */
export const peersDir: string | undefined = peers ? resolve(peers) : undefined;

const loaded: typeof Line =
  peersDir === undefined ? await import('./line-2x.js') : ((await import(pathToFileURL(join(peersDir, 'line.js')).href)) as typeof Line);

export const {
  api,
  logsApi,
  core,
  resources,
  sdkLogs,
  sdkMetrics,
  sdkTrace,
  transformer,
  logsGrpc,
  logsJson,
  logsProto,
  metricsGrpc,
  metricsJson,
  metricsProto,
  traceGrpc,
  traceJson,
  traceProto,
} = loaded;

/** One official package as the loaded line resolves it. */
export interface LoadedPackage {
  readonly name: string;
  readonly version: string;
  /** The package's folder. */
  readonly dir: string;
}

/**
 * Where `name` resolves from the loaded line's module, and the version its package.json states.
 * CommonJS resolution walks the same node_modules folders as the ESM import in the line module.
 */
export function loadedPackage(name: string): LoadedPackage {
  let dir = dirname(createRequire(loaded.resolveFrom).resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return { name, version: pkg.version, dir };
    } catch {
      // no package.json at this level
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ${name} above its entry point`);
    dir = up;
  }
}

/** The loaded line: the major version of its sdk-metrics (2 or 3). */
export const line: { readonly major: number } = {
  major: Number(loadedPackage('@opentelemetry/sdk-metrics').version.split('.')[0]),
};
