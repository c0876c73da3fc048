/**
 * Library start-up: what `import 'otlp-fanout'` costs a process, next to the official
 * OpenTelemetry metrics SDK and the protobuf-es entries we build on.
 *
 * Every figure comes from a fresh child process that does nothing but
 * `gc(); t0 = performance.now(); await import(x); ms = performance.now() - t0; gc()` and
 * reports `ms` and the RSS after minus the RSS before (both after a full GC, --expose-gc).
 * Children run one at a time (2 shared cores: parallel children would measure each other),
 * all targets once per round, in an order that is reversed every other round so that
 * drift hits every target alike.
 *
 * Both sides are compiled JS loaded by plain `node`, no loader. Ours as it ships: the JavaScript
 * of `npm run build` (scripts/build.mjs: esbuild bundles with code splitting, so what loads on
 * first use stays in chunks of its own; packages external), built afresh into a temporary
 * directory so that a stale dist/ is never measured. The unbundled row is the same src/ and gen/
 * transpiled per file (bench/lib/processes.ts), how dist/ was built before: it shows what Node's
 * per-module cost of ESM (~40 KiB of RSS per module file) adds to our ~60 files at start-up.
 * The official packages are imported from node_modules as an application would (`import`, so
 * the ESM build where the package has one). Running ours through tsx instead would add the
 * loader's own ~35 MiB to our side only.
 *
 * Run: `npm run bench:startup -- [--rounds 9]`. Prints a markdown table: median (min–max)
 * per target and the ratio of our main entry to the official SDK pair.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './lib/harness.js';
import { compileGateway } from './lib/processes.js';

const argv = process.argv.slice(2);
const rounds = Math.max(1, Number(argv[argv.indexOf('--rounds') + 1] ?? 5) || 5);

interface Target {
  readonly name: string;
  /** Specifiers imported together (`Promise.all`); a bare name resolves from our node_modules. */
  readonly specifiers: (dir: string) => readonly string[];
}

const OURS = 'otlp-fanout (main entry), as it ships';
const UNBUNDLED = 'otlp-fanout (main entry), unbundled: per-file ESM';
const OFFICIAL = '@opentelemetry/sdk-metrics + exporter-metrics-otlp-proto';
const TARGETS: readonly Target[] = [
  { name: 'baseline: an empty module', specifiers: () => ['data:text/javascript,'] },
  { name: OURS, specifiers: (dir) => [pathToFileURL(path.join(dir, 'shipped/dist/src/index.js')).href] },
  { name: UNBUNDLED, specifiers: (dir) => [pathToFileURL(path.join(dir, 'src/index.js')).href] },
  {
    name: 'otlp-fanout/integration, as it ships',
    specifiers: (dir) => [pathToFileURL(path.join(dir, 'shipped/dist/src/integration.js')).href],
  },
  { name: OFFICIAL, specifiers: () => ['@opentelemetry/sdk-metrics', '@opentelemetry/exporter-metrics-otlp-proto'] },
  { name: '@bufbuild/protobuf', specifiers: () => ['@bufbuild/protobuf'] },
  { name: '@bufbuild/protobuf/wire', specifiers: () => ['@bufbuild/protobuf/wire'] },
];

// The child: one import, measured. Written as a file in the compiled tree so that bare
// specifiers resolve from the node_modules link there.
// RssAnon (Linux): the process's private memory, without the pages of the node binary that the
// import happens to fault in; those are shared by every node process, and how many a run touches
// jumps by ~3.5 MiB with nothing but the length of the install path (measured on the bundle).
// getBuiltinModule: the fs already loaded at bootstrap, so the child imports nothing of its own
// (an \`import 'node:fs'\` here would take its ~1 MiB off every target that loads it).
const CHILD = `
const { readFileSync } = process.getBuiltinModule('node:fs');
const anon = () => Number(/RssAnon:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const specifiers = JSON.parse(process.argv[2]);
gc(); gc();
const anonBefore = anon();
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
await Promise.all(specifiers.map((s) => import(s)));
const ms = performance.now() - t0;
gc(); gc();
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ ms, addedRss: m.rss - rssBefore, addedAnon: anon() - anonBefore, rss: m.rss }));
`;

interface Sample {
  readonly ms: number;
  readonly addedRss: number;
  readonly addedAnon: number;
  readonly rss: number;
}

function runChild(child: string, specifiers: readonly string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', child, JSON.stringify(specifiers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child exited ${String(code)}: ${err}`));
      else resolve(JSON.parse(out) as Sample);
    });
  });
}

async function main(): Promise<void> {
  const { dir } = compileGateway('otlp-fanout-startup-');
  const root = fileURLToPath(new URL('..', import.meta.url));
  // What `npm run build` emits (its JavaScript half), beside the per-file tree; both resolve
  // packages from the node_modules link in `dir`.
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--js-only', '--outdir', path.join(dir, 'shipped/dist')]);
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'shipped/package.json'));
  const child = path.join(dir, 'startup-child.mjs');
  writeFileSync(child, CHILD);
  const load = loadavg()[0]!.toFixed(1);
  try {
    const samples = new Map<string, Sample[]>(TARGETS.map((t) => [t.name, []]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? TARGETS : [...TARGETS].reverse();
      for (const t of order) samples.get(t.name)!.push(await runChild(child, t.specifiers(dir)));
      process.stderr.write(`round ${r + 1}/${rounds} done\n`);
    }
    const mib = (b: number): number => b / 1048576;
    const cell = (vs: number[], digits: number): string =>
      `${median(vs).toFixed(digits)} (${Math.min(...vs).toFixed(digits)}–${Math.max(...vs).toFixed(digits)})`;
    const rows = TARGETS.map((t) => {
      const s = samples.get(t.name)!;
      const ms = cell(
        s.map((x) => x.ms),
        0,
      );
      const added = cell(
        s.map((x) => mib(x.addedRss)),
        1,
      );
      const anon = cell(
        s.map((x) => mib(x.addedAnon)),
        1,
      );
      return `| ${t.name} | ${ms} | ${added} | ${anon} | ${cell(
        s.map((x) => mib(x.rss)),
        1,
      )} |`;
    });
    const official = samples.get(OFFICIAL)!;
    const ratio = (name: string, f: (s: Sample) => number): string => (median(samples.get(name)!.map(f)) / median(official.map(f))).toFixed(2);
    const ratios = (name: string): string =>
      `import time ${ratio(name, (s) => s.ms)}×, added RSS ${ratio(name, (s) => s.addedRss)}×, added anonymous RSS ${ratio(name, (s) => s.addedAnon)}×`;
    process.stdout.write(
      [
        `${rounds} rounds, Node ${process.version}, 1-min load average ${load} → ${loadavg()[0]!.toFixed(1)}`,
        '',
        '| import | time (ms) | added RSS (MiB) | added anonymous RSS (MiB) | RSS after (MiB) |',
        '| --- | --- | --- | --- | --- |',
        ...rows,
        '',
        `ours as it ships / official (medians): ${ratios(OURS)}`,
        `unbundled / official (medians): ${ratios(UNBUNDLED)}`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
