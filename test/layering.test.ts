import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

// Imports flow one way (README, Layout): gen ← otlp ← metrics/logs; gen ← transport ← export ← opamp ← gateway;
// internal/ from anywhere; inside the gateway, the rooms' own rules below. A violation is a design regression,
// so it fails the build.
const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');

/** Which top-level src folders each folder may import from (besides itself, internal/ and gen/). */
const allowed: Record<string, readonly string[]> = {
  otlp: [],
  metrics: ['otlp'],
  logs: ['otlp'],
  transport: ['otlp'],
  // config fills the option shapes and defaults of the layers it configures, which own them
  // (transport/options.ts: TLS, compression; export/retry.ts, export/backend.ts: retry, queue), and checks
  // options with each layer's own rules (headers, views).
  config: ['otlp', 'transport', 'export', 'metrics'],
  export: ['otlp', 'transport'],
  gateway: ['otlp', 'transport', 'export', 'metrics', 'config', 'opamp'],
  // The OpAMP client: the transports' TLS, header, gzip and Retry-After rules, export's backoff.
  opamp: ['transport', 'export'],
  internal: [],
};

/** Folders a folder may import types from, and only types (`import type`): erased at run time. */
const typesOnly: Record<string, readonly string[]> = {
  // transport-factory.ts builds a transport from config's resolved target.
  export: ['config'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const test = suite('layering');

test('src/ folders import only what the layering allows', () => {
  const problems: string[] = [];
  for (const file of files(root)) {
    const rel = relative(root, file);
    const layer = rel.includes('/') ? rel.split('/')[0]! : undefined;
    if (layer === undefined || allowed[layer] === undefined) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)(\s+type\b)?[^'"]*from '(\.[^']+)'/gm)) {
      const target = relative(root, resolve(dirname(file), m[2]!));
      if (target.startsWith('..')) continue; // gen/
      const to = target.split('/')[0]!;
      if (to === layer || to === 'internal') continue;
      if (m[1] !== undefined && typesOnly[layer]?.includes(to)) continue;
      if (!allowed[layer]!.includes(to)) problems.push(`${rel} imports ${m[2]}`);
    }
  }
  assert.equal(problems, []);
});

/**
 * The gateway's rooms (src/gateway/<room>/; README, Layout): which rooms each may import, for
 * values and for types only. The composition root (gateway.ts, pipeline.ts) may import them all.
 * `observe/events` is the observer contract: the request path reports to it, never to the observer.
 */
const rooms: Record<string, { readonly values: readonly string[]; readonly types: readonly string[] }> = {
  config: { values: [], types: [] },
  route: { values: [], types: ['config'] },
  forward: { values: ['route', 'config'], types: ['observe/events'] },
  receive: { values: ['forward'], types: ['config', 'observe/events'] },
  observe: { values: ['config'], types: [] },
  // The web inspector and the /metrics endpoints: an observer of its own (observe's contract and
  // latency views) and the config it listens by; the request path never imports it (only the CLI does).
  inspect: { values: ['config', 'observe'], types: [] },
};
const gatewayRoot = join(root, 'gateway');

test('gateway rooms import only what their role allows', () => {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const file of files(gatewayRoot)) {
    const rel = relative(gatewayRoot, file);
    if (!rel.includes('/')) continue; // the composition root
    const room = rel.split('/')[0]!;
    seen.add(room);
    const rule = rooms[room];
    if (rule === undefined) {
      problems.push(`${rel}: room ${room} has no rule here`);
      continue;
    }
    for (const m of readFileSync(file, 'utf8').matchAll(/^(import|export)(\s+type\b)?[^'"]*from '(\.[^']+)'/gm)) {
      const target = relative(gatewayRoot, resolve(dirname(file), m[3]!)).replace(/\.js$/, '');
      if (target.startsWith('..')) continue; // outside the gateway: the rule above
      const to = target.split('/')[0]!;
      if (to === room) continue;
      const within = (allowed: readonly string[]): boolean => allowed.some((a) => target === a || target.startsWith(`${a}/`));
      const ok = within(rule.values) || (m[2] !== undefined && within(rule.types));
      if (!ok) problems.push(`${rel} imports ${m[3]}${m[2] === undefined ? '' : ' (types)'}`);
    }
  }
  assert.equal(problems, []);
  assert.equal([...seen].sort(), Object.keys(rooms).sort(), 'every room walked');
});

test('the OTLP Prometheus renderer does not import the gateway', () => {
  const loaded = [...staticGraph(join(root, 'otlp/prometheus/render.ts'))].map((f) => relative(root, f));
  assert.ok(loaded.includes('otlp/prometheus/names.ts'), 'graph walked');
  assert.equal(
    loaded.filter((f) => f.startsWith('gateway/')),
    [],
  );
});

/** Files a module loads at import time (value imports and re-exports; `import type` and `import()` excluded). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(import|export)(?!\s+type\b)[^'"]*from '(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), m[2]!).replace(/\.js$/, '.ts');
      if (target.startsWith(root)) visit(target);
    }
  };
  visit(entry);
  return seen;
}

test('the main entry loads neither the transports nor the gateway (they load on first use)', () => {
  const loaded = [...staticGraph(join(root, 'index.ts'))].map((f) => relative(root, f));
  assert.ok(loaded.includes('telemetry.ts'), 'graph walked');
  const heavy = loaded.filter((f) => f === 'transport/grpc.ts' || f === 'transport/http.ts' || f.startsWith('gateway/'));
  assert.equal(heavy, []);
});

test('the main entry loads the durable log only with storage (its options check excepted: no file access)', () => {
  const loaded = [...staticGraph(join(root, 'index.ts'))].map((f) => relative(root, f));
  assert.ok(loaded.includes('export/handover-backend.ts'), 'graph walked');
  assert.equal(
    loaded.filter((f) => (f.startsWith('export/durable') && f !== 'export/durable/options.ts') || f === 'export/durable-queue.ts'),
    [],
  );
  const options = [...packagesLoaded([join(root, 'export/durable/options.ts')])];
  assert.equal(options, [], 'the options check loads no package (node:fs included)');
  // What telemetry.ts loads when storage is configured, so that the assertion above is not vacuous.
  const telemetry = readFileSync(join(root, 'telemetry.ts'), 'utf8');
  assert.ok(telemetry.includes("import('./export/durable/log.js')") && telemetry.includes("import('./export/durable-queue.js')"));
});

test('the main entry loads the Prometheus pull endpoint only when a prometheus backend is configured', () => {
  const loaded = [...staticGraph(join(root, 'index.ts'))].map((f) => relative(root, f));
  assert.ok(loaded.includes('telemetry.ts'), 'graph walked');
  assert.equal(
    loaded.filter((f) => f.includes('prometheus')),
    [],
  );
  const telemetry = readFileSync(join(root, 'telemetry.ts'), 'utf8');
  assert.ok(telemetry.includes("import('./export/prometheus-pull.js')"));
});

/** Packages that files of `graph` load at import time (value imports only). */
function packagesLoaded(graph: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const file of graph) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^(import|export)(?!\s+type\b)[^'"]*from '([^.][^']*)'/gm)) out.add(m[2]!);
  }
  return out;
}

test('the HTTP transport does not load connect (gRPC codes come from our own table)', () => {
  const packages = [...packagesLoaded(staticGraph(join(root, 'transport/http.ts')))];
  assert.ok(packages.includes('undici'), 'graph walked');
  assert.equal(
    packages.filter((p) => p.startsWith('@connectrpc/')),
    [],
  );
});

test('the OpAMP client loads undici only with the transport its endpoint names', () => {
  const packages = [...packagesLoaded(staticGraph(join(root, 'opamp/client.ts')))];
  assert.ok(packages.includes('@bufbuild/protobuf'), 'graph walked');
  assert.equal(
    packages.filter((p) => p === 'undici' || p === 'yaml' || p.startsWith('@connectrpc/')),
    [],
  );
});

test('the CLI loads the gateway only to run it (--version and --help answer without it)', () => {
  const loaded = [...staticGraph(join(root, 'cli.ts'))].map((f) => relative(root, f));
  assert.ok(loaded.includes('cli-args.ts'), 'graph walked');
  assert.equal(
    loaded.filter((f) => f.startsWith('gateway/')),
    [],
  );
});

test('the gateway CLI loads connect and undici only for what it uses (gRPC receiver, upstreams)', () => {
  // What the CLI loads when the gateway runs: its `import('./…')` targets and their static graphs.
  const cli = join(root, 'cli.ts');
  const graph = new Set<string>();
  for (const m of readFileSync(cli, 'utf8').matchAll(/\bimport\('(\.[^']+)'\)/g)) {
    for (const f of staticGraph(resolve(dirname(cli), m[1]!).replace(/\.js$/, '.ts'))) graph.add(f);
  }
  assert.ok(
    [...graph].some((f) => f.endsWith('gateway/gateway.ts')),
    'graph walked',
  );
  const packages = [...packagesLoaded(graph)];
  assert.equal(
    packages.filter((p) => p === 'undici' || p.startsWith('@connectrpc/')),
    [],
  );
});

/**
 * What importing `file` loads, across src/ and gen/ (value imports and re-exports): the files,
 * and the packages they name. `import type` and `import()` are left out: they load nothing at start-up.
 */
function startupLoad(file: string, files = new Set<string>(), packages = new Set<string>()): { files: Set<string>; packages: Set<string> } {
  if (files.has(file)) return { files, packages };
  files.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/^(import|export)(?!\s+type\b)[^'"]*from '([^']+)'/gm)) {
    const spec = m[2]!;
    if (spec.startsWith('.')) startupLoad(resolve(dirname(file), spec).replace(/\.js$/, '.ts'), files, packages);
    else packages.add(spec);
  }
  return { files, packages };
}

// Start-up budget (BENCHMARKS.md, Library start-up): reflection and the schemas load on first use
// (JSON, decoding); even `@bufbuild/protobuf/wire` is left out, as it pulls reflection in
// (~6.5 MiB RSS): the encoders write with src/otlp/encode/binary-writer.ts.
test('the main entry loads no generated schema and nothing from protobuf-es', () => {
  const { files, packages } = startupLoad(join(root, 'index.ts'));
  const gen = resolve(root, '..', 'gen');
  assert.ok(files.has(join(root, 'metrics/meter-provider.ts')), 'graph walked');
  assert.equal(
    [...files].filter((f) => f.startsWith(gen)).map((f) => relative(gen, f)),
    [],
  );
  assert.equal(
    [...packages].filter((p) => p.startsWith('@bufbuild/')),
    [],
  );
});

test.run();
