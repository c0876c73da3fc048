/**
 * Gateway benchmark: OTLP/HTTP protobuf requests of 100 data points, sent by a load
 * generator in its own process (gateway-loadgen.ts) over keep-alive connections on
 * loopback, either straight to a receiver ("direct") or through the gateway (the real CLI,
 * `src/cli.ts gateway`, its own process, default verbosity) forwarding to 1 or 2 receivers
 * (gateway-receiver.ts, one process each). Every phase gets fresh processes; the three
 * setups run interleaved, their order reversed every other round, so drift hits all alike.
 *
 * Per setup, two phases, each after a warm-up:
 * - fixed rate (default 1,000 requests/s = 100,000 points/s): delivery latency (send → arrival
 *   at the receiver, read from a timestamp in the body) and the client's response latency;
 *   "added latency" = through the gateway minus direct, paired per round;
 * - max rate (closed loops over `--connections` connections): delivered requests/s (the slowest
 *   receiver's count over the phase) and points/s; the ratio gateway/direct is paired per round.
 * The gateway's RSS (max of /proc samples every 50 ms) and CPU (utime+stime over the phase)
 * are measured during each phase.
 *
 * The gateway runs with the node flags of `npm start` (package.json; `--no-start-flags`: without).
 * CPU time of every process is read too, per delivered request: on a small machine the
 * setups compete for the same cores, so the throughput ratio is set by the total.
 *
 * Two references that are not the gateway forward the same request to the same two receivers,
 * with the same load generator, in the same rounds (gateway-references.ts): Debian's nginx with
 * its mirror module (`proxy_pass` to one, `mirror` to the other; skipped, and said so, when
 * nginx is not installed) and the floor forwarder (gateway-floor.ts). Their CPU per forwarded
 * request is compared with the gateway's, paired per round.
 *
 * Run: `node --import tsx/esm bench/gateway.bench.ts [--rounds 3] [--time 5000] [--warmup 3000]
 * [--rate 1000] [--connections 16] [--pin] [--null-receiver] [--no-references] [--nginx-auto]
 * [--storage default|all|none] [--json FILE]`. Prints markdown for BENCHMARKS.md. Durable storage setups
 * (`--storage`: the default fsync policy; `all`: each policy) write in $BENCH_STORAGE_DIR or the temp directory.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/harness.js';
import { compileGateway, cpuMs, message, rssBytes, startScriptFlags } from './lib/processes.js';
import type { LoadResult, LoadSpec } from './gateway-loadgen.js';
import type { ReceiverStats } from './gateway-receiver.js';
import { benchRequest, POINTS_PER_REQUEST } from './gateway-template.js';
import { compileFloor, nginxVersion, startFloor, startNginx } from './gateway-references.js';
import type { Forwarder } from './gateway-references.js';
import type { FsyncPolicy } from '../src/export/durable/options.js';

interface Options {
  rounds: number;
  timeMs: number;
  warmupMs: number;
  rate: number;
  connections: number;
  json: string | undefined;
  /** Only setups whose name contains this (the report then lacks the ratios). */
  filter: string | undefined;
  /** Run the gateway from source through tsx instead of compiled JS (RSS then includes tsx, ~35 MiB). */
  tsx: boolean;
  /** Receivers that do not decode (null sinks) instead of decoding each body. */
  nullReceiver: boolean;
  /**
   * `--baseline DIR`: a second gateway, compiled from another checkout of this repository (e.g. a
   * `git worktree` of the commit before a change), runs as extra setups in the same rounds, so
   * before/after figures come from one period of the machine.
   */
  baseline: string | undefined;
  /** Extra node flags for the gateway process (`--gateway-node-arg`, repeatable), after those of `npm start`. */
  gatewayNodeArgs: string[];
  /** Run the gateway with the node flags of package.json's `start` script, as `npm start` does (off: `--no-start-flags`). */
  startFlags: boolean;
  /**
   * `--pin`: the gateway on CPU 1, the load generator and receivers on CPU 0 (taskset), as if the gateway
   * had a machine of its own; direct then runs on CPU 0 only. Without it every process shares every CPU.
   */
  pin: boolean;
  /** Run the nginx mirror and floor forwarder setups (off: `--no-references`). */
  references: boolean;
  /** `--nginx-auto`: also nginx with `worker_processes auto` (one worker per CPU) besides the single-worker one. */
  nginxAuto: boolean;
  /**
   * Durable storage setups (2 upstreams, `--storage` in a temporary directory): `default` (the default
   * fsync policy; the default), `all` (each policy: always, interval, never), `none` (`--storage none`).
   */
  storage: 'default' | 'all' | 'none';
}

