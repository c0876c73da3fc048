/**
 * Durable storage with a large backlog: the gateway (compiled as it ships, `npm start`'s node
 * flags, `--storage`) forwarding the gateway benchmark's 100-point request to one null receiver.
 *
 * Phases, each with fresh gateway processes:
 * 1. live: the receiver up, the load generator at max rate for `--time` ms: the live forwarding
 *    rate (requests delivered per second) with storage on;
 * 2. fill: the receiver down, the load generator at max rate until the backlog on disk reaches
 *    `--backlog` (default 1 GiB): the gateway's RSS (max of /proc samples every 50 ms);
 * 3. the gateway is killed with SIGKILL (a crash: nothing is flushed on the way out), the receiver
 *    comes up, and a new gateway starts on the same directory: the time from spawn to its listening
 *    line and to its first 200 answer; then the time until the receiver has every request of the
 *    backlog: the drain rate, its ratio to the live rate, and the RSS during the drain.
 *
 * Run: `node --import tsx/esm bench/gateway-backlog.bench.ts [--backlog 1024] (MiB) [--time 5000]
 * [--dir DIR]` (DIR: where the storage goes, default the temp directory; it must hold the backlog).
 * Prints markdown for BENCHMARKS.md.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './gateway-loadgen.js';
import type { ReceiverStats } from './gateway-receiver.js';
import { benchRequest } from './gateway-template.js';
import { compileGateway, message, rssBytes, startScriptFlags } from './lib/processes.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : fallback;
};
const backlogBytes = Number(arg('--backlog', '1024')) * 2 ** 20;
const timeMs = Number(arg('--time', '5000'));
const baseDir = arg('--dir', tmpdir());
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const TSX = ['--import', 'tsx/esm'];
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
const track = (c: ChildProcess): ChildProcess => (children.add(c), c.on('exit', () => children.delete(c)), c);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (b: number): string => (b / 2 ** 20).toFixed(1);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function startReceiver(port: number): Promise<ChildProcess> {
  const child = track(
    fork(here('./gateway-receiver.ts'), ['--port', String(port)], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await message(child, 'ready', 15_000);
  return child;
}

async function receiverStats(r: ChildProcess): Promise<ReceiverStats> {
  r.send({ type: 'stats' });
  return message<ReceiverStats>(r, 'stats', 5000);
}

interface Gateway {
  readonly child: ChildProcess;
  readonly url: string;
  /** performance.now() at spawn. */
  readonly spawnedAt: number;
  /** ms from spawn to the listening line. */
  readonly listeningMs: number;
  /** Its stdout so far. */
  readonly out: () => string;
}

async function startGateway(cli: string, storage: string, port: number): Promise<Gateway> {
  const t0 = performance.now();
  const args = [...startScriptFlags(), cli, 'gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--verbosity', 'basic'];
  args.push('--forward', `http://127.0.0.1:${port}`, '--storage', storage);
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${out}`)), 60_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      const m = /listening grpc=\S+ http=(\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}): ${out}`)));
  });
  const listeningMs = performance.now() - t0;
  child.stdout!.on('data', (c: string) => (out += c));
  return { child, url, spawnedAt: t0, listeningMs, out: () => out };
}

