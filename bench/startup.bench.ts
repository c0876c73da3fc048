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
 * Both sides are compiled JS loaded by plain `node`, no loader: our src/ and gen/ are
 * transpiled (bench/lib/processes.ts, what `npm run build` emits) into a temporary
 * directory; the official packages are imported from node_modules as an application would
 * (`import`, so the ESM build where the package has one). Running ours through tsx instead
 * would add the loader's own ~35 MiB to our side only.
 *
 * The bundled row is the same main entry as one esbuild bundle (`--splitting`, so what loads
 * on first use stays in chunks of its own; packages external): not what ships, but it shows
 * what Node's per-module cost of ESM (~40 KiB of RSS per module file) adds to our ~70 files.
 *
 * Run: `npm run bench:startup -- [--rounds 9]`. Prints a markdown table: median (min–max)
 * per target and the ratio of our main entry to the official SDK pair.
 */
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
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

const OURS = 'otlp-fanout (main entry)';
const OFFICIAL = '@opentelemetry/sdk-metrics + exporter-metrics-otlp-proto';
const TARGETS: readonly Target[] = [
  { name: 'baseline: an empty module', specifiers: () => ['data:text/javascript,'] },
  { name: OURS, specifiers: (dir) => [pathToFileURL(path.join(dir, 'src/index.js')).href] },
  {
    name: 'otlp-fanout (main entry), bundled: not how it ships',
    specifiers: (dir) => [pathToFileURL(path.join(dir, 'bundle/index.js')).href],
  },
  { name: 'otlp-fanout/integration', specifiers: (dir) => [pathToFileURL(path.join(dir, 'src/integration.js')).href] },
  { name: OFFICIAL, specifiers: () => ['@opentelemetry/sdk-metrics', '@opentelemetry/exporter-metrics-otlp-proto'] },
  { name: '@bufbuild/protobuf', specifiers: () => ['@bufbuild/protobuf'] },
  { name: '@bufbuild/protobuf/wire', specifiers: () => ['@bufbuild/protobuf/wire'] },
];

// The child: one import, measured. Written as a file in the compiled tree so that bare
// specifiers resolve from the node_modules link there.
const CHILD = `
const specifiers = JSON.parse(process.argv[2]);
gc(); gc();
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
await Promise.all(specifiers.map((s) => import(s)));
const ms = performance.now() - t0;
gc(); gc();
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ ms, addedRss: m.rss - rssBefore, rss: m.rss }));
`;

interface Sample {
  readonly ms: number;
  readonly addedRss: number;
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
  execFileSync(path.join(root, 'node_modules/.bin/esbuild'), [
    path.join(root, 'src/index.ts'),
    '--bundle',
    '--splitting',
    '--packages=external',
    '--format=esm',
    '--platform=node',
    '--target=node20',
    `--outdir=${path.join(dir, 'bundle')}`,
    '--log-level=warning',
  ]);
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
      return `| ${t.name} | ${cell(s.map((x) => x.ms), 0)} | ${cell(s.map((x) => mib(x.addedRss)), 1)} | ${cell(s.map((x) => mib(x.rss)), 1)} |`;
    });
    const ours = samples.get(OURS)!;
    const official = samples.get(OFFICIAL)!;
    const ratio = (f: (s: Sample) => number): string => (median(ours.map(f)) / median(official.map(f))).toFixed(2);
    process.stdout.write(
      [
        `${rounds} rounds, Node ${process.version}, 1-min load average ${load} → ${loadavg()[0]!.toFixed(1)}`,
        '',
        '| import | time (ms) | added RSS (MiB) | RSS after (MiB) |',
        '| --- | --- | --- | --- |',
        ...rows,
        '',
        `ours / official (medians): import time ${ratio((s) => s.ms)}×, added RSS ${ratio((s) => s.addedRss)}×`,
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