function parseArgs(argv: readonly string[]): Options {
  // 3 s of warm-up: the gateway's first ~2 s under load are JIT compilation (event-loop stalls of 5–15 ms), which a
  // latency percentile of a long-running gateway should not include.
  const o: Options = {
    rounds: 3,
    timeMs: 5000,
    warmupMs: 3000,
    rate: 1000,
    connections: 16,
    json: undefined,
    filter: undefined,
    baseline: undefined,
    tsx: argv.includes('--tsx'),
    nullReceiver: argv.includes('--null-receiver'),
    gatewayNodeArgs: [],
    startFlags: !argv.includes('--no-start-flags'),
    pin: argv.includes('--pin'),
    references: !argv.includes('--no-references'),
    nginxAuto: argv.includes('--nginx-auto'),
    storage: 'default',
  };
  for (let i = 0; i < argv.length - 1; i++) {
    const [flag, v] = [argv[i], argv[i + 1]!];
    const n = Number(v);
    if (flag === '--gateway-node-arg') {
      o.gatewayNodeArgs.push(v);
      i++;
      continue;
    }
    if (flag === '--json') o.json = v;
    else if (flag === '--filter') o.filter = v;
    else if (flag === '--baseline') o.baseline = v;
    else if (flag === '--storage' && (v === 'default' || v === 'all' || v === 'none')) o.storage = v;
    else if (!(n > 0)) continue;
    else if (flag === '--rounds') o.rounds = n;
    else if (flag === '--time') o.timeMs = n;
    else if (flag === '--warmup') o.warmupMs = n;
    else if (flag === '--rate') o.rate = n;
    else if (flag === '--connections') o.connections = n;
    else continue;
    i++;
  }
  return o;
}

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

const TSX = ['--import', 'tsx/esm'];
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

let pinning = false;

/** With `--pin`: moves every thread of `pid` to `cpu`. */
function pinTo(pid: number | undefined, cpu: number): void {
  if (pinning && pid !== undefined) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function startReceiver(decode: boolean): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    fork(here('./gateway-receiver.ts'), decode ? ['--decode'] : [], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const ready = await message<{ port: number }>(child, 'ready', 15_000);
  pinTo(child.pid, 0);
  return { child, port: ready.port };
}

/** How to run each gateway build: `current` (this checkout) and, with `--baseline`, `baseline`. */
const gatewayCli: Record<GatewayBuild, string[]> = { current: [], baseline: [] };
let gatewayNodeArgs: string[] = [];

async function startGateway(build: GatewayBuild, forward: readonly number[], storage?: FsyncPolicy): Promise<Forwarder> {
  const args = [...gatewayNodeArgs, ...gatewayCli[build], 'gateway', '--grpc', 'off', '--http', '127.0.0.1:0'];
  for (const p of forward) args.push('--forward', `http://127.0.0.1:${p}`);
  let storageDir: string | undefined;
  if (storage !== undefined) {
    // On the machine's disk (not a tmpfs), as a gateway's storage would be.
    storageDir = mkdtempSync(path.join(process.env['BENCH_STORAGE_DIR'] ?? tmpdir(), 'otlp-fanout-bench-storage-'));
    const config = path.join(storageDir, 'gateway.yaml');
    writeFileSync(config, `storage: { directory: ${path.join(storageDir, 'queue')}, fsync: ${storage} }\n`);
    args.push('--config', config);
  }
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 15 s: ${out}`)), 15_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      // Keep reading (and discarding) after start so the summaries never block the gateway.
      if (timer === undefined) return;
      out += chunk;
      const m = /listening grpc=\S+ http=(\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}): ${out}`)));
  });
  pinTo(child.pid, 1);
  const stopped = async (): Promise<void> => {
    await stop(child, () => child.kill('SIGTERM'));
    if (storageDir !== undefined) rmSync(storageDir, { recursive: true, force: true });
  };
  return { child, url, pids: () => [child.pid!], metrics: true, stop: stopped };
}