/** Runs the load generator at max rate; `until` ends it early (checked every 200 ms). */
async function load(url: string, durationMs: number, until?: () => boolean): Promise<LoadResult> {
  const spec: LoadSpec = { url, mode: 'max', rate: 0, durationMs, warmupMs: 300, connections: 16 };
  const child = track(fork(here('./gateway-loadgen.ts'), [JSON.stringify(spec)], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await message(child, 'warm', 30_000);
  const done = message<{ result: LoadResult }>(child, 'done', durationMs + 60_000);
  child.send({ type: 'go' });
  if (until !== undefined) {
    const timer = setInterval(() => {
      if (until()) child.send({ type: 'stop' });
    }, 200);
    const result = (await done).result;
    clearInterval(timer);
    return result;
  }
  return (await done).result;
}

function du(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(path.join(dir, f)).size;
  return total;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  await exited;
}

async function main(): Promise<void> {
  const { cli, dir: compiled } = compileGateway('otlp-fanout-backlog-bench-');
  const work = mkdtempSync(path.join(baseDir, 'otlp-fanout-backlog-'));
  try {
    // 1. live rate with storage on.
    const livePort = await freePort();
    const liveReceiver = await startReceiver(livePort);
    const live = await startGateway(cli, path.join(work, 'live'), livePort);
    await load(live.url, 1000);
    liveReceiver.send({ type: 'reset' });
    await message(liveReceiver, 'reset', 5000);
    const t0 = performance.now();
    await load(live.url, timeMs);
    const liveStats = await receiverStats(liveReceiver);
    const liveRate = liveStats.requests / ((performance.now() - t0) / 1000);
    await stop(live.child, 'SIGTERM');
    await stop(liveReceiver, 'SIGKILL');
    process.stderr.write(`live: ${liveRate.toFixed(0)} requests/s delivered\n`);

    // 2. fill the backlog with the receiver down.
    const port = await freePort();
    const storage = path.join(work, 'queue');
    const filling = await startGateway(cli, storage, port);
    let rssFill = 0;
    const sampler = setInterval(() => (rssFill = Math.max(rssFill, rssBytes(filling.child.pid!))), 50);
    const fillStart = performance.now();
    const filled = await load(filling.url, 600_000, () => du(storage) >= backlogBytes);
    clearInterval(sampler);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const onDisk = du(storage);
    const rssAfterFill = rssBytes(filling.child.pid!);
    process.stderr.write(`fill: ${mib(onDisk)} MiB in ${fillSeconds.toFixed(1)} s (${filled.ok} acknowledged), RSS max ${mib(rssFill)} MiB\n`);
    await stop(filling.child, 'SIGKILL');

    // 3. restart on the backlog, receiver up.
    const receiver = await startReceiver(port);
    const restart = await startGateway(cli, storage, port);
    const body = benchRequest().body;
    let firstOk = Number.NaN;
    const statuses: number[] = [];
    for (let i = 0; i < 200 && Number.isNaN(firstOk); i++) {
      const res = await fetch(`${restart.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      await res.arrayBuffer();
      statuses.push(res.status);
      if (res.status === 200) firstOk = performance.now();
      else await sleep(10);
    }
    if (statuses.length > 1) process.stderr.write(`restart: answers before the first 200: ${statuses.join(' ')}\n`);
    // Everything the killed gateway acknowledged (warm-up included), as the new one counts it at start.
    const before = /(\d+) records to deliver from before/.exec(restart.out());
    if (before === null) throw new Error(`no backlog line from the restarted gateway: ${restart.out()}`);
    const servingMs = firstOk - restart.spawnedAt;
    let rssDrain = 0;
    const drainSampler = setInterval(() => (rssDrain = Math.max(rssDrain, rssBytes(restart.child.pid!))), 50);
    const drainStart = performance.now();
    const expected = Number(before[1]) + 1;
    let delivered = 0;
    while (performance.now() - drainStart < 600_000) {
      delivered = (await receiverStats(receiver)).requests;
      if (delivered >= expected) break;
      await sleep(100);
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    clearInterval(drainSampler);
    const drainRate = delivered / drainSeconds;
    await stop(restart.child, 'SIGTERM');
    await stop(receiver, 'SIGKILL');

    const lines = [
      '### Durable storage: a 1 GiB backlog (RSS, restart, drain)',
      '',
      `\`node --import tsx/esm bench/gateway-backlog.bench.ts --backlog ${backlogBytes / 2 ** 20}\`: 100-point requests (${(body.length / 1024).toFixed(1)} KiB), one null receiver, default fsync policy, compiled gateway with \`npm start\`'s flags.`,
      '',
      '| figure | value | target |',
      '| --- | --- | --- |',
      `| backlog written (receiver down) | ${mib(onDisk)} MiB, ${filled.ok} requests in ${fillSeconds.toFixed(1)} s | |`,
      `| gateway RSS while filling, max | ${mib(rssFill)} MiB (at the end: ${mib(rssAfterFill)} MiB) | ≤ 120 MiB |`,
      `| restart after kill -9: spawn → listening | ${restart.listeningMs.toFixed(0)} ms | |`,
      `| restart after kill -9: spawn → first 200 | ${servingMs.toFixed(0)} ms | ≤ 2000 ms |`,
      `| drain: ${delivered} of ${expected} requests in ${drainSeconds.toFixed(1)} s | ${drainRate.toFixed(0)} requests/s | |`,
      `| live forwarding rate with storage (same run) | ${liveRate.toFixed(0)} requests/s | |`,
      `| drain / live | ${(drainRate / liveRate).toFixed(2)}× | ≥ 0.8× |`,
      `| gateway RSS while draining, max | ${mib(rssDrain)} MiB | ≤ 120 MiB |`,
    ];
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(compiled, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`backlog bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
