/**
 * Profiles the compiled gateway under load: one null receiver per upstream, the gateway
 * (compiled with esbuild as in gateway.bench.ts) run with `--cpu-prof`, the load generator in
 * `max` (or `fixed`) mode, then the profile summarised by self time per function.
 *
 * Run: `node --import tsx/esm bench/gateway-profile.ts [--upstreams 2] [--mode max|fixed] [--time 3000]`.
 * Prints the top 40 functions and files by self time; the .cpuprofile stays in the printed
 * directory. `--no-prof`: no profiler, prints the gateway's CPU and RSS and each receiver's
 * requests/posts and delivery latency instead (`--env K=V`, `--node-arg 'FLAG …'`, space-separated, for variants).
 * `--floor`: the same with bench/gateway-floor.ts (the least a Node forwarder can do) in place
 * of the gateway; it runs through tsx, which costs start-up, not CPU per request.
 * `--storage DIR`: the gateway with durable storage in DIR (emptied first).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadSpec } from './gateway-loadgen.js';
import { compileGateway, cpuMs, message, rssBytes } from './lib/processes.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : fallback;
};
const upstreams = Number(arg('--upstreams', '2'));
const mode = arg('--mode', 'max') === 'fixed' ? 'fixed' : 'max';
const timeMs = Number(arg('--time', '3000'));
const profile = !argv.includes('--no-prof');
const rate = Number(arg('--rate', '1000'));
/** Extra environment for the gateway, `K=V` (to compare variants behind a switch). */
const extraEnv = arg('--env', '');
/** An extra node flag for the gateway process (e.g. `--max-semi-space-size=2`). */
const nodeArg = arg('--node-arg', '');
const floor = argv.includes('--floor');
/** `--storage DIR`: the gateway with durable storage there (its queue directory is removed first). */
const storage = arg('--storage', '');

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const TSX = ['--import', 'tsx/esm'];
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

function summarise(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const self = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const url = n.callFrame.url.replace(/^.*\/(node_modules|src|gen)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + hits);
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 40);
  for (const [k, v] of top) process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
  // The same, grouped by file (package for node_modules), to see which layer costs what.
  const byFile = new Map<string, number>();
  for (const [k, v] of self) {
    const file = k
      .slice(k.indexOf(' ') + 1)
      .replace(/:\d+$/, '')
      .replace(/^node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1');
    byFile.set(file, (byFile.get(file) ?? 0) + v);
  }
  process.stdout.write('\nby file:\n');
  for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 30))
    process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
}

async function main(): Promise<void> {
  const { dir } = compileGateway('otlp-fanout-gateway-prof-');
  const profDir = path.join(dir, 'prof');
  const ports: number[] = [];
  const receivers: ChildProcess[] = [];
  for (let i = 0; i < upstreams; i++) {
    const r = fork(here('./gateway-receiver.ts'), [], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(r);
    receivers.push(r);
    ports.push((await message<{ port: number }>(r, 'ready', 15_000)).port);
  }
  const program = floor ? [...TSX, here('./gateway-floor.ts')] : [path.join(dir, 'src/cli.js'), 'gateway', '--grpc', 'off', '--http', '127.0.0.1:0'];
  const args = [...(nodeArg === '' ? [] : nodeArg.split(' ')), ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), ...program];
  for (const p of ports) args.push('--forward', `http://127.0.0.1:${p}`);
  if (storage !== '') {
    rmSync(storage, { recursive: true, force: true });
    args.push('--storage', storage);
  }
  const env = { ...process.env };
  if (extraEnv.includes('=')) env[extraEnv.slice(0, extraEnv.indexOf('='))] = extraEnv.slice(extraEnv.indexOf('=') + 1);
  const gw = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('gateway did not start')), 15_000);
    gw.stdout!.setEncoding('utf8');
    gw.stdout!.on('data', (c: string) => {
      out += c;
      const m = /listening grpc=\S+ http=(\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
  });
  const spec: LoadSpec = { url, mode, rate, durationMs: timeMs, warmupMs: 500, connections: 16 };
  const load = fork(here('./gateway-loadgen.ts'), [JSON.stringify(spec)], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(load);
  await message(load, 'warm', 30_000);
  const done = message<{ result: unknown }>(load, 'done', timeMs + 30_000);
  const cpu0 = cpuMs(gw.pid!);
  const t0 = performance.now();
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, rssBytes(gw.pid!) / 1048576)), 50);
  for (const r of receivers) r.send({ type: 'reset' });
  load.send({ type: 'go' });
  const result = (await done).result;
  clearInterval(sampler);
  const cpuUsedMs = cpuMs(gw.pid!) - cpu0;
  const cpu = (cpuUsedMs / (performance.now() - t0)) * 100;
  const stats = await Promise.all(
    receivers.map(
      (r) => (
        r.send({ type: 'stats' }), message<{ requests: number; posts: number; deliveryP50Ms: number; deliveryP99Ms: number }>(r, 'stats', 5000)
      ),
    ),
  );
  const d = stats.map((x) => `${x.requests}/${x.posts} p50 ${x.deliveryP50Ms.toFixed(2)} p99 ${x.deliveryP99Ms.toFixed(2)}`).join('; ');
  const delivered = Math.min(...stats.map((x) => x.requests));
  const perRequest = stats.length === 0 ? '' : `, ${((cpuUsedMs * 1000) / Math.max(1, delivered)).toFixed(1)} µs CPU per delivered request`;
  process.stdout.write(
    `${JSON.stringify(result)}\n${floor ? 'floor' : 'gateway'} CPU ${cpu.toFixed(0)}%${perRequest}, RSS max ${rss.toFixed(1)} MiB; receivers (requests/posts, delivery ms): ${d}\n`,
  );
  if (!profile) {
    gw.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
  const exited = new Promise<void>((r) => gw.once('exit', () => r()));
  gw.kill('SIGTERM');
  await exited;
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('no profile written');
  process.stdout.write(`profile: ${path.join(profDir, file)}\n`);
  summarise(path.join(profDir, file));
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
