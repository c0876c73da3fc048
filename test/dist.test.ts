/**
 * The package as it ships: dist/ from scripts/build.mjs (esbuild bundles with code splitting), not
 * src/ through tsx. The JavaScript is built into a temporary directory laid out like an installed
 * package (package.json, dist/, node_modules) and run there by plain `node` in child processes, so
 * everything that depends on file layout at run time is exercised: the `exports` map (imported by
 * name, a self-reference), `bin` with its `#!` line and executable bit, our package.json found by
 * climbing from a chunk (the resource's telemetry.sdk.version, `--version`), `yaml` required from a
 * chunk, and the dynamic `import()`s that must stay chunks loaded on first use.
 *
 * Only the JavaScript half is built here (esbuild, well under a second); the declarations (tsc, the
 * slow half: ~10 s of CPU) are `npm run build`'s, checked below only for their paths.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import { ofSignal, startReceiver } from './support/receiver.js';
import type { Receiver } from './support/receiver.js';
import { bin, metricsRequest } from './gateway/harness.js';

const test = suite('dist: the package as it ships');
const root = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  readonly version: string;
  readonly main: string;
  readonly types: string;
  readonly files: readonly string[];
  readonly bin: Readonly<Record<string, string>>;
  readonly exports: Readonly<Record<string, { readonly types: string; readonly default: string }>>;
};
// The copy's own version: whatever reports it read the package.json beside dist/, not the checkout's.
const VERSION = `${pkg.version}-dist-test`;

let dir = '';
test.before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'otlp-fanout-dist-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version: VERSION }, null, 2));
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--js-only', '--outdir', path.join(dir, 'dist')], { cwd: root });
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args` in the package directory; `during` acts while it runs (a failure there kills it). */
function run(command: string, args: readonly string[], during?: (stdout: () => string, stop: () => void) => Promise<void>): Promise<Run> {
  const child = spawn(command, args, { cwd: dir, env: { ...process.env, NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(command)} ${args.join(' ')} did not exit within 30 s; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, 30_000);
  });
  const acting = during?.(
    () => stdout,
    () => child.kill('SIGTERM'),
  );
  acting?.catch(() => child.kill('SIGKILL'));
  return Promise.race([Promise.all([exited, acting]), timeout])
    .then(([code]) => ({ code, stdout, stderr }))
    .finally(() => clearTimeout(timer));
}

/** Runs an ES module (as text) with plain node from the package directory, where `otlp-fanout` resolves to the package itself. */
async function node(source: string): Promise<Run> {
  const file = path.join(dir, `child-${process.hrtime.bigint()}.mjs`);
  writeFileSync(file, source);
  return run(process.execPath, [file]);
}

