// `npm run build` (and `prepare`): what ships in dist/.
//
// JavaScript: the three entry points bundled by esbuild with code splitting, ESM, dependencies left
// as imports (`packages: 'external'`). Every dynamic `import()` in src/ (transports on first export,
// the gateway's modules when it runs, decoding and OTLP/JSON on first use) becomes a chunk of its own,
// loaded only when that path runs; code shared by entries and chunks goes into chunks too. Why bundle:
// Node's ESM loader costs ~40 KiB of RSS per module file, and the main entry as ~60 files added
// 9.4 MiB where the bundle adds 3.3 (BENCHMARKS.md, Library start-up).
//
// Types: `tsc --emitDeclarationOnly` beside them (dist/src/**/*.d.ts, and dist/gen/**/*.d.ts, which
// they import), so `types` and the `exports` map keep their paths.
//
// The inspector's page (ui/): bundled for browsers into dist/ui (index.html, assets/app.js, assets/app.css),
// minified, with its libraries (Preact, uPlot) inside: nothing is fetched from elsewhere at run time, so
// the page works offline. Its size budget is checked by test/gateway/inspect/ui-bundle.test.ts.
//
// `node scripts/build.mjs [--js-only | --ui-only] [--outdir DIR]`: --ui-only builds the page alone; --js-only skips the declarations (the dist
// test builds the JavaScript into a temporary package; tsc is the slow half).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The package's entry points, as package.json's `exports` and `bin` name them under dist/. */
export const ENTRY_POINTS = ['src/index.ts', 'src/integration.ts', 'src/cli.ts'];

/**
 * Bundles the entry points into `outdir` (dist/src/index.js, …, chunks in dist/src/chunks/).
 * Chunks stay under src/ so that `files: ["dist/src"]` ships them and so that code which climbs
 * from its own URL (internal/package-version.ts looks for our package.json) finds the same
 * ancestors from a chunk as from an entry.
 */
export async function buildJs(outdir) {
  const core = await staticGraph('src/index.ts');
  await build({
    plugins: [oneCoreChunk(core)],
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir,
    outbase: '.',
    chunkNames: 'src/chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Maps name src/ files and lines in stack traces under `node --enable-source-maps`; without the
    // flag Node never reads them (no RSS or time cost, BENCHMARKS.md). No sourcesContent: the maps
    // stay small and src/ does not ship, the names and line numbers are what a user reports.
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
  // esbuild keeps cli.ts's `#!/usr/bin/env node` line; npm sets the bit for `bin` on install, a
  // checkout running dist/src/cli.js directly needs it set here.
  chmodSync(path.join(outdir, 'src/cli.js'), 0o755);
}

/**
 * The files the main entry loads at import: its static graph, dynamic `import()`s left out.
 * Found by a bundle pass that writes nothing (esbuild's metafile lists its inputs).
 */
async function staticGraph(entry) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
    plugins: [
      {
        name: 'static-only',
        setup(b) {
          // A dynamic import is not part of what loads at import: keep it out of the graph.
          b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
        },
      },
    ],
  });
  return new Set(Object.keys(result.metafile.inputs).map((f) => path.join(root, f)));
}

const CORE = 'otlp-fanout:core';

/**
 * Makes every other module of ours import the main entry's static graph, so that all of it is
 * reachable from every entry point and chunk alike and esbuild puts it in ONE shared chunk: the
 * main entry then loads 2 files instead of ~12 (each file costs Node's loader a module record and
 * URL work; BENCHMARKS.md, Library start-up). Those modules only define things at their top level,
 * so evaluating them earlier for a chunk that loads later changes nothing.
 */
function oneCoreChunk(core) {
  return {
    name: 'one-core-chunk',
    setup(b) {
      b.onResolve({ filter: /^otlp-fanout:core$/ }, () => ({ path: CORE, namespace: 'core' }));
      b.onLoad({ filter: /.*/, namespace: 'core' }, () => ({
        contents: [...core].map((f) => `import ${JSON.stringify(f)};`).join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
      b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
        if (core.has(args.path)) return undefined;
        const { readFile } = await import('node:fs/promises');
        const text = await readFile(args.path, 'utf8');
        // After a `#!` line (cli.ts), which must stay first.
        const shebang = text.startsWith('#!') ? text.slice(0, text.indexOf('\n') + 1) : '';
        return { contents: `${shebang}import ${JSON.stringify(CORE)};\n${text.slice(shebang.length)}`, loader: 'ts' };
      });
    },
  };
}

/** Bundles the inspector's page into `outdir`/ui (see the top of this file). */
export async function buildUi(outdir) {
  const ui = path.join(outdir, 'ui');
  rmSync(ui, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: { app: 'ui/src/main.tsx' },
    outdir: path.join(ui, 'assets'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(path.join(root, 'ui/index.html'), path.join(ui, 'index.html'));
}

/** Declarations for src/ and gen/ into `outdir` (tsconfig.build.json). */
export function buildTypes(outdir) {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--outDir', outdir], {
    cwd: root,
    stdio: 'inherit',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  const outdir = at >= 0 ? path.resolve(args[at + 1]) : path.join(root, 'dist');
  if (args.includes('--ui-only')) {
    await buildUi(outdir);
  } else {
    // A clean tree: stale per-file modules or chunks from an older build would otherwise ship.
    rmSync(outdir, { recursive: true, force: true });
    await buildJs(outdir);
    await buildUi(outdir);
  }
  if (!args.includes('--js-only') && !args.includes('--ui-only')) buildTypes(outdir);
}