async function stop(child: ChildProcess, graceful: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  graceful();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** What the bench reads from the gateway's own `GET /metrics`. */
interface GatewayFigures {
  readonly queuedBytes: number;
  /** Items dropped by upstream queues (full, or shut down) since start, all upstreams. */
  readonly droppedItems: number;
  readonly refusals: number;
}

function sumOf(page: string, name: string, filter?: string): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (filter !== undefined && !line.includes(filter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function scrape(url: string): Promise<GatewayFigures> {
  const page = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return {
    queuedBytes: sumOf(page, 'otlp_fanout_gateway_queue_size_bytes'),
    droppedItems: sumOf(page, 'otlp_fanout_gateway_upstream_items_total', 'outcome="dropped"'),
    refusals: sumOf(page, 'otlp_fanout_gateway_refusals_total'),
  };
}

/** Waits (bounded) until the gateway's queues are empty, so a phase starts without the warm-up's backlog. */
async function drained(url: string, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if ((await scrape(url)).queuedBytes === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

interface Phase {
  readonly setup: string;
  readonly mode: 'fixed' | 'max';
  readonly round: number;
  readonly deliveredPerSec: number;
  /** HTTP requests the (slowest) receiver got per second: fewer than delivered when the gateway merged some. */
  readonly postsPerSec: number;
  readonly ackedPerSec: number;
  readonly refused: number;
  readonly errors: number;
  readonly unreadable: number;
  readonly deliveryP50Ms: number;
  readonly deliveryP99Ms: number;
  readonly responseP50Ms: number;
  readonly responseP99Ms: number;
  readonly late: number;
  /**
   * CPU time (user + system, all threads) per delivered request, µs: load generator, forwarder, receivers. The
   * forwarder (`gateway`) is the gateway's process, nginx's master and workers, or the floor forwarder.
   */
  readonly cpuPerRequestUs: { readonly load: number; readonly gateway: number; readonly receivers: number };
  /** Forwarder only (all its processes). */
  readonly rssMaxBytes: number | undefined;
  readonly cpuPercent: number | undefined;
  /** Gateway only, from its /metrics: items its upstream queues dropped during the phase. */
  readonly droppedItems: number;
  readonly queuedAtEndBytes: number;
  /** False when the warm-up's backlog had not drained after 20 s (the phase then starts loaded). */
  readonly backlogDrained: boolean;
}

type GatewayBuild = 'current' | 'baseline';

interface Setup {
  readonly name: string;
  /** 0: direct to one receiver. */
  readonly upstreams: number;
  /** What forwards: nothing (direct), our gateway (of `build`), nginx's mirror (`worker_processes`), the floor forwarder. */
  readonly kind: 'direct' | 'gateway' | 'nginx' | 'floor';
  readonly build: GatewayBuild;
  /** nginx only: `worker_processes`. */
  readonly workers?: '1' | 'auto';
  /** Gateway only: durable storage with this fsync policy. */
  readonly storage?: FsyncPolicy;
}

let SETUPS: readonly Setup[] = [
  { name: 'direct', upstreams: 0, kind: 'direct', build: 'current' },
  { name: 'gateway, 1 upstream', upstreams: 1, kind: 'gateway', build: 'current' },
  { name: 'gateway, 2 upstreams', upstreams: 2, kind: 'gateway', build: 'current' },
];
const BASELINE_SETUPS: readonly Setup[] = [
  { name: 'baseline, 1 upstream', upstreams: 1, kind: 'gateway', build: 'baseline' },
  { name: 'baseline, 2 upstreams', upstreams: 2, kind: 'gateway', build: 'baseline' },
];
const NGINX = 'nginx mirror, 2 upstreams';
const NGINX_AUTO = 'nginx mirror (auto workers), 2 upstreams';
const FLOOR = 'floor, 2 upstreams';
// One nginx worker: comparable with the gateway's single-threaded Node process.
const NGINX_SETUP: Setup = { name: NGINX, upstreams: 2, kind: 'nginx', build: 'current', workers: '1' };
const NGINX_AUTO_SETUP: Setup = { name: NGINX_AUTO, upstreams: 2, kind: 'nginx', build: 'current', workers: 'auto' };
const FLOOR_SETUP: Setup = { name: FLOOR, upstreams: 2, kind: 'floor', build: 'current' };
/** Why the nginx setups did not run, for the report; undefined when they ran or were not asked for. */
let nginxSkipped: string | undefined;
let floorJs = '';

async function runPhase(
  o: Options,
  setup: Setup,
  mode: 'fixed' | 'max',
  round: number,
  url: string,
  receivers: readonly ChildProcess[],
  fwd: Forwarder | undefined,
): Promise<Phase> {
  const spec: LoadSpec = { url, mode, rate: o.rate, durationMs: o.timeMs, warmupMs: o.warmupMs, connections: o.connections };
  const load = track(fork(here('./gateway-loadgen.ts'), [JSON.stringify(spec)], { execArgv: TSX, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  pinTo(load.pid, 0);
  await message(load, 'warm', o.warmupMs + 30_000);
  // Let the warm-up's last requests land (and the gateway's backlog drain) before the counters start.
  await new Promise((r) => setTimeout(r, 200));
  // Only our gateway has /metrics to read its queues and drops from.
  const gateway = fwd?.metrics === true;
  const backlogDrained = gateway ? await drained(url, 20_000) : true;
  const before = gateway ? await scrape(url) : undefined;
  await Promise.all(receivers.map((r) => (r.send({ type: 'reset' }), message(r, 'reset', 5000))));
  // Every process of the forwarder (nginx: master and workers), read from /proc like the gateway's.
  const pids = fwd?.pids() ?? [];
  const pid = pids[0];
  const cpuOf = (): number => pids.reduce((sum, p) => sum + cpuMs(p), 0);
  const rssOf = (): number => pids.reduce((sum, p) => sum + rssBytes(p), 0);
  const cpu0 = pid === undefined ? 0 : cpuOf();
  const others0 = [load, ...receivers].map((c) => cpuMs(c.pid!));
  const t0 = performance.now();
  let rssMax = 0;
  const sampler =
    pid === undefined
      ? undefined
      : setInterval(() => {
          rssMax = Math.max(rssMax, rssOf());
        }, 50);
  const done = message<{ result: LoadResult }>(load, 'done', o.timeMs + 60_000);
  load.send({ type: 'go' });
  const { result } = await done;
  if (sampler !== undefined) clearInterval(sampler);
  const wall = performance.now() - t0;
  const gatewayCpuMs = pid === undefined ? 0 : cpuOf() - cpu0;
  const cpuPercent = pid === undefined ? undefined : (gatewayCpuMs / wall) * 100;
  const others = [load, ...receivers].map((c, i) => cpuMs(c.pid!) - others0[i]!);
  if (pid !== undefined) rssMax = Math.max(rssMax, rssOf());
  const stats = await Promise.all(receivers.map((r) => (r.send({ type: 'stats' }), message<ReceiverStats>(r, 'stats', 5000))));
  const after = gateway ? await scrape(url) : undefined;
  await stop(load, () => {
    if (load.connected) load.disconnect();
  });
  const seconds = result.elapsedMs / 1000;
  const delivered = Math.min(...stats.map((s) => s.requests));
  const perRequest = (ms: number): number => (ms * 1000) / Math.max(1, delivered);
  return {
    cpuPerRequestUs: {
      load: perRequest(others[0]!),
      gateway: perRequest(gatewayCpuMs),
      receivers: perRequest(others.slice(1).reduce((a, b) => a + b, 0)),
    },
    setup: setup.name,
    mode,
    round,
    deliveredPerSec: delivered / seconds,
    postsPerSec: Math.min(...stats.map((s) => s.posts)) / seconds,
    ackedPerSec: result.ok / seconds,
    refused: result.refused,
    errors: result.errors,
    unreadable: stats.reduce((n, s) => n + s.unreadable, 0),
    deliveryP50Ms: Math.max(...stats.map((s) => s.deliveryP50Ms)),
    deliveryP99Ms: Math.max(...stats.map((s) => s.deliveryP99Ms)),
    responseP50Ms: result.responseP50Ms,
    responseP99Ms: result.responseP99Ms,
    late: result.late,
    rssMaxBytes: pid === undefined ? undefined : rssMax,
    cpuPercent,
    droppedItems: before === undefined || after === undefined ? 0 : after.droppedItems - before.droppedItems,
    queuedAtEndBytes: after?.queuedBytes ?? 0,
    backlogDrained,
  };
}

async function runSetup(o: Options, setup: Setup, round: number): Promise<Phase[]> {
  const receivers = await Promise.all(Array.from({ length: Math.max(1, setup.upstreams) }, () => startReceiver(!o.nullReceiver)));
  let fwd: Forwarder | undefined;
  try {
    const ports = receivers.map((r) => r.port);
    if (setup.kind === 'gateway') fwd = await startGateway(setup.build, ports, setup.storage);
    else if (setup.kind === 'nginx') fwd = await startNginx(ports, setup.workers ?? '1');
    else if (setup.kind === 'floor') fwd = await startFloor(floorJs, gatewayNodeArgs, ports);
    if (fwd !== undefined) {
      track(fwd.child);
      for (const p of fwd.pids()) pinTo(p, 1);
    }
    const url = fwd?.url ?? `http://127.0.0.1:${receivers[0]!.port}`;
    const out: Phase[] = [];
    for (const mode of ['fixed', 'max'] as const) {
      out.push(
        await runPhase(
          o,
          setup,
          mode,
          round,
          url,
          receivers.map((r) => r.child),
          fwd,
        ),
      );
    }
    return out;
  } finally {
    await fwd?.stop();
    await Promise.all(receivers.map((r) => stop(r.child, () => r.child.send({ type: 'exit' }))));
  }
}

const f1 = (v: number): string => v.toFixed(1);
const f2 = (v: number): string => v.toFixed(2);
const fk = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(0)} k` : v >= 1000 ? `${(v / 1000).toFixed(1)} k` : v.toFixed(0));

/** `median (min–max)` of a figure across rounds. */
function spread(values: readonly number[], fmt: (v: number) => string): string {
  if (values.length === 0) return '–';
  return `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
}

function report(o: Options, phases: readonly Phase[], load: readonly [number, number]): string {
  const of = (setup: string, mode: string): Phase[] => phases.filter((p) => p.setup === setup && p.mode === mode).sort((a, b) => a.round - b.round);
  const lines: string[] = [];
  lines.push('## Gateway', '');
  lines.push(
    `OTLP/HTTP protobuf, 100 data points (${(benchRequest().body.length / 1024).toFixed(1)} KiB) per request, keep-alive on loopback; load generator, gateway and each receiver in their own process; ` +
      `${o.rounds} rounds, setups interleaved (order reversed every other round), fresh processes per setup; ` +
      `${o.warmupMs} ms warm-up + ${o.timeMs} ms measured per phase; Node ${process.version}, ${readCpuCount()} CPUs, ` +
      `1-min load average ${load[0].toFixed(1)} before and ${load[1].toFixed(1)} after; gateway ${o.tsx ? 'run through tsx' : 'compiled to JS'}${gatewayNodeArgs.length > 0 ? ` with \`node ${gatewayNodeArgs.join(' ')}\`` : ''}, default verbosity. ` +
      `${o.pin ? 'Pinned (`--pin`): the gateway alone on CPU 1, the load generator and receivers on CPU 0 (direct: CPU 0 only). ' : 'Every process may run on every CPU. '}Figures: median (min–max) across rounds. Receivers ${o.nullReceiver ? 'answer 200 without decoding (null sinks)' : 'decode each body (fromBinary, as a backend must) and answer 200'}.`,
    '',
  );
  lines.push(`### Max rate (${o.connections} connections, closed loop)`, '');
  lines.push(
    '| setup | accepted req/s | delivered req/s | upstream posts/s | delivered points/s | forwarder/direct (delivered) | client p99 | forwarder RSS (MiB) | forwarder CPU % | CPU µs per request: load gen / forwarder / receivers = all |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const directMax = of('direct', 'max');
  for (const s of SETUPS) {
    const ps = of(s.name, 'max');
    const ratio =
      s.upstreams === 0
        ? ''
        : spread(
            ps.map((p, i) => p.deliveredPerSec / (directMax[i]?.deliveredPerSec ?? NaN)),
            (v) => `${f2(v)}×`,
          );
    lines.push(
      `| ${s.name} | ${spread(
        ps.map((p) => p.ackedPerSec),
        fk,
      )} | ${spread(
        ps.map((p) => p.deliveredPerSec),
        fk,
      )} | ${spread(
        ps.map((p) => p.postsPerSec),
        fk,
      )} | ${spread(
        ps.map((p) => p.deliveredPerSec * POINTS_PER_REQUEST),
        fk,
      )} | ${ratio} | ` +
        `${spread(
          ps.map((p) => p.responseP99Ms),
          f1,
        )} ms | ${
          s.upstreams === 0
            ? ''
            : spread(
                ps.map((p) => (p.rssMaxBytes ?? 0) / 2 ** 20),
                f1,
              )
        } | ` +
        `${
          s.upstreams === 0
            ? ''
            : spread(
                ps.map((p) => p.cpuPercent ?? 0),
                (v) => v.toFixed(0),
              )
        } | ${cpuSplit(ps)} |`,
    );
  }
  lines.push('', `### Fixed rate (${o.rate} requests/s = ${fk(o.rate * POINTS_PER_REQUEST)} points/s)`, '');
  lines.push(
    '| setup | delivered req/s | delivery p50 | delivery p99 | added p50 | added p99 | client p99 | forwarder RSS (MiB) | forwarder CPU % |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const directFixed = of('direct', 'fixed');
  for (const s of SETUPS) {
    const ps = of(s.name, 'fixed');
    const added = (pick: (p: Phase) => number): string =>
      s.upstreams === 0
        ? ''
        : `${spread(
            ps.map((p, i) => pick(p) - (directFixed[i] === undefined ? NaN : pick(directFixed[i]!))),
            f2,
          )} ms`;
    lines.push(
      `| ${s.name} | ${spread(
        ps.map((p) => p.deliveredPerSec),
        fk,
      )} | ${spread(
        ps.map((p) => p.deliveryP50Ms),
        f2,
      )} ms | ${spread(
        ps.map((p) => p.deliveryP99Ms),
        f2,
      )} ms | ` +
        `${added((p) => p.deliveryP50Ms)} | ${added((p) => p.deliveryP99Ms)} | ${spread(
          ps.map((p) => p.responseP99Ms),
          f2,
        )} ms | ` +
        `${
          s.upstreams === 0
            ? ''
            : spread(
                ps.map((p) => (p.rssMaxBytes ?? 0) / 2 ** 20),
                f1,
              )
        } | ${
          s.upstreams === 0
            ? ''
            : spread(
                ps.map((p) => p.cpuPercent ?? 0),
                (v) => v.toFixed(0),
              )
        } |`,
    );
  }
  if (SETUPS.some((s) => s.build === 'baseline')) lines.push(...baselineComparison(of));
  if (o.references) lines.push(...referenceComparison(of));
  lines.push(...storageComparison(of));
  const problems = phases.filter(
    (p) => p.errors > 0 || p.refused > 0 || p.unreadable > 0 || (p.mode === 'fixed' && p.late > 0) || p.droppedItems > 0 || !p.backlogDrained,
  );
  lines.push('');
  if (problems.length === 0) lines.push('Every request was answered 2xx and delivered byte for byte; the fixed-rate sender kept its schedule.');
  for (const p of problems) {
    const parts = [
      p.errors > 0 ? `${p.errors} errors` : '',
      p.refused > 0 ? `${p.refused} refused (429/503)` : '',
      p.unreadable > 0 ? `${p.unreadable} unreadable at the receiver` : '',
      p.mode === 'fixed' && p.late > 0 ? `${p.late} sends >5 ms late` : '',
      p.droppedItems > 0
        ? `${fk(p.droppedItems)} points dropped by full upstream queues (${(p.queuedAtEndBytes / 2 ** 20).toFixed(0)} MiB still queued at the end)`
        : '',
      p.backlogDrained ? '' : "the warm-up's backlog had not drained when the phase began",
    ].filter((x) => x !== '');
    lines.push(`- ${p.setup}, ${p.mode}, round ${p.round + 1}: ${parts.join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * This build against `--baseline`, paired per round (same round = same period of the machine): gateway CPU per
 * delivered request at max rate and at the fixed rate, and the fixed rate's RSS and delivery p99.
 */
function baselineComparison(of: (setup: string, mode: string) => Phase[]): string[] {
  const lines = ['', '### This build / baseline (paired per round)', ''];
  lines.push('| upstreams | gateway CPU µs/request, max rate | at fixed rate | RSS at fixed rate | delivery p99 at fixed rate |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (const n of [1, 2]) {
    const label = n === 1 ? '1 upstream' : '2 upstreams';
    const ratio = (mode: 'fixed' | 'max', pick: (p: Phase) => number): string => {
      const now = of(`gateway, ${label}`, mode);
      const before = of(`baseline, ${label}`, mode);
      const rs = now.map((p, i) => pick(p) / (before[i] === undefined ? NaN : pick(before[i]!))).filter(Number.isFinite);
      return `${spread(rs, (v) => `${f2(v)}×`)} (${spread(now.map(pick), f1)} vs ${spread(before.map(pick), f1)})`;
    };
    lines.push(
      `| ${n} | ${ratio('max', (p) => p.cpuPerRequestUs.gateway)} | ${ratio('fixed', (p) => p.cpuPerRequestUs.gateway)} | ` +
        `${ratio('fixed', (p) => (p.rssMaxBytes ?? 0) / 2 ** 20)} | ${ratio('fixed', (p) => p.deliveryP99Ms)} |`,
    );
  }
  return lines;
}

/**
 * The gateway against the references, 2 upstreams: CPU per forwarded request (forwarder process CPU ÷ requests the
 * slowest receiver got), and the ratios gateway / nginx mirror and gateway / floor, paired per round.
 */
function referenceComparison(of: (setup: string, mode: string) => Phase[]): string[] {
  const lines = ['', '### CPU per forwarded request: the gateway against nginx mirror and the floor forwarder (2 upstreams)', ''];
  lines.push(
    nginxSkipped === undefined
      ? `${nginxVersion() ?? 'nginx'} runs \`worker_processes 1\`, comparable with the gateway's single-threaded Node process${SETUPS.some((s) => s.name === NGINX_AUTO) ? ', and `auto` (one worker per CPU)' : ''}; its CPU is master + workers. Ratios: median (min–max) of the per-round ratios.`
      : `nginx mirror: skipped (${nginxSkipped}).`,
    '',
  );
  const refs = [NGINX, ...(SETUPS.some((s) => s.name === NGINX_AUTO) ? [NGINX_AUTO] : []), FLOOR];
  lines.push(
    `| phase | gateway µs/request | ${refs.map((r) => `${r.replace(', 2 upstreams', '')} µs/request`).join(' | ')} | gateway / nginx mirror | gateway / floor |`,
  );
  lines.push(`| --- | --- | ${refs.map(() => '---').join(' | ')} | --- | --- |`);
  const cpu = (p: Phase): number => p.cpuPerRequestUs.gateway;
  for (const mode of ['max', 'fixed'] as const) {
    const gw = of('gateway, 2 upstreams', mode);
    const ratio = (ref: string): string => {
      const r = of(ref, mode);
      const rs = gw.map((p, i) => cpu(p) / (r[i] === undefined ? NaN : cpu(r[i]!))).filter(Number.isFinite);
      return rs.length === 0 ? '–' : spread(rs, (v) => `${f2(v)}×`);
    };
    const cell = (name: string): string => (of(name, mode).length === 0 ? '–' : spread(of(name, mode).map(cpu), f1));
    lines.push(
      `| ${mode === 'max' ? 'max rate' : 'fixed rate'} | ${cell('gateway, 2 upstreams')} | ${refs.map(cell).join(' | ')} | ${ratio(NGINX)} | ${ratio(FLOOR)} |`,
    );
  }
  return lines;
}

/** The name of the storage setup of fsync `policy`. */
const storageSetup = (policy: FsyncPolicy): string => `gateway, 2 upstreams, storage (fsync ${policy})`;

/**
 * Durable storage against the same gateway without it (2 upstreams), paired per round: gateway CPU per
 * delivered request, RSS and delivery p99.
 */
function storageComparison(of: (setup: string, mode: string) => Phase[]): string[] {
  const runs = SETUPS.filter((s) => s.storage !== undefined);
  if (runs.length === 0) return [];
  const lines = ['', '### Durable storage / memory queues (2 upstreams, paired per round)', ''];
  lines.push('| setup | CPU µs/request, max rate | ratio | at fixed rate | ratio | RSS at fixed rate (MiB) | delivery p99 at fixed rate |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  const cpu = (p: Phase): number => p.cpuPerRequestUs.gateway;
  for (const setup of runs) {
    const ratio = (mode: 'fixed' | 'max', pick: (p: Phase) => number): string => {
      const with_ = of(setup.name, mode);
      const without = of('gateway, 2 upstreams', mode);
      const rs = with_.map((p, i) => pick(p) / (without[i] === undefined ? NaN : pick(without[i]!))).filter(Number.isFinite);
      return rs.length === 0 ? '–' : spread(rs, (v) => `${f2(v)}×`);
    };
    const cell = (mode: string, pick: (p: Phase) => number, fmt = f1): string => spread(of(setup.name, mode).map(pick), fmt);
    lines.push(
      `| ${setup.name.replace('gateway, 2 upstreams, ', '')} | ${cell('max', cpu)} | ${ratio('max', cpu)} | ${cell('fixed', cpu)} | ${ratio('fixed', cpu)} | ` +
        `${cell('fixed', (p) => (p.rssMaxBytes ?? 0) / 2 ** 20)} | ${cell('fixed', (p) => p.deliveryP99Ms, f2)} ms |`,
    );
  }
  return lines;
}

/** Median CPU µs per delivered request by role, and their sum. */
function cpuSplit(ps: readonly Phase[]): string {
  const m = (pick: (p: Phase) => number): number => median(ps.map(pick));
  const load = m((p) => p.cpuPerRequestUs.load);
  const gateway = m((p) => p.cpuPerRequestUs.gateway);
  const receivers = m((p) => p.cpuPerRequestUs.receivers);
  const all = m((p) => p.cpuPerRequestUs.load + p.cpuPerRequestUs.gateway + p.cpuPerRequestUs.receivers);
  return `${load.toFixed(0)} / ${gateway === 0 ? '–' : gateway.toFixed(0)} / ${receivers.toFixed(0)} = ${all.toFixed(0)}`;
}

function readCpuCount(): number {
  return readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('processor')).length;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const compiled = o.tsx ? undefined : compileGateway('otlp-fanout-gateway-bench-');
  const baseline = o.baseline === undefined ? undefined : compileGateway('otlp-fanout-gateway-baseline-', o.baseline);
  gatewayNodeArgs = [...(o.startFlags ? startScriptFlags() : []), ...o.gatewayNodeArgs];
  pinning = o.pin;
  gatewayCli.current = compiled === undefined ? [...TSX, here('../src/cli.ts')] : [compiled.cli];
  if (baseline !== undefined) {
    gatewayCli.baseline = [baseline.cli];
    // Interleaved with the current build's setups, so both meet the same machine.
    SETUPS = [SETUPS[0]!, SETUPS[1]!, BASELINE_SETUPS[0]!, SETUPS[2]!, BASELINE_SETUPS[1]!];
  }
  if (o.storage !== 'none') {
    const policies: FsyncPolicy[] = o.storage === 'all' ? ['always', 'interval', 'never'] : ['interval'];
    SETUPS = [...SETUPS, ...policies.map((p): Setup => ({ name: storageSetup(p), upstreams: 2, kind: 'gateway', build: 'current', storage: p }))];
  }
  let floorDir: string | undefined;
  if (o.references) {
    const refs: Setup[] = [];
    if (nginxVersion() === undefined) {
      nginxSkipped = 'nginx is not installed; `apt-get install -y nginx-light` brings it';
      process.stderr.write(`${nginxSkipped}: the nginx mirror setup is skipped\n`);
    } else {
      refs.push(NGINX_SETUP);
      if (o.nginxAuto) refs.push(NGINX_AUTO_SETUP);
    }
    ({ dir: floorDir, js: floorJs } = compileFloor());
    refs.push(FLOOR_SETUP);
    SETUPS = [...SETUPS, ...refs];
  }
  const loadBefore = loadavg()[0]!;
  try {
    await measure(o, loadBefore);
  } finally {
    for (const c of [compiled, baseline]) if (c !== undefined) rmSync(c.dir, { recursive: true, force: true });
    if (floorDir !== undefined) rmSync(floorDir, { recursive: true, force: true });
  }
}

async function measure(o: Options, loadBefore: number): Promise<void> {
  const phases: Phase[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const chosen = SETUPS.filter((s) => o.filter === undefined || s.name.includes(o.filter));
    const order = round % 2 === 0 ? chosen : [...chosen].reverse();
    for (const setup of order) {
      process.stderr.write(`[round ${round + 1}/${o.rounds}] ${setup.name}\n`);
      const ps = await runSetup(o, setup, round);
      for (const p of ps) {
        process.stderr.write(
          `  ${p.mode}: delivered ${p.deliveredPerSec.toFixed(0)}/s in ${p.postsPerSec.toFixed(0)} posts/s, acked ${p.ackedPerSec.toFixed(0)}/s, delivery p50 ${f2(p.deliveryP50Ms)} p99 ${f2(p.deliveryP99Ms)} ms` +
            (p.rssMaxBytes === undefined ? '' : `, RSS ${f1(p.rssMaxBytes / 2 ** 20)} MiB, CPU ${(p.cpuPercent ?? 0).toFixed(0)}%`) +
            (p.errors + p.refused > 0 ? `, ${p.errors} errors ${p.refused} refused` : '') +
            (p.droppedItems > 0 ? `, ${p.droppedItems} points dropped` : '') +
            '\n',
        );
        phases.push(p);
      }
    }
  }
  process.stdout.write(`\n${report(o, phases, [loadBefore, loadavg()[0]!])}`);
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify(phases, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`gateway bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