async function until(read: () => string, re: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(read());
    if (m !== null) return m;
    if (Date.now() > end) throw new Error(`no output matching ${re}:\n${read()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('package.json points at what the build makes: exports, main, bin (with #! and the executable bit), types', () => {
  const js = [pkg.main, ...Object.values(pkg.bin), ...Object.values(pkg.exports).map((e) => e.default)];
  for (const f of js) assert.ok(existsSync(path.join(dir, f)), `${f} is built`);
  const cli = path.join(dir, pkg.bin['otlp-fanout']!);
  assert.ok(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n'), 'the CLI keeps its #! line');
  assert.ok((statSync(cli).mode & 0o111) !== 0, 'the CLI is executable');
  // Declarations: tsc emits dist/<x>.d.ts for every <x>.ts of tsconfig.build.json (src and gen: the
  // src/ declarations import gen/ types), and `files` ships both folders; chunks live in dist/src.
  const include = (JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
  assert.equal([...include].sort(), ['gen', 'src']);
  for (const f of ['dist/src', 'dist/gen']) assert.ok(pkg.files.includes(f), `files ships ${f}`);
  for (const t of [pkg.types, ...Object.values(pkg.exports).map((e) => e.types)]) {
    assert.ok(existsSync(path.join(root, t.replace(/^\.?\/?dist\//, '').replace(/\.d\.ts$/, '.ts'))), `${t} has a source`);
  }
  assert.equal(
    readdirSync(path.join(dir, 'dist')).sort(),
    ['src'],
    'everything the build emits is under dist/src (gen/ is bundled; only its declarations ship)',
  );
});

/** The static import graph of `entry` (import statements only, not `import()`): our files and the packages they import. */
async function staticGraph(entry: string, kinds: ReadonlySet<string>): Promise<{ files: string[]; packages: string[] }> {
  const { metafile } = await build({
    absWorkingDir: dir,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    outdir: path.join(dir, 'graph'),
    logLevel: 'silent',
  });
  const inputs: Metafile['inputs'] = metafile.inputs;
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const i of inputs[file]?.imports ?? []) {
      if (!kinds.has(i.kind)) continue;
      if (i.external === true) packages.add(i.path);
      else visit(i.path);
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

test('the main entry statically loads no protobuf-es and no generated schema; decoding, JSON and transports stay chunks', async () => {
  const entry = 'dist/src/index.js';
  const eager = await staticGraph(entry, new Set(['import-statement']));
  assert.equal(
    eager.packages.filter((p) => !p.startsWith('node:')),
    [],
    `no package at start-up (protobuf-es, connect, undici load with the chunks): ${eager.packages.join(', ')}`,
  );
  for (const f of eager.files) {
    assert.not.match(readFileSync(path.join(dir, f), 'utf8'), /\bfileDesc\(|\bmessageDesc\(/, `${f} holds no generated schema`);
  }
  // The durable log (its lock message marks its code) loads only with storage.
  const durableLog = /is in use by process/;
  for (const f of eager.files) assert.not.match(readFileSync(path.join(dir, f), 'utf8'), durableLog, `${f} holds no durable log`);
  // What the lazy paths bring, so that the assertions above are not vacuous.
  const all = await staticGraph(entry, new Set(['import-statement', 'dynamic-import']));
  for (const p of ['@bufbuild/protobuf', '@bufbuild/protobuf/codegenv2', '@connectrpc/connect-node', 'undici']) {
    assert.ok(all.packages.includes(p), `${p} is reachable through import() from the main entry`);
  }
  assert.ok(
    all.files.some((f) => durableLog.test(readFileSync(path.join(dir, f), 'utf8'))),
    'the durable log is a chunk reachable through import()',
  );
  assert.ok(all.files.length > eager.files.length);
});

let receiver: Receiver | undefined;
test.after(async () => receiver?.close());

test('the main entry by name: records and exports over loopback (gRPC, HTTP/protobuf, HTTP/JSON, memory)', async () => {
  receiver = await startReceiver();
  const r = await node(`
import { createTelemetry } from 'otlp-fanout';
const telemetry = createTelemetry({
  env: {},
  serviceName: 'dist-test',
  backends: [
    { name: 'grpc', endpoint: ${JSON.stringify(receiver.grpcUrl)}, protocol: 'grpc' },
    { name: 'proto', endpoint: ${JSON.stringify(receiver.httpUrl)}, protocol: 'http/protobuf' },
    { name: 'json', endpoint: ${JSON.stringify(receiver.httpUrl)}, protocol: 'http/json' },
    { name: 'mem', kind: 'memory' },
  ],
  exportIntervalMillis: 3_600_000,
  selfMetrics: false,
});
telemetry.meterProvider.getMeter('dist').createCounter('dist.orders').add(3, { country: 'DE' });
telemetry.loggerProvider.getLogger('dist').emit({ body: 'from dist' });
await telemetry.forceFlush();
const memory = telemetry.memory('mem').metricsNamed('dist.orders').length;
await telemetry.shutdown();
process.stdout.write(JSON.stringify({ memory }));
`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.is((JSON.parse(r.stdout) as { memory: number }).memory, 1, 'the in-memory backend decoded the collection');
  for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
    const metrics = receiver.requests.find((q) => q.signal === 'metrics' && q.protocol === protocol);
    assert.ok(metrics !== undefined, `metrics over ${protocol}`);
    if (metrics?.signal !== 'metrics') continue;
    const rm = metrics.message.resourceMetrics[0]!;
    assert.is(rm.scopeMetrics[0]!.metrics[0]!.name, 'dist.orders');
    const version = rm.resource!.attributes.find((a) => a.key === 'telemetry.sdk.version')?.value?.value.value;
    assert.is(version, VERSION, 'the version is read from the package.json beside dist/');
    assert.ok(
      receiver.requests.some((q) => q.signal === 'logs' && q.protocol === protocol),
      `logs over ${protocol}`,
    );
  }
});

test('the main entry by name with storage: the durable log loads from its chunk, delivers, and keeps its cursors', async () => {
  receiver ??= await startReceiver();
  receiver.clear();
  const storage = path.join(dir, 'storage');
  const r = await node(`
import { createTelemetry } from 'otlp-fanout';
const telemetry = createTelemetry({
  env: {},
  storage: { directory: ${JSON.stringify(storage)} },
  backends: [{ name: 'durable', endpoint: ${JSON.stringify(receiver.httpUrl)}, temporality: 'delta' }],
  exportIntervalMillis: 3_600_000,
  selfMetrics: false,
});
telemetry.meterProvider.getMeter('dist').createCounter('dist.stored').add(2);
await telemetry.forceFlush();
process.stdout.write(JSON.stringify(await telemetry.shutdown()));
`);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(JSON.parse(r.stdout), { undelivered: [], kept: [] });
  assert.ok(
    receiver.requests.some((q) => q.signal === 'metrics' && q.message.resourceMetrics[0]?.scopeMetrics[0]?.metrics[0]?.name === 'dist.stored'),
    'delivered through the durable queue',
  );
  assert.equal(readdirSync(storage).sort(), ['0000000000000000.seg', 'durable%2Flogs.cursor', 'durable%2Fmetrics.cursor']);
});

test('otlp-fanout/integration by name: its exports load', async () => {
  const r = await node(`
import * as integration from 'otlp-fanout/integration';
const names = ['createOtlpGrpcTransport', 'createOtlpHttpTransport', 'createBackend', 'createMemoryTransport', 'encodeMetricsRequest', 'protobufToJsonBody', 'createOpampClient', 'instanceUid'];
process.stdout.write(JSON.stringify(names.filter((n) => typeof integration[n] !== 'function')));
`);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), [], 'every one is a function');
});

test('the CLI: --version through node and through its #! line', async () => {
  const cli = path.join(dir, pkg.bin['otlp-fanout']!);
  for (const [command, args] of [
    [process.execPath, [cli, '--version']],
    [cli, ['gateway', '--version']],
  ] as const) {
    const r = await run(command, args);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `otlp-fanout ${VERSION}\n`);
  }
});

test('the gateway from dist, configured by a YAML file: listens, forwards, stops on SIGTERM with exit 0', async () => {
  const upstream = await startReceiver({ grpc: false });
  const config = path.join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `receivers:\n  grpc: { address: 127.0.0.1:0 }\n  http: { address: 127.0.0.1:0 }\nupstreams:\n  main: { endpoint: "${upstream.httpUrl}" }\n`,
  );
  try {
    const body = bin.metrics(metricsRequest(['dist-gateway'], 2));
    const r = await run(process.execPath, [path.join(dir, 'dist/src/cli.js'), 'gateway', '--config', config], async (stdout, stop) => {
      const [, http] = await until(stdout, /listening grpc=\S+ http=(\S+)/);
      const res = await fetch(`http://${http}/v1/metrics`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
      assert.is(res.status, 200);
      const got = await upstream.waitFor(ofSignal('metrics'), 5000);
      assert.ok(Buffer.from(got.bytes).equals(Buffer.from(body)), 'forwarded as received');
      stop();
    });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, 'everything queued was delivered');
  } finally {
    await upstream.close();
  }
});

test.run();
