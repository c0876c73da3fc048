/**
 * Export fan-out benchmark: the same metrics (bench/export-workload.ts: 10,000 counter
 * series + 1,000 histogram series, 3 attributes each, 300 updates between cycles)
 * exported to TWO local backends, an OTLP/gRPC one and an OTLP/HTTP protobuf one, by
 * otlp-fanout (one `createTelemetry()` with two backends) and by the official SDK (one
 * MeterProvider with two PeriodicExportingMetricReaders, each with its own OTLP
 * exporter). Three variants of the backends' temporalities: mixed (gRPC delta, HTTP
 * cumulative), both cumulative, both delta. See bench/export-sides.ts for the sides.
 *
 * Processes: this file is the parent. It hosts the two lean receivers
 * (bench/export-receivers.ts), so their CPU is never counted, and runs every
 * (round, variant, implementation) as a child process of its own, one at a time
 * (2 cores: parallel children would measure each other), implementations interleaved and
 * their order reversed every other round. A child sets up, records the workload, runs
 * `--warmup-cycles` untimed cycles then `--cycles` timed ones; each cycle is the updates
 * (untimed), then `forceFlush()`. Per cycle it measures
 * - CPU: `process.cpuUsage()` (user + system, all threads: GC and the HTTP/2 and HTTP
 *   clients included) from collect start until a few ms after both acknowledgements,
 *   so the I/O callbacks that trail an export are charged to it;
 * - wall: collect start to the end of `forceFlush()` (both backends acknowledged);
 * and reports the medians. Cycles are a fixed count, not a duration, so every process of
 * a variant delivers the same points: the parent checks each backend's count against the
 * number computed from the workload, for every process of every side.
 *
 * Run: `node --import tsx/esm bench/export.bench.ts [--rounds 5] [--warmup-cycles 10]
 * [--cycles 40] [--filter mixed,cumulative,delta] [--impls ours,official] [--json FILE]`;
 * `--filter` and `--impls` take comma-separated names; `--node-flags "--trace-gc"` passes flags
 * to the children (their output goes to stderr).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median } from './lib/harness.js';
import { startGrpcReceiver, startHttpReceiver, type BenchReceiver } from './export-receivers.js';
import { formatResults, type ProcessFigures, type Results } from './export-report.js';
import { createSide, IMPLS, VARIANTS, type Impl, type Produced, type Variant } from './export-sides.js';
import { expectedPoints, recordWorkload } from './export-workload.js';

const CHILD_FLAG = '--export-child';
const RESULT_MARK = 'EXPORT_RESULT ';
/** A child that takes longer is stuck (a run takes seconds); it is killed and the bench fails. */
const CHILD_TIMEOUT_MS = 180_000;
/** Quiet time after each cycle, inside its CPU window, for the trailing I/O callbacks. */
const SETTLE_MS = 3;

/** What a child prints: its figures, and the points it produced itself (collect-only sides). */
type ChildFigures = Omit<ProcessFigures, 'points'> & { produced: Produced | undefined };

interface Options {
  rounds: number;
  warmupCycles: number;
  cycles: number;
  filter: string | undefined;
  impls: readonly Impl[];
  json: string | undefined;
  /** Extra Node flags for the children, e.g. `--trace-gc` or `--cpu-prof`. */
  nodeFlags: readonly string[];
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { rounds: 5, warmupCycles: 10, cycles: 40, filter: undefined, impls: IMPLS, json: undefined, nodeFlags: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new RangeError(`${flag}: missing value`);
    if (flag === '--rounds') o.rounds = count(flag, value, 1);
    else if (flag === '--warmup-cycles') o.warmupCycles = count(flag, value, 0);
    else if (flag === '--cycles') o.cycles = count(flag, value, 1);
    else if (flag === '--filter') o.filter = value;
    else if (flag === '--json') o.json = value;
    else if (flag === '--node-flags') o.nodeFlags = value.split(' ').filter((f) => f !== '');
    else if (flag === '--impls') {
      const wanted = value.split(',').map((s) => s.trim());
      const unknown = wanted.filter((w) => !(IMPLS as readonly string[]).includes(w));
      if (unknown.length > 0) throw new RangeError(`--impls: unknown ${unknown.join(', ')}; known: ${IMPLS.join(', ')}`);
      o.impls = IMPLS.filter((x) => wanted.includes(x));
    } else throw new RangeError(`unknown flag ${flag}`);
  }
  return o;
}

function count(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${flag}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

// A ref'd timer on purpose: it is awaited and short, and an unref'd one could let the
// child's event loop empty (keep-alive sockets are unref'd) and exit mid-run.
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The child: one implementation, one variant; prints its figures as one JSON line. */
async function runChild(args: readonly string[]): Promise<void> {
  const [variantKey, implArg, grpcUrl, httpUrl, warmupArg, cyclesArg] = args;
  const variant = VARIANTS.find((v) => v.key === variantKey);
  const impl = IMPLS.find((i) => i === implArg);
  if (variant === undefined || impl === undefined || grpcUrl === undefined || httpUrl === undefined) {
    throw new Error(`bad child arguments: ${args.join(' ')}`);
  }
  const warmup = Number(warmupArg);
  const cycles = Number(cyclesArg);
  const side = createSide(impl, variant, { grpcUrl, httpUrl });
  const workload = recordWorkload(side.meter);
  const gc = (globalThis as { gc?: () => void }).gc;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < warmup + cycles; i++) {
    workload.update(i);
    if (i === warmup) gc?.();
    const c0 = cpuNs();
    const t0 = process.hrtime.bigint();
    await side.flush();
    const t1 = process.hrtime.bigint();
    await sleep(SETTLE_MS);
    const c1 = cpuNs();
    if (i >= warmup) {
      cpu.push(c1 - c0);
      wall.push(Number(t1 - t0));
    }
  }
  // Before close: the collect-only sides count the timed and warm-up cycles only.
  const produced = side.produced();
  gc?.();
  const heapBytes = process.memoryUsage().heapUsed;
  await side.close();
  const figures: ChildFigures = {
    cpuNs: median(cpu),
    wallNs: median(wall),
    heapBytes,
    produced,
  };
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(figures)}\n`);
}

function spawnChild(file: string, variant: Variant, impl: Impl, rx: { grpc: BenchReceiver; http: BenchReceiver }, o: Options) {
  const args = [
    ...process.execArgv,
    '--expose-gc',
    ...o.nodeFlags,
    file,
    CHILD_FLAG,
    variant.key,
    impl,
    rx.grpc.url,
    rx.http.url,
    String(o.warmupCycles),
    String(o.cycles),
  ];
  return new Promise<ChildFigures>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    timer.unref();
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.stdout.pipe(process.stderr); // what --node-flags makes Node print (GC traces...) stays visible
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const found = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (code !== 0 || found === undefined) {
        reject(new Error(`child ${variant.key}/${impl} exited with ${code ?? signal}: ${out.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(found.slice(RESULT_MARK.length)) as ChildFigures);
    });
  });
}

