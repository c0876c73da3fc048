/**
 * The web inspector's cost with no browser connected: CPU per forwarded request of the gateway with
 * the inspector on (`--ui 127.0.0.1:0`, nobody connected) against the same gateway with it off, side
 * by side. Issue 15's bound: on / off ≤ 1.03.
 *
 * The pieces of bench/gateway.bench.ts: the gateway as it ships (compiled JS, the node flags of
 * `npm start`), the 100-point OTLP/HTTP request sent by the load generator (gateway-loadgen.ts) at a
 * fixed rate over keep-alive connections, one decoding receiver (gateway-receiver.ts); every process
 * on its own. Each round runs the two setups AT THE SAME TIME, each with its own load generator and
 * receiver, fresh processes every round: on a shared 2-core machine (other work pushed the load
 * average to 8 while this was written) the CPU per request of one setup run after the other varied
 * by ±40 % between rounds, while two gateways measured in the same seconds see the same contention,
 * so their ratio is what is compared (paired per round; the median reported). The gateway's CPU
 * (utime + stime from /proc, 10 ms ticks) is read over the measured phase only, after a warm-up, and
 * divided by the requests its receiver got. The per-request cost of the inspector's observer alone,
 * in process, is bench/gateway-ui-observer.bench.ts.
 *
 * Run: `npm run bench:gateway-ui` (= `node --import tsx/esm bench/gateway-ui.bench.ts [--rounds 8]
 * [--time 8000] [--warmup 3000] [--rate 400]`; 400/s each: two gateways and their peers fit two cores). Prints markdown for BENCHMARKS.md.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median } from './lib/harness.js';
import { compileGateway, cpuMs, message, startScriptFlags } from './lib/processes.js';
import type { LoadResult, LoadSpec } from './gateway-loadgen.js';
import type { ReceiverStats } from './gateway-receiver.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  const n = i < 0 ? Number.NaN : Number(args[i + 1]);
  return n > 0 ? n : fallback;
};
const o = { rounds: flag('--rounds', 8), timeMs: flag('--time', 8000), warmupMs: flag('--warmup', 3000), rate: flag('--rate', 400), connections: 16 };

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const TSX = ['--import', 'tsx/esm'];
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

async function stop(child: ChildProcess, graceful: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  graceful();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

const SETUPS = [
  { name: 'inspector off', ui: [] as string[] },
  { name: 'inspector on, no browser', ui: ['--ui', '127.0.0.1:0'] },
] as const;

interface Phase {
  readonly setup: string;
  readonly round: number;
  readonly cpuPerRequestUs: number;
  readonly deliveredPerSec: number;
  readonly non2xx: number;
}

async function startGateway(cli: string, port: number, extra: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = track(
    spawn(
      process.execPath,
      [...startScriptFlags(), cli, 'gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--forward', `http://127.0.0.1:${port}`, ...extra],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let found = false;
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 15 s: ${out}`)), 15_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      // Keep reading (and discarding) after start so the summaries never block the gateway.
      if (found) return;
      out += chunk;
      const m = /listening grpc=\S+ http=(\S+)/.exec(out);
      if (m !== null && (extra.length === 0 || out.includes('inspector: '))) {
        found = true;
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}): ${out}`)));
  });
  return { child, url };
}

interface Running {
  readonly setup: (typeof SETUPS)[number];
  readonly receiver: ChildProcess;
  readonly gw: { child: ChildProcess; url: string };
  readonly load: ChildProcess;
}

async function prepare(cli: string, setup: (typeof SETUPS)[number]): Promise<Running> {
  const receiver = track(fork(here('./gateway-receiver.ts'), ['--decode'], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const { port } = await message<{ port: number }>(receiver, 'ready', 15_000);
  const gw = await startGateway(cli, port, setup.ui);
  const spec: LoadSpec = { url: gw.url, mode: 'fixed', rate: o.rate, durationMs: o.timeMs, warmupMs: o.warmupMs, connections: o.connections };
  const load = track(fork(here('./gateway-loadgen.ts'), [JSON.stringify(spec)], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return { setup, receiver, gw, load };
}

/** One round: both setups warm up, then are measured over the same seconds. */
async function round(cli: string, n: number): Promise<Phase[]> {
  // Started (and so placed and warmed) in the other order every other round.
  const order = n % 2 === 0 ? SETUPS : [...SETUPS].reverse();
  const running = (await Promise.all(order.map((s) => prepare(cli, s)))).sort((a, b) => SETUPS.indexOf(a.setup) - SETUPS.indexOf(b.setup));
  try {
    await Promise.all(running.map((r) => message(r.load, 'warm', o.warmupMs + 30_000)));
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all(running.map((r) => (r.receiver.send({ type: 'reset' }), message(r.receiver, 'reset', 5000))));
    const cpu0 = running.map((r) => cpuMs(r.gw.child.pid!));
    const done = running.map((r) => message<{ result: LoadResult }>(r.load, 'done', o.timeMs + 60_000));
    for (const r of running) r.load.send({ type: 'go' });
    const results = await Promise.all(done);
    const cpu = running.map((r, i) => cpuMs(r.gw.child.pid!) - cpu0[i]!);
    const stats = await Promise.all(running.map((r) => (r.receiver.send({ type: 'stats' }), message<ReceiverStats>(r.receiver, 'stats', 5000))));
    return running.map((r, i) => ({
      setup: r.setup.name,
      round: n,
      cpuPerRequestUs: (cpu[i]! * 1000) / Math.max(1, stats[i]!.requests),
      deliveredPerSec: stats[i]!.requests / (results[i]!.result.elapsedMs / 1000),
      non2xx: results[i]!.result.refused + results[i]!.result.errors,
    }));
  } finally {
    for (const r of running) {
      await stop(r.load, () => r.load.connected && r.load.disconnect());
      await stop(r.gw.child, () => r.gw.child.kill('SIGTERM'));
      await stop(r.receiver, () => r.receiver.connected && r.receiver.send({ type: 'exit' }));
    }
  }
}