/**
 * Both backends got exactly the points the workload implies, in the right temporality
 * and without a refused request; for collect-only sides, that they produced them and
 * nothing reached the receivers.
 */
function checkPoints(
  variant: Variant,
  impl: Impl,
  produced: Produced | undefined,
  rx: { grpc: BenchReceiver; http: BenchReceiver },
  cycles: number,
): Produced {
  // The network sides collect once more when they shut down (both SDKs flush on shutdown).
  const collections = produced === undefined ? cycles + 1 : cycles;
  const want: Produced = { grpc: expectedPoints(variant.grpc, cycles, collections), http: expectedPoints(variant.http, cycles, collections) };
  const where = `${variant.key}/${impl}`;
  let got: Produced;
  if (produced !== undefined) {
    if (rx.grpc.tally.requests + rx.http.tally.requests > 0) throw new Error(`${where}: a collect-only side sent requests`);
    got = produced;
  } else {
    for (const [name, r, t] of [
      ['gRPC', rx.grpc, variant.grpc],
      ['HTTP', rx.http, variant.http],
    ] as const) {
      if (r.tally.errors.length > 0) throw new Error(`${where}: ${name} receiver refused requests: ${r.tally.errors.slice(0, 3).join('; ')}`);
      if (r.tally.temporalities.join() !== t)
        throw new Error(`${where}: ${name} backend wanted ${t}, got ${r.tally.temporalities.join() || 'nothing'}`);
    }
    got = { grpc: rx.grpc.tally.points, http: rx.http.tally.points };
  }
  if (got.grpc !== want.grpc || got.http !== want.http) {
    throw new Error(`${where}: points to gRPC · HTTP ${got.grpc} · ${got.http}, expected ${want.grpc} · ${want.http}`);
  }
  return got;
}

async function runParent(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const file = fileURLToPath(import.meta.url);
  const variants = VARIANTS.filter((v) => o.filter === undefined || o.filter.split(',').includes(v.key));
  if (variants.length === 0) throw new RangeError(`--filter ${o.filter ?? ''} matches no variant (${VARIANTS.map((v) => v.key).join(', ')})`);
  const rx = { grpc: await startGrpcReceiver(), http: await startHttpReceiver() };
  const results: Results = new Map(variants.map((v) => [v.key, new Map(o.impls.map((i) => [i, [] as ProcessFigures[]]))]));
  const totalCycles = o.warmupCycles + o.cycles;
  const load = loadavg()[0]!;
  const total = o.rounds * variants.length * o.impls.length;
  let done = 0;
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const v of variants) {
        const order = round % 2 === 0 ? o.impls : [...o.impls].reverse();
        for (const impl of order) {
          process.stderr.write(`[${++done}/${total}] ${v.key} — ${impl}\n`);
          rx.grpc.reset();
          rx.http.reset();
          const r = await spawnChild(file, v, impl, rx, o);
          const points = checkPoints(v, impl, r.produced, rx, totalCycles);
          results.get(v.key)!.get(impl)!.push({ cpuNs: r.cpuNs, wallNs: r.wallNs, heapBytes: r.heapBytes, points });
        }
      }
    }
  } finally {
    await Promise.all([rx.grpc.close(), rx.http.close()]);
  }
  // Implied by checkPoints (one expectation per variant), stated for the reader of the code.
  for (const v of variants) {
    const byImpl = results.get(v.key)!;
    const ours = byImpl.get('ours');
    const theirs = byImpl.get('official');
    ours?.forEach((f, round) => {
      const t = theirs?.[round];
      if (t !== undefined && (t.points.grpc !== f.points.grpc || t.points.http !== f.points.http)) {
        throw new Error(`${v.key}, round ${round}: ours and official delivered different point counts`);
      }
    });
  }
  process.stdout.write(`\n${formatResults(variants, results, totalCycles)}\n`);
  process.stdout.write(
    `\n${o.rounds} processes per implementation and variant, run one at a time, interleaved; ` +
      `${o.warmupCycles} warm-up + ${o.cycles} timed cycles per process; Node ${process.version}; ` +
      `1-min load average ${load.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after.\n`,
  );
  if (o.json !== undefined) {
    writeFileSync(o.json, JSON.stringify(Object.fromEntries([...results].map(([k, m]) => [k, Object.fromEntries(m)])), null, 2));
  }
}

const childAt = process.argv.indexOf(CHILD_FLAG);
if (childAt >= 0) await runChild(process.argv.slice(childAt + 1));
else await runParent();