async function main(): Promise<void> {
  const { cli, dir } = compileGateway('otlp-fanout-ui-bench-');
  const load0 = loadavg()[0]!;
  const phases: Phase[] = [];
  try {
    for (let n = 0; n < o.rounds; n++) {
      for (const p of await round(cli, n)) {
        phases.push(p);
        process.stderr.write(
          `round ${n + 1}/${o.rounds} ${p.setup}: ${p.cpuPerRequestUs.toFixed(1)} µs CPU per request, ${p.deliveredPerSec.toFixed(0)}/s\n`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const of = (name: string): Phase[] => phases.filter((p) => p.setup === name);
  const off = of(SETUPS[0].name);
  const on = of(SETUPS[1].name);
  const ratios = off.map((p, i) => on[i]!.cpuPerRequestUs / p.cpuPerRequestUs);
  const lines = [
    `${o.rounds} rounds, both setups at once, each at ${o.rate} requests/s of 100 points for ${o.timeMs / 1000} s after ${o.warmupMs / 1000} s of warm-up, 1 upstream; node ${process.version}; 1-min load average ${load0.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after.`,
    '',
    '| setup | gateway CPU per forwarded request (median) | per round | delivered/s | non-2xx |',
    '| --- | --- | --- | --- | --- |',
    ...[off, on].map(
      (ps) =>
        `| ${ps[0]!.setup} | ${median(ps.map((p) => p.cpuPerRequestUs)).toFixed(1)} µs | ${ps.map((p) => p.cpuPerRequestUs.toFixed(1)).join(', ')} | ${median(ps.map((p) => p.deliveredPerSec)).toFixed(0)} | ${ps.reduce((n, p) => n + p.non2xx, 0)} |`,
    ),
    '',
    `**on / off, paired per round: median ${median(ratios).toFixed(3)}×** (rounds: ${ratios.map((r) => r.toFixed(3)).join(', ')}; bound ≤ 1.03×)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
